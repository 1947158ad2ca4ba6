/*
 * formats.h — record decoders (JSON lines, CSV) into batch rows, and the
 * CSV record splitter; internal to runtime/connectors/.
 *
 * A decoder writes one row of a batch: every column gets a value or NULL,
 * or the record is rejected with a short reason (a bad record) and the row
 * slot is left to be overwritten by the next record. Strings are copied
 * into the batch's arena.
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_FORMATS_H
#define SLUICE_RUNTIME_CONNECTORS_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"

/* ---- JSON lines ------------------------------------------------------------------ */

/* Decode one line (a JSON object) into row `row` of b, whose columns are
 * named names[0..ncols). Fields map by name (exact, then case-insensitive);
 * a missing field or JSON null gives NULL; a value of the wrong type, an
 * unparsable line or a non-object is rejected. 0, or -1 with why. */
int json_decode_line(const char *p, size_t n, int ncols, const char *const *names, Batch *b,
                     int row, char *why, size_t cap);

/* The two implementations behind json_decode_line, same contract and same
 * results (tests/unit/test_conn_json_fast.c checks it): the schema-directed
 * re2c decoder of json_fast.re (what json_decode_line uses), and the jansson
 * tree decoder of format_json.c (the reference; kept for the differential
 * test and bench/json_decode.c). Only the text after "invalid JSON at column
 * N: " differs between them. */
int json_fast_decode_line(const char *p, size_t n, int ncols, const char *const *names,
                          Batch *b, int row, char *why, size_t cap);
int json_decode_line_jansson(const char *p, size_t n, int ncols, const char *const *names,
                             Batch *b, int row, char *why, size_t cap);

/* ---- CSV --------------------------------------------------------------------------- */

typedef struct CsvField {
    const char *p;         /* into the input, or the parser's scratch (unescaped "") */
    uint32_t    n;
    uint8_t     quoted;
} CsvField;

typedef struct CsvParser {
    char      delim;
    CsvField *f;           /* fields of the last record                               */
    int       nf, capf;
    char     *scratch;     /* unescaped quoted fields                                 */
    size_t    scratch_cap;
} CsvParser;

enum { CSV_RECORD = 1, CSV_MORE = 0, CSV_BAD = -1, CSV_OOM = -2 };

void csv_parser_init(CsvParser *cp, char delim);
void csv_parser_free(CsvParser *cp);

/* Split one RFC 4180 record off p[0..n): fields separated by delim, quoted
 * fields with "" for a quote and embedded delimiters/newlines, records ended
 * by LF or CRLF (or the end of input when eof). Returns CSV_RECORD (fields
 * in cp->f, *consumed bytes incl. the terminator), CSV_MORE (the record is
 * not complete and !eof: call again with more bytes), CSV_BAD (*consumed =
 * bytes to skip, through the end of the line, and why), or CSV_OOM. n must
 * be > 0. */
int csv_parse_record(CsvParser *cp, const char *p, size_t n, int eof, size_t *consumed,
                     char *why, size_t cap);

/* Store the fields of the parsed record into row `row` of b: column c takes
 * field map[c] (-1: NULL). An empty field is NULL, except a quoted empty
 * field ("") of a VARCHAR column, which is the empty string; non-VARCHAR
 * fields are trimmed of blanks. 0, or -1 with why. */
int csv_decode_record(const CsvParser *cp, const int *map, Batch *b, int row, char *why,
                      size_t cap);

#endif

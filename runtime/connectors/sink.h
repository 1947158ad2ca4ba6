/*
 * sink.h — the contract between the runtime and every sink connector.
 *
 * A sink turns the live rows of batches into records: JSON lines, CSV or a
 * tab-separated table, on standard output or appended to a file.
 *
 *   Sink *k = sink_open(&spec, err, sizeof err);   spec: connector, format,
 *                                                  options, column names/types
 *   sink_write(k, &batch);  …                      the live rows (selection honoured)
 *   sink_flush(k);                                 make everything written visible
 *   sink_close(k);                                 flushes, then frees
 *
 * Output formats (spec->format; NULL = json):
 *   json   one object per row, keys = column names in order; NULL → null;
 *          TIMESTAMP → "2024-01-01T00:00:10.250Z" (ISO-8601 UTC, milliseconds);
 *          INTERVAL → "1 hour 30 minutes"; DOUBLE → a number (non-finite → null);
 *          strings escaped (", \, control characters; UTF-8 passes through).
 *   csv    a header line of column names (option csv.header, default true; a
 *          file sink writes it only when the file is empty), then RFC 4180
 *          rows: NULL → an empty field, the empty string → "", a field with
 *          the delimiter, a quote, CR or LF is quoted; TIMESTAMP as
 *          "2024-01-01 00:00:10.25" (full precision); lines end with LF.
 *   table  (stdout only) a header line, then tab-separated values as the
 *          shell shows them, NULL → NULL, tab/newline/backslash escaped.
 *
 * Rows are formatted into an output buffer owned by the sink and written out
 * when it passes 64 KiB, on sink_flush and on sink_close; sink_write allocates
 * nothing in steady state. A sink never starts threads; all calls on one Sink
 * come from one thread at a time. Errors are values: -1 with sink_error().
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_SINK_H
#define SLUICE_RUNTIME_CONNECTORS_SINK_H

#include <stddef.h>

#include "exec/batch.h"
#include "runtime/connectors/source.h"   /* ConnSpec */

typedef struct Sink Sink;

/* Open "stdout" or "file" (option path: created with its parent directories
 * if missing, appended to otherwise). spec->col_names/col_types describe the
 * columns of the batches that will be written. NULL with err on failure. */
Sink *sink_open(const ConnSpec *spec, char *err, size_t cap);

/* Format the live rows of b (its columns match the spec's). 0, or -1. */
int sink_write(Sink *k, const Batch *b);

/* Write out everything buffered. 0, or -1. */
int sink_flush(Sink *k);

/* The message of the last failure ("" if none). */
const char *sink_error(const Sink *k);

/* Flush, close the file, free. NULL is fine. Returns nothing: a caller that
 * needs to know that the last bytes were written calls sink_flush first. */
void sink_close(Sink *k);

#endif

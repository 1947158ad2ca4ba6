/*
 * format_csv.c — RFC 4180 records → batch rows.
 *
 * The splitter works on whatever bytes the reader has buffered: it either
 * finds a whole record (fields as slices of the input; a quoted field with
 * doubled quotes is unescaped into the parser's scratch buffer, sized to the
 * input so slices never move) or asks for more input. Lenient where it costs
 * nothing: a quote inside an unquoted field is taken literally, LF and CRLF
 * both end a record. Strict where data would be lost: text after a closing
 * quote, or a quoted field open at the end of the input, is a bad record.
 * A VARCHAR field that is not valid UTF-8 is a bad record too (as in the
 * JSON decoder), so every string inside the engine — and every JSON line a
 * sink writes — is valid UTF-8.
 */
#include "runtime/connectors/formats.h"

#include <stdlib.h>
#include <string.h>

#include "exec/vector.h"
#include "runtime/connectors/conn_internal.h"

void csv_parser_init(CsvParser *cp, char delim)
{
    memset(cp, 0, sizeof *cp);
    cp->delim = delim;
}

void csv_parser_free(CsvParser *cp)
{
    free(cp->f);
    free(cp->scratch);
    cp->f = NULL;
    cp->scratch = NULL;
}

static int add_field(CsvParser *cp, const char *p, size_t n, int quoted)
{
    if (cp->nf == cp->capf) {
        int       cap = cp->capf ? cp->capf * 2 : 32;
        CsvField *f = realloc(cp->f, (size_t)cap * sizeof *f);
        if (!f) return -1;
        cp->f = f;
        cp->capf = cap;
    }
    cp->f[cp->nf++] = (CsvField){p, (uint32_t)n, (uint8_t)quoted};
    return 0;
}

int csv_parse_record(CsvParser *cp, const char *p, size_t n, int eof, size_t *consumed,
                     char *why, size_t cap)
{
    if (cp->scratch_cap < n) {
        size_t sz = n < 4096 ? 4096 : n;
        char  *s = realloc(cp->scratch, sz);
        if (!s) return CSV_OOM;
        cp->scratch = s;
        cp->scratch_cap = sz;
    }
    char  *out = cp->scratch;   /* next free byte of scratch */
    char   delim = cp->delim;
    size_t i = 0;
    cp->nf = 0;
    for (;;) {
        if (i < n && p[i] == '"') {
            /* quoted field: up to the closing quote; "" is a quote */
            size_t start = ++i;
            char  *unesc = NULL;   /* set once a "" was seen: the value is rebuilt in scratch */
            size_t ulen = 0;
            for (;;) {
                const char *q = i < n ? memchr(p + i, '"', n - i) : NULL;
                if (!q) {
                    if (!eof) return CSV_MORE;
                    *consumed = n;
                    conn_errf(why, cap, "quoted field not closed before the end of the input");
                    return CSV_BAD;
                }
                size_t qi = (size_t)(q - p);
                if (qi + 1 == n && !eof) return CSV_MORE;   /* "" or the end? */
                if (qi + 1 < n && p[qi + 1] == '"') {
                    if (!unesc) unesc = out;
                    memcpy(unesc + ulen, p + i, qi + 1 - i);   /* text and one quote */
                    ulen += qi + 1 - i;
                    i = qi + 2;
                    continue;
                }
                if (unesc) {
                    memcpy(unesc + ulen, p + i, qi - i);
                    ulen += qi - i;
                    out = unesc + ulen;
                    if (add_field(cp, unesc, ulen, 1)) return CSV_OOM;
                } else if (add_field(cp, p + start, qi - start, 1)) {
                    return CSV_OOM;
                }
                i = qi + 1;
                break;
            }
            /* after the closing quote: a delimiter, the end of the record, or junk */
            if (i == n) {
                *consumed = n;   /* eof (else CSV_MORE above) */
                return CSV_RECORD;
            }
            if (p[i] == delim) {
                i++;
                continue;
            }
            if (p[i] == '\n') {
                *consumed = i + 1;
                return CSV_RECORD;
            }
            if (p[i] == '\r') {
                if (i + 1 == n && !eof) return CSV_MORE;
                if (i + 1 == n || p[i + 1] == '\n') {
                    *consumed = i + 1 < n ? i + 2 : n;
                    return CSV_RECORD;
                }
            }
            const char *nl = memchr(p + i, '\n', n - i);
            *consumed = nl ? (size_t)(nl - p) + 1 : n;
            if (!nl && !eof) return CSV_MORE;   /* skip the whole line once it is here */
            conn_errf(why, cap, "unexpected character '%c' after a closing quote", p[i]);
            return CSV_BAD;
        }
        /* unquoted field: up to the delimiter or the end of the line */
        size_t j = i;
        while (j < n && p[j] != delim && p[j] != '\n') j++;
        if (j == n && !eof) return CSV_MORE;
        size_t e = j;
        if (j < n && p[j] == '\n' && e > i && p[e - 1] == '\r') e--;
        else if (j == n && e > i && p[e - 1] == '\r') e--;   /* CR at the very end */
        if (add_field(cp, p + i, e - i, 0)) return CSV_OOM;
        if (j < n && p[j] == delim) {
            i = j + 1;
            continue;
        }
        *consumed = j < n ? j + 1 : n;
        return CSV_RECORD;
    }
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int csv_decode_record(const CsvParser *cp, const int *map, Batch *b, int row, char *why,
                      size_t cap)
{
    for (int c = 0; c < b->ncols; c++) {
        Vector *v = &b->cols[c];
        int     fi = map[c];
        if (fi < 0 || fi >= cp->nf) {
            vector_set_null(v, row);
            continue;
        }
        const CsvField *f = &cp->f[fi];
        const char     *p = f->p;
        size_t          n = f->n;
        if (v->type == TYPE_VARCHAR) {
            if (n == 0 && !f->quoted) vector_set_null(v, row);
            else if (!conn_utf8_valid(p, n))
                return conn_errf(why, cap, "field %d: invalid UTF-8", fi + 1);
            else if (vector_set_str(v, row, p, n) != 0) return conn_errf(why, cap, "out of memory");
            continue;
        }
        while (n > 0 && is_blank(*p)) p++, n--;
        while (n > 0 && is_blank(p[n - 1])) n--;
        if (n == 0) {
            vector_set_null(v, row);
            continue;
        }
        char reason[160];
        if (conn_store_text(v, row, p, n, reason, sizeof reason) != 0)
            return conn_errf(why, cap, "field %d: %s", fi + 1, reason);
    }
    return 0;
}

/*
 * render.c — result rendering for the sluice shell (see render.h).
 */
#include "shell/render.h"

#include <stdlib.h>
#include <string.h>

#include "exec/timefmt.h"
#include "exec/vector.h"

static void free_cells(Renderer *r)
{
    for (size_t i = 0; i < r->nrows * (size_t)r->ncols; i++) free(r->cells[i]);
    free(r->cells);
    r->cells = NULL;
    r->nrows = r->cap = 0;
}

static void free_columns(Renderer *r)
{
    free_cells(r);
    for (int i = 0; i < r->ncols; i++) free(r->names[i]);
    free(r->names);
    free(r->types);
    free(r->widths);
    r->names = NULL;
    r->types = NULL;
    r->widths = NULL;
    r->ncols = 0;
    r->streaming = 0;
}

void renderer_init(Renderer *r, FILE *out, FILE *msg, RenderFormat format, int quiet)
{
    memset(r, 0, sizeof *r);
    r->out = out;
    r->msg = msg;
    r->format = format;
    r->quiet = quiet;
}

void renderer_destroy(Renderer *r)
{
    free_columns(r);
}

int render_format_parse(const char *s, RenderFormat *out)
{
    if (strcmp(s, "table") == 0) *out = FORMAT_TABLE;
    else if (strcmp(s, "csv") == 0) *out = FORMAT_CSV;
    else if (strcmp(s, "json") == 0) *out = FORMAT_JSON;
    else if (strcmp(s, "changelog") == 0) *out = FORMAT_CHANGELOG;
    else return -1;
    return 0;
}

/* ---- cell text ---------------------------------------------------------- */

static void csv_field(FILE *f, const char *s, size_t n)
{
    int quote = n == 0 ? 0 : 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r') quote = 1;
    if (!quote) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void json_string(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':  fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c < 0x20) fprintf(f, "\\u%04x", c);
            else fputc(c, f);
        }
    }
    fputc('"', f);
}

static void json_value(FILE *f, const Vector *v, int row)
{
    char buf[64];
    if (vector_is_null(v, row)) {
        fputs("null", f);
        return;
    }
    int r = v->kind == VECTOR_CONSTANT ? 0 : row;
    switch (v->type) {
    case TYPE_VARCHAR: {
        Str s = vector_str(v)[r];
        json_string(f, s.ptr, s.len);
        return;
    }
    case TYPE_TIMESTAMP:
        ts_format(vector_i64(v)[r], buf, sizeof buf, 1);
        json_string(f, buf, strlen(buf));
        return;
    case TYPE_INTERVAL:
        vector_format_value(v, row, buf, sizeof buf);
        json_string(f, buf, strlen(buf));
        return;
    default:
        vector_format_value(v, row, buf, sizeof buf);
        fputs(buf, f);
        return;
    }
}

/* The text of one cell; strings are returned without a copy when possible. */
static const char *cell_text(const Vector *v, int row, char *buf, size_t cap, size_t *len)
{
    if (v->type == TYPE_VARCHAR && !vector_is_null(v, row)) {
        Str s = vector_str(v)[v->kind == VECTOR_CONSTANT ? 0 : row];
        *len = s.len;
        return s.ptr;
    }
    vector_format_value(v, row, buf, cap);
    *len = strlen(buf);
    return buf;
}

/* ---- sink callbacks ----------------------------------------------------- */

static int type_width(SqlType t)
{
    switch (t) {
    case TYPE_TIMESTAMP: return 26;   /* 2024-01-01 00:00:10.123456 */
    case TYPE_BIGINT: return 8;
    case TYPE_DOUBLE: return 12;
    case TYPE_BOOLEAN: return 5;
    case TYPE_INTERVAL: return 12;
    default: return 16;
    }
}

static int is_numeric(SqlType t);

static void print_row(Renderer *r, const char *const *cells)
{
    for (int c = 0; c < r->ncols; c++) {
        if (is_numeric(r->types[c])) fprintf(r->out, "%s%*s", c ? " | " : " ", r->widths[c], cells[c]);
        else fprintf(r->out, "%s%-*s", c ? " | " : " ", r->widths[c], cells[c]);
    }
    fputc('\n', r->out);
}

static int on_columns(void *ctx, int ncols, const char *const *names, const SqlType *types, int streaming)
{
    Renderer *r = ctx;
    free_columns(r);
    r->rows_out = 0;
    r->add_op = 0;
    if (r->format == FORMAT_CHANGELOG && streaming && !(ncols > 0 && !strcmp(names[0], "op"))) {
        /* an append-only result as a changelog: every row is an insert */
        const char *nn[513];
        SqlType     tt[513];
        if (ncols > 512) ncols = 512;
        nn[0] = "op";
        tt[0] = TYPE_VARCHAR;
        for (int i = 0; i < ncols; i++) {
            nn[i + 1] = names[i];
            tt[i + 1] = types[i];
        }
        int rc = on_columns(ctx, ncols + 1, nn, tt, streaming);
        r->add_op = 1;
        return rc;
    }
    r->names = calloc((size_t)ncols, sizeof *r->names);
    r->types = calloc((size_t)ncols, sizeof *r->types);
    if (!r->names || !r->types) return -1;
    r->ncols = ncols;
    for (int i = 0; i < ncols; i++) {
        r->names[i] = strdup(names[i]);
        r->types[i] = types[i];
    }
    if ((r->format == FORMAT_TABLE || r->format == FORMAT_CHANGELOG) && streaming) {
        r->streaming = 1;
        r->widths = calloc((size_t)ncols + 1, sizeof *r->widths);
        if (!r->widths) return -1;
        for (int i = 0; i < ncols; i++) {
            int w = (int)strlen(names[i]);
            r->widths[i] = w > type_width(types[i]) ? w : type_width(types[i]);
            if (i == 0 && !strcmp(names[0], "op")) r->widths[0] = 2;   /* +I, -U, +U, -D */
        }
        for (int c = 0; c < ncols; c++) fprintf(r->out, "%s%-*s", c ? " | " : " ", r->widths[c], names[c]);
        fputc('\n', r->out);
        for (int c = 0; c < ncols; c++) {
            fputs(c ? "-+-" : "-", r->out);
            for (int k = 0; k < r->widths[c]; k++) fputc('-', r->out);
        }
        fputs("-\n", r->out);
        fflush(r->out);
    }
    if (r->format == FORMAT_CSV) {
        for (int i = 0; i < ncols; i++) {
            if (i) fputc(',', r->out);
            csv_field(r->out, names[i], strlen(names[i]));
        }
        fputc('\n', r->out);
    }
    return 0;
}

static int on_rows(void *ctx, const Batch *b)
{
    Renderer *r = ctx;
    char      buf[128];
    for (int i = 0; i < b->count; i++) {
        int row = b->sel ? (int)b->sel[i] : i;
        switch (r->format) {
        case FORMAT_CSV:
            for (int c = 0; c < b->ncols; c++) {
                size_t      n;
                const char *s;
                if (c) fputc(',', r->out);
                if (vector_is_null(&b->cols[c], row)) continue;   /* NULL: empty field */
                s = cell_text(&b->cols[c], row, buf, sizeof buf, &n);
                csv_field(r->out, s, n);
            }
            fputc('\n', r->out);
            break;
        case FORMAT_JSON:
            fputc('{', r->out);
            for (int c = 0; c < b->ncols; c++) {
                if (c) fputc(',', r->out);
                json_string(r->out, c < r->ncols ? r->names[c] : "?",
                            c < r->ncols ? strlen(r->names[c]) : 1);
                fputc(':', r->out);
                json_value(r->out, &b->cols[c], row);
            }
            fputs("}\n", r->out);
            break;
        case FORMAT_TABLE:
        case FORMAT_CHANGELOG: {
            if (r->streaming) {
                char        bufs[8][128];
                const char *cells[8];
                char      **big = r->ncols > 8 ? calloc((size_t)r->ncols, sizeof *big) : NULL;
                for (int c = 0; c < r->ncols; c++) {
                    size_t      n = 0;
                    char        tmp[128];
                    int         bc = c - r->add_op;   /* the batch's column */
                    const char *v = bc < 0 ? (n = 2, "+I")
                                  : bc < b->ncols ? cell_text(&b->cols[bc], row, tmp, sizeof tmp, &n) : "";
                    char       *dst = c < 8 ? bufs[c] : NULL;
                    if (dst) {
                        snprintf(dst, 128, "%.*s", (int)(n < 127 ? n : 127), v);
                        cells[c] = dst;
                    } else if (big) {
                        big[c] = strndup(v, n);
                    }
                }
                if (r->ncols <= 8) {
                    print_row(r, cells);
                } else if (big) {
                    for (int c = 0; c < 8; c++) big[c] = strdup(cells[c]);   /* the first 8 went to bufs */
                    print_row(r, (const char *const *)big);
                    for (int c = 0; c < r->ncols; c++) free(big[c]);
                    free(big);
                }
                break;
            }
            if (r->nrows == r->cap) {
                size_t ncap  = r->cap ? r->cap * 2 : 64;
                char **cells = realloc(r->cells, ncap * (size_t)r->ncols * sizeof *cells);
                if (!cells) return -1;
                r->cells = cells;
                r->cap = ncap;
            }
            for (int c = 0; c < r->ncols; c++) {
                size_t      n = 0;
                const char *s = c < b->ncols ? cell_text(&b->cols[c], row, buf, sizeof buf, &n) : "";
                r->cells[r->nrows * (size_t)r->ncols + (size_t)c] = strndup(s, n);
            }
            r->nrows++;
            break;
        }
        }
        r->rows_out++;
    }
    if ((r->format != FORMAT_TABLE && r->format != FORMAT_CHANGELOG) || r->streaming) fflush(r->out);
    /* the reader went away (`| head`): stop the query quietly */
    if (ferror(r->out)) {
        r->closed = 1;
        return -1;
    }
    return 0;
}

static int is_numeric(SqlType t)
{
    return t == TYPE_BIGINT || t == TYPE_DOUBLE;
}

static void print_table(Renderer *r)
{
    if (r->ncols == 0) return;
    size_t *w = calloc((size_t)r->ncols, sizeof *w);
    if (!w) return;
    for (int c = 0; c < r->ncols; c++) w[c] = strlen(r->names[c]);
    for (size_t i = 0; i < r->nrows; i++)
        for (int c = 0; c < r->ncols; c++) {
            size_t n = strlen(r->cells[i * (size_t)r->ncols + (size_t)c]);
            if (n > w[c]) w[c] = n;
        }
    for (int c = 0; c < r->ncols; c++)
        fprintf(r->out, "%s%-*s", c ? " | " : " ", (int)w[c], r->names[c]);
    fputc('\n', r->out);
    for (int c = 0; c < r->ncols; c++) {
        fputs(c ? "-+-" : "-", r->out);
        for (size_t k = 0; k < w[c]; k++) fputc('-', r->out);
    }
    fputs("-\n", r->out);
    for (size_t i = 0; i < r->nrows; i++) {
        for (int c = 0; c < r->ncols; c++) {
            const char *s = r->cells[i * (size_t)r->ncols + (size_t)c];
            if (is_numeric(r->types[c]))
                fprintf(r->out, "%s%*s", c ? " | " : " ", (int)w[c], s);
            else
                fprintf(r->out, "%s%-*s", c ? " | " : " ", (int)w[c], s);
        }
        fputc('\n', r->out);
    }
    fprintf(r->out, "(%zu row%s)\n", r->nrows, r->nrows == 1 ? "" : "s");
    free(w);
}

static void on_done(void *ctx, const char *tag)
{
    Renderer *r = ctx;
    int table = r->format == FORMAT_TABLE || r->format == FORMAT_CHANGELOG;
    if (table && r->streaming)
        fprintf(r->out, "(%lld %s%s)\n", r->rows_out, r->format == FORMAT_CHANGELOG ? "change" : "row",
                r->rows_out == 1 ? "" : "s");
    else if (table && r->ncols > 0) print_table(r);
    free_columns(r);
    if (!r->quiet && tag && *tag) fprintf(r->msg, "%s\n", tag);
    fflush(r->out);
}

static void on_notice(void *ctx, const char *msg)
{
    Renderer *r = ctx;
    fprintf(r->msg, "warning: %s\n", msg);
}

static void on_text(void *ctx, const char *text)
{
    Renderer *r = ctx;
    fputs(text, r->out);
    fflush(r->out);
}

ResultSink renderer_sink(Renderer *r)
{
    ResultSink s = {r, on_columns, on_rows, on_done, on_notice, on_text};
    return s;
}

/*
 * test_conn_util.h — helpers for the connector tests (tests/unit/test_conn_*.c):
 * build a ConnSpec from a column list and key/value options, drain a source
 * into canonical row strings under a fake clock, compare row multisets, and
 * write temporary files.
 */
#ifndef SLUICE_TESTS_UNIT_TEST_CONN_UTIL_H
#define SLUICE_TESTS_UNIT_TEST_CONN_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/batch.h"
#include "exec/vector.h"
#include "runtime/connectors/sink.h"
#include "runtime/connectors/source.h"
#include "tests/unit/unit.h"

#define TU static __attribute__((unused))

/* ---- specs ------------------------------------------------------------------------------ */

typedef struct TSpec {
    ConnSpec    spec;
    const char *keys[48], *vals[48];
    const char *names[32];
    SqlType     types[32];
    int         index[32];
    char        text[2048];   /* column names live here */
} TSpec;

TU SqlType tu_type(const char *t)
{
    if (!strcasecmp(t, "BOOLEAN")) return TYPE_BOOLEAN;
    if (!strcasecmp(t, "BIGINT")) return TYPE_BIGINT;
    if (!strcasecmp(t, "DOUBLE")) return TYPE_DOUBLE;
    if (!strcasecmp(t, "VARCHAR")) return TYPE_VARCHAR;
    if (!strcasecmp(t, "TIMESTAMP")) return TYPE_TIMESTAMP;
    if (!strcasecmp(t, "INTERVAL")) return TYPE_INTERVAL;
    return TYPE_NULL;
}

/* cols: "ts TIMESTAMP, user_id BIGINT"; options follow as key, value, …, NULL */
TU void tspec_init(TSpec *t, const char *connector, const char *format, const char *cols, ...)
{
    memset(t, 0, sizeof *t);
    snprintf(t->text, sizeof t->text, "%s", cols);
    char *save = NULL;
    for (char *item = strtok_r(t->text, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ') item++;
        char *sp = strchr(item, ' ');
        if (sp) *sp = 0;
        int c = t->spec.ncols++;
        t->names[c] = item;
        t->types[c] = sp ? tu_type(sp + 1) : TYPE_VARCHAR;
        t->index[c] = c;
    }
    va_list ap;
    va_start(ap, cols);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        t->keys[t->spec.nopts] = k;
        t->vals[t->spec.nopts] = va_arg(ap, const char *);
        t->spec.nopts++;
    }
    va_end(ap);
    t->spec.connector = connector;
    t->spec.format = format;
    t->spec.opt_keys = t->keys;
    t->spec.opt_values = t->vals;
    t->spec.col_names = t->names;
    t->spec.col_types = t->types;
    t->spec.col_index = t->index;
    t->spec.task = 0;
    t->spec.ntasks = 1;
}

TU void tspec_opt(TSpec *t, const char *key, const char *val)
{
    for (int i = 0; i < t->spec.nopts; i++)
        if (!strcmp(t->keys[i], key)) {
            t->vals[i] = val;
            return;
        }
    t->keys[t->spec.nopts] = key;
    t->vals[t->spec.nopts] = val;
    t->spec.nopts++;
}

/* ---- rows ------------------------------------------------------------------------------- */

typedef struct Rows {
    char **r;
    int    n, cap;
} Rows;

TU void rows_add(Rows *rs, const char *s)
{
    if (rs->n == rs->cap) {
        rs->cap = rs->cap ? rs->cap * 2 : 256;
        rs->r = realloc(rs->r, (size_t)rs->cap * sizeof *rs->r);
    }
    rs->r[rs->n++] = strdup(s);
}

TU void rows_free(Rows *rs)
{
    for (int i = 0; i < rs->n; i++) free(rs->r[i]);
    free(rs->r);
    rs->r = NULL;
    rs->n = rs->cap = 0;
}

/* One row as text: values joined by '|', NULL as \N. */
TU void tu_row_text(const Batch *b, int r, char *out, size_t cap)
{
    size_t k = 0;
    out[0] = 0;
    for (int c = 0; c < b->ncols && k + 1 < cap; c++) {
        if (c > 0) out[k++] = '|';
        const Vector *v = &b->cols[c];
        if (vector_is_null(v, r)) {
            k += (size_t)snprintf(out + k, cap - k, "\\N");
        } else {
            int n = vector_format_value(v, r, out + k, cap - k);
            k += (size_t)n < cap - k ? (size_t)n : cap - k - 1;
        }
        out[k < cap ? k : cap - 1] = 0;
    }
}

TU int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort both and compare; reports the first difference. 1 = equal. */
TU int rows_same_multiset(Rows *a, Rows *b)
{
    qsort(a->r, (size_t)a->n, sizeof *a->r, cmp_cstr);
    qsort(b->r, (size_t)b->n, sizeof *b->r, cmp_cstr);
    if (a->n != b->n) {
        printf("    row counts differ: %d vs %d\n", a->n, b->n);
        return 0;
    }
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->r[i], b->r[i]) != 0) {
            printf("    first difference: '%s' vs '%s'\n", a->r[i], b->r[i]);
            return 0;
        }
    return 1;
}

/* Drain a source into rows (appending), advancing a fake clock by each wait
 * hint. Returns the final status (SOURCE_END, SOURCE_ERROR, or SOURCE_IDLE
 * when max_idle consecutive idles were seen). */
TU SourceStatus tu_drain(Source *s, const ConnSpec *spec, Rows *out, int max_idle)
{
    Batch b;
    if (batch_init(&b, spec->ncols, spec->col_types, 0) != 0) return SOURCE_ERROR;
    int64_t      now = 1000000, wait;
    int          idles = 0;
    SourceStatus st;
    char         row[4096];
    for (;;) {
        batch_reset(&b);
        st = source_next(s, &b, now, &wait);
        if (st == SOURCE_BATCH) {
            idles = 0;
            for (int r = 0; r < b.nrows; r++) {
                tu_row_text(&b, r, row, sizeof row);
                rows_add(out, row);
            }
        } else if (st == SOURCE_IDLE) {
            if (++idles >= max_idle) break;
            now += wait;
        } else {
            break;
        }
    }
    batch_destroy(&b);
    return st;
}

/* Open task/ntasks of a spec and drain it; the status must be END. */
TU int tu_read_all(TSpec *t, int task, int ntasks, Rows *out)
{
    char err[512];
    t->spec.task = task;
    t->spec.ntasks = ntasks;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) {
        printf("    source_open: %s\n", err);
        return -1;
    }
    SourceStatus st = tu_drain(s, &t->spec, out, 3);
    if (st == SOURCE_ERROR) printf("    source error: %s\n", source_error(s));
    source_close(s);
    return st == SOURCE_END ? 0 : -1;
}

/* ---- files -------------------------------------------------------------------------------- */

/* A fresh directory under /tmp (static buffer per call site is the caller's). */
TU void tu_tmpdir(char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/sluice_conn_XXXXXX");
    if (!mkdtemp(out)) out[0] = 0;
}

TU void tu_write(const char *path, const char *data, size_t n, const char *mode)
{
    FILE *f = fopen(path, mode);
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

TU void tu_write_str(const char *path, const char *data)
{
    tu_write(path, data, strlen(data), "w");
}

TU int tu_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

TU void tu_rmdir(const char *dir)
{
    if (strncmp(dir, "/tmp/sluice_conn_", 17) != 0) return;
    nftw(dir, tu_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif

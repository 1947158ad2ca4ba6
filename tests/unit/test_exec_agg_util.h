/*
 * test_exec_agg_util.h — helpers for the window and aggregate tests
 * (tests/unit/test_exec_agg*.c, test_exec_window*.c).
 *
 * Rows: an output batch becomes text rows ("v1|v2|…", vector_format_value,
 * partial-state blobs shown as hex) collected in a RowSet; two sets are
 * compared after sorting, so tests do not depend on emission order.
 * Drains call an emitting function until *more is 0 and collect every row.
 * Rng is splitmix64 with a fixed seed: every run sees the same data.
 */
#ifndef SLUICE_TESTS_AGG_UTIL_H
#define SLUICE_TESTS_AGG_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/batch.h"
#include "exec/timefmt.h"
#include "exec/window.h"
#include "tests/unit/unit.h"

#define AGU static inline __attribute__((unused))

/* ---- random numbers ------------------------------------------------------------ */

typedef struct Rng {
    uint64_t s;
} Rng;

AGU uint64_t rng_next(Rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* uniform in [0, n) */
AGU int64_t rng_below(Rng *r, int64_t n)
{
    return (int64_t)(rng_next(r) % (uint64_t)n);
}

/* ---- text rows ------------------------------------------------------------------ */

typedef struct RowSet {
    char **r;
    int    n, cap;
} RowSet;

AGU void rows_free(RowSet *s)
{
    for (int i = 0; i < s->n; i++) free(s->r[i]);
    free(s->r);
    memset(s, 0, sizeof *s);
}

AGU void rows_add(RowSet *s, const char *text)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->r = realloc(s->r, (size_t)s->cap * sizeof *s->r);
    }
    s->r[s->n++] = strdup(text);
}

/* row r of b as text; columns joined by '|'; `hex` columns (bitmask) as hex */
AGU void row_text(const Batch *b, int r, uint64_t hex, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int c = 0; c < b->ncols && len + 2 < cap; c++) {
        const Vector *v = &b->cols[c];
        if (c) buf[len++] = '|';
        if ((hex >> c & 1) && v->type == TYPE_VARCHAR && !vector_is_null(v, r)) {
            Str s = vector_str(v)[vector_index(v, r)];
            for (uint32_t i = 0; i < s.len && len + 3 < cap; i++)
                len += (size_t)snprintf(buf + len, cap - len, "%02x", (unsigned char)s.ptr[i]);
            buf[len] = '\0';
            continue;
        }
        int n = vector_format_value(v, r, buf + len, cap - len);
        len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    }
}

AGU void rows_add_batch(RowSet *s, const Batch *b, uint64_t hex)
{
    static char buf[1 << 16];
    for (int i = 0; i < b->count; i++) {
        row_text(b, batch_row(b, i), hex, buf, sizeof buf);
        rows_add(s, buf);
    }
}

static int rows_cmp_(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

AGU void rows_sort(RowSet *s)
{
    if (s->n) qsort(s->r, (size_t)s->n, sizeof *s->r, rows_cmp_);
}

/* sorted equality; reports the first difference */
AGU int rows_equal(RowSet *a, RowSet *b, const char *what)
{
    rows_sort(a);
    rows_sort(b);
    int n = a->n < b->n ? a->n : b->n;
    for (int i = 0; i < n; i++) {
        if (strcmp(a->r[i], b->r[i]) != 0) {
            printf("  %s: row %d differs:\n    %s\n    %s\n", what, i, a->r[i], b->r[i]);
            return 0;
        }
    }
    if (a->n != b->n) {
        printf("  %s: %d rows vs %d rows (first extra: %s)\n", what, a->n, b->n,
               a->n > b->n ? a->r[n] : b->r[n]);
        return 0;
    }
    return 1;
}

/* does the set hold this row? */
AGU int rows_has(const RowSet *s, const char *text)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->r[i], text) == 0) return 1;
    return 0;
}

/* ---- draining emitting calls ------------------------------------------------------ */

enum { DRAIN_ADVANCE, DRAIN_FLUSH, DRAIN_CHANGES };

/* call the emitting function until *more is 0; rows into s (may be NULL),
 * and into `final` (may be NULL) by pushing each output batch; then verify
 * both ops' invariants (agg_op_check); returns the rows emitted or -1 */
AGU int64_t agg_drain(AggOp *op, int how, int64_t wm, Batch *out, RowSet *s, AggOp *final)
{
    int64_t total = 0;
    int     more, n;
    do {
        if (how == DRAIN_ADVANCE) n = agg_op_advance(op, wm, out, &more);
        else if (how == DRAIN_FLUSH) n = agg_op_flush(op, out, &more);
        else n = agg_op_changes(op, out, &more);
        if (n < 0) {
            printf("  drain: %s\n", agg_op_error(op));
            return -1;
        }
        if (n != out->count) return -1;
        if (s) rows_add_batch(s, out, 0);
        if (final && agg_op_push(final, out) < 0) {
            printf("  final push: %s\n", agg_op_error(final));
            return -1;
        }
        total += n;
    } while (more);
    if (agg_op_check(op) < 0 || (final && agg_op_check(final) < 0)) {
        printf("  %s\n", agg_op_error(final && agg_op_check(op) == 0 ? final : op));
        return -1;
    }
    return total;
}

/* a batch of the op's output schema */
AGU int agg_out_init(const AggOp *op, Batch *out, int capacity)
{
    SqlType types[160];
    int     n = agg_op_output_types(op, types);
    return batch_init(out, n, types, capacity);
}

/* ---- timestamps ----------------------------------------------------------------- */

AGU int64_t T(const char *text)
{
    int64_t t = 0;
    if (ts_parse(text, strlen(text), &t) < 0) return INT64_MIN;
    return t;
}

#endif

/* ---- building rows from text ---------------------------------------------------- */

/* Append one row to b (no selection): fields separated by '|', "NULL" for
 * NULL; BIGINT/TIMESTAMP/INTERVAL as integers (µs), DOUBLE via strtod,
 * BOOLEAN t/f, VARCHAR as written ("\0" not expressible: use put_str). */
AGU void add_row(Batch *b, const char *row)
{
    int         r = b->nrows;
    const char *p = row;
    for (int c = 0; c < b->ncols; c++) {
        const char *e = strchr(p, '|');
        size_t      n = e ? (size_t)(e - p) : strlen(p);
        char        f[256];
        snprintf(f, sizeof f, "%.*s", (int)n, p);
        Vector *v = &b->cols[c];
        if (strcmp(f, "NULL") == 0) {
            vector_set_null(v, r);
        } else {
            switch (v->type) {
            case TYPE_BOOLEAN: vector_bool(v)[r] = f[0] == 't'; vector_set_valid(v, r); break;
            case TYPE_DOUBLE: vector_f64(v)[r] = strtod(f, NULL); vector_set_valid(v, r); break;
            case TYPE_VARCHAR: vector_set_str(v, r, f, n); break;
            case TYPE_NULL: break;
            default: vector_i64(v)[r] = strtoll(f, NULL, 10); vector_set_valid(v, r); break;
            }
        }
        p = e ? e + 1 : p + n;
    }
    batch_set_nrows(b, r + 1);
}

/* an AggOpSpec over the given input, keys and aggregates */
AGU AggOpSpec agg_spec(AggPhase ph, int ninput, const SqlType *types, int nkeys, const int *keys,
                       int naggs, const AggColSpec *aggs)
{
    AggOpSpec s;
    memset(&s, 0, sizeof s);
    s.phase = ph;
    s.ninput = ninput;
    s.input_types = types;
    s.nkeys = nkeys;
    s.keys = keys;
    s.naggs = naggs;
    s.aggs = aggs;
    s.wstart_key = s.wend_key = -1;
    return s;
}

/* The FINAL spec matching a PARTIAL one: keys are the first columns of the
 * partial output, each aggregate's arg its first partial column. fin_aggs
 * has room for naggs, fin_keys for nkeys, types for the partial output. */
AGU AggOpSpec agg_final_of(const AggOp *partial, const AggOpSpec *ps, AggColSpec *fin_aggs,
                           int *fin_keys, SqlType *types)
{
    int       n = agg_op_output_types(partial, types);
    AggOpSpec f = *ps;
    f.phase = AGG_PHASE_FINAL;
    f.ninput = n;
    f.input_types = types;
    for (int k = 0; k < ps->nkeys; k++) fin_keys[k] = k;
    f.keys = fin_keys;
    int c = ps->nkeys;
    for (int a = 0; a < ps->naggs; a++) {
        fin_aggs[a] = ps->aggs[a];
        fin_aggs[a].arg = c;
        fin_aggs[a].filter = -1;
        fin_aggs[a].arg_type = TYPE_NULL;
        c += ps->aggs[a].fn == AGGFN_AVG ? 2 : 1;
    }
    f.aggs = fin_aggs;
    return f;
}

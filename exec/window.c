/*
 * window.c — window assignment (see window.h for the semantics).
 *
 * Window arithmetic is floor division done with a remainder fix-up
 * (mod = ts % size, plus size when negative), and every bound that could
 * leave the int64 range is computed with __builtin_*_overflow: such a row
 * is dropped and counted, never wrapped.
 *
 * TUMBLE and SESSION write only the three window columns, at the input's
 * row slots, into vectors the op owns; the input columns of the output
 * view are the input's Vector structs copied by value (shallow: same data
 * arrays, bitmaps and arenas; the view owns none of them). HOP and
 * CUMULATE first list the (source row, window) pairs of as many output
 * rows as fit, then gather every input column through that list, one
 * typed loop per column; the cursor (input row, window index) lets the
 * next call continue where this one stopped.
 */
#include "exec/window.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct WindowOp {
    WindowSpec      spec;
    SqlType        *types;        /* ninput + 3 output types                    */
    int64_t         null_rows;
    int64_t         range_rows;
    /* one-to-one output: a view over the input plus three own vectors */
    Batch           view;
    Vector         *vcols;        /* ninput shallow copies, then the 3 own ones */
    int             wcap;         /* capacity of the own vectors                */
    uint32_t       *sel;          /* wcap entries: the kept rows                */
    /* expansion output */
    Batch           exp;
    uint32_t       *src;          /* exp.capacity source rows                   */
    int             exp_ready;
    const Batch    *cur_in;       /* the batch being expanded, while *more      */
    int             cursor;       /* its next live row                          */
    int64_t         k_next;       /* the next window of that row                */
    char            err[160];
};

/* ---- private helpers -------------------------------------------------------- */

static int fail(WindowOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(WindowOp *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->err, sizeof op->err, fmt, ap);
    va_end(ap);
    return -1;
}

static inline int64_t floor_mod(int64_t x, int64_t m)
{
    int64_t r = x % m;
    return r < 0 ? r + m : r;
}

/* [start, end) of the tumbling window of ts; -1 when out of range */
static inline int tumble_of(int64_t ts, int64_t size, int64_t *start, int64_t *end)
{
    int64_t s;
    if (__builtin_sub_overflow(ts, floor_mod(ts, size), &s)) return -1;
    if (__builtin_add_overflow(s, size, end)) return -1;
    *start = s;
    return 0;
}

/* HOP / CUMULATE: the windows of ts as n windows, the i-th being
 * [first_start + i * dstart, first_end + i * dend); -1 when out of range */
static int windows_of(const WindowSpec *w, int64_t ts, int64_t *n, int64_t *first_start,
                      int64_t *first_end, int64_t *dstart, int64_t *dend)
{
    int64_t size = w->size_us, step = w->slide_us, m, base, last_end;
    if (w->kind == WINDOW_FN_HOP) {
        m = floor_mod(ts, step);
        if (__builtin_sub_overflow(ts, m, &base)) return -1;   /* last start <= ts */
        *n = size > m ? (size - m - 1) / step + 1 : 0;
        if (*n == 0) return 0;
        int64_t back;
        if (__builtin_mul_overflow(*n - 1, step, &back) ||
            __builtin_sub_overflow(base, back, first_start) ||
            __builtin_add_overflow(base, size, &last_end))
            return -1;
        *first_end = *first_start + size;
        *dstart = *dend = step;
        return 0;
    }
    /* CUMULATE */
    m = floor_mod(ts, size);
    if (__builtin_sub_overflow(ts, m, &base) || __builtin_add_overflow(base, size, &last_end))
        return -1;
    int64_t k0 = m / step + 1;
    *n = size / step - k0 + 1;
    *first_start = base;
    *first_end = base + k0 * step;
    *dstart = 0;
    *dend = step;
    return 0;
}

static int check_batch(WindowOp *op, const Batch *in)
{
    if (in->ncols != op->spec.ninput)
        return fail(op, "batch has %d columns, want %d", in->ncols, op->spec.ninput);
    for (int c = 0; c < in->ncols; c++) {
        SqlType got = in->cols[c].type, want = op->types[c];
        if (got != want && !(sql_type_is_i64(got) && sql_type_is_i64(want)) && got != TYPE_NULL)
            return fail(op, "input column %d is %s, want %s", c, sql_type_name(got),
                        sql_type_name(want));
    }
    return 0;
}

static int ensure_view(WindowOp *op, int capacity)
{
    int need = capacity > SLUICE_VECTOR_SIZE ? capacity : SLUICE_VECTOR_SIZE;
    if (need <= op->wcap) return 0;
    int n = op->spec.ninput;
    for (int w = 0; w < 3; w++) vector_destroy(&op->vcols[n + w]);
    free(op->sel);
    op->wcap = 0;
    op->sel = malloc((size_t)need * sizeof *op->sel);
    if (!op->sel) return fail(op, "out of memory");
    for (int w = 0; w < 3; w++)
        if (vector_init(&op->vcols[n + w], TYPE_TIMESTAMP, need) < 0) return fail(op, "out of memory");
    op->wcap = need;
    return 0;
}

/* TUMBLE, SESSION: the view over in */
static int apply_one_to_one(WindowOp *op, const Batch *in, const Batch **out)
{
    const int n = op->spec.ninput;
    if (ensure_view(op, in->capacity > in->nrows ? in->capacity : in->nrows) < 0) return -1;
    for (int c = 0; c < n; c++) op->vcols[c] = in->cols[c];
    Vector *vs = &op->vcols[n], *ve = &op->vcols[n + 1], *vt = &op->vcols[n + 2];
    for (int w = 0; w < 3; w++) vector_reset(&op->vcols[n + w]);
    int64_t *ws = vector_i64(vs), *we = vector_i64(ve), *wt = vector_i64(vt);

    const Vector *tv = &in->cols[op->spec.time_col];
    const int     tumble = op->spec.kind == WINDOW_FN_TUMBLE;
    const int64_t size = op->spec.size_us, gap = op->spec.gap_us;
    Batch        *v = &op->view;
    v->ncols = n + 3;
    v->cols = op->vcols;
    v->capacity = op->wcap;
    v->nrows = in->nrows;

    if (tv->kind == VECTOR_CONSTANT || tv->type == TYPE_NULL) {
        int64_t s = 0, e = 0;
        if (tv->type == TYPE_NULL || !vector_validity_get(tv->validity, 0)) {
            op->null_rows += in->count;
            batch_set_sel(v, op->sel, 0);
        } else if (tumble ? tumble_of(vector_i64(tv)[0], size, &s, &e) < 0
                          : __builtin_add_overflow(s = vector_i64(tv)[0], gap, &e)) {
            op->range_rows += in->count;
            batch_set_sel(v, op->sel, 0);
        } else {
            ws[0] = s;
            we[0] = e;
            wt[0] = e - 1;
            for (int w = 0; w < 3; w++) vector_make_constant(&op->vcols[n + w]);
            batch_set_sel(v, in->sel, in->count);
        }
        *out = v;
        return v->count;
    }

    const int64_t  *t = vector_i64(tv);
    const uint64_t *valid = tv->validity;
    const uint32_t *sel = in->sel;
    int             k = 0, same = 1;
    int64_t         s0 = 0;
    for (int i = 0; i < in->count; i++) {
        int     r = sel ? (int)sel[i] : i;
        int64_t s, e;
        if (!vector_validity_get(valid, r)) {
            op->null_rows++;
            continue;
        }
        int bad = tumble ? tumble_of(t[r], size, &s, &e) : __builtin_add_overflow(s = t[r], gap, &e);
        if (bad) {
            op->range_rows++;
            continue;
        }
        ws[r] = s;
        we[r] = e;
        wt[r] = e - 1;
        if (k == 0) s0 = s;
        same &= s == s0;
        op->sel[k++] = (uint32_t)r;
    }
    if (tumble && same && k > 0) {
        /* one window for the whole batch: constant window columns */
        ws[0] = s0;
        we[0] = s0 + size;
        wt[0] = s0 + size - 1;
        for (int w = 0; w < 3; w++) vector_make_constant(&op->vcols[n + w]);
    }
    if (k == in->count) batch_set_sel(v, in->sel, in->count);
    else batch_set_sel(v, op->sel, k);
    *out = v;
    return v->count;
}

/* copy the values of src rows op->src[0..cnt) of column sv into dv */
static void gather(Vector *dv, const Vector *sv, const uint32_t *src, int cnt)
{
    if (sv->type == TYPE_NULL) {
        for (int o = 0; o < cnt; o++) vector_set_null(dv, o);
        return;
    }
    if (sv->kind == VECTOR_CONSTANT) {
        vector_copy_row(dv, 0, sv, 0);    /* same layout: cannot fail */
        vector_make_constant(dv);
        return;
    }
    switch (sql_type_size(sv->type)) {
    case 1: {
        const uint8_t *x = sv->data;
        uint8_t       *y = dv->data;
        for (int o = 0; o < cnt; o++) y[o] = x[src[o]];
        break;
    }
    case 8: {
        const int64_t *x = sv->data;
        int64_t       *y = dv->data;
        for (int o = 0; o < cnt; o++) y[o] = x[src[o]];
        break;
    }
    default: {
        const Str *x = sv->data;
        Str       *y = dv->data;
        for (int o = 0; o < cnt; o++) y[o] = x[src[o]];
        break;
    }
    }
    if (sv->validity)
        for (int o = 0; o < cnt; o++)
            if (!vector_validity_get(sv->validity, (int)src[o])) vector_set_null(dv, o);
}

/* HOP, CUMULATE: the next part of in's expansion into op->exp */
static int apply_expand(WindowOp *op, const Batch *in, const Batch **out, int *more)
{
    const int n = op->spec.ninput;
    Batch    *x = &op->exp;
    if (op->cur_in && op->cur_in != in)
        return fail(op, "a new batch while the previous one still has output (*more)");
    batch_reset(x);
    int64_t      *ws = vector_i64(&x->cols[n]), *we = vector_i64(&x->cols[n + 1]);
    int64_t      *wt = vector_i64(&x->cols[n + 2]);
    const Vector *tv = &in->cols[op->spec.time_col];
    const int     cap = x->capacity;
    int           o = 0, i = op->cur_in ? op->cursor : 0;
    int64_t       k = op->cur_in ? op->k_next : 0;

    *more = 0;
    for (; i < in->count; i++, k = 0) {
        int     r = batch_row(in, i), slot = vector_index(tv, r);
        int64_t nw = 0, fs = 0, fe = 0, ds = 0, de = 0;
        if (tv->type == TYPE_NULL || !vector_validity_get(tv->validity, slot)) {
            op->null_rows++;
            continue;
        }
        if (windows_of(&op->spec, vector_i64(tv)[slot], &nw, &fs, &fe, &ds, &de) < 0) {
            op->range_rows++;
            continue;
        }
        for (; k < nw; k++) {
            if (o == cap) {
                *more = 1;
                goto full;
            }
            op->src[o] = (uint32_t)r;
            ws[o] = fs + k * ds;
            we[o] = fe + k * de;
            wt[o] = we[o] - 1;
            o++;
        }
    }
full:
    if (*more) {
        op->cur_in = in;
        op->cursor = i;
        op->k_next = k;
    } else {
        op->cur_in = NULL;
    }
    for (int c = 0; c < n; c++) gather(&x->cols[c], &in->cols[c], op->src, o);
    batch_set_nrows(x, o);
    *out = x;
    return o;
}

/* ---- API ---------------------------------------------------------------------- */

WindowOp *window_op_new(const WindowSpec *spec, char *why, size_t cap)
{
    const char *bad = NULL;
    if (why && cap) why[0] = '\0';
    if (!spec) bad = "no spec";
    else if ((unsigned)spec->kind > WINDOW_FN_SESSION) bad = "unknown window function";
    else if (spec->ninput <= 0 || !spec->input_types) bad = "no input columns";
    else if (spec->time_col < 0 || spec->time_col >= spec->ninput) bad = "time column out of range";
    else if (!sql_type_is_i64(spec->input_types[spec->time_col])) bad = "the time column is not a TIMESTAMP";
    else if (spec->kind == WINDOW_FN_SESSION && spec->gap_us <= 0) bad = "the session gap must be positive";
    else if (spec->kind != WINDOW_FN_SESSION && spec->size_us <= 0) bad = "the window size must be positive";
    else if ((spec->kind == WINDOW_FN_HOP || spec->kind == WINDOW_FN_CUMULATE) && spec->slide_us <= 0)
        bad = "the slide/step must be positive";
    else if (spec->kind == WINDOW_FN_CUMULATE && spec->size_us % spec->slide_us != 0)
        bad = "the CUMULATE size must be a multiple of its step";
    if (bad) {
        if (why && cap) snprintf(why, cap, "%s", bad);
        return NULL;
    }
    WindowOp *op = calloc(1, sizeof *op);
    if (!op) goto oom;
    op->spec = *spec;
    int n = spec->ninput;
    op->types = calloc((size_t)n + 3, sizeof *op->types);
    op->vcols = calloc((size_t)n + 3, sizeof *op->vcols);
    if (!op->types || !op->vcols) goto oom;
    memcpy(op->types, spec->input_types, (size_t)n * sizeof *op->types);
    op->types[n] = op->types[n + 1] = op->types[n + 2] = TYPE_TIMESTAMP;
    op->spec.input_types = op->types;
    arena_init(&op->view.arena, 0);
    arena_init(&op->exp.arena, BATCH_ARENA_CHUNK);
    if (spec->kind == WINDOW_FN_HOP || spec->kind == WINDOW_FN_CUMULATE) {
        if (batch_init(&op->exp, n + 3, op->types, spec->capacity) < 0) goto oom;
        op->exp_ready = 1;
        op->src = malloc((size_t)op->exp.capacity * sizeof *op->src);
        if (!op->src) goto oom;
    }
    return op;
oom:
    if (why && cap) snprintf(why, cap, "out of memory");
    window_op_free(op);
    return NULL;
}

void window_op_free(WindowOp *op)
{
    if (!op) return;
    if (op->vcols)
        for (int w = 0; w < 3; w++) vector_destroy(&op->vcols[op->spec.ninput + w]);
    free(op->vcols);
    free(op->sel);
    free(op->types);
    if (op->exp_ready) batch_destroy(&op->exp);
    free(op->src);
    free(op);
}

int window_op_apply(WindowOp *op, const Batch *in, const Batch **out, int *more)
{
    op->err[0] = '\0';
    *more = 0;
    if (check_batch(op, in) < 0) return -1;
    if (op->spec.kind == WINDOW_FN_HOP || op->spec.kind == WINDOW_FN_CUMULATE)
        return apply_expand(op, in, out, more);
    return apply_one_to_one(op, in, out);
}

int window_op_output_types(const WindowOp *op, SqlType *types)
{
    memcpy(types, op->types, (size_t)(op->spec.ninput + 3) * sizeof *types);
    return op->spec.ninput + 3;
}

int64_t window_op_null_rows(const WindowOp *op)
{
    return op->null_rows;
}

int64_t window_op_range_rows(const WindowOp *op)
{
    return op->range_rows;
}

const char *window_op_error(const WindowOp *op)
{
    return op->err;
}

/*
 * agg.c — the hash aggregate operator: spec checking, push, and emission
 * (see agg.h for the contract, agg_int.h for the data layout).
 *
 * A push runs in batch-wide steps, each one loop over the batch:
 *
 *   1. keep      the live rows that are not late (windowed: window_end >
 *                the watermark), into op->rows; their window bounds into
 *                op->starts / op->ends
 *   2. hash      hash_vector once per key column over the kept rows
 *   3. image     each key column written into the rows' key images (the
 *                fixed-width byte form a group row stores), one pass per
 *                column
 *   4. probe     find or insert every row's group: agg_table_probe over
 *                each run of rows with the same window_end (one table per
 *                window), or sess_assign for sessions
 *   5. update    per aggregate, one switch and one tight loop over the
 *                rows' state pointers (agg_state.c)
 *   6. changes   EMIT CHANGES: first-touched groups go onto the dirty list
 *
 * Nothing in these steps allocates, except a table (or its row array, or
 * its arena) growing, and the per-row scratch arrays the first time a
 * batch of a new capacity arrives.
 *
 * Windows. Every group of a windowed aggregate has the window_end of its
 * table. The open tables are kept in an array sorted by window_end (a
 * handful: one or two for tumbling windows, size/slide for hopping ones),
 * so closing the windows up to a watermark walks a prefix of that array and
 * never touches the groups of other windows. A closed table is emptied
 * (slots cleared, arena reset, memory kept) and parked among up to
 * AGG_MAX_SPARE spares, so in steady state a new window reuses the memory
 * of an old one and nothing is allocated.
 *
 * Emission fills `out` column by column from a list of EmitRows (key image
 * + state area) collected first; a table is released only after its rows
 * were copied into `out`.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"
#include "exec/hash.h"

/* ---- prototypes ---------------------------------------------------------------- */

static int  fail_new(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void table_release(AggOp *op, AggTable *t);

/* ---- spec checking ----------------------------------------------------------------- */

static int fail_new(char *why, size_t cap, const char *fmt, ...)
{
    if (why && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *fn_name(AggFn f)
{
    static const char *const names[] = {"COUNT(*)", "COUNT", "COUNT(DISTINCT)", "SUM", "AVG",
                                        "MIN", "MAX", "APPROX_COUNT_DISTINCT"};
    return (unsigned)f < sizeof names / sizeof *names ? names[f] : "?";
}

/* the result type of fn over values of type t; TYPE_NULL when not allowed */
static SqlType result_type(AggFn fn, SqlType t)
{
    switch (fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT:
        return TYPE_BIGINT;
    case AGGFN_COUNT_DISTINCT:
    case AGGFN_APPROX_COUNT_DISTINCT:
        return t == TYPE_NULL ? TYPE_NULL : TYPE_BIGINT;
    case AGGFN_SUM:
        return t == TYPE_BIGINT || t == TYPE_INTERVAL || t == TYPE_DOUBLE ? t : TYPE_NULL;
    case AGGFN_AVG:
        return t == TYPE_BIGINT || t == TYPE_DOUBLE ? TYPE_DOUBLE : TYPE_NULL;
    case AGGFN_MIN:
    case AGGFN_MAX:
        return t;
    }
    return TYPE_NULL;
}

static int check_agg(const AggOpSpec *s, int a, AggDesc *d, char *why, size_t cap)
{
    const AggColSpec *c = &s->aggs[a];
    if ((unsigned)c->fn > AGGFN_APPROX_COUNT_DISTINCT)
        return fail_new(why, cap, "aggregate %d: unknown function %d", a, (int)c->fn);
    d->fn = c->fn;
    d->arg = c->arg;
    d->filter = c->filter;
    d->retract = s->retract != 0;
    if (s->retract && (c->fn == AGGFN_MIN || c->fn == AGGFN_MAX || c->fn == AGGFN_COUNT_DISTINCT ||
                       c->fn == AGGFN_APPROX_COUNT_DISTINCT))
        return fail_new(why, cap,
                        "%s cannot take retractions: its input is a changelog (the output of an "
                        "aggregate with EMIT CHANGES or of an outer join), whose updated and "
                        "deleted rows it cannot take back",
                        fn_name(c->fn));
    if (s->phase == AGG_PHASE_FINAL) {
        if (c->filter >= 0)
            return fail_new(why, cap, "aggregate %d: FILTER is applied before the final phase", a);
        if (c->arg < 0 || c->arg >= s->ninput)
            return fail_new(why, cap, "aggregate %d: partial state column %d out of range", a, c->arg);
        SqlType t0 = s->input_types[c->arg];
        /* the value type: what SUM/MIN/MAX carry; for the others any valid one */
        d->vtype = c->fn == AGGFN_SUM || c->fn == AGGFN_MIN || c->fn == AGGFN_MAX ? t0
                   : c->fn == AGGFN_AVG                                          ? TYPE_DOUBLE
                                                                                 : TYPE_BIGINT;
        d->out_type = result_type(c->fn, d->vtype);
        if (d->out_type == TYPE_NULL)
            return fail_new(why, cap, "aggregate %d: %s has no partial state of type %s", a,
                            fn_name(c->fn), sql_type_name(t0));
        SqlType pt[2];
        int     np = agg_partial_types(d, pt);
        if (c->arg + np > s->ninput - (s->retract ? 1 : 0))
            return fail_new(why, cap, "aggregate %d: partial state columns out of range", a);
        for (int k = 0; k < np; k++) {
            SqlType got = s->input_types[c->arg + k];
            if (got != pt[k] && !(sql_type_is_i64(got) && sql_type_is_i64(pt[k]) &&
                                  c->fn != AGGFN_SUM && c->fn != AGGFN_MIN && c->fn != AGGFN_MAX))
                return fail_new(why, cap, "aggregate %d: %s partial state column %d is %s, want %s",
                                a, fn_name(c->fn), c->arg + k, sql_type_name(got),
                                sql_type_name(pt[k]));
        }
    } else {
        if (c->fn == AGGFN_COUNT_STAR) {
            d->arg = -1;
            d->vtype = TYPE_NULL;
        } else {
            if (c->arg < 0 || c->arg >= s->ninput)
                return fail_new(why, cap, "aggregate %d: argument column %d out of range", a, c->arg);
            d->vtype = s->input_types[c->arg];
            if (c->arg_type != TYPE_NULL && c->arg_type != d->vtype)
                return fail_new(why, cap, "aggregate %d: argument is %s, spec says %s", a,
                                sql_type_name(d->vtype), sql_type_name(c->arg_type));
        }
        if (c->filter >= 0 &&
            (c->filter >= s->ninput || s->input_types[c->filter] != TYPE_BOOLEAN))
            return fail_new(why, cap, "aggregate %d: FILTER column %d is not a BOOLEAN input", a,
                            c->filter);
        d->out_type = result_type(c->fn, d->vtype);
        if (d->out_type == TYPE_NULL && !(c->fn == AGGFN_MIN || c->fn == AGGFN_MAX))
            return fail_new(why, cap, "aggregate %d: %s of %s is not supported", a, fn_name(c->fn),
                            sql_type_name(d->vtype));
        if ((c->fn == AGGFN_MIN || c->fn == AGGFN_MAX) && d->vtype == TYPE_NULL)
            return fail_new(why, cap, "aggregate %d: %s of NULL is not supported", a, fn_name(c->fn));
    }
    if (c->out_type != TYPE_NULL && c->out_type != d->out_type)
        return fail_new(why, cap, "aggregate %d: %s gives %s, spec says %s", a, fn_name(c->fn),
                        sql_type_name(d->out_type), sql_type_name(c->out_type));
    return 0;
}

static int check_spec(const AggOpSpec *s, char *why, size_t cap)
{
    if ((unsigned)s->phase > AGG_PHASE_FINAL) return fail_new(why, cap, "unknown phase %d", (int)s->phase);
    if (s->ninput < 0 || (s->ninput > 0 && !s->input_types))
        return fail_new(why, cap, "no input types");
    for (int c = 0; c < s->ninput; c++)
        if ((unsigned)s->input_types[c] >= SQL_TYPE_COUNT)
            return fail_new(why, cap, "input column %d has an unknown type", c);
    if (s->nkeys < 0 || s->nkeys > 64 || (s->nkeys > 0 && !s->keys))
        return fail_new(why, cap, "between 0 and 64 group keys are supported");
    for (int k = 0; k < s->nkeys; k++)
        if (s->keys[k] < 0 || s->keys[k] >= s->ninput)
            return fail_new(why, cap, "key %d: column %d out of range", k, s->keys[k]);
    if (s->naggs < 0 || (s->naggs > 0 && !s->aggs)) return fail_new(why, cap, "no aggregates");
    if (s->wstart_key >= s->nkeys || s->wend_key >= s->nkeys || s->wstart_key < -1 ||
        s->wend_key < -1)
        return fail_new(why, cap, "window key index out of range");
    if (s->wstart_key >= 0 && s->wend_key < 0)
        return fail_new(why, cap, "a windowed aggregate needs the window_end key");
    for (int w = 0; w < 2; w++) {
        int k = w ? s->wend_key : s->wstart_key;
        if (k >= 0 && !sql_type_is_i64(s->input_types[s->keys[k]]))
            return fail_new(why, cap, "window bound key %d is %s, not a timestamp", k,
                            sql_type_name(s->input_types[s->keys[k]]));
    }
    if (s->session && (s->wstart_key < 0 || s->wend_key < 0 || s->wstart_key == s->wend_key))
        return fail_new(why, cap, "session windows need window_start and window_end keys");
    if (s->emit_changes && s->phase == AGG_PHASE_PARTIAL)
        return fail_new(why, cap, "EMIT CHANGES is for SIMPLE or FINAL aggregates");
    if (s->update_before && !s->emit_changes)
        return fail_new(why, cap, "update_before needs EMIT CHANGES");
    if (s->update_before && s->session)
        return fail_new(why, cap, "update_before is not supported with session windows");
    if (s->retract && s->session)
        return fail_new(why, cap, "session windows cannot take retractions (a changelog input)");
    if (s->snap_parts < 0 || s->snap_parts > 64) return fail_new(why, cap, "snap_parts must be 0 … 64");
    if (s->retract && s->phase == AGG_PHASE_FINAL &&
        (s->ninput < 1 || !sql_type_is_i64(s->input_types[s->ninput - 1])))
        return fail_new(why, cap, "a FINAL with retract reads the row count from its last input "
                                  "column, which must be BIGINT");
    return 0;
}

/* the checkpoint fingerprint: everything that shapes the state */
static uint64_t spec_fingerprint(const AggOp *op)
{
    uint64_t h = hash_i64(0x736c75696365);   /* "sluice" */
#define FP(x) (h = hash_combine(h, hash_i64((int64_t)(x))))
    FP(op->phase);
    FP(op->ninput);
    for (int c = 0; c < op->ninput; c++) FP(op->in_types[c]);
    FP(op->nkeys);
    for (int k = 0; k < op->nkeys; k++) {
        FP(op->keys[k]);
        FP(op->key_types[k]);
    }
    FP(op->naggs);
    for (int a = 0; a < op->naggs; a++) {
        FP(op->ad[a].fn);
        FP(op->ad[a].arg);
        FP(op->ad[a].filter);
        FP(op->ad[a].vtype);
        FP(op->ad[a].out_type);
    }
    FP(op->wstart);
    FP(op->wend);
    FP(op->session);
    FP(op->changes);
    /* only when set: ops without them keep their fingerprint (format 1 chunks) */
    if (op->update_before) FP(0x7562);
    if (op->retract) FP(0x7274);
    if (op->snap_mul != 64) FP(0x736e00 + op->snap_mul);
#undef FP
    return h;
}

/* ---- scratch ------------------------------------------------------------------------ */

int agg_ensure_scratch(AggOp *op, int n)
{
    if (n <= op->scap) return 0;
    size_t cap = (size_t)n;
    free(op->rows);
    free(op->starts);
    free(op->ends);
    free(op->hashes);
    free(op->img);
    free(op->gids);
    free(op->tabs);
    free(op->gp);
    free(op->heaps);
    free(op->sub);
    free(op->sign);
    op->rows = malloc(cap * sizeof *op->rows);
    op->starts = malloc(cap * sizeof *op->starts);
    op->ends = malloc(cap * sizeof *op->ends);
    op->hashes = malloc(cap * sizeof *op->hashes);
    op->img = malloc(cap * (op->kl.width ? op->kl.width : 8));
    op->gids = malloc(cap * sizeof *op->gids);
    op->tabs = malloc(cap * sizeof *op->tabs);
    op->gp = malloc(cap * sizeof *op->gp);
    op->heaps = malloc(cap * sizeof *op->heaps);
    op->sub = malloc(cap * sizeof *op->sub);
    op->sign = malloc(cap * sizeof *op->sign);
    if (!op->rows || !op->starts || !op->ends || !op->hashes || !op->img || !op->gids ||
        !op->tabs || !op->gp || !op->heaps || !op->sub || !op->sign) {
        op->scap = 0;
        return agg_fail(op, "out of memory");
    }
    op->scap = n;
    return 0;
}

int agg_reserve_er(AggOp *op, int n)
{
    if (n <= op->er_cap) return 0;
    EmitRow *e = realloc(op->er, (size_t)n * sizeof *e);
    if (!e) return agg_fail(op, "out of memory");
    op->er = e;
    op->er_cap = n;
    return 0;
}

/* ---- push steps ------------------------------------------------------------------------ */

static int check_batch(AggOp *op, const Batch *in)
{
    if (in->ncols != op->ninput) return agg_fail(op, "batch has %d columns, want %d", in->ncols, op->ninput);
    for (int c = 0; c < op->ninput; c++) {
        SqlType got = in->cols[c].type, want = op->in_types[c];
        if (got != want && !(sql_type_is_i64(got) && sql_type_is_i64(want)) && got != TYPE_NULL)
            return agg_fail(op, "input column %d is %s, want %s", c, sql_type_name(got),
                            sql_type_name(want));
    }
    return 0;
}

static int64_t i64_at(const Vector *v, int r, int *null)
{
    int slot = vector_index(v, r);
    if (v->type == TYPE_NULL || !vector_validity_get(v->validity, slot)) {
        *null = 1;
        return 0;
    }
    *null = 0;
    return vector_i64(v)[slot];
}

/* step 1: the kept rows (and their window bounds); returns how many */
int agg_keep_rows(AggOp *op, const Batch *in)
{
    const uint32_t *sel = in->sel;
    int             m = 0;
    if (!op->windowed) {
        for (int i = 0; i < in->count; i++) op->rows[i] = sel ? sel[i] : (uint32_t)i;
        return in->count;
    }
    const Vector *ve = &in->cols[op->keys[op->wend]];
    const Vector *vs = op->session ? &in->cols[op->keys[op->wstart]] : NULL;
    const int     flat = ve->kind == VECTOR_FLAT && !ve->validity && ve->type != TYPE_NULL;
    const int64_t wm = op->have_wm ? op->wm : INT64_MIN;
    if (ve->kind == VECTOR_CONSTANT && !op->session) {
        /* one window for the whole batch */
        int     null_e;
        int64_t e = i64_at(ve, 0, &null_e);
        if (null_e || (op->have_wm && e <= wm)) {
            op->late += in->count;
            return 0;
        }
        for (int i = 0; i < in->count; i++) {
            op->rows[i] = sel ? sel[i] : (uint32_t)i;
            op->ends[i] = e;
        }
        return in->count;
    }
    if (flat && !op->session) {
        /* the hot case: no NULL window_end */
        const int64_t *e = vector_i64(ve);
        if (!op->have_wm) {
            for (int i = 0; i < in->count; i++) {
                uint32_t r = sel ? sel[i] : (uint32_t)i;
                op->rows[i] = r;
                op->ends[i] = e[r];
            }
            return in->count;
        }
        for (int i = 0; i < in->count; i++) {
            uint32_t r = sel ? sel[i] : (uint32_t)i;
            op->rows[m] = r;
            op->ends[m] = e[r];
            m += e[r] > wm;
        }
        op->late += in->count - m;
        return m;
    }
    for (int i = 0; i < in->count; i++) {
        int r = batch_row(in, i), null_e, null_s = 0;
        int64_t e = i64_at(ve, r, &null_e), s = vs ? i64_at(vs, r, &null_s) : 0;
        if (null_e || null_s || (op->have_wm && e <= wm) || (vs && s > e)) {
            op->late++;
            continue;
        }
        op->rows[m] = (uint32_t)r;
        op->ends[m] = e;
        op->starts[m] = s;
        m++;
    }
    return m;
}

/* step 3: key images of the kept rows */
void agg_build_images(AggOp *op, const Batch *in, int m)
{
    const KeyLayout *kl = &op->kl;
    const uint32_t   kw = kl->width;
    const uint32_t  *rows = op->rows;
    uint8_t         *img = op->img;
    if (kw == 0) return;
    for (int j = 0; j < m; j++) *(uint64_t *)(img + (size_t)j * kw + kw - 8) = 0;
    for (int k = 0; k < kl->n; k++) {
        const Vector  *v = &in->cols[kl->col[k]];
        const uint32_t off = kl->off[k];
        const uint32_t am = v->kind == VECTOR_CONSTANT ? 0 : UINT32_MAX;
        uint8_t       *base = img + off;
        switch (v->type) {
        case TYPE_NULL: {
            /* a NULL-typed vector: every row NULL (the bit as for a NULL
             * value, so image, hash and output agree) */
            const size_t   w = kl->type[k] == TYPE_VARCHAR ? 16 : 8;
            const uint64_t bit = (uint64_t)1 << k;
            for (int j = 0; j < m; j++) {
                uint8_t *row = img + (size_t)j * kw;
                memset(row + off, 0, w);
                *(uint64_t *)(row + kw - 8) |= bit;
            }
            break;
        }
        case TYPE_BOOLEAN: {
            const uint8_t *x = vector_bool(v);
            for (int j = 0; j < m; j++) *(uint64_t *)(base + (size_t)j * kw) = x[rows[j] & am] != 0;
            break;
        }
        case TYPE_DOUBLE: {
            const double *x = vector_f64(v);
            for (int j = 0; j < m; j++)
                *(uint64_t *)(base + (size_t)j * kw) = agg_f64_bits(x[rows[j] & am]);
            break;
        }
        case TYPE_VARCHAR: {
            const Str *x = vector_str(v);
            for (int j = 0; j < m; j++) {
                uint64_t *slot = (uint64_t *)(base + (size_t)j * kw);
                slot[1] = 0;
                *(Str *)slot = x[rows[j] & am];
            }
            break;
        }
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL: {
            const int64_t *x = vector_i64(v);
            for (int j = 0; j < m; j++) *(int64_t *)(base + (size_t)j * kw) = x[rows[j] & am];
            break;
        }
        }
        if (v->validity) {
            const uint64_t bit = (uint64_t)1 << k;
            const size_t   w = kl->type[k] == TYPE_VARCHAR ? 16 : 8;
            for (int j = 0; j < m; j++) {
                if (vector_validity_get(v->validity, (int)(rows[j] & am))) continue;
                uint8_t *row = img + (size_t)j * kw;
                memset(row + off, 0, w);
                *(uint64_t *)(row + kw - 8) |= bit;
            }
        }
    }
}

/* where window_end e is (or would go) in op->open */
static int open_pos(const AggOp *op, int64_t e)
{
    int lo = 0, hi = op->nopen;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (op->open[mid]->wend < e) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

AggTable *agg_table_lookup(AggOp *op, int64_t e)
{
    if (op->last_tab && op->last_tab->wend == e) return op->last_tab;
    int lo = open_pos(op, e);
    return lo < op->nopen && op->open[lo]->wend == e ? op->open[lo] : NULL;
}

/* the table of window_end e, created (or taken from the spares) if missing */
AggTable *agg_table_for(AggOp *op, int64_t e)
{
    if (op->last_tab && op->last_tab->wend == e) return op->last_tab;
    int lo = open_pos(op, e);
    if (lo < op->nopen && op->open[lo]->wend == e) return op->last_tab = op->open[lo];
    if (op->nopen == op->open_cap) {
        int        ncap = op->open_cap ? op->open_cap * 2 : 8;
        AggTable **no = realloc(op->open, (size_t)ncap * sizeof *no);
        if (!no) return NULL;
        op->open = no;
        op->open_cap = ncap;
    }
    AggTable *t;
    if (op->nspare > 0) {
        t = op->spare[--op->nspare];
    } else {
        if (!(t = malloc(sizeof *t))) return NULL;
        agg_table_init(t, op->row_width);
    }
    t->wend = e;
    snap_table_reopen(op, t);
    memmove(op->open + lo + 1, op->open + lo, (size_t)(op->nopen - lo) * sizeof *op->open);
    op->open[lo] = t;
    op->nopen++;
    return op->last_tab = t;
}

/* step 4 for tables */
static int probe_tables(AggOp *op, int m)
{
    const uint32_t kw = op->kl.width;
    if (!op->windowed) {
        if (agg_table_probe(&op->global, &op->kl, op->hashes, op->img, m, op->gids) < 0)
            return agg_fail(op, "out of memory");
        uint64_t bits = 0;   /* checkpoint buckets touched */
        for (int j = 0; j < m; j++) {
            op->tabs[j] = &op->global;
            bits |= SNAP_BIT(op, op->hashes[j]);
        }
        op->global.snap_dirty |= bits;
    } else {
        for (int j = 0; j < m;) {
            int64_t e = op->ends[j];
            int     k = j + 1;
            while (k < m && op->ends[k] == e) k++;
            AggTable *t = agg_table_for(op, e);
            if (!t || agg_table_probe(t, &op->kl, op->hashes + j, op->img + (size_t)j * kw, k - j,
                                      op->gids + j) < 0)
                return agg_fail(op, "out of memory");
            uint64_t bits = 0;   /* checkpoint buckets touched */
            for (int i = j; i < k; i++) {
                op->tabs[i] = t;
                bits |= SNAP_BIT(op, op->hashes[i]);
            }
            t->snap_dirty |= bits;
            j = k;
        }
    }
    const uint32_t so = op->state_off;
    for (int j = 0; j < m; j++) {
        AggTable *t = op->tabs[j];
        op->gp[j] = agg_table_row(t, op->gids[j]) + so;
        op->heaps[j] = &t->heap;
    }
    return 0;
}

/* retract, SIMPLE/PARTIAL: the sign of each kept row from in->ops */
static void set_signs(AggOp *op, const Batch *in, int m)
{
    const uint8_t  *ops = in->ops;
    const uint32_t *rows = op->rows;
    if (!ops) {
        memset(op->sign, 1, (size_t)m);
        return;
    }
    for (int j = 0; j < m; j++) {
        uint8_t o = ops[rows[j]];
        op->sign[j] = (int8_t)(o == BATCH_OP_DELETE || o == BATCH_OP_UPDATE_BEFORE ? -1 : 1);
    }
}

/* retract: the hidden live-row count of every kept row's group */
static void count_rows(AggOp *op, const Batch *in, int m)
{
    uint8_t *const *gp = op->gp;
    const uint32_t  off = op->cnt_off;
    if (op->phase != AGG_PHASE_FINAL) {
        const int8_t *sg = op->sign;
        for (int j = 0; j < m; j++) *(int64_t *)(gp[j] + off) += sg[j];
        return;
    }
    const Vector  *v = &in->cols[op->ninput - 1];
    const uint32_t am = v->kind == VECTOR_CONSTANT ? 0 : UINT32_MAX;
    if (v->type == TYPE_NULL) return;
    const int64_t *x = vector_i64(v);
    for (int j = 0; j < m; j++) {
        uint32_t r = op->rows[j] & am;
        if (vector_validity_get(v->validity, (int)r)) *(int64_t *)(gp[j] + off) += x[r];
    }
}

/* retract, SIMPLE/FINAL: groups whose count fell to 0 vanish — at once, or
 * (changes mode, emitted before) zeroed and left for the next emission to
 * retract with a -D; a negative count is an error */
static int vanish(AggOp *op, int m)
{
    const uint32_t so = op->state_off, co = op->cnt_off;
    for (int j = 0; j < m; j++) {
        AggTable *t = op->tabs[j];
        uint8_t  *row = agg_table_row(t, op->gids[j]);
        GroupHdr *h = (GroupHdr *)row;
        if (!(h->flags & GF_LIVE)) continue;   /* removed for an earlier row */
        int64_t cnt = *(const int64_t *)(row + so + co);
        if (cnt > 0) continue;
        if (cnt < 0)
            return agg_fail(op, "retraction of a row that was never inserted (a -U/-D row "
                                "would make a group's live row count %lld)",
                            (long long)cnt);
        if (op->changes && (h->flags & GF_EMITTED)) memset(row + so, 0, op->state_size);
        else agg_table_delete(t, op->gids[j]);
    }
    return 0;
}

static int mark_dirty(AggOp *op, int m)
{
    for (int j = 0; j < m; j++) {
        AggTable *t = op->tabs[j];
        GroupHdr *h = (GroupHdr *)agg_table_row(t, op->gids[j]);
        if (h->flags & GF_DIRTY) continue;
        h->flags |= GF_DIRTY;
        if (agg_table_push_dirty(t, op->gids[j]) < 0) return agg_fail(op, "out of memory");
    }
    return 0;
}

/* ---- emission ------------------------------------------------------------------------- */

static void table_release(AggOp *op, AggTable *t)
{
    if (op->last_tab == t) op->last_tab = NULL;
    snap_table_gone(op, t);   /* room reserved by the caller */
    agg_bloom_free(t);
    t->nspilled = 0;
    t->drain = 0;
    if (op->nspare < AGG_MAX_SPARE) {
        agg_table_reset(t);
        op->spare[op->nspare++] = t;
    } else {
        agg_table_destroy(t);
        free(t);
    }
}

/* Collect rows of table t into er[n..cap): all live rows from the cursor,
 * or (changes) the dirty ones. Returns the new n; *done when t has nothing
 * more to emit. */
static int collect_table(AggOp *op, AggTable *t, int n, int cap, int *done)
{
    const uint32_t so = op->state_off;
    if (op->changes) {
        while (t->ndirty) {
            uint32_t  gid = t->dirty[t->ndirty - 1];
            uint8_t  *row = agg_table_row(t, gid);
            GroupHdr *h = (GroupHdr *)row;
            if ((h->flags & (GF_LIVE | GF_DIRTY)) != (GF_LIVE | GF_DIRTY)) {
                t->ndirty--;   /* stale: emitted or removed since */
                continue;
            }
            /* retract: a group whose rows were all retracted (only emitted
             * ones wait here) is retracted itself */
            int      dead = op->retract && *(const int64_t *)(row + so + op->cnt_off) == 0;
            int      ub = op->update_before && (h->flags & GF_EMITTED) && !dead;
            uint8_t *res = op->update_before ? row + op->res_off : NULL;
            if (n + 1 + ub > cap) break;   /* a -U/+U pair is never split */
            t->ndirty--;
            t->snap_dirty |= SNAP_BIT(op, h->hash);   /* its flags are checkpointed */
            EmitRow *e = &op->er[n++];
            memset(e, 0, sizeof *e);
            e->key = row + GROUP_HDR;
            if (dead) {
                e->res = res;
                e->mark = AGG_ROW_DELETE;
                agg_table_delete(t, gid);   /* its bytes stay until the next push */
                continue;
            }
            if (ub) {
                e->res = res;
                e->mark = AGG_ROW_UPDATE_BEFORE;
                e = &op->er[n++];
                memset(e, 0, sizeof *e);
                e->key = row + GROUP_HDR;
            }
            e->st = row + so;
            e->save = res;
            e->heap = &t->heap;
            e->mark = h->flags & GF_EMITTED ? AGG_ROW_UPDATE : AGG_ROW_INSERT;
            h->flags = (h->flags & ~(uint32_t)GF_DIRTY) | GF_EMITTED;
        }
        *done = t->ndirty == 0;
        return n;
    }
    while (t->emit_pos < t->nrows && n < cap) {
        uint8_t *row = agg_table_row(t, t->emit_pos++);
        if (!(((GroupHdr *)row)->flags & GF_LIVE)) continue;
        EmitRow *e = &op->er[n++];
        memset(e, 0, sizeof *e);
        e->key = row + GROUP_HDR;
        e->st = row + so;
        e->mark = AGG_ROW_INSERT;
    }
    *done = t->emit_pos >= t->nrows;
    return n;
}

/* windowed tables with wend <= limit (all: every table) */
static int emit_windows(AggOp *op, Batch *out, int64_t limit, int all, int *more)
{
    const int cap = out->capacity;
    int       n = 0, closed = 0, done = 1;
    if (snap_reserve_gone(op, op->nopen) < 0) return agg_fail(op, "out of memory");
    AggTable *held = NULL;   /* a due table with spilled groups: the runtime loads them */
    while (closed < op->nopen && (all || op->open[closed]->wend <= limit)) {
        n = collect_table(op, op->open[closed], n, cap, &done);
        if (!done) break;
        if (op->open[closed]->nspilled) {
            held = op->open[closed];
            break;
        }
        closed++;
    }
    *more = !done;
    if (agg_emit_fill(op, out, op->er, n) < 0) return -1;
    if (held) agg_spill_hold(op, held);
    if (closed > 0) {
        for (int i = 0; i < closed; i++) table_release(op, op->open[i]);
        memmove(op->open, op->open + closed, (size_t)(op->nopen - closed) * sizeof *op->open);
        op->nopen -= closed;
    }
    return n;
}

static int emit_global(AggOp *op, Batch *out, int *more)
{
    AggTable *t = &op->global;
    int       done, n;
    if (t->used == 0 && t->ndirty == 0 && t->nspilled == 0 && op->nkeys == 0 &&
        op->phase != AGG_PHASE_PARTIAL && !op->changes && !t->drain) {
        /* batch SQL's one row for an aggregate without GROUP BY over no rows */
        EmitRow *e = &op->er[0];
        memset(e, 0, sizeof *e);
        e->st = op->zero_state;
        n = 1;
        done = 1;
    } else {
        n = collect_table(op, t, 0, out->capacity, &done);
    }
    *more = !done;
    if (agg_emit_fill(op, out, op->er, n) < 0) return -1;
    if (done && t->nspilled) agg_spill_hold(op, t);
    else if (done) {
        agg_table_reset(t);
        t->drain = 0;
    }
    return n;
}

/* ---- API helpers shared with agg_session.c ---------------------------------------------- */

int agg_fail(AggOp *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->err, sizeof op->err, fmt, ap);
    va_end(ap);
    return -1;
}

int agg_emit_fill(AggOp *op, Batch *out, const EmitRow *er, int n)
{
    int c = 0;
    if (op->changes) {
        int64_t *x = vector_i64(&out->cols[0]);
        for (int i = 0; i < n; i++) x[i] = er[i].mark;
        c = 1;
    }
    const KeyLayout *kl = &op->kl;
    for (int k = 0; k < op->nkeys; k++, c++) {
        Vector *v = &out->cols[c];
        int     li = op->kmap[k];
        if (li < 0) {
            int64_t *x = vector_i64(v);
            if (k == op->wstart)
                for (int i = 0; i < n; i++) x[i] = er[i].start;
            else
                for (int i = 0; i < n; i++) x[i] = er[i].end;
            continue;
        }
        const uint32_t off = kl->off[li], mw = kl->width - 8;
        for (int i = 0; i < n; i++) {
            const uint8_t *key = er[i].key;
            if (*(const uint64_t *)(key + mw) >> li & 1) {
                vector_set_null(v, i);
                continue;
            }
            switch (kl->type[li]) {
            case TYPE_BOOLEAN:
                vector_bool(v)[i] = (uint8_t)*(const uint64_t *)(key + off);
                break;
            case TYPE_DOUBLE:
                memcpy(&vector_f64(v)[i], key + off, 8);
                break;
            case TYPE_VARCHAR: {
                const Str *s = (const Str *)(key + off);
                if (vector_set_str(v, i, s->ptr, s->len) < 0) return agg_fail(op, "out of memory");
                break;
            }
            case TYPE_NULL:
                vector_set_null(v, i);
                break;
            default:
                vector_i64(v)[i] = *(const int64_t *)(key + off);
                break;
            }
        }
    }
    const int c0 = c;
    for (int a = 0; a < op->naggs; a++) {
        if (agg_state_output(op, &op->ad[a], out, c, er, n) < 0) return -1;
        c += op->phase == AGG_PHASE_PARTIAL ? agg_partial_types(&op->ad[a], NULL) : 1;
    }
    if (op->phase == AGG_PHASE_PARTIAL && op->retract) {
        /* the hidden live-row count, the last partial column */
        Vector  *v = &out->cols[c];
        int64_t *x = vector_i64(v);
        for (int i = 0; i < n; i++) {
            if (er[i].st) x[i] = *(const int64_t *)(er[i].st + op->cnt_off);
            else vector_set_null(v, i);
        }
    }
    if (op->update_before) {
        /* -U / -D rows show the last emitted values; +I / +U rows become them */
        if (agg_res_output(op, out, c0, er, n) < 0) return -1;
        for (int i = 0; i < n; i++)
            if (er[i].save && agg_res_save(op, er[i].save, er[i].heap, out, c0, i) < 0) return -1;
    }
    batch_set_nrows(out, n);
    return 0;
}

/* ---- API -------------------------------------------------------------------------------- */

AggOp *agg_op_new(const AggOpSpec *spec, char *why, size_t cap)
{
    if (why && cap) why[0] = '\0';
    if (!spec || check_spec(spec, why, cap) < 0) return NULL;
    AggOp *op = calloc(1, sizeof *op);
    if (!op) {
        fail_new(why, cap, "out of memory");
        return NULL;
    }
    op->phase = spec->phase;
    op->ninput = spec->ninput;
    op->nkeys = spec->nkeys;
    op->naggs = spec->naggs;
    op->wstart = spec->wstart_key;
    op->wend = spec->wend_key;
    op->windowed = spec->wend_key >= 0;
    op->session = spec->session != 0;
    op->changes = spec->emit_changes != 0;
    op->update_before = spec->update_before != 0;
    op->retract = spec->retract != 0;
    op->snap_mul = spec->snap_parts ? (uint32_t)spec->snap_parts : 64;
    agg_table_init(&op->global, 0);

    int nk = spec->nkeys;
    op->in_types = calloc((size_t)op->ninput + 1, sizeof *op->in_types);
    op->keys = calloc((size_t)nk + 1, sizeof *op->keys);
    op->key_types = calloc((size_t)nk + 1, sizeof *op->key_types);
    op->kmap = calloc((size_t)nk + 1, sizeof *op->kmap);
    op->kl.col = calloc((size_t)nk + 1, sizeof *op->kl.col);
    op->kl.type = calloc((size_t)nk + 1, sizeof *op->kl.type);
    op->kl.off = calloc((size_t)nk + 1, sizeof *op->kl.off);
    op->ad = calloc((size_t)op->naggs + 1, sizeof *op->ad);
    if (!op->in_types || !op->keys || !op->key_types || !op->kmap || !op->kl.col || !op->kl.type ||
        !op->kl.off || !op->ad) {
        fail_new(why, cap, "out of memory");
        goto fail;
    }
    if (op->ninput) memcpy(op->in_types, spec->input_types, (size_t)op->ninput * sizeof *op->in_types);

    /* key layout: every key, or all but the bounds for sessions */
    uint32_t off = 0;
    for (int k = 0; k < nk; k++) {
        op->keys[k] = spec->keys[k];
        op->key_types[k] = spec->input_types[spec->keys[k]];
        if (op->session && (k == op->wstart || k == op->wend)) {
            op->kmap[k] = -1;
            continue;
        }
        int li = op->kl.n++;
        op->kmap[k] = li;
        op->kl.col[li] = spec->keys[k];
        op->kl.type[li] = op->key_types[k];
        op->kl.off[li] = off;
        off += op->key_types[k] == TYPE_VARCHAR ? 16 : 8;
        if (op->key_types[k] == TYPE_VARCHAR) op->kl.has_str = 1;
    }
    op->kl.width = op->kl.n ? off + 8 : 0;

    uint32_t so = 0;
    for (int a = 0; a < op->naggs; a++) {
        if (check_agg(spec, a, &op->ad[a], why, cap) < 0) goto fail;
        op->ad[a].off = so;
        op->ad[a].size = agg_state_size(&op->ad[a]);
        so += op->ad[a].size;
    }
    op->cnt_off = so;
    if (op->retract) so += 8;   /* the hidden live-row count */
    op->state_size = so;
    op->state_off = GROUP_HDR + op->kl.width;
    op->res_off = op->state_off + so;
    op->res_size = op->update_before ? (uint32_t)op->naggs * AGG_RES_SLOT : 0;
    op->row_width = op->res_off + op->res_size;
    op->zero_state = calloc(1, (size_t)so + 8);
    if (!op->zero_state) {
        fail_new(why, cap, "out of memory");
        goto fail;
    }
    agg_table_init(&op->global, op->row_width);
    op->fingerprint = spec_fingerprint(op);
    if (op->session && sess_new(op) < 0) {
        fail_new(why, cap, "out of memory");
        goto fail;
    }
    return op;

fail:
    agg_op_free(op);
    return NULL;
}

void agg_op_free(AggOp *op)
{
    if (!op) return;
    agg_table_destroy(&op->global);
    for (int i = 0; i < op->nopen; i++) {
        agg_table_destroy(op->open[i]);
        free(op->open[i]);
    }
    for (int i = 0; i < op->nspare; i++) {
        agg_table_destroy(op->spare[i]);
        free(op->spare[i]);
    }
    free(op->open);
    if (op->ss) sess_free(op);
    free(op->in_types);
    free(op->keys);
    free(op->key_types);
    free(op->kmap);
    free(op->kl.col);
    free(op->kl.type);
    free(op->kl.off);
    free(op->ad);
    free(op->zero_state);
    free(op->rows);
    free(op->starts);
    free(op->ends);
    free(op->hashes);
    free(op->img);
    free(op->gids);
    free(op->tabs);
    free(op->gp);
    free(op->heaps);
    free(op->sub);
    free(op->sign);
    free(op->er);
    free(op->sortbuf);
    free(op->gone);
    free(op->sbuf.p);
    free(op->sgids);
    free(op->kbuf.p);
    free(op->simg);
    free(op);
}

int agg_op_push(AggOp *op, const Batch *in)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    op->pushed = 1;
    if (check_batch(op, in) < 0) return -1;
    if (in->count <= 0) return 0;
    if (agg_ensure_scratch(op, in->capacity > in->count ? in->capacity : in->count) < 0) return -1;
    int m = agg_keep_rows(op, in);
    if (m == 0) return 0;

    const KeyLayout *kl = &op->kl;
    if (kl->n == 0) memset(op->hashes, 0, (size_t)m * sizeof *op->hashes);
    for (int k = 0; k < kl->n; k++) hash_vector(&in->cols[kl->col[k]], op->rows, m, op->hashes, k > 0);
    agg_build_images(op, in, m);

    if (op->session) {
        if (sess_assign(op, in, m) < 0) return -1;
    } else if (probe_tables(op, m) < 0) {
        return -1;
    }
    int rc = 0;
    if (op->retract && op->phase != AGG_PHASE_FINAL) set_signs(op, in, m);
    for (int a = 0; a < op->naggs && rc == 0; a++) rc = agg_state_update(op, &op->ad[a], in, m);
    if (op->session) return sess_after_push(op, m) < 0 ? -1 : rc;
    if (rc == 0 && op->retract) count_rows(op, in, m);
    if (rc == 0 && op->changes) rc = mark_dirty(op, m);
    if (rc == 0 && op->retract && op->phase != AGG_PHASE_PARTIAL) rc = vanish(op, m);
    return rc;
}

/* a -U/+U pair must fit in one call */
static int check_cap(AggOp *op, const Batch *out)
{
    if (op->update_before && out->capacity < 2)
        return agg_fail(op, "EMIT CHANGES with update_before needs output batches of >= 2 rows");
    return 0;
}

/* the emitting calls record whether rows are pending (agg_op_snapshot) */
static int emitted(AggOp *op, int n, const int *more)
{
    op->mid_emit = n >= 0 && *more;
    return n;
}

static int advance(AggOp *op, int64_t watermark_us, Batch *out, int *more)
{
    *more = 0;
    batch_reset(out);
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (!op->windowed) return 0;
    if (!op->have_wm || watermark_us > op->wm) {
        op->wm = watermark_us;
        op->have_wm = 1;
    }
    if (agg_reserve_er(op, out->capacity) < 0 || check_cap(op, out) < 0) return -1;
    if (op->session) return sess_emit(op, out, op->wm, 0, more);
    return emit_windows(op, out, op->wm, 0, more);
}

int agg_op_advance(AggOp *op, int64_t watermark_us, Batch *out, int *more)
{
    op->err[0] = '\0';
    return emitted(op, advance(op, watermark_us, out, more), more);
}

static int flush(AggOp *op, Batch *out, int *more)
{
    *more = 0;
    batch_reset(out);
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (agg_reserve_er(op, out->capacity) < 0 || check_cap(op, out) < 0) return -1;
    if (op->session) return sess_emit(op, out, INT64_MAX, 1, more);
    if (op->windowed) return emit_windows(op, out, INT64_MAX, 1, more);
    return emit_global(op, out, more);
}

int agg_op_flush(AggOp *op, Batch *out, int *more)
{
    op->err[0] = '\0';
    return emitted(op, flush(op, out, more), more);
}

static int changes(AggOp *op, Batch *out, int *more);

int agg_op_changes(AggOp *op, Batch *out, int *more)
{
    op->err[0] = '\0';
    return emitted(op, changes(op, out, more), more);
}

static int changes(AggOp *op, Batch *out, int *more)
{
    *more = 0;
    batch_reset(out);
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (!op->changes) return agg_fail(op, "the aggregate was not built for EMIT CHANGES");
    if (agg_reserve_er(op, out->capacity) < 0 || check_cap(op, out) < 0) return -1;
    if (op->session) return sess_changes(op, out, more);
    int n = 0, done = 1;
    if (!op->windowed) {
        n = collect_table(op, &op->global, 0, out->capacity, &done);
    } else {
        for (int i = 0; i < op->nopen && done; i++)
            n = collect_table(op, op->open[i], n, out->capacity, &done);
    }
    *more = !done;
    return agg_emit_fill(op, out, op->er, n) < 0 ? -1 : n;
}

int agg_op_output_types(const AggOp *op, SqlType *types)
{
    int c = 0;
    if (op->changes) types[c++] = TYPE_BIGINT;
    for (int k = 0; k < op->nkeys; k++) types[c++] = op->key_types[k];
    for (int a = 0; a < op->naggs; a++) {
        if (op->phase == AGG_PHASE_PARTIAL) c += agg_partial_types(&op->ad[a], types + c);
        else types[c++] = op->ad[a].out_type;
    }
    if (op->phase == AGG_PHASE_PARTIAL && op->retract) types[c++] = TYPE_BIGINT;   /* rows */
    return c;
}

int64_t agg_op_groups(const AggOp *op)
{
    if (op->session) return sess_count(op);
    int64_t n = op->global.used;
    for (int i = 0; i < op->nopen; i++) n += op->open[i]->used;
    return n;
}

int64_t agg_op_late_rows(const AggOp *op)
{
    return op->late;
}

size_t agg_op_state_bytes(const AggOp *op)
{
    size_t n = op->global.used || op->global.nspilled ? agg_table_bytes(&op->global) : 0;
    for (int i = 0; i < op->nopen; i++) n += agg_table_bytes(op->open[i]);
    if (op->session) n += sess_bytes(op);
    return n;
}

size_t agg_op_reserved_bytes(const AggOp *op)
{
    size_t n = agg_table_bytes(&op->global) + agg_bloom_bytes(&op->global);
    for (int i = 0; i < op->nopen; i++) n += agg_table_bytes(op->open[i]) + agg_bloom_bytes(op->open[i]);
    for (int i = 0; i < op->nspare; i++) n += agg_table_bytes(op->spare[i]);
    if (op->session) n += sess_bytes(op);
    size_t per_row = sizeof *op->rows + sizeof *op->starts + sizeof *op->ends +
                     sizeof *op->hashes + (op->kl.width ? op->kl.width : 8) + sizeof *op->gids +
                     sizeof *op->tabs + sizeof *op->gp + sizeof *op->heaps + sizeof *op->sub +
                     sizeof *op->sign;
    return n + (size_t)op->scap * per_row + (size_t)op->er_cap * sizeof *op->er +
           op->sort_cap * sizeof *op->sortbuf;
}

const char *agg_op_error(const AggOp *op)
{
    return op->err;
}

/* ---- debug ---------------------------------------------------------------------------- */

/* retract, SIMPLE/FINAL: every group has live rows, or (changes mode) is
 * an emitted one whose -D is pending, with a zeroed state */
static int check_counts(AggOp *op, const AggTable *t)
{
    if (!op->retract || op->phase == AGG_PHASE_PARTIAL) return 0;
    for (uint32_t g = 0; g < t->nrows; g++) {
        const uint8_t  *row = agg_table_row(t, g);
        const GroupHdr *h = (const GroupHdr *)row;
        if (!(h->flags & GF_LIVE)) continue;
        int64_t cnt = *(const int64_t *)(row + op->state_off + op->cnt_off);
        if (cnt < 0 || (cnt == 0 && (!op->changes || (h->flags & (GF_DIRTY | GF_EMITTED)) !=
                                                         (GF_DIRTY | GF_EMITTED))))
            return agg_fail(op, "check: a group with live row count %lld", (long long)cnt);
    }
    return 0;
}

int agg_op_check(AggOp *op)
{
    op->err[0] = '\0';
    if (agg_table_check(&op->global, &op->kl) < 0) return agg_fail(op, "check: global table");
    if (check_counts(op, &op->global) < 0) return -1;
    int held = 0;
    for (int i = 0; i < op->nopen; i++) {
        if (check_counts(op, op->open[i]) < 0) return -1;
        if (agg_table_check(op->open[i], &op->kl) < 0) return agg_fail(op, "check: window table %d", i);
        if (i > 0 && op->open[i - 1]->wend >= op->open[i]->wend)
            return agg_fail(op, "check: windows out of order");
        held |= op->open[i]->drain;   /* the emission waits at a table whose spilled groups are due */
        if (op->have_wm && op->open[i]->wend <= op->wm && op->open[i]->used && !held)
            return agg_fail(op, "check: a window past the watermark holds groups");
    }
    return op->session ? sess_check(op) : 0;
}

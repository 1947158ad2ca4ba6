/*
 * agg_state.c — the per-aggregate kernels of the hash aggregate: update a
 * batch's groups from rows (SIMPLE/PARTIAL) or from partial states (FINAL),
 * merge two states (sessions), move states between arenas (session
 * compaction), and write results or partial states into an output batch.
 *
 * Update loops. agg_state_update runs once per aggregate per batch: one
 * switch on (function, type), then one tight loop over the kept rows,
 * where op->gp[j] is row j's state area (already found by the probe) and
 * op->rows[j] its physical row. Rows that FILTER rejects or whose argument
 * is NULL are removed first by a branch-free pass that writes the indexes
 * of the others into op->sub; when there is no FILTER and the argument has
 * no NULLs, the loop runs over all rows directly. A constant argument
 * vector is read through a mask (row & 0 = slot 0), so the loop is the same.
 *
 * States (all-zero = empty):
 *   COUNT(*), COUNT       int64 n
 *   SUM BIGINT/INTERVAL   SumI: 128-bit two's complement (lo, hi), seen, overflow;
 *                         with retract followed by int64 n, the live non-NULL
 *                         inputs (the result is NULL when n == 0)
 *   SUM DOUBLE            SumD: double, seen (with retract: the count n)
 *   AVG                   AvgS: double sum, int64 count
 *   MIN/MAX int64, BOOL   MinI: int64 value, seen
 *   MIN/MAX DOUBLE        MinD: double value, seen
 *   MIN/MAX VARCHAR       MinS: bytes in the arena (NULL = none), len, cap; a
 *                         better value overwrites the bytes in place when it
 *                         fits, else gets a buffer of max(len, 2 cap)
 *   COUNT(DISTINCT)       DSet * (agg_distinct.c), NULL = empty
 *   APPROX_COUNT_DISTINCT uint8_t * to HLL_M registers in the arena, NULL = empty
 *
 * Retractions (op->retract): the update loops take a sign per kept row
 * (op->sign, +1 / -1) and add or subtract; they are separate loops, so an
 * op without retract runs exactly the loops it ran before. MIN/MAX and the
 * distinct counts are refused by agg_op_new under retract.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"
#include "exec/hash.h"
#include "exec/hll.h"

typedef struct SumI { uint64_t lo, hi; uint32_t seen, ovf; } SumI;
typedef struct SumD { double s; int64_t seen; } SumD;
typedef struct AvgS { double s; int64_t n; } AvgS;
typedef struct MinI { int64_t v; int64_t seen; } MinI;
typedef struct MinD { double v; int64_t seen; } MinD;
typedef struct MinS { char *p; uint32_t len, cap; } MinS;

#define ST(T, j) ((T *)(gp[j] + off))

/* run BODY for every passing kept row j (lst == NULL: all n rows) */
#define FOR_PASS(...)                                                     \
    do {                                                                  \
        if (lst) {                                                        \
            for (int t_ = 0; t_ < n; t_++) {                              \
                int j = (int)lst[t_];                                     \
                __VA_ARGS__                                               \
            }                                                             \
        } else {                                                          \
            for (int j = 0; j < n; j++) {                                 \
                __VA_ARGS__                                               \
            }                                                             \
        }                                                                 \
    } while (0)

/* ---- private helpers ------------------------------------------------------ */

static uint32_t slot_mask(const Vector *v)
{
    return v && v->kind == VECTOR_CONSTANT ? 0 : UINT32_MAX;
}

/* The kept rows j whose FILTER column (f, may be NULL) is TRUE and whose
 * vectors a and b (may be NULL) are not NULL, as indexes into op->sub;
 * NULL when that is every row. */
static const uint32_t *pass_list(AggOp *op, const Vector *f, const Vector *a, const Vector *b,
                                 int m, int *n)
{
    const uint64_t *av = a ? a->validity : NULL, *bv = b ? b->validity : NULL;
    if (!f && !av && !bv) {
        *n = m;
        return NULL;
    }
    const uint32_t  am = slot_mask(a), bm = slot_mask(b), fm = slot_mask(f);
    const uint8_t  *fd = f ? vector_bool(f) : NULL;
    const uint64_t *fv = f ? f->validity : NULL;
    const uint32_t *rows = op->rows;
    uint32_t       *sub = op->sub;
    int             k = 0;
    for (int j = 0; j < m; j++) {
        uint32_t r = rows[j];
        int      ok = vector_validity_get(av, (int)(r & am)) & vector_validity_get(bv, (int)(r & bm));
        if (f) ok &= vector_validity_get(fv, (int)(r & fm)) && fd[r & fm];
        sub[k] = (uint32_t)j;
        k += ok;
    }
    *n = k;
    return sub;
}

static inline void sumi_sub(SumI *s, int64_t x)
{
    uint64_t ux = (uint64_t)x, lo = s->lo - ux;
    s->hi -= (uint64_t)(x >> 63) + (s->lo < ux);
    s->lo = lo;
    s->seen = 1;
}

/* with retract: the count of live non-NULL inputs after the SumI */
#define SUMI_N(s) (*(int64_t *)((uint8_t *)(s) + sizeof(SumI)))
#define SUMI_NC(s) (*(const int64_t *)((const uint8_t *)(s) + sizeof(SumI)))

static inline void sumi_add(SumI *s, int64_t x)
{
    uint64_t ux = (uint64_t)x, lo = s->lo + ux;
    s->hi += (uint64_t)(x >> 63) + (lo < ux);
    s->lo = lo;
    s->seen = 1;
}

/* the int64 value of a 128-bit sum; 0 when it does not fit (INT64_MIN excluded) */
static int sumi_fits(const SumI *s, int64_t *v)
{
    uint64_t sign = (uint64_t)((int64_t)s->lo >> 63);
    if (s->ovf || s->hi != sign || s->lo == (uint64_t)INT64_MIN) return 0;
    *v = (int64_t)s->lo;
    return 1;
}

/* DOUBLE order for MIN/MAX: NaN above everything */
static inline int f64_less(double a, double b)
{
    return a < b || (b != b && a == a);
}

static int mins_set(MinS *s, Arena *heap, const char *p, uint32_t len)
{
    if (!s->p || len > s->cap) {
        uint32_t cap = s->cap * 2 > len ? s->cap * 2 : len;
        if (cap < 8) cap = 8;
        char *np = arena_alloc_bytes(heap, cap);
        if (!np) return -1;
        s->p = np;
        s->cap = cap;
    }
    if (len) memmove(s->p, p, len);
    s->len = len;
    return 0;
}

static Str mins_str(const MinS *s)
{
    Str r = {s->p, s->len};
    return r;
}

static uint8_t *hll_regs(uint8_t **preg, Arena *heap)
{
    if (!*preg) {
        *preg = arena_alloc(heap, HLL_M);
        if (*preg) memset(*preg, 0, HLL_M);
    }
    return *preg;
}

/* value hash for HLL: the GROUP BY hash of the value */
static inline uint64_t hll_hash_i64(int64_t x) { return hash_i64(x); }

/* ---- row updates (SIMPLE / PARTIAL) -------------------------------------------- */

static int update_minmax(AggOp *op, const AggDesc *d, const Vector *v, const uint32_t *lst, int n)
{
    uint8_t *const *gp = op->gp;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    const int       mx = d->fn == AGGFN_MAX;
    switch (d->vtype) {
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        const int64_t *x = vector_i64(v);
        if (mx)
            FOR_PASS(MinI *s = ST(MinI, j); int64_t y = x[rows[j] & am];
                     if (!s->seen || y > s->v) { s->v = y; s->seen = 1; });
        else
            FOR_PASS(MinI *s = ST(MinI, j); int64_t y = x[rows[j] & am];
                     if (!s->seen || y < s->v) { s->v = y; s->seen = 1; });
        return 0;
    }
    case TYPE_BOOLEAN: {
        const uint8_t *x = vector_bool(v);
        if (mx)
            FOR_PASS(MinI *s = ST(MinI, j); int64_t y = x[rows[j] & am] != 0;
                     if (!s->seen || y > s->v) { s->v = y; s->seen = 1; });
        else
            FOR_PASS(MinI *s = ST(MinI, j); int64_t y = x[rows[j] & am] != 0;
                     if (!s->seen || y < s->v) { s->v = y; s->seen = 1; });
        return 0;
    }
    case TYPE_DOUBLE: {
        const double *x = vector_f64(v);
        if (mx)
            FOR_PASS(MinD *s = ST(MinD, j); double y = x[rows[j] & am];
                     if (!s->seen || f64_less(s->v, y)) { s->v = y; s->seen = 1; });
        else
            FOR_PASS(MinD *s = ST(MinD, j); double y = x[rows[j] & am];
                     if (!s->seen || f64_less(y, s->v)) { s->v = y; s->seen = 1; });
        return 0;
    }
    case TYPE_VARCHAR: {
        const Str *x = vector_str(v);
        Arena    **heaps = op->heaps;
        int        bad = 0;
        FOR_PASS(MinS *s = ST(MinS, j); Str y = x[rows[j] & am];
                 if (!s->p || (mx ? str_cmp(y, mins_str(s)) > 0 : str_cmp(y, mins_str(s)) < 0))
                     bad |= mins_set(s, heaps[j], y.ptr, y.len););
        return bad ? agg_fail(op, "out of memory") : 0;
    }
    default:
        return agg_fail(op, "MIN/MAX of %s", sql_type_name(d->vtype));
    }
}

static int update_distinct(AggOp *op, const AggDesc *d, const Vector *v, const uint32_t *lst,
                           int n)
{
    uint8_t *const *gp = op->gp;
    Arena **heaps = op->heaps;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    const SqlType   t = d->vtype;
    int             bad = 0;
    switch (t) {
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        const int64_t *x = vector_i64(v);
        FOR_PASS(bad |= dset_add(ST(DSet *, j), heaps[j], t, (uint64_t)x[rows[j] & am], NULL, 0););
        break;
    }
    case TYPE_BOOLEAN: {
        const uint8_t *x = vector_bool(v);
        FOR_PASS(bad |= dset_add(ST(DSet *, j), heaps[j], t, x[rows[j] & am] != 0, NULL, 0););
        break;
    }
    case TYPE_DOUBLE: {
        const double *x = vector_f64(v);
        FOR_PASS(bad |= dset_add(ST(DSet *, j), heaps[j], t, agg_f64_bits(x[rows[j] & am]), NULL, 0););
        break;
    }
    case TYPE_VARCHAR: {
        const Str *x = vector_str(v);
        FOR_PASS(Str y = x[rows[j] & am]; bad |= dset_add(ST(DSet *, j), heaps[j], t, 0, y.ptr, y.len););
        break;
    }
    default:
        return agg_fail(op, "COUNT(DISTINCT) of %s", sql_type_name(t));
    }
    return bad ? agg_fail(op, "out of memory") : 0;
}

static int update_hll(AggOp *op, const AggDesc *d, const Vector *v, const uint32_t *lst, int n)
{
    uint8_t *const *gp = op->gp;
    Arena **heaps = op->heaps;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    int             bad = 0;
#define HLL_LOOP(HASH)                                                         \
    FOR_PASS(uint8_t *reg = hll_regs(ST(uint8_t *, j), heaps[j]);              \
             if (!reg) { bad = 1; continue; } hll_add_hash(reg, HASH);)
    switch (d->vtype) {
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: {
        const int64_t *x = vector_i64(v);
        HLL_LOOP(hll_hash_i64(x[rows[j] & am]));
        break;
    }
    case TYPE_BOOLEAN: {
        const uint8_t *x = vector_bool(v);
        HLL_LOOP(hll_hash_i64(x[rows[j] & am] != 0));
        break;
    }
    case TYPE_DOUBLE: {
        const double *x = vector_f64(v);
        HLL_LOOP(hash_f64(x[rows[j] & am]));
        break;
    }
    case TYPE_VARCHAR: {
        const Str *x = vector_str(v);
        HLL_LOOP(hash_str(x[rows[j] & am]));
        break;
    }
    default:
        return agg_fail(op, "APPROX_COUNT_DISTINCT of %s", sql_type_name(d->vtype));
    }
#undef HLL_LOOP
    return bad ? agg_fail(op, "out of memory") : 0;
}

/* update_rows under retract: row j adds (sign +1) or retracts (-1) */
static int update_rows_signed(AggOp *op, const AggDesc *d, const Vector *v, const uint32_t *lst,
                              int n)
{
    uint8_t *const *gp = op->gp;
    const int8_t   *sg = op->sign;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT:
        FOR_PASS(*ST(int64_t, j) += sg[j];);
        return 0;
    case AGGFN_SUM:
        if (d->vtype == TYPE_DOUBLE) {
            const double *x = vector_f64(v);
            FOR_PASS(SumD *s = ST(SumD, j); double y = x[rows[j] & am];
                     s->s += sg[j] < 0 ? -y : y; s->seen += sg[j];);
        } else {
            const int64_t *x = vector_i64(v);
            FOR_PASS(SumI *s = ST(SumI, j); int64_t y = x[rows[j] & am];
                     if (sg[j] < 0) sumi_sub(s, y); else sumi_add(s, y);
                     SUMI_N(s) += sg[j];);
        }
        return 0;
    case AGGFN_AVG:
        if (d->vtype == TYPE_DOUBLE) {
            const double *x = vector_f64(v);
            FOR_PASS(AvgS *s = ST(AvgS, j); double y = x[rows[j] & am];
                     s->s += sg[j] < 0 ? -y : y; s->n += sg[j];);
        } else {
            const int64_t *x = vector_i64(v);
            FOR_PASS(AvgS *s = ST(AvgS, j); double y = (double)x[rows[j] & am];
                     s->s += sg[j] < 0 ? -y : y; s->n += sg[j];);
        }
        return 0;
    default:   /* refused by agg_op_new */
        return agg_fail(op, "aggregate %d cannot take retractions", (int)d->fn);
    }
}

static int update_rows(AggOp *op, const AggDesc *d, const Batch *in, int m)
{
    const Vector   *v = d->arg >= 0 ? &in->cols[d->arg] : NULL;
    const Vector   *f = d->filter >= 0 ? &in->cols[d->filter] : NULL;
    int             n;
    const uint32_t *lst = pass_list(op, f, v, NULL, m, &n);
    uint8_t *const *gp = op->gp;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    if (n == 0) return 0;

    if (d->retract) return update_rows_signed(op, d, v, lst, n);
    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT:
        FOR_PASS((*ST(int64_t, j))++;);
        return 0;
    case AGGFN_SUM:
        if (d->vtype == TYPE_DOUBLE) {
            const double *x = vector_f64(v);
            FOR_PASS(SumD *s = ST(SumD, j); s->s += x[rows[j] & am]; s->seen = 1;);
        } else {
            const int64_t *x = vector_i64(v);
            FOR_PASS(sumi_add(ST(SumI, j), x[rows[j] & am]););
        }
        return 0;
    case AGGFN_AVG:
        if (d->vtype == TYPE_DOUBLE) {
            const double *x = vector_f64(v);
            FOR_PASS(AvgS *s = ST(AvgS, j); s->s += x[rows[j] & am]; s->n++;);
        } else {
            const int64_t *x = vector_i64(v);
            FOR_PASS(AvgS *s = ST(AvgS, j); s->s += (double)x[rows[j] & am]; s->n++;);
        }
        return 0;
    case AGGFN_MIN:
    case AGGFN_MAX:
        return update_minmax(op, d, v, lst, n);
    case AGGFN_COUNT_DISTINCT:
        return update_distinct(op, d, v, lst, n);
    case AGGFN_APPROX_COUNT_DISTINCT:
        return update_hll(op, d, v, lst, n);
    }
    return agg_fail(op, "unknown aggregate %d", (int)d->fn);
}

/* ---- partial-state merges (FINAL) --------------------------------------------- */

static int update_partial(AggOp *op, const AggDesc *d, const Batch *in, int m)
{
    const Vector   *v = &in->cols[d->arg];
    const Vector   *v2 = d->fn == AGGFN_AVG || (d->fn == AGGFN_SUM && d->retract)
                             ? &in->cols[d->arg + 1]
                             : NULL;
    int             n;
    const uint32_t *lst = pass_list(op, NULL, v, v2, m, &n);
    uint8_t *const *gp = op->gp;
    Arena         **heaps = op->heaps;
    const uint32_t *rows = op->rows, off = d->off, am = slot_mask(v);
    if (n == 0) return 0;

    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT: {
        const int64_t *x = vector_i64(v);
        FOR_PASS(*ST(int64_t, j) += x[rows[j] & am];);
        return 0;
    }
    case AGGFN_SUM:
        if (d->retract) {
            const int64_t *c = vector_i64(v2);
            const uint32_t cm = slot_mask(v2);
            if (d->vtype == TYPE_DOUBLE) {
                const double *x = vector_f64(v);
                FOR_PASS(SumD *s = ST(SumD, j); s->s += x[rows[j] & am]; s->seen += c[rows[j] & cm];);
            } else {
                const int64_t *x = vector_i64(v);
                FOR_PASS(SumI *s = ST(SumI, j); int64_t y = x[rows[j] & am];
                         if (y == INT64_MIN) { s->ovf = 1; s->seen = 1; } else sumi_add(s, y);
                         SUMI_N(s) += c[rows[j] & cm];);
            }
            return 0;
        }
        if (d->vtype == TYPE_DOUBLE) {
            const double *x = vector_f64(v);
            FOR_PASS(SumD *s = ST(SumD, j); s->s += x[rows[j] & am]; s->seen = 1;);
        } else {
            const int64_t *x = vector_i64(v);
            FOR_PASS(SumI *s = ST(SumI, j); int64_t y = x[rows[j] & am];
                     if (y == INT64_MIN) { s->ovf = 1; s->seen = 1; } else sumi_add(s, y););
        }
        return 0;
    case AGGFN_AVG: {
        const double  *x = vector_f64(v);
        const int64_t *c = vector_i64(v2);
        const uint32_t cm = slot_mask(v2);
        FOR_PASS(AvgS *s = ST(AvgS, j); s->s += x[rows[j] & am]; s->n += c[rows[j] & cm];);
        return 0;
    }
    case AGGFN_MIN:
    case AGGFN_MAX:
        return update_minmax(op, d, v, lst, n);
    case AGGFN_COUNT_DISTINCT: {
        const Str *x = vector_str(v);
        int        bad = 0;
        FOR_PASS(Str y = x[rows[j] & am];
                 bad |= dset_merge_encoded(ST(DSet *, j), heaps[j], (const uint8_t *)y.ptr, y.len););
        return bad ? agg_fail(op, "malformed COUNT(DISTINCT) partial state (or out of memory)") : 0;
    }
    case AGGFN_APPROX_COUNT_DISTINCT: {
        const Str *x = vector_str(v);
        int        bad = 0;
        FOR_PASS(Str y = x[rows[j] & am]; uint8_t *reg = hll_regs(ST(uint8_t *, j), heaps[j]);
                 if (!reg) { bad = 1; continue; }
                 bad |= hll_merge_serialized(reg, (const uint8_t *)y.ptr, y.len););
        return bad ? agg_fail(op, "malformed APPROX_COUNT_DISTINCT partial state (or out of memory)")
                   : 0;
    }
    }
    return agg_fail(op, "unknown aggregate %d", (int)d->fn);
}

/* ---- output helpers -------------------------------------------------------------- */

static int out_str(Vector *v, int i, const char *p, uint32_t len)
{
    return vector_set_str(v, i, p, len);
}

/* ---- API ------------------------------------------------------------------------ */

uint32_t agg_state_size(const AggDesc *d)
{
    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT:
        return sizeof(int64_t);
    case AGGFN_SUM:
        return d->vtype == TYPE_DOUBLE ? sizeof(SumD)
                                       : (uint32_t)sizeof(SumI) + (d->retract ? 8u : 0u);
    case AGGFN_AVG:
        return sizeof(AvgS);
    case AGGFN_MIN:
    case AGGFN_MAX:
        return d->vtype == TYPE_VARCHAR ? sizeof(MinS) : sizeof(MinI);
    case AGGFN_COUNT_DISTINCT:
        return sizeof(DSet *);
    case AGGFN_APPROX_COUNT_DISTINCT:
        return sizeof(uint8_t *);
    }
    return 0;
}

int agg_partial_types(const AggDesc *d, SqlType *pt)
{
    SqlType t[2];
    int     n = 1;
    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT:
        t[0] = TYPE_BIGINT;
        break;
    case AGGFN_AVG:
        t[0] = TYPE_DOUBLE;
        t[1] = TYPE_BIGINT;
        n = 2;
        break;
    case AGGFN_COUNT_DISTINCT:
    case AGGFN_APPROX_COUNT_DISTINCT:
        t[0] = TYPE_VARCHAR;
        break;
    case AGGFN_SUM:
        t[0] = d->out_type;
        t[1] = TYPE_BIGINT;   /* retract: live non-NULL inputs */
        n = d->retract ? 2 : 1;
        break;
    default:
        t[0] = d->out_type;
        break;
    }
    if (pt) memcpy(pt, t, (size_t)n * sizeof *t);
    return n;
}

/* ---- result areas (update_before) ----------------------------------------------- */

typedef struct ResV { uint64_t bits, valid; } ResV;

int agg_res_save(AggOp *op, uint8_t *res, Arena *heap, const Batch *out, int col0, int i)
{
    for (int a = 0; a < op->naggs; a++) {
        const Vector *v = &out->cols[col0 + a];
        uint8_t      *x = res + (size_t)a * AGG_RES_SLOT;
        int           slot = vector_index(v, i);
        int           null = v->type == TYPE_NULL || !vector_validity_get(v->validity, slot);
        switch (op->ad[a].out_type) {
        case TYPE_VARCHAR: {
            MinS *m = (MinS *)x;
            if (null) {
                m->p = NULL;
                m->cap = m->len = 0;
            } else {
                Str y = vector_str(v)[slot];
                if (mins_set(m, heap, y.ptr, y.len) < 0) return agg_fail(op, "out of memory");
            }
            break;
        }
        case TYPE_DOUBLE: {
            ResV *r = (ResV *)x;
            if (!null) memcpy(&r->bits, &vector_f64(v)[slot], 8);
            r->valid = !null;
            break;
        }
        case TYPE_BOOLEAN: {
            ResV *r = (ResV *)x;
            if (!null) r->bits = vector_bool(v)[slot] != 0;
            r->valid = !null;
            break;
        }
        default: {
            ResV *r = (ResV *)x;
            if (!null) r->bits = (uint64_t)vector_i64(v)[slot];
            r->valid = !null;
            break;
        }
        }
    }
    return 0;
}

int agg_res_output(AggOp *op, Batch *out, int col0, const EmitRow *er, int n)
{
    for (int a = 0; a < op->naggs; a++) {
        Vector       *v = &out->cols[col0 + a];
        const SqlType t = op->ad[a].out_type;
        for (int i = 0; i < n; i++) {
            if (!er[i].res) continue;
            const uint8_t *x = er[i].res + (size_t)a * AGG_RES_SLOT;
            if (t == TYPE_VARCHAR) {
                const MinS *m = (const MinS *)x;
                if (!m->p) vector_set_null(v, i);
                else if (vector_set_str(v, i, m->p, m->len) < 0) return agg_fail(op, "out of memory");
                continue;
            }
            const ResV *r = (const ResV *)x;
            if (!r->valid) {
                vector_set_null(v, i);
                continue;
            }
            if (t == TYPE_DOUBLE) memcpy(&vector_f64(v)[i], &r->bits, 8);
            else if (t == TYPE_BOOLEAN) vector_bool(v)[i] = (uint8_t)r->bits;
            else vector_i64(v)[i] = (int64_t)r->bits;
            vector_set_valid(v, i);
        }
    }
    return 0;
}

/* Checkpoint encoding of a result area, per aggregate: u8 valid; when
 * valid: VARCHAR varint length + bytes, DOUBLE u64le bits, BOOLEAN u8,
 * others zigzag varint. */
void agg_res_snap_put(const AggOp *op, const uint8_t *res, SnapBuf *b)
{
    for (int a = 0; a < op->naggs; a++) {
        const uint8_t *x = res + (size_t)a * AGG_RES_SLOT;
        const SqlType  t = op->ad[a].out_type;
        if (t == TYPE_VARCHAR) {
            const MinS *m = (const MinS *)x;
            snap_put_u8(b, m->p != NULL);
            if (m->p) {
                snap_put_varint(b, m->len);
                snap_put_bytes(b, m->p, m->len);
            }
            continue;
        }
        const ResV *r = (const ResV *)x;
        snap_put_u8(b, r->valid != 0);
        if (!r->valid) continue;
        if (t == TYPE_DOUBLE) snap_put_u64le(b, r->bits);
        else if (t == TYPE_BOOLEAN) snap_put_u8(b, (uint8_t)r->bits);
        else snap_put_i64(b, (int64_t)r->bits);
    }
}

int agg_res_snap_get(AggOp *op, uint8_t *res, Arena *heap, SnapRd *r)
{
    for (int a = 0; a < op->naggs; a++) {
        uint8_t      *x = res + (size_t)a * AGG_RES_SLOT;
        const SqlType t = op->ad[a].out_type;
        uint8_t       f;
        if (snap_get_u8(r, &f) < 0) return agg_fail(op, "restore: truncated emitted values");
        if (f > 1) return agg_fail(op, "restore: malformed emitted values");
        if (!f) continue;
        if (t == TYPE_VARCHAR) {
            uint64_t       len;
            const uint8_t *p;
            if (snap_get_varint(r, &len) < 0 || len > UINT32_MAX ||
                snap_get_bytes(r, (size_t)len, &p) < 0)
                return agg_fail(op, "restore: truncated emitted values");
            if (mins_set((MinS *)x, heap, (const char *)p, (uint32_t)len) < 0)
                return agg_fail(op, "out of memory");
            continue;
        }
        ResV *v = (ResV *)x;
        if (t == TYPE_DOUBLE) {
            if (snap_get_u64le(r, &v->bits) < 0) return agg_fail(op, "restore: truncated emitted values");
        } else if (t == TYPE_BOOLEAN) {
            uint8_t bb;
            if (snap_get_u8(r, &bb) < 0 || bb > 1) return agg_fail(op, "restore: malformed emitted values");
            v->bits = bb;
        } else {
            int64_t y;
            if (snap_get_i64(r, &y) < 0) return agg_fail(op, "restore: truncated emitted values");
            v->bits = (uint64_t)y;
        }
        v->valid = 1;
    }
    return 0;
}

/* Checkpoint encoding, per aggregate (see agg_snapshot.c):
 *   COUNT                 zigzag varint n
 *   SUM BIGINT/INTERVAL   u8 flags (1 seen, 2 overflow); when seen: zigzag
 *                         varints lo, hi (the 128-bit accumulator)
 *   SUM DOUBLE            u8 seen; when seen: u64le bits
 *   AVG                   u64le bits of the sum, zigzag varint count
 *   MIN/MAX int64, BOOL   u8 seen; when seen: zigzag varint
 *   MIN/MAX DOUBLE        u8 seen; when seen: u64le bits
 *   MIN/MAX VARCHAR       u8 set; when set: varint length, bytes
 *   COUNT(DISTINCT)       u8 set; when set: dset_snap_put
 *   APPROX_COUNT_DISTINCT u8 set; when set: varint length, hll_serialize
 * With retract: SUM BIGINT/INTERVAL is followed by zigzag n (live non-NULL
 * inputs); SUM DOUBLE is u64le bits, zigzag n (always both); after the
 * last aggregate, zigzag the hidden live-row count.
 */
void agg_state_snap_put(const AggOp *op, const uint8_t *st, SnapBuf *b)
{
    for (int a = 0; a < op->naggs; a++) {
        const AggDesc *d = &op->ad[a];
        const uint8_t *x = st + d->off;
        switch (d->fn) {
        case AGGFN_COUNT_STAR:
        case AGGFN_COUNT:
            snap_put_i64(b, *(const int64_t *)x);
            break;
        case AGGFN_SUM:
            if (d->retract && d->vtype == TYPE_DOUBLE) {
                const SumD *s = (const SumD *)x;
                uint64_t    bits;
                memcpy(&bits, &s->s, 8);
                snap_put_u64le(b, bits);
                snap_put_i64(b, s->seen);
            } else if (d->vtype == TYPE_DOUBLE) {
                const SumD *s = (const SumD *)x;
                snap_put_u8(b, s->seen != 0);
                if (s->seen) {
                    uint64_t bits;
                    memcpy(&bits, &s->s, 8);
                    snap_put_u64le(b, bits);
                }
            } else {
                const SumI *s = (const SumI *)x;
                snap_put_u8(b, (uint8_t)((s->seen ? 1 : 0) | (s->ovf ? 2 : 0)));
                if (s->seen) {
                    snap_put_i64(b, (int64_t)s->lo);
                    snap_put_i64(b, (int64_t)s->hi);
                }
                if (d->retract) snap_put_i64(b, SUMI_NC(s));
            }
            break;
        case AGGFN_AVG: {
            const AvgS *s = (const AvgS *)x;
            uint64_t    bits;
            memcpy(&bits, &s->s, 8);
            snap_put_u64le(b, bits);
            snap_put_i64(b, s->n);
            break;
        }
        case AGGFN_MIN:
        case AGGFN_MAX:
            if (d->vtype == TYPE_VARCHAR) {
                const MinS *s = (const MinS *)x;
                snap_put_u8(b, s->p != NULL);
                if (s->p) {
                    snap_put_varint(b, s->len);
                    snap_put_bytes(b, s->p, s->len);
                }
            } else if (d->vtype == TYPE_DOUBLE) {
                const MinD *s = (const MinD *)x;
                snap_put_u8(b, s->seen != 0);
                if (s->seen) {
                    uint64_t bits;
                    memcpy(&bits, &s->v, 8);
                    snap_put_u64le(b, bits);
                }
            } else {
                const MinI *s = (const MinI *)x;
                snap_put_u8(b, s->seen != 0);
                if (s->seen) snap_put_i64(b, s->v);
            }
            break;
        case AGGFN_COUNT_DISTINCT: {
            const DSet *s = *(DSet *const *)x;
            snap_put_u8(b, s != NULL);
            if (s) dset_snap_put(s, b);
            break;
        }
        case AGGFN_APPROX_COUNT_DISTINCT: {
            const uint8_t *reg = *(uint8_t *const *)x;
            uint8_t        blob[HLL_MAX_BLOB];
            snap_put_u8(b, reg != NULL);
            if (reg) {
                size_t n = hll_serialize(reg, blob);
                snap_put_varint(b, n);
                snap_put_bytes(b, blob, n);
            }
            break;
        }
        }
    }
    if (op->retract) snap_put_i64(b, *(const int64_t *)(st + op->cnt_off));
}

int agg_state_snap_get(AggOp *op, uint8_t *st, Arena *heap, SnapRd *r)
{
    for (int a = 0; a < op->naggs; a++) {
        const AggDesc *d = &op->ad[a];
        uint8_t       *x = st + d->off;
        uint8_t        f = 0;
        uint64_t       u;
        switch (d->fn) {
        case AGGFN_COUNT_STAR:
        case AGGFN_COUNT:
            if (snap_get_i64(r, (int64_t *)x) < 0) goto truncated;
            break;
        case AGGFN_SUM:
            if (d->retract && d->vtype == TYPE_DOUBLE) {
                SumD *s = (SumD *)x;
                if (snap_get_u64le(r, &u) < 0 || snap_get_i64(r, &s->seen) < 0) goto truncated;
                memcpy(&s->s, &u, 8);
                break;
            }
            if (snap_get_u8(r, &f) < 0) goto truncated;
            if (d->vtype == TYPE_DOUBLE) {
                SumD *s = (SumD *)x;
                if (f > 1) goto bad;
                if (f && snap_get_u64le(r, &u) < 0) goto truncated;
                if (f) memcpy(&s->s, &u, 8);
                s->seen = f;
            } else {
                SumI   *s = (SumI *)x;
                int64_t lo = 0, hi = 0;
                if (f > 3 || f == 2) goto bad;   /* overflow implies seen */
                if (f && (snap_get_i64(r, &lo) < 0 || snap_get_i64(r, &hi) < 0)) goto truncated;
                s->lo = (uint64_t)lo;
                s->hi = (uint64_t)hi;
                s->seen = f & 1;
                s->ovf = f >> 1;
                if (d->retract && snap_get_i64(r, &SUMI_N(s)) < 0) goto truncated;
            }
            break;
        case AGGFN_AVG: {
            AvgS *s = (AvgS *)x;
            if (snap_get_u64le(r, &u) < 0 || snap_get_i64(r, &s->n) < 0) goto truncated;
            memcpy(&s->s, &u, 8);
            break;
        }
        case AGGFN_MIN:
        case AGGFN_MAX:
            if (snap_get_u8(r, &f) < 0) goto truncated;
            if (f > 1) goto bad;
            if (!f) break;
            if (d->vtype == TYPE_VARCHAR) {
                const uint8_t *p;
                if (snap_get_varint(r, &u) < 0 || u > UINT32_MAX || snap_get_bytes(r, (size_t)u, &p) < 0)
                    goto truncated;
                if (mins_set((MinS *)x, heap, (const char *)p, (uint32_t)u) < 0) goto oom;
            } else if (d->vtype == TYPE_DOUBLE) {
                MinD *s = (MinD *)x;
                if (snap_get_u64le(r, &u) < 0) goto truncated;
                memcpy(&s->v, &u, 8);
                s->seen = 1;
            } else {
                MinI *s = (MinI *)x;
                if (snap_get_i64(r, &s->v) < 0) goto truncated;
                if (d->vtype == TYPE_BOOLEAN && (s->v < 0 || s->v > 1)) goto bad;
                s->seen = 1;
            }
            break;
        case AGGFN_COUNT_DISTINCT:
            if (snap_get_u8(r, &f) < 0) goto truncated;
            if (f > 1) goto bad;
            if (f && dset_snap_get((DSet **)x, heap, op->phase == AGG_PHASE_FINAL ? TYPE_NULL : d->vtype,
                                   r) < 0)
                return agg_fail(op, "restore: aggregate %d: malformed COUNT(DISTINCT) set", a);
            break;
        case AGGFN_APPROX_COUNT_DISTINCT: {
            const uint8_t *p;
            if (snap_get_u8(r, &f) < 0) goto truncated;
            if (f > 1) goto bad;
            if (!f) break;
            if (snap_get_varint(r, &u) < 0 || u > HLL_MAX_BLOB || snap_get_bytes(r, (size_t)u, &p) < 0)
                goto truncated;
            uint8_t *reg = hll_regs((uint8_t **)x, heap);
            if (!reg) goto oom;
            if (hll_merge_serialized(reg, p, (size_t)u) < 0)
                return agg_fail(op, "restore: aggregate %d: malformed HyperLogLog sketch", a);
            break;
        }
        }
        continue;
    truncated:
        return agg_fail(op, "restore: aggregate %d: truncated state", a);
    bad:
        return agg_fail(op, "restore: aggregate %d: malformed state", a);
    oom:
        return agg_fail(op, "out of memory");
    }
    if (op->retract && snap_get_i64(r, (int64_t *)(st + op->cnt_off)) < 0)
        return agg_fail(op, "restore: truncated row count");
    return 0;
}

int agg_state_update(AggOp *op, const AggDesc *d, const Batch *in, int m)
{
    return op->phase == AGG_PHASE_FINAL ? update_partial(op, d, in, m) : update_rows(op, d, in, m);
}

int agg_state_merge(AggOp *op, uint8_t *dst, const uint8_t *src, Arena *heap)
{
    for (int a = 0; a < op->naggs; a++) {
        const AggDesc *d = &op->ad[a];
        uint8_t       *x = dst + d->off;
        const uint8_t *y = src + d->off;
        switch (d->fn) {
        case AGGFN_COUNT_STAR:
        case AGGFN_COUNT:
            *(int64_t *)x += *(const int64_t *)y;
            break;
        case AGGFN_SUM:
            if (d->vtype == TYPE_DOUBLE) {
                SumD *s = (SumD *)x;
                const SumD *t = (const SumD *)y;
                s->s += t->s;
                s->seen |= t->seen;
            } else {
                SumI *s = (SumI *)x;
                const SumI *t = (const SumI *)y;
                uint64_t lo = s->lo + t->lo;
                s->hi += t->hi + (lo < t->lo);
                s->lo = lo;
                s->seen |= t->seen;
                s->ovf |= t->ovf;
            }
            break;
        case AGGFN_AVG: {
            AvgS *s = (AvgS *)x;
            const AvgS *t = (const AvgS *)y;
            s->s += t->s;
            s->n += t->n;
            break;
        }
        case AGGFN_MIN:
        case AGGFN_MAX: {
            int mx = d->fn == AGGFN_MAX;
            if (d->vtype == TYPE_VARCHAR) {
                MinS *s = (MinS *)x;
                const MinS *t = (const MinS *)y;
                if (!t->p) break;
                int c = s->p ? str_cmp(mins_str(t), mins_str(s)) : 0;
                if ((!s->p || (mx ? c > 0 : c < 0)) && mins_set(s, heap, t->p, t->len) < 0)
                    return agg_fail(op, "out of memory");
            } else if (d->vtype == TYPE_DOUBLE) {
                MinD *s = (MinD *)x;
                const MinD *t = (const MinD *)y;
                if (t->seen && (!s->seen || (mx ? f64_less(s->v, t->v) : f64_less(t->v, s->v))))
                    *s = *t;
            } else {
                MinI *s = (MinI *)x;
                const MinI *t = (const MinI *)y;
                if (t->seen && (!s->seen || (mx ? t->v > s->v : t->v < s->v))) *s = *t;
            }
            break;
        }
        case AGGFN_COUNT_DISTINCT:
            if (dset_union((DSet **)x, heap, *(DSet *const *)y) < 0)
                return agg_fail(op, "out of memory");
            break;
        case AGGFN_APPROX_COUNT_DISTINCT: {
            const uint8_t *t = *(uint8_t *const *)y;
            if (!t) break;
            uint8_t *reg = hll_regs((uint8_t **)x, heap);
            if (!reg) return agg_fail(op, "out of memory");
            hll_merge(reg, t);
            break;
        }
        }
    }
    return 0;
}

int agg_state_relocate(const AggOp *op, uint8_t *st, Arena *to)
{
    for (int a = 0; a < op->naggs; a++) {
        const AggDesc *d = &op->ad[a];
        uint8_t       *x = st + d->off;
        switch (d->fn) {
        case AGGFN_MIN:
        case AGGFN_MAX:
            if (d->vtype == TYPE_VARCHAR) {
                MinS *s = (MinS *)x;
                if (!s->p) break;
                uint32_t cap = s->len ? s->len : 1;
                char    *np = arena_alloc_bytes(to, cap);
                if (!np) return -1;
                if (s->len) memcpy(np, s->p, s->len);
                s->p = np;
                s->cap = cap;
            }
            break;
        case AGGFN_COUNT_DISTINCT:
            if (dset_relocate((DSet **)x, to) < 0) return -1;
            break;
        case AGGFN_APPROX_COUNT_DISTINCT: {
            uint8_t **reg = (uint8_t **)x;
            if (!*reg) break;
            uint8_t *nr = arena_alloc(to, HLL_M);
            if (!nr) return -1;
            memcpy(nr, *reg, HLL_M);
            *reg = nr;
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

/* SUM under retract. Result: NULL when no live non-NULL input (n == 0) or
 * the total does not fit; partial: the sum (INT64_MIN: overflowed) and n,
 * never NULL (0, 0 is the empty state: partial counts may be negative) */
static int output_sum_retract(AggOp *op, const AggDesc *d, Batch *out, int col, const EmitRow *er,
                              int n)
{
    Vector        *v = &out->cols[col];
    Vector        *vc = op->phase == AGG_PHASE_PARTIAL ? &out->cols[col + 1] : NULL;
    const uint32_t off = d->off;
    for (int i = 0; i < n; i++) {
        if (!er[i].st) {
            vector_set_null(v, i);
            if (vc) vector_set_null(vc, i);
            continue;
        }
        const uint8_t *x = er[i].st + off;
        int64_t        cnt, y;
        if (d->vtype == TYPE_DOUBLE) {
            const SumD *s = (const SumD *)x;
            cnt = s->seen;
            if (vc || cnt) vector_f64(v)[i] = s->s;
            else vector_set_null(v, i);
        } else {
            const SumI *s = (const SumI *)x;
            cnt = SUMI_NC(s);
            if (sumi_fits(s, &y) && (vc || cnt)) vector_i64(v)[i] = y;
            else if (vc) vector_i64(v)[i] = INT64_MIN;
            else vector_set_null(v, i);
        }
        if (vc) vector_i64(vc)[i] = cnt;
    }
    return 0;
}

int agg_state_output(AggOp *op, const AggDesc *d, Batch *out, int col, const EmitRow *er, int n)
{
    Vector        *v = &out->cols[col];
    const uint32_t off = d->off;
    const int      partial = op->phase == AGG_PHASE_PARTIAL;
#define EACH_ROW(...)                                                 \
    for (int i = 0; i < n; i++) {                                     \
        if (!er[i].st) {                                              \
            vector_set_null(v, i);                                    \
            continue;                                                 \
        }                                                             \
        const uint8_t *x = er[i].st + off;                            \
        __VA_ARGS__                                                   \
    }

    switch (d->fn) {
    case AGGFN_COUNT_STAR:
    case AGGFN_COUNT: {
        int64_t *o = vector_i64(v);
        EACH_ROW(o[i] = *(const int64_t *)x;);
        return 0;
    }
    case AGGFN_SUM:
        if (d->retract) return output_sum_retract(op, d, out, col, er, n);
        if (d->vtype == TYPE_DOUBLE) {
            double *o = vector_f64(v);
            EACH_ROW(const SumD *s = (const SumD *)x;
                     if (s->seen) o[i] = s->s; else vector_set_null(v, i););
        } else {
            int64_t *o = vector_i64(v);
            EACH_ROW(const SumI *s = (const SumI *)x; int64_t y;
                     if (!s->seen) vector_set_null(v, i);
                     else if (sumi_fits(s, &y)) o[i] = y;
                     else if (partial) o[i] = INT64_MIN;
                     else vector_set_null(v, i););
        }
        return 0;
    case AGGFN_AVG:
        if (partial) {
            Vector  *vc = &out->cols[col + 1];
            double  *o = vector_f64(v);
            int64_t *c = vector_i64(vc);
            for (int i = 0; i < n; i++) {
                if (!er[i].st) {
                    vector_set_null(v, i);
                    vector_set_null(vc, i);
                    continue;
                }
                const AvgS *s = (const AvgS *)(er[i].st + off);
                o[i] = s->s;
                c[i] = s->n;
            }
        } else {
            double *o = vector_f64(v);
            EACH_ROW(const AvgS *s = (const AvgS *)x;
                     if (s->n) o[i] = s->s / (double)s->n; else vector_set_null(v, i););
        }
        return 0;
    case AGGFN_MIN:
    case AGGFN_MAX:
        switch (d->vtype) {
        case TYPE_VARCHAR: {
            int bad = 0;
            EACH_ROW(const MinS *s = (const MinS *)x;
                     if (s->p) bad |= out_str(v, i, s->p, s->len); else vector_set_null(v, i););
            return bad ? agg_fail(op, "out of memory") : 0;
        }
        case TYPE_DOUBLE: {
            double *o = vector_f64(v);
            EACH_ROW(const MinD *s = (const MinD *)x;
                     if (s->seen) o[i] = s->v; else vector_set_null(v, i););
            return 0;
        }
        case TYPE_BOOLEAN: {
            uint8_t *o = vector_bool(v);
            EACH_ROW(const MinI *s = (const MinI *)x;
                     if (s->seen) o[i] = (uint8_t)s->v; else vector_set_null(v, i););
            return 0;
        }
        default: {
            int64_t *o = vector_i64(v);
            EACH_ROW(const MinI *s = (const MinI *)x;
                     if (s->seen) o[i] = s->v; else vector_set_null(v, i););
            return 0;
        }
        }
    case AGGFN_COUNT_DISTINCT:
        if (!partial) {
            int64_t *o = vector_i64(v);
            EACH_ROW(o[i] = dset_count(*(DSet *const *)x););
            return 0;
        }
        for (int i = 0; i < n; i++) {
            const DSet *s = er[i].st ? *(DSet *const *)(er[i].st + off) : NULL;
            if (!s) {
                vector_set_null(v, i);
                continue;
            }
            uint32_t cnt = dset_count(s);
            if (cnt > op->sort_cap) {
                size_t    ncap = cnt > 2 * op->sort_cap ? cnt : 2 * op->sort_cap;
                uint64_t *nb = realloc(op->sortbuf, ncap * sizeof *nb);
                if (!nb) return agg_fail(op, "out of memory");
                op->sortbuf = nb;
                op->sort_cap = ncap;
            }
            size_t   size = dset_encode_begin(s, op->sortbuf);
            uint8_t *blob = size <= UINT32_MAX ? arena_alloc_bytes(&out->arena, size) : NULL;
            if (!blob) return agg_fail(op, "out of memory");
            dset_encode_finish(s, op->sortbuf, blob);
            vector_set_str_ref(v, i, (const char *)blob, (uint32_t)size);
        }
        return 0;
    case AGGFN_APPROX_COUNT_DISTINCT:
        if (!partial) {
            int64_t *o = vector_i64(v);
            EACH_ROW(const uint8_t *reg = *(uint8_t *const *)x;
                     o[i] = reg ? (int64_t)llround(hll_estimate(reg)) : 0;);
            return 0;
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *reg = er[i].st ? *(uint8_t *const *)(er[i].st + off) : NULL;
            if (!reg) {
                vector_set_null(v, i);
                continue;
            }
            uint8_t *blob = arena_alloc_bytes(&out->arena, hll_serialized_size(reg));
            if (!blob) return agg_fail(op, "out of memory");
            size_t size = hll_serialize(reg, blob);
            vector_set_str_ref(v, i, (const char *)blob, (uint32_t)size);
        }
        return 0;
    }
#undef EACH_ROW
    return agg_fail(op, "unknown aggregate %d", (int)d->fn);
}

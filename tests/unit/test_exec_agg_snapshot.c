/*
 * test_exec_agg_snapshot.c — checkpoints of the hash aggregate
 * (agg_op_snapshot / agg_op_restore):
 *
 *   - the key property, over many seeds and specs (SIMPLE, PARTIAL, FINAL,
 *     EMIT CHANGES with and without update_before, non-windowed, tumbling
 *     and hopping windows, sessions):
 *     op A runs on random input with random watermarks, changes and
 *     flushes, snapshotting now and then (full or incremental) into a
 *     model key-value map; op B is restored from the map and from then on
 *     gets the same input: every drain emits the same rows (as a multiset:
 *     emission order is unspecified), groups and late rows agree, and
 *     agg_op_check(B) passes; at the end, op C restored from the map that
 *     A's later incremental snapshots kept up to date agrees too;
 *   - incremental snapshots report few chunks when few groups change;
 *   - closed windows become deletes;
 *   - malformed chunks (every truncation, byte flips, wrong keys) and chunks
 *     of another spec fail cleanly (run under SAN too).
 */
#include <math.h>

#include "exec/hash.h"
#include "tests/unit/test_exec_agg_util.h"

#define SEC USEC_PER_SEC

/* input: k, s, x, d, str, f, ts, iv */
enum { C_K, C_S, C_X, C_D, C_STR, C_F, C_TS, C_IV, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT,  TYPE_VARCHAR, TYPE_BIGINT,    TYPE_DOUBLE,
                                    TYPE_VARCHAR, TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_INTERVAL};

#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
#define AF(fn, arg, filt) {fn, arg, filt, TYPE_NULL, TYPE_NULL}

static const AggColSpec all_aggs[] = {
    A(AGGFN_COUNT_STAR, -1),         A(AGGFN_COUNT, C_X),
    A(AGGFN_COUNT, C_STR),           A(AGGFN_COUNT_DISTINCT, C_X),
    A(AGGFN_COUNT_DISTINCT, C_STR),  A(AGGFN_COUNT_DISTINCT, C_D),
    A(AGGFN_COUNT_DISTINCT, C_F),    A(AGGFN_SUM, C_X),
    A(AGGFN_SUM, C_D),               A(AGGFN_SUM, C_IV),
    A(AGGFN_AVG, C_X),               A(AGGFN_AVG, C_D),
    A(AGGFN_MIN, C_X),               A(AGGFN_MAX, C_X),
    A(AGGFN_MIN, C_D),               A(AGGFN_MAX, C_D),
    A(AGGFN_MIN, C_STR),             A(AGGFN_MAX, C_STR),
    A(AGGFN_MIN, C_F),               A(AGGFN_MAX, C_TS),
    A(AGGFN_APPROX_COUNT_DISTINCT, C_X), A(AGGFN_APPROX_COUNT_DISTINCT, C_STR),
    AF(AGGFN_COUNT_STAR, -1, C_F),   AF(AGGFN_SUM, C_X, C_F),
    AF(AGGFN_MAX, C_STR, C_F),       AF(AGGFN_COUNT_DISTINCT, C_X, C_F),
    AF(AGGFN_AVG, C_D, C_F),         AF(AGGFN_APPROX_COUNT_DISTINCT, C_STR, C_F),
};
#define NAGGS ((int)(sizeof all_aggs / sizeof *all_aggs))

static char longstr[300];

static const char *pick_str(Rng *g)
{
    static const char *const pool[] = {"", "a", "ab", "abc", "b", "zebra", "Zebra", "x y", "0",
                                       "\xc3\xa9t\xc3\xa9", NULL};
    int i = (int)rng_below(g, 11);
    if (pool[i]) return pool[i];
    if (!longstr[0]) {
        for (int c = 0; c < (int)sizeof longstr - 1; c++) longstr[c] = (char)('a' + c % 26);
    }
    return longstr;
}

/* one random row; SUM(x) sometimes near the int64 limits (128-bit states) */
static void random_row(Rng *g, Batch *b, int r, int64_t ts, int nkeys)
{
    vector_i64(&b->cols[C_K])[r] = rng_below(g, nkeys);
    if (rng_below(g, 25) == 0) vector_set_null(&b->cols[C_K], r);
    const char *s = pick_str(g);
    vector_set_str(&b->cols[C_S], r, s, rng_below(g, 3) ? (s[0] ? 1 : 0) : strlen(s));
    if (rng_below(g, 25) == 0) vector_set_null(&b->cols[C_S], r);
    int64_t x = rng_below(g, 2001) - 1000;
    if (rng_below(g, 50) == 0) x = rng_below(g, 2) ? INT64_MAX - 5 : INT64_MIN + 5;
    vector_i64(&b->cols[C_X])[r] = x;
    if (rng_below(g, 10) == 0) vector_set_null(&b->cols[C_X], r);
    int64_t dq = rng_below(g, 41) - 20;
    double  d = (double)dq * 0.25;
    if (dq == 0 && rng_below(g, 2)) d = -0.0;
    if (rng_below(g, 40) == 0) d = NAN;
    vector_f64(&b->cols[C_D])[r] = d;
    if (rng_below(g, 10) == 0) vector_set_null(&b->cols[C_D], r);
    s = pick_str(g);
    vector_set_str(&b->cols[C_STR], r, s, strlen(s));
    if (rng_below(g, 8) == 0) vector_set_null(&b->cols[C_STR], r);
    vector_bool(&b->cols[C_F])[r] = (uint8_t)rng_below(g, 2);
    if (rng_below(g, 7) == 0) vector_set_null(&b->cols[C_F], r);
    vector_i64(&b->cols[C_TS])[r] = ts;
    vector_i64(&b->cols[C_IV])[r] = rng_below(g, 1000) * SEC;
    if (rng_below(g, 9) == 0) vector_set_null(&b->cols[C_IV], r);
}

static void random_batch(Rng *g, Batch *b, int64_t *clock, int nkeys)
{
    batch_reset(b);
    int n = 1 + (int)rng_below(g, rng_below(g, 5) == 0 ? 600 : 40);
    for (int r = 0; r < n; r++) {
        *clock += rng_below(g, 200 * USEC_PER_MSEC);
        random_row(g, b, r, *clock - rng_below(g, 6 * SEC), nkeys);
    }
    batch_set_nrows(b, n);
    if (rng_below(g, 6) == 0) {
        int c = (int)rng_below(g, NCOLS);
        if (c != C_TS) vector_make_constant(&b->cols[c]);
    }
    if (rng_below(g, 3) == 0) {
        int k = 0;
        for (int r = 0; r < n; r++)
            if (rng_below(g, 3)) b->sel_buf[k++] = (uint32_t)r;
        batch_set_sel(b, b->sel_buf, k);
    }
}

/* ---- the model key-value store ------------------------------------------------------ */

typedef struct Kv {
    uint8_t *k, *v;
    size_t   kn, vn;
} Kv;

typedef struct Store {
    Kv  *e;
    int  n, cap;
    int  puts, dels;   /* of the last snapshot */
} Store;

static int kv_find(const Store *s, const void *k, size_t kn)
{
    for (int i = 0; i < s->n; i++)
        if (s->e[i].kn == kn && memcmp(s->e[i].k, k, kn) == 0) return i;
    return -1;
}

static int store_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    Store *s = ctx;
    int    i = kv_find(s, k, kn);
    if (!v) {
        s->dels++;
        if (i < 0) return 1;   /* a delete of a chunk never stored: a bug */
        free(s->e[i].k);
        free(s->e[i].v);
        s->e[i] = s->e[--s->n];
        return 0;
    }
    s->puts++;
    if (i < 0) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
        }
        i = s->n++;
        s->e[i].k = malloc(kn);
        memcpy(s->e[i].k, k, kn);
        s->e[i].kn = kn;
    } else {
        free(s->e[i].v);
    }
    s->e[i].v = malloc(vn ? vn : 1);
    if (vn) memcpy(s->e[i].v, v, vn);
    s->e[i].vn = vn;
    return 0;
}

static void store_free(Store *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->e[i].k);
        free(s->e[i].v);
    }
    free(s->e);
    memset(s, 0, sizeof *s);
}

static int kv_cmp(const void *a, const void *b)
{
    const Kv *x = a, *y = b;
    size_t    n = x->kn < y->kn ? x->kn : y->kn;
    int       c = memcmp(x->k, y->k, n);
    return c ? c : (x->kn > y->kn) - (x->kn < y->kn);
}

static int snap(AggOp *op, int full, Store *s)
{
    s->puts = s->dels = 0;
    int rc = agg_op_snapshot(op, full, store_cb, s);
    if (rc < 0) printf("  snapshot: %s\n", agg_op_error(op));
    return rc;
}

/* a new op restored from the store, in key order (as LevelDB returns it) */
static AggOp *restore_from(const AggOpSpec *spec, Store *s)
{
    AggOp *op = agg_op_new(spec, NULL, 0);
    if (!op) return NULL;
    if (s->n) qsort(s->e, (size_t)s->n, sizeof *s->e, kv_cmp);
    for (int i = 0; i < s->n; i++) {
        if (agg_op_restore(op, s->e[i].k, s->e[i].kn, s->e[i].v, s->e[i].vn) < 0) {
            printf("  restore: %s\n", agg_op_error(op));
            agg_op_free(op);
            return NULL;
        }
    }
    if (agg_op_check(op) < 0) {
        printf("  check after restore: %s\n", agg_op_error(op));
        agg_op_free(op);
        return NULL;
    }
    return op;
}

/* ---- scenario ------------------------------------------------------------------------ */

enum { W_NONE, W_TUMBLE, W_HOP, W_SESSION };

typedef struct Scen {
    AggPhase phase;
    int      win;
    int      changes;
    int      dkey;     /* group by the DOUBLE column too (NaN, -0.0 keys) */
    int      nkeys;    /* distinct values of k */
    int      ub;       /* with changes: update_before (last emitted values kept) */
    int      parts;    /* snap_parts: checkpoint buckets as a hash exchange's partitions */
} Scen;

typedef struct Rig {
    WindowOp *w;
    AggOp    *pre;                /* FINAL: the PARTIAL feeding it */
    AggOpSpec spec;
    SqlType   wt[NCOLS + 3];
    SqlType   pt[2 * NAGGS + 8];
    int       keys[4], fkeys[4];
    AggColSpec faggs[NAGGS];
    int       naggs;
    Batch     in, pout;
} Rig;

static int rig_open(Rig *r, const Scen *sc, Rng *g)
{
    memset(r, 0, sizeof *r);
    int ninput = NCOLS, nk = 0;
    const SqlType *types = in_t;
    if (sc->win != W_NONE) {
        WindowSpec ws = {WINDOW_FN_TUMBLE, C_TS, 10 * SEC, 0, 0, NCOLS, in_t, 0};
        if (sc->win == W_HOP) {
            ws.kind = WINDOW_FN_HOP;
            ws.slide_us = 5 * SEC;
        } else if (sc->win == W_SESSION) {
            ws.kind = WINDOW_FN_SESSION;
            ws.size_us = 0;
            ws.gap_us = 2 * SEC;
        }
        if (!(r->w = window_op_new(&ws, NULL, 0))) return -1;
        ninput = window_op_output_types(r->w, r->wt);
        types = r->wt;
        r->keys[nk++] = NCOLS;
        r->keys[nk++] = NCOLS + 1;
    }
    r->keys[nk++] = C_K;
    if (sc->dkey) r->keys[nk++] = C_D;
    else if (rng_below(g, 2)) r->keys[nk++] = C_S;
    /* a random subset of the aggregates (at least one) */
    static AggColSpec sub[NAGGS];
    int               na = 0;
    for (int a = 0; a < NAGGS; a++)
        if (rng_below(g, 3)) sub[na++] = all_aggs[a];
    if (na == 0) sub[na++] = all_aggs[0];
    r->naggs = na;
    r->spec = agg_spec(sc->phase == AGG_PHASE_FINAL ? AGG_PHASE_PARTIAL : sc->phase, ninput, types,
                       nk, r->keys, na, sub);
    if (sc->win != W_NONE) {
        r->spec.wstart_key = 0;
        r->spec.wend_key = 1;
        r->spec.session = sc->win == W_SESSION;
    }
    if (batch_init(&r->in, NCOLS, in_t, 0) < 0) return -1;
    if (sc->phase == AGG_PHASE_FINAL) {
        if (!(r->pre = agg_op_new(&r->spec, NULL, 0))) return -1;
        r->spec = agg_final_of(r->pre, &r->spec, r->faggs, r->fkeys, r->pt);
        if (agg_out_init(r->pre, &r->pout, 0) < 0) return -1;
    }
    r->spec.emit_changes = sc->changes;
    r->spec.update_before = sc->changes && sc->ub;
    r->spec.snap_parts = sc->parts;
    return 0;
}

static void rig_close(Rig *r)
{
    window_op_free(r->w);
    agg_op_free(r->pre);
    batch_destroy(&r->in);
    if (r->pout.ncols) batch_destroy(&r->pout);
}

/* push the batch (through the window op and, for FINAL, a partial) into n ops */
static int push_all(Rig *r, AggOp **ops, int n)
{
    int more = 0;
    do {
        const Batch *b = &r->in;
        if (r->w && window_op_apply(r->w, &r->in, &b, &more) < 0) return -1;
        AggOp *dst[3];
        int    nd = n;
        for (int i = 0; i < n; i++) dst[i] = ops[i];
        if (r->pre) {
            if (agg_op_push(r->pre, b) < 0) return -1;
        } else {
            for (int i = 0; i < nd; i++)
                if (agg_op_push(dst[i], b) < 0) {
                    printf("  push: %s\n", agg_op_error(dst[i]));
                    return -1;
                }
        }
    } while (more);
    if (r->pre) {
        /* the partial flushes every batch: FINAL sees partial states */
        int m;
        do {
            if (agg_op_flush(r->pre, &r->pout, &m) < 0) return -1;
            for (int i = 0; i < n; i++)
                if (agg_op_push(ops[i], &r->pout) < 0) {
                    printf("  final push: %s\n", agg_op_error(ops[i]));
                    return -1;
                }
        } while (m);
    }
    return 0;
}

/* drain one emitting call on every op; the rows of each drain must agree */
static int drain_same(AggOp **ops, int n, int how, int64_t wm, Batch *out)
{
    RowSet rs[3];
    memset(rs, 0, sizeof rs);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        int more;
        do {
            int got = how == DRAIN_ADVANCE ? agg_op_advance(ops[i], wm, out, &more)
                      : how == DRAIN_FLUSH ? agg_op_flush(ops[i], out, &more)
                                           : agg_op_changes(ops[i], out, &more);
            if (got < 0) {
                printf("  drain: %s\n", agg_op_error(ops[i]));
                ok = 0;
                break;
            }
            rows_add_batch(&rs[i], out, ~UINT64_C(0));
        } while (more);
        if (agg_op_check(ops[i]) < 0) {
            printf("  check: %s\n", agg_op_error(ops[i]));
            ok = 0;
        }
    }
    for (int i = 1; i < n && ok; i++) ok = rows_equal(&rs[0], &rs[i], "A vs restored");
    for (int i = 0; i < n; i++) rows_free(&rs[i]);
    return ok;
}

static int same_counts(AggOp **ops, int n)
{
    for (int i = 1; i < n; i++) {
        if (agg_op_groups(ops[i]) != agg_op_groups(ops[0]) ||
            agg_op_late_rows(ops[i]) != agg_op_late_rows(ops[0])) {
            printf("  groups %lld/%lld late %lld/%lld\n", (long long)agg_op_groups(ops[0]),
                   (long long)agg_op_groups(ops[i]), (long long)agg_op_late_rows(ops[0]),
                   (long long)agg_op_late_rows(ops[i]));
            return 0;
        }
    }
    return 1;
}

/* one seed of one scenario; 1 when everything agreed */
static int run_one(const Scen *sc, uint64_t seed)
{
    Rng   g = {seed * 0x9e3779b97f4a7c15ULL + 17};
    Rig   r;
    Store st = {0};
    Batch out;
    int   ok = 1;
    if (rig_open(&r, sc, &g) < 0) return 0;
    AggOp *ops[3] = {agg_op_new(&r.spec, NULL, 0), NULL, NULL};
    int    nops = 1;
    if (!ops[0] || agg_out_init(ops[0], &out, 2 + (int)rng_below(&g, 3) * 300) < 0) {
        rig_close(&r);
        return 0;
    }
    int     steps = 30 + (int)rng_below(&g, 30), at = 5 + (int)rng_below(&g, steps - 10);
    int64_t clock = 0;
    for (int step = 0; step < steps && ok; step++) {
        random_batch(&g, &r.in, &clock, sc->nkeys);
        if (push_all(&r, ops, nops) < 0) ok = 0;
        int act = (int)rng_below(&g, 10);
        if (ok && act < 3 && sc->win != W_NONE)
            ok = drain_same(ops, nops, DRAIN_ADVANCE, clock - 4 * SEC - rng_below(&g, 4 * SEC), &out);
        else if (ok && act < 6 && sc->changes)
            ok = drain_same(ops, nops, DRAIN_CHANGES, 0, &out);
        else if (ok && act == 6 && rng_below(&g, 3) == 0)
            ok = drain_same(ops, nops, DRAIN_FLUSH, 0, &out);
        if (ok) ok = same_counts(ops, nops);
        if (ok && (rng_below(&g, 3) == 0 || step == at))
            ok = snap(ops[0], rng_below(&g, 6) == 0, &st) == 0;
        if (ok && step == at) {
            ops[1] = restore_from(&r.spec, &st);
            ok = ops[1] != NULL;
            nops = ok ? 2 : 1;
            if (ok) ok = same_counts(ops, nops);
        }
    }
    /* the store kept up to date by A's later snapshots restores C */
    if (ok) ok = snap(ops[0], 0, &st) == 0;
    if (ok) {
        ops[2] = restore_from(&r.spec, &st);
        ok = ops[2] != NULL;
        if (ok) nops = 3;
    }
    if (ok) ok = same_counts(ops, nops);
    if (ok && sc->changes) ok = drain_same(ops, nops, DRAIN_CHANGES, 0, &out);
    if (ok) ok = drain_same(ops, nops, DRAIN_FLUSH, 0, &out);
    for (int i = 0; i < 3; i++) agg_op_free(ops[i]);
    batch_destroy(&out);
    store_free(&st);
    rig_close(&r);
    return ok;
}

static void run_scen(const Scen *sc, int seeds, const char *name)
{
    int bad = 0;
    for (int s = 1; s <= seeds && bad < 3; s++) {
        if (!run_one(sc, (uint64_t)s * 7919 + (uint64_t)sc->win * 131 + (uint64_t)sc->phase)) {
            printf("  %s: seed %d failed\n", name, s);
            bad++;
        }
    }
    CHECK(bad == 0);
}

TEST(agg_snapshot_random_global)
{
    Scen s = {AGG_PHASE_SIMPLE, W_NONE, 0, 0, 40, 0, 0};
    run_scen(&s, 25, "global simple");
    s.dkey = 1;
    run_scen(&s, 10, "global double key");
    s.changes = 1;
    run_scen(&s, 15, "global changes");
    s.ub = 1;
    run_scen(&s, 15, "global changes update_before");
    Scen p = {AGG_PHASE_PARTIAL, W_NONE, 0, 0, 40, 0, 0};
    run_scen(&p, 15, "global partial");
    Scen f = {AGG_PHASE_FINAL, W_NONE, 0, 0, 40, 0, 0};
    run_scen(&f, 10, "global final");
    f.changes = 1;
    run_scen(&f, 10, "global final changes");
}

TEST(agg_snapshot_random_windows)
{
    Scen s = {AGG_PHASE_SIMPLE, W_TUMBLE, 0, 0, 12, 0, 0};
    run_scen(&s, 20, "tumble simple");
    s.changes = 1;
    run_scen(&s, 15, "tumble changes");
    s.win = W_HOP;
    s.dkey = 1;
    run_scen(&s, 10, "hop changes double key");
    Scen p = {AGG_PHASE_PARTIAL, W_HOP, 0, 0, 12, 0, 0};
    run_scen(&p, 10, "hop partial");
    Scen f = {AGG_PHASE_FINAL, W_TUMBLE, 1, 0, 12, 0, 0};
    run_scen(&f, 10, "tumble final changes");
    f.ub = 1;
    run_scen(&f, 10, "tumble final changes update_before");
    Scen u = {AGG_PHASE_SIMPLE, W_HOP, 1, 0, 12, 1, 0};
    run_scen(&u, 10, "hop changes update_before");
}

TEST(agg_snapshot_random_sessions)
{
    Scen s = {AGG_PHASE_SIMPLE, W_SESSION, 0, 0, 8, 0, 0};
    run_scen(&s, 20, "sessions simple");
    s.changes = 1;
    run_scen(&s, 20, "sessions changes");
    Scen p = {AGG_PHASE_PARTIAL, W_SESSION, 0, 0, 8, 0, 0};
    run_scen(&p, 8, "sessions partial");
    Scen f = {AGG_PHASE_FINAL, W_SESSION, 1, 0, 8, 0, 0};
    run_scen(&f, 8, "sessions final changes");
    /* in 12 buckets, the partitions of a hash exchange (group mode) */
    s.parts = 12;
    run_scen(&s, 15, "sessions changes, 12 buckets");
    f.parts = 12;
    run_scen(&f, 8, "sessions final changes, 12 buckets");
    Scen t = {AGG_PHASE_SIMPLE, W_TUMBLE, 1, 0, 12, 0, 12};
    run_scen(&t, 8, "tumble changes, 12 buckets");
}

/* ---- focused tests -------------------------------------------------------------------- */

static const int g_keys[1] = {C_K};
static const AggColSpec g_aggs[3] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_MAX, C_STR)};

static void fill_keys(Batch *b, int64_t from, int n)
{
    batch_reset(b);
    for (int r = 0; r < n; r++) {
        vector_i64(&b->cols[C_K])[r] = from + r;
        vector_i64(&b->cols[C_X])[r] = r;
        vector_set_str(&b->cols[C_STR], r, "v", 1);
        vector_i64(&b->cols[C_TS])[r] = 0;
    }
    batch_set_nrows(b, n);
}

TEST(agg_snapshot_incremental_is_small)
{
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, g_keys, 3, g_aggs);
    AggOp    *op = agg_op_new(&sp, NULL, 0);
    Batch     b;
    Store     st = {0};
    REQUIRE(op && batch_init(&b, NCOLS, in_t, 0) == 0);
    for (int i = 0; i < 20; i++) {
        fill_keys(&b, i * 1000, 1000);
        REQUIRE(agg_op_push(op, &b) == 0);
    }
    REQUIRE(snap(op, 0, &st) == 0);   /* the first one is full */
    CHECK_EQ_INT(st.puts, 65);        /* meta + 64 buckets of 20000 keys */
    CHECK_EQ_INT(st.dels, 0);
    REQUIRE(snap(op, 0, &st) == 0);   /* nothing changed */
    CHECK_EQ_INT(st.puts + st.dels, 0);
    fill_keys(&b, 5, 3);              /* three existing keys */
    REQUIRE(agg_op_push(op, &b) == 0);
    REQUIRE(snap(op, 0, &st) == 0);
    CHECK(st.puts >= 1 && st.puts <= 3);
    CHECK_EQ_INT(st.dels, 0);
    size_t inc_bytes = 0, all_bytes = 0;
    for (int i = 0; i < st.n; i++) all_bytes += st.e[i].vn;
    REQUIRE(snap(op, 1, &st) == 0);
    CHECK_EQ_INT(st.puts, 65);
    inc_bytes = all_bytes / 64;
    CHECK(inc_bytes > 0 && all_bytes > 20000);   /* 20000 groups: > 1 byte each */
    /* flush empties the table: every stored bucket becomes a delete */
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    REQUIRE(agg_drain(op, DRAIN_FLUSH, 0, &out, NULL, NULL) == 20000);
    REQUIRE(snap(op, 0, &st) == 0);
    CHECK_EQ_INT(st.dels, 64);
    CHECK_EQ_INT(st.puts, 0);
    CHECK_EQ_INT(st.n, 1);   /* the meta chunk only */
    /* a fresh op restored from it is empty; restoring after a push fails */
    AggOp *r = restore_from(&sp, &st);
    CHECK(r && agg_op_groups(r) == 0);
    agg_op_free(r);
    r = agg_op_new(&sp, NULL, 0);
    REQUIRE(agg_op_push(r, &b) == 0);
    CHECK(agg_op_restore(r, st.e[0].k, st.e[0].kn, st.e[0].v, st.e[0].vn) < 0);
    agg_op_free(r);
    batch_destroy(&out);
    batch_destroy(&b);
    store_free(&st);
    agg_op_free(op);
}

/* The kind chunks ('G', 'S') of a snapshot in P buckets: each alone
 * restores exactly want[p] groups of its partition p, and an op of the
 * default 64 buckets refuses it (another spec). *seen: the groups over
 * them, *chunks: how many. */
static void check_part_chunks(const AggOpSpec *sp, const Store *st, char kind, int P, const int *want, int *seen,
                              int *chunks)
{
    for (int i = 0; i < st->n; i++) {
        if (st->e[i].kn != 2 || st->e[i].k[0] != (uint8_t)kind) continue;
        int p = st->e[i].k[1];
        (*chunks)++;
        CHECK(p < P);
        AggOp *r = agg_op_new(sp, NULL, 0);
        REQUIRE(r != NULL);
        CHECK_EQ_INT(agg_op_restore(r, st->e[i].k, 2, st->e[i].v, st->e[i].vn), 0);
        if (p < P) CHECK_EQ_INT((int)agg_op_groups(r), want[p]);
        *seen += (int)agg_op_groups(r);
        agg_op_free(r);
        AggOpSpec d = *sp;
        d.snap_parts = 0;
        r = agg_op_new(&d, NULL, 0);
        REQUIRE(r != NULL);
        CHECK(agg_op_restore(r, st->e[i].k, 2, st->e[i].v, st->e[i].vn) < 0);
        agg_op_free(r);
    }
}

/* snap_parts = P: the checkpoint buckets are the partitions a hash
 * exchange of P partitions sends the keys to ((h >> 32) * P >> 32, the
 * hash of hash_vector over the keys) — group mode keeps each partition's
 * state as its bucket's chunk (runtime: the changelog) */
TEST(agg_snapshot_partition_buckets)
{
    enum { P = 12, NK = 1000 };
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, g_keys, 3, g_aggs);
    sp.snap_parts = P;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    Batch  b;
    Store  st = {0};
    REQUIRE(op && batch_init(&b, NCOLS, in_t, 0) == 0);
    fill_keys(&b, 0, NK);
    REQUIRE(agg_op_push(op, &b) == 0);
    /* each key's partition, as the exchange computes it */
    uint64_t h[NK];
    int      want[P] = {0};
    hash_vector(&b.cols[C_K], NULL, NK, h, 0);
    for (int i = 0; i < NK; i++) want[((h[i] >> 32) * P) >> 32]++;
    REQUIRE(snap(op, 1, &st) == 0);
    CHECK_EQ_INT(st.puts, 1 + P);   /* meta + one chunk per partition */
    int seen = 0, chunks = 0;
    check_part_chunks(&sp, &st, 'G', P, want, &seen, &chunks);
    CHECK_EQ_INT(seen, NK);
    /* out of range: refused */
    char why[200];
    AggOpSpec bad = sp;
    bad.snap_parts = 65;
    CHECK(agg_op_new(&bad, why, sizeof why) == NULL);
    batch_destroy(&b);
    store_free(&st);
    agg_op_free(op);
}

/* the same with session windows: a key's sessions are in the bucket of
 * the partition a hash exchange on the other keys (the user's, not the
 * window's bounds) sends it to — what group mode's changelog needs */
TEST(agg_snapshot_session_partition_buckets)
{
    enum { P = 12, NK = 600 };
    WindowSpec ws = {WINDOW_FN_SESSION, C_TS, 0, 0, 2 * SEC, NCOLS, in_t, 0};
    WindowOp  *w = window_op_new(&ws, NULL, 0);
    REQUIRE(w != NULL);
    SqlType wt[NCOLS + 3];
    int     nin = window_op_output_types(w, wt);
    int     keys[3] = {NCOLS, NCOLS + 1, C_K};
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, nin, wt, 3, keys, 3, g_aggs);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    sp.session = 1;
    sp.emit_changes = 1;
    sp.snap_parts = P;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    Batch  b;
    Store  st = {0};
    REQUIRE(op && batch_init(&b, NCOLS, in_t, 0) == 0);
    /* every key twice, 10 s apart: two sessions each */
    for (int round = 0; round < 2; round++) {
        fill_keys(&b, 0, NK);
        for (int r = 0; r < NK; r++) vector_i64(&b.cols[C_TS])[r] = round * 10 * SEC + r;
        const Batch *wb;
        int          more = 0;
        do {
            REQUIRE(window_op_apply(w, &b, &wb, &more) >= 0);
            REQUIRE(agg_op_push(op, wb) == 0);
        } while (more);
    }
    CHECK_EQ_INT((int)agg_op_groups(op), 2 * NK);
    uint64_t h[NK];
    int      want[P] = {0};
    hash_vector(&b.cols[C_K], NULL, NK, h, 0);
    for (int i = 0; i < NK; i++) want[((h[i] >> 32) * P) >> 32] += 2;
    REQUIRE(snap(op, 1, &st) == 0);
    int seen = 0, chunks = 0;
    check_part_chunks(&sp, &st, 'S', P, want, &seen, &chunks);
    CHECK_EQ_INT(chunks, P);
    CHECK_EQ_INT(seen, 2 * NK);
    batch_destroy(&b);
    store_free(&st);
    agg_op_free(op);
    window_op_free(w);
}

static int count_prefix(const Store *s, char c)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) n += s->e[i].k[0] == (uint8_t)c;
    return n;
}

TEST(agg_snapshot_closed_windows_delete)
{
    static SqlType   wt[NCOLS + 3];
    static const int keys[3] = {NCOLS, NCOLS + 1, C_K};
    WindowSpec       ws = {WINDOW_FN_TUMBLE, C_TS, 10 * SEC, 0, 0, NCOLS, in_t, 0};
    WindowOp        *w = window_op_new(&ws, NULL, 0);
    REQUIRE(w != NULL);
    int       ni = window_op_output_types(w, wt);
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, ni, wt, 3, keys, 3, g_aggs);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    Batch  b, out;
    Store  st = {0};
    REQUIRE(op && batch_init(&b, NCOLS, in_t, 0) == 0 && agg_out_init(op, &out, 0) == 0);
    for (int win = 0; win < 2; win++) {
        fill_keys(&b, 0, 500);
        for (int r = 0; r < 500; r++) vector_i64(&b.cols[C_TS])[r] = win * 10 * SEC + r;
        const Batch *wb;
        int          more;
        REQUIRE(window_op_apply(w, &b, &wb, &more) >= 0 && agg_op_push(op, wb) == 0);
    }
    REQUIRE(snap(op, 0, &st) == 0);
    int w_chunks = count_prefix(&st, 'W');
    CHECK_EQ_INT(w_chunks, 128);
    REQUIRE(agg_drain(op, DRAIN_ADVANCE, 10 * SEC, &out, NULL, NULL) == 500);   /* closes window 1 */
    REQUIRE(snap(op, 0, &st) == 0);
    CHECK_EQ_INT(st.dels, 64);
    CHECK_EQ_INT(st.puts, 1);   /* the meta chunk (watermark) */
    CHECK_EQ_INT(count_prefix(&st, 'W'), 64);
    /* the window left is the second one: its keys sort after the first's */
    AggOp *r = restore_from(&sp, &st);
    REQUIRE(r != NULL);
    CHECK_EQ_INT(agg_op_groups(r), 500);
    RowSet a = {0}, c = {0};
    CHECK(agg_drain(op, DRAIN_ADVANCE, 20 * SEC, &out, &a, NULL) == 500);
    CHECK(agg_drain(r, DRAIN_ADVANCE, 20 * SEC, &out, &c, NULL) == 500);
    CHECK(rows_equal(&a, &c, "window after restore"));
    /* a late row for the closed window is late in the restored op too */
    CHECK_EQ_INT(agg_op_late_rows(r), agg_op_late_rows(op));
    rows_free(&a);
    rows_free(&c);
    agg_op_free(r);
    batch_destroy(&out);
    batch_destroy(&b);
    store_free(&st);
    agg_op_free(op);
    window_op_free(w);
}

/* a rich op (sessions with EMIT CHANGES, or windows with every aggregate;
 * EMIT CHANGES without sessions keeps its last emitted values) */
static AggOp *rich_op(Rig *r, int win, int changes, Store *st, uint64_t seed)
{
    Rng  g = {seed};
    Scen sc = {AGG_PHASE_SIMPLE, win, changes, 0, 6, 0, 0};
    if (rig_open(r, &sc, &g) < 0) return NULL;
    r->spec.aggs = all_aggs;   /* every aggregate */
    r->spec.naggs = NAGGS;
    r->spec.update_before = changes && win != W_SESSION;   /* last emitted values too */
    AggOp  *op = agg_op_new(&r->spec, NULL, 0);
    int64_t clock = 0;
    for (int i = 0; op && i < 6; i++) {
        random_batch(&g, &r->in, &clock, 6);
        if (push_all(r, &op, 1) < 0) return NULL;
    }
    if (op && changes) {
        /* some groups emitted, then changed again: flags and ghosts */
        Batch out;
        agg_out_init(op, &out, 0);
        agg_drain(op, DRAIN_CHANGES, 0, &out, NULL, NULL);
        batch_destroy(&out);
        random_batch(&g, &r->in, &clock, 6);
        if (push_all(r, &op, 1) < 0) return NULL;
    }
    if (op && snap(op, 1, st) < 0) return NULL;
    return op;
}

TEST(agg_snapshot_malformed_chunks)
{
    static const int wins[3] = {W_SESSION, W_TUMBLE, W_NONE};
    for (int wi = 0; wi < 3; wi++) {
        Rig    rig;
        Store  st = {0};
        AggOp *op = rich_op(&rig, wins[wi], 1, &st, 42 + (uint64_t)wi);
        REQUIRE(op != NULL);
        REQUIRE(st.n >= 2);
        int restored_bad = 0, truncs = 0, flips = 0, flip_ok = 0;
        for (int i = 0; i < st.n; i++) {
            const Kv *e = &st.e[i];
            /* every truncation fails */
            for (size_t len = 0; len < e->vn; len++) {
                AggOp *r = agg_op_new(&rig.spec, NULL, 0);
                uint8_t *v = malloc(len ? len : 1);   /* exact size: ASan sees overreads */
                memcpy(v, e->v, len);
                if (agg_op_restore(r, e->k, e->kn, v, len) == 0) restored_bad++;
                else if (!agg_op_error(r)[0]) restored_bad++;
                truncs++;
                free(v);
                agg_op_free(r);
            }
            /* byte flips: fail, or load something that is still consistent */
            Rng g = {(uint64_t)i + 1};
            for (int f = 0; f < 200; f++) {
                AggOp   *r = agg_op_new(&rig.spec, NULL, 0);
                uint8_t *v = malloc(e->vn);
                memcpy(v, e->v, e->vn);
                size_t at = (size_t)rng_below(&g, (int64_t)e->vn);
                v[at] ^= (uint8_t)(1u << rng_below(&g, 8));
                if (agg_op_restore(r, e->k, e->kn, v, e->vn) == 0) {
                    flip_ok++;
                    if (agg_op_check(r) < 0) restored_bad++;
                    Batch out;
                    int   more;
                    agg_out_init(r, &out, 0);
                    if (agg_op_flush(r, &out, &more) < 0) restored_bad++;
                    batch_destroy(&out);
                }
                flips++;
                free(v);
                agg_op_free(r);
            }
            /* the chunk under a wrong key */
            AggOp  *r = agg_op_new(&rig.spec, NULL, 0);
            uint8_t k2[16];
            memcpy(k2, e->k, e->kn);
            k2[e->kn - 1] ^= 1;   /* another bucket / window / kind */
            if (e->kn > 1 && agg_op_restore(r, k2, e->kn, e->v, e->vn) == 0) restored_bad++;
            agg_op_free(r);
            /* loaded twice */
            r = agg_op_new(&rig.spec, NULL, 0);
            CHECK(agg_op_restore(r, e->k, e->kn, e->v, e->vn) == 0);
            CHECK(agg_op_restore(r, e->k, e->kn, e->v, e->vn) < 0);
            agg_op_free(r);
        }
        CHECK_EQ_INT(restored_bad, 0);
        CHECK(truncs > 100 && flips > 100);
        CHECK(flip_ok < flips);
        agg_op_free(op);
        store_free(&st);
        rig_close(&rig);
    }
}

TEST(agg_snapshot_other_spec_fails)
{
    Rig    rig;
    Store  st = {0};
    AggOp *op = rich_op(&rig, W_TUMBLE, 0, &st, 7);
    REQUIRE(op != NULL);
    AggOpSpec other = rig.spec;
    other.naggs = NAGGS - 1;   /* one aggregate less */
    AggOp *r = agg_op_new(&other, NULL, 0);
    REQUIRE(r != NULL);
    int failed = 0;
    for (int i = 0; i < st.n && !failed; i++)
        failed = agg_op_restore(r, st.e[i].k, st.e[i].kn, st.e[i].v, st.e[i].vn) < 0;
    CHECK(failed);
    CHECK(strstr(agg_op_error(r), "another spec") != NULL);
    /* the op is now unusable */
    Batch out;
    int   more;
    REQUIRE(agg_out_init(r, &out, 0) == 0);
    CHECK(agg_op_flush(r, &out, &more) < 0);
    batch_destroy(&out);
    agg_op_free(r);
    /* emit changes on/off is part of the spec too */
    other = rig.spec;
    other.emit_changes = 1;
    r = agg_op_new(&other, NULL, 0);
    CHECK(agg_op_restore(r, st.e[0].k, st.e[0].kn, st.e[0].v, st.e[0].vn) < 0);
    agg_op_free(r);
    agg_op_free(op);
    store_free(&st);
    rig_close(&rig);
}

static int refuse_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    (void)k, (void)kn, (void)v, (void)vn;
    return --*(int *)ctx < 0;
}

TEST(agg_snapshot_refused_loses_nothing)
{
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, g_keys, 3, g_aggs);
    AggOp    *op = agg_op_new(&sp, NULL, 0);
    Batch     b;
    Store     st = {0};
    REQUIRE(op && batch_init(&b, NCOLS, in_t, 0) == 0);
    fill_keys(&b, 0, 1000);
    REQUIRE(agg_op_push(op, &b) == 0);
    REQUIRE(snap(op, 0, &st) == 0);
    fill_keys(&b, 0, 200);
    REQUIRE(agg_op_push(op, &b) == 0);
    int budget = 5;
    CHECK(agg_op_snapshot(op, 0, refuse_cb, &budget) < 0);
    REQUIRE(snap(op, 0, &st) == 0);   /* reports what the refused one had */
    CHECK(st.puts > 5);
    AggOp *r = restore_from(&sp, &st);
    REQUIRE(r != NULL);
    Batch  out;
    RowSet x = {0}, y = {0};
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    CHECK(agg_drain(op, DRAIN_FLUSH, 0, &out, &x, NULL) == 1000);
    CHECK(agg_drain(r, DRAIN_FLUSH, 0, &out, &y, NULL) == 1000);
    CHECK(rows_equal(&x, &y, "after a refused snapshot"));
    rows_free(&x);
    rows_free(&y);
    /* pending emission: refused */
    REQUIRE(agg_op_push(op, &b) == 0);
    Batch small;
    SqlType t[8];
    int     nt = agg_op_output_types(op, t), more;
    REQUIRE(batch_init(&small, nt, t, 10) == 0);
    REQUIRE(agg_op_flush(op, &small, &more) == 10 && more);
    CHECK(agg_op_snapshot(op, 0, store_cb, &st) < 0);
    CHECK(strstr(agg_op_error(op), "pending") != NULL);
    batch_destroy(&small);
    batch_destroy(&out);
    agg_op_free(r);
    batch_destroy(&b);
    store_free(&st);
    agg_op_free(op);
}

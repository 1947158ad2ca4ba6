/*
 * test_exec_agg_random.c — exec/agg and exec/window against each other and
 * against brute force, on random data from fixed seeds:
 *
 *   - PARTIAL → FINAL equals SIMPLE: the same random batches (selections,
 *     constant columns, NULLs, NaN) split randomly over three partial
 *     operators flushed in random bursts, with and without windows and
 *     watermarks (late rows counted alike);
 *   - TUMBLE / HOP / CUMULATE pipelines equal a brute-force aggregation;
 *   - sessions: out-of-order bridging, random order vs a brute-force
 *     sessionizer (SIMPLE and PARTIAL → FINAL), watermark-driven emission
 *     with state compaction, EMIT CHANGES retractions.
 */
#include <math.h>

#include "tests/unit/test_exec_agg_util.h"

#define SEC USEC_PER_SEC

/* input: k, s, x, d, str, f, ts, iv */
enum { C_K, C_S, C_X, C_D, C_STR, C_F, C_TS, C_IV, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT,  TYPE_VARCHAR, TYPE_BIGINT,    TYPE_DOUBLE,
                                    TYPE_VARCHAR, TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_INTERVAL};

#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
#define AF(fn, arg, filt) {fn, arg, filt, TYPE_NULL, TYPE_NULL}

static const char *const pool[] = {"", "a", "ab", "abc", "b", "zebra", "Zebra", "mango", "m",
                                   "a longer string value", "\xc3\xa9t\xc3\xa9", "x y", "0", "~"};
#define NPOOL ((int)(sizeof pool / sizeof *pool))

/* one random row at slot r; ts around base (disorder up to `jitter`) */
static void random_row(Rng *g, Batch *b, int r, int64_t ts)
{
    int nul = (int)rng_below(g, 100);
    vector_i64(&b->cols[C_K])[r] = rng_below(g, 12);
    if (nul < 4) vector_set_null(&b->cols[C_K], r);
    const char *s = pool[rng_below(g, 4)];
    vector_set_str(&b->cols[C_S], r, s, strlen(s));
    if (nul >= 96) vector_set_null(&b->cols[C_S], r);
    vector_i64(&b->cols[C_X])[r] = rng_below(g, 2001) - 1000;
    if (rng_below(g, 10) == 0) vector_set_null(&b->cols[C_X], r);
    int64_t dq = rng_below(g, 801) - 400;
    vector_f64(&b->cols[C_D])[r] = dq == 0 ? 0.0 : (double)dq * 0.25;
    if (rng_below(g, 100) == 0) vector_f64(&b->cols[C_D])[r] = NAN;
    if (rng_below(g, 10) == 0) vector_set_null(&b->cols[C_D], r);
    s = pool[rng_below(g, NPOOL)];
    vector_set_str(&b->cols[C_STR], r, s, strlen(s));
    if (rng_below(g, 8) == 0) vector_set_null(&b->cols[C_STR], r);
    vector_bool(&b->cols[C_F])[r] = (uint8_t)rng_below(g, 2);
    if (rng_below(g, 7) == 0) vector_set_null(&b->cols[C_F], r);
    vector_i64(&b->cols[C_TS])[r] = ts;
    vector_i64(&b->cols[C_IV])[r] = rng_below(g, 1000) * SEC;
    if (rng_below(g, 9) == 0) vector_set_null(&b->cols[C_IV], r);
}

/* a random batch: 1..1024 rows, sometimes a selection, sometimes a
 * constant column (slot 0 then stands for all rows) */
static void random_batch(Rng *g, Batch *b, int64_t *clock, int64_t step, int64_t jitter)
{
    batch_reset(b);
    int n = 1 + (int)rng_below(g, rng_below(g, 4) == 0 ? 1024 : 64);
    for (int r = 0; r < n; r++) {
        *clock += rng_below(g, step + 1);
        int64_t ts = *clock - (jitter ? rng_below(g, jitter) : 0);
        random_row(g, b, r, ts);
    }
    batch_set_nrows(b, n);
    if (rng_below(g, 5) == 0) {
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

static const AggColSpec rnd_aggs[] = {
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
#define NRND ((int)(sizeof rnd_aggs / sizeof *rnd_aggs))

/* SIMPLE vs three PARTIALs → FINAL over the same random batches */
TEST(agg_random_partial_final_equals_simple)
{
    static const int keys[2] = {C_K, C_S};
    for (int seed = 1; seed <= 3; seed++) {
        Rng       g = {(uint64_t)seed * 7919};
        AggOpSpec ss = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 2, keys, NRND, rnd_aggs);
        AggOpSpec ps = ss;
        ps.phase = AGG_PHASE_PARTIAL;
        AggOp *s = agg_op_new(&ss, NULL, 0), *p[3];
        REQUIRE(s != NULL);
        for (int i = 0; i < 3; i++) REQUIRE((p[i] = agg_op_new(&ps, NULL, 0)) != NULL);
        AggColSpec fa[NRND];
        int        fk[2];
        SqlType    pt[2 * NRND + 2];
        AggOpSpec  fs = agg_final_of(p[0], &ps, fa, fk, pt);
        AggOp     *f = agg_op_new(&fs, NULL, 0);
        REQUIRE(f != NULL);
        Batch b, pout, out;
        REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
        REQUIRE(agg_out_init(p[0], &pout, 1 + (int)rng_below(&g, 50)) == 0);   /* small: parts */
        REQUIRE(agg_out_init(s, &out, 0) == 0);
        int64_t clock = 0, rows = 0;
        for (int i = 0; i < 60; i++) {
            random_batch(&g, &b, &clock, 1000, 0);
            rows += b.count;
            REQUIRE(agg_op_push(s, &b) == 0);
            REQUIRE(agg_op_push(p[rng_below(&g, 3)], &b) == 0);
            REQUIRE(agg_op_check(s) == 0);
            if (rng_below(&g, 6) == 0)
                REQUIRE(agg_drain(p[rng_below(&g, 3)], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
        }
        for (int k = 0; k < 3; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
        RowSet a = {0}, c = {0};
        CHECK(agg_drain(s, DRAIN_FLUSH, 0, &out, &a, NULL) > 12);
        CHECK(agg_drain(f, DRAIN_FLUSH, 0, &out, &c, NULL) > 12);
        CHECK(rows > 1000);
        CHECK(rows_equal(&a, &c, "simple vs partial+final"));
        rows_free(&a);
        rows_free(&c);
        batch_destroy(&b);
        batch_destroy(&pout);
        batch_destroy(&out);
        agg_op_free(s);
        for (int i = 0; i < 3; i++) agg_op_free(p[i]);
        agg_op_free(f);
    }
}

/* the same through windows and watermarks: rows out of order within 8 s,
 * watermark = max time - 3 s, so some rows are late — alike in both */
static void windowed_two_phase(WindowFnKind kind, int64_t size, int64_t slide, uint64_t seed)
{
    static SqlType   wt[NCOLS + 3];
    static const int keys[3] = {NCOLS, NCOLS + 1, C_K};
    Rng              g = {seed};
    WindowSpec       ws = {kind, C_TS, size, slide, 0, NCOLS, in_t, 0};
    WindowOp        *w = window_op_new(&ws, NULL, 0);
    REQUIRE(w != NULL);
    window_op_output_types(w, wt);
    AggOpSpec ss = agg_spec(AGG_PHASE_SIMPLE, NCOLS + 3, wt, 3, keys, NRND, rnd_aggs);
    ss.wstart_key = 0;
    ss.wend_key = 1;
    AggOpSpec ps = ss;
    ps.phase = AGG_PHASE_PARTIAL;
    AggOp *s = agg_op_new(&ss, NULL, 0), *p[3];
    REQUIRE(s != NULL);
    for (int i = 0; i < 3; i++) REQUIRE((p[i] = agg_op_new(&ps, NULL, 0)) != NULL);
    AggColSpec fa[NRND];
    int        fk[3];
    SqlType    pt[2 * NRND + 3];
    AggOpSpec  fs = agg_final_of(p[0], &ps, fa, fk, pt);
    AggOp     *f = agg_op_new(&fs, NULL, 0);
    REQUIRE(f != NULL);
    Batch b, pout, out;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(p[0], &pout, 0) == 0);
    REQUIRE(agg_out_init(s, &out, 0) == 0);
    RowSet  a = {0}, c = {0};
    int64_t clock = 0, maxts = INT64_MIN;
    for (int i = 0; i < 50; i++) {
        random_batch(&g, &b, &clock, 50 * USEC_PER_MSEC, 8 * SEC);
        for (int r = 0; r < b.count; r++) {
            int64_t ts = vector_i64(&b.cols[C_TS])[batch_row(&b, r)];
            if (ts > maxts) maxts = ts;
        }
        int more;
        do {
            const Batch *wb;
            REQUIRE(window_op_apply(w, &b, &wb, &more) >= 0);
            REQUIRE(agg_op_push(s, wb) == 0);
            REQUIRE(agg_op_push(p[rng_below(&g, 3)], wb) == 0);
        } while (more);
        if (rng_below(&g, 3) == 0) {
            /* a burst ends: partials flush, then the watermark moves */
            for (int k = 0; k < 3; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
            REQUIRE(agg_drain(s, DRAIN_ADVANCE, maxts - 3 * SEC, &out, &a, NULL) >= 0);
            REQUIRE(agg_drain(f, DRAIN_ADVANCE, maxts - 3 * SEC, &out, &c, NULL) >= 0);
        }
    }
    for (int k = 0; k < 3; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
    REQUIRE(agg_drain(s, DRAIN_FLUSH, 0, &out, &a, NULL) >= 0);
    REQUIRE(agg_drain(f, DRAIN_FLUSH, 0, &out, &c, NULL) >= 0);
    CHECK(a.n > 100);
    CHECK(rows_equal(&a, &c, "windowed simple vs partial+final"));
    CHECK(agg_op_late_rows(s) > 0);
    /* FINAL sees SIMPLE's late rows again, as (fewer) partial rows for closed windows */
    CHECK(agg_op_late_rows(f) > 0 && agg_op_late_rows(f) <= agg_op_late_rows(s));
    rows_free(&a);
    rows_free(&c);
    batch_destroy(&b);
    batch_destroy(&pout);
    batch_destroy(&out);
    window_op_free(w);
    agg_op_free(s);
    for (int i = 0; i < 3; i++) agg_op_free(p[i]);
    agg_op_free(f);
}

TEST(agg_random_windowed_partial_final_equals_simple)
{
    windowed_two_phase(WINDOW_FN_TUMBLE, 2 * SEC, 0, 11);
    windowed_two_phase(WINDOW_FN_HOP, 4 * SEC, 1 * SEC, 12);
    windowed_two_phase(WINDOW_FN_CUMULATE, 6 * SEC, 2 * SEC, 13);
}

/* ---- windows vs brute force ------------------------------------------------------------ */

typedef struct Tup {
    int64_t ws, we, k, x;
    int     knull, xnull;
} Tup;

static int tup_cmp(const void *a, const void *b)
{
    const Tup *x = a, *y = b;
    if (x->ws != y->ws) return x->ws < y->ws ? -1 : 1;
    if (x->we != y->we) return x->we < y->we ? -1 : 1;
    if (x->knull != y->knull) return x->knull - y->knull;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return q * b > a ? q - 1 : q;
}

static void fmt_ts(char *buf, size_t cap, int64_t t)
{
    ts_format(t, buf, cap, 0);
}

static void windows_vs_brute(WindowFnKind kind, int64_t size, int64_t slide, uint64_t seed)
{
    static SqlType          wt[NCOLS + 3];
    static const int        keys[3] = {NCOLS, NCOLS + 1, C_K};
    static const AggColSpec aggs[3] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_MIN, C_X)};
    Rng                     g = {seed};
    WindowSpec              ws = {kind, C_TS, size, slide, 0, NCOLS, in_t, 0};
    WindowOp               *w = window_op_new(&ws, NULL, 0);
    REQUIRE(w != NULL);
    window_op_output_types(w, wt);
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS + 3, wt, 3, keys, 3, aggs);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch b, out;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    Tup    *tups = NULL;
    size_t  nt = 0, ct = 0;
    int64_t clock = -60 * SEC;   /* negative times too */
    for (int i = 0; i < 40; i++) {
        random_batch(&g, &b, &clock, 100 * USEC_PER_MSEC, 5 * SEC);
        for (int c = 0; c < NCOLS; c++) vector_flatten(&b.cols[c], b.nrows);
        for (int i2 = 0; i2 < b.count; i2++) {
            int     r = batch_row(&b, i2);
            int64_t ts = vector_i64(&b.cols[C_TS])[r];
            int64_t lo = kind == WINDOW_FN_HOP ? floor_div(ts - size, slide) * slide : floor_div(ts, size) * size;
            for (int64_t s0 = lo; s0 <= ts; s0 += kind == WINDOW_FN_HOP ? slide : size) {
                int64_t ends[64];
                int     ne = 0;
                if (kind == WINDOW_FN_CUMULATE)
                    for (int64_t e = s0 + slide; e <= s0 + size; e += slide) {
                        if (e > ts) ends[ne++] = e;
                    }
                else if (ts < s0 + size) ends[ne++] = s0 + size;
                for (int e = 0; e < ne; e++) {
                    if (nt == ct) {
                        ct = ct ? 2 * ct : 4096;
                        tups = realloc(tups, ct * sizeof *tups);
                    }
                    Tup t = {s0, ends[e], vector_i64(&b.cols[C_K])[r], vector_i64(&b.cols[C_X])[r],
                             vector_is_null(&b.cols[C_K], r), vector_is_null(&b.cols[C_X], r)};
                    if (t.knull) t.k = 0;
                    tups[nt++] = t;
                }
            }
        }
        int more;
        do {
            const Batch *wb;
            REQUIRE(window_op_apply(w, &b, &wb, &more) >= 0);
            REQUIRE(agg_op_push(op, wb) == 0);
        } while (more);
    }
    RowSet got = {0}, want = {0};
    REQUIRE(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL) > 0);
    qsort(tups, nt, sizeof *tups, tup_cmp);
    for (size_t i = 0; i < nt;) {
        size_t  j = i;
        int64_t cnt = 0, sum = 0, mn = INT64_MAX;
        int     any = 0;
        for (; j < nt && tup_cmp(&tups[i], &tups[j]) == 0; j++) {
            cnt++;
            if (tups[j].xnull) continue;
            any = 1;
            sum += tups[j].x;
            if (tups[j].x < mn) mn = tups[j].x;
        }
        char s0[48], e0[48], k[24], row[256], sm[24], mi[24];
        fmt_ts(s0, sizeof s0, tups[i].ws);
        fmt_ts(e0, sizeof e0, tups[i].we);
        snprintf(k, sizeof k, tups[i].knull ? "NULL" : "%lld", (long long)tups[i].k);
        snprintf(sm, sizeof sm, any ? "%lld" : "NULL", (long long)sum);
        snprintf(mi, sizeof mi, any ? "%lld" : "NULL", (long long)mn);
        snprintf(row, sizeof row, "%s|%s|%s|%lld|%s|%s", s0, e0, k, (long long)cnt, sm, mi);
        rows_add(&want, row);
        i = j;
    }
    CHECK(want.n > 50);
    CHECK(rows_equal(&got, &want, "windows vs brute force"));
    rows_free(&got);
    rows_free(&want);
    free(tups);
    batch_destroy(&b);
    batch_destroy(&out);
    window_op_free(w);
    agg_op_free(op);
}

TEST(agg_windows_match_brute_force)
{
    windows_vs_brute(WINDOW_FN_TUMBLE, 3 * SEC, 0, 21);
    windows_vs_brute(WINDOW_FN_HOP, 5 * SEC, 2 * SEC, 22);
    windows_vs_brute(WINDOW_FN_HOP, 1 * SEC, 3 * SEC, 23);
    windows_vs_brute(WINDOW_FN_CUMULATE, 8 * SEC, 2 * SEC, 24);
}

/* ---- sessions ------------------------------------------------------------------------------ */

/* sessions keyed by k: COUNT(*), SUM(x), MIN(x), MAX(x), MAX(str),
 * COUNT(DISTINCT x), then APPROX_COUNT_DISTINCT(x) last */
static const AggColSpec sess_aggs[7] = {
    A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X), A(AGGFN_MIN, C_X), A(AGGFN_MAX, C_X),
    A(AGGFN_MAX, C_STR), A(AGGFN_COUNT_DISTINCT, C_X), A(AGGFN_APPROX_COUNT_DISTINCT, C_X)};
static const int sess_keys[3] = {NCOLS, NCOLS + 1, C_K};

typedef struct SessRig {
    WindowOp *w;
    AggOp    *s;        /* SIMPLE                        */
    AggOp    *p[3];     /* PARTIAL (optional)            */
    AggOp    *f;        /* FINAL                         */
    Batch     in, out, pout;
    int64_t   gap;
} SessRig;

static int rig_open(SessRig *r, int64_t gap, int two_phase, int changes)
{
    static SqlType wt[NCOLS + 3];
    static SqlType pt[32];
    static AggColSpec fa[7];
    static int        fk[3];
    memset(r, 0, sizeof *r);
    r->gap = gap;
    WindowSpec ws = {WINDOW_FN_SESSION, C_TS, 0, 0, gap, NCOLS, in_t, 0};
    if (!(r->w = window_op_new(&ws, NULL, 0))) return -1;
    window_op_output_types(r->w, wt);
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS + 3, wt, 3, sess_keys, 7, sess_aggs);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    sp.session = 1;
    sp.emit_changes = changes;
    char why[200];
    if (!(r->s = agg_op_new(&sp, why, sizeof why))) {
        printf("  %s\n", why);
        return -1;
    }
    if (two_phase) {
        AggOpSpec ps = sp;
        ps.phase = AGG_PHASE_PARTIAL;
        ps.emit_changes = 0;
        for (int i = 0; i < 3; i++)
            if (!(r->p[i] = agg_op_new(&ps, NULL, 0))) return -1;
        AggOpSpec fs = agg_final_of(r->p[0], &ps, fa, fk, pt);
        if (!(r->f = agg_op_new(&fs, why, sizeof why))) {
            printf("  %s\n", why);
            return -1;
        }
        if (agg_out_init(r->p[0], &r->pout, 0) < 0) return -1;
    }
    if (batch_init(&r->in, NCOLS, in_t, 0) < 0) return -1;
    return agg_out_init(r->s, &r->out, 0);
}

static void rig_close(SessRig *r)
{
    window_op_free(r->w);
    agg_op_free(r->s);
    for (int i = 0; i < 3; i++) agg_op_free(r->p[i]);
    agg_op_free(r->f);
    batch_destroy(&r->in);
    batch_destroy(&r->out);
    batch_destroy(&r->pout);
}

/* push r->in through the window op into SIMPLE (and a random partial) */
static int rig_push(SessRig *r, Rng *g)
{
    int more;
    do {
        const Batch *wb;
        if (window_op_apply(r->w, &r->in, &wb, &more) < 0) return -1;
        if (agg_op_push(r->s, wb) < 0) {
            printf("  push: %s\n", agg_op_error(r->s));
            return -1;
        }
        if (r->p[0] && agg_op_push(r->p[g ? rng_below(g, 3) : 0], wb) < 0) return -1;
    } while (more);
    if (agg_op_check(r->s) < 0) {
        printf("  %s\n", agg_op_error(r->s));
        return -1;
    }
    return 0;
}

/* one event row: key k, value x at time ts */
static void ev_row(Batch *b, int64_t k, int64_t x, int64_t ts)
{
    char row[200];
    snprintf(row, sizeof row, "%lld|s|%lld|0|s%02lld|t|%lld|0", (long long)k, (long long)x,
             (long long)(x % 37 < 0 ? -(x % 37) : x % 37), (long long)ts);
    add_row(b, row);
}

/* A and C, then B bridging them: one session, in one batch or three */
TEST(agg_session_out_of_order_bridge)
{
    for (int split = 0; split < 2; split++) {
        SessRig r;
        REQUIRE(rig_open(&r, 10 * SEC, 0, 0) == 0);
        int64_t t[4] = {0, 15 * SEC, 7 * SEC, 40 * SEC};   /* A, C, B; then D apart */
        for (int i = 0; i < 4; i++) {
            if (split || i == 0) batch_reset(&r.in);
            ev_row(&r.in, 1, i + 1, t[i]);
            ev_row(&r.in, 2, 100, t[i] * 3);               /* key 2: never merges */
            if (split || i == 3) REQUIRE(rig_push(&r, NULL) == 0);
            if (split && i == 1) CHECK_EQ_INT(agg_op_groups(r.s), 4);   /* A and C apart */
        }
        CHECK_EQ_INT(agg_op_groups(r.s), 2 + 4);
        RowSet got = {0}, want = {0};
        CHECK_EQ_INT(agg_drain(r.s, DRAIN_ADVANCE, 25 * SEC - 1, &r.out, &got, NULL), 1);   /* key 2's [0,10) */
        rows_free(&got);
        CHECK_EQ_INT(agg_drain(r.s, DRAIN_ADVANCE, 25 * SEC, &r.out, &got, NULL), 1);
        rows_add(&want, "1970-01-01 00:00:00|1970-01-01 00:00:25|1|3|6|1|3|s03|3|3");
        CHECK(rows_equal(&got, &want, "bridged session"));
        rows_free(&got);
        rows_free(&want);
        CHECK_EQ_INT(agg_drain(r.s, DRAIN_FLUSH, 0, &r.out, &got, NULL), 4);
        CHECK_EQ_INT(agg_op_groups(r.s), 0);
        rows_free(&got);
        rig_close(&r);
    }
}

/* brute-force sessions over events (k, x, ts) with k >= 0 */
typedef struct Ev {
    int64_t k, x, ts;
} Ev;

static int ev_cmp(const void *a, const void *b)
{
    const Ev *x = a, *y = b;
    if (x->k != y->k) return x->k < y->k ? -1 : 1;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    return x->x < y->x ? -1 : x->x > y->x;
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* rows "start|end|k|count|sum|min|max|maxstr|distinct" (APPROX left out) */
static void brute_sessions(Ev *ev, int n, int64_t gap, RowSet *out)
{
    qsort(ev, (size_t)n, sizeof *ev, ev_cmp);
    int64_t *xs = malloc((size_t)n * sizeof *xs);
    for (int i = 0; i < n;) {
        int64_t start = ev[i].ts, end = ev[i].ts + gap;
        int     j = i + 1;
        while (j < n && ev[j].k == ev[i].k && ev[j].ts <= end) {
            if (ev[j].ts + gap > end) end = ev[j].ts + gap;
            j++;
        }
        int64_t sum = 0, mn = INT64_MAX, mx = INT64_MIN, best = -1;
        for (int q = i; q < j; q++) {
            sum += ev[q].x;
            mn = ev[q].x < mn ? ev[q].x : mn;
            mx = ev[q].x > mx ? ev[q].x : mx;
            int64_t m = ev[q].x % 37 < 0 ? -(ev[q].x % 37) : ev[q].x % 37;
            best = m > best ? m : best;
            xs[q - i] = ev[q].x;
        }
        qsort(xs, (size_t)(j - i), sizeof *xs, i64_cmp);
        int distinct = 0;
        for (int q = 0; q < j - i; q++) distinct += q == 0 || xs[q] != xs[q - 1];
        char s0[48], e0[48], row[256];
        fmt_ts(s0, sizeof s0, start);
        fmt_ts(e0, sizeof e0, end);
        snprintf(row, sizeof row, "%s|%s|%lld|%d|%lld|%lld|%lld|s%02lld|%d", s0, e0, (long long)ev[i].k,
                 j - i, (long long)sum, (long long)mn, (long long)mx, (long long)best, distinct);
        rows_add(out, row);
        i = j;
    }
    free(xs);
}

/* strip the APPROX column (last) after checking it is within 1 of the
 * exact distinct count (the column before it) */
static int strip_approx(RowSet *s)
{
    int ok = 1;
    for (int i = 0; i < s->n; i++) {
        char *last = strrchr(s->r[i], '|');
        *last = '\0';
        char     *prev = strrchr(s->r[i], '|');
        long long exact = atoll(prev + 1), approx = atoll(last + 1);
        if (llabs(exact - approx) > 1) ok = 0;
    }
    return ok;
}

/* random order, random batches, flush at the end: SIMPLE and PARTIAL →
 * FINAL (partials flushed in bursts, so FINAL merges partial sessions
 * that overlap) against the brute force */
TEST(agg_session_random_vs_brute_force)
{
    for (int seed = 1; seed <= 2; seed++) {
        Rng     g = {(uint64_t)seed * 104729};
        SessRig r;
        REQUIRE(rig_open(&r, 5 * SEC, 1, 0) == 0);
        int n = 6000;
        Ev *ev = malloc((size_t)n * sizeof *ev);
        for (int i = 0; i < n; i++) {
            ev[i].k = rng_below(&g, 15);
            ev[i].x = rng_below(&g, 200) - 50;
            ev[i].ts = rng_below(&g, 3000 * SEC) - 1000 * SEC;
        }
        for (int i = 0; i < n;) {
            batch_reset(&r.in);
            int m = 1 + (int)rng_below(&g, 700);
            for (int j = 0; j < m && i < n; j++, i++) ev_row(&r.in, ev[i].k, ev[i].x, ev[i].ts);
            REQUIRE(rig_push(&r, &g) == 0);
            if (rng_below(&g, 4) == 0)
                REQUIRE(agg_drain(r.p[rng_below(&g, 3)], DRAIN_FLUSH, 0, &r.pout, NULL, r.f) >= 0);
        }
        for (int k = 0; k < 3; k++) REQUIRE(agg_drain(r.p[k], DRAIN_FLUSH, 0, &r.pout, NULL, r.f) >= 0);
        RowSet got = {0}, fin = {0}, want = {0};
        CHECK(agg_drain(r.s, DRAIN_FLUSH, 0, &r.out, &got, NULL) > 100);
        CHECK(agg_drain(r.f, DRAIN_FLUSH, 0, &r.out, &fin, NULL) > 100);
        CHECK(rows_equal(&got, &fin, "session simple vs partial+final"));
        CHECK(strip_approx(&got));
        brute_sessions(ev, n, 5 * SEC, &want);
        CHECK(rows_equal(&got, &want, "sessions vs brute force"));
        CHECK_EQ_INT(agg_op_groups(r.s), 0);
        rows_free(&got);
        rows_free(&fin);
        rows_free(&want);
        free(ev);
        rig_close(&r);
    }
}

/* events in time order, the watermark just behind: sessions are emitted as
 * they close (none late), the state stays small, and the arenas of the
 * variable-size states (HLL registers, sets) are compacted as sessions die */
TEST(agg_session_watermark_emission_and_compaction)
{
    Rng     g = {77};
    SessRig r;
    REQUIRE(rig_open(&r, 30 * SEC, 0, 0) == 0);
    int     n = 30000;
    Ev     *ev = malloc((size_t)n * sizeof *ev);
    int64_t clock = 0;
    for (int i = 0; i < n; i++) {
        clock += rng_below(&g, 3 * SEC);
        ev[i].k = rng_below(&g, 20);
        ev[i].x = rng_below(&g, 30);
        ev[i].ts = clock;
    }
    RowSet got = {0}, want = {0};
    size_t peak = 0;
    for (int i = 0; i < n;) {
        batch_reset(&r.in);
        int m = 1 + (int)rng_below(&g, 300);
        for (int j = 0; j < m && i < n; j++, i++) ev_row(&r.in, ev[i].k, ev[i].x, ev[i].ts);
        REQUIRE(rig_push(&r, NULL) == 0);
        REQUIRE(agg_drain(r.s, DRAIN_ADVANCE, ev[i - 1].ts - 1, &r.out, &got, NULL) >= 0);
        CHECK(agg_op_groups(r.s) <= 20);
        size_t sb = agg_op_state_bytes(r.s);
        peak = sb > peak ? sb : peak;
    }
    CHECK_EQ_INT(agg_op_late_rows(r.s), 0);
    CHECK(got.n > 3000);
    REQUIRE(agg_drain(r.s, DRAIN_FLUSH, 0, &r.out, &got, NULL) >= 0);
    CHECK(strip_approx(&got));
    brute_sessions(ev, n, 30 * SEC, &want);
    CHECK(rows_equal(&got, &want, "watermark sessions vs brute force"));
    /* thousands of sessions with a 4 KiB sketch each came and went; live
     * state stayed bounded by the ~20 open ones (compaction at 1 MiB) */
    CHECK(peak < 4 * 1024 * 1024);
    rows_free(&got);
    rows_free(&want);
    free(ev);
    rig_close(&r);
}

/* EMIT CHANGES over sessions: growth and merges retract emitted rows */
TEST(agg_session_changes_retract)
{
    SessRig r;
    REQUIRE(rig_open(&r, 10 * SEC, 0, 1) == 0);
    SqlType ot[16];
    CHECK_EQ_INT(agg_op_output_types(r.s, ot), 11);
    Batch one;   /* a -D/+I pair must fit: one-row output batches are refused */
    REQUIRE(batch_init(&one, 11, ot, 1) == 0);
    int more;
    CHECK(agg_op_changes(r.s, &one, &more) < 0);
    CHECK(agg_op_advance(r.s, 0, &one, &more) < 0);
    batch_destroy(&one);
    RowSet got = {0}, want = {0};
    batch_reset(&r.in);
    ev_row(&r.in, 1, 1, 0);
    ev_row(&r.in, 1, 2, 30 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_CHANGES, 0, &r.out, &got, NULL), 2);
    rows_add(&want, "0|1970-01-01 00:00:00|1970-01-01 00:00:10|1|1|1|1|1|s01|1|1");
    rows_add(&want, "0|1970-01-01 00:00:30|1970-01-01 00:00:40|1|1|2|2|2|s02|1|1");
    CHECK(rows_equal(&got, &want, "inserts"));
    rows_free(&got);
    rows_free(&want);

    /* same bounds: +U */
    batch_reset(&r.in);
    ev_row(&r.in, 1, 3, 30 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_CHANGES, 0, &r.out, &got, NULL), 1);
    rows_add(&want, "1|1970-01-01 00:00:30|1970-01-01 00:00:40|1|2|5|2|3|s03|2|2");
    CHECK(rows_equal(&got, &want, "update"));
    rows_free(&got);
    rows_free(&want);

    /* grows: [0,10) → [0,20): -D old, +I new */
    batch_reset(&r.in);
    ev_row(&r.in, 1, 4, 10 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_CHANGES, 0, &r.out, &got, NULL), 2);
    rows_add(&want, "2|1970-01-01 00:00:00|1970-01-01 00:00:10|1|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
    rows_add(&want, "0|1970-01-01 00:00:00|1970-01-01 00:00:20|1|2|5|1|4|s04|2|2");
    CHECK(rows_equal(&got, &want, "growth"));
    rows_free(&got);
    rows_free(&want);

    /* a row at 20 s bridges [0,20) and [30,40): both retracted, one insert */
    batch_reset(&r.in);
    ev_row(&r.in, 1, 5, 20 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_op_groups(r.s), 1);
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_CHANGES, 0, &r.out, &got, NULL), 3);
    rows_add(&want, "2|1970-01-01 00:00:00|1970-01-01 00:00:20|1|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
    rows_add(&want, "2|1970-01-01 00:00:30|1970-01-01 00:00:40|1|NULL|NULL|NULL|NULL|NULL|NULL|NULL");
    rows_add(&want, "0|1970-01-01 00:00:00|1970-01-01 00:00:40|1|5|15|1|5|s05|5|5");
    CHECK(rows_equal(&got, &want, "bridge"));
    rows_free(&got);
    rows_free(&want);

    /* closing: nothing pending, so nothing more; the key is gone */
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_ADVANCE, 40 * SEC, &r.out, &got, NULL), 0);
    CHECK_EQ_INT(agg_op_groups(r.s), 0);
    /* a change pending at close is emitted by the advance */
    batch_reset(&r.in);
    ev_row(&r.in, 2, 7, 50 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_drain(r.s, DRAIN_ADVANCE, 60 * SEC, &r.out, &got, NULL), 1);
    rows_add(&want, "0|1970-01-01 00:00:50|1970-01-01 00:01:00|2|1|7|7|7|s07|1|1");
    CHECK(rows_equal(&got, &want, "closing change"));
    /* late for a closed session */
    batch_reset(&r.in);
    ev_row(&r.in, 2, 7, 49 * SEC);
    REQUIRE(rig_push(&r, NULL) == 0);
    CHECK_EQ_INT(agg_op_late_rows(r.s), 1);
    rows_free(&got);
    rows_free(&want);
    rig_close(&r);
}

/* events out of order (up to 20 s) with a 5 s gap: late rows bridge
 * sessions all the time. The watermark trails by the disorder, so nothing
 * is late; every session must come out at the first watermark that
 * reaches its end — not before (its end > the previous watermark) and not
 * after (the union equals the brute force) — which needs the end heap to
 * stay ordered as sessions grow and merge */
TEST(agg_session_disorder_emits_on_time)
{
    for (int phase = 0; phase < 2; phase++) {
        Rng     g = {991 + (uint64_t)phase};
        SessRig r;
        REQUIRE(rig_open(&r, 5 * SEC, phase, 0) == 0);
        int     n = 12000, early = 0, wrong = 0;
        Ev     *ev = malloc((size_t)n * sizeof *ev);
        int64_t clock = 0, maxts = INT64_MIN, prev_wm = INT64_MIN;
        for (int i = 0; i < n; i++) {
            clock += rng_below(&g, 1 * SEC);
            ev[i].k = rng_below(&g, 40);
            ev[i].x = rng_below(&g, 40);
            ev[i].ts = clock - rng_below(&g, 20 * SEC);
        }
        RowSet got = {0}, want = {0};
        AggOp *emitter = phase ? r.f : r.s;
        for (int i = 0; i < n;) {
            batch_reset(&r.in);
            int m = 1 + (int)rng_below(&g, 200);
            for (int j = 0; j < m && i < n; j++, i++) {
                ev_row(&r.in, ev[i].k, ev[i].x, ev[i].ts);
                maxts = ev[i].ts > maxts ? ev[i].ts : maxts;
            }
            REQUIRE(rig_push(&r, &g) == 0);
            if (phase)
                for (int k = 0; k < 3; k++) REQUIRE(agg_drain(r.p[k], DRAIN_FLUSH, 0, &r.pout, NULL, r.f) >= 0);
            int64_t wm = maxts - 20 * SEC - 1;
            int     before = got.n;
            REQUIRE(agg_drain(emitter, DRAIN_ADVANCE, wm, &r.out, &got, NULL) >= 0);
            for (int q = before; q < got.n; q++) {
                const char *p = strchr(got.r[q], '|') + 1;
                int64_t     end;
                REQUIRE(ts_parse(p, (size_t)(strchr(p, '|') - p), &end) == 0);
                early += end > wm;
                wrong += end <= prev_wm;
            }
            prev_wm = wm > prev_wm ? wm : prev_wm;
        }
        CHECK_EQ_INT(early, 0);
        CHECK_EQ_INT(wrong, 0);
        CHECK_EQ_INT(agg_op_late_rows(emitter), 0);
        REQUIRE(agg_drain(emitter, DRAIN_FLUSH, 0, &r.out, &got, NULL) >= 0);
        CHECK(strip_approx(&got));
        brute_sessions(ev, n, 5 * SEC, &want);
        CHECK(want.n > 1000);
        CHECK(rows_equal(&got, &want, "disordered sessions vs brute force"));
        rows_free(&got);
        rows_free(&want);
        free(ev);
        rig_close(&r);
    }
}

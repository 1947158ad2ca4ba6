/*
 * test_exec_agg.c — exec/agg: every aggregate in every phase with NULLs and
 * FILTER, the partial-state encodings, SUM overflow, windowed emission at
 * the watermark boundary and late rows, EMIT CHANGES marks, COUNT DISTINCT,
 * HyperLogLog accuracy and sketches, VARCHAR keys with table growth,
 * output in parts, constant and selected inputs, state bytes after windows
 * close, no allocation in steady state, spec and input errors.
 */
#include <malloc.h>
#include <math.h>

#include "exec/hash.h"
#include "exec/hll.h"
#include "tests/unit/test_exec_agg_util.h"

#define SEC USEC_PER_SEC

/* input: k, s, x, d, str, f, ts, iv */
enum { C_K, C_S, C_X, C_D, C_STR, C_F, C_TS, C_IV, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT,  TYPE_VARCHAR, TYPE_BIGINT,    TYPE_DOUBLE,
                                    TYPE_VARCHAR, TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_INTERVAL};

#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
#define AF(fn, arg, filt) {fn, arg, filt, TYPE_NULL, TYPE_NULL}

static const AggColSpec all_aggs[] = {
    A(AGGFN_COUNT_STAR, -1),
    A(AGGFN_COUNT, C_X),
    A(AGGFN_COUNT_DISTINCT, C_X),
    A(AGGFN_SUM, C_X),
    A(AGGFN_AVG, C_X),
    A(AGGFN_MIN, C_X),
    A(AGGFN_MAX, C_X),
    A(AGGFN_SUM, C_D),
    A(AGGFN_AVG, C_D),
    A(AGGFN_MIN, C_STR),
    A(AGGFN_MAX, C_STR),
    A(AGGFN_APPROX_COUNT_DISTINCT, C_STR),
    AF(AGGFN_COUNT_STAR, -1, C_F),
    AF(AGGFN_SUM, C_X, C_F),
    A(AGGFN_SUM, C_IV),
    A(AGGFN_MAX, C_F),
    A(AGGFN_COUNT_DISTINCT, C_STR),
    A(AGGFN_MIN, C_TS),
    AF(AGGFN_MIN, C_STR, C_F),
    A(AGGFN_MAX, C_D),
};
#define NALL ((int)(sizeof all_aggs / sizeof *all_aggs))

static const char *const rows_all[] = {
    "1|a|10|1.5|pear|t|100000000|5000000",
    "1|a|NULL|NULL|NULL|f|200000000|NULL",
    "1|b|10|2.5|apple|NULL|50000000|7000000",
    "1|a|-3|NULL|zoo|t|300000000|1000000",
    "2|NULL|NULL|NULL|NULL|NULL|NULL|NULL",
    "NULL|c|7|0.5|mid|f|10000000|2000000",
};

static const char *const want_all[] = {
    "1|4|3|2|17|5.666666666666667|-3|10|4.0|2.0|apple|zoo|3|2|7|13 seconds|true|3|"
    "1970-01-01 00:00:50|pear|2.5",
    "2|1|0|0|NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|0|0|NULL|NULL|NULL|0|NULL|NULL|NULL",
    "NULL|1|1|1|7|7.0|7|7|0.5|0.5|mid|mid|1|0|NULL|2 seconds|false|1|1970-01-01 00:00:10|NULL|0.5",
};

static void want_rows(RowSet *s, const char *const *rows, int n)
{
    for (int i = 0; i < n; i++) rows_add(s, rows[i]);
}

/* push the rows into op, one batch each of `per` rows */
static int push_rows(AggOp *op, const char *const *rows, int n, int per)
{
    Batch b;
    if (batch_init(&b, NCOLS, in_t, 0) < 0) return -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i += per) {
        batch_reset(&b);
        for (int j = i; j < i + per && j < n; j++) add_row(&b, rows[j]);
        rc = agg_op_push(op, &b);
        if (rc < 0) printf("  push: %s\n", agg_op_error(op));
    }
    batch_destroy(&b);
    return rc;
}

TEST(agg_simple_every_aggregate_nulls_filter)
{
    static const int keys[1] = {C_K};
    AggOpSpec        sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, NALL, all_aggs);
    char             why[200];
    AggOp           *op = agg_op_new(&sp, why, sizeof why);
    REQUIRE(op != NULL);
    REQUIRE(push_rows(op, rows_all, 6, 4) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 3);
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 3);
    want_rows(&want, want_all, 3);
    CHECK(rows_equal(&got, &want, "simple"));
    CHECK_EQ_INT(agg_op_groups(op), 0);
    /* a flush after the flush emits nothing: the groups are gone */
    rows_free(&got);
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 0);
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&out);
    agg_op_free(op);
}

/* the same rows split over partial operators (row by row, alternating),
 * flushed in bursts into one FINAL: the same result as SIMPLE */
TEST(agg_partial_final_every_aggregate)
{
    static const int keys[1] = {C_K};
    AggOpSpec        ps = agg_spec(AGG_PHASE_PARTIAL, NCOLS, in_t, 1, keys, NALL, all_aggs);
    char             why[200];
    AggOp           *p[3];
    for (int i = 0; i < 3; i++) REQUIRE((p[i] = agg_op_new(&ps, why, sizeof why)) != NULL);
    AggColSpec fa[NALL];
    int        fk[1];
    SqlType    pt[64];
    AggOpSpec  fs = agg_final_of(p[0], &ps, fa, fk, pt);
    AggOp     *f = agg_op_new(&fs, why, sizeof why);
    if (!f) printf("  %s\n", why);
    REQUIRE(f != NULL);
    /* partial output types: the documented state columns */
    CHECK(pt[1] == TYPE_BIGINT && pt[3] == TYPE_VARCHAR && pt[5] == TYPE_DOUBLE && pt[6] == TYPE_BIGINT);
    CHECK(pt[17] == TYPE_INTERVAL && pt[18] == TYPE_BOOLEAN && pt[20] == TYPE_TIMESTAMP);

    Batch out;
    REQUIRE(agg_out_init(p[0], &out, 0) == 0);
    for (int i = 0; i < 6; i++) {
        REQUIRE(push_rows(p[i % 3], rows_all + i, 1, 1) == 0);
        if (i == 3) CHECK(agg_drain(p[0], DRAIN_FLUSH, 0, &out, NULL, f) >= 0);   /* a burst */
    }
    for (int i = 0; i < 3; i++) CHECK(agg_drain(p[i], DRAIN_FLUSH, 0, &out, NULL, f) >= 0);
    Batch fout;
    REQUIRE(agg_out_init(f, &fout, 0) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(f, DRAIN_FLUSH, 0, &fout, &got, NULL), 3);
    want_rows(&want, want_all, 3);
    CHECK(rows_equal(&got, &want, "partial+final"));
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&out);
    batch_destroy(&fout);
    for (int i = 0; i < 3; i++) agg_op_free(p[i]);
    agg_op_free(f);
}

/* the partial-state columns, byte for byte where the encoding is fixed */
TEST(agg_partial_state_encodings)
{
    static const int        keys[1] = {C_K};
    static const AggColSpec aggs[] = {
        A(AGGFN_COUNT_DISTINCT, C_X), A(AGGFN_COUNT_DISTINCT, C_STR), A(AGGFN_AVG, C_X),
        A(AGGFN_APPROX_COUNT_DISTINCT, C_X), A(AGGFN_SUM, C_X), A(AGGFN_COUNT_DISTINCT, C_D),
        A(AGGFN_COUNT_DISTINCT, C_F), A(AGGFN_MIN, C_STR)};
    AggOpSpec sp = agg_spec(AGG_PHASE_PARTIAL, NCOLS, in_t, 1, keys, 8, aggs);
    AggOp    *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    static const char *const rows[] = {
        "1|a|10|1.0|ab|t|0|0",
        "1|a|-3|1.0|ab|t|0|0",
        "1|a|10|NULL|ab|f|0|0",
        "2|a|NULL|NULL|NULL|NULL|0|0",
    };
    REQUIRE(push_rows(op, rows, 4, 4) == 0);
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    int more;
    REQUIRE(agg_op_flush(op, &out, &more) == 2);
    char buf[512];
    for (int i = 0; i < 2; i++) {
        row_text(&out, i, ~(uint64_t)0, buf, sizeof buf);
        if (buf[0] == '1') {
            /* BIGINT {-3, 10}: type 2, n 2, zigzag(-3) = 5, delta 13;
             * VARCHAR {"ab"}: type 4, n 1, len 2, 'a' 'b'; AVG 17.0, 3;
             * HLL: p 12, sparse, 2 registers; SUM 17;
             * DOUBLE {1.0}: type 3, n 1, 8 bytes LE of 0x3ff0000000000000;
             * BOOLEAN {true, false}: type 1, n 2, then 2 bytes; MIN "ab" */
            const char *p = buf;
            CHECK(strncmp(p, "1|0202050d|0401026162|17.0|3|0c010200", 37) == 0);
            p = strchr(p + 37, '|');
            REQUIRE(p != NULL);
            CHECK(strncmp(p, "|17|0301000000000000f03f|0102", 29) == 0);
            CHECK(strcmp(buf + strlen(buf) - 5, "|6162") == 0);
        } else {
            CHECK_EQ_STR(buf, "2|NULL|NULL|0.0|0|NULL|NULL|NULL|NULL|NULL");
        }
    }
    batch_destroy(&out);
    agg_op_free(op);
}

/* SUM(BIGINT) is exact in 128 bits; a total outside (INT64_MIN, INT64_MAX]
 * is NULL; a partial that overflowed is INT64_MIN and makes FINAL NULL */
TEST(agg_sum_overflow_exact_and_sticky)
{
    static const int        keys[1] = {C_K};
    static const AggColSpec aggs[] = {A(AGGFN_SUM, C_X), A(AGGFN_AVG, C_X), A(AGGFN_SUM, C_IV)};
    static const char *const rows[] = {
        "1|a|9223372036854775807|0|a|t|0|9223372036854775807",
        "1|a|1|0|a|t|0|1",
        "2|a|9223372036854775807|0|a|t|0|0",
        "2|a|1|0|a|t|0|0",
        "2|a|-2|0|a|t|0|0",
        "3|a|-9223372036854775807|0|a|t|0|0",
        "3|a|-1|0|a|t|0|0",
        "4|a|-9223372036854775807|0|a|t|0|0",
    };
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, 3, aggs);
    AggOp    *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    REQUIRE(push_rows(op, rows, 8, 3) == 0);
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 4);
    rows_add(&want, "1|NULL|4.611686018427388e+18|NULL");
    rows_add(&want, "2|9223372036854775806|3.0744573456182584e+18|0 seconds");
    rows_add(&want, "3|NULL|-4.611686018427388e+18|0 seconds");
    rows_add(&want, "4|-9223372036854775807|-9.223372036854776e+18|0 seconds");
    CHECK(rows_equal(&got, &want, "sum"));
    batch_destroy(&out);
    agg_op_free(op);
    rows_free(&got);
    rows_free(&want);

    /* two phases: key 1 overflows in one partial; key 2 only overall */
    sp.phase = AGG_PHASE_PARTIAL;
    AggOp *p1 = agg_op_new(&sp, NULL, 0), *p2 = agg_op_new(&sp, NULL, 0);
    REQUIRE(p1 && p2);
    REQUIRE(push_rows(p1, rows, 2, 2) == 0);          /* key 1: MAX + 1 in one partial */
    /* the overflow mark is not a number: INT64_MIN + 5 would fit */
    static const char *const more_rows[] = {"1|a|5|0|a|t|0|0", "2|a|9223372036854775807|0|a|t|0|0"};
    REQUIRE(push_rows(p2, more_rows, 2, 2) == 0);
    REQUIRE(agg_out_init(p1, &out, 0) == 0);
    int more;
    REQUIRE(agg_op_flush(p1, &out, &more) == 1);
    CHECK_EQ_INT(vector_i64(&out.cols[1])[0], INT64_MIN);   /* the overflow mark */
    AggColSpec fa[3];
    int        fk[1];
    SqlType    pt[16];
    AggOpSpec  fs = agg_final_of(p1, &sp, fa, fk, pt);
    AggOp     *f = agg_op_new(&fs, NULL, 0);
    REQUIRE(f != NULL);
    REQUIRE(agg_op_push(f, &out) == 0);
    CHECK(agg_drain(p2, DRAIN_FLUSH, 0, &out, NULL, f) == 2);
    batch_destroy(&out);
    REQUIRE(agg_out_init(f, &out, 0) == 0);
    CHECK_EQ_INT(agg_drain(f, DRAIN_FLUSH, 0, &out, &got, NULL), 2);
    rows_add(&want, "1|NULL|3.0744573456182584e+18|NULL");   /* sticky */
    rows_add(&want, "2|9223372036854775807|9.223372036854776e+18|0 seconds");
    CHECK(rows_equal(&got, &want, "two-phase sum"));
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&out);
    agg_op_free(p1);
    agg_op_free(p2);
    agg_op_free(f);
}

/* ---- windows -------------------------------------------------------------------------- */

/* window op (TUMBLE 10 s over ts) + aggregate keyed by window_start,
 * window_end, k: COUNT(*), SUM(x) */
typedef struct WinPipe {
    WindowOp *w;
    AggOp    *a;
    Batch     in, out;
} WinPipe;

static const int        win_keys[3] = {NCOLS, NCOLS + 1, C_K};
static const AggColSpec win_aggs[2] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X)};

static int pipe_open(WinPipe *p, WindowFnKind kind, int64_t size, int64_t slide, int changes)
{
    static SqlType wt[NCOLS + 3];
    memset(p, 0, sizeof *p);
    WindowSpec ws = {kind, C_TS, size, slide, size, NCOLS, in_t, 0};
    if (!(p->w = window_op_new(&ws, NULL, 0))) return -1;
    window_op_output_types(p->w, wt);
    AggOpSpec as = agg_spec(AGG_PHASE_SIMPLE, NCOLS + 3, wt, 3, win_keys, 2, win_aggs);
    as.wstart_key = 0;
    as.wend_key = 1;
    as.session = kind == WINDOW_FN_SESSION;
    as.emit_changes = changes;
    char why[200];
    if (!(p->a = agg_op_new(&as, why, sizeof why))) {
        printf("  %s\n", why);
        return -1;
    }
    if (batch_init(&p->in, NCOLS, in_t, 0) < 0) return -1;
    return agg_out_init(p->a, &p->out, 0);
}

static void pipe_close(WinPipe *p)
{
    window_op_free(p->w);
    agg_op_free(p->a);
    batch_destroy(&p->in);
    batch_destroy(&p->out);
}

/* one row: k, x at ts seconds */
static int pipe_push(WinPipe *p, int64_t k, int64_t x, int64_t ts_us)
{
    char row[160];
    snprintf(row, sizeof row, "%lld|s|%lld|0|z|t|%lld|0", (long long)k, (long long)x, (long long)ts_us);
    batch_reset(&p->in);
    add_row(&p->in, row);
    int more;
    do {
        const Batch *wb;
        if (window_op_apply(p->w, &p->in, &wb, &more) < 0) return -1;
        if (agg_op_push(p->a, wb) < 0) return -1;
    } while (more);
    return 0;
}

static int64_t pipe_advance(WinPipe *p, int64_t wm, RowSet *s)
{
    return agg_drain(p->a, DRAIN_ADVANCE, wm, &p->out, s, NULL);
}

TEST(agg_window_emits_exactly_at_watermark)
{
    WinPipe p;
    REQUIRE(pipe_open(&p, WINDOW_FN_TUMBLE, 10 * SEC, 0, 0) == 0);
    REQUIRE(pipe_push(&p, 1, 1, 1 * SEC) == 0);
    REQUIRE(pipe_push(&p, 1, 2, 2 * SEC) == 0);
    REQUIRE(pipe_push(&p, 2, 3, 10 * SEC - 1) == 0);   /* last µs of [0, 10) */
    REQUIRE(pipe_push(&p, 1, 4, 10 * SEC) == 0);       /* first µs of [10, 20) */
    REQUIRE(pipe_push(&p, 1, 5, 15 * SEC) == 0);
    CHECK_EQ_INT(agg_op_groups(&*p.a), 3);

    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(pipe_advance(&p, 10 * SEC - 1, &got), 0);   /* end > wm: not yet */
    CHECK_EQ_INT(pipe_advance(&p, 10 * SEC, &got), 2);       /* end <= wm: emitted */
    rows_add(&want, "1970-01-01 00:00:00|1970-01-01 00:00:10|1|2|3");
    rows_add(&want, "1970-01-01 00:00:00|1970-01-01 00:00:10|2|1|3");
    CHECK(rows_equal(&got, &want, "first window"));
    CHECK_EQ_INT(agg_op_groups(p.a), 1);
    CHECK_EQ_INT(pipe_advance(&p, 10 * SEC, &got), 0);       /* nothing twice */

    /* late: window [0, 10) is final; [10, 20) still takes rows */
    REQUIRE(pipe_push(&p, 1, 100, 5 * SEC) == 0);
    REQUIRE(pipe_push(&p, 3, 100, 9 * SEC) == 0);
    CHECK_EQ_INT(agg_op_late_rows(p.a), 2);
    REQUIRE(pipe_push(&p, 1, 6, 19 * SEC) == 0);
    CHECK_EQ_INT(agg_op_late_rows(p.a), 2);
    /* a watermark going back is ignored: rows stay late */
    CHECK_EQ_INT(pipe_advance(&p, 5 * SEC, &got), 0);
    REQUIRE(pipe_push(&p, 1, 100, 7 * SEC) == 0);
    CHECK_EQ_INT(agg_op_late_rows(p.a), 3);

    rows_free(&got);
    rows_free(&want);
    CHECK_EQ_INT(pipe_advance(&p, 20 * SEC - 1, &got), 0);
    CHECK_EQ_INT(pipe_advance(&p, 20 * SEC, &got), 1);
    rows_add(&want, "1970-01-01 00:00:10|1970-01-01 00:00:20|1|3|15");
    CHECK(rows_equal(&got, &want, "second window"));
    CHECK_EQ_INT(agg_op_groups(p.a), 0);
    REQUIRE(pipe_push(&p, 1, 1, 20 * SEC - 1) == 0);
    CHECK_EQ_INT(agg_op_late_rows(p.a), 4);
    rows_free(&got);
    rows_free(&want);
    pipe_close(&p);
}

/* NULL window_end and malformed rows count as late */
TEST(agg_window_null_end_is_late)
{
    static const SqlType t[3] = {TYPE_TIMESTAMP, TYPE_TIMESTAMP, TYPE_BIGINT};
    static const int     keys[3] = {0, 1, 2};
    AggColSpec           c = A(AGGFN_COUNT_STAR, -1);
    AggOpSpec            sp = agg_spec(AGG_PHASE_SIMPLE, 3, t, 3, keys, 1, &c);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, t, 0) == 0);
    add_row(&b, "0|10|1");
    add_row(&b, "0|NULL|1");
    add_row(&b, "NULL|10|1");   /* a NULL start is just a key value here */
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 1);
    CHECK_EQ_INT(agg_op_groups(op), 2);
    /* a constant window_end: the whole batch in one window (or late) */
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    RowSet got = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_ADVANCE, 10, &out, &got, NULL), 2);
    /* flat window_end: end == wm is late, end > wm is not */
    batch_reset(&b);
    add_row(&b, "0|10|1");
    add_row(&b, "0|11|1");
    add_row(&b, "0|9|2");
    add_row(&b, "0|11|2");
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 3);
    CHECK_EQ_INT(agg_op_groups(op), 2);
    CHECK_EQ_INT(agg_drain(op, DRAIN_ADVANCE, 11, &out, &got, NULL), 2);
    /* the same boundary on the general path (a window_end with NULLs) */
    batch_reset(&b);
    add_row(&b, "0|NULL|3");
    add_row(&b, "0|11|3");
    add_row(&b, "0|12|3");
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 5);
    CHECK_EQ_INT(agg_op_groups(op), 1);
    batch_reset(&b);
    add_row(&b, "0|10|1");
    add_row(&b, "0|NULL|1");
    add_row(&b, "NULL|10|1");
    vector_make_constant(&b.cols[1]);   /* slot 0: 10 */
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 8);
    vector_i64(&b.cols[1])[0] = 12;
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 3);
    rows_free(&got);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* every window's state is freed when final; spare tables are not state */
TEST(agg_state_bytes_shrink_after_windows_close)
{
    static const SqlType t[3] = {TYPE_TIMESTAMP, TYPE_TIMESTAMP, TYPE_BIGINT};
    static const int     keys[3] = {0, 1, 2};
    AggColSpec           c[2] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_MAX, 2)};
    AggOpSpec            sp = agg_spec(AGG_PHASE_SIMPLE, 3, t, 3, keys, 2, c);
    sp.wstart_key = 0;
    sp.wend_key = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch b, out;
    REQUIRE(batch_init(&b, 3, t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    CHECK_EQ_INT(agg_op_state_bytes(op), 0);
    for (int w = 0; w < 4; w++) {
        for (int i = 0; i < 20000; i += 1024) {
            batch_reset(&b);
            for (int r = 0; r < 1024; r++) {
                vector_i64(&b.cols[0])[r] = w * 10;
                vector_i64(&b.cols[1])[r] = w * 10 + 10;
                vector_i64(&b.cols[2])[r] = i + r;
            }
            batch_set_nrows(&b, 1024);
            REQUIRE(agg_op_push(op, &b) == 0);
        }
    }
    size_t four = agg_op_state_bytes(op);
    CHECK_EQ_INT(agg_op_groups(op), 4 * 20480);
    CHECK(four > 4 * 20480 * 40);
    CHECK_EQ_INT(agg_drain(op, DRAIN_ADVANCE, 20, &out, NULL, NULL), 2 * 20480);
    size_t two = agg_op_state_bytes(op);
    CHECK(two < four * 6 / 10 && two > four * 4 / 10);
    CHECK_EQ_INT(agg_drain(op, DRAIN_ADVANCE, 40, &out, NULL, NULL), 2 * 20480);
    CHECK_EQ_INT(agg_op_state_bytes(op), 0);
    CHECK_EQ_INT(agg_op_groups(op), 0);
    CHECK(agg_op_reserved_bytes(op) >= two);   /* kept for the next windows */
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* tumbling windows of the same shape, cycle after cycle: after warm-up the
 * window operator and the aggregate allocate nothing (malloc's in-use
 * bytes do not move; under ASan mallinfo2 reports nothing and the check is
 * vacuous) */
TEST(agg_steady_state_allocates_nothing)
{
    WinPipe p;
    static const AggColSpec aggs[4] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_MAX, C_STR),
                                       A(AGGFN_COUNT_DISTINCT, C_X), A(AGGFN_SUM, C_D)};
    static const int        keys[4] = {NCOLS, NCOLS + 1, C_K, C_S};
    static SqlType          wt[NCOLS + 3];
    memset(&p, 0, sizeof p);
    WindowSpec ws = {WINDOW_FN_TUMBLE, C_TS, 10 * SEC, 0, 0, NCOLS, in_t, 0};
    REQUIRE((p.w = window_op_new(&ws, NULL, 0)) != NULL);
    window_op_output_types(p.w, wt);
    AggOpSpec as = agg_spec(AGG_PHASE_SIMPLE, NCOLS + 3, wt, 4, keys, 4, aggs);
    as.wstart_key = 0;
    as.wend_key = 1;
    REQUIRE((p.a = agg_op_new(&as, NULL, 0)) != NULL);
    REQUIRE(batch_init(&p.in, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(p.a, &p.out, 0) == 0);
    size_t  in_use = 0;
    int64_t emitted = 0;
    char    buf[32];
    for (int w = 0; w < 12; w++) {
        for (int part = 0; part < 4; part++) {
            batch_reset(&p.in);
            for (int r = 0; r < 1000; r++) {
                vector_i64(&p.in.cols[C_K])[r] = r % 250;
                int n = snprintf(buf, sizeof buf, "user%d", (r * 7 + part) % 3);
                vector_set_str(&p.in.cols[C_S], r, buf, (size_t)n);
                vector_i64(&p.in.cols[C_X])[r] = r % 13;
                vector_f64(&p.in.cols[C_D])[r] = 0.5;
                vector_set_str(&p.in.cols[C_STR], r, buf, (size_t)n);
                vector_bool(&p.in.cols[C_F])[r] = 1;
                vector_i64(&p.in.cols[C_TS])[r] = w * 10 * SEC + part * SEC + r;
                vector_i64(&p.in.cols[C_IV])[r] = 0;
            }
            batch_set_nrows(&p.in, 1000);
            const Batch *wb;
            int          more;
            REQUIRE(window_op_apply(p.w, &p.in, &wb, &more) == 1000);
            REQUIRE(agg_op_push(p.a, wb) == 0);
        }
        int64_t n = pipe_advance(&p, w * 10 * SEC, NULL);   /* closes the previous window */
        REQUIRE(n >= 0);
        emitted += n;
        if (w == 6) in_use = mallinfo2().uordblks;
    }
    CHECK_EQ_INT(mallinfo2().uordblks, in_use);
    CHECK_EQ_INT(emitted, 11 * 750);
    pipe_close(&p);
}

/* ---- EMIT CHANGES ---------------------------------------------------------------------- */

TEST(agg_emit_changes_marks)
{
    static const int        keys[1] = {C_K};
    static const AggColSpec aggs[2] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_MAX, C_STR)};
    AggOpSpec               sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, 2, aggs);
    AggOp                  *plain = agg_op_new(&sp, NULL, 0);
    REQUIRE(plain != NULL);
    Batch out;
    REQUIRE(agg_out_init(plain, &out, 0) == 0);
    int more;
    CHECK(agg_op_changes(plain, &out, &more) < 0);   /* not built for it */
    batch_destroy(&out);
    agg_op_free(plain);

    sp.emit_changes = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    SqlType ot[8];
    CHECK_EQ_INT(agg_op_output_types(op, ot), 4);
    CHECK(ot[0] == TYPE_BIGINT && ot[1] == TYPE_BIGINT && ot[3] == TYPE_VARCHAR);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    static const char *const r1[] = {"1|a|0|0|b|t|0|0", "2|a|0|0|x|t|0|0", "1|a|0|0|a|t|0|0"};
    REQUIRE(push_rows(op, r1, 3, 3) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_CHANGES, 0, &out, &got, NULL), 2);
    rows_add(&want, "0|1|2|b");
    rows_add(&want, "0|2|1|x");
    CHECK(rows_equal(&got, &want, "inserts"));
    rows_free(&got);
    rows_free(&want);
    CHECK_EQ_INT(agg_drain(op, DRAIN_CHANGES, 0, &out, &got, NULL), 0);   /* nothing changed */

    static const char *const r2[] = {"2|a|0|0|y|t|0|0", "3|a|0|0|c|t|0|0", "2|a|0|0|a|t|0|0"};
    REQUIRE(push_rows(op, r2, 3, 1) == 0);
    CHECK_EQ_INT(agg_drain(op, DRAIN_CHANGES, 0, &out, &got, NULL), 2);
    rows_add(&want, "1|2|3|y");   /* +U: group 2 updated */
    rows_add(&want, "0|3|1|c");   /* +I: group 3 new */
    CHECK(rows_equal(&got, &want, "updates"));
    rows_free(&got);
    rows_free(&want);

    /* flush emits only what is pending, then clears */
    REQUIRE(push_rows(op, r1, 1, 1) == 0);
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 1);
    rows_add(&want, "1|1|3|b");
    CHECK(rows_equal(&got, &want, "flush"));
    CHECK_EQ_INT(agg_op_groups(op), 0);
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&out);
    agg_op_free(op);

    /* windowed: advance emits the changes of the windows it closes, not
     * the rows already emitted */
    WinPipe p;
    REQUIRE(pipe_open(&p, WINDOW_FN_TUMBLE, 10 * SEC, 0, 1) == 0);
    REQUIRE(pipe_push(&p, 1, 1, 1 * SEC) == 0);
    REQUIRE(pipe_push(&p, 2, 1, 2 * SEC) == 0);
    REQUIRE(pipe_push(&p, 1, 1, 12 * SEC) == 0);
    CHECK_EQ_INT(agg_drain(p.a, DRAIN_CHANGES, 0, &p.out, &got, NULL), 3);
    rows_free(&got);
    REQUIRE(pipe_push(&p, 2, 5, 3 * SEC) == 0);
    CHECK_EQ_INT(pipe_advance(&p, 10 * SEC, &got), 1);
    rows_add(&want, "1|1970-01-01 00:00:00|1970-01-01 00:00:10|2|2|6");
    CHECK(rows_equal(&got, &want, "windowed changes"));
    CHECK_EQ_INT(agg_op_groups(p.a), 1);
    rows_free(&got);
    rows_free(&want);
    pipe_close(&p);
}

/* ---- COUNT DISTINCT, HLL -------------------------------------------------------------------- */

/* 20000 rows, 5000 distinct values per type (DOUBLE: -0.0 = 0.0, NaNs
 * equal; VARCHAR: "" and embedded NUL bytes), in SIMPLE and split across
 * three partials */
TEST(agg_count_distinct_exact)
{
    static const int        keys[1] = {C_K};
    static const AggColSpec aggs[4] = {A(AGGFN_COUNT_DISTINCT, C_X), A(AGGFN_COUNT_DISTINCT, C_D),
                                       A(AGGFN_COUNT_DISTINCT, C_STR), A(AGGFN_COUNT_DISTINCT, C_F)};
    AggOpSpec               ss = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, 4, aggs);
    AggOpSpec               ps = ss;
    ps.phase = AGG_PHASE_PARTIAL;
    AggOp *s = agg_op_new(&ss, NULL, 0), *p[3];
    REQUIRE(s != NULL);
    for (int i = 0; i < 3; i++) REQUIRE((p[i] = agg_op_new(&ps, NULL, 0)) != NULL);
    AggColSpec fa[4];
    int        fk[1];
    SqlType    pt[16];
    AggOpSpec  fs = agg_final_of(p[0], &ps, fa, fk, pt);
    AggOp     *f = agg_op_new(&fs, NULL, 0);
    REQUIRE(f != NULL);
    Batch b, pout, out;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(p[0], &pout, 0) == 0);
    REQUIRE(agg_out_init(s, &out, 0) == 0);
    Rng g = {42};
    for (int i = 0; i < 20000; i += 1000) {
        batch_reset(&b);
        for (int r = 0; r < 1000; r++) {
            int64_t v = rng_below(&g, 5000);
            vector_i64(&b.cols[C_K])[r] = 7;
            vector_i64(&b.cols[C_X])[r] = v * 1000003 - 2500000000LL;
            double d = v == 0 ? ((i + r) % 2 ? -0.0 : 0.0) : v == 1 ? NAN : (double)v / 4;
            if (v == 1 && r % 2) d = -NAN;
            vector_f64(&b.cols[C_D])[r] = d;
            char str[16] = {'k', 0, 0, 0};
            int  len = v == 0 ? 0 : snprintf(str + 2, sizeof str - 2, "%lld", (long long)v) + 2;
            vector_set_str(&b.cols[C_STR], r, str, (size_t)len);
            vector_bool(&b.cols[C_F])[r] = (uint8_t)(v & 1);
        }
        /* every value once, so the count is exactly 5000 */
        if (i == 0)
            for (int r = 0; r < 1000; r++) {
                vector_i64(&b.cols[C_X])[r] = (int64_t)r * 1000003 - 2500000000LL;
                vector_f64(&b.cols[C_D])[r] = r == 1 ? NAN : (double)r / 4;
                char str[16] = {'k', 0, 0, 0};
                int  len = r == 0 ? 0 : snprintf(str + 2, sizeof str - 2, "%d", r) + 2;
                vector_set_str(&b.cols[C_STR], r, str, (size_t)len);
            }
        batch_set_nrows(&b, 1000);
        REQUIRE(agg_op_push(s, &b) == 0);
        REQUIRE(agg_op_push(p[(i / 1000) % 3], &b) == 0);
        if (i == 10000)
            for (int k = 0; k < 3; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
    }
    /* values >= 1000 were drawn at random: count what was drawn */
    RowSet got = {0}, fin = {0};
    CHECK_EQ_INT(agg_drain(s, DRAIN_FLUSH, 0, &out, &got, NULL), 1);
    for (int k = 0; k < 3; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
    CHECK_EQ_INT(agg_drain(f, DRAIN_FLUSH, 0, &out, &fin, NULL), 1);
    CHECK(rows_equal(&got, &fin, "distinct simple vs partial+final"));
    /* all four columns: x, d, str have the same count; bool 2 */
    long long cx = 0, cd = 0, cs = 0, cb = 0;
    REQUIRE(got.n == 1);
    CHECK(sscanf(got.r[0], "7|%lld|%lld|%lld|%lld", &cx, &cd, &cs, &cb) == 4);
    CHECK(cx >= 4700 && cx <= 5000);
    CHECK_EQ_INT(cd, cx);
    CHECK_EQ_INT(cs, cx);
    CHECK_EQ_INT(cb, 2);
    rows_free(&got);
    rows_free(&fin);
    batch_destroy(&b);
    batch_destroy(&pout);
    batch_destroy(&out);
    agg_op_free(s);
    for (int i = 0; i < 3; i++) agg_op_free(p[i]);
    agg_op_free(f);
}

TEST(agg_approx_count_distinct_error_bounds)
{
    static const int        keys[1] = {C_K};
    static const AggColSpec aggs[3] = {A(AGGFN_APPROX_COUNT_DISTINCT, C_X),
                                       A(AGGFN_APPROX_COUNT_DISTINCT, C_STR),
                                       A(AGGFN_APPROX_COUNT_DISTINCT, C_D)};
    AggOpSpec               ss = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, 3, aggs);
    AggOpSpec               ps = ss;
    ps.phase = AGG_PHASE_PARTIAL;
    AggOp *s = agg_op_new(&ss, NULL, 0), *p[4];
    REQUIRE(s != NULL);
    for (int i = 0; i < 4; i++) REQUIRE((p[i] = agg_op_new(&ps, NULL, 0)) != NULL);
    AggColSpec fa[3];
    int        fk[1];
    SqlType    pt[16];
    AggOpSpec  fs = agg_final_of(p[0], &ps, fa, fk, pt);
    AggOp     *f = agg_op_new(&fs, NULL, 0);
    REQUIRE(f != NULL);
    Batch b, pout, out;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(p[0], &pout, 0) == 0);
    REQUIRE(agg_out_init(s, &out, 0) == 0);
    /* key 1: 100000 distinct (each twice); key 2: 100 distinct; key 3: 1 */
    char str[32];
    for (int i = 0; i < 200000; i += 1000) {
        batch_reset(&b);
        for (int r = 0; r < 1000; r++) {
            int64_t v = (i + r) % 100000;
            int     key = r % 10 == 9 ? 2 : r % 10 == 8 ? 3 : 1;
            if (key == 2) v = ((i + r) / 10) % 100;
            if (key == 3) v = 5;
            vector_i64(&b.cols[C_K])[r] = key;
            vector_i64(&b.cols[C_X])[r] = v;
            vector_f64(&b.cols[C_D])[r] = (double)v * 0.25;
            int n = snprintf(str, sizeof str, "user-%lld", (long long)v);
            vector_set_str(&b.cols[C_STR], r, str, (size_t)n);
        }
        /* key 1 needs all 100000 values: rows r%10 >= 8 carried other keys */
        batch_set_nrows(&b, 1000);
        REQUIRE(agg_op_push(s, &b) == 0);
        REQUIRE(agg_op_push(p[(i / 1000) % 4], &b) == 0);
    }
    for (int k = 0; k < 4; k++) REQUIRE(agg_drain(p[k], DRAIN_FLUSH, 0, &pout, NULL, f) >= 0);
    RowSet got = {0}, fin = {0};
    CHECK_EQ_INT(agg_drain(s, DRAIN_FLUSH, 0, &out, &got, NULL), 3);
    CHECK_EQ_INT(agg_drain(f, DRAIN_FLUSH, 0, &out, &fin, NULL), 3);
    CHECK(rows_equal(&got, &fin, "hll simple vs merged partials"));   /* merging is exact */
    for (int i = 0; i < got.n; i++) {
        long long key, a, b2, c;
        REQUIRE(sscanf(got.r[i], "%lld|%lld|%lld|%lld", &key, &a, &b2, &c) == 4);
        /* key 1 saw the values v with (v % 10) < 8 only: 80000 distinct */
        double truth = key == 1 ? 80000 : key == 2 ? 100 : 1;
        double tol = key == 1 ? 0.05 * truth : key == 2 ? 3 : 0;   /* 3 sigma at 1.6% */
        CHECK(fabs((double)a - truth) <= tol);
        CHECK(fabs((double)b2 - truth) <= tol);
        CHECK(fabs((double)c - truth) <= tol);
    }
    rows_free(&got);
    rows_free(&fin);
    batch_destroy(&b);
    batch_destroy(&pout);
    batch_destroy(&out);
    agg_op_free(s);
    for (int i = 0; i < 4; i++) agg_op_free(p[i]);
    agg_op_free(f);
}

TEST(agg_hll_sketch_serialization)
{
    static uint8_t reg[HLL_M], back[HLL_M], blob[HLL_MAX_BLOB];
    memset(reg, 0, sizeof reg);
    CHECK(hll_estimate(reg) == 0.0);
    CHECK_EQ_INT(hll_serialized_size(reg), 4);
    for (int n = 1; n <= 20000; n *= 3) {
        for (int i = 0; i < n; i++) hll_add_hash(reg, hash_i64(i));
        size_t size = hll_serialize(reg, blob);
        CHECK_EQ_INT(size, hll_serialized_size(reg));
        CHECK(blob[1] == (size == HLL_MAX_BLOB ? 0 : 1));
        memset(back, 0, sizeof back);
        CHECK(hll_merge_serialized(back, blob, size) == 0);
        CHECK(memcmp(reg, back, HLL_M) == 0);
        CHECK(fabs(hll_estimate(reg) - n) <= 0.05 * n + 1);
    }
    /* malformed sketches are rejected */
    size_t size = hll_serialize(reg, blob);
    CHECK(blob[1] == 0);
    CHECK(hll_merge_serialized(back, blob, size - 1) < 0);
    blob[0] = 14;
    CHECK(hll_merge_serialized(back, blob, size) < 0);
    blob[0] = HLL_P;
    blob[5] = 60;   /* rank beyond 53 */
    CHECK(hll_merge_serialized(back, blob, size) < 0);
    uint8_t sparse[10] = {HLL_P, 1, 2, 0, 5, 0, 3, 4, 0, 1};   /* indexes not increasing */
    CHECK(hll_merge_serialized(back, sparse, 10) < 0);
    sparse[7] = 6;
    CHECK(hll_merge_serialized(back, sparse, 10) == 0);
    CHECK(hll_merge_serialized(back, sparse, 9) < 0);
}

/* a FINAL refuses partial states that are not what a PARTIAL writes */
TEST(agg_malformed_partial_rejected)
{
    static const SqlType t[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    static const int     keys[1] = {0};
    static const char   *bad[] = {"", "\x02", "\x02\x05\x01", "\x09\x01\x01", "\x02\x01\x01\x01",
                                  "\x04\x01\x05" "ab", "\x02\x02\x04\x00"};
    static const int     badlen[] = {0, 1, 3, 3, 4, 5, 4};
    for (int fn = 0; fn < 2; fn++) {
        AggColSpec c = A(fn ? AGGFN_APPROX_COUNT_DISTINCT : AGGFN_COUNT_DISTINCT, 1);
        AggOpSpec  sp = agg_spec(AGG_PHASE_FINAL, 2, t, 1, keys, 1, &c);
        AggOp     *op = agg_op_new(&sp, NULL, 0);
        REQUIRE(op != NULL);
        Batch b;
        REQUIRE(batch_init(&b, 2, t, 0) == 0);
        for (int i = 0; i < (int)(sizeof badlen / sizeof *badlen); i++) {
            batch_reset(&b);
            vector_i64(&b.cols[0])[0] = 1;
            vector_set_str(&b.cols[1], 0, bad[i], (size_t)badlen[i]);
            batch_set_nrows(&b, 1);
            CHECK(agg_op_push(op, &b) < 0);
            CHECK(strstr(agg_op_error(op), "malformed") != NULL);
        }
        /* a good one, and NULL (no values), are accepted (by a fresh op:
         * a failed push may have merged part of its blob) */
        agg_op_free(op);
        REQUIRE((op = agg_op_new(&sp, NULL, 0)) != NULL);
        batch_reset(&b);
        vector_i64(&b.cols[0])[0] = 1;
        if (fn) {
            uint8_t blob[7] = {HLL_P, 1, 1, 0, 3, 0, 2};
            vector_set_str(&b.cols[1], 0, (const char *)blob, 7);
        } else {
            vector_set_str(&b.cols[1], 0, "\x02\x02\x04\x01", 4);
        }
        vector_set_null(&b.cols[1], 1);
        vector_i64(&b.cols[0])[1] = 2;
        batch_set_nrows(&b, 2);
        CHECK(agg_op_push(op, &b) == 0);
        Batch out;
        REQUIRE(agg_out_init(op, &out, 0) == 0);
        RowSet got = {0}, want = {0};
        CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 2);
        rows_add(&want, fn ? "1|1" : "1|2");
        rows_add(&want, "2|0");
        CHECK(rows_equal(&got, &want, "good partials"));
        rows_free(&got);
        rows_free(&want);
        batch_destroy(&out);
        batch_destroy(&b);
        agg_op_free(op);
    }
}

/* ---- keys and inputs --------------------------------------------------------------------- */

/* 100k distinct VARCHAR keys (the table grows many times), twice each */
TEST(agg_varchar_keys_100k)
{
    static const SqlType    t[2] = {TYPE_VARCHAR, TYPE_BIGINT};
    static const int        keys[1] = {0};
    static const AggColSpec aggs[3] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, 1), A(AGGFN_MIN, 0)};
    AggOpSpec               sp = agg_spec(AGG_PHASE_SIMPLE, 2, t, 1, keys, 3, aggs);
    AggOp                  *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch b, out;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    char buf[32];
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < 100000; i += 1024) {
            batch_reset(&b);
            int n = 0;
            for (int r = i; r < i + 1024 && r < 100000; r++, n++) {
                int v = pass ? 99999 - r : r;
                int len = snprintf(buf, sizeof buf, "user-%d", v);
                vector_set_str(&b.cols[0], n, buf, (size_t)len);
                vector_i64(&b.cols[1])[n] = v;
            }
            batch_set_nrows(&b, n);
            REQUIRE(agg_op_push(op, &b) == 0);
        }
    }
    CHECK_EQ_INT(agg_op_groups(op), 100000);
    int64_t rows = 0, bad = 0, more;
    do {
        int n = agg_op_flush(op, &out, (int *)&more);
        REQUIRE(n >= 0);
        for (int i = 0; i < n; i++) {
            Str     k = vector_str(&out.cols[0])[i], m = vector_str(&out.cols[3])[i];
            int64_t cnt = vector_i64(&out.cols[1])[i], sum = vector_i64(&out.cols[2])[i];
            int     v = atoi(k.ptr + 5);
            int     len = snprintf(buf, sizeof buf, "user-%d", v);
            bad += cnt != 2 || sum != 2 * v || k.len != (uint32_t)len || memcmp(k.ptr, buf, k.len) ||
                   m.len != k.len || memcmp(m.ptr, k.ptr, k.len);
        }
        rows += n;
    } while ((int)more);
    CHECK_EQ_INT(rows, 100000);
    CHECK_EQ_INT(bad, 0);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* DOUBLE and BOOLEAN keys: -0.0 = 0.0, NaNs equal, NULL its own group */
TEST(agg_double_and_bool_keys)
{
    static const SqlType t[2] = {TYPE_DOUBLE, TYPE_BOOLEAN};
    static const int     keys[2] = {0, 1};
    AggColSpec           c = A(AGGFN_COUNT_STAR, -1);
    AggOpSpec            sp = agg_spec(AGG_PHASE_SIMPLE, 2, t, 2, keys, 1, &c);
    AggOp               *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch b, out;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    add_row(&b, "0.0|t");
    add_row(&b, "-0.0|t");
    add_row(&b, "nan|t");
    add_row(&b, "-nan|t");
    add_row(&b, "NULL|t");
    add_row(&b, "NULL|NULL");
    add_row(&b, "1.5|f");
    add_row(&b, "1.5|NULL");
    REQUIRE(agg_op_push(op, &b) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 6);
    rows_add(&want, "0.0|true|2");
    rows_add(&want, "NaN|true|2");
    rows_add(&want, "NULL|true|1");
    rows_add(&want, "NULL|NULL|1");
    rows_add(&want, "1.5|false|1");
    rows_add(&want, "1.5|NULL|1");
    CHECK(rows_equal(&got, &want, "double keys"));
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* constant key / argument / filter vectors and a selection give what the
 * same rows give flat */
TEST(agg_constant_vectors_and_selection)
{
    static const int keys[2] = {C_K, C_S};
    AggOpSpec        sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 2, keys, NALL, all_aggs);
    AggOp           *cst = agg_op_new(&sp, NULL, 0), *flat = agg_op_new(&sp, NULL, 0);
    REQUIRE(cst && flat);
    Batch b, out;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    REQUIRE(agg_out_init(cst, &out, 0) == 0);
    static const char *const rows[] = {"5|kk|3|0.25|str|t|77|9000000", "5|kk|3|0.25|str|NULL|77|9000000",
                                       "5|kk|NULL|0.25|NULL|f|NULL|9000000"};
    for (int variant = 0; variant < 3; variant++) {
        /* flat: every row written out */
        batch_reset(&b);
        for (int i = 0; i < 10; i++) add_row(&b, rows[variant]);
        uint32_t sel[4] = {1, 4, 5, 9};
        batch_set_sel(&b, sel, 4);
        REQUIRE(agg_op_push(flat, &b) == 0);
        /* constant: slot 0 stands for all 10 rows */
        batch_reset(&b);
        add_row(&b, rows[variant]);
        for (int c = 0; c < NCOLS; c++) vector_make_constant(&b.cols[c]);
        batch_set_nrows(&b, 10);
        batch_set_sel(&b, sel, 4);
        REQUIRE(agg_op_push(cst, &b) == 0);
    }
    RowSet a = {0}, c = {0};
    CHECK_EQ_INT(agg_drain(flat, DRAIN_FLUSH, 0, &out, &a, NULL), 1);
    CHECK_EQ_INT(agg_drain(cst, DRAIN_FLUSH, 0, &out, &c, NULL), 1);
    CHECK(rows_equal(&a, &c, "constant vs flat"));
    const char *want = "5|kk|12|8|1|24|3.0|3|3|3.0|0.25|str|str|1|4|12|1 minute 48 seconds|true|1|"
                       "1970-01-01 00:00:00.000077|str|0.25";
    CHECK_EQ_STR(a.r[0], want);
    rows_free(&a);
    rows_free(&c);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(cst);
    agg_op_free(flat);
}

/* outputs larger than the output batch come in parts (*more) */
TEST(agg_output_in_parts)
{
    static const SqlType t[3] = {TYPE_TIMESTAMP, TYPE_TIMESTAMP, TYPE_BIGINT};
    static const int     keys[3] = {0, 1, 2};
    AggColSpec           c = A(AGGFN_COUNT_STAR, -1);
    for (int mode = 0; mode < 3; mode++) {
        AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, 3, t, mode == 2 ? 1 : 3, mode == 2 ? keys + 2 : keys, 1, &c);
        if (mode < 2) {
            sp.wstart_key = 0;
            sp.wend_key = 1;
        }
        sp.emit_changes = mode == 1;
        AggOp *op = agg_op_new(&sp, NULL, 0);
        REQUIRE(op != NULL);
        Batch b, out;
        REQUIRE(batch_init(&b, 3, t, 0) == 0);
        REQUIRE(agg_out_init(op, &out, 7) == 0);
        for (int w = 0; w < 3; w++) {
            batch_reset(&b);
            for (int r = 0; r < 40; r++) {
                vector_i64(&b.cols[0])[r] = w;
                vector_i64(&b.cols[1])[r] = w + 1;
                vector_i64(&b.cols[2])[r] = r % 20;
            }
            batch_set_nrows(&b, 40);
            REQUIRE(agg_op_push(op, &b) == 0);
        }
        RowSet got = {0};
        int64_t n;
        if (mode == 0) {
            n = agg_drain(op, DRAIN_ADVANCE, 2, &out, &got, NULL);   /* two windows: 40 rows */
            CHECK_EQ_INT(n, 40);
            CHECK_EQ_INT(agg_op_groups(op), 20);
            CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 20);
        } else if (mode == 1) {
            CHECK_EQ_INT(agg_drain(op, DRAIN_CHANGES, 0, &out, &got, NULL), 60);
            CHECK_EQ_INT(agg_drain(op, DRAIN_ADVANCE, 3, &out, &got, NULL), 0);
        } else {
            CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 20);
        }
        for (int i = 0; i < got.n; i++) {
            const char *last = strrchr(got.r[i], '|');
            CHECK_EQ_STR(last, mode == 2 ? "|6" : "|2");
        }
        rows_free(&got);
        batch_destroy(&b);
        batch_destroy(&out);
        agg_op_free(op);
    }
}

/* a keyless non-windowed aggregate over no rows gives batch SQL's one row */
TEST(agg_keyless_empty_flush)
{
    static const AggColSpec aggs[3] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, C_X),
                                       A(AGGFN_COUNT_DISTINCT, C_X)};
    AggOpSpec               sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 0, NULL, 3, aggs);
    AggOp                  *op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    Batch out;
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    RowSet got = {0}, want = {0};
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 1);
    rows_add(&want, "0|NULL|0");
    CHECK(rows_equal(&got, &want, "empty"));
    rows_free(&got);
    rows_free(&want);
    REQUIRE(push_rows(op, rows_all, 6, 6) == 0);
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, &got, NULL), 1);
    rows_add(&want, "6|24|3");
    CHECK(rows_equal(&got, &want, "all rows"));
    rows_free(&got);
    rows_free(&want);
    batch_destroy(&out);
    agg_op_free(op);

    sp.phase = AGG_PHASE_PARTIAL;   /* a partial says nothing */
    REQUIRE((op = agg_op_new(&sp, NULL, 0)) != NULL);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    CHECK_EQ_INT(agg_drain(op, DRAIN_FLUSH, 0, &out, NULL, NULL), 0);
    batch_destroy(&out);
    agg_op_free(op);
}

TEST(agg_spec_and_input_errors)
{
    static const int keys[1] = {C_K};
    char             why[200];
    AggColSpec       c = A(AGGFN_SUM, C_STR);
    AggOpSpec        sp = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 1, keys, 1, &c);
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "SUM of VARCHAR") != NULL);
    c = (AggColSpec)A(AGGFN_AVG, C_IV);
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    c = (AggColSpec)AF(AGGFN_COUNT, C_X, C_X);   /* filter not BOOLEAN */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "FILTER") != NULL);
    c = (AggColSpec){AGGFN_COUNT, C_X, -1, TYPE_DOUBLE, TYPE_NULL};   /* wrong arg type */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    c = (AggColSpec){AGGFN_AVG, C_X, -1, TYPE_BIGINT, TYPE_BIGINT};   /* AVG gives DOUBLE */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    c = (AggColSpec){AGGFN_AVG, C_X, -1, TYPE_BIGINT, TYPE_DOUBLE};
    AggOp *ok = agg_op_new(&sp, why, sizeof why);
    CHECK(ok != NULL);
    c = (AggColSpec)A(AGGFN_COUNT, NCOLS);
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    c = (AggColSpec)A(AGGFN_COUNT, C_X);
    sp.wstart_key = 0;   /* start without end */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    sp.wstart_key = -1;
    sp.wend_key = 0;     /* k is BIGINT: accepted as a window_end */
    AggOp *ok2 = agg_op_new(&sp, why, sizeof why);
    CHECK(ok2 != NULL);
    sp.session = 1;      /* sessions need both bounds */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    sp.session = 0;
    sp.wend_key = -1;
    sp.phase = AGG_PHASE_PARTIAL;
    sp.emit_changes = 1;
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "CHANGES") != NULL);
    sp.emit_changes = 0;
    sp.phase = AGG_PHASE_FINAL;   /* partial column types are checked */
    c = (AggColSpec)A(AGGFN_AVG, C_X);   /* C_X is BIGINT, not the DOUBLE sum */
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "partial state") != NULL);
    c = (AggColSpec)AF(AGGFN_COUNT, C_X, C_F);
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    sp.nkeys = 65;
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);

    /* a batch that does not match */
    Batch b;
    static const SqlType wrong[NCOLS] = {TYPE_VARCHAR, TYPE_VARCHAR, TYPE_BIGINT, TYPE_DOUBLE,
                                         TYPE_VARCHAR, TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_INTERVAL};
    REQUIRE(batch_init(&b, NCOLS, wrong, 0) == 0);
    batch_set_nrows(&b, 1);
    CHECK(agg_op_push(ok, &b) < 0);
    CHECK(strstr(agg_op_error(ok), "column 0") != NULL);
    batch_destroy(&b);
    REQUIRE(batch_init(&b, 3, wrong, 0) == 0);
    CHECK(agg_op_push(ok, &b) < 0);
    batch_destroy(&b);
    agg_op_free(ok);
    agg_op_free(ok2);
    agg_op_free(NULL);
}

/*
 * test_exec_window.c — exec/window: TUMBLE, HOP and CUMULATE assignment
 * against brute-force references (negative timestamps included), the
 * zero-copy view of TUMBLE/SESSION, constant window columns, expansion in
 * parts (*more) with no row lost, NULL / out-of-range rows, spec errors.
 */
#include "tests/unit/test_exec_agg_util.h"

#define SEC USEC_PER_SEC

static const SqlType win_in[3] = {TYPE_BIGINT, TYPE_TIMESTAMP, TYPE_VARCHAR};

/* floor(a / b) for b > 0, the slow obvious way */
static int64_t ref_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if (q * b > a) q--;
    return q;
}

/* the brute-force windows of ts, ascending by start then end: pairs into w */
static int ref_windows(WindowFnKind kind, int64_t ts, int64_t size, int64_t slide, int64_t *w)
{
    int n = 0;
    if (kind == WINDOW_FN_TUMBLE) {
        int64_t s = ref_floor_div(ts, size) * size;
        w[0] = s;
        w[1] = s + size;
        return 1;
    }
    if (kind == WINDOW_FN_HOP) {
        /* every multiple of slide that is a start of a window containing ts */
        for (int64_t k = ref_floor_div(ts - size, slide) - 1; k <= ref_floor_div(ts, slide) + 1; k++) {
            int64_t s = k * slide;
            if (s <= ts && ts < s + size) {
                w[2 * n] = s;
                w[2 * n + 1] = s + size;
                n++;
            }
        }
        return n;
    }
    /* CUMULATE */
    int64_t s = ref_floor_div(ts, size) * size;
    for (int64_t e = s + slide; e <= s + size; e += slide) {
        if (e > ts) {
            w[2 * n] = s;
            w[2 * n + 1] = e;
            n++;
        }
    }
    return n;
}

/* fill b with n rows: id i, ts from times[], "s<i>" (NULL ts where times[i] == INT64_MIN) */
static void fill_times(Batch *b, const int64_t *times, int n)
{
    char buf[32];
    batch_reset(b);
    for (int i = 0; i < n; i++) {
        vector_i64(&b->cols[0])[i] = i;
        if (times[i] == INT64_MIN) vector_set_null(&b->cols[1], i);
        else vector_i64(&b->cols[1])[i] = times[i];
        int len = snprintf(buf, sizeof buf, "s%d", i);
        vector_set_str(&b->cols[2], i, buf, (size_t)len);
    }
    batch_set_nrows(b, n);
}

/* run the op over b (all parts) and compare its (row, window) pairs, in
 * order, with the reference; returns output rows or -1 */
static int check_against_ref(WindowOp *w, const WindowSpec *sp, const Batch *b)
{
    int64_t  ref[256];
    int64_t *want = malloc((size_t)b->count * 64 * 3 * sizeof *want);
    int      nwant = 0, got = 0, more, ok = 1;
    for (int i = 0; i < b->count; i++) {
        int r = batch_row(b, i);
        int n = ref_windows(sp->kind, vector_i64(&b->cols[1])[r], sp->size_us, sp->slide_us, ref);
        for (int k = 0; k < n; k++) {
            want[3 * nwant] = r;
            want[3 * nwant + 1] = ref[2 * k];
            want[3 * nwant + 2] = ref[2 * k + 1];
            nwant++;
        }
    }
    do {
        const Batch *out;
        int          n = window_op_apply(w, b, &out, &more);
        if (n < 0) {
            printf("  apply: %s\n", window_op_error(w));
            ok = 0;
            break;
        }
        for (int i = 0; i < out->count && ok; i++, got++) {
            int     r = batch_row(out, i);
            int64_t id = vector_i64(&out->cols[0])[vector_index(&out->cols[0], r)];
            int64_t ts = vector_i64(&out->cols[1])[vector_index(&out->cols[1], r)];
            int64_t ws = vector_i64(&out->cols[3])[vector_index(&out->cols[3], r)];
            int64_t we = vector_i64(&out->cols[4])[vector_index(&out->cols[4], r)];
            int64_t wt = vector_i64(&out->cols[5])[vector_index(&out->cols[5], r)];
            Str     s = vector_str(&out->cols[2])[vector_index(&out->cols[2], r)];
            char    name[32];
            snprintf(name, sizeof name, "s%lld", (long long)id);
            if (got >= nwant || id != want[3 * got] || ws != want[3 * got + 1] ||
                we != want[3 * got + 2] || wt != we - 1 || ts != vector_i64(&b->cols[1])[id] ||
                s.len != strlen(name) || memcmp(s.ptr, name, s.len) != 0) {
                printf("  output %d: row %lld ts %lld window [%lld, %lld)\n", got, (long long)id,
                       (long long)ts, (long long)ws, (long long)we);
                ok = 0;
            }
        }
    } while (more && ok);
    free(want);
    return ok && got == nwant ? got : -1;
}

static void random_times(Rng *g, int64_t *t, int n, int64_t span)
{
    for (int i = 0; i < n; i++) {
        t[i] = rng_below(g, 2 * span) - span;          /* negative half included */
        if (i % 7 == 0) t[i] = (t[i] / SEC) * SEC;     /* exact boundaries */
    }
}

static void ref_test(WindowFnKind kind, int64_t size, int64_t slide, int capacity, uint64_t seed)
{
    Rng        g = {seed};
    WindowSpec sp = {kind, 1, size, slide, 0, 3, win_in, capacity};
    char       why[128];
    WindowOp  *w = window_op_new(&sp, why, sizeof why);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    int64_t t[1024], brute = 0, got = 0, ref[256];
    for (int round = 0; round < 6; round++) {
        int n = 1 + (int)rng_below(&g, 1024);
        random_times(&g, t, n, 40 * SEC);
        fill_times(&b, t, n);
        if (round % 2) {   /* a selection: about half the rows live */
            int k = 0;
            for (int i = 0; i < n; i++)
                if (rng_next(&g) & 1) b.sel_buf[k++] = (uint32_t)i;
            batch_set_sel(&b, b.sel_buf, k);
        }
        for (int i = 0; i < b.count; i++) brute += ref_windows(kind, t[batch_row(&b, i)], size, slide, ref);
        int rows = check_against_ref(w, &sp, &b);
        CHECK(rows >= 0);
        got += rows;
    }
    CHECK_EQ_INT(got, brute);
    batch_destroy(&b);
    window_op_free(w);
}

TEST(window_tumble_matches_reference)
{
    ref_test(WINDOW_FN_TUMBLE, 10 * SEC, 0, 0, 1);
    ref_test(WINDOW_FN_TUMBLE, 3 * SEC + 7, 0, 0, 2);   /* odd size: boundaries off the second */
}

TEST(window_hop_matches_reference)
{
    ref_test(WINDOW_FN_HOP, 10 * SEC, 2 * SEC, 0, 3);      /* 5 windows per row */
    ref_test(WINDOW_FN_HOP, 10 * SEC, 3 * SEC, 0, 4);      /* slide does not divide size */
    ref_test(WINDOW_FN_HOP, 2 * SEC, 5 * SEC, 0, 5);       /* gaps: some rows in no window */
    ref_test(WINDOW_FN_HOP, 10 * SEC, 1 * SEC, 100, 6);    /* expansion in many parts */
}

TEST(window_cumulate_matches_reference)
{
    ref_test(WINDOW_FN_CUMULATE, 10 * SEC, 2 * SEC, 0, 7);
    ref_test(WINDOW_FN_CUMULATE, 60 * SEC, 1 * SEC, 37, 8);   /* up to 60 windows, parts of 37 */
}

TEST(window_tumble_negative_and_exact_boundaries)
{
    WindowSpec sp = {WINDOW_FN_TUMBLE, 1, 10 * SEC, 0, 0, 3, win_in, 0};
    WindowOp  *w = window_op_new(&sp, NULL, 0);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    int64_t t[6] = {-1, -10 * SEC, -10 * SEC - 1, 0, 10 * SEC - 1, 10 * SEC};
    int64_t want[6] = {-10 * SEC, -10 * SEC, -20 * SEC, 0, 0, 10 * SEC};
    fill_times(&b, t, 6);
    const Batch *out;
    int          more;
    REQUIRE(window_op_apply(w, &b, &out, &more) == 6);
    CHECK(!more);
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(vector_i64(&out->cols[3])[i], want[i]);
        CHECK_EQ_INT(vector_i64(&out->cols[4])[i], want[i] + 10 * SEC);
        CHECK_EQ_INT(vector_i64(&out->cols[5])[i], want[i] + 10 * SEC - 1);
    }
    batch_destroy(&b);
    window_op_free(w);
}

/* TUMBLE shares the input's vectors and selection; one window → constants */
TEST(window_tumble_zero_copy_view)
{
    WindowSpec sp = {WINDOW_FN_TUMBLE, 1, 10 * SEC, 0, 0, 3, win_in, 0};
    WindowOp  *w = window_op_new(&sp, NULL, 0);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    int64_t t[8] = {1, 2, 3, 15 * SEC, 4, 5, 6, 7};
    fill_times(&b, t, 8);
    uint32_t sel[3] = {1, 3, 6};
    batch_set_sel(&b, sel, 3);
    const Batch *out;
    int          more;
    REQUIRE(window_op_apply(w, &b, &out, &more) == 3);
    CHECK(out->sel == sel);                          /* the input's selection, as is */
    for (int c = 0; c < 3; c++) CHECK(out->cols[c].data == b.cols[c].data);   /* no copy */
    CHECK_EQ_INT(vector_i64(&out->cols[3])[3], 10 * SEC);
    CHECK_EQ_INT(vector_i64(&out->cols[3])[1], 0);
    CHECK(!vector_is_constant(&out->cols[3]));
    SqlType ot[6];
    CHECK_EQ_INT(window_op_output_types(w, ot), 6);
    CHECK(ot[3] == TYPE_TIMESTAMP && ot[5] == TYPE_TIMESTAMP && ot[2] == TYPE_VARCHAR);

    /* every live row in one window: constant window columns */
    batch_set_sel(&b, NULL, 3);
    REQUIRE(window_op_apply(w, &b, &out, &more) == 3);
    for (int k = 3; k < 6; k++) CHECK(vector_is_constant(&out->cols[k]));
    CHECK_EQ_INT(vector_i64(&out->cols[4])[0], 10 * SEC);
    CHECK_EQ_INT(vector_i64(&out->cols[5])[0], 10 * SEC - 1);
    CHECK(out->sel == NULL && out->count == 3);

    /* the input batch is untouched (validity, values) */
    CHECK_EQ_INT(vector_i64(&b.cols[1])[3], 15 * SEC);
    CHECK(b.cols[1].validity == NULL);
    batch_destroy(&b);
    window_op_free(w);
}

TEST(window_null_and_out_of_range_rows_dropped)
{
    WindowSpec sp = {WINDOW_FN_TUMBLE, 1, 10 * SEC, 0, 0, 3, win_in, 0};
    WindowOp  *w = window_op_new(&sp, NULL, 0);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    int64_t t[5] = {5, INT64_MIN, 12 * SEC, INT64_MAX, INT64_MIN + 1};
    fill_times(&b, t, 5);
    const Batch *out;
    int          more;
    REQUIRE(window_op_apply(w, &b, &out, &more) == 2);
    CHECK_EQ_INT(window_op_null_rows(w), 1);
    CHECK_EQ_INT(window_op_range_rows(w), 2);   /* end past INT64_MAX, start before INT64_MIN */
    CHECK(out->sel != NULL);
    CHECK_EQ_INT(out->sel[0], 0);
    CHECK_EQ_INT(out->sel[1], 2);
    CHECK_EQ_INT(vector_i64(&out->cols[3])[2], 10 * SEC);
    window_op_free(w);

    /* HOP counts the same way */
    WindowSpec hp = {WINDOW_FN_HOP, 1, 10 * SEC, 5 * SEC, 0, 3, win_in, 0};
    REQUIRE((w = window_op_new(&hp, NULL, 0)) != NULL);
    REQUIRE(window_op_apply(w, &b, &out, &more) == 4);
    CHECK_EQ_INT(window_op_null_rows(w), 1);
    CHECK_EQ_INT(window_op_range_rows(w), 2);
    window_op_free(w);

    /* a constant NULL time drops the whole batch */
    WindowSpec ss = {WINDOW_FN_SESSION, 1, 0, 0, 30 * SEC, 3, win_in, 0};
    REQUIRE((w = window_op_new(&ss, NULL, 0)) != NULL);
    vector_set_null(&b.cols[1], 0);
    vector_make_constant(&b.cols[1]);
    REQUIRE(window_op_apply(w, &b, &out, &more) == 0);
    CHECK_EQ_INT(window_op_null_rows(w), 5);
    batch_destroy(&b);
    window_op_free(w);
}

TEST(window_session_proto_windows)
{
    WindowSpec sp = {WINDOW_FN_SESSION, 1, 0, 0, 30 * SEC, 3, win_in, 0};
    WindowOp  *w = window_op_new(&sp, NULL, 0);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    int64_t t[3] = {-5, 100, 7 * SEC};
    fill_times(&b, t, 3);
    const Batch *out;
    int          more;
    REQUIRE(window_op_apply(w, &b, &out, &more) == 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(vector_i64(&out->cols[3])[i], t[i]);
        CHECK_EQ_INT(vector_i64(&out->cols[4])[i], t[i] + 30 * SEC);
        CHECK_EQ_INT(vector_i64(&out->cols[5])[i], t[i] + 30 * SEC - 1);
    }
    CHECK(out->cols[2].data == b.cols[2].data);
    batch_destroy(&b);
    window_op_free(w);
}

/* HOP with a tiny output batch: parts, NULL payloads and strings carried */
TEST(window_expand_in_parts_keeps_every_row)
{
    WindowSpec sp = {WINDOW_FN_HOP, 1, 10 * SEC, 1 * SEC, 0, 3, win_in, 4};
    WindowOp  *w = window_op_new(&sp, NULL, 0);
    REQUIRE(w != NULL);
    Batch b, other;
    REQUIRE(batch_init(&b, 3, win_in, 0) == 0);
    REQUIRE(batch_init(&other, 3, win_in, 0) == 0);
    int64_t t[3] = {SEC / 2, 20 * SEC, 33 * SEC};
    fill_times(&b, t, 3);
    vector_set_null(&b.cols[0], 1);   /* a NULL payload travels with its row */
    int          parts = 0, rows = 0, more;
    const Batch *out;
    do {
        int n = window_op_apply(w, &b, &out, &more);
        REQUIRE(n >= 0 && n <= 4);
        for (int i = 0; i < n; i++) {
            int src = rows / 10;   /* 10 windows per row */
            CHECK_EQ_INT(vector_is_null(&out->cols[0], i), src == 1);
            CHECK_EQ_INT(vector_i64(&out->cols[1])[i], t[src]);
            Str s = vector_str(&out->cols[2])[i];
            CHECK(s.len == 2 && s.ptr[1] == '0' + src);
            rows++;
        }
        parts++;
        /* a different batch while parts are pending is refused */
        if (more && parts == 2) {
            fill_times(&other, t, 1);
            const Batch *o2;
            int          m2;
            CHECK(window_op_apply(w, &other, &o2, &m2) < 0);
        }
    } while (more);
    CHECK_EQ_INT(rows, 30);
    CHECK_EQ_INT(parts, 8);
    batch_destroy(&b);
    batch_destroy(&other);
    window_op_free(w);
}

TEST(window_spec_errors)
{
    char       why[128];
    WindowSpec sp = {WINDOW_FN_CUMULATE, 1, 10 * SEC, 3 * SEC, 0, 3, win_in, 0};
    CHECK(window_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "multiple") != NULL);
    sp.kind = WINDOW_FN_TUMBLE;
    sp.size_us = 0;
    CHECK(window_op_new(&sp, why, sizeof why) == NULL);
    sp.size_us = SEC;
    sp.time_col = 2;   /* VARCHAR */
    CHECK(window_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "TIMESTAMP") != NULL);
    sp.time_col = 1;
    sp.kind = WINDOW_FN_SESSION;
    CHECK(window_op_new(&sp, why, sizeof why) == NULL);   /* gap 0 */
    sp.kind = WINDOW_FN_HOP;
    sp.slide_us = 0;
    CHECK(window_op_new(&sp, why, sizeof why) == NULL);
    window_op_free(NULL);

    /* a batch of the wrong shape */
    sp.slide_us = SEC;
    WindowOp *w = window_op_new(&sp, why, sizeof why);
    REQUIRE(w != NULL);
    Batch b;
    REQUIRE(batch_init(&b, 2, win_in, 0) == 0);
    const Batch *out;
    int          more;
    CHECK(window_op_apply(w, &b, &out, &more) < 0);
    CHECK(strstr(window_op_error(w), "columns") != NULL);
    batch_destroy(&b);
    window_op_free(w);
}

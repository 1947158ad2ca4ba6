/*
 * test_exec_batch.c — exec/batch: init/reset, the kernel loop convention with
 * and without a selection, in-place filtering into sel_buf, compaction
 * (increasing, permuted, repeated selections; NULLs at word boundaries;
 * constant columns), appending rows across batches, steady-state reuse.
 */
#include "tests/unit/unit.h"

#include "exec/batch.h"

static const SqlType types3[] = {TYPE_BIGINT, TYPE_VARCHAR, TYPE_BOOLEAN};

/* rows r in [0, n): BIGINT r (NULL when r % 64 == 63 or r == 0 or r == 64),
 * VARCHAR "s<r>", BOOLEAN r odd */
static int fill(Batch *b, int n)
{
    char buf[32];
    for (int r = 0; r < n; r++) {
        vector_i64(&b->cols[0])[r] = r;
        if (r == 0 || r == 64 || r % 64 == 63) vector_set_null(&b->cols[0], r);
        int len = snprintf(buf, sizeof buf, "s%d", r);
        if (vector_set_str(&b->cols[1], r, buf, (size_t)len) < 0) return -1;
        vector_bool(&b->cols[2])[r] = (uint8_t)(r & 1);
    }
    batch_set_nrows(b, n);
    return 0;
}

static int expect_null(int r)
{
    return r == 0 || r == 64 || r % 64 == 63;
}

/* sum of the non-NULL BIGINT values of the live rows, the kernel way */
static long long live_sum(const Batch *b)
{
    const Vector   *v = &b->cols[0];
    const int64_t  *x = vector_i64(v);
    const uint32_t *sel = b->sel;
    long long       sum = 0;
    for (int i = 0; i < b->count; i++) {
        int r = sel ? (int)sel[i] : i;
        if (!vector_validity_get(v->validity, r)) continue;
        sum += x[r];
    }
    return sum;
}

/* check the live row i holds original row `orig` in all three columns */
static int row_is(const Batch *b, int i, int orig)
{
    char want[32];
    int  r = batch_row(b, i);
    snprintf(want, sizeof want, "s%d", orig);
    Str s = vector_str(&b->cols[1])[r];
    if (vector_is_null(&b->cols[0], r) != expect_null(orig)) return 0;
    if (!expect_null(orig) && vector_i64(&b->cols[0])[r] != orig) return 0;
    if (s.len != strlen(want) || memcmp(s.ptr, want, s.len) != 0) return 0;
    return vector_bool(&b->cols[2])[r] == (orig & 1);
}

TEST(exec_batch_init_and_reset)
{
    Batch b;
    REQUIRE(batch_init(&b, 3, types3, 0) == 0);
    CHECK_EQ_INT(b.capacity, SLUICE_VECTOR_SIZE);
    CHECK_EQ_INT(b.ncols, 3);
    CHECK_EQ_INT(b.nrows, 0);
    CHECK_EQ_INT(b.count, 0);
    CHECK(b.sel == NULL);
    CHECK(b.sel_buf != NULL);
    for (int c = 0; c < 3; c++) {
        CHECK(b.cols[c].arena == &b.arena);
        CHECK_EQ_INT(b.cols[c].capacity, SLUICE_VECTOR_SIZE);
        CHECK_EQ_INT(b.cols[c].type, types3[c]);
    }
    CHECK_EQ_INT(arena_bytes_reserved(&b.arena), 0);   /* no string yet */

    REQUIRE(fill(&b, 1024) == 0);
    CHECK_EQ_INT(b.count, 1024);
    vector_make_constant(&b.cols[2]);
    batch_set_sel(&b, b.sel_buf, 0);
    batch_reset(&b);
    CHECK_EQ_INT(b.nrows, 0);
    CHECK_EQ_INT(b.count, 0);
    CHECK(b.sel == NULL);
    CHECK(b.cols[0].validity == NULL);
    CHECK(!vector_is_constant(&b.cols[2]));
    CHECK_EQ_INT(arena_bytes_used(&b.arena), 0);
    batch_destroy(&b);
    batch_destroy(&b);                       /* safe twice */

    Batch z;                                 /* zero columns */
    REQUIRE(batch_init(&z, 0, NULL, 16) == 0);
    batch_set_nrows(&z, 10);
    batch_compact(&z);
    CHECK_EQ_INT(z.count, 10);
    batch_destroy(&z);

    SqlType bad[] = {TYPE_BIGINT, (SqlType)77};
    Batch   f;
    CHECK_EQ_INT(batch_init(&f, 2, bad, 16), -1);
    batch_destroy(&f);
}

TEST(exec_batch_selection_filters_in_place)
{
    Batch b;
    REQUIRE(batch_init(&b, 3, types3, 1024) == 0);
    REQUIRE(fill(&b, 1024) == 0);
    long long all = 0;
    for (int r = 0; r < 1024; r++) all += expect_null(r) ? 0 : r;
    CHECK_EQ_INT(live_sum(&b), all);

    /* filter 1: even rows, written into sel_buf */
    int k = 0;
    for (int i = 0; i < b.count; i++) {
        int r = batch_row(&b, i);
        if (r % 2 == 0) b.sel_buf[k++] = (uint32_t)r;
    }
    batch_set_sel(&b, b.sel_buf, k);
    CHECK_EQ_INT(b.count, 512);

    /* filter 2 on top of it, in place in the same buffer: multiples of 8 */
    k = 0;
    for (int i = 0; i < b.count; i++) {
        int r = batch_row(&b, i);
        if (r % 8 == 0) b.sel_buf[k++] = (uint32_t)r;
    }
    batch_set_sel(&b, b.sel_buf, k);
    CHECK_EQ_INT(b.count, 128);
    long long want = 0;
    for (int r = 0; r < 1024; r += 8) want += expect_null(r) ? 0 : r;
    CHECK_EQ_INT(live_sum(&b), want);
    int ok = 1;
    for (int i = 0; i < b.count; i++) ok &= row_is(&b, i, i * 8);
    CHECK(ok);

    /* a borrowed selection, and an identity prefix (sel NULL, count < nrows) */
    static const uint32_t pick[] = {1023, 64, 5};
    batch_set_sel(&b, pick, 3);
    CHECK_EQ_INT(live_sum(&b), 5);              /* rows 1023 and 64 are NULL */
    CHECK(row_is(&b, 0, 1023) && row_is(&b, 1, 64) && row_is(&b, 2, 5));
    batch_set_sel(&b, NULL, 10);
    CHECK_EQ_INT(live_sum(&b), 1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9);
    batch_destroy(&b);
}

TEST(exec_batch_compact_increasing_selection)
{
    Batch b;
    REQUIRE(batch_init(&b, 3, types3, 1024) == 0);
    REQUIRE(fill(&b, 1024) == 0);
    /* keep every third row plus the word-boundary rows */
    int k = 0;
    for (int r = 0; r < 1024; r++)
        if (r % 3 == 0 || r == 63 || r == 64 || r == 1023) b.sel_buf[k++] = (uint32_t)r;
    batch_set_sel(&b, b.sel_buf, k);
    uint32_t orig[1024];
    memcpy(orig, b.sel_buf, (size_t)k * sizeof orig[0]);
    long long before = live_sum(&b);

    batch_compact(&b);
    CHECK(b.sel == NULL);
    CHECK_EQ_INT(b.count, k);
    CHECK_EQ_INT(b.nrows, k);
    CHECK_EQ_INT(live_sum(&b), before);
    int ok = 1;
    for (int i = 0; i < k; i++) ok &= row_is(&b, i, (int)orig[i]);
    CHECK(ok);
    batch_compact(&b);                         /* no selection: no change */
    CHECK_EQ_INT(b.count, k);
    CHECK(row_is(&b, k - 1, 1023));
    batch_destroy(&b);
}

TEST(exec_batch_compact_permuted_and_repeated)
{
    Batch b;
    REQUIRE(batch_init(&b, 3, types3, 256) == 0);
    REQUIRE(fill(&b, 100) == 0);
    /* reversed rows 0..99, then rows 63 and 64 again: 102 live rows */
    uint32_t sel[102];
    for (int i = 0; i < 100; i++) sel[i] = (uint32_t)(99 - i);
    sel[100] = 63;
    sel[101] = 64;
    batch_set_sel(&b, sel, 102);
    batch_compact(&b);
    CHECK_EQ_INT(b.count, 102);
    int ok = 1;
    for (int i = 0; i < 100; i++) ok &= row_is(&b, i, 99 - i);
    CHECK(ok);
    CHECK(row_is(&b, 100, 63) && row_is(&b, 101, 64));
    CHECK(vector_is_null(&b.cols[0], 100) && vector_is_null(&b.cols[0], 101));
    CHECK(vector_is_null(&b.cols[0], 99));     /* was row 0 */
    batch_destroy(&b);
}

TEST(exec_batch_compact_keeps_constant_columns)
{
    SqlType t[] = {TYPE_BIGINT, TYPE_TIMESTAMP, TYPE_NULL, TYPE_DOUBLE};
    Batch   b;
    REQUIRE(batch_init(&b, 4, t, 64) == 0);
    for (int r = 0; r < 64; r++) {
        vector_i64(&b.cols[0])[r] = r * 10;
        vector_f64(&b.cols[3])[r] = r * 0.5;
    }
    vector_i64(&b.cols[1])[0] = 1700000000000000;
    vector_make_constant(&b.cols[1]);
    batch_set_nrows(&b, 64);
    static const uint32_t sel[] = {5, 40, 63};
    batch_set_sel(&b, sel, 3);
    batch_compact(&b);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 50);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[2], 630);
    CHECK_EQ_DBL(vector_f64(&b.cols[3])[1], 20.0);
    CHECK(vector_is_constant(&b.cols[1]));
    CHECK_EQ_INT(vector_i64(&b.cols[1])[vector_index(&b.cols[1], 2)], 1700000000000000);
    CHECK(vector_is_null(&b.cols[2], 1));
    CHECK(b.cols[0].validity == NULL);         /* no NULLs: still no bitmap */
    batch_destroy(&b);
}

TEST(exec_batch_append_row_from)
{
    Batch src, dst;
    REQUIRE(batch_init(&src, 3, types3, 128) == 0);
    REQUIRE(batch_init(&dst, 3, types3, 4) == 0);
    REQUIRE(fill(&src, 128) == 0);
    static const uint32_t sel[] = {127, 63, 64, 10};
    batch_set_sel(&src, sel, 4);
    for (int i = 0; i < src.count; i++)
        CHECK_EQ_INT(batch_append_row_from(&dst, &src, batch_row(&src, i)), 0);
    CHECK_EQ_INT(dst.count, 4);
    CHECK_EQ_INT(dst.nrows, 4);
    CHECK_EQ_INT(batch_append_row_from(&dst, &src, 0), -1);   /* full */

    /* strings were copied into dst's arena: clobber the source's */
    batch_reset(&src);
    REQUIRE(fill(&src, 128) == 0);
    for (int r = 0; r < 128; r++) vector_set_str(&src.cols[1], r, "########", 8);
    int ok = 1;
    for (int i = 0; i < 4; i++) ok &= row_is(&dst, i, (int)sel[i]);
    CHECK(ok);
    CHECK(vector_is_null(&dst.cols[0], 0) && vector_is_null(&dst.cols[0], 1) &&
          vector_is_null(&dst.cols[0], 2) && !vector_is_null(&dst.cols[0], 3));

    /* appending to a batch with a selection is refused; so is a shape mismatch */
    batch_reset(&dst);
    batch_set_sel(&dst, sel, 0);
    CHECK_EQ_INT(batch_append_row_from(&dst, &src, 0), -1);
    SqlType other[] = {TYPE_DOUBLE, TYPE_VARCHAR, TYPE_BOOLEAN};
    Batch   odd;
    REQUIRE(batch_init(&odd, 3, other, 4) == 0);
    CHECK_EQ_INT(batch_append_row_from(&odd, &src, 0), -1);
    CHECK_EQ_INT(odd.count, 0);

    /* a constant column in dst is flattened before the append */
    batch_reset(&dst);
    REQUIRE(batch_append_row_from(&dst, &src, 1) == 0);
    vector_make_constant(&dst.cols[2]);        /* row 0's value for all rows */
    REQUIRE(batch_append_row_from(&dst, &src, 2) == 0);
    CHECK(!vector_is_constant(&dst.cols[2]));
    CHECK_EQ_INT(vector_bool(&dst.cols[2])[0], 1);
    CHECK_EQ_INT(vector_bool(&dst.cols[2])[1], 0);

    batch_destroy(&odd);
    batch_destroy(&src);
    batch_destroy(&dst);
}

TEST(exec_batch_reuse_reaches_steady_state)
{
    Batch b;
    REQUIRE(batch_init(&b, 3, types3, 1024) == 0);
    size_t steady = 0;
    int    grew = 0;
    for (int cycle = 0; cycle < 1000; cycle++) {
        REQUIRE(fill(&b, 1024) == 0);
        if (cycle % 2) {
            for (int i = 0; i < 100; i++) b.sel_buf[i] = (uint32_t)(i * 10);
            batch_set_sel(&b, b.sel_buf, 100);
            batch_compact(&b);
        }
        batch_reset(&b);
        if (cycle == 3) steady = arena_bytes_reserved(&b.arena);
        if (cycle > 3 && arena_bytes_reserved(&b.arena) != steady) grew = 1;
    }
    CHECK(steady > 0);
    CHECK(!grew);
    batch_destroy(&b);
}

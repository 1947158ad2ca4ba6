/*
 * test_conn_datagen.c — the `datagen` source: random ranges per type,
 * sequences (bounded, exact), determinism across parallelism and column
 * pruning, null-rate, the synthetic event time, the default rate, bad options.
 */
#include "tests/unit/test_conn_util.h"

#include <ctype.h>

#include "exec/timefmt.h"

static int64_t tsv(const char *s)
{
    int64_t v = 0;
    ts_parse(s, strlen(s), &v);
    return v;
}

/* Drain into a callback-free loop over batches */
typedef struct DgScan {
    Source *s;
    Batch   b;
} DgScan;

static int dg_open(DgScan *d, TSpec *t)
{
    char err[512];
    if (batch_init(&d->b, t->spec.ncols, t->types, 0) != 0) return -1;
    d->s = source_open(&t->spec, err, sizeof err);
    if (!d->s) {
        printf("    %s\n", err);
        batch_destroy(&d->b);
        return -1;
    }
    return 0;
}

static int dg_next(DgScan *d)   /* 1 = a batch in d->b */
{
    int64_t wait;
    batch_reset(&d->b);
    return source_next(d->s, &d->b, 0, &wait) == SOURCE_BATCH;
}

static void dg_close(DgScan *d)
{
    source_close(d->s);
    batch_destroy(&d->b);
}

TEST(conn_datagen_random_ranges)
{
    TSpec t;
    tspec_init(&t, "datagen", NULL,
               "a BIGINT, d DOUBLE, s VARCHAR, b BOOLEAN, ts TIMESTAMP, iv INTERVAL, n BIGINT",
               "number-of-rows", "5000", "rows-per-second", "0", "fields.a.min", "-5",
               "fields.a.max", "5", "fields.d.min", "1.5", "fields.d.max", "2.5",
               "fields.s.length", "12", "fields.ts.min", "2024-03-01 00:00:00", "fields.ts.max",
               "2024-03-02 00:00:00", "fields.iv.min", "1s", "fields.iv.max", "2s", NULL);
    DgScan d;
    REQUIRE(dg_open(&d, &t) == 0);
    int64_t rows = 0, bad = 0, a_lo = 0, a_hi = 0, trues = 0, nneg = 0;
    int64_t t0 = tsv("2024-03-01"), t1 = tsv("2024-03-02");
    while (dg_next(&d)) {
        for (int r = 0; r < d.b.nrows; r++, rows++) {
            int64_t a = vector_i64(&d.b.cols[0])[r];
            double  x = vector_f64(&d.b.cols[1])[r];
            Str     s = vector_str(&d.b.cols[2])[r];
            int64_t ts = vector_i64(&d.b.cols[4])[r], iv = vector_i64(&d.b.cols[5])[r];
            bad += a < -5 || a > 5 || x < 1.5 || x >= 2.5 || s.len != 12 || ts < t0 || ts > t1 ||
                   iv < USEC_PER_SEC || iv > 2 * USEC_PER_SEC;
            for (uint32_t k = 0; k < s.len; k++) bad += !isxdigit((unsigned char)s.ptr[k]);
            a_lo += a == -5;
            a_hi += a == 5;
            trues += vector_bool(&d.b.cols[3])[r];
            nneg += vector_i64(&d.b.cols[6])[r] < 0;   /* default: the whole BIGINT range */
            for (int c = 0; c < 7; c++) bad += vector_is_null(&d.b.cols[c], r);
        }
    }
    dg_close(&d);
    CHECK_EQ_INT(rows, 5000);
    CHECK_EQ_INT(bad, 0);
    CHECK(a_lo > 300 && a_hi > 300);   /* ~455 each: both ends are reachable */
    CHECK(trues > 2200 && trues < 2800);
    CHECK(nneg > 2200 && nneg < 2800);
}

TEST(conn_datagen_sequences_and_parallelism)
{
    TSpec t;
    tspec_init(&t, "datagen", NULL, "id BIGINT, name VARCHAR, v DOUBLE", "rows-per-second", "0",
               "fields.id.kind", "sequence", "fields.id.start", "10", "fields.id.end", "1009",
               "fields.name.kind", "sequence", "fields.name.start", "-3", "fields.name.end",
               "100000", NULL);
    Rows one = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &one) == 0);
    CHECK_EQ_INT(one.n, 1000);   /* the shortest sequence bounds the source */
    /* row n: id = 10 + n, name = text of -3 + n */
    char expect[64];
    int  bad = 0;
    for (int i = 0; i < one.n; i++) {
        snprintf(expect, sizeof expect, "%d|%d|", 10 + i, -3 + i);
        bad += strncmp(one.r[i], expect, strlen(expect)) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    for (int n = 2; n <= 4; n++) {
        Rows all = {0}, ref = {0};
        for (int task = 0; task < n; task++) CHECK(tu_read_all(&t, task, n, &all) == 0);
        for (int i = 0; i < one.n; i++) rows_add(&ref, one.r[i]);
        if (!rows_same_multiset(&ref, &all)) unit_fail(__FILE__, __LINE__, "N=%d differs", n);
        rows_free(&all);
        rows_free(&ref);
    }
    /* number-of-rows shorter than the sequence wins */
    tspec_opt(&t, "number-of-rows", "7");
    Rows few = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &few) == 0);
    CHECK_EQ_INT(few.n, 7);
    rows_free(&few);
    rows_free(&one);
}

TEST(conn_datagen_values_depend_on_column_not_position)
{
    TSpec ab, ba;
    tspec_init(&ab, "datagen", NULL, "a BIGINT, b VARCHAR", "number-of-rows", "300",
               "rows-per-second", "0", "seed", "9", "fields.b.length", "5", NULL);
    tspec_init(&ba, "datagen", NULL, "b VARCHAR, a BIGINT", "number-of-rows", "300",
               "rows-per-second", "0", "seed", "9", "fields.b.length", "5", NULL);
    Rows x = {0}, y = {0};
    REQUIRE(tu_read_all(&ab, 0, 1, &x) == 0);
    REQUIRE(tu_read_all(&ba, 0, 1, &y) == 0);
    REQUIRE(x.n == 300 && y.n == 300);
    int bad = 0;
    for (int i = 0; i < 300; i++) {
        char *bar = strchr(x.r[i], '|');
        char  swapped[256];
        *bar = 0;
        snprintf(swapped, sizeof swapped, "%s|%s", bar + 1, x.r[i]);
        bad += strcmp(swapped, y.r[i]) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    /* another seed, other values */
    tspec_opt(&ab, "seed", "10");
    Rows z = {0};
    REQUIRE(tu_read_all(&ab, 0, 1, &z) == 0);
    int same = 0;
    for (int i = 0; i < 300; i++) same += strcmp(x.r[i], z.r[i]) == 0;
    CHECK(same < 5);
    rows_free(&x);
    rows_free(&y);
    rows_free(&z);
}

TEST(conn_datagen_null_rate_and_event_time)
{
    TSpec t;
    tspec_init(&t, "datagen", NULL, "v BIGINT, ts TIMESTAMP", "number-of-rows", "20000",
               "rows-per-second", "0", "fields.v.null-rate", "0.3", NULL);
    DgScan d;
    REQUIRE(dg_open(&d, &t) == 0);
    int64_t nulls = 0, rows = 0, off = 0, start = tsv("2024-01-01");
    while (dg_next(&d))
        for (int r = 0; r < d.b.nrows; r++, rows++) {
            nulls += vector_is_null(&d.b.cols[0], r);
            off += vector_i64(&d.b.cols[1])[r] != start + rows * 1000;   /* 1000 rows/s of event time */
        }
    dg_close(&d);
    CHECK_EQ_INT(rows, 20000);
    CHECK(nulls > 5600 && nulls < 6400);
    CHECK_EQ_INT(off, 0);

    /* max-past: jitter backwards, bounded */
    tspec_init(&t, "datagen", NULL, "ts TIMESTAMP", "number-of-rows", "5000", "rows-per-second",
               "0", "fields.ts.max-past", "500ms", "fields.ts.start", "2025-01-01 00:00:00", NULL);
    REQUIRE(dg_open(&d, &t) == 0);
    start = tsv("2025-01-01");
    rows = 0;
    int64_t outside = 0, moved = 0;
    while (dg_next(&d))
        for (int r = 0; r < d.b.nrows; r++, rows++) {
            int64_t ts = vector_i64(&d.b.cols[0])[r], nominal = start + rows * 1000;
            outside += ts > nominal || ts < nominal - 500000;
            moved += ts != nominal;
        }
    dg_close(&d);
    CHECK_EQ_INT(outside, 0);
    CHECK(moved > 4900);
}

TEST(conn_datagen_default_rate)
{
    TSpec t;
    tspec_init(&t, "datagen", NULL, "v BIGINT", NULL);
    char    err[256];
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(source_next(s, &b, 777, &wait), SOURCE_BATCH);   /* row 0 at once */
    CHECK_EQ_INT(b.nrows, 1);
    batch_reset(&b);
    CHECK_EQ_INT(source_next(s, &b, 777, &wait), SOURCE_IDLE);
    CHECK_EQ_INT(wait, 100);   /* 10000 rows/s */
    CHECK_EQ_INT(source_next(s, &b, 777 + 1000, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 10);
    source_close(s);
    batch_destroy(&b);
}

TEST(conn_datagen_bad_options)
{
    static const char *bad[][3] = {
        {"v BIGINT", "fields.v.kind", "wobbly"},
        {"v BIGINT", "fields.v.length", "3"},
        {"v BIGINT", "fields.v.bogus", "1"},
        {"v BIGINT", "fields.v.min", "x"},
        {"v DOUBLE", "fields.v.kind", "sequence"},
        {"v BIGINT", "fields.v.null-rate", "2"},
        {"v VARCHAR", "fields.v.length", "-1"},
        {"v BOOLEAN", "fields.v.min", "0"},
        {"v BIGINT", "rows-per-second", "fast"},
    };
    char err[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TSpec t;
        tspec_init(&t, "datagen", NULL, bad[i][0], bad[i][1], bad[i][2], NULL);
        Source *s = source_open(&t.spec, err, sizeof err);
        if (s) {
            unit_fail(__FILE__, __LINE__, "%s = '%s' was accepted", bad[i][1], bad[i][2]);
            source_close(s);
        }
    }
    TSpec t;
    tspec_init(&t, "datagen", NULL, "v BIGINT", "fields.v.kind", "sequence", "fields.v.start", "1",
               NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "end") != NULL);
    tspec_init(&t, "datagen", NULL, "v BIGINT", "fields.v.min", "9", "fields.v.max", "3", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    /* options of pruned columns are ignored */
    tspec_init(&t, "datagen", NULL, "v BIGINT", "fields.gone.kind", "sequence", NULL);
    Source *s = source_open(&t.spec, err, sizeof err);
    CHECK(s != NULL);
    source_close(s);
}

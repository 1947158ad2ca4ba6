/*
 * test_conn_logs.c — the `logs` generator: the same rows at any parallelism
 * and partition count, seeds matter, rate limiting against a fake clock,
 * level/event/user proportions over 1e5 events, the out-of-orderness bound,
 * column subsets and order, bad columns and options, count/start.
 */
#include "tests/unit/test_conn_util.h"

#include <math.h>
#include <time.h>

#include "exec/timefmt.h"

#define ALL_COLS "ts TIMESTAMP, user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR"

static int64_t tsv(const char *s)
{
    int64_t v = 0;
    ts_parse(s, strlen(s), &v);
    return v;
}

/* Open, pull one batch at `now`, return the status; rows appended to b. */
static SourceStatus pull(Source *s, Batch *b, int64_t now, int64_t *wait)
{
    batch_reset(b);
    return source_next(s, b, now, wait);
}

TEST(conn_logs_same_rows_at_any_parallelism)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, ALL_COLS, "count", "20000", "seed", "7", "out-of-orderness",
               "3s", "users", "300", "zipf", "0.8", NULL);
    Rows one = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &one) == 0);
    CHECK_EQ_INT(one.n, 20000);
    /* N = 2, 3, 4 and explicit partition counts: the same multiset */
    static const struct { int n; const char *parts; } cfg[] = {
        {2, NULL}, {3, NULL}, {4, NULL}, {3, "2"}, {2, "5"}, {1, "7"},
    };
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        TSpec u = t;
        u.spec.opt_keys = u.keys;
        u.spec.opt_values = u.vals;
        u.spec.col_names = u.names;
        u.spec.col_types = u.types;
        u.spec.col_index = u.index;
        if (cfg[c].parts) tspec_opt(&u, "partitions", cfg[c].parts);
        Rows all = {0}, ref = {0};
        for (int task = 0; task < cfg[c].n; task++) CHECK(tu_read_all(&u, task, cfg[c].n, &all) == 0);
        for (int i = 0; i < one.n; i++) rows_add(&ref, one.r[i]);
        if (!rows_same_multiset(&ref, &all))
            unit_fail(__FILE__, __LINE__, "N=%d partitions=%s differs from N=1", cfg[c].n,
                      cfg[c].parts ? cfg[c].parts : "-");
        rows_free(&all);
        rows_free(&ref);
    }
    rows_free(&one);
}

TEST(conn_logs_seed_changes_rows)
{
    TSpec a, b;
    tspec_init(&a, "logs", NULL, ALL_COLS, "count", "200", "seed", "1", NULL);
    tspec_init(&b, "logs", NULL, ALL_COLS, "count", "200", "seed", "2", NULL);
    Rows ra = {0}, rb = {0}, ra2 = {0};
    REQUIRE(tu_read_all(&a, 0, 1, &ra) == 0);
    REQUIRE(tu_read_all(&b, 0, 1, &rb) == 0);
    REQUIRE(tu_read_all(&a, 0, 1, &ra2) == 0);
    REQUIRE(ra.n == 200 && rb.n == 200 && ra2.n == 200);
    int differ = 0, same_again = 0;
    for (int i = 0; i < 200; i++) {
        differ += strcmp(ra.r[i], rb.r[i]) != 0;
        same_again += strcmp(ra.r[i], ra2.r[i]) == 0;
    }
    CHECK(differ > 190);
    CHECK_EQ_INT(same_again, 200);
    rows_free(&ra);
    rows_free(&rb);
    rows_free(&ra2);
}

TEST(conn_logs_rate_limit_fake_clock)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP, user_id BIGINT", "rate", "1000", NULL);
    char    err[256];
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 2, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    int64_t t0 = 5000000;
    /* at t0 only event 0 is due; the next one in 1 ms */
    CHECK_EQ_INT(pull(s, &b, t0, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], tsv("2024-01-01 00:00:00"));
    CHECK_EQ_INT(pull(s, &b, t0, &wait), SOURCE_IDLE);
    CHECK_EQ_INT(wait, 1000);
    CHECK_EQ_INT(pull(s, &b, t0 + 400, &wait), SOURCE_IDLE);
    CHECK_EQ_INT(wait, 600);
    /* 10 ms later: events 1..10 */
    CHECK_EQ_INT(pull(s, &b, t0 + 10000, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 10);
    /* event time follows the rate: event k at start + k ms */
    CHECK_EQ_INT(vector_i64(&b.cols[0])[9], tsv("2024-01-01 00:00:00.010"));
    /* 5 s later: a full batch, then the rest, then idle */
    int64_t total = 11;
    CHECK_EQ_INT(pull(s, &b, t0 + 5000000, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1024);
    total += b.nrows;
    while (pull(s, &b, t0 + 5000000, &wait) == SOURCE_BATCH) total += b.nrows;
    CHECK_EQ_INT(total, 5001);
    source_close(s);

    /* two tasks share the rate: 10 ms → 11 events between them */
    int64_t got = 0;
    for (int task = 0; task < 2; task++) {
        t.spec.task = task;
        t.spec.ntasks = 2;
        s = source_open(&t.spec, err, sizeof err);
        REQUIRE(s != NULL);
        SourceStatus st = pull(s, &b, t0, &wait);
        if (st == SOURCE_BATCH) got += b.nrows;
        if (task == 1) {
            CHECK_EQ_INT(st, SOURCE_IDLE);   /* its first event is k = 1, due at 1 ms */
            CHECK_EQ_INT(wait, 1000);
        }
        while ((st = pull(s, &b, t0 + 10000, &wait)) == SOURCE_BATCH) got += b.nrows;
        CHECK_EQ_INT(st, SOURCE_IDLE);
        source_close(s);
    }
    CHECK_EQ_INT(got, 11);
    batch_destroy(&b);
}

typedef struct Counts {
    int64_t n, crit_crash, level[4], ev_page_view, ev_click, ev_crash, err_crash;
    int64_t users[101];
} Counts;

static int count_rows(TSpec *t, Counts *c)
{
    char  err[256];
    Batch b;
    memset(c, 0, sizeof *c);
    if (batch_init(&b, t->spec.ncols, t->types, 0) != 0) return -1;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) {
        printf("    %s\n", err);
        batch_destroy(&b);
        return -1;
    }
    int64_t      wait;
    SourceStatus st;
    static const char *lv[4] = {"INFO", "WARN", "ERROR", "CRITICAL"};
    while ((st = pull(s, &b, 0, &wait)) == SOURCE_BATCH) {
        for (int r = 0; r < b.nrows; r++) {
            int64_t u = vector_i64(&b.cols[0])[r];
            Str     l = vector_str(&b.cols[1])[r], e = vector_str(&b.cols[2])[r];
            c->n++;
            if (u >= 1 && u <= 100) c->users[u]++;
            int li = -1;
            for (int k = 0; k < 4; k++)
                if (str_eq(l, str_from_cstr(lv[k]))) li = k;
            if (li >= 0) c->level[li]++;
            int crash = str_eq(e, str_from_cstr("crash"));
            c->ev_crash += crash;
            c->crit_crash += crash && li == 3;
            c->err_crash += crash && li == 2;
            c->ev_page_view += str_eq(e, str_from_cstr("page_view"));
            c->ev_click += str_eq(e, str_from_cstr("click"));
        }
    }
    source_close(s);
    batch_destroy(&b);
    return st == SOURCE_END ? 0 : -1;
}

static void check_share(int64_t k, int64_t n, double p, const char *what, int line)
{
    double got = (double)k / (double)n;
    double tol = 5 * sqrt(p * (1 - p) / (double)n) + 1e-9;   /* 5 sigma */
    if (fabs(got - p) > tol)
        unit_fail(__FILE__, line, "%s: share %.5f, expected %.5f ± %.5f", what, got, p, tol);
}

TEST(conn_logs_proportions)
{
    TSpec  t;
    Counts c;
    tspec_init(&t, "logs", NULL, "user_id BIGINT, level VARCHAR, event VARCHAR", "count",
               "100000", "users", "50", "seed", "3", NULL);
    REQUIRE(count_rows(&t, &c) == 0);
    REQUIRE(c.n == 100000);
    /* documented: crash 2%; the rest INFO 80%, WARN 12%, ERROR 7%, CRITICAL 1% */
    check_share(c.crit_crash, c.n, 0.02, "CRITICAL crash", __LINE__);
    check_share(c.level[0], c.n, 0.98 * 0.80, "INFO", __LINE__);
    check_share(c.level[1], c.n, 0.98 * 0.12, "WARN", __LINE__);
    check_share(c.level[2], c.n, 0.98 * 0.07, "ERROR", __LINE__);
    check_share(c.level[3], c.n, 0.02 + 0.98 * 0.01, "CRITICAL", __LINE__);
    check_share(c.ev_page_view, c.n, 0.98 * 0.30, "page_view", __LINE__);
    check_share(c.ev_click, c.n, 0.98 * 0.20, "click", __LINE__);
    check_share(c.err_crash, c.n, 0.98 * 0.01, "ERROR crash", __LINE__);
    CHECK_EQ_INT(c.level[0] + c.level[1] + c.level[2] + c.level[3], c.n);
    for (int u = 1; u <= 50; u++) check_share(c.users[u], c.n, 1.0 / 50, "uniform user", __LINE__);
    CHECK_EQ_INT(c.users[51], 0);

    /* another crash ratio, and none at all */
    tspec_opt(&t, "crash-ratio", "0.25");
    REQUIRE(count_rows(&t, &c) == 0);
    check_share(c.crit_crash, c.n, 0.25, "crash-ratio 0.25", __LINE__);
    tspec_opt(&t, "crash-ratio", "0");
    REQUIRE(count_rows(&t, &c) == 0);
    CHECK_EQ_INT(c.crit_crash, 0);
    CHECK(c.err_crash > 0);

    /* Zipf 1.0 over 100 users: P(u) = (1/u) / H_100 */
    tspec_opt(&t, "crash-ratio", "0.02");
    tspec_opt(&t, "users", "100");
    tspec_opt(&t, "zipf", "1.0");
    REQUIRE(count_rows(&t, &c) == 0);
    double h = 0;
    for (int u = 1; u <= 100; u++) h += 1.0 / u;
    check_share(c.users[1], c.n, 1.0 / h, "zipf user 1", __LINE__);
    check_share(c.users[2], c.n, 0.5 / h, "zipf user 2", __LINE__);
    check_share(c.users[10], c.n, 0.1 / h, "zipf user 10", __LINE__);
    check_share(c.users[100], c.n, 0.01 / h, "zipf user 100", __LINE__);
}

TEST(conn_logs_out_of_orderness_bound)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP", "count", "50000", "out-of-orderness", "2s",
               "seed", "11", NULL);
    char  err[256];
    Batch b;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    int64_t start = tsv("2024-01-01"), k = 0, maxts = INT64_MIN, maxlag = 0, wait;
    int     outside = 0, jittered = 0;
    while (pull(s, &b, 0, &wait) == SOURCE_BATCH) {
        for (int r = 0; r < b.nrows; r++, k++) {
            int64_t ts = vector_i64(&b.cols[0])[r], nominal = start + k * 1000;   /* 1000 ev/s */
            outside += ts > nominal || ts < nominal - 2 * USEC_PER_SEC;
            jittered += ts != nominal;
            if (ts > maxts) maxts = ts;
            if (maxts - ts > maxlag) maxlag = maxts - ts;
        }
    }
    CHECK_EQ_INT(k, 50000);
    CHECK_EQ_INT(outside, 0);
    CHECK(maxlag <= 2 * USEC_PER_SEC);
    CHECK(maxlag > 19 * USEC_PER_SEC / 10);   /* the bound is actually approached */
    CHECK(jittered > 49000);
    source_close(s);

    /* without out-of-orderness, event time is exactly nominal */
    tspec_opt(&t, "out-of-orderness", "0s");
    s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    k = 0;
    outside = 0;
    while (pull(s, &b, 0, &wait) == SOURCE_BATCH)
        for (int r = 0; r < b.nrows; r++, k++) outside += vector_i64(&b.cols[0])[r] != start + k * 1000;
    CHECK_EQ_INT(outside, 0);
    source_close(s);
    batch_destroy(&b);
}

TEST(conn_logs_column_subsets_and_order)
{
    TSpec full, sub;
    tspec_init(&full, "logs", NULL, ALL_COLS, "count", "3000", "seed", "5", "out-of-orderness",
               "1s", NULL);
    tspec_init(&sub, "logs", NULL, "msg VARCHAR, user_id BIGINT, ts TIMESTAMP, level VARCHAR",
               "count", "3000", "seed", "5", "out-of-orderness", "1s", NULL);
    Rows a = {0}, b = {0};
    REQUIRE(tu_read_all(&full, 0, 1, &a) == 0);
    REQUIRE(tu_read_all(&sub, 0, 1, &b) == 0);
    REQUIRE(a.n == 3000 && b.n == 3000);
    int bad = 0, ipbad = 0;
    for (int i = 0; i < a.n; i++) {
        char f[6][256], expect[1100];
        int  k = 0;
        char *save, *tok = strtok_r(a.r[i], "|", &save);
        for (; tok && k < 6; tok = strtok_r(NULL, "|", &save)) snprintf(f[k++], sizeof f[0], "%s", tok);
        snprintf(expect, sizeof expect, "%s|%s|%s|%s", f[5], f[1], f[0], f[3]);
        bad += strcmp(expect, b.r[i]) != 0;
        ipbad += strncmp(f[2], "10.", 3) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ipbad, 0);
    rows_free(&a);
    rows_free(&b);
}

TEST(conn_logs_ip_is_a_function_of_the_user)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, "user_id BIGINT, ip VARCHAR", "count", "5000", "users", "20", NULL);
    Rows r = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &r) == 0);
    char seen[21][32] = {{0}};
    int  bad = 0;
    for (int i = 0; i < r.n; i++) {
        int  u = atoi(r.r[i]);
        const char *ip = strchr(r.r[i], '|') + 1;
        if (u < 1 || u > 20) bad++;
        else if (!seen[u][0]) snprintf(seen[u], sizeof seen[u], "%s", ip);
        else bad += strcmp(seen[u], ip) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    for (int u = 1; u <= 20; u++)
        for (int v = u + 1; v <= 20; v++) CHECK(strcmp(seen[u], seen[v]) != 0);
    rows_free(&r);
}

TEST(conn_logs_bad_columns_and_options)
{
    char    err[512];
    TSpec   t;
    Source *s;
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP, foo BIGINT", NULL);
    CHECK((s = source_open(&t.spec, err, sizeof err)) == NULL);
    CHECK(strstr(err, "'foo'") != NULL);
    tspec_init(&t, "logs", NULL, "user_id VARCHAR", NULL);
    CHECK((s = source_open(&t.spec, err, sizeof err)) == NULL);
    CHECK(strstr(err, "'user_id'") && strstr(err, "BIGINT") && strstr(err, "VARCHAR"));
    tspec_init(&t, "logs", NULL, "ts BIGINT", NULL);
    CHECK((s = source_open(&t.spec, err, sizeof err)) == NULL);
    CHECK(strstr(err, "TIMESTAMP") != NULL);

    static const char *bad[][2] = {
        {"users", "0"},          {"crash-ratio", "1.5"}, {"crash-ratio", "x"},
        {"start", "yesterday"},  {"rate", "-3"},        {"zipf", "-1"},
        {"out-of-orderness", "5 parsecs"}, {"partitions", "0"}, {"count", "1e3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tspec_init(&t, "logs", NULL, "ts TIMESTAMP", bad[i][0], bad[i][1], NULL);
        s = source_open(&t.spec, err, sizeof err);
        if (s) {
            unit_fail(__FILE__, __LINE__, "%s = '%s' was accepted", bad[i][0], bad[i][1]);
            source_close(s);
        } else if (!strstr(err, bad[i][0])) {
            unit_fail(__FILE__, __LINE__, "error for %s does not name it: %s", bad[i][0], err);
        }
    }
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP", NULL);
    t.spec.task = 2;
    t.spec.ntasks = 2;
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
}

TEST(conn_logs_count_start_and_empty_tasks)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP", "count", "10", "start", "2024-06-01 12:00:00",
               NULL);
    Rows r = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &r) == 0);
    CHECK_EQ_INT(r.n, 10);
    CHECK_EQ_STR(r.r[0], "2024-06-01 12:00:00");
    CHECK_EQ_STR(r.r[9], "2024-06-01 12:00:00.009");
    rows_free(&r);

    /* more tasks than events or partitions: the extra tasks end at once */
    tspec_opt(&t, "count", "3");
    REQUIRE(tu_read_all(&t, 5, 6, &r) == 0);
    CHECK_EQ_INT(r.n, 0);
    tspec_opt(&t, "count", "100");
    tspec_opt(&t, "partitions", "2");
    REQUIRE(tu_read_all(&t, 2, 3, &r) == 0);
    CHECK_EQ_INT(r.n, 0);
    REQUIRE(tu_read_all(&t, 1, 3, &r) == 0);
    CHECK_EQ_INT(r.n, 50);
    rows_free(&r);

    /* start = 'now': the wall clock at open */
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP", "count", "1", "start", "now", NULL);
    int64_t before = (int64_t)time(NULL) * USEC_PER_SEC;
    char    err[256];
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(pull(s, &b, 0, &wait), SOURCE_BATCH);
    int64_t ts = vector_i64(&b.cols[0])[0];
    CHECK(ts >= before - USEC_PER_SEC && ts <= before + 2 * USEC_PER_SEC);
    CHECK_EQ_INT(pull(s, &b, 0, &wait), SOURCE_END);
    source_close(s);
    batch_destroy(&b);
}

TEST(conn_logs_large_user_counts)
{
    /* beyond the precomputed ip table, ips are formatted per row; same values */
    TSpec t;
    tspec_init(&t, "logs", NULL, "user_id BIGINT, ip VARCHAR", "count", "2000", "users",
               "5000000", NULL);
    Rows r = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &r) == 0);
    CHECK_EQ_INT(r.n, 2000);
    int bad = 0;
    for (int i = 0; i < r.n; i++) {
        long long u = atoll(r.r[i]);
        bad += u < 1 || u > 5000000 || strncmp(strchr(r.r[i], '|'), "|10.", 4) != 0;
    }
    CHECK_EQ_INT(bad, 0);
    rows_free(&r);
}

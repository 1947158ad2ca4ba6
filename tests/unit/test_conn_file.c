/*
 * test_conn_file.c — the `file` and `stdin` sources: JSON lines and CSV
 * decoding of every type (NULLs, missing fields, escapes, unicode, CRLF,
 * quoting), bad records (skipped and counted with line numbers, or fail),
 * globs, splitting among N tasks (the same multiset as one task, with lines
 * across split points), long lines, follow mode, stdin, open errors.
 */
#include "tests/unit/test_conn_util.h"

#include <fcntl.h>

#define ALL_TYPES "b BOOLEAN, i BIGINT, d DOUBLE, s VARCHAR, ts TIMESTAMP, iv INTERVAL"

/* the first n rows are want[]; there are `total` rows (-1: n) */
static void check_rows_of(const Rows *got, const char *const *want, int n, int total, int line)
{
    if (got->n != (total < 0 ? n : total))
        unit_fail(__FILE__, line, "%d rows, expected %d", got->n, total < 0 ? n : total);
    for (int i = 0; i < n && i < got->n; i++)
        if (strcmp(got->r[i], want[i]) != 0)
            unit_fail(__FILE__, line, "row %d: '%s', expected '%s'", i, got->r[i], want[i]);
}

#define check_rows(got, want, n, line) check_rows_of(got, want, n, -1, line)

/* Open (task 0 of 1), drain, return the status and the stats. */
static SourceStatus read_with_stats(TSpec *t, Rows *out, SourceStats *st, char *err, size_t cap)
{
    Source *s = source_open(&t->spec, err, cap);
    if (!s) return SOURCE_ERROR;
    SourceStatus rc = tu_drain(s, &t->spec, out, 3);
    source_stats(s, st);
    if (rc == SOURCE_ERROR) snprintf(err, cap, "%s", source_error(s));
    source_close(s);
    return rc;
}

TEST(conn_file_json_every_type)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    tu_write_str(path,
                 "{\"b\": true, \"i\": 42, \"d\": 1.5, \"s\": \"plain\", \"ts\": \"2024-01-01T00:00:10.250Z\", \"iv\": \"10 seconds\"}\n"
                 "{\"b\": false, \"i\": -9223372036854775808, \"d\": 3, \"s\": \"esc \\\"q\\\" \\\\ \\n\\t \\u00e9 \\ud83d\\ude00\", \"ts\": 1704067200123, \"iv\": 1500}\n"
                 "{\"b\": null, \"i\": null, \"d\": null, \"s\": null, \"ts\": null, \"iv\": null}\n"
                 "{}\n"
                 "{\"S\": \"case\", \"I\": 7, \"extra\": {\"nested\": [1, 2, {\"x\": 3}]}, \"i\": 2.0}\n"
                 "{\"s\": \"ünïcödé raw 日本\"}\r\n"
                 "   \n"
                 "{\"i\": 1e3, \"ts\": \"2024-01-01 00:00:00+02:00\", \"d\": -2.5e-3, \"i\": 5}\n"
                 "{\"s\": \"nul\\u0000byte\", \"d\": 12345678901234567890}");
    TSpec t;
    tspec_init(&t, "file", "json", ALL_TYPES, "path", path, NULL);
    Rows        r = {0};
    SourceStats st;
    char        err[512];
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want[] = {
        "true|42|1.5|plain|2024-01-01 00:00:10.25|10 seconds",
        "false|-9223372036854775808|3.0|esc \"q\" \\ \n\t \xc3\xa9 \xf0\x9f\x98\x80|2024-01-01 00:00:00.123|1.5 seconds",
        "\\N|\\N|\\N|\\N|\\N|\\N",
        "\\N|\\N|\\N|\\N|\\N|\\N",
        "\\N|2|\\N|case|\\N|\\N",
        "\\N|\\N|\\N|ünïcödé raw 日本|\\N|\\N",
        "\\N|5|-0.0025|\\N|2023-12-31 22:00:00|\\N",
        "\\N|\\N|1.2345678901234567e+19|nul",   /* compared up to the NUL below */
    };
    check_rows_of(&r, want, 7, 8, __LINE__);
    if (r.n == 8) CHECK(strncmp(r.r[7], want[7], strlen(want[7])) == 0);
    CHECK_EQ_INT(st.bad_records, 0);
    CHECK_EQ_INT(st.rows, 8);
    struct stat fst;
    stat(path, &fst);
    CHECK_EQ_INT(st.bytes, fst.st_size);
    rows_free(&r);

    /* the embedded NUL survives: read the batch directly */
    TSpec t2;
    tspec_init(&t2, "file", "json", "s VARCHAR", "path", path, NULL);
    Source *s = source_open(&t2.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 1, t2.types, 0) == 0);
    CHECK_EQ_INT(source_next(s, &b, 0, &wait), SOURCE_BATCH);
    REQUIRE(b.nrows == 8);
    Str v = vector_str(&b.cols[0])[7];
    CHECK(v.len == 8 && memcmp(v.ptr, "nul\0byte", 8) == 0);
    batch_destroy(&b);
    source_close(s);
    tu_rmdir(dir);
}

TEST(conn_file_json_bad_records)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.jsonl", dir);
    tu_write_str(path, "{\"i\": 1}\n"
                       "{\"i\": \"x\"}\n"
                       "not json\n"
                       "[1, 2]\n"
                       "{\"i\": 1.5}\n"
                       "{\"ts\": \"2024-13-01\"}\n"
                       "{\"i\": 7}\n"
                       "{\"b\": 1}\n"
                       "{\"i\": 99999999999999999999}\n");
    TSpec t;
    tspec_init(&t, "file", "json", "i BIGINT, ts TIMESTAMP, b BOOLEAN", "path", path, NULL);
    Rows        r = {0};
    SourceStats st;
    char        err[512];
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want[] = {"1|\\N|\\N", "7|\\N|\\N"};
    check_rows(&r, want, 2, __LINE__);
    CHECK_EQ_INT(st.bad_records, 7);
    CHECK_EQ_INT(st.nbad_msgs, SOURCE_BAD_KEEP);
    char expect[256];
    static const struct { int line; const char *why; } msgs[] = {
        {2, "expected BIGINT, got a string"}, {3, "invalid JSON"}, {4, "expected a JSON object"},
        {5, "is not a BIGINT"}, {6, "is not a valid TIMESTAMP"},
    };
    for (int i = 0; i < 5 && i < st.nbad_msgs; i++) {
        snprintf(expect, sizeof expect, "%s:%d: ", path, msgs[i].line);
        if (strncmp(st.bad_msgs[i], expect, strlen(expect)) != 0 || !strstr(st.bad_msgs[i], msgs[i].why))
            unit_fail(__FILE__, __LINE__, "message %d: '%s' (want '%s…%s')", i, st.bad_msgs[i],
                      expect, msgs[i].why);
    }
    rows_free(&r);

    /* fail mode: the first bad record stops the source with its message */
    tspec_opt(&t, "format.on-error", "fail");
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_ERROR);
    snprintf(expect, sizeof expect, "%s:2: ", path);
    CHECK(strstr(err, expect) != NULL);
    CHECK_EQ_INT(st.bad_records, 1);
    rows_free(&r);
    tu_rmdir(dir);
}

TEST(conn_file_csv_every_type_and_quoting)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/in.csv", dir);
    tu_write_str(path, "s,extra,i,d,b,ts,iv\r\n"
                       "\"hello, world\",x,1,2.5,true,2024-01-01 00:00:01,10s\r\n"
                       "\"multi\nline \"\"quoted\"\"\",,2,,false,2024-01-01T00:00:02.5Z,\r\n"
                       ",, , ,,,\r\n"
                       "\"\",y,3,-0.5,t,1704067200000,1h 30m\n"
                       "\r\n"
                       "\xe6\x97\xa5\xe6\x9c\xac,\"quoted, extra\",4,1e3,F,2024-01-01,1.5s");
    TSpec t;
    tspec_init(&t, "file", "csv", ALL_TYPES, "path", path, NULL);
    Rows        r = {0};
    SourceStats st;
    char        err[512];
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want[] = {
        "true|1|2.5|hello, world|2024-01-01 00:00:01|10 seconds",
        "false|2|\\N|multi\nline \"quoted\"|2024-01-01 00:00:02.5|\\N",
        "\\N|\\N|\\N|\\N|\\N|\\N",
        "true|3|-0.5||2024-01-01 00:00:00|1 hour 30 minutes",
        "false|4|1000.0|\xe6\x97\xa5\xe6\x9c\xac|2024-01-01 00:00:00|1.5 seconds",
    };
    check_rows(&r, want, 5, __LINE__);
    CHECK_EQ_INT(st.bad_records, 0);
    rows_free(&r);

    /* csv.header = false: fields by declared position; another delimiter */
    snprintf(path, sizeof path, "%s/nohdr.csv", dir);
    tu_write_str(path, "1;a;x\n2;\"b;c\";y\n");
    tspec_init(&t, "file", "csv", "c VARCHAR, a BIGINT", "path", path, "csv.header", "false",
               "csv.delimiter", ";", NULL);
    t.index[0] = 2;   /* the stream declared (a, b, c); the plan reads c and a */
    t.index[1] = 0;
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want2[] = {"x|1", "y|2"};
    check_rows(&r, want2, 2, __LINE__);
    rows_free(&r);

    snprintf(path, sizeof path, "%s/tab.csv", dir);
    tu_write_str(path, "a\tb\n5\thello there\n");
    tspec_init(&t, "file", "csv", "b VARCHAR, a BIGINT", "path", path, "csv.delimiter", "\\t",
               NULL);
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want3[] = {"hello there|5"};
    check_rows(&r, want3, 1, __LINE__);
    rows_free(&r);

    /* a header column the stream lacks is ignored; a stream column the header lacks is NULL */
    snprintf(path, sizeof path, "%s/partial.csv", dir);
    tu_write_str(path, "A,zzz\n1,2\n");
    tspec_init(&t, "file", "csv", "a BIGINT, q VARCHAR", "path", path, NULL);
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want4[] = {"1|\\N"};
    check_rows(&r, want4, 1, __LINE__);
    rows_free(&r);
    tu_rmdir(dir);
}

TEST(conn_file_csv_bad_records)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    tu_write_str(path, "a,b\n"
                       "1,2\n"
                       "1\n"
                       "x,2\n"
                       "\"ab\"c,1\n"
                       "3,4\n"
                       "1,2,3\n"
                       "\"unterminated,5\n"
                       "6,7\n");
    TSpec t;
    tspec_init(&t, "file", "csv", "a BIGINT, b BIGINT", "path", path, NULL);
    Rows        r = {0};
    SourceStats st;
    char        err[512];
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_END);
    static const char *want[] = {"1|2", "3|4"};
    check_rows(&r, want, 2, __LINE__);
    CHECK_EQ_INT(st.bad_records, 5);
    static const struct { int line; const char *why; } msgs[] = {
        {3, "expected 2 fields, found 1"}, {4, "'x' is not a valid BIGINT"},
        {5, "after a closing quote"}, {7, "expected 2 fields, found 3"},
        {8, "not closed"},
    };
    for (int i = 0; i < 5 && i < st.nbad_msgs; i++) {
        char expect[256];
        snprintf(expect, sizeof expect, "%s:%d: ", path, msgs[i].line);
        if (strncmp(st.bad_msgs[i], expect, strlen(expect)) != 0 || !strstr(st.bad_msgs[i], msgs[i].why))
            unit_fail(__FILE__, __LINE__, "message %d: '%s' (want '%s…%s')", i, st.bad_msgs[i],
                      expect, msgs[i].why);
    }
    rows_free(&r);
    tspec_opt(&t, "format.on-error", "fail");
    CHECK_EQ_INT(read_with_stats(&t, &r, &st, err, sizeof err), SOURCE_ERROR);
    CHECK(strstr(err, ":3: expected 2 fields") != NULL);
    rows_free(&r);
    tu_rmdir(dir);
}

TEST(conn_file_glob_in_name_order)
{
    char dir[64], path[128], pat[128];
    tu_tmpdir(dir, sizeof dir);
    static const char *names[] = {"c.jsonl", "a.jsonl", "b.jsonl", "other.txt"};
    for (int i = 0; i < 4; i++) {
        char line[64];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        snprintf(line, sizeof line, "{\"f\": \"%s\"}\n{\"f\": \"%s-2\"}\n", names[i], names[i]);
        tu_write_str(path, line);
    }
    snprintf(path, sizeof path, "%s/d.jsonl", dir);
    mkdir(path, 0700);   /* a directory that matches is skipped */
    snprintf(pat, sizeof pat, "%s/*.jsonl", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "f VARCHAR", "path", pat, NULL);
    Rows r = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &r) == 0);
    static const char *want[] = {"a.jsonl", "a.jsonl-2", "b.jsonl", "b.jsonl-2", "c.jsonl", "c.jsonl-2"};
    check_rows(&r, want, 6, __LINE__);
    rows_free(&r);

    char err[512];
    snprintf(pat, sizeof pat, "%s/*.nothing", dir);
    tspec_init(&t, "file", "json", "f VARCHAR", "path", pat, NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "no file matches") != NULL);
    tu_rmdir(dir);
}

/* Lines of varied lengths across several files, some crossing split points. */
static int write_split_fixture(const char *dir)
{
    uint64_t x = 12345;
    int      lines = 0;
    char    *pad = malloc(5000);
    memset(pad, 'p', 4999);
    pad[4999] = 0;
    for (int f = 0; f < 5; f++) {
        char  path[128];
        snprintf(path, sizeof path, "%s/part-%d.jsonl", dir, f);
        FILE *fp = fopen(path, "w");
        int   n = f == 2 ? 0 : 150 + f * 37;   /* part-2 is empty */
        for (int i = 0; i < n; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int len = (int)((x >> 33) % 4000);
            if (i % 50 == 7) fprintf(fp, "\n");   /* blank lines are skipped */
            fprintf(fp, "{\"file\": %d, \"line\": %d, \"pad\": \"%.*s\"}", f, i, len, pad);
            if (!(f == 4 && i == n - 1)) fprintf(fp, "\n");   /* the last file lacks a final newline */
            lines++;
        }
        fclose(fp);
    }
    free(pad);
    return lines;
}

TEST(conn_file_split_among_tasks_same_rows)
{
    char dir[64], pat[128];
    tu_tmpdir(dir, sizeof dir);
    int lines = write_split_fixture(dir);
    snprintf(pat, sizeof pat, "%s/part-*.jsonl", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "file BIGINT, line BIGINT, pad VARCHAR", "path", pat, NULL);
    Rows one = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &one) == 0);
    CHECK_EQ_INT(one.n, lines);
    for (int n = 2; n <= 9; n++) {
        Rows all = {0}, ref = {0};
        for (int task = 0; task < n; task++) {
            Rows part = {0};
            CHECK(tu_read_all(&t, task, n, &part) == 0);
            for (int i = 0; i < part.n; i++) rows_add(&all, part.r[i]);
            rows_free(&part);
        }
        for (int i = 0; i < one.n; i++) rows_add(&ref, one.r[i]);
        if (!rows_same_multiset(&ref, &all)) unit_fail(__FILE__, __LINE__, "N=%d differs from N=1", n);
        rows_free(&all);
        rows_free(&ref);
    }
    rows_free(&one);

    /* a single file split at every possible kind of point: 40 tasks */
    char path[128];
    snprintf(path, sizeof path, "%s/part-1.jsonl", dir);
    tspec_init(&t, "file", "json", "line BIGINT", "path", path, NULL);
    Rows a = {0}, b = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &a) == 0);
    for (int task = 0; task < 40; task++) CHECK(tu_read_all(&t, task, 40, &b) == 0);
    CHECK(rows_same_multiset(&a, &b));
    rows_free(&a);
    rows_free(&b);

    /* lines of exactly 10 bytes: split points that fall exactly on line
     * starts (N = 2, 4, 5, 10, 100), inside lines, and more tasks than bytes */
    snprintf(path, sizeof path, "%s/fixed.jsonl", dir);
    FILE *fp = fopen(path, "w");
    for (int i = 0; i < 100; i++) fprintf(fp, "{\"v\":%3d}\n", i);   /* 10 bytes */
    fclose(fp);
    tspec_init(&t, "file", "json", "v BIGINT", "path", path, NULL);
    static const int ns[] = {2, 3, 4, 5, 7, 10, 100, 1001};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
        Rows all = {0};
        for (int task = 0; task < ns[k]; task++) CHECK(tu_read_all(&t, task, ns[k], &all) == 0);
        int seen[100] = {0}, bad = all.n != 100;
        for (int i = 0; i < all.n; i++) {
            int v = atoi(all.r[i]);
            if (v >= 0 && v < 100) seen[v]++;
        }
        for (int v = 0; v < 100; v++) bad |= seen[v] != 1;
        if (bad) unit_fail(__FILE__, __LINE__, "fixed-size lines, N=%d: %d rows", ns[k], all.n);
        rows_free(&all);
    }
    tu_rmdir(dir);
}

TEST(conn_file_split_line_numbers_in_messages)
{
    /* a task that starts mid-file still reports absolute line numbers */
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.jsonl", dir);
    FILE *fp = fopen(path, "w");
    for (int i = 1; i <= 1000; i++) fprintf(fp, i == 900 ? "oops\n" : "{\"v\": %d}\n", i);
    fclose(fp);
    TSpec t;
    tspec_init(&t, "file", "json", "v BIGINT", "path", path, NULL);
    int64_t bad = 0, rows = 0;
    for (int task = 0; task < 4; task++) {
        char err[256];
        t.spec.task = task;
        t.spec.ntasks = 4;
        Source *s = source_open(&t.spec, err, sizeof err);
        REQUIRE(s != NULL);
        Rows r = {0};
        CHECK_EQ_INT(tu_drain(s, &t.spec, &r, 3), SOURCE_END);
        SourceStats st;
        source_stats(s, &st);
        rows += r.n;
        bad += st.bad_records;
        if (st.nbad_msgs > 0) {
            char expect[200];
            snprintf(expect, sizeof expect, "%s:900: ", path);
            CHECK(strncmp(st.bad_msgs[0], expect, strlen(expect)) == 0);
        }
        rows_free(&r);
        source_close(s);
    }
    CHECK_EQ_INT(rows, 999);
    CHECK_EQ_INT(bad, 1);
    tu_rmdir(dir);
}

TEST(conn_file_csv_files_dealt_to_tasks)
{
    char dir[64], path[128], pat[128];
    tu_tmpdir(dir, sizeof dir);
    for (int f = 0; f < 5; f++) {
        snprintf(path, sizeof path, "%s/f%d.csv", dir, f);
        FILE *fp = fopen(path, "w");
        fprintf(fp, "k,text\n");
        for (int i = 0; i < 100; i++) fprintf(fp, "%d,\"line %d\nof file %d, \"\"quoted\"\"\"\n", i, i, f);
        fclose(fp);
    }
    snprintf(pat, sizeof pat, "%s/f*.csv", dir);
    TSpec t;
    tspec_init(&t, "file", "csv", "k BIGINT, text VARCHAR", "path", pat, NULL);
    Rows one = {0};
    REQUIRE(tu_read_all(&t, 0, 1, &one) == 0);
    CHECK_EQ_INT(one.n, 500);
    for (int n = 2; n <= 6; n++) {
        Rows all = {0}, ref = {0};
        for (int task = 0; task < n; task++) CHECK(tu_read_all(&t, task, n, &all) == 0);
        for (int i = 0; i < one.n; i++) rows_add(&ref, one.r[i]);
        if (!rows_same_multiset(&ref, &all)) unit_fail(__FILE__, __LINE__, "N=%d differs", n);
        rows_free(&all);
        rows_free(&ref);
    }
    rows_free(&one);
    tu_rmdir(dir);
}

TEST(conn_file_long_lines)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/long.jsonl", dir);
    size_t big = 2u << 20;   /* a 2 MiB string: past the first buffer size */
    char  *s = malloc(big + 1);
    memset(s, 'x', big);
    s[big] = 0;
    FILE *fp = fopen(path, "w");
    fprintf(fp, "{\"n\": 1, \"s\": \"%s\"}\n{\"n\": 2, \"s\": \"short\"}\n", s);
    /* and one past the 16 MiB record limit: a bad record, then reading goes on */
    for (int i = 0; i < 9; i++) fprintf(fp, "%s", i == 0 ? "{\"n\": 3, \"s\": \"" : s);
    fprintf(fp, "\"}\n{\"n\": 4, \"s\": \"after\"}\n");
    fclose(fp);
    free(s);
    TSpec t;
    tspec_init(&t, "file", "json", "n BIGINT, s VARCHAR", "path", path, NULL);
    char    err[256];
    Source *src = source_open(&t.spec, err, sizeof err);
    REQUIRE(src != NULL);
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 2, t.types, 0) == 0);
    int64_t ns[8], lens[8];
    int     k = 0;
    SourceStatus st;
    while ((st = source_next(src, &b, 0, &wait)) == SOURCE_BATCH) {
        for (int r = 0; r < b.nrows && k < 8; r++, k++) {
            ns[k] = vector_i64(&b.cols[0])[r];
            lens[k] = vector_str(&b.cols[1])[r].len;
        }
        batch_reset(&b);
    }
    CHECK_EQ_INT(st, SOURCE_END);
    CHECK_EQ_INT(k, 3);
    if (k == 3) {
        CHECK(ns[0] == 1 && lens[0] == (int64_t)big);
        CHECK(ns[1] == 2 && lens[1] == 5);
        CHECK(ns[2] == 4 && lens[2] == 5);
    }
    SourceStats ss;
    source_stats(src, &ss);
    CHECK_EQ_INT(ss.bad_records, 1);
    CHECK(ss.nbad_msgs == 1 && strstr(ss.bad_msgs[0], ":3: record longer than"));
    batch_destroy(&b);
    source_close(src);
    tu_rmdir(dir);
}

TEST(conn_file_follow_tails_new_lines_and_files)
{
    char dir[64], path[128], path2[128], pat[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.log", dir);
    snprintf(path2, sizeof path2, "%s/b.log", dir);
    snprintf(pat, sizeof pat, "%s/*.log", dir);
    tu_write_str(path, "{\"v\": 1}\n{\"v\": 2}\n");
    TSpec t;
    tspec_init(&t, "file", "json", "v BIGINT", "path", pat, "follow", "true", NULL);
    char    err[256];
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch   b;
    int64_t wait, now = 0;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
#define PULL() (batch_reset(&b), source_next(s, &b, now, &wait))
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 2);
    CHECK_EQ_INT(PULL(), SOURCE_IDLE);   /* never ends */
    CHECK(wait > 0 && wait <= 1000000);
    /* an appended line and a partial one: only the whole line comes */
    tu_write(path, "{\"v\": 3}\n{\"v\":", 14, "a");
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 3);
    CHECK_EQ_INT(PULL(), SOURCE_IDLE);
    tu_write(path, " 4}\n", 4, "a");
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 4);
    /* a new matching file is picked up once the glob is evaluated again */
    tu_write_str(path2, "{\"v\": 10}\n");
    now += 2000000;
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 10);
    /* truncated and rewritten: read again from the start */
    CHECK_EQ_INT(PULL(), SOURCE_IDLE);   /* notices the truncation below on the next idle */
    tu_write_str(path, "{\"v\": 5}\n");
    CHECK_EQ_INT(PULL(), SOURCE_IDLE);
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[0], 5);
    /* replaced under its name (rotation): the new file is read */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/new.tmp", dir);
    tu_write_str(tmp, "{\"v\": 6}\n{\"v\": 7}\n{\"v\": 8}\n");
    CHECK(rename(tmp, path) == 0);
    CHECK_EQ_INT(PULL(), SOURCE_IDLE);
    CHECK_EQ_INT(PULL(), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 3);
    CHECK_EQ_INT(vector_i64(&b.cols[0])[2], 8);
#undef PULL
    batch_destroy(&b);
    source_close(s);

    /* follow with 2 tasks: each file is read by exactly one of them */
    int total = 0;
    for (int task = 0; task < 2; task++) {
        t.spec.task = task;
        t.spec.ntasks = 2;
        s = source_open(&t.spec, err, sizeof err);
        REQUIRE(s != NULL);
        Rows r = {0};
        CHECK_EQ_INT(tu_drain(s, &t.spec, &r, 2), SOURCE_IDLE);
        total += r.n;
        rows_free(&r);
        source_close(s);
    }
    CHECK_EQ_INT(total, 4);   /* a.log: 6, 7, 8; b.log: 10 */
    tu_rmdir(dir);
}

TEST(conn_file_stdin)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/in.csv", dir);
    tu_write_str(path, "a,b\n1,x\n2,y\n");
    int saved = dup(STDIN_FILENO);
    int fd = open(path, O_RDONLY);
    REQUIRE(saved >= 0 && fd >= 0);
    dup2(fd, STDIN_FILENO);
    close(fd);
    TSpec t;
    tspec_init(&t, "stdin", "csv", "b VARCHAR, a BIGINT", NULL);
    Rows r = {0};
    CHECK(tu_read_all(&t, 1, 2, &r) == 0);   /* task 1 reads nothing */
    CHECK_EQ_INT(r.n, 0);
    CHECK(tu_read_all(&t, 0, 2, &r) == 0);
    static const char *want[] = {"x|1", "y|2"};
    check_rows(&r, want, 2, __LINE__);
    rows_free(&r);
    dup2(saved, STDIN_FILENO);
    close(saved);

    /* a pipe with nothing yet: idle, not blocked; then data, then EOF */
    int p[2];
    REQUIRE(pipe(p) == 0);
    saved = dup(STDIN_FILENO);
    dup2(p[0], STDIN_FILENO);
    close(p[0]);
    tspec_init(&t, "stdin", "json", "v BIGINT", NULL);
    char    err[256];
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch   b;
    int64_t wait;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
    CHECK_EQ_INT(source_next(s, &b, 0, &wait), SOURCE_IDLE);
    CHECK(wait > 0);
    CHECK(write(p[1], "{\"v\": 1}\n{\"v\"", 13) == 13);
    CHECK_EQ_INT(source_next(s, &b, 0, &wait), SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 1);
    batch_reset(&b);
    CHECK(write(p[1], ": 2}", 4) == 4);
    close(p[1]);   /* EOF: the last line needs no newline */
    CHECK_EQ_INT(source_next(s, &b, 0, &wait), SOURCE_BATCH);
    CHECK(b.nrows == 1 && vector_i64(&b.cols[0])[0] == 2);
    batch_reset(&b);
    CHECK_EQ_INT(source_next(s, &b, 0, &wait), SOURCE_END);
    batch_destroy(&b);
    source_close(s);
    dup2(saved, STDIN_FILENO);
    close(saved);
    tu_rmdir(dir);
}

TEST(conn_file_open_errors)
{
    char  err[512];
    TSpec t;
    tspec_init(&t, "file", "json", "v BIGINT", "path", "/nonexistent/dir/*.jsonl", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "no file matches") != NULL);
    tspec_init(&t, "file", "xml", "v BIGINT", "path", "/etc/hostname", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "format") != NULL);
    tspec_init(&t, "file", "csv", "v BIGINT", "path", "/etc/hostname", "csv.delimiter", "ab", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "csv.delimiter") != NULL);
    tspec_init(&t, "file", "json", "v BIGINT", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "path") != NULL);
    tspec_init(&t, "file", "json", "v BIGINT", "path", "/etc/hostname", "format.on-error", "ignore", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    tspec_init(&t, "kafkaesque", "json", "v BIGINT", NULL);
    CHECK(source_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown source connector") != NULL);
}

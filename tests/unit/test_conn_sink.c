/*
 * test_conn_sink.c — the `file` and `stdout` sinks: exact JSON/CSV/table
 * text, round trips (write JSON and CSV, read back with the file source,
 * equal), append mode and the CSV header, the selection vector, errors.
 */
#include "tests/unit/test_conn_util.h"

#include <fcntl.h>
#include <math.h>

#include "exec/timefmt.h"

#define ALL_TYPES "b BOOLEAN, i BIGINT, d DOUBLE, s VARCHAR, ts TIMESTAMP, iv INTERVAL"

static int64_t tsv(const char *s)
{
    int64_t v = 0;
    ts_parse(s, strlen(s), &v);
    return v;
}

/* A batch of tricky rows of every type (row 2 all NULL). */
static void fill_batch(Batch *b)
{
    static const char *strs[] = {
        "plain", "", NULL, "comma, \"quotes\"\nnewline\r\ttab \\ back", "ünïcödé 日本 😀",
        "ctl \x01\x1f end", "a;b", "NULL",
    };
    static const double dbl[] = {1.5, -0.0, 0, 0.1, 1e20, -2.5e-7, 3.0, 123456789.125};
    int                 n = (int)(sizeof strs / sizeof strs[0]);
    for (int r = 0; r < n; r++) {
        if (r == 2) {
            for (int c = 0; c < 6; c++) vector_set_null(&b->cols[c], r);
            continue;
        }
        vector_bool(&b->cols[0])[r] = (uint8_t)(r & 1);
        vector_i64(&b->cols[1])[r] = r == 1 ? INT64_MIN : r == 3 ? INT64_MAX : r * 1000 - 7;
        vector_f64(&b->cols[2])[r] = dbl[r];
        vector_set_str(&b->cols[3], r, strs[r], strlen(strs[r]));
        vector_i64(&b->cols[4])[r] = tsv("2024-01-01 00:00:00") + r * 1234000;   /* whole ms */
        vector_i64(&b->cols[5])[r] = (int64_t)r * 1500000 + 1000;
    }
    batch_set_nrows(b, n);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    s[fread(s, 1, (size_t)n, f)] = 0;
    fclose(f);
    return s;
}

static int write_batch(TSpec *t, const Batch *b, char *err, size_t cap)
{
    Sink *k = sink_open(&t->spec, err, cap);
    if (!k) return -1;
    int rc = sink_write(k, b);
    if (rc == 0) rc = sink_flush(k);
    if (rc != 0) snprintf(err, cap, "%s", sink_error(k));
    sink_close(k);
    return rc;
}

static void roundtrip(const char *format, const char *delim)
{
    char dir[64], path[128], err[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/out/sub/rows.%s", dir, format);   /* parents are created */
    TSpec t;
    tspec_init(&t, "file", format, ALL_TYPES, "path", path, NULL);
    if (delim) tspec_opt(&t, "csv.delimiter", delim);
    Batch b;
    REQUIRE(batch_init(&b, 6, t.types, 0) == 0);
    fill_batch(&b);
    Rows want = {0}, got = {0};
    char row[4096];
    for (int r = 0; r < b.nrows; r++) {
        tu_row_text(&b, r, row, sizeof row);
        rows_add(&want, row);
    }
    if (write_batch(&t, &b, err, sizeof err) != 0) unit_fail(__FILE__, __LINE__, "write: %s", err);
    TSpec rd;
    tspec_init(&rd, "file", format, ALL_TYPES, "path", path, NULL);
    if (delim) tspec_opt(&rd, "csv.delimiter", delim);
    REQUIRE(tu_read_all(&rd, 0, 1, &got) == 0);
    if (got.n != want.n) unit_fail(__FILE__, __LINE__, "%s: %d rows back, wrote %d", format, got.n, want.n);
    for (int i = 0; i < got.n && i < want.n; i++)
        if (strcmp(got.r[i], want.r[i]) != 0)
            unit_fail(__FILE__, __LINE__, "%s row %d: read '%s', wrote '%s'", format, i, got.r[i],
                      want.r[i]);
    rows_free(&want);
    rows_free(&got);
    batch_destroy(&b);
    tu_rmdir(dir);
}

TEST(conn_sink_json_roundtrip)
{
    roundtrip("json", NULL);
}

TEST(conn_sink_csv_roundtrip)
{
    roundtrip("csv", NULL);
    roundtrip("csv", ";");
    roundtrip("csv", "\\t");
}

TEST(conn_sink_json_text)
{
    char dir[64], path[128], err[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/x.jsonl", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "window_start TIMESTAMP, user_id BIGINT, crashes BIGINT, r DOUBLE, \"q\" VARCHAR, ok BOOLEAN, iv INTERVAL",
               "path", path, NULL);
    Batch b;
    REQUIRE(batch_init(&b, 7, t.types, 0) == 0);
    vector_i64(&b.cols[0])[0] = tsv("2024-01-01 00:00:10.123456");
    vector_i64(&b.cols[1])[0] = 42;
    vector_i64(&b.cols[2])[0] = -3;
    vector_f64(&b.cols[3])[0] = 0.5;
    vector_set_str(&b.cols[4], 0, "a\"b\\c\n\x01", 7);
    vector_bool(&b.cols[5])[0] = 1;
    vector_i64(&b.cols[6])[0] = 10 * USEC_PER_SEC;
    vector_i64(&b.cols[0])[1] = tsv("1969-12-31 23:59:59.9995");
    vector_set_null(&b.cols[1], 1);
    vector_i64(&b.cols[2])[1] = 0;
    vector_f64(&b.cols[3])[1] = NAN;
    vector_set_str(&b.cols[4], 1, "", 0);
    vector_bool(&b.cols[5])[1] = 0;
    vector_set_null(&b.cols[6], 1);
    batch_set_nrows(&b, 2);
    REQUIRE(write_batch(&t, &b, err, sizeof err) == 0);
    char *text = slurp(path);
    CHECK_EQ_STR(text,
                 "{\"window_start\":\"2024-01-01T00:00:10.123Z\",\"user_id\":42,\"crashes\":-3,\"r\":0.5,"
                 "\"\\\"q\\\"\":\"a\\\"b\\\\c\\n\\u0001\",\"ok\":true,\"iv\":\"10 seconds\"}\n"
                 "{\"window_start\":\"1969-12-31T23:59:59.999Z\",\"user_id\":null,\"crashes\":0,\"r\":null,"
                 "\"\\\"q\\\"\":\"\",\"ok\":false,\"iv\":null}\n");
    free(text);

    /* CSV text: header once, NULL empty, "" for the empty string, quoting */
    snprintf(path, sizeof path, "%s/x.csv", dir);
    tspec_init(&t, "file", "csv", "a BIGINT, s VARCHAR, ts TIMESTAMP", "path", path, NULL);
    Batch c;
    REQUIRE(batch_init(&c, 3, t.types, 0) == 0);
    vector_i64(&c.cols[0])[0] = 1;
    vector_set_str(&c.cols[1], 0, "x,\"y\"", 5);
    vector_i64(&c.cols[2])[0] = tsv("2024-01-01 00:00:10.25");
    vector_set_null(&c.cols[0], 1);
    vector_set_str(&c.cols[1], 1, "", 0);
    vector_set_null(&c.cols[2], 1);
    batch_set_nrows(&c, 2);
    REQUIRE(write_batch(&t, &c, err, sizeof err) == 0);
    REQUIRE(write_batch(&t, &c, err, sizeof err) == 0);   /* append: no second header */
    text = slurp(path);
    CHECK_EQ_STR(text, "a,s,ts\n1,\"x,\"\"y\"\"\",2024-01-01 00:00:10.25\n,\"\",\n"
                       "1,\"x,\"\"y\"\"\",2024-01-01 00:00:10.25\n,\"\",\n");
    free(text);
    batch_destroy(&b);
    batch_destroy(&c);
    tu_rmdir(dir);
}

TEST(conn_sink_append_and_selection)
{
    char dir[64], path[128], err[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/sel.jsonl", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "v BIGINT", "path", path, NULL);
    Batch b;
    REQUIRE(batch_init(&b, 1, t.types, 0) == 0);
    for (int r = 0; r < 6; r++) vector_i64(&b.cols[0])[r] = r * 10;
    batch_set_nrows(&b, 6);
    static const uint32_t sel[] = {4, 1, 5};
    batch_set_sel(&b, sel, 3);
    REQUIRE(write_batch(&t, &b, err, sizeof err) == 0);
    REQUIRE(write_batch(&t, &b, err, sizeof err) == 0);   /* appended */
    char *text = slurp(path);
    CHECK_EQ_STR(text, "{\"v\":40}\n{\"v\":10}\n{\"v\":50}\n{\"v\":40}\n{\"v\":10}\n{\"v\":50}\n");
    free(text);

    /* a constant vector stands for every row */
    batch_reset(&b);
    vector_i64(&b.cols[0])[0] = 7;
    vector_make_constant(&b.cols[0]);
    batch_set_nrows(&b, 3);
    unlink(path);
    REQUIRE(write_batch(&t, &b, err, sizeof err) == 0);
    text = slurp(path);
    CHECK_EQ_STR(text, "{\"v\":7}\n{\"v\":7}\n{\"v\":7}\n");
    free(text);

    /* many rows: the buffer is written out in pieces, nothing lost */
    Sink *k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    unlink(path);
    sink_close(k);
    k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    batch_reset(&b);
    for (int r = 0; r < 1024; r++) vector_i64(&b.cols[0])[r] = r;
    batch_set_nrows(&b, 1024);
    for (int i = 0; i < 100; i++) CHECK_EQ_INT(sink_write(k, &b), 0);
    sink_close(k);
    TSpec rd;
    tspec_init(&rd, "file", "json", "v BIGINT", "path", path, NULL);
    Rows got = {0};
    REQUIRE(tu_read_all(&rd, 0, 1, &got) == 0);
    CHECK_EQ_INT(got.n, 102400);
    if (got.n == 102400) CHECK_EQ_STR(got.r[102399], "1023");
    rows_free(&got);
    batch_destroy(&b);
    tu_rmdir(dir);
}

TEST(conn_sink_stdout_formats)
{
    char dir[64], path[128], err[512];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/stdout.txt", dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    static const char *fmts[] = {"table", "csv", "json", NULL};
    SqlType types[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    Batch   b;
    int     ok = batch_init(&b, 2, types, 0) == 0;
    if (ok) {
        vector_i64(&b.cols[0])[0] = 1;
        vector_set_str(&b.cols[1], 0, "tab\there", 8);
        vector_set_null(&b.cols[0], 1);
        vector_set_str(&b.cols[1], 1, "x", 1);
        batch_set_nrows(&b, 2);
        for (int i = 0; i < 4 && ok; i++) {
            TSpec t;
            tspec_init(&t, "stdout", fmts[i], "n BIGINT, s VARCHAR", NULL);
            Sink *k = sink_open(&t.spec, err, sizeof err);
            ok = k && sink_write(k, &b) == 0 && sink_flush(k) == 0;
            sink_close(k);
        }
        batch_destroy(&b);
    }
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    CHECK(ok);
    char *text = slurp(path);
    CHECK_EQ_STR(text, "n\ts\n1\ttab\\there\nNULL\tx\n"
                       "n,s\n1,tab\there\n,x\n"
                       "{\"n\":1,\"s\":\"tab\\there\"}\n{\"n\":null,\"s\":\"x\"}\n"
                       "{\"n\":1,\"s\":\"tab\\there\"}\n{\"n\":null,\"s\":\"x\"}\n");
    free(text);
    tu_rmdir(dir);
}

TEST(conn_sink_open_errors)
{
    char  err[512];
    TSpec t;
    tspec_init(&t, "file", "table", "v BIGINT", "path", "/tmp/x", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "format") != NULL);
    tspec_init(&t, "file", "json", "v BIGINT", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "path") != NULL);
    tspec_init(&t, "file", "json", "v BIGINT", "path", "/proc/nope/x.json", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot open") != NULL);
    tspec_init(&t, "kafka", "json", "v BIGINT", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    /* a batch of the wrong shape is an error value, not a crash */
    tspec_init(&t, "stdout", "json", "v BIGINT, w BIGINT", NULL);
    Sink   *k = sink_open(&t.spec, err, sizeof err);
    SqlType one = TYPE_BIGINT;
    Batch   b;
    REQUIRE(k && batch_init(&b, 1, &one, 0) == 0);
    CHECK_EQ_INT(sink_write(k, &b), -1);
    CHECK(strstr(sink_error(k), "columns") != NULL);
    sink_close(k);
    batch_destroy(&b);
}

/* ---- rolling part files ------------------------------------------------------------------ */

static int64_t fake_now(void *ctx)
{
    return *(const int64_t *)ctx;
}

/* rows id = from … from+n-1, name "r<id>" */
static void roll_rows(Batch *b, int from, int n)
{
    batch_reset(b);
    for (int r = 0; r < n; r++) {
        char name[32];
        int  len = snprintf(name, sizeof name, "r%d", from + r);
        vector_i64(&b->cols[0])[r] = from + r;
        vector_set_str(&b->cols[1], r, name, (size_t)(len > 0 ? len : 0));
    }
    batch_set_nrows(b, n);
}

static char *part_text(const char *dir, int n, const char *ext)
{
    char p[600];
    snprintf(p, sizeof p, "%s/part-%06d.%s", dir, n, ext);
    return access(p, F_OK) == 0 ? slurp(p) : NULL;
}

TEST(conn_sink_rolling_by_size_and_time)
{
    char dir[256], err[256];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    char out[300];
    snprintf(out, sizeof out, "%s/out", dir);
    TSpec t;
    tspec_init(&t, "file", "csv", "id BIGINT, name VARCHAR", "path", out,
               "sink.rolling-policy.file-size", "40B", "sink.rolling-policy.rollover-interval",
               "10 s", NULL);
    int64_t now = 0;
    Sink   *k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    sink_set_clock(k, fake_now, &now);
    Batch b;
    REQUIRE(batch_init(&b, t.spec.ncols, t.spec.col_types, 0) == 0);
    /* "id,name\n" is 8 bytes, rows "10,r10\n" 7: parts of 8 + 5 rows = 43 >= 40 */
    roll_rows(&b, 10, 12);
    CHECK(sink_write(k, &b) == 0);
    CHECK(sink_flush(k) == 0);
    char *p0 = part_text(out, 0, "csv"), *p1 = part_text(out, 1, "csv"), *p2 = part_text(out, 2, "csv");
    REQUIRE(p0 && p1 && p2);
    CHECK_EQ_STR(p0, "id,name\n10,r10\n11,r11\n12,r12\n13,r13\n14,r14\n");
    CHECK_EQ_STR(p1, "id,name\n15,r15\n16,r16\n17,r17\n18,r18\n19,r19\n");
    CHECK_EQ_STR(p2, "id,name\n20,r20\n21,r21\n");
    free(p0), free(p1), free(p2);
    /* age: part 2 is 10 s old at the next write → part 3 */
    now = 5000000;
    roll_rows(&b, 30, 1);
    CHECK(sink_write(k, &b) == 0);
    now = 10000000;
    roll_rows(&b, 31, 1);
    CHECK(sink_write(k, &b) == 0);
    CHECK(sink_flush(k) == 0);
    p2 = part_text(out, 2, "csv");
    p1 = part_text(out, 3, "csv");
    CHECK(p2 && strcmp(p2, "id,name\n20,r20\n21,r21\n30,r30\n") == 0);
    CHECK(p1 && strcmp(p1, "id,name\n31,r31\n") == 0);
    free(p1), free(p2);
    sink_close(k);
    /* a restart continues after the last part */
    k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    roll_rows(&b, 40, 1);
    CHECK(sink_write(k, &b) == 0);
    sink_close(k);
    p1 = part_text(out, 4, "csv");
    CHECK(p1 && strcmp(p1, "id,name\n40,r40\n") == 0);
    free(p1);
    CHECK(part_text(out, 5, "csv") == NULL);
    /* bad values */
    tspec_opt(&t, "sink.rolling-policy.file-size", "lots");
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "file-size") != NULL);
    batch_destroy(&b);
    tu_rmdir(dir);
}

TEST(conn_sink_rolling_transactional_crash_recover)
{
    char dir[256], err[256], out[300];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    snprintf(out, sizeof out, "%s/parts", dir);
    TSpec t;
    tspec_init(&t, "file", "csv", "id BIGINT, name VARCHAR", "path", out,
               "sink.rolling-policy.file-size", "29B", NULL);
    t.spec.transactional = 1;
    Batch b;
    REQUIRE(batch_init(&b, t.spec.ncols, t.spec.col_types, 0) == 0);
    Sink *k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    REQUIRE(sink_recover(k, NULL, 0) == 0);
    /* epoch 1: 5 rows (35 bytes) in part 0, which rolls at the commit */
    roll_rows(&b, 10, 5);
    CHECK(sink_write(k, &b) == 0);
    char blob1[1024], blob2[1024];
    long n1 = sink_prepare(k, blob1, sizeof blob1);
    REQUIRE(n1 > 0);
    CHECK(part_text(out, 0, "csv") == NULL);   /* nothing visible before the commit */
    roll_rows(&b, 20, 2);                       /* written between prepare and commit: epoch 2 */
    CHECK(sink_write(k, &b) == 0);
    CHECK(sink_commit(k) == 0);
    char *p = part_text(out, 0, "csv");
    CHECK(p && strcmp(p, "id,name\n10,r10\n11,r11\n12,r12\n13,r13\n14,r14\n") == 0);
    free(p);
    roll_rows(&b, 22, 1);
    CHECK(sink_write(k, &b) == 0);
    long n2 = sink_prepare(k, blob2, sizeof blob2);
    REQUIRE(n2 > 0);
    roll_rows(&b, 90, 3);   /* after the last prepare: dropped by the crash */
    CHECK(sink_write(k, &b) == 0);
    sink_close(k);          /* crash before commit 2 */
    const char *want1 = "id,name\n20,r20\n21,r21\n22,r22\n";
    /* recover: the commit is redone into part 1 (header first), part 0 untouched */
    for (int round = 0; round < 3; round++) {
        if (round == 0) {   /* a torn copy (crash in the commit): part 1 holds a prefix */
            char pp[600];
            snprintf(pp, sizeof pp, "%s/part-000001.csv", out);
            tu_write(pp, want1, 12, "w");
        }
        k = sink_open(&t.spec, err, sizeof err);
        REQUIRE(k != NULL);
        CHECK(sink_recover(k, blob2, (size_t)n2) == 0);
        if (unit_failed_now()) printf("    recover: %s\n", sink_error(k));
        sink_close(k);
        p = part_text(out, 1, "csv");
        CHECK(p && strcmp(p, want1) == 0);
        free(p);
        p = part_text(out, 0, "csv");
        CHECK(p && strcmp(p, "id,name\n10,r10\n11,r11\n12,r12\n13,r13\n14,r14\n") == 0);
        free(p);
    }
    /* after recovery part 1 (29 bytes) is full: the next epoch goes to part 2 */
    k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK(sink_recover(k, blob2, (size_t)n2) == 0);
    roll_rows(&b, 30, 1);
    CHECK(sink_write(k, &b) == 0);
    CHECK(sink_prepare(k, blob1, sizeof blob1) > 0);
    CHECK(sink_commit(k) == 0);
    sink_close(k);
    p = part_text(out, 2, "csv");
    CHECK(p && strcmp(p, "id,name\n30,r30\n") == 0);
    free(p);
    /* a non-empty part after the checkpoint's is refused; a fresh start goes after the last */
    k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK(sink_recover(k, blob2, (size_t)n2) == -1);
    CHECK(strstr(sink_error(k), "newer than the checkpoint") != NULL);
    sink_close(k);
    k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK(sink_recover(k, NULL, 0) == 0);
    roll_rows(&b, 50, 1);
    CHECK(sink_write(k, &b) == 0);
    CHECK(sink_prepare(k, blob1, sizeof blob1) > 0);
    CHECK(sink_commit(k) == 0);
    sink_close(k);
    p = part_text(out, 3, "csv");
    CHECK(p && strcmp(p, "id,name\n50,r50\n") == 0);
    free(p);
    batch_destroy(&b);
    tu_rmdir(dir);
}

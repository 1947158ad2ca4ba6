/*
 * test_conn_checkpoint.c — source checkpoints and the exactly-once file sink.
 *
 * Sources: for every connector, read some batches, checkpoint, read the rest
 * into A; open a fresh source with the same spec, restore, read the rest into
 * B; A == B row by row (all columns), and prefix + A is the whole input.
 * Checkpoints at the very start and at the end, parallel tasks, multiple
 * files, CSV with a header, follow with a partial last line, Kafka with 3
 * partitions on the mock cluster; blobs that do not fit (another connector,
 * truncated, corrupt, other partitions, other files, a shorter file) → -1
 * with a reason.
 *
 * Sinks: a transactional file sink "crashes" (is closed without commit, or
 * has its files damaged by hand) after a write, after a prepare, in the
 * middle of a commit (a partial copy into the target; a commit whose
 * pending file was not emptied), after a commit; a new sink recovers with
 * the last durable blob, continues, and the target holds every committed row
 * exactly once (and the CSV header once).
 */
#include "tests/unit/test_conn_util.h"

#include <librdkafka/rdkafka.h>
#include <time.h>

#include "runtime/connectors/kafka.h"

#define BLOB_CAP 65536

/* ---- helpers -------------------------------------------------------------------------------- */

typedef struct Reader {
    Batch   b;
    int64_t now;
} Reader;

/* Read up to nbatches batches (capacity cap) into out; -1 = to the end (or
 * max_idle consecutive idles). Returns the last status. */
static SourceStatus read_some(Source *s, const ConnSpec *spec, int cap, int nbatches, Rows *out,
                              int max_idle, int64_t *now)
{
    Batch b;
    if (batch_init(&b, spec->ncols, spec->col_types, cap) != 0) return SOURCE_ERROR;
    int64_t      wait;
    int          idles = 0, got = 0;
    SourceStatus st = SOURCE_BATCH;
    char         row[4096];
    while (nbatches < 0 || got < nbatches) {
        batch_reset(&b);
        st = source_next(s, &b, *now, &wait);
        if (st == SOURCE_BATCH) {
            idles = 0;
            got++;
            for (int r = 0; r < b.nrows; r++) {
                tu_row_text(&b, r, row, sizeof row);
                rows_add(out, row);
            }
        } else if (st == SOURCE_IDLE) {
            if (++idles >= max_idle) break;
            *now += wait;
        } else {
            break;
        }
    }
    batch_destroy(&b);
    return st;
}

static int rows_equal(const Rows *a, const Rows *b, const char *what)
{
    if (a->n != b->n) {
        printf("    %s: row counts differ: %d vs %d\n", what, a->n, b->n);
        return 0;
    }
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->r[i], b->r[i]) != 0) {
            printf("    %s: row %d differs: '%s' vs '%s'\n", what, i, a->r[i], b->r[i]);
            return 0;
        }
    return 1;
}

static void rows_cat(Rows *dst, const Rows *src)
{
    for (int i = 0; i < src->n; i++) rows_add(dst, src->r[i]);
}

static Source *open_task(TSpec *t, int task, int ntasks)
{
    char err[512];
    t->spec.task = task;
    t->spec.ntasks = ntasks;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) printf("    source_open: %s\n", err);
    return s;
}

/* The round trip for one task: `before` batches of `cap` rows, checkpoint,
 * the rest (A) vs restore + the rest (B); also prefix + A == a plain read. */
static int roundtrip(TSpec *t, int task, int ntasks, int cap, int before)
{
    Rows    full = {0}, pre = {0}, a = {0}, b = {0};
    int     ok = 0;
    int64_t now = 1000000;
    char    err[512];
    static unsigned char blob[BLOB_CAP];
    Source *s = open_task(t, task, ntasks), *r = NULL, *f = open_task(t, task, ntasks);
    if (!s || !f) goto done;
    if (read_some(f, &t->spec, cap, -1, &full, 3, &now) == SOURCE_ERROR) goto done;
    now = 1000000;
    if (read_some(s, &t->spec, cap, before, &pre, 3, &now) == SOURCE_ERROR) goto done;
    long n = source_checkpoint(s, blob, sizeof blob);
    if (n <= 0) {
        printf("    checkpoint: %s\n", source_error(s));
        goto done;
    }
    int64_t now_a = now, now_b = 5000000;
    if (read_some(s, &t->spec, cap, -1, &a, 3, &now_a) == SOURCE_ERROR) goto done;
    r = open_task(t, task, ntasks);
    if (!r) goto done;
    if (source_restore(r, blob, (size_t)n, err, sizeof err) != 0) {
        printf("    restore: %s\n", err);
        goto done;
    }
    if (read_some(r, &t->spec, cap, -1, &b, 3, &now_b) == SOURCE_ERROR) goto done;
    Rows whole = {0};
    rows_cat(&whole, &pre);
    rows_cat(&whole, &a);
    ok = rows_equal(&a, &b, "after restore") && rows_equal(&whole, &full, "prefix + rest");
    rows_free(&whole);
done:
    source_close(s);
    source_close(r);
    source_close(f);
    rows_free(&full);
    rows_free(&pre);
    rows_free(&a);
    rows_free(&b);
    return ok;
}

/* Every task of ntasks, checkpointed after 0, 1, 3 and 1000 batches. */
static int roundtrip_all(TSpec *t, int ntasks, int cap)
{
    static const int befores[] = {0, 1, 3, 1000};
    for (int task = 0; task < ntasks; task++)
        for (size_t i = 0; i < sizeof befores / sizeof befores[0]; i++)
            if (!roundtrip(t, task, ntasks, cap, befores[i])) {
                printf("    (task %d of %d, checkpoint after %d batches)\n", task, ntasks,
                       befores[i]);
                return 0;
            }
    return 1;
}

/* A checkpoint of t (after one batch), into blob; its length or -1. */
static long blob_of(TSpec *t, int task, int ntasks, void *blob, size_t cap)
{
    Source *s = open_task(t, task, ntasks);
    if (!s) return -1;
    Rows    rows = {0};
    int64_t now = 1000000;
    read_some(s, &t->spec, 10, 1, &rows, 3, &now);
    long n = source_checkpoint(s, blob, cap);
    source_close(s);
    rows_free(&rows);
    return n;
}

/* Restoring blob into t must fail with a message containing want. */
static int restore_fails(TSpec *t, int task, int ntasks, const void *blob, size_t len,
                         const char *want)
{
    char    err[512] = "";
    Source *s = open_task(t, task, ntasks);
    if (!s) return 0;
    int rc = source_restore(s, blob, len, err, sizeof err);
    source_close(s);
    if (rc == 0) {
        printf("    restore succeeded; expected an error with '%s'\n", want);
        return 0;
    }
    if (!strstr(err, want)) {
        printf("    error '%s' lacks '%s'\n", err, want);
        return 0;
    }
    return 1;
}

/* ---- generators ------------------------------------------------------------------------------ */

TEST(conn_ckpt_logs)
{
    TSpec t;
    tspec_init(&t, "logs", NULL, "ts TIMESTAMP, user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR",
               "count", "3000", "partitions", "5", "out-of-orderness", "2s", "zipf", "1.1", NULL);
    CHECK(roundtrip_all(&t, 1, 64));
    CHECK(roundtrip_all(&t, 2, 100));
    CHECK(roundtrip_all(&t, 3, 37));
}

TEST(conn_ckpt_logs_rate)
{
    /* rate 1000/s: after a restore at event k_r the schedule restarts there */
    TSpec t;
    tspec_init(&t, "logs", NULL, "user_id BIGINT", "rate", "1000", "count", "100", NULL);
    CHECK(roundtrip(&t, 0, 1, 10, 2));
    static unsigned char blob[256];
    char    err[256];
    Source *s = open_task(&t, 0, 1);
    REQUIRE(s);
    Rows    rows = {0};
    int64_t now = 0;
    read_some(s, &t.spec, 100, 1, &rows, 1, &now);   /* t0 = 0: event 0 only */
    CHECK_EQ_INT(rows.n, 1);
    now = 20000;                                      /* events 1 … 20 */
    read_some(s, &t.spec, 100, 1, &rows, 1, &now);
    CHECK_EQ_INT(rows.n, 21);
    long n = source_checkpoint(s, blob, sizeof blob);
    CHECK(n > 0);
    source_close(s);
    Source *r = open_task(&t, 0, 1);
    REQUIRE(r);
    CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
    Batch b;
    batch_init(&b, 1, t.types, 100);
    int64_t wait = 0;
    CHECK(source_next(r, &b, 777000000, &wait) == SOURCE_BATCH);   /* event 21 at once */
    CHECK_EQ_INT(b.nrows, 1);
    batch_reset(&b);
    CHECK(source_next(r, &b, 777000000 + 500, &wait) == SOURCE_IDLE);
    CHECK_EQ_INT(wait, 500);                                        /* event 22: 1 ms after 21 */
    batch_reset(&b);
    CHECK(source_next(r, &b, 777000000 + 5000, &wait) == SOURCE_BATCH);
    CHECK_EQ_INT(b.nrows, 5);                                       /* events 22 … 26 */
    batch_destroy(&b);
    source_close(r);
    rows_free(&rows);
}

TEST(conn_ckpt_datagen)
{
    TSpec t;
    tspec_init(&t, "datagen", NULL, "id BIGINT, name VARCHAR, score DOUBLE, ts TIMESTAMP, ok BOOLEAN",
               "rows-per-second", "0", "number-of-rows", "2000", "fields.id.kind", "sequence",
               "fields.id.start", "1", "fields.id.end", "100000", "fields.name.length", "8",
               "fields.score.null-rate", "0.2", "fields.ts.max-past", "5s", NULL);
    CHECK(roundtrip_all(&t, 1, 50));
    CHECK(roundtrip_all(&t, 3, 64));
    /* with a rate (default 10000/s) under the fake clock */
    TSpec r;
    tspec_init(&r, "datagen", NULL, "id BIGINT", "number-of-rows", "500", NULL);
    CHECK(roundtrip_all(&r, 2, 16));
}

TEST(conn_ckpt_nexmark)
{
    TSpec t;
    tspec_init(&t, "nexmark", NULL, "auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR, date_time TIMESTAMP",
               "table", "bid", "count", "5000", NULL);
    CHECK(roundtrip_all(&t, 1, 128));
    CHECK(roundtrip_all(&t, 3, 100));
    TSpec u;
    tspec_init(&u, "nexmark", NULL, "event_type BIGINT, person_id BIGINT, auction_id BIGINT, bid_price BIGINT",
               "count", "3000", "partitions", "7", NULL);
    CHECK(roundtrip_all(&u, 2, 50));
    TSpec p;   /* persons only: most events are skipped */
    tspec_init(&p, "nexmark", NULL, "id BIGINT, name VARCHAR", "table", "person", "count", "20000",
               "partitions", "4", NULL);
    CHECK(roundtrip_all(&p, 2, 7));
}

TEST(conn_ckpt_mismatch)
{
    static unsigned char blob[4096], bad[4096];
    TSpec logs, dg, nx;
    tspec_init(&logs, "logs", NULL, "user_id BIGINT", "count", "1000", "partitions", "3", NULL);
    tspec_init(&dg, "datagen", NULL, "id BIGINT", "number-of-rows", "1000", "rows-per-second", "0", NULL);
    tspec_init(&nx, "nexmark", NULL, "date_time TIMESTAMP", "table", "person", "count", "1000", NULL);
    long n = blob_of(&logs, 0, 1, blob, sizeof blob);
    REQUIRE(n > 0);
    CHECK(restore_fails(&dg, 0, 1, blob, (size_t)n, "'logs' connector"));
    CHECK(restore_fails(&logs, 0, 1, blob, (size_t)n - 1, "truncated"));
    CHECK(restore_fails(&logs, 0, 1, blob, 10, "truncated"));
    CHECK(restore_fails(&logs, 0, 1, "garbage!", 8, "magic"));
    memcpy(bad, blob, (size_t)n);
    bad[n / 2] ^= 0x40;
    CHECK(restore_fails(&logs, 0, 1, bad, (size_t)n, "checksum"));
    /* another partition set: other `partitions`, other parallelism */
    tspec_opt(&logs, "partitions", "4");
    CHECK(restore_fails(&logs, 0, 1, blob, (size_t)n, "partitions"));
    tspec_opt(&logs, "partitions", "3");
    CHECK(restore_fails(&logs, 0, 2, blob, (size_t)n, "partition"));
    /* datagen: another task */
    n = blob_of(&dg, 1, 2, blob, sizeof blob);
    REQUIRE(n > 0);
    CHECK(restore_fails(&dg, 0, 2, blob, (size_t)n, "task 1 of 2"));
    CHECK(restore_fails(&dg, 1, 3, blob, (size_t)n, "task 1 of 2"));
    /* nexmark: another table */
    n = blob_of(&nx, 0, 1, blob, sizeof blob);
    REQUIRE(n > 0);
    tspec_opt(&nx, "table", "bid");
    CHECK(restore_fails(&nx, 0, 1, blob, (size_t)n, "another table"));
    /* a buffer that is too small, and a restore after reading */
    char    err[256];
    Source *s = open_task(&logs, 0, 1);
    REQUIRE(s);
    CHECK_EQ_INT(source_checkpoint(s, blob, 20), -1);
    CHECK(strstr(source_error(s), "needs") != NULL);
    n = source_checkpoint(s, blob, sizeof blob);
    CHECK(n > 0);
    Rows    rows = {0};
    int64_t now = 0;
    read_some(s, &logs.spec, 10, 1, &rows, 1, &now);
    CHECK_EQ_INT(source_restore(s, blob, (size_t)n, err, sizeof err), -1);
    CHECK(strstr(err, "already") != NULL);
    source_close(s);
    rows_free(&rows);
}

/* ---- files ----------------------------------------------------------------------------------- */

static void write_json_files(const char *dir)
{
    char path[512], line[256];
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/part-%d.json", dir, f);
        FILE *fp = fopen(path, "w");
        for (int i = 0; i < 40 + f * 13; i++) {
            int id = f * 1000 + i;
            if (i == 5) fputs("\n", fp);                          /* blank line  */
            if (i == 9) fputs("{\"id\": \"not a number\"}\n", fp); /* bad record  */
            snprintf(line, sizeof line, "{\"id\":%d,\"name\":\"row %d\",\"v\":%d.5}", id, id, i);
            fputs(line, fp);
            if (!(f == 2 && i == 40 + f * 13 - 1)) fputs("\n", fp);   /* last line: no newline */
        }
        fclose(fp);
    }
}

TEST(conn_ckpt_file_json)
{
    char dir[64], glob_path[128];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    write_json_files(dir);
    snprintf(glob_path, sizeof glob_path, "%s/part-*.json", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "id BIGINT, name VARCHAR, v DOUBLE", "path", glob_path, NULL);
    CHECK(roundtrip_all(&t, 1, 7));
    CHECK(roundtrip_all(&t, 2, 5));
    CHECK(roundtrip_all(&t, 4, 3));
    CHECK(roundtrip(&t, 0, 1, 1, 1000));   /* one row per batch, to the end */
    tu_rmdir(dir);
}

TEST(conn_ckpt_file_grown)
{
    /* JSON split over 2 tasks; the files grow after the checkpoint: the restored
     * task reads its original ranges, so the rows are the same */
    static unsigned char blob[BLOB_CAP];
    char dir[64], glob_path[128], path[256], err[256];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    write_json_files(dir);
    snprintf(glob_path, sizeof glob_path, "%s/part-*.json", dir);
    TSpec t;
    tspec_init(&t, "file", "json", "id BIGINT, name VARCHAR", "path", glob_path, NULL);
    for (int task = 0; task < 2; task++) {
        Rows    pre = {0}, a = {0}, b = {0};
        int64_t now = 0;
        Source *s = open_task(&t, task, 2);
        REQUIRE(s);
        read_some(s, &t.spec, 4, 2, &pre, 3, &now);
        long n = source_checkpoint(s, blob, sizeof blob);
        REQUIRE(n > 0);
        read_some(s, &t.spec, 4, -1, &a, 3, &now);
        source_close(s);
        snprintf(path, sizeof path, "%s/part-%d.json", dir, task);
        tu_write(path, "{\"id\":999999}\n", strlen("{\"id\":999999}\n"), "a");
        Source *r = open_task(&t, task, 2);
        REQUIRE(r);
        CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
        read_some(r, &t.spec, 4, -1, &b, 3, &now);
        CHECK(rows_equal(&a, &b, "grown files"));
        source_close(r);
        rows_free(&pre);
        rows_free(&a);
        rows_free(&b);
    }
    tu_rmdir(dir);
}

TEST(conn_ckpt_file_csv)
{
    char dir[64], glob_path[128], path[256];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    for (int f = 0; f < 3; f++) {
        snprintf(path, sizeof path, "%s/t%d.csv", dir, f);
        FILE *fp = fopen(path, "w");
        /* the header order differs from the columns' */
        fputs(f == 1 ? "note,name,id\n" : "id,note,name\n", fp);
        for (int i = 0; i < 30; i++) {
            int id = f * 100 + i;
            if (f == 1) fprintf(fp, "\"multi\nline %d\",\"n, %d\",%d\n", i, id, id);
            else fprintf(fp, "%d,note %d,\"n \"\"%d\"\"\"\n", id, i, id);
            if (i == 7) fputs("1,2\n", fp);   /* wrong field count: bad record */
        }
        fclose(fp);
    }
    snprintf(glob_path, sizeof glob_path, "%s/t*.csv", dir);
    TSpec t;
    tspec_init(&t, "file", "csv", "id BIGINT, name VARCHAR", "path", glob_path, NULL);
    CHECK(roundtrip_all(&t, 1, 4));
    CHECK(roundtrip_all(&t, 2, 6));
    TSpec h;   /* headerless, declared positions */
    tspec_init(&h, "file", "csv", "a VARCHAR, b VARCHAR", "path", glob_path, "csv.header", "false", NULL);
    CHECK(roundtrip_all(&h, 1, 9));
    tu_rmdir(dir);
}

TEST(conn_ckpt_file_mismatch)
{
    static unsigned char blob[BLOB_CAP];
    char dir[64], glob_path[128], path[256], other[128];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    write_json_files(dir);
    snprintf(glob_path, sizeof glob_path, "%s/part-*.json", dir);
    snprintf(other, sizeof other, "%s/part-0.json", dir);
    TSpec t, o, c, logs;
    tspec_init(&t, "file", "json", "id BIGINT", "path", glob_path, NULL);
    tspec_init(&o, "file", "json", "id BIGINT", "path", other, NULL);
    tspec_init(&c, "file", "csv", "id BIGINT", "path", glob_path, NULL);
    tspec_init(&logs, "logs", NULL, "user_id BIGINT", NULL);
    long n = blob_of(&t, 0, 1, blob, sizeof blob);
    REQUIRE(n > 0);
    {   /* a size query, and a buffer one byte short */
        Source *s = open_task(&t, 0, 1);
        REQUIRE(s);
        Rows    rows = {0};
        int64_t now = 0;
        read_some(s, &t.spec, 10, 1, &rows, 3, &now);
        long need = source_checkpoint(s, NULL, 0);
        CHECK_EQ_INT(need, n);
        CHECK_EQ_INT(source_checkpoint(s, blob, (size_t)need - 1), -1);
        CHECK(strstr(source_error(s), "needs") != NULL);
        CHECK_EQ_INT(source_checkpoint(s, blob, sizeof blob), n);
        source_close(s);
        rows_free(&rows);
    }
    CHECK(restore_fails(&o, 0, 1, blob, (size_t)n, "does not match now"));   /* other files */
    CHECK(restore_fails(&c, 0, 1, blob, (size_t)n, "another format"));
    CHECK(restore_fails(&t, 0, 2, blob, (size_t)n, "task 0 of 1"));
    CHECK(restore_fails(&logs, 0, 1, blob, (size_t)n, "'file' connector"));
    CHECK(restore_fails(&t, 0, 1, blob, (size_t)n - 9, "truncated"));
    /* a file that got shorter than the checkpoint needs */
    snprintf(path, sizeof path, "%s/part-2.json", dir);
    REQUIRE(truncate(path, 10) == 0);
    CHECK(restore_fails(&t, 0, 1, blob, (size_t)n, "shorter"));
    /* a file that is gone */
    REQUIRE(unlink(path) == 0);
    CHECK(restore_fails(&t, 0, 1, blob, (size_t)n, "does not match now"));
    tu_rmdir(dir);
}

TEST(conn_ckpt_stdin)
{
    static unsigned char blob[1024];
    TSpec t;
    tspec_init(&t, "stdin", "json", "id BIGINT", NULL);
    Source *s = open_task(&t, 0, 1);
    REQUIRE(s);
    CHECK_EQ_INT(source_checkpoint(s, blob, sizeof blob), -1);
    CHECK_EQ_STR(source_error(s), "stdin cannot be replayed from a checkpoint");
    char err[256];
    CHECK_EQ_INT(source_restore(s, "SLCK", 4, err, sizeof err), -1);
    CHECK(strstr(err, "stdin cannot be replayed") != NULL);
    source_close(s);
}

TEST(conn_ckpt_file_follow)
{
    static unsigned char blob[BLOB_CAP];
    char dir[64], glob_path[128], p1[256], p2[256], err[256];
    tu_tmpdir(dir, sizeof dir);
    REQUIRE(dir[0]);
    snprintf(p1, sizeof p1, "%s/a.log", dir);
    snprintf(p2, sizeof p2, "%s/b.log", dir);
    snprintf(glob_path, sizeof glob_path, "%s/*.log", dir);
    tu_write_str(p1, "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    tu_write_str(p2, "{\"id\":10}\n{\"id\":11}\n{\"id\":1");   /* a partial last line */
    TSpec t;
    tspec_init(&t, "file", "json", "id BIGINT", "path", glob_path, "follow", "true", NULL);
    Source *s = open_task(&t, 0, 1);
    REQUIRE(s);
    Rows    pre = {0}, a = {0}, b = {0};
    int64_t now = 1000000;
    read_some(s, &t.spec, 2, 1, &pre, 3, &now);   /* 2 rows */
    CHECK_EQ_INT(pre.n, 2);
    long n = source_checkpoint(s, blob, sizeof blob);
    REQUIRE(n > 0);
    read_some(s, &t.spec, 2, -1, &a, 3, &now);    /* the rest so far, not the partial line */
    CHECK_EQ_INT(a.n, 3);
    long n2 = source_checkpoint(s, blob + n, sizeof blob - (size_t)n);
    REQUIRE(n2 > 0);
    tu_write(p2, "2}\n{\"id\":13}\n", strlen("2}\n{\"id\":13}\n"), "a");   /* the partial line completes */
    read_some(s, &t.spec, 2, -1, &a, 3, &now);
    CHECK_EQ_INT(a.n, 5);
    /* restore the first checkpoint: the same 5 rows */
    Source *r = open_task(&t, 0, 1);
    REQUIRE(r);
    CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
    int64_t now_b = 1000000;
    read_some(r, &t.spec, 2, -1, &b, 3, &now_b);
    CHECK(rows_equal(&a, &b, "follow restore"));
    source_close(r);
    /* restore the second (taken while the last line was partial): 12, 13 */
    rows_free(&b);
    r = open_task(&t, 0, 1);
    REQUIRE(r);
    CHECK_EQ_INT(source_restore(r, blob + n, (size_t)n2, err, sizeof err), 0);
    read_some(r, &t.spec, 2, -1, &b, 3, &now_b);
    CHECK_EQ_INT(b.n, 2);
    CHECK(b.n == 2 && strcmp(b.r[0], "12") == 0 && strcmp(b.r[1], "13") == 0);
    source_close(r);
    source_close(s);
    rows_free(&pre);
    rows_free(&a);
    rows_free(&b);
    tu_rmdir(dir);
}

/* ---- kafka ----------------------------------------------------------------------------------- */

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

static int fill(const char *bootstrap, const char *topic, int from, int to, int nparts)
{
    char             errstr[256], val[64];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) return -1;
    int rc = 0;
    for (int i = from; i < to && rc == 0; i++) {
        snprintf(val, sizeof val, "{\"id\":%d,\"name\":\"n%d\"}", i, i);
        rc = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(i % nparts),
                               RD_KAFKA_V_VALUE(val, strlen(val)),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)
                 ? -1
                 : 0;
    }
    if (rd_kafka_flush(rk, 10000) != 0) rc = -1;
    rd_kafka_destroy(rk);
    return rc;
}

static int64_t mono_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Real-time read: until `want` rows, END/ERROR, or timeout. */
static SourceStatus kread(Source *s, const ConnSpec *spec, int cap, int want, Rows *out,
                          int timeout_ms)
{
    Batch b;
    if (batch_init(&b, spec->ncols, spec->col_types, cap) != 0) return SOURCE_ERROR;
    int64_t      t0 = mono_us(), wait;
    SourceStatus st = SOURCE_IDLE;
    char         row[512];
    int          got = 0;
    while (mono_us() - t0 < (int64_t)timeout_ms * 1000 && (want < 0 || got < want)) {
        batch_reset(&b);
        st = source_next(s, &b, mono_us(), &wait);
        if (st == SOURCE_BATCH) {
            for (int r = 0; r < b.nrows; r++) {
                tu_row_text(&b, r, row, sizeof row);
                rows_add(out, row);
            }
            got += b.nrows;
        } else if (st == SOURCE_IDLE) {
            usleep((useconds_t)(wait < 20000 ? wait : 20000));
        } else {
            break;
        }
    }
    batch_destroy(&b);
    return st;
}

static void expect_ids(Rows *r, int from, int to, int nparts, int task, int ntasks)
{
    char buf[64];
    for (int i = from; i < to; i++) {
        if ((i % nparts) % ntasks != task) continue;
        snprintf(buf, sizeof buf, "%d|n%d", i, i);
        rows_add(r, buf);
    }
}

TEST(conn_ckpt_kafka)
{
    static unsigned char blob[BLOB_CAP];
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "ck3,ck2", 3, err, sizeof err);
    REQUIRE(kb);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(fill(bs, "ck3", 0, 90, 3) == 0);
    for (int ntasks = 1; ntasks <= 2; ntasks++)
        for (int task = 0; task < ntasks; task++) {
            TSpec t;
            tspec_init(&t, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck3",
                       "properties.bootstrap.servers", bs, "scan.bounded.mode", "latest-offset", NULL);
            Source *s = open_task(&t, task, ntasks);
            REQUIRE(s);
            Rows pre = {0}, a = {0}, b = {0}, want = {0};
            /* a checkpoint before setup (nothing read): restoring it reads everything */
            static unsigned char start[BLOB_CAP];
            long n0 = source_checkpoint(s, start, sizeof start);
            CHECK(n0 > 0);
            kread(s, &t.spec, 7, 20, &pre, 10000);
            CHECK(pre.n >= 20);
            long n = source_checkpoint(s, blob, sizeof blob);
            REQUIRE(n > 0);
            CHECK(kread(s, &t.spec, 7, -1, &a, 10000) == SOURCE_END);
            Source *r = open_task(&t, task, ntasks);
            REQUIRE(r);
            CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
            /* checkpointing a restored source before it reads gives the same position */
            static unsigned char again[BLOB_CAP];
            long n2 = source_checkpoint(r, again, sizeof again);
            CHECK(n2 == n && memcmp(again, blob, (size_t)n) == 0);
            CHECK(kread(r, &t.spec, 7, -1, &b, 10000) == SOURCE_END);
            CHECK(rows_same_multiset(&a, &b));
            rows_cat(&pre, &b);
            expect_ids(&want, 0, 90, 3, task, ntasks);
            CHECK(rows_same_multiset(&pre, &want));
            /* a checkpoint at the end: restoring it reads nothing and ends */
            long ne = source_checkpoint(r, again, sizeof again);
            CHECK(ne > 0);
            source_close(r);
            r = open_task(&t, task, ntasks);
            REQUIRE(r);
            CHECK_EQ_INT(source_restore(r, again, (size_t)ne, err, sizeof err), 0);
            rows_free(&b);
            CHECK(kread(r, &t.spec, 7, -1, &b, 10000) == SOURCE_END);
            CHECK_EQ_INT(b.n, 0);
            source_close(r);
            r = open_task(&t, task, ntasks);
            REQUIRE(r);
            CHECK_EQ_INT(source_restore(r, start, (size_t)n0, err, sizeof err), 0);
            rows_free(&b);
            CHECK(kread(r, &t.spec, 7, -1, &b, 10000) == SOURCE_END);
            CHECK(rows_same_multiset(&b, &want));
            source_close(r);
            source_close(s);
            rows_free(&pre);
            rows_free(&a);
            rows_free(&b);
            rows_free(&want);
        }
    /* unbounded: restore, then messages produced later arrive once */
    {
        TSpec t;
        tspec_init(&t, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck3",
                   "properties.bootstrap.servers", bs, NULL);
        Source *s = open_task(&t, 0, 1);
        REQUIRE(s);
        Rows pre = {0}, b = {0}, want = {0};
        kread(s, &t.spec, 10, 50, &pre, 10000);
        long n = source_checkpoint(s, blob, sizeof blob);
        REQUIRE(n > 0);
        source_close(s);
        REQUIRE(fill(bs, "ck3", 90, 120, 3) == 0);
        Source *r = open_task(&t, 0, 1);
        REQUIRE(r);
        CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
        kread(r, &t.spec, 10, 120 - pre.n, &b, 10000);
        rows_cat(&pre, &b);
        expect_ids(&want, 0, 120, 3, 0, 1);
        CHECK(rows_same_multiset(&pre, &want));
        source_close(r);
        rows_free(&pre);
        rows_free(&b);
        rows_free(&want);
    }
    /* blobs that do not fit */
    {
        TSpec t3, t2, o;
        tspec_init(&t3, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck3",
                   "properties.bootstrap.servers", bs, "scan.bounded.mode", "latest-offset", NULL);
        tspec_init(&t2, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck2",
                   "properties.bootstrap.servers", bs, "scan.bounded.mode", "latest-offset", NULL);
        tspec_init(&o, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck3",
                   "properties.bootstrap.servers", bs, NULL);
        Source *s = open_task(&t3, 0, 1);
        REQUIRE(s);
        Rows pre = {0};
        kread(s, &t3.spec, 10, 10, &pre, 10000);
        long n = source_checkpoint(s, blob, sizeof blob);
        REQUIRE(n > 0);
        source_close(s);
        rows_free(&pre);
        CHECK(restore_fails(&t2, 0, 1, blob, (size_t)n, "topic 'ck3'"));
        CHECK(restore_fails(&t3, 0, 2, blob, (size_t)n, "task 0 of 1"));
        CHECK(restore_fails(&o, 0, 1, blob, (size_t)n, "scan.bounded.mode"));
        CHECK(restore_fails(&t3, 0, 1, blob, (size_t)n - 1, "truncated"));
        /* the same topic on a cluster where it has 2 partitions, not 3: restore cannot
         * know (it does not contact the broker); the first source_next that does fails */
        KafkaBroker *kb2 = kafka_broker_start(1, "ck3", 2, err, sizeof err);
        REQUIRE(kb2);
        TSpec few;
        tspec_init(&few, "kafka", "json", "id BIGINT, name VARCHAR", "topic", "ck3",
                   "properties.bootstrap.servers", kafka_broker_bootstrap(kb2),
                   "scan.bounded.mode", "latest-offset", NULL);
        Source *r = open_task(&few, 0, 1);
        REQUIRE(r);
        CHECK_EQ_INT(source_restore(r, blob, (size_t)n, err, sizeof err), 0);
        Rows rr = {0};
        CHECK(kread(r, &few.spec, 10, -1, &rr, 10000) == SOURCE_ERROR);
        CHECK(strstr(source_error(r), "partition 2") != NULL);
        source_close(r);
        rows_free(&rr);
        kafka_broker_stop(kb2);
    }
    kafka_broker_stop(kb);
}

/* ---- the exactly-once file sink ---------------------------------------------------------------- */

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

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

typedef struct SinkT {
    TSpec t;
    char  dir[64], path[256], pending[256];
} SinkT;

static void sinkt_init(SinkT *k, const char *format)
{
    tu_tmpdir(k->dir, sizeof k->dir);
    snprintf(k->path, sizeof k->path, "%s/out/result.%s", k->dir, format);
    snprintf(k->pending, sizeof k->pending, "%s/out/.result.%s.pending", k->dir, format);
    tspec_init(&k->t, "file", format, "id BIGINT, name VARCHAR", "path", k->path, NULL);
    k->t.spec.transactional = 1;
}

static Sink *sopen(SinkT *k)
{
    char  err[256];
    Sink *s = sink_open(&k->t.spec, err, sizeof err);
    if (!s) printf("    sink_open: %s\n", err);
    return s;
}

/* Write rows from … to-1: id, "name <id>" (in batches of 4). */
static int swrite(Sink *s, int from, int to)
{
    SqlType types[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    Batch   b;
    if (batch_init(&b, 2, types, 4) != 0) return -1;
    int rc = 0;
    for (int i = from; i < to && rc == 0;) {
        batch_reset(&b);
        int n = 0;
        for (; n < 4 && i < to; n++, i++) {
            char name[32];
            int  len = snprintf(name, sizeof name, "name %d", i);
            vector_i64(&b.cols[0])[n] = i;
            vector_set_str(&b.cols[1], n, name, (size_t)len);
        }
        batch_set_nrows(&b, n);
        rc = sink_write(s, &b);
    }
    batch_destroy(&b);
    return rc;
}

/* The text of rows from … to-1 as the sink writes them (CSV with a header, or JSON). */
static char *expected(int csv, int from, int to)
{
    size_t cap = 64 + (size_t)(to - from) * 48, k = 0;
    char  *s = malloc(cap);
    s[0] = 0;
    if (csv) k += (size_t)snprintf(s + k, cap - k, "id,name\n");
    for (int i = from; i < to; i++)
        k += csv ? (size_t)snprintf(s + k, cap - k, "%d,name %d\n", i, i)
                 : (size_t)snprintf(s + k, cap - k, "{\"id\":%d,\"name\":\"name %d\"}\n", i, i);
    return s;
}

static int target_is(const SinkT *k, int csv, int from, int to)
{
    char *got = slurp(k->path), *want = expected(csv, from, to);
    int   ok = strcmp(got, want) == 0;
    if (!ok) printf("    target:\n%s    expected:\n%s", got, want);
    free(got);
    free(want);
    return ok;
}

/* A sink over the same file after a "crash": recover with blob (may be NULL). */
static Sink *reopen(SinkT *k, const void *blob, long n)
{
    Sink *s = sopen(k);
    if (s && sink_recover(s, blob, blob ? (size_t)n : 0) != 0) {
        printf("    recover: %s\n", sink_error(s));
        sink_close(s);
        return NULL;
    }
    return s;
}

TEST(conn_ckpt_sink_normal)
{
    static char b1[1024], b2[1024];
    SinkT k;
    sinkt_init(&k, "csv");
    Sink *s = reopen(&k, NULL, 0);
    REQUIRE(s);
    CHECK_EQ_INT(swrite(s, 0, 10), 0);
    CHECK_EQ_INT(sink_flush(s), 0);
    CHECK_EQ_INT(file_size(k.path), 0);   /* nothing visible before the commit */
    long n1 = sink_prepare(s, b1, sizeof b1);
    CHECK(n1 > 0);
    CHECK_EQ_INT(file_size(k.path), 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK(target_is(&k, 1, 0, 10));
    CHECK_EQ_INT(file_size(k.pending), 0);
    /* rows written between a prepare and its commit belong to the next epoch */
    CHECK_EQ_INT(swrite(s, 10, 15), 0);
    long n2 = sink_prepare(s, b2, sizeof b2);
    CHECK(n2 > 0);
    CHECK_EQ_INT(swrite(s, 15, 18), 0);
    CHECK_EQ_INT(sink_flush(s), 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK(target_is(&k, 1, 0, 15));
    CHECK(file_size(k.pending) > 0);
    CHECK(sink_prepare(s, b2, sizeof b2) > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK_EQ_INT(sink_commit(s), 0);   /* nothing prepared: nothing to do */
    CHECK(target_is(&k, 1, 0, 18));
    CHECK_EQ_INT(sink_prepare(s, b2, 8), -1);   /* blob buffer too small */
    CHECK(strstr(sink_error(s), "needs") != NULL);
    sink_close(s);
    /* a new run without a checkpoint keeps the visible output; no second header */
    s = reopen(&k, NULL, 0);
    REQUIRE(s);
    CHECK_EQ_INT(swrite(s, 18, 20), 0);
    CHECK(sink_prepare(s, b1, sizeof b1) > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    sink_close(s);
    CHECK(target_is(&k, 1, 0, 20));
    tu_rmdir(k.dir);
}

/* Epoch 1 (rows 0-9) committed with blob b1; then the crash `step`; recover; continue. */
static void crash_case(int step, int csv)
{
    static char b1[1024], b2[1024];
    SinkT k;
    sinkt_init(&k, csv ? "csv" : "json");
    Sink *s = reopen(&k, NULL, 0);
    if (!s) {
        CHECK(s);
        tu_rmdir(k.dir);
        return;
    }
    CHECK_EQ_INT(swrite(s, 0, 10), 0);
    long n1 = sink_prepare(s, b1, sizeof b1);
    CHECK(n1 > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK_EQ_INT(swrite(s, 10, 15), 0);
    CHECK_EQ_INT(sink_flush(s), 0);
    const char *blob = b1;   /* the last durable checkpoint */
    long        n = n1;
    int         resume = 10; /* the first row the restarted query writes again */
    switch (step) {
    case 0:   /* crash after writing rows 10-14, before any prepare */
        break;
    case 1: { /* after prepare 2, the checkpoint never became durable */
        CHECK(sink_prepare(s, b2, sizeof b2) > 0);
        break;
    }
    case 2: { /* after prepare 2, the checkpoint is durable, no commit yet */
        n = sink_prepare(s, b2, sizeof b2);
        blob = b2;
        resume = 15;
        break;
    }
    case 3: { /* in the middle of commit 2: half of the pending bytes reached the target */
        n = sink_prepare(s, b2, sizeof b2);
        blob = b2;
        resume = 15;
        char *p = slurp(k.pending);
        tu_write(k.path, p, strlen(p) / 2, "a");
        free(p);
        break;
    }
    case 4: { /* commit 2 copied everything but did not empty the pending file yet */
        n = sink_prepare(s, b2, sizeof b2);
        blob = b2;
        resume = 15;
        char *p = slurp(k.pending);
        CHECK_EQ_INT(sink_commit(s), 0);
        tu_write(k.pending, p, strlen(p), "w");
        free(p);
        break;
    }
    case 5: { /* after commit 2, with rows of epoch 3 pending */
        n = sink_prepare(s, b2, sizeof b2);
        blob = b2;
        resume = 15;
        CHECK_EQ_INT(sink_commit(s), 0);
        CHECK_EQ_INT(swrite(s, 15, 17), 0);
        CHECK_EQ_INT(sink_flush(s), 0);
        break;
    }
    case 6: { /* the target got extra bytes behind the committed ones (defensive) */
        n = sink_prepare(s, b2, sizeof b2);
        blob = b2;
        resume = 15;
        CHECK_EQ_INT(sink_commit(s), 0);
        tu_write(k.path, "junk\n", 5, "a");
        break;
    }
    }
    sink_close(s);   /* the crash: nothing more happens to this sink */
    s = reopen(&k, blob, n);
    if (!s) {
        CHECK(s);
        tu_rmdir(k.dir);
        return;
    }
    CHECK(target_is(&k, csv, 0, resume));
    CHECK_EQ_INT(file_size(k.pending), 0);
    CHECK_EQ_INT(swrite(s, resume, 25), 0);
    CHECK(sink_prepare(s, b2, sizeof b2) > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    sink_close(s);
    CHECK(target_is(&k, csv, 0, 25));
    tu_rmdir(k.dir);
}

TEST(conn_ckpt_sink_crash)
{
    for (int step = 0; step <= 6; step++)
        for (int csv = 0; csv <= 1; csv++) {
            int before = unit_failed_now();
            crash_case(step, csv);
            if (!before && unit_failed_now()) printf("    (crash step %d, %s)\n", step, csv ? "csv" : "json");
        }
}

TEST(conn_ckpt_sink_first_epoch)
{
    /* the very first epoch crashes before its commit: the header is written once */
    static char b1[1024];
    SinkT k;
    sinkt_init(&k, "csv");
    Sink *s = reopen(&k, NULL, 0);
    REQUIRE(s);
    CHECK_EQ_INT(swrite(s, 0, 5), 0);
    CHECK(sink_prepare(s, b1, sizeof b1) > 0);
    sink_close(s);
    s = reopen(&k, NULL, 0);   /* no checkpoint was made */
    REQUIRE(s);
    CHECK_EQ_INT(file_size(k.path), 0);
    CHECK_EQ_INT(swrite(s, 0, 5), 0);
    long n = sink_prepare(s, b1, sizeof b1);
    CHECK(n > 0);
    sink_close(s);             /* crash between prepare and commit; the checkpoint is durable */
    s = reopen(&k, b1, n);
    REQUIRE(s);
    CHECK(target_is(&k, 1, 0, 5));
    sink_close(s);
    /* without sink_recover, writing recovers as a fresh start */
    s = sopen(&k);
    REQUIRE(s);
    CHECK_EQ_INT(swrite(s, 5, 7), 0);
    CHECK(sink_prepare(s, b1, sizeof b1) > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK_EQ_INT(sink_recover(s, NULL, 0), -1);   /* too late */
    sink_close(s);
    CHECK(target_is(&k, 1, 0, 7));
    tu_rmdir(k.dir);
}

TEST(conn_ckpt_sink_errors)
{
    static char b1[1024], b2[1024];
    SinkT k, other;
    sinkt_init(&k, "json");
    sinkt_init(&other, "json");
    Sink *s = reopen(&k, NULL, 0);
    REQUIRE(s);
    CHECK_EQ_INT(swrite(s, 0, 10), 0);
    long n1 = sink_prepare(s, b1, sizeof b1);
    REQUIRE(n1 > 0);
    CHECK_EQ_INT(sink_commit(s), 0);
    CHECK_EQ_INT(swrite(s, 10, 12), 0);
    long n2 = sink_prepare(s, b2, sizeof b2);
    REQUIRE(n2 > 0);
    sink_close(s);
    /* a blob of another file */
    s = sopen(&other);
    REQUIRE(s);
    CHECK_EQ_INT(sink_recover(s, b1, (size_t)n1), -1);
    CHECK(strstr(sink_error(s), "not '") != NULL);
    sink_close(s);
    /* truncated and corrupt blobs */
    s = sopen(&k);
    REQUIRE(s);
    CHECK_EQ_INT(sink_recover(s, b1, (size_t)n1 - 3), -1);
    CHECK(strstr(sink_error(s), "truncated") != NULL);
    sink_close(s);
    /* the pending file lost the prepared rows of an unfinished commit */
    REQUIRE(truncate(k.pending, 3) == 0);
    s = sopen(&k);
    REQUIRE(s);
    CHECK_EQ_INT(sink_recover(s, b2, (size_t)n2), -1);
    CHECK(strstr(sink_error(s), "no longer holds") != NULL);
    sink_close(s);
    /* committed bytes missing from the target */
    REQUIRE(truncate(k.path, 10) == 0);
    s = sopen(&k);
    REQUIRE(s);
    CHECK_EQ_INT(sink_recover(s, b2, (size_t)n2), -1);
    CHECK(strstr(sink_error(s), "committed") != NULL);
    sink_close(s);
    /* a source blob is not a sink blob */
    s = sopen(&k);
    REQUIRE(s);
    static unsigned char sb[256];
    TSpec logs;
    tspec_init(&logs, "logs", NULL, "user_id BIGINT", NULL);
    long ns = blob_of(&logs, 0, 1, sb, sizeof sb);
    CHECK_EQ_INT(sink_recover(s, sb, (size_t)ns), -1);
    CHECK(strstr(sink_error(s), "'logs' connector") != NULL);
    sink_close(s);
    tu_rmdir(k.dir);
    tu_rmdir(other.dir);
}

TEST(conn_ckpt_sink_not_transactional)
{
    static char b[64];
    SinkT k;
    sinkt_init(&k, "csv");
    k.t.spec.transactional = 0;
    Sink *s = sopen(&k);
    REQUIRE(s);
    CHECK_EQ_INT(sink_recover(s, NULL, 0), 0);
    CHECK_EQ_INT(swrite(s, 0, 3), 0);
    CHECK_EQ_INT(sink_prepare(s, b, sizeof b), 0);   /* = flush: visible at once */
    CHECK(target_is(&k, 1, 0, 3));
    CHECK_EQ_INT(sink_commit(s), 0);
    sink_close(s);
    CHECK_EQ_INT(file_size(k.pending), -1);   /* no pending file */
    tu_rmdir(k.dir);
}

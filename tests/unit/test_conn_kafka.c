/*
 * test_conn_kafka.c — the kafka source and sink against the embedded broker
 * (librdkafka's mock cluster, started in-process): bounded reads split over
 * tasks see every message exactly once, the bound is the high watermark at
 * setup, startup modes, bad records, sink → source round trips (JSON, CSV)
 * with message keys checked by a plain librdkafka consumer, delivery
 * failures, a broker that is down (never reachable, or taken down and up).
 */
#include "tests/unit/test_conn_util.h"

#include <librdkafka/rdkafka.h>
#include <time.h>

#include "runtime/connectors/kafka.h"

#define COLS "id BIGINT, name VARCHAR"

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void quiet_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

/* A plain producer: message value i goes to partition part (or UA if < 0). */
static rd_kafka_t *raw_producer(const char *bootstrap)
{
    char             errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    return rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
}

static int raw_send(rd_kafka_t *rk, const char *topic, int part, const char *val)
{
    return rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                             RD_KAFKA_V_VALUE((void *)val, strlen(val)),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END) == 0
               ? 0
               : -1;
}

/* Drain a source in real time until END/ERROR or timeout_ms. */
static SourceStatus kdrain(Source *s, const ConnSpec *spec, Rows *out, int timeout_ms)
{
    Batch b;
    if (batch_init(&b, spec->ncols, spec->col_types, 0) != 0) return SOURCE_ERROR;
    int64_t      t0 = mono_ms(), wait;
    SourceStatus st = SOURCE_IDLE;
    char         row[4096];
    while (mono_ms() - t0 < timeout_ms) {
        batch_reset(&b);
        st = source_next(s, &b, mono_ms() * 1000, &wait);
        if (st == SOURCE_BATCH) {
            for (int r = 0; r < b.nrows; r++) {
                tu_row_text(&b, r, row, sizeof row);
                rows_add(out, row);
            }
        } else if (st == SOURCE_IDLE) {
            usleep((useconds_t)(wait < 20000 ? wait : 20000));
        } else {
            break;
        }
    }
    batch_destroy(&b);
    return st;
}

static SourceStatus kread(TSpec *t, int task, int ntasks, Rows *out, SourceStats *stats)
{
    char err[512];
    t->spec.task = task;
    t->spec.ntasks = ntasks;
    Source *s = source_open(&t->spec, err, sizeof err);
    if (!s) {
        printf("    source_open: %s\n", err);
        return SOURCE_ERROR;
    }
    SourceStatus st = kdrain(s, &t->spec, out, 15000);
    if (st == SOURCE_ERROR) printf("    source error: %s\n", source_error(s));
    if (stats) source_stats(s, stats);
    source_close(s);
    return st;
}

/* n good messages {"id":i,"name":"n<i>"} to partition i % nparts, then the bad ones. */
static int fill_topic(const char *bootstrap, const char *topic, int n, int nparts,
                      const char *const *bad, int nbad)
{
    rd_kafka_t *rk = raw_producer(bootstrap);
    if (!rk) return -1;
    char val[128];
    int  rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        snprintf(val, sizeof val, "{\"id\":%d,\"name\":\"n%d\"}", i, i);
        rc = raw_send(rk, topic, i % nparts, val);
    }
    for (int i = 0; i < nbad && rc == 0; i++) rc = raw_send(rk, topic, i % nparts, bad[i]);
    if (rd_kafka_flush(rk, 10000) != 0) rc = -1;
    rd_kafka_destroy(rk);
    return rc;
}

static void expected_rows(Rows *r, int from, int to, int nparts, int want_part)
{
    char buf[64];
    for (int i = from; i < to; i++) {
        if (want_part >= 0 && i % nparts != want_part) continue;
        snprintf(buf, sizeof buf, "%d|n%d", i, i);
        rows_add(r, buf);
    }
}

TEST(kafka_broker_start_stop)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(2, "a, b", 3, err, sizeof err);
    REQUIRE(kb != NULL);
    CHECK(strncmp(kafka_broker_bootstrap(kb), "127.0.0.1:", 10) == 0);
    CHECK(strchr(kafka_broker_bootstrap(kb), ',') != NULL);   /* two brokers */
    /* the topics exist with 3 partitions: ask a plain client */
    rd_kafka_t *rk = raw_producer(kafka_broker_bootstrap(kb));
    REQUIRE(rk != NULL);
    const struct rd_kafka_metadata *md = NULL;
    CHECK(rd_kafka_metadata(rk, 1, NULL, &md, 5000) == 0);
    int found = 0;
    for (int i = 0; md && i < md->topic_cnt; i++)
        if (!strcmp(md->topics[i].topic, "a") || !strcmp(md->topics[i].topic, "b")) {
            CHECK(md->topics[i].partition_cnt == 3);
            found++;
        }
    CHECK(found == 2);
    if (md) rd_kafka_metadata_destroy(md);
    rd_kafka_destroy(rk);
    CHECK(kafka_broker_set_down(kb, 3, 1) == -1);
    kafka_broker_stop(kb);
    kafka_broker_stop(NULL);
    CHECK(kafka_broker_start(0, "a", 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "brokers") != NULL);
    CHECK(kafka_broker_start(1, "a", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "partitions") != NULL);
}

TEST(kafka_source_bounded_two_tasks_exactly_once)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(1, "t", 3, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bad[] = {"not json", "{\"id\":\"x\"}", "[1,2]", "{\"id\":1", ""};
    REQUIRE(fill_topic(kafka_broker_bootstrap(kb), "t", 1000, 3, bad, 5) == 0);
    TSpec t;
    tspec_init(&t, "kafka", "json", COLS, "topic", "t", "properties.bootstrap.servers",
               kafka_broker_bootstrap(kb), "scan.bounded.mode", "latest-offset", NULL);
    Rows        got0 = {0}, got1 = {0}, all = {0}, want0 = {0}, want1 = {0}, want = {0};
    SourceStats s0, s1;
    CHECK(kread(&t, 0, 2, &got0, &s0) == SOURCE_END);   /* partitions 0 and 2 */
    CHECK(kread(&t, 1, 2, &got1, &s1) == SOURCE_END);   /* partition 1 */
    expected_rows(&want1, 0, 1000, 3, 1);
    for (int i = 0; i < 1000; i++)
        if (i % 3 != 1) {
            char buf[64];
            snprintf(buf, sizeof buf, "%d|n%d", i, i);
            rows_add(&want0, buf);
        }
    CHECK(rows_same_multiset(&got0, &want0));
    CHECK(rows_same_multiset(&got1, &want1));
    CHECK(s0.rows + s1.rows == 1000);
    CHECK(s0.bad_records + s1.bad_records == 5);
    CHECK(s0.bad_records == 3 && s1.bad_records == 2);   /* bad i goes to partition i % 3 */
    CHECK(s0.nbad_msgs == 3 && strncmp(s0.bad_msgs[0], "t[", 2) == 0 &&
          strchr(s0.bad_msgs[0], '@') != NULL);
    CHECK(s0.bytes > 0);
    /* offsets are not committed: a second read with one task sees everything again */
    CHECK(kread(&t, 0, 1, &all, NULL) == SOURCE_END);
    expected_rows(&want, 0, 1000, 3, -1);
    CHECK(rows_same_multiset(&all, &want));
    /* more tasks than partitions: the extra task ends at once with nothing */
    Rows none = {0};
    CHECK(kread(&t, 3, 4, &none, NULL) == SOURCE_END);
    CHECK(none.n == 0);
    rows_free(&got0), rows_free(&got1), rows_free(&all), rows_free(&none);
    rows_free(&want0), rows_free(&want1), rows_free(&want);
    kafka_broker_stop(kb);
}

TEST(kafka_source_bound_is_the_watermark_at_setup)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(1, "w", 2, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(fill_topic(bs, "w", 100, 2, NULL, 0) == 0);
    TSpec t;
    tspec_init(&t, "kafka", "json", COLS, "topic", "w", "properties.bootstrap.servers", bs,
               "scan.bounded.mode", "latest-offset", NULL);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Batch b;
    REQUIRE(batch_init(&b, t.spec.ncols, t.spec.col_types, 0) == 0);
    int64_t      wait, t0 = mono_ms();
    SourceStatus st;
    Rows         got = {0}, want = {0};
    char         row[256];
    /* first call(s): setup; stop as soon as it fetched the watermarks */
    do {
        batch_reset(&b);
        st = source_next(s, &b, 0, &wait);
        for (int r = 0; r < b.nrows; r++) {
            tu_row_text(&b, r, row, sizeof row);
            rows_add(&got, row);
        }
        if (st == SOURCE_IDLE) usleep(10000);
    } while (st == SOURCE_IDLE && got.n == 0 && mono_ms() - t0 < 10000);
    batch_destroy(&b);
    /* messages produced now are beyond the bound */
    rd_kafka_t *rk = raw_producer(bs);
    REQUIRE(rk != NULL);
    for (int i = 100; i < 150; i++) {
        char val[64];
        snprintf(val, sizeof val, "{\"id\":%d,\"name\":\"n%d\"}", i, i);
        raw_send(rk, "w", i % 2, val);
    }
    CHECK(rd_kafka_flush(rk, 10000) == 0);
    rd_kafka_destroy(rk);
    CHECK(kdrain(s, &t.spec, &got, 15000) == SOURCE_END);
    expected_rows(&want, 0, 100, 2, -1);
    CHECK(rows_same_multiset(&got, &want));
    source_close(s);
    /* latest-offset startup + bounded: nothing to read, ends */
    Rows none = {0};
    tspec_opt(&t, "scan.startup.mode", "latest-offset");
    CHECK(kread(&t, 0, 1, &none, NULL) == SOURCE_END);
    CHECK(none.n == 0);
    /* unbounded latest-offset: sees only what is produced after it started */
    tspec_opt(&t, "scan.bounded.mode", "unbounded");
    s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Rows live = {0};
    CHECK(kdrain(s, &t.spec, &live, 1500) == SOURCE_IDLE);   /* setup + assignment */
    CHECK(live.n == 0);
    REQUIRE(fill_topic(bs, "w", 10, 2, NULL, 0) == 0);
    int64_t t1 = mono_ms();
    while (live.n < 10 && mono_ms() - t1 < 10000) kdrain(s, &t.spec, &live, 200);
    Rows want10 = {0};
    expected_rows(&want10, 0, 10, 2, -1);
    CHECK(rows_same_multiset(&live, &want10));
    source_close(s);
    rows_free(&got), rows_free(&want), rows_free(&none), rows_free(&live), rows_free(&want10);
    kafka_broker_stop(kb);
}

TEST(kafka_source_on_error_fail_and_options)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(1, "f", 1, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    const char *bad[] = {"{\"id\":true}"};
    REQUIRE(fill_topic(bs, "f", 3, 1, bad, 1) == 0);
    TSpec t;
    tspec_init(&t, "kafka", "json", COLS, "topic", "f", "properties.bootstrap.servers", bs,
               "scan.bounded.mode", "latest-offset", "format.on-error", "fail", NULL);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Rows got = {0};
    CHECK(kdrain(s, &t.spec, &got, 15000) == SOURCE_ERROR);
    CHECK(strstr(source_error(s), "f[0]@3") != NULL);   /* the 4th message */
    source_close(s);
    rows_free(&got);
    /* option errors at open */
    TSpec o;
    tspec_init(&o, "kafka", "json", COLS, NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "'topic'") != NULL);
    tspec_init(&o, "kafka", "json", COLS, "topic", "f", "scan.startup.mode", "sometime", NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "scan.startup.mode") != NULL);
    tspec_init(&o, "kafka", "json", COLS, "topic", "f", "scan.startup.mode", "timestamp", NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "scan.startup.timestamp-millis") != NULL);
    tspec_init(&o, "kafka", "json", COLS, "topic", "f", "properties.no.such.property", "1", NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "properties.no.such.property") != NULL);
    tspec_init(&o, "kafka", "xml", COLS, "topic", "f", NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    /* no broker to ask: an error, not a wait for ever */
    tspec_init(&o, "kafka", "json", COLS, "topic", "f", "properties.bootstrap.servers", " ", NULL);
    CHECK(source_open(&o.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "'properties.bootstrap.servers' is empty") != NULL);
    kafka_broker_stop(kb);
}

/* A batch of n rows: id i, name "k<i % 7>" (NULL for i % 10 == 9), score i / 4. */
static void fill_rows(Batch *b, int from, int n)
{
    for (int r = 0; r < n; r++) {
        int  i = from + r;
        char name[32];
        vector_i64(&b->cols[0])[r] = i;
        if (i % 10 == 9) {
            vector_set_null(&b->cols[1], r);
        } else {
            snprintf(name, sizeof name, "k%d, \"q\"", i % 7);
            vector_set_str(&b->cols[1], r, name, strlen(name));
        }
        vector_f64(&b->cols[2])[r] = i / 4.0;
    }
    batch_set_nrows(b, n);
}

/* Consume everything of topic (nparts partitions) with a plain client:
 * "key=value" strings ("-" for no key). */
static void raw_consume(const char *bs, const char *topic, int nparts, int want, Rows *out)
{
    char             errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "test", errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) return;
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(nparts);
    for (int p = 0; p < nparts; p++)
        rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    int64_t t0 = mono_ms();
    while (out->n < want && mono_ms() - t0 < 10000) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m) continue;
        if (!m->err) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.*s=%.*s", m->key ? (int)m->key_len : 1,
                     m->key ? (const char *)m->key : "-", (int)m->len, (const char *)m->payload);
            rows_add(out, buf);
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

static void round_trip(const char *format)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(1, "out", 2, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    TSpec       t;
    tspec_init(&t, "kafka", format, "id BIGINT, name VARCHAR, score DOUBLE", "topic", "out",
               "properties.bootstrap.servers", bs, "key", "name", "scan.bounded.mode",
               "latest-offset", NULL);
    Sink *k = sink_open(&t.spec, err, sizeof err);
    if (!k) printf("    sink_open: %s\n", err);
    REQUIRE(k != NULL);
    Batch b;
    REQUIRE(batch_init(&b, t.spec.ncols, t.spec.col_types, 0) == 0);
    Rows want = {0};
    char row[512];
    for (int from = 0; from < 600; from += 200) {
        batch_reset(&b);
        fill_rows(&b, from, 200);
        for (int r = 0; r < b.nrows; r++) {
            tu_row_text(&b, r, row, sizeof row);
            rows_add(&want, row);
        }
        CHECK(sink_write(k, &b) == 0);
    }
    CHECK(sink_flush(k) == 0);
    sink_close(k);
    batch_destroy(&b);
    Rows got = {0};
    CHECK(kread(&t, 0, 2, &got, NULL) == SOURCE_END);
    CHECK(kread(&t, 1, 2, &got, NULL) == SOURCE_END);
    CHECK(rows_same_multiset(&got, &want));
    /* the keys, as a plain client sees them: the name column's text */
    Rows raw = {0};
    raw_consume(bs, "out", 2, 600, &raw);
    CHECK(raw.n == 600);
    int keyed_ok = 0, unkeyed_ok = 0;
    for (int i = 0; i < raw.n; i++) {
        const char *m = raw.r[i];
        if (m[0] == '-' && m[1] == '=') {
            unkeyed_ok += strcmp(format, "json") == 0 ? strstr(m, "\"name\":null") != NULL
                                                      : strstr(m, ",,") != NULL;
            continue;
        }
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(strchr(m + 1, '=') - m), m);
        /* JSON: "name":"k3, \"q\""; CSV: "k3, ""q""" — the key is k3, "q" */
        int n;
        if (sscanf(key, "k%d, \"q\"%n", &(int){0}, &n) == 1 && key[n] == 0) keyed_ok++;
    }
    CHECK(keyed_ok == 540);
    CHECK(unkeyed_ok == 60);
    rows_free(&got), rows_free(&want), rows_free(&raw);
    kafka_broker_stop(kb);
}

TEST(kafka_sink_source_round_trip_json)
{
    round_trip("json");
}

TEST(kafka_sink_source_round_trip_csv)
{
    round_trip("csv");
}

TEST(kafka_sink_errors)
{
    char  err[256];
    TSpec t;
    tspec_init(&t, "kafka", "json", COLS, "key", "nope", "topic", "x", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "'nope'") != NULL);
    tspec_init(&t, "kafka", "json", COLS, NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "'topic'") != NULL);
    tspec_init(&t, "kafka", "json", COLS, "topic", "x", "properties.bootstrap.servers", "", NULL);
    CHECK(sink_open(&t.spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "'properties.bootstrap.servers' is empty") != NULL);
    /* nothing listens on port 1 and the user set message.timeout.ms: deliveries
     * time out (fatal: the messages are lost), flush and later writes fail */
    tspec_init(&t, "kafka", "json", COLS, "topic", "x", "properties.bootstrap.servers",
               "127.0.0.1:1", "properties.message.timeout.ms", "300", NULL);
    Sink *k = sink_open(&t.spec, err, sizeof err);
    REQUIRE(k != NULL);
    Batch b;
    REQUIRE(batch_init(&b, t.spec.ncols, t.spec.col_types, 0) == 0);
    vector_i64(&b.cols[0])[0] = 1;
    vector_set_str(&b.cols[1], 0, "a", 1);
    batch_set_nrows(&b, 1);
    CHECK(sink_write(k, &b) == 0);
    int     rc = 0;
    int64_t t0 = mono_ms();
    while (rc == 0 && mono_ms() - t0 < 10000) rc = sink_flush(k);   /* 0 while still retrying */
    CHECK(rc == -1);
    CHECK(strstr(sink_error(k), "could not be delivered") != NULL);
    CHECK(sink_write(k, &b) == -1);
    sink_close(k);
    batch_destroy(&b);
}

TEST(kafka_source_broker_down)
{
    char  err[256];
    TSpec t;
    /* never reachable: idle, not an error, and closes promptly */
    tspec_init(&t, "kafka", "json", COLS, "topic", "x", "properties.bootstrap.servers",
               "127.0.0.1:1", "scan.bounded.mode", "latest-offset", NULL);
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Rows got = {0};
    CHECK(kdrain(s, &t.spec, &got, 1000) == SOURCE_IDLE);
    CHECK(got.n == 0);
    int64_t t0 = mono_ms();
    source_close(s);
    CHECK(mono_ms() - t0 < 5000);
    /* a broker taken down before the read and brought back: nothing lost */
    KafkaBroker *kb = kafka_broker_start(1, "d", 2, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(fill_topic(bs, "d", 300, 2, NULL, 0) == 0);
    tspec_init(&t, "kafka", "json", COLS, "topic", "d", "properties.bootstrap.servers", bs,
               "scan.bounded.mode", "latest-offset", NULL);
    REQUIRE(kafka_broker_set_down(kb, 1, 1) == 0);
    s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    CHECK(kdrain(s, &t.spec, &got, 1000) == SOURCE_IDLE);
    REQUIRE(kafka_broker_set_down(kb, 1, 0) == 0);
    CHECK(kdrain(s, &t.spec, &got, 20000) == SOURCE_END);
    Rows want = {0};
    expected_rows(&want, 0, 300, 2, -1);
    CHECK(rows_same_multiset(&got, &want));
    source_close(s);
    rows_free(&got), rows_free(&want);
    kafka_broker_stop(kb);
}

TEST(kafka_source_group_offsets_startup)
{
    char         err[256];
    KafkaBroker *kb = kafka_broker_start(1, "g", 2, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    REQUIRE(fill_topic(bs, "g", 100, 2, NULL, 0) == 0);
    TSpec            t;
    Rows             got = {0}, want = {0};
    rd_kafka_t      *rk;
    /* group-offsets: the offsets group g1 committed (20 in partition 0, 30 in partition 1) */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char             errstr[256];
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "g1", errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, quiet_log);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    REQUIRE(rk != NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(l, "g", 0)->offset = 20;
    rd_kafka_topic_partition_list_add(l, "g", 1)->offset = 30;
    CHECK(rd_kafka_commit(rk, l, 0) == 0);
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    tspec_init(&t, "kafka", "json", COLS, "topic", "g", "properties.bootstrap.servers", bs,
               "scan.bounded.mode", "latest-offset", "scan.startup.mode", "group-offsets",
               "properties.group.id", "g1", NULL);
    CHECK(kread(&t, 0, 2, &got, NULL) == SOURCE_END);
    CHECK(kread(&t, 1, 2, &got, NULL) == SOURCE_END);
    /* partition 0 holds the even ids at offset id/2; partition 1 the odd at (id-1)/2 */
    for (int i = 0; i < 100; i++)
        if ((i % 2 == 0 && i / 2 >= 20) || (i % 2 == 1 && i / 2 >= 30)) {
            char buf[64];
            snprintf(buf, sizeof buf, "%d|n%d", i, i);
            rows_add(&want, buf);
        }
    CHECK(rows_same_multiset(&got, &want));
    rows_free(&got), rows_free(&want);
    /* a group with no committed offsets starts at the earliest (auto.offset.reset) */
    tspec_opt(&t, "properties.group.id", "g2");
    CHECK(kread(&t, 0, 1, &got, NULL) == SOURCE_END);
    CHECK(got.n == 100);
    rows_free(&got);
    kafka_broker_stop(kb);
}

/*
 * test_kexchange.c — the Kafka exchange (runtime/kexchange.h) against the
 * embedded broker (librdkafka's mock cluster, in-process):
 *   1. two writers × random batches of every type (NULLs, VARCHAR, some
 *      batches with a selection) → two readers of one group: every row read
 *      exactly once with its exact values, each key at one reader, a key's
 *      rows per writer in write order; watermarks and ends of both origins;
 *      a reader batch smaller than a message (partial messages);
 *   2. watermark semantics: an unheard origin holds the watermark at MIN,
 *      min over origins, monotonic per origin, 'E' = +inf, and min over the
 *      assigned partitions (hand-encoded records into one partition);
 *   3. a reader leaves: the other gets its partitions and reads them from
 *      the last commit (what the leaver read after it comes again; what was
 *      committed does not; nothing is lost);
 *   4. bad messages (raw bytes from a plain producer: wrong fingerprint,
 *      truncated, bad kind/version, origin out of range, bytes left over,
 *      empty) → -1 naming topic, partition and offset, after the good rows
 *      before them — which are hand-encoded per the documented format;
 *   5. open errors: the topic exists with another partition count; it is
 *      missing and cannot be created (the mock has no CreateTopics); bad specs;
 *   6. the write side: a batch with a permuted selection and constant
 *      vectors (a constant NULL too); a batch too large for one message
 *      (split at ~KX_MSG_BYTES, order kept); rows per partition as query.c's
 *      formula says (checked on the raw messages by a plain consumer);
 *   7–9. segments, deferred handoffs, bounded replay (see each);
 *  10. watermarks go out at a seal: one 'M' record per partition with the
 *      origins that changed (counted on the broker, decoded by hand);
 *  11. records deleted before a reader read them (the bundled broker's
 *      5 MB a partition, overrun): a new reader and a replaying one fail
 *      naming the offsets lost, and return none of the rows left.
 * The mock's group coordinator waits ~3 s before a group's first assignment
 * and session.timeout.ms - 1 s per rebalance (3000 here): ~20 s in all.
 */
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec/batch.h"
#include "exec/hash.h"
#include "exec/vector.h"
#include "runtime/connectors/kafka.h"
#include "runtime/kexchange.h"
#include "tests/unit/test_kafka_util.h"
#include "tests/unit/unit.h"

static const char *const kx_pk[] = {"session.timeout.ms", "heartbeat.interval.ms", "fetch.wait.max.ms"};
static const char *const kx_pv[] = {"3000", "300", "10"};

static int64_t kx_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static uint64_t kx_rng = 88172645463325252ULL;
static uint64_t kx_rand(void)
{
    kx_rng ^= kx_rng << 13;
    kx_rng ^= kx_rng >> 7;
    kx_rng ^= kx_rng << 17;
    return kx_rng;
}

static void kx_spec(KxSpec *s, const char *bs, const char *topic, int P, int ncols,
                    const SqlType *types, uint64_t fp)
{
    memset(s, 0, sizeof *s);
    s->bootstrap = bs;
    s->topic = topic;
    s->partitions = P;
    s->ncols = ncols;
    s->types = types;
    s->fingerprint = fp;
    s->nprops = 3;
    s->prop_keys = kx_pk;
    s->prop_values = kx_pv;
    s->timeout_ms = 5000;
}

/* A broker holding topic (P partitions), and spec for an exchange on it
 * (kx_spec's other arguments follow). NULL with err. */
static KafkaBroker *kx_broker(const char *topic, int P, KxSpec *spec, int ncols, const SqlType *types,
                             uint64_t fp, char *err, size_t cap)
{
    KafkaBroker *kb = kafka_broker_start(1, topic, P, err, cap);
    if (kb) kx_spec(spec, kafka_broker_bootstrap(kb), topic, P, ncols, types, fp);
    return kb;
}

/* "v0|v1|…" of physical row r */
static void kx_row_text(const Batch *b, int r, char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = 0;
    for (int c = 0; c < b->ncols && at < cap; c++) {
        if (c) buf[at++] = '|';
        int n = vector_format_value(&b->cols[c], r, buf + at, cap - at);
        at += (size_t)n < cap - at ? (size_t)n : cap - at - 1;
    }
    if (at >= cap) at = cap - 1;
    buf[at] = 0;
}


/* Poll the readers (each must be polled for the group protocol to go on)
 * until together they hold P partitions and each holds one. Rows read
 * meanwhile add to *stray. 0, or -1 (a reader failed, or ms passed). */
static int kx_wait_assigned(KxReader **r, Batch *outs, int nr, int P, int ms, int *stray)
{
    int64_t t0 = kx_ms();
    while (kx_ms() - t0 < ms) {
        int sum = 0, all = 1;
        for (int i = 0; i < nr; i++) {
            sum += kx_reader_assigned(r[i]);
            all &= kx_reader_assigned(r[i]) > 0;
        }
        if (sum == P && all) return 0;
        for (int i = 0; i < nr; i++) {
            batch_reset(&outs[i]);
            int n = kx_read(r[i], &outs[i], NULL, 20);
            if (n < 0) {
                printf("    reader %d: %s\n", i, kx_reader_error(r[i]));
                return -1;
            }
            *stray += n;
        }
    }
    return -1;
}

/* A plain consumer (no group protocol: assign) or producer on bs. */
static rd_kafka_t *kx_raw(const char *bs, rd_kafka_type_t type)
{
    char             errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", "kx-raw", errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, kt_quiet);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (rk && type == RD_KAFKA_CONSUMER) rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* Produce one message (flush: wait until it is delivered). 0 or -1. */
static int kx_raw_send(rd_kafka_t *rk, const char *topic, int part, const void *p, size_t n, int flush)
{
    if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                          RD_KAFKA_V_VALUE((void *)p, n), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END))
        return -1;
    return flush && rd_kafka_flush(rk, 10000) ? -1 : 0;
}

static size_t kx_put_fp(uint8_t *q, uint64_t fp)
{
    for (int i = 0; i < 8; i++) q[i] = (uint8_t)(fp >> (8 * i));
    return 8;
}

/* A message header by hand (the documented format): KX_HEADER_BYTES. */
static size_t kx_put_hdr(uint8_t *q, int kind, uint64_t fp, uint64_t writer, uint64_t seg)
{
    q[0] = KX_VERSION;
    q[1] = (uint8_t)kind;
    kx_put_fp(q + 2, fp);
    kx_put_fp(q + 10, writer);
    kx_put_fp(q + 18, seg);
    return KX_HEADER_BYTES;
}

/* Seal the writer's open segment and commit it (what a checkpoint does). */
static int kx_commit_now(KxWriter *w)
{
    return kx_commit_through(w, kx_seal(w));
}

/* ---- 1. two writers → two readers ------------------------------------------------- */

#define T1_KEYS    97
#define T1_BATCHES 12
#define T1_MAXROWS (T1_BATCHES * 1024)
#define T1_NCOLS   8

static const SqlType T1_TYPES[T1_NCOLS] = {TYPE_BIGINT,  TYPE_BIGINT,    TYPE_BIGINT,  TYPE_DOUBLE,
                                           TYPE_VARCHAR, TYPE_TIMESTAMP, TYPE_BOOLEAN, TYPE_INTERVAL};

/* The one parser of a stage-1 record: every word, in the order query.c
 * writes them; words missing; text that is not a record. */
TEST(kexchange_record_parse)
{
    KxRecord r;
    kx_record_parse("kxwm 1700000010000 from 64 cl 12 at 70 full 3 by 9f3a", &r);
    CHECK_EQ_INT(r.has_wm, 1);
    CHECK(r.wm == 1700000010000 && r.from == 64 && r.cl == 12 && r.at == 70 && r.full == 3);
    CHECK(r.by == 0x9f3a);
    kx_record_parse("kxwm -9223372036854775807 from 5", &r);
    CHECK(r.has_wm && r.wm == -9223372036854775807LL && r.from == 5 && r.cl == -1 && r.at == -1);
    CHECK(r.full == -1 && r.by == 0);
    kx_record_parse("kxwm 7", &r);
    CHECK(r.has_wm && r.wm == 7 && r.from == -1);
    kx_record_parse("kxwm 7x from 5", &r);   /* not a number: not a record */
    CHECK(!r.has_wm && r.from == -1);
    kx_record_parse("", &r);
    CHECK(!r.has_wm);
    kx_record_parse(NULL, &r);
    CHECK(!r.has_wm);
    kx_record_parse("kxwm 7 from x at -3 by zz", &r);   /* bad words: missing */
    CHECK(r.has_wm && r.from == -1 && r.at == -1 && r.by == 0);
}

/* n random rows into b: k (NULL now and then), w, seq (*seq on), then a value
 * of every type, each NULL ~10% of the time, with edge values */
static void t1_fill(Batch *b, int n, int w, int64_t *seq)
{
    static const double dspecial[] = {-0.0, 1e300, -1e-300, 0.1, 3.0};
    batch_reset(b);
    Vector *c = b->cols;
    for (int r = 0; r < n; r++) {
        if (kx_rand() % 50 == 0) vector_set_null(&c[0], r);
        else vector_i64(&c[0])[r] = (int64_t)(kx_rand() % T1_KEYS) - 40;
        vector_i64(&c[1])[r] = w;
        vector_i64(&c[2])[r] = (*seq)++;
        if (kx_rand() % 10 == 0) vector_set_null(&c[3], r);
        else if (kx_rand() % 4 == 0) vector_f64(&c[3])[r] = dspecial[kx_rand() % 5];
        else vector_f64(&c[3])[r] = (double)(int64_t)kx_rand() / 1e6;
        if (kx_rand() % 10 == 0) {
            vector_set_null(&c[4], r);
        } else {
            char     s[600];
            unsigned len = kx_rand() % 5 == 0 ? 0 : (unsigned)(kx_rand() % 40);
            if (kx_rand() % 50 == 0) len = 500;
            for (unsigned i = 0; i < len; i++) s[i] = (char)('a' + kx_rand() % 26);
            vector_set_str(&c[4], r, s, len);
        }
        if (kx_rand() % 10 == 0) vector_set_null(&c[5], r);
        else if (kx_rand() % 20 == 0) vector_i64(&c[5])[r] = kx_rand() & 1 ? INT64_MAX : INT64_MIN;
        else vector_i64(&c[5])[r] = (int64_t)kx_rand();
        if (kx_rand() % 10 == 0) vector_set_null(&c[6], r);
        else vector_bool(&c[6])[r] = (uint8_t)(kx_rand() & 1);
        if (kx_rand() % 10 == 0) vector_set_null(&c[7], r);
        else vector_i64(&c[7])[r] = (int64_t)(kx_rand() % 2000001) - 1000000;
    }
    batch_set_nrows(b, n);
}

TEST(kexchange_two_writers_two_readers)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t1", 4, &spec, T1_NCOLS, T1_TYPES, 0x1111, err, sizeof err);
    REQUIRE(kb != NULL);
    KxReader *R[2] = {kx_reader_open(&spec, "kx-g1", 2, err, sizeof err), NULL};
    R[1] = kx_reader_open(&spec, "kx-g1", 2, err, sizeof err);
    KxWriter *W[2] = {kx_writer_open(&spec, err, sizeof err), NULL};
    W[1] = kx_writer_open(&spec, err, sizeof err);
    Batch out[2], in;
    char **exp = calloc(2 * T1_MAXROWS, sizeof *exp);
    int   *seen = calloc(2 * T1_MAXROWS, sizeof *seen);
    int    stray = 0;
    if (!R[0] || !R[1] || !W[0] || !W[1]) printf("    open: %s\n", err);
    REQUIRE(R[0] && R[1] && W[0] && W[1] && exp && seen);
    REQUIRE(batch_init(&out[0], T1_NCOLS, T1_TYPES, 0) == 0);
    REQUIRE(batch_init(&out[1], T1_NCOLS, T1_TYPES, 100) == 0);   /* smaller than a message */
    REQUIRE(batch_init(&in, T1_NCOLS, T1_TYPES, 0) == 0);
    /* the group settles before anything is written (no moves afterwards) */
    REQUIRE(kx_wait_assigned(R, out, 2, 4, 20000, &stray) == 0);
    CHECK_EQ_INT(stray, 0);
    CHECK_EQ_INT(kx_reader_watermark(R[0]), INT64_MIN);   /* nothing heard */
    CHECK(!kx_reader_ended(R[0]) && !kx_reader_ended(R[1]));

    /* write: each writer is origin w; a watermark after each batch */
    int64_t seq[2] = {0, 0};
    int     nexp = 0, key = 0;
    char    text[4096];
    for (int bi = 0; bi < T1_BATCHES; bi++)
        for (int w = 0; w < 2; w++) {
            int64_t first = seq[w];
            t1_fill(&in, 1 + (int)(kx_rand() % 1024), w, &seq[w]);
            if (bi % 3 == 2) {   /* a selection: about half the rows, the others not written */
                int k = 0;
                for (int r = 0; r < in.nrows; r++)
                    if (kx_rand() & 1) in.sel_buf[k++] = (uint32_t)r;
                batch_set_sel(&in, in.sel_buf, k);
            }
            for (int i = 0; i < in.count; i++) {
                int r = batch_row(&in, i);
                kx_row_text(&in, r, text, sizeof text);
                exp[w * T1_MAXROWS + first + r] = strdup(text);
                nexp++;
            }
            CHECK_EQ_INT(kx_write(W[w], &in, &key, 1), 0);
            CHECK_EQ_INT(kx_write_watermark(W[w], w, 1000 * (bi + 1)), 0);
        }
    for (int w = 0; w < 2; w++) {
        CHECK_EQ_INT(kx_write_end(W[w], w), 0);
        CHECK_EQ_INT(kx_commit_now(W[w]), 0);
        CHECK_EQ_INT(kx_flush(W[w], 10000), 0);
    }

    /* read */
    int     owner[T1_KEYS + 1], got[2] = {0, 0}, bad = 0, wrong = 0, split = 0, disorder = 0, back = 0;
    int64_t last[2][T1_KEYS + 1], wmseen[2] = {INT64_MIN, INT64_MIN};
    for (int k = 0; k <= T1_KEYS; k++) owner[k] = -1, last[0][k] = last[1][k] = -1;
    int64_t t0 = kx_ms();
    while (kx_ms() - t0 < 30000 &&
           !(got[0] + got[1] >= nexp && kx_reader_ended(R[0]) && kx_reader_ended(R[1]))) {
        for (int i = 0; i < 2; i++) {
            int64_t wm;
            batch_reset(&out[i]);
            int n = kx_read(R[i], &out[i], &wm, 20);
            if (n < 0) printf("    reader %d: %s\n", i, kx_reader_error(R[i]));
            REQUIRE(n >= 0);
            if (wm < wmseen[i]) back++;
            wmseen[i] = wm;
            for (int r = 0; r < n; r++) {
                const Batch *o = &out[i];
                int64_t      w = vector_i64(&o->cols[1])[r], s = vector_i64(&o->cols[2])[r];
                if (w < 0 || w > 1 || s < 0 || s >= T1_MAXROWS || !exp[w * T1_MAXROWS + s]) {
                    bad++;
                    continue;
                }
                kx_row_text(o, r, text, sizeof text);
                if (strcmp(text, exp[w * T1_MAXROWS + s]) != 0) {
                    if (wrong++ == 0) printf("    got  %s\n    want %s\n", text, exp[w * T1_MAXROWS + s]);
                }
                seen[w * T1_MAXROWS + s]++;
                int kk = vector_is_null(&o->cols[0], r) ? T1_KEYS : (int)vector_i64(&o->cols[0])[r] + 40;
                if (owner[kk] < 0) owner[kk] = i;
                else if (owner[kk] != i) split++;
                if (s <= last[w][kk]) disorder++;
                last[w][kk] = s;
                got[i]++;
            }
        }
    }
    int once = 0;
    for (int i = 0; i < 2 * T1_MAXROWS; i++) once += exp[i] && seen[i] == 1;
    CHECK_EQ_INT(got[0] + got[1], nexp);
    CHECK_EQ_INT(once, nexp);
    CHECK(got[0] > 0 && got[1] > 0);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(split, 0);      /* each key at one reader */
    CHECK_EQ_INT(disorder, 0);   /* a key's rows of one writer in write order */
    CHECK_EQ_INT(back, 0);       /* no rebalance: the watermark only went up */
    CHECK(kx_reader_ended(R[0]) && kx_reader_ended(R[1]));
    CHECK_EQ_INT(kx_reader_watermark(R[0]), INT64_MAX);
    CHECK_EQ_INT(kx_reader_watermark(R[1]), INT64_MAX);
    CHECK_EQ_INT(kx_reader_assigned(R[0]) + kx_reader_assigned(R[1]), 4);

    for (int i = 0; i < 2 * T1_MAXROWS; i++) free(exp[i]);
    free(exp);
    free(seen);
    batch_destroy(&in);
    for (int i = 0; i < 2; i++) {
        batch_destroy(&out[i]);
        kx_reader_close(R[i]);
        kx_writer_close(W[i]);
    }
    kafka_broker_stop(kb);
}

/* ---- 2. watermark semantics ----------------------------------------------------------- */

static const SqlType T2_TYPES[2] = {TYPE_BIGINT, TYPE_VARCHAR};

/* Write 64 rows (keys 0 … 63: both partitions), flush, and read until they
 * are all back: every record written before them has been applied. The
 * reader's watermark then, or a value that fails the checks. */
static int64_t t2_sync(KxWriter *w, KxReader *r, Batch *in, Batch *out)
{
    batch_reset(in);
    for (int i = 0; i < 64; i++) {
        vector_i64(&in->cols[0])[i] = i;
        vector_set_str(&in->cols[1], i, "x", 1);
    }
    batch_set_nrows(in, 64);
    int key = 0, got = 0;
    if (kx_write(w, in, &key, 1) || kx_commit_now(w) || kx_flush(w, 10000)) return 12345;
    int64_t t0 = kx_ms(), wm = 12345;
    while (got < 64 && kx_ms() - t0 < 10000) {
        batch_reset(out);
        int n = kx_read(r, out, &wm, 20);
        if (n < 0) {
            printf("    reader: %s\n", kx_reader_error(r));
            return 12345;
        }
        got += n;
    }
    return got == 64 ? wm : 12345;
}

TEST(kexchange_watermarks)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t2", 2, &spec, 2, T2_TYPES, 0x2222, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxReader *r = kx_reader_open(&spec, "kx-g2", 3, err, sizeof err);
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    rd_kafka_t *raw = kx_raw(bs, RD_KAFKA_PRODUCER);
    if (!r || !w) printf("    open: %s\n", err);
    REQUIRE(r && w && raw);
    Batch in, out;
    REQUIRE(batch_init(&in, 2, T2_TYPES, 0) == 0 && batch_init(&out, 2, T2_TYPES, 0) == 0);
    int stray = 0;
    REQUIRE(kx_wait_assigned(&r, &out, 1, 2, 20000, &stray) == 0);

    /* the sync rows reach both partitions */
    uint64_t h[64];
    int      hit[2] = {0, 0};
    batch_reset(&in);
    for (int i = 0; i < 64; i++) vector_i64(&in.cols[0])[i] = i;
    batch_set_nrows(&in, 64);
    hash_vector(&in.cols[0], NULL, 64, h, 0);
    for (int i = 0; i < 64; i++) hit[kx_partition_of(h[i], 2)] = 1;
    REQUIRE(hit[0] && hit[1]);

    CHECK_EQ_INT(t2_sync(w, r, &in, &out), INT64_MIN);          /* nothing heard */
    CHECK(kx_write_watermark(w, 0, 100) == 0 && kx_write_watermark(w, 1, 200) == 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), INT64_MIN);          /* origin 2 unheard */
    CHECK_EQ_INT(kx_write_watermark(w, 2, 50), 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 50);                 /* min over origins */
    CHECK(kx_write_watermark(w, 2, 40) == 0 && kx_write_watermark(w, 0, 120) == 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 50);                 /* monotonic per origin */
    CHECK_EQ_INT(kx_write_end(w, 2), 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 120);                /* 'E' = +inf */
    CHECK(!kx_reader_ended(r));
    CHECK_EQ_INT(kx_write_watermark(w, 0, 300), 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 200);

    /* origins 0 and 1 at 1000 in partition 0 only (hand-encoded 'W' records):
     * partition 1 (0: 300, 1: 200) holds the reader at 200 */
    for (int o = 0; o < 2; o++) {
        uint8_t m[48];
        size_t  n = kx_put_hdr(m, KX_KIND_WATERMARK, 0x2222, 0x77, 1);
        m[n++] = (uint8_t)o;
        m[n++] = 0xd0, m[n++] = 0x0f;   /* zigzag(1000) = 2000 = 0x7d0 */
        CHECK_EQ_INT(kx_raw_send(raw, "kx-t2", 0, m, n, 1), 0);
    }
    {   /* and writer 0x77's commit of segment 1 */
        uint8_t m[48];
        size_t  n = kx_put_hdr(m, KX_KIND_COMMIT, 0x2222, 0x77, 2);
        n += kx_put_fp(m + n, 1);
        n += kx_put_fp(m + n, 0);
        CHECK_EQ_INT(kx_raw_send(raw, "kx-t2", 0, m, n, 1), 0);
    }
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 200);
    CHECK_EQ_INT(kx_write_end(w, 1), 0);                        /* p0: 1000, p1: 300 */
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), 300);                /* min over partitions */
    CHECK(!kx_reader_ended(r));
    CHECK_EQ_INT(kx_write_end(w, 0), 0);
    CHECK_EQ_INT(t2_sync(w, r, &in, &out), INT64_MAX);
    CHECK(kx_reader_ended(r));

    batch_destroy(&in);
    batch_destroy(&out);
    rd_kafka_destroy(raw);
    kx_reader_close(r);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

/* ---- 3. a reader leaves ---------------------------------------------------------------- */

#define T3_N 400   /* rows per round */

/* The group's committed offsets and the high watermarks of P partitions. 0 or -1. */
static int t3_offsets(const char *bs, const char *group, const char *topic, int P, int64_t *committed,
                      int64_t *high)
{
    rd_kafka_t *rk = kt_group_client(bs, group);
    if (!rk) return -1;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(P);
    for (int p = 0; p < P; p++) rd_kafka_topic_partition_list_add(l, topic, p);
    int rc = rd_kafka_committed(rk, l, 5000) ? -1 : 0;
    for (int p = 0; p < P && rc == 0; p++) {
        committed[p] = l->elems[p].offset;
        int64_t lo;
        if (rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &high[p], 5000)) rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy(rk);
    return rc;
}

static void t3_write(KxWriter *w, Batch *in, int64_t from)
{
    batch_reset(in);
    for (int i = 0; i < T3_N; i++) {
        vector_i64(&in->cols[0])[i] = i;          /* the same keys every round */
        vector_i64(&in->cols[1])[i] = from + i;   /* seq */
    }
    batch_set_nrows(in, T3_N);
    int key = 0;
    CHECK_EQ_INT(kx_write(w, in, &key, 1), 0);
    CHECK_EQ_INT(kx_commit_now(w), 0);
    CHECK_EQ_INT(kx_flush(w, 10000), 0);
}

static const SqlType T3_TYPES[2] = {TYPE_BIGINT, TYPE_BIGINT};

TEST(kexchange_reader_leaves)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t3", 4, &spec, 2, T3_TYPES, 0x3333, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxReader *R[2] = {kx_reader_open(&spec, "kx-g3", 1, err, sizeof err), NULL};
    R[1] = kx_reader_open(&spec, "kx-g3", 1, err, sizeof err);
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    if (!R[0] || !R[1] || !w) printf("    open: %s\n", err);
    REQUIRE(R[0] && R[1] && w);
    Batch in, out[2];
    REQUIRE(batch_init(&in, 2, T3_TYPES, 0) == 0);
    REQUIRE(batch_init(&out[0], 2, T3_TYPES, 0) == 0 && batch_init(&out[1], 2, T3_TYPES, 0) == 0);
    int stray = 0;
    REQUIRE(kx_wait_assigned(R, out, 2, 4, 20000, &stray) == 0);

    /* who[seq]: bit i = reader i read it before A left; after[seq]: B's reads after */
    int     who[3 * T3_N] = {0}, after[3 * T3_N] = {0}, dup = 0, got = 0;
    int64_t t0;
    /* round 1: read, commit, wait for the commit */
    t3_write(w, &in, 0);
    for (t0 = kx_ms(); got < T3_N && kx_ms() - t0 < 10000;)
        for (int i = 0; i < 2; i++) {
            batch_reset(&out[i]);
            int n = kx_read(R[i], &out[i], NULL, 20);
            REQUIRE(n >= 0);
            for (int k = 0; k < n; k++) {
                int64_t s = vector_i64(&out[i].cols[1])[k];
                if (s >= 0 && s < T3_N) dup += (who[s] & (1 << i)) != 0, who[s] |= 1 << i;
                got++;
            }
        }
    CHECK_EQ_INT(got, T3_N);
    CHECK(kx_reader_commit(R[0]) == 0 && kx_reader_commit(R[1]) == 0);
    int64_t committed[4], high[4];
    int     done = 0;
    for (t0 = kx_ms(); !done && kx_ms() - t0 < 10000;) {
        for (int i = 0; i < 2; i++) {   /* keep polling: heartbeats, commit results */
            batch_reset(&out[i]);
            CHECK_EQ_INT(kx_read(R[i], &out[i], NULL, 50), 0);
        }
        done = t3_offsets(bs, "kx-g3", "kx-t3", 4, committed, high) == 0;
        for (int p = 0; p < 4 && done; p++) done = committed[p] == high[p] && high[p] > 0;
    }
    CHECK(done);

    /* round 2: read, not committed */
    int got2[2] = {0, 0};
    t3_write(w, &in, T3_N);
    for (t0 = kx_ms(); got2[0] + got2[1] < T3_N && kx_ms() - t0 < 10000;)
        for (int i = 0; i < 2; i++) {
            batch_reset(&out[i]);
            int n = kx_read(R[i], &out[i], NULL, 20);
            REQUIRE(n >= 0);
            for (int k = 0; k < n; k++) {
                int64_t s = vector_i64(&out[i].cols[1])[k];
                if (s >= T3_N && s < 2 * T3_N) dup += (who[s] & (1 << i)) != 0, who[s] |= 1 << i;
                got2[i]++;
            }
        }
    CHECK_EQ_INT(got2[0] + got2[1], T3_N);
    CHECK(got2[0] > 0 && got2[1] > 0);

    /* A leaves; round 3 and the end; B takes A's partitions from the commit */
    kx_reader_close(R[0]);
    R[0] = NULL;
    t3_write(w, &in, 2 * T3_N);
    CHECK_EQ_INT(kx_write_end(w, 0), 0);
    CHECK_EQ_INT(kx_commit_now(w), 0);
    CHECK_EQ_INT(kx_flush(w, 10000), 0);
    KxReader *B = R[1];
    int       gotb = 0;
    for (t0 = kx_ms(); kx_ms() - t0 < 20000 &&
                       !(kx_reader_assigned(B) == 4 && kx_reader_ended(B) && gotb >= T3_N + got2[0]);) {
        batch_reset(&out[1]);
        int n = kx_read(B, &out[1], NULL, 50);
        if (n < 0) printf("    reader B: %s\n", kx_reader_error(B));
        REQUIRE(n >= 0);
        for (int k = 0; k < n; k++) {
            int64_t s = vector_i64(&out[1].cols[1])[k];
            if (s >= 0 && s < 3 * T3_N) after[s]++;
            gotb++;
        }
    }
    CHECK_EQ_INT(kx_reader_assigned(B), 4);
    CHECK(kx_reader_ended(B));
    int r1 = 0, r2_again = 0, r2_wrong = 0, r3 = 0;
    for (int s = 0; s < T3_N; s++) r1 += after[s];
    for (int s = T3_N; s < 2 * T3_N; s++) {
        if (who[s] == 1) r2_again += after[s] == 1;   /* A's uncommitted rows: read again once */
        else r2_wrong += after[s] != 0;               /* B's own were not re-read */
    }
    for (int s = 2 * T3_N; s < 3 * T3_N; s++) r3 += after[s] == 1;
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(r1, 0);               /* committed: not read again */
    CHECK_EQ_INT(r2_again, got2[0]);   /* at-least-once: nothing lost */
    CHECK_EQ_INT(r2_wrong, 0);
    CHECK_EQ_INT(r3, T3_N);
    CHECK_EQ_INT(gotb, T3_N + got2[0]);

    batch_destroy(&in);
    batch_destroy(&out[0]);
    batch_destroy(&out[1]);
    kx_reader_close(R[1]);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

/* ---- 4. bad messages ---------------------------------------------------------------------- */

#define T4_CASES 11

TEST(kexchange_bad_messages)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "kx-b0,kx-b1,kx-b2,kx-b3,kx-b4,kx-b5,kx-b6,kx-b7,kx-b8,kx-b9,kx-b10", 1, err,
                                         sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = kafka_broker_bootstrap(kb);
    uint64_t    fp = 0xfeedface12345678ULL;
    /* the documented format by hand: 2 rows (5, 'abc'), (-3, NULL) */
    uint8_t good[64];
    size_t  ng = kx_put_hdr(good, 'R', fp, 0x99, 1);
    good[ng++] = 2;                       /* n */
    good[ng++] = 0;                       /* column 0: no NULLs */
    good[ng++] = 10, good[ng++] = 5;      /* zigzag 5, -3 */
    good[ng++] = 1, good[ng++] = 0x02;    /* column 1: NULL bitmap, row 1 NULL */
    good[ng++] = 3, good[ng++] = 'a', good[ng++] = 'b', good[ng++] = 'c';

    struct {
        uint8_t     m[64];
        size_t      n;
        const char *why;
    } bad[T4_CASES];
    memset(bad, 0, sizeof bad);
    memcpy(bad[0].m, good, ng), bad[0].n = ng, bad[0].m[9] ^= 0x40;   /* another fingerprint */
    bad[0].why = "schema fingerprint beedface12345678, this exchange's is feedface12345678";
    memcpy(bad[1].m, good, ng), bad[1].n = ng - 1;                    /* truncated */
    bad[1].why = "column 1, row 0: a string of 3 bytes runs past the end";
    memcpy(bad[2].m, good, ng), bad[2].n = ng, bad[2].m[1] = 'X';
    bad[2].why = "unknown message kind 0x58";
    memcpy(bad[3].m, good, ng), bad[3].n = ng, bad[3].m[0] = 9;
    bad[3].why = "unknown format version 9";
    memcpy(bad[4].m, good, KX_HEADER_BYTES), bad[4].n = KX_HEADER_BYTES + 2, bad[4].m[1] = 'W';
    bad[4].m[KX_HEADER_BYTES] = 5, bad[4].m[KX_HEADER_BYTES + 1] = 0;
    bad[4].why = "origin 5 out of range (this exchange has 2 origins)";
    memcpy(bad[5].m, good, ng), bad[5].n = ng + 1;                    /* a byte too many */
    bad[5].why = "1 bytes left over after the last column";
    bad[6].n = 0;
    bad[6].why = "a message of 0 bytes is shorter than the header";
    memcpy(bad[7].m, good, KX_HEADER_BYTES), bad[7].n = KX_HEADER_BYTES + 11;
    memset(bad[7].m + KX_HEADER_BYTES, 0xff, 11);                     /* an endless varint */
    bad[7].why = "bad row count";
    memcpy(bad[8].m, good, ng), bad[8].n = ng, memset(bad[8].m + 10, 0, 8);   /* writer 0 */
    bad[8].why = "writer id or segment 0";
    bad[9].n = kx_put_hdr(bad[9].m, 'C', fp, 0x99, 3) + 8;            /* a marker too short */
    bad[9].why = "a marker of 34 bytes (42 expected)";
    memcpy(bad[10].m, good, ng), bad[10].n = 12;                      /* a cut header */
    bad[10].why = "a message of 12 bytes is shorter than the header";

    rd_kafka_t *raw = kx_raw(bs, RD_KAFKA_PRODUCER);
    REQUIRE(raw != NULL);
    const SqlType types[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    KxReader     *r[T4_CASES];
    Batch         out[T4_CASES];
    char          topic[T4_CASES][24], group[24];
    for (int i = 0; i < T4_CASES; i++) {
        snprintf(topic[i], sizeof topic[i], "kx-b%d", i);
        snprintf(group, sizeof group, "kx-gb%d", i);
        uint8_t c[64];
        size_t  nc = kx_put_hdr(c, 'C', fp, 0x99, 2);
        nc += kx_put_fp(c + nc, 1);
        nc += kx_put_fp(c + nc, 0);
        if (bad[i].n >= KX_HEADER_BYTES && i != 8) bad[i].m[18] = 2;   /* segment 2 */
        CHECK_EQ_INT(kx_raw_send(raw, topic[i], 0, good, ng, 0), 0);   /* offset 0 */
        CHECK_EQ_INT(kx_raw_send(raw, topic[i], 0, c, nc, 0), 0);      /* 1: commit 1 */
        CHECK_EQ_INT(kx_raw_send(raw, topic[i], 0, bad[i].m, bad[i].n, 0), 0);   /* 2 */
        c[KX_HEADER_BYTES] = 2;
        CHECK_EQ_INT(kx_raw_send(raw, topic[i], 0, c, nc, 0), 0);      /* 3: commit 2 */
        KxSpec spec;
        kx_spec(&spec, bs, topic[i], 1, 2, types, fp);
        r[i] = kx_reader_open(&spec, group, 2, err, sizeof err);   /* each in its own group */
        REQUIRE(r[i] != NULL);
        REQUIRE(batch_init(&out[i], 2, types, 0) == 0);
    }
    CHECK_EQ_INT(rd_kafka_flush(raw, 10000), 0);
    int failed[T4_CASES] = {0}, nfailed = 0;
    for (int64_t t0 = kx_ms(); nfailed < T4_CASES && kx_ms() - t0 < 20000;)
        for (int i = 0; i < T4_CASES; i++) {
            if (failed[i]) continue;
            int n = kx_read(r[i], &out[i], NULL, 10);   /* rows accumulate in out[i] */
            if (n < 0) failed[i] = 1, nfailed++;
        }
    for (int i = 0; i < T4_CASES; i++) {
        char want[320], text[256];
        CHECK(failed[i]);
        CHECK_EQ_INT(out[i].nrows, 2);   /* the good message before the bad one */
        if (out[i].nrows == 2) {
            kx_row_text(&out[i], 0, text, sizeof text);
            CHECK_EQ_STR(text, "5|abc");
            kx_row_text(&out[i], 1, text, sizeof text);
            CHECK_EQ_STR(text, "-3|NULL");
        }
        snprintf(want, sizeof want, "kexchange: topic '%s' partition 0 offset 2: ", topic[i]);
        const char *e = kx_reader_error(r[i]);
        if (!strstr(e, want) || !strstr(e, bad[i].why)) printf("    case %d: %s\n", i, e);
        CHECK(strstr(e, want) != NULL);
        CHECK(strstr(e, bad[i].why) != NULL);
        batch_reset(&out[i]);
        CHECK_EQ_INT(kx_read(r[i], &out[i], NULL, 0), -1);   /* sticky */
        batch_destroy(&out[i]);
        kx_reader_close(r[i]);
    }
    rd_kafka_destroy(raw);
    kafka_broker_stop(kb);
}

/* ---- 5. open errors ---------------------------------------------------------------------- */

TEST(kexchange_open_errors)
{
    char         err[512];
    KafkaBroker *kb = kafka_broker_start(1, "kx-t5", 3, err, sizeof err);
    REQUIRE(kb != NULL);
    const char   *bs = kafka_broker_bootstrap(kb);
    const SqlType types[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    KxSpec        spec;
    kx_spec(&spec, bs, "kx-t5", 4, 2, types, 5);
    CHECK(kx_writer_open(&spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "topic 'kx-t5' has 3 partitions, this exchange needs 4") != NULL);

    spec.partitions = 3;   /* the right count: fine, and the batch must fit the spec */
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    REQUIRE(w != NULL);
    Batch         b;
    const SqlType other[2] = {TYPE_BIGINT, TYPE_DOUBLE};
    REQUIRE(batch_init(&b, 2, other, 0) == 0);
    batch_set_nrows(&b, 1);
    int key = 0, badkey = 2;
    CHECK_EQ_INT(kx_write(w, &b, &key, 1), -1);
    CHECK(strstr(kx_writer_error(w), "column 1 is DOUBLE, the exchange has VARCHAR") != NULL);
    batch_destroy(&b);
    REQUIRE(batch_init(&b, 2, types, 0) == 0);
    batch_set_nrows(&b, 1);
    CHECK_EQ_INT(kx_write(w, &b, &badkey, 1), -1);
    CHECK(strstr(kx_writer_error(w), "key column 2 out of range") != NULL);
    CHECK_EQ_INT(kx_write_watermark(w, -1, 0), -1);
    CHECK_EQ_INT(kx_write(w, &b, &key, 1), 0);   /* errors of the call are not sticky */
    CHECK_EQ_INT(kx_commit_now(w), 0);
    CHECK_EQ_INT(kx_flush(w, 10000), 0);
    CHECK_EQ_INT(kx_writer_outstanding(w), 0);
    batch_destroy(&b);
    kx_writer_close(w);

    /* missing: the mock cluster serves no CreateTopics — a clear error */
    kx_spec(&spec, bs, "kx-none", 2, 2, types, 5);
    spec.timeout_ms = 1000;
    CHECK(kx_writer_open(&spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "cannot create topic 'kx-none' (2 partitions)") != NULL);

    /* a reader of a topic with more partitions than its spec: fails when it
     * gets one it cannot have (the mock auto-creates any topic a client asks
     * about, consumers included, with 4 partitions: topics are made first) */
    kx_spec(&spec, bs, "kx-t5", 2, 2, types, 5);
    KxReader *r = kx_reader_open(&spec, "kx-g5", 1, err, sizeof err);
    REQUIRE(r != NULL);
    REQUIRE(batch_init(&b, 2, types, 0) == 0);
    int64_t wm = 0;
    int     rc = 0;
    for (int64_t t0 = kx_ms(); rc == 0 && kx_ms() - t0 < 8000;) rc = kx_read(r, &b, &wm, 50);
    CHECK_EQ_INT(rc, -1);
    CHECK(strstr(kx_reader_error(r), "kexchange: topic 'kx-t5' has partition 2, more than the 2 "
                                     "partitions of this exchange") != NULL);
    CHECK_EQ_INT(kx_read(r, &b, &wm, 0), -1);   /* sticky */
    batch_destroy(&b);
    kx_reader_close(r);

    /* a batch of the wrong shape fails that call only */
    r = kx_reader_open(&spec, "kx-g5b", 1, err, sizeof err);
    REQUIRE(r != NULL);
    REQUIRE(batch_init(&b, 2, other, 0) == 0);
    CHECK_EQ_INT(kx_read(r, &b, &wm, 0), -1);
    CHECK(strstr(kx_reader_error(r), "column 1 is DOUBLE, the exchange has VARCHAR") != NULL);
    batch_destroy(&b);
    REQUIRE(batch_init(&b, 2, types, 0) == 0);
    CHECK_EQ_INT(kx_read(r, &b, &wm, 0), 0);
    batch_destroy(&b);
    kx_reader_close(r);

    kx_spec(&spec, bs, "kx-t5", 0, 2, types, 5);
    CHECK(kx_writer_open(&spec, err, sizeof err) == NULL);
    CHECK(strstr(err, "partitions must be 1") != NULL);
    kx_spec(&spec, bs, "kx-t5", 3, 2, types, 5);
    CHECK(kx_reader_open(&spec, "g", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "norigins must be 1") != NULL);
    CHECK(kx_reader_open(&spec, "", 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "needs a consumer group") != NULL);
    const char *k[1] = {"no.such.property"}, *v[1] = {"1"};
    spec.nprops = 1, spec.prop_keys = k, spec.prop_values = v;
    CHECK(kx_reader_open(&spec, "g", 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "property 'no.such.property'") != NULL);
    kafka_broker_stop(kb);
}

/* ---- 6. the write side ---------------------------------------------------------------------- */

#define T6_NCOLS 8
static const SqlType T6_TYPES[T6_NCOLS] = {TYPE_BIGINT,  TYPE_BIGINT, TYPE_VARCHAR, TYPE_DOUBLE,
                                           TYPE_VARCHAR, TYPE_BIGINT, TYPE_BOOLEAN, TYPE_TIMESTAMP};
#define T6_BIG   1024
#define T6_FLAT  500
#define T6_TOTAL (5 + T6_BIG + T6_FLAT)

/* flat columns 1 … 7 of rows [0, n): seq from + r, strings of slen bytes */
static void t6_fill(Batch *b, int n, int64_t from, int slen)
{
    char s[1100];
    for (int r = 0; r < n; r++) {
        vector_i64(&b->cols[1])[r] = from + r;
        for (int i = 0; i < slen; i++) s[i] = (char)('a' + (r + i) % 26);
        int len = snprintf(s, sizeof s, "s%d", r);
        s[len] = 'z';
        vector_set_str(&b->cols[2], r, s, (size_t)(slen > len ? slen : len));
        vector_f64(&b->cols[3])[r] = r * 0.5;
        vector_set_str(&b->cols[4], r, "v", 1);
        vector_i64(&b->cols[5])[r] = -r;
        vector_bool(&b->cols[6])[r] = (uint8_t)(r & 1);
        vector_i64(&b->cols[7])[r] = (int64_t)r * 1000000;
    }
}

TEST(kexchange_write_side)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t6", 4, &spec, T6_NCOLS, T6_TYPES, 0x6666, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxReader *r = kx_reader_open(&spec, "kx-g6", 1, err, sizeof err);
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    if (!r || !w) printf("    open: %s\n", err);
    REQUIRE(r && w);
    Batch a, big, flat, out;
    REQUIRE(batch_init(&a, T6_NCOLS, T6_TYPES, 16) == 0);
    REQUIRE(batch_init(&big, T6_NCOLS, T6_TYPES, T6_BIG) == 0);
    REQUIRE(batch_init(&flat, T6_NCOLS, T6_TYPES, T6_FLAT) == 0);
    REQUIRE(batch_init(&out, T6_NCOLS, T6_TYPES, 0) == 0);
    char **exp = calloc(3000, sizeof *exp);
    REQUIRE(exp != NULL);
    char text[4096];
    int  key = 0, want_rows[4] = {0, 0, 0, 0};
    uint64_t h[T6_BIG];

    /* (a) 10 physical rows, 5 live in a permuted selection; column 0 (the
     * key) constant 42, column 4 constant 'const', column 5 constant NULL,
     * NULLs in flat columns 2 and 3 */
    t6_fill(&a, 10, 0, 0);
    vector_set_null(&a.cols[2], 3);
    vector_set_null(&a.cols[2], 7);
    vector_set_null(&a.cols[3], 9);
    vector_i64(&a.cols[0])[0] = 42;
    vector_make_constant(&a.cols[0]);
    vector_set_str(&a.cols[4], 0, "const", 5);
    vector_make_constant(&a.cols[4]);
    vector_set_null(&a.cols[5], 0);
    vector_make_constant(&a.cols[5]);
    static const uint32_t sel[5] = {7, 2, 9, 0, 5};
    a.nrows = 10;
    batch_set_sel(&a, sel, 5);
    for (int i = 0; i < 5; i++) {
        kx_row_text(&a, (int)sel[i], text, sizeof text);
        exp[sel[i]] = strdup(text);
    }
    CHECK(strstr(exp[7], "42|7|NULL|3.5|const|NULL|") == exp[7]);
    hash_vector(&a.cols[0], a.sel, a.count, h, 0);
    want_rows[((h[0] >> 32) * 4) >> 32] += 5;   /* query.c's formula, spelled out */
    CHECK_EQ_INT(kx_write(w, &a, &key, 1), 0);

    /* (b) 1024 rows of ~1 KB, one key: more than one message, order kept */
    t6_fill(&big, T6_BIG, 100, 1000);
    vector_i64(&big.cols[0])[0] = 7;
    vector_make_constant(&big.cols[0]);
    batch_set_nrows(&big, T6_BIG);
    for (int i = 0; i < T6_BIG; i++) {
        kx_row_text(&big, i, text, sizeof text);
        exp[100 + i] = strdup(text);
    }
    hash_vector(&big.cols[0], NULL, T6_BIG, h, 0);
    int bigpart = (int)(((h[0] >> 32) * 4) >> 32);
    want_rows[bigpart] += T6_BIG;
    CHECK_EQ_INT(kx_write(w, &big, &key, 1), 0);

    /* (c) 500 rows, keys 0 … 499 (flat), two key columns (k, seq), seq 3000 … */
    t6_fill(&flat, T6_FLAT, 3000, 3);
    for (int i = 0; i < T6_FLAT; i++) vector_i64(&flat.cols[0])[i] = i;
    batch_set_nrows(&flat, T6_FLAT);
    for (int i = 0; i < T6_FLAT; i++) {
        kx_row_text(&flat, i, text, sizeof text);
        exp[1500 + i] = strdup(text);   /* seq 3000 … at 1500 … */
    }
    int keys2[2] = {0, 1};
    hash_vector(&flat.cols[0], NULL, T6_FLAT, h, 0);
    hash_vector(&flat.cols[1], NULL, T6_FLAT, h, 1);
    for (int i = 0; i < T6_FLAT; i++) want_rows[((h[i] >> 32) * 4) >> 32]++;
    CHECK_EQ_INT(kx_write(w, &flat, keys2, 2), 0);
    CHECK_EQ_INT(kx_commit_now(w), 0);
    CHECK_EQ_INT(kx_flush(w, 10000), 0);

    /* the raw messages: header, rows per partition, sizes */
    rd_kafka_t *c = kx_raw(bs, RD_KAFKA_CONSUMER);
    REQUIRE(c != NULL);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(4);
    for (int p = 0; p < 4; p++) rd_kafka_topic_partition_list_add(l, "kx-t6", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    CHECK(rd_kafka_assign(c, l) == 0);
    rd_kafka_topic_partition_list_destroy(l);
    int    rows[4] = {0, 0, 0, 0}, total = 0, msgs_big = 0, badhdr = 0, commits = 0;
    size_t maxlen = 0;
    for (int64_t t0 = kx_ms(); (total < T6_TOTAL || commits < 4) && kx_ms() - t0 < 10000;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 50);
        if (!m) continue;
        if (!m->err && m->partition >= 0 && m->partition < 4) {
            const uint8_t *p = m->payload;
            uint64_t       fp = 0, wid = 0, seg = 0;
            for (int i = 0; i < 8 && m->len >= KX_HEADER_BYTES; i++) {
                fp |= (uint64_t)p[2 + i] << (8 * i);
                wid |= (uint64_t)p[10 + i] << (8 * i);
                seg |= (uint64_t)p[18 + i] << (8 * i);
            }
            if (m->len == KX_HEADER_BYTES + 16 && p[0] == KX_VERSION && p[1] == 'C' && fp == 0x6666 &&
                wid == kx_writer_id(w) && seg == 2 && p[KX_HEADER_BYTES] == 1) {
                commits++;   /* the commit of segment 1 */
            } else if (m->len < KX_HEADER_BYTES + 2 || p[0] != KX_VERSION || p[1] != 'R' || fp != 0x6666 ||
                       wid != kx_writer_id(w) || seg != 1) {
                badhdr++;
            } else {
                uint64_t n = 0;
                for (int i = KX_HEADER_BYTES, sh = 0; i < (int)m->len; i++, sh += 7) {
                    n |= (uint64_t)(p[i] & 0x7f) << sh;
                    if (!(p[i] & 0x80)) break;
                }
                rows[m->partition] += (int)n;
                total += (int)n;
                msgs_big += m->partition == bigpart;
                if (m->len > maxlen) maxlen = m->len;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    CHECK_EQ_INT(badhdr, 0);
    CHECK_EQ_INT(commits, 4);             /* one per partition */
    for (int p = 0; p < 4; p++) CHECK_EQ_INT(rows[p], want_rows[p]);
    CHECK(msgs_big >= 4);                 /* ~1 MB in messages of at most ~256 KB */
    CHECK(maxlen <= KX_MSG_BYTES + 2048);

    /* the reader gets every row exactly, each key's rows in order */
    int stray = 0;
    REQUIRE(kx_wait_assigned(&r, &out, 1, 4, 20000, &stray) == 0);
    int     got = stray, wrong = 0, disorder = 0, seen[3000] = {0};
    int64_t lasta = -1, lastb = -1;
    const int64_t order_a[5] = {7, 2, 9, 0, 5};
    int     ia = 0;
    for (int64_t t0 = kx_ms(); got < T6_TOTAL && kx_ms() - t0 < 10000;) {
        batch_reset(&out);
        int n = kx_read(r, &out, NULL, 20);
        if (n < 0) printf("    reader: %s\n", kx_reader_error(r));
        REQUIRE(n >= 0);
        for (int i = 0; i < n; i++) {
            int64_t s = vector_i64(&out.cols[1])[i];
            int     slot = s < 3000 ? (int)s : (int)s - 1500;
            if (s < 0 || slot >= 3000 || !exp[slot]) {
                wrong++;
                continue;
            }
            kx_row_text(&out, i, text, sizeof text);
            if (strcmp(text, exp[slot]) != 0 && wrong++ == 0)
                printf("    got  %.200s\n    want %.200s\n", text, exp[slot]);
            seen[slot]++;
            if (s < 10) {
                if (ia >= 5 || s != order_a[ia++]) disorder++;
                if (s == lasta) disorder++;
                lasta = s;
            } else if (s < 3000) {
                if (s <= lastb) disorder++;
                lastb = s;
            }
            got++;
        }
    }
    int once = 0;
    for (int i = 0; i < 3000; i++) once += exp[i] && seen[i] == 1;
    CHECK_EQ_INT(got, T6_TOTAL);
    CHECK_EQ_INT(once, T6_TOTAL);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(disorder, 0);
    CHECK_EQ_INT(ia, 5);

    for (int i = 0; i < 3000; i++) free(exp[i]);
    free(exp);
    batch_destroy(&a);
    batch_destroy(&big);
    batch_destroy(&flat);
    batch_destroy(&out);
    kx_reader_close(r);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

/* ---- 7. segments: exactly once (kexchange.h, "Exactly once: segments") ------------------ */

static const SqlType T7_TYPES[2] = {TYPE_BIGINT, TYPE_BIGINT};

/* Rows seq from … from+n-1 (keys spread over the partitions) into w's open segment. */
static int t7_write(KxWriter *w, Batch *in, int64_t from, int n)
{
    batch_reset(in);
    for (int i = 0; i < n; i++) {
        vector_i64(&in->cols[0])[i] = from + i;
        vector_i64(&in->cols[1])[i] = from + i;
    }
    batch_set_nrows(in, n);
    int key = 0;
    return kx_write(w, in, &key, 1) || kx_flush(w, 10000) ? -1 : 0;
}

/* Read for ms milliseconds (or until want rows came); seen[seq]++ for seq < cap.
 * Rows read, or -1. */
static int t7_read(KxReader *r, Batch *out, int ms, int want, int *seen, int cap)
{
    int got = 0;
    for (int64_t t0 = kx_ms(); kx_ms() - t0 < ms && (want < 0 || got < want);) {
        batch_reset(out);
        int n = kx_read(r, out, NULL, 20);
        if (n < 0) {
            printf("    reader: %s\n", kx_reader_error(r));
            return -1;
        }
        for (int k = 0; k < n; k++) {
            int64_t s = vector_i64(&out->cols[1])[k];
            if (s >= 0 && s < cap) seen[s]++;
        }
        got += n;
    }
    return got;
}

static int t7_count(const int *seen, int from, int to, int times)
{
    int n = 0;
    for (int s = from; s < to; s++) n += seen[s] == times;
    return n;
}

/* kx_writer_set_interrupt: a stop ends a write that waits for room (the
 * brokers gone, the producer's queue full) instead of waiting for ever */
static int t8_stops;
static int t8_stopped(void *ctx)
{
    (void)ctx;
    return ++t8_stops >= 3;   /* after ~300 ms of waiting */
}

TEST(kexchange_writer_interrupt)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t8", 2, &spec, 2, T7_TYPES, 0x8888, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *pk[] = {kx_pk[0], kx_pk[1], kx_pk[2], "queue.buffering.max.messages"};
    const char *pv[] = {kx_pv[0], kx_pv[1], kx_pv[2], "4"};
    spec.nprops = 4, spec.prop_keys = pk, spec.prop_values = pv;
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    if (!w) printf("    open: %s\n", err);
    REQUIRE(w != NULL);
    kx_writer_set_interrupt(w, t8_stopped, NULL);
    kafka_broker_stop(kb);
    Batch in;
    REQUIRE(batch_init(&in, 2, T7_TYPES, 0) == 0);
    int rc = 0;
    for (int i = 0; i < 64 && rc == 0; i++) {   /* a message per partition and write */
        batch_reset(&in);
        vector_i64(&in.cols[0])[0] = i;
        vector_i64(&in.cols[1])[0] = i;
        batch_set_nrows(&in, 1);
        int key = 0;
        rc = kx_write(w, &in, &key, 1);
    }
    CHECK_EQ_INT(rc, -1);
    CHECK(t8_stops >= 3);
    CHECK(strstr(kx_writer_error(w), "stopped while") != NULL);
    kx_writer_close(w);
    batch_destroy(&in);
}

TEST(kexchange_segments)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t7", 2, &spec, 2, T7_TYPES, 0x7777, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxReader *r = kx_reader_open(&spec, "kx-g7", 1, err, sizeof err);
    KxWriter *W[6];
    for (int i = 0; i < 6; i++) W[i] = kx_writer_open(&spec, err, sizeof err);
    if (!r || !W[5]) printf("    open: %s\n", err);
    REQUIRE(r && W[0] && W[1] && W[2] && W[3] && W[4] && W[5]);
    KxWriter *A = W[0], *B = W[1], *C = W[2], *D = W[3], *E = W[4], *F = W[5];
    for (int i = 0; i < 6; i++) {
        CHECK(kx_writer_id(W[i]) != 0);
        for (int j = 0; j < i; j++) CHECK(kx_writer_id(W[i]) != kx_writer_id(W[j]));
    }
    Batch in, out;
    REQUIRE(batch_init(&in, 2, T7_TYPES, 0) == 0 && batch_init(&out, 2, T7_TYPES, 0) == 0);
    KxReader *rs[1] = {r};
    int       stray = 0;
    REQUIRE(kx_wait_assigned(rs, &out, 1, 2, 20000, &stray) == 0);
    static int seen[4000];
    memset(seen, 0, sizeof seen);

    /* an open segment is held, not applied */
    CHECK_EQ_INT(kx_writer_segment(A), 1);
    CHECK_EQ_INT(t7_write(A, &in, 0, 100), 0);
    CHECK_EQ_INT(t7_read(r, &out, 1500, -1, seen, 4000), 0);
    CHECK(kx_reader_pending(r) >= 2);   /* a message per partition at least */
    CHECK_EQ_INT(kx_commit_through(A, 1), -1);   /* not sealed yet */
    CHECK(strstr(kx_writer_error(A), "cannot commit segment 1") != NULL);
    /* committed: applied, once */
    CHECK_EQ_INT((int)kx_seal(A), 1);
    CHECK_EQ_INT(kx_writer_segment(A), 2);
    CHECK(kx_commit_through(A, 1) == 0 && kx_flush(A, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 10000, 100, seen, 4000), 100);
    CHECK_EQ_INT(t7_count(seen, 0, 100, 1), 100);
    CHECK_EQ_INT(kx_reader_pending(r), 0);

    /* A writes segment 2 (rows and a watermark) and "dies" before committing
     * it; B's committed rows flow past A's held ones */
    CHECK_EQ_INT(t7_write(A, &in, 100, 100), 0);
    CHECK(kx_write_watermark(A, 0, 500) == 0 && kx_flush(A, 10000) == 0);
    CHECK_EQ_INT(t7_write(B, &in, 1000, 50), 0);
    CHECK(kx_commit_through(B, kx_seal(B)) == 0 && kx_flush(B, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 10000, 50, seen, 4000), 50);
    CHECK_EQ_INT(t7_read(r, &out, 500, -1, seen, 4000), 0);
    CHECK_EQ_INT(t7_count(seen, 1000, 1050, 1), 50);
    CHECK_EQ_INT(t7_count(seen, 100, 200, 0), 100);
    CHECK_EQ_INT(kx_reader_watermark(r), INT64_MIN);   /* A's watermark is held too */
    CHECK(kx_reader_pending(r) > 0);
    /* the group's offsets said A's segment 1: C resolves A; segment 2 never applies */
    CHECK_EQ_INT(kx_resolve(C, kx_writer_id(C), 1), -1);   /* not another writer */
    CHECK(kx_resolve(C, kx_writer_id(A), 1) == 0 && kx_flush(C, 10000) == 0);
    int64_t t0 = kx_ms();
    while (kx_reader_pending(r) > 0 && kx_ms() - t0 < 10000) t7_read(r, &out, 50, -1, seen, 4000);
    CHECK_EQ_INT(kx_reader_pending(r), 0);
    CHECK_EQ_INT(t7_count(seen, 100, 200, 0), 100);
    CHECK_EQ_INT(kx_reader_watermark(r), INT64_MIN);
    /* A as a zombie: more rows and a commit of segment 2, all ignored */
    CHECK_EQ_INT(t7_write(A, &in, 200, 10), 0);
    CHECK(kx_commit_through(A, kx_seal(A)) == 0 && kx_flush(A, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 1000, -1, seen, 4000), 0);
    CHECK_EQ_INT(kx_reader_pending(r), 0);

    /* D dies after its offsets recorded segment 1 but before writing 'C': E's
     * resolution commits it */
    CHECK_EQ_INT(t7_write(D, &in, 2000, 10), 0);
    CHECK_EQ_INT((int)kx_seal(D), 1);
    CHECK_EQ_INT(t7_read(r, &out, 500, -1, seen, 4000), 0);
    CHECK(kx_resolve(E, kx_writer_id(D), 1) == 0 && kx_flush(E, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 10000, 10, seen, 4000), 10);
    CHECK_EQ_INT(t7_count(seen, 2000, 2010, 1), 10);
    CHECK(kx_write_watermark(E, 0, 700) == 0 && kx_commit_through(E, kx_seal(E)) == 0 &&
          kx_flush(E, 10000) == 0);
    t0 = kx_ms();
    while (kx_reader_watermark(r) != 700 && kx_ms() - t0 < 10000) t7_read(r, &out, 50, -1, seen, 4000);
    CHECK_EQ_INT(kx_reader_watermark(r), 700);

    /* the end of a bounded read: B's segment 2 is decided, E confirms it
     * (B has not written its 'C'); B is not fenced — its segment 3, which
     * it commits itself, applies too (a resolve would drop it, as A's) */
    CHECK_EQ_INT(t7_write(B, &in, 2500, 10), 0);
    CHECK_EQ_INT((int)kx_seal(B), 2);
    CHECK_EQ_INT(t7_read(r, &out, 500, -1, seen, 4000), 0);
    CHECK_EQ_INT(kx_confirm(E, kx_writer_id(E), 2), -1);   /* not another writer */
    CHECK(kx_confirm(E, kx_writer_id(B), 2) == 0 && kx_flush(E, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 10000, 10, seen, 4000), 10);
    CHECK_EQ_INT(t7_count(seen, 2500, 2510, 1), 10);
    CHECK_EQ_INT(t7_write(B, &in, 2510, 10), 0);
    CHECK(kx_write_watermark(B, 0, 800) == 0 && kx_commit_through(B, kx_seal(B)) == 0 &&
          kx_flush(B, 10000) == 0);
    CHECK_EQ_INT(t7_read(r, &out, 10000, 10, seen, 4000), 10);
    CHECK_EQ_INT(t7_count(seen, 2510, 2520, 1), 10);
    t0 = kx_ms();
    while (kx_reader_watermark(r) != 800 && kx_ms() - t0 < 10000) t7_read(r, &out, 50, -1, seen, 4000);
    CHECK_EQ_INT(kx_reader_watermark(r), 800);

    /* the reader's commit stops at the first message it holds: the next
     * member of the group reads F's segment again, whole, and nothing before */
    CHECK_EQ_INT(t7_write(F, &in, 3000, 10), 0);
    CHECK_EQ_INT(t7_read(r, &out, 1000, -1, seen, 4000), 0);
    CHECK_EQ_INT(kx_reader_commit(r), 0);
    int64_t committed[2] = {-1, -1}, high[2] = {0, 0};
    int     ok = 0;
    for (t0 = kx_ms(); !ok && kx_ms() - t0 < 10000;) {
        t7_read(r, &out, 50, -1, seen, 4000);
        ok = t3_offsets(bs, "kx-g7", "kx-t7", 2, committed, high) == 0 && committed[0] >= 0 &&
             committed[1] >= 0;
    }
    CHECK(ok);
    CHECK(committed[0] < high[0] && committed[1] < high[1]);   /* F's messages are after it */
    kx_reader_close(r);
    CHECK(kx_commit_through(F, kx_seal(F)) == 0 && kx_flush(F, 10000) == 0);
    r = kx_reader_open(&spec, "kx-g7", 1, err, sizeof err);
    REQUIRE(r != NULL);
    static int again[4000];
    memset(again, 0, sizeof again);
    CHECK_EQ_INT(t7_read(r, &out, 15000, 10, again, 4000), 10);
    CHECK_EQ_INT(t7_read(r, &out, 500, -1, again, 4000), 0);
    CHECK_EQ_INT(t7_count(again, 3000, 3010, 1), 10);
    CHECK_EQ_INT(t7_count(again, 0, 3000, 0), 3000);

    /* the offset metadata that records a decision */
    char     meta[64];
    uint64_t wv = 0, sv = 0;
    CHECK_EQ_INT(kx_commit_meta(0x0123456789abcdefULL, 42, meta, sizeof meta), 23);
    CHECK_EQ_STR(meta, "kx1 0123456789abcdef 42");
    CHECK(kx_parse_commit_meta(meta, strlen(meta), &wv, &sv) == 0 && wv == 0x0123456789abcdefULL && sv == 42);
    CHECK_EQ_INT(kx_commit_meta(1, 1, meta, 8), -1);
    const char *bad[] = {"", "kx1", "kx2 0123456789abcdef 42", "kx1 0123456789abcdeg 42", "kx1 0123456789abcdef",
                         "kx1 0123456789abcdef 4x", "kx1 0123456789abcdef 42 ", "kx1 0000000000000000 1",
                         "kx1 123456789abcdef 42"};
    /* a claim carries earlier owners' decisions after its own */
    uint64_t ws[4], ss[4];
    const char *claim = "kx1 0123456789abcdef 42 00000000000000ff 0 fedcba9876543210 9223372036854775807";
    CHECK_EQ_INT(kx_parse_commit_meta_list(claim, strlen(claim), ws, ss, 4), 3);
    CHECK(ws[0] == 0x0123456789abcdefULL && ss[0] == 42 && ws[1] == 0xff && ss[1] == 0);
    CHECK(ws[2] == 0xfedcba9876543210ULL && ss[2] == 9223372036854775807ULL);
    CHECK_EQ_INT(kx_parse_commit_meta_list(claim, strlen(claim), ws, ss, 1), 3);   /* counted, one kept */
    CHECK_EQ_INT(kx_parse_commit_meta(claim, strlen(claim), &wv, &sv), -1);        /* not exactly one */
    const char *badl[] = {"kx1 0123456789abcdef 42 ", "kx1 0123456789abcdef 42  00000000000000ff 1",
                          "kx1 0123456789abcdef 42 00000000000000ff", "kx1 0123456789abcdef 99999999999999999999"};
    for (size_t i = 0; i < sizeof badl / sizeof *badl; i++)
        CHECK_EQ_INT(kx_parse_commit_meta_list(badl[i], strlen(badl[i]), ws, ss, 4), -1);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = kx_parse_commit_meta(bad[i], strlen(bad[i]), &wv, &sv);
        if (rc != -1) printf("    accepted '%s'\n", bad[i]);
        CHECK_EQ_INT(rc, -1);
    }

    batch_destroy(&in);
    batch_destroy(&out);
    kx_reader_close(r);
    for (int i = 0; i < 6; i++) kx_writer_close(W[i]);
    kafka_broker_stop(kb);
}

/* ---- 8. deferred revocations and the ledger ---------------------------------------------- */

/* what a reader hands a partition over with: "kxwm <ctx>" */
static void t8_handoff(void *ctx, int partition, char *buf, size_t cap)
{
    (void)partition;
    snprintf(buf, cap, "kxwm %d", *(int *)ctx);
}

typedef struct T8Record {
    KxReader   *r;
    const char *metas[4];
    int         rc;
    char        err[256];
} T8Record;

static void *t8_record(void *arg)
{
    T8Record *x = arg;
    x->rc = kx_reader_record(x->r, x->metas, x->err, sizeof x->err);
    return NULL;
}

/* A owns the topic; B joins. A's revocation is held (defer): B gets nothing
 * until A releases; then B gets them with A's handoff metadata, which is in
 * the ledger group and not in the readers' own group. */
TEST(kexchange_deferred_handoff)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t8", 4, &spec, 2, T3_TYPES, 0x8888, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    spec.ledger = "kx-g8-emitted";
    int       mark = 42;
    KxReader *A = kx_reader_open(&spec, "kx-g8", 1, err, sizeof err);
    if (!A) printf("    open: %s\n", err);
    REQUIRE(A != NULL);
    kx_reader_on_handoff(A, t8_handoff, &mark);
    kx_reader_defer_revokes(A, 1);
    Batch out[2];
    REQUIRE(batch_init(&out[0], 2, T3_TYPES, 0) == 0 && batch_init(&out[1], 2, T3_TYPES, 0) == 0);
    int64_t t0;
    for (t0 = kx_ms(); kx_reader_assigned(A) < 4 && kx_ms() - t0 < 20000;) {
        batch_reset(&out[0]);
        REQUIRE(kx_read(A, &out[0], NULL, 50) >= 0);
    }
    CHECK_EQ_INT(kx_reader_assigned(A), 4);

    /* a record through the ledger: visible to the group's members, not an offset of kx-g8 */
    const char *metas[4] = {"kxwm 7", "kxwm 7", "kxwm 7", "kxwm 7"};
    CHECK_EQ_INT(kx_reader_commit_meta(A, metas, 1), 0);
    char (*gm)[KX_META_MAX] = calloc(4, sizeof *gm);
    REQUIRE(gm != NULL);
    CHECK_EQ_INT(kx_reader_group_metas(A, gm, 5000), 0);
    for (int p = 0; p < 4; p++) CHECK_EQ_STR(gm[p], "kxwm 7");
    /* a record written from another thread (checkpoint_commit's), of the
     * partitions given a record only */
    T8Record rec = {A, {"kxwm 9", NULL, "", "kxwm 9"}, -2, ""};
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, t8_record, &rec) == 0);
    pthread_join(th, NULL);
    if (rec.rc) printf("    record: %s\n", rec.err);
    CHECK_EQ_INT(rec.rc, 0);
    CHECK_EQ_INT(kx_reader_group_metas(A, gm, 5000), 0);
    CHECK_EQ_STR(gm[0], "kxwm 9");
    CHECK_EQ_STR(gm[1], "kxwm 7");
    CHECK_EQ_STR(gm[2], "kxwm 7");
    CHECK_EQ_STR(gm[3], "kxwm 9");

    KxReader *B = kx_reader_open(&spec, "kx-g8", 1, err, sizeof err);
    REQUIRE(B != NULL);
    kx_reader_test_fail_offsets(B, 2);   /* its assignments' first asks go unanswered */
    /* A reads until the group asks it for partitions, then stops reading */
    for (t0 = kx_ms(); !kx_reader_revoking(A) && kx_ms() - t0 < 20000;)
        for (int i = 0; i < 2; i++) {
            batch_reset(&out[i]);
            REQUIRE(kx_read(i ? B : A, &out[i], NULL, 50) >= 0);
        }
    int held = kx_reader_revoking(A);
    CHECK(held > 0);
    int64_t gen = kx_reader_generation(A);
    /* held: B gets nothing for 1.5 s, A still owns everything */
    for (t0 = kx_ms(); kx_ms() - t0 < 1500;) {
        batch_reset(&out[1]);
        REQUIRE(kx_read(B, &out[1], NULL, 50) >= 0);
    }
    CHECK_EQ_INT(kx_reader_assigned(B), 0);
    CHECK_EQ_INT(kx_reader_assigned(A), 4);
    CHECK_EQ_INT(kx_reader_generation(A), gen);
    /* released: handed over with "kxwm 42"; B gets them */
    CHECK_EQ_INT(kx_reader_release(A), 0);
    CHECK_EQ_INT(kx_reader_revoking(A), 0);
    CHECK_EQ_INT(kx_reader_assigned(A), 4 - held);
    CHECK(kx_reader_generation(A) != gen);
    for (t0 = kx_ms(); kx_reader_assigned(B) < held && kx_ms() - t0 < 20000;)
        for (int i = 0; i < 2; i++) {
            batch_reset(&out[i]);
            REQUIRE(kx_read(i ? B : A, &out[i], NULL, 50) >= 0);
        }
    CHECK_EQ_INT(kx_reader_assigned(B), held);
    CHECK_EQ_INT(kx_reader_assigned(A) + kx_reader_assigned(B), 4);
    for (int p = 0; p < 4; p++) {
        if (kx_reader_owned(B, p)) CHECK_EQ_STR(kx_reader_part_meta(B, p), "kxwm 42");
        if (kx_reader_owned(A, p)) CHECK(!kx_reader_owned(B, p));
    }
    /* the readers' own group has no offsets: only the ledger was written */
    int64_t committed[4], high[4];
    CHECK_EQ_INT(t3_offsets(bs, "kx-g8", "kx-t8", 4, committed, high), 0);
    for (int p = 0; p < 4; p++) CHECK(committed[p] < 0);

    free(gm);
    batch_destroy(&out[0]);
    batch_destroy(&out[1]);
    kx_reader_close(A);
    kx_reader_close(B);
    kafka_broker_stop(kb);
}

/* ---- 9. bounded replay ------------------------------------------------------------------- */

/* Read r until it has taken want rows (or 10 s); each row's seq and offset
 * into seq[]/off[] (cap entries); returns the rows taken. */
static int t9_read(KxReader *r, Batch *out, int64_t *seq, int64_t *off, int cap, int want)
{
    int64_t  offs[1024];
    uint16_t parts[1024];
    int      got = 0;
    for (int64_t t0 = kx_ms(); got < want && kx_ms() - t0 < 10000;) {
        batch_reset(out);
        int n = kx_read_parts(r, out, parts, offs, NULL, 50);
        if (n < 0) return -1;
        for (int k = 0; k < n && got < cap; k++, got++) {
            seq[got] = vector_i64(&out->cols[1])[k];
            off[got] = offs[k];
        }
    }
    return got;
}

/* A reader that is assigned a partition whose metadata says "… from X"
 * replays it from offset X, not from the beginning; the floor it reports
 * covers the first message it has not applied and every origin's last
 * watermark. */
TEST(kexchange_bounded_replay)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t9", 1, &spec, 2, T3_TYPES, 0x9999, err, sizeof err);
    REQUIRE(kb != NULL);
    spec.replay = 1;
    spec.ledger = "kx-g9-emitted";
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    KxReader *r = kx_reader_open(&spec, "kx-g9", 1, err, sizeof err);
    if (!w || !r) printf("    open: %s\n", err);
    REQUIRE(w && r);
    Batch in, out;
    REQUIRE(batch_init(&in, 2, T3_TYPES, 0) == 0 && batch_init(&out, 2, T3_TYPES, 0) == 0);
    /* round 1: rows 0…T3_N-1, watermark 100; round 2: rows T3_N…, watermark 200 */
    CHECK_EQ_INT(kx_write_watermark(w, 0, 100), 0);
    t3_write(w, &in, 0);
    t3_write(w, &in, T3_N);
    CHECK_EQ_INT(kx_write_watermark(w, 0, 200), 0);
    CHECK_EQ_INT(kx_commit_now(w), 0);
    CHECK_EQ_INT(kx_flush(w, 10000), 0);

    int64_t *seq = calloc(4 * T3_N, sizeof *seq), *off = calloc(4 * T3_N, sizeof *off);
    REQUIRE(seq && off);
    CHECK_EQ_INT(t9_read(r, &out, seq, off, 4 * T3_N, 2 * T3_N), 2 * T3_N);
    int64_t round2 = -1;   /* the offset the second round's rows came at */
    for (int i = 0; i < 2 * T3_N; i++)
        if (seq[i] == T3_N) round2 = off[i];
    CHECK(round2 > 0);
    for (int64_t t0 = kx_ms(); kx_reader_watermark(r) != 200 && kx_ms() - t0 < 5000;) {
        batch_reset(&out);
        CHECK(kx_read(r, &out, NULL, 50) >= 0);
    }
    CHECK_EQ_INT(kx_reader_watermark(r), 200);
    /* everything is applied: the floor is the last watermark's message */
    int64_t floor = kx_reader_replay_floor(r, 0);
    CHECK(floor > round2);
    char meta[64];
    snprintf(meta, sizeof meta, "kxwm 5 from %lld", (long long)round2);
    const char *metas[1] = {meta};
    CHECK_EQ_INT(kx_reader_commit_meta(r, metas, 1), 0);
    kx_reader_close(r);

    /* the next owner starts at round 2, sees its rows and the watermark again */
    r = kx_reader_open(&spec, "kx-g9", 1, err, sizeof err);
    REQUIRE(r != NULL);
    int n = t9_read(r, &out, seq, off, 4 * T3_N, T3_N);
    CHECK_EQ_INT(n, T3_N);
    int before = 0;
    for (int i = 0; i < n; i++) before += seq[i] < T3_N || off[i] < round2;
    CHECK_EQ_INT(before, 0);
    CHECK_EQ_STR(kx_reader_part_meta(r, 0), meta);
    for (int64_t t0 = kx_ms(); kx_reader_watermark(r) != 200 && kx_ms() - t0 < 5000;) {
        batch_reset(&out);
        CHECK(kx_read(r, &out, NULL, 50) >= 0);
    }
    CHECK_EQ_INT(kx_reader_watermark(r), 200);

    free(seq);
    free(off);
    batch_destroy(&in);
    batch_destroy(&out);
    kx_reader_close(r);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

static int t_cl_seen(void *ctx, const void *key, size_t klen, const void *val, size_t vlen, int64_t off,
                     uint64_t owner)
{
    char  *text = ctx;
    size_t at = strlen(text);
    snprintf(text + at, 128 - at, "%.*s=%.*s@%lld/%llu ", (int)klen, (const char *)key, val ? (int)vlen : 1,
             val ? (const char *)val : "-", (long long)off, (unsigned long long)owner);
    return 0;
}

/* ---- 9b. a replay onto a restored state: the rows applied before are dropped ---- */

/* Writer X's rows wait for their segment's commit while writer Y's,
 * written after them, are committed and applied. The position then says:
 * from X's first message (held) — or the origin's end before it —,
 * applied through Y's commit. A next owner told so (" from F … at A" in
 * the partition's record) replays from F, sees the end again, and gets
 * X's rows once X commits, not Y's again. */
TEST(kexchange_replay_point)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t9b", 1, &spec, 2, T3_TYPES, 0x9b9b, err, sizeof err);
    REQUIRE(kb != NULL);
    spec.replay = 1;
    spec.ledger = "kx-g9b-emitted";
    KxWriter *x = kx_writer_open(&spec, err, sizeof err);
    KxWriter *y = x ? kx_writer_open(&spec, err, sizeof err) : NULL;
    KxReader *r = y ? kx_reader_open(&spec, "kx-g9b", 1, err, sizeof err) : NULL;
    if (!r) printf("    open: %s\n", err);
    REQUIRE(x && y && r);
    Batch in, out;
    REQUIRE(batch_init(&in, 2, T3_TYPES, 0) == 0 && batch_init(&out, 2, T3_TYPES, 0) == 0);
    CHECK_EQ_INT(kx_write_end(y, 0), 0);   /* the only origin ends first: a replay must see it again */
    CHECK_EQ_INT(kx_commit_now(y), 0);
    CHECK_EQ_INT(kx_flush(y, 10000), 0);
    batch_reset(&in);
    for (int i = 0; i < 10; i++) vector_i64(&in.cols[0])[i] = i, vector_i64(&in.cols[1])[i] = i;
    batch_set_nrows(&in, 10);
    int key = 0;
    CHECK_EQ_INT(kx_write(x, &in, &key, 1), 0);   /* X: rows 0…9, not committed */
    CHECK_EQ_INT(kx_flush(x, 10000), 0);
    for (int i = 0; i < 10; i++) vector_i64(&in.cols[1])[i] = 100 + i;
    CHECK_EQ_INT(kx_write(y, &in, &key, 1), 0);   /* Y: rows 100…109, committed */
    CHECK_EQ_INT(kx_commit_now(y), 0);
    CHECK_EQ_INT(kx_flush(y, 10000), 0);

    int64_t seq[64], off[64];
    CHECK_EQ_INT(t9_read(r, &out, seq, off, 64, 10), 10);
    CHECK(seq[0] == 100 && seq[9] == 109);
    CHECK_EQ_INT(kx_reader_busy(r), 0);
    int64_t from = -1, applied = -1;
    CHECK_EQ_INT(kx_reader_position(r, 0, &from, &applied), 0);
    CHECK(from >= 0 && applied > from + 1);   /* X's message held, Y's and its commit after it */
    CHECK_EQ_INT(kx_reader_position(r, 1, &from, &applied), -1);   /* (no such partition) */
    CHECK_EQ_INT(kx_reader_position(r, 0, &from, &applied), 0);
    char meta[128];
    snprintf(meta, sizeof meta, "kxwm 0 from %lld cl 0 at %lld", (long long)from, (long long)applied);
    const char *metas[1] = {meta};
    CHECK_EQ_INT(kx_reader_commit_meta(r, metas, 1), 0);
    kx_reader_close(r);

    CHECK_EQ_INT(kx_commit_now(x), 0);   /* X commits now: its rows apply, after Y's */
    CHECK_EQ_INT(kx_flush(x, 10000), 0);
    r = kx_reader_open(&spec, "kx-g9b", 1, err, sizeof err);
    REQUIRE(r != NULL);
    int n = t9_read(r, &out, seq, off, 64, 10);
    CHECK_EQ_INT(n, 10);
    int xs = 0;
    for (int i = 0; i < n; i++) xs += seq[i] < 10;
    CHECK_EQ_INT(xs, 10);
    CHECK_EQ_INT(t9_read(r, &out, seq, off, 64, 1), 0);   /* Y's rows do not come again */
    CHECK(kx_reader_dropped(r) >= 1);
    CHECK_EQ_INT(kx_reader_ended(r), 1);                  /* the end came again */
    CHECK_EQ_STR(kx_reader_part_meta(r, 0), meta);

    batch_destroy(&in);
    batch_destroy(&out);
    kx_reader_close(r);
    kx_writer_close(y);
    kx_writer_close(x);
    kafka_broker_stop(kb);
}

/* A changelog: keyed records and tombstones in order, the end of what was
 * delivered, and a read that stops at an offset — or fails when the
 * partition ends before it. */
TEST(kexchange_changelog)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-cl", 2, &spec, 2, T3_TYPES, 0xc1c1, err, sizeof err);
    REQUIRE(kb != NULL);
    KxLog *l = kx_log_open(&spec, err, sizeof err);
    if (!l) printf("    open: %s\n", err);
    REQUIRE(l != NULL);
    CHECK_EQ_INT((int)kx_log_end(l, 1), -1);
    CHECK_EQ_INT(kx_log_put(l, 1, "a", 1, "one", 3), 0);
    CHECK_EQ_INT(kx_log_put(l, 1, "b", 1, "two", 3), 0);
    CHECK_EQ_INT(kx_log_flush(l, 10000), 0);
    kx_log_mark(l);
    kx_log_set_owner(l, 7);
    CHECK_EQ_INT(kx_log_put(l, 1, "a", 1, NULL, 0), 0);
    CHECK_EQ_INT(kx_log_put(l, 0, "c", 1, "three", 5), 0);
    CHECK_EQ_INT(kx_log_put(l, 2, "c", 1, "x", 1), -1);   /* (no partition 2) */
    CHECK_EQ_INT(kx_log_flush(l, 10000), 0);
    CHECK_EQ_INT((int)kx_log_end(l, 1), 3);
    CHECK_EQ_INT((int)kx_log_end(l, 0), 1);
    CHECK_EQ_INT((int)kx_log_first(l, 1), 2);   /* (since the mark) */
    CHECK_EQ_INT((int)kx_log_first(l, 0), 0);
    char seen[128] = "";
    CHECK_EQ_INT(kx_log_read(l, 1, 0, 3, t_cl_seen, seen, 10000), 0);
    CHECK_EQ_STR(seen, "a=one@0/0 b=two@1/0 a=-@2/7 ");
    seen[0] = 0;
    CHECK_EQ_INT(kx_log_read(l, 1, 0, 2, t_cl_seen, seen, 10000), 0);   /* stops before offset 2 */
    CHECK_EQ_STR(seen, "a=one@0/0 b=two@1/0 ");
    seen[0] = 0;
    CHECK_EQ_INT(kx_log_read(l, 1, 1, 3, t_cl_seen, seen, 10000), 0);   /* starts at offset 1 */
    CHECK_EQ_STR(seen, "b=two@1/0 a=-@2/7 ");
    CHECK_EQ_INT(kx_log_read(l, 0, 0, 0, t_cl_seen, seen, 10000), 0);   /* nothing before 0 */
    CHECK_EQ_INT(kx_log_read(l, 0, 0, 5, t_cl_seen, seen, 10000), -1);  /* ends at 1 */
    CHECK(strstr(kx_log_error(l), "ends at offset 1") != NULL);
    kx_log_close(l);
    kafka_broker_stop(kb);
}

/* ---- 10. watermark records: one per partition and seal ----------------------- */

/* The high offset of each of P partitions of topic, or -1s. */
static void t10_high(const char *bs, const char *topic, int P, int64_t *lo, int64_t *high)
{
    rd_kafka_t *rk = kx_raw(bs, RD_KAFKA_CONSUMER);
    for (int p = 0; p < P; p++) {
        lo[p] = high[p] = -1;
        if (rk) rd_kafka_query_watermark_offsets(rk, topic, p, &lo[p], &high[p], 5000);
    }
    if (rk) rd_kafka_destroy(rk);
}

/* Read until the reader's watermark is want (5 s at most); its watermark. */
static int64_t t10_wait_wm(KxReader *r, Batch *out, int64_t want)
{
    int64_t wm = INT64_MIN;
    for (int64_t t0 = kx_ms(); wm != want && kx_ms() - t0 < 5000;) {
        batch_reset(out);
        if (kx_read(r, out, &wm, 20) < 0) {
            printf("    reader: %s\n", kx_reader_error(r));
            return INT64_MIN;
        }
    }
    return wm;
}

#define T10_ORIGINS 100

TEST(kexchange_watermark_records)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t10", 2, &spec, 2, T3_TYPES, 0x1010, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    KxReader *r = kx_reader_open(&spec, "kx-g10", T10_ORIGINS, err, sizeof err);
    if (!w || !r) printf("    open: %s\n", err);
    REQUIRE(w && r);
    Batch out;
    REQUIRE(batch_init(&out, 2, T3_TYPES, 0) == 0);
    int64_t lo[2], h0[2], h1[2];

    /* 3 advances of 100 origins in one segment: one 'M' record and one 'C'
     * per partition, not 300 'W' */
    for (int round = 1; round <= 3; round++)
        for (int o = 0; o < T10_ORIGINS; o++) CHECK_EQ_INT(kx_write_watermark(w, o, 1000 * round + o), 0);
    CHECK(kx_commit_now(w) == 0 && kx_flush(w, 10000) == 0);
    t10_high(bs, "kx-t10", 2, lo, h0);
    CHECK(h0[0] == 2 && h0[1] == 2);
    CHECK_EQ_INT(t10_wait_wm(r, &out, 3000), 3000);   /* the last round's, min over origins */

    /* the same values again, and one origin moved: a record of that one */
    for (int o = 0; o < T10_ORIGINS; o++) CHECK_EQ_INT(kx_write_watermark(w, o, 3000 + o + (o == 0)), 0);
    CHECK(kx_commit_now(w) == 0 && kx_flush(w, 10000) == 0);
    t10_high(bs, "kx-t10", 2, lo, h1);
    CHECK(h1[0] == h0[0] + 2 && h1[1] == h0[1] + 2);
    CHECK_EQ_INT(t10_wait_wm(r, &out, 3001), 3001);
    {   /* that record holds one pair: (0, 3001) */
        rd_kafka_t                      *c = kx_raw(bs, RD_KAFKA_CONSUMER);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, "kx-t10", 0)->offset = h0[0];
        REQUIRE(c && rd_kafka_assign(c, l) == 0);
        rd_kafka_message_t *m = NULL;
        for (int64_t t0 = kx_ms(); !m && kx_ms() - t0 < 5000;) {
            m = rd_kafka_consumer_poll(c, 100);
            if (m && m->err) rd_kafka_message_destroy(m), m = NULL;
        }
        REQUIRE(m != NULL);
        const uint8_t *p = m->payload;
        CHECK_EQ_INT((int)m->len, KX_HEADER_BYTES + 1 + 1 + 2);   /* n, origin, zigzag(3001) */
        CHECK(m->len >= KX_HEADER_BYTES + 2 && p[1] == KX_KIND_WATERMARKS && p[KX_HEADER_BYTES] == 1 &&
              p[KX_HEADER_BYTES + 1] == 0);
        rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_destroy(c);
    }
    /* nothing changed: only the commit marker */
    CHECK(kx_commit_now(w) == 0 && kx_flush(w, 10000) == 0);
    t10_high(bs, "kx-t10", 2, lo, h0);
    CHECK(h0[0] == h1[0] + 1 && h0[1] == h1[1] + 1);
    /* ends of all origins: one record too */
    for (int o = 0; o < T10_ORIGINS; o++) CHECK_EQ_INT(kx_write_end(w, o), 0);
    CHECK(kx_commit_now(w) == 0 && kx_flush(w, 10000) == 0);
    t10_high(bs, "kx-t10", 2, lo, h1);
    CHECK(h1[0] == h0[0] + 2 && h1[1] == h0[1] + 2);
    CHECK_EQ_INT(t10_wait_wm(r, &out, INT64_MAX), INT64_MAX);
    CHECK(kx_reader_ended(r));
    /* an origin past the limit fails the call, not the writer */
    CHECK_EQ_INT(kx_write_watermark(w, KX_MAX_ORIGINS, 1), -1);
    CHECK(strstr(kx_writer_error(w), "past the limit") != NULL);

    batch_destroy(&out);
    kx_reader_close(r);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

/* ---- 11. records deleted before they were read: a loud failure -------------- */

static const SqlType T11_TYPES[2] = {TYPE_BIGINT, TYPE_VARCHAR};

TEST(kexchange_deleted_records_fail)
{
    char         err[512];
    KxSpec       spec;
    KafkaBroker *kb = kx_broker("kx-t11", 1, &spec, 2, T11_TYPES, 0x1111, err, sizeof err);
    REQUIRE(kb != NULL);
    const char *bs = spec.bootstrap;
    KxWriter *w = kx_writer_open(&spec, err, sizeof err);
    if (!w) printf("    open: %s\n", err);
    REQUIRE(w != NULL);
    /* ~8 MB in flushes of ~1 MB: the bundled broker keeps 5 MB of a
     * partition, and deletes the oldest message sets beyond that */
    Batch in;
    REQUIRE(batch_init(&in, 2, T11_TYPES, 0) == 0);
    static char s[1000];
    memset(s, 'x', sizeof s);
    for (int k = 0; k < 8; k++) {
        batch_reset(&in);
        for (int i = 0; i < 1000; i++) {
            vector_i64(&in.cols[0])[i] = k * 1000 + i;
            vector_set_str(&in.cols[1], i, s, sizeof s);
        }
        batch_set_nrows(&in, 1000);
        int key = 0;
        CHECK(kx_write(w, &in, &key, 1) == 0 && kx_flush(w, 10000) == 0);
    }
    CHECK(kx_commit_now(w) == 0 && kx_flush(w, 10000) == 0);
    int64_t lo[1], high[1];
    t10_high(bs, "kx-t11", 1, lo, high);
    CHECK(lo[0] > 0 && high[0] > lo[0]);   /* the broker did delete */

    /* a new reader (nothing committed: from the beginning), and a replaying
     * one: both stop, naming the offsets lost, rather than start at lo */
    for (int replay = 0; replay <= 1; replay++) {
        spec.replay = replay;
        KxReader *r = kx_reader_open(&spec, replay ? "kx-g11r" : "kx-g11", 1, err, sizeof err);
        REQUIRE(r != NULL);
        Batch out;
        REQUIRE(batch_init(&out, 2, T11_TYPES, 0) == 0);
        int rc = 0, got = 0;
        for (int64_t t0 = kx_ms(); rc >= 0 && kx_ms() - t0 < 15000;) {
            batch_reset(&out);
            rc = kx_read(r, &out, NULL, 50);
            if (rc > 0) got += rc;
        }
        CHECK_EQ_INT(rc, -1);
        CHECK_EQ_INT(got, 0);
        char want[96];
        snprintf(want, sizeof want, "partition 0: records at offsets 0 to %lld were deleted unread",
                 (long long)lo[0] - 1);
        CHECK(strstr(kx_reader_error(r), want) != NULL);
        if (!strstr(kx_reader_error(r), want)) printf("    error: %s\n", kx_reader_error(r));
        batch_destroy(&out);
        kx_reader_close(r);
    }
    batch_destroy(&in);
    kx_writer_close(w);
    kafka_broker_stop(kb);
}

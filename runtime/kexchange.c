/*
 * kexchange.c — the Kafka exchange (see kexchange.h for the contract, the
 * message format and the watermark rule).
 *
 * Writer. kx_write hashes the key columns of the live rows once
 * (hash_vector, as query.c), buckets the dense row indexes by partition with
 * a counting sort (stable: a partition's rows keep their order), and sizes
 * every row once (the bytes of its values). Each partition's rows are then
 * cut into chunks of about KX_MSG_BYTES and every chunk is encoded column by
 * column into one reused buffer, which librdkafka copies
 * (RD_KAFKA_MSG_F_COPY) into a message to that partition. The per-row
 * arrays (hashes, order, sizes, physical rows) grow with the largest batch
 * seen and are kept: nothing is allocated per row or per call in steady
 * state.
 *
 * Reader. Partitions are indexed by their Kafka id (0 … P-1): a partition
 * keeps the same slot each time it comes back. A message is checked whole
 * when it arrives (check_rows also records where each column's NULL bitmap
 * and values start); its rows are then decoded from per-column cursors into
 * the caller's batch, as many as fit, so a message larger than the batch is
 * returned over several kx_read calls (`cur`). Control records are applied
 * when reached, never ahead of the rows before them. The rebalance callback
 * runs inside rd_kafka_consumer_poll (and rd_kafka_consumer_close), on the
 * caller's thread; when it runs, no message is half returned (kx_read polls
 * only with cur == NULL), but it drops cur anyway if its partition left.
 *
 * Order of this file: types, helpers (encoding, errors, configuration),
 * writer, reader.
 */
#include "runtime/kexchange.h"

#include <librdkafka/rdkafka.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec/hash.h"
#include "runtime/connectors/kafka.h"
#include "exec/vector.h"
#include "runtime/query.h"

_Static_assert(WATERMARK_MIN == INT64_MIN && WATERMARK_MAX == INT64_MAX,
               "kexchange.h documents the watermark bounds as INT64_MIN / INT64_MAX");

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_MSGS_PER_READ  4096             /* messages one kx_read takes at most      */
#define MAX_WM_SLOTS       (1 << 24)        /* P * norigins watermark slots, at most  */
#define NO_BITMAP          ((size_t)-1)

/* ---- types ------------------------------------------------------------------------ */

struct KxWriter {
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    char             *topic;
    int               nparts;       /* P                                          */
    int               ncols;
    SqlType          *types;
    uint64_t          fp;
    uint64_t          id;           /* writer id, carried by every message        */
    uint64_t          seg;          /* the open segment (>= 1)                    */
    int               cap;          /* rows the per-row arrays hold               */
    uint64_t         *hashes;       /* cap: key hash of each live row (dense)     */
    uint32_t         *order;        /* cap: dense row indexes grouped by partition */
    uint32_t         *phys;         /* cap: physical rows of the chunk encoded    */
    size_t           *rsize;        /* cap: value bytes of each live row          */
    int              *start;        /* P + 1: partition p's rows are order[start[p] … start[p+1]) */
    uint8_t          *buf;          /* the message being encoded                  */
    size_t            bufcap;
    int64_t          *owm;          /* ocap: per origin, the watermark to publish at
                                       the next seal (INT64_MAX: its end)           */
    int64_t          *osent;        /* ocap: per origin, the last one written (this id),
                                       INT64_MIN none                               */
    int              *odirty;       /* ndirty origins noted since the last seal   */
    uint8_t          *oin;          /* ocap: origin is in odirty                  */
    int               ocap, ndirty;
    int64_t           failed;       /* deliveries that failed                     */
    char              first_fail[256];
    char              fatal[256];   /* a fatal producer error, or ""              */
    char              err[512];     /* kx_writer_error                            */
    char              warn[256];    /* the last transport problem (kx_writer_warning) */
    int             (*stopped)(void *); /* kx_writer_set_interrupt, or NULL         */
    void             *stop_ctx;
};

/* A message of a segment not committed yet (held), or committed and waiting
 * its turn (ready): a node of a writer's held list or of the ready queue. */
typedef struct KxHeld {
    rd_kafka_message_t *m;
    uint64_t            seg;
    struct KxHeld      *next;
} KxHeld;

/* What the reader of one partition knows of one writer. */
typedef struct KxWState {
    uint64_t id;
    uint64_t committed;   /* its segments <= committed are committed                */
    int      fenced;      /* resolved by another writer: nothing more of it applies */
    KxHeld  *head, *tail; /* its messages of later segments, in offset order        */
} KxWState;

typedef struct KxPart {
    int       owned;   /* assigned to this reader now                                 */
    int64_t   next;    /* offset after the last message polled, -1 none               */
    int64_t   min;     /* min over origins of wm[]                                    */
    int64_t  *wm;      /* norigins: last watermark per origin (INT64_MAX once ended)  */
    KxWState *ws;      /* the writers heard of in this partition                      */
    int       nws, capws;
    char      meta[KX_META_MAX]; /* the group's offset metadata when it was assigned, "" */
    int       revoking;/* revoked by the group, held until kx_reader_release          */
    int64_t  *ctl;     /* norigins: offset of the last 'W'/'E' applied per origin, -1 */
    int64_t   from;    /* replay: where a replay of it starts (-1: the beginning)      */
    int64_t   applied; /* replay: rows released by a message before this offset were
                          applied already (a restored state has them): dropped, -1 none */
    int64_t   expect;  /* the offset the next message must have, -1 unknown: a later
                          one means records were deleted unread (see take_message)   */
    int       held;    /* hold: rewound, and kx_reader_position is still hfrom,
                          happlied — what the owner's state holds (kx_reader_hold)  */
    int64_t   hfrom, happlied;
} KxPart;

struct KxReader {
    rd_kafka_t         *rk;
    rd_kafka_t         *led;        /* spec->ledger: a standalone consumer of that group;
                                       NULL: metadata goes with rk's own offsets       */
    char               *topic;
    int                 nparts;     /* P                                          */
    int                 ncols;
    int                 norigins;
    SqlType            *types;
    uint64_t            fp;
    KxPart             *parts;      /* P, by Kafka partition id                   */
    int64_t            *wms;        /* P * norigins                               */
    int64_t            *ctls;       /* P * norigins (KxPart.ctl)                  */
    int                 nassigned;
    KxHeld             *ready, *ready_tail;   /* committed messages, in the order to apply */
    int                 replay;     /* every assignment change rewinds to the beginning */
    KxHandoffFn         handoff;    /* metadata committed for partitions given away   */
    void               *handoff_ctx;
    int                 defer;      /* revocations wait for kx_reader_release          */
    int                 hold;       /* a rewind keeps the positions (kx_reader_hold)   */
    int                 test_fail_offsets; /* test seam: the next N offset fetches fail */
    int                 closing;    /* in kx_reader_close: nothing waits               */
    int                 assigned;   /* on_rebalance has seen an assignment             */
    int                 nrevoking;  /* partitions revoked, not released yet            */
    int64_t             generation; /* assignment changes so far                   */
    int64_t             nheld;      /* messages held or ready (kx_reader_pending)  */
    int64_t             dropped;    /* rows messages dropped as applied already     */
    rd_kafka_message_t *cur;        /* rows message being returned, or NULL       */
    uint32_t            cur_n;      /* its rows                                   */
    uint32_t            cur_row;    /* rows of it returned so far                 */
    size_t             *col_bm;     /* ncols: offset of the NULL bitmap, NO_BITMAP */
    size_t             *col_pos;    /* ncols: offset of the next value            */
    int                 failed;
    char                err[512];   /* kx_reader_error                            */
    char                warn[256];  /* the last transient problem (kx_reader_warning) */
};

/* ---- helpers ---------------------------------------------------------------------- */

static void drop_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

static int errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int errf(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A writer id nobody else uses: 64 bits from the kernel (time and pid mixed
 * in should that fail), never 0. */
static uint64_t random_id(void)
{
    uint64_t x = 0;
    FILE    *f = fopen("/dev/urandom", "rb");
    if (f) {
        if (fread(&x, sizeof x, 1, f) != 1) x = 0;
        fclose(f);
    }
    if (!x) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        x = ((uint64_t)t.tv_sec * 1000000007ULL) ^ (uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 32);
        x ^= x >> 33, x *= 0xff51afd7ed558ccdULL, x ^= x >> 33;
    }
    return x ? x : 1;
}

static inline uint64_t zigzag(int64_t x)
{
    return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static inline int64_t unzigzag(uint64_t u)
{
    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static inline size_t varint_len(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

static inline uint8_t *put_varint(uint8_t *q, uint64_t x)
{
    while (x >= 0x80) {
        *q++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *q++ = (uint8_t)x;
    return q;
}

static inline uint8_t *put_u64(uint8_t *q, uint64_t x)
{
    for (int i = 0; i < 8; i++) q[i] = (uint8_t)(x >> (8 * i));
    return q + 8;
}

static inline uint64_t get_u64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 0; i < 8; i++) x |= (uint64_t)p[i] << (8 * i);
    return x;
}

/* Read a varint at *at (< len); 0, or -1 when it runs past len or is longer
 * than 10 bytes / above 64 bits. Unchecked twin below for validated data. */
static inline int get_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *out)
{
    uint64_t x = 0;
    size_t   i = *at;
    for (int shift = 0; shift < 70; shift += 7) {
        if (i >= len) return -1;
        uint8_t c = p[i++];
        if (shift == 63 && c > 1) return -1;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *at = i;
            *out = x;
            return 0;
        }
    }
    return -1;
}

static inline uint64_t varint_unchecked(const uint8_t *p, size_t *at)
{
    uint64_t x = 0;
    size_t   i = *at;
    for (int shift = 0;; shift += 7) {
        uint8_t c = p[i++];
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) break;
    }
    *at = i;
    return x;
}

static inline int bit_is_set(const uint8_t *bm, uint32_t i)
{
    return (bm[i >> 3] >> (i & 7)) & 1;
}

static uint8_t *put_header(uint8_t *q, int kind, const KxWriter *w)
{
    *q++ = KX_VERSION;
    *q++ = (uint8_t)kind;
    q = put_u64(q, w->fp);
    q = put_u64(q, w->id);
    return put_u64(q, w->seg);
}

/* The spec's checks shared by both sides. 0, or -1 with err. */
static int check_spec(const KxSpec *spec, char *err, size_t cap)
{
    if (!spec) return errf(err, cap, "kexchange: no spec");
    if (!spec->bootstrap || !*spec->bootstrap)
        return errf(err, cap, "kexchange: bootstrap servers are required");
    if (!spec->topic || !*spec->topic || strlen(spec->topic) > 249)
        return errf(err, cap, "kexchange: the topic name must be 1 … 249 bytes");
    if (spec->partitions < 1 || spec->partitions > KX_MAX_PARTITIONS)
        return errf(err, cap, "kexchange: partitions must be 1 … %d; got %d", KX_MAX_PARTITIONS,
                    spec->partitions);
    if (spec->ncols < 1 || !spec->types)
        return errf(err, cap, "kexchange: an exchange needs at least one column");
    for (int c = 0; c < spec->ncols; c++)
        if ((int)spec->types[c] < 0 || (int)spec->types[c] >= SQL_TYPE_COUNT)
            return errf(err, cap, "kexchange: column %d has an unknown type (%d)", c,
                        (int)spec->types[c]);
    if (spec->nprops < 0 || (spec->nprops > 0 && (!spec->prop_keys || !spec->prop_values)))
        return errf(err, cap, "kexchange: bad property list");
    return 0;
}

static SqlType *copy_types(const KxSpec *spec)
{
    SqlType *t = malloc((size_t)spec->ncols * sizeof *t);
    if (t) memcpy(t, spec->types, (size_t)spec->ncols * sizeof *t);
    return t;
}

/* bootstrap.servers, then our defaults (names/values), then the spec's
 * properties, which override the defaults. NULL with err. */
static rd_kafka_conf_t *make_conf(const KxSpec *spec, void *opaque, const char *const *names,
                                  const char *const *values, int ndef, char *err, size_t cap)
{
    char             errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        errf(err, cap, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, drop_log);
    rd_kafka_conf_set_opaque(conf, opaque);
    if (rd_kafka_conf_set(conf, "bootstrap.servers", spec->bootstrap, errstr, sizeof errstr)) {
        errf(err, cap, "kexchange: bootstrap.servers: %s", errstr);
        goto fail;
    }
    for (int i = 0; i < ndef; i++)
        if (rd_kafka_conf_set(conf, names[i], values[i], errstr, sizeof errstr)) {
            errf(err, cap, "kexchange: property '%s': %s", names[i], errstr);
            goto fail;
        }
    for (int i = 0; i < spec->nprops; i++) {
        const char *k = spec->prop_keys[i], *v = spec->prop_values[i];
        if (!k || !*k) {
            errf(err, cap, "kexchange: a property has no name");
            goto fail;
        }
        if (rd_kafka_conf_set(conf, k, v ? v : "", errstr, sizeof errstr)) {
            errf(err, cap, "kexchange: property '%s': %s", k, errstr);
            goto fail;
        }
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* ---- writer ----------------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    KxWriter *w = opaque;
    if (!m->err || w->failed++ > 0) return;
    snprintf(w->first_fail, sizeof w->first_fail, "partition %d: %s", (int)m->partition,
             rd_kafka_err2str(m->err));
}

static void on_writer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    KxWriter *w = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        if (!w->fatal[0]) {
            char why[200];
            rd_kafka_fatal_error(rk, why, sizeof why);
            snprintf(w->fatal, sizeof w->fatal, "%s", why);
        }
        return;
    }
    snprintf(w->warn, sizeof w->warn, "%s", reason);   /* librdkafka retries; messages wait */
}

/* -1 with w->err when the producer failed (a delivery or a fatal error). */
static int writer_failed(KxWriter *w)
{
    if (w->fatal[0])
        return errf(w->err, sizeof w->err, "kexchange: the producer for topic '%s' failed: %s",
                    w->topic, w->fatal);
    if (w->failed)
        return errf(w->err, sizeof w->err,
                    "kexchange: %lld message(s) to topic '%s' could not be delivered (%s)",
                    (long long)w->failed, w->topic, w->first_fail);
    return 0;
}

/* The topic's partition count from the cluster's metadata (all topics: a
 * request naming the topic would let the broker auto-create it with its
 * default count). 1 with *n, 0 = no such topic (yet), -1 with err. */
static int topic_partitions(rd_kafka_t *rk, const char *topic, const char *bootstrap, int timeout_ms,
                            int *n, char *err, size_t cap)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t             e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e)
        return errf(err, cap, "kexchange: no metadata from the cluster at %s: %s", bootstrap,
                    rd_kafka_err2str(e));
    int found = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (strcmp(t->topic, topic) != 0) continue;
        if (t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || t->partition_cnt <= 0) break;
        *n = t->partition_cnt;
        found = 1;
        break;
    }
    rd_kafka_metadata_destroy(md);
    return found;
}

/* CreateTopics(topic, P, the broker's replication factor); "already exists"
 * is success. 0, or -1 with err. */
static int create_topic(rd_kafka_t *rk, const char *topic, int nparts, int compact, int timeout_ms,
                        char *err, size_t cap)
{
    char                     errstr[512];
    int                      rc = -1;
    rd_kafka_NewTopic_t     *nt = rd_kafka_NewTopic_new(topic, nparts, -1, errstr, sizeof errstr);
    rd_kafka_queue_t        *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *ao = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (!nt || !q || !ao) {
        errf(err, cap, "kexchange: cannot create topic '%s': %s", topic, nt ? "out of memory" : errstr);
        goto out;
    }
    if (compact && rd_kafka_NewTopic_set_config(nt, "cleanup.policy", "compact")) {
        errf(err, cap, "kexchange: cannot create topic '%s': out of memory", topic);
        goto out;
    }
    rd_kafka_AdminOptions_set_request_timeout(ao, timeout_ms, errstr, sizeof errstr);
    rd_kafka_AdminOptions_set_operation_timeout(ao, timeout_ms, errstr, sizeof errstr);
    rd_kafka_CreateTopics(rk, &nt, 1, ao, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 2000);
    if (!ev) {
        errf(err, cap, "kexchange: cannot create topic '%s' (%d partitions): no answer within %d ms",
             topic, nparts, timeout_ms);
        goto out;
    }
    const char *why = NULL;
    if (rd_kafka_event_error(ev)) {
        why = rd_kafka_event_error_string(ev);
    } else {
        const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
        size_t                                nres = 0;
        const rd_kafka_topic_result_t       **tr = res ? rd_kafka_CreateTopics_result_topics(res, &nres) : NULL;
        for (size_t i = 0; i < nres; i++) {
            rd_kafka_resp_err_t te = rd_kafka_topic_result_error(tr[i]);
            if (te && te != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                why = rd_kafka_topic_result_error_string(tr[i]);
                if (!why || !*why) why = rd_kafka_err2str(te);
            }
        }
    }
    if (why)
        errf(err, cap, "kexchange: cannot create topic '%s' (%d partitions): %s (create it "
                       "beforehand if the cluster does not serve CreateTopics)",
             topic, nparts, why);
    else
        rc = 0;
    rd_kafka_event_destroy(ev);
out:
    if (ao) rd_kafka_AdminOptions_destroy(ao);
    if (q) rd_kafka_queue_destroy(q);
    if (nt) rd_kafka_NewTopic_destroy(nt);
    return rc;
}

/* The topic exists with P partitions (created if it was missing; compacted
 * when compact). 0 or -1. */
static int ensure_topic(rd_kafka_t *rk, const char *topic, int nparts, int compact, const KxSpec *spec,
                        char *err, size_t cap)
{
    int timeout = spec->timeout_ms > 0 ? spec->timeout_ms : DEFAULT_TIMEOUT_MS;
    int n = 0, rc = topic_partitions(rk, topic, spec->bootstrap, timeout, &n, err, cap);
    if (rc < 0) return -1;
    if (rc == 0) {
        if (create_topic(rk, topic, nparts, compact, timeout, err, cap)) return -1;
        int64_t deadline = mono_ms() + timeout;
        for (;;) {   /* until the metadata shows it */
            rc = topic_partitions(rk, topic, spec->bootstrap, timeout, &n, err, cap);
            if (rc != 0) break;
            if (mono_ms() >= deadline)
                return errf(err, cap, "kexchange: topic '%s' was created but does not show in "
                                      "the metadata after %d ms", topic, timeout);
            sleep_ms(100);
        }
        if (rc < 0) return -1;
    }
    if (n != nparts)
        return errf(err, cap, "kexchange: topic '%s' has %d partitions, this exchange needs %d "
                              "(a topic of another query or parallelism: delete it, or use "
                              "another group name)", topic, n, nparts);
    return 0;
}

KxWriter *kx_writer_open(const KxSpec *spec, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (check_spec(spec, err, cap)) return NULL;
    KxWriter *w = calloc(1, sizeof *w);
    if (!w) {
        errf(err, cap, "out of memory");
        return NULL;
    }
    w->nparts = spec->partitions;
    w->ncols = spec->ncols;
    w->fp = spec->fingerprint;
    w->id = spec->writer_id ? spec->writer_id : random_id();
    w->seg = 1;
    w->topic = strdup(spec->topic);
    w->types = copy_types(spec);
    w->start = calloc((size_t)w->nparts + 1, sizeof *w->start);
    if (!w->topic || !w->types || !w->start) {
        errf(err, cap, "out of memory");
        goto fail;
    }
    static const char *const names[] = {"enable.idempotence", "linger.ms", "message.timeout.ms"};
    static const char *const values[] = {"true", "5", "0"};
    rd_kafka_conf_t *conf = make_conf(spec, w, names, values, 3, err, cap);
    if (!conf) goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_writer_error);
    char errstr[512];
    w->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!w->rk) {
        rd_kafka_conf_destroy(conf);
        errf(err, cap, "kexchange: %s", errstr);
        goto fail;
    }
    if (ensure_topic(w->rk, w->topic, w->nparts, 0, spec, err, cap)) goto fail;
    w->rkt = rd_kafka_topic_new(w->rk, w->topic, NULL);
    if (!w->rkt) {
        errf(err, cap, "kexchange: cannot make a handle for topic '%s': %s", w->topic,
             rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    return w;
fail:
    kx_writer_close(w);
    return NULL;
}

/* The per-row arrays hold n rows. 0 or -1 (w->err). */
static int writer_grow(KxWriter *w, int n)
{
    if (n <= w->cap) return 0;
    size_t    c = (size_t)(n > 2 * w->cap ? n : 2 * w->cap);
    uint64_t *h = realloc(w->hashes, c * sizeof *h);
    if (h) w->hashes = h;
    uint32_t *o = h ? realloc(w->order, c * sizeof *o) : NULL;
    if (o) w->order = o;
    uint32_t *ph = o ? realloc(w->phys, c * sizeof *ph) : NULL;
    if (ph) w->phys = ph;
    size_t *rs = ph ? realloc(w->rsize, c * sizeof *rs) : NULL;
    if (rs) w->rsize = rs;
    if (!rs) return errf(w->err, sizeof w->err, "out of memory");
    w->cap = (int)c;
    return 0;
}

static int writer_reserve(KxWriter *w, size_t n)
{
    if (n <= w->bufcap) return 0;
    size_t   c = n > 2 * w->bufcap ? n : 2 * w->bufcap;
    uint8_t *b = realloc(w->buf, c);
    if (!b) return errf(w->err, sizeof w->err, "out of memory");
    w->buf = b;
    w->bufcap = c;
    return 0;
}

/* rsize[i] += the bytes of live row i's value in v (0 for NULL). */
static void add_value_sizes(const Vector *v, const uint32_t *sel, int n, size_t *rsize)
{
    if (v->type == TYPE_NULL) return;
    int konst = vector_is_constant(v);
    for (int i = 0; i < n; i++) {
        int s = konst ? 0 : (sel ? (int)sel[i] : i);
        if (!vector_validity_get(v->validity, s)) continue;
        switch (v->type) {
        case TYPE_BOOLEAN: rsize[i] += 1; break;
        case TYPE_DOUBLE: rsize[i] += 8; break;
        case TYPE_VARCHAR: {
            uint32_t len = vector_str(v)[s].len;
            rsize[i] += varint_len(len) + len;
            break;
        }
        default: rsize[i] += varint_len(zigzag(vector_i64(v)[s])); break;
        }
    }
}

/* Bytes a rows message of m rows needs besides its values. */
static size_t rows_overhead(const KxWriter *w, size_t m)
{
    return KX_HEADER_BYTES + 10 + (size_t)w->ncols * (1 + (m + 7) / 8);
}

/* Encode physical rows phys[0..m) of b's columns after q; the end. The
 * buffer is large enough (rows_overhead + the rows' sizes). */
static uint8_t *encode_columns(const KxWriter *w, const Batch *b, const uint32_t *phys, uint32_t m,
                               uint8_t *q)
{
    for (int c = 0; c < w->ncols; c++) {
        const Vector *v = &b->cols[c];
        if (v->type == TYPE_NULL) continue;
        int      konst = vector_is_constant(v);
        uint8_t *bm = NULL;
        if (v->validity) {
            for (uint32_t j = 0; j < m && !bm; j++)
                if (!vector_validity_get(v->validity, konst ? 0 : (int)phys[j])) bm = q + 1;
        }
        *q++ = bm ? 1 : 0;
        if (bm) {
            memset(bm, 0, (m + 7) / 8);
            for (uint32_t j = 0; j < m; j++)
                if (!vector_validity_get(v->validity, konst ? 0 : (int)phys[j]))
                    bm[j >> 3] |= (uint8_t)(1u << (j & 7));
            q += (m + 7) / 8;
        }
#define EACH_VALUE(stmt)                                                \
    for (uint32_t j = 0; j < m; j++) {                                  \
        if (bm && bit_is_set(bm, j)) continue;                          \
        int s = konst ? 0 : (int)phys[j];                               \
        stmt;                                                           \
    }
        switch (v->type) {
        case TYPE_BOOLEAN: {
            const uint8_t *x = vector_bool(v);
            EACH_VALUE(*q++ = x[s] ? 1 : 0);
            break;
        }
        case TYPE_DOUBLE: {
            const double *x = vector_f64(v);
            EACH_VALUE({
                uint64_t bits;
                memcpy(&bits, &x[s], 8);
                q = put_u64(q, bits);
            });
            break;
        }
        case TYPE_VARCHAR: {
            const Str *x = vector_str(v);
            EACH_VALUE({
                q = put_varint(q, x[s].len);
                if (x[s].len) memcpy(q, x[s].ptr, x[s].len);
                q += x[s].len;
            });
            break;
        }
        default: {
            const int64_t *x = vector_i64(v);
            EACH_VALUE(q = put_varint(q, zigzag(x[s])));
            break;
        }
        }
#undef EACH_VALUE
    }
    return q;
}

/* Queue one message to partition p (librdkafka copies it); waits while the
 * queue is full. 0 or -1 (w->err). */
static int produce(KxWriter *w, int p, const uint8_t *buf, size_t len)
{
    rd_kafka_poll(w->rk, 0);
    if (writer_failed(w)) return -1;
    for (;;) {
        if (rd_kafka_produce(w->rkt, p, RD_KAFKA_MSG_F_COPY, (void *)buf, len, NULL, 0, NULL) == 0)
            return 0;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return errf(w->err, sizeof w->err,
                        "kexchange: cannot produce a message of %zu bytes to topic '%s' "
                        "partition %d: %s", len, w->topic, p, rd_kafka_err2str(e));
        rd_kafka_poll(w->rk, 100);   /* backpressure: wait for deliveries */
        if (writer_failed(w)) return -1;
        if (w->stopped && w->stopped(w->stop_ctx))   /* (its segment never commits) */
            return errf(w->err, sizeof w->err,
                        "kexchange: stopped while %d message(s) to topic '%s' waited for a broker%s%s",
                        rd_kafka_outq_len(w->rk), w->topic, w->warn[0] ? ": " : "", w->warn);
    }
}

void kx_writer_set_interrupt(KxWriter *w, int (*stopped)(void *ctx), void *ctx)
{
    w->stopped = stopped;
    w->stop_ctx = ctx;
}

static int check_batch(KxWriter *w, const Batch *b, const int *key_cols, int nkeys)
{
    if (!b || b->ncols != w->ncols)
        return errf(w->err, sizeof w->err, "kexchange: a batch of %d columns for an exchange of %d",
                    b ? b->ncols : 0, w->ncols);
    for (int c = 0; c < w->ncols; c++)
        if (b->cols[c].type != w->types[c])
            return errf(w->err, sizeof w->err, "kexchange: column %d is %s, the exchange has %s", c,
                        sql_type_name(b->cols[c].type), sql_type_name(w->types[c]));
    if (nkeys < 0 || (nkeys > 0 && !key_cols))
        return errf(w->err, sizeof w->err, "kexchange: bad key list");
    for (int k = 0; k < nkeys; k++)
        if (key_cols[k] < 0 || key_cols[k] >= w->ncols)
            return errf(w->err, sizeof w->err, "kexchange: key column %d out of range", key_cols[k]);
    return 0;
}

int kx_write(KxWriter *w, const Batch *b, const int *key_cols, int nkeys)
{
    w->err[0] = 0;
    if (writer_failed(w) || check_batch(w, b, key_cols, nkeys)) return -1;
    int n = b->count;
    if (n <= 0) return 0;
    if (writer_grow(w, n)) return -1;
    const uint32_t *sel = b->sel;
    int             P = w->nparts;

    /* bucket the live rows by partition (counting sort, stable) */
    for (int p = 0; p <= P; p++) w->start[p] = 0;
    if (nkeys > 0 && P > 1) {
        for (int k = 0; k < nkeys; k++) hash_vector(&b->cols[key_cols[k]], sel, n, w->hashes, k > 0);
        for (int i = 0; i < n; i++) w->start[kx_partition_of(w->hashes[i], P) + 1]++;
        for (int p = 0; p < P; p++) w->start[p + 1] += w->start[p];
        for (int i = 0; i < n; i++) w->order[w->start[kx_partition_of(w->hashes[i], P)]++] = (uint32_t)i;
        for (int p = P; p > 0; p--) w->start[p] = w->start[p - 1];   /* back to the starts */
        w->start[0] = 0;
    } else {
        for (int i = 0; i < n; i++) w->order[i] = (uint32_t)i;
        for (int p = 1; p <= P; p++) w->start[p] = n;
    }

    /* value bytes of every live row */
    memset(w->rsize, 0, (size_t)n * sizeof *w->rsize);
    for (int c = 0; c < w->ncols; c++) add_value_sizes(&b->cols[c], sel, n, w->rsize);

    /* each partition's rows, in chunks of about KX_MSG_BYTES */
    for (int p = 0; p < P; p++) {
        for (int i = w->start[p], end = w->start[p + 1]; i < end;) {
            size_t bytes = 0;
            int    j = i;
            while (j < end && j - i < KX_MAX_ROWS_PER_MSG) {
                size_t add = w->rsize[w->order[j]];
                if (j > i && rows_overhead(w, (size_t)(j - i + 1)) + bytes + add > KX_MSG_BYTES) break;
                bytes += add;
                j++;
            }
            uint32_t m = (uint32_t)(j - i);
            if (writer_reserve(w, rows_overhead(w, m) + bytes)) return -1;
            for (uint32_t k = 0; k < m; k++) {
                uint32_t d = w->order[i + (int)k];
                w->phys[k] = sel ? sel[d] : d;
            }
            uint8_t *q = put_header(w->buf, KX_KIND_ROWS, w);
            q = put_varint(q, m);
            q = encode_columns(w, b, w->phys, m, q);
            if (produce(w, p, w->buf, (size_t)(q - w->buf))) return -1;
            i = j;
        }
    }
    return 0;
}

/* Note origin's watermark (INT64_MAX: its end) for the next seal: only the
 * last one of a segment matters (a reader applies a segment's messages
 * when it is committed), so one 'M' record per partition and seal carries
 * every origin that changed — not a record per origin and advance, which
 * filled the topic of a lagging reader (docs/scaling.md). 0 or -1. */
static int note_watermark(KxWriter *w, int origin, int64_t wm)
{
    w->err[0] = 0;
    if (writer_failed(w)) return -1;
    if (origin < 0)
        return errf(w->err, sizeof w->err, "kexchange: origin %d is negative", origin);
    if (origin >= KX_MAX_ORIGINS)
        return errf(w->err, sizeof w->err, "kexchange: origin %d is past the limit of %d", origin,
                    KX_MAX_ORIGINS);
    if (origin >= w->ocap) {
        int      nc = w->ocap ? w->ocap : 16;
        while (nc <= origin) nc *= 2;
        int64_t *a = realloc(w->owm, (size_t)nc * sizeof *a);
        if (a) w->owm = a;
        int64_t *b = a ? realloc(w->osent, (size_t)nc * sizeof *b) : NULL;
        if (b) w->osent = b;
        int *d = b ? realloc(w->odirty, (size_t)nc * sizeof *d) : NULL;
        if (d) w->odirty = d;
        uint8_t *in = d ? realloc(w->oin, (size_t)nc) : NULL;
        if (in) w->oin = in;
        if (!in) return errf(w->err, sizeof w->err, "out of memory");
        for (int o = w->ocap; o < nc; o++) w->owm[o] = w->osent[o] = INT64_MIN, w->oin[o] = 0;
        w->ocap = nc;
    }
    w->owm[origin] = wm;
    if (!w->oin[origin]) w->oin[origin] = 1, w->odirty[w->ndirty++] = origin;
    return 0;
}

int kx_write_watermark(KxWriter *w, int origin, int64_t wm)
{
    return note_watermark(w, origin, wm);
}

int kx_write_end(KxWriter *w, int origin)
{
    return note_watermark(w, origin, INT64_MAX);
}

/* The noted watermarks that changed, as 'M' records (chunks of
 * KX_PAIRS_PER_MSG pairs) to every partition, in the open segment. 0 or -1. */
static int write_watermarks(KxWriter *w)
{
    int n = 0;   /* those noted that changed */
    for (int i = 0; i < w->ndirty; i++) {
        int o = w->odirty[i];
        w->oin[o] = 0;
        if (w->owm[o] != w->osent[o]) w->odirty[n++] = o;
    }
    w->ndirty = n;
    for (int i = 0; i < w->ndirty; i += KX_PAIRS_PER_MSG) {
        int k = w->ndirty - i < KX_PAIRS_PER_MSG ? w->ndirty - i : KX_PAIRS_PER_MSG;
        if (writer_reserve(w, KX_HEADER_BYTES + 10 + (size_t)k * 20)) return -1;
        uint8_t *q = put_header(w->buf, KX_KIND_WATERMARKS, w);
        q = put_varint(q, (uint64_t)k);
        for (int j = i; j < i + k; j++) {
            q = put_varint(q, (uint64_t)w->odirty[j]);
            q = put_varint(q, zigzag(w->owm[w->odirty[j]]));
        }
        for (int p = 0; p < w->nparts; p++)
            if (produce(w, p, w->buf, (size_t)(q - w->buf))) return -1;
    }
    for (int i = 0; i < w->ndirty; i++) w->osent[w->odirty[i]] = w->owm[w->odirty[i]];
    w->ndirty = 0;
    return 0;
}

uint64_t kx_writer_id(const KxWriter *w)
{
    return w->id;
}

uint64_t kx_writer_segment(const KxWriter *w)
{
    return w->seg;
}

uint64_t kx_writer_renew(KxWriter *w)
{
    uint64_t old = w->id;
    do w->id = random_id();
    while (w->id == old);
    w->seg = 1;
    /* what was noted goes with the abandoned segment; the new id has
     * published nothing yet */
    for (int o = 0; o < w->ocap; o++) w->owm[o] = w->osent[o] = INT64_MIN, w->oin[o] = 0;
    w->ndirty = 0;
    return old;
}

uint64_t kx_seal(KxWriter *w)
{
    w->err[0] = 0;
    if (writer_failed(w) || write_watermarks(w)) return 0;
    return w->seg++;
}

/* A 'C', 'S' or 'K' marker (header: this writer, its open segment) with two u64
 * arguments, to every partition. */
static int write_marker(KxWriter *w, int kind, uint64_t a, uint64_t b)
{
    w->err[0] = 0;
    if (writer_failed(w)) return -1;
    uint8_t  msg[KX_HEADER_BYTES + 16];
    uint8_t *q = put_header(msg, kind, w);
    q = put_u64(q, a);
    q = put_u64(q, b);
    for (int p = 0; p < w->nparts; p++)
        if (produce(w, p, msg, (size_t)(q - msg))) return -1;
    return 0;
}

int kx_commit_through(KxWriter *w, uint64_t seg)
{
    if (seg == 0 || seg >= w->seg)
        return errf(w->err, sizeof w->err, "kexchange: cannot commit segment %llu: segments 1 … %llu "
                                           "are sealed", (unsigned long long)seg,
                    (unsigned long long)(w->seg - 1));
    return write_marker(w, KX_KIND_COMMIT, seg, 0);
}

/* An 'S' or 'K' marker about another writer (what: the caller's name). */
static int other_marker(KxWriter *w, int kind, const char *what, uint64_t writer, uint64_t seg)
{
    if (writer == 0 || writer == w->id)
        return errf(w->err, sizeof w->err, "kexchange: %s of writer %016llx: not another writer", what,
                    (unsigned long long)writer);
    return write_marker(w, kind, writer, seg);
}

int kx_resolve(KxWriter *w, uint64_t writer, uint64_t seg)
{
    return other_marker(w, KX_KIND_RESOLVE, "kx_resolve", writer, seg);
}

int kx_confirm(KxWriter *w, uint64_t writer, uint64_t seg)
{
    return other_marker(w, KX_KIND_CONFIRM, "kx_confirm", writer, seg);
}

int kx_commit_meta(uint64_t writer, uint64_t seg, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "kx1 %016llx %llu", (unsigned long long)writer, (unsigned long long)seg);
    return n > 0 && (size_t)n < cap ? n : -1;
}

int kx_parse_commit_meta_list(const char *s, size_t n, uint64_t *writers, uint64_t *segs, int cap)
{
    if (!s || n < 4 || memcmp(s, "kx1 ", 4) != 0) return -1;
    size_t at = 4;
    int    k = 0;
    while (at < n) {
        if (k > 0) {   /* pairs are separated by one space */
            if (s[at] != ' ') return -1;
            at++;
        }
        uint64_t w = 0, v = 0;
        for (int i = 0; i < 16; i++, at++) {
            if (at >= n || !isxdigit((unsigned char)s[at])) return -1;
            int c = (unsigned char)s[at];
            w = w << 4 | (uint64_t)(isdigit(c) ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        if (at >= n || s[at++] != ' ' || at >= n || !isdigit((unsigned char)s[at])) return -1;
        int digits = 0;
        while (at < n && isdigit((unsigned char)s[at])) {
            if (++digits > 19) return -1;
            v = v * 10 + (uint64_t)(s[at++] - '0');
        }
        if (w == 0) return -1;
        if (k < cap) writers[k] = w, segs[k] = v;
        k++;
    }
    return k > 0 ? k : -1;
}

int kx_parse_commit_meta(const char *s, size_t n, uint64_t *writer, uint64_t *seg)
{
    uint64_t w[1], v[1];
    if (kx_parse_commit_meta_list(s, n, w, v, 1) != 1) return -1;
    *writer = w[0];
    *seg = v[0];
    return 0;
}

int kx_flush(KxWriter *w, int timeout_ms)
{
    w->err[0] = 0;
    int64_t left = timeout_ms > 0 ? timeout_ms : 0;
    for (;;) {   /* in slices, so that a failure ends the wait at once */
        int                 slice = left < 100 ? (int)left : 100;
        rd_kafka_resp_err_t e = rd_kafka_flush(w->rk, slice);
        if (writer_failed(w)) return -1;
        if (!e) return 0;
        left -= slice;
        if (left <= 0) return 1;
    }
}

int kx_writer_outstanding(const KxWriter *w)
{
    return rd_kafka_outq_len(w->rk);
}

const char *kx_writer_error(const KxWriter *w)
{
    return w->err;
}

const char *kx_writer_warning(const KxWriter *w)
{
    return w->warn;
}

void kx_writer_close(KxWriter *w)
{
    if (!w) return;
    if (w->rkt) rd_kafka_topic_destroy(w->rkt);
    if (w->rk) {   /* what was not flushed is dropped, not waited for */
        rd_kafka_purge(w->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(w->rk);
    }
    free(w->hashes);
    free(w->order);
    free(w->phys);
    free(w->rsize);
    free(w->start);
    free(w->owm);
    free(w->osent);
    free(w->odirty);
    free(w->oin);
    free(w->buf);
    free(w->types);
    free(w->topic);
    free(w);
}

/* ---- reader ----------------------------------------------------------------------- */

static int reader_fail(KxReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int reader_fail(KxReader *r, const char *fmt, ...)
{
    if (!r->failed) {   /* the first failure is the one to report */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, sizeof r->err, fmt, ap);
        va_end(ap);
    }
    r->failed = 1;
    return -1;
}

static void part_recompute(const KxReader *r, KxPart *p)
{
    int64_t m = INT64_MAX;
    for (int o = 0; o < r->norigins; o++)
        if (p->wm[o] < m) m = p->wm[o];
    p->min = m;
}

static void held_free_list(KxReader *r, KxHeld *h)
{
    while (h) {
        KxHeld *n = h->next;
        rd_kafka_message_destroy(h->m);
        free(h);
        r->nheld--;
        h = n;
    }
}

/* Forget what partition id held and knew of its writers. */
static void part_clear(KxReader *r, int id)
{
    KxPart *p = &r->parts[id];
    for (int i = 0; i < p->nws; i++) held_free_list(r, p->ws[i].head);
    p->nws = 0;
    KxHeld **at = &r->ready;   /* its ready messages */
    r->ready_tail = NULL;
    while (*at) {
        KxHeld *h = *at;
        if (h->m->partition == id) {
            *at = h->next;
            rd_kafka_message_destroy(h->m);
            free(h);
            r->nheld--;
        } else {
            r->ready_tail = h;
            at = &h->next;
        }
    }
    if (r->cur && r->cur->partition == id) {   /* its rest is the next owner's */
        rd_kafka_message_destroy(r->cur);
        r->cur = NULL;
    }
}

static void part_assign(KxReader *r, int id)
{
    KxPart *p = &r->parts[id];
    part_clear(r, id);
    if (!p->owned) r->nassigned++;
    p->owned = 1;
    p->next = -1;
    p->expect = -1;
    for (int o = 0; o < r->norigins; o++) p->wm[o] = INT64_MIN, p->ctl[o] = -1;
    p->min = INT64_MIN;
}

static void part_revoke(KxReader *r, int id)
{
    KxPart *p = &r->parts[id];
    if (p->owned) r->nassigned--;
    if (p->revoking) r->nrevoking--;
    p->owned = 0;
    p->revoking = 0;
    p->held = 0;
    part_clear(r, id);
}

static int64_t commit_offset(const KxReader *r, int id);
static int     do_rewind(KxReader *r);

/* The number after " <word> " in m (base 10, or 16 for hex), or -1 (a
 * missing word, no digits, a negative number, or one not ending at a space
 * or the end). */
static int64_t record_word(const char *m, const char *word, int hex, uint64_t *u)
{
    char key[16];
    snprintf(key, sizeof key, " %s ", word);
    const char *f = strstr(m, key);
    if (!f) return -1;
    f += strlen(key);
    char *end;
    if (hex) {
        if (!isxdigit((unsigned char)*f)) return -1;
        unsigned long long v = strtoull(f, &end, 16);
        if (*end && *end != ' ') return -1;
        *u = v;
        return 0;
    }
    long long v = strtoll(f, &end, 10);
    return end != f && (*end == 0 || *end == ' ') && v >= 0 ? (int64_t)v : -1;
}

void kx_record_parse(const char *m, KxRecord *r)
{
    *r = (KxRecord){0, 0, -1, -1, -1, -1, 0};
    long long v;
    int       used = 0;
    if (!m || strncmp(m, "kxwm ", 5) != 0 || sscanf(m + 5, "%lld%n", &v, &used) != 1 ||
        (m[5 + used] && m[5 + used] != ' '))
        return;
    r->has_wm = 1;
    r->wm = (int64_t)v;
    r->from = record_word(m, "from", 0, NULL);
    r->cl = record_word(m, "cl", 0, NULL);
    r->at = record_word(m, "at", 0, NULL);
    r->full = record_word(m, "full", 0, NULL);
    record_word(m, "by", 1, &r->by);
}

#define LEDGER_COMMIT_MS 5000   /* a ledger commit waits this long for its answer at most */

/* Commit l (offsets, metadata) through the ledger consumer and wait for
 * the answer, at most LEDGER_COMMIT_MS (a hang at exit otherwise: see
 * kafka_commit_wait). */
static rd_kafka_resp_err_t ledger_commit(KxReader *r, const rd_kafka_topic_partition_list_t *l)
{
    return kafka_commit_wait(r->led, l, LEDGER_COMMIT_MS);
}

/* Partitions about to be given away (revoked, not lost): commit them, now,
 * with the metadata the handoff callback gives — the next owner reads it
 * at its assignment. A failure is a warning. */
static void handoff(KxReader *r, rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(r->nparts);
    if (!c) return;
    for (int i = 0; i < (l ? l->cnt : r->nparts); i++) {
        int id = l ? l->elems[i].partition : i;
        if (id < 0 || id >= r->nparts || !r->parts[id].owned) continue;
        if (!l && r->nrevoking && !r->parts[id].revoking) continue;   /* a release: only those */
        char m[KX_META_MAX];
        m[0] = 0;
        r->handoff(r->handoff_ctx, id, m, sizeof m);
        if (!m[0]) continue;
        int64_t off = commit_offset(r, id);
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(c, r->topic, id);
        tp->offset = off >= 0 ? off : 0;
        tp->metadata = strdup(m);
        tp->metadata_size = tp->metadata ? strlen(m) : 0;
    }
    rd_kafka_resp_err_t e = !c->cnt ? RD_KAFKA_RESP_ERR_NO_ERROR
                            : r->led ? ledger_commit(r, c) : rd_kafka_commit(rk, c, 0);
    for (int i = 0; !e && i < c->cnt; i++)
        if (c->elems[i].err) e = c->elems[i].err;
    if (e)
        snprintf(r->warn, sizeof r->warn, "kexchange: handing partitions of '%s' over: %s", r->topic,
                 rd_kafka_err2str(e));
    rd_kafka_topic_partition_list_destroy(c);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                         void *opaque)
{
    KxReader           *r = opaque;
    const char         *proto = rd_kafka_rebalance_protocol(rk);   /* NULL while closing before the group formed */
    int                 coop = proto && strcmp(proto, "COOPERATIVE") == 0;
    rd_kafka_error_t   *e = NULL;
    rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (r->defer && !r->closing && coop && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS &&
        !rd_kafka_assignment_lost(rk)) {
        /* a live member gives these away: they stay read-only here until
         * the owner has made what it emitted of them durable and calls
         * kx_reader_release (the group waits for the unassign) */
        for (int i = 0; i < l->cnt; i++) {
            int32_t id = l->elems[i].partition;
            if (id < 0 || id >= r->nparts || !r->parts[id].owned || r->parts[id].revoking) continue;
            r->parts[id].revoking = 1;
            r->nrevoking++;
        }
        return;
    }
    /* a cooperative rebalance gives every member an assignment, most of
     * them empty: one that adds nothing changes nothing (a new generation
     * would have stage 1 start every partition over: query.c) */
    if (!(coop && err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS && l->cnt == 0 && r->assigned)) r->generation++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        r->assigned = 1;
        /* the metadata the group keeps with each partition's offset — asked
         * again while it does not answer (KAFKA_COMMITTED_TRIES times, 5 s
         * each at most, before going on without it): without it the
         * windows the previous owner emitted would be emitted again */
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
        rd_kafka_resp_err_t ce = c ? kafka_committed_retry(r->led ? r->led : rk, c, KAFKA_COMMITTED_TRIES, 5000,
                                                           &r->test_fail_offsets)
                                   : RD_KAFKA_RESP_ERR__TIMED_OUT;
        if (c && ce != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(r->warn, sizeof r->warn, "kexchange: committed offsets of topic '%s' unknown", r->topic);
            rd_kafka_topic_partition_list_destroy(c);
            c = NULL;
        }
        for (int i = 0; i < l->cnt; i++) {
            int32_t id = l->elems[i].partition;
            if (id < 0 || id >= r->nparts) {
                reader_fail(r, "kexchange: topic '%s' has partition %d, more than the %d "
                               "partitions of this exchange (a topic of another query or "
                               "parallelism, or auto-created by the broker)",
                            r->topic, (int)id, r->nparts);
                continue;
            }
            part_assign(r, id);
            KxPart *p = &r->parts[id];
            p->meta[0] = 0;
            if (c && c->elems[i].metadata && c->elems[i].metadata_size < sizeof p->meta) {
                memcpy(p->meta, c->elems[i].metadata, c->elems[i].metadata_size);
                p->meta[c->elems[i].metadata_size] = 0;
            }
            if (r->replay) {   /* from where the metadata says a replay may start */
                KxRecord rec;
                kx_record_parse(p->meta, &rec);
                p->from = rec.from;
                p->applied = rec.at;
                l->elems[i].offset = p->from >= 0 ? p->from : RD_KAFKA_OFFSET_BEGINNING;
                p->expect = p->from >= 0 ? p->from : 0;
            } else if (c && !r->led) {   /* the group's offset, else the beginning */
                p->expect = c->elems[i].offset >= 0 ? c->elems[i].offset : 0;
            }
        }
        if (c) rd_kafka_topic_partition_list_destroy(c);
        if (coop) e = rd_kafka_incremental_assign(rk, l);
        else re = rd_kafka_assign(rk, l);
    } else {   /* revoked (or lost), or an error: give up these (cooperative) / all (eager) */
        if (r->nrevoking)   /* lost, or closing, while a release was awaited: all go now */
            for (int id = 0; id < r->nparts; id++) {
                if (!r->parts[id].revoking) continue;
                r->parts[id].revoking = 0;
                r->nrevoking--;
                if (coop && rd_kafka_topic_partition_list_find(l, r->topic, id) == NULL)
                    rd_kafka_topic_partition_list_add(l, r->topic, id);
            }
        /* lost too: the member may still be accepted (it is alive), and
         * its emitted windows are then not emitted again */
        if (r->handoff && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) handoff(r, rk, coop ? l : NULL);
        if (coop && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            for (int i = 0; i < l->cnt; i++)
                if (l->elems[i].partition >= 0 && l->elems[i].partition < r->nparts)
                    part_revoke(r, l->elems[i].partition);
            e = rd_kafka_incremental_unassign(rk, l);
        } else {
            for (int id = 0; id < r->nparts; id++) part_revoke(r, id);
            re = rd_kafka_assign(rk, NULL);
        }
    }
    if (e) {
        reader_fail(r, "kexchange: rebalance of topic '%s': %s", r->topic, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (re) {
        reader_fail(r, "kexchange: rebalance of topic '%s': %s", r->topic, rd_kafka_err2str(re));
    }
}

static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *l,
                      void *opaque)
{
    (void)rk, (void)l;
    KxReader *r = opaque;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        snprintf(r->warn, sizeof r->warn, "committing offsets of topic '%s': %s", r->topic,
                 rd_kafka_err2str(err));
}

static void on_reader_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    KxReader *r = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[200];
        rd_kafka_fatal_error(rk, why, sizeof why);
        reader_fail(r, "kexchange: the consumer of topic '%s' failed: %s", r->topic, why);
        return;
    }
    snprintf(r->warn, sizeof r->warn, "%s", reason);   /* transient: librdkafka retries */
}

KxReader *kx_reader_open(const KxSpec *spec, const char *group, int norigins, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (check_spec(spec, err, cap)) return NULL;
    if (!group || !*group) {
        errf(err, cap, "kexchange: a reader needs a consumer group");
        return NULL;
    }
    if (norigins < 1 || norigins > KX_MAX_ORIGINS) {
        errf(err, cap, "kexchange: norigins must be 1 … %d; got %d", KX_MAX_ORIGINS, norigins);
        return NULL;
    }
    if ((int64_t)spec->partitions * norigins > MAX_WM_SLOTS) {
        errf(err, cap, "kexchange: %d partitions × %d origins is too many watermarks to keep",
             spec->partitions, norigins);
        return NULL;
    }
    KxReader *r = calloc(1, sizeof *r);
    if (!r) {
        errf(err, cap, "out of memory");
        return NULL;
    }
    r->nparts = spec->partitions;
    r->ncols = spec->ncols;
    r->norigins = norigins;
    r->fp = spec->fingerprint;
    r->replay = spec->replay;
    r->topic = strdup(spec->topic);
    r->types = copy_types(spec);
    r->parts = calloc((size_t)r->nparts, sizeof *r->parts);
    r->wms = malloc((size_t)r->nparts * (size_t)norigins * sizeof *r->wms);
    r->ctls = malloc((size_t)r->nparts * (size_t)norigins * sizeof *r->ctls);
    r->col_bm = calloc((size_t)r->ncols, sizeof *r->col_bm);
    r->col_pos = calloc((size_t)r->ncols, sizeof *r->col_pos);
    if (!r->topic || !r->types || !r->parts || !r->wms || !r->ctls || !r->col_bm || !r->col_pos) {
        errf(err, cap, "out of memory");
        goto fail;
    }
    for (int p = 0; p < r->nparts; p++) {
        r->parts[p].wm = r->wms + (size_t)p * (size_t)norigins;
        r->parts[p].ctl = r->ctls + (size_t)p * (size_t)norigins;
        for (int o = 0; o < norigins; o++) r->parts[p].ctl[o] = -1;
        r->parts[p].from = -1;
        r->parts[p].applied = -1;
        r->parts[p].next = -1;
        r->parts[p].expect = -1;
        r->parts[p].min = INT64_MIN;
    }
    const char *names[] = {"group.id", "partition.assignment.strategy", "enable.auto.commit",
                           "enable.auto.offset.store", "auto.offset.reset", "enable.partition.eof",
                           "fetch.wait.max.ms"};
    const char *values[] = {group, "cooperative-sticky", "false", "false", "earliest", "false", "100"};
    rd_kafka_conf_t *conf = make_conf(spec, r, names, values, 7, err, cap);
    if (!conf) goto fail;
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    rd_kafka_conf_set_error_cb(conf, on_reader_error);
    char errstr[512];
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!r->rk) {
        rd_kafka_conf_destroy(conf);
        errf(err, cap, "kexchange: %s", errstr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(r->rk);
    if (spec->ledger && *spec->ledger) {   /* standalone: it never joins its group */
        const char *lnames[] = {"group.id", "enable.auto.commit", "enable.auto.offset.store"};
        const char *lvalues[] = {spec->ledger, "false", "false"};
        rd_kafka_conf_t *lconf = make_conf(spec, r, lnames, lvalues, 3, err, cap);
        if (!lconf) goto fail;
        rd_kafka_conf_set_error_cb(lconf, on_reader_error);
        r->led = rd_kafka_new(RD_KAFKA_CONSUMER, lconf, errstr, sizeof errstr);
        if (!r->led) {
            rd_kafka_conf_destroy(lconf);
            errf(err, cap, "kexchange: %s", errstr);
            goto fail;
        }
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l) {
        errf(err, cap, "out of memory");
        goto fail;
    }
    rd_kafka_topic_partition_list_add(l, r->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        errf(err, cap, "kexchange: cannot join group '%s' for topic '%s': %s", group, r->topic,
             rd_kafka_err2str(e));
        goto fail;
    }
    return r;
fail:
    kx_reader_close(r);
    return NULL;
}

/* Check a rows message whole (p[0..len), header already checked) and record
 * each column's bitmap and values start. 0, or -1 with why. */
static int check_rows(KxReader *r, const uint8_t *p, size_t len, uint32_t *nrows, char *why, size_t wcap)
{
    size_t   at = KX_HEADER_BYTES;
    uint64_t n;
    if (get_varint(p, len, &at, &n))
        return errf(why, wcap, "bad row count (a varint past the end or over 10 bytes)");
    if (n < 1 || n > KX_MAX_ROWS_PER_MSG)
        return errf(why, wcap, "row count %llu out of range", (unsigned long long)n);
    for (int c = 0; c < r->ncols; c++) {
        SqlType t = r->types[c];
        r->col_bm[c] = NO_BITMAP;
        if (t == TYPE_NULL) {
            r->col_pos[c] = at;
            continue;
        }
        if (at >= len) return errf(why, wcap, "truncated at column %d", c);
        uint8_t flag = p[at++];
        if (flag > 1) return errf(why, wcap, "column %d: bad NULL flag %u", c, flag);
        const uint8_t *bm = NULL;
        if (flag) {
            size_t nb = (size_t)(n + 7) / 8;
            if (len - at < nb) return errf(why, wcap, "truncated in the NULL bitmap of column %d", c);
            r->col_bm[c] = at;
            bm = p + at;
            at += nb;
        }
        r->col_pos[c] = at;
        for (uint32_t i = 0; i < (uint32_t)n; i++) {
            if (bm && bit_is_set(bm, i)) continue;
            uint64_t x;
            switch (t) {
            case TYPE_BOOLEAN:
                if (at >= len) return errf(why, wcap, "truncated in column %d, row %u", c, i);
                if (p[at] > 1)
                    return errf(why, wcap, "column %d, row %u: BOOLEAN byte %u", c, i, p[at]);
                at++;
                break;
            case TYPE_DOUBLE:
                if (len - at < 8) return errf(why, wcap, "truncated in column %d, row %u", c, i);
                at += 8;
                break;
            case TYPE_VARCHAR:
                if (get_varint(p, len, &at, &x))
                    return errf(why, wcap, "truncated in column %d, row %u", c, i);
                if (x > UINT32_MAX || x > len - at)
                    return errf(why, wcap, "column %d, row %u: a string of %llu bytes runs past the "
                                           "end", c, i, (unsigned long long)x);
                at += (size_t)x;
                break;
            default:
                if (get_varint(p, len, &at, &x))
                    return errf(why, wcap, "truncated in column %d, row %u", c, i);
                break;
            }
        }
    }
    if (at != len) return errf(why, wcap, "%zu bytes left over after the last column", len - at);
    *nrows = (uint32_t)n;
    return 0;
}

/* Decode rows cur_row … cur_row+k-1 of column c into v's slots base … */
static int decode_column(KxReader *r, int c, Vector *v, int base, uint32_t k)
{
    const uint8_t *p = r->cur->payload;
    const uint8_t *bm = r->col_bm[c] == NO_BITMAP ? NULL : p + r->col_bm[c];
    size_t         at = r->col_pos[c];
    uint32_t       row0 = r->cur_row;
    if (v->type == TYPE_NULL) return 0;   /* every row NULL already */
#define EACH_ROW(stmt)                                   \
    for (uint32_t j = 0; j < k; j++) {                   \
        int dst = base + (int)j;                         \
        if (bm && bit_is_set(bm, row0 + j)) {            \
            vector_set_null(v, dst);                     \
            continue;                                    \
        }                                                \
        vector_set_valid(v, dst);                        \
        stmt;                                            \
    }
    switch (v->type) {
    case TYPE_BOOLEAN: {
        uint8_t *x = vector_bool(v);
        EACH_ROW(x[dst] = p[at++]);
        break;
    }
    case TYPE_DOUBLE: {
        double *x = vector_f64(v);
        EACH_ROW({
            uint64_t bits = get_u64(p + at);
            memcpy(&x[dst], &bits, 8);
            at += 8;
        });
        break;
    }
    case TYPE_VARCHAR:
        EACH_ROW({
            uint32_t len = (uint32_t)varint_unchecked(p, &at);
            if (vector_set_str(v, dst, (const char *)p + at, len))
                return reader_fail(r, "out of memory");
            at += len;
        });
        break;
    default: {
        int64_t *x = vector_i64(v);
        EACH_ROW(x[dst] = unzigzag(varint_unchecked(p, &at)));
        break;
    }
    }
#undef EACH_ROW
    r->col_pos[c] = at;
    return 0;
}

/* Rows of cur into out (as many as fit). Rows added, or -1. */
static int take_rows(KxReader *r, Batch *out)
{
    int      base = out->nrows;
    uint32_t left = r->cur_n - r->cur_row, room = (uint32_t)(out->capacity - base);
    uint32_t k = left < room ? left : room;
    for (int c = 0; c < r->ncols; c++)
        if (decode_column(r, c, &out->cols[c], base, k)) return -1;
    r->cur_row += k;
    batch_set_nrows(out, base + (int)k);
    if (r->cur_row == r->cur_n) {   /* returned whole */
        rd_kafka_message_destroy(r->cur);
        r->cur = NULL;
    }
    return (int)k;
}

/* Apply a committed message (from the ready queue): rows become cur (checked
 * whole first), a watermark or an end moves its origin. 0, or -1 (r->err;
 * m destroyed unless it became cur). */
static int apply_message(KxReader *r, rd_kafka_message_t *m)
{
    const uint8_t *p = m->payload;
    size_t         len = m->len;
    KxPart        *part = &r->parts[m->partition];
    char           why[256];
    int            bad = 0;
    if (p[1] == KX_KIND_ROWS) {
        uint32_t n = 0;
        bad = check_rows(r, p, len, &n, why, sizeof why);
        if (!bad) {
            r->cur = m;
            r->cur_n = n;
            r->cur_row = 0;
            return 0;
        }
    } else {   /* 'W', 'E' or 'M', checked when it arrived */
        size_t   at = KX_HEADER_BYTES;
        uint64_t k = 1, origin = 0, zwm = 0;
        int      moved = 0;
        if (p[1] == KX_KIND_WATERMARKS) get_varint(p, len, &at, &k);
        for (uint64_t j = 0; j < k; j++) {
            get_varint(p, len, &at, &origin);
            get_varint(p, len, &at, &zwm);
            int64_t *slot = &part->wm[origin];
            int64_t  old = *slot;
            part->ctl[origin] = m->offset;
            if (p[1] == KX_KIND_END) *slot = INT64_MAX;
            else if (unzigzag(zwm) > old) *slot = unzigzag(zwm);
            if (*slot != old && old == part->min) moved = 1;
        }
        if (moved) part_recompute(r, part);
    }
    if (bad)
        reader_fail(r, "kexchange: topic '%s' partition %d offset %lld: %s", r->topic,
                    (int)m->partition, (long long)m->offset, why);
    rd_kafka_message_destroy(m);
    return bad ? -1 : 0;
}

static KxWState *writer_state(KxReader *r, KxPart *p, uint64_t id)
{
    for (int i = 0; i < p->nws; i++)
        if (p->ws[i].id == id) return &p->ws[i];
    if (p->nws == p->capws) {
        int       nc = p->capws ? 2 * p->capws : 4;
        KxWState *n = realloc(p->ws, (size_t)nc * sizeof *n);
        if (!n) {
            reader_fail(r, "out of memory");
            return NULL;
        }
        p->ws = n;
        p->capws = nc;
    }
    KxWState *w = &p->ws[p->nws++];
    memset(w, 0, sizeof *w);
    w->id = id;
    return w;
}

static void ready_push(KxReader *r, KxHeld *h)
{
    h->next = NULL;
    if (r->ready_tail) r->ready_tail->next = h;
    else r->ready = h;
    r->ready_tail = h;
}

/* h becomes ready, released by the message at offset `at` (a marker, or h
 * itself): rows released before the partition's `applied` offset are in
 * the state a replay restored, and are dropped (kx_reader_set_replay_point). */
static void make_ready(KxReader *r, KxHeld *h, int64_t at)
{
    const KxPart *p = &r->parts[h->m->partition];
    if (at < p->applied && ((const uint8_t *)h->m->payload)[1] == KX_KIND_ROWS) {
        rd_kafka_message_destroy(h->m);
        free(h);
        r->nheld--;
        r->dropped++;
        return;
    }
    ready_push(r, h);
}

/* Writer w's held messages of segments <= w->committed become ready, in
 * order, released by the message at offset at. */
static void release(KxReader *r, KxWState *w, int64_t at)
{
    while (w->head && w->head->seg <= w->committed) {
        KxHeld *h = w->head;
        w->head = h->next;
        if (!w->head) w->tail = NULL;
        make_ready(r, h, at);
    }
}

/* A message of an owned partition: check its header (and a control
 * record whole); a commit, resolve or confirm marker is applied at once, a data
 * message (rows, watermark, end) is held until its segment is committed,
 * becomes ready when it is, or is dropped when its writer was fenced.
 * 0, or -1 (r->err; m destroyed or kept either way). */
static int take_message(KxReader *r, rd_kafka_message_t *m)
{
    const uint8_t *p = m->payload;
    size_t         len = m->len;
    KxPart        *part = &r->parts[m->partition];
    char           why[256];
    int            bad = 0;
    if (part->expect >= 0 && m->offset > part->expect) {
        /* offsets of this topic are dense (no compaction, no transaction
         * markers): a gap is records deleted before this reader read them,
         * and what they held — rows, watermarks, commits — is lost. The
         * consumer (auto.offset.reset = earliest) would go on silently from
         * the first record left, and windows would be missing from the
         * answer: stop instead. */
        reader_fail(r, "kexchange: topic '%s' partition %d: records at offsets %lld to %lld were "
                       "deleted unread (retention.bytes/retention.ms; the bundled broker keeps "
                       "100000 message sets or 5 MB a partition): the query stops rather than "
                       "answer without them; give the topic more retention than a reader can lag",
                    r->topic, (int)m->partition, (long long)part->expect, (long long)m->offset - 1);
        rd_kafka_message_destroy(m);
        return -1;
    }
    part->expect = m->offset + 1;
    part->next = m->offset + 1;
    if (!p || len < KX_HEADER_BYTES) {
        bad = errf(why, sizeof why, "a message of %zu bytes is shorter than the header", len);
    } else if (p[0] != KX_VERSION) {
        bad = errf(why, sizeof why, "unknown format version %u (this build reads %d)", p[0], KX_VERSION);
    } else if (get_u64(p + 2) != r->fp) {
        bad = errf(why, sizeof why, "schema fingerprint %016llx, this exchange's is %016llx (a topic "
                                    "written by another query, or another version of it)",
                   (unsigned long long)get_u64(p + 2), (unsigned long long)r->fp);
    } else if (get_u64(p + 10) == 0 || get_u64(p + 18) == 0) {
        bad = errf(why, sizeof why, "writer id or segment 0");
    } else if (p[1] == KX_KIND_COMMIT || p[1] == KX_KIND_RESOLVE || p[1] == KX_KIND_CONFIRM) {
        if (len != KX_HEADER_BYTES + 16) {
            bad = errf(why, sizeof why, "a marker of %zu bytes (%d expected)", len, KX_HEADER_BYTES + 16);
        } else {
            uint64_t a = get_u64(p + KX_HEADER_BYTES), b = get_u64(p + KX_HEADER_BYTES + 8);
            uint64_t target = p[1] == KX_KIND_COMMIT ? get_u64(p + 10) : a;
            uint64_t through = p[1] == KX_KIND_COMMIT ? a : b;
            KxWState *w = writer_state(r, part, target);
            if (!w) goto fail;
            if (!w->fenced) {
                if (through > w->committed) w->committed = through;
                release(r, w, m->offset);
                if (p[1] == KX_KIND_RESOLVE) {   /* the rest of it never commits */
                    held_free_list(r, w->head);
                    w->head = w->tail = NULL;
                    w->fenced = 1;
                }
            }
        }
    } else if (p[1] == KX_KIND_ROWS || p[1] == KX_KIND_WATERMARK || p[1] == KX_KIND_END ||
               p[1] == KX_KIND_WATERMARKS) {
        if (p[1] != KX_KIND_ROWS) {
            size_t   at = KX_HEADER_BYTES;
            uint64_t k = 1, origin = 0, zwm = 0;
            if (p[1] == KX_KIND_WATERMARKS && (get_varint(p, len, &at, &k) || k == 0 || k > KX_MAX_ORIGINS))
                bad = errf(why, sizeof why, "a watermarks record of a bad count");
            for (uint64_t j = 0; !bad && j < k; j++) {
                if (get_varint(p, len, &at, &origin) || get_varint(p, len, &at, &zwm))
                    bad = errf(why, sizeof why, "truncated control record");
                else if (origin >= (uint64_t)r->norigins)
                    bad = errf(why, sizeof why, "origin %llu out of range (this exchange has %d origins)",
                               (unsigned long long)origin, r->norigins);
            }
            if (!bad && at != len)
                bad = errf(why, sizeof why, "%zu bytes left over after a control record", len - at);
        }
        if (!bad) {
            KxWState *w = writer_state(r, part, get_u64(p + 10));
            if (!w) goto fail;
            if (!w->fenced) {
                KxHeld *h = malloc(sizeof *h);
                if (!h) {
                    reader_fail(r, "out of memory");
                    goto fail;
                }
                h->m = m;
                h->seg = get_u64(p + 18);
                h->next = NULL;
                r->nheld++;
                if (h->seg <= w->committed) {
                    make_ready(r, h, m->offset);
                } else {
                    if (w->tail) w->tail->next = h;
                    else w->head = h;
                    w->tail = h;
                }
                return 0;
            }
        }
    } else {
        bad = errf(why, sizeof why, "unknown message kind 0x%02x", p[1]);
    }
    if (bad)
        reader_fail(r, "kexchange: topic '%s' partition %d offset %lld: %s", r->topic,
                    (int)m->partition, (long long)m->offset, why);
    rd_kafka_message_destroy(m);
    return bad ? -1 : 0;
fail:
    rd_kafka_message_destroy(m);
    return -1;
}

/* A bad argument: fails this call only (r->err, not sticky). */
static int check_out(KxReader *r, Batch *out)
{
    if (!out || out->ncols != r->ncols)
        return errf(r->err, sizeof r->err, "kexchange: kx_read into a batch of %d columns; the "
                                           "exchange has %d", out ? out->ncols : 0, r->ncols);
    for (int c = 0; c < r->ncols; c++)
        if (out->cols[c].type != r->types[c])
            return errf(r->err, sizeof r->err, "kexchange: kx_read: column %d is %s, the exchange "
                                               "has %s", c, sql_type_name(out->cols[c].type),
                        sql_type_name(r->types[c]));
    if (out->sel || out->count != out->nrows)
        return errf(r->err, sizeof r->err, "kexchange: kx_read into a batch with a selection");
    return 0;
}

/* replay: seek every owned partition back to its beginning and forget what
 * was read of it (outside the rebalance callback). 0 or -1. */
static int do_rewind(KxReader *r)
{
    int n = 0;
    for (int p = 0; p < r->nparts; p++) n += r->parts[p].owned;
    if (n == 0) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!l) return reader_fail(r, "out of memory");
    for (int p = 0; p < r->nparts; p++)
        if (r->parts[p].owned) {
            KxPart *kp = &r->parts[p];
            /* hold: the position the owner's state is at, until it starts
             * over (kx_reader_unhold); the first rewind's, as nothing is
             * applied after it */
            if (r->hold && !kp->held && kx_reader_position(r, p, &kp->hfrom, &kp->happlied) == 0) kp->held = 1;
            char meta[KX_META_MAX];
            memcpy(meta, kp->meta, sizeof meta);
            part_assign(r, p);
            memcpy(kp->meta, meta, sizeof meta);
            int64_t from = r->parts[p].from;
            rd_kafka_topic_partition_list_add(l, r->topic, p)->offset =
                from >= 0 ? from : RD_KAFKA_OFFSET_BEGINNING;
            r->parts[p].expect = from >= 0 ? from : 0;
        }
    rd_kafka_error_t *e = rd_kafka_seek_partitions(r->rk, l, 10000);
    int               bad = 0;
    if (e) {
        bad = reader_fail(r, "kexchange: cannot rewind topic '%s': %s", r->topic, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
    for (int i = 0; !bad && i < l->cnt; i++)
        if (l->elems[i].err)
            bad = reader_fail(r, "kexchange: cannot rewind topic '%s' partition %d: %s", r->topic,
                              (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
    rd_kafka_topic_partition_list_destroy(l);
    return bad;
}

int kx_read(KxReader *r, Batch *out, int64_t *watermark, int timeout_ms)
{
    return kx_read_parts(r, out, NULL, NULL, watermark, timeout_ms);
}

static int read_parts(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark,
                      int timeout_ms, int poll);

int kx_read_parts(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark,
                  int timeout_ms)
{
    return read_parts(r, out, parts, offs, watermark, timeout_ms, 1);
}

int kx_read_drain(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark)
{
    return read_parts(r, out, parts, offs, watermark, 0, 0);
}

int kx_reader_busy(const KxReader *r)
{
    return r->ready != NULL || r->cur != NULL;
}

int kx_reader_position(const KxReader *r, int part, int64_t *from, int64_t *applied)
{
    if (part < 0 || part >= r->nparts || !r->parts[part].owned || kx_reader_busy(r)) return -1;
    const KxPart *p = &r->parts[part];
    if (p->held) {
        *from = p->hfrom;
        *applied = p->happlied;
        return 0;
    }
    int64_t       start = p->from >= 0 ? p->from : 0, x = commit_offset(r, part);
    if (x < 0) {   /* nothing polled since it was assigned (or rewound): where that started */
        *from = start;
        *applied = p->applied > start ? p->applied : start;
        return 0;
    }
    /* every origin's last watermark (or end) is read again: before it the
     * rows messages are all applied (dropped by the rule), and without it
     * an origin that has ended would hold the replaying reader back for
     * ever; one not heard since the replay start was not heard after it */
    for (int o = 0; o < r->norigins; o++) {
        int64_t c = p->ctl[o] >= 0 ? p->ctl[o] : start;
        if (c < x) x = c;
    }
    *from = x;
    *applied = p->next > p->applied ? p->next : p->applied;
    return 0;
}

void kx_reader_set_replay_point(KxReader *r, int part, int64_t from, int64_t applied, const char *meta)
{
    if (part < 0 || part >= r->nparts || !r->parts[part].owned) return;
    r->parts[part].from = from;
    r->parts[part].applied = applied;
    if (meta) snprintf(r->parts[part].meta, sizeof r->parts[part].meta, "%s", meta);
}

int64_t kx_reader_dropped(const KxReader *r)
{
    return r->dropped;
}

static int read_parts(KxReader *r, Batch *out, uint16_t *parts, int64_t *offs, int64_t *watermark,
                      int timeout_ms, int poll)
{
    if (r->failed || check_out(r, out)) return -1;
    int64_t gen0 = r->generation;
    for (int c = 0; c < r->ncols; c++)
        if (vector_is_constant(&out->cols[c])) vector_flatten(&out->cols[c], out->nrows);
    int     added = 0, nmsg = 0;
    int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    while (out->nrows < out->capacity) {
        if (r->cur) {
            int     base = out->nrows, part = r->cur->partition;
            int64_t off = r->cur->offset;
            int     k = take_rows(r, out);
            if (k < 0) return -1;
            if (parts)
                for (int j = 0; j < k; j++) parts[base + j] = (uint16_t)part;
            if (offs)
                for (int j = 0; j < k; j++) offs[base + j] = off;
            added += k;
            continue;
        }
        if (r->ready) {
            KxHeld *h = r->ready;
            r->ready = h->next;
            if (!r->ready) r->ready_tail = NULL;
            rd_kafka_message_t *m = h->m;
            free(h);
            r->nheld--;
            if (apply_message(r, m)) return -1;
            continue;
        }
        if (!poll || nmsg >= MAX_MSGS_PER_READ) break;
        int wait = 0;
        if (nmsg == 0) {   /* nothing taken yet: wait what is left of the timeout */
            int64_t left = deadline - mono_ms();
            wait = left > 0 ? (int)left : 0;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, wait);
        if (r->failed) {   /* in the rebalance or error callback */
            if (m) rd_kafka_message_destroy(m);
            return -1;
        }
        if (r->generation != gen0) {   /* a rebalance in that poll */
            if (r->replay) {   /* everything owned starts over; the rows returned are of before */
                if (m) rd_kafka_message_destroy(m);
                if (do_rewind(r)) return -1;
                break;
            }
            gen0 = r->generation;
        }
        if (!m) {
            if (nmsg == 0 && mono_ms() < deadline) continue;
            break;
        }
        if (m->err) {   /* a consumer event: transient (librdkafka retries) unless fatal */
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                snprintf(r->warn, sizeof r->warn, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->partition < 0 || m->partition >= r->nparts || !r->parts[m->partition].owned) {
            rd_kafka_message_destroy(m);   /* of a partition revoked since: the next owner's */
            continue;
        }
        nmsg++;
        if (take_message(r, m)) return -1;
    }
    if (watermark) *watermark = kx_reader_watermark(r);
    return added;
}

int64_t kx_reader_watermark(const KxReader *r)
{
    if (r->nassigned == 0) return INT64_MIN;
    int64_t m = INT64_MAX;
    for (int p = 0; p < r->nparts; p++)
        if (r->parts[p].owned && r->parts[p].min < m) m = r->parts[p].min;
    return m;
}

int kx_reader_ended(const KxReader *r)
{
    if (r->nassigned == 0 || r->ready || r->cur) return 0;
    for (int p = 0; p < r->nparts; p++) {
        if (!r->parts[p].owned) continue;
        for (int o = 0; o < r->norigins; o++)
            if (r->parts[p].wm[o] != INT64_MAX) return 0;
    }
    return 1;
}

int kx_reader_assigned(const KxReader *r)
{
    return r->nassigned;
}

/* The offset to commit for partition id: the first message not applied
 * yet (held, ready or being returned), else after the last one polled; -1
 * when nothing was polled. */
static int64_t commit_offset(const KxReader *r, int id)
{
    const KxPart *p = &r->parts[id];
    int64_t       x = p->next;
    if (x < 0) return -1;
    for (int i = 0; i < p->nws; i++)
        if (p->ws[i].head && p->ws[i].head->m->offset < x) x = p->ws[i].head->m->offset;
    for (const KxHeld *h = r->ready; h; h = h->next)
        if (h->m->partition == id && h->m->offset < x) x = h->m->offset;
    if (r->cur && r->cur->partition == id && r->cur->offset < x) x = r->cur->offset;
    return x;
}

int kx_reader_commit(KxReader *r)
{
    return kx_reader_commit_meta(r, NULL, 0);
}

/* Whether kx_reader_commit_meta commits partition p: owned, and read from
 * (its position is known) — or, with a ledger, given metadata (and only
 * then): a record needs no position (committed at 0; the ledger's offsets
 * mean nothing). */
static int commits(const KxReader *r, const char *const *metas, int p)
{
    if (!r->parts[p].owned) return 0;
    if (r->led) return metas && metas[p] && *metas[p];   /* (a commit without one would erase the record) */
    return r->parts[p].next >= 0;
}

/* The list a commit sends: the partitions kx_reader_commit_meta commits
 * (commits(), at their positions) or, any = 1, every partition given
 * metadata, at offset 0 (a record to the ledger, kx_reader_record: it may
 * run on another thread, so it reads nothing of the reader's partitions;
 * the ledger's offsets mean nothing). Each with its metadata, if given.
 * *n: how many; NULL with *n > 0: out of memory. */
static rd_kafka_topic_partition_list_t *commit_list(const KxReader *r, const char *const *metas, int any, int *n)
{
    *n = 0;
    for (int p = 0; p < r->nparts; p++) *n += any ? metas[p] && *metas[p] : commits(r, metas, p);
    if (*n == 0) return NULL;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(*n);
    for (int p = 0; l && p < r->nparts; p++) {
        if (any ? !metas[p] || !*metas[p] : !commits(r, metas, p)) continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, r->topic, p);
        int64_t                     off = any ? 0 : commit_offset(r, p);
        tp->offset = off >= 0 ? off : 0;
        if (metas && metas[p] && *metas[p]) {
            tp->metadata = strdup(metas[p]);   /* freed with the list */
            tp->metadata_size = tp->metadata ? strlen(metas[p]) : 0;
        }
    }
    return l;
}

int kx_reader_commit_meta(KxReader *r, const char *const *metas, int sync)
{
    if (r->failed) return -1;
    int                              n;
    rd_kafka_topic_partition_list_t *l = commit_list(r, metas, 0, &n);
    if (n == 0) return 0;
    if (!l) return errf(r->err, sizeof r->err, "out of memory");
    rd_kafka_resp_err_t e = r->led && sync ? ledger_commit(r, l) : rd_kafka_commit(r->led ? r->led : r->rk, l, sync ? 0 : 1);
    rd_kafka_topic_partition_list_destroy(l);
    if (e && e != RD_KAFKA_RESP_ERR__NO_OFFSET)   /* not sticky: the next commit tries again */
        return errf(r->err, sizeof r->err, "kexchange: cannot commit offsets of topic '%s': %s",
                    r->topic, rd_kafka_err2str(e));
    return 0;
}

int kx_reader_record(KxReader *r, const char *const *metas, char *err, size_t cap)
{
    if (!r->led) return 1;
    int                              n;
    rd_kafka_topic_partition_list_t *l = commit_list(r, metas, 1, &n);
    if (n == 0) return 0;
    if (!l) return errf(err, cap, "out of memory");
    rd_kafka_resp_err_t e = ledger_commit(r, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) return errf(err, cap, "kexchange: cannot record in the group of topic '%s': %s", r->topic, rd_kafka_err2str(e));
    return 0;
}

int64_t kx_reader_pending(const KxReader *r)
{
    return r->nheld;
}

int64_t kx_reader_replay_floor(const KxReader *r, int part)
{
    if (part < 0 || part >= r->nparts || !r->parts[part].owned) return -1;
    const KxPart *p = &r->parts[part];
    int64_t       x = commit_offset(r, part);   /* the first message not applied yet */
    if (x < 0) return -1;
    for (int o = 0; o < r->norigins; o++) {   /* every origin's last watermark is read again */
        if (p->ctl[o] < 0) return -1;
        if (p->ctl[o] < x) x = p->ctl[o];
    }
    return x;
}

int64_t kx_reader_replay_start(const KxReader *r, int part)
{
    return part >= 0 && part < r->nparts && r->parts[part].owned ? r->parts[part].from : -1;
}

void kx_reader_set_replay_from(KxReader *r, int part, int64_t from, const char *meta)
{
    if (part < 0 || part >= r->nparts || !r->parts[part].owned) return;
    if (from >= 0) r->parts[part].from = from;
    if (meta) snprintf(r->parts[part].meta, sizeof r->parts[part].meta, "%s", meta);
}

int kx_reader_revoking(const KxReader *r)
{
    return r->nrevoking;
}

/* Hand over and unassign the partitions whose revocation waits. 0 or -1. */
static int release_revoking(KxReader *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nrevoking);
    if (!l) return reader_fail(r, "out of memory");
    if (r->handoff) handoff(r, r->rk, NULL);   /* the revoking ones (see handoff) */
    for (int id = 0; id < r->nparts; id++)
        if (r->parts[id].revoking) {
            rd_kafka_topic_partition_list_add(l, r->topic, id);
            part_revoke(r, id);
        }
    r->generation++;
    rd_kafka_error_t *e = rd_kafka_incremental_unassign(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        reader_fail(r, "kexchange: rebalance of topic '%s': %s", r->topic, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
        return -1;
    }
    return 0;
}

int kx_reader_release(KxReader *r)
{
    if (r->failed) return -1;
    if (!r->nrevoking) return 0;
    if (release_revoking(r)) return -1;
    return r->replay ? do_rewind(r) : 0;   /* as after a rebalance in kx_read */
}

void kx_reader_test_fail_offsets(KxReader *r, int n)
{
    r->test_fail_offsets = n;
}

void kx_reader_defer_revokes(KxReader *r, int on)
{
    r->defer = on;
}

void kx_reader_hold(KxReader *r, int on)
{
    r->hold = on;
}

void kx_reader_unhold(KxReader *r)
{
    for (int p = 0; p < r->nparts; p++) r->parts[p].held = 0;
}

void kx_reader_on_handoff(KxReader *r, KxHandoffFn fn, void *ctx)
{
    r->handoff = fn;
    r->handoff_ctx = ctx;
}

int kx_reader_group_metas(KxReader *r, char (*metas)[KX_META_MAX], int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(r->nparts);
    if (!l) return errf(r->warn, sizeof r->warn, "out of memory");
    for (int p = 0; p < r->nparts; p++) rd_kafka_topic_partition_list_add(l, r->topic, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(r->led ? r->led : r->rk, l, timeout_ms);
    for (int p = 0; !e && p < r->nparts; p++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[p];
        int i = tp->partition;
        if (i < 0 || i >= r->nparts) continue;
        metas[i][0] = 0;
        if (!tp->err && tp->metadata && tp->metadata_size < KX_META_MAX) {
            memcpy(metas[i], tp->metadata, tp->metadata_size);
            metas[i][tp->metadata_size] = 0;
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
    if (e)
        return errf(r->warn, sizeof r->warn, "kexchange: committed offsets of topic '%s': %s", r->topic,
                    rd_kafka_err2str(e));
    return 0;
}

int64_t kx_reader_generation(const KxReader *r)
{
    return r->generation;
}

int kx_reader_owned(const KxReader *r, int part)
{
    return part >= 0 && part < r->nparts && r->parts[part].owned;
}

const char *kx_reader_part_meta(const KxReader *r, int part)
{
    return part >= 0 && part < r->nparts ? r->parts[part].meta : "";
}

const char *kx_reader_error(const KxReader *r)
{
    return r->err;
}

const char *kx_reader_warning(const KxReader *r)
{
    return r->warn;
}

void kx_reader_close(KxReader *r)
{
    if (!r) return;
    r->closing = 1;
    /* a revocation held for a checkpoint goes now (as it would in the
     * close's own callback): the leave below waits for an empty assignment */
    if (r->rk && r->nrevoking && !r->failed) release_revoking(r);
    if (r->parts)
        for (int p = 0; p < r->nparts; p++) {
            part_clear(r, p);
            free(r->parts[p].ws);
        }
    if (r->cur) rd_kafka_message_destroy(r->cur);
    r->cur = NULL;
    if (r->rk) {
        kafka_consumer_end(r->rk, KAFKA_LEAVE_MS, r->assigned);   /* leaves the group: on_rebalance revokes */
    }
    if (r->led) rd_kafka_destroy(r->led);   /* (after the close: its handoffs use it) */
    free(r->col_bm);
    free(r->col_pos);
    free(r->wms);
    free(r->ctls);
    free(r->parts);
    free(r->types);
    free(r->topic);
    free(r);
}

/* ---- changelog -------------------------------------------------------------------- */

struct KxLog {
    rd_kafka_t       *rk;       /* producer                                       */
    rd_kafka_topic_t *rkt;
    rd_kafka_t       *rd;       /* consumer for kx_log_read, made at the first one */
    const KxSpec     *spec;     /* (bootstrap and properties, for rd)             */
    char             *topic;
    int               nparts;
    int64_t          *end;      /* P: offset after the last record delivered, -1  */
    int64_t          *first;    /* P: first offset delivered since kx_log_mark, -1 */
    uint64_t          owner;    /* kx_log_set_owner: the header of every record   */
    int               failed;
    char              err[512];
};

static void on_log_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    KxLog *l = opaque;
    if (m->err) {
        if (!l->failed)
            errf(l->err, sizeof l->err, "kexchange: changelog topic '%s' partition %d: %s", l->topic,
                 (int)m->partition, rd_kafka_err2str(m->err));
        l->failed = 1;
        return;
    }
    if (m->partition < 0 || m->partition >= l->nparts) return;
    if (m->offset + 1 > l->end[m->partition]) l->end[m->partition] = m->offset + 1;
    if (l->first[m->partition] < 0 || m->offset < l->first[m->partition]) l->first[m->partition] = m->offset;
}

KxLog *kx_log_open(const KxSpec *spec, char *err, size_t cap)
{
    if (err && cap) err[0] = 0;
    if (!spec || !spec->bootstrap || !spec->topic || spec->partitions < 1 || spec->partitions > KX_MAX_PARTITIONS) {
        errf(err, cap, "kexchange: a changelog needs bootstrap servers, a topic and 1 … %d partitions",
             KX_MAX_PARTITIONS);
        return NULL;
    }
    KxLog *l = calloc(1, sizeof *l);
    if (!l) {
        errf(err, cap, "out of memory");
        return NULL;
    }
    l->spec = spec;
    l->nparts = spec->partitions;
    l->topic = strdup(spec->topic);
    l->end = malloc((size_t)l->nparts * sizeof *l->end);
    l->first = malloc((size_t)l->nparts * sizeof *l->first);
    if (!l->topic || !l->end || !l->first) {
        errf(err, cap, "out of memory");
        goto fail;
    }
    for (int p = 0; p < l->nparts; p++) l->end[p] = l->first[p] = -1;
    static const char *const names[] = {"enable.idempotence", "linger.ms", "message.timeout.ms"};
    static const char *const values[] = {"true", "5", "30000"};
    rd_kafka_conf_t *conf = make_conf(spec, l, names, values, 3, err, cap);
    if (!conf) goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_log_delivery);
    char errstr[512];
    if (!(l->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr))) {
        rd_kafka_conf_destroy(conf);
        errf(err, cap, "kexchange: %s", errstr);
        goto fail;
    }
    if (ensure_topic(l->rk, l->topic, l->nparts, 1, spec, err, cap)) goto fail;
    if (!(l->rkt = rd_kafka_topic_new(l->rk, l->topic, NULL))) {
        errf(err, cap, "kexchange: cannot make a handle for topic '%s': %s", l->topic,
             rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    return l;
fail:
    kx_log_close(l);
    return NULL;
}

int kx_log_put(KxLog *l, int part, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (l->failed) return -1;
    if (part < 0 || part >= l->nparts)
        return errf(l->err, sizeof l->err, "kexchange: changelog partition %d of %d", part, l->nparts);
    uint8_t owner[8];
    for (int i = 0; i < 8; i++) owner[i] = (uint8_t)(l->owner >> (8 * i));
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            l->rk, RD_KAFKA_V_RKT(l->rkt), RD_KAFKA_V_PARTITION(part), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)val, val ? vlen : 0),
            RD_KAFKA_V_HEADER(KX_LOG_OWNER, owner, 8), RD_KAFKA_V_END);
        if (!e) return 0;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            l->failed = 1;
            return errf(l->err, sizeof l->err, "kexchange: changelog topic '%s': %s", l->topic,
                        rd_kafka_err2str(e));
        }
        rd_kafka_poll(l->rk, 10);
    }
}

int kx_log_flush(KxLog *l, int timeout_ms)
{
    if (l->failed) return -1;
    rd_kafka_resp_err_t e = rd_kafka_flush(l->rk, timeout_ms);
    if (l->failed) return -1;
    if (e) {
        errf(l->err, sizeof l->err, "kexchange: changelog topic '%s': %d records not delivered in %d ms (%s)",
             l->topic, rd_kafka_outq_len(l->rk), timeout_ms, rd_kafka_err2str(e));
        return -1;   /* not sticky: they may still be delivered */
    }
    return 0;
}

int64_t kx_log_end(const KxLog *l, int part)
{
    return part >= 0 && part < l->nparts ? l->end[part] : -1;
}

void kx_log_set_owner(KxLog *l, uint64_t owner)
{
    l->owner = owner;
}

void kx_log_mark(KxLog *l)
{
    for (int p = 0; p < l->nparts; p++) l->first[p] = -1;
}

int64_t kx_log_first(const KxLog *l, int part)
{
    return part >= 0 && part < l->nparts ? l->first[part] : -1;
}

/* the owner header of m, 0 without one */
static uint64_t log_owner(rd_kafka_message_t *m)
{
    rd_kafka_headers_t *hs = NULL;
    const void         *v = NULL;
    size_t              n = 0;
    if (rd_kafka_message_headers(m, &hs) || rd_kafka_header_get_last(hs, KX_LOG_OWNER, &v, &n) || n != 8)
        return 0;
    uint64_t o = 0;
    for (int i = 0; i < 8; i++) o |= (uint64_t)((const uint8_t *)v)[i] << (8 * i);
    return o;
}

int kx_log_read(KxLog *l, int part, int64_t from, int64_t upto, KxLogFn fn, void *ctx, int timeout_ms)
{
    if (part < 0 || part >= l->nparts)
        return errf(l->err, sizeof l->err, "kexchange: changelog partition %d of %d", part, l->nparts);
    if (from < 0) from = 0;
    if (upto <= from) return 0;
    char errstr[512];
    if (!l->rd) {
        static const char *const names[] = {"enable.auto.commit", "enable.partition.eof", "group.id"};
        static const char *const values[] = {"false", "true", "sluice-changelog-reader"};
        rd_kafka_conf_t *conf = make_conf(l->spec, l, names, values, 3, l->err, sizeof l->err);
        if (!conf) return -1;
        if (!(l->rd = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr))) {
            rd_kafka_conf_destroy(conf);
            return errf(l->err, sizeof l->err, "kexchange: %s", errstr);
        }
    }
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    if (!tl) return errf(l->err, sizeof l->err, "out of memory");
    rd_kafka_topic_partition_list_add(tl, l->topic, part)->offset = from > 0 ? from : RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_resp_err_t e = rd_kafka_assign(l->rd, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e) return errf(l->err, sizeof l->err, "kexchange: changelog topic '%s': %s", l->topic, rd_kafka_err2str(e));
    int     rc = 0, done = 0;
    int64_t last = -1, deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : DEFAULT_TIMEOUT_MS);
    while (!done && rc == 0) {
        if (mono_ms() >= deadline) {
            rc = errf(l->err, sizeof l->err, "kexchange: changelog topic '%s' partition %d: not read to offset "
                                              "%lld within %d ms (read to %lld)", l->topic, part,
                      (long long)upto, timeout_ms, (long long)last);
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(l->rd, 100);
        if (!m) continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->offset >= upto) done = 1;   /* (compaction may leave no record right before upto) */
            else rc = errf(l->err, sizeof l->err, "kexchange: changelog topic '%s' partition %d ends at offset "
                                                   "%lld; its record says %lld (records deleted?)",
                           l->topic, part, (long long)m->offset, (long long)upto);
        } else if (m->err) {
            snprintf(errstr, sizeof errstr, "%s", rd_kafka_message_errstr(m));   /* transient: retried */
        } else if (m->partition == part && m->offset >= from) {
            if (m->offset >= upto) {
                done = 1;
            } else {
                last = m->offset;
                if (fn(ctx, m->key, m->key_len, m->payload, m->payload ? m->len : 0, m->offset, log_owner(m))) {
                    rc = -1;
                    if (!l->err[0]) errf(l->err, sizeof l->err, "kexchange: changelog: a bad record");
                }
                if (m->offset + 1 >= upto) done = 1;
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_assign(l->rd, NULL);
    return rc;
}

const char *kx_log_error(const KxLog *l)
{
    return l->err;
}

void kx_log_close(KxLog *l)
{
    if (!l) return;
    if (l->rk) {
        rd_kafka_flush(l->rk, 5000);
        if (l->rkt) rd_kafka_topic_destroy(l->rkt);
        rd_kafka_destroy(l->rk);
    }
    if (l->rd) {
        rd_kafka_consumer_close(l->rd);
        rd_kafka_destroy(l->rd);
    }
    free(l->topic);
    free(l->end);
    free(l->first);
    free(l);
}

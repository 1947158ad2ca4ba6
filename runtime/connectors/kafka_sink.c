/*
 * kafka_sink.c — the producer half of the `kafka` sink (sink.c formats the
 * rows; each row becomes one message here).
 *
 * Messages are queued with rd_kafka_produce (value and key copied) on a
 * topic handle made at open, to the partitioner's choice (librdkafka's
 * default: consistent hash of the key, random without a key).
 *
 * Errors: retriable or fatal.
 *
 *   retriable  the brokers are unreachable, a leader is moving, the local
 *              queue is full. librdkafka keeps the messages and retries
 *              them; with message.timeout.ms = 0 (our default, unless a
 *              properties.message.timeout.ms says otherwise) it never gives
 *              up, so nothing is dropped however long the outage. Meanwhile
 *              kafka_sink_warning says "kafka: N message(s) waiting for a
 *              broker (reason)". A full queue is backpressure: produce
 *              serves delivery reports 100 ms at a time until there is room
 *              (the caller blocks; nothing is dropped).
 *   fatal      a message librdkafka gave up on (a failed delivery report:
 *              the topic does not exist and auto-creation is off,
 *              authorization, a message the broker refuses as too large, a
 *              message.timeout.ms the user set running out), a message the
 *              producer refuses at once (larger than message.max.bytes), a
 *              fatal producer error. The first one is kept and every later
 *              call returns it: a sink that lost a message must not look
 *              healthy.
 *
 * Delivery reports and error callbacks are served by rd_kafka_poll(rk, 0)
 * on every produce and by the flush loops. The "trouble" text (the last
 * transport error librdkafka reported) is cleared by the next successful
 * delivery; the warning shows only while messages are outstanding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/connectors/kafka.h"

struct KafkaSink {
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    char              topic[256];
    int64_t           failed;           /* deliveries that failed (fatal)     */
    char              first_fail[256];  /* why the first one failed           */
    char              fatal[256];       /* a fatal producer error, or ""      */
    char              trouble[200];     /* last transport error since the last
                                           successful delivery, or ""        */
    int               queue_full;       /* produce is waiting for room        */
    char              warning[300];     /* what kafka_sink_warning returns    */
    int             (*stopped)(void *); /* kafka_sink_set_interrupt, or NULL  */
    void             *stop_ctx;
    int64_t           dropped;          /* messages not queued: a stop came while
                                           the queue was full (never delivered) */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    KafkaSink *ks = opaque;
    if (!m->err) {
        ks->trouble[0] = 0;   /* a broker took it: whatever was wrong is over */
        return;
    }
    if (ks->failed++ > 0) return;
    const char *why = rd_kafka_err2str(m->err);
    if (m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
        why = "the topic does not exist (and the broker does not create it)";
    else if (m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
        why = "not delivered within properties.message.timeout.ms";
    snprintf(ks->first_fail, sizeof ks->first_fail, "%s", why);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    KafkaSink *ks = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[200];
        rd_kafka_fatal_error(rk, why, sizeof why);
        snprintf(ks->fatal, sizeof ks->fatal, "%s", why);
        return;
    }
    snprintf(ks->trouble, sizeof ks->trouble, "%s", reason);
}

static int failed(KafkaSink *ks, char *err, size_t cap)
{
    if (ks->fatal[0])
        return conn_errf(err, cap, "kafka: the producer for topic '%s' failed: %s", ks->topic, ks->fatal);
    if (!ks->failed) return 0;
    return conn_errf(err, cap, "kafka: %lld message(s) to topic '%s' could not be delivered: %s",
                     (long long)ks->failed, ks->topic, ks->first_fail);
}

KafkaSink *kafka_sink_open(const ConnSpec *spec, char *err, size_t cap)
{
    const char *topic = conn_opt(spec, "topic");
    if (!topic || !*topic) {
        conn_errf(err, cap, "kafka: option 'topic' is required");
        return NULL;
    }
    if (strlen(topic) >= 250) {
        conn_errf(err, cap, "kafka: topic name too long");
        return NULL;
    }
    KafkaSink *ks = calloc(1, sizeof *ks);
    if (!ks) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
    snprintf(ks->topic, sizeof ks->topic, "%s", topic);
    rd_kafka_conf_t *conf = kafka_conf_from_spec(spec, "kafka", ks, err, cap);
    if (!conf) goto fail;
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_error);
    if (kafka_conf_default(conf, spec, "message.timeout.ms", "0", err, cap)) {   /* retry forever */
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    char errstr[512];
    ks->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!ks->rk) {
        rd_kafka_conf_destroy(conf);
        conn_errf(err, cap, "kafka: %s", errstr);
        goto fail;
    }
    ks->rkt = rd_kafka_topic_new(ks->rk, topic, NULL);
    if (!ks->rkt) {
        conn_errf(err, cap, "kafka: cannot make a handle for topic '%s': %s", topic,
                  rd_kafka_err2str(rd_kafka_last_error()));
        goto fail;
    }
    return ks;
fail:
    kafka_sink_close(ks);
    return NULL;
}

int kafka_sink_produce(KafkaSink *ks, const char *val, size_t n, const char *key, size_t keylen,
                       char *err, size_t cap)
{
    rd_kafka_poll(ks->rk, 0);
    if (failed(ks, err, cap)) return -1;
    if (ks->dropped > 0) {   /* stopping, the brokers gone: not queued either */
        ks->dropped++;
        return 0;
    }
    for (;;) {
        if (rd_kafka_produce(ks->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, n,
                             key, key ? keylen : 0, NULL) == 0) {
            ks->queue_full = 0;
            return 0;
        }
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
            return conn_errf(err, cap, "kafka: a message of %zu bytes to topic '%s' is larger than "
                                       "properties.message.max.bytes allows",
                             n + (key ? keylen : 0), ks->topic);
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return conn_errf(err, cap, "kafka: cannot produce to '%s': %s", ks->topic,
                             rd_kafka_err2str(e));
        ks->queue_full = 1;   /* backpressure: wait for deliveries to make room */
        rd_kafka_poll(ks->rk, 100);
        if (failed(ks, err, cap)) return -1;
        if (ks->stopped && ks->stopped(ks->stop_ctx)) {
            /* a stop must not wait for brokers that are gone: this message
             * and the rest are not queued (the warning counts them), and
             * nothing is delivered whole any more (kafka_sink_flush) */
            ks->dropped = 1;
            return 0;
        }
    }
}

int kafka_sink_flush(KafkaSink *ks, int wait_ms, char *err, size_t cap)
{
    if (ks->dropped > 0) return 1;   /* never all delivered: no checkpoint commits it */
    int64_t left = wait_ms;
    for (;;) {   /* in slices, so that a failure ends the wait at once */
        int slice = left < 100 ? (int)left : 100;
        rd_kafka_resp_err_t e = rd_kafka_flush(ks->rk, slice);
        if (failed(ks, err, cap)) return -1;
        if (!e) {
            ks->trouble[0] = 0;
            return 0;
        }
        left -= slice;
        if (left <= 0) return 1;
    }
}

int kafka_sink_outstanding(const KafkaSink *ks)
{
    return rd_kafka_outq_len(ks->rk);
}

const char *kafka_sink_warning(KafkaSink *ks)
{
    int n = rd_kafka_outq_len(ks->rk);
    ks->warning[0] = 0;
    if (ks->dropped > 0)
        snprintf(ks->warning, sizeof ks->warning,
                 "kafka: %d message(s) waiting for a broker and %lld more not queued (stopped with the "
                 "local queue full: %.150s)", n, (long long)ks->dropped,
                 ks->trouble[0] ? ks->trouble : "no broker answered");
    else if (n > 0 && ks->queue_full)
        snprintf(ks->warning, sizeof ks->warning,
                 "kafka: %d message(s) waiting for a broker, the local queue is full (%s)", n,
                 ks->trouble[0] ? ks->trouble : "backpressure");
    else if (n > 0 && ks->trouble[0])
        snprintf(ks->warning, sizeof ks->warning, "kafka: %d message(s) waiting for a broker (%s)", n,
                 ks->trouble);
    return ks->warning;
}

void kafka_sink_set_interrupt(KafkaSink *ks, int (*stopped)(void *ctx), void *ctx)
{
    ks->stopped = stopped;
    ks->stop_ctx = ctx;
}

void kafka_sink_close(KafkaSink *ks)
{
    if (!ks) return;
    if (ks->rkt) rd_kafka_topic_destroy(ks->rkt);
    if (ks->rk) {   /* what was not flushed is dropped, not waited for */
        rd_kafka_purge(ks->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(ks->rk);
    }
    free(ks);
}

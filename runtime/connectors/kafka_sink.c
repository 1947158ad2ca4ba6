/*
 * kafka_sink.c — the producer half of the `kafka` sink (sink.c formats the
 * rows; each row becomes one message here).
 *
 * Messages are queued with rd_kafka_produce (value and key copied) on a
 * topic handle made at open, to the partitioner's choice (librdkafka's
 * default: consistent hash of the key, random without a key). Delivery
 * reports are served by rd_kafka_poll(rk, 0) on every produce and by
 * rd_kafka_flush; the first failed delivery is kept and every later call
 * returns it (a sink that lost a message must not look healthy). A full
 * local queue is backpressure: produce serves delivery reports (100 ms at a
 * time) until there is room. librdkafka retries transient broker errors
 * itself until message.timeout.ms (default 300000) runs out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/connectors/kafka.h"

struct KafkaSink {
    rd_kafka_t       *rk;
    rd_kafka_topic_t *rkt;
    char              topic[256];
    int64_t           failed;           /* deliveries that failed            */
    char              first_fail[256];  /* why the first one failed          */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    KafkaSink *ks = opaque;
    if (!m->err) return;
    if (ks->failed++ == 0)
        snprintf(ks->first_fail, sizeof ks->first_fail, "%s", rd_kafka_err2str(m->err));
}

static int failed(KafkaSink *ks, char *err, size_t cap)
{
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
    for (;;) {
        if (rd_kafka_produce(ks->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, (void *)val, n,
                             key, key ? keylen : 0, NULL) == 0)
            return 0;
        rd_kafka_resp_err_t e = rd_kafka_last_error();
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return conn_errf(err, cap, "kafka: cannot produce to '%s': %s", ks->topic,
                             rd_kafka_err2str(e));
        rd_kafka_poll(ks->rk, 100);
        if (failed(ks, err, cap)) return -1;
    }
}

int kafka_sink_flush(KafkaSink *ks, char *err, size_t cap)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(ks->rk, KAFKA_FLUSH_TIMEOUT_MS);
    if (failed(ks, err, cap)) return -1;
    if (e)
        return conn_errf(err, cap, "kafka: %d message(s) to topic '%s' still undelivered after %d ms",
                         rd_kafka_outq_len(ks->rk), ks->topic, KAFKA_FLUSH_TIMEOUT_MS);
    return 0;
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

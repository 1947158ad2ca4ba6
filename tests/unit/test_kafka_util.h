/*
 * test_kafka_util.h — helpers the Kafka unit tests share (librdkafka
 * directly, against the in-process mock cluster).
 */
#ifndef SLUICE_TESTS_KAFKA_UTIL_H
#define SLUICE_TESTS_KAFKA_UTIL_H

#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

/* librdkafka's log lines, silenced */
static inline void kt_quiet(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk, (void)level, (void)fac, (void)buf;
}

/* A consumer handle of group `group`, with partition.assignment.strategy
 * `strategy` (NULL: librdkafka's default), or NULL. */
static inline rd_kafka_t *kt_group_consumer(const char *bs, const char *group, const char *strategy)
{
    char             errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof errstr);
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof errstr);
    if (strategy) rd_kafka_conf_set(conf, "partition.assignment.strategy", strategy, errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, kt_quiet);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!rk) rd_kafka_conf_destroy(conf);
    return rk;
}

/* A consumer handle of group `group` that never subscribes (it reads and
 * commits the group's offsets, as another client would), or NULL. */
static inline rd_kafka_t *kt_group_client(const char *bs, const char *group)
{
    return kt_group_consumer(bs, group, NULL);
}

/* Messages {"id":i,"name":"n<i>"} for i in [from, to), i to partition i % nparts. 0 or -1. */
static inline int kt_fill(const char *bs, const char *topic, int from, int to, int nparts)
{
    char             errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bs, errstr, sizeof errstr);
    rd_kafka_conf_set_log_cb(conf, kt_quiet);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) return -1;
    int rc = 0;
    for (int i = from; i < to && rc == 0; i++) {
        char val[64];
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

#endif

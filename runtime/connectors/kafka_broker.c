/*
 * kafka_broker.c — the embedded Kafka broker (librdkafka's mock cluster) and
 * the librdkafka configuration shared by the kafka source and sink.
 *
 * rd_kafka_mock_cluster_new needs an rd_kafka_t to hang off: a producer
 * handle that never produces is made for it, and the cluster (its brokers
 * listen on 127.0.0.1, ephemeral ports; its I/O runs on a librdkafka
 * internal thread) lives until that handle is destroyed.
 */
#include "runtime/connectors/kafka.h"

#include <librdkafka/rdkafka_mock.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct KafkaBroker {
    rd_kafka_t                *rk;
    rd_kafka_mock_cluster_t   *mc;
    int                        nbrokers;
    char                      *bootstrap;
};

/* librdkafka logs through this: connectors never print. */
static void drop_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    (void)level;
    (void)fac;
    (void)buf;
}

KafkaBroker *kafka_broker_start(int nbrokers, const char *topics_csv, int partitions, char *err,
                                size_t cap)
{
    if (err && cap) err[0] = 0;
    if (nbrokers < 1 || nbrokers > 64) {
        conn_errf(err, cap, "broker: the number of brokers must be 1 … 64; got %d", nbrokers);
        return NULL;
    }
    if (partitions < 1 || partitions > 10000) {
        conn_errf(err, cap, "broker: partitions must be 1 … 10000; got %d", partitions);
        return NULL;
    }
    KafkaBroker *kb = calloc(1, sizeof *kb);
    if (!kb) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
    kb->nbrokers = nbrokers;
    char             errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, drop_log);
    kb->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!kb->rk) {
        rd_kafka_conf_destroy(conf);
        conn_errf(err, cap, "broker: %s", errstr);
        free(kb);
        return NULL;
    }
    kb->mc = rd_kafka_mock_cluster_new(kb->rk, nbrokers);
    if (!kb->mc) {
        conn_errf(err, cap, "broker: cannot start the mock cluster");
        goto fail;
    }
    const char *bs = rd_kafka_mock_cluster_bootstraps(kb->mc);
    kb->bootstrap = strdup(bs ? bs : "");
    if (!kb->bootstrap) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    if (topics_csv && *topics_csv) {
        char *list = strdup(topics_csv), *save = NULL;
        if (!list) {
            conn_errf(err, cap, "out of memory");
            goto fail;
        }
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (*t == ' ') t++;
            size_t n = strlen(t);
            while (n > 0 && t[n - 1] == ' ') t[--n] = 0;
            if (n == 0) continue;
            int   np = partitions;
            char *colon = strrchr(t, ':');
            if (colon) {   /* "name:N": this topic's own partition count */
                char *end;
                long  v = strtol(colon + 1, &end, 10);
                if (colon == t || *end || end == colon + 1 || v < 1 || v > 10000) {
                    conn_errf(err, cap, "broker: topic '%s': write NAME:N, N partitions (1 … 10000)", t);
                    free(list);
                    goto fail;
                }
                *colon = 0;
                np = (int)v;
            }
            rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(kb->mc, t, np, nbrokers < 3 ? nbrokers : 3);
            if (e) {
                conn_errf(err, cap, "broker: cannot create topic '%s': %s", t, rd_kafka_err2str(e));
                free(list);
                goto fail;
            }
        }
        free(list);
    }
    return kb;
fail:
    kafka_broker_stop(kb);
    return NULL;
}

const char *kafka_broker_bootstrap(const KafkaBroker *kb)
{
    return kb->bootstrap;
}

int kafka_broker_set_down(KafkaBroker *kb, int id, int down)
{
    if (id < 1 || id > kb->nbrokers) return -1;
    rd_kafka_resp_err_t e = down ? rd_kafka_mock_broker_set_down(kb->mc, id)
                                 : rd_kafka_mock_broker_set_up(kb->mc, id);
    return e ? -1 : 0;
}

void kafka_broker_stop(KafkaBroker *kb)
{
    if (!kb) return;
    if (kb->mc) rd_kafka_mock_cluster_destroy(kb->mc);
    if (kb->rk) rd_kafka_destroy(kb->rk);
    free(kb->bootstrap);
    free(kb);
}

/* ---- client configuration ------------------------------------------------------------- */

static int conf_set(rd_kafka_conf_t *conf, const char *who, const char *name, const char *value,
                    char *err, size_t cap)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
        return conn_errf(err, cap, "%s: option 'properties.%s': %s", who, name, errstr);
    return 0;
}

static int spec_has_property(const ConnSpec *spec, const char *name)
{
    for (int i = 0; i < spec->nopts; i++)
        if (strncasecmp(spec->opt_keys[i], "properties.", 11) == 0 &&
            strcmp(spec->opt_keys[i] + 11, name) == 0)
            return 1;
    return 0;
}

int kafka_conf_default(rd_kafka_conf_t *conf, const ConnSpec *spec, const char *name,
                       const char *value, char *err, size_t cap)
{
    if (spec_has_property(spec, name)) return 0;
    return conf_set(conf, "kafka", name, value, err, cap);
}

rd_kafka_resp_err_t kafka_commit_result(rd_kafka_event_t *ev)
{
    rd_kafka_resp_err_t                    e = rd_kafka_event_error(ev);
    const rd_kafka_topic_partition_list_t *res = rd_kafka_event_topic_partition_list(ev);
    for (int i = 0; !e && res && i < res->cnt; i++) e = res->elems[i].err;
    return e;
}

rd_kafka_resp_err_t kafka_committed_retry(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int tries,
                                          int timeout_ms, int *fail)
{
    rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    for (int try = 0; try < tries; try++) {
        for (int i = 0; i < l->cnt; i++) l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
        e = rd_kafka_committed(rk, l, timeout_ms);
        if (fail && *fail > 0) {
            (*fail)--;
            e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        }
        if (!e) break;
    }
    return e;
}

/* Consumer handles kept from rd_kafka_destroy (kafka_consumer_end): never
 * freed, reachable until exit. */
static pthread_mutex_t kept_mu = PTHREAD_MUTEX_INITIALIZER;
static rd_kafka_t    **kept;
static int             nkept, capkept;

static void keep_handle(rd_kafka_t *rk)
{
    pthread_mutex_lock(&kept_mu);
    if (nkept == capkept) {
        int          cap = capkept ? 2 * capkept : 8;
        rd_kafka_t **k = realloc(kept, (size_t)cap * sizeof *k);
        if (k) {
            kept = k;
            capkept = cap;
        }
    }
    if (nkept < capkept) kept[nkept++] = rk;
    pthread_mutex_unlock(&kept_mu);
}

int kafka_consumer_kept(void)
{
    pthread_mutex_lock(&kept_mu);
    int n = nkept;
    pthread_mutex_unlock(&kept_mu);
    return n;
}

void kafka_consumer_end(rd_kafka_t *rk, int timeout_ms, int assigned)
{
    rd_kafka_topic_partition_list_t *sub = NULL;
    int subscribed = rd_kafka_subscription(rk, &sub) == RD_KAFKA_RESP_ERR_NO_ERROR && sub && sub->cnt > 0;
    if (sub) rd_kafka_topic_partition_list_destroy(sub);
    char *member = subscribed ? rd_kafka_memberid(rk) : NULL;
    int   joined = member && member[0];
    if (member) rd_kafka_mem_free(rk, member);
    if (subscribed && rd_kafka_unsubscribe(rk) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
            rd_kafka_topic_partition_list_t *a = NULL;
            int owns = rd_kafka_assignment(rk, &a) != RD_KAFKA_RESP_ERR_NO_ERROR || (a && a->cnt > 0);
            if (a) rd_kafka_topic_partition_list_destroy(a);
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (!owns || (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= timeout_ms) break;
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);   /* (serves the callback) */
            if (m) rd_kafka_message_destroy(m);
        }
    }
    rd_kafka_consumer_close(rk);
    if (joined && !assigned) keep_handle(rk);
    else rd_kafka_destroy(rk);
}

rd_kafka_resp_err_t kafka_commit_wait(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l, int timeout_ms)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    if (!q) return RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE;
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(rk, l, q, NULL, NULL);
    if (!e) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms);
        if (!ev) {
            e = RD_KAFKA_RESP_ERR__TIMED_OUT;
        } else {
            e = kafka_commit_result(ev);
            rd_kafka_event_destroy(ev);
        }
    }
    rd_kafka_queue_destroy(q);
    return e;
}

rd_kafka_conf_t *kafka_conf_from_spec(const ConnSpec *spec, const char *who, void *opaque,
                                      char *err, size_t cap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        conn_errf(err, cap, "out of memory");
        return NULL;
    }
    rd_kafka_conf_set_log_cb(conf, drop_log);
    rd_kafka_conf_set_opaque(conf, opaque);
    if (conf_set(conf, who, "bootstrap.servers", "localhost:9092", err, cap)) goto fail;
    for (int i = 0; i < spec->nopts; i++) {
        const char *k = spec->opt_keys[i];
        if (strncasecmp(k, "properties.", 11) != 0) continue;
        if (k[11] == 0) {
            conn_errf(err, cap, "%s: option 'properties.' names no property", who);
            goto fail;
        }
        const char *v = spec->opt_values[i] ? spec->opt_values[i] : "";
        if (strcasecmp(k + 11, "bootstrap.servers") == 0 && v[strspn(v, " \t,")] == 0) {
            /* (librdkafka would wait for ever, silently, with no broker to ask) */
            conn_errf(err, cap, "%s: 'properties.bootstrap.servers' is empty: name at least one broker "
                                "as host:port", who);
            goto fail;
        }
        if (conf_set(conf, who, k + 11, v, err, cap)) goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/*
 * kafka.h — Kafka through librdkafka: the embedded (mock) broker, the
 * `kafka` source and the pieces of the `kafka` sink; internal to
 * runtime/connectors/ except the broker API, which the shell's
 * `sluice broker` subcommand uses.
 *
 * Every librdkafka handle made here routes librdkafka's log lines to a
 * callback that drops them (connectors never print) and its errors into the
 * owning object; librdkafka runs its own internal threads, nothing else does.
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_KAFKA_H
#define SLUICE_RUNTIME_CONNECTORS_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "runtime/connectors/conn_internal.h"
#include "runtime/connectors/source.h"

/* ---- embedded broker (kafka_broker.c) ------------------------------------------------- */

/* A Kafka-protocol cluster of nbrokers (>= 1) brokers on 127.0.0.1 (ephemeral
 * ports), librdkafka's mock cluster, with the topics of topics_csv ("a,b";
 * NULL or "" for none) created with `partitions` partitions each (>= 1), or
 * with their own count ("a:2,b").
 *
 * Limits (the mock cluster's): messages live in memory only; each partition
 * keeps about its last 5 MB or 100000 message sets (older ones are dropped
 * and the partition's low watermark advances); no persistence, no security,
 * no transactions guarantees beyond the mock's; for development and tests,
 * not production. NULL with err on failure. */
typedef struct KafkaBroker KafkaBroker;
KafkaBroker *kafka_broker_start(int nbrokers, const char *topics_csv, int partitions, char *err,
                                size_t cap);

/* "127.0.0.1:PORT,127.0.0.1:PORT2,…" — valid until kafka_broker_stop. */
const char *kafka_broker_bootstrap(const KafkaBroker *kb);

/* Fault injection for tests: take broker `id` (1 … nbrokers) down or up.
 * 0, or -1 (no such broker). */
int kafka_broker_set_down(KafkaBroker *kb, int id, int down);

/* Stop the cluster and free it (clients still connected see their
 * connections closed). NULL is fine. */
void kafka_broker_stop(KafkaBroker *kb);

/* ---- shared client configuration (kafka_broker.c) ------------------------------------ */

/* Commit l (offsets, metadata) through consumer rk and wait for the
 * answer, at most timeout_ms: a synchronous rd_kafka_commit has no timeout,
 * and a standalone consumer's commit waits for its group coordinator (once
 * seen, on the bundled broker, to wait forever in a member's close). The
 * first error, a partition's included; RD_KAFKA_RESP_ERR__TIMED_OUT when
 * no answer came. */
rd_kafka_resp_err_t kafka_commit_wait(rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *l, int timeout_ms);

/* The outcome of a commit's answer (an RD_KAFKA_EVENT_OFFSET_COMMIT): its
 * error, else the first partition's error, else none. */
rd_kafka_resp_err_t kafka_commit_result(rd_kafka_event_t *ev);

/* The committed offsets (and metadata) of l's partitions in rk's group, as
 * rd_kafka_committed, asked up to `tries` times (timeout_ms each) while the
 * group does not answer — at an assignment, when its coordinator may be
 * moving. *fail (a test seam, NULL for none) makes that many answers count
 * as none. The last answer's error. */
#define KAFKA_COMMITTED_TRIES 6
rd_kafka_resp_err_t kafka_committed_retry(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l, int tries,
                                          int timeout_ms, int *fail);

/* Close consumer rk (rd_kafka_consumer_close) and destroy it; a group
 * member leaves its group first: it unsubscribes and serves its rebalance
 * callback (the revocation) until it owns nothing, for timeout_ms at most,
 * messages polled meanwhile dropped. librdkafka 2.0's close can otherwise
 * wait forever in the callback's incremental_unassign when a rebalance
 * meets the close (librdkafka issue 4527; seen on the bundled broker).
 * `assigned`: the member's rebalance callback has seen an assignment. A
 * member that joined its group but never got one is closed and kept, not
 * destroyed: librdkafka 2.0's cooperative-sticky assignor asserts in the
 * destroy when its state was never set (librdkafka issue 4312, fixed in
 * 2.3; seen when the brokers went away mid-rebalance). Such handles stay
 * until the process ends (kafka_consumer_kept counts them). */
void kafka_consumer_end(rd_kafka_t *rk, int timeout_ms, int assigned);
int  kafka_consumer_kept(void);
#define KAFKA_LEAVE_MS 10000

/* A librdkafka configuration from a spec: every option `properties.X = V`
 * becomes librdkafka property X = V verbatim; bootstrap.servers defaults to
 * localhost:9092; log lines are dropped. opaque is set as the handle's
 * opaque. NULL with err (naming the property) on a bad property. */
rd_kafka_conf_t *kafka_conf_from_spec(const ConnSpec *spec, const char *who, void *opaque,
                                      char *err, size_t cap);

/* Set a property unless the spec's properties.* already set it. 0 or -1. */
int kafka_conf_default(rd_kafka_conf_t *conf, const ConnSpec *spec, const char *name,
                       const char *value, char *err, size_t cap);

/* ---- source (kafka_source.c) ------------------------------------------------------------ */

/* The `kafka` source constructor, dispatched to by source.c. */
int kafka_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap);

/* Test seam: make the source see only partitions with id < cap in the
 * topic's metadata (cap < 0: all, the default). librdkafka's mock cluster
 * can neither add partitions to a topic (rd_kafka_mock_topic_create answers
 * TOPIC_ALREADY_EXISTS) nor serve CreatePartitions, so the tests "add"
 * partitions by lifting the cap while the source runs. Not for production
 * use; s must be a kafka source. */
void kafka_source_test_cap_partitions(Source *s, int cap);
/* Test seam (group mode with an offsets group): the next n fetches of the
 * offsets group's committed offsets fail as if it did not answer. */
void kafka_source_test_fail_offsets(Source *s, int n);

/* ---- sink (kafka_sink.c) ---------------------------------------------------------------- */

/* The producer half of the `kafka` sink: sink.c formats each row (JSON or
 * CSV, one record without the line end) and hands it here as one message.
 * Errors are retriable (brokers unreachable, queue full: librdkafka keeps
 * the messages — message.timeout.ms defaults to 0 = never give up — and
 * kafka_sink_warning says so) or fatal (a failed delivery report, a message
 * refused at once, a fatal producer error: -1 from then on). */
typedef struct KafkaSink KafkaSink;

#define KAFKA_FLUSH_TIMEOUT_MS 30000   /* sink_prepare / sink_close wait at most this */
#define KAFKA_FLUSH_WAIT_MS    500     /* sink_flush waits at most this             */

/* Open a producer for option `topic` with the spec's properties.*. */
KafkaSink *kafka_sink_open(const ConnSpec *spec, char *err, size_t cap);

/* Queue one message (value copied; key may be NULL = no key). Serves the
 * delivery reports of earlier messages; a fatal failure seen so far makes
 * this return -1 with err (the sink is unusable after that). When
 * librdkafka's queue is full it waits for deliveries 100 ms at a time,
 * as long as it takes (backpressure; the warning says so). */
int kafka_sink_produce(KafkaSink *ks, const char *val, size_t n, const char *key, size_t keylen,
                       char *err, size_t cap);

/* Wait up to wait_ms until every queued message was delivered. 0 = all
 * delivered; 1 = some are still waiting (retriable: brokers unreachable —
 * see kafka_sink_warning); -1 with err = a fatal failure. */
int kafka_sink_flush(KafkaSink *ks, int wait_ms, char *err, size_t cap);

/* Messages queued and not yet delivered (nor failed). */
int kafka_sink_outstanding(const KafkaSink *ks);

/* "kafka: N message(s) waiting for a broker (reason)" while messages are
 * outstanding and librdkafka reported a transport problem since the last
 * successful delivery (or the queue is full); "" otherwise. Valid until the
 * next call on ks. */
const char *kafka_sink_warning(KafkaSink *ks);

/* Free (without flushing: call kafka_sink_flush first; what is left is
 * purged). NULL is fine. */
void kafka_sink_close(KafkaSink *ks);

/* kafka_sink_produce waits for room while the brokers take nothing; with
 * this set it asks stopped(ctx) every 100 ms meanwhile, and once it says 1
 * stops waiting: that message and every later one are dropped (counted in
 * kafka_sink_warning), and kafka_sink_flush never reports everything
 * delivered again — a stop (SIGINT) must not wait for ever for brokers
 * that are gone, and no checkpoint may commit what was dropped. */
void kafka_sink_set_interrupt(KafkaSink *ks, int (*stopped)(void *ctx), void *ctx);

#endif

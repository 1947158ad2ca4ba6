/*
 * kafka_source.c — the `kafka` source: one librdkafka consumer per source
 * task, partitions assigned explicitly, offsets owned by the engine.
 *
 * Life of a task:
 *   SETUP  (retried from source_next until it succeeds; a broker that is
 *          down or a topic that does not exist yet gives SOURCE_IDLE, except
 *          that a bounded read of a topic the cluster says does not exist is
 *          an error) — metadata gives the partition count; partition p
 *          belongs to task p % ntasks; with scan.bounded.mode = latest-offset
 *          each owned partition's watermarks are fetched (the high one is
 *          where the read ends); rd_kafka_assign starts fetching from the
 *          startup position.
 *   READ   rd_kafka_consumer_poll(rk, 0) until the batch is full or no
 *          message is ready (then SOURCE_IDLE, wait POLL_WAIT_US). Each
 *          message value is one record, decoded by the JSON or CSV decoder;
 *          a bad one is counted ("topic[p]@offset: reason") and skipped, or
 *          fails the source with format.on-error = fail.
 *   GROW   unbounded only: every scan.topic-partition-discovery.interval
 *          (default 5 s of now_us; 0 = never) a metadata request looks for
 *          partitions added to the topic since. A new partition p belongs to
 *          task p % ntasks as at setup; its owner adds it to its partition
 *          list (a new index, so source_partition_count grows and the
 *          runtime gives it its own watermark) and assigns it incrementally
 *          (rd_kafka_incremental_assign: the others keep their fetch
 *          positions) from the EARLIEST offset whatever the startup mode —
 *          its messages were all written after the query started, and
 *          latest-offset would lose those written before it was noticed
 *          (as Flink does). A failed discovery is retried at the next
 *          interval; reading goes on meanwhile.
 *   END    bounded only: every owned partition's position reached the high
 *          watermark fetched at setup (a bounded read never grows).
 *
 * No consumer-group rebalancing (assign, not subscribe) and no commits
 * (enable.auto.commit = false, enable.auto.offset.store = false): where to
 * read is decided here. group.id defaults to "sluice" (librdkafka's assign
 * needs one; scan.startup.mode = group-offsets reads that group's committed
 * offsets). Transport errors are librdkafka's to retry; the source keeps
 * returning SOURCE_IDLE meanwhile.
 *
 * GROUP MODE (ConnSpec.group, the setting deployment.group; docs/scaling.md).
 * Several sluice instances run one query; every source task of every
 * instance is one member of the Kafka consumer group of that name
 * (group.id = the name) and Kafka, not this file, decides who reads which
 * partition — and moves partitions when a member joins, leaves or dies:
 *
 *   SETUP   rd_kafka_subscribe(topic) — no metadata, no discovery (new
 *           partitions are the group protocol's business), task/ntasks
 *           unused. partition.assignment.strategy defaults to
 *           cooperative-sticky (a rebalance moves only the partitions that
 *           must move; the others keep being read). Bounded
 *           (latest-offset): the end of every partition of the topic is its
 *           high watermark now (group_bounds).
 *   ASSIGN  the rebalance callback (served inside rd_kafka_consumer_poll, so
 *           on the task's thread) gets partitions: their start is the
 *           GROUP's committed offset (rd_kafka_committed; of the offsets
 *           group when there is one — if it does not answer, the
 *           partitions stay paused (`pending`) and it is asked again every
 *           second (start_pending): a start from the beginning would read
 *           again what earlier checkpoints made durable), else the startup
 *           mode's (earliest; latest = the end at assignment; timestamp =
 *           offsets_for_times, or from the beginning skipping older
 *           messages; group-offsets = earliest). parts[] is indexed by the
 *           Kafka partition id in this mode, so the index — and the
 *           runtime's per-partition watermark — of a partition is the same
 *           each time it comes back; `owned` marks the ones read now and
 *           s->part_live mirrors it for source_partition_live. Each
 *           assignment bumps the partition's incarnation `gen`.
 *   REVOKE  owned = 0 (and not live: a partition read elsewhere must not
 *           hold this task's watermark back); messages of it still in
 *           flight are dropped. HELD (with an offsets group, the member
 *           alive and not closing; eager: every partition): they stay owned
 *           but `revoking`, paused, their fetched messages dropped — their
 *           positions are final; the runtime takes a checkpoint at once
 *           (source_group_revoking) and the commit of the first barrier
 *           after the revocation writes their offsets, waiting for the
 *           answer, before incremental_unassign (eager: assign(NULL))
 *           gives them up (group_release). The group waits meanwhile.
 *   COMMIT  Offsets move with checkpoints, never on their own: at
 *           source_barrier(epoch) the positions just reported by
 *           source_checkpoint (and each partition's gen) go into a FIFO
 *           of pending epochs; at source_committed(epoch) the newest
 *           pending one <= epoch is committed (async) for the partitions
 *           still owned with the same gen — a partition that left (and
 *           maybe came back, re-read from the group's offset) since that
 *           barrier is not committed by this member. Where: with
 *           ConnSpec.offsets_group, to that group through a standalone
 *           consumer `led` (a group nobody joins takes a commit whatever
 *           the rebalances of the member group — a member's commit that
 *           races one fails with ILLEGAL_GENERATION, and librdkafka then
 *           drops the member's whole assignment); else to the member group
 *           itself (Kafka fences a member whose generation is stale). What
 *           a task read after its last committed checkpoint is read again
 *           by the partition's next owner when it dies or loses its
 *           assignment: at-least-once; a held revocation hands over
 *           exactly.
 *   RESTORE The local checkpoint keeps nothing positional: the group's
 *           committed offsets are the truth (the assignment after a
 *           restart may differ). Its blob (tag "kafka-group") says which
 *           partitions the task owned at which offsets, for inspection.
 *
 *   END     bounded: when every owned partition reached its end, the task
 *           goes on polling (a rebalance may bring one not done; the poll
 *           serves the group) and ends once the group's committed offsets
 *           cover every partition's end (group_read_over, every 200 ms) —
 *           its own offsets get there through its next checkpoints.
 *
 * Group mode requires checkpoints (ConnSpec.checkpoints): without them
 * nothing is ever committed and a moved partition would start over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/connectors/formats.h"
#include "runtime/connectors/kafka.h"

#define SETUP_TIMEOUT_MS 200         /* one metadata / watermark request during setup */
#define SETUP_RETRY_US   (200 * 1000)
#define POLL_WAIT_US     (5 * 1000)
#define DISCOVERY_US     (5 * 1000 * 1000)   /* default partition discovery interval */
#define GROUP_FETCH_MS   5000        /* group mode: committed offsets of assigned partitions */
#define PEND_MAX         8           /* group mode: pending (not yet committed) epochs kept  */
#define GROUP_CHECK_US   (200 * 1000)/* group + bounded: how often a finished member looks at
                                        the group's offsets                                 */

enum { FMT_JSON, FMT_CSV };
enum { START_EARLIEST, START_LATEST, START_GROUP, START_TIMESTAMP };

typedef struct KPart {
    int32_t id;
    int64_t end;     /* bounded: high watermark at setup                   */
    int64_t pos;     /* next offset to read (known once a message arrived) */
    int     done;
    int     skip;    /* startup timestamp: drop messages before start_ms until the first at or after it */
    int     owned;   /* group mode: assigned to this member now                        */
    int     pending; /* group mode, offsets group: its start is not known yet (the
                        offsets group did not answer): paused, asked again      */
    int     revoking;/* group mode: revoked, held until a checkpoint has committed it
                        (ConnSpec.offsets_group); owned still, not read                */
    uint32_t gen;    /* group mode: incremented at every assignment of the partition   */
    int64_t  claimed;/* group mode, claims: the offset the group has for it (claimed or
                        committed by this member), -1 unknown                           */
} KPart;

/* Group mode: the offsets reported at a checkpoint barrier, until that
 * checkpoint is committed (see COMMIT at the top). */
typedef struct KPending {
    int64_t   epoch;
    int       n;      /* entries in pos/gen: partition ids 0 … n-1    */
    int       cap;
    int64_t  *pos;    /* next offset, or -1 = not owned / not known   */
    uint32_t *gen;
    char      meta[SOURCE_META_MAX];  /* offset metadata to commit with, "" none */
} KPending;

typedef struct KafkaSource {
    rd_kafka_t  *rk;
    char        *topic;
    int          task, ntasks;
    int          fmt, fail, bounded, start;
    int          follow;       /* a followed table: unbounded, caught up at the ends at setup */
    char        *tkey_name;    /* table.key: the column a message key names, or NULL      */
    int          tkey;         /* its index among the columns read, -1 none               */
    char        *tkbuf;        /* a tombstone's key as a JSON object (grown)              */
    size_t       tkcap;
    int64_t      start_ms;     /* START_TIMESTAMP: scan.startup.timestamp-millis */
    int          ready;        /* setup finished                       */
    KPart       *parts;        /* the owned partitions                  */
    int          nparts;
    int         *slot;         /* partition id → index in parts, or -1  */
    int          nslot;
    int          ndone;
    int          ncols;
    char       **names;
    int         *map;          /* CSV: column → field                   */
    int          nfields;      /* CSV: fields a record needs at least   */
    CsvParser    csv;
    char         last_err[256];/* the last error librdkafka reported    */
    KPart       *rst;          /* restored positions, applied at setup  */
    int          nrst;
    int64_t      rst_topic_parts; /* the topic's partition count then   */
    int          restored;     /* source_restore succeeded              */
    int64_t      topic_parts;  /* the topic's partition count known now */
    int64_t      discover_us;  /* partition discovery interval; 0 = never */
    int64_t      next_discover;/* now_us of the next discovery; 0 = unset */
    int          part_cap;     /* test seam: metadata shows < this id; -1 */
    /* group mode (see the top) */
    Source      *src;          /* for the rebalance callback              */
    int          group;        /* 1: a member of consumer group group_id  */
    char         group_id[128];
    uint8_t     *live;         /* per partition id: owned now (s->part_live) */
    KPending     pend[PEND_MAX];/* pending epochs, oldest first           */
    int          npend;
    char         cb_err[256];  /* a failure inside the rebalance callback */
    int64_t     *gend;         /* group + bounded: per partition id, the end of the read */
    int          ngend;        /* (the high watermark when this member started); a
                                  partition that was empty then (end <= low) has end 0 */
    int64_t      next_gcheck;  /* group + bounded: now_us of the next look at the group's offsets */
    int64_t      rate;         /* scan.rate-limit: rows per second at most, 0 = no limit */
    int          loss_warn;    /* scan.on-data-loss = warn (default fail)                */
    double       tokens;       /* rows that may be read now (a bucket of at most 0.1 s)  */
    int64_t      rate_at;      /* now_us the bucket was filled last; 0 = not yet          */
    int64_t      last_barrier; /* group: the epoch of the last source_barrier, 0 none     */
    int64_t      release_after;/* group, held revocations: released by the commit of a
                                  barrier epoch > this                                    */
    int          closing;      /* kafka_close: revocations are not held                   */
    int          assigned;     /* on_rebalance has seen an assignment                     */
    int          hold_eager;   /* the revocation held is an eager one (range, roundrobin) */
    int          npending;     /* partitions whose start the offsets group has not told yet */
    int64_t      pending_at;   /* now_us of the next ask; 0 = at once                     */
    int          test_fail_offsets; /* test seam: the next N offset fetches fail           */
    rd_kafka_t  *led;          /* ConnSpec.offsets_group: a standalone consumer of that
                                  group, where the offsets go (NULL: the group's own)     */
    rd_kafka_queue_t *ledq;    /* the answers to its asynchronous commits                 */
    int          led_inflight; /* commits sent through it, not answered yet               */
    char         led_id[160];  /* its group                                               */
} KafkaSource;

#define LEDGER_WAIT_MS 5000    /* a commit to the offsets group waits this long at most */
#define STATS_MS       "100"   /* how often a member that commits to its own group hears
                                  whether the group is rebalancing (on_stats)             */

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)err;
    KafkaSource *ks = opaque;
    snprintf(ks->last_err, sizeof ks->last_err, "%s", reason);
}

/* librdkafka's statistics, served by the task's consumer poll: is this
 * member's group steady (cgrp.join_state "steady"), or rebalancing?
 *
 * Why: with cooperative-sticky, librdkafka up to 2.8 takes a commit that
 * fails with ILLEGAL_GENERATION — one sent while a rebalance is under way —
 * as the loss of the member's whole assignment, and rejoins, which starts
 * another rebalance (librdkafka issue 4059, fixed in its PR 4908). Members
 * that commit at every checkpoint then keep each other rebalancing for
 * ever: the partitions go back and forth, are read again from the group's
 * offsets each time, and a bounded read never ends. So a member that
 * commits to its own group does so only while the group is steady
 * (kafka_committed keeps the epoch pending meanwhile), and looks at the
 * group's offsets (group_read_over) only then: an offset fetch during a
 * rebalance is not answered until it is over. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    KafkaSource *ks = opaque;
    const char  *p = strstr(json, "\"join_state\"");
    if (p) {
        p += strlen("\"join_state\"");
        while (*p == ' ' || *p == ':') p++;
        ks->src->group_unsteady = strncmp(p, "\"steady\"", 8) != 0;
    }
    return 0;   /* librdkafka frees json */
}

/* ---- setup ----------------------------------------------------------------------------- */

/* The test seam (kafka_source_test_cap_partitions): partition ids the
 * metadata is allowed to show. */
static int visible(const KafkaSource *ks, int32_t id)
{
    return ks->part_cap < 0 || id < ks->part_cap;
}

static int visible_partitions(const KafkaSource *ks, const struct rd_kafka_metadata *md)
{
    int n = 0;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) n += visible(ks, md->topics[0].partitions[i].id);
    return n;
}

/* The topic's metadata: 0 with *md, or 1 (try later: ks->last_err says why), -1 (s->error). */
static int topic_metadata(Source *s, KafkaSource *ks, const struct rd_kafka_metadata **md)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(ks->rk, ks->topic, NULL);
    if (!rkt) {
        conn_set_error(s, "kafka: cannot make a handle for topic '%s'", ks->topic);
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, rkt, md, SETUP_TIMEOUT_MS);
    rd_kafka_topic_destroy(rkt);
    if (e) {
        snprintf(ks->last_err, sizeof ks->last_err, "metadata: %s", rd_kafka_err2str(e));
        return 1;
    }
    return 0;
}

/* 1 = done, 0 = not yet (retry later), -1 = error (s->error set) */
static int discover(Source *s, KafkaSource *ks)
{
    const struct rd_kafka_metadata *md = NULL;
    int                             mrc = topic_metadata(s, ks, &md);
    if (mrc) return mrc < 0 ? -1 : 0;
    int rc = 0;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        rd_kafka_resp_err_t te = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
        snprintf(ks->last_err, sizeof ks->last_err, "topic '%s': %s", ks->topic,
                 rd_kafka_err2str(te));
        if (ks->bounded && te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            conn_set_error(s, "kafka: topic '%s' does not exist", ks->topic);
            rc = -1;
        }
        rd_kafka_metadata_destroy(md);
        return rc;
    }
    int n = visible_partitions(ks, md), maxid = -1;
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        if (md->topics[0].partitions[i].id > maxid && visible(ks, md->topics[0].partitions[i].id))
            maxid = md->topics[0].partitions[i].id;
    ks->parts = calloc((size_t)(n > 0 ? n : 1), sizeof *ks->parts);
    ks->slot = malloc((size_t)(maxid + 1 > 0 ? maxid + 1 : 1) * sizeof *ks->slot);
    if (!ks->parts || !ks->slot) {
        rd_kafka_metadata_destroy(md);
        conn_set_error(s, "out of memory");
        return -1;
    }
    ks->nslot = maxid + 1;
    ks->topic_parts = n;
    for (int i = 0; i < ks->nslot; i++) ks->slot[i] = -1;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t id = md->topics[0].partitions[i].id;
        if (!visible(ks, id) || id % ks->ntasks != ks->task) continue;
        ks->slot[id] = ks->nparts;
        ks->parts[ks->nparts].id = id;
        ks->parts[ks->nparts].pos = -1;
        ks->nparts++;
    }
    rd_kafka_metadata_destroy(md);
    for (int i = 0; i < ks->nrst; i++) {
        int32_t id = ks->rst[i].id;
        if (id < 0 || id >= ks->nslot || ks->slot[id] < 0) {
            conn_set_error(s, "kafka: the checkpoint has partition %d of topic '%s' (then %lld "
                              "partitions), which the topic does not have now (%d partitions)",
                           (int)id, ks->topic, (long long)ks->rst_topic_parts, n);
            return -1;
        }
    }
    return 1;
}

static void reset_parts(KafkaSource *ks)
{
    free(ks->parts);
    free(ks->slot);
    ks->parts = NULL;
    ks->slot = NULL;
    ks->nparts = ks->nslot = ks->ndone = 0;
}

/* Fetch watermarks (bounded) and start positions, then assign. */
static int start_reading(Source *s, KafkaSource *ks)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(ks->nparts + 1);
    if (!l) {
        conn_set_error(s, "out of memory");
        return -1;
    }
    int64_t lo[ks->nparts > 0 ? ks->nparts : 1];
    for (int i = 0; i < ks->nparts; i++) {
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, ks->topic, ks->parts[i].id);
        int64_t hi = 0;
        lo[i] = 0;
        if (ks->bounded || ks->follow || ks->start == START_LATEST) {
            rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
                ks->rk, ks->topic, ks->parts[i].id, &lo[i], &hi, SETUP_TIMEOUT_MS);
            if (e) {
                snprintf(ks->last_err, sizeof ks->last_err, "watermarks of partition %d: %s",
                         (int)ks->parts[i].id, rd_kafka_err2str(e));
                rd_kafka_topic_partition_list_destroy(l);
                return 0;
            }
        }
        ks->parts[i].end = hi;
        if (ks->restored && !ks->bounded && ks->parts[i].id >= ks->rst_topic_parts) {
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;   /* added since the checkpoint: all of it */
            ks->parts[i].pos = -1;
            continue;
        }
        switch (ks->start) {
        case START_EARLIEST:   /* lo is known only when it was queried; else "not known" */
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
            ks->parts[i].pos = ks->bounded || ks->follow ? lo[i] : -1;
            break;
        case START_LATEST: tp->offset = hi; ks->parts[i].pos = hi; break;
        case START_TIMESTAMP: tp->offset = ks->start_ms; break;   /* looked up below */
        default: tp->offset = RD_KAFKA_OFFSET_STORED; break;   /* group-offsets */
        }
    }
    if (ks->start == START_TIMESTAMP && ks->nparts > 0) {
        /* the first offset whose timestamp is >= start_ms, per partition. A
         * broker that cannot tell (-1: librdkafka's mock cluster answers that
         * to every lookup; a real broker when no message is that recent yet)
         * gets the same answer by reading from the beginning and dropping
         * the messages before the first one at or after start_ms. */
        rd_kafka_resp_err_t e = rd_kafka_offsets_for_times(ks->rk, l, SETUP_TIMEOUT_MS * 5);
        if (e && e != RD_KAFKA_RESP_ERR__TIMED_OUT) {
            snprintf(ks->last_err, sizeof ks->last_err, "offsets for the startup timestamp: %s",
                     rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return 0;
        }
        for (int i = 0; i < ks->nparts; i++) {
            if (ks->restored && !ks->bounded && ks->parts[i].id >= ks->rst_topic_parts) continue;
            int64_t off = e ? -1 : l->elems[i].offset;
            if (off >= 0 && !l->elems[i].err) {
                ks->parts[i].pos = off;
            } else {
                l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
                ks->parts[i].pos = ks->bounded ? lo[i] : -1;
                ks->parts[i].skip = 1;
            }
        }
    }
    if (ks->start == START_GROUP && ks->nparts > 0) {
        rd_kafka_resp_err_t e = rd_kafka_committed(ks->rk, l, SETUP_TIMEOUT_MS * 5);
        if (e) {
            snprintf(ks->last_err, sizeof ks->last_err, "committed offsets: %s", rd_kafka_err2str(e));
            rd_kafka_topic_partition_list_destroy(l);
            return 0;
        }
        for (int i = 0; i < ks->nparts; i++) {
            if (ks->restored && !ks->bounded && ks->parts[i].id >= ks->rst_topic_parts) continue;
            int64_t off = l->elems[i].offset;
            ks->parts[i].pos = off >= 0 ? off : -1;
            if (off < 0) l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
            if (off < 0 && ks->bounded) ks->parts[i].pos = lo[i];
        }
    }
    for (int r = 0; r < ks->nrst; r++) {   /* restored positions win over the startup mode */
        int i = ks->slot[ks->rst[r].id];
        if (ks->rst[r].pos >= 0) {
            l->elems[i].offset = ks->rst[r].pos;
            ks->parts[i].pos = ks->rst[r].pos;
            ks->parts[i].skip = ks->rst[r].skip;   /* still before the startup timestamp, or past it */
        }
        if (ks->bounded && ks->rst[r].end >= 0) ks->parts[i].end = ks->rst[r].end;
    }
    if (ks->bounded)
        for (int i = 0; i < ks->nparts; i++)
            if (ks->parts[i].pos >= ks->parts[i].end) {
                ks->parts[i].done = 1;
                ks->ndone++;
            }
    rd_kafka_resp_err_t e = rd_kafka_assign(ks->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        conn_set_error(s, "kafka: cannot assign partitions of '%s': %s", ks->topic,
                       rd_kafka_err2str(e));
        return -1;
    }
    return 1;
}

/* Group mode, bounded: the end of every partition of the topic (its high
 * watermark now; 0 for one empty now). 1 done, 0 retry, -1 error. */
static int group_bounds(Source *s, KafkaSource *ks)
{
    const struct rd_kafka_metadata *md = NULL;
    int                             mrc = topic_metadata(s, ks, &md);
    if (mrc) return mrc < 0 ? -1 : 0;
    if (md->topic_cnt != 1 || md->topics[0].err) {
        rd_kafka_resp_err_t te = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN;
        rd_kafka_metadata_destroy(md);
        if (te == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
            conn_set_error(s, "kafka: topic '%s' does not exist", ks->topic);
            return -1;
        }
        snprintf(ks->last_err, sizeof ks->last_err, "topic '%s': %s", ks->topic, rd_kafka_err2str(te));
        return 0;
    }
    int maxid = -1;
    for (int i = 0; i < md->topics[0].partition_cnt; i++)
        if (md->topics[0].partitions[i].id > maxid) maxid = md->topics[0].partitions[i].id;
    int64_t *end = calloc((size_t)(maxid + 1 > 0 ? maxid + 1 : 1), sizeof *end);
    if (!end) {
        rd_kafka_metadata_destroy(md);
        conn_set_error(s, "out of memory");
        return -1;
    }
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int32_t             id = md->topics[0].partitions[i].id;
        int64_t             lo = 0, hi = 0;
        rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(ks->rk, ks->topic, id, &lo, &hi, SETUP_TIMEOUT_MS);
        if (e) {
            snprintf(ks->last_err, sizeof ks->last_err, "watermarks of partition %d: %s", (int)id,
                     rd_kafka_err2str(e));
            free(end);
            rd_kafka_metadata_destroy(md);
            return 0;
        }
        end[id] = hi > lo ? hi : 0;
    }
    rd_kafka_metadata_destroy(md);
    free(ks->gend);
    ks->gend = end;
    ks->ngend = maxid + 1;
    return 1;
}

/* Where the group's offsets are read and written: the offsets group's
 * standalone consumer, or the member itself. */
static rd_kafka_t *offsets_rk(const KafkaSource *ks)
{
    return ks->led ? ks->led : ks->rk;
}

/* …and that group's name. */
static const char *offsets_group_id(const KafkaSource *ks)
{
    return ks->led ? ks->led_id : ks->group_id;
}

/* The partitions this task owns that are held (revoking) or wait for their
 * start (pending), as a list to unassign, pause or look up; NULL when out
 * of memory. */
static rd_kafka_topic_partition_list_t *flagged_parts(const KafkaSource *ks, int pending)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(ks->nparts > 0 ? ks->nparts : 1);
    for (int id = 0; l && id < ks->nparts; id++)
        if (pending ? ks->parts[id].pending : ks->parts[id].revoking)
            rd_kafka_topic_partition_list_add(l, ks->topic, id);
    return l;
}

/* The answers to the offsets group's asynchronous commits that have come
 * (waiting up to wait_ms for the outstanding ones): a failure is a
 * warning, a later commit covers it. */
static void ledger_serve(KafkaSource *ks, int wait_ms)
{
    while (ks->ledq && ks->led_inflight > 0) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(ks->ledq, wait_ms);
        if (!ev) return;
        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_OFFSET_COMMIT) {
            ks->led_inflight--;
            rd_kafka_resp_err_t e = kafka_commit_result(ev);
            if (e)
                snprintf(ks->last_err, sizeof ks->last_err, "committing offsets to group '%s': %s",
                         ks->led_id, rd_kafka_err2str(e));
        }
        rd_kafka_event_destroy(ev);
    }
}

/* Commit l to the offsets group: sync waits for the answer (at most
 * LEDGER_WAIT_MS); else the answer is served by ledger_serve. */
static rd_kafka_resp_err_t ledger_commit(KafkaSource *ks, const rd_kafka_topic_partition_list_t *l, int sync)
{
    if (sync) return kafka_commit_wait(ks->led, l, LEDGER_WAIT_MS);
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(ks->led, l, ks->ledq, NULL, NULL);
    if (!e) ks->led_inflight++;
    return e;
}

/* The offset metadata of l's partitions (the group exchange's decision
 * records) for source_group_take_metas, each once. */
static void take_decisions(Source *s, const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        if (tp->err || !tp->metadata || tp->metadata_size == 0 || tp->metadata_size >= SOURCE_META_MAX)
            continue;
        char m[SOURCE_META_MAX];
        memcpy(m, tp->metadata, tp->metadata_size);
        m[tp->metadata_size] = 0;
        int dup = 0;
        for (int j = 0; j < s->nmetas && !dup; j++) dup = strcmp(s->metas[j], m) == 0;
        if (!dup && s->nmetas < SOURCE_METAS_MAX) memcpy(s->metas[s->nmetas++], m, sizeof m);
    }
}

/* Group mode, bounded: every partition of the bounded read is done — the
 * group has committed (at a checkpoint of whichever member read it) an
 * offset at or past its end. 1 yes, 0 not yet. When it is, the decision
 * records of every partition are handed on (source_group_take_metas): the
 * members that decided the last segments may not have marked them
 * committed in the exchange yet, and the one that ends resolves them
 * before its end markers. */
static int group_read_over(KafkaSource *ks)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(ks->ngend > 0 ? ks->ngend : 1);
    if (!l) return 0;
    for (int id = 0; id < ks->ngend; id++)
        if (ks->gend[id] > 0) rd_kafka_topic_partition_list_add(l, ks->topic, id)->offset = RD_KAFKA_OFFSET_INVALID;
    int over = 1;
    if (l->cnt > 0) {
        rd_kafka_resp_err_t e = rd_kafka_committed(offsets_rk(ks), l, SETUP_TIMEOUT_MS * 5);
        if (e) {
            snprintf(ks->last_err, sizeof ks->last_err, "committed offsets of group '%s': %s",
                     offsets_group_id(ks), rd_kafka_err2str(e));
            over = 0;
        }
        for (int i = 0; over && i < l->cnt; i++)
            if (l->elems[i].err || l->elems[i].offset < ks->gend[l->elems[i].partition]) over = 0;
        if (over && ks->src->claim_meta[0]) take_decisions(ks->src, l);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return over;
}

/* Every partition this task owns has reached its end (bounded). */
static int owned_done(const KafkaSource *ks)
{
    if (!ks->group) return ks->ndone == ks->nparts;
    for (int i = 0; i < ks->nparts; i++)
        if (ks->parts[i].owned && !ks->parts[i].done) return 0;
    return 1;
}

/* Group mode: subscribe; Kafka assigns partitions through on_rebalance. */
static int group_setup(Source *s, KafkaSource *ks)
{
    if (ks->bounded && !ks->gend) {
        int rc = group_bounds(s, ks);
        if (rc <= 0) return rc;
    }
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    if (!l) {
        conn_set_error(s, "out of memory");
        return -1;
    }
    rd_kafka_topic_partition_list_add(l, ks->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(ks->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (e) {
        conn_set_error(s, "kafka: cannot join group '%s' for topic '%s': %s", ks->group_id,
                       ks->topic, rd_kafka_err2str(e));
        return -1;
    }
    ks->ready = 1;
    return 1;
}

static int setup(Source *s, KafkaSource *ks)
{
    if (ks->group) return group_setup(s, ks);
    if (!ks->parts) {
        int rc = discover(s, ks);
        if (rc <= 0) return rc;
    }
    int rc = start_reading(s, ks);
    if (rc == 0) {                  /* rediscover next time: partitions may have changed */
        reset_parts(ks);
        return 0;
    }
    if (rc < 0) return -1;
    ks->ready = 1;
    s->nparts = ks->nparts;   /* one watermark per partition in the runtime */
    return 1;
}

/* GROW: partitions added to the topic since setup (see the top). 0 = nothing
 * new or try again later, 1 = partitions were added, -1 = error (s->error). */
static int grow(Source *s, KafkaSource *ks)
{
    const struct rd_kafka_metadata *md = NULL;
    int                             mrc = topic_metadata(s, ks, &md);
    if (mrc) return mrc < 0 ? -1 : 0;
    int n = 0, maxid = ks->nslot - 1, nnew = 0, rc = 0;
    if (md->topic_cnt == 1 && !md->topics[0].err) n = visible_partitions(ks, md);
    if (n <= ks->topic_parts) {   /* Kafka never takes partitions away */
        rd_kafka_metadata_destroy(md);
        return 0;
    }
    const rd_kafka_metadata_topic_t *mt = &md->topics[0];
    for (int i = 0; i < mt->partition_cnt; i++) {
        int32_t id = mt->partitions[i].id;
        if (!visible(ks, id) || id % ks->ntasks != ks->task) continue;
        if (id < ks->nslot && ks->slot[id] >= 0) continue;
        nnew++;
        if (id > maxid) maxid = id;
    }
    if (nnew > 0) {
        KPart *parts = realloc(ks->parts, (size_t)(ks->nparts + nnew) * sizeof *parts);
        if (parts) ks->parts = parts;
        int *slot = parts ? realloc(ks->slot, (size_t)(maxid + 1) * sizeof *slot) : NULL;
        rd_kafka_topic_partition_list_t *l = slot ? rd_kafka_topic_partition_list_new(nnew) : NULL;
        if (!l) {
            if (slot) ks->slot = slot;
            rd_kafka_metadata_destroy(md);
            conn_set_error(s, "out of memory");
            return -1;
        }
        ks->slot = slot;
        for (int i = ks->nslot; i <= maxid; i++) slot[i] = -1;
        ks->nslot = maxid + 1;
        for (int i = 0; i < mt->partition_cnt; i++) {
            int32_t id = mt->partitions[i].id;
            if (!visible(ks, id) || id % ks->ntasks != ks->task || slot[id] >= 0) continue;
            slot[id] = ks->nparts;
            memset(&ks->parts[ks->nparts], 0, sizeof ks->parts[0]);
            ks->parts[ks->nparts].id = id;
            ks->parts[ks->nparts].pos = -1;   /* from the earliest: see the top */
            ks->nparts++;
            rd_kafka_topic_partition_list_add(l, ks->topic, id)->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
        rd_kafka_error_t *e = rd_kafka_incremental_assign(ks->rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (e) {
            conn_set_error(s, "kafka: cannot assign the new partitions of '%s': %s", ks->topic,
                           rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
            rd_kafka_metadata_destroy(md);
            return -1;
        }
        s->nparts = ks->nparts;   /* the runtime adds a watermark per new partition */
        rc = 1;
    }
    ks->topic_parts = n;
    rd_kafka_metadata_destroy(md);
    return rc;
}

/* ---- group mode: assignment ------------------------------------------------------------------ */

/* Make parts/slot/live cover partition ids 0 … n-1 (group mode: index = id). 0 or -1 (OOM). */
static int group_cover(KafkaSource *ks, int n)
{
    if (n <= ks->nparts) return 0;
    KPart *parts = realloc(ks->parts, (size_t)n * sizeof *parts);
    if (!parts) return -1;
    ks->parts = parts;
    int *slot = realloc(ks->slot, (size_t)n * sizeof *slot);
    if (!slot) return -1;
    ks->slot = slot;
    uint8_t *live = realloc(ks->live, (size_t)n);
    if (!live) return -1;
    ks->live = live;
    for (int i = ks->nparts; i < n; i++) {
        memset(&parts[i], 0, sizeof parts[i]);
        parts[i].id = i;
        parts[i].pos = -1;
        slot[i] = i;
        live[i] = 0;
    }
    ks->nparts = ks->nslot = n;
    ks->src->part_live = ks->live;
    ks->src->nparts = n;   /* the runtime keeps a watermark per partition id */
    return 0;
}

/* Newly assigned partitions (l, modified in place: the start offsets):
 * the group's committed offset, else the startup mode's (see the top). */
static void group_claim(rd_kafka_t *rk, KafkaSource *ks, rd_kafka_topic_partition_list_t *l,
                        const rd_kafka_topic_partition_list_t *committed);

/* With an offsets group: partitions of l it has no offset for take the
 * member group's own, if any — where a job started before the offsets
 * moved to the offsets group left them. */
static void legacy_offsets(rd_kafka_t *rk, rd_kafka_topic_partition_list_t *l)
{
    rd_kafka_topic_partition_list_t *m = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
    if (!m) return;
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].err || l->elems[i].offset < 0)
            rd_kafka_topic_partition_list_add(m, l->elems[i].topic, l->elems[i].partition);
    if (m->cnt > 0 && rd_kafka_committed(rk, m, GROUP_FETCH_MS) == RD_KAFKA_RESP_ERR_NO_ERROR)
        for (int j = 0; j < m->cnt; j++) {
            if (m->elems[j].err || m->elems[j].offset < 0) continue;
            rd_kafka_topic_partition_t *tp =
                rd_kafka_topic_partition_list_find(l, m->elems[j].topic, m->elems[j].partition);
            tp->offset = m->elems[j].offset;
            tp->err = RD_KAFKA_RESP_ERR_NO_ERROR;
        }
    rd_kafka_topic_partition_list_destroy(m);
}

static void group_assign(rd_kafka_t *rk, KafkaSource *ks, rd_kafka_topic_partition_list_t *l)
{
    int maxid = -1;
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].partition > maxid) maxid = l->elems[i].partition;
    if (maxid >= 65535 || group_cover(ks, maxid + 1) != 0) {
        snprintf(ks->cb_err, sizeof ks->cb_err, maxid >= 65535 ? "partition id %d is too large"
                 : "out of memory (partition %d)", maxid);
        return;
    }
    if (l->cnt > 0) ks->src->group_assigns++;   /* (an empty one changes nothing) */
    for (int i = 0; i < l->cnt; i++) l->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
    /* a partition this member read to its end before was paused (kafka_next),
     * and librdkafka keeps an application's pause across assignments */
    rd_kafka_resume_partitions(rk, l);
    for (int i = 0; i < l->cnt; i++) l->elems[i].err = RD_KAFKA_RESP_ERR_NO_ERROR;
    /* without an offsets group (a Kafka exchange's stage 0) the offsets carry
     * the decision records: asked again while the group does not answer;
     * the offsets group's partitions wait instead (start_pending) */
    rd_kafka_resp_err_t e = kafka_committed_retry(offsets_rk(ks), l, ks->led ? 1 : KAFKA_COMMITTED_TRIES,
                                                  GROUP_FETCH_MS, ks->led ? &ks->test_fail_offsets : NULL);
    if (!e && ks->led) legacy_offsets(rk, l);
    int nts = 0;
    Source *s = ks->src;
    /* what the group had (metadata included), for the claim at the end */
    rd_kafka_topic_partition_list_t *had = s->claim_meta[0] && !e ? rd_kafka_topic_partition_list_copy(l) : NULL;
    if (!e) take_decisions(s, l);
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        KPart                      *kp = &ks->parts[tp->partition];
        kp->owned = 1;
        kp->gen++;
        kp->done = 0;
        kp->claimed = -1;
        kp->skip = 0;
        ks->live[tp->partition] = 1;
        if (ks->bounded)   /* a partition added since this member started is not part of the read */
            kp->end = tp->partition < ks->ngend ? ks->gend[tp->partition] : 0;
        if (e) {   /* the group's offsets are unknown */
            snprintf(ks->last_err, sizeof ks->last_err, "committed offsets of group '%s': %s",
                     offsets_group_id(ks), rd_kafka_err2str(e));
            kp->pos = -1;
            if (ks->led) {   /* paused (on_rebalance) until the offsets group answers (kafka_next) */
                tp->offset = RD_KAFKA_OFFSET_END;
                if (!kp->pending) ks->npending++;
                kp->pending = 1;
                ks->pending_at = 0;
            } else {         /* librdkafka fetches them itself, else auto.offset.reset */
                tp->offset = RD_KAFKA_OFFSET_STORED;
            }
            continue;
        }
        if (!tp->err && tp->offset >= 0) {   /* where the group's last checkpoint left it */
            kp->pos = tp->offset;
            if (ks->bounded && kp->pos >= kp->end) kp->done = 1;
            continue;
        }
        if (ks->bounded && kp->end == 0) kp->done = 1;   /* nothing to read in it */
        tp->err = RD_KAFKA_RESP_ERR_NO_ERROR;
        kp->pos = -1;
        switch (ks->start) {
        case START_LATEST: tp->offset = RD_KAFKA_OFFSET_END; break;
        case START_TIMESTAMP: tp->offset = ks->start_ms; nts++; break;
        default: tp->offset = RD_KAFKA_OFFSET_BEGINNING; break;   /* earliest, group-offsets */
        }
    }
    if (nts == 0) {
        if (had) group_claim(rk, ks, l, had);
        if (had) rd_kafka_topic_partition_list_destroy(had);
        return;
    }
    rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_new(nts);
    if (!q) {
        snprintf(ks->cb_err, sizeof ks->cb_err, "out of memory");
        if (had) rd_kafka_topic_partition_list_destroy(had);
        return;
    }
    for (int i = 0; i < l->cnt; i++)
        if (l->elems[i].offset == ks->start_ms && ks->parts[l->elems[i].partition].pos < 0)
            rd_kafka_topic_partition_list_add(q, l->elems[i].topic, l->elems[i].partition)->offset =
                ks->start_ms;
    e = rd_kafka_offsets_for_times(rk, q, SETUP_TIMEOUT_MS * 5);
    for (int j = 0; j < q->cnt; j++) {   /* as start_reading does: -1 → skip from the start */
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, q->elems[j].topic, q->elems[j].partition);
        KPart *kp = &ks->parts[q->elems[j].partition];
        if (!e && !q->elems[j].err && q->elems[j].offset >= 0) {
            tp->offset = q->elems[j].offset;
            kp->pos = q->elems[j].offset;
        } else {
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
            kp->skip = 1;
        }
    }
    rd_kafka_topic_partition_list_destroy(q);
    if (had) {
        for (int i = 0; i < l->cnt; i++)   /* a start found while reading (skip): no claim */
            if (ks->parts[l->elems[i].partition].skip) l->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        group_claim(rk, ks, l, had);
        for (int i = 0; i < l->cnt; i++)
            if (ks->parts[l->elems[i].partition].skip) l->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_topic_partition_list_destroy(had);
    }
}

/* The claim metadata of a partition whose metadata was old[0..n): our own
 * claim, then the "<writer> <seg>" pairs of old ("kx1 w s w s …") whose
 * writer is not ours, as many as fit. */
static void claim_meta(const char *own, const char *old, size_t n, char *out, size_t cap)
{
    snprintf(out, cap, "%s", own);
    if (!old || n < 4 || memcmp(old, "kx1 ", 4) != 0) return;
    const char *ow = own + 4;   /* our writer: the 16 hex digits after "kx1 " */
    size_t      at = 4;
    while (at < n) {
        size_t a = at, b, c;
        while (a < n && old[a] == ' ') a++;
        b = a;
        while (b < n && old[b] != ' ') b++;
        c = b + 1;
        while (c < n && old[c] != ' ') c++;
        if (b >= n || b - a != 16 || c <= b + 1) return;   /* not a pair: stop */
        size_t len = strlen(out);
        if (strncmp(old + a, ow, 16) != 0 && len + 1 + (c - a) < cap) {
            out[len] = ' ';
            memcpy(out + len + 1, old + a, c - a);
            out[len + 1 + (c - a)] = 0;
        }
        at = c;
    }
}

/* Claim the partitions of l (just assigned; offsets as group_assign set
 * them, committed ones already known) for this source's owner: commit them
 * again with ks->src->claim_meta (source.h). */
static void group_claim(rd_kafka_t *rk, KafkaSource *ks, rd_kafka_topic_partition_list_t *l,
                        const rd_kafka_topic_partition_list_t *committed)
{
    Source *s = ks->src;
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_new(l->cnt > 0 ? l->cnt : 1);
    if (!c) return;
    for (int i = 0; i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        const rd_kafka_topic_partition_t *old = committed ? &committed->elems[i] : NULL;
        int64_t off = tp->offset;
        if (off == RD_KAFKA_OFFSET_BEGINNING || off == RD_KAFKA_OFFSET_END) {
            int64_t lo, hi;
            if (rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, GROUP_FETCH_MS))
                continue;   /* unknown: no claim (a warning below) */
            off = off == RD_KAFKA_OFFSET_BEGINNING ? lo : hi;
        }
        if (off < 0) continue;   /* a start to be found by timestamp while reading: no claim */
        char m[SOURCE_META_MAX];
        claim_meta(s->claim_meta, old ? old->metadata : NULL, old ? old->metadata_size : 0, m, sizeof m);
        rd_kafka_topic_partition_t *ct = rd_kafka_topic_partition_list_add(c, tp->topic, tp->partition);
        ct->offset = off;
        if (tp->partition >= 0 && tp->partition < ks->nparts) ks->parts[tp->partition].claimed = off;
        ct->metadata = strdup(m);
        ct->metadata_size = ct->metadata ? strlen(m) : 0;
    }
    rd_kafka_resp_err_t e = c->cnt ? rd_kafka_commit(rk, c, 0) : RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int i = 0; !e && i < c->cnt; i++)
        if (c->elems[i].err) e = c->elems[i].err;
    if (e || c->cnt < l->cnt)
        snprintf(ks->last_err, sizeof ks->last_err, "claiming partitions in group '%s': %s", ks->group_id,
                 e ? rd_kafka_err2str(e) : "a start offset is unknown");
    rd_kafka_topic_partition_list_destroy(c);
}

static void group_revoke(KafkaSource *ks, const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; i < (l ? l->cnt : ks->nparts); i++) {
        int32_t id = l ? l->elems[i].partition : i;
        if (id < 0 || id >= ks->nparts) continue;
        if (ks->parts[id].owned) ks->src->group_revokes++;
        if (ks->parts[id].revoking) ks->src->group_revoking--;
        if (ks->parts[id].pending) ks->npending--;
        ks->parts[id].pending = 0;
        ks->parts[id].owned = 0;
        ks->parts[id].revoking = 0;
        ks->live[id] = 0;
    }
}

/* A revocation of a live member, held (ConnSpec.offsets_group):
 * the partitions of l stay assigned but are paused, and what was fetched of
 * them is dropped (kafka_next), so their positions are final; they go at the
 * commit of the next checkpoint (group_release). */
static void group_hold(rd_kafka_t *rk, KafkaSource *ks, const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; i < l->cnt; i++) {
        int32_t id = l->elems[i].partition;
        if (id < 0 || id >= ks->nparts || !ks->parts[id].owned || ks->parts[id].revoking) continue;
        ks->parts[id].revoking = 1;
        ks->src->group_revoking++;
    }
    ks->release_after = ks->last_barrier;   /* a barrier from now on has their final offsets */
    rd_kafka_pause_partitions(rk, (rd_kafka_topic_partition_list_t *)l);
}

/* Give up the held partitions (their offsets, if committed, are in the
 * group): unassign them; the group's rebalance goes on. */
static void group_release(KafkaSource *ks)
{
    rd_kafka_topic_partition_list_t *l = flagged_parts(ks, 0);
    if (!l) {
        snprintf(ks->cb_err, sizeof ks->cb_err, "out of memory");
        return;
    }
    group_revoke(ks, l);
    if (ks->hold_eager) {   /* an eager rebalance: the whole assignment goes */
        rd_kafka_resp_err_t re = rd_kafka_assign(ks->rk, NULL);
        if (re) snprintf(ks->cb_err, sizeof ks->cb_err, "rebalance: %s", rd_kafka_err2str(re));
    } else {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(ks->rk, l);
        if (e) {
            snprintf(ks->cb_err, sizeof ks->cb_err, "rebalance: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/* Stop fetching the partitions whose start is not known yet. */
static void pause_pending(rd_kafka_t *rk, KafkaSource *ks)
{
    rd_kafka_topic_partition_list_t *l = flagged_parts(ks, 1);
    if (!l) return;
    rd_kafka_pause_partitions(rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Whether this member owns a partition of l (and holds none yet). */
static int owns_any(const KafkaSource *ks, const rd_kafka_topic_partition_list_t *l)
{
    for (int i = 0; i < l->cnt; i++) {
        int32_t id = l->elems[i].partition;
        if (id >= 0 && id < ks->nparts && ks->parts[id].owned && !ks->parts[id].revoking) return 1;
    }
    return 0;
}

/* librdkafka's rebalance callback (served by rd_kafka_consumer_poll and by
 * rd_kafka_consumer_close, on the caller's thread). */
static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *l, void *opaque)
{
    KafkaSource      *ks = opaque;
    const char       *proto = rd_kafka_rebalance_protocol(rk);   /* NULL while closing before the group formed */
    int               coop = proto && strcmp(proto, "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (ks->led && !ks->closing && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk) &&
        owns_any(ks, l)) {
        ks->hold_eager = !coop;  /* (eager: l is the whole assignment) */
        group_hold(rk, ks, l);   /* the group waits for the unassign (group_release) */
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        ks->assigned = 1;
        group_assign(rk, ks, l);
        if (coop) e = rd_kafka_incremental_assign(rk, l);
        else re = rd_kafka_assign(rk, l);
        if (ks->npending) pause_pending(rk, ks);
    } else {   /* revoked, or an error: give everything up (eager) / these (cooperative) */
        if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            snprintf(ks->last_err, sizeof ks->last_err, "rebalance: %s", rd_kafka_err2str(err));
        if (coop && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)   /* lost, or closing: held ones go too */
            for (int id = 0; id < ks->nparts && ks->src->group_revoking; id++)
                if (ks->parts[id].revoking && !rd_kafka_topic_partition_list_find(l, ks->topic, id))
                    rd_kafka_topic_partition_list_add(l, ks->topic, id);
        group_revoke(ks, coop && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS ? l : NULL);
        if (coop && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) e = rd_kafka_incremental_unassign(rk, l);
        else re = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        snprintf(ks->cb_err, sizeof ks->cb_err, "rebalance: %s", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (re) {
        snprintf(ks->cb_err, sizeof ks->cb_err, "rebalance: %s", rd_kafka_err2str(re));
    }
}

/* The result of an asynchronous commit (served by rd_kafka_consumer_poll).
 * A failure is a warning: the next checkpoint commits again. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *l, void *opaque)
{
    (void)rk;
    (void)l;
    KafkaSource *ks = opaque;
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        snprintf(ks->last_err, sizeof ks->last_err, "committing offsets to group '%s': %s",
                 ks->group_id, rd_kafka_err2str(err));
}

/* ---- group mode: offsets at checkpoints ------------------------------------------------------ */

static void kafka_barrier(Source *s, int64_t epoch)
{
    KafkaSource *ks = s->impl;
    if (!ks->group) return;
    ks->last_barrier = epoch;
    if (ks->npend == PEND_MAX) {   /* drop the oldest: a later commit covers it */
        KPending old = ks->pend[0];
        memmove(&ks->pend[0], &ks->pend[1], (PEND_MAX - 1) * sizeof ks->pend[0]);
        ks->pend[PEND_MAX - 1] = old;
        ks->npend--;
    }
    KPending *p = &ks->pend[ks->npend];
    if (p->cap < ks->nparts) {
        int64_t  *pos = realloc(p->pos, (size_t)ks->nparts * sizeof *pos);
        if (pos) p->pos = pos;
        uint32_t *gen = pos ? realloc(p->gen, (size_t)ks->nparts * sizeof *gen) : NULL;
        if (gen) p->gen = gen;
        if (!pos || !gen) {   /* nothing to commit for this epoch; a later one will do */
            snprintf(ks->last_err, sizeof ks->last_err, "out of memory keeping checkpoint offsets");
            return;
        }
        p->cap = ks->nparts;
    }
    p->epoch = epoch;
    p->n = ks->nparts;
    memcpy(p->meta, s->commit_meta, sizeof p->meta);
    for (int i = 0; i < ks->nparts; i++) {
        p->pos[i] = ks->parts[i].owned ? ks->parts[i].pos : -1;
        p->gen[i] = ks->parts[i].gen;
    }
    ks->npend++;
}

static void kafka_committed(Source *s, int64_t epoch)
{
    KafkaSource *ks = s->impl;
    if (!ks->group) return;
    int k = -1;   /* the newest pending epoch <= epoch */
    for (int i = 0; i < ks->npend; i++)
        if (ks->pend[i].epoch <= epoch) k = i;
    if (k < 0) return;
    KPending *p = &ks->pend[k];
    /* held partitions go now if this barrier came after their revocation:
     * their offsets first, synchronously, so the next owner starts there */
    int release = s->group_revoking > 0 && p->epoch > ks->release_after;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(p->n > 0 ? p->n : 1);
    if (l) {
        for (int i = 0; i < p->n; i++)
            if (p->pos[i] >= 0 && i < ks->nparts && ks->parts[i].owned && ks->parts[i].gen == p->gen[i])
                rd_kafka_topic_partition_list_add(l, ks->topic, i)->offset = p->pos[i];
        /* with a decision record, every owned partition carries it — one
         * assigned since that barrier at the offset the group has for it —
         * so that whoever gets any of them next resolves this writer at
         * its newest decision, not an older one */
        for (int i = 0; p->meta[0] && i < ks->nparts; i++)
            if (ks->parts[i].owned && ks->parts[i].claimed >= 0 &&
                !rd_kafka_topic_partition_list_find(l, ks->topic, i))
                rd_kafka_topic_partition_list_add(l, ks->topic, i)->offset = ks->parts[i].claimed;
        if (l->cnt > 0 && !ks->led && s->group_unsteady && !s->stopping) {
            /* to the group itself during a rebalance: later, this epoch kept
             * pending (on_stats says why) */
            rd_kafka_topic_partition_list_destroy(l);
            return;
        }
        for (int i = 0; p->meta[0] && i < l->cnt; i++) {
            l->elems[i].metadata = strdup(p->meta);   /* freed with the list */
            l->elems[i].metadata_size = l->elems[i].metadata ? strlen(p->meta) : 0;
        }
        if (l->cnt > 0) {
            /* with a decision record (metadata): synchronous, so the caller
             * knows whether the group has it */
            int                 sync = p->meta[0] || release;
            /* (a synchronous rd_kafka_commit waits for ever when the
             * brokers are gone: at a stop (source_set_stopping) the wait is
             * bounded — unanswered, the decision is left to the next owner;
             * while running, one commit's answer comes before the next) */
            rd_kafka_resp_err_t e = ks->led         ? ledger_commit(ks, l, sync)
                                  : !sync           ? rd_kafka_commit(ks->rk, l, 1)
                                  : s->stopping     ? kafka_commit_wait(ks->rk, l, LEDGER_WAIT_MS)
                                                    : rd_kafka_commit(ks->rk, l, 0);
            for (int i = 0; !e && sync && i < l->cnt; i++)
                if (l->elems[i].err) e = l->elems[i].err;
            if (e)
                snprintf(ks->last_err, sizeof ks->last_err, "committing offsets to group '%s': %s",
                         ks->group_id, rd_kafka_err2str(e));
            else if (p->meta[0]) {
                s->group_committed = p->epoch;
                for (int i = 0; i < l->cnt; i++)
                    if (l->elems[i].partition >= 0 && l->elems[i].partition < ks->nparts)
                        ks->parts[l->elems[i].partition].claimed = l->elems[i].offset;
            }
        } else {
            s->group_committed = p->epoch;   /* nothing owned: nothing to record */
        }
        rd_kafka_topic_partition_list_destroy(l);
    } else {
        snprintf(ks->last_err, sizeof ks->last_err, "out of memory committing offsets");
    }
    /* drop pend[0..k], keeping their buffers at the back */
    KPending done[PEND_MAX];
    memcpy(done, ks->pend, (size_t)(k + 1) * sizeof done[0]);
    memmove(&ks->pend[0], &ks->pend[k + 1], (size_t)(ks->npend - k - 1) * sizeof ks->pend[0]);
    ks->npend -= k + 1;
    memcpy(&ks->pend[ks->npend], done, (size_t)(k + 1) * sizeof done[0]);
    if (release) group_release(ks);   /* (a failed commit: at least once, as on a loss) */
}

/* source_group_rewind: every owned partition again from the group's
 * committed offset (the start rule of group_assign when it has none); the
 * pending epochs are forgotten. */
static int kafka_rewind(Source *s, char *err, size_t cap)
{
    KafkaSource *ks = s->impl;
    if (!ks->group) return conn_errf(err, cap, "kafka: rewind outside group mode");
    ks->npend = 0;
    int n = 0;
    for (int i = 0; i < ks->nparts; i++) n += ks->parts[i].owned;
    if (n == 0) return 0;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
    if (!l) return conn_errf(err, cap, "out of memory");
    for (int i = 0; i < ks->nparts; i++)
        if (ks->parts[i].owned) rd_kafka_topic_partition_list_add(l, ks->topic, i)->offset = RD_KAFKA_OFFSET_INVALID;
    rd_kafka_resp_err_t e = rd_kafka_committed(ks->rk, l, GROUP_FETCH_MS);
    if (e) {
        rd_kafka_topic_partition_list_destroy(l);
        return conn_errf(err, cap, "kafka: committed offsets of group '%s': %s", ks->group_id,
                         rd_kafka_err2str(e));
    }
    rd_kafka_topic_partition_list_t *had = s->claim_meta[0] ? rd_kafka_topic_partition_list_copy(l) : NULL;
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        KPart                      *kp = &ks->parts[tp->partition];
        if (tp->err || tp->offset < 0) {
            tp->err = RD_KAFKA_RESP_ERR_NO_ERROR;
            tp->offset = ks->start == START_LATEST ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
            kp->pos = -1;
            kp->done = ks->bounded && kp->end == 0;
        } else {
            kp->pos = tp->offset;
            kp->done = ks->bounded && kp->pos >= kp->end;
        }
        kp->gen++;   /* a barrier taken before the rewind never commits it */
        if (tp->metadata) {   /* not wanted by the seek */
            free(tp->metadata);
            tp->metadata = NULL;
            tp->metadata_size = 0;
        }
    }
    if (had) {   /* claimed again, for the owner's new id (source.h) */
        group_claim(ks->rk, ks, l, had);
        rd_kafka_topic_partition_list_destroy(had);
    }
    /* a partition read to its end was paused (kafka_next): it is read again */
    rd_kafka_resp_err_t re = rd_kafka_resume_partitions(ks->rk, l);
    rd_kafka_error_t   *se = re ? NULL : rd_kafka_seek_partitions(ks->rk, l, GROUP_FETCH_MS);
    int                 rc = 0;
    if (re) rc = conn_errf(err, cap, "kafka: cannot resume topic '%s': %s", ks->topic, rd_kafka_err2str(re));
    if (se) {
        rc = conn_errf(err, cap, "kafka: cannot seek topic '%s': %s", ks->topic, rd_kafka_error_string(se));
        rd_kafka_error_destroy(se);
    }
    for (int i = 0; !rc && i < l->cnt; i++)
        if (l->elems[i].err)
            rc = conn_errf(err, cap, "kafka: cannot seek topic '%s' partition %d: %s", ks->topic,
                           (int)l->elems[i].partition, rd_kafka_err2str(l->elems[i].err));
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static int kafka_topic_partitions(Source *s, int timeout_ms, char *err, size_t cap)
{
    KafkaSource                    *ks = s->impl;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t               *rkt = rd_kafka_topic_new(ks->rk, ks->topic, NULL);
    if (!rkt) return conn_errf(err, cap, "kafka: cannot make a handle for topic '%s'", ks->topic);
    rd_kafka_resp_err_t e = rd_kafka_metadata(ks->rk, 0, rkt, &md, timeout_ms);
    rd_kafka_topic_destroy(rkt);
    if (e) return conn_errf(err, cap, "kafka: metadata of topic '%s': %s", ks->topic, rd_kafka_err2str(e));
    int n = -1;
    if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
    else conn_errf(err, cap, "kafka: topic '%s': %s", ks->topic,
                   md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no metadata");
    rd_kafka_metadata_destroy(md);
    return n;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* A tombstone of a table with table.key (a message with a key and no
 * value): row `row` of b gets the key in that column, NULL elsewhere, and
 * is marked a delete (BATCH_OP_DELETE). The key is decoded as a JSON
 * field: a VARCHAR column takes the key's bytes as they are (quoted here),
 * other types their JSON text (as the kafka sink's `key` writes them),
 * else the same quoted. 0, or -1 with why (a bad record). */
static int take_tombstone(KafkaSource *ks, const rd_kafka_message_t *m, Batch *b, int row, char *why,
                          size_t cap)
{
    const char *k = m->key;
    size_t      kn = m->key_len;
    if (!k || kn == 0) return snprintf(why, cap, "a tombstone (no value) without a key"), -1;
    size_t need = strlen(ks->names[ks->tkey]) * 6 + kn * 6 + 16;
    if (need > ks->tkcap) {
        char *nb = realloc(ks->tkbuf, need);
        if (!nb) return snprintf(why, cap, "out of memory"), -1;
        ks->tkbuf = nb;
        ks->tkcap = need;
    }
    int rc = -1;
    for (int quoted = b->cols[ks->tkey].type == TYPE_VARCHAR; rc != 0 && quoted < 2; quoted++) {
        char *q = ks->tkbuf;
        q += sprintf(q, "{\"%s\":", ks->names[ks->tkey]);
        if (quoted) *q++ = '"';
        for (size_t i = 0; i < kn; i++) {
            unsigned char c = (unsigned char)k[i];
            if (quoted && (c == '"' || c == '\\')) *q++ = '\\', *q++ = (char)c;
            else if (quoted && c < 0x20) q += sprintf(q, "\\u%04x", c);
            else *q++ = (char)c;
        }
        if (quoted) *q++ = '"';
        *q++ = '}';
        rc = json_decode_line(ks->tkbuf, (size_t)(q - ks->tkbuf), ks->ncols, (const char *const *)ks->names,
                              b, row, why, cap);
    }
    if (rc) return -1;
    uint8_t *ops = batch_ops_buf(b);
    if (!ops) return snprintf(why, cap, "out of memory"), -1;
    if (!b->ops) memset(ops, BATCH_OP_INSERT, (size_t)row);
    ops[row] = BATCH_OP_DELETE;
    b->ops = ops;
    return 0;
}

/* Decode one message into the next row. 0 = ok or skipped, -1 = error. */
static int take(Source *s, KafkaSource *ks, const rd_kafka_message_t *m, Batch *b)
{
    char why[200];
    int  row = b->nrows, bad = 0;
    const char *p = m->payload;
    size_t      n = m->len;
    s->stats.bytes += (int64_t)n;
    if (!p && ks->tkey >= 0) {
        bad = take_tombstone(ks, m, b, row, why, sizeof why);
        if (!bad) {
            batch_set_nrows(b, row + 1);
            return 0;
        }
    } else if (!p) {
        snprintf(why, sizeof why, "message has no value");
        bad = -1;
    } else if (ks->fmt == FMT_JSON) {
        bad = json_decode_line(p, n, ks->ncols, (const char *const *)ks->names, b, row, why,
                               sizeof why);
    } else if (n == 0) {
        snprintf(why, sizeof why, "empty message");
        bad = -1;
    } else {
        size_t used = 0;
        int    rc = csv_parse_record(&ks->csv, p, n, 1, &used, why, sizeof why);
        if (rc == CSV_OOM) {
            conn_set_error(s, "out of memory");
            return -1;
        }
        if (rc != CSV_RECORD) {
            bad = -1;
        } else if (ks->csv.nf < ks->nfields) {
            snprintf(why, sizeof why, "expected at least %d fields, found %d", ks->nfields,
                     ks->csv.nf);
            bad = -1;
        } else {
            bad = csv_decode_record(&ks->csv, ks->map, b, row, why, sizeof why);
        }
    }
    if (!bad) {
        if (b->ops) batch_ops_buf(b)[row] = BATCH_OP_INSERT;   /* (a tombstone before it in b) */
        batch_set_nrows(b, row + 1);
        return 0;
    }
    char msg[SOURCE_BAD_MSG_LEN];
    snprintf(msg, sizeof msg, "%s[%d]@%lld: %s", ks->topic, (int)m->partition,
             (long long)m->offset, why);
    conn_bad_record(s, msg);
    if (ks->fail) {
        conn_set_error(s, "bad record at %s (format.on-error = fail)", msg);
        return -1;
    }
    return 0;
}

/* A message at offset `at` after a gap in kp's offsets (its position was
 * kp->pos). A gap is normal in a compacted or transactional topic; it is
 * data lost when the partition's log now starts past the position —
 * records deleted (retention) before they were read, and the consumer
 * went on from the first one left (auto.offset.reset). With
 * scan.on-data-loss = fail (the default) that fails the source, naming
 * the offsets; with warn the loss is reported as a bad record (counted
 * with them, its text naming the offsets lost) and the read goes on from
 * the message at `at`. 1 = the source failed, 0 = go on. */
static int data_lost(Source *s, KafkaSource *ks, const KPart *kp, int64_t at)
{
    int64_t lo = -1, hi = -1;
    rd_kafka_get_watermark_offsets(ks->rk, ks->topic, kp->id, &lo, &hi);   /* from the fetches */
    if (lo < 0 && rd_kafka_query_watermark_offsets(ks->rk, ks->topic, kp->id, &lo, &hi, 2000))
        return 0;   /* unknown: not reported */
    if (lo <= kp->pos) return 0;   /* compacted away, or transaction markers */
    int64_t last = (lo < at ? lo : at) - 1;
    char    msg[SOURCE_BAD_MSG_LEN];
    snprintf(msg, sizeof msg, "%s[%d]: offsets %lld to %lld were deleted before they were read (the "
                              "topic's retention; its log now starts at %lld): %lld records lost",
             ks->topic, (int)kp->id, (long long)kp->pos, (long long)last, (long long)lo,
             (long long)(last - kp->pos + 1));
    if (!ks->loss_warn) {
        conn_set_error(s, "kafka: %s (scan.on-data-loss = fail; 'warn' reads on without them)", msg);
        return 1;
    }
    conn_bad_record(s, msg);
    return 0;
}

#define PENDING_RETRY_US (1000 * 1000)   /* how often the offsets group is asked again */

/* Group mode with an offsets group: ask it again for the start of the
 * partitions it did not answer for at their assignment; those it answers
 * for now start there (or per the startup mode when it has none: earliest,
 * latest, a timestamp by skipping) and are resumed; when it does not
 * answer, again in PENDING_RETRY_US. 0, or -1 with the source's error. */
static int start_pending(Source *s, KafkaSource *ks, int64_t now_us)
{
    rd_kafka_topic_partition_list_t *l = flagged_parts(ks, 1);
    if (!l) {
        conn_set_error(s, "out of memory");
        return -1;
    }
    rd_kafka_resp_err_t e = rd_kafka_committed(ks->led, l, SETUP_TIMEOUT_MS * 5);
    if (ks->test_fail_offsets > 0) {
        ks->test_fail_offsets--;
        e = RD_KAFKA_RESP_ERR__TIMED_OUT;
    }
    if (e) {
        snprintf(ks->last_err, sizeof ks->last_err, "committed offsets of group '%s': %s (%d partition%s waiting)",
                 ks->led_id, rd_kafka_err2str(e), ks->npending, ks->npending == 1 ? "" : "s");
        ks->pending_at = now_us + PENDING_RETRY_US;
        rd_kafka_topic_partition_list_destroy(l);
        return 0;
    }
    legacy_offsets(ks->rk, l);
    for (int i = 0; i < l->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &l->elems[i];
        KPart                      *kp = &ks->parts[tp->partition];
        if (tp->metadata) {   /* not wanted by the seek */
            free(tp->metadata);
            tp->metadata = NULL;
            tp->metadata_size = 0;
        }
        if (!tp->err && tp->offset >= 0) {
            kp->pos = tp->offset;
            kp->done = ks->bounded && kp->pos >= kp->end;
        } else {
            tp->err = RD_KAFKA_RESP_ERR_NO_ERROR;
            tp->offset = ks->start == START_LATEST ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
            kp->skip = ks->start == START_TIMESTAMP;
            kp->done = ks->bounded && kp->end == 0;
        }
        kp->pending = 0;
        ks->npending--;
    }
    rd_kafka_error_t *se = rd_kafka_seek_partitions(ks->rk, l, GROUP_FETCH_MS);
    rd_kafka_resp_err_t re = rd_kafka_resume_partitions(ks->rk, l);
    int rc = 0;
    if (se) {
        conn_set_error(s, "kafka: cannot seek topic '%s': %s", ks->topic, rd_kafka_error_string(se));
        rd_kafka_error_destroy(se);
        rc = -1;
    } else if (re) {
        conn_set_error(s, "kafka: cannot resume topic '%s': %s", ks->topic, rd_kafka_err2str(re));
        rc = -1;
    }
    rd_kafka_topic_partition_list_destroy(l);
    return rc;
}

static SourceStatus kafka_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us)
{
    KafkaSource *ks = s->impl;
    if (!ks->ready) {
        rd_kafka_poll(ks->rk, 0);   /* serve error callbacks */
        int rc = setup(s, ks);
        if (rc < 0) return SOURCE_ERROR;
        if (rc == 0) {
            if (ks->last_err[0]) snprintf(s->warning, sizeof s->warning, "kafka: %.200s (retrying)", ks->last_err);
            *wait_us = SETUP_RETRY_US;
            return SOURCE_IDLE;
        }
        s->warning[0] = 0;
        ks->last_err[0] = 0;
        ks->next_discover = now_us + ks->discover_us;
    }
    if (!ks->bounded && ks->discover_us > 0 && now_us >= ks->next_discover) {
        ks->next_discover = now_us + ks->discover_us;
        if (grow(s, ks) < 0) return SOURCE_ERROR;
    }
    if (ks->led_inflight) ledger_serve(ks, 0);
    if (ks->npending && now_us >= ks->pending_at && start_pending(s, ks, now_us) < 0) return SOURCE_ERROR;
    int before = b->nrows, room = b->capacity;
    if (ks->rate > 0) {   /* scan.rate-limit: a token bucket holding 0.1 s of rows at most */
        double burst = ks->rate / 10.0 > 1 ? ks->rate / 10.0 : 1;
        if (ks->rate_at == 0) ks->rate_at = now_us;
        ks->tokens += (double)(now_us - ks->rate_at) * (double)ks->rate / 1e6;
        if (ks->tokens > burst) ks->tokens = burst;
        ks->rate_at = now_us;
        double need = burst < 64 ? burst : 64;   /* rows worth a poll */
        if (ks->tokens < need) {
            *wait_us = (int64_t)((need - ks->tokens) * 1e6 / (double)ks->rate) + 1;
            return SOURCE_IDLE;
        }
        if (before + (int)ks->tokens < room) room = before + (int)ks->tokens;
    }
    while (b->nrows < room) {
        /* (group mode polls on: the poll serves the group — rebalances that may
         * bring a partition not done yet, commits — and drops messages past ends) */
        if (ks->bounded && !ks->group && ks->ndone == ks->nparts) break;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ks->rk, 0);   /* serves on_rebalance too */
        if (ks->cb_err[0]) {
            if (m) rd_kafka_message_destroy(m);
            conn_set_error(s, "kafka: group '%s': %s", ks->group_id, ks->cb_err);
            return SOURCE_ERROR;
        }
        if (!m) break;
        if (m->err) {   /* transient (librdkafka retries) unless fatal */
            snprintf(ks->last_err, sizeof ks->last_err, "%s", rd_kafka_message_errstr(m));
            int fatal = m->err == RD_KAFKA_RESP_ERR__FATAL ||
                        m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;
            rd_kafka_message_destroy(m);
            if (fatal) {
                conn_set_error(s, "kafka: %s", ks->last_err);
                return SOURCE_ERROR;
            }
            continue;
        }
        int32_t pid = m->partition;
        KPart  *kp = pid >= 0 && pid < ks->nslot && ks->slot[pid] >= 0 ? &ks->parts[ks->slot[pid]]
                                                                      : NULL;
        if (kp && ks->group && (!kp->owned || kp->revoking || kp->pending)) kp = NULL;   /* revoked meanwhile */
        if (!kp || (ks->bounded && (kp->done || m->offset >= kp->end))) {
            rd_kafka_message_destroy(m);   /* beyond the bound (or not ours): ignore */
            continue;
        }
        if (kp->pos >= 0 && m->offset > kp->pos && data_lost(s, ks, kp, m->offset)) {
            rd_kafka_message_destroy(m);
            return SOURCE_ERROR;
        }
        if (kp->skip) {   /* startup timestamp, looked up here (see start_reading) */
            rd_kafka_timestamp_type_t tt;
            int64_t                   ts = rd_kafka_message_timestamp(m, &tt);
            if (ts >= 0 && ts < ks->start_ms) {
                kp->pos = m->offset + 1;
                int ended = ks->bounded && kp->pos >= kp->end;
                rd_kafka_message_destroy(m);
                if (ended) {
                    kp->done = 1;
                    ks->ndone++;
                }
                continue;
            }
            kp->skip = 0;   /* the first one at or after it: everything from here on */
        }
        int nrows_before = b->nrows;
        int rc = take(s, ks, m, b);
        if (rc == 0 && b->nrows > nrows_before &&
            conn_row_partition(s, nrows_before, (int)(kp - ks->parts), b->capacity) != 0) {
            rd_kafka_message_destroy(m);
            conn_set_error(s, "out of memory");
            return SOURCE_ERROR;
        }
        kp->pos = m->offset + 1;
        rd_kafka_message_destroy(m);
        if (rc) return SOURCE_ERROR;
        if (ks->bounded && kp->pos >= kp->end) {
            kp->done = 1;
            ks->ndone++;
            rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
            if (l) {   /* stop fetching what will be ignored anyway */
                rd_kafka_topic_partition_list_add(l, ks->topic, kp->id);
                rd_kafka_pause_partitions(ks->rk, l);
                rd_kafka_topic_partition_list_destroy(l);
            }
        }
    }
    if (ks->rate > 0) ks->tokens -= b->nrows - before;
    if (ks->follow && !s->caught_up && ks->nparts > 0) {   /* a followed table: whole yet? */
        int behind = 0;
        for (int i = 0; i < ks->nparts && !behind; i++)
            behind = ks->parts[i].end > 0 && ks->parts[i].pos < ks->parts[i].end;
        s->caught_up = !behind;
    }
    if (b->nrows > before || b->nrows >= b->capacity) {
        s->warning[0] = 0;   /* data flows: whatever was wrong is over */
        ks->last_err[0] = 0;
        return SOURCE_BATCH;
    }
    if (ks->last_err[0]) snprintf(s->warning, sizeof s->warning, "kafka: %.200s (retrying)", ks->last_err);
    ks->src->group_ending = 0;
    if (ks->bounded && owned_done(ks)) {
        if (!ks->group) return SOURCE_END;
        ks->src->group_ending = ks->assigned;   /* (before its first assignment it has no share yet) */
        /* group: over when the group's committed offsets cover every
         * partition's end (this member's own offsets are committed at its
         * next checkpoints, so it keeps taking part in them meanwhile) */
        if (now_us >= ks->next_gcheck && (ks->led || !ks->src->group_unsteady)) {
            ks->next_gcheck = now_us + GROUP_CHECK_US;
            if (group_read_over(ks)) return SOURCE_END;
        }
        *wait_us = GROUP_CHECK_US / 4;
        return SOURCE_IDLE;
    }
    *wait_us = POLL_WAIT_US;
    return SOURCE_IDLE;
}

/* ---- checkpoints --------------------------------------------------------------------------
 *
 * Blob body (version 2): topic, task, ntasks, bounded, the topic's partition
 * count, then the number of partitions and per owned partition: id, next
 * offset (pos: after the last message source_next consumed; -1 = none
 * consumed and no start offset known, i.e. group-offsets without a
 * committed one — restore starts it per the startup mode again), the
 * bound (bounded; -1 otherwise) and whether it is still skipping messages
 * older than the startup timestamp (1/0). Before setup nothing was read: the list is
 * empty, or is the restored list itself when a restore is pending.
 */
#define KAFKA_CKPT_VERSION 2

/* Group mode's blob (tag "kafka-group", version 1): topic, group, the number
 * of partitions owned and per owned one its id and next offset (-1 = not
 * known yet). For inspection only: restore keeps nothing of it (see the top). */
#define KAFKA_GROUP_TAG          "kafka-group"
#define KAFKA_GROUP_CKPT_VERSION 1

static long group_checkpoint(Source *s, KafkaSource *ks, void *buf, size_t cap)
{
    CkptOut w;
    int     n = 0;
    for (int i = 0; i < ks->nparts; i++) n += ks->parts[i].owned;
    ckpt_out_begin(&w, buf, cap, KAFKA_GROUP_TAG, KAFKA_GROUP_CKPT_VERSION);
    ckpt_put_str(&w, ks->topic);
    ckpt_put_str(&w, ks->group_id);
    ckpt_put_i64(&w, n);
    for (int i = 0; i < ks->nparts; i++) {
        if (!ks->parts[i].owned) continue;
        ckpt_put_i64(&w, ks->parts[i].id);
        ckpt_put_i64(&w, ks->parts[i].pos);
    }
    return conn_ckpt_finish(s, &w, "kafka");
}

/* Group mode: accept this topic's blob of either mode and keep nothing. */
static int group_restore(KafkaSource *ks, const void *buf, size_t len, char *err, size_t cap)
{
    CkptIn r;
    char   why[256];
    if (ckpt_in_begin(&r, buf, len, KAFKA_GROUP_TAG, KAFKA_GROUP_CKPT_VERSION, why, sizeof why) &&
        ckpt_in_begin(&r, buf, len, "kafka", KAFKA_CKPT_VERSION, err, cap))
        return -1;
    size_t      tlen;
    const char *topic = ckpt_get_str(&r, &tlen);
    if (r.bad) return conn_errf(err, cap, "kafka: the checkpoint blob is malformed");
    if (!ckpt_str_is(topic, tlen, ks->topic))
        return conn_errf(err, cap, "kafka: the checkpoint is of topic '%.*s', this source reads '%s'",
                         (int)(tlen < 250 ? tlen : 250), topic, ks->topic);
    return 0;   /* the positions are the group's committed offsets */
}

static long kafka_checkpoint(Source *s, void *buf, size_t cap)
{
    KafkaSource *ks = s->impl;
    if (ks->group) return group_checkpoint(s, ks, buf, cap);
    CkptOut      w;
    const KPart *p = ks->ready ? ks->parts : ks->rst;
    int          n = ks->ready ? ks->nparts : ks->nrst;
    ckpt_out_begin(&w, buf, cap, "kafka", KAFKA_CKPT_VERSION);
    ckpt_put_str(&w, ks->topic);
    ckpt_put_i64(&w, ks->task);
    ckpt_put_i64(&w, ks->ntasks);
    ckpt_put_i64(&w, ks->bounded);
    ckpt_put_i64(&w, ks->ready ? ks->topic_parts : ks->rst_topic_parts);
    ckpt_put_i64(&w, n);
    for (int i = 0; i < n; i++) {
        ckpt_put_i64(&w, p[i].id);
        ckpt_put_i64(&w, p[i].pos);
        ckpt_put_i64(&w, ks->bounded ? p[i].end : -1);
        ckpt_put_i64(&w, p[i].skip);
    }
    return conn_ckpt_finish(s, &w, "kafka");
}

static int kafka_restore(Source *s, const void *buf, size_t len, char *err, size_t cap)
{
    KafkaSource *ks = s->impl;
    CkptIn       r;
    if (ks->group) return group_restore(ks, buf, len, err, cap);
    if (ckpt_in_begin(&r, buf, len, KAFKA_GROUP_TAG, KAFKA_GROUP_CKPT_VERSION, NULL, 0) == 0)
        return conn_errf(err, cap, "kafka: the checkpoint was taken in group mode "
                                   "(deployment.group): its offsets are the group's; run with "
                                   "the same --group, or start over with --reset-state");
    if (ckpt_in_begin(&r, buf, len, "kafka", KAFKA_CKPT_VERSION, err, cap)) return -1;
    size_t      tlen;
    const char *topic = ckpt_get_str(&r, &tlen);
    int64_t     task = ckpt_get_i64(&r), ntasks = ckpt_get_i64(&r), bounded = ckpt_get_i64(&r);
    int64_t     tparts = ckpt_get_i64(&r), n = ckpt_get_i64(&r);
    if (r.bad || n < 0 || n > (int64_t)(r.len / 32) || tparts < 0)
        return conn_errf(err, cap, "kafka: the checkpoint blob is malformed");
    if (!ckpt_str_is(topic, tlen, ks->topic))
        return conn_errf(err, cap, "kafka: the checkpoint is of topic '%.*s', this source reads '%s'",
                         (int)(tlen < 250 ? tlen : 250), topic, ks->topic);
    if (task != ks->task || ntasks != ks->ntasks)
        return conn_errf(err, cap, "kafka: the checkpoint is of task %lld of %lld, this is task %d of %d",
                         (long long)task, (long long)ntasks, ks->task, ks->ntasks);
    if (bounded != ks->bounded)
        return conn_errf(err, cap, "kafka: the checkpoint was taken with another scan.bounded.mode");
    KPart *rst = calloc((size_t)(n > 0 ? n : 1), sizeof *rst);
    if (!rst) return conn_errf(err, cap, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        int64_t id = ckpt_get_i64(&r), pos = ckpt_get_i64(&r), end = ckpt_get_i64(&r);
        int64_t skip = ckpt_get_i64(&r);
        if (r.bad || id < 0 || id > INT32_MAX || pos < -1 || end < -1 || id % ks->ntasks != ks->task ||
            (skip != 0 && skip != 1)) {
            free(rst);
            return conn_errf(err, cap, "kafka: the checkpoint blob is malformed");
        }
        for (int64_t j = 0; j < i; j++)
            if (rst[j].id == id) {
                free(rst);
                return conn_errf(err, cap, "kafka: the checkpoint blob is malformed");
            }
        rst[i].id = (int32_t)id;
        rst[i].pos = pos;
        rst[i].end = end;
        rst[i].skip = (int)skip;
    }
    if (ckpt_in_end(&r, "kafka", err, cap)) {
        free(rst);
        return -1;
    }
    free(ks->rst);
    ks->rst = rst;
    ks->nrst = (int)n;
    ks->rst_topic_parts = tparts;
    ks->restored = 1;
    return 0;
}

static void kafka_close(Source *s)
{
    KafkaSource *ks = s->impl;
    if (!ks) return;
    free(ks->rst);
    /* the last checkpoint's offsets land before the partitions go to others */
    ledger_serve(ks, LEDGER_WAIT_MS);
    if (ks->rk) {
        ks->closing = 1;
        /* held partitions go now (as in the close's own callback): the
         * leave waits for an empty assignment */
        if (ks->src->group_revoking > 0) group_release(ks);
        kafka_consumer_end(ks->rk, KAFKA_LEAVE_MS, ks->assigned);   /* group mode: leaves the group (on_rebalance revokes) */
    }
    if (ks->ledq) rd_kafka_queue_destroy(ks->ledq);
    if (ks->led) rd_kafka_destroy(ks->led);
    reset_parts(ks);
    free(ks->live);
    free(ks->gend);
    s->part_live = NULL;
    for (int i = 0; i < PEND_MAX; i++) {
        free(ks->pend[i].pos);
        free(ks->pend[i].gen);
    }
    for (int c = 0; c < ks->ncols; c++)
        if (ks->names) free(ks->names[c]);
    free(ks->names);
    free(ks->map);
    free(ks->topic);
    free(ks->tkey_name);
    free(ks->tkbuf);
    csv_parser_free(&ks->csv);
    free(ks);
    s->impl = NULL;
}

static const SourceOps kafka_ops = {kafka_next, kafka_close, kafka_checkpoint, kafka_restore};

/* ---- open ------------------------------------------------------------------------------------- */

static int parse_options(KafkaSource *ks, const ConnSpec *spec, char *err, size_t cap)
{
    const char *topic = conn_opt(spec, "topic");
    if (!topic || !*topic) return conn_errf(err, cap, "kafka: option 'topic' is required");
    ks->topic = strdup(topic);
    const char *fmt = spec->format ? spec->format : conn_opt(spec, "format");
    if (!fmt || strcasecmp(fmt, "json") == 0) ks->fmt = FMT_JSON;
    else if (strcasecmp(fmt, "csv") == 0) ks->fmt = FMT_CSV;
    else return conn_errf(err, cap, "kafka: format must be json or csv; got '%s'", fmt);
    const char *onerr = conn_opt(spec, "format.on-error");
    if (onerr && strcasecmp(onerr, "fail") == 0) ks->fail = 1;
    else if (onerr && strcasecmp(onerr, "skip") != 0)
        return conn_errf(err, cap, "kafka: option 'format.on-error' must be skip or fail; got '%s'",
                         onerr);
    const char *mode = conn_opt(spec, "scan.startup.mode");
    if (!mode || strcasecmp(mode, "earliest-offset") == 0) ks->start = START_EARLIEST;
    else if (strcasecmp(mode, "latest-offset") == 0) ks->start = START_LATEST;
    else if (strcasecmp(mode, "group-offsets") == 0) ks->start = START_GROUP;
    else if (strcasecmp(mode, "timestamp") == 0) ks->start = START_TIMESTAMP;
    else
        return conn_errf(err, cap,
                         "kafka: option 'scan.startup.mode' must be earliest-offset, "
                         "latest-offset, group-offsets or timestamp; got '%s'", mode);
    ks->start_ms = -1;
    if (conn_opt_count(spec, "scan.startup.timestamp-millis", &ks->start_ms, err, cap) < 0) return -1;
    if (ks->start == START_TIMESTAMP && ks->start_ms < 0)
        return conn_errf(err, cap, "kafka: scan.startup.mode = 'timestamp' needs "
                                   "'scan.startup.timestamp-millis' (milliseconds since 1970)");
    if (ks->start != START_TIMESTAMP && ks->start_ms >= 0)
        return conn_errf(err, cap, "kafka: 'scan.startup.timestamp-millis' is only for "
                                   "scan.startup.mode = 'timestamp'");
    const char *bmode = conn_opt(spec, "scan.bounded.mode");
    if (!bmode || strcasecmp(bmode, "unbounded") == 0) ks->bounded = 0;
    else if (strcasecmp(bmode, "latest-offset") == 0) ks->bounded = 1;
    else
        return conn_errf(err, cap, "kafka: option 'scan.bounded.mode' must be latest-offset or "
                                   "unbounded; got '%s'", bmode);
    ks->discover_us = DISCOVERY_US;
    if (conn_opt_duration(spec, "scan.topic-partition-discovery.interval", &ks->discover_us, err,
                          cap) < 0)
        return -1;
    if (ks->discover_us < 0)
        return conn_errf(err, cap, "kafka: option 'scan.topic-partition-discovery.interval' must "
                                   "not be negative");
    if (conn_opt_count(spec, "scan.rate-limit", &ks->rate, err, cap) < 0) return -1;
    const char *loss = conn_opt(spec, "scan.on-data-loss");
    if (loss && strcasecmp(loss, "warn") == 0) ks->loss_warn = 1;
    else if (loss && strcasecmp(loss, "fail") != 0)
        return conn_errf(err, cap, "kafka: option 'scan.on-data-loss' must be fail or warn; got '%s'", loss);
    /* 'table' = 'true': the topic is a table, read whole — from the earliest
     * offset to the end at the start (docs/scaling.md, "Joins with a table") */
    int table = 0;
    if (conn_opt_bool(spec, "table", &table, err, cap) < 0) return -1;
    if (conn_opt_bool(spec, "table.follow", &ks->follow, err, cap) < 0) return -1;
    if (ks->follow && !table)
        return conn_errf(err, cap, "kafka: 'table.follow' = 'true' needs 'table' = 'true'");
    if (table) {
        if ((mode && ks->start != START_EARLIEST) || (bmode && !ks->bounded))
            return conn_errf(err, cap, "kafka: a table ('table' = 'true') is read from the earliest offset to "
                                       "the end: leave out scan.startup.mode and scan.bounded.mode");
        if (spec->group && spec->group[0])
            return conn_errf(err, cap, "kafka: a table ('table' = 'true') is read whole by every instance, not "
                                       "shared by a group: join a stream with it");
        ks->bounded = !ks->follow;   /* followed: on past the ends, caught up there (kafka_next) */
    }
    const char *tk = conn_opt(spec, "table.key");
    if (tk && !table) return conn_errf(err, cap, "kafka: 'table.key' is for a table ('table' = 'true')");
    if (tk && !(ks->tkey_name = strdup(tk))) return conn_errf(err, cap, "out of memory");
    char delim = ',';
    const char *d = conn_opt(spec, "csv.delimiter");
    if (d) {
        if (strcmp(d, "\\t") == 0 || strcasecmp(d, "tab") == 0) delim = '\t';
        else if (strlen(d) == 1 && d[0] != '"' && d[0] != '\n' && d[0] != '\r') delim = d[0];
        else return conn_errf(err, cap, "kafka: option 'csv.delimiter' must be one character; got '%s'", d);
    }
    int header = 0;
    if (conn_opt_bool(spec, "csv.header", &header, err, cap) < 0) return -1;
    if (header && ks->fmt == FMT_CSV)
        return conn_errf(err, cap, "kafka: csv.header = true is not supported (each message is "
                                   "one record; fields map by declared column position)");
    csv_parser_init(&ks->csv, delim);
    return 0;
}

static int copy_columns(KafkaSource *ks, const ConnSpec *spec, char *err, size_t cap)
{
    ks->ncols = spec->ncols;
    size_t n = (size_t)(spec->ncols > 0 ? spec->ncols : 1);
    ks->names = calloc(n, sizeof *ks->names);
    ks->map = calloc(n, sizeof *ks->map);
    if (!ks->names || !ks->map) return conn_errf(err, cap, "out of memory");
    for (int c = 0; c < spec->ncols; c++) {
        ks->names[c] = strdup(spec->col_names[c]);
        if (!ks->names[c]) return conn_errf(err, cap, "out of memory");
        ks->map[c] = spec->col_index ? spec->col_index[c] : c;
        if (ks->map[c] + 1 > ks->nfields) ks->nfields = ks->map[c] + 1;
    }
    ks->tkey = -1;
    for (int c = 0; ks->tkey_name && c < spec->ncols; c++)
        if (!strcasecmp(spec->col_names[c], ks->tkey_name)) ks->tkey = c;
    if (ks->tkey_name && ks->tkey < 0)
        return conn_errf(err, cap, "kafka: 'table.key' = '%s' is not a column read from topic '%s'",
                         ks->tkey_name, ks->topic);
    return 0;
}

/* Group mode (spec->group): its requirements and limits. 0, or -1 with err. */
static int group_options(KafkaSource *ks, const ConnSpec *spec, char *err, size_t cap)
{
    if (!spec->group || !spec->group[0]) return 0;
    if (strlen(spec->group) >= sizeof ks->group_id)
        return conn_errf(err, cap, "deployment.group: the name is longer than %zu bytes",
                         sizeof ks->group_id - 1);
    if (!spec->checkpoints)
        return conn_errf(err, cap, "deployment.group needs checkpoints (--state-dir DIR): "
                                   "partitions move between instances at the offsets of the "
                                   "last checkpoint");
    const char *gid = conn_opt(spec, "properties.group.id");
    if (gid && strcmp(gid, spec->group) != 0)
        return conn_errf(err, cap, "kafka: 'properties.group.id' = '%s' conflicts with "
                                   "deployment.group = '%s' (the group is the deployment's)",
                         gid, spec->group);
    ks->group = 1;
    snprintf(ks->group_id, sizeof ks->group_id, "%s", spec->group);
    ks->discover_us = 0;   /* new partitions are the group protocol's business */
    return 0;
}

/* source_partition_behind: partition index idx (an index into parts: its
 * Kafka id in group mode) has messages past the position read, by the high
 * watermark librdkafka last saw in a fetch (a cached value: no request). */
static int kafka_behind(const Source *s, int idx)
{
    const KafkaSource *ks = s->impl;
    if (!ks->ready || idx < 0 || idx >= ks->nparts) return 0;
    const KPart *kp = &ks->parts[idx];
    if ((ks->group && !kp->owned) || kp->done) return 0;
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(ks->rk, ks->topic, kp->id, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
        return 1;   /* not fetched yet: what it holds is not known */
    if (ks->bounded && kp->end < hi) hi = kp->end;
    int64_t pos = kp->pos;
    if (pos < 0) pos = ks->start == START_LATEST ? hi : lo;
    return pos < hi;
}

/* ConnSpec.offsets_group: the standalone consumer that reads and writes
 * the offsets there (it never subscribes, so it never joins that group). */
static int ledger_open(KafkaSource *ks, const ConnSpec *spec, char *err, size_t cap)
{
    if (strlen(spec->offsets_group) >= sizeof ks->led_id)
        return conn_errf(err, cap, "kafka: offsets group name '%s' is too long", spec->offsets_group);
    snprintf(ks->led_id, sizeof ks->led_id, "%s", spec->offsets_group);
    rd_kafka_conf_t *conf = kafka_conf_from_spec(spec, "kafka", ks, err, cap);
    if (!conf) return -1;
    rd_kafka_conf_set_error_cb(conf, on_error);
    char errstr[512];
    if (rd_kafka_conf_set(conf, "group.id", ks->led_id, errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return conn_errf(err, cap, "kafka: offsets group '%s': %s", ks->led_id, errstr);
    }
    ks->led = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!ks->led) {
        rd_kafka_conf_destroy(conf);
        return conn_errf(err, cap, "kafka: %s", errstr);
    }
    ks->ledq = rd_kafka_queue_new(ks->led);
    if (!ks->ledq) return conn_errf(err, cap, "out of memory");
    return 0;
}

int kafka_source_open(Source *s, const ConnSpec *spec, char *err, size_t cap)
{
    KafkaSource *ks = calloc(1, sizeof *ks);
    if (!ks) return conn_errf(err, cap, "out of memory");
    ks->part_cap = -1;
    ks->src = s;
    s->on_barrier = kafka_barrier;
    s->on_committed = kafka_committed;
    s->on_rewind = kafka_rewind;
    s->on_topic_partitions = kafka_topic_partitions;
    s->on_behind = kafka_behind;
    s->ops = &kafka_ops;
    s->impl = ks;
    if (conn_check_task(spec, &ks->task, &ks->ntasks, err, cap) || parse_options(ks, spec, err, cap) ||
        copy_columns(ks, spec, err, cap))
        goto fail;
    if (!ks->topic) {
        conn_errf(err, cap, "out of memory");
        goto fail;
    }
    if (group_options(ks, spec, err, cap)) goto fail;
    rd_kafka_conf_t *conf = kafka_conf_from_spec(spec, "kafka", ks, err, cap);
    if (!conf) goto fail;
    rd_kafka_conf_set_error_cb(conf, on_error);
    if (ks->group) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    }
    /* committing to its own group: know when it rebalances (on_stats; a
     * user's statistics.interval.ms is overridden, nothing else reads them) */
    if (ks->group && !(spec->offsets_group && spec->offsets_group[0])) {
        char errstr[256];
        s->group_unsteady = 1;   /* (until the first statistics say otherwise) */
        rd_kafka_conf_set_stats_cb(conf, on_stats);
        if (rd_kafka_conf_set(conf, "statistics.interval.ms", STATS_MS, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            conn_errf(err, cap, "kafka: %s", errstr);
            goto fail;
        }
    }
    if (kafka_conf_default(conf, spec, "group.id", ks->group ? ks->group_id : "sluice", err, cap) ||
        (ks->group && kafka_conf_default(conf, spec, "partition.assignment.strategy",
                                         "cooperative-sticky", err, cap)) ||
        /* group mode: a dead instance's partitions move within ~10 s, not
         * librdkafka's 45 s (docs/scaling.md) */
        (ks->group && kafka_conf_default(conf, spec, "session.timeout.ms", "10000", err, cap)) ||
        (ks->group && kafka_conf_default(conf, spec, "heartbeat.interval.ms", "1000", err, cap)) ||
        kafka_conf_default(conf, spec, "auto.offset.reset",
                           ks->group && ks->start == START_LATEST ? "latest" : "earliest", err, cap) ||
        kafka_conf_default(conf, spec, "enable.auto.commit", "false", err, cap) ||
        kafka_conf_default(conf, spec, "enable.auto.offset.store", "false", err, cap) ||
        kafka_conf_default(conf, spec, "enable.partition.eof", "false", err, cap)) {
        rd_kafka_conf_destroy(conf);
        goto fail;
    }
    char errstr[512];
    ks->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (!ks->rk) {
        rd_kafka_conf_destroy(conf);
        conn_errf(err, cap, "kafka: %s", errstr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(ks->rk);
    if (ks->group && spec->offsets_group && spec->offsets_group[0] && ledger_open(ks, spec, err, cap)) goto fail;
    return 0;
fail:
    kafka_close(s);
    s->ops = NULL;
    return -1;
}

void kafka_source_test_fail_offsets(Source *s, int n)
{
    KafkaSource *ks = s->impl;
    ks->test_fail_offsets = n;
}

void kafka_source_test_cap_partitions(Source *s, int cap)
{
    KafkaSource *ks = s->impl;
    ks->part_cap = cap;
}

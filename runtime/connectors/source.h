/*
 * source.h — the contract between the runtime and every source connector.
 *
 * A source turns records (generated events, lines of a file, …) into rows of
 * exec/ batches. The planner's Scan node says what to read (a ConnSpec: the
 * connector, its format and options, the columns the plan needs, and which
 * share of the input this instance reads); the runtime opens one Source per
 * parallel task and pulls batches from it:
 *
 *   Source *s = source_open(&spec, err, sizeof err);      NULL: err says why
 *   for (;;) {
 *       batch_reset(&b);
 *       switch (source_next(s, &b, now_us, &wait)) {
 *       case SOURCE_BATCH: push b downstream; break;
 *       case SOURCE_IDLE:  come back within `wait` µs;   break;
 *       case SOURCE_END:   bounded input exhausted;        goto done;
 *       case SOURCE_ERROR: report source_error(s);        goto done;
 *       }
 *   }
 *   done: source_close(s);
 *
 * Parallel reading. Instance `task` of `ntasks` produces a disjoint share of
 * the input and the union over all instances is the whole input, whatever
 * ntasks is: parallelism 1 and N see the same multiset of rows. How each
 * connector splits is in runtime/connectors/README.md.
 *
 * Rows. source_next appends rows at b->nrows .. b->capacity-1 of a batch the
 * caller initialized with exactly spec->col_types (and normally reset); every
 * column of every appended row is written (a value or NULL). The batch must
 * have no selection. A source never blocks for long: when nothing is
 * available it returns SOURCE_IDLE with a hint of how long to wait. A batch
 * with no room left gets SOURCE_BATCH with no row appended.
 *
 * Lifetime of strings. VARCHAR values written into a batch live in the
 * batch's arena or in memory owned by the source (the logs generator refers
 * to its per-user ip table and to static text): they stay valid until the
 * batch is reset AND until source_close(). Close a source only after every
 * batch it filled has been consumed or copied.
 *
 * Threads and I/O. A source may do I/O but never starts threads and never
 * prints; all calls on one Source (source_stats included) must come from one
 * thread at a time. Errors are values: NULL + message from source_open,
 * SOURCE_ERROR + source_error() from source_next.
 *
 * Memory. A source allocates at open; in steady state source_next allocates
 * nothing per row beyond the batch's arena (exception: the JSON decoder uses
 * jansson's json_loadb per line until the fast decoder of issue 6 replaces it).
 */
#ifndef SLUICE_RUNTIME_CONNECTORS_SOURCE_H
#define SLUICE_RUNTIME_CONNECTORS_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"
#include "exec/types.h"

/* What the planner's Scan (or Output) node says. Nothing is copied at open
 * beyond what the connector needs: the arrays and strings may be freed after
 * source_open / sink_open returns. */
typedef struct ConnSpec {
    const char         *connector;   /* "logs" | "datagen" | "file" | "stdin" | "kafka"; sinks: "stdout" | "file" | "kafka" */
    const char         *format;      /* "json" | "csv" | "table" (stdout) | NULL (default json)         */
    int                 nopts;       /* WITH (…) options as given to the catalog (keys lower-case)       */
    const char *const  *opt_keys;
    const char *const  *opt_values;
    int                 ncols;       /* columns to produce (already pruned), in this order               */
    const char *const  *col_names;
    const SqlType      *col_types;
    const int          *col_index;   /* declared position of each column in the stream (CSV without a
                                        header maps fields by it); NULL = 0, 1, …, ncols-1               */
    int                 task;        /* this instance is share `task` of `ntasks` parallel readers       */
    int                 ntasks;      /* >= 1; 0 is taken as 1                                            */
    int                 transactional; /* sinks: 0 = rows become visible as they are written (flushed);
                                        1 = exactly-once output: rows stay in a pending area until
                                        sink_commit (see sink.h). Sources ignore it.              */
    const char         *group;       /* sources: the setting deployment.group; NULL or "" = single
                                        node. Set: a kafka source joins the consumer group of that
                                        name (Kafka spreads the partitions over every task of every
                                        instance; task/ntasks are then unused) and every other
                                        connector refuses to open (its input cannot be shared).    */
    int                 checkpoints; /* sources: 1 = the runtime takes checkpoints (state.dir set)
                                        and calls source_barrier / source_committed; group mode
                                        needs it                                                   */
    const char         *offsets_group; /* sources, group mode: keep the offsets read in this
                                        consumer group — one nobody joins, written by a standalone
                                        consumer, so a commit never races the group's rebalances —
                                        and hold revocations until a checkpoint (source_group_
                                        revoking). NULL: offsets in the group itself, revocations
                                        at once (a Kafka exchange's stage 0, which rewinds)       */
} ConnSpec;

typedef enum SourceStatus {
    SOURCE_BATCH,   /* rows were appended                                    */
    SOURCE_IDLE,    /* none available yet: *wait_us says when to ask again   */
    SOURCE_END,     /* bounded input exhausted (no row appended)             */
    SOURCE_ERROR    /* source_error() says why; the source is unusable now   */
} SourceStatus;

#define SOURCE_BAD_KEEP    5     /* bad-record messages kept for the runtime to show */
#define SOURCE_BAD_MSG_LEN 256

typedef struct SourceStats {
    int64_t rows;                /* rows appended to batches so far                          */
    int64_t bytes;               /* input bytes consumed (files, stdin); 0 for generators    */
    int64_t bad_records;         /* records skipped as malformed                             */
    int     nbad_msgs;           /* messages kept in bad_msgs (<= SOURCE_BAD_KEEP)           */
    char    bad_msgs[SOURCE_BAD_KEEP][SOURCE_BAD_MSG_LEN];  /* the first ones: "path:line: reason" */
} SourceStats;

typedef struct Source Source;

/* Open one instance. NULL on a bad spec (unknown connector, unknown column,
 * type mismatch, bad option value, no file matches, …) with the reason in
 * err (snprintf rules; cap may be 0). */
Source *source_open(const ConnSpec *spec, char *err, size_t cap);

/* Append up to b->capacity - b->nrows rows to b. now_us: the runtime's
 * monotonic clock in µs (rate limits are measured against it; tests pass a
 * fake one). On SOURCE_IDLE, *wait_us (>= 1) is how long until rows may be
 * available; otherwise it is set to 0. */
SourceStatus source_next(Source *s, Batch *b, int64_t now_us, int64_t *wait_us);

/* ---- checkpoints ----------------------------------------------------------------------
 *
 * source_checkpoint writes into buf (cap bytes) an opaque blob: the position
 * just after the last row source_next has returned — NOT what the source has
 * buffered or prefetched. Returns the blob's length (> 0), or -1 with
 * source_error() set when cap is too small (the message says how many bytes
 * are needed) or the source cannot be replayed (stdin: "stdin cannot be
 * replayed from a checkpoint"). buf NULL with cap 0 is a size query: the
 * length the blob needs now (or -1 if it cannot be made). It does not disturb reading: source_next
 * continues as if it had not been called. Cheap (no I/O) for every
 * connector; call it between source_next calls, from the source's thread.
 *
 * source_restore, on a freshly opened source with the same spec (before any
 * source_next; -1 otherwise), makes it continue from that position: the rows
 * it returns next are exactly those the checkpointed source would have
 * returned next (same values; generators are deterministic functions of the
 * event number). A blob that does not fit (another connector, other files,
 * another partition set or parallelism, malformed, truncated, corrupt) → -1
 * with a clear reason in err (snprintf rules); the source is then unchanged
 * and may still be read from the start. Bad-record counters and other stats
 * are not part of the position: they restart from 0.
 *
 * Every blob starts with a connector tag and a version, ends with a checksum
 * (conn_internal.h). What the position is, per connector:
 *   logs, nexmark  the partition set (P, the task's partitions) and the next
 *                  event number k_r. Rate: after a restore, event k is
 *                  released at t0 + floor(k·10⁶/rate) − floor(k_r·10⁶/rate) µs,
 *                  t0 = now_us of the first source_next after the restore
 *                  (the rate limit restarts from the restore point; event
 *                  time, a function of k, is unchanged). ~60 bytes.
 *   datagen        the task's share (task, ntasks) and the next row number;
 *                  rate as above. ~50 bytes.
 *   file           format, task/ntasks; without follow the remaining pieces
 *                  of this task (path, byte range — fixed at the first open,
 *                  so files that grew later are not read further) and, in the
 *                  open one, the byte offset and line number of the next
 *                  unread record plus the CSV header mapping; with follow, per
 *                  followed file its path and that position. A partial last
 *                  line (no newline yet) of a followed file is never consumed.
 *                  Restore checks that every file still matches the path and
 *                  is at least as long as the checkpoint needs. Size: ~60
 *                  bytes + the paths of the remaining files.
 *   kafka          the topic, task/ntasks, and per owned partition the next
 *                  offset to read (and the bound, when bounded). Restore
 *                  assigns those offsets instead of the startup mode's; a
 *                  partition the blob lacks (added since) starts per the
 *                  startup mode. The broker is not contacted by restore: a
 *                  blob partition the topic no longer has is a SOURCE_ERROR
 *                  of the first source_next that reaches the broker.
 *   stdin          cannot be replayed: both calls return -1.
 */
long source_checkpoint(Source *s, void *buf, size_t cap);
int  source_restore(Source *s, const void *buf, size_t len, char *err, size_t cap);

/* ---- checkpoint progress: telling a source what became durable ------------------------
 *
 * Two notifications from the runtime, called from the source's own task
 * thread (between source_next calls, like everything else):
 *
 *   source_barrier(s, epoch)    right after the source_checkpoint() whose blob
 *                               goes into checkpoint `epoch` (epochs increase);
 *   source_committed(s, epoch)  checkpoint `epoch`, and every earlier one, is
 *                               durable (committed to the state store). May be
 *                               called for an epoch this source never saw a
 *                               barrier of (it then applies the newest earlier
 *                               one it saw), more than once, or not at all for
 *                               some epochs (a later one covers them).
 *
 * No-ops for every connector except kafka in group mode (ConnSpec.group):
 * it remembers the offsets it reported at each barrier (a FIFO of at most
 * 8 pending epochs; when more are pending the oldest is dropped, a later
 * commit covers it) and, when the epoch is committed, commits them to the
 * consumer group — or to ConnSpec.offsets_group — (asynchronous) for the
 * partitions it still owns since that barrier — so a partition that moves
 * to another instance continues at the offsets of the last checkpoint.
 * Cheap: no blocking I/O, except the commit that releases held partitions
 * (source_group_revoking), which waits for the group's answer. */
void source_barrier(Source *s, int64_t epoch);
void source_committed(Source *s, int64_t epoch);

/* ---- group exchange: a Kafka exchange downstream of a group-mode source ----------------
 *
 * In group mode (ConnSpec.group) a query with an exchange writes its rows
 * into a repartition topic in segments (runtime/kexchange.h, "Exactly
 * once"); the group's offset commit of the source is the decision record of
 * a segment. What the runtime needs from the source for that, all kafka
 * group mode only (elsewhere: no-ops, 0, -1 "not supported"):
 *
 *   source_set_commit_meta(s, meta)  the offset metadata to commit with the
 *       offsets of the NEXT source_barrier (the segment it seals). With a
 *       metadata set, source_committed commits synchronously (it returns
 *       when the group has the offsets, or failed).
 *   source_set_claim_meta(s, meta)   "kx1 <writer> <seg>": at every
 *       assignment, before a message of the new partitions is read, their
 *       offsets are committed again (unchanged; a partition the group has
 *       no offset for gets its start) with this metadata, followed by the
 *       "<writer> <seg>" pairs of the metadata they had that name another
 *       writer — so the group always names the partition's current owner,
 *       and the decisions its previous owners left are carried until
 *       someone resolves them (runtime/kexchange.h). A claim that fails is
 *       a warning. "" (the default) claims nothing.
 *   source_group_committed(s)        the newest epoch whose offsets the
 *       group accepted (with their metadata); 0 none. An epoch with no
 *       partition owned counts as accepted (nothing to commit).
 *   source_group_revokes(s)          partitions revoked or lost so far (a
 *       counter): the runtime's segment since the last commit may hold rows
 *       of partitions another member now re-reads.
 *   source_group_assigns(s)          assignments so far (a counter): while
 *       it and source_group_revokes stay, source_partition_owned does not
 *       change.
 *   source_group_rewind(s, err, cap) start every owned partition over at
 *       the group's committed offset, and forget the pending epochs: after
 *       a revocation the runtime abandons its open segments and reads again
 *       what they held. 0 or -1.
 *   source_group_take_metas(s, out, cap)  the offset metadata strings the
 *       group had for partitions assigned since the last call (deduplicated,
 *       at most SOURCE_METAS_MAX kept): the runtime resolves the segments
 *       of the members that held them. Returns how many were copied.
 *   source_topic_partitions(s, timeout_ms, err, cap)  the topic's partition
 *       count (a metadata request), or -1 with err. */
#define SOURCE_META_MAX  128
#define SOURCE_METAS_MAX 64
void    source_set_commit_meta(Source *s, const char *meta);
void    source_set_claim_meta(Source *s, const char *meta);
/* The query stops: the last commits (source_committed) wait for the group's
 * answer a bounded time (seconds), not for ever — the brokers may be gone;
 * unanswered, what they record is left to the partitions' next owner. */
void    source_set_stopping(Source *s);
int64_t source_group_committed(const Source *s);
int64_t source_group_revokes(const Source *s);
int64_t source_group_assigns(const Source *s);
int     source_group_rewind(Source *s, char *err, size_t cap);

/* Held revocations (kafka group mode with ConnSpec.offsets_group; elsewhere
 * 0). A partition a rebalance takes from
 * this live member is not given up at once: it stays assigned, no further
 * row of it is read, and source_group_revoking(s) counts it. The runtime
 * then takes a checkpoint; when a checkpoint whose barrier came after the
 * revocation is committed, source_committed writes the partition's offset
 * to the offsets group, waiting for the answer, and only then gives the
 * partition up — so its next owner starts exactly after the rows this
 * member made durable (no row twice, none lost) while the group waits. So
 * with an eager assignor (range, roundrobin), where every rebalance takes
 * the whole assignment. A lost assignment and the consumer's close give
 * partitions up at once. */
int     source_group_revoking(const Source *s);

/* Where a kafka group member stands, for progress (elsewhere both 0):
 * *unsteady = 1 while its consumer's group is rebalancing, per librdkafka's
 * statistics (a member that commits to its own group: it commits, and asks
 * whether a bounded read is over, only when steady); *ending = 1 once a
 * bounded read's own partitions are read and it waits for the group's
 * committed offsets to cover every partition's end. A bounded group read
 * that does not end shows which of them is stuck. */
void    source_group_state(const Source *s, int *unsteady, int *ending);

/* A followed table (kafka 'table.follow' = 'true'): 1 once the source has
 * read what its topic held when it started (its table is whole; later
 * records are updates), 0 before; 0 for every other source, which ends
 * instead (SOURCE_END) or is not a table. */
int     source_caught_up(const Source *s);
int     source_group_take_metas(Source *s, char (*out)[SOURCE_META_MAX], int cap);
int     source_topic_partitions(Source *s, int timeout_ms, char *err, size_t cap);

/* The message of the last SOURCE_ERROR ("" if none). Valid until close. */
const char *source_error(const Source *s);

/* A snapshot of the counters. */
void source_stats(const Source *s, SourceStats *out);

/* Release everything. NULL is fine. */
void source_close(Source *s);

/* A transient problem the source is waiting out right now (e.g. "kafka:
 * all brokers are down"), or "" when all is well. Valid until the next
 * source_next. The runtime shows it; the source keeps retrying. */
const char *source_warning(const Source *s);

/* Sources that read several partitions in one instance (Kafka): how many,
 * and, for the rows of the last batch, the index (0 … n-1) of the partition
 * each row came from, so the runtime can keep one watermark per partition.
 * 1 and NULL for single-partition sources. */
int             source_partition_count(const Source *s);
const uint16_t *source_row_partitions(const Source *s);

/* Whether partition index idx (0 … source_partition_count-1) is read by this
 * source now. 1 for every index except in kafka group mode, where a
 * partition revoked by a rebalance is 0 (until it is assigned back): its
 * event time must no longer hold the task's watermark back. A newly
 * assigned partition has its own index (its Kafka partition id in group
 * mode), so it gets its own watermark. */
int             source_partition_live(const Source *s, int idx);

/* Whether partition idx is read by this source now, strictly: 0 for an
 * index it has no partition for (kafka group mode: a partition id it was
 * never assigned). */
int             source_partition_owned(const Source *s, int idx);

/* Whether partition idx has rows the source knows of and has not read yet
 * (Kafka: its position is below the partition's high watermark, as last
 * fetched; not known yet counts as behind). A partition that is behind is
 * not idle however long it has given no row — the rows may only be queued
 * behind other partitions' (a rate limit, a backlog after a takeover) —
 * so its watermark keeps holding the task's back. 0 for sources that
 * cannot tell. */
int             source_partition_behind(const Source *s, int idx);

#endif

/*
 * query.h — running a planned query: tasks on worker threads, exchanges,
 * watermarks, and the output.
 *
 * A Query is built from an immutable Plan (planner/plan.h). Every stage runs
 * as `parallelism` tasks; task i of every stage lives on worker thread
 * i % nworkers, so a worker owns its tasks' state outright (shared nothing).
 * Stages are connected by Channels (bounded SPSC queues, one per pair of
 * upstream and downstream task), rows hash-partitioned by the exchange key.
 * The last stage's tasks send their rows to the collector: the thread that
 * called query_run, which hands them to the caller's ResultSink (SELECT) or
 * writes them to the sink connector (INSERT INTO).
 *
 *   query_new → query_run (blocks until the input ends, LIMIT is reached,
 *   *stop becomes non-zero, or a task fails) → query_free
 *
 * Watermarks travel in-band with the rows: a source task's watermark is the
 * largest event time it has read minus the stream's delay; a downstream
 * task's is the minimum over its inputs, leaving out inputs that said they
 * are idle or ended; watermarks only move forward; the end of a bounded input
 * is a watermark of +∞, so every window is emitted.
 *
 * Checkpoints (settings state.dir non-empty): every checkpoint.interval the
 * collector asks the sources for a barrier; barriers flow with the rows,
 * each task snapshots its state when the barrier has come on all its inputs,
 * and the collector writes all snapshots, the sources' positions and the
 * sink's prepared output in one LevelDB write batch, then commits the sink.
 * query_new with the same plan and state dir resumes from the last
 * checkpoint: nothing lost, nothing twice (file sinks; see
 * docs/operations.md for the guarantees of each sink). A stop (query_stop,
 * *stop) takes one last checkpoint first (at most 10 s).
 */
#ifndef SLUICE_RUNTIME_QUERY_H
#define SLUICE_RUNTIME_QUERY_H

#include <signal.h>
#include <stdint.h>

#include "planner/plan.h"
#include "planner/settings.h"
#include "runtime/session.h"

#define WATERMARK_MIN INT64_MIN
#define WATERMARK_MAX INT64_MAX

typedef struct Query Query;

/* Figures a query reports (Spark StreamingQueryProgress names in comments). */
typedef struct QueryProgress {
    int64_t elapsed_us;
    int64_t input_rows;          /* numInputRows (total so far)            */
    int64_t output_rows;         /* rows delivered to the output           */
    int64_t late_rows;           /* numRowsDroppedByWatermark              */
    int64_t state_rows;          /* stateOperators[].numRowsTotal (spilled incl.) */
    int64_t state_spilled_rows;  /* …of which aggregate groups spilled to disk */
    int64_t spill_writes;        /* groups spilled so far (state.memory)   */
    int64_t state_bytes;
    int64_t watermark;           /* eventTime.watermark (min over outputs) */
    int64_t max_event_time;      /* largest event time read                */
    int64_t shuffle_rows;        /* rows that crossed exchanges            */
    int64_t shuffle_bytes;
    int64_t replayed_rows;       /* group mode: rows read again from the repartition
                                    topic after an assignment change (skipped: their
                                    windows were emitted already)                  */
    int64_t restored_groups;     /* group mode, an unwindowed aggregation: groups
                                    restored from its changelog topic             */
    int64_t replay_dropped;      /* … and messages of rows the restored state held
                                    already, dropped when read again              */
    int64_t bad_records;
    /* group mode (deployment.group; "" and 0 otherwise): what Kafka gave this instance */
    char    group[128];          /* the group's name                          */
    int     group_source_parts;  /* source partitions read now, over its tasks  */
    int     group_exchange_parts;/* repartition topic partitions read now       */
    int64_t group_assignments;   /* source assignments so far (rebalances that
                                    gave partitions)                           */
    int64_t group_revocations;   /* source partitions revoked or lost so far   */
    int     group_held;          /* partitions held for a checkpoint now       */
    int     group_unsteady;      /* source tasks whose group is rebalancing now */
    int     group_ending;        /* source tasks done with their share of a bounded
                                    read, waiting for the group's end          */
    int64_t group_record_failures; /* records to the group (the replay points of the
                                    repartition topic's partitions) that failed and
                                    are retried; the warning says why while they do */
    int64_t cpu_us;              /* CPU time of the worker threads so far  */
    int     nstages;
    int     ntasks;
    int64_t stage_rows_in[16];   /* rows into each stage's tasks (≤ 16 stages) */
    int64_t task_rows_in[64];    /* rows into each task of the last stage  */
    int     ntask_rows;          /* (skew: max / median of these)          */
    /* per stage (EXPLAIN ANALYZE, DESCRIBE QUERY, the web UI); ≤ 16 stages, ≤ 64 tasks each */
    int     stage_tasks[16];
    int64_t stage_rows_out[16];  /* rows the stage's tasks sent on (exchange or output) */
    int64_t stage_bytes_out[16]; /* …and their bytes (the shuffle write of the stage)  */
    int64_t stage_state_rows[16];
    int64_t stage_spilled_rows[16];
    int64_t stage_spill_writes[16];
    int64_t stage_busy_us[16];   /* time its tasks spent working (not waiting)        */
    int64_t stage_task_rows[16][64]; /* rows into each task (skew: max / median)      */
    int64_t stage_op_us[16][16];     /* time in each operator's own work, summed over
                                        tasks, by the stage's ops[] index (a source
                                        stage's ops[0], the scan: reading + its filter) */
    int64_t latency_p50_us;      /* watermark created at a source → its rows */
    int64_t latency_p99_us;      /* reach the output; -1 when none yet     */
    int     latency_samples;     /* (the last 4096 output batches)         */
    char    warning[256];        /* a source's, the sink's or the group's transient
                                    problem now ("" none)                      */
    int     checkpoints_on;      /* state.dir set                          */
    int64_t ckpt_epoch;          /* the last committed checkpoint (0: none) */
    int64_t ckpt_count;          /* checkpoints committed by this run      */
    int64_t ckpt_duration_us;    /* the last one: barriers asked → committed */
    int64_t ckpt_bytes;          /* the last one: bytes written            */
    int64_t ckpt_age_us;         /* since it committed; -1: none this run  */
    int64_t restored_epoch;      /* the checkpoint this run resumed from (0: none) */
    int64_t ckpt_skipped;        /* not committed because the sink could not prepare
                                    (a broker down); carried into the next one */
} QueryProgress;

/* Called every progress_interval_us while query_run runs, and once at the
 * end: for a SELECT on the thread that called query_run (the one that
 * delivers the rows); for an INSERT, whose rows go to the sink connector, on
 * a thread of the query's own, so progress goes on while the sink blocks.
 * Never two calls at once; the last one is on query_run's thread, after the
 * others. */
typedef void (*QueryProgressFn)(void *ctx, const QueryProgress *p);

/* Build the tasks, channels, sources and sink of plan (not started). NULL
 * with a reason in err on failure (e.g. a source that cannot open). The plan
 * must outlive the query. */
Query *query_new(const Plan *plan, const Settings *settings, char *err, size_t cap);

/* Run to the end. Rows of a SELECT go to sink (on this thread); an INSERT
 * writes to its sink connector. *stop (may be NULL) non-zero asks the query
 * to stop early (Ctrl-C). Returns 0, or -1 with a reason in err. */
int query_run(Query *q, const ResultSink *sink, volatile sig_atomic_t *stop, char *err, size_t cap);

/* Ask a running query to stop, from any thread (query_run then returns). */
void query_stop(Query *q);

/* Report progress every interval_us during query_run (and once at the end). */
void query_on_progress(Query *q, QueryProgressFn fn, void *ctx, int64_t interval_us);

/* A snapshot of the figures (counters the runtime publishes; any thread). */
void query_progress(Query *q, QueryProgress *out);

/* After query_run: the bad records the sources skipped — the total, and up
 * to max of the first messages ("path:line: reason") into msgs. */
int64_t query_bad_records(Query *q, char (*msgs)[256], int max, int *nmsgs);
void query_free(Query *q);

/* After query_run: something the user should be told ("" none), e.g. rows
 * a Kafka sink could not deliver before the query stopped. */
const char *query_end_notice(const Query *q);

/* The plan's EXPLAIN text with each stage's figures from p under its header:
 * rows in and out, bytes shuffled, state rows, busy time, and the skew of
 * rows over its tasks (max / median). malloc'd; the caller frees. */
char *query_explain_analyze(const Plan *plan, const QueryProgress *p);

#endif

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
    int64_t state_rows;          /* stateOperators[].numRowsTotal          */
    int64_t state_bytes;
    int64_t watermark;           /* eventTime.watermark (min over outputs) */
    int64_t max_event_time;      /* largest event time read                */
    int64_t shuffle_rows;        /* rows that crossed exchanges            */
    int64_t shuffle_bytes;
    int64_t bad_records;
    int64_t cpu_us;              /* CPU time of the worker threads so far  */
    int     nstages;
    int     ntasks;
    int64_t stage_rows_in[16];   /* rows into each stage's tasks (≤ 16 stages) */
    int64_t task_rows_in[64];    /* rows into each task of the last stage  */
    int     ntask_rows;          /* (skew: max / median of these)          */
    int64_t latency_p50_us;      /* watermark created at a source → its rows */
    int64_t latency_p99_us;      /* reach the output; -1 when none yet     */
    int     latency_samples;     /* (the last 4096 output batches)         */
    char    warning[256];        /* a source's transient problem now ("" none) */
} QueryProgress;

/* Called by query_run on its own thread every progress_interval_us. */
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

/* Call from the thread running query_run (or after it returned). */
void query_progress(Query *q, QueryProgress *out);

/* After query_run: the bad records the sources skipped — the total, and up
 * to max of the first messages ("path:line: reason") into msgs. */
int64_t query_bad_records(Query *q, char (*msgs)[256], int max, int *nmsgs);
void query_free(Query *q);

#endif

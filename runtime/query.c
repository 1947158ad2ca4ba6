/*
 * query.c — tasks, workers, exchanges and watermarks (see query.h).
 *
 * Control flow of a task, one step at a time (task_step):
 *
 *   source task:      source_next → watermark from the batch's event times
 *                     → scan filter → operator chain → output
 *   downstream task:  channel_recv from each input → operator chain → output
 *
 *   operator chain:   push(t, i, batch) runs operator i on the batch and
 *                     passes its output to operator i+1; the last one hands
 *                     rows to the output: the exchange to the next stage
 *                     (rows hash-partitioned into one batch per destination)
 *                     or the collector (the thread in query_run).
 *   watermarks:       advance(t, i, wm) lets operator i react (a windowed
 *                     aggregate emits the windows that ended, a partial
 *                     aggregate flushes) and then sends the watermark on.
 *
 * Deadlock freedom: a task that finds its output channel full waits by
 * running the tasks of *later* stages on its own worker (they drain the
 * channels it is waiting on, or wait the same way further downstream), and
 * the last stage's consumer is the collector, which never waits on a task.
 * Stages form a DAG, so no cycle of waits can form.
 *
 * Memory: every operator's output batch and every channel's batches are
 * allocated when the query is built and reused; a batch passed down the
 * chain is valid only during the call (operators that keep rows copy them).
 */
#include "runtime/query.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "exec/agg.h"
#include "exec/batch_copy.h"
#include "exec/expr_eval.h"
#include "exec/hash.h"
#include "exec/join.h"
#include "exec/timefmt.h"
#include "exec/window.h"
#include "runtime/channel.h"
#include "planner/explain.h"
#include "runtime/connectors/sink.h"
#include "runtime/connectors/source.h"
#include "runtime/kexchange.h"
#include "runtime/spill.h"
#include "runtime/state.h"

#define CHANNEL_BATCHES   8
#define PARTIAL_FLUSH_PUSHES 32          /* a partial aggregate flushes after this many input batches */
#define LINGER_US         5000           /* a half-full output batch waits at most this long */
#define WM_INTERVAL_US    1000           /* a source forwards a rising watermark at most this often */
#define SINK_FLUSH_US     200000         /* the collector flushes the sink at least this often */
#define STOP_CHECKPOINT_US 10000000      /* a stop waits this long at most for its last checkpoint */

/* State-store ids of what is not an operator (operators use their plan node id) */
#define STATE_OP_TASK   0xFFF0           /* part = global task number: watermarks, LIMIT counts  */
#define STATE_OP_SOURCE 0xFFF1           /* part = global task number: the source's position     */
#define STATE_OP_SINK   0xFFF2           /* part 0: the output sink's prepared state             */
#define TASK_META_VERSION 2
#define KX_PEND           16             /* group exchange: barrier epochs waiting for their commit */
#define KX_RECORD_RETRY_US 300000      /* group exchange: retry of a refused watermark record */
#define KX_RECORD_FINAL_US 15000000    /* …and how long the last one is retried at the end    */
#define KX_FLUSH_MS       60000          /* group exchange: how long a commit waits for deliveries   */
#define KX_STOP_FLUSH_MS  10000          /* …the last one, at a stop (undelivered: not committed,
                                            the next owner reads those rows again)                 */
#define KX_CHECK_US       200000         /* group exchange, bounded: how often a task that is done
                                            looks whether the whole group is                        */


/* ---- types ------------------------------------------------------------------- */

typedef struct OpState {
    const PlanNode *node;
    ExprState      *filter;     /* FILTER                                   */
    ExprState     **exprs;      /* PROJECT: one per output column           */
    Batch           out;        /* PROJECT, WINDOW, AGGREGATE: output batch */
    int             has_out;
    WindowOp       *win;        /* WINDOW                                   */
    AggOp          *agg;        /* AGGREGATE                                */
    int             pushes;     /* AGGREGATE PARTIAL: batches since flush   */
    int             changes;    /* AGGREGATE with EMIT CHANGES: out has a leading op column */
    int64_t         last_wm;    /* AGGREGATE: the watermark it was last advanced to */
    Batch           late;       /* AGGREGATE with a late sink: late rows + reason */
    int             has_late;
    int64_t         limit_left; /* LIMIT                                    */
    JoinOp         *join;       /* JOIN                                     */
    int             next;       /* the operator its output goes to (nops: the task's output) */
    int             next_side;  /* …as that JOIN's left (0) or right (1) input */
    int             branch;     /* 0/1: below a JOIN on its left/right side; 2: otherwise */
    _Atomic int64_t busy_ns;    /* time in this operator's own work (EXPLAIN ANALYZE) */
    size_t          spill_share;/* AGGREGATE: its share of state.memory; over it, it spills */
} OpState;

typedef struct Query Query;

/* Messages that arrived on an input after its checkpoint barrier, held back
 * (batches copied) until the barrier has arrived on every input. */
typedef struct HeldQueue {
    Msg *m;
    int  head, n, cap;
} HeldQueue;

typedef struct HoldPool {       /* spare batches for held copies */
    Batch **b;
    int     n, cap;
} HoldPool;

/* Stage 1 of a group exchange: a window of a partition not emitted yet, and
 * the smallest topic offset its rows came at (a replay must start there). */
typedef struct KxOpen {
    int64_t wend;   /* window_end; WATERMARK_MIN = free slot */
    int64_t off;
} KxOpen;
#define KX_OPEN 8   /* windows tracked per partition; more fold into kx_open_lo */
#define KX_CLN  4   /* per partition and barrier: from, applied, changelog end, full start */

typedef struct Task {
    Query       *q;
    int          stage, index;
    int          worker;
    OpState     *ops;          /* the stage's operators after its input  */
    int          nops;
    /* input: a source (stage 0) or channels */
    Source      *source;
    int          values;       /* PLAN_VALUES: emit one empty row        */
    Batch        src_batch;
    ExprState   *scan_filter;
    int          wm_col;
    int64_t      wm_delay;
    int64_t      join_delay;   /* the JOIN's output watermark lags its inputs' by this (join_out_wm) */
    int64_t      max_ts;
    int64_t      last_wm_sent_us;
    int64_t      last_data_us;
    int          idle_sent;
    int64_t      wait_until_us;
    Channel    **in;
    int          nin;
    int64_t     *in_wm;
    uint8_t     *in_done;      /* 1 idle, 2 ended                        */
    /* output */
    Channel    **out;          /* nout channels (one per downstream task, or the collector) */
    int          nout;
    Batch      **building;     /* a batch being filled per destination   */
    int64_t      building_since;
    const PlanNode *exchange;  /* NULL: to the collector                 */
    uint64_t    *hashes;
    uint32_t    *rows;         /* scratch: row indexes per destination    */
    int         *nrows;
    int64_t      wm;           /* the watermark this task has sent on    */
    int64_t      last_changes_us; /* EMIT CHANGES: last emission         */
    int64_t      wm_at_us;     /* when the watermark being processed was created at a source */
    int          nparts;       /* partitions of a multi-partition source (Kafka) */
    int64_t     *part_max;     /* their largest event times                      */
    int64_t     *part_last_us; /* when each last produced a row                  */
    int64_t      frontier;     /* the event time the watermark follows            */
    int          had_warning;  /* this task published a source warning          */
    int64_t      release_at_us;/* rows sent now were released by that watermark (latency) */
    int          has_changes;
    int          finished;
    int          in_emit;      /* inside agg_emit: operators are mid-emission  */
    /* the operators form a tree when the stage has a JOIN (its two sides are
     * branches fed by the stage's two inputs) */
    int          entry[2], entry_side[2]; /* where rows go in: per input (with a JOIN,
                                             per side of it), the operator and its side */
    int          src_k;        /* the entry of the source's rows                 */
    int          in_slot[2];   /* the entry of each stage input's rows           */
    uint8_t     *in_side;      /* per input channel: its entry (in_slot)         */
    int          join_i;       /* the JOIN operator, -1 none                     */
    int64_t      side_wm[2];   /* the watermark of each side of the JOIN         */
    int          table_side;   /* the JOIN side that is a bounded table read first
                                  (plan.h's join.table: group mode, or a Kafka
                                  table), -1 none                                */
    int          table_ready;  /* that side has ended here (q->tables_open), or a
                                  followed table is whole (its watermark is the
                                  end of time); its later rows are updates        */
    int          table_src;    /* this task reads a join's table (plan_stage_table) */
    int          table_caught; /* a followed table's source: it is whole, and the
                                  end-of-time watermark went out (table_caught)  */
    int          wait_tables;  /* a source of a join's stream side: reads nothing
                                  while a join task lacks its table              */
    /* checkpoints */
    int          gidx;         /* global task number (state keys)               */
    int64_t      barrier_epoch;/* the last checkpoint this task took part in    */
    int64_t      acked_epoch;  /* the last committed one its source was told of  */
    int64_t      aligning;     /* the epoch whose barriers are arriving, 0 none */
    uint8_t     *in_barrier;   /* per input: its barrier has arrived            */
    HeldQueue   *held;         /* per input: what came after its barrier        */
    HoldPool     pool;         /* copies of held batches, for reuse             */
    StateTxn    *piece;        /* this task's share of checkpoint piece_epoch   */
    int64_t      piece_epoch;
    StateTxn    *final_piece;  /* finished: its share of every later checkpoint */
    /* counters (this task writes; others read relaxed) */
    _Atomic int64_t rows_in;
    _Atomic int64_t state_rows;
    _Atomic int64_t late_rows;
    int64_t      late_base;    /* late rows of operators reset since (group exchange) */
    _Atomic int64_t state_bytes;
    _Atomic int64_t wm_pub;
    _Atomic int64_t max_ts_pub;
    _Atomic int64_t busy_us;
    _Atomic int64_t source_ns;  /* time in source_next and the scan filter */
    _Atomic int64_t spilled;    /* aggregate groups in the spill store          */
    _Atomic int64_t state_fixed;/* state bytes that cannot spill (state.memory)  */
    _Atomic int64_t spill_writes;/* groups spilled so far (evictions)            */
    /* spilling */
    void        *spill_buf;    /* a group taken back from the store              */
    SpillBatch  *spill_batch;  /* this task's queued spill writes                */
    size_t       spill_cap;
    struct SpillDrop {         /* a drained window's store entries, deleted once */
        int      op;           /* the checkpoint after its closing committed     */
        int64_t  tag;
        uint8_t  prefix[16];
        size_t   plen;
    }           *drops;
    int          ndrops, drops_cap;
    /* group exchange (deployment.group; docs/scaling.md, runtime/kexchange.h):
     * the exchange between stage 0 and stage 1 is a repartition topic */
    KxWriter    *kxw;          /* stage 0: rows go into the topic, in segments          */
    KxReader    *kxr;          /* stage 1: rows come from it (replayed on reassignment) */
    int64_t      kx_pend_epoch[KX_PEND];  /* barrier epochs not yet committed to the group, */
    int64_t      kx_pend_val[KX_PEND];    /* with the segment sealed (stage 0) or the       */
    int          kx_npend;                /* watermark emitted (stage 1) at each            */
    uint64_t     kx_committed; /* stage 0: the last segment committed ('C' written)     */
    int64_t      kx_revokes;   /* stage 0: revocations handled                          */
    int          src_held;     /* group source partitions held for a checkpoint: asked it */
    uint8_t     *kx_src_owned; /* stage 0: per source partition, owned at the last step */
    int64_t      kx_src_moves; /* stage 0: the source's assignments + revocations then    */
    /* group mode, for progress (published by the task's own thread) */
    int64_t      grp_moves;    /* the source's assignments + revocations at the last count */
    _Atomic int  grp_parts;    /* source (stage 0) or exchange (stage 1) partitions owned */
    _Atomic int  grp_held;     /* source partitions held for a checkpoint               */
    _Atomic int  grp_unsteady, grp_ending; /* source_group_state                       */
    _Atomic int64_t grp_assigns; /* the source's assignments so far                     */
    _Atomic int64_t grp_revokes; /* and revocations                                     */
    int64_t      kx_gen;       /* stage 1: the reader's generation handled              */
    int64_t     *kx_supp;      /* stage 1: per partition, windows ending at or before
                                  this are emitted already (here or by an earlier owner) */
    uint8_t     *kx_owned;     /* stage 1: per partition, owned in generation kx_gen    */
    uint16_t    *kx_parts;     /* stage 1: the partition of each row read               */
    int64_t     *kx_offs;      /* stage 1: the topic offset of each row read            */
    KxOpen      *kx_open;      /* stage 1: P × KX_OPEN windows not emitted yet, with the
                                  first offset of their rows (bounded replay)           */
    int64_t     *kx_open_lo;   /* stage 1: per partition, the first offset of rows of
                                  windows that did not fit in kx_open (INT64_MAX none)  */
    int          kx_wend;      /* stage 1: input column of the aggregate's window_end
                                  (-1: an unwindowed aggregation)                      */
    /* stage 1 of an aggregation that emits changes (plan_agg_changelog): its state goes to
     * the changelog topic, one partition per repartition partition, as the
     * aggregate's checkpoint chunks ("G" bucket, or "W" window bucket: its
     * buckets are the partitions, AggOpSpec.snap_parts = P <= 64; kx_cl_part); a partition's owner
     * restores it from there (kx_cl_restore) and
     * replays the repartition topic from the position recorded with it */
    int          kx_cl;        /* 1: this task keeps its state in kx_log                */
    int          kx_clop;      /* the index of that aggregate in ops                    */
    KxLog       *kx_log;
    int          kx_clfull;    /* the next checkpoint writes every bucket (after a restore) */
    int64_t     *kx_clx;       /* per partition: the changelog's end as recorded / written */
    int64_t     *kx_clf;       /* per partition: where its last full snapshot starts       */
    uint64_t     kx_cltok;     /* this task's owner token since its last restore           */
    int64_t     *kx_clpos;     /* KX_PEND × P × KX_CLN: from, applied, changelog end, full
                                  snapshot start, per pending barrier                   */
    int64_t     *kx_clbar;     /* P × KX_CLN: those of the barrier just taken              */
    int64_t     *kx_clcur;     /* P × KX_CLN: those of the checkpoint being recorded       */
    _Atomic int64_t kx_restored; /* groups restored from the changelog                  */
    _Atomic int64_t kx_cldropped;/* rows messages the restored state held: dropped (kexchange) */
    _Atomic int64_t kx_replayed; /* stage 1: rows of windows emitted already, skipped    */
    int64_t      kx_next_check;/* stage 1, done with its partitions: next look at the group */
    int64_t      kx_rec;       /* stage 1: a watermark to record in the group (kx_record) */
    int          kx_rec_due;   /* …a record is due (kx_rec may be WATERMARK_MIN: kx_supp's) */
    char       (*kx_led)[KX_META_MAX]; /* stage 1, per partition: the records of the
                                  barrier of kx_led_epoch (kx_led_build; ckpt_lock)    */
    int64_t      kx_led_epoch;
    _Atomic int64_t kx_led_done; /* …the last epoch whose records checkpoint_commit wrote */
    int64_t      kx_rec_retry_us;
    int64_t      kx_release_at;/* stage 1, partitions revoked: the checkpoint after which
                                  they are released (0 = none awaited)                  */
    int64_t      kx_reset_at;  /* stage 1, the assignment changed: the checkpoint after
                                  which it starts over (kx_reset_due; 0 = none)        */
    int          kx_moved;     /* stage 1: rows taken or the watermark moved since the
                                  last reset or release (kx_reset_due)                 */
    int          kx_clhold;    /* stage 1 of sessions that emit final rows: the reader
                                  holds positions across its rewinds (kx_reader_hold)
                                  until the task's reset (kx_reader_unhold)           */
    /* a window or interval join of two streams through the topic
     * (kx_setup): each side's rows go in as [until, side, left columns,
     * right columns], the other side's columns NULL; `until` is a window
     * join's window_end, an interval join's as kx_until_fill computes it */
    int          kx_obase;     /* stage 0: the origin of its source partition 0        */
    int          kx_nsrc;      /* stage 0: its source topic's partitions               */
    Vector      *kx_ucols;     /* stage 0 of a join: the union row's columns (a view)  */
    int          kx_uncols, kx_uwend, kx_ubase, kx_uown, kx_ukeys[64];
    int          kx_ival;      /* stages 0 and 1: the join is an interval join         */
    int64_t      kx_ushift;    /* stage 0 of an interval join: until = time + this     */
    int64_t      kx_uwin, kx_uwsize; /* … moved to the end of its last window, when an
                                  aggregate takes the join's rows: windows of this
                                  size every kx_uwin (0: none)                          */
    Vector       kx_uuntil;    /* stage 0 of an interval join: the until column        */
    int          kx_join;      /* stage 1: the topic feeds a join of two streams       */
    int          kx_agg;       /* stage 1: … whose rows an aggregate takes at once
                                  (plan_agg_of_join: no hold; its windows are final)   */
    const PlanNode *kx_wnode;  /* … the window op below that aggregate, whose output
                                  has the join's left keys at kx_wkeys                 */
    int          kx_wkeys[64], kx_nwkeys;
    uint32_t    *kx_wsel;      /* … kx_drop_emitted's selection and hashes              */
    uint64_t    *kx_whash;
    int          kx_wsel_cap;
    int          kx_hwend[2];  /* stage 1: the join output's window_end (an interval
                                  join: time) column of each side                      */
    int64_t      kx_lower, kx_upper; /* stage 1 of an interval join: its bounds        */
    int64_t      kx_gran;      /* stage 1 of an interval join: until rounded up to this
                                  for the replay's tracking (kx_track), 0 exact        */
    int          kx_hkeys[2][64], kx_nhkeys; /* stage 1: the output's key columns of
                                  each side (a joined row's partition: kx_hold_add)    */
    int64_t      kx_supp_max;  /* stage 1: the largest kx_supp of an owned partition   */
    int          kx_nleft;     /* stage 1: the join's left columns                      */
    Batch      **kx_hold;      /* stage 1 of a join: joined rows not final yet          */
    int          kx_nhold, kx_hold_cap;
    int64_t      kx_hold_rows;
    HoldPool     kx_pool;
} Task;

typedef struct Worker {
    Query          *q;
    pthread_t       thread;
    Task          **tasks;
    int             ntasks;
    int             started;
    _Atomic int64_t cpu_us;   /* this thread's CPU time, published each round */
} Worker;

struct Query {
    const Plan     *plan;
    const Settings *settings;
    Task          **tasks;        /* by stage, then index */
    int            *stage_first;  /* index into tasks of each stage's task 0 */
    int             ntasks;
    Worker         *workers;
    int             nworkers;
    Channel        *channels;     /* all exchange channels */
    int             nchannels;
    Channel        *collect;      /* one per last-stage task */
    int             ncollect;
    Sink           *sink;
    _Atomic int     stop;         /* ask everyone to stop           */
    _Atomic int     failed;
    char            error[512];
    pthread_mutex_t error_lock;
    _Atomic int64_t start_us;
    _Atomic int64_t output_rows;
    int             crash_after;  /* tests: SIGKILL after this many sink commits
                                     that made rows visible (SLUICE_CRASH_AFTER_COMMIT) */
    int64_t         crash_rows;   /* …output_rows at the last commit                */
    int64_t         stop_hold_us; /* tests: a stop's last checkpoint commits this much
                                     later (SLUICE_STOP_COMMIT_DELAY_MS)            */
    int64_t         hold_until_us;/* …until then                                     */
    int64_t         fail_records_us; /* tests: records to the group fail for this long
                                     after the query starts (SLUICE_FAIL_RECORDS_MS) */
    QueryProgressFn progress_fn;
    void           *progress_ctx;
    int64_t         progress_interval_us;
    Sink           *late_sink;    /* 'late.sink' of the stream, shared by the tasks */
    int             unflushed;    /* rows written to the sink since the last flush */
    int64_t         last_flush_us;
    char            warning[256]; /* a source's current transient problem (under error_lock) */
    char            sink_warning[256]; /* the sink's (a Kafka broker down…), under error_lock */
    char            kx_warning[256];   /* group mode: a record to the group failing now
                                          (kx_rec_failed), under error_lock */
    _Atomic int64_t kx_rec_fails;      /* records to the group that failed (retried) */
    char            end_notice[400];   /* what the caller should hear when query_run returns */
    int64_t         sink_warning_at_us;
    Batch           changes_view; /* EMIT CHANGES: the collector's view with an op column */
    pthread_mutex_t lat_lock;     /* the samples are read by query_progress from any thread */
    int64_t        *lat;          /* watermark-to-output latency samples (µs), a ring */
    int             nlat, lat_cap;
    int64_t         lat_total;
    Vector          changes_op;
    pthread_mutex_t late_lock;
    /* checkpoints (the collector coordinates them; see query_run) */
    StateStore     *store;        /* NULL: checkpoints off          */
    SpillStore     *spill;        /* aggregates' groups over state.memory: in the
                                     store's database, or a temporary one opened
                                     at the first spill (under spill_lock)      */
    pthread_mutex_t spill_lock;
    int             nspillable;   /* aggregates that may spill (state.memory shares) */
    _Atomic int64_t ckpt_request; /* sources inject this epoch's barrier */
    _Atomic int     ckpt_soon;    /* a task waits for a checkpoint: request it now */
    int64_t         ckpt_inflight;/* requested, not committed yet   */
    int64_t         ckpt_started_us;
    int64_t         ckpt_last_us; /* when the last one was requested */
    pthread_mutex_t ckpt_lock;    /* the tasks' pieces               */
    _Atomic int64_t ckpt_epoch;   /* the last committed checkpoint   */
    _Atomic int64_t ckpt_count;   /* committed by this run           */
    _Atomic int64_t ckpt_dur_us;  /* the last one: barrier to commit */
    _Atomic int64_t ckpt_bytes;   /* the last one: bytes written     */
    _Atomic int64_t ckpt_at_us;   /* when the last one committed     */
    int64_t         restored_epoch;
    int64_t         ckpt_last_req;/* the last epoch requested (epochs only grow) */
    StateTxn       *ckpt_carry;   /* a checkpoint the sink could not prepare (broker
                                     down): its changes go into the next one      */
    _Atomic int64_t ckpt_skipped; /* checkpoints carried over like that           */
    _Atomic int     stop_req;     /* query_stop: stop after a last checkpoint */
    volatile sig_atomic_t *run_stop; /* query_run's stop flag (the shell's SIGINT), or NULL */
    int             kx;           /* group exchange: stage kx_w → topic → kx_r  */
    int             kx_w, kx_r;   /* (kx_w reads the Kafka source)               */
    int             kx_w2;        /* a window join's right side: it writes too, -1 */
    _Atomic int     tables_open;  /* join tasks whose table side has not ended:
                                     the stream side's sources wait (source_step) */
    int             kx_norigins;  /* the source topics' partitions (watermark origins) */
    char            kx_topic[400];
    char            kx_group[300];/* the readers' consumer group                 */
    char            kx_ledger[320];/* their records: a group nobody joins          */
    char            kx_cltopic[320];/* the changelog topic (kx_cl_setup)           */
    uint8_t        *col_barrier;  /* per collector channel: its barrier arrived */
    HeldQueue      *col_held;
    HoldPool        col_pool;
    /* INSERT: progress is reported from a thread of its own, so it goes on
     * while the sink blocks (a stalled consumer of a FIFO, a slow disk) */
    pthread_t       progress_thread;
    int             progress_threaded;
    _Atomic int     progress_done;
};

void query_on_progress(Query *q, QueryProgressFn fn, void *ctx, int64_t interval_us)
{
    q->progress_fn = fn;
    q->progress_ctx = ctx;
    q->progress_interval_us = interval_us > 0 ? interval_us : 1000000;
}

static int64_t thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void op_time(OpState *s, int64_t t0)
{
    atomic_fetch_add_explicit(&s->busy_ns, now_ns() - t0, memory_order_relaxed);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void query_fail(Query *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void query_fail(Query *q, const char *fmt, ...)
{
    pthread_mutex_lock(&q->error_lock);
    if (!atomic_load(&q->failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(q->error, sizeof q->error, fmt, ap);
        va_end(ap);
        atomic_store(&q->failed, 1);
    }
    pthread_mutex_unlock(&q->error_lock);
    atomic_store(&q->stop, 1);
}

static int stopping(const Query *q)
{
    return atomic_load_explicit(&((Query *)q)->stop, memory_order_relaxed);
}

/* ---- output: exchange or collector -------------------------------------------- */

static int task_step(Task *t);

/* Wait for room downstream by running this worker's later-stage tasks. */
static void wait_for_room(Task *t)
{
    Worker *w = &t->q->workers[t->worker];
    int     progressed = 0;
    for (int i = 0; i < w->ntasks; i++) {
        Task *o = w->tasks[i];
        if (o->stage > t->stage && !o->finished) progressed |= task_step(o);
    }
    if (!progressed) {
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
}

static int send_msg(Task *t, Channel *c, Msg m)
{
    while (channel_send(c, m) != 0) {
        if (stopping(t->q)) return -1;
        wait_for_room(t);
    }
    return 0;
}

static Batch *acquire(Task *t, Channel *c)
{
    Batch *b;
    while ((b = channel_acquire(c)) == NULL) {
        if (stopping(t->q)) return NULL;
        wait_for_room(t);
    }
    return b;
}

static int flush_dest(Task *t, int d)
{
    Batch *b = t->building[d];
    if (!b) return 0;
    t->building[d] = NULL;
    if (b->count == 0) {
        channel_release(t->out[d], b);   /* never sent: give it straight back */
        return 0;
    }
    Msg m = {MSG_BATCH, b, 0, t->release_at_us};
    return send_msg(t, t->out[d], m);
}

static int flush_all(Task *t)
{
    for (int d = 0; d < t->nout; d++)
        if (flush_dest(t, d)) return -1;
    return 0;
}

/* Rows waiting in partly filled batches longer than LINGER_US go out. 1 when
 * it flushed, 0 when there was nothing to flush yet. */
static int linger_flush(Task *t, int64_t now)
{
    if (!t->building_since || now - t->building_since <= LINGER_US) return 0;
    flush_all(t);
    t->building_since = 0;
    return 1;
}

/* Append rows[0..n) of b to destination d, sending full batches. */
static int append_to(Task *t, int d, const Batch *b, const uint32_t *rows, int n)
{
    while (n > 0) {
        if (!t->building[d]) {
            t->building[d] = acquire(t, t->out[d]);
            if (!t->building[d]) return -1;
            if (t->building_since == 0) t->building_since = now_us();
        }
        Batch *dst = t->building[d];
        int    room = dst->capacity - dst->nrows;
        int    k = n < room ? n : room;
        if (rows) {
            if (batch_append_rows(dst, b, rows, k) != 0) return -1;
            rows += k;
        } else {
            /* identity rows: the first k live rows */
            uint32_t idx[SLUICE_VECTOR_SIZE];
            int      done = b->count - n;
            for (int i = 0; i < k; i++) idx[i] = (uint32_t)(done + i);
            if (batch_append_rows(dst, b, idx, k) != 0) return -1;
        }
        n -= k;
        if (dst->nrows == dst->capacity && flush_dest(t, d)) return -1;
    }
    return 0;
}

/* Stage 0 of an interval join of two streams: the union row's `until` of
 * b's live rows — the row's time plus t->kx_ushift (kx_setup: after it,
 * nothing the row joins into is still to be emitted), NULL for a NULL time.
 * 0, or -1 after query_fail. */
static int kx_until_fill(Task *t, const Batch *b)
{
    Vector       *u = &t->kx_uuntil;
    const Vector *tv = &b->cols[t->kx_uwend];
    if (b->nrows > u->capacity) {
        vector_destroy(u);
        if (vector_init(u, TYPE_TIMESTAMP, b->nrows) != 0) {
            query_fail(t->q, "out of memory");
            return -1;
        }
    }
    vector_reset(u);
    int64_t       *out = vector_i64(u);
    const int64_t *in = vector_i64(tv);
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        if (vector_is_null(tv, r)) {
            vector_set_null(u, r);
            continue;
        }
        int64_t x = in[vector_index(tv, r)] + t->kx_ushift;
        if (t->kx_uwin > 0) {   /* the end of x's last window: floor(x / win) * win + size */
            int64_t m = x % t->kx_uwin;
            x = x - (m < 0 ? m + t->kx_uwin : m) + t->kx_uwsize;
        }
        out[r] = x;
    }
    return 0;
}

static int emit_rows(Task *t, const Batch *b)
{
    if (b->count == 0) return 0;
    if (t->kxw) {   /* into the repartition topic, by the exchange's key */
        const PlanNode *x = t->exchange;
        if (t->kx_ucols) {   /* a side of a join of two streams: as the union row (kx_setup) */
            Batch u = *b;
            if (t->kx_ival) {
                if (kx_until_fill(t, b)) return -1;
                t->kx_ucols[0] = t->kx_uuntil;
            } else {
                t->kx_ucols[0] = b->cols[t->kx_uwend];
            }
            for (int c = 0; c < b->ncols; c++) t->kx_ucols[t->kx_ubase + c] = b->cols[c];
            u.cols = t->kx_ucols;
            u.ncols = t->kx_uncols;
            if (kx_write(t->kxw, &u, t->kx_ukeys, x->u.exchange.nkeys) == 0) return 0;
        } else if (kx_write(t->kxw, b, x->u.exchange.keys, x->u.exchange.nkeys) == 0) {
            return 0;
        }
        query_fail(t->q, "exchange topic '%s': %s", t->q->kx_topic, kx_writer_error(t->kxw));
        return -1;
    }
    if (!t->exchange || t->nout == 1) {
        /* to the collector, or to a single downstream task */
        if (b->sel) return append_to(t, 0, b, b->sel, b->count);
        return append_to(t, 0, b, NULL, b->count);
    }
    const PlanNode *x = t->exchange;
    int             n = b->count;
    if (x->u.exchange.part == PART_BROADCAST) {   /* a table: every row to every task */
        for (int d = 0; d < t->nout; d++)
            if (b->sel ? append_to(t, d, b, b->sel, n) : append_to(t, d, b, NULL, n)) return -1;
        return 0;
    }
    if (x->u.exchange.part != PART_HASH || x->u.exchange.nkeys == 0) {
        return b->sel ? append_to(t, 0, b, b->sel, n) : append_to(t, 0, b, NULL, n);
    }
    for (int k = 0; k < x->u.exchange.nkeys; k++)
        hash_vector(&b->cols[x->u.exchange.keys[k]], b->sel, n, t->hashes, k > 0);
    /* bucket the live rows by destination: rows[d * cap + i] */
    for (int d = 0; d < t->nout; d++) t->nrows[d] = 0;
    for (int i = 0; i < n; i++) {
        uint32_t d = (uint32_t)(((t->hashes[i] >> 32) * (uint64_t)t->nout) >> 32);
        uint32_t r = b->sel ? b->sel[i] : (uint32_t)i;
        t->rows[(size_t)d * SLUICE_VECTOR_SIZE + (size_t)t->nrows[d]++] = r;
    }
    for (int d = 0; d < t->nout; d++)
        if (t->nrows[d] && append_to(t, d, b, t->rows + (size_t)d * SLUICE_VECTOR_SIZE, t->nrows[d]))
            return -1;
    return 0;
}

static int send_watermark(Task *t, int64_t wm)
{
    if (wm <= t->wm) return 0;
    t->wm = wm;
    atomic_store_explicit(&t->wm_pub, wm, memory_order_relaxed);
    if (flush_all(t)) return -1;
    t->building_since = 0;
    if (t->kxw && wm != WATERMARK_MAX) {
        /* a watermark per source partition it reads (the end: send_end), each
         * from that partition's own event time: a partition taken over from
         * another instance is read again from the group's offset, and its
         * rows must not fall behind the watermark of this task's others */
        int64_t now = now_us(), idle = t->q->settings->idle_timeout_us;
        for (int o = 0; o < t->kx_nsrc; o++) {
            if (!source_partition_owned(t->source, o)) continue;
            int64_t w = WATERMARK_MIN;
            if (o < t->nparts && t->part_max[o] != WATERMARK_MIN) w = t->part_max[o] - t->wm_delay;
            if (t->nparts <= 1) w = wm;   /* one partition: the task's own */
            if (o < t->nparts && now - t->part_last_us[o] > idle && wm > w &&
                !source_partition_behind(t->source, o))
                w = wm;   /* idle (and caught up): released */
            if (w > wm) w = wm;   /* never ahead of the task's own */
            if (w == WATERMARK_MIN) continue;
            if (kx_write_watermark(t->kxw, t->kx_obase + o, w)) {
                query_fail(t->q, "exchange topic '%s': %s", t->q->kx_topic, kx_writer_error(t->kxw));
                return -1;
            }
        }
    }
    for (int d = 0; d < t->nout; d++) {
        Msg m = {MSG_WATERMARK, NULL, wm, t->wm_at_us};
        if (send_msg(t, t->out[d], m)) return -1;
    }
    return 0;
}

static void task_final_piece(Task *t, int ops_too);

static int send_end(Task *t)
{
    if (flush_all(t)) return -1;
    if (t->kxw) {
        /* the input is over — in group mode only once the group's offsets
         * cover every partition's end, so every row is in a committed
         * segment: the ends need no decision record of their own */
        int rc = 0;
        for (int o = 0; o < t->kx_nsrc && !rc; o++) rc = kx_write_end(t->kxw, t->kx_obase + o);
        uint64_t seg = rc ? 0 : kx_seal(t->kxw);
        if (!rc) rc = seg == 0 || kx_commit_through(t->kxw, seg);
        if (!rc) rc = kx_flush(t->kxw, KX_FLUSH_MS) != 0;
        if (rc) {
            query_fail(t->q, "exchange topic '%s': %s", t->q->kx_topic,
                       *kx_writer_error(t->kxw) ? kx_writer_error(t->kxw) : "brokers unreachable");
            return -1;
        }
    }
    task_final_piece(t, !t->in_emit);
    for (int d = 0; d < t->nout; d++) {
        Msg m = {MSG_END, NULL, 0, 0};
        if (send_msg(t, t->out[d], m)) return -1;
    }
    t->finished = 1;
    return 0;
}

/* ---- the operator chain -------------------------------------------------------- */

static int push(Task *t, int i, int side, Batch *b);

static void publish_agg(Task *t)
{
    int64_t rows = t->kx_hold_rows, late = t->late_base, bytes = 0, fixed = 0;
    for (int i = 0; i < t->nops; i++) {
        if (t->ops[i].join) {
            rows += join_op_state_rows(t->ops[i].join);
            late += join_op_late_rows(t->ops[i].join);
            bytes += (int64_t)join_op_state_bytes(t->ops[i].join);
            fixed += (int64_t)join_op_state_bytes(t->ops[i].join);
        }
        if (!t->ops[i].agg) continue;
        rows += agg_op_groups(t->ops[i].agg) + agg_op_spilled(t->ops[i].agg);
        late += agg_op_late_rows(t->ops[i].agg);
        bytes += (int64_t)agg_op_state_bytes(t->ops[i].agg);
        if (!t->ops[i].spill_share) fixed += (int64_t)agg_op_state_bytes(t->ops[i].agg);
    }
    atomic_store_explicit(&t->state_rows, rows, memory_order_relaxed);
    atomic_store_explicit(&t->late_rows, late, memory_order_relaxed);
    atomic_store_explicit(&t->state_bytes, bytes, memory_order_relaxed);
    atomic_store_explicit(&t->state_fixed, fixed, memory_order_relaxed);
    int64_t spilled = 0;
    for (int i = 0; i < t->nops; i++)
        if (t->ops[i].agg) spilled += agg_op_spilled(t->ops[i].agg);
    atomic_store_explicit(&t->spilled, spilled, memory_order_relaxed);
    /* state.memory: aggregates spill to stay in their share; the state that
     * cannot (joins, session windows) must fit, or the query stops with a
     * clear error instead of eating the machine */
    int64_t budget = t->q->settings ? t->q->settings->state_memory_bytes : 0;
    if (budget > 0 && fixed > 0) {
        int64_t total = 0;
        for (int k = 0; k < t->q->ntasks; k++)
            total += atomic_load_explicit(&t->q->tasks[k]->state_fixed, memory_order_relaxed);
        if (total > budget)
            query_fail(t->q,
                       "the query's join and session-window state holds %lld bytes, over state.memory (%lld "
                       "bytes), and cannot spill (aggregates do): raise it (SET state.memory = '2GB') or bound "
                       "the state (a window, a time-bounded join, state.ttl)",
                       (long long)total, (long long)budget);
    }
}

/* Hand operator i's output batch to the next operator. With a leading op
 * column (EMIT CHANGES aggregates, outer regular joins), that column
 * (+I/+U/-D) is not part of the plan's schema: it becomes the batch's
 * changelog marks. */
static int push_out(Task *t, int i)
{
    OpState *s = &t->ops[i];
    if (!s->changes) return push(t, s->next, s->next_side, &s->out);
    uint8_t *ops = batch_ops_buf(&s->out);
    if (!ops) {
        query_fail(t->q, "out of memory");
        return -1;
    }
    const int64_t *op = vector_i64(&s->out.cols[0]);
    for (int r = 0; r < s->out.nrows; r++) ops[r] = (uint8_t)op[r];
    Batch view = s->out;
    view.cols = s->out.cols + 1;
    view.ncols = s->out.ncols - 1;
    view.ops = ops;
    return push(t, s->next, s->next_side, &view);
}

static int kx_hold_add(Task *t, const Batch *b);
static int kx_drop_emitted(Task *t, const Batch *wb, Batch *kept);

/* Hand out what a JOIN has queued (in a group's window join of two
 * streams: into the hold, until the rows' window closes). */
static int join_drain(Task *t, int i)
{
    OpState *s = &t->ops[i];
    int      more = 1;
    t->in_emit++;
    while (more) {
        more = 0;
        batch_reset(&s->out);
        int64_t t0 = now_ns();
        int     n = join_op_drain(s->join, &s->out, &more);
        op_time(s, t0);
        if (n < 0) {
            query_fail(t->q, "join failed: %s", join_op_error(s->join));
            t->in_emit--;
            return -1;
        }
        if (s->out.count > 0 && (t->kx_join && !t->kx_agg ? kx_hold_add(t, &s->out) : push_out(t, i))) {
            t->in_emit--;
            return -1;
        }
    }
    t->in_emit--;
    publish_agg(t);
    return 0;
}

/* Emit everything an aggregate has in memory to give (flush, or windows up to wm). */
/* how: 0 advance to wm, 1 flush, 2 changes since the last call */
static int agg_emit_once(Task *t, int i, int how, int64_t wm)
{
    OpState *s = &t->ops[i];
    int      more = 1;
    t->in_emit++;
    while (more) {
        more = 0;
        batch_reset(&s->out);
        int64_t t0 = now_ns();
        int n = how == 1 ? agg_op_flush(s->agg, &s->out, &more)
              : how == 2 ? agg_op_changes(s->agg, &s->out, &more)
                         : agg_op_advance(s->agg, wm, &s->out, &more);
        op_time(s, t0);
        if (n < 0) {
            query_fail(t->q, "aggregation failed: %s", agg_op_error(s->agg));
            t->in_emit--;
            return -1;
        }
        if (s->out.count == 0) continue;
        if (push_out(t, i)) {
            t->in_emit--;
            return -1;
        }
    }
    t->in_emit--;
    publish_agg(t);
    return 0;
}

/* ---- spilling: aggregate groups over state.memory ------------------------------ */

#define SPILL_DRAIN_GROUPS 4096   /* groups loaded between emissions of a closing window */
#define SPILL_DRAIN_CHECK  64     /* … and between looks at the op's size meanwhile */

/* The tag of what this task writes to the spill store (the epoch of its next
 * checkpoint) and the last committed epoch (runtime/spill.h). */
static int64_t spill_tag(const Task *t)
{
    return t->q->store ? t->barrier_epoch + 1 : 0;
}

static int64_t spill_committed(Task *t)
{
    return t->q->store ? atomic_load(&t->q->ckpt_epoch) : 0;
}

/* the query's spill store, opened at the first spill without checkpoints */
static SpillStore *spill_store(Query *q)
{
    pthread_mutex_lock(&q->spill_lock);
    if (!q->spill) {
        char err[512];
        q->spill = q->store ? spill_open_shared(q->store, err, sizeof err) : spill_open_temp(NULL, err, sizeof err);
        if (!q->spill) query_fail(q, "state over state.memory cannot spill: %s", err);
    }
    pthread_mutex_unlock(&q->spill_lock);
    return q->spill;
}

typedef struct SpillCtx {
    Task    *t;
    int      i;      /* the operator */
    int      how;    /* agg_emit's */
    int64_t  wm;
    int64_t  n;      /* groups loaded */
    int      failed;
    size_t   base;   /* spill_drain_cb: the op's state bytes after its last emission */
} SpillCtx;

static void spill_publish(Task *t)
{
    int64_t n = 0;
    for (int i = 0; i < t->nops; i++)
        if (t->ops[i].agg) n += agg_op_spilled(t->ops[i].agg);
    atomic_store_explicit(&t->spilled, n, memory_order_relaxed);
}

static int spill_put_cb(void *ctx, const void *gkey, size_t klen, const void *val, size_t vlen)
{
    SpillCtx *c = ctx;
    Task     *t = c->t;
    char      err[512];
    if (spill_bput(t->q->spill, t->spill_batch, t->ops[c->i].node->id, t->index, gkey, klen, val, vlen,
                   spill_tag(t), spill_committed(t), err, sizeof err) != 0) {
        query_fail(t->q, "%s", err);
        return 1;
    }
    return 0;
}

static int spill_get_cb(void *ctx, const void *gkey, size_t klen, const void **val, size_t *vlen)
{
    SpillCtx *c = ctx;
    Task     *t = c->t;
    char      err[512];
    int rc = spill_btake(t->q->spill, t->spill_batch, t->ops[c->i].node->id, t->index, gkey, klen, spill_tag(t),
                         spill_committed(t), &t->spill_buf, &t->spill_cap, vlen, err, sizeof err);
    if (rc < 0) {
        query_fail(t->q, "%s", err);
        return -1;
    }
    *val = t->spill_buf;
    return rc;
}

/* operator i's aggregate holds more than its share of state.memory: move
 * groups out until it holds half of it */
static int spill_evict(Task *t, int i)
{
    OpState *s = &t->ops[i];
    char     err[512];
    if (!spill_store(t->q)) return -1;
    if (!t->spill_batch && !(t->spill_batch = spill_batch_new(t->q->spill))) {
        query_fail(t->q, "out of memory");
        return -1;
    }
    /* EMIT CHANGES: a group with a change not yet emitted cannot go, so the
     * pending changes go out first (earlier than emit.interval) */
    if (s->changes && agg_emit_once(t, i, 2, 0)) return -1;
    SpillCtx c = {t, i, 0, 0, 0, 0, 0};
    int64_t  n = agg_op_spill_evict(s->agg, s->spill_share / 2, spill_put_cb, &c);
    if (n < 0) {
        if (!stopping(t->q)) query_fail(t->q, "spilling state: %s", agg_op_error(s->agg));
        return -1;
    }
    if (spill_batch_commit(t->spill_batch, err, sizeof err) != 0) {
        query_fail(t->q, "%s", err);
        return -1;
    }
    atomic_fetch_add_explicit(&t->spill_writes, n, memory_order_relaxed);
    spill_publish(t);
    return 0;
}

/* before a push: take back the spilled groups the batch's rows belong to */
static int spill_fetch(Task *t, int i, const Batch *b)
{
    SpillCtx c = {t, i, 0, 0, 0, 0, 0};
    char     err[512];
    if (!t->spill_batch && !(t->spill_batch = spill_batch_new(t->q->spill))) {
        query_fail(t->q, "out of memory");
        return -1;
    }
    if (agg_op_spill_fetch(t->ops[i].agg, b, spill_get_cb, &c) != 0) {
        if (!stopping(t->q)) query_fail(t->q, "taking back spilled state: %s", agg_op_error(t->ops[i].agg));
        return -1;
    }
    if (spill_batch_commit(t->spill_batch, err, sizeof err) != 0) {
        query_fail(t->q, "%s", err);
        return -1;
    }
    spill_publish(t);
    return 0;
}

static int spill_drain_cb(void *ctx, const void *gkey, size_t klen, const void *val, size_t vlen)
{
    SpillCtx *c = ctx;
    OpState  *s = &c->t->ops[c->i];
    if (agg_op_spill_load(s->agg, gkey, klen, val, vlen) != 0) {
        query_fail(c->t->q, "taking back spilled state: %s", agg_op_error(s->agg));
        c->failed = 1;
        return 1;
    }
    /* emit (and free) what is loaded every few thousand groups, or once what
     * was loaded since the last emission reaches half the op's share (looked
     * at every SPILL_DRAIN_CHECK groups: the size walks every open window's
     * table). Not "the state over half the share": the windows that stay
     * open can hold that much by themselves, and every group loaded then
     * emitted — one emission per group, minutes for a large drain. */
    ++c->n;
    int due = c->n % SPILL_DRAIN_GROUPS == 0;
    if (!due && s->spill_share && c->n % SPILL_DRAIN_CHECK == 0)
        due = agg_op_state_bytes(s->agg) > c->base + s->spill_share / 2;
    if (!due) return 0;
    if (agg_emit_once(c->t, c->i, c->how, c->wm)) {
        c->failed = 1;
        return 1;
    }
    c->base = agg_op_state_bytes(s->agg);
    return 0;
}

/* A window that closes (or the end of input) needs groups that are in the
 * store: load them a few thousand at a time, emitting as they come. */
static int spill_drain_due(Task *t, int i, int how, int64_t wm)
{
    OpState *s = &t->ops[i];
    uint8_t  pre[16];
    size_t   plen;
    char     err[512];
    while (agg_op_spill_wanted(s->agg, how == 1 ? INT64_MAX : wm, pre, &plen)) {
        SpillCtx c = {t, i, how, wm, 0, 0, agg_op_state_bytes(s->agg)};
        int64_t  tag = spill_tag(t);
        int rc = spill_drain(t->q->spill, s->node->id, t->index, pre, plen, tag, spill_committed(t), spill_drain_cb,
                             &c, err, sizeof err);
        if (c.failed) return -1;
        if (rc < 0) {
            query_fail(t->q, "%s", err);
            return -1;
        }
        if (c.n == 0) {   /* the op counts spilled groups the store does not have */
            query_fail(t->q, "the spill store lost %lld groups of an aggregate (corrupt state?)",
                       (long long)agg_op_spilled(s->agg));
            return -1;
        }
        if (agg_emit_once(t, i, how, wm)) return -1;
        if (t->q->store) {   /* its tombstones go once a checkpoint after this one committed */
            if (t->ndrops == t->drops_cap) {
                int   ncap = t->drops_cap ? 2 * t->drops_cap : 8;
                void *nd = realloc(t->drops, (size_t)ncap * sizeof *t->drops);
                if (!nd) {
                    query_fail(t->q, "out of memory");
                    return -1;
                }
                t->drops = nd;
                t->drops_cap = ncap;
            }
            struct SpillDrop *d = &t->drops[t->ndrops++];
            d->op = s->node->id;
            d->tag = tag;
            memcpy(d->prefix, pre, plen);
            d->plen = plen;
        }
    }
    spill_publish(t);
    return 0;
}

/* the drained windows whose closing a committed checkpoint holds */
static void spill_drop_done(Task *t)
{
    int64_t committed = spill_committed(t);
    int     k = 0;
    for (int j = 0; j < t->ndrops; j++) {
        struct SpillDrop *d = &t->drops[j];
        char              err[512];
        if (d->tag > committed) {
            t->drops[k++] = *d;
            continue;
        }
        if (spill_drop(t->q->spill, d->op, t->index, d->prefix, d->plen, err, sizeof err) != 0) {
            query_fail(t->q, "%s", err);
            return;
        }
    }
    t->ndrops = k;
}

static int agg_emit(Task *t, int i, int how, int64_t wm)
{
    if (agg_emit_once(t, i, how, wm)) return -1;
    if (how == 2 || agg_op_spilled(t->ops[i].agg) == 0) return 0;
    return spill_drain_due(t, i, how, wm);
}

/* Rows of b whose window has already been emitted go to the late sink, with
 * the reason; the aggregate then drops (and counts) them as usual. */
static int write_late(Task *t, OpState *s, const Batch *b)
{
    const PlanNode *n = s->node;
    const Vector   *ve = &b->cols[n->u.agg.keys[n->u.agg.wend_key]];
    uint32_t        rows[SLUICE_VECTOR_SIZE];
    int             k = 0;
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        if (vector_is_null(ve, r) || vector_i64(ve)[vector_index(ve, r)] <= s->last_wm) rows[k++] = (uint32_t)r;
    }
    if (k == 0) return 0;
    Batch *lb = &s->late;
    batch_reset(lb);
    int nin = n->input->out.ncols;
    for (int c = 0; c < nin; c++)
        if (vector_gather(&lb->cols[c], 0, &b->cols[c], rows, k) != 0) goto oom;
    char wmtext[TS_FORMAT_MAX], reason[128];
    ts_format(s->last_wm, wmtext, sizeof wmtext, 0);
    snprintf(reason, sizeof reason, "window already closed: watermark at %s", wmtext);
    for (int i = 0; i < k; i++) {
        if (vector_set_str(&lb->cols[nin], i, reason, strlen(reason)) != 0) goto oom;
        vector_i64(&lb->cols[nin + 1])[i] = s->last_wm;
    }
    lb->nrows = lb->count = k;
    pthread_mutex_lock(&t->q->late_lock);
    int rc = sink_write(t->q->late_sink, lb);
    pthread_mutex_unlock(&t->q->late_lock);
    if (rc != 0) {
        query_fail(t->q, "late sink '%s': %s", n->u.agg.late_sink, sink_error(t->q->late_sink));
        return -1;
    }
    return 0;
oom:
    query_fail(t->q, "out of memory");
    return -1;
}

/* Run operator i (as input `side` of a JOIN) on b, and the operators after
 * it; i = nops: the task's output. */
static int push(Task *t, int i, int side, Batch *b)
{
    for (; i < t->nops; side = t->ops[i].next_side, i = t->ops[i].next) {
        OpState        *s = &t->ops[i];
        const PlanNode *n = s->node;
        if (b->count == 0) return 0;
        int64_t t0 = now_ns();
        switch (n->kind) {
        case PLAN_JOIN: {
            int rc = join_op_push(s->join, side, b);
            op_time(s, t0);
            if (rc != 0) {
                query_fail(t->q, "join failed: %s", join_op_error(s->join));
                return -1;
            }
            return join_drain(t, i);
        }
        case PLAN_FILTER:
            if (expr_filter(s->filter, b) != 0) {
                query_fail(t->q, "filter failed: %s", expr_state_error(s->filter));
                return -1;
            }
            break;
        case PLAN_PROJECT: {
            batch_reset(&s->out);
            for (int c = 0; c < n->out.ncols; c++) {
                const Vector *v;
                if (expr_eval(s->exprs[c], b, &v) != 0 ||
                    vector_gather(&s->out.cols[c], 0, v, b->sel, b->count) != 0) {
                    query_fail(t->q, "expression failed: %s", expr_state_error(s->exprs[c]));
                    return -1;
                }
            }
            s->out.nrows = s->out.count = b->count;
            if (b->ops) {
                uint8_t *ops = batch_ops_buf(&s->out);
                if (!ops) {
                    query_fail(t->q, "out of memory");
                    return -1;
                }
                for (int r = 0; r < b->count; r++) ops[r] = b->ops[b->sel ? b->sel[r] : (uint32_t)r];
                s->out.ops = ops;
            }
            b = &s->out;
            break;
        }
        case PLAN_WINDOW: {
            /* the op's output is a read-only view: operators that change a
             * batch in place (FILTER, LIMIT) get a copy */
            int copy = s->next < t->nops && (t->ops[s->next].node->kind == PLAN_FILTER ||
                                             t->ops[s->next].node->kind == PLAN_LIMIT);
            int more = 1;
            while (more) {
                const Batch *wb;
                int64_t      w0 = now_ns();
                int          wrc = window_op_apply(s->win, b, &wb, &more);
                op_time(s, w0);
                if (wrc < 0) {
                    query_fail(t->q, "window assignment failed: %s", window_op_error(s->win));
                    return -1;
                }
                if (wb->count == 0) continue;
                Batch kept;
                if (n == t->kx_wnode && t->kx_supp_max != WATERMARK_MIN) {   /* (after a replay) */
                    if (kx_drop_emitted(t, wb, &kept)) return -1;
                    if (kept.count == 0) continue;
                    wb = &kept;
                }
                if (copy) {
                    batch_reset(&s->out);
                    if (batch_append_live(&s->out, wb) != 0) {
                        query_fail(t->q, "out of memory");
                        return -1;
                    }
                    wb = &s->out;
                }
                if (push(t, s->next, s->next_side, (Batch *)wb)) return -1;
            }
            return 0;
        }
        case PLAN_AGGREGATE: {
            if (s->has_late && s->last_wm != WATERMARK_MIN && write_late(t, s, b)) return -1;
            if (agg_op_spilled(s->agg) > 0 && spill_fetch(t, i, b)) return -1;
            int rc = agg_op_push(s->agg, b);
            int over = rc == 0 && s->spill_share && agg_op_state_bytes(s->agg) > s->spill_share;
            if (over && n->u.agg.mode != AGG_PARTIAL && spill_evict(t, i)) return -1;
            op_time(s, t0);
            if (rc != 0) {
                query_fail(t->q, "aggregation failed: %s", agg_op_error(s->agg));
                return -1;
            }
            /* a partial aggregate flushes after a burst, or when over its share */
            if (n->u.agg.mode == AGG_PARTIAL && (++s->pushes >= PARTIAL_FLUSH_PUSHES || over)) {
                s->pushes = 0;
                return agg_emit(t, i, 1, 0);
            }
            publish_agg(t);
            return 0;
        }
        case PLAN_LIMIT:
            if (s->limit_left <= 0) {
                b->count = 0;
                return 0;
            }
            if (b->count > s->limit_left) b->count = (int)s->limit_left;
            s->limit_left -= b->count;
            break;
        default:
            break;
        }
        op_time(s, t0);   /* FILTER, PROJECT, LIMIT: their own work only */
    }
    if (emit_rows(t, b)) return -1;
    if (t->nops > 0 && t->ops[t->nops - 1].node->kind == PLAN_LIMIT && t->ops[t->nops - 1].limit_left <= 0 &&
        !t->finished) {
        /* LIMIT reached: this task is done, and so is the query */
        return send_end(t);
    }
    return 0;
}

/* The watermark wm reached operator i: let aggregates react, then send it on. */
static int advance_inner(Task *t, int64_t wm);

static int advance(Task *t, int64_t wm)
{
    /* rows emitted because of this watermark carry its creation time, so the
     * collector can measure watermark-to-output latency */
    t->release_at_us = wm == WATERMARK_MAX ? 0 : t->wm_at_us;
    int rc = advance_inner(t, wm);
    if (rc == 0 && flush_all(t)) rc = -1;
    t->building_since = 0;
    t->release_at_us = 0;
    return rc;
}

/* Let the aggregates of one branch (2: the operators not below a JOIN)
 * react to watermark wm. */
static int advance_ops(Task *t, int branch, int64_t wm)
{
    for (int i = 0; i < t->nops; i++) {
        OpState *s = &t->ops[i];
        if (s->node->kind != PLAN_AGGREGATE || s->branch != branch) continue;
        const PlanNode *n = s->node;
        if (n->u.agg.mode == AGG_PARTIAL) {
            s->pushes = 0;
            if (agg_emit(t, i, 1, 0)) return -1;
        } else if (n->u.agg.windowed) {
            if (agg_emit(t, i, 0, wm)) return -1;
            s->last_wm = wm;
        } else if (wm == WATERMARK_MAX) {
            if (agg_emit(t, i, 1, 0)) return -1;   /* end of input: the last changes */
        }
    }
    return 0;
}

static int advance_inner(Task *t, int64_t wm)
{
    if (advance_ops(t, 2, wm)) return -1;
    return send_watermark(t, wm);
}

/* One side of the task's JOIN has a new watermark: that branch's
 * aggregates, then the JOIN, react to it. */
static int advance_side(Task *t, int side, int64_t wm)
{
    t->side_wm[side] = wm;
    t->release_at_us = wm == WATERMARK_MAX ? 0 : t->wm_at_us;
    if (advance_ops(t, side, wm)) return -1;
    int64_t t0 = now_ns();
    int     rc = join_op_advance(t->ops[t->join_i].join, side, wm);
    op_time(&t->ops[t->join_i], t0);
    if (rc != 0) {
        query_fail(t->q, "join failed: %s", join_op_error(t->ops[t->join_i].join));
        return -1;
    }
    return join_drain(t, t->join_i);
}

/* ---- checkpoints ------------------------------------------------------------------ */
/*
 * Aligned barriers, as Flink's. The collector asks for checkpoint E by
 * raising q->ckpt_request; each source task, at its next step, snapshots its
 * operators and its source's position into its own StateTxn (its "piece"),
 * then sends a BARRIER(E) on every output after the rows it has sent so far.
 * A downstream task that gets BARRIER(E) on an input holds back what comes
 * after it on that input (copied, so the channel keeps draining and no
 * producer can be stuck behind it) until the barrier has come on every
 * input that has not ended; then it snapshots, sends BARRIER(E) on, and
 * goes through what it held. The collector does the same with the last
 * stage's barriers, and then writes every piece, the sink's prepared state
 * and the epoch in ONE LevelDB write batch (checkpoint_commit). A task that
 * finishes leaves a final piece that stands for it in every later
 * checkpoint. Partial aggregates flush at a barrier, so they hold no state
 * in a checkpoint.
 */

static void held_free(HeldQueue *h, HoldPool *pool);

static Batch *hold_copy(HoldPool *pool, const Batch *b)
{
    Batch *c = pool->n > 0 ? pool->b[--pool->n] : NULL;
    if (!c) {
        SqlType types[512];
        if (b->ncols > 512 || !(c = calloc(1, sizeof *c))) return NULL;
        for (int k = 0; k < b->ncols; k++) types[k] = b->cols[k].type;
        if (batch_init(c, b->ncols, types, SLUICE_VECTOR_SIZE) != 0) {
            batch_destroy(c);
            free(c);
            return NULL;
        }
    }
    batch_reset(c);
    if (batch_append_live(c, b) != 0) {
        batch_destroy(c);
        free(c);
        return NULL;
    }
    return c;
}

static void pool_put(HoldPool *pool, Batch *b)
{
    if (pool->n == pool->cap) {
        int     cap = pool->cap ? pool->cap * 2 : 8;
        Batch **nb = realloc(pool->b, (size_t)cap * sizeof *nb);
        if (!nb) {
            batch_destroy(b);
            free(b);
            return;
        }
        pool->b = nb;
        pool->cap = cap;
    }
    pool->b[pool->n++] = b;
}

static void pool_free(HoldPool *pool)
{
    for (int i = 0; i < pool->n; i++) {
        batch_destroy(pool->b[i]);
        free(pool->b[i]);
    }
    free(pool->b);
    memset(pool, 0, sizeof *pool);
}

/* Hold m (its batch copied; the caller releases the original). 0 or -1. */
static int held_push(HeldQueue *h, HoldPool *pool, Msg m)
{
    if (h->n == h->cap) {
        int  cap = h->cap ? h->cap * 2 : 16;
        Msg *nm = malloc((size_t)cap * sizeof *nm);
        if (!nm) return -1;
        for (int i = 0; i < h->n; i++) nm[i] = h->m[(h->head + i) % h->cap];
        free(h->m);
        h->m = nm;
        h->head = 0;
        h->cap = cap;
    }
    if (m.kind == MSG_BATCH && !(m.batch = hold_copy(pool, m.batch))) return -1;
    h->m[(h->head + h->n) % h->cap] = m;
    h->n++;
    return 0;
}

/* Aligning: take up to 64 messages waiting on c and hold them (batches
 * copied, the originals released at once, so the producer is never stuck
 * behind an aligning input). How many, or -1 when out of memory. */
static int hold_from(Channel *c, HeldQueue *h, HoldPool *pool)
{
    Msg m;
    int k = 0;
    while (k < 64 && channel_recv(c, &m) == 0) {
        int bad = held_push(h, pool, m) != 0;
        if (m.kind == MSG_BATCH) channel_release(c, m.batch);
        if (bad) return -1;
        k++;
    }
    return k;
}

static int held_pop(HeldQueue *h, Msg *m)
{
    if (h->n == 0) return -1;
    *m = h->m[h->head];
    h->head = (h->head + 1) % h->cap;
    h->n--;
    return 0;
}

static void held_free(HeldQueue *h, HoldPool *pool)
{
    Msg m;
    while (held_pop(h, &m) == 0)
        if (m.kind == MSG_BATCH) pool_put(pool, m.batch);
    free(h->m);
    memset(h, 0, sizeof *h);
}

typedef struct ChunkCtx {
    StateTxn *tx;
    int       op, part;
} ChunkCtx;

static int put_chunk(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    ChunkCtx *c = ctx;
    if (val) state_txn_put(c->tx, c->op, c->part, key, klen, val, vlen);
    else state_txn_delete(c->tx, c->op, c->part, key, klen);
    return 0;
}

/* What a task keeps besides its operators' tables: its watermarks and the
 * LIMITs' counts (int64s: version, wm, max_ts, frontier, nin, in_wm…, nops,
 * then per operator last_wm and limit_left, then the JOIN's two side
 * watermarks). */
static int task_meta(const Task *t, int64_t *m, int cap)
{
    int n = 0;
    if (8 + t->nin + 2 * t->nops > cap) return -1;
    m[n++] = TASK_META_VERSION;
    m[n++] = t->wm;
    m[n++] = t->max_ts;
    m[n++] = t->frontier;
    m[n++] = t->nin;
    for (int i = 0; i < t->nin; i++) m[n++] = t->in_wm[i];
    m[n++] = t->nops;
    for (int i = 0; i < t->nops; i++) {
        m[n++] = t->ops[i].last_wm;
        m[n++] = t->ops[i].limit_left;
    }
    m[n++] = t->side_wm[0];
    m[n++] = t->side_wm[1];
    return n;
}

/* This task's share of a checkpoint: its operators' changes since the last
 * one, its watermarks, its source's position. Partial aggregates flush
 * first (their rows go out before the barrier). NULL after query_fail. */
static StateTxn *task_snapshot(Task *t, int ops_too)
{
    Query    *q = t->q;
    StateTxn *tx = state_txn_new(q->store);
    if (!tx) {
        query_fail(q, "checkpoint: out of memory");
        return NULL;
    }
    for (int i = 0; ops_too && i < t->nops; i++) {
        OpState *s = &t->ops[i];
        if (s->join) {
            ChunkCtx c = {tx, s->node->id, t->index};
            if (join_op_snapshot(s->join, 0, put_chunk, &c) != 0) {
                query_fail(q, "checkpoint: %s", join_op_error(s->join));
                goto fail;
            }
            continue;
        }
        if (!s->agg) continue;
        if (s->node->u.agg.mode == AGG_PARTIAL) {
            s->pushes = 0;
            if (agg_emit(t, i, 1, 0)) goto fail;
            continue;
        }
        ChunkCtx c = {tx, s->node->id, t->index};
        if (agg_op_snapshot(s->agg, 0, put_chunk, &c) != 0) {
            query_fail(q, "checkpoint: %s", agg_op_error(s->agg));
            goto fail;
        }
    }
    int64_t meta[1024];
    int     n = task_meta(t, meta, 1024);
    if (n < 0) {
        query_fail(q, "checkpoint: too many inputs or operators");
        goto fail;
    }
    state_txn_put(tx, STATE_OP_TASK, t->gidx, "", 0, meta, (size_t)n * sizeof *meta);
    if (t->source) {
        char  small[4096], *buf = small;
        long  need = source_checkpoint(t->source, NULL, 0);   /* the size it needs */
        if (need > (long)sizeof small && !(buf = malloc((size_t)need))) {
            query_fail(q, "checkpoint: out of memory");
            goto fail;
        }
        long len = need < 0 ? -1 : source_checkpoint(t->source, buf, need > (long)sizeof small ? (size_t)need : sizeof small);
        if (len < 0) {
            query_fail(q, "checkpoint: stream '%s': %s", q->plan->stages[t->stage].ops[0]->u.scan.stream,
                       source_error(t->source));
            if (buf != small) free(buf);
            goto fail;
        }
        state_txn_put(tx, STATE_OP_SOURCE, t->gidx, "", 0, buf, (size_t)len);
        if (buf != small) free(buf);
    }
    return tx;
fail:
    state_txn_abort(tx);
    return NULL;
}

/* The barrier of epoch has passed this task: snapshot, then send it on. */
static void kx_pend_push(Task *t, int64_t epoch, int64_t val)
{
    size_t blk = t->kx_clpos ? (size_t)t->q->plan->group_partitions * KX_CLN : 0;
    if (t->kx_npend == KX_PEND) {   /* the oldest goes: a later commit covers it */
        memmove(t->kx_pend_epoch, t->kx_pend_epoch + 1, (KX_PEND - 1) * sizeof *t->kx_pend_epoch);
        memmove(t->kx_pend_val, t->kx_pend_val + 1, (KX_PEND - 1) * sizeof *t->kx_pend_val);
        if (blk) memmove(t->kx_clpos, t->kx_clpos + blk, (KX_PEND - 1) * blk * sizeof *t->kx_clpos);
        t->kx_npend--;
    }
    if (blk) memcpy(t->kx_clpos + (size_t)t->kx_npend * blk, t->kx_clbar, blk * sizeof *t->kx_clpos);
    t->kx_pend_epoch[t->kx_npend] = epoch;
    t->kx_pend_val[t->kx_npend++] = val;
}

/* The newest pending entry with an epoch <= epoch (and every older one)
 * leaves the list: 1 with *val, or 0 when there is none. */
static int kx_pend_take(Task *t, int64_t epoch, int64_t *val)
{
    int k = -1;
    for (int i = 0; i < t->kx_npend; i++)
        if (t->kx_pend_epoch[i] <= epoch) k = i;
    if (k < 0) return 0;
    *val = t->kx_pend_val[k];
    size_t blk = t->kx_clpos ? (size_t)t->q->plan->group_partitions * KX_CLN : 0;
    if (blk) {   /* (the positions of k become the ones to record) */
        memcpy(t->kx_clcur, t->kx_clpos + (size_t)k * blk, blk * sizeof *t->kx_clcur);
        memmove(t->kx_clpos, t->kx_clpos + (size_t)(k + 1) * blk,
                (size_t)(t->kx_npend - k - 1) * blk * sizeof *t->kx_clpos);
    }
    memmove(t->kx_pend_epoch, t->kx_pend_epoch + k + 1, (size_t)(t->kx_npend - k - 1) * sizeof *t->kx_pend_epoch);
    memmove(t->kx_pend_val, t->kx_pend_val + k + 1, (size_t)(t->kx_npend - k - 1) * sizeof *t->kx_pend_val);
    t->kx_npend -= k + 1;
    return 1;
}

static int kx_writer_fail(Task *t);
static int kx_cl_barrier(Task *t);
static void kx_led_build(Task *t, int64_t epoch);

static int task_barrier(Task *t, int64_t epoch)
{
    Query    *q = t->q;
    /* a reader of the repartition topic keeps no state in the local
     * checkpoint: it rebuilds it from the topic (docs/scaling.md) */
    StateTxn *tx = task_snapshot(t, !t->kxr);
    if (!tx) return -1;
    if (t->finished) {   /* the partial flush reached a LIMIT: the final piece stands */
        state_txn_abort(tx);
        return 0;
    }
    pthread_mutex_lock(&q->ckpt_lock);
    state_txn_abort(t->piece);
    t->piece = tx;
    t->piece_epoch = epoch;
    pthread_mutex_unlock(&q->ckpt_lock);
    t->barrier_epoch = epoch;
    if (t->kxw) {   /* the segment ends here; the group's offset commit will record it */
        uint64_t seg = kx_seal(t->kxw);   /* (writes the segment's watermarks) */
        if (seg == 0) return kx_writer_fail(t);
        char     meta[SOURCE_META_MAX];
        kx_commit_meta(kx_writer_id(t->kxw), seg, meta, sizeof meta);
        source_set_commit_meta(t->source, meta);
        kx_pend_push(t, epoch, (int64_t)seg);
    }
    if (t->kx_cl && kx_cl_barrier(t)) return -1;   /* (its state to the changelog, its position) */
    if (t->kxr) {
        kx_pend_push(t, epoch, t->wm == WATERMARK_MIN ? WATERMARK_MIN : t->wm);
        kx_led_build(t, epoch);
    }
    if (t->source) source_barrier(t->source, epoch);   /* the position just checkpointed is epoch's */
    if (t->ndrops) spill_drop_done(t);
    if (flush_all(t)) return -1;
    t->building_since = 0;
    for (int d = 0; d < t->nout; d++) {
        Msg m = {MSG_BARRIER, NULL, epoch, 0};
        if (send_msg(t, t->out[d], m)) return -1;
    }
    return 0;
}

/* A finishing task's share of every checkpoint from now on. ops_too = 0
 * when it stops in the middle of an emission (LIMIT reached): then only its
 * meta and position count (its operators will never emit again anyway). */
static void task_final_piece(Task *t, int ops_too)
{
    Query *q = t->q;
    if (!q->store || t->final_piece) return;
    StateTxn *tx = task_snapshot(t, ops_too);
    if (!tx) return;
    pthread_mutex_lock(&q->ckpt_lock);
    if (t->final_piece) state_txn_abort(tx);   /* a nested finish got there first */
    else t->final_piece = tx;
    pthread_mutex_unlock(&q->ckpt_lock);
}

/* ---- task steps ------------------------------------------------------------------- */

static int64_t batch_max_ts(const Batch *b, int col)
{
    const Vector   *v = &b->cols[col];
    const int64_t  *x = vector_i64(v);
    int64_t         m = WATERMARK_MIN;
    if (v->kind == VECTOR_CONSTANT) return vector_is_null(v, 0) ? m : x[0];
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        if (vector_validity_get(v->validity, r) && x[r] > m) m = x[r];
    }
    return m;
}

/* Per-partition event time, for sources that read several partitions in one
 * task (Kafka): a partition that lags must not see its rows turn late because
 * another partition of the same task ran ahead. */
static int track_partitions(Task *t, const Batch *b, int64_t now)
{
    int             np = source_partition_count(t->source);
    const uint16_t *rp = source_row_partitions(t->source);
    if (np <= 1 || !rp) return 0;
    if (t->nparts < np) {
        int64_t *mx = realloc(t->part_max, (size_t)np * sizeof *mx);
        if (!mx) goto oom;
        t->part_max = mx;
        int64_t *last = realloc(t->part_last_us, (size_t)np * sizeof *last);
        if (!last) goto oom;
        t->part_last_us = last;
        for (int p = t->nparts; p < np; p++) {
            t->part_max[p] = WATERMARK_MIN;
            t->part_last_us[p] = t->q->start_us;
        }
        t->nparts = np;
    }
    const Vector  *v = &b->cols[t->wm_col];
    const int64_t *x = vector_i64(v);
    for (int i = 0; i < b->count; i++) {   /* before the filter: every row counts */
        int r = b->sel ? (int)b->sel[i] : i;
        int p = rp[r];
        if (p >= np) continue;
        t->part_last_us[p] = now;
        int slot = vector_index(v, r);
        if (vector_validity_get(v->validity, slot) && x[slot] > t->part_max[p]) t->part_max[p] = x[slot];
    }
    return 0;
oom:
    query_fail(t->q, "out of memory");
    return 1;
}

/* The event time the task's watermark follows: its largest event time, or,
 * with several partitions, the smallest over the partitions that are not
 * idle (a partition that has not produced a row yet holds the watermark back
 * until it has been quiet for watermark.idle-timeout); when every partition
 * is idle, the largest. */
static int64_t frontier(Task *t, int64_t now)
{
    if (t->nparts <= 1) return t->max_ts;
    int64_t idle = t->q->settings->idle_timeout_us;
    int64_t lo = WATERMARK_MAX, hi = WATERMARK_MIN;
    int     active = 0;
    for (int p = 0; p < t->nparts; p++) {
        if (!source_partition_live(t->source, p)) continue;   /* revoked (group mode) */
        if (t->part_max[p] > hi) hi = t->part_max[p];
        if (now - t->part_last_us[p] > idle && !source_partition_behind(t->source, p)) continue;
        active++;
        if (t->part_max[p] < lo) lo = t->part_max[p];
    }
    int64_t f = active ? lo : hi;
    if (f > t->frontier) t->frontier = f;   /* watermarks only move forward */
    return t->frontier;
}

/* The watermark of the rows a task's JOIN emits: the smaller of its two
 * sides', less join_delay — a pair comes out when its second row comes,
 * and its times lie at most that far behind. A windowed aggregate of an
 * interval join's rows would otherwise close windows that pairs still
 * fall into. */
static int64_t join_out_wm(const Task *t)
{
    int64_t m = t->side_wm[0] < t->side_wm[1] ? t->side_wm[0] : t->side_wm[1];
    if (m == WATERMARK_MIN || m == WATERMARK_MAX || t->join_delay == 0) return m;
    return m > WATERMARK_MIN + t->join_delay ? m - t->join_delay : WATERMARK_MIN;
}

/* The source's watermark moved to wm. In a task with a JOIN (a group's join
 * with a table, read where the stream is), that is the watermark of the
 * JOIN's side the source feeds; the operators after it get the smaller of
 * its two sides'. */
static int source_advance(Task *t, int64_t wm)
{
    if (t->join_i < 0) return advance(t, wm);
    if (wm > t->side_wm[t->src_k] && advance_side(t, t->src_k, wm)) return -1;
    int64_t m = join_out_wm(t);
    return m > t->wm ? advance(t, m) : 0;
}

static int finish_input(Task *t)
{
    if (source_advance(t, WATERMARK_MAX)) return -1;
    return send_end(t);
}

/* A source's transient problem (a broker down…) becomes the query's warning
 * until the source says it is over. */
static void publish_warning(Task *t)
{
    const char *w = source_warning(t->source);
    int         has = w && *w;
    if (!has && !t->had_warning) return;
    pthread_mutex_lock(&t->q->error_lock);
    if (has) snprintf(t->q->warning, sizeof t->q->warning, "%s", w);
    else t->q->warning[0] = 0;
    pthread_mutex_unlock(&t->q->error_lock);
    t->had_warning = has;
}

/* ---- the group exchange (stage 0 → repartition topic → stage 1) ------------------------ */

static int  op_init(Query *q, Task *t, OpState *s, const PlanNode *n, char *err, size_t cap);
static void op_destroy(OpState *s);


/* A stage whose tasks read a source (ops[0] is its Scan or Values); it may
 * also have a stage input (a join's table in group mode). */
static int source_stage(const Stage *st)
{
    return st->nops > 0 && (st->ops[0]->kind == PLAN_SCAN || st->ops[0]->kind == PLAN_VALUES);
}

/* Start the operators over, empty (their wiring kept). 0, or -1 after query_fail. */
static int task_reset_ops(Task *t)
{
    const Stage *st = &t->q->plan->stages[t->stage];
    int          first = source_stage(st);
    char         err[300];
    for (int k = 0; k < t->nops; k++) {
        OpState *s = &t->ops[k];
        int      next = s->next, side = s->next_side, branch = s->branch;
        size_t   share = s->spill_share;
        if (s->join && s->node->u.join.table) continue;   /* the table: it stores no stream row */
        op_destroy(s);
        memset(s, 0, sizeof *s);
        s->next = next, s->next_side = side, s->branch = branch, s->spill_share = share;
        if (op_init(t->q, t, s, st->ops[k + first], err, sizeof err)) {
            query_fail(t->q, "%s", err);
            return -1;
        }
    }
    publish_agg(t);
    return 0;
}

/* What a partition assigned to this task is claimed with (source.h):
 * this writer, and the segment it has committed through. */
static void kx_claim_update(Task *t)
{
    char meta[SOURCE_META_MAX];
    kx_commit_meta(kx_writer_id(t->kxw), t->kx_committed, meta, sizeof meta);
    source_set_claim_meta(t->source, meta);
}

static int kx_writer_fail(Task *t)
{
    const char *e = kx_writer_error(t->kxw);
    query_fail(t->q, "exchange topic '%s': %s", t->q->kx_topic, *e ? e : "brokers unreachable");
    return -1;
}

/* Stage 0, checkpoint `committed` is durable: the segment's rows delivered,
 * the source's offsets into the group with the segment as their metadata
 * (the decision), then 'C'. 0, or -1 after query_fail. */
static int kx_writer_committed(Task *t, int64_t committed, int flush_ms)
{
    t->acked_epoch = committed;
    if (kx_flush(t->kxw, flush_ms) != 0) return kx_writer_fail(t);
    source_committed(t->source, committed);
    int64_t seg, done = source_group_committed(t->source);
    if (!kx_pend_take(t, done, &seg)) return 0;   /* the group did not take it: a later one will */
    if ((uint64_t)seg <= t->kx_committed) return 0;
    if (kx_commit_through(t->kxw, (uint64_t)seg)) return kx_writer_fail(t);
    t->kx_committed = (uint64_t)seg;
    kx_claim_update(t);
    return 0;
}

/* Stage 0: source partition o (-1: every one, and the task's own event
 * time) is read again from an earlier offset, or by this task anew: what it
 * knew of its event time is of rows that come again (or of an ownership
 * before another instance's): its watermarks in the topic start over from
 * the rows read from here on, else the rows read again would be behind
 * them — late for the aggregation downstream. */
static void kx_time_reset(Task *t, int o)
{
    int64_t now = now_us();
    for (int p = 0; p < t->nparts; p++)
        if (o < 0 || p == o) {
            t->part_max[p] = WATERMARK_MIN;
            t->part_last_us[p] = now;   /* holds its watermark back until idle */
        }
    if (o >= 0) return;
    t->max_ts = WATERMARK_MIN;
    atomic_store_explicit(&t->max_ts_pub, WATERMARK_MIN, memory_order_relaxed);
    t->frontier = WATERMARK_MIN;
    t->wm = WATERMARK_MIN;   /* (stage 0 sends its watermarks to the topic only) */
    if (t->join_i >= 0) t->side_wm[t->src_k] = WATERMARK_MIN;   /* (a table's stays ended) */
    atomic_store_explicit(&t->wm_pub, WATERMARK_MIN, memory_order_relaxed);
}

/* Stage 0: partitions newly assigned to this task since its last step. */
static int kx_src_assigned(Task *t)
{
    int     n = t->kx_nsrc;
    /* (ownership changes only at assignments and revocations) */
    int64_t moves = source_group_assigns(t->source) + source_group_revokes(t->source);
    if (t->kx_src_owned && moves == t->kx_src_moves) return 0;
    t->kx_src_moves = moves;
    if (!t->kx_src_owned && !(t->kx_src_owned = calloc((size_t)n, 1))) {
        query_fail(t->q, "out of memory");
        return -1;
    }
    for (int o = 0; o < n; o++) {
        uint8_t own = (uint8_t)(source_partition_owned(t->source, o) != 0);
        if (own && !t->kx_src_owned[o]) kx_time_reset(t, o);
        t->kx_src_owned[o] = own;
    }
    return 0;
}

/* Stage 0: the group took partitions from this task. Its open segments may
 * hold rows of them, which their next owner reads again from the group's
 * offsets: the segments are abandoned (a new writer id; the old one is
 * resolved through its last committed segment), the operators start over
 * empty, and the partitions kept are read again from the group's offsets
 * too. 0, or -1 after query_fail. */
static int kx_writer_rewind(Task *t)
{
    char err[300];
    t->kx_revokes = source_group_revokes(t->source);
    if (task_reset_ops(t)) return -1;
    uint64_t old = kx_writer_renew(t->kxw), through = t->kx_committed;
    if (kx_resolve(t->kxw, old, through)) return kx_writer_fail(t);
    t->kx_committed = 0;
    t->kx_npend = 0;
    kx_time_reset(t, -1);   /* every owned partition is read again */
    source_set_commit_meta(t->source, "");
    kx_claim_update(t);   /* the kept partitions are claimed again, for the new id */
    if (source_group_rewind(t->source, err, sizeof err)) {
        query_fail(t->q, "stream '%s': %s", t->q->plan->stages[t->stage].ops[0]->u.scan.stream, err);
        return -1;
    }
    return 0;
}

/* Stage 0, settling the writers named in decision records: partitions
 * newly assigned carried the decision records of their
 * previous owners: resolve those writers (they are gone, or renewed). And
 * at the end of a bounded read (end = 1) the source hands on the decision
 * records of every partition: their writers may not have marked their last
 * segments committed yet, and this task's end markers, written next, must
 * not reach a reader before those segments' rows do — so it confirms them
 * first (kx_confirm). Not a resolve: every row is decided, but those
 * writers may be ending too, their own end markers in a later segment that
 * they commit themselves; a fence that reached a partition before that
 * commit would drop their ends there, and the readers of it would wait for
 * them for ever. */
static int kx_settle_writers(Task *t, int end)
{
    int (*mark)(KxWriter *, uint64_t, uint64_t) = end ? kx_confirm : kx_resolve;
    char     metas[16][SOURCE_META_MAX];
    uint64_t ws[128], segs[128];   /* each writer once, through the latest segment named */
    int      n, nw = 0;
    while ((n = source_group_take_metas(t->source, metas, 16)) > 0) {
        for (int i = 0; i < n; i++) {
            uint64_t w[8], seg[8];
            int      k = kx_parse_commit_meta_list(metas[i], strlen(metas[i]), w, seg, 8);
            for (int j = 0; j < k && j < 8; j++) {   /* (not ours: -1, nothing) */
                if (w[j] == kx_writer_id(t->kxw)) continue;
                int at = 0;
                while (at < nw && ws[at] != w[j]) at++;
                if (at == nw) {
                    if (nw == 128) {   /* full: resolve what is gathered, start over */
                        for (int x = 0; x < nw; x++)
                            if (mark(t->kxw, ws[x], segs[x])) return kx_writer_fail(t);
                        nw = at = 0;
                    }
                    ws[nw] = w[j];
                    segs[nw++] = seg[j];
                } else if (seg[j] > segs[at]) {
                    segs[at] = seg[j];
                }
            }
        }
    }
    for (int x = 0; x < nw; x++)
        if (mark(t->kxw, ws[x], segs[x])) return kx_writer_fail(t);
    return 0;
}

/* The watermark a stage-1 task recorded in a partition's offset metadata:
 * "kxwm <n>". 1 with *wm, else 0. */
static int kx_parse_wm(const char *m, int64_t *wm)
{
    KxRecord r;
    kx_record_parse(m, &r);
    if (r.has_wm) *wm = r.wm;
    return r.has_wm;
}

/* Stage 1: rows[0..n) of b (selected) were read; remember, per partition,
 * the first offset of every window's rows (bounded replay). A run of rows
 * of one partition and one window — the common case: a partition's rows
 * come in order, a window's together — costs a compare per row: a later
 * offset of the same window cannot lower its first one. */
static void kx_track(Task *t, const Batch *b, int n)
{
    const Vector *ve = &b->cols[t->kx_wend];
    int           lp = -1;
    int64_t       lwe = 0, loff = 0;
    for (int i = 0; i < n; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        if (vector_is_null(ve, r)) continue;
        int64_t we = vector_i64(ve)[vector_index(ve, r)], off = t->kx_offs[r];
        int     p = t->kx_parts[r];
        if (t->kx_gran > 0) {   /* an interval join: few distinct values, rounded up */
            int64_t q = we / t->kx_gran;
            if (q * t->kx_gran < we) q++;
            we = q * t->kx_gran;
        }
        if (p == lp && we == lwe && off >= loff) continue;
        lp = p, lwe = we, loff = off;
        KxOpen *o = t->kx_open + (size_t)p * KX_OPEN, *free_slot = NULL;
        int     k = 0;
        for (; k < KX_OPEN && o[k].wend != we; k++)
            if (!free_slot && o[k].wend == WATERMARK_MIN) free_slot = &o[k];
        if (k < KX_OPEN) {
            if (off < o[k].off) o[k].off = off;
        } else if (free_slot) {
            free_slot->wend = we;
            free_slot->off = off;
        } else if (off < t->kx_open_lo[p]) {
            t->kx_open_lo[p] = off;
        }
    }
}

/* Stage 1 of a join of two streams: when joined row r of b is final — the
 * watermark at which it is released from the hold and at or before which a
 * replay drops it as emitted (docs/scaling.md). A window join: its
 * window_end (a padded row has its own side's). An interval join (lower <=
 * l.t - r.t <= upper; exec/join.h): a pair once both times are behind the
 * watermark, max(l.t, r.t) + 1; a padded left row when the op releases it,
 * l.t - lower + 1; a padded right row r.t + upper + 1; a row padded for a
 * NULL time at once. */
static int64_t kx_final_at(const Task *t, const Batch *b, int r)
{
    const Vector *v0 = &b->cols[t->kx_hwend[0]], *v1 = &b->cols[t->kx_hwend[1]];
    int           n0 = vector_is_null(v0, r), n1 = vector_is_null(v1, r);
    int64_t       a = n0 ? 0 : vector_i64(v0)[vector_index(v0, r)];
    int64_t       c = n1 ? 0 : vector_i64(v1)[vector_index(v1, r)];
    if (!t->kx_ival) return !n0 ? a : !n1 ? c : WATERMARK_MIN;
    if (!n0 && !n1) return (a > c ? a : c) + 1;
    if (!n0) return a - t->kx_lower + 1;
    if (!n1) return c + t->kx_upper + 1;
    return WATERMARK_MIN;
}

/* Stage 0 of an interval join (lower <= l.t - r.t <= upper): how far after
 * a row's own time its `until` lies — the latest point at which anything
 * it takes part in becomes final (kx_final_at): its pairs, its own padded
 * row, and the padded row of a partner it keeps from being padded. */
static int64_t kx_until_shift(const PlanNode *join, int side)
{
    int64_t lo = join->u.join.lower_us, hi = join->u.join.upper_us, sh;
    int     kind = join->u.join.kind;
    int     keep_other = side ? kind == PJOIN_LEFT || kind == PJOIN_FULL : kind == PJOIN_RIGHT || kind == PJOIN_FULL;
    sh = side ? (hi > 0 ? hi : 0) : (-lo > 0 ? -lo : 0);
    if (keep_other && hi - lo > sh) sh = hi - lo;
    return sh + 1;
}

/* Stage 1: the topic partition of each joined row of b (live rows, in
 * order) — the partition its rows came from: the hash of the left keys, or
 * of the right ones for a row padded on the left (exactly as kx_write
 * hashed the union row). */
static void kx_rows_parts(const Task *t, const Batch *b, uint16_t *parts)
{
    uint64_t h[2][SLUICE_VECTOR_SIZE];
    int      P = t->q->plan->group_partitions;
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < t->kx_nhkeys; k++)
            hash_vector(&b->cols[t->kx_hkeys[s][k]], b->sel, b->count, h[s], k > 0);
    const Vector *l0 = &b->cols[t->kx_hkeys[0][0]], *r0 = &b->cols[t->kx_hkeys[1][0]];
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        int s = vector_is_null(l0, r) && !vector_is_null(r0, r);
        parts[i] = (uint16_t)kx_partition_of(h[s][i], P);
    }
}

/* Stage 1 of an interval join whose rows an aggregate takes at once: wb
 * (the window op's output) as *kept, a view without the rows whose window
 * its partition had emitted before a replay — a pair read again can fall
 * into several windows, some emitted. A row's partition: the hash of the
 * join's left keys (as kx_write hashed its left row). 0, or -1 after
 * query_fail. */
static int kx_drop_emitted(Task *t, const Batch *wb, Batch *kept)
{
    int P = t->q->plan->group_partitions, n = wb->count;
    if (n > t->kx_wsel_cap) {
        uint32_t *ns = realloc(t->kx_wsel, (size_t)n * sizeof *ns);
        uint64_t *nh = realloc(t->kx_whash, (size_t)n * sizeof *nh);
        if (ns) t->kx_wsel = ns;
        if (nh) t->kx_whash = nh;
        if (!ns || !nh) {
            query_fail(t->q, "out of memory");
            return -1;
        }
        t->kx_wsel_cap = n;
    }
    for (int k = 0; k < t->kx_nwkeys; k++) hash_vector(&wb->cols[t->kx_wkeys[k]], wb->sel, n, t->kx_whash, k > 0);
    const Vector *we = &wb->cols[t->kx_wnode->input->out.ncols + 1];
    int           m = 0;
    for (int i = 0; i < n; i++) {
        int r = wb->sel ? (int)wb->sel[i] : i;
        if (!vector_is_null(we, r) &&
            vector_i64(we)[vector_index(we, r)] <= t->kx_supp[kx_partition_of(t->kx_whash[i], P)])
            continue;
        t->kx_wsel[m++] = (uint32_t)r;
    }
    *kept = *wb;
    kept->sel = t->kx_wsel;
    kept->count = m;
    if (m < n) atomic_fetch_add_explicit(&t->kx_replayed, n - m, memory_order_relaxed);
    return 0;
}

/* Stage 1 of a join of two streams (docs/scaling.md): the joined rows wait
 * here until they are final (kx_final_at: a window join's when its window
 * closes), so "rows final at or before the watermark are emitted" holds for
 * a join as for an aggregation — the record in the ledger, the rows skipped
 * at a replay and the state rebuilt all follow from it. A row final at or
 * before the task's watermark goes on at once; one final at or before what
 * its partition had emitted before a replay is dropped (an interval join's
 * rows replayed can pair again). b: dense, at most a vector. */
static int kx_hold_add(Task *t, const Batch *b)
{
    const OpState *js = &t->ops[t->join_i];
    uint32_t       now[SLUICE_VECTOR_SIZE], later[SLUICE_VECTOR_SIZE];
    uint16_t       parts[SLUICE_VECTOR_SIZE];
    int            nn = 0, nl = 0, parted = 0;
    for (int i = 0; i < b->count; i++) {
        int     r = b->sel ? (int)b->sel[i] : i;
        int64_t e = kx_final_at(t, b, r);
        if (e != WATERMARK_MIN && e <= t->kx_supp_max) {   /* (MIN: padded for a NULL time) */
            if (!parted) kx_rows_parts(t, b, parts), parted = 1;
            if (e <= t->kx_supp[parts[i]]) continue;
        }
        if (e <= t->wm) now[nn++] = (uint32_t)r;
        else later[nl++] = (uint32_t)r;
    }
    Batch v = *b;
    if (nn > 0) {
        v.sel = now;
        v.count = nn;
        if (push(t, js->next, js->next_side, &v)) return -1;
    }
    if (nl == 0) return 0;
    v = *b;
    v.sel = later;
    v.count = nl;
    Batch *tail = t->kx_nhold > 0 ? t->kx_hold[t->kx_nhold - 1] : NULL;
    if (tail && tail->nrows + nl <= tail->capacity) {   /* (drains are often small) */
        if (batch_append_live(tail, &v) != 0) goto oom;
        t->kx_hold_rows += nl;
        return 0;
    }
    if (t->kx_nhold == t->kx_hold_cap) {
        int     cap = t->kx_hold_cap ? 2 * t->kx_hold_cap : 16;
        Batch **nb = realloc(t->kx_hold, (size_t)cap * sizeof *nb);
        if (!nb) goto oom;
        t->kx_hold = nb;
        t->kx_hold_cap = cap;
    }
    Batch *c = hold_copy(&t->kx_pool, &v);
    if (!c) goto oom;
    t->kx_hold[t->kx_nhold++] = c;
    t->kx_hold_rows += c->count;
    return 0;
oom:
    query_fail(t->q, "out of memory");
    return -1;
}

static void kx_hold_clear(Task *t)
{
    for (int h = 0; h < t->kx_nhold; h++) pool_put(&t->kx_pool, t->kx_hold[h]);
    t->kx_nhold = 0;
    t->kx_hold_rows = 0;
}

/* The held rows final at or before wm go on, in the order they were
 * joined; the rest stay. 0, or -1 after query_fail. */
static int kx_hold_release(Task *t, int64_t wm)
{
    const OpState *js = &t->ops[t->join_i];
    uint32_t       rest[SLUICE_VECTOR_SIZE];
    int            keep = 0, h = 0, rc = 0;
    for (; h < t->kx_nhold && !rc; h++) {
        Batch        *b = t->kx_hold[h];
        int k = 0, nr = 0;   /* (a held batch holds one vector: hold_copy, kx_hold_add) */
        for (int r = 0; r < b->count; r++) {
            if (kx_final_at(t, b, r) <= wm) b->sel_buf[k++] = (uint32_t)r;
            else rest[nr++] = (uint32_t)r;
        }
        if (k == 0) {
            t->kx_hold[keep++] = b;
            continue;
        }
        Batch *later = NULL;
        if (nr > 0) {
            Batch view = *b;
            view.sel = rest;
            view.count = nr;
            if (!(later = hold_copy(&t->kx_pool, &view))) {
                query_fail(t->q, "out of memory");
                rc = -1;
            }
        }
        t->kx_hold_rows -= k;
        if (!rc) {
            batch_set_sel(b, b->sel_buf, k);
            rc = push(t, js->next, js->next_side, b);
        }
        pool_put(&t->kx_pool, b);
        if (later) t->kx_hold[keep++] = later;
    }
    while (h < t->kx_nhold) t->kx_hold[keep++] = t->kx_hold[h++];   /* (after a failure) */
    t->kx_nhold = keep;
    return rc;
}

/* Stage 1: the watermark moved to wm; for a window join both its sides
 * (one watermark: the least over every origin of both streams), then the
 * rows of the windows it closed. 0, or -1 after query_fail. */
static int kx_advance(Task *t, int64_t wm)
{
    t->kx_moved = 1;
    if (t->kx_join) {
        if (wm > t->side_wm[0] && advance_side(t, 0, wm)) return -1;
        if (wm > t->side_wm[1] && advance_side(t, 1, wm)) return -1;
        if (t->kx_agg) {   /* (what it emits — and records — is the aggregate's: join_out_wm) */
            int64_t m = join_out_wm(t);
            return m > t->wm ? advance(t, m) : 0;
        }
        if (kx_hold_release(t, wm)) return -1;
    }
    return advance(t, wm);
}

/* Stage 1 of a window join: the union rows of b (selected) to the join's
 * sides, each as a view of its own columns. 0, or -1 after query_fail. */
static int kx_push_sides(Task *t, Batch *b)
{
    uint32_t sel[2][SLUICE_VECTOR_SIZE];
    int      cnt[2] = {0, 0};
    const Vector *sv = &b->cols[1];
    for (int i = 0; i < b->count; i++) {
        uint32_t r = b->sel ? b->sel[i] : (uint32_t)i;
        int      side = vector_i64(sv)[vector_index(sv, (int)r)] != 0;
        sel[side][cnt[side]++] = r;
    }
    for (int side = 0; side < 2; side++) {
        if (!cnt[side]) continue;
        Batch v = *b;
        v.cols = b->cols + 2 + (side ? t->kx_nleft : 0);
        v.ncols = side ? b->ncols - 2 - t->kx_nleft : t->kx_nleft;
        v.sel = sel[side];
        v.count = cnt[side];
        if (push(t, t->entry[side], t->entry_side[side], &v)) return -1;
    }
    return 0;
}

/* Stage 1: where a replay of partition p must start for the windows after
 * v to be rebuilt whole (kexchange.h, bounded replay), or -1 (from the
 * beginning); forgets the windows emitted (at or before t->wm). Before
 * the reader knows its floor (after a rewind: a reset), where the replay
 * under way started. */
static int64_t kx_replay_from(Task *t, int p, int64_t v)
{
    int64_t from = kx_reader_replay_floor(t->kxr, p);
    if (from < 0) return kx_reader_replay_start(t->kxr, p);
    KxOpen *o = t->kx_open + (size_t)p * KX_OPEN;
    for (int k = 0; k < KX_OPEN; k++) {
        if (o[k].wend == WATERMARK_MIN) continue;
        if (o[k].wend <= t->wm && o[k].wend <= v) {
            o[k].wend = WATERMARK_MIN;
            continue;
        }
        if (o[k].wend > v && o[k].off < from) from = o[k].off;
    }
    if (t->kx_open_lo[p] < from) from = t->kx_open_lo[p];
    return from;
}

/* Stage 1: the record of partition p, "kxwm <v> from <offset>", into buf;
 * the offset (-1: none, the record is "kxwm <v>"). */
static int64_t kx_meta_text(Task *t, int p, int64_t v, char *buf, size_t cap)
{
    int64_t from = kx_replay_from(t, p, v);
    if (from >= 0) snprintf(buf, cap, "kxwm %lld from %lld", (long long)v, (long long)from);
    else snprintf(buf, cap, "kxwm %lld", (long long)v);
    return from;
}

/* kx_meta_text; the reader rewinds p (when it keeps it) from there too,
 * and keeps the record (kx_reader_part_meta: kx_handoff). */
static void kx_meta(Task *t, int p, int64_t v, char *buf, size_t cap)
{
    int64_t from = kx_meta_text(t, p, v, buf, cap);
    kx_reader_set_replay_from(t->kxr, p, from, buf);
}

/* ---- stage 1 of an aggregation that emits changes: the changelog -------------------- */

/* The partition of a changelog key of the aggregate's state: "G" bucket
 * (unwindowed groups; a tombstone of that key marks a partition with no
 * groups in a full snapshot, windowed too), "W" window bucket (one
 * window's groups) or "S" bucket (the sessions of the bucket's keys); the
 * buckets are the partitions (AggOpSpec.snap_parts = P). -1: none of
 * those, or not a partition of P. */
static int kx_cl_part(const uint8_t *k, size_t klen, int P)
{
    if (klen == 2 && (k[0] == 'G' || k[0] == 'S')) return k[1] < P ? k[1] : -1;
    if (klen == 10 && k[0] == 'W') return k[9] < P ? k[9] : -1;
    return -1;
}

typedef struct ClPut {
    Task    *t;
    uint64_t put;   /* buckets written by this snapshot */
    int      bad;
} ClPut;

static int kx_cl_chunk(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    ClPut         *c = ctx;
    const uint8_t *k = key;
    /* the meta: the watermark is the record's (kx_reader_reset), and the
     * late rows are counted by the task */
    if (klen == 1 && k[0] == 'M') return 0;
    int p = kx_cl_part(k, klen, c->t->q->plan->group_partitions);
    if (p < 0) {
        c->bad = 1;   /* (buckets that are not the partitions) */
        return -1;
    }
    /* a partition given away since the last reset is another owner's now
     * (its groups go at the reset): never written after its record */
    if (!c->t->kx_owned[p] || !kx_reader_owned(c->t->kxr, p)) return 0;
    c->put |= UINT64_C(1) << p;
    return kx_log_put(c->t->kx_log, p, key, klen, val, val ? vlen : 0);
}

/* At a barrier: the aggregate's changed buckets (every bucket after a
 * restore, and a tombstone for each of an owned partition's buckets that
 * has no groups) into the changelog, delivered; then, per owned
 * partition, the position that state stands for (kx_reader_position) and
 * the changelog's end, into kx_clbar for kx_pend_push. 0, or -1 after
 * query_fail. */
static int kx_cl_barrier(Task *t)
{
    Query *q = t->q;
    int    P = q->plan->group_partitions;
    ClPut  c = {t, 0, 0};
    if (t->kx_clfull) kx_log_mark(t->kx_log);   /* (where this full snapshot starts, per partition) */
    if (agg_op_snapshot(t->ops[t->kx_clop].agg, t->kx_clfull, kx_cl_chunk, &c) != 0) {
        if (c.bad) query_fail(q, "changelog '%s': the aggregate's state is not by group key", q->kx_cltopic);
        else query_fail(q, "changelog '%s': %s", q->kx_cltopic,
                        kx_log_error(t->kx_log)[0] ? kx_log_error(t->kx_log) : agg_op_error(t->ops[t->kx_clop].agg));
        return -1;
    }
    if (t->kx_clfull) {   /* a tombstone for each empty slice: every partition gets a record */
        for (int p = 0; p < P; p++) {   /* (the buckets are the partitions) */
            if (!t->kx_owned[p] || !kx_reader_owned(t->kxr, p) || (c.put >> p & 1)) continue;
            uint8_t key[2] = {'G', (uint8_t)p};
            if (kx_log_put(t->kx_log, p, key, 2, NULL, 0)) break;
        }
    }
    if (kx_log_flush(t->kx_log, 30000)) {
        query_fail(q, "changelog '%s': %s", q->kx_cltopic, kx_log_error(t->kx_log));
        return -1;
    }
    for (int p = 0; p < P; p++) {
        int64_t *x = t->kx_clbar + (size_t)p * KX_CLN;
        x[0] = x[1] = x[2] = x[3] = -1;
        if (!t->kx_owned[p] || !kx_reader_owned(t->kxr, p)) continue;
        if (t->kx_clfull) t->kx_clf[p] = kx_log_first(t->kx_log, p);
        int64_t end = kx_log_end(t->kx_log, p);
        if (end > t->kx_clx[p]) t->kx_clx[p] = end;
        if (t->kx_clf[p] < 0 || kx_reader_position(t->kxr, p, &x[0], &x[1])) x[0] = x[1] = -1;
        else x[2] = t->kx_clx[p], x[3] = t->kx_clf[p];
    }
    t->kx_clfull = 0;
    return 0;
}

typedef struct ClChunk {   /* one key of partition p's slice, and its last value */
    uint8_t  key[10];
    size_t   klen;
    uint8_t *val;             /* NULL: a tombstone */
    size_t   len;
} ClChunk;

typedef struct ClRead {   /* partition p's slice: every key's last value */
    ClChunk *c;
    int      n, cap;
    int      p, P, bad;
    uint64_t owner;   /* the records of this owner only (0: any) */
} ClRead;

static void cl_read_free(ClRead *r)
{
    for (int i = 0; i < r->n; i++) free(r->c[i].val);
    free(r->c);
}

static int kx_cl_take(void *ctx, const void *key, size_t klen, const void *val, size_t vlen, int64_t off,
                      uint64_t owner)
{
    ClRead        *r = ctx;
    const uint8_t *k = key;
    (void)off;
    if (r->owner && owner != r->owner) return 0;   /* a zombie's, or a dead owner's unrecorded */
    if (kx_cl_part(k, klen, r->P) != r->p) {   /* (bucket = partition) */
        r->bad = 1;
        return -1;
    }
    /* the keys are one per open window (or one, unwindowed): few */
    int i = 0;
    while (i < r->n && (r->c[i].klen != klen || memcmp(r->c[i].key, k, klen) != 0)) i++;
    if (i == r->n) {
        if (!val) return 0;   /* a tombstone of a key not live */
        if (r->n == r->cap) {
            int      cap = r->cap ? 2 * r->cap : 8;
            ClChunk *c = realloc(r->c, (size_t)cap * sizeof *c);
            if (!c) return -1;
            r->c = c, r->cap = cap;
        }
        memcpy(r->c[i].key, k, klen);
        r->c[i].klen = klen;
        r->c[i].val = NULL;
        r->n++;
    }
    free(r->c[i].val);
    r->c[i].val = NULL;
    r->c[i].len = 0;
    if (!val) {   /* a tombstone: the key is gone */
        r->c[i] = r->c[--r->n];
        return 0;
    }
    if (!(r->c[i].val = malloc(vlen ? vlen : 1))) return -1;
    memcpy(r->c[i].val, val, vlen);
    r->c[i].len = vlen;
    return 0;
}

/* A new owner token (never 0, never the last one): the time, the process
 * and a counter mixed. */
static uint64_t kx_cl_token(uint64_t last)
{
    static _Atomic uint64_t n;
    uint64_t x = (uint64_t)now_ns() ^ ((uint64_t)getpid() << 40) ^ (atomic_fetch_add(&n, 1) * 0x9e3779b97f4a7c15ULL);
    x ^= x >> 31, x *= 0xbf58476d1ce4e5b9ULL, x ^= x >> 27;
    return x && x != last ? x : last + 1;
}

/* After a reset: every owned partition's state from the changelog, as far
 * as its record says ("cl <end>": the records before end, from its last
 * full snapshot's start and of that snapshot's owner — "full <start> by
 * <owner>" — so a zombie's records and what a dead owner wrote after its
 * record are not read; none: empty). A new owner token follows, and the
 * next checkpoint writes a full snapshot under it.
 * The reader replays the repartition topic from the record's position. 0,
 * or -1 after query_fail. */
static int kx_cl_restore(Task *t)
{
    Query  *q = t->q;
    int     P = q->plan->group_partitions;
    AggOp  *op = t->ops[t->kx_clop].agg;
    int64_t before = agg_op_groups(op);
    for (int p = 0; p < P; p++) {
        if (!kx_reader_owned(t->kxr, p)) continue;
        const char *m = kx_reader_part_meta(t->kxr, p);
        KxRecord    rec;
        kx_record_parse(m, &rec);
        int64_t end = rec.cl >= 0 ? rec.cl : 0, full = rec.full >= 0 ? rec.full : 0;   /* (none: nothing read) */
        ClRead  r = {.p = p, .P = P, .owner = rec.by};
        int     rc = kx_log_read(t->kx_log, p, full, end, kx_cl_take, &r, 30000);
        for (int i = 0; rc == 0 && i < r.n; i++)
            if (agg_op_restore(op, r.c[i].key, r.c[i].klen, r.c[i].val, r.c[i].len)) {
                query_fail(q, "changelog '%s' partition %d: %s", q->kx_cltopic, p, agg_op_error(op));
                rc = -2;
            }
        cl_read_free(&r);
        if (rc == -1)
            query_fail(q, "changelog '%s' partition %d: %s", q->kx_cltopic, p,
                       r.bad ? "a record that is not a bucket of this partition" : kx_log_error(t->kx_log));
        if (rc) return -1;
        t->kx_clx[p] = end;
    }
    atomic_fetch_add_explicit(&t->kx_restored, agg_op_groups(op) - before, memory_order_relaxed);
    t->kx_clfull = 1;   /* the next checkpoint writes the whole state, as a new owner */
    t->kx_cltok = kx_cl_token(t->kx_cltok);
    kx_log_set_owner(t->kx_log, t->kx_cltok);
    for (int p = 0; p < P; p++) t->kx_clf[p] = -1;
    return 0;
}

/* Stage 1 of an aggregation that emits changes: the record of partition p,
 * "kxwm <v> from <O> cl <X> at <A> full <F> by <T>" — the changelog's
 * records from F (this owner's last full snapshot) to X, of owner T, hold
 * the state after the rows applied at the checkpoint (the reader's
 * position O, A; kexchange.h) — into buf, and the reader's replay point
 * of p when it keeps it. Nothing when the checkpoint knew no position. */
static void kx_cl_text(const Task *t, const int64_t *x, int64_t v, char *buf, size_t cap)
{
    if (x[0] < 0 || x[2] < 0 || x[3] < 0) return;
    snprintf(buf, cap, "kxwm %lld from %lld cl %lld at %lld full %lld by %llx", (long long)v, (long long)x[0],
             (long long)x[2], (long long)x[1], (long long)x[3], (unsigned long long)t->kx_cltok);
}

static void kx_cl_meta(Task *t, int p, int64_t v, char *buf, size_t cap)
{
    const int64_t *x = t->kx_clcur + (size_t)p * KX_CLN;
    kx_cl_text(t, x, v, buf, cap);
    if (!buf[0]) return;
    kx_reader_set_replay_point(t->kxr, p, x[0], x[1], buf);
}

/* Stage 1: the assignment changed. The reader starts every owned partition
 * over; the operators start over empty; rows of windows that were emitted
 * already — by this task before (its own watermark), or by the partition's
 * previous owner (the watermark in the group's offset metadata) — are
 * skipped, the rest rebuilds the state. 0, or -1 after query_fail. */
static int kx_reader_reset(Task *t)
{
    int P = t->q->plan->group_partitions;
    for (int i = 0; i < t->nops; i++)   /* late rows stay counted across the rebuild */
        if (t->ops[i].agg) t->late_base += agg_op_late_rows(t->ops[i].agg);
    if (task_reset_ops(t)) return -1;
    kx_hold_clear(t);   /* (their windows were not emitted: they come again) */
    t->side_wm[0] = t->side_wm[1] = WATERMARK_MIN;
    int nowned = 0;
    for (int p = 0; p < P; p++) {
        /* what this task has emitted of p stays emitted, even after p went
         * away and came back: it is in this instance's sink. Not with a
         * changelog: the state is restored as the record has it, and the
         * windows it holds open are emitted again as it closes them (the
         * rows of those that closed since are needed for that) */
        if (t->kx_cl) t->kx_supp[p] = WATERMARK_MIN;
        else if (t->kx_owned[p] && t->wm > t->kx_supp[p]) t->kx_supp[p] = t->wm;
        int     owned = kx_reader_owned(t->kxr, p);
        int64_t m;
        if (owned && kx_parse_wm(kx_reader_part_meta(t->kxr, p), &m) && m > t->kx_supp[p]) t->kx_supp[p] = m;
        t->kx_owned[p] = (uint8_t)owned;
        nowned += owned != 0;
    }
    t->kx_supp_max = WATERMARK_MIN;
    for (int p = 0; p < P; p++)
        if (t->kx_owned[p] && t->kx_supp[p] > t->kx_supp_max) t->kx_supp_max = t->kx_supp[p];
    atomic_store_explicit(&t->grp_parts, nowned, memory_order_relaxed);
    t->wm = WATERMARK_MIN;   /* the operators' watermark starts over (the collector ignores it) */
    atomic_store_explicit(&t->wm_pub, WATERMARK_MIN, memory_order_relaxed);
    t->kx_npend = 0;         /* a barrier of before the reset records nothing true now */
    pthread_mutex_lock(&t->q->ckpt_lock);
    t->kx_led_epoch = 0;     /* (nor does checkpoint_commit: kx_led_write) */
    pthread_mutex_unlock(&t->q->ckpt_lock);
    t->kx_rec = WATERMARK_MIN; /* (kept partitions: in kx_supp, recorded at the next one) */
    t->kx_rec_due = 0;
    for (size_t k = 0; k < (size_t)P * KX_OPEN; k++) t->kx_open[k].wend = WATERMARK_MIN;
    for (int p = 0; p < P; p++) t->kx_open_lo[p] = INT64_MAX;   /* (the rows come again) */
    t->kx_gen = kx_reader_generation(t->kxr);
    t->kx_moved = 0;
    if (t->kx_clhold) kx_reader_unhold(t->kxr);   /* (replays from the records of the wait: kx_reset_due) */
    if (t->kx_cl && kx_cl_restore(t)) return -1;
    return 0;
}

/* Stage 1: whether the task records partition p: it owned p at its last
 * reset, and owns it still (one lost since waits for kx_reset_due, and its
 * records are the next owner's). */
static int kx_records(const Task *t, int p)
{
    return t->kx_owned[p] && kx_reader_owned(t->kxr, p);
}

/* A record to the ledger group failed (why): counted, and the query's
 * warning until a record succeeds (kx_rec_ok). It is retried: the task's
 * kx_record retries every KX_RECORD_RETRY_US, and takes over one that
 * checkpoint_commit could not write (kx_led_write). */
static void kx_rec_failed(Query *q, const char *why)
{
    atomic_fetch_add(&q->kx_rec_fails, 1);
    pthread_mutex_lock(&q->error_lock);
    snprintf(q->kx_warning, sizeof q->kx_warning, "group: %.200s (retrying)", why && *why ? why : "a record failed");
    pthread_mutex_unlock(&q->error_lock);
}

/* Tests: whether SLUICE_FAIL_RECORDS_MS makes this record fail. */
static int kx_rec_fail_hook(Query *q)
{
    return q->fail_records_us > 0 && now_us() < atomic_load(&q->start_us) + q->fail_records_us;
}

static void kx_rec_ok(Query *q)
{
    pthread_mutex_lock(&q->error_lock);
    q->kx_warning[0] = 0;
    pthread_mutex_unlock(&q->error_lock);
}

/* Stage 1: record in the ledger group (<group>-1-emitted; kexchange.h,
 * Ledger), per partition it records (kx_records), the watermark the task
 * had emitted through at the barrier of a checkpoint that is durable
 * (t->kx_rec, when t->kx_rec_due; a partition's kx_supp counts too),
 * synchronously. A failure (brokers unreachable)
 * leaves it for a retry every KX_RECORD_RETRY_US: until it is recorded,
 * windows this instance's sink has committed would be emitted again by a
 * partition's next owner. write = 0: checkpoint_commit has written it
 * (kx_led_write); only the reader's replay points follow. 0 recorded (or
 * nothing to), -1 not. */
static int kx_record(Task *t, int write)
{
    if (!t->kx_rec_due) return 0;
    int          P = t->q->plan->group_partitions, rc = -1;
    char       (*buf)[KX_META_MAX] = calloc((size_t)P, sizeof *buf);
    const char **metas = calloc((size_t)P, sizeof *metas);
    if (buf && metas) {
        for (int p = 0; p < P; p++) {
            if (!kx_records(t, p)) continue;
            int64_t v = t->kx_rec > t->kx_supp[p] ? t->kx_rec : t->kx_supp[p];
            if (v == WATERMARK_MIN && !t->kx_cl) continue;
            if (t->kx_cl) kx_cl_meta(t, p, v, buf[p], sizeof buf[p]);
            else kx_meta(t, p, v, buf[p], sizeof buf[p]);
            metas[p] = buf[p];
        }
        int hook = write && kx_rec_fail_hook(t->q);
        rc = hook ? -1 : write ? kx_reader_commit_meta(t->kxr, metas, 1) : 0;
        if (hook) kx_rec_failed(t->q, "SLUICE_FAIL_RECORDS_MS: a record failed on purpose");
        else if (write && rc) kx_rec_failed(t->q, kx_reader_error(t->kxr));
        else if (write) kx_rec_ok(t->q);
    }
    free(buf);
    free(metas);
    if (rc == 0) t->kx_rec = WATERMARK_MIN, t->kx_rec_due = 0;
    else t->kx_rec_retry_us = now_us() + KX_RECORD_RETRY_US;
    return rc;
}

/* Stage 1, checkpoint `committed` is durable (the sink has its output):
 * the watermark at its barrier goes to the group (kx_record). */
static void kx_reader_committed(Task *t, int64_t committed)
{
    int64_t wm;
    t->acked_epoch = committed;
    if (!kx_pend_take(t, committed, &wm)) return;
    if (t->kx_cl && wm == WATERMARK_MIN) wm = WATERMARK_MIN + 1;   /* (a changelog position is recorded all the same) */
    if (wm > t->kx_rec) t->kx_rec = wm;
    t->kx_rec_due = 1;   /* (with the task's watermark unknown — rebuilding — kx_supp's still count) */
    kx_record(t, atomic_load(&t->kx_led_done) < committed);
}

/* Stage 1, at the barrier of epoch: that checkpoint's records, as
 * kx_record will make them, for checkpoint_commit to write (kx_led_write).
 * Positions and watermarks are the barrier's. */
static void kx_led_build(Task *t, int64_t epoch)
{
    int     P = t->q->plan->group_partitions;
    int64_t wm = t->wm;
    if (t->kx_cl && wm == WATERMARK_MIN) wm = WATERMARK_MIN + 1;   /* (as kx_reader_committed) */
    for (int p = 0; p < P; p++) {
        char *m = t->kx_led[p];
        m[0] = 0;
        if (!kx_records(t, p)) continue;
        int64_t v = wm > t->kx_supp[p] ? wm : t->kx_supp[p];
        if (v == WATERMARK_MIN) continue;   /* (nothing emitted) */
        if (t->kx_cl) kx_cl_text(t, t->kx_clbar + (size_t)p * KX_CLN, v, m, KX_META_MAX);
        else kx_meta_text(t, p, v, m, KX_META_MAX);
    }
    pthread_mutex_lock(&t->q->ckpt_lock);
    t->kx_led_epoch = epoch;
    pthread_mutex_unlock(&t->q->ckpt_lock);
}

/* Stage 1 gives partition p away: the next owner skips the windows this
 * task has emitted for it. A revocation (a rebalance, this instance alive)
 * is released only after a checkpoint taken once reading had stopped has
 * committed (kx_step), so these are exactly the windows its sink holds. A
 * lost assignment comes at once: the windows emitted since the last
 * checkpoint are committed at the next one — should this instance die
 * before that, they are missing (docs/scaling.md, Guarantees). A stop
 * (the query has ended: query_run) gives the last record, that of the last
 * committed checkpoint: the tasks ran on past its barrier, and what they
 * emitted since is in no sink (an instance leaving on SIGTERM lost the
 * windows that closed during its last checkpoint). An aggregation that
 * emits changes always gives its last record: its changelog's position. */
static void kx_handoff(void *ctx, int p, char *buf, size_t cap)
{
    Task   *t = ctx;
    int64_t v = t->wm > t->kx_supp[p] ? t->wm : t->kx_supp[p];
    if (t->kx_cl || stopping(t->q)) snprintf(buf, cap, "%s", kx_reader_part_meta(t->kxr, p));
    else if (v != WATERMARK_MIN) kx_meta(t, p, v, buf, cap);
}

/* Every partition of the repartition topic has "kxwm <max>" in the group:
 * the whole bounded input has been emitted and committed, by its owners. */
static int kx_group_done(Task *t)
{
    int P = t->q->plan->group_partitions, done = 1;
    char (*metas)[KX_META_MAX] = calloc((size_t)P, sizeof *metas);
    if (!metas || kx_reader_group_metas(t->kxr, metas, 1000) != 0) done = 0;
    for (int p = 0; done && p < P; p++) {
        int64_t wm;
        done = kx_parse_wm(metas[p], &wm) && wm == WATERMARK_MAX;
    }
    free(metas);
    return done;
}

/* Stage 1: rows[0..n) of b read from the repartition topic (kx_parts
 * says from which partitions) go in, less those of windows emitted
 * already. 0, or -1 after query_fail. */
static int kx_take(Task *t, Batch *b, int n, int64_t now)
{
    int k = n;
    if (t->kx_wend >= 0) {   /* rows of windows emitted already are skipped */
        const Vector *ve = &b->cols[t->kx_wend];
        k = 0;
        for (int i = 0; i < n; i++) {
            int r = i;
            if (!vector_is_null(ve, r) && vector_i64(ve)[vector_index(ve, r)] <= t->kx_supp[t->kx_parts[i]])
                continue;
            b->sel_buf[k++] = (uint32_t)r;
        }
        if (k < n) {
            atomic_fetch_add_explicit(&t->kx_replayed, n - k, memory_order_relaxed);
            batch_set_sel(b, b->sel_buf, k);
        }
    }
    atomic_fetch_add_explicit(&t->rows_in, k, memory_order_relaxed);
    t->last_data_us = now;
    if (k > 0) t->kx_moved = 1;
    if (t->kx_wend >= 0 && !t->kx_cl) kx_track(t, b, k);   /* (a changelog replays from its record) */
    if (k > 0 && (t->kx_join ? kx_push_sides(t, b) : push(t, t->entry[t->in_slot[0]], t->entry_side[t->in_slot[0]], b)))
        return -1;
    return 0;
}

/* Stage 1, the assignment changed: whether to start over now. The reset
 * drops the records of barriers not committed yet (kx_pend, kx_led: they
 * are of the assignment before), so the windows their checkpoints commit
 * would be recorded only by a checkpoint after the reset (in kx_supp) —
 * and by none, when the instance stops at one of those: their next owners
 * emit them again. So the task reads nothing more until the checkpoint of
 * its last barrier before the change has committed, or of the first one
 * after it (which holds everything emitted before the change) when taken;
 * later barriers add nothing, as nothing is read. With no barrier
 * pending, what was emitted since the last one is in kx_supp after the
 * reset, recorded at the next barrier.
 *
 * Sessions that emit final rows (a changelog, no changes) wait for more:
 * a partition the task keeps is restored from its own record, and the
 * sessions it closed since that record's barrier would close again —
 * emitted twice. So, when it has taken rows or moved its watermark since
 * it last started over, it asks for a checkpoint now, reads nothing more,
 * and starts over once that checkpoint has committed and its records are
 * written: they then hold exactly what it emitted. (A revocation waits so
 * already: kx_step.) The reader went back to the last records' replay
 * points at the change, so its positions would be those: it holds the
 * ones the state is at for this checkpoint (kx_reader_hold), and its
 * replay then drops what this checkpoint's records hold (kx_reader_unhold). */
static int kx_reset_due(Task *t, int64_t committed)
{
    Query *q = t->q;
    if (t->kx_clhold && q->store && t->kx_moved) {
        if (!t->kx_reset_at) {
            t->kx_reset_at = t->barrier_epoch + 1;
            atomic_store(&q->ckpt_soon, 1);
        }
        if (committed < t->kx_reset_at || t->kx_rec_due) return 0;
        t->kx_reset_at = 0;
        return 1;
    }
    if (!q->store || t->kx_npend == 0) return t->kx_reset_at = 0, 1;
    if (!t->kx_reset_at) t->kx_reset_at = t->barrier_epoch + 1;
    int64_t due = t->barrier_epoch < t->kx_reset_at ? t->barrier_epoch : t->kx_reset_at;
    if (committed < due) return 0;
    t->kx_reset_at = 0;
    return 1;
}

static int kx_step(Task *t)
{
    Query  *q = t->q;
    int64_t now = now_us();
    int64_t req = atomic_load_explicit(&q->ckpt_request, memory_order_acquire);
    if (req > t->barrier_epoch) {
        if (t->kx_cl && kx_reader_busy(t->kxr)) {
            /* the barrier's state must hold every row released so far, whole
             * (a position cuts between messages: kexchange.h) */
            Batch *b = &t->src_batch;
            batch_reset(b);
            int n = kx_read_drain(t->kxr, b, t->kx_parts, t->kx_offs, NULL);
            if (n < 0) query_fail(q, "exchange topic '%s': %s", q->kx_topic, kx_reader_error(t->kxr));
            else if (n > 0) kx_take(t, b, n, now);
            return 1;
        }
        task_barrier(t, req);
        return 1;
    }
    int64_t committed = atomic_load_explicit(&q->ckpt_epoch, memory_order_acquire);
    if (committed > t->acked_epoch) kx_reader_committed(t, committed);
    else if (t->kx_rec_due && now >= t->kx_rec_retry_us) kx_record(t, 1);
    if (kx_reader_revoking(t->kxr)) {
        /* partitions given away: nothing more is read until a checkpoint
         * taken from here on has committed what was emitted of them; the
         * handoff then records exactly that (kx_handoff) */
        if (q->store && !t->kx_release_at) {
            t->kx_release_at = t->barrier_epoch + 1;
            atomic_store(&q->ckpt_soon, 1);
        }
        if (!q->store || committed >= t->kx_release_at) {
            t->kx_release_at = 0;
            if (!t->kx_rec_due) t->kx_moved = 0;   /* (its records hold what it emitted: kx_reset_due) */
            if (kx_reader_release(t->kxr)) {
                query_fail(q, "exchange topic '%s': %s", q->kx_topic, kx_reader_error(t->kxr));
                return 1;
            }
            return 1;
        }
        return linger_flush(t, now);
    }
    t->kx_release_at = 0;   /* (released by a lost assignment meanwhile) */
    if (kx_reader_generation(t->kxr) != t->kx_gen) {
        if (!kx_reset_due(t, committed)) return linger_flush(t, now);
        return kx_reader_reset(t), 1;
    }
    if (now < t->wait_until_us) return linger_flush(t, now);
    Batch  *b = &t->src_batch;
    int64_t wm = WATERMARK_MIN, s0 = now_ns();
    batch_reset(b);
    int n = kx_read_parts(t->kxr, b, t->kx_parts, t->kx_offs, &wm, 0);
    atomic_fetch_add_explicit(&t->source_ns, now_ns() - s0, memory_order_relaxed);
    if (n < 0) {
        query_fail(q, "exchange topic '%s': %s", q->kx_topic, kx_reader_error(t->kxr));
        return 1;
    }
    if (kx_reader_generation(t->kxr) != t->kx_gen) {
        /* rows of before: dropped (the reset rereads them) — but with held
         * positions (kx_clhold) they count as applied: taken */
        if (t->kx_clhold && n > 0) kx_take(t, b, n, now);
        return 1;
    }
    if (n > 0 && kx_take(t, b, n, now)) return 1;
    if (t->kx_cl) atomic_store_explicit(&t->kx_cldropped, kx_reader_dropped(t->kxr), memory_order_relaxed);
    if (wm != WATERMARK_MAX && wm != WATERMARK_MIN && wm > t->wm) {
        t->wm_at_us = now;
        if (kx_advance(t, wm)) return 1;
    }
    /* a bounded input: done with its own partitions (or given none), the
     * task emits everything, and goes on serving the group — it may be given
     * a partition whose owner died — until every partition of the topic is
     * done, by whoever (each owner records it in the group at a checkpoint) */
    int owns = kx_reader_assigned(t->kxr) > 0;
    if (owns && kx_reader_ended(t->kxr) && t->wm != WATERMARK_MAX) {
        t->wm_at_us = now;
        if (kx_advance(t, WATERMARK_MAX)) return 1;
        /* an aggregation's last changes go out now: the record
         * of this end (at the next checkpoint) says they were emitted */
        if (t->kx_cl && t->ops[t->kx_clop].changes && (agg_emit(t, t->kx_clop, 2, 0) || flush_all(t))) return 1;
    }
    if ((!owns || t->wm == WATERMARK_MAX) && now >= t->kx_next_check && q->kx_norigins > 0) {
        t->kx_next_check = now + KX_CHECK_US;
        if (kx_group_done(t)) {
            finish_input(t);
            return 1;
        }
    }
    if (n == 0) {
        t->wait_until_us = now + 2000;
        return 0;
    }
    return 1;
}

/* Group mode: this source task's share of the group, for progress
 * (counted again only after an assignment or revocation). */
static void group_publish(Task *t)
{
    int64_t a = source_group_assigns(t->source), r = source_group_revokes(t->source);
    int unsteady, ending;
    atomic_store_explicit(&t->grp_held, source_group_revoking(t->source), memory_order_relaxed);
    source_group_state(t->source, &unsteady, &ending);
    atomic_store_explicit(&t->grp_unsteady, unsteady, memory_order_relaxed);
    atomic_store_explicit(&t->grp_ending, ending, memory_order_relaxed);
    if (a + r == t->grp_moves) return;
    t->grp_moves = a + r;
    int n = 0, np = source_partition_count(t->source);
    for (int i = 0; i < np; i++) n += source_partition_owned(t->source, i) != 0;
    atomic_store_explicit(&t->grp_parts, n, memory_order_relaxed);
    atomic_store_explicit(&t->grp_assigns, a, memory_order_relaxed);
    atomic_store_explicit(&t->grp_revokes, r, memory_order_relaxed);
}

/* A followed table's source (kafka 'table.follow'): once it has read what
 * its topic held at the start, the table is whole — its watermark becomes
 * the end of time, so the join's tasks take it as whole (handle_msg) and it
 * holds no window back; the rows after it are updates. 1 when it went out
 * now (or the query failed). */
static int table_caught(Task *t)
{
    if (!t->table_src || t->table_caught || !source_caught_up(t->source)) return 0;
    t->table_caught = 1;
    advance(t, WATERMARK_MAX);   /* (a failure fails the query there, as for every advance) */
    return 1;
}

/* A join task that reads its source (the stream) and a followed table's
 * channel: the table's input is open still (after the table is whole). */
static int table_follows(const Task *t)
{
    for (int k = 0; k < t->nin; k++)
        if (t->in_side[k] == t->table_side && t->in_done[k] != 2) return 1;
    return 0;
}

static int source_step(Task *t)
{
    int64_t now = now_us();
    int64_t req = atomic_load_explicit(&t->q->ckpt_request, memory_order_acquire);
    /* (with a followed table's input open, the barrier comes through it:
     * the snapshot must hold exactly the table rows before it — check_aligned) */
    if (req > t->barrier_epoch && !table_follows(t)) {
        task_barrier(t, req);
        return 1;
    }
    int64_t committed = atomic_load_explicit(&t->q->ckpt_epoch, memory_order_acquire);
    if (t->source && committed > t->acked_epoch) {   /* what became durable (Kafka group offsets) */
        if (t->kxw) {
            if (kx_writer_committed(t, committed, KX_FLUSH_MS)) return 1;
        } else {
            t->acked_epoch = committed;
            source_committed(t->source, committed);
        }
    }
    if (t->wait_tables) {
        /* a row now could reach a join task before its whole table, and
         * wait there in its state past the checkpoint that commits its offset */
        if (atomic_load_explicit(&t->q->tables_open, memory_order_acquire) > 0) return 0;
        t->wait_tables = 0;
    }
    if (t->values) {
        batch_reset(&t->src_batch);
        t->src_batch.nrows = t->src_batch.count = 1;
        atomic_fetch_add_explicit(&t->rows_in, 1, memory_order_relaxed);
        if (push(t, t->entry[t->src_k], t->entry_side[t->src_k], &t->src_batch)) return 1;
        finish_input(t);
        return 1;
    }
    if (now < t->wait_until_us) return linger_flush(t, now);
    batch_reset(&t->src_batch);
    int64_t      wait = 0;
    int64_t      s0 = now_ns();
    SourceStatus st = source_next(t->source, &t->src_batch, now, &wait);
    atomic_fetch_add_explicit(&t->source_ns, now_ns() - s0, memory_order_relaxed);
    if (t->q->plan->group) group_publish(t);
    /* partitions moving away wait for a checkpoint (source.h): take one now */
    if (source_group_revoking(t->source)) {
        if (!t->src_held) atomic_store(&t->q->ckpt_soon, 1);
        t->src_held = 1;
    } else {
        t->src_held = 0;
    }
    if (t->kxw) {
        /* partitions taken away: what was read since the last commit is read
         * again (by their next owner, and here for the ones kept) */
        if (source_group_revokes(t->source) != t->kx_revokes) {
            kx_writer_rewind(t);
            return 1;
        }
        if (kx_settle_writers(t, st == SOURCE_END) || kx_src_assigned(t)) return 1;
    }
    switch (st) {
    case SOURCE_BATCH: {
        Batch *b = &t->src_batch;
        if (t->had_warning) publish_warning(t);
        atomic_fetch_add_explicit(&t->rows_in, b->count, memory_order_relaxed);
        t->last_data_us = now;
        if (t->idle_sent) t->idle_sent = 0;
        if (t->wm_col >= 0) {
            int64_t m = batch_max_ts(b, t->wm_col);
            if (m > t->max_ts) {
                t->max_ts = m;
                atomic_store_explicit(&t->max_ts_pub, m, memory_order_relaxed);
            }
            if (track_partitions(t, b, now)) return 1;
        }
        int64_t f0 = now_ns();
        int     frc = t->scan_filter ? expr_filter(t->scan_filter, b) : 0;
        atomic_fetch_add_explicit(&t->source_ns, now_ns() - f0, memory_order_relaxed);
        if (frc != 0) {
            query_fail(t->q, "filter failed: %s", expr_state_error(t->scan_filter));
            return 1;
        }
        if (push(t, t->entry[t->src_k], t->entry_side[t->src_k], b)) return 1;
        if (table_caught(t)) return 1;
        int64_t front = frontier(t, now);
        if (t->wm_col >= 0 && front > WATERMARK_MIN) {
            int64_t wm = front - t->wm_delay;
            if (wm > t->wm && now - t->last_wm_sent_us >= WM_INTERVAL_US) {
                t->last_wm_sent_us = now;
                t->wm_at_us = now;
                source_advance(t, wm);
            }
        }
        return 1;
    }
    case SOURCE_IDLE: {
        t->wait_until_us = now + (wait > 0 ? wait : 100);
        publish_warning(t);
        if (table_caught(t)) return 1;
        /* a quiet source does not hold back the watermark forever */
        int64_t idle = t->q->settings->idle_timeout_us;
        if (!t->idle_sent && t->last_data_us && now - t->last_data_us > idle) {
            flush_all(t);
            for (int d = 0; d < t->nout; d++) {
                Msg m = {MSG_IDLE, NULL, 0, 0};
                send_msg(t, t->out[d], m);
            }
            t->idle_sent = 1;
        }
        linger_flush(t, now);
        /* forward a watermark held back by the rate limit of WM_INTERVAL_US,
         * or released by a partition that went idle */
        int64_t front = frontier(t, now);
        if (t->wm_col >= 0 && front > WATERMARK_MIN && front - t->wm_delay > t->wm) {
            t->last_wm_sent_us = now;
            t->wm_at_us = now;
            source_advance(t, front - t->wm_delay);
        }
        return 0;
    }
    case SOURCE_END:
        finish_input(t);
        return 1;
    case SOURCE_ERROR:
    default:
        query_fail(t->q, "source of stream '%s' failed: %s", t->q->plan->stages[t->stage].ops[0]->u.scan.stream,
                   source_error(t->source));
        return 1;
    }
}

/* The minimum watermark over the inputs that are neither idle nor ended;
 * WATERMARK_MAX when all ended; unchanged when all are idle. */
static int input_watermark(Task *t, int side, int64_t *wm)
{
    int64_t m = WATERMARK_MAX, idle_max = WATERMARK_MIN;
    int     active = 0, ended = 0, nin = 0;
    for (int i = 0; i < t->nin; i++) {
        if (side >= 0 && t->in_side[i] != side) continue;
        nin++;
        if (t->in_done[i] == 2) {
            ended++;
            continue;
        }
        if (t->in_done[i] == 1) {
            if (t->in_wm[i] > idle_max) idle_max = t->in_wm[i];
            continue;
        }
        active++;
        if (t->in_wm[i] < m) m = t->in_wm[i];
    }
    if (ended == nin) {
        *wm = WATERMARK_MAX;
        return 1;
    }
    if (active == 0) {
        /* every input is idle: as Flink does, the largest of their watermarks */
        if (idle_max == WATERMARK_MIN) return 0;
        *wm = idle_max;
        return 1;
    }
    *wm = m;
    return 1;
}

/* Every input has either sent the barrier being aligned or ended: the
 * task takes part in the checkpoint, and its inputs flow again. */
static int check_aligned(Task *t)
{
    if (!t->aligning) return 0;
    for (int i = 0; i < t->nin; i++)
        if (!t->in_barrier[i] && t->in_done[i] != 2) return 0;
    int64_t epoch = t->aligning;
    t->aligning = 0;
    memset(t->in_barrier, 0, (size_t)t->nin);
    return task_barrier(t, epoch);
}

/* One message of input i. 0, or -1 when the query failed. */
static int handle_msg(Task *t, int i, Msg m)
{
    switch (m.kind) {
    case MSG_BATCH:
        atomic_fetch_add_explicit(&t->rows_in, m.batch->count, memory_order_relaxed);
        if (t->in_done[i] == 1) t->in_done[i] = 0;
        return push(t, t->entry[t->in_side[i]], t->entry_side[t->in_side[i]], m.batch);
    case MSG_BARRIER:
        t->in_barrier[i] = 1;
        t->aligning = m.wm;
        return check_aligned(t);
    case MSG_WATERMARK:
    case MSG_IDLE:
    case MSG_END: {
        if (m.kind == MSG_WATERMARK) {
            if (m.wm > t->in_wm[i]) t->in_wm[i] = m.wm;
            t->wm_at_us = m.at_us;
            if (t->in_done[i] == 1) t->in_done[i] = 0;
        } else {
            t->in_done[i] = m.kind == MSG_IDLE ? 1 : 2;
        }
        int64_t wm;
        if (t->join_i >= 0) {
            /* each side of the JOIN follows its own inputs; the operators
             * after it, the smaller of the two */
            for (int side = 0; side < 2; side++) {
                if (t->source && side == t->src_k) continue;   /* the source's side: source_step */
                if (input_watermark(t, side, &wm) && wm > t->side_wm[side] && advance_side(t, side, wm))
                    return -1;
            }
            wm = join_out_wm(t);
            if (wm > t->wm && advance(t, wm)) return -1;
        } else if (input_watermark(t, -1, &wm) && wm > t->wm && advance(t, wm)) {
            return -1;
        }
        int ended = 0, table_open = 0;
        for (int k = 0; k < t->nin; k++) {   /* (a followed table: whole at the end-of-time watermark) */
            ended += t->in_done[k] == 2;
            table_open += t->in_side[k] == t->table_side && t->in_done[k] != 2 && t->in_wm[k] != WATERMARK_MAX;
        }
        if (t->table_side >= 0 && !t->table_ready && !table_open) {
            /* the JOIN has the whole table (advance_side above ended it) */
            t->table_ready = 1;
            atomic_fetch_sub_explicit(&t->q->tables_open, 1, memory_order_release);
        }
        if (ended == t->nin && !t->source) return send_end(t);   /* (a source ends by itself) */
        if (m.kind == MSG_END) return check_aligned(t);
        return 0;
    }
    }
    return 0;
}

static int channel_step(Task *t)
{
    int progressed = 0;
    for (int i = 0; i < t->nin && !t->finished; i++) {
        Msg m;
        int budget = 4;
        while (budget-- > 0 && !t->finished) {
            if (t->in_barrier[i]) {
                /* aligning: what comes after the barrier waits */
                int k = hold_from(t->in[i], &t->held[i], &t->pool);
                if (k < 0) {
                    query_fail(t->q, "checkpoint: out of memory");
                    return 1;
                }
                progressed |= k > 0;
                break;
            }
            int held = held_pop(&t->held[i], &m) == 0;
            if (!held && channel_recv(t->in[i], &m) != 0) break;
            progressed = 1;
            int rc = handle_msg(t, i, m);
            if (m.kind == MSG_BATCH) {
                if (held) pool_put(&t->pool, m.batch);
                else channel_release(t->in[i], m.batch);
            }
            if (rc || stopping(t->q)) return 1;
        }
    }
    if (!progressed) progressed = linger_flush(t, now_us());
    return progressed;
}

/* EMIT CHANGES: every emit.interval, the groups that changed. */
static int changes_step(Task *t)
{
    int64_t now = now_us();
    if (now - t->last_changes_us < t->q->settings->emit_interval_us) return 0;
    t->last_changes_us = now;
    for (int i = 0; i < t->nops; i++)
        if (t->ops[i].changes && agg_emit(t, i, 2, 0)) return 1;
    if (flush_all(t)) return 1;
    t->building_since = 0;
    return 1;
}

static int task_step(Task *t)
{
    if (t->finished || stopping(t->q)) return 0;
    /* a source task with a join's table as input reads the table first;
     * a followed one's updates then go on coming with the source's rows */
    int p = t->kxr ? kx_step(t) : t->nin && !(t->source && t->table_ready) ? channel_step(t) : source_step(t);
    if (!t->kxr && t->source && t->table_ready && !t->finished && table_follows(t)) p |= channel_step(t);
    if (t->has_changes && !t->finished) p |= changes_step(t);
    return p;
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    int     idle_rounds = 0;
    int64_t rounds = 0;
    while (!stopping(w->q)) {
        if ((++rounds & 63) == 0) atomic_store_explicit(&w->cpu_us, thread_cpu_us(), memory_order_relaxed);
        int progressed = 0, alive = 0;
        /* later stages first: drain before producing more */
        for (int i = w->ntasks - 1; i >= 0; i--) {
            Task *t = w->tasks[i];
            if (t->finished) continue;
            alive = 1;
            int64_t t0 = now_us();
            int     p = task_step(t);
            if (p) atomic_fetch_add_explicit(&t->busy_us, now_us() - t0, memory_order_relaxed);
            progressed |= p;
        }
        if (!alive) break;
        if (progressed) {
            idle_rounds = 0;
            continue;
        }
        atomic_store_explicit(&w->cpu_us, thread_cpu_us(), memory_order_relaxed);
        /* back off: 20 µs, doubling to 1 ms */
        long ns = 20000L << (idle_rounds < 6 ? idle_rounds : 6);
        if (ns > 1000000) ns = 1000000;
        idle_rounds++;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
    }
    atomic_store_explicit(&w->cpu_us, thread_cpu_us(), memory_order_relaxed);
    return NULL;
}

/* ---- building a query ----------------------------------------------------------- */

static int op_init(Query *q, Task *t, OpState *s, const PlanNode *n, char *err, size_t cap)
{
    char why[256];
    s->node = n;
    switch (n->kind) {
    case PLAN_FILTER:
        s->filter = expr_state_new(n->u.filter.pred, SLUICE_VECTOR_SIZE, why, sizeof why);
        if (!s->filter) goto fail_expr;
        return 0;
    case PLAN_PROJECT: {
        s->exprs = calloc((size_t)n->out.ncols + 1, sizeof *s->exprs);
        if (!s->exprs) goto oom;
        for (int c = 0; c < n->out.ncols; c++) {
            s->exprs[c] = expr_state_new(n->u.project.exprs[c], SLUICE_VECTOR_SIZE, why, sizeof why);
            if (!s->exprs[c]) goto fail_expr;
        }
        break;
    }
    case PLAN_WINDOW: {
        SqlType   types[256];
        int       nin = n->input->out.ncols;
        if (nin > 256) goto toowide;
        for (int c = 0; c < nin; c++) types[c] = n->input->out.cols[c].type;
        WindowSpec ws = {0};
        ws.kind = n->u.window.kind == WINDOW_TUMBLE ? WINDOW_FN_TUMBLE
                : n->u.window.kind == WINDOW_HOP    ? WINDOW_FN_HOP
                : n->u.window.kind == WINDOW_CUMULATE ? WINDOW_FN_CUMULATE : WINDOW_FN_SESSION;
        ws.time_col = n->u.window.time_col;
        ws.size_us = n->u.window.size_us;
        ws.slide_us = n->u.window.slide_us;
        ws.gap_us = n->u.window.gap_us;
        ws.ninput = nin;
        ws.input_types = types;
        s->win = window_op_new(&ws, why, sizeof why);
        if (!s->win) {
            snprintf(err, cap, "cannot run the window: %s", why);
            return -1;
        }
        break;
    }
    case PLAN_AGGREGATE: {
        SqlType     types[256];
        AggColSpec  cols[128];
        int         nin = n->input->out.ncols;
        if (nin > 256 || n->u.agg.naggs > 128) goto toowide;
        for (int c = 0; c < nin; c++) types[c] = n->input->out.cols[c].type;
        for (int j = 0; j < n->u.agg.naggs; j++) {
            const AggCall *a = &n->u.agg.aggs[j];
            static const AggFn map[] = {AGGFN_COUNT_STAR, AGGFN_COUNT, AGGFN_COUNT_DISTINCT, AGGFN_SUM,
                                        AGGFN_AVG, AGGFN_MIN, AGGFN_MAX, AGGFN_APPROX_COUNT_DISTINCT};
            cols[j].fn = map[a->kind];
            cols[j].arg = a->arg;
            cols[j].filter = a->filter;
            cols[j].arg_type = a->arg >= 0 ? types[a->arg] : TYPE_NULL;
            cols[j].out_type = a->type;
        }
        /* in FINAL the argument type is the original one (the partial state of
         * MIN/MAX/SUM has it; AVG/COUNT DISTINCT/HLL states are not it) */
        AggOpSpec as = {0};
        as.phase = n->u.agg.mode == AGG_PARTIAL ? AGG_PHASE_PARTIAL
                 : n->u.agg.mode == AGG_FINAL ? AGG_PHASE_FINAL : AGG_PHASE_SIMPLE;
        as.ninput = nin;
        as.input_types = types;
        as.nkeys = n->u.agg.nkeys;
        as.keys = n->u.agg.keys;
        as.naggs = n->u.agg.naggs;
        as.aggs = cols;
        as.wstart_key = n->u.agg.windowed ? n->u.agg.wstart_key : -1;
        as.wend_key = n->u.agg.windowed ? n->u.agg.wend_key : -1;
        as.session = n->u.agg.windowed && n->u.agg.wkind == WINDOW_SESSION;
        as.emit_changes = n->u.agg.mode != AGG_PARTIAL && n->u.agg.emit == EMIT_MODE_CHANGES;
        /* group mode, an aggregation that emits changes: its checkpoint slices
         * are the repartition topic's partitions (its changelog; kx_cl_setup) */
        if (q->plan->group && plan_agg_changelog(n) && plan_group_topic(q->plan) && q->plan->group_partitions >= 1 &&
            q->plan->group_partitions <= 64)
            as.snap_parts = q->plan->group_partitions;
        as.retract = n->u.agg.retract;
        as.update_before = as.emit_changes && n->u.agg.update_before;
        s->changes = as.emit_changes;
        if (s->changes) {
            t->has_changes = 1;
            t->last_changes_us = now_us();
        }
        s->agg = agg_op_new(&as, why, sizeof why);
        if (!s->agg) {
            snprintf(err, cap, "cannot run the aggregate: %s", why);
            return -1;
        }
        s->last_wm = WATERMARK_MIN;
        if (n->u.agg.late_sink && n->u.agg.mode != AGG_PARTIAL && n->u.agg.windowed) {
            SqlType     ltypes[258];
            const char *lnames[258];
            for (int c = 0; c < nin; c++) {
                ltypes[c] = types[c];
                lnames[c] = n->input->out.cols[c].name;
            }
            ltypes[nin] = TYPE_VARCHAR;
            lnames[nin] = "late_reason";
            ltypes[nin + 1] = TYPE_TIMESTAMP;
            lnames[nin + 1] = "watermark";
            if (batch_init(&s->late, nin + 2, ltypes, SLUICE_VECTOR_SIZE) != 0) goto oom;
            s->has_late = 1;
            pthread_mutex_lock(&q->late_lock);
            if (!q->late_sink) {
                ConnSpec cs = {0};
                cs.connector = n->u.agg.late_connector;
                cs.format = n->u.agg.late_format;
                cs.nopts = n->u.agg.late_nopts;
                cs.opt_keys = n->u.agg.late_keys;
                cs.opt_values = n->u.agg.late_values;
                cs.ncols = nin + 2;
                cs.col_names = lnames;
                cs.col_types = ltypes;
                cs.ntasks = 1;
                q->late_sink = sink_open(&cs, why, sizeof why);
            }
            pthread_mutex_unlock(&q->late_lock);
            if (!q->late_sink) {
                snprintf(err, cap, "late sink '%s': %s", n->u.agg.late_sink, why);
                return -1;
            }
        }
        SqlType otypes[512];
        int     nout = agg_op_output_types(s->agg, otypes);
        if (batch_init(&s->out, nout, otypes, SLUICE_VECTOR_SIZE) != 0) goto oom;
        s->has_out = 1;
        return 0;
    }
    case PLAN_LIMIT:
        s->limit_left = n->u.limit.n;
        return 0;
    case PLAN_JOIN: {
        SqlType lt[256], rt[256];
        int     nl = n->input->out.ncols, nr = n->right->out.ncols;
        if (nl > 256 || nr > 256) goto toowide;
        for (int c = 0; c < nl; c++) lt[c] = n->input->out.cols[c].type;
        for (int c = 0; c < nr; c++) rt[c] = n->right->out.cols[c].type;
        static const JoinType types[] = {JOIN_TYPE_INNER, JOIN_TYPE_LEFT, JOIN_TYPE_RIGHT, JOIN_TYPE_FULL};
        JoinOpSpec js = {0};
        js.type = types[n->u.join.kind];
        js.flavor = n->u.join.flavor == JOIN_WINDOW ? JOIN_OP_WINDOW
                  : n->u.join.flavor == JOIN_INTERVAL ? JOIN_OP_INTERVAL : JOIN_OP_REGULAR;
        js.nleft = nl;
        js.left_types = lt;
        js.nright = nr;
        js.right_types = rt;
        js.nkeys = n->u.join.nkeys;
        js.lkeys = n->u.join.lkeys;
        js.rkeys = n->u.join.rkeys;
        js.lwend = js.rwend = js.ltime = js.rtime = -1;
        if (js.flavor == JOIN_OP_WINDOW) {
            js.lwend = n->u.join.ltime;
            js.rwend = n->u.join.rtime;
        } else {
            js.ltime = n->u.join.ltime;
            js.rtime = n->u.join.rtime;
        }
        js.lower_us = n->u.join.lower_us;
        js.upper_us = n->u.join.upper_us;
        js.residual = n->u.join.residual;
        js.table = n->u.join.table;
        js.table_upsert = n->u.join.table_topic != 0;
        /* a TTL needs each side's event time: only when the plan names them */
        /* a table is kept whole (state.ttl is for joins of two streams) */
        js.ttl_us = js.flavor == JOIN_OP_REGULAR && js.ltime >= 0 && js.rtime >= 0 && !n->u.join.table
                  ? q->settings->state_ttl_us : 0;
        js.emit_changes = js.flavor == JOIN_OP_REGULAR && js.type != JOIN_TYPE_INNER && !n->u.join.table;
        /* a pair comes out when its second row does, so its times can lie
         * behind both inputs' watermarks: by the bounds for an interval join,
         * by the TTL for a regular one */
        t->join_delay = js.flavor == JOIN_OP_INTERVAL ? plan_interval_lag(n) : js.ttl_us;
        s->join = join_op_new(&js, why, sizeof why);
        if (!s->join) {
            snprintf(err, cap, "cannot run the join: %s", why);
            return -1;
        }
        s->changes = js.emit_changes;
        SqlType otypes[520];
        int     nout = join_op_output_types(s->join, otypes);
        if (batch_init(&s->out, nout, otypes, SLUICE_VECTOR_SIZE) != 0) goto oom;
        s->has_out = 1;
        return 0;
    }
    default:
        return 0;
    }
    /* PROJECT and WINDOW: an output batch of the node's schema */
    {
        SqlType types[512];
        if (n->out.ncols > 512) goto toowide;
        for (int c = 0; c < n->out.ncols; c++) types[c] = n->out.cols[c].type;
        if (batch_init(&s->out, n->out.ncols, types, SLUICE_VECTOR_SIZE) != 0) goto oom;
        s->has_out = 1;
    }
    (void)q;
    (void)t;
    return 0;
fail_expr:
    snprintf(err, cap, "cannot run an expression: %s", why);
    return -1;
toowide:
    snprintf(err, cap, "too many columns for the runtime (at most 256 into an aggregate, window or join and 512 into other operators or the output)");
    return -1;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
}

static void op_destroy(OpState *s)
{
    expr_state_free(s->filter);
    if (s->exprs) {
        for (int c = 0; c < s->node->out.ncols; c++) expr_state_free(s->exprs[c]);
        free(s->exprs);
    }
    if (s->has_out) batch_destroy(&s->out);
    if (s->win) window_op_free(s->win);
    if (s->has_late) batch_destroy(&s->late);
    if (s->agg) agg_op_free(s->agg);
    join_op_free(s->join);
}

/* A ConnSpec over a Scan node's columns (arrays owned by the caller). */
static void scan_spec(const PlanNode *n, int task, int ntasks, ConnSpec *cs, const char **names,
                      SqlType *types)
{
    memset(cs, 0, sizeof *cs);
    cs->connector = n->u.scan.connector;
    cs->format = n->u.scan.format;
    cs->nopts = n->u.scan.nopts;
    cs->opt_keys = n->u.scan.opt_keys;
    cs->opt_values = n->u.scan.opt_values;
    cs->ncols = n->out.ncols;
    for (int i = 0; i < n->out.ncols; i++) {
        names[i] = n->u.scan.source_cols[n->u.scan.proj[i]].name;
        types[i] = n->out.cols[i].type;
    }
    cs->col_names = names;
    cs->col_types = types;
    cs->col_index = n->u.scan.proj;
    cs->task = task;
    cs->ntasks = ntasks;
}

static int task_init_source(Query *q, Task *t, const Stage *st, char *err, size_t cap)
{
    const PlanNode *first = st->ops[0];
    char            why[256];
    if (first->kind == PLAN_VALUES) {
        t->values = t->index == 0;
        if (batch_init(&t->src_batch, 0, NULL, 1) != 0) goto oom;
        if (!t->values) t->finished = 0;
        return 0;
    }
    const char *names[512];
    SqlType     types[512];
    ConnSpec    cs;
    if (first->out.ncols > 512) {
        snprintf(err, cap, "too many columns for the runtime (at most 256 into an aggregate, window or join and 512 into other operators or the output)");
        return -1;
    }
    scan_spec(first, t->index, st->parallelism, &cs, names, types);
    /* deployment.group: the Kafka source joins the consumer group and moves
     * partitions at the offsets of the last checkpoint (docs/scaling.md) */
    cs.group = q->settings->deployment_group[0] ? q->settings->deployment_group : NULL;
    t->table_src = plan_stage_table(st);
    if (t->table_src) cs.group = NULL;   /* a join's table: every instance reads it whole */
    cs.checkpoints = q->settings->state_dir[0] != 0;
    /* its offsets in `<group>-offsets`, and a partition a rebalance moves
     * away goes at the commit of the next checkpoint (source_step); not
     * with a Kafka exchange, whose decisions are the group's own offsets
     * and whose stage 0 rewinds instead (kx_writer_rewind) */
    char offsets_group[sizeof q->settings->deployment_group + 16];
    snprintf(offsets_group, sizeof offsets_group, "%s-offsets", q->settings->deployment_group);
    cs.offsets_group = cs.group && !q->kx ? offsets_group : NULL;
    t->source = source_open(&cs, why, sizeof why);
    if (!t->source) {
        snprintf(err, cap, "stream '%s': %s", first->u.scan.stream, why);
        return -1;
    }
    if (batch_init(&t->src_batch, first->out.ncols, types, SLUICE_VECTOR_SIZE) != 0) goto oom;
    if (first->u.scan.filter) {
        t->scan_filter = expr_state_new(first->u.scan.filter, SLUICE_VECTOR_SIZE, why, sizeof why);
        if (!t->scan_filter) {
            snprintf(err, cap, "cannot run the scan filter: %s", why);
            return -1;
        }
    }
    t->wm_col = first->u.scan.wm_col;
    t->wm_delay = first->u.scan.wm_delay_us;
    (void)q;
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
}

/* Where each operator's output goes: the operators of a stage are listed
 * bottom-up (plan_stages' post-order), a chain — or, with a JOIN, a tree
 * whose two branches start at the stage's two inputs. */
static int find_consumer(const Task *t, const PlanNode *n, int *side)
{
    for (int j = 0; j < t->nops; j++) {
        if (t->ops[j].node->input == n) {
            *side = 0;
            return j;
        }
        if (t->ops[j].node->right == n) {
            *side = 1;
            return j;
        }
    }
    *side = 0;
    return t->nops;   /* the stage's output */
}

static int task_wire(Task *t, const Stage *st, int first, char *err, size_t cap)
{
    t->join_i = -1;
    t->table_side = -1;
    t->side_wm[0] = t->side_wm[1] = WATERMARK_MIN;
    for (int k = 0; k < t->nops; k++) {
        t->ops[k].next = find_consumer(t, t->ops[k].node, &t->ops[k].next_side);
        t->ops[k].branch = 2;
        if (t->ops[k].node->kind == PLAN_JOIN) {
            if (t->join_i >= 0) {
                snprintf(err, cap, "a stage with two joins cannot run (the planner should separate them)");
                return -1;
            }
            t->join_i = k;
        }
    }
    if (t->join_i >= 0 && t->ops[t->join_i].node->u.join.table) {
        /* the table goes whole to this task first (source_step) */
        t->table_side = t->ops[t->join_i].node->u.join.table == 1 ? 1 : 0;
        atomic_fetch_add(&t->q->tables_open, 1);
    }
    /* the inputs: the source (first) and the stage inputs; with a JOIN each
     * leads to one of its sides, and its entry is that side's */
    const PlanNode *from[3];
    int             nfrom = 0;
    if (first) from[nfrom++] = st->ops[0];
    for (int k = 0; k < st->ninputs && nfrom < 3; k++) from[nfrom++] = st->in_exchange[k];
    if (nfrom > 2 || (t->join_i >= 0 && nfrom != 2)) {
        snprintf(err, cap, "a stage must read one input, or a join's two (the planner should separate them)");
        return -1;
    }
    for (int f = 0; f < nfrom; f++) {
        int e, es, slot = f;
        e = find_consumer(t, from[f], &es);
        if (t->join_i >= 0) {
            /* the operators from this input up to the JOIN are its branch */
            int i = e, side = es;
            while (i < t->nops && i != t->join_i) {
                side = t->ops[i].next_side;
                i = t->ops[i].next;
            }
            if (i != t->join_i) {
                snprintf(err, cap, "a stage input does not lead to its join");
                return -1;
            }
            for (int j = e; j < t->nops && j != t->join_i; j = t->ops[j].next) t->ops[j].branch = side;
            if (e == t->join_i) es = side;
            slot = side;
        }
        t->entry[slot] = e;
        t->entry_side[slot] = es;
        if (first && f == 0) t->src_k = slot;
        else t->in_slot[f - first] = slot;
    }
    return 0;
}

static void task_free(Task *t)
{
    if (!t) return;
    for (int i = 0; i < t->nops; i++) op_destroy(&t->ops[i]);
    free(t->ops);
    source_close(t->source);
    batch_destroy(&t->src_batch);
    expr_state_free(t->scan_filter);
    free(t->in);
    free(t->in_wm);
    free(t->in_done);
    free(t->out);
    free(t->building);
    free(t->hashes);
    free(t->rows);
    free(t->nrows);
    free(t->part_max);
    free(t->kx_src_owned);
    free(t->part_last_us);
    for (int i = 0; t->held && i < t->nin; i++) held_free(&t->held[i], &t->pool);
    free(t->held);
    pool_free(&t->pool);
    free(t->in_barrier);
    free(t->in_side);
    state_txn_abort(t->piece);
    state_txn_abort(t->final_piece);
    free(t->spill_buf);
    spill_batch_free(t->spill_batch);
    free(t->drops);
    kx_writer_close(t->kxw);
    kx_reader_close(t->kxr);   /* leaves the group: its partitions move on */
    free(t->kx_parts);
    free(t->kx_offs);
    free(t->kx_open);
    free(t->kx_open_lo);
    free(t->kx_supp);
    free(t->kx_owned);
    kx_log_close(t->kx_log);
    free(t->kx_clx);
    free(t->kx_clf);
    free(t->kx_clpos);
    free(t->kx_clbar);
    free(t->kx_clcur);
    free(t->kx_led);
    kx_hold_clear(t);
    free(t->kx_hold);
    free(t->kx_wsel);
    free(t->kx_whash);
    pool_free(&t->kx_pool);
    vector_destroy(&t->kx_uuntil);
    if (t->kx_ucols) {   /* the side column and the other side's NULLs are its own */
        for (int c = 1; c < t->kx_uncols; c++)
            if (c == 1 || c < t->kx_ubase || c >= t->kx_ubase + t->kx_uown) vector_destroy(&t->kx_ucols[c]);
        free(t->kx_ucols);
    }
    free(t);
}

/* Open the query's store: <state.dir>/<sink name> for an INSERT, or
 * <state.dir>/select. Its fingerprint is the EXPLAIN text of the plan. */
static int state_open_for(Query *q, char *err, size_t cap)
{
    const char *sink = q->plan->root->u.output.sink;
    char        dir[1024], why[1024];
    if (mkdir(q->settings->state_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(err, cap, "state.dir '%s': %s", q->settings->state_dir, strerror(errno));
        return -1;
    }
    snprintf(dir, sizeof dir, "%s/%s", q->settings->state_dir, sink ? sink : "select");
    char *fp = explain_text(q->plan);
    if (!fp) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    q->store = state_open(dir, fp, (int)q->settings->state_reset, why, sizeof why);
    free(fp);
    if (!q->store) {
        snprintf(err, cap, "%s", why);
        return -1;
    }
    /* every source must be able to say where it is */
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        if (t->source && source_checkpoint(t->source, NULL, 0) < 0) {
            snprintf(err, cap, "stream '%s' cannot be checkpointed: %s (unset state.dir to run without checkpoints)",
                     q->plan->stages[t->stage].ops[0]->u.scan.stream, source_error(t->source));
            return -1;
        }
    }
    return 0;
}

typedef struct RestoreCtx {
    AggOp  *agg;
    JoinOp *join;
    int     failed;
} RestoreCtx;

static int restore_chunk(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
    RestoreCtx *r = ctx;
    if (r->join ? join_op_restore(r->join, key, klen, val, vlen) != 0
                : agg_op_restore(r->agg, key, klen, val, vlen) != 0) {
        r->failed = 1;
        return 1;
    }
    return 0;
}

static int spill_register_cb(void *ctx, const void *gkey, size_t klen, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    return agg_op_spill_register(ctx, gkey, klen) != 0;
}

/* The groups operator i of t had spilled at checkpoint epoch (the store's
 * later versions are dropped). */
static int spill_restore_op(Query *q, Task *t, int i, int64_t epoch, char *why, size_t cap)
{
    OpState *s = &t->ops[i];
    char     err[512];
    if (spill_recover(q->spill, s->node->id, t->index, epoch, spill_register_cb, s->agg, err, sizeof err) != 0) {
        if (agg_op_error(s->agg)[0])
            snprintf(why, cap, "the spilled state of an aggregate does not load: %s", agg_op_error(s->agg));
        else
            snprintf(why, cap, "%s", err);
        return -1;
    }
    atomic_store(&t->spilled, agg_op_spilled(s->agg));
    return 0;
}

/* every aggregate: its spilled groups of checkpoint epoch */
static int spill_restore(Query *q, int64_t epoch, char *why, size_t cap)
{
    for (int k = 0; k < q->ntasks; k++)
        for (int i = 0; i < q->tasks[k]->nops; i++)
            if (q->tasks[k]->ops[i].agg && spill_restore_op(q, q->tasks[k], i, epoch, why, cap)) return -1;
    return 0;
}

/* Resume from the last checkpoint in the store (a new store: start fresh). */
static int restore(Query *q, char *err, size_t cap)
{
    int64_t epoch = state_epoch(q->store);
    char    why[512];
    void   *v = NULL;
    size_t  vlen = 0;
    atomic_store(&q->ckpt_epoch, epoch);
    atomic_store(&q->ckpt_request, epoch);
    q->restored_epoch = epoch;
    if (!(q->spill = spill_open_shared(q->store, why, sizeof why))) goto bad;
    if (epoch == 0) {
        if (spill_restore(q, 0, why, sizeof why)) goto bad;   /* a run that spilled before its first checkpoint */
        if (q->sink && sink_recover(q->sink, NULL, 0) != 0) {
            snprintf(err, cap, "sink: %s", sink_error(q->sink));
            return -1;
        }
        return 0;
    }
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        t->barrier_epoch = t->acked_epoch = epoch;
        /* group exchange: positions are the group's, and stage 1 rebuilds its
         * state from the repartition topic (docs/scaling.md) */
        if (q->kx) continue;
        int rc = state_get(q->store, STATE_OP_TASK, t->gidx, "", 0, &v, &vlen, why, sizeof why);
        if (rc < 0) goto bad;
        if (rc == 0) {
            snprintf(why, sizeof why, "no record of task %d of stage %d", t->index, t->stage);
            goto bad;
        }
        const int64_t *m = v;
        int            n = (int)(vlen / sizeof *m), p = 0;
        if (vlen % sizeof *m || n < 6 || m[0] != TASK_META_VERSION || m[4] != t->nin ||
            n != 8 + t->nin + 2 * t->nops || m[5 + t->nin] != t->nops) {
            snprintf(why, sizeof why, "the record of task %d of stage %d is malformed", t->index, t->stage);
            goto bad;
        }
        p = 1;
        t->wm = m[p++];
        t->max_ts = m[p++];
        t->frontier = m[p++];
        p++;
        for (int i = 0; i < t->nin; i++) t->in_wm[i] = m[p++];
        p++;
        for (int i = 0; i < t->nops; i++) {
            t->ops[i].last_wm = m[p++];
            t->ops[i].limit_left = m[p++];
        }
        t->side_wm[0] = m[p++];
        t->side_wm[1] = m[p++];
        atomic_store(&t->wm_pub, t->wm);
        atomic_store(&t->max_ts_pub, t->max_ts);
        free(v);
        v = NULL;
        for (int i = 0; i < t->nops; i++) {
            OpState *s = &t->ops[i];
            if (!s->join && (!s->agg || s->node->u.agg.mode == AGG_PARTIAL)) continue;
            RestoreCtx r = {s->agg, s->join, 0};
            if (state_scan(q->store, s->node->id, t->index, restore_chunk, &r, why, sizeof why) != 0) goto bad;
            if (r.failed) {
                snprintf(why, sizeof why, "the state of %s does not load: %s", s->join ? "a join" : "an aggregate",
                         s->join ? join_op_error(s->join) : agg_op_error(s->agg));
                goto bad;
            }
            if (s->agg && spill_restore_op(q, t, i, epoch, why, sizeof why)) goto bad;
            publish_agg(t);
        }
        if (t->source) {
            rc = state_get(q->store, STATE_OP_SOURCE, t->gidx, "", 0, &v, &vlen, why, sizeof why);
            if (rc < 0) goto bad;
            if (rc == 0) {
                snprintf(why, sizeof why, "no source position for task %d", t->index);
                goto bad;
            }
            char serr[400];
            if (source_restore(t->source, v, vlen, serr, sizeof serr) != 0) {
                snprintf(why, sizeof why, "stream '%s' cannot resume: %s",
                         q->plan->stages[t->stage].ops[0]->u.scan.stream, serr);
                goto bad;
            }
            free(v);
            v = NULL;
        }
    }
    if (q->sink) {
        int rc = state_get(q->store, STATE_OP_SINK, 0, "", 0, &v, &vlen, why, sizeof why);
        if (rc < 0) goto bad;
        if (sink_recover(q->sink, rc ? v : NULL, rc ? vlen : 0) != 0) {
            snprintf(why, sizeof why, "sink '%s' cannot resume: %s", q->plan->root->u.output.sink,
                     sink_error(q->sink));
            goto bad;
        }
        free(v);
        v = NULL;
    }
    return 0;
bad:
    free(v);
    snprintf(err, cap, "cannot resume from checkpoint %lld in %s: %s (start over with --reset-state)",
             (long long)epoch, q->settings->state_dir, why);
    return -1;
}

/* Properties of the source that the exchange's Kafka clients take too (the
 * cluster's security, the group timing); the rest are the source's own. */
static int kx_prop_wanted(const char *name)
{
    return !strcmp(name, "session.timeout.ms") || !strcmp(name, "heartbeat.interval.ms") ||
           !strncmp(name, "security.", 9) || !strncmp(name, "sasl.", 5) || !strncmp(name, "ssl.", 4) ||
           !strcmp(name, "client.id") || !strcmp(name, "socket.timeout.ms");
}

/* Group mode with an exchange: the tasks of the stage that reads the Kafka
 * source (q->kx_w, "stage 0" in the comments of this file; after a join's
 * table stage it is 1) write the exchange into the repartition topic, its
 * downstream's (q->kx_r, "stage 1") read it through a consumer group of
 * their own (docs/scaling.md). A window join of two streams has two such
 * stages (q->kx_w its left side, q->kx_w2 its right) writing one topic: a
 * row is [window_end, side, the left columns, the right columns] with the
 * other side's columns NULL, so partition p of both sides is one Kafka
 * partition, read by one task, and their watermarks are one (origins: the
 * left topic's partitions, then the right one's). 0, or -1 with err. */
static const char *kx_bootstrap(const PlanNode *scan, const char **pk, const char **pv, int *np)
{
    const char *bootstrap = NULL;
    for (int i = 0; i < scan->u.scan.nopts; i++) {
        const char *k = scan->u.scan.opt_keys[i], *v = scan->u.scan.opt_values[i];
        if (strncmp(k, "properties.", 11) != 0) continue;
        if (!strcmp(k + 11, "bootstrap.servers")) bootstrap = v;
        else if (pk && kx_prop_wanted(k + 11) && *np < 32) pk[*np] = k + 11, pv[(*np)++] = v;
    }
    return bootstrap;
}

static const PlanNode *kx_join_node(const Stage *st)
{
    for (int k = 0; k < st->nops; k++)
        if (st->ops[k]->kind == PLAN_JOIN) return st->ops[k];
    return NULL;
}

/* The interrupt of a sink or a repartition writer (sink_set_interrupt,
 * kx_writer_set_interrupt) waiting for brokers: a stop was asked for. */
static int query_interrupted(void *ctx)
{
    Query *q = ctx;
    return (q->run_stop && *q->run_stop) || atomic_load(&q->stop_req) || atomic_load(&q->stop);
}

/* Stage 1 task t of an aggregation that emits changes (plan_agg_changelog): its state
 * goes to the changelog topic <group>-<stage>-changelog (kx_cl_barrier).
 * 0, or -1 with err. */
static int kx_cl_setup(Query *q, Task *t, const KxSpec *xs, char *err, size_t cap)
{
    int             P = q->plan->group_partitions;
    const PlanNode *a = t->ops[t->entry[0]].node, *x = q->plan->stages[q->kx_w].out_exchange;
    /* session windows: the keys but the session's bounds (a session's key
     * hash leaves them out: exec/agg.h, snap_parts) */
    int sess = a->u.agg.windowed && a->u.agg.wkind == WINDOW_SESSION, n = 0, same = 1;
    for (int k = 0; same && k < a->u.agg.nkeys; k++) {
        if (sess && (k == a->u.agg.wstart_key || k == a->u.agg.wend_key)) continue;
        same = n < x->u.exchange.nkeys && x->u.exchange.keys[n++] == a->u.agg.keys[k];
    }
    if (!same || n != x->u.exchange.nkeys) {   /* (a group's slice must be the partition its rows come from) */
        snprintf(err, cap, "deployment.group: the aggregation kept in a changelog is not keyed as its repartition "
                           "topic (its keys are not the exchange's, in order)");
        return -1;
    }
    snprintf(q->kx_cltopic, sizeof q->kx_cltopic, "%s-%d-changelog", q->plan->group, q->plan->stages[t->stage].id);
    KxSpec spec = *xs;
    spec.topic = q->kx_cltopic;
    char why[512];
    if (!(t->kx_log = kx_log_open(&spec, why, sizeof why))) {
        snprintf(err, cap, "changelog topic '%s': %s", q->kx_cltopic, why);
        return -1;
    }
    t->kx_cl = 1;
    t->kx_clop = t->entry[0];
    t->kx_clx = calloc((size_t)P, sizeof *t->kx_clx);
    t->kx_clf = malloc((size_t)P * sizeof *t->kx_clf);
    t->kx_clpos = calloc((size_t)KX_PEND * (size_t)P * KX_CLN, sizeof *t->kx_clpos);
    t->kx_clbar = calloc((size_t)P * KX_CLN, sizeof *t->kx_clbar);
    t->kx_clcur = calloc((size_t)P * KX_CLN, sizeof *t->kx_clcur);
    if (!t->kx_clx || !t->kx_clf || !t->kx_clpos || !t->kx_clbar || !t->kx_clcur) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (size_t k = 0; k < (size_t)P * KX_CLN; k++) t->kx_clbar[k] = t->kx_clcur[k] = -1;
    for (int p = 0; p < P; p++) t->kx_clf[p] = -1;
    return 0;
}

static int kx_setup(Query *q, char *err, size_t cap)
{
    const Plan     *plan = q->plan;
    const Stage    *st1 = &plan->stages[q->kx_r];
    const Stage    *stw[2] = {&plan->stages[q->kx_w], q->kx_w2 >= 0 ? &plan->stages[q->kx_w2] : NULL};
    const PlanNode *scan = stw[0]->ops[0];
    const PlanNode *join = stw[1] ? kx_join_node(st1) : NULL;
    int             P = plan->group_partitions, nw = stw[1] ? 2 : 1;
    char            why[512];
    if (P < 1 || P > KX_MAX_PARTITIONS) {
        snprintf(err, cap, "deployment.partitions must be 1 … %d; got %d", KX_MAX_PARTITIONS, P);
        return -1;
    }
    for (int i = 0; i < st1->nops; i++) {   /* (the planner checks it: planner_check_group) */
        const PlanNode *a = st1->ops[i];
        if (!plan_agg_changelog(a)) continue;
        if (P > 64) {   /* (its checkpoint buckets are the partitions: kx_cl_chunk) */
            snprintf(err, cap, "deployment.partitions must be at most 64 for an aggregation kept in a changelog; "
                               "got %d", P);
            return -1;
        }
    }
    if (stw[1] && (!join || join->u.join.flavor == JOIN_REGULAR)) {
        snprintf(err, cap, "deployment.group: the repartition topic of two streams must feed a window or "
                           "interval join");
        return -1;
    }
    /* An interval join: a replay skips rows whose until (kx_until_shift)
     * is emitted already, and starts at the first row whose until is not
     * (kx_track, rounded up to kx_gran). */
    int     ival = join && join->u.join.flavor == JOIN_INTERVAL;
    int64_t shift[2] = {0, 0}, gran = 0, win = 0, wsize = 0;
    /* … or, when an aggregate takes its rows at once (windows of the left
     * time: plan_agg_of_join), the end of the last window anything the row
     * takes part in falls into: a left row's own, a right row's latest
     * partner's (r.t + upper). Its windows are what is emitted. The last
     * window of x ends at floor(x / win) * win + wsize (win: a HOP's
     * slide, else the size). A replay drops the (row, window) pairs of
     * windows emitted already (kx_drop_emitted): a pair can fall into
     * several, some emitted. */
    const PlanNode *jagg = ival ? plan_join_aggregate(plan, join) : NULL, *wnode = NULL;
    int             wkeys[64], nwkeys = 0;
    for (const PlanNode *n = jagg ? jagg->input : NULL; n && !wnode; n = n->input)
        if (n->kind == PLAN_WINDOW) wnode = n;
    if (jagg) {
        const PlanNode *path[64];
        int             npath = 0;
        for (const PlanNode *n = wnode ? wnode->input : NULL; n && n != join && npath < 64; n = n->input)
            path[npath++] = n;
        const PlanNode *lx = stw[0]->out_exchange;   /* (the keys the left rows were written by) */
        nwkeys = lx->u.exchange.nkeys;
        for (int k = 0; k < nwkeys && k < 64; k++) {   /* … traced up to the window's input */
            int col = lx->u.exchange.keys[k];
            for (int i = npath - 1; i >= 0 && col >= 0; i--) {
                if (path[i]->kind != PLAN_PROJECT) continue;
                int to = -1;
                for (int c = 0; c < path[i]->out.ncols && to < 0; c++)
                    if (path[i]->u.project.exprs[c]->op == EXPR_COLUMN && path[i]->u.project.exprs[c]->col == col)
                        to = c;
                col = to;
            }
            wkeys[k] = col;
            if (col < 0) wnode = NULL;
        }
        if (!wnode || nwkeys > 64) {
            snprintf(err, cap, "deployment.group: the aggregation of the interval join does not window its rows "
                               "by a time of theirs with the join key kept");
            return -1;
        }
        wsize = wnode->u.window.size_us;
        win = wnode->u.window.kind == WINDOW_HOP ? wnode->u.window.slide_us : wsize;
    }
    if (ival) {
        shift[0] = win ? 0 : kx_until_shift(join, 0);
        shift[1] = win ? join->u.join.upper_us : kx_until_shift(join, 1);
        int64_t delay = stw[0]->ops[0]->u.scan.wm_delay_us;
        if (stw[1]->ops[0]->u.scan.wm_delay_us > delay) delay = stw[1]->ops[0]->u.scan.wm_delay_us;
        gran = delay + (shift[0] > shift[1] ? shift[0] : shift[1]);
        if (gran < 1000000) gran = 1000000;
    }
    const char *pk[32], *pv[32];
    int         np = 0;
    const char *bootstrap = kx_bootstrap(scan, pk, pv, &np);
    if (!bootstrap) {
        snprintf(err, cap, "deployment.group: stream '%s' names no 'properties.bootstrap.servers' for the "
                           "repartition topic", scan->u.scan.stream);
        return -1;
    }
    if (stw[1]) {
        const PlanNode *rs = stw[1]->ops[0];
        const char     *rb = kx_bootstrap(rs, NULL, NULL, NULL);
        if (!rb || strcmp(rb, bootstrap) != 0) {
            snprintf(err, cap, "deployment.group: streams '%s' and '%s' of the window join must name the same "
                               "'properties.bootstrap.servers' (their rows meet in one repartition topic)",
                     scan->u.scan.stream, rs->u.scan.stream);
            return -1;
        }
    }
    snprintf(q->kx_topic, sizeof q->kx_topic, "%s-%d-repartition", plan->group, stw[0]->id);
    snprintf(q->kx_group, sizeof q->kx_group, "%s-%d", plan->group, st1->id);
    snprintf(q->kx_ledger, sizeof q->kx_ledger, "%s-%d-emitted", plan->group, st1->id);
    /* the topic's row: the exchange's, or a join's union row (above) */
    const PlanNode *xs[2] = {stw[0]->out_exchange, stw[1] ? stw[1]->out_exchange : NULL};
    SqlType         types[512];
    const char     *names[512];
    int             ncols = 0, nl = xs[0]->out.ncols;
    if (stw[1]) {
        if (2 + nl + xs[1]->out.ncols > 512 || xs[0]->u.exchange.nkeys > 64) {
            snprintf(err, cap, "too many columns for the repartition topic");
            return -1;
        }
        types[ncols] = xs[0]->out.cols[join->u.join.ltime].type;
        names[ncols++] = ival ? "until" : "window_end";
        types[ncols] = TYPE_BIGINT, names[ncols++] = "side";
    } else if (nl > 512) {
        snprintf(err, cap, "too many columns for the repartition topic");
        return -1;
    }
    for (int w = 0; w < nw; w++)
        for (int c = 0; c < xs[w]->out.ncols; c++)
            types[ncols] = xs[w]->out.cols[c].type, names[ncols++] = xs[w]->out.cols[c].name;
    /* the fingerprint every instance agrees on: the exchange's schema, keys and size */
    uint64_t fp = 1469598103934665603ULL;
#define FP_MIX(v) (fp = (fp ^ (uint64_t)(v)) * 1099511628211ULL)
    FP_MIX(P);
    for (int w = 0; w < nw; w++) {
        FP_MIX(xs[w]->u.exchange.nkeys);
        for (int k = 0; k < xs[w]->u.exchange.nkeys; k++) FP_MIX(xs[w]->u.exchange.keys[k]);
    }
    for (int c = 0; c < ncols; c++) {
        FP_MIX(types[c]);
        for (const char *n = names[c]; n && *n; n++) FP_MIX((unsigned char)*n);
    }
#undef FP_MIX
    /* watermark origins: each source topic's partitions, one after the other */
    int nsrc[2] = {0, 0}, norigins = 0;
    for (int w = 0; w < nw; w++) {
        Task *t0 = q->tasks[q->stage_first[stw[w]->id]];
        if ((nsrc[w] = source_topic_partitions(t0->source, 10000, why, sizeof why)) < 1) {
            snprintf(err, cap, "stream '%s': %s", stw[w]->ops[0]->u.scan.stream, why);
            return -1;
        }
        norigins += nsrc[w];
    }
    q->kx_norigins = norigins;
    KxSpec spec = {0};
    spec.bootstrap = bootstrap;
    spec.topic = q->kx_topic;
    spec.partitions = P;
    spec.ncols = ncols;
    spec.types = types;
    spec.fingerprint = fp;
    spec.nprops = np;
    spec.prop_keys = pk;
    spec.prop_values = pv;
    for (int w = 0; w < nw; w++)
        for (int i = 0; i < stw[w]->parallelism; i++) {
            Task *t = q->tasks[q->stage_first[stw[w]->id] + i];
            t->kx_obase = w ? nsrc[0] : 0;
            t->kx_nsrc = nsrc[w];
            if (stw[1]) {   /* the union row: a view over the side's own columns */
                int own = xs[w]->out.ncols;
                if (!(t->kx_ucols = calloc((size_t)ncols, sizeof *t->kx_ucols))) goto oom;
                t->kx_uncols = ncols;
                t->kx_ubase = 2 + (w ? nl : 0);
                t->kx_uown = own;
                t->kx_uwend = w ? join->u.join.rtime : join->u.join.ltime;
                t->kx_ival = ival;
                t->kx_ushift = shift[w];
                t->kx_uwin = win;
                t->kx_uwsize = wsize;
                for (int k = 0; k < xs[w]->u.exchange.nkeys; k++)
                    t->kx_ukeys[k] = t->kx_ubase + xs[w]->u.exchange.keys[k];
                for (int c = 1; c < ncols; c++) {
                    if (c > 1 && c >= t->kx_ubase && c < t->kx_ubase + own) continue;
                    if (vector_init(&t->kx_ucols[c], types[c], 1) != 0) goto oom;
                    vector_make_constant(&t->kx_ucols[c]);
                    if (c == 1) vector_i64(&t->kx_ucols[c])[0] = w;
                    else vector_set_null(&t->kx_ucols[c], 0);
                }
            }
            if (!(t->kxw = kx_writer_open(&spec, why, sizeof why))) {
                snprintf(err, cap, "repartition topic '%s': %s", q->kx_topic, why);
                return -1;
            }
            kx_writer_set_interrupt(t->kxw, query_interrupted, q);
            kx_claim_update(t);   /* before the source's first assignment */
        }
    spec.replay = 1;
    spec.ledger = q->kx_ledger;   /* records that never make a member lose its partitions */
    for (int i = 0; i < st1->parallelism; i++) {
        Task *t = q->tasks[q->stage_first[st1->id] + i];
        if (stw[1]) {
            if (t->join_i < 0) {
                snprintf(err, cap, "deployment.group: the repartition topic of two streams must feed a window or "
                                   "interval join");
                return -1;
            }
            t->kx_join = 1;
            t->kx_agg = jagg != NULL;
            t->kx_wnode = wnode;
            t->kx_nwkeys = nwkeys;
            for (int k = 0; k < nwkeys; k++) t->kx_wkeys[k] = wkeys[k];
            t->kx_wend = 0;
            t->kx_nleft = nl;
            t->kx_hwend[0] = join->u.join.ltime;
            t->kx_hwend[1] = nl + join->u.join.rtime;
            t->kx_ival = ival;
            t->kx_lower = join->u.join.lower_us;
            t->kx_upper = join->u.join.upper_us;
            t->kx_gran = gran;
            t->kx_nhkeys = xs[0]->u.exchange.nkeys;
            for (int k = 0; k < t->kx_nhkeys; k++) {
                t->kx_hkeys[0][k] = xs[0]->u.exchange.keys[k];
                t->kx_hkeys[1][k] = nl + xs[1]->u.exchange.keys[k];
            }
        } else {
            const PlanNode *a = t->entry[0] < t->nops ? t->ops[t->entry[0]].node : NULL;
            int             cl = a && plan_agg_changelog(a);
            if (!cl && (!a || a->kind != PLAN_AGGREGATE || a->u.agg.mode != AGG_FINAL || a->u.agg.wend_key < 0)) {
                snprintf(err, cap, "deployment.group: the repartition topic must feed a windowed aggregation "
                                   "or one that emits changes");
                return -1;
            }
            t->kx_wend = a->u.agg.windowed && a->u.agg.wend_key >= 0 ? a->u.agg.keys[a->u.agg.wend_key] : -1;
            if (cl && kx_cl_setup(q, t, &spec, err, cap)) return -1;
        }
        t->kx_parts = calloc(SLUICE_VECTOR_SIZE, sizeof *t->kx_parts);
        t->kx_offs = calloc(SLUICE_VECTOR_SIZE, sizeof *t->kx_offs);
        t->kx_open = malloc((size_t)P * KX_OPEN * sizeof *t->kx_open);
        t->kx_open_lo = malloc((size_t)P * sizeof *t->kx_open_lo);
        t->kx_supp = calloc((size_t)P, sizeof *t->kx_supp);
        t->kx_owned = calloc((size_t)P, 1);
        t->kx_led = calloc((size_t)P, sizeof *t->kx_led);
        if (!t->kx_parts || !t->kx_offs || !t->kx_open || !t->kx_open_lo || !t->kx_supp || !t->kx_owned || !t->kx_led ||
            batch_init(&t->src_batch, ncols, types, SLUICE_VECTOR_SIZE) != 0)
            goto oom;
        for (int p = 0; p < P; p++) t->kx_supp[p] = WATERMARK_MIN, t->kx_open_lo[p] = INT64_MAX;
        for (size_t k = 0; k < (size_t)P * KX_OPEN; k++) t->kx_open[k].wend = WATERMARK_MIN;
        t->kx_rec = WATERMARK_MIN;
        t->kx_supp_max = WATERMARK_MIN;
        if (!(t->kxr = kx_reader_open(&spec, q->kx_group, norigins, why, sizeof why))) {
            snprintf(err, cap, "repartition topic '%s': %s", q->kx_topic, why);
            return -1;
        }
        kx_reader_on_handoff(t->kxr, kx_handoff, t);
        kx_reader_defer_revokes(t->kxr, 1);
        if (t->kx_cl && !t->ops[t->kx_clop].changes) {   /* (kx_reset_due) */
            t->kx_clhold = 1;
            kx_reader_hold(t->kxr, 1);
        }
    }
    return 0;
oom:
    snprintf(err, cap, "out of memory");
    return -1;
}

Query *query_new(const Plan *plan, const Settings *settings, char *err, size_t cap)
{
    Query *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&q->error_lock, NULL);
    pthread_mutex_init(&q->late_lock, NULL);
    pthread_mutex_init(&q->spill_lock, NULL);
    pthread_mutex_init(&q->lat_lock, NULL);
    pthread_mutex_init(&q->ckpt_lock, NULL);
    const char *crash = getenv("SLUICE_CRASH_AFTER_COMMIT");   /* (docs/scaling.md, Testing) */
    q->crash_after = crash ? atoi(crash) : 0;
    const char *hold = getenv("SLUICE_STOP_COMMIT_DELAY_MS");
    q->stop_hold_us = hold ? atoll(hold) * 1000 : 0;
    const char *failrec = getenv("SLUICE_FAIL_RECORDS_MS");
    q->fail_records_us = failrec ? atoll(failrec) * 1000 : 0;
    q->lat_cap = 4096;
    q->lat = calloc((size_t)q->lat_cap, sizeof *q->lat);   /* NULL: no latency figures */
    q->plan = plan;
    q->settings = settings;
    q->nworkers = plan->parallelism > 0 ? plan->parallelism : 1;
    q->stage_first = calloc((size_t)plan->nstages + 1, sizeof *q->stage_first);
    int ntasks = 0;
    for (int s = 0; s < plan->nstages; s++) ntasks += plan->stages[s].parallelism;
    q->tasks = calloc((size_t)ntasks + 1, sizeof *q->tasks);
    /* channels: for every exchange, upstream × downstream */
    int nch = 0;
    for (int s = 0; s < plan->nstages; s++) {
        const Stage *st = &plan->stages[s];
        if (st->downstream >= 0) nch += st->parallelism * plan->stages[st->downstream].parallelism;
    }
    q->channels = calloc((size_t)nch + 1, sizeof *q->channels);
    const Stage *last = &plan->stages[plan->nstages - 1];
    q->ncollect = last->parallelism;
    q->collect = calloc((size_t)q->ncollect, sizeof *q->collect);
    q->workers = calloc((size_t)q->nworkers, sizeof *q->workers);
    if (!q->stage_first || !q->tasks || !q->channels || !q->collect || !q->workers) goto oom;

    /* group mode with one exchange: it is a repartition topic, not channels */
    const Stage *kxst = plan_group_topic(plan);
    q->kx = kxst != NULL;
    q->kx_w = kxst ? kxst->id : -1;
    q->kx_r = kxst ? kxst->downstream : -1;
    const Stage *kxst2 = plan_group_topic_side(plan, 1);   /* a window join's right side */
    q->kx_w2 = kxst2 ? kxst2->id : -1;

    /* tasks and their operators */
    for (int s = 0; s < plan->nstages; s++) {
        const Stage *st = &plan->stages[s];
        q->stage_first[s] = q->ntasks;
        for (int i = 0; i < st->parallelism; i++) {
            Task *t = calloc(1, sizeof *t);
            if (!t) goto oom;
            q->tasks[q->ntasks++] = t;
            t->q = q;
            t->stage = s;
            t->index = i;
            t->gidx = q->ntasks - 1;
            t->worker = i % q->nworkers;
            t->wm = WATERMARK_MIN;
            t->max_ts = WATERMARK_MIN;
            t->frontier = WATERMARK_MIN;
            t->wm_col = -1;
            atomic_init(&t->wm_pub, WATERMARK_MIN);
            atomic_init(&t->max_ts_pub, WATERMARK_MIN);
            int first = source_stage(st);   /* ops[0] is the Scan/Values */
            t->nops = st->nops - first;
            t->ops = calloc((size_t)t->nops + 1, sizeof *t->ops);
            if (!t->ops) goto oom;
            for (int k = 0; k < t->nops; k++)
                if (op_init(q, t, &t->ops[k], st->ops[k + first], err, cap)) goto fail;
            if (first && task_init_source(q, t, st, err, cap)) goto fail;
            if (task_wire(t, st, first, err, cap)) goto fail;
        }
    }
    for (int w = 0; q->kx && w < 2; w++) {
        int ws = w ? q->kx_w2 : q->kx_w;
        for (int i = 0; ws >= 0 && i < plan->stages[ws].parallelism; i++)
            q->tasks[q->stage_first[ws] + i]->exchange = plan->stages[ws].out_exchange;
    }
    /* a join with a table: the other sources wait until every join task has it */
    if (atomic_load(&q->tables_open) > 0)
        for (int k = 0; k < q->ntasks; k++) {
            Task        *t = q->tasks[k];
            const Stage *st = &plan->stages[t->stage];
            t->wait_tables = source_stage(st) && !plan_stage_table(st);
        }
    /* exchange channels */
    for (int s = 0; s < plan->nstages; s++) {
        const Stage *st = &plan->stages[s];
        if (st->downstream < 0 || s == q->kx_w || s == q->kx_w2) continue;   /* (the repartition topic) */
        const Stage    *down = &plan->stages[st->downstream];
        const PlanNode *x = st->out_exchange;
        SqlType         types[512];
        if (x->out.ncols > 512) {
            snprintf(err, cap, "too many columns for the runtime (at most 256 into an aggregate, window or join and 512 into other operators or the output)");
            goto fail;
        }
        for (int c = 0; c < x->out.ncols; c++) types[c] = x->out.cols[c].type;
        for (int i = 0; i < st->parallelism; i++) {
            Task *t = q->tasks[q->stage_first[s] + i];
            t->exchange = x;
            t->nout = down->parallelism;
            t->out = calloc((size_t)t->nout, sizeof *t->out);
            if (!t->out) goto oom;
            for (int d = 0; d < down->parallelism; d++) {
                Channel *c = &q->channels[q->nchannels++];
                if (channel_init(c, CHANNEL_BATCHES, x->out.ncols, types)) goto oom;
                t->out[d] = c;
                Task *dt = q->tasks[q->stage_first[st->downstream] + d];
                Channel **in = realloc(dt->in, (size_t)(dt->nin + 1) * sizeof *in);
                if (!in) goto oom;
                dt->in = in;
                uint8_t *side = realloc(dt->in_side, (size_t)(dt->nin + 1));
                if (!side) goto oom;
                dt->in_side = side;
                dt->in_side[dt->nin] = (uint8_t)dt->in_slot[down->ninputs > 1 && down->inputs[1] == s];
                dt->in[dt->nin++] = c;
            }
        }
    }
    /* the collector */
    {
        const PlanNode *out = plan->root;
        SqlType         types[512];
        if (out->out.ncols > 512) {
            snprintf(err, cap, "too many columns for the runtime (at most 256 into an aggregate, window or join and 512 into other operators or the output)");
            goto fail;
        }
        for (int c = 0; c < out->out.ncols; c++) types[c] = out->out.cols[c].type;
        for (int i = 0; i < last->parallelism; i++) {
            Task *t = q->tasks[q->stage_first[plan->nstages - 1] + i];
            if (channel_init(&q->collect[i], CHANNEL_BATCHES, out->out.ncols, types)) goto oom;
            t->nout = 1;
            t->out = calloc(1, sizeof *t->out);
            if (!t->out) goto oom;
            t->out[0] = &q->collect[i];
        }
    }
    /* a changelog query's output gets an `op` column in front (see with_ops) */
    if (plan->emit == EMIT_MODE_CHANGES) {
        if (vector_init(&q->changes_op, TYPE_VARCHAR, SLUICE_VECTOR_SIZE) != 0) goto oom;
        q->changes_view.cols = calloc((size_t)plan->root->out.ncols + 1, sizeof(Vector));
        if (!q->changes_view.cols) goto oom;
        q->changes_view.cols[0] = q->changes_op;
        q->changes_view.capacity = SLUICE_VECTOR_SIZE;
    }
    /* per-task scratch */
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        t->building = calloc((size_t)t->nout + 1, sizeof *t->building);
        t->hashes = calloc(SLUICE_VECTOR_SIZE, sizeof *t->hashes);
        t->rows = calloc((size_t)t->nout * SLUICE_VECTOR_SIZE + 1, sizeof *t->rows);
        t->nrows = calloc((size_t)t->nout + 1, sizeof *t->nrows);
        t->in_wm = calloc((size_t)t->nin + 1, sizeof *t->in_wm);
        t->in_done = calloc((size_t)t->nin + 1, 1);
        t->in_barrier = calloc((size_t)t->nin + 1, 1);
        t->held = calloc((size_t)t->nin + 1, sizeof *t->held);
        if (!t->building || !t->hashes || !t->rows || !t->nrows || !t->in_wm || !t->in_done ||
            !t->in_barrier || !t->held)
            goto oom;
        for (int i = 0; i < t->nin; i++) t->in_wm[i] = WATERMARK_MIN;
        Worker *w = &q->workers[t->worker];
        Task  **wt = realloc(w->tasks, (size_t)(w->ntasks + 1) * sizeof *wt);
        if (!wt) goto oom;
        w->tasks = wt;
        w->tasks[w->ntasks++] = t;
        w->q = q;
    }
    q->col_barrier = calloc((size_t)q->ncollect + 1, 1);
    q->col_held = calloc((size_t)q->ncollect + 1, sizeof *q->col_held);
    if (!q->col_barrier || !q->col_held) goto oom;
    if (q->kx && kx_setup(q, err, cap)) goto fail;
    /* the state store: checkpoints on */
    if (settings->state_dir[0] && state_open_for(q, err, cap)) goto fail;
    /* the sink connector of an INSERT */
    if (plan->root->u.output.sink) {
        const PlanNode *o = plan->root;
        const char     *names[512];
        SqlType         types[512];
        ConnSpec        cs = {0};
        int k = 0;
        if (plan->emit == EMIT_MODE_CHANGES) {   /* a changelog: the op column first */
            names[k] = "op";
            types[k++] = TYPE_VARCHAR;
        }
        for (int c = 0; c < o->out.ncols && k < 512; c++) {
            names[k] = o->out.cols[c].name;
            types[k++] = o->out.cols[c].type;
        }
        cs.connector = o->u.output.connector;
        cs.format = o->u.output.format;
        cs.nopts = o->u.output.nopts;
        cs.opt_keys = o->u.output.opt_keys;
        cs.opt_values = o->u.output.opt_values;
        cs.ncols = k;
        cs.col_names = names;
        cs.col_types = types;
        cs.ntasks = 1;
        cs.transactional = q->store != NULL;
        char why[256];
        q->sink = sink_open(&cs, why, sizeof why);
        if (!q->sink) {
            snprintf(err, cap, "sink '%s': %s", o->u.output.sink, why);
            goto fail;
        }
    }
    /* state.memory: each aggregate and join gets an equal share; an
     * aggregate over its share spills (runtime/spill.h) */
    int64_t budget = q->settings ? q->settings->state_memory_bytes : 0;
    int     nstateful = 0;
    for (int k = 0; k < q->ntasks; k++)
        for (int i = 0; i < q->tasks[k]->nops; i++) {
            OpState *s = &q->tasks[k]->ops[i];
            nstateful += s->join || s->agg;
        }
    for (int k = 0; budget > 0 && k < q->ntasks; k++)
        for (int i = 0; i < q->tasks[k]->nops; i++) {
            OpState *s = &q->tasks[k]->ops[i];
            if (s->agg && !(s->node->u.agg.windowed && s->node->u.agg.wkind == WINDOW_SESSION) &&
                !(q->tasks[k]->kx_cl && i == q->tasks[k]->kx_clop))   /* (its changelog is its memory) */
                s->spill_share = (size_t)(budget / nstateful);
        }
    if (q->store && restore(q, err, cap)) goto fail;
    return q;
oom:
    snprintf(err, cap, "out of memory");
fail:
    query_free(q);
    return NULL;
}

void query_free(Query *q)
{
    if (!q) return;
    for (int i = 0; i < q->nworkers; i++) free(q->workers ? q->workers[i].tasks : NULL);
    free(q->workers);
    for (int i = 0; i < q->ntasks; i++) task_free(q->tasks[i]);
    free(q->tasks);
    for (int i = 0; i < q->nchannels; i++) channel_destroy(&q->channels[i]);
    free(q->channels);
    for (int i = 0; q->collect && i < q->ncollect; i++)
        if (q->collect[i].pool) channel_destroy(&q->collect[i]);
    free(q->collect);
    free(q->stage_first);
    free(q->lat);
    for (int i = 0; q->col_held && i < q->ncollect; i++) held_free(&q->col_held[i], &q->col_pool);
    free(q->col_held);
    free(q->col_barrier);
    pool_free(&q->col_pool);
    state_txn_abort(q->ckpt_carry);
    spill_close(q->spill);   /* before the store it may live in */
    state_close(q->store);
    if (q->sink) sink_close(q->sink);
    if (q->late_sink) sink_close(q->late_sink);
    if (q->changes_view.cols) {
        free(q->changes_view.cols);
        vector_destroy(&q->changes_op);
    }
    pthread_mutex_destroy(&q->error_lock);
    pthread_mutex_destroy(&q->late_lock);
    pthread_mutex_destroy(&q->spill_lock);
    pthread_mutex_destroy(&q->lat_lock);
    pthread_mutex_destroy(&q->ckpt_lock);
    free(q);
}

/* ---- running --------------------------------------------------------------------- */

/* A changelog query's rows get a leading `op` column: +I, +U or -D. */
static const Batch *with_ops(Query *q, const Batch *b)
{
    if (q->plan->emit != EMIT_MODE_CHANGES) return b;
    static const char *const names[] = {"+I", "+U", "-D", "-U"};
    Batch *v = &q->changes_view;
    Vector *opcol = &v->cols[0];
    for (int i = 0; i < b->count; i++) {
        int r = b->sel ? (int)b->sel[i] : i;
        int k = b->ops ? b->ops[r] : BATCH_OP_INSERT;
        vector_set_str_ref(opcol, r, names[k <= 3 ? k : 0], 2);
    }
    for (int c = 0; c < b->ncols; c++) v->cols[c + 1] = b->cols[c];
    v->ncols = b->ncols + 1;
    v->nrows = b->nrows;
    v->count = b->count;
    v->sel = b->sel;
    return v;
}

static int deliver(Query *q, const ResultSink *sink, const Batch *b)
{
    atomic_fetch_add_explicit(&q->output_rows, b->count, memory_order_relaxed);
    b = with_ops(q, b);
    if (q->sink) {
        q->unflushed = 1;
        if (sink_write(q->sink, b) != 0) {
            query_fail(q, "sink '%s': %s", q->plan->root->u.output.sink, sink_error(q->sink));
            return -1;
        }
        return 0;
    }
    if (sink && sink->on_rows && sink->on_rows(sink->ctx, b) != 0) atomic_store(&q->stop, 1);
    return 0;
}

static void *progress_main(void *arg)
{
    Query  *q = arg;
    int64_t next = q->start_us + q->progress_interval_us;
    while (!atomic_load(&q->progress_done)) {
        int64_t now = now_us();
        if (now >= next) {
            QueryProgress p;
            query_progress(q, &p);
            q->progress_fn(q->progress_ctx, &p);
            next += q->progress_interval_us;
            if (next < now) next = now + q->progress_interval_us;
            continue;
        }
        int64_t wait = next - now < 20000 ? next - now : 20000;
        struct timespec ts = {0, (long)wait * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void checkpoint_request(Query *q, int64_t now)
{
    int64_t e = atomic_load(&q->ckpt_epoch);
    if (q->ckpt_last_req > e) e = q->ckpt_last_req;
    e++;
    q->ckpt_last_req = e;
    q->ckpt_inflight = e;
    q->ckpt_started_us = now;
    q->ckpt_last_us = now;
    atomic_store_explicit(&q->ckpt_request, e, memory_order_release);
}

/* Drop the tasks' pieces of epoch (written, or carried into the next one). */
static void release_pieces(Query *q, int64_t epoch)
{
    pthread_mutex_lock(&q->ckpt_lock);
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        if (t->piece && t->piece_epoch == epoch) {
            state_txn_abort(t->piece);
            t->piece = NULL;
        }
    }
    pthread_mutex_unlock(&q->ckpt_lock);
}

/* Checkpoint epoch is durable (the sink's rows prepared, not visible yet):
 * each stage-1 task's records of its barrier go to the ledger now, before
 * the sink commits. A kill in between leaves rows nobody sees yet (a
 * restart of the instance commits them) and the partitions' next owners
 * emit those windows; written after the sink's commit, as the task did
 * before, a kill in between left rows seen and not recorded — emitted
 * twice. A record not written (a failure, or a reset since the barrier:
 * kx_reader_reset) is left to the task, after the sink's commit
 * (kx_reader_committed). */
static void kx_led_write(Query *q, int64_t epoch)
{
    int          P = q->plan->group_partitions;
    const char **metas = calloc((size_t)P, sizeof *metas);
    char       (*copy)[KX_META_MAX] = calloc((size_t)P, sizeof *copy);
    for (int k = 0; metas && copy && k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        if (!t->kxr || !t->kx_led) continue;
        pthread_mutex_lock(&q->ckpt_lock);
        int mine = t->kx_led_epoch == epoch;
        if (mine) memcpy(copy, t->kx_led, (size_t)P * sizeof *copy);
        pthread_mutex_unlock(&q->ckpt_lock);
        if (!mine) continue;
        for (int p = 0; p < P; p++) metas[p] = copy[p];
        char why[256];
        int rc;
        if (kx_rec_fail_hook(q)) {
            snprintf(why, sizeof why, "SLUICE_FAIL_RECORDS_MS: a record failed on purpose");
            rc = -1;
        } else
            rc = kx_reader_record(t->kxr, metas, why, sizeof why);
        if (rc == 0) {
            atomic_store(&t->kx_led_done, epoch);
            kx_rec_ok(q);
        } else
            kx_rec_failed(q, why);   /* (the task's kx_record writes it, after the sink's commit) */
    }
    free(metas);
    free(copy);
}

/* Write checkpoint epoch: every task's piece (or final piece), the sink's
 * prepared state and the epoch in one write batch; then the sink commits.
 * final: the query has ended — a task with no piece for epoch (upstream of
 * a LIMIT that ended the query) keeps what it last committed. */
static int checkpoint_commit(Query *q, int64_t epoch, int final)
{
    char      why[512];
    StateTxn *tx = state_txn_new(q->store);
    if (!tx) {
        query_fail(q, "checkpoint: out of memory");
        return -1;
    }
    if (q->ckpt_carry) state_txn_append(tx, q->ckpt_carry);   /* the changes of a carried-over one first */
    pthread_mutex_lock(&q->ckpt_lock);
    for (int k = 0; k < q->ntasks; k++) {
        Task     *t = q->tasks[k];
        StateTxn *src = t->piece && t->piece_epoch == epoch ? t->piece : t->final_piece;
        if (src) {
            state_txn_append(tx, src);
        } else if (!final) {
            pthread_mutex_unlock(&q->ckpt_lock);
            state_txn_abort(tx);
            query_fail(q, "checkpoint %lld: task %d of stage %d has no snapshot", (long long)epoch, t->index,
                       t->stage);
            return -1;
        }
    }
    pthread_mutex_unlock(&q->ckpt_lock);
    if (q->sink) {
        char blob[4096];
        long n = sink_prepare(q->sink, blob, sizeof blob);
        const char *w = n < 0 ? sink_warning(q->sink) : "";
        if (n < 0 && w && *w && !final) {
            /* a retriable problem (rows waiting for a broker): this checkpoint
             * is not committed, but its changes are kept and go into the next
             * one (the tasks' snapshots are incremental); a crash meanwhile
             * resumes from the last committed one */
            state_txn_abort(q->ckpt_carry);
            q->ckpt_carry = tx;
            release_pieces(q, epoch);
            atomic_fetch_add(&q->ckpt_skipped, 1);
            q->ckpt_inflight = 0;
            q->ckpt_started_us = 0;
            return 0;
        }
        if (n < 0) {
            state_txn_abort(tx);
            query_fail(q, "checkpoint: sink '%s': %s", q->plan->root->u.output.sink, sink_error(q->sink));
            return -1;
        }
        state_txn_put(tx, STATE_OP_SINK, 0, "", 0, blob, (size_t)n);
        q->unflushed = 0;
        q->last_flush_us = now_us();
    }
    if (q->late_sink) {   /* at least once: see docs/operations.md */
        pthread_mutex_lock(&q->late_lock);
        int rc = sink_flush(q->late_sink);
        pthread_mutex_unlock(&q->late_lock);
        if (rc != 0) {
            state_txn_abort(tx);
            query_fail(q, "checkpoint: late sink: %s", sink_error(q->late_sink));
            return -1;
        }
    }
    size_t bytes = state_txn_bytes(tx);
    if (state_txn_commit(tx, epoch, why, sizeof why) != 0) {
        query_fail(q, "checkpoint %lld: %s", (long long)epoch, why);
        return -1;
    }
    state_txn_abort(q->ckpt_carry);   /* committed with this one */
    q->ckpt_carry = NULL;
    if (q->kx && !final) kx_led_write(q, epoch);
    if (q->sink && sink_commit(q->sink) != 0) {
        query_fail(q, "checkpoint %lld: sink '%s': %s", (long long)epoch, q->plan->root->u.output.sink,
                   sink_error(q->sink));
        return -1;
    }
    if (q->crash_after > 0 && q->sink) {   /* a test's kill at the worst moment it can pick */
        int64_t rows = atomic_load(&q->output_rows);
        if (rows > q->crash_rows && --q->crash_after == 0) raise(SIGKILL);
        q->crash_rows = rows;
    }
    release_pieces(q, epoch);
    int64_t now = now_us();
    atomic_store(&q->ckpt_epoch, epoch);
    atomic_fetch_add(&q->ckpt_count, 1);
    atomic_store(&q->ckpt_dur_us, q->ckpt_started_us ? now - q->ckpt_started_us : 0);
    atomic_store(&q->ckpt_bytes, (int64_t)bytes);
    atomic_store(&q->ckpt_at_us, now);
    q->ckpt_inflight = 0;
    q->ckpt_started_us = 0;
    return 0;
}

/* The collector has the barrier of the checkpoint in flight from every last
 * stage task that has not ended: commit it, and let the rows flow again. */
static void collector_aligned(Query *q, const char *ended)
{
    if (q->hold_until_us && now_us() < q->hold_until_us) return;   /* (a test's) */
    for (int i = 0; i < q->ncollect; i++)
        if (!q->col_barrier[i] && !ended[i]) return;
    if (q->kx) {   /* stage 0's barriers do not pass through stage 1: wait for its pieces */
        int ready = 1;
        pthread_mutex_lock(&q->ckpt_lock);
        for (int k = 0; k < q->ntasks && ready; k++) {
            Task *t = q->tasks[k];
            ready = (t->piece && t->piece_epoch == q->ckpt_inflight) || t->final_piece;
        }
        pthread_mutex_unlock(&q->ckpt_lock);
        if (!ready) return;
    }
    checkpoint_commit(q, q->ckpt_inflight, 0);
    memset(q->col_barrier, 0, (size_t)q->ncollect);
}

int query_run(Query *q, const ResultSink *sink, volatile sig_atomic_t *stop, char *err, size_t cap)
{
    q->run_stop = stop;
    if (q->sink) sink_set_interrupt(q->sink, query_interrupted, q);
    if (q->late_sink) sink_set_interrupt(q->late_sink, query_interrupted, q);   /* (kafka too) */
    const PlanNode *out = q->plan->root;
    if (!q->sink && sink && sink->on_columns) {
        const char *names[513];
        SqlType     types[513];
        int         k = 0;
        if (q->plan->emit == EMIT_MODE_CHANGES) {
            names[k] = "op";
            types[k++] = TYPE_VARCHAR;
        }
        for (int c = 0; c < out->out.ncols && c < 512; c++) {
            names[k] = out->out.cols[c].name;
            types[k++] = out->out.cols[c].type;
        }
        sink->on_columns(sink->ctx, k, names, types, 1);
    }
    q->start_us = now_us();
    /* a source that never produces a row goes idle after the timeout, too */
    for (int k = 0; k < q->ntasks; k++) q->tasks[k]->last_data_us = q->start_us;
    for (int i = 0; i < q->nworkers; i++) {
        if (q->workers[i].ntasks == 0) continue;
        if (pthread_create(&q->workers[i].thread, NULL, worker_main, &q->workers[i]) != 0) {
            query_fail(q, "cannot start a worker thread: %s", strerror(errno));
            break;
        }
        q->workers[i].started = 1;
    }
    int     ended = 0;
    int     idle_rounds = 0;
    int64_t next_progress = q->start_us + q->progress_interval_us;
    if (q->sink && q->progress_fn && pthread_create(&q->progress_thread, NULL, progress_main, q) == 0)
        q->progress_threaded = 1;   /* (else: reported from this thread, as for a SELECT) */
    char *ended_flags = calloc((size_t)q->ncollect + 1, 1);
    if (!ended_flags) query_fail(q, "out of memory");
    int64_t stop_deadline = 0, stop_epoch = 0;
    while (ended < q->ncollect && !stopping(q)) {
        int progressed = 0;
        for (int i = 0; i < q->ncollect && !stopping(q); i++) {
            Msg m;
            if (ended_flags[i]) continue;
            if (q->col_barrier[i]) {   /* aligning: hold what comes after the barrier */
                int k = hold_from(&q->collect[i], &q->col_held[i], &q->col_pool);
                if (k < 0) query_fail(q, "checkpoint: out of memory");
                progressed |= k != 0;
                continue;
            }
            for (;;) {
                int held = held_pop(&q->col_held[i], &m) == 0;
                if (!held && channel_recv(&q->collect[i], &m) != 0) break;
                progressed = 1;
                if (m.kind == MSG_BATCH) {
                    if (m.at_us > 0 && q->lat) {
                        pthread_mutex_lock(&q->lat_lock);
                        q->lat[q->lat_total++ % q->lat_cap] = now_us() - m.at_us;
                        if (q->nlat < q->lat_cap) q->nlat++;
                        pthread_mutex_unlock(&q->lat_lock);
                    }
                    deliver(q, sink, m.batch);
                    if (held) pool_put(&q->col_pool, m.batch);
                    else channel_release(&q->collect[i], m.batch);
                    continue;
                }
                if (m.kind == MSG_END) {
                    ended_flags[i] = 1;
                    ended++;
                } else if (m.kind == MSG_BARRIER) {
                    q->col_barrier[i] = 1;
                } else {
                    continue;
                }
                if (q->ckpt_inflight && ended < q->ncollect) collector_aligned(q, ended_flags);
                break;
            }
        }
        if (q->kx && q->ckpt_inflight && ended < q->ncollect) collector_aligned(q, ended_flags);
        int64_t now = now_us();
        if (q->store && !q->ckpt_inflight && !stop_deadline &&
            (now - q->ckpt_last_us >= q->settings->checkpoint_interval_us ||
             atomic_exchange(&q->ckpt_soon, 0)))
            checkpoint_request(q, now);
        if ((stop && *stop) || atomic_load(&q->stop_req)) {
            /* stop after one last checkpoint, so that a restart resumes
             * from here and what was written is committed */
            if (!q->store || atomic_load(&q->failed)) {
                atomic_store(&q->stop, 1);
            } else if (!stop_deadline) {
                stop_deadline = now + STOP_CHECKPOINT_US;
                if (q->stop_hold_us) q->hold_until_us = now + q->stop_hold_us;
                if (!q->ckpt_inflight) checkpoint_request(q, now);
                stop_epoch = q->ckpt_inflight;
            } else if (atomic_load(&q->ckpt_epoch) >= stop_epoch || now > stop_deadline) {
                atomic_store(&q->stop, 1);
            }
        }
        /* rows written to a sink become visible within a fraction of a second */
        if (q->sink && q->unflushed && now_us() - q->last_flush_us > SINK_FLUSH_US) {
            if (sink_flush(q->sink) != 0)
                query_fail(q, "sink '%s': %s", q->plan->root->u.output.sink, sink_error(q->sink));
            q->unflushed = 0;
            q->last_flush_us = now_us();
        }
        /* the sink's transient problem (rows waiting for a broker) shows in
         * progress, like a source's */
        if (q->sink && now_us() - q->sink_warning_at_us > 100000) {
            q->sink_warning_at_us = now_us();
            const char *w = sink_warning(q->sink);
            pthread_mutex_lock(&q->error_lock);
            snprintf(q->sink_warning, sizeof q->sink_warning, "%s", w ? w : "");
            pthread_mutex_unlock(&q->error_lock);
        }
        if (q->progress_fn && !q->progress_threaded && now_us() >= next_progress) {
            QueryProgress p;
            query_progress(q, &p);
            q->progress_fn(q->progress_ctx, &p);
            next_progress += q->progress_interval_us;
        }
        /* a LIMIT reached in the last stage ends the query */
        if (progressed) {
            idle_rounds = 0;
            continue;
        }
        long ns = 20000L << (idle_rounds < 6 ? idle_rounds : 6);
        if (ns > 1000000) ns = 1000000;
        idle_rounds++;
        struct timespec ts = {0, ns};
        nanosleep(&ts, NULL);
    }
    int completed = ended == q->ncollect;
    free(ended_flags);
    atomic_store(&q->stop, 1);
    for (int i = 0; i < q->nworkers; i++)
        if (q->workers[i].started) pthread_join(q->workers[i].thread, NULL);
    /* the input is complete: a last checkpoint commits the output and
     * records that there is nothing left to read */
    if (completed && q->store && !atomic_load(&q->failed))
        checkpoint_commit(q, q->ckpt_inflight ? q->ckpt_inflight : atomic_load(&q->ckpt_epoch) + 1, 1);
    /* group mode without an exchange: the offsets of the last checkpoint go
     * to the group now (the tasks are stopped), before the sources leave it
     * — else the next owner of their partitions would read again what that
     * checkpoint wrote */
    for (int k = 0; k < q->ntasks; k++) source_set_stopping(q->tasks[k]->source);   /* brokers may be gone */
    for (int k = 0; !q->kx && q->plan->group && q->store && !atomic_load(&q->failed) && k < q->ntasks; k++) {
        Task   *t = q->tasks[k];
        int64_t e = atomic_load(&q->ckpt_epoch);
        if (t->source && e > t->acked_epoch) {
            t->acked_epoch = e;
            source_committed(t->source, e);
        }
    }
    /* group exchange: what the last checkpoint made durable goes to the
     * group now (the tasks are stopped): offsets and 'C' of stage 0, the
     * emitted watermarks of stage 1 */
    for (int k = 0; q->kx && q->store && !atomic_load(&q->failed) && k < q->ntasks; k++) {
        Task   *t = q->tasks[k];
        int64_t e = atomic_load(&q->ckpt_epoch);
        if (t->kxw && e > t->acked_epoch) kx_writer_committed(t, e, KX_STOP_FLUSH_MS);
        if (t->kxr) {   /* bounded: "kxwm max" tells the others it is all done */
            kx_reader_committed(t, e);
            int64_t until = now_us() + KX_RECORD_FINAL_US;
            while (t->kx_rec_due && now_us() < until && kx_record(t, 1) != 0)
                nanosleep(&(struct timespec){0, KX_RECORD_RETRY_US * 1000L}, NULL);
        }
    }
    if (q->sink && sink_flush(q->sink) != 0)
        query_fail(q, "sink '%s': %s", q->plan->root->u.output.sink, sink_error(q->sink));
    if (q->late_sink && sink_flush(q->late_sink) != 0) query_fail(q, "late sink: %s", sink_error(q->late_sink));
    if (q->sink) {   /* rows still waiting for a broker when the query ends are dropped at close: say so */
        const char *w = sink_warning(q->sink);
        if (w && *w) snprintf(q->end_notice, sizeof q->end_notice, "sink '%s': %s; they are dropped now",
                              q->plan->root->u.output.sink, w);
    }
    if (q->progress_threaded) {
        atomic_store(&q->progress_done, 1);
        pthread_join(q->progress_thread, NULL);
        q->progress_threaded = 0;
    }
    if (q->progress_fn) {
        QueryProgress p;
        query_progress(q, &p);
        q->progress_fn(q->progress_ctx, &p);
    }
    if (atomic_load(&q->failed)) {
        snprintf(err, cap, "%s", q->error);
        return -1;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void query_progress(Query *q, QueryProgress *p)
{
    memset(p, 0, sizeof *p);
    p->elapsed_us = q->start_us ? now_us() - q->start_us : 0;
    p->output_rows = atomic_load_explicit(&q->output_rows, memory_order_relaxed);
    p->watermark = WATERMARK_MAX;
    p->max_event_time = WATERMARK_MIN;
    p->nstages = q->plan->nstages;
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        if (t->source || t->values)   /* every source stage (a join has two) */
            p->input_rows += atomic_load_explicit(&t->rows_in, memory_order_relaxed);
        p->late_rows += atomic_load_explicit(&t->late_rows, memory_order_relaxed);
        p->replayed_rows += atomic_load_explicit(&t->kx_replayed, memory_order_relaxed);
        p->restored_groups += atomic_load_explicit(&t->kx_restored, memory_order_relaxed);
        p->replay_dropped += atomic_load_explicit(&t->kx_cldropped, memory_order_relaxed);
        if (q->plan->group) {
            snprintf(p->group, sizeof p->group, "%s", q->plan->group);
            int parts = atomic_load_explicit(&t->grp_parts, memory_order_relaxed);
            if (t->kxr) p->group_exchange_parts += parts;
            else if (t->source) p->group_source_parts += parts;
            p->group_held += atomic_load_explicit(&t->grp_held, memory_order_relaxed);
            p->group_unsteady += atomic_load_explicit(&t->grp_unsteady, memory_order_relaxed);
            p->group_ending += atomic_load_explicit(&t->grp_ending, memory_order_relaxed);
            p->group_assignments += atomic_load_explicit(&t->grp_assigns, memory_order_relaxed);
            p->group_revocations += atomic_load_explicit(&t->grp_revokes, memory_order_relaxed);
        }
        p->state_rows += atomic_load_explicit(&t->state_rows, memory_order_relaxed);
        p->state_bytes += atomic_load_explicit(&t->state_bytes, memory_order_relaxed);
        p->state_spilled_rows += atomic_load_explicit(&t->spilled, memory_order_relaxed);
        p->spill_writes += atomic_load_explicit(&t->spill_writes, memory_order_relaxed);
        int64_t mt = atomic_load_explicit(&t->max_ts_pub, memory_order_relaxed);
        if (mt > p->max_event_time) p->max_event_time = mt;
        if (t->stage == q->plan->nstages - 1) {
            int64_t w = atomic_load_explicit(&t->wm_pub, memory_order_relaxed);
            if (w < p->watermark) p->watermark = w;
        }
    }
    p->ntasks = q->ntasks;
    p->checkpoints_on = q->store != NULL;
    p->ckpt_epoch = atomic_load(&q->ckpt_epoch);
    p->ckpt_count = atomic_load(&q->ckpt_count);
    p->ckpt_duration_us = atomic_load(&q->ckpt_dur_us);
    p->ckpt_bytes = atomic_load(&q->ckpt_bytes);
    int64_t at = atomic_load(&q->ckpt_at_us);
    p->ckpt_age_us = at ? now_us() - at : -1;
    p->restored_epoch = q->restored_epoch;
    p->ckpt_skipped = atomic_load(&q->ckpt_skipped);
    p->group_record_failures = atomic_load(&q->kx_rec_fails);
    pthread_mutex_lock(&q->error_lock);   /* the source's, the sink's, the group's: those there are */
    const char *ws[3] = {q->warning, q->sink_warning, q->kx_warning};
    size_t      wn = 0;
    p->warning[0] = 0;
    for (int i = 0; i < 3; i++)
        if (ws[i][0] && wn < sizeof p->warning) {
            int k = snprintf(p->warning + wn, sizeof p->warning - wn, "%s%.120s", wn ? "; " : "", ws[i]);
            wn += k > 0 ? (size_t)k : 0;
        }
    pthread_mutex_unlock(&q->error_lock);
    p->latency_p50_us = p->latency_p99_us = -1;
    pthread_mutex_lock(&q->lat_lock);
    int      nlat = q->nlat;
    int64_t *s2 = q->lat && nlat > 0 ? malloc((size_t)nlat * sizeof *s2) : NULL;
    if (s2) memcpy(s2, q->lat, (size_t)nlat * sizeof *s2);
    pthread_mutex_unlock(&q->lat_lock);
    if (s2) {
        qsort(s2, (size_t)nlat, sizeof *s2, cmp_i64);
        p->latency_p50_us = s2[nlat / 2];
        p->latency_p99_us = s2[(int64_t)nlat * 99 / 100];
        p->latency_samples = nlat;
        free(s2);
    }
    for (int k = 0; k < q->ntasks; k++) {
        Task   *t = q->tasks[k];
        int64_t r = atomic_load_explicit(&t->rows_in, memory_order_relaxed);
        if (t->stage == q->plan->nstages - 1 && p->ntask_rows < 64) p->task_rows_in[p->ntask_rows++] = r;
        if (t->stage >= 16) continue;
        p->stage_rows_in[t->stage] += r;
        if (t->index < 64) p->stage_task_rows[t->stage][t->index] = r;
        p->stage_tasks[t->stage]++;
        p->stage_state_rows[t->stage] += atomic_load_explicit(&t->state_rows, memory_order_relaxed);
        p->stage_spilled_rows[t->stage] += atomic_load_explicit(&t->spilled, memory_order_relaxed);
        p->stage_spill_writes[t->stage] += atomic_load_explicit(&t->spill_writes, memory_order_relaxed);
        p->stage_busy_us[t->stage] += atomic_load_explicit(&t->busy_us, memory_order_relaxed);
        {
            const Stage *st = &q->plan->stages[t->stage];
            int          first = source_stage(st);
            if (first) p->stage_op_us[t->stage][0] += atomic_load_explicit(&t->source_ns, memory_order_relaxed) / 1000;
            for (int k = 0; k < t->nops && k + first < 16; k++)
                p->stage_op_us[t->stage][k + first] +=
                    atomic_load_explicit(&t->ops[k].busy_ns, memory_order_relaxed) / 1000;
        }
        for (int d = 0; d < t->nout; d++) {
            p->stage_rows_out[t->stage] += atomic_load_explicit(&t->out[d]->rows_sent, memory_order_relaxed);
            p->stage_bytes_out[t->stage] += atomic_load_explicit(&t->out[d]->bytes_sent, memory_order_relaxed);
        }
    }
    for (int i = 0; i < q->nworkers; i++) p->cpu_us += atomic_load_explicit(&q->workers[i].cpu_us, memory_order_relaxed);
    for (int i = 0; i < q->nchannels; i++) {
        p->shuffle_rows += atomic_load_explicit(&q->channels[i].rows_sent, memory_order_relaxed);
        p->shuffle_bytes += atomic_load_explicit(&q->channels[i].bytes_sent, memory_order_relaxed);
    }
}

int64_t query_bad_records(Query *q, char (*msgs)[256], int max, int *nmsgs)
{
    int64_t total = 0;
    *nmsgs = 0;
    for (int k = 0; k < q->ntasks; k++) {
        Task *t = q->tasks[k];
        if (!t->source) continue;
        SourceStats st;
        source_stats(t->source, &st);   /* workers have stopped: no other thread uses it */
        total += st.bad_records;
        for (int i = 0; i < st.nbad_msgs && *nmsgs < max; i++)
            snprintf(msgs[(*nmsgs)++], 256, "%s", st.bad_msgs[i]);
    }
    return total;
}

const char *query_end_notice(const Query *q)
{
    return q->end_notice;
}

void query_stop(Query *q)
{
    if (q->store) atomic_store(&q->stop_req, 1);   /* after a last checkpoint */
    else atomic_store(&q->stop, 1);
}

/* ---- EXPLAIN ANALYZE -------------------------------------------------------------- */

static void fmt_count(char *buf, size_t cap, int64_t v)
{
    if (v < 10000) snprintf(buf, cap, "%lld", (long long)v);
    else if (v < 1000000) snprintf(buf, cap, "%.1fk", (double)v / 1e3);
    else if (v < 1000000000LL) snprintf(buf, cap, "%.2fM", (double)v / 1e6);
    else snprintf(buf, cap, "%.1fG", (double)v / 1e9);
}

static void fmt_bytes(char *buf, size_t cap, int64_t v)
{
    if (v < 10 * 1024) snprintf(buf, cap, "%lld B", (long long)v);
    else if (v < 10LL * 1024 * 1024) snprintf(buf, cap, "%.1f KB", (double)v / 1024);
    else if (v < 10LL * 1024 * 1024 * 1024) snprintf(buf, cap, "%.1f MB", (double)v / (1024.0 * 1024));
    else snprintf(buf, cap, "%.1f GB", (double)v / (1024.0 * 1024 * 1024));
}

char *query_explain_analyze(const Plan *plan, const QueryProgress *p)
{
    char  notes[16][1024];
    const char *np[16] = {0};
    for (int s = 0; s < plan->nstages && s < 16; s++) {
        const Stage *st = &plan->stages[s];
        char in[32], out[32], state[32], bytes[32];
        fmt_count(in, sizeof in, p->stage_rows_in[s]);
        fmt_count(out, sizeof out, p->stage_rows_out[s]);
        fmt_count(state, sizeof state, p->stage_state_rows[s]);
        fmt_bytes(bytes, sizeof bytes, p->stage_bytes_out[s]);
        char spilled[128] = "";
        if (p->stage_spill_writes[s] > 0) {   /* state over state.memory went to disk */
            char sp[32], sw[32];
            fmt_count(sp, sizeof sp, p->stage_spilled_rows[s]);
            fmt_count(sw, sizeof sw, p->stage_spill_writes[s]);
            snprintf(spilled, sizeof spilled, " (%s spilled now, %s spills so far)", sp, sw);
        }
        int n = snprintf(notes[s], sizeof notes[s], "rows in %s · out %s%s%s%s · state %s rows%s", in, out,
                         st->out_exchange ? " (shuffled " : "", st->out_exchange ? bytes : "",
                         st->out_exchange ? ")" : "", state, spilled);
        /* time per operator, top-down as EXPLAIN lists them */
        for (int k = st->nops - 1; k >= 0 && n > 0 && (size_t)n < sizeof notes[s]; k--) {
            static const char *const kinds[] = {
                [PLAN_SCAN] = "Scan", [PLAN_VALUES] = "Values", [PLAN_FILTER] = "Filter",
                [PLAN_PROJECT] = "Project", [PLAN_WINDOW] = "Window", [PLAN_AGGREGATE] = "Aggregate",
                [PLAN_JOIN] = "Join", [PLAN_LIMIT] = "Limit"};
            PlanKind    kk = st->ops[k]->kind;
            const char *name = (size_t)kk < sizeof kinds / sizeof kinds[0] && kinds[kk] ? kinds[kk] : "?";
            n += snprintf(notes[s] + n, sizeof notes[s] - (size_t)n, "%s%s %.3f s",
                          k == st->nops - 1 ? "\ntime " : " · ", name,
                          k < 16 ? (double)p->stage_op_us[s][k] / 1e6 : 0.0);
        }
        int nt = p->stage_tasks[s] < 64 ? p->stage_tasks[s] : 64;
        if (nt > 1 && n > 0 && (size_t)n < sizeof notes[s]) {
            int64_t r[64], mx = 0;
            for (int i = 0; i < nt; i++) {
                r[i] = p->stage_task_rows[s][i];
                if (r[i] > mx) mx = r[i];
            }
            qsort(r, (size_t)nt, sizeof *r, cmp_i64);
            int64_t med = r[(nt - 1) / 2];
            char    mxs[32];
            fmt_count(mxs, sizeof mxs, mx);
            if (med > 0)
                snprintf(notes[s] + n, sizeof notes[s] - (size_t)n, "\nskew %.2f (max %s / median of %d tasks)%s",
                         (double)mx / (double)med, mxs, nt, (double)mx / (double)med > 2.0 ? " ← high" : "");
        }
        np[s] = notes[s];
    }
    return explain_text_notes(plan, np);
}

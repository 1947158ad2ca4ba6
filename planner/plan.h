/*
 * plan.h — logical and physical plans.
 *
 * A query becomes a tree of PlanNodes (logical plan), built by the binder
 * (bind.h), rewritten by the optimizer (optimize.h), then cut into stages at
 * its exchanges (physical plan). Every node has an output schema; every
 * expression in a node refers to its input's columns by index (exec/expr.h).
 *
 *   Sink/Output ← Limit ← Project ← Filter(HAVING) ← Aggregate ← Window ← Filter ← Scan
 *
 * Plans are immutable once planned: the runtime builds its own per-task
 * state for every node and never writes to the plan. All nodes, schemas,
 * expressions and strings of a plan live in its arena; plan_free releases
 * everything at once.
 */
#ifndef SLUICE_PLANNER_PLAN_H
#define SLUICE_PLANNER_PLAN_H

#include <stdint.h>

#include "exec/arena.h"
#include "exec/expr.h"
#include "exec/types.h"
#include "parser/ast.h"

/* ---- schemas -------------------------------------------------------------- */

typedef struct PlanColumn {
    const char *name;        /* output name: "user_id", "crashes", "window_start" */
    const char *qualifier;   /* stream name or alias it came from; NULL if none   */
    SqlType     type;
} PlanColumn;

typedef struct Schema {
    int         ncols;
    PlanColumn *cols;
} Schema;

/* ---- nodes ------------------------------------------------------------------ */

typedef enum PlanKind {
    PLAN_SCAN,        /* read a stream through its connector                  */
    PLAN_VALUES,      /* one row of no columns: SELECT without FROM           */
    PLAN_FILTER,      /* keep rows where pred is TRUE                         */
    PLAN_PROJECT,     /* compute exprs                                        */
    PLAN_WINDOW,      /* assign rows to windows: + window_start/_end/_time    */
    PLAN_AGGREGATE,   /* group by keys, compute aggregates                    */
    PLAN_JOIN,        /* window, interval or regular join                     */
    PLAN_LIMIT,       /* the first n rows, then the query ends                */
    PLAN_EXCHANGE,    /* repartition rows between stages                      */
    PLAN_OUTPUT       /* the root: a sink, or the console for a SELECT        */
} PlanKind;

typedef enum WindowKind { WINDOW_TUMBLE, WINDOW_HOP, WINDOW_SESSION, WINDOW_CUMULATE } WindowKind;

typedef enum AggKind {
    AGG_COUNT_STAR,
    AGG_COUNT,
    AGG_COUNT_DISTINCT,
    AGG_SUM,
    AGG_AVG,
    AGG_MIN,
    AGG_MAX,
    AGG_APPROX_COUNT_DISTINCT
} AggKind;

typedef enum AggMode {
    AGG_SIMPLE,    /* one phase: input rows in, results out        */
    AGG_PARTIAL,   /* rows in, partial states out (a combiner)     */
    AGG_FINAL      /* partial states in, results out               */
} AggMode;

typedef enum EmitMode {
    EMIT_MODE_APPEND,    /* no aggregation: every row is final as it comes  */
    EMIT_MODE_FINAL,     /* one row per window and key when the window ends */
    EMIT_MODE_CHANGES    /* updated rows as aggregates change               */
} EmitMode;

typedef enum JoinKind { PJOIN_INNER, PJOIN_LEFT, PJOIN_RIGHT, PJOIN_FULL } JoinKind;
typedef enum JoinFlavor { JOIN_WINDOW, JOIN_INTERVAL, JOIN_REGULAR } JoinFlavor;

typedef enum Partitioning {
    PART_HASH,      /* by the hash of key columns                         */
    PART_SINGLE,    /* everything to one task                             */
    PART_FORWARD,   /* task i to task i (no shuffle; not shown as a stage cut) */
    PART_BROADCAST  /* every row to every task (a group's table side of a join) */
} Partitioning;

typedef struct AggCall {
    AggKind     kind;
    int         arg;      /* input column of the argument, -1 for COUNT(*)         */
    int         filter;   /* input BOOLEAN column of FILTER (WHERE …), -1 none     */
    SqlType     type;     /* result type                                           */
    const char *name;     /* output column name                                    */
    const char *text;     /* as written, for EXPLAIN: "COUNT(*)", "SUM(bytes)"     */
} AggCall;

typedef struct PlanNode PlanNode;

struct PlanNode {
    PlanKind  kind;
    Schema    out;            /* output schema                                     */
    PlanNode *input;          /* single input (NULL for SCAN/VALUES)               */
    PlanNode *right;          /* JOIN: the right input                             */
    int       id;             /* unique within the plan, for EXPLAIN and state     */
    int       stage;          /* physical plan: the stage this node runs in        */

    union {
        struct {              /* PLAN_SCAN */
            const char  *stream;        /* catalog name                            */
            const char  *alias;         /* FROM alias or NULL                      */
            const char  *connector;     /* kafka, file, logs, …                    */
            const char  *format;        /* json, csv, or NULL                      */
            int          nopts;
            const char **opt_keys;      /* connector options (copied)              */
            const char **opt_values;
            int          nsource_cols;  /* columns the stream declares             */
            const PlanColumn *source_cols;
            int         *proj;          /* out column i = source column proj[i]    */
            Expr        *filter;        /* pushed-down predicate over out, or NULL */
            int          wm_col;        /* out column with the watermark, -1 none  */
            int64_t      wm_delay_us;
        } scan;
        struct {              /* PLAN_FILTER */
            Expr *pred;
        } filter;
        struct {              /* PLAN_PROJECT */
            Expr **exprs;               /* out.ncols of them                      */
        } project;
        struct {              /* PLAN_WINDOW: out = input columns + start, end, time */
            WindowKind kind;
            int        time_col;        /* input TIMESTAMP column                 */
            int64_t    size_us;         /* TUMBLE/HOP/CUMULATE size               */
            int64_t    slide_us;        /* HOP slide, CUMULATE step               */
            int64_t    gap_us;          /* SESSION gap                            */
            int        nkeys;           /* SESSION: per-key sessions on these     */
            int       *keys;            /* input columns                          */
        } window;
        struct {              /* PLAN_AGGREGATE: out = keys, then one column per agg */
            AggMode    mode;
            int        nkeys;
            int       *keys;            /* input columns                          */
            int        naggs;
            AggCall   *aggs;
            int        windowed;        /* keys include a window                  */
            int        wstart_key;      /* index into keys of window_start, or -1 */
            int        wend_key;        /* index into keys of window_end, or -1   */
            WindowKind wkind;
            EmitMode   emit;
            int        retract;         /* its input is a changelog: -U/-D rows retract */
            int        update_before;   /* emits -U (old values) before each +U, for an
                                           aggregate above that retracts           */
            /* 'late.sink' of the source stream: late rows go to this sink
             * (the aggregate then runs in one phase, on raw rows) */
            const char  *late_sink;
            const char  *late_connector, *late_format;
            int          late_nopts;
            const char **late_keys, **late_values;
        } agg;
        struct {              /* PLAN_JOIN: out = left columns, then right columns */
            JoinKind   kind;
            JoinFlavor flavor;
            int        nkeys;
            int       *lkeys, *rkeys;   /* equi-join key columns                  */
            Expr      *residual;        /* rest of ON over out, or NULL           */
            int        ltime, rtime;    /* INTERVAL: time columns; WINDOW: the
                                           window_end columns; else -1            */
            int64_t    lower_us, upper_us;  /* l.t BETWEEN r.t + lower AND r.t + upper */
            int        table;           /* deployment.group: 1 the right side, 2 the left
                                           one, is a bounded table that every instance
                                           reads whole (a broadcast exchange), and every
                                           join task has it all before the other side's
                                           first row (plan_join_table); 0 none        */
            int        table_topic;     /* that table is a Kafka topic: updates keyed by
                                           the join keys, the last row per key is the
                                           table (a compacted topic, as ksqlDB's);
                                           2: followed, updated while the query runs  */
        } join;
        struct {              /* PLAN_LIMIT */
            int64_t n;
        } limit;
        struct {              /* PLAN_EXCHANGE */
            Partitioning part;
            int          nkeys;
            int         *keys;          /* input columns to hash                  */
        } exchange;
        struct {              /* PLAN_OUTPUT */
            const char *sink;           /* sink name, or NULL for the console     */
            const char *connector;
            const char *format;
            int         nopts;
            const char **opt_keys;
            const char **opt_values;
        } output;
    } u;
};

/* ---- physical plan: stages ------------------------------------------------- */

typedef struct Stage {
    int        id;
    int        parallelism;
    int        nops;
    PlanNode **ops;          /* bottom-up: ops[0] reads the stage's input       */
    int        ninputs;
    int        inputs[2];    /* stages feeding this one through exchanges, or -1 */
    PlanNode  *in_exchange[2];   /* the exchange nodes feeding this stage       */
    PlanNode  *out_exchange; /* the exchange this stage writes, NULL for the last */
    int        downstream;   /* the stage it feeds, -1 for the last             */
} Stage;

typedef struct Plan {
    Arena       arena;
    PlanNode   *root;        /* PLAN_OUTPUT                                      */
    const char *sql;         /* the statement as normalized SQL                  */
    EmitMode    emit;
    int         nnodes;
    int         nstages;
    Stage      *stages;      /* stages[nstages-1] is the last (writes the output) */
    int         parallelism;
    const char *group;       /* deployment.group, NULL when single-instance       */
    int         group_partitions; /* deployment.partitions: of each repartition topic */
} Plan;

/* Columns of partial state an aggregate passes from AGG_PARTIAL to AGG_FINAL
 * (AVG: sum and count; the others: one). */
int agg_partial_width(AggKind k);

const char *plan_kind_name(PlanKind k);
const char *agg_kind_name(AggKind k);      /* "COUNT", …          */
const char *window_kind_name(WindowKind k);/* "TUMBLE", …         */

/* 1 when n is a bounded table: stateless operators (filters, projections)
 * over a 'file' scan without follow or VALUES — input that ends, which
 * every instance of a group can read whole; 2 when it is a 'kafka' scan
 * declared a table ('table' = 'true': read from the earliest offset to the
 * end at its start, its last record per key counting); 3 when that table
 * is followed ('table.follow' = 'true': read on past that end, a later
 * record updating the table while the query runs). */
int plan_bounded_table(const PlanNode *n);

/* deployment.group: the stage that writes the repartition topic between
 * instances — the stage reading the Kafka source, whose hash exchange feeds
 * a windowed aggregation, or the left side of a window join of two Kafka
 * streams (docs/scaling.md); its downstream stage reads it. The topic is
 * named after it. NULL when every exchange stays within an instance (a
 * join's table) or there is none. */
const Stage *plan_group_topic(const Plan *p);

/* The stage that writes side `side` (0 left, 1 right) of a window or
 * interval join of two streams into the same repartition topic (both sides' rows share it,
 * each tagged with its side); side 0 is plan_group_topic's. NULL when the
 * topic feeds no such join (side 1) or there is no topic. */
const Stage *plan_group_topic_side(const Plan *p, int side);

/* deployment.group: whether aggregate n's state goes to a changelog topic
 * (docs/scaling.md) rather than being rebuilt from the repartition topic:
 * the final half of an aggregation that emits changes (unwindowed, or
 * TUMBLE, HOP, CUMULATE or SESSION windows), or of session windows that
 * emit final rows (a session has no end a replay could start after). Not
 * one that takes changes or has a late sink (planner_check_group refuses
 * those). */
int plan_agg_changelog(const PlanNode *n);

/* How far the watermark after join n lags its inputs': a pair comes out
 * when its second row does, so an interval join's pair can lie
 * max(-lower, upper) behind both (0 for any other join; a regular join's
 * state.ttl is a setting, added by the runtime). */
int64_t plan_interval_lag(const PlanNode *n);

/* deployment.group: the join of two streams whose rows aggregate `agg`
 * aggregates in the join's own tasks, or NULL. agg is then a one-phase
 * windowed aggregate (the join key among its group keys, so no exchange
 * between) whose windows close with the join's finality: by a window
 * join's own window_end, or by TUMBLE, HOP or CUMULATE windows of an
 * interval join's left time (the join's watermark column). Only projections and filters lie
 * between. */
const PlanNode *plan_agg_of_join(const PlanNode *agg);
/* The aggregate of plan p that aggregates join's rows so (plan_agg_of_join), or NULL. */
const PlanNode *plan_join_aggregate(const Plan *p, const PlanNode *join);

/* Which input of join n is a table read whole before the other's first row
 * (join.table) — 1 the right, 2 the left, 0 neither: a regular join with
 * that side plan_bounded_table and the other not, and the table not a
 * preserved side (INNER, LEFT with the table right, RIGHT with it left: an
 * unmatched table row would need every instance's stream); and in group
 * mode any such table, else only a Kafka one ('table' = 'true', whose
 * meaning needs it). *topic: 1 when it is a Kafka table, 2 a followed one
 * (join.table_topic). */
int plan_join_table(const PlanNode *n, int group, int *topic);

/* 1 when stage st reads a join's table: it writes a broadcast exchange. */
int plan_stage_table(const Stage *st);

void plan_free(Plan *p);

#endif

/*
 * agg.h — the hash aggregate: GROUP BY with windows, in one or two phases.
 *
 *   AggOp *op = agg_op_new(&spec, why, sizeof why);
 *   Batch out; SqlType t[...]; batch_init(&out, agg_op_output_types(op, t), t, 0);
 *   for each input batch b:     agg_op_push(op, b);
 *   on a watermark wm:          do { n = agg_op_advance(op, wm, &out, &more); … } while (more);
 *   every emit.interval (EMIT CHANGES):  do { agg_op_changes(op, &out, &more); … } while (more);
 *   PARTIAL after a burst, or end of input:  do { agg_op_flush(op, &out, &more); … } while (more);
 *   agg_op_free(op);
 *
 * Phases (plan.h's AggMode):
 *   AGG_PHASE_SIMPLE   rows in, results out
 *   AGG_PHASE_PARTIAL  rows in, partial states out (the combiner before an exchange)
 *   AGG_PHASE_FINAL    partial states in (the PARTIAL output schema), results out
 * PARTIAL followed by FINAL gives what SIMPLE gives on the same rows, however
 * the rows are split between partial operators and bursts (up to the rounding
 * of DOUBLE sums, which depends on the order of additions, and the SUM
 * overflow rule below).
 *
 * Aggregates (NULL inputs are skipped; FILTER (WHERE f) counts a row only
 * when f is TRUE — FALSE and NULL skip it):
 *
 *   fn                     argument            result   partial state columns
 *   COUNT(*)               —                   BIGINT   BIGINT count
 *   COUNT(x)               any                 BIGINT   BIGINT count
 *   COUNT(DISTINCT x)      any but NULL        BIGINT   VARCHAR distinct-set blob (below)
 *   SUM(x)                 BIGINT, INTERVAL,   = arg    = arg (the sum)
 *                          DOUBLE
 *   AVG(x)                 BIGINT, DOUBLE      DOUBLE   DOUBLE sum, BIGINT count
 *   MIN(x), MAX(x)         any but NULL        = arg    = arg
 *   APPROX_COUNT_DISTINCT  any but NULL        BIGINT   VARCHAR HyperLogLog blob (hll.h)
 *
 *   With no non-NULL input, COUNT, COUNT(DISTINCT) and APPROX_COUNT_DISTINCT
 *   are 0; SUM, AVG, MIN and MAX are NULL (and so are their partial columns,
 *   but for AVG, whose partial is sum 0.0, count 0).
 *
 *   SUM over BIGINT/INTERVAL is exact: it adds in 128 bits and is NULL when
 *   the total does not fit in (INT64_MIN, INT64_MAX] — INT64_MIN itself
 *   counts as an overflow, because the partial state uses it to say
 *   "overflowed" (FINAL then gives NULL: overflow is sticky across phases,
 *   so a partial sum that overflows makes the result NULL even if other
 *   partials would bring the total back in range). DOUBLE SUM/AVG follow
 *   IEEE 754. AVG(BIGINT) accumulates in DOUBLE. MIN/MAX order DOUBLE with
 *   NaN above every number (PostgreSQL), VARCHAR byte-wise (str_cmp),
 *   BOOLEAN false < true. Groups compare DOUBLE keys with -0.0 = 0.0 and
 *   all NaNs equal (hash.h); a -0.0 key is output as 0.0.
 *
 *   COUNT(DISTINCT x) blob (binary VARCHAR): byte 0 the SqlType code of x,
 *   then a varint n (LEB128) and n distinct values:
 *     BIGINT/TIMESTAMP/INTERVAL  ascending; the first as a zigzag varint,
 *                                each next as the varint of its (unsigned,
 *                                >= 1) difference to the previous one
 *     DOUBLE                     8 bytes each, little-endian bit pattern,
 *                                canonical (-0.0 as 0.0, one NaN)
 *     BOOLEAN                    1 byte each (0 or 1)
 *     VARCHAR                    varint length, then the bytes, each
 *   A FINAL unions the sets it receives; a malformed blob, or blobs of two
 *   types in one group, fail agg_op_push.
 *
 * Windows (wstart_key / wend_key >= 0). Two of the keys are window_start and
 * window_end (TIMESTAMP or any int64 type); a group is final when the
 * watermark reaches its window_end: agg_op_advance(wm) emits every group with
 * window_end <= wm and frees its state. A row whose window_end <= the largest
 * watermark advanced to so far (or whose window_end is NULL) is late: dropped
 * and counted (agg_op_late_rows; so are session rows with a NULL
 * window_start or window_start > window_end). Watermarks only move forward:
 * a smaller one than before is ignored (but still emits what is due).
 *
 * Sessions (session = 1, with wstart_key / wend_key): each input row brings
 * an interval [window_start, window_end) — a proto-window [ts, ts + gap)
 * from the window operator, or a partial session in FINAL. Rows with equal
 * other keys whose intervals overlap or touch (a.start <= b.end and
 * b.start <= a.end, as Flink) are one session; a row that bridges two
 * sessions merges them. A session is final, emitted and freed when the
 * watermark reaches its end. A row whose end <= the watermark is late; a
 * row that only touches an already emitted session starts a new one.
 * window_time must not be one of the keys of a session aggregate (its value
 * would change as sessions merge).
 *
 * Output. Each emitting call resets `out` (a batch initialized with the types
 * of agg_op_output_types, any capacity), writes up to out->capacity rows
 * (dense, no selection, strings copied into out's arena) and returns how
 * many; *more = 1 says rows are still pending: call the same function again
 * (before the next push) until *more = 0. Groups are emitted in an
 * unspecified order. Columns: the keys in spec order, then per aggregate its
 * result (SIMPLE/FINAL) or its partial state columns (PARTIAL).
 *
 * EMIT CHANGES (spec.emit_changes, SIMPLE or FINAL): every output row — of
 * agg_op_changes, agg_op_advance and agg_op_flush alike — starts with a
 * BIGINT column `op`, then the keys and results as above:
 *   AGG_ROW_INSERT (0, "+I")  the first emission of the group
 *   AGG_ROW_UPDATE (1, "+U")  the group's new value; replaces its last row
 *   AGG_ROW_DELETE (2, "-D")  retracts an emitted row: the keys of the row
 *                             to retract (a session's old bounds), every
 *                             aggregate column NULL. Only sessions produce
 *                             it: when a session emitted earlier grows (its
 *                             window_start/window_end change: -D old, +I
 *                             new) or is merged into another one.
 * agg_op_changes emits every group changed since the last emission;
 * agg_op_advance then emits, for the windows it closes, only the changes
 * not yet emitted (so nothing is repeated and nothing lost) before freeing
 * them; agg_op_flush likewise for everything. With sessions the output
 * batch needs room for 2 rows (a -D/+I pair is never split across calls).
 *
 * flush emits every group (in changes mode: every pending change) and clears
 * the state; it does not move the watermark (a PARTIAL that flushes after
 * each burst sees later rows for the same windows as ordinary rows). In
 * SIMPLE/FINAL, a flush of a non-windowed aggregate without keys and
 * without groups emits one row (COUNT 0, the others NULL), as batch SQL's
 * SELECT COUNT(*) of an empty table.
 *
 * Memory. Groups live in open-addressing hash tables with their aggregate
 * states laid out flat; a windowed aggregate keeps one table per window_end,
 * so closing a window frees exactly its table (kept for reuse, up to a few,
 * and not counted in agg_op_state_bytes). Per push nothing is allocated but
 * table growth. See exec/README.md ("Window assignment and the hash
 * aggregate").
 *
 * Errors are values: agg_op_new returns NULL with a reason in why (snprintf
 * rules); the other calls return -1 with agg_op_error() set. After a failed
 * push (out of memory, a batch that does not match the spec, a malformed
 * partial state) part of the batch may have been aggregated.
 *
 * Ownership: agg_op_new copies the spec's arrays; the op owns all its state.
 * Emitted rows belong to `out`. One op per task: not thread-safe.
 */
#ifndef SLUICE_EXEC_AGG_H
#define SLUICE_EXEC_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "exec/batch.h"
#include "exec/types.h"

typedef enum AggFn {
    AGGFN_COUNT_STAR,
    AGGFN_COUNT,
    AGGFN_COUNT_DISTINCT,
    AGGFN_SUM,
    AGGFN_AVG,
    AGGFN_MIN,
    AGGFN_MAX,
    AGGFN_APPROX_COUNT_DISTINCT
} AggFn;

typedef enum AggPhase { AGG_PHASE_SIMPLE, AGG_PHASE_PARTIAL, AGG_PHASE_FINAL } AggPhase;

/* the `op` column of EMIT CHANGES output */
#define AGG_ROW_INSERT 0
#define AGG_ROW_UPDATE 1
#define AGG_ROW_DELETE 2

typedef struct AggColSpec {
    AggFn   fn;
    int     arg;        /* SIMPLE/PARTIAL: input column of the argument (-1 for
                           COUNT(*)); FINAL: the first input column of this
                           aggregate's partial state                           */
    int     filter;     /* input BOOLEAN column of FILTER (WHERE …), -1 none;
                           SIMPLE/PARTIAL only                                 */
    SqlType arg_type;   /* SIMPLE/PARTIAL: the argument's type (TYPE_NULL: take
                           input_types[arg]); FINAL: ignored                   */
    SqlType out_type;   /* result type (TYPE_NULL: derive); checked            */
} AggColSpec;

typedef struct AggOpSpec {
    AggPhase          phase;
    int               ninput;
    const SqlType    *input_types;
    int               nkeys;         /* <= 64                                   */
    const int        *keys;          /* input columns of the group keys         */
    int               naggs;
    const AggColSpec *aggs;
    int               wstart_key;    /* index INTO keys of window_start, -1 none */
    int               wend_key;      /* index INTO keys of window_end, -1 none   */
    int               session;       /* session windows (needs both keys above)  */
    int               emit_changes;  /* EMIT CHANGES layout (SIMPLE/FINAL only)  */
} AggOpSpec;

typedef struct AggOp AggOp;

AggOp  *agg_op_new(const AggOpSpec *spec, char *why, size_t cap);
void    agg_op_free(AggOp *op);                               /* NULL allowed */

/* Accumulate the live rows of in (a batch of spec->input_types). 0 or -1. */
int     agg_op_push(AggOp *op, const Batch *in);

/* Windowed: emit and free every group whose window_end <= watermark_us
 * (see above); non-windowed: emits nothing. Rows emitted, or -1. */
int     agg_op_advance(AggOp *op, int64_t watermark_us, Batch *out, int *more);

/* Emit every group (changes mode: every pending change) and clear. */
int     agg_op_flush(AggOp *op, Batch *out, int *more);

/* EMIT CHANGES: emit every group changed since the last emission. -1 when
 * the spec has no emit_changes. */
int     agg_op_changes(AggOp *op, Batch *out, int *more);

/* The output schema into types (room for 1 + nkeys + 2 * naggs entries);
 * returns the number of columns. */
int     agg_op_output_types(const AggOp *op, SqlType *types);

int64_t agg_op_groups(const AggOp *op);        /* live groups / sessions      */
int64_t agg_op_late_rows(const AggOp *op);     /* dropped as late             */
size_t  agg_op_state_bytes(const AggOp *op);   /* memory of live state        */
size_t  agg_op_reserved_bytes(const AggOp *op);/* all memory held, pools incl. */
const char *agg_op_error(const AggOp *op);     /* why the last call failed    */

/* Debug: verify the internal invariants (every group reachable from its
 * hash slot, windows ordered, the session heap ordered, each key's
 * sessions sorted and disjoint, reference counts). O(state); for tests.
 * 0, or -1 with the broken invariant in agg_op_error(). */
int     agg_op_check(AggOp *op);

#endif

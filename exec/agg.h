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
 *   SUM(x)                 BIGINT, INTERVAL,   = arg    = arg (the sum); with retract
 *                          DOUBLE                       also BIGINT count of non-NULL x
 *   AVG(x)                 BIGINT, DOUBLE      DOUBLE   DOUBLE sum, BIGINT count
 *   MIN(x), MAX(x)         any but NULL        = arg    = arg
 *   APPROX_COUNT_DISTINCT  any but NULL        BIGINT   VARCHAR HyperLogLog blob (hll.h)
 *   (retract only)         —                   —        BIGINT live rows, after the
 *                                                       last aggregate's columns
 *
 *   With no non-NULL input, COUNT, COUNT(DISTINCT) and APPROX_COUNT_DISTINCT
 *   are 0; SUM, AVG, MIN and MAX are NULL (and so are their partial columns,
 *   but for AVG, whose partial is sum 0.0, count 0, and, with retract, SUM,
 *   whose partial is 0, count 0: partial columns are then never NULL).
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
 *                             aggregate column NULL (with update_before:
 *                             the values last emitted). Sessions produce
 *                             it when a session emitted earlier grows (its
 *                             window_start/window_end change: -D old, +I
 *                             new) or is merged into another one; retract
 *                             when a group's rows are all retracted.
 * agg_op_changes emits every group changed since the last emission;
 * agg_op_advance then emits, for the windows it closes, only the changes
 * not yet emitted (so nothing is repeated and nothing lost) before freeing
 * them; agg_op_flush likewise for everything. With sessions the output
 * batch needs room for 2 rows (a -D/+I pair is never split across calls).
 *
 * UPDATE_BEFORE (spec.update_before, with emit_changes; not with sessions):
 * the op keeps, per group, the aggregate results it last emitted (an
 * owned copy: VARCHAR MIN/MAX bytes in the group's arena; nothing is kept
 * when update_before is off). Every +U is then immediately preceded, in
 * the same output batch (never split across calls: the batch needs room
 * for 2 rows), by
 *   AGG_ROW_UPDATE_BEFORE (3, "-U")  the row the +U replaces: the group's
 *                             keys and the results exactly as last emitted
 * and a -D (a group removed under retract, below) carries the last emitted
 * results instead of NULLs. A consumer that applies the changelog
 * (+I/+U: set the row, -U/-D: remove it) always holds the current groups.
 *
 * RETRACTIONS (spec.retract; SIMPLE, PARTIAL or FINAL; not with sessions):
 * the input is a changelog — the output of an aggregate with EMIT CHANGES
 * and update_before, or of an outer join. SIMPLE/PARTIAL: agg_op_push
 * reads in->ops (batch.h; NULL = all inserts): +I and +U rows accumulate,
 * -U and -D rows retract: COUNT(*) and COUNT(x) decrement, SUM subtracts
 * (exact 128-bit, see below), AVG subtracts from its sum and its count.
 * FINAL ignores in->ops: partial states are signed and merge additively.
 * MIN, MAX, COUNT(DISTINCT) and APPROX_COUNT_DISTINCT cannot take
 * retractions: agg_op_new refuses them. Without retract, in->ops is
 * ignored (every row is an insert), as before.
 *   Every group keeps a hidden count of live input rows (+1 per +I/+U,
 * -1 per -U/-D; FINAL adds the partial counts). SIMPLE/FINAL: when it is
 * 0 after a push, the group is removed: in changes mode, if it had been
 * emitted, the next emission (changes, advance or flush) emits a -D of its
 * last emitted row (keys; results NULL, or the last emitted results with
 * update_before) — unless rows bring it back first, which is then an
 * ordinary +U; a group never emitted, and every group in final mode,
 * disappears silently (a window whose groups all vanished emits nothing
 * for them). A count that would go below 0 (a -U/-D for a row never
 * inserted: a group that does not exist, or more retractions than
 * inserts) is an error: agg_op_push fails with "retraction of a row that
 * was never inserted" (the group is left as is; the op must be discarded,
 * as after any failed push). PARTIAL keeps every group, with any sign of
 * count (a partial may see the retraction of a row another partial got),
 * and emits them all.
 *   SUM under retract is NULL when its count of live non-NULL inputs is 0
 * (the count is kept per SUM; FINAL gets it from the partial state).
 * Overflow: a SIMPLE sum is exact in 128 bits both ways, so a total that
 * leaves the int64 range (NULL) and comes back is right again; across
 * phases, a partial sum that overflowed arrives as INT64_MIN with its
 * exact value lost, so FINAL marks the group's SUM overflowed (NULL) and
 * that stays sticky under later retractions — until the group is removed
 * (hidden count 0), which forgets it. AVG(BIGINT) under retraction
 * subtracts in DOUBLE (rounding can leave a residue in the sum until the
 * group is removed).
 *   Partial layout with retract: SUM has two partial columns (the sum,
 *   then BIGINT count of non-NULL inputs), and one BIGINT column is added
 *   after the last aggregate's: the hidden row count. FINAL reads that
 *   count from its LAST input column (the PARTIAL schema's last).
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
 * Checkpoints (agg_op_snapshot / agg_op_restore). The op describes its state
 * as chunks — (key, value) byte strings the runtime stores in an ordered
 * key-value store (LevelDB) — and reports, at each checkpoint, only the
 * chunks that changed since the previous one (puts) and the chunks that
 * disappeared (deletes), so the store always holds exactly the live chunks
 * and a checkpoint costs what changed, not what exists. Chunks:
 *
 *   key                                value
 *   "M"                                meta: watermark (set or not), late rows
 *   "G" bucket                         non-windowed groups of one hash bucket
 *   "W" be64(window_end ^ 2^63) bucket the groups of one window and bucket
 *   "S" bucket                         the session keys of one bucket with all
 *                                      their sessions and pending retractions
 *
 * bucket is one byte, the top 6 bits of the group's key hash (64 buckets per
 * table; with spec.snap_parts = P, the partition ((h >> 32) * P) >> 32 a
 * hash exchange of P partitions sends the keys to: P buckets), so one chunk holds about 1/64 of a table: a chunk stays small
 * compared to the state (with millions of keys, the state is spread over
 * 64 chunks; window keys sort by window_end). Every value starts with a
 * format version (2), the chunk kind and a 64-bit fingerprint of the spec
 * (phase, input types, keys, aggregates, windows, sessions, EMIT CHANGES,
 * update_before, retract; version 1 chunks, which lack the last two, still
 * load into an op that has neither: their encoding is the same),
 * then a compact binary encoding: varint counts, zigzag varints for
 * integers, DOUBLEs as their 8 bytes (NaN payloads and -0.0 kept), strings
 * as length + bytes; per group its EMIT CHANGES flags (changed since the
 * last emission, emitted before), its key values and each aggregate's full
 * state (a SUM's 128-bit accumulator and overflow flag, AVG's sum and count,
 * MIN/MAX values, COUNT(DISTINCT) sets, HLL registers; with retract each
 * SUM's count of non-NULL inputs and the group's live-row count); with
 * update_before, for an emitted group, the values it was last emitted
 * with; per session also its bounds and the bounds it was last emitted with. Restoring rebuilds
 * identical states (the same output, bit for bit, for the same later input,
 * up to emission order).
 *
 * The push path only sets one bit per (table, bucket) a row touches (and
 * emission one per group it marks emitted), so tracking costs nothing
 * measurable; closing a window turns its stored buckets into deletes.
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
#define AGG_ROW_UPDATE_BEFORE 3   /* "-U": with update_before, before each +U */

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
    int               update_before; /* with emit_changes: -U before every +U,
                                        -D with the retracted values (below)   */
    int               retract;       /* the input is a changelog: honour -U/-D
                                        rows (below); not with sessions       */
    int               snap_parts;    /* checkpoint buckets, 1 … 64: a group's
                                        bucket is the partition a hash exchange
                                        of that many partitions sends its keys
                                        to ((h >> 32) * P >> 32); 0 = 64 (the
                                        top 6 bits). With sessions, the hash
                                        of the keys other than the window's. */
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
size_t  agg_op_state_bytes(const AggOp *op);   /* memory of live state (not the
                                                  spill filters: reserved)    */
size_t  agg_op_reserved_bytes(const AggOp *op);/* all memory held, pools incl. */
const char *agg_op_error(const AggOp *op);     /* why the last call failed    */

/* ---- checkpoints ---- */
typedef int (*AggChunkFn)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
/* Describe the op's state as chunks. Emits fn(key, val) for every chunk that changed since the
 * last agg_op_snapshot/agg_op_restore (every live chunk when full != 0 or on the first call), and
 * fn(key, NULL, 0) for every chunk that existed at the last snapshot and is gone now (a closed
 * window, a group set that became empty). Keys are short byte strings, unique within the op.
 * Call only between calls, with no emission pending (*more was 0). Does not change what the op
 * will emit later. fn returning non-zero stops and makes agg_op_snapshot return -1. 0 or -1.
 *
 * key and val are valid during the call only (val points into a buffer the op reuses). A
 * chunk is reported at most once per call; apply the calls in order (a later snapshot's put
 * of a key overrides an earlier delete). After -1 (fn refused, out of memory, emission
 * pending) the op's checkpoint bookkeeping is unchanged: the next call reports everything
 * this one would have, and more. Cost: one pass over the group headers of each table
 * (or the session key table) with a changed bucket, plus encoding the changed buckets;
 * tables without changes cost nothing; a full snapshot is O(state). */
int agg_op_snapshot(AggOp *op, int full, AggChunkFn fn, void *ctx);
/* Load one chunk produced by agg_op_snapshot of an op with the SAME spec into a new op, before
 * any push; chunks may come in any order (LevelDB returns them in key order). After all chunks
 * are loaded the op behaves exactly as the snapshotted op did at snapshot time: same groups and
 * aggregate states, same watermark (largest advanced to), same late-row count, same EMIT CHANGES
 * bookkeeping (which groups were already emitted, which changes are pending), same sessions.
 * A malformed chunk (truncated, wrong version, does not match the spec) → -1 with agg_op_error()
 * saying what is wrong; never a crash or a silently wrong state. 0 or -1.
 *
 * Also -1: a chunk loaded twice (a group or session key already present, a second meta), a
 * window or session that the restored watermark has already closed, sessions of one key that
 * overlap, a call after a push. After -1 the op is unusable: every later call but
 * agg_op_free, agg_op_error and the counters fails (free it and report the state as
 * corrupt). The chunks loaded count as the op's last snapshot: the next agg_op_snapshot
 * reports only later changes. Chunks are validated one by one; a missing chunk cannot be
 * detected (the store's write batches are atomic, so a complete checkpoint is all or none). */
int agg_op_restore(AggOp *op, const void *key, size_t klen, const void *val, size_t vlen);

/* ---- spilling: state larger than memory ----
 * A SIMPLE or FINAL aggregate without sessions can move groups out of memory
 * (evict) into a key-value store the runtime owns, and take them back when
 * a row needs them (fetch) or their window closes (drain). The op does no
 * I/O itself: the runtime passes the callbacks that do.
 *
 * A spilled group is one (gkey, value) pair:
 *   gkey  = the table prefix — "G" for a non-windowed aggregate, "W" and
 *           be64(window_end ^ 2^63) for a window's — then the group's key
 *           in the checkpoint encoding (prefix-free: no gkey is a prefix of
 *           another one of the same op)
 *   value = version byte, then the group as a checkpoint chunk holds it
 *           (flags, key, aggregate states, last emitted results)
 * While a group is spilled the op keeps for its table a count and a bloom
 * filter of the spilled keys (about 1.5 bytes per spilled group), so a row
 * of a group that was never spilled costs no store lookup (but for the
 * filter's ~1% false positives).
 *
 * Which groups: a table's groups in row order, the tables of the oldest
 * windows first (the next to close, and the least likely to get rows);
 * EMIT CHANGES groups with a change not yet emitted are never evicted (nor
 * anything while an emission is pending). A table that lost groups is
 * rebuilt at its new size, so the memory really goes back (amortized: a
 * rebuild costs what the table holds and happens after evicting >= half).
 *
 * Checkpoints: evicting or taking back a group marks its checkpoint bucket
 * changed, so agg_op_snapshot's chunks hold exactly the groups in memory;
 * the runtime keeps the spilled ones (runtime/spill.h) and gives them back
 * after agg_op_restore with agg_op_spill_register.
 */
typedef int (*AggSpillGetFn)(void *ctx, const void *gkey, size_t klen, const void **val, size_t *vlen);

/* Evict groups until agg_op_state_bytes(op) <= target (or nothing more can
 * go): put(ctx, gkey, klen, value, vlen) for each (the pointers are valid
 * during the call only; put returning non-zero stops with -1). Returns the
 * number of groups evicted (0: none could go — sessions, PARTIAL, or every
 * group has a pending change), or -1 with agg_op_error(). */
int64_t agg_op_spill_evict(AggOp *op, size_t target, AggChunkFn put, void *ctx);

/* Before agg_op_push(op, in) when agg_op_spilled(op) > 0: for every row of
 * in whose group is spilled (maybe: the bloom filter says so and the group
 * is not in memory), get(ctx, gkey, klen, &val, &vlen): 1 = here it is (the
 * op loads it; val valid until the next get), 0 = not spilled after all,
 * -1 = error (stops with -1). Rows a push would drop (late, NULL window_end)
 * cost nothing. 0 or -1. */
int     agg_op_spill_fetch(AggOp *op, const Batch *in, AggSpillGetFn get, void *ctx);

/* Take one spilled group back (a value from evict, given back by a drain).
 * Its table must have it spilled; -1 with agg_op_error() for a malformed
 * value or one of another op. 0 or -1. */
int     agg_op_spill_load(AggOp *op, const void *gkey, size_t klen, const void *val, size_t vlen);

/* Is a table that an emission must close still holding spilled groups?
 * limit: the watermark (agg_op_advance), or INT64_MAX (agg_op_flush). 1 with
 * the table prefix in prefix (room for 16 bytes) and its length in *plen:
 * agg_op_advance/agg_op_flush emitted that table's groups in memory and
 * stopped at it — load its spilled groups (agg_op_spill_load), a few
 * thousand at a time, calling agg_op_advance/agg_op_flush again after each
 * few thousand (each call emits and frees the loaded ones; the table stays
 * open, and the emission does not go past it, until none is spilled). 0:
 * nothing due is spilled. */
int     agg_op_spill_wanted(const AggOp *op, int64_t limit, uint8_t *prefix, size_t *plen);

/* After agg_op_restore's chunks: one group that was spilled at the
 * checkpoint (a gkey from evict; the value stays in the store). Creates its
 * window's table if needed. -1 (with agg_op_error()) for a malformed gkey,
 * a group that a checkpoint chunk holds too, or a window the restored
 * watermark closed. A gkey registered twice is not detected (the filter
 * cannot tell): the runtime's store gives each gkey once. */
int     agg_op_spill_register(AggOp *op, const void *gkey, size_t klen);

int64_t agg_op_spilled(const AggOp *op);        /* groups spilled now        */
int64_t agg_op_spill_loads(const AggOp *op);    /* groups taken back so far  */

/* Debug: verify the internal invariants (every group reachable from its
 * hash slot, windows ordered, the session heap ordered, each key's
 * sessions sorted and disjoint, reference counts). O(state); for tests.
 * 0, or -1 with the broken invariant in agg_op_error(). */
int     agg_op_check(AggOp *op);

#endif

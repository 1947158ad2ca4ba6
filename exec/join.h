/*
 * join.h — streaming equi-joins of two inputs: window, interval and regular.
 *
 *   JoinOp *op = join_op_new(&spec, why, sizeof why);
 *   Batch out; SqlType t[...]; batch_init(&out, join_op_output_types(op, t), t, 0);
 *   a batch b from side s (0 left, 1 right):   join_op_push(op, s, b);
 *   side s's watermark moved to wm:            join_op_advance(op, s, wm);
 *   after either (or whenever convenient):     do { n = join_op_drain(op, &out, &more); … } while (more);
 *   end of input:  join_op_advance(op, 0, INT64_MAX); join_op_advance(op, 1, INT64_MAX); drain
 *   join_op_free(op);
 *
 * push and advance never write to the caller: the rows they produce are
 * queued inside the op (copied, strings included) and handed out, in the
 * order they were produced, by join_op_drain. The queue is not bounded: a
 * caller drains after each push / advance to keep it small (a hot key that
 * matches many stored rows can still queue many rows from one push).
 *
 * The match condition of a left row l and a right row r is
 *     l.lkeys[k] = r.rkeys[k] for every k          (SQL equality, below)
 *   AND the flavor's time condition                (below)
 *   AND residual(l ++ r) is TRUE                   (FALSE and NULL: no match)
 * INNER emits every matching pair (left columns, then right columns); LEFT
 * also emits each left row that never matched, once, with every right column
 * NULL (a "padded" row); RIGHT symmetrically; FULL both. The residual is part
 * of the match condition (as in SQL's ON), not a filter on the output.
 *
 * Key equality is SQL's `=` as the expression kernels compute it
 * (docs/expressions.md): a NULL key never matches anything (not even NULL),
 * DOUBLE compares per IEEE (-0.0 = 0.0; NaN matches nothing), VARCHAR
 * byte-wise, BIGINT/TIMESTAMP/INTERVAL as int64 (a BIGINT key may meet a
 * TIMESTAMP key: they share a layout). A row with a NULL or NaN key can never
 * match: it is not stored; on a preserved (outer) side it is emitted padded
 * at once.
 *
 * Watermarks. Each side has its own watermark W0, W1 (initially "none",
 * INT64_MIN), moved by join_op_advance; a smaller value than before is
 * ignored. As on channels, watermark W on a side promises that no later row
 * of that side has event time < W. A row whose time is behind its own side's
 * watermark is late: dropped and counted (join_op_late_rows). The state of a
 * side is trimmed by the OTHER side's watermark: a stored row is kept exactly
 * as long as a row of the other side that could match it may still arrive.
 * join_op_advance(op, s, INT64_MAX) is the end of side s: every row stored on
 * the other side is released (outer rows emitted as below), whatever the
 * flavor, and every later row of side s is late.
 *
 * Flavors:
 *
 *   JOIN_OP_WINDOW   both inputs carry window_start/window_end (the same
 *     TUMBLE/HOP/CUMULATE windows) and the keys include both, so rows match
 *     only within one window. lwend/rwend name each side's window_end column.
 *     A row is late when window_end <= its side's watermark, or window_end
 *     is NULL (as agg.h). Matches are emitted as soon as the second row
 *     arrives (not when the window closes): the output is append-only and
 *     final. A left row of window end E is freed when W1 >= E (no right row
 *     of that window can come); a LEFT/FULL left row that never matched is
 *     emitted padded at that moment — or at once, if it arrives when
 *     W1 >= E already. Symmetric for right rows. So a window's state is
 *     released once both watermarks pass its end.
 *
 *   JOIN_OP_INTERVAL l.ltime BETWEEN r.rtime + lower_us AND r.rtime + upper_us
 *     (both bounds inclusive, lower_us <= upper_us, either may be negative),
 *     i.e. lower <= l.t - r.t <= upper. A row is late when its time < its
 *     side's watermark. A row whose time is NULL matches nothing (SQL: the
 *     BETWEEN is NULL): not stored, emitted padded at once on an outer side.
 *     Matches are emitted as soon as the second row arrives. Expiry: right
 *     rows still to come have r.t >= W1, and l can only match r.t <=
 *     l.t - lower, so a left row is released when
 *         l.t - lower < W1
 *     and a right row, symmetrically (left rows to come have l.t >= W0 and
 *     r can only match l.t <= r.t + upper), when
 *         r.t + upper < W0.
 *     An outer row that never matched is emitted padded when it is released
 *     (or at arrival if it is already past that point). Every pair of
 *     non-late rows that satisfies the condition is found: the second to
 *     arrive probes the first, which is provably still stored.
 *     (A window join is exactly this with t = window_end - 1 and bounds 0.)
 *
 *   JOIN_OP_REGULAR  no time condition. Matches are emitted as soon as the
 *     second row arrives. State is kept forever (ttl_us = 0) — nothing is
 *     ever late and only the end of the other side frees it — or, with
 *     ttl_us > 0, by event time: ltime/rtime must then name each side's
 *     event-time (watermark) column, a row is late when its time is NULL or
 *     < its side's watermark, and a row is released when its time + ttl_us
 *     < the other side's watermark. TTL is deterministic given the input
 *     and watermark sequence: a pair with |l.t - r.t| <= ttl_us always
 *     matches; a pair further apart matches only if the second row arrives
 *     before the first one expires. Releasing a row emits nothing.
 *     Outer regular joins need emit_changes: a preserved row that finds no
 *     match when it arrives is emitted at once, +I padded; when its first
 *     match arrives later, the op emits -D of that padded row (the same
 *     values, other side NULL) and then +I of the joined row(s). A row that
 *     matched when it arrived is never emitted padded. Applying the +I/-D
 *     changelog in order gives, at every drain, the SQL answer over the rows
 *     pushed so far (those still stored — with a TTL, expired rows keep
 *     whatever they emitted).
 *
 * Output. Columns: with emit_changes a leading BIGINT `op` column
 * (AGG_ROW_INSERT "+I" = 0 or AGG_ROW_DELETE "-D" = 2, agg.h's codes; only
 * regular outer joins produce -D), then the nleft left columns, then the
 * nright right columns, NULLs for the missing side of padded rows.
 * join_op_drain resets `out` (a batch of join_op_output_types' types, any
 * capacity), writes up to out->capacity queued rows (dense, no selection,
 * strings copied into out's arena), returns how many, and sets *more = 1
 * when rows are still queued. Input batches must be append-only (ops NULL or
 * all inserts): a changelog input is an error.
 *
 * Memory. Each side stores its rows as fixed-width records (header, key
 * image, one 8-byte slot per column or 16 for VARCHAR, NULL bits) in slabs
 * of 1024 records with a free list — no allocation per row; strings are
 * copied into a per-side arena that is compacted (live strings copied to a
 * fresh arena) when it holds twice what is live. An index of chained hash
 * buckets over the key hash (hash.h's hash_vector, computed per batch)
 * finds a probe row's candidates; a min-heap on each record's release time
 * gives the rows a watermark releases. join_op_state_rows/bytes count live
 * records and the memory they use (records, live string bytes, index and
 * heap entries), so they drop as watermarks release rows;
 * join_op_reserved_bytes is everything held (slabs and pools are kept for
 * reuse). See exec/README.md ("Joins").
 *
 * Errors are values: join_op_new returns NULL with a reason in why (snprintf
 * rules): bad columns or types, lower > upper, an outer REGULAR join without
 * emit_changes, a residual that does not compile. The other calls return -1
 * with join_op_error() set (a batch that does not match the side's types,
 * a changelog input, out of memory); after a failed push part of the batch
 * may have been processed.
 *
 * Checkpoints (join_op_snapshot / join_op_restore), as agg.h's: the op
 * describes its state as chunks — (key, value) byte strings for an ordered
 * key-value store — and reports at each checkpoint only the chunks that
 * changed since the previous one (puts) and the chunks that emptied
 * (deletes). Chunks:
 *
 *   key                     value
 *   "M"                     meta: both side watermarks, late rows
 *   "L" be64(id ^ 2^63)     the stored left rows of chunk id
 *   "R" be64(id ^ 2^63)     the stored right rows of chunk id
 *
 * The chunk id of a stored row: WINDOW its window_end - 1 (one chunk per
 * window and side), INTERVAL and REGULAR with a TTL floor(t / 2^20 µs)
 * (about a second of event time), untimed REGULAR the top 6 bits of the key
 * hash (64 chunks per side). Rows arrive and expire roughly in time order,
 * so with a time bound a checkpoint rewrites the recent chunks and deletes
 * the released ones; an untimed regular join spreads new rows over its 64
 * chunks. Every value starts with a format version (1), the chunk kind and
 * a 64-bit fingerprint of the spec (types, keys, flavor, time columns,
 * bounds, TTL, join type, emit_changes — not the residual), then varints:
 * per row its matched flag (preserved sides), its NULL bits and its column
 * values (DOUBLE bits kept exactly). Time, key hash, key image and release
 * time are recomputed on restore by the push path itself, so a restored op
 * continues exactly as the original: same stored rows and matched flags,
 * same watermarks and late count (its output for the same later input is
 * the same, up to the order of rows within one drain). Queued rows are not
 * part of a checkpoint: snapshot only after draining everything.
 *
 * Tracking costs one compare (and rarely an append) per row stored,
 * matched on a preserved side, or released. A snapshot costs one pass over
 * the record headers of each side with changes, plus encoding the changed
 * chunks; a full snapshot is O(state).
 *
 * Ownership: join_op_new copies the spec's arrays and compiles the residual
 * (the Expr tree is only borrowed during the call). The op owns its state
 * and queue; input batches are only read during push (the caller may reset
 * them right after); drained rows belong to `out`. One op per task: not
 * thread-safe.
 */
#ifndef SLUICE_EXEC_JOIN_H
#define SLUICE_EXEC_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "exec/agg.h"   /* AggChunkFn */
#include "exec/batch.h"
#include "exec/expr.h"
#include "exec/types.h"

typedef enum JoinType { JOIN_TYPE_INNER, JOIN_TYPE_LEFT, JOIN_TYPE_RIGHT, JOIN_TYPE_FULL } JoinType;
typedef enum JoinOpFlavor { JOIN_OP_WINDOW, JOIN_OP_INTERVAL, JOIN_OP_REGULAR } JoinOpFlavor;

typedef struct JoinOpSpec {
    JoinType       type;
    JoinOpFlavor   flavor;
    int            nleft;         /* left input columns (>= 1)                      */
    const SqlType *left_types;
    int            nright;        /* right input columns (>= 1)                     */
    const SqlType *right_types;
    int            nkeys;         /* equality keys, 0..64 (0: every pair is a       */
    const int     *lkeys, *rkeys; /* candidate); left / right input columns          */
    int            lwend, rwend;  /* WINDOW: window_end columns (int64 types)      */
    int            ltime, rtime;  /* INTERVAL, and REGULAR with ttl_us: the time    */
                                  /* columns (int64 types); else ignored            */
    int64_t        lower_us;      /* INTERVAL: lower <= l.t - r.t <= upper          */
    int64_t        upper_us;
    const Expr    *residual;      /* BOOLEAN over left ++ right columns, or NULL    */
    int64_t        ttl_us;        /* REGULAR: event-time TTL (above), 0 = forever   */
    int            emit_changes;  /* leading op column; required by REGULAR outer   */
    int            table;         /* 1 the right side, 2 the left, is a table: it
                                     ends (advance to INT64_MAX) before any row of
                                     the other side is pushed, which is an error
                                     until then; 0 none (a group's broadcast join).
                                     A LEFT join with table 1 (RIGHT with 2) then
                                     needs no emit_changes: every padded row is
                                     final, the table being whole. A followed
                                     table's rows go on after its end: updates,
                                     kept (table_upsert) for later stream rows */
    int            table_upsert;  /* the table's rows are updates keyed by the join
                                     keys (a compacted Kafka topic): a row replaces
                                     the stored one with equal keys, the last one
                                     pushed wins (needs table, REGULAR, no TTL); a
                                     row marked BATCH_OP_DELETE (a tombstone: its
                                     keys set, the rest NULL) removes the stored one
                                     and is not kept */
} JoinOpSpec;

typedef struct JoinOp JoinOp;

JoinOp *join_op_new(const JoinOpSpec *spec, char *why, size_t cap);
void    join_op_free(JoinOp *op);                                  /* NULL allowed */

/* Join the live rows of in (a batch of side's types; side 0 left, 1 right)
 * with the other side's state, queue the matches (and padded rows due now),
 * and store the rows that may still match later. 0 or -1. */
int     join_op_push(JoinOp *op, int side, const Batch *in);

/* Side's watermark moved to watermark_us: release the other side's rows that
 * can no longer match (queueing outer rows that never matched) and make
 * side's rows behind it late. 0 or -1. */
int     join_op_advance(JoinOp *op, int side, int64_t watermark_us);

/* Hand out queued rows (see Output above): rows written, or -1. */
int     join_op_drain(JoinOp *op, Batch *out, int *more);

/* The output schema into types (room for 1 + nleft + nright entries);
 * returns the number of columns. */
int     join_op_output_types(const JoinOp *op, SqlType *types);

int64_t join_op_pending_rows(const JoinOp *op);  /* queued, not yet drained  */
int64_t join_op_state_rows(const JoinOp *op);    /* stored rows, both sides  */
int64_t join_op_side_rows(const JoinOp *op, int side);
int64_t join_op_late_rows(const JoinOp *op);     /* dropped as late          */
size_t  join_op_state_bytes(const JoinOp *op);   /* memory of live state     */
size_t  join_op_reserved_bytes(const JoinOp *op);/* all memory held          */
const char *join_op_error(const JoinOp *op);     /* why the last call failed */

/* ---- checkpoints ---- (AggChunkFn from agg.h: fn(ctx, key, klen, val, vlen), val NULL = delete) */
/* Describe the op's state as chunks (above). Emits fn(key, val) for every chunk that changed
 * since the last join_op_snapshot/join_op_restore (every live chunk when full != 0 or on the first
 * call), and fn(key, NULL, 0) for every chunk that existed at the last snapshot and is empty now.
 * Call only with nothing queued (join_op_pending_rows() == 0, else -1). Does not change what the
 * op will emit later. fn returning non-zero stops and makes join_op_snapshot return -1. key and
 * val are valid during the call only. A chunk is reported at most once per call; apply the calls
 * in order. After -1 the op's checkpoint bookkeeping is unchanged: the next call reports
 * everything this one would have, and more. 0 or -1. */
int     join_op_snapshot(JoinOp *op, int full, AggChunkFn fn, void *ctx);
/* Load one chunk produced by join_op_snapshot of an op with the SAME spec (residual included)
 * into a new op, before any push or advance; chunks may come in any order. Once all chunks are
 * loaded the op behaves exactly as the snapshotted op did at snapshot time (above). A malformed
 * chunk (truncated, wrong version, another spec, a row in the wrong chunk or with a key that can
 * never match, NULL bits of a NULL-typed column) → -1 with join_op_error() saying what is wrong,
 * never a crash. Also -1: a chunk loaded twice, a second meta, a row that the restored
 * watermarks have already released, a call after a push or advance. After -1 the op is
 * unusable: every later call but join_op_free, join_op_error and the counters fails. The loaded
 * chunks count as the op's last snapshot. A missing chunk cannot be detected. 0 or -1. */
int     join_op_restore(JoinOp *op, const void *key, size_t klen, const void *val, size_t vlen);

/* Debug: verify the internal invariants (every live record reachable from
 * its bucket with the right hash, chains doubly linked, heap ordered and
 * covering every record of a side with expiry, live counts and string
 * bytes). O(state); for tests. 0, or -1 with the reason in join_op_error(). */
int     join_op_check(JoinOp *op);

#endif

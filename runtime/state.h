/*
 * state.h — the durable state store of a query, on LevelDB.
 *
 * One LevelDB database per query under the state directory. Operators keep
 * their working state in memory (exec/agg.h's tables); at a checkpoint the
 * runtime writes each operator's changes — puts and deletes — together with
 * the source offsets and the checkpoint's epoch in ONE LevelDB write batch,
 * so a checkpoint is all or nothing: after a crash the store holds exactly
 * the last committed checkpoint.
 *
 * Keys (all big-endian so that a prefix scan returns one operator's
 * partition in key order):
 *
 *   'm' "fingerprint"                   → the plan's fingerprint (text)
 *   'm' "epoch"                         → the last committed epoch (8 bytes)
 *   'o' source(2) partition(4)          → the next offset to read (8 bytes)
 *   's' operator(2) partition(2) key…   → an operator's state value
 *   'x' operator(2) partition(2) gkey…  → an aggregate's spilled group, with
 *                                         its versions (runtime/spill.h)
 *
 * A store records the fingerprint of the plan that created it; opening it
 * for a different plan is an error that says what changed (the first line
 * of the fingerprint — the EXPLAIN text — that differs; the caller offers
 * --reset-state), never a silent wrong answer. A store LevelDB cannot open
 * (corrupt, half-written, not a store) is an error with LevelDB's reason.
 *
 * Threads: a StateStore may be read by several threads; a StateTxn belongs
 * to one thread until it is committed (LevelDB serializes the commits).
 * Errors are values: 0 / -1 with the reason in err (snprintf rules).
 */
#ifndef SLUICE_RUNTIME_STATE_H
#define SLUICE_RUNTIME_STATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct StateStore StateStore;
typedef struct StateTxn   StateTxn;

/* Open (creating if missing) the store in dir for a plan with this
 * fingerprint. A store made for another fingerprint: NULL with an error
 * naming both. reset != 0 destroys whatever dir holds first. */
StateStore *state_open(const char *dir, const char *fingerprint, int reset, char *err, size_t cap);
void        state_close(StateStore *st);

/* The open LevelDB database (for runtime/spill.c, which keeps its 'x'
 * records in it); owned by st, valid until state_close. */
struct leveldb_t;
struct leveldb_t *state_leveldb(StateStore *st);

/* The last committed epoch; 0 for a new store. */
int64_t state_epoch(const StateStore *st);

/* The committed offset of (source, partition), or -1 when none. */
int64_t state_offset(StateStore *st, int source, int partition);

/* Every state entry of (op, part), in key order: fn returns non-zero to
 * stop. 0, or -1 on a read error. */
typedef int (*StateScanFn)(void *ctx, const void *key, size_t klen, const void *val, size_t vlen);
int state_scan(StateStore *st, int op, int part, StateScanFn fn, void *ctx, char *err, size_t cap);

/* The value of one state entry: 1 with *val (malloc'd, the caller frees)
 * and *vlen, 0 when there is none, -1 on a read error. */
int state_get(StateStore *st, int op, int part, const void *key, size_t klen, void **val, size_t *vlen,
              char *err, size_t cap);

/* One checkpoint's changes, committed atomically. */
StateTxn *state_txn_new(StateStore *st);
void      state_txn_put(StateTxn *tx, int op, int part, const void *key, size_t klen, const void *val,
                        size_t vlen);
void      state_txn_delete(StateTxn *tx, int op, int part, const void *key, size_t klen);
void      state_txn_offset(StateTxn *tx, int source, int partition, int64_t offset);
size_t    state_txn_bytes(const StateTxn *tx);   /* bytes of keys and values queued */
/* Write everything queued plus epoch (> the last one), synced to disk, in
 * one write batch; frees tx whatever the outcome. 0 or -1. */
int       state_txn_commit(StateTxn *tx, int64_t epoch, char *err, size_t cap);
void      state_txn_abort(StateTxn *tx);   /* drop it unwritten */
/* Queue everything src holds into dst too (src is unchanged): tasks build
 * their share of a checkpoint in their own txn, the coordinator appends
 * them into the one it commits. */
int       state_txn_append(StateTxn *dst, const StateTxn *src);
void      state_txn_clear(StateTxn *tx);   /* forget what is queued */

#endif

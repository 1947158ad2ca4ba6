/*
 * spill.h — where an aggregate's groups go when the query's state outgrows
 * state.memory, and where they come back from.
 *
 * A SpillStore is a LevelDB database, written without sync (a spill write
 * is made durable by the next synced checkpoint commit, LevelDB's log being
 * sequential):
 *   - with checkpoints (state.dir set): the query's own state database
 *     (spill_open_shared), so that the spilled groups of checkpoint N are in
 *     the same database as checkpoint N;
 *   - without: a private database in a fresh temporary directory under
 *     $TMPDIR (or /tmp) (spill_open_temp), removed by spill_close.
 *
 * Records (all under the first byte 'x', so they never mix with state.h's
 * keys), one per gkey, holding its versions:
 *
 *   'x' op(2) part(2) gkey…  →  varint n >= 1, then n times, newest first:
 *                               be64 tag, varint len, len bytes — a
 *                               spilled group (len >= 1) or, len 0, a
 *                               tombstone ("not spilled")
 *
 * op and part as in state.h (big-endian); gkey is the op's key of the group
 * (exec/agg.h agg_op_spill_evict: a table prefix, then the group's key, a
 * prefix-free encoding). One record per gkey makes every put and take a
 * point read (a Get) and one write: a seek over per-version keys would step
 * over every deletion marker left by the groups taken back before it, which
 * made a put cost up to 0.6 ms once a window had been drained.
 *
 * Versions and checkpoints. A tag is an epoch number: a task writes with
 * tag = the epoch of the NEXT checkpoint it will take part in (the last
 * barrier it passed + 1), and `committed` = the last committed epoch. A
 * checkpoint N must see every gkey as it was when the barriers of N passed:
 * its version is the newest one with tag <= N (a value: spilled with that
 * state; a tombstone or none: not spilled — the group is in a checkpoint
 * chunk or did not exist). So writes never destroy a version a committed or
 * future checkpoint could need; every write of a gkey also collects the
 * garbage of that gkey (the GC rule, applied to the versions left after the
 * write, `committed` = C):
 *   1. versions with tag > C are kept;
 *   2. of the versions with tag <= C only the newest is kept;
 *   3. while the OLDEST kept version is a tombstone, it is deleted (it
 *      hides nothing).
 * Without checkpoints (tag = committed = 0 always) this leaves at most one
 * version per gkey, and none for a group that came back: a plain key-value
 * map. spill_open_temp stores set `versioned` off, so put is one blind Put
 * and take one Get + Delete.
 *
 * Threads: tasks share one SpillStore and call it concurrently (LevelDB is
 * thread-safe); each (op, part) is written by one task only.
 * Errors are values: -1 with the reason in err (snprintf rules).
 */
#ifndef SLUICE_RUNTIME_SPILL_H
#define SLUICE_RUNTIME_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/state.h"

typedef struct SpillStore SpillStore;

/* A private store in a new directory under parent (NULL: $TMPDIR, else
 * /tmp). NULL with the reason in err. */
SpillStore *spill_open_temp(const char *parent, char *err, size_t cap);
/* A store inside st's database (st must outlive it); versioned. */
SpillStore *spill_open_shared(StateStore *st, char *err, size_t cap);
/* Close; a temporary store's directory is deleted. NULL allowed. */
void        spill_close(SpillStore *sp);

/* A group goes out: version `tag` of gkey becomes val (vlen >= 1), then
 * the GC rule. 0 or -1. */
int spill_put(SpillStore *sp, int op, int part, const void *gkey, size_t klen, const void *val,
              size_t vlen, int64_t tag, int64_t committed, char *err, size_t cap);

/* A group comes back: when gkey's newest version is a value, copy it into
 * *buf (grown with realloc as needed; *bufcap its capacity; the caller frees
 * *buf), set *vlen, write a tombstone at tag, apply the GC rule, and return
 * 1; 0 when gkey is not spilled (no version, or the newest is a
 * tombstone); -1 on a read or write error. */
int spill_take(SpillStore *sp, int op, int part, const void *gkey, size_t klen, int64_t tag,
               int64_t committed, void **buf, size_t *bufcap, size_t *vlen, char *err, size_t cap);

/* Batched writes: spill_bput/spill_btake with a batch queue their writes
 * in it instead of writing at once (one LevelDB write — one write(2) — per
 * few thousand groups instead of per group); the batch writes itself out
 * every few thousand operations and at spill_batch_commit. Reads do not see
 * what a batch holds: between commits, put or take a gkey at most once
 * (an eviction's groups, a fetch's groups). b NULL: as spill_put/spill_take.
 * One batch per thread. */
typedef struct SpillBatch SpillBatch;
SpillBatch *spill_batch_new(SpillStore *sp);                 /* NULL: out of memory */
int         spill_batch_commit(SpillBatch *b, char *err, size_t cap);   /* 0 or -1 */
void        spill_batch_free(SpillBatch *b);                 /* drops what is queued */
int spill_bput(SpillStore *sp, SpillBatch *b, int op, int part, const void *gkey, size_t klen,
               const void *val, size_t vlen, int64_t tag, int64_t committed, char *err, size_t cap);
int spill_btake(SpillStore *sp, SpillBatch *b, int op, int part, const void *gkey, size_t klen,
                int64_t tag, int64_t committed, void **buf, size_t *bufcap, size_t *vlen, char *err,
                size_t cap);

/* Every gkey of (op, part) that starts with prefix (plen bytes) and whose
 * newest version is a value, in key order: fn(gkey, klen, val, vlen) —
 * then that gkey is taken as by spill_take (tombstone at tag + GC) —
 * until fn returns non-zero (stop: 1 is returned) or none is left (0).
 * Reads through an iterator over a LevelDB snapshot taken at the call, so
 * fn may call spill_put/spill_take for OTHER gkeys. -1 on an error. */
typedef int (*SpillFn)(void *ctx, const void *gkey, size_t klen, const void *val, size_t vlen);
int spill_drain(SpillStore *sp, int op, int part, const void *prefix, size_t plen, int64_t tag,
                int64_t committed, SpillFn fn, void *ctx, char *err, size_t cap);

/* After a restart from checkpoint `epoch` (0: none): delete every version of
 * (op, part) with tag > epoch (written after that checkpoint), apply the GC
 * rule with committed = epoch to every gkey, and call fn(gkey, klen, val,
 * vlen) for each gkey whose newest remaining version is a value (a group
 * spilled at that checkpoint), in key order. fn returning non-zero stops
 * (-1 is returned, err says "stopped"). 0 or -1. */
int spill_recover(SpillStore *sp, int op, int part, int64_t epoch, SpillFn fn, void *ctx, char *err,
                  size_t cap);

/* Delete every version of every gkey of (op, part) that starts with prefix
 * (a closed window's table, once a checkpoint after its closing committed).
 * 0 or -1. */
int spill_drop(SpillStore *sp, int op, int part, const void *prefix, size_t plen, char *err,
               size_t cap);

/* Figures: entries written (puts) and read back (takes, drains) so far. */
int64_t spill_writes(const SpillStore *sp);
int64_t spill_reads(const SpillStore *sp);

#endif

/*
 * agg_int.h — internals of the hash aggregate, shared by agg.c (API, push,
 * emission), agg_table.c (the hash table), agg_state.c (per-aggregate
 * kernels), agg_distinct.c (COUNT(DISTINCT) sets) and agg_session.c
 * (session windows) and agg_snapshot.c (checkpoints). Not a public header:
 * only these files include it.
 *
 * A group is one row of a table's row-major `rows` array:
 *
 *   GroupHdr (16 bytes)  hash, flags (LIVE/DIRTY/EMITTED), aux (free list)
 *   key image (kl.width) key k at kl.off[k]: 8 bytes (int64, DOUBLE bits,
 *                        BOOLEAN 0/1) or 16 for VARCHAR (const char *ptr,
 *                        uint32 len, 4 zero bytes; bytes in the table's heap
 *                        arena); then one uint64 NULL mask (bit k = key k
 *                        NULL, its slot zeroed). Equal keys <=> equal images
 *                        (DOUBLE canonicalized: -0.0 -> 0.0, one NaN), so
 *                        keys without VARCHAR compare as words.
 *   states               per aggregate, at AggDesc.off, AggDesc.size bytes;
 *                        all-zero bytes are every aggregate's empty state;
 *                        with retract, then the int64 live-row count at
 *                        cnt_off (0 in a row = its -D is pending)
 *   results              update_before only, at res_off: the last emitted
 *                        values (AGG_RES_SLOT bytes per aggregate, below)
 *
 * A session row (agg_session.c) is a SessHdr followed by the same states.
 */
#ifndef SLUICE_EXEC_AGG_INT_H
#define SLUICE_EXEC_AGG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/arena.h"
#include "exec/batch.h"

#define AGG_NONE      UINT32_MAX
#define GROUP_HDR     16
#define AGG_MAX_SPARE 4        /* emptied window tables kept for reuse */

enum { GF_LIVE = 1, GF_DIRTY = 2, GF_EMITTED = 4 };

typedef struct GroupHdr {
    uint64_t hash;     /* full hash of the key (for growth and deletion)   */
    uint32_t flags;    /* GF_*                                              */
    uint32_t aux;      /* next free row while deleted                       */
} GroupHdr;

typedef struct KeyLayout {
    int       n;         /* keys in the image                              */
    int      *col;       /* input column of each                           */
    SqlType  *type;      /* its type                                       */
    uint32_t *off;       /* byte offset of each in the image               */
    uint32_t  width;     /* image bytes (multiple of 8), NULL mask last    */
    int       has_str;   /* any VARCHAR key                                */
} KeyLayout;

/* An open-addressing (linear probing) table of groups. */
typedef struct AggTable {
    uint64_t *slots;      /* cap slots: 0 empty, else hash>>32 << 32 | gid+1  */
    uint32_t  cap;        /* power of two (0 before the first insert)         */
    uint32_t  used;       /* live groups                                      */
    uint8_t  *rows;       /* rows_cap rows of `width` bytes                   */
    uint32_t  nrows;      /* rows handed out (high-water mark)                */
    uint32_t  rows_cap;
    uint32_t  width;
    uint32_t  free_head;  /* deleted rows, chained through GroupHdr.aux       */
    uint32_t *dirty;      /* EMIT CHANGES: rows changed since last emission   */
    uint32_t  ndirty, dirty_cap;
    uint32_t  emit_pos;   /* emission cursor over rows                         */
    int64_t   wend;       /* the window_end of every group here (windowed)    */
    Arena     heap;       /* VARCHAR key bytes, variable-size states          */
    uint64_t  snap_dirty;   /* checkpoint buckets touched since the last snapshot */
    uint64_t  snap_present; /* buckets stored (non-empty) at the last snapshot    */
    uint64_t  snap_next;    /* snap_present once the running snapshot succeeds   */
    int64_t   nspilled;     /* groups of this table in the spill store (agg_spill.c) */
    struct AggBloom *bloom; /* ... a filter of their hashes (NULL when none)      */
    int       drain;        /* an emission stopped here: due, still spilled groups */
} AggTable;

typedef struct AggDesc {
    AggFn    fn;
    SqlType  vtype;     /* type of the values aggregated (arg / state value) */
    SqlType  out_type;  /* result type                                        */
    int      arg;       /* input column (FINAL: first partial column), -1     */
    int      filter;    /* input BOOLEAN column, -1                           */
    uint32_t off;       /* offset in the state area                           */
    uint32_t size;      /* state bytes                                        */
    int      retract;   /* the op takes retractions (SUM keeps a count)       */
} AggDesc;

/* one row to emit */
typedef struct EmitRow {
    const uint8_t *key;     /* key image (NULL when there are no keys)          */
    const uint8_t *st;      /* state area; NULL: every aggregate column NULL     */
    int64_t        start;   /* session bounds (session aggregates)               */
    int64_t        end;
    int64_t        mark;    /* AGG_ROW_* (changes layout)                        */
    const uint8_t *res;     /* update_before: write the aggregate columns from
                               this result area (last emitted values), not st  */
    uint8_t       *save;    /* update_before: store the emitted results here     */
    Arena         *heap;    /* ... VARCHAR bytes of `save` allocate here         */
} EmitRow;

typedef struct SessStore SessStore;

/* a window closed since the last snapshot: its stored buckets become deletes */
typedef struct AggGone {
    int64_t  wend;
    uint64_t mask;
} AggGone;

/* a growable byte buffer (snapshot encoding); oom is sticky */
typedef struct SnapBuf {
    uint8_t *p;
    size_t   n, cap;
    int      oom;
} SnapBuf;

/* a bounds-checked reader over one chunk */
typedef struct SnapRd {
    const uint8_t *p, *end;
} SnapRd;

/* checkpoint chunks: 64 hash buckets per table (the top 6 bits of the hash) */
/* the checkpoint bucket of a group's key hash: ((h >> 32) * M) >> 32 with
 * M = op->snap_mul — the partition a hash exchange of M partitions sends
 * the key to; with M = 64 (the default) exactly the top 6 bits, h >> 58 */
#define SNAP_BUCKET(op, h) ((unsigned)((((h) >> 32) * (uint64_t)(op)->snap_mul) >> 32))
#define SNAP_BIT(op, h)    (UINT64_C(1) << SNAP_BUCKET(op, h))

struct AggOp {
    AggPhase   phase;
    uint32_t   snap_mul;      /* checkpoint buckets: spec.snap_parts, or 64       */
    int        ninput;
    SqlType   *in_types;
    int        nkeys;
    int       *keys;          /* input columns                                  */
    SqlType   *key_types;
    int        naggs;
    AggDesc   *ad;
    int        wstart, wend;  /* indexes into keys, -1                           */
    int        windowed, session, changes;
    int        update_before; /* keep last emitted results, emit -U (agg.h)      */
    int        retract;       /* the input is a changelog (agg.h)                */
    uint32_t   cnt_off;       /* retract: hidden live-row count (int64) in the
                                 state area                                     */
    uint32_t   res_off;       /* update_before: result area offset in a row     */
    uint32_t   res_size;      /* its bytes: AGG_RES_SLOT per aggregate           */
    KeyLayout  kl;            /* hashed keys: all, or all but the bounds (session) */
    int       *kmap;          /* key k -> index in kl; -1 for session bounds     */
    uint32_t   state_off;     /* GROUP_HDR + kl.width                            */
    uint32_t   state_size;
    uint32_t   row_width;
    uint8_t   *zero_state;    /* state_size zero bytes                           */

    AggTable   global;        /* non-windowed groups                            */
    AggTable **open;          /* windowed: tables by ascending wend             */
    int        nopen, open_cap;
    AggTable  *spare[AGG_MAX_SPARE];
    int        nspare;
    AggTable  *last_tab;      /* lookup cache                                   */
    SessStore *ss;

    int64_t    wm;
    int        have_wm;
    int64_t    late;

    /* per-push scratch, scap rows */
    int        scap;
    uint32_t  *rows;          /* kept physical rows                             */
    int64_t   *starts;        /* their window_start (sessions)                  */
    int64_t   *ends;          /* their window_end (windowed)                    */
    uint64_t  *hashes;
    uint8_t   *img;           /* key images, kl.width bytes each                */
    uint32_t  *gids;
    AggTable **tabs;
    uint8_t  **gp;            /* state area of each kept row's group            */
    Arena    **heaps;         /* where its variable-size state allocates        */
    uint32_t  *sub;           /* rows that pass a FILTER / are not NULL         */
    int8_t    *sign;          /* retract: +1 / -1 per kept row                  */
    EmitRow   *er;            /* emission scratch                               */
    int        er_cap;
    uint64_t  *sortbuf;       /* COUNT(DISTINCT) encoding                       */
    size_t     sort_cap;

    /* checkpoints (agg_snapshot.c) */
    AggGone   *gone;          /* windows closed since the last snapshot         */
    int        ngone, gone_cap;
    uint64_t   fingerprint;   /* of the spec                                    */
    int        snap_started;  /* a snapshot or restore happened                 */
    int        snap_meta;     /* the meta chunk is stored                       */
    int64_t    snap_wm, snap_late;
    int        snap_have_wm;
    int        pushed;        /* a push happened (restore is refused after)     */
    int        mid_emit;      /* the last emitting call returned *more = 1      */
    int        broken;        /* a restore failed: the op must be discarded     */
    SnapBuf    sbuf;          /* chunk encoding                                 */
    uint32_t  *sgids;         /* rows grouped by bucket                         */
    uint32_t   sgids_cap;

    /* spilling (agg_spill.c) */
    int64_t    nspilled;      /* groups in the spill store, all tables          */
    int64_t    spill_loads;   /* groups taken back                              */
    SnapBuf    kbuf;          /* gkey encoding                                  */
    uint8_t   *simg;          /* one key image for loads                        */
    char       err[192];
};

/* ---- agg.c ----------------------------------------------------------------- */

int  agg_fail(AggOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  agg_emit_fill(AggOp *op, Batch *out, const EmitRow *er, int n);
int  agg_reserve_er(AggOp *op, int n);
/* the per-push scratch arrays for n rows. 0 or -1. */
int  agg_ensure_scratch(AggOp *op, int n);

/* push steps 1 and 3: the kept rows into op->rows (window_end in op->ends;
 * the dropped ones counted in op->late), returns how many; their key
 * images into op->img */
int  agg_keep_rows(AggOp *op, const Batch *in);
void agg_build_images(AggOp *op, const Batch *in, int m);
/* the table of window_end e: found or created (NULL: out of memory) */
AggTable *agg_table_for(AggOp *op, int64_t e);
/* the open table of window_end e, or NULL */
AggTable *agg_table_lookup(AggOp *op, int64_t e);

/* ---- agg_spill.c -------------------------------------------------------------- */

void   agg_bloom_free(AggTable *t);
size_t agg_bloom_bytes(const AggTable *t);
/* a table the emission closes has spilled groups: emit its loaded ones and
 * clear them, keep it open (agg.c's emit_windows / emit_global) */
void   agg_spill_hold(AggOp *op, AggTable *t);

/* ---- agg_snapshot.c ---------------------------------------------------------- */

void     snap_put_u8(SnapBuf *b, uint8_t x);
void     snap_put_bytes(SnapBuf *b, const void *p, size_t n);
void     snap_put_varint(SnapBuf *b, uint64_t x);
void     snap_put_i64(SnapBuf *b, int64_t x);        /* zigzag varint       */
void     snap_put_u64le(SnapBuf *b, uint64_t x);
int      snap_get_u8(SnapRd *r, uint8_t *x);          /* 0, or -1: truncated */
int      snap_get_varint(SnapRd *r, uint64_t *x);
int      snap_get_i64(SnapRd *r, int64_t *x);
int      snap_get_u64le(SnapRd *r, uint64_t *x);
int      snap_get_bytes(SnapRd *r, size_t n, const uint8_t **p);
/* the chunk value header (version, kind, spec fingerprint) */
void     snap_put_header(const AggOp *op, SnapBuf *b, char kind);
int      snap_get_header(AggOp *op, SnapRd *r, char kind);
/* key image <-> bytes; get: VARCHAR bytes point into the chunk, *hash is
 * the GROUP BY hash of the key (as hash_vector computes it) */
void     snap_put_key(const AggOp *op, SnapBuf *b, const uint8_t *img);
int      snap_get_key(AggOp *op, SnapRd *r, uint8_t *img, uint64_t *hash);
/* chunk emission helper: fn + error bookkeeping */
int      snap_emit(AggOp *op, AggChunkFn fn, void *ctx, const uint8_t *key, size_t klen,
                   const SnapBuf *val);
/* group rows of `rows` (nrows rows of `width` bytes, GroupHdr-like hash at
 * offset 0 and flags at 8) whose bucket is in mask into op->sgids, by
 * bucket: start[b]..start[b+1]. 0 or -1 (OOM). */
int      snap_bucket_rows(AggOp *op, const uint8_t *rows, uint32_t nrows, uint32_t width,
                          uint64_t mask, uint32_t start[65]);
/* record a released window table's stored buckets (the caller reserved room) */
void     snap_table_gone(AggOp *op, AggTable *t);
int      snap_reserve_gone(AggOp *op, int n);
/* a window table (re)created for wend: take back its stored buckets */
void     snap_table_reopen(AggOp *op, AggTable *t);

/* ---- agg_table.c ------------------------------------------------------------ */

void agg_table_init(AggTable *t, uint32_t width);
void agg_table_destroy(AggTable *t);
void agg_table_reset(AggTable *t);
size_t agg_table_bytes(const AggTable *t);

static inline uint8_t *agg_table_row(const AggTable *t, uint32_t gid)
{
    return t->rows + (size_t)gid * t->width;
}

/* Find or insert the groups of n images (hashes[i], img + i * kl->width) and
 * write their row numbers into gids. Inserted rows get the key (VARCHAR
 * bytes copied into t->heap), flags GF_LIVE and zeroed states. 0, or -1 on
 * OOM. */
int  agg_table_probe(AggTable *t, const KeyLayout *kl, const uint64_t *hashes,
                     const uint8_t *img, int n, uint32_t *gids);

/* The row of the group (hash, img) in t, or AGG_NONE. */
uint32_t agg_table_find(const AggTable *t, const KeyLayout *kl, uint64_t hash, const uint8_t *img);

/* Remove a live group: its slot (backward-shift deletion) and its row
 * (onto the free list). */
void agg_table_delete(AggTable *t, uint32_t gid);

/* Append gid to the dirty list (the caller tests and sets GF_DIRTY). */
int  agg_table_push_dirty(AggTable *t, uint32_t gid);

/* Debug: every live row reachable from its slot, counts right. 0 or -1. */
int  agg_table_check(const AggTable *t, const KeyLayout *kl);

/* Copy every VARCHAR key of the live rows into `to`, repointing them. */
int  agg_table_move_keys(AggTable *t, const KeyLayout *kl, Arena *to);

/* ---- agg_state.c ------------------------------------------------------------- */

/* Update the states op->gp[0..m) of the kept rows op->rows[0..m) of in with
 * aggregate d (SIMPLE/PARTIAL: raw rows; FINAL: partial states). 0 or -1. */
int  agg_state_update(AggOp *op, const AggDesc *d, const Batch *in, int m);

/* dst += src for every aggregate (session merges). 0 or -1 (OOM). */
int  agg_state_merge(AggOp *op, uint8_t *dst, const uint8_t *src, Arena *heap);

/* Move every variable-size part of a state area into `to`. 0 or -1. */
int  agg_state_relocate(const AggOp *op, uint8_t *st, Arena *to);

/* Write aggregate d's output column(s), starting at out column col, for
 * rows 0..n-1 of er. 0 or -1 (OOM in out's arena). */
int  agg_state_output(AggOp *op, const AggDesc *d, Batch *out, int col, const EmitRow *er,
                      int n);

/* Bytes of state for one aggregate. */
uint32_t agg_state_size(const AggDesc *d);

/* Partial state columns of d (PARTIAL output, FINAL input): their types
 * into pt (room for 2) when pt != NULL; returns how many. */
int      agg_partial_types(const AggDesc *d, SqlType *pt);

/* ---- result areas (update_before) ------------------------------------------------
 * A group's last emitted results: AGG_RES_SLOT bytes per aggregate, all-zero
 * = every result NULL. Non-VARCHAR: u64 value bits, u64 valid (0/1).
 * VARCHAR: char *p (NULL = NULL value; else >= 1 byte of capacity), u32
 * len, u32 cap; bytes owned by the group's arena, overwritten in place
 * when they fit. */
#define AGG_RES_SLOT 16u
/* Copy the aggregate columns of out's row i into res. 0 or -1 (OOM). */
int  agg_res_save(AggOp *op, uint8_t *res, Arena *heap, const Batch *out, int col0, int i);
/* Overwrite the aggregate columns (from col0) of the rows of er that have
 * a res with those values. 0 or -1 (OOM in out's arena). */
int  agg_res_output(AggOp *op, Batch *out, int col0, const EmitRow *er, int n);
void agg_res_snap_put(const AggOp *op, const uint8_t *res, SnapBuf *b);
int  agg_res_snap_get(AggOp *op, uint8_t *res, Arena *heap, SnapRd *r);

/* Checkpoint encoding of a whole state area (every aggregate), and back
 * into a zeroed state area (variable parts allocated in heap). get: 0, or
 * -1 with the reason in op's error. */
void agg_state_snap_put(const AggOp *op, const uint8_t *st, SnapBuf *b);
int  agg_state_snap_get(AggOp *op, uint8_t *st, Arena *heap, SnapRd *r);

/* ---- agg_distinct.c ------------------------------------------------------------ */

typedef struct DSet DSet;

/* Add one value: bits = the int64 / canonical DOUBLE bits / 0 or 1; for
 * VARCHAR p[0..len). 0, or -1 on OOM or a type different from the set's. */
int      dset_add(DSet **ps, Arena *a, SqlType t, uint64_t bits, const char *p, uint32_t len);
uint32_t dset_count(const DSet *s);
/* scratch: dset_count entries; returns the blob size */
size_t   dset_encode_begin(const DSet *s, uint64_t *scratch);
void     dset_encode_finish(const DSet *s, const uint64_t *scratch, uint8_t *out);
int      dset_merge_encoded(DSet **ps, Arena *a, const uint8_t *p, size_t n);
int      dset_union(DSet **dst, Arena *a, const DSet *src);
int      dset_relocate(DSet **ps, Arena *to);
/* Checkpoint form of a set: type, capacity, and the values in an order that
 * rebuilds the same slot layout (so the partial blobs match byte for byte).
 * get: want = the set's type, or TYPE_NULL for any; 0 or -1 (malformed/OOM). */
void     dset_snap_put(const DSet *s, SnapBuf *b);
int      dset_snap_get(DSet **ps, Arena *a, SqlType want, SnapRd *r);

/* canonical bits of a DOUBLE for grouping and sets */
static inline uint64_t agg_f64_bits(double x)
{
    uint64_t b;
    if (x == 0.0) x = 0.0;
    if (x != x) return UINT64_C(0x7ff8000000000000);
    memcpy(&b, &x, sizeof b);
    return b;
}

/* ---- agg_session.c ------------------------------------------------------------- */

int    sess_new(AggOp *op);
void   sess_free(AggOp *op);
/* Assign the m kept rows (op->rows, hashes, img) to sessions: fills op->gp
 * and op->heaps. 0 or -1. */
int    sess_assign(AggOp *op, const Batch *in, int m);
/* After the updates of a push: free merged sessions, mark changes, compact. */
int    sess_after_push(AggOp *op, int m);
/* Emit sessions with end <= limit (flush: all, and clear when done). */
int    sess_emit(AggOp *op, Batch *out, int64_t limit, int flush, int *more);
int    sess_changes(AggOp *op, Batch *out, int *more);
int64_t sess_count(const AggOp *op);
int    sess_check(AggOp *op);
size_t sess_bytes(const AggOp *op);
/* checkpoints: emit the session chunks (see agg_op_snapshot); load one */
int    sess_snapshot(AggOp *op, int full, AggChunkFn fn, void *ctx);
void   sess_snap_commit(AggOp *op);   /* after every chunk was accepted */
/* restore: -1 when a loaded session ends at or before the watermark */
int    sess_restore_check_wm(AggOp *op);
int    sess_restore(AggOp *op, unsigned bucket, SnapRd *r);

#endif

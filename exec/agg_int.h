/*
 * agg_int.h — internals of the hash aggregate, shared by agg.c (API, push,
 * emission), agg_table.c (the hash table), agg_state.c (per-aggregate
 * kernels), agg_distinct.c (COUNT(DISTINCT) sets) and agg_session.c
 * (session windows). Not a public header: only these files include it.
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
 *                        all-zero bytes are every aggregate's empty state
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
} AggTable;

typedef struct AggDesc {
    AggFn    fn;
    SqlType  vtype;     /* type of the values aggregated (arg / state value) */
    SqlType  out_type;  /* result type                                        */
    int      arg;       /* input column (FINAL: first partial column), -1     */
    int      filter;    /* input BOOLEAN column, -1                           */
    uint32_t off;       /* offset in the state area                           */
    uint32_t size;      /* state bytes                                        */
} AggDesc;

/* one row to emit */
typedef struct EmitRow {
    const uint8_t *key;     /* key image (NULL when there are no keys)          */
    const uint8_t *st;      /* state area; NULL: every aggregate column NULL     */
    int64_t        start;   /* session bounds (session aggregates)               */
    int64_t        end;
    int64_t        mark;    /* AGG_ROW_* (changes layout)                        */
} EmitRow;

typedef struct SessStore SessStore;

struct AggOp {
    AggPhase   phase;
    int        ninput;
    SqlType   *in_types;
    int        nkeys;
    int       *keys;          /* input columns                                  */
    SqlType   *key_types;
    int        naggs;
    AggDesc   *ad;
    int        wstart, wend;  /* indexes into keys, -1                           */
    int        windowed, session, changes;
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
    EmitRow   *er;            /* emission scratch                               */
    int        er_cap;
    uint64_t  *sortbuf;       /* COUNT(DISTINCT) encoding                       */
    size_t     sort_cap;
    char       err[192];
};

/* ---- agg.c ----------------------------------------------------------------- */

int  agg_fail(AggOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int  agg_emit_fill(AggOp *op, Batch *out, const EmitRow *er, int n);
int  agg_reserve_er(AggOp *op, int n);

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

#endif

/*
 * agg_session.c — session windows for the hash aggregate.
 *
 * Sessions are kept per "other key" (every group key but window_start and
 * window_end):
 *
 *   keys     an AggTable from the other keys to a KeyPay: the first of the
 *            key's open sessions and a reference count (open sessions plus
 *            pending retractions); a key row is deleted when its count
 *            drops to 0
 *   rows     session rows (SessHdr, then the aggregate states, laid out as
 *            in a group row), reused through a free list; a key's sessions
 *            form a list sorted by start, pairwise disjoint and not
 *            touching (the invariant merging keeps)
 *   heap     an indexed binary min-heap of the open sessions by end: the
 *            watermark pops the finished ones without looking at others
 *
 * Assigning a row with interval [s, e) walks its key's list: the sessions
 * that overlap or touch [s, e) (start <= e and end >= s) are contiguous in
 * the list; the first becomes the target and absorbs the interval and the
 * others (their states merged in, agg_state_merge), which are unlinked,
 * taken off the heap, and forwarded to the target until the end of the
 * push. No overlap: a new session is linked in. Since states are updated
 * batch-wide after every row has been assigned, a row assigned to a
 * session that a later row of the same batch merged away follows the
 * forward chain to the survivor; forwarded rows are freed after the update.
 *
 * Variable-size states (VARCHAR MIN/MAX, distinct sets, HLL registers) and
 * VARCHAR key bytes live in arenas; since sessions die one by one, the
 * arenas are compacted (live parts copied into a second arena, which then
 * takes over) whenever they hold more than twice what the last compaction
 * kept, so memory stays proportional to the live sessions and, in steady
 * state, the two arenas are reused without allocating.
 *
 * EMIT CHANGES: a session whose bounds changed since it was emitted is
 * retracted (-D with its old bounds) and inserted again (+I); a session
 * that was emitted and then merged into another leaves a "ghost" (its key
 * and emitted bounds) that is emitted as -D at the next emission.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"

#define COMPACT_MIN ((size_t)1 << 20)

typedef struct SessHdr {
    int64_t  start, end;          /* the session's interval [start, end)       */
    int64_t  em_start, em_end;    /* its bounds when last emitted (changes)    */
    uint32_t key;                 /* row in the key table                      */
    uint32_t next;                /* next session of the key (by start) / free */
    uint32_t hpos;                /* index in the heap                         */
    uint32_t flags;               /* GF_LIVE, GF_DIRTY, GF_EMITTED             */
    uint32_t fwd;                 /* merged into (during a push), AGG_NONE     */
    uint32_t pad;
} SessHdr;

#define SESS_HDR ((uint32_t)sizeof(SessHdr))

typedef struct KeyPay {
    uint32_t head;   /* first open session, AGG_NONE                       */
    uint32_t nref;   /* open sessions + ghosts of this key                  */
} KeyPay;

typedef struct Ghost {
    uint32_t key, pad;
    int64_t  start, end;
} Ghost;

struct SessStore {
    AggTable  keys;
    Arena     keys_spare;        /* compaction target for key bytes          */
    uint32_t  kpay;              /* offset of the KeyPay in a key row        */
    uint8_t  *rows;
    uint32_t  nrows, rows_cap, width, free_head, live;
    uint32_t *heap;
    uint32_t  nheap, heap_cap;
    uint32_t *pending;           /* merged away during this push             */
    uint32_t  npending, pending_cap;
    uint32_t *dirty;
    uint32_t  ndirty, dirty_cap;
    Ghost    *ghosts;
    uint32_t  nghosts, ghosts_cap;
    uint32_t *done;              /* sessions emitted by one call             */
    uint32_t *derefs;            /* keys of ghosts emitted by one call       */
    uint32_t  done_cap;
    Arena     mem, mem_spare;    /* variable-size states                     */
    size_t    mem_compact_at, keys_compact_at;
    int       has_var;
    int       broken;            /* a compaction failed half-way             */
    uint32_t  snap_mul;          /* checkpoint buckets (op->snap_mul)         */
    uint64_t  snap_dirty;        /* checkpoint buckets (by key hash) touched  */
    uint64_t  snap_present;      /* buckets stored at the last snapshot       */
    uint64_t  snap_next;         /* snap_present once this snapshot commits   */
};

/* ---- private helpers ------------------------------------------------------ */

static inline SessHdr *S(const SessStore *ss, uint32_t sid)
{
    return (SessHdr *)(ss->rows + (size_t)sid * ss->width);
}

static inline KeyPay *pay(const SessStore *ss, uint32_t kg)
{
    return (KeyPay *)(agg_table_row(&ss->keys, kg) + ss->kpay);
}

static int grow(void **p, uint32_t *cap, size_t elem, uint32_t need)
{
    if (need <= *cap) return 0;
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *np = realloc(*p, (size_t)ncap * elem);
    if (!np) return -1;
    *p = np;
    *cap = ncap;
    return 0;
}

static int u32_push(uint32_t **a, uint32_t *n, uint32_t *cap, uint32_t v)
{
    if (grow((void **)a, cap, sizeof **a, *n + 1) < 0) return -1;
    (*a)[(*n)++] = v;
    return 0;
}

/* heap */
static void hset(SessStore *ss, uint32_t i, uint32_t sid)
{
    ss->heap[i] = sid;
    S(ss, sid)->hpos = i;
}

static void hup(SessStore *ss, uint32_t i)
{
    uint32_t sid = ss->heap[i];
    int64_t  e = S(ss, sid)->end;
    while (i > 0) {
        uint32_t p = (i - 1) / 2, ps = ss->heap[p];
        if (S(ss, ps)->end <= e) break;
        hset(ss, i, ps);
        i = p;
    }
    hset(ss, i, sid);
}

static void hdown(SessStore *ss, uint32_t i)
{
    uint32_t sid = ss->heap[i], n = ss->nheap;
    int64_t  e = S(ss, sid)->end;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && S(ss, ss->heap[c + 1])->end < S(ss, ss->heap[c])->end) c++;
        if (S(ss, ss->heap[c])->end >= e) break;
        hset(ss, i, ss->heap[c]);
        i = c;
    }
    hset(ss, i, sid);
}

static int hpush(SessStore *ss, uint32_t sid)
{
    if (grow((void **)&ss->heap, &ss->heap_cap, sizeof *ss->heap, ss->nheap + 1) < 0) return -1;
    ss->heap[ss->nheap++] = sid;
    hup(ss, ss->nheap - 1);
    return 0;
}

static void hremove(SessStore *ss, uint32_t i)
{
    uint32_t last = ss->heap[--ss->nheap];
    if (i < ss->nheap) {
        hset(ss, i, last);
        hdown(ss, i);
        hup(ss, S(ss, last)->hpos);
    }
}

static int sess_alloc(SessStore *ss, uint32_t *sid)
{
    if (ss->free_head != AGG_NONE) {
        *sid = ss->free_head;
        ss->free_head = S(ss, *sid)->next;
    } else {
        if (ss->nrows >= AGG_NONE - 1 ||
            grow((void **)&ss->rows, &ss->rows_cap, ss->width, ss->nrows + 1) < 0)
            return -1;
        *sid = ss->nrows++;
    }
    SessHdr *h = S(ss, *sid);
    memset(h, 0, ss->width);
    h->next = h->fwd = h->hpos = AGG_NONE;
    h->flags = GF_LIVE;
    ss->live++;
    return 0;
}

static void sess_release(SessStore *ss, uint32_t sid)
{
    SessHdr *h = S(ss, sid);
    h->flags = 0;
    h->fwd = AGG_NONE;
    h->next = ss->free_head;
    ss->free_head = sid;
    ss->live--;
}

/* the checkpoint bucket bit of key row kg */
static inline uint64_t key_bit(const SessStore *ss, uint32_t kg)
{
    uint64_t h = ((const GroupHdr *)agg_table_row(&ss->keys, kg))->hash;
    return UINT64_C(1) << (((h >> 32) * ss->snap_mul) >> 32);   /* (as SNAP_BIT) */
}

static void key_deref(SessStore *ss, uint32_t kg)
{
    if (--pay(ss, kg)->nref == 0) agg_table_delete(&ss->keys, kg);
}

static void swap_arenas(Arena *a, Arena *b)
{
    Arena t = *a;
    *a = *b;
    *b = t;
}

static int compact(AggOp *op)
{
    SessStore *ss = op->ss;
    if (ss->has_var && arena_bytes_used(&ss->mem) > ss->mem_compact_at) {
        arena_reset(&ss->mem_spare);
        for (uint32_t sid = 0; sid < ss->nrows; sid++) {
            SessHdr *h = S(ss, sid);
            if (!(h->flags & GF_LIVE)) continue;
            if (agg_state_relocate(op, (uint8_t *)h + SESS_HDR, &ss->mem_spare) < 0) {
                ss->broken = 1;
                return agg_fail(op, "out of memory");
            }
        }
        swap_arenas(&ss->mem, &ss->mem_spare);
        arena_reset(&ss->mem_spare);
        size_t used = arena_bytes_used(&ss->mem);
        ss->mem_compact_at = 2 * used > COMPACT_MIN ? 2 * used : COMPACT_MIN;
    }
    if (op->kl.has_str && arena_bytes_used(&ss->keys.heap) > ss->keys_compact_at) {
        arena_reset(&ss->keys_spare);
        if (agg_table_move_keys(&ss->keys, &op->kl, &ss->keys_spare) < 0) {
            ss->broken = 1;
            return agg_fail(op, "out of memory");
        }
        swap_arenas(&ss->keys.heap, &ss->keys_spare);
        arena_reset(&ss->keys_spare);
        size_t used = arena_bytes_used(&ss->keys.heap);
        ss->keys_compact_at = 2 * used > COMPACT_MIN ? 2 * used : COMPACT_MIN;
    }
    return 0;
}

/* everything emitted: drop all memory but what the next cycle reuses */
static void clear_all(SessStore *ss)
{
    agg_table_reset(&ss->keys);
    ss->nrows = 0;
    ss->free_head = AGG_NONE;
    ss->live = 0;
    ss->nheap = ss->npending = ss->ndirty = ss->nghosts = 0;
    arena_reset(&ss->mem);
    arena_reset(&ss->mem_spare);
    arena_reset(&ss->keys_spare);
    ss->mem_compact_at = ss->keys_compact_at = COMPACT_MIN;
    ss->snap_dirty |= ss->snap_present;
}

static void emit_row(AggOp *op, int n, uint32_t kg, const uint8_t *st, int64_t start, int64_t end,
                     int64_t mark)
{
    EmitRow *e = &op->er[n];
    memset(e, 0, sizeof *e);
    e->key = agg_table_row(&op->ss->keys, kg) + GROUP_HDR;
    e->st = st;
    e->start = start;
    e->end = end;
    e->mark = mark;
}

/* rows needed to emit session h (changes mode: 0 when unchanged) */
static int rows_needed(const AggOp *op, const SessHdr *h)
{
    if (!op->changes) return 1;
    if (!(h->flags & GF_DIRTY)) return 0;
    if ((h->flags & GF_EMITTED) && (h->em_start != h->start || h->em_end != h->end)) return 2;
    return 1;
}

/* write session h's rows at er[n..]; returns the new n */
static int put_session(AggOp *op, int n, SessHdr *h)
{
    const uint8_t *st = (const uint8_t *)h + SESS_HDR;
    if (!op->changes) {
        emit_row(op, n++, h->key, st, h->start, h->end, AGG_ROW_INSERT);
        return n;
    }
    int need = rows_needed(op, h);
    op->ss->snap_dirty |= key_bit(op->ss, h->key);   /* its emitted bounds change */
    if (need == 2) emit_row(op, n++, h->key, NULL, h->em_start, h->em_end, AGG_ROW_DELETE);
    if (need >= 1)
        emit_row(op, n++, h->key, st, h->start, h->end,
                 need == 1 && (h->flags & GF_EMITTED) ? AGG_ROW_UPDATE : AGG_ROW_INSERT);
    h->flags = (h->flags & ~(uint32_t)GF_DIRTY) | GF_EMITTED;
    h->em_start = h->start;
    h->em_end = h->end;
    return n;
}

/* pending ghosts into er[n..cap); their keys into ss->derefs[*nd..] */
static int put_ghosts(AggOp *op, int n, int cap, uint32_t *nd)
{
    SessStore *ss = op->ss;
    while (ss->nghosts && n < cap) {
        const Ghost *g = &ss->ghosts[--ss->nghosts];
        ss->snap_dirty |= key_bit(ss, g->key);
        emit_row(op, n++, g->key, NULL, g->start, g->end, AGG_ROW_DELETE);
        ss->derefs[(*nd)++] = g->key;
    }
    return n;
}

static int reserve_done(AggOp *op, int cap)
{
    SessStore *ss = op->ss;
    if (op->changes && cap < 2)   /* a -D/+I pair must fit in one call */
        return agg_fail(op, "EMIT CHANGES over sessions needs output batches of >= 2 rows");
    if ((uint32_t)cap <= ss->done_cap) return 0;
    uint32_t *d = realloc(ss->done, (size_t)cap * sizeof *d);
    if (!d) return agg_fail(op, "out of memory");
    ss->done = d;
    uint32_t *r = realloc(ss->derefs, (size_t)cap * sizeof *r);
    if (!r) return agg_fail(op, "out of memory");
    ss->derefs = r;
    ss->done_cap = (uint32_t)cap;
    return 0;
}

/* ---- API ---------------------------------------------------------------------- */

int sess_new(AggOp *op)
{
    SessStore *ss = calloc(1, sizeof *ss);
    if (!ss) return -1;
    op->ss = ss;
    ss->snap_mul = op->snap_mul;
    ss->kpay = GROUP_HDR + op->kl.width;
    agg_table_init(&ss->keys, ss->kpay + (uint32_t)sizeof(KeyPay));
    arena_init(&ss->keys_spare, 4096);
    arena_init(&ss->mem, 4096);
    arena_init(&ss->mem_spare, 4096);
    ss->width = SESS_HDR + op->state_size;
    ss->free_head = AGG_NONE;
    ss->mem_compact_at = ss->keys_compact_at = COMPACT_MIN;
    for (int a = 0; a < op->naggs; a++) {
        const AggDesc *d = &op->ad[a];
        if (d->fn == AGGFN_COUNT_DISTINCT || d->fn == AGGFN_APPROX_COUNT_DISTINCT ||
            ((d->fn == AGGFN_MIN || d->fn == AGGFN_MAX) && d->vtype == TYPE_VARCHAR))
            ss->has_var = 1;
    }
    return 0;
}

void sess_free(AggOp *op)
{
    SessStore *ss = op->ss;
    agg_table_destroy(&ss->keys);
    arena_free(&ss->keys_spare);
    arena_free(&ss->mem);
    arena_free(&ss->mem_spare);
    free(ss->rows);
    free(ss->heap);
    free(ss->pending);
    free(ss->dirty);
    free(ss->ghosts);
    free(ss->done);
    free(ss->derefs);
    free(ss);
    op->ss = NULL;
}

int sess_assign(AggOp *op, const Batch *in, int m)
{
    (void)in;
    SessStore *ss = op->ss;
    if (ss->broken) return agg_fail(op, "out of memory (earlier)");
    if (agg_table_probe(&ss->keys, &op->kl, op->hashes, op->img, m, op->gids) < 0)
        return agg_fail(op, "out of memory");

    for (int j = 0; j < m; j++) {
        uint32_t kg = op->gids[j];
        KeyPay  *kp = pay(ss, kg);   /* key rows do not move below: no inserts */
        if (kp->nref == 0) kp->head = AGG_NONE;
        int64_t  s = op->starts[j], e = op->ends[j];
        uint32_t prev = AGG_NONE, cur = kp->head, tgt = AGG_NONE;
        while (cur != AGG_NONE) {
            SessHdr *h = S(ss, cur);
            if (h->start > e) break;
            uint32_t nxt = h->next;
            if (h->end >= s) {
                if (tgt == AGG_NONE) {
                    tgt = cur;
                    if (s < h->start) h->start = s;
                    if (e > h->end) {
                        h->end = e;
                        hdown(ss, h->hpos);
                    }
                } else {
                    /* h follows tgt directly: merge it in */
                    SessHdr *t = S(ss, tgt);
                    if (agg_state_merge(op, (uint8_t *)t + SESS_HDR, (const uint8_t *)h + SESS_HDR,
                                        &ss->mem) < 0)
                        return -1;
                    if (h->end > t->end) {
                        t->end = h->end;
                        hdown(ss, t->hpos);
                    }
                    t->next = nxt;
                    hremove(ss, h->hpos);
                    h->fwd = tgt;
                    if (op->changes && (h->flags & GF_EMITTED)) {
                        if (grow((void **)&ss->ghosts, &ss->ghosts_cap, sizeof *ss->ghosts,
                                 ss->nghosts + 1) < 0)
                            return agg_fail(op, "out of memory");
                        Ghost *g = &ss->ghosts[ss->nghosts++];
                        g->key = kg;
                        g->pad = 0;
                        g->start = h->em_start;
                        g->end = h->em_end;
                    } else {
                        kp->nref--;
                    }
                    h->flags &= ~(uint32_t)GF_LIVE;
                    if (u32_push(&ss->pending, &ss->npending, &ss->pending_cap, cur) < 0)
                        return agg_fail(op, "out of memory");
                    cur = nxt;
                    continue;
                }
            }
            prev = cur;
            cur = nxt;
        }
        if (tgt == AGG_NONE) {
            uint32_t sid;
            if (sess_alloc(ss, &sid) < 0) return agg_fail(op, "out of memory");
            SessHdr *h = S(ss, sid);
            h->start = s;
            h->end = e;
            h->key = kg;
            h->next = cur;
            if (prev == AGG_NONE) kp->head = sid;
            else S(ss, prev)->next = sid;
            if (hpush(ss, sid) < 0) return agg_fail(op, "out of memory");
            kp->nref++;
            tgt = sid;
        }
        op->gids[j] = tgt;
    }

    for (int j = 0; j < m; j++) {
        uint32_t sid = op->gids[j];
        while (S(ss, sid)->fwd != AGG_NONE) sid = S(ss, sid)->fwd;
        op->gids[j] = sid;
        op->gp[j] = (uint8_t *)S(ss, sid) + SESS_HDR;
        op->heaps[j] = &ss->mem;
        ss->snap_dirty |= SNAP_BIT(op, op->hashes[j]);
    }
    return 0;
}

int sess_after_push(AggOp *op, int m)
{
    SessStore *ss = op->ss;
    int        rc = 0;
    if (op->changes) {
        for (int j = 0; j < m && rc == 0; j++) {
            SessHdr *h = S(ss, op->gids[j]);
            if (h->flags & GF_DIRTY) continue;
            h->flags |= GF_DIRTY;
            if (u32_push(&ss->dirty, &ss->ndirty, &ss->dirty_cap, op->gids[j]) < 0)
                rc = agg_fail(op, "out of memory");
        }
    }
    for (uint32_t i = 0; i < ss->npending; i++) sess_release(ss, ss->pending[i]);
    ss->npending = 0;
    if (rc == 0) rc = compact(op);
    return rc;
}

int sess_emit(AggOp *op, Batch *out, int64_t limit, int flush, int *more)
{
    SessStore *ss = op->ss;
    const int  cap = out->capacity;
    int        n = 0;
    uint32_t   ndone = 0, nd = 0;
    if (ss->broken) return agg_fail(op, "out of memory (earlier)");
    if (reserve_done(op, cap) < 0) return -1;
    if (op->changes) n = put_ghosts(op, n, cap, &nd);
    *more = ss->nghosts > 0;
    while (!*more && ss->nheap > 0) {
        uint32_t sid = ss->heap[0];
        SessHdr *h = S(ss, sid);
        if (!flush && h->end > limit) break;
        if (n + rows_needed(op, h) > cap || ndone == (uint32_t)cap) {
            *more = 1;
            break;
        }
        n = put_session(op, n, h);
        hremove(ss, 0);
        ss->done[ndone++] = sid;
    }
    if (agg_emit_fill(op, out, op->er, n) < 0) return -1;

    for (uint32_t i = 0; i < ndone; i++) {
        uint32_t sid = ss->done[i];
        SessHdr *h = S(ss, sid);
        KeyPay  *kp = pay(ss, h->key);
        /* the earliest-ending session of a key is its first */
        if (kp->head == sid) {
            kp->head = h->next;
        } else {
            uint32_t p = kp->head;
            while (S(ss, p)->next != sid) p = S(ss, p)->next;
            S(ss, p)->next = h->next;
        }
        uint32_t kg = h->key;
        ss->snap_dirty |= key_bit(ss, kg);
        sess_release(ss, sid);
        key_deref(ss, kg);
    }
    for (uint32_t i = 0; i < nd; i++) key_deref(ss, ss->derefs[i]);
    if (flush && !*more) clear_all(ss);
    return n;
}

int sess_changes(AggOp *op, Batch *out, int *more)
{
    SessStore *ss = op->ss;
    const int  cap = out->capacity;
    uint32_t   nd = 0;
    if (ss->broken) return agg_fail(op, "out of memory (earlier)");
    if (reserve_done(op, cap) < 0) return -1;
    int n = put_ghosts(op, 0, cap, &nd);
    while (ss->ndirty) {
        SessHdr *h = S(ss, ss->dirty[ss->ndirty - 1]);
        if ((h->flags & (GF_LIVE | GF_DIRTY)) != (GF_LIVE | GF_DIRTY)) {
            ss->ndirty--;   /* stale: emitted, merged or freed since */
            continue;
        }
        if (n + rows_needed(op, h) > cap) break;
        ss->ndirty--;
        n = put_session(op, n, h);
    }
    *more = ss->ndirty > 0 || ss->nghosts > 0;
    if (agg_emit_fill(op, out, op->er, n) < 0) return -1;
    for (uint32_t i = 0; i < nd; i++) key_deref(ss, ss->derefs[i]);
    return n;
}

int64_t sess_count(const AggOp *op)
{
    return op->ss->live;
}

size_t sess_bytes(const AggOp *op)
{
    const SessStore *ss = op->ss;
    return agg_table_bytes(&ss->keys) + arena_bytes_reserved(&ss->keys_spare) +
           (size_t)ss->rows_cap * ss->width + (size_t)ss->heap_cap * sizeof *ss->heap +
           (size_t)ss->pending_cap * sizeof *ss->pending + (size_t)ss->dirty_cap * sizeof *ss->dirty +
           (size_t)ss->ghosts_cap * sizeof *ss->ghosts + (size_t)ss->done_cap * 2 * sizeof *ss->done +
           arena_bytes_reserved(&ss->mem) + arena_bytes_reserved(&ss->mem_spare);
}

/* ---- checkpoints -------------------------------------------------------------------
 *
 * One chunk per bucket of the key table ("S" bucket): varint number of
 * keys, then per key: the key (snap_put_key), varint sessions, varint
 * ghosts; each session zigzag start, end, u8 flags (1 changed since the
 * last emission, 2 emitted), when emitted its emitted start and end, then
 * its states; each ghost (a pending -D) its start and end. */

typedef struct GhostRef {
    uint32_t key, idx;
} GhostRef;

static int ghost_cmp(const void *a, const void *b)
{
    const GhostRef *x = a, *y = b;
    return x->key != y->key ? (x->key < y->key ? -1 : 1) : (x->idx < y->idx ? -1 : x->idx > y->idx);
}

int sess_snapshot(AggOp *op, int full, AggChunkFn fn, void *ctx)
{
    SessStore *ss = op->ss;
    uint64_t   mask = full ? ~UINT64_C(0) : ss->snap_dirty;
    uint32_t   start[65];
    GhostRef  *gr = NULL;
    int        rc = -1;
    if (ss->broken) return agg_fail(op, "out of memory (earlier)");
    ss->snap_next = ss->snap_present & ~mask;
    if (!mask) return 0;
    if (snap_bucket_rows(op, ss->keys.rows, ss->keys.nrows, ss->keys.width, mask, start) < 0)
        return -1;
    if (ss->nghosts) {
        if (!(gr = malloc((size_t)ss->nghosts * sizeof *gr))) return agg_fail(op, "out of memory");
        for (uint32_t i = 0; i < ss->nghosts; i++) gr[i] = (GhostRef){ss->ghosts[i].key, i};
        qsort(gr, ss->nghosts, sizeof *gr, ghost_cmp);
    }
    for (unsigned b = 0; b < 64; b++) {
        if (!(mask >> b & 1)) continue;
        uint32_t n = start[b + 1] - start[b];
        uint8_t  key[2] = {'S', (uint8_t)b};
        if (n == 0) {
            if ((ss->snap_present >> b & 1) && snap_emit(op, fn, ctx, key, 2, NULL) < 0) goto out;
            continue;
        }
        SnapBuf *sb = &op->sbuf;
        snap_put_header(op, sb, 'S');
        snap_put_varint(sb, n);
        for (uint32_t i = start[b]; i < start[b + 1]; i++) {
            uint32_t kg = op->sgids[i], ns = 0, g0 = 0, ng = 0;
            snap_put_key(op, sb, agg_table_row(&ss->keys, kg) + GROUP_HDR);
            for (uint32_t sid = pay(ss, kg)->head; sid != AGG_NONE && pay(ss, kg)->nref; sid = S(ss, sid)->next)
                ns++;
            if (gr) {   /* this key's ghosts: a run of the sorted refs */
                uint32_t lo = 0, hi = ss->nghosts;
                while (lo < hi) {
                    uint32_t mid = (lo + hi) / 2;
                    if (gr[mid].key < kg) lo = mid + 1;
                    else hi = mid;
                }
                g0 = lo;
                while (lo < ss->nghosts && gr[lo].key == kg) lo++;
                ng = lo - g0;
            }
            snap_put_varint(sb, ns);
            snap_put_varint(sb, ng);
            for (uint32_t sid = ns ? pay(ss, kg)->head : AGG_NONE; sid != AGG_NONE; sid = S(ss, sid)->next) {
                const SessHdr *h = S(ss, sid);
                snap_put_i64(sb, h->start);
                snap_put_i64(sb, h->end);
                snap_put_u8(sb, (uint8_t)((h->flags & GF_DIRTY ? 1 : 0) | (h->flags & GF_EMITTED ? 2 : 0)));
                if (h->flags & GF_EMITTED) {
                    snap_put_i64(sb, h->em_start);
                    snap_put_i64(sb, h->em_end);
                }
                agg_state_snap_put(op, (const uint8_t *)h + SESS_HDR, sb);
            }
            for (uint32_t g = g0; g < g0 + ng; g++) {
                snap_put_i64(sb, ss->ghosts[gr[g].idx].start);
                snap_put_i64(sb, ss->ghosts[gr[g].idx].end);
            }
        }
        if (snap_emit(op, fn, ctx, key, 2, sb) < 0) goto out;
        ss->snap_next |= UINT64_C(1) << b;
    }
    rc = 0;
out:
    free(gr);
    return rc;
}

void sess_snap_commit(AggOp *op)
{
    op->ss->snap_present = op->ss->snap_next;
    op->ss->snap_dirty = 0;
}

int sess_restore_check_wm(AggOp *op)
{
    SessStore *ss = op->ss;
    if (op->have_wm && ss->nheap && S(ss, ss->heap[0])->end <= op->wm)
        return agg_fail(op, "restore: a session that the watermark closed");
    return 0;
}

int sess_restore(AggOp *op, unsigned bucket, SnapRd *r)
{
    SessStore *ss = op->ss;
    uint64_t   nkeys;
    if (ss->snap_present >> bucket & 1) return agg_fail(op, "restore: chunk loaded twice");
    if (snap_get_varint(r, &nkeys) < 0 || nkeys == 0 || nkeys > (uint64_t)(r->end - r->p))
        return agg_fail(op, "restore: bad session key count");
    for (uint64_t k = 0; k < nkeys; k++) {
        uint64_t h, ns, ng;
        uint32_t kg;
        if (snap_get_key(op, r, op->img, &h) < 0) return -1;
        if (SNAP_BUCKET(op, h) != bucket) return agg_fail(op, "restore: a session key in the wrong bucket");
        if (snap_get_varint(r, &ns) < 0 || snap_get_varint(r, &ng) < 0 || ns + ng == 0 ||
            ns > (uint64_t)(r->end - r->p) || ng > (uint64_t)(r->end - r->p) || (ng && !op->changes))
            return agg_fail(op, "restore: bad session counts");
        uint32_t used = ss->keys.used;
        if (agg_table_probe(&ss->keys, &op->kl, &h, op->img, 1, &kg) < 0) return agg_fail(op, "out of memory");
        if (ss->keys.used == used) return agg_fail(op, "restore: a session key loaded twice");
        KeyPay *kp = pay(ss, kg);
        kp->head = AGG_NONE;
        kp->nref = 0;
        uint32_t prev = AGG_NONE;
        for (uint64_t i = 0; i < ns; i++) {
            int64_t  st, en, es = 0, ee = 0;
            uint8_t  fl;
            uint32_t sid;
            if (snap_get_i64(r, &st) < 0 || snap_get_i64(r, &en) < 0 || snap_get_u8(r, &fl) < 0)
                return agg_fail(op, "restore: truncated session");
            if (st > en || fl > 3 || (fl && !op->changes)) return agg_fail(op, "restore: malformed session");
            if ((fl & 2) && (snap_get_i64(r, &es) < 0 || snap_get_i64(r, &ee) < 0))
                return agg_fail(op, "restore: truncated session");
            if (prev != AGG_NONE && st <= S(ss, prev)->end)
                return agg_fail(op, "restore: sessions of one key overlap or touch");
            if (op->snap_meta && op->have_wm && en <= op->wm)
                return agg_fail(op, "restore: a session that the watermark closed");
            if (sess_alloc(ss, &sid) < 0) return agg_fail(op, "out of memory");
            SessHdr *sh = S(ss, sid);
            sh->start = st;
            sh->end = en;
            sh->em_start = es;
            sh->em_end = ee;
            sh->key = kg;
            sh->flags |= (fl & 1 ? GF_DIRTY : 0) | (fl & 2 ? GF_EMITTED : 0);
            if (prev == AGG_NONE) kp->head = sid;
            else S(ss, prev)->next = sid;
            prev = sid;
            kp->nref++;
            if (hpush(ss, sid) < 0) return agg_fail(op, "out of memory");
            if (agg_state_snap_get(op, (uint8_t *)sh + SESS_HDR, &ss->mem, r) < 0) return -1;
            if ((fl & 1) && u32_push(&ss->dirty, &ss->ndirty, &ss->dirty_cap, sid) < 0)
                return agg_fail(op, "out of memory");
        }
        for (uint64_t i = 0; i < ng; i++) {
            int64_t st, en;
            if (snap_get_i64(r, &st) < 0 || snap_get_i64(r, &en) < 0)
                return agg_fail(op, "restore: truncated retraction");
            if (grow((void **)&ss->ghosts, &ss->ghosts_cap, sizeof *ss->ghosts, ss->nghosts + 1) < 0)
                return agg_fail(op, "out of memory");
            Ghost *g = &ss->ghosts[ss->nghosts++];
            g->key = kg;
            g->pad = 0;
            g->start = st;
            g->end = en;
            kp->nref++;
        }
    }
    if (r->p != r->end) return agg_fail(op, "restore: trailing bytes in a chunk");
    ss->snap_present |= UINT64_C(1) << bucket;
    return 0;
}

/* ---- debug ------------------------------------------------------------------------ */

int sess_check(AggOp *op)
{
    SessStore *ss = op->ss;
    if (agg_table_check(&ss->keys, &op->kl) < 0) return agg_fail(op, "check: session key table");
    uint32_t live = 0;
    for (uint32_t sid = 0; sid < ss->nrows; sid++) live += (S(ss, sid)->flags & GF_LIVE) != 0;
    if (live != ss->live || ss->nheap != live) return agg_fail(op, "check: session counts");
    for (uint32_t i = 0; i < ss->nheap; i++) {
        const SessHdr *h = S(ss, ss->heap[i]);
        if (h->hpos != i || !(h->flags & GF_LIVE)) return agg_fail(op, "check: heap position");
        if (i && S(ss, ss->heap[(i - 1) / 2])->end > h->end) return agg_fail(op, "check: heap order");
    }
    uint32_t listed = 0;
    for (uint32_t kg = 0; kg < ss->keys.nrows; kg++) {
        const GroupHdr *kh = (const GroupHdr *)agg_table_row(&ss->keys, kg);
        if (!(kh->flags & GF_LIVE)) continue;
        const KeyPay *kp = pay(ss, kg);
        uint32_t      n = 0;
        int64_t       prev_end = INT64_MIN;
        for (uint32_t sid = kp->head; sid != AGG_NONE; sid = S(ss, sid)->next, n++) {
            const SessHdr *h = S(ss, sid);
            if (!(h->flags & GF_LIVE) || h->key != kg || n > ss->live)
                return agg_fail(op, "check: session list");
            if (n && h->start <= prev_end) return agg_fail(op, "check: sessions overlap or touch");
            prev_end = h->end;
        }
        for (uint32_t g = 0; g < ss->nghosts; g++) n += ss->ghosts[g].key == kg;
        if (n == 0 || n != kp->nref) return agg_fail(op, "check: key reference count");
        listed += n;
    }
    return listed == ss->live + ss->nghosts ? 0 : agg_fail(op, "check: sessions outside lists");
}

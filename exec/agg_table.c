/*
 * agg_table.c — the aggregate's open-addressing hash table (agg_int.h).
 *
 * Slots are one uint64 each: the top 32 bits of the key's hash (a tag that
 * rejects almost every non-matching slot without touching its row) and the
 * row number + 1 (0 = empty). The home slot is hash & (cap - 1); probing is
 * linear; the load stays <= 1/2, so a probe usually ends at its home slot or
 * the next one. Rows (GroupHdr, key image, states) live apart from the
 * slots in one row-major array that grows by doubling; a row never moves
 * within the array, so a row number is a stable handle (pointers are not:
 * they are recomputed after an insert may have grown the array).
 *
 * Deletion (session keys only) uses backward shifting, so there are no
 * tombstones and probes stay short; freed rows are reused through a free
 * list. Growth rehashes from the hash kept in every row.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"

#define TAG_MASK UINT64_C(0xffffffff00000000)

/* ---- private helpers ------------------------------------------------------ */

/* keys without VARCHAR: the images are equal word for word */
static inline int words_eq(const uint8_t *a, const uint8_t *b, uint32_t nw)
{
    const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
    uint64_t        diff = 0;
    for (uint32_t w = 0; w < nw; w++) diff |= x[w] ^ y[w];
    return diff == 0;
}

static int keys_eq(const KeyLayout *kl, const uint8_t *a, const uint8_t *b)
{
    uint32_t nw = kl->width / 8;
    const uint64_t *x = (const uint64_t *)a, *y = (const uint64_t *)b;
    if (!kl->has_str) return words_eq(a, b, nw);
    if (x[nw - 1] != y[nw - 1]) return 0;   /* NULL masks */
    for (int k = 0; k < kl->n; k++) {
        uint32_t off = kl->off[k];
        if (kl->type[k] == TYPE_VARCHAR) {
            const Str *s = (const Str *)(a + off), *t = (const Str *)(b + off);
            if (s->len != t->len || (s->len && memcmp(s->ptr, t->ptr, s->len) != 0)) return 0;
        } else if (x[off / 8] != y[off / 8]) {
            return 0;
        }
    }
    return 1;
}

static void slot_put(AggTable *t, uint64_t h, uint32_t gid)
{
    uint32_t mask = t->cap - 1, pos = (uint32_t)h & mask;
    while (t->slots[pos]) pos = (pos + 1) & mask;
    t->slots[pos] = (h & TAG_MASK) | ((uint64_t)gid + 1);
}

static int grow_slots(AggTable *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 4;
    if (ncap == 0 || ncap > (UINT32_C(1) << 31)) return -1;
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (!ns) return -1;
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    for (uint32_t g = 0; g < t->nrows; g++) {
        const GroupHdr *h = (const GroupHdr *)agg_table_row(t, g);
        if (h->flags & GF_LIVE) slot_put(t, h->hash, g);
    }
    return 0;
}

/* a zeroed row: from the free list, or appended */
static int row_new(AggTable *t, uint32_t *gid)
{
    if (t->free_head != AGG_NONE) {
        *gid = t->free_head;
        t->free_head = ((GroupHdr *)agg_table_row(t, *gid))->aux;
    } else {
        if (t->nrows == t->rows_cap) {
            uint32_t ncap = t->rows_cap ? t->rows_cap * 2 : 2;
            if (ncap >= AGG_NONE / 2) return -1;
            uint8_t *nr = realloc(t->rows, (size_t)ncap * t->width);
            if (!nr) return -1;
            t->rows = nr;
            t->rows_cap = ncap;
        }
        *gid = t->nrows++;
    }
    memset(agg_table_row(t, *gid), 0, t->width);
    return 0;
}

static int row_insert(AggTable *t, const KeyLayout *kl, uint64_t h, const uint8_t *key,
                      uint32_t *gid)
{
    if (row_new(t, gid) < 0) return -1;
    uint8_t  *row = agg_table_row(t, *gid);
    GroupHdr *hdr = (GroupHdr *)row;
    hdr->hash = h;
    hdr->flags = GF_LIVE;
    hdr->aux = AGG_NONE;
    memcpy(row + GROUP_HDR, key, kl->width);
    if (kl->has_str) {
        const uint64_t mask = kl->width ? *(const uint64_t *)(key + kl->width - 8) : 0;
        for (int k = 0; k < kl->n; k++) {
            if (kl->type[k] != TYPE_VARCHAR || (mask >> k & 1)) continue;
            Str *s = (Str *)(row + GROUP_HDR + kl->off[k]);
            if (s->len == 0) {
                s->ptr = NULL;
                continue;
            }
            char *copy = arena_alloc_bytes(&t->heap, s->len);
            if (!copy) {
                /* undo: the row goes back to the free list */
                hdr->flags = 0;
                hdr->aux = t->free_head;
                t->free_head = *gid;
                return -1;
            }
            memcpy(copy, s->ptr, s->len);
            s->ptr = copy;
        }
    }
    t->used++;
    return 0;
}

/* ---- API -------------------------------------------------------------------- */

void agg_table_init(AggTable *t, uint32_t width)
{
    memset(t, 0, sizeof *t);
    t->width = width;
    t->free_head = AGG_NONE;
    arena_init(&t->heap, 256);   /* grows by doubling: a small window table stays small */
}

void agg_table_destroy(AggTable *t)
{
    free(t->slots);
    free(t->rows);
    free(t->dirty);
    arena_free(&t->heap);
    agg_bloom_free(t);
    uint32_t w = t->width;
    agg_table_init(t, w);
}

void agg_table_reset(AggTable *t)
{
    if (t->slots && t->used) memset(t->slots, 0, (size_t)t->cap * sizeof *t->slots);
    t->used = 0;
    t->nrows = 0;
    t->free_head = AGG_NONE;
    t->ndirty = 0;
    t->emit_pos = 0;
    t->snap_dirty |= t->snap_present;   /* stored buckets are now empty */
    arena_reset(&t->heap);
}

size_t agg_table_bytes(const AggTable *t)
{
    return (size_t)t->cap * sizeof *t->slots + (size_t)t->rows_cap * t->width +
           (size_t)t->dirty_cap * sizeof *t->dirty + arena_bytes_reserved(&t->heap);
}

int agg_table_probe(AggTable *t, const KeyLayout *kl, const uint64_t *hashes,
                    const uint8_t *img, int n, uint32_t *gids)
{
    const uint32_t kw = kl->width, nw = kw / 8;
    const int      has_str = kl->has_str;
    for (int i = 0; i < n; i++) {
        if ((t->used + 1) * 2 > t->cap && grow_slots(t) < 0) return -1;
        const uint64_t h = hashes[i], tag = h & TAG_MASK;
        const uint8_t *key = img + (size_t)i * kw;
        const uint32_t mask = t->cap - 1;
        uint32_t       pos = (uint32_t)h & mask, gid;
        for (;;) {
            uint64_t s = t->slots[pos];
            if (!s) {
                if (row_insert(t, kl, h, key, &gid) < 0) return -1;
                t->slots[pos] = tag | ((uint64_t)gid + 1);
                break;
            }
            if ((s & TAG_MASK) == tag) {
                gid = (uint32_t)s - 1;
                const uint8_t *rk = agg_table_row(t, gid) + GROUP_HDR;
                if (has_str ? keys_eq(kl, rk, key) : words_eq(rk, key, nw)) break;
            }
            pos = (pos + 1) & mask;
        }
        gids[i] = gid;
    }
    return 0;
}

uint32_t agg_table_find(const AggTable *t, const KeyLayout *kl, uint64_t h, const uint8_t *key)
{
    if (t->cap == 0 || t->used == 0) return AGG_NONE;
    const uint64_t tag = h & TAG_MASK;
    const uint32_t mask = t->cap - 1;
    for (uint32_t pos = (uint32_t)h & mask;; pos = (pos + 1) & mask) {
        uint64_t s = t->slots[pos];
        if (!s) return AGG_NONE;
        if ((s & TAG_MASK) != tag) continue;
        uint32_t       gid = (uint32_t)s - 1;
        const uint8_t *rk = agg_table_row(t, gid) + GROUP_HDR;
        if (kl->has_str ? keys_eq(kl, rk, key) : words_eq(rk, key, kl->width / 8)) return gid;
    }
}

void agg_table_delete(AggTable *t, uint32_t gid)
{
    GroupHdr *hdr = (GroupHdr *)agg_table_row(t, gid);
    uint32_t  mask = t->cap - 1, i = (uint32_t)hdr->hash & mask;
    while ((uint32_t)t->slots[i] != gid + 1) i = (i + 1) & mask;
    for (uint32_t j = i;;) {
        j = (j + 1) & mask;
        uint64_t s = t->slots[j];
        if (!s) break;
        const GroupHdr *o = (const GroupHdr *)agg_table_row(t, (uint32_t)s - 1);
        uint32_t        home = (uint32_t)o->hash & mask;
        /* the entry at j may fill the hole at i unless its home lies in (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            t->slots[i] = s;
            i = j;
        }
    }
    t->slots[i] = 0;
    hdr->flags = 0;
    hdr->aux = t->free_head;
    t->free_head = gid;
    t->used--;
}

int agg_table_push_dirty(AggTable *t, uint32_t gid)
{
    if (t->ndirty == t->dirty_cap) {
        uint32_t  ncap = t->dirty_cap ? t->dirty_cap * 2 : 4;
        uint32_t *nd = realloc(t->dirty, (size_t)ncap * sizeof *nd);
        if (!nd) return -1;
        t->dirty = nd;
        t->dirty_cap = ncap;
    }
    t->dirty[t->ndirty++] = gid;
    return 0;
}

int agg_table_move_keys(AggTable *t, const KeyLayout *kl, Arena *to)
{
    if (!kl->has_str) return 0;
    for (uint32_t g = 0; g < t->nrows; g++) {
        uint8_t *row = agg_table_row(t, g);
        if (!(((GroupHdr *)row)->flags & GF_LIVE)) continue;
        for (int k = 0; k < kl->n; k++) {
            if (kl->type[k] != TYPE_VARCHAR) continue;
            Str *s = (Str *)(row + GROUP_HDR + kl->off[k]);
            if (!s->len) continue;
            char *copy = arena_alloc_bytes(to, s->len);
            if (!copy) return -1;
            memcpy(copy, s->ptr, s->len);
            s->ptr = copy;
        }
    }
    return 0;
}

/* ---- debug ------------------------------------------------------------------ */

int agg_table_check(const AggTable *t, const KeyLayout *kl)
{
    uint32_t live = 0, occupied = 0;
    for (uint32_t i = 0; i < t->cap; i++) occupied += t->slots[i] != 0;
    for (uint32_t g = 0; g < t->nrows; g++) {
        const uint8_t  *row = agg_table_row(t, g);
        const GroupHdr *h = (const GroupHdr *)row;
        if (!(h->flags & GF_LIVE)) continue;
        live++;
        /* probing from the home slot must reach this row before an empty slot */
        uint32_t mask = t->cap - 1, pos = (uint32_t)h->hash & mask, steps = 0;
        for (;; pos = (pos + 1) & mask) {
            uint64_t s = t->slots[pos];
            if (!s || ++steps > t->cap) return -1;
            if ((uint32_t)s == g + 1) break;
            if ((s & TAG_MASK) == (h->hash & TAG_MASK) &&
                keys_eq(kl, agg_table_row(t, (uint32_t)s - 1) + GROUP_HDR, row + GROUP_HDR))
                return -1;   /* a duplicate key */
        }
        if ((t->slots[pos] & TAG_MASK) != (h->hash & TAG_MASK)) return -1;
    }
    return live == t->used && occupied == t->used ? 0 : -1;
}

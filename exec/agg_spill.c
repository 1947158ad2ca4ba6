/*
 * agg_spill.c — the aggregate's groups out of memory and back (agg.h,
 * "spilling: state larger than memory").
 *
 * A table with spilled groups keeps their number and a scalable bloom
 * filter of their hashes: segments of growing size (each new one twice the
 * keys of the last), 12 bits and 6 probes per key (about 1.5% false
 * positives per segment). A bloom filter cannot forget, so a group taken
 * back stays in it; the filter is dropped when the table has no spilled
 * group left.
 *
 * Eviction takes groups in row order, oldest window first, encodes each
 * with the checkpoint encoding (agg_snapshot.c) and removes it; the table is
 * then rebuilt at its new size by encoding and decoding its remaining
 * groups into a fresh table (so VARCHAR keys, COUNT(DISTINCT) sets and
 * saved results move to a fresh arena and the memory of the evicted ones
 * really goes back).
 */
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"
#include "exec/hash.h"

#define SPILL_VERSION   1
#define BLOOM_PROBES    6
#define BLOOM_BITS_KEY  12
#define BLOOM_FIRST     1024     /* keys of the first segment */
#define BLOOM_MAX_SEG   40

typedef struct BloomSeg {
    uint64_t *w;
    uint64_t  mask;   /* bits - 1 (bits a power of two) */
    uint64_t  n, cap; /* keys added, keys planned      */
} BloomSeg;

struct AggBloom {
    BloomSeg seg[BLOOM_MAX_SEG];
    int      nseg;
};

/* ---- the bloom filter ---------------------------------------------------------------- */

static inline uint64_t bloom_h2(uint64_t h)
{
    return ((h >> 29) | (h << 35)) * UINT64_C(0x9e3779b97f4a7c15) | 1;
}

static int bloom_add(AggTable *t, uint64_t h)
{
    struct AggBloom *b = t->bloom;
    if (!b && !(b = t->bloom = calloc(1, sizeof *b))) return -1;
    BloomSeg *s = b->nseg ? &b->seg[b->nseg - 1] : NULL;
    if (!s || s->n >= s->cap) {
        if (b->nseg == BLOOM_MAX_SEG) {
            s = &b->seg[b->nseg - 1];   /* saturate the last one (never happens below 2^49 keys) */
        } else {
            uint64_t cap = s ? s->cap * 2 : BLOOM_FIRST, bits = 64;
            while (bits < cap * BLOOM_BITS_KEY) bits <<= 1;
            uint64_t *w = calloc(bits / 64, sizeof *w);
            if (!w) return -1;
            s = &b->seg[b->nseg++];
            s->w = w;
            s->mask = bits - 1;
            s->n = 0;
            s->cap = cap;
        }
    }
    uint64_t x = h, d = bloom_h2(h);
    for (int i = 0; i < BLOOM_PROBES; i++, x += d) s->w[(x & s->mask) >> 6] |= UINT64_C(1) << (x & 63);
    s->n++;
    return 0;
}

static int bloom_maybe(const AggTable *t, uint64_t h)
{
    const struct AggBloom *b = t->bloom;
    if (!b) return 0;
    uint64_t d = bloom_h2(h);
    for (int k = 0; k < b->nseg; k++) {
        const BloomSeg *s = &b->seg[k];
        uint64_t        x = h;
        int             hit = 1;
        for (int i = 0; i < BLOOM_PROBES && hit; i++, x += d)
            hit = (s->w[(x & s->mask) >> 6] >> (x & 63)) & 1;
        if (hit) return 1;
    }
    return 0;
}

void agg_bloom_free(AggTable *t)
{
    if (!t->bloom) return;
    for (int k = 0; k < t->bloom->nseg; k++) free(t->bloom->seg[k].w);
    free(t->bloom);
    t->bloom = NULL;
}

size_t agg_bloom_bytes(const AggTable *t)
{
    if (!t->bloom) return 0;
    size_t n = sizeof *t->bloom;
    for (int k = 0; k < t->bloom->nseg; k++) n += (size_t)(t->bloom->seg[k].mask + 1) / 8;
    return n;
}

/* ---- encodings ------------------------------------------------------------------------ */

/* the table prefix of a gkey; returns its length */
static size_t table_prefix(const AggOp *op, const AggTable *t, uint8_t *p)
{
    if (!op->windowed) {
        p[0] = 'G';
        return 1;
    }
    uint64_t e = (uint64_t)t->wend ^ (UINT64_C(1) << 63);
    p[0] = 'W';
    for (int i = 0; i < 8; i++) p[1 + i] = (uint8_t)(e >> (56 - 8 * i));
    return 9;
}

/* the table a gkey names (found, or created when create); its prefix length
 * in *plen. NULL with the error set. */
static AggTable *gkey_table(AggOp *op, const uint8_t *g, size_t klen, int create, size_t *plen)
{
    if (klen < 1) {
        agg_fail(op, "spill: an empty group key");
        return NULL;
    }
    if (!op->windowed) {
        if (g[0] != 'G') {
            agg_fail(op, "spill: a group key of another aggregate (not 'G')");
            return NULL;
        }
        *plen = 1;
        return &op->global;
    }
    if (g[0] != 'W' || klen < 9) {
        agg_fail(op, "spill: a group key of another aggregate (not 'W' + window)");
        return NULL;
    }
    uint64_t e = 0;
    for (int i = 0; i < 8; i++) e = e << 8 | g[1 + i];
    int64_t wend = (int64_t)(e ^ (UINT64_C(1) << 63));
    *plen = 9;
    AggTable *t = agg_table_lookup(op, wend);
    if (t || !create) {
        if (!t) agg_fail(op, "spill: a group of a window that is not open");
        return t;
    }
    if (op->have_wm && wend <= op->wm) {
        agg_fail(op, "spill: a group of a window that the watermark closed");
        return NULL;
    }
    if (!(t = agg_table_for(op, wend))) agg_fail(op, "out of memory");
    return t;
}

/* decode the key part of a gkey into op->simg (and its hash); checks the
 * window and that nothing follows */
static int gkey_image(AggOp *op, const AggTable *t, const uint8_t *g, size_t klen, size_t plen,
                      uint64_t *h)
{
    SnapRd r = {g + plen, g + klen};
    if (snap_get_key(op, &r, op->simg, h) < 0) return -1;
    if (r.p != r.end) return agg_fail(op, "spill: trailing bytes in a group key");
    if (op->windowed) {
        int li = op->kmap[op->wend];
        if ((*(uint64_t *)(op->simg + op->kl.width - 8) >> li & 1) ||
            *(int64_t *)(op->simg + op->kl.off[li]) != t->wend)
            return agg_fail(op, "spill: a group key of another window");
    }
    return 0;
}

static int ensure_simg(AggOp *op)
{
    if (op->simg) return 0;
    op->simg = calloc(1, op->kl.width ? op->kl.width : 8);
    return op->simg ? 0 : agg_fail(op, "out of memory");
}

static int spillable(const AggOp *op)
{
    return !op->session && op->phase != AGG_PHASE_PARTIAL;
}

/* insert the group of image op->simg (hash h) into t from its value */
static int load_value(AggOp *op, AggTable *t, uint64_t h, const uint8_t *val, size_t vlen)
{
    SnapRd   r = {val, val + vlen};
    uint8_t  ver, fl;
    uint32_t gid;
    if (!val || snap_get_u8(&r, &ver) < 0 || ver != SPILL_VERSION)
        return agg_fail(op, "spill: a group value of an unknown version");
    if (snap_get_u8(&r, &fl) < 0 || (fl & ~2u) || (fl && !op->changes))
        return agg_fail(op, "spill: bad group flags");
    if (agg_table_find(t, &op->kl, h, op->simg) != AGG_NONE)
        return agg_fail(op, "spill: a group loaded while it is in memory");
    if (agg_table_probe(t, &op->kl, &h, op->simg, 1, &gid) < 0) return agg_fail(op, "out of memory");
    uint8_t *row = agg_table_row(t, gid);
    int rc = agg_state_snap_get(op, row + op->state_off, &t->heap, &r);
    if (rc == 0 && op->update_before && (fl & 2)) rc = agg_res_snap_get(op, row + op->res_off, &t->heap, &r);
    if (rc == 0 && r.p != r.end) rc = agg_fail(op, "spill: trailing bytes in a group value");
    if (rc == 0 && op->retract && op->phase != AGG_PHASE_PARTIAL &&
        *(const int64_t *)(row + op->state_off + op->cnt_off) <= 0)
        rc = agg_fail(op, "spill: a group with a bad live row count");
    if (rc < 0) {
        agg_table_delete(t, gid);   /* the table stays as it was (arena bytes aside) */
        return -1;
    }
    ((GroupHdr *)row)->flags |= fl & 2 ? GF_EMITTED : 0;
    t->snap_dirty |= SNAP_BIT(op, h);   /* the group is in this bucket's chunk again */
    t->nspilled--;
    op->nspilled--;
    op->spill_loads++;
    if (t->nspilled == 0) agg_bloom_free(t);
    return 0;
}

/* ---- table rebuild --------------------------------------------------------------------- */

/* encode group row (flags, key, state, results) as a checkpoint chunk holds it */
static void group_put(const AggOp *op, SnapBuf *b, const uint8_t *row)
{
    const GroupHdr *h = (const GroupHdr *)row;
    snap_put_key(op, b, row + GROUP_HDR);
    agg_state_snap_put(op, row + op->state_off, b);
    if (op->update_before && (h->flags & GF_EMITTED)) agg_res_snap_put(op, row + op->res_off, b);
}

/* rebuild t at the size of its live groups (see the top) */
static int table_rebuild(AggOp *op, AggTable *t)
{
    AggTable  nt;
    uint32_t *remap = NULL;
    agg_table_init(&nt, t->width);
    if (op->changes && t->ndirty && !(remap = malloc((size_t)t->nrows * sizeof *remap))) goto oom;
    for (uint32_t g = 0; g < t->nrows; g++) {
        const uint8_t  *row = agg_table_row(t, g);
        const GroupHdr *h = (const GroupHdr *)row;
        if (!(h->flags & GF_LIVE)) continue;
        SnapBuf *sb = &op->kbuf;
        sb->n = 0;
        group_put(op, sb, row);
        if (sb->oom) goto oom;
        SnapRd   r = {sb->p, sb->p + sb->n};
        uint64_t hash;
        uint32_t ng;
        if (snap_get_key(op, &r, op->simg, &hash) < 0 || hash != h->hash) goto bad;
        if (agg_table_probe(&nt, &op->kl, &hash, op->simg, 1, &ng) < 0) goto oom;
        uint8_t *nrow = agg_table_row(&nt, ng);
        if (agg_state_snap_get(op, nrow + op->state_off, &nt.heap, &r) < 0) goto bad;
        if (op->update_before && (h->flags & GF_EMITTED) &&
            agg_res_snap_get(op, nrow + op->res_off, &nt.heap, &r) < 0)
            goto bad;
        ((GroupHdr *)nrow)->flags = h->flags;
        if (remap) remap[g] = ng;
    }
    for (uint32_t i = 0; remap && i < t->ndirty; i++) {
        uint32_t        g = t->dirty[i];
        const GroupHdr *h = (const GroupHdr *)agg_table_row(t, g);
        if ((h->flags & (GF_LIVE | GF_DIRTY)) != (GF_LIVE | GF_DIRTY)) continue;
        if (agg_table_push_dirty(&nt, remap[g]) < 0) goto oom;
    }
    free(remap);
    nt.wend = t->wend;
    nt.snap_dirty = t->snap_dirty;
    nt.snap_present = t->snap_present;
    nt.snap_next = t->snap_next;
    nt.nspilled = t->nspilled;
    nt.bloom = t->bloom;
    nt.drain = t->drain;
    t->bloom = NULL;
    agg_table_destroy(t);
    *t = nt;
    return 0;
oom:
    free(remap);
    agg_table_destroy(&nt);
    return agg_fail(op, "out of memory");
bad:
    free(remap);
    agg_table_destroy(&nt);
    return op->err[0] ? -1 : agg_fail(op, "spill: a group does not re-encode");
}

/* ---- API ------------------------------------------------------------------------------ */

/* evict up to want groups of t; returns how many went, or -1 */
static int64_t evict_table(AggOp *op, AggTable *t, uint32_t want, AggChunkFn put, void *ctx)
{
    uint8_t  pre[16];
    size_t   plen = table_prefix(op, t, pre);
    uint32_t n = 0;
    for (uint32_t g = 0; g < t->nrows && n < want; g++) {
        uint8_t  *row = agg_table_row(t, g);
        GroupHdr *h = (GroupHdr *)row;
        if (!(h->flags & GF_LIVE) || (h->flags & GF_DIRTY)) continue;
        SnapBuf *kb = &op->kbuf, *vb = &op->sbuf;
        kb->n = vb->n = 0;
        snap_put_bytes(kb, pre, plen);
        snap_put_key(op, kb, row + GROUP_HDR);
        snap_put_u8(vb, SPILL_VERSION);
        snap_put_u8(vb, (uint8_t)(h->flags & GF_EMITTED ? 2 : 0));
        agg_state_snap_put(op, row + op->state_off, vb);
        if (op->update_before && (h->flags & GF_EMITTED)) agg_res_snap_put(op, row + op->res_off, vb);
        int rc = kb->oom || vb->oom || bloom_add(t, h->hash) < 0 ? agg_fail(op, "out of memory")
               : put(ctx, kb->p, kb->n, vb->p, vb->n) != 0 ? agg_fail(op, "spill: the store refused a group")
                                                          : 0;
        if (rc < 0) {
            if (n > 0) table_rebuild(op, t);   /* the slots of the rows gone */
            return -1;
        }
        t->snap_dirty |= SNAP_BIT(op, h->hash);   /* the group leaves this bucket's chunk */
        t->nspilled++;
        op->nspilled++;
        h->flags = 0;   /* gone: the rebuild below skips it (its slot goes with the old table) */
        t->used--;
        n++;
    }
    if (n > 0 && table_rebuild(op, t) < 0) return -1;
    return n;
}

int64_t agg_op_spill_evict(AggOp *op, size_t target, AggChunkFn put, void *ctx)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (!spillable(op) || op->mid_emit) return 0;
    if (ensure_simg(op) < 0) return -1;
    int64_t total = 0;
    int     ntab = op->windowed ? op->nopen : 1;
    for (int i = 0; i < ntab; i++) {
        size_t now = agg_op_state_bytes(op);
        if (now <= target) break;
        AggTable *t = op->windowed ? op->open[i] : &op->global;
        if (t->used == 0 || t->drain) continue;
        size_t   need = now - target, tb = agg_table_bytes(t);
        uint32_t want = tb <= need ? t->used : (uint32_t)((double)t->used * (double)need / (double)tb) + 1;
        int64_t  n = evict_table(op, t, want, put, ctx);
        if (n < 0) return -1;
        total += n;
        if (n > 0 && t->used > 0) i--;   /* the rebuilt table may still be over: again */
    }
    return total;
}

int agg_op_spill_fetch(AggOp *op, const Batch *in, AggSpillGetFn get, void *ctx)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (op->nspilled == 0 || in->count <= 0) return 0;
    if (in->ncols != op->ninput) return agg_fail(op, "batch has %d columns, want %d", in->ncols, op->ninput);
    if (agg_ensure_scratch(op, in->capacity > in->count ? in->capacity : in->count) < 0 || ensure_simg(op) < 0)
        return -1;
    /* the rows a push would keep (keep_rows counts the others as late: the
     * push will count them) */
    int64_t late = op->late;
    int     m = agg_keep_rows(op, in);
    op->late = late;
    if (m == 0) return 0;
    const KeyLayout *kl = &op->kl;
    if (kl->n == 0) memset(op->hashes, 0, (size_t)m * sizeof *op->hashes);
    for (int k = 0; k < kl->n; k++) hash_vector(&in->cols[kl->col[k]], op->rows, m, op->hashes, k > 0);
    agg_build_images(op, in, m);
    uint8_t   pre[16];
    AggTable *t = op->windowed ? NULL : &op->global;
    for (int j = 0; j < m; j++) {
        if (op->windowed && (!t || t->wend != op->ends[j])) t = agg_table_lookup(op, op->ends[j]);
        if (!t || t->nspilled == 0) continue;
        const uint8_t *img = op->img + (size_t)j * kl->width;
        uint64_t       h = op->hashes[j];
        if (!bloom_maybe(t, h) || agg_table_find(t, kl, h, img) != AGG_NONE) continue;
        SnapBuf *kb = &op->kbuf;
        kb->n = 0;
        snap_put_bytes(kb, pre, table_prefix(op, t, pre));
        snap_put_key(op, kb, img);
        if (kb->oom) return agg_fail(op, "out of memory");
        const void *val = NULL;
        size_t      vlen = 0;
        int         rc = get(ctx, kb->p, kb->n, &val, &vlen);
        if (rc < 0) return agg_fail(op, "spill: the store failed to give a group back");
        if (rc == 0) continue;
        if (kl->width) memcpy(op->simg, img, kl->width);
        if (load_value(op, t, h, val, vlen) < 0) return -1;
    }
    return 0;
}

int agg_op_spill_load(AggOp *op, const void *gkey, size_t klen, const void *val, size_t vlen)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (ensure_simg(op) < 0) return -1;
    size_t    plen;
    uint64_t  h;
    AggTable *t = gkey_table(op, gkey, klen, 0, &plen);
    if (!t) return -1;
    if (t->nspilled == 0) return agg_fail(op, "spill: a group loaded that is not spilled");
    if (gkey_image(op, t, gkey, klen, plen, &h) < 0) return -1;
    return load_value(op, t, h, val, vlen);
}

int agg_op_spill_wanted(const AggOp *op, int64_t limit, uint8_t *prefix, size_t *plen)
{
    if (op->nspilled == 0) return 0;
    if (!op->windowed) {
        if (limit != INT64_MAX || op->global.nspilled == 0) return 0;
        *plen = table_prefix(op, &op->global, prefix);
        return 1;
    }
    for (int i = 0; i < op->nopen && op->open[i]->wend <= limit; i++) {
        if (op->open[i]->nspilled == 0) continue;
        *plen = table_prefix(op, op->open[i], prefix);
        return 1;
    }
    return 0;
}

int agg_op_spill_register(AggOp *op, const void *gkey, size_t klen)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (op->pushed) return agg_fail(op, "spill: register after a push");
    if (!spillable(op)) return agg_fail(op, "spill: this aggregate cannot spill");
    if (ensure_simg(op) < 0) return -1;
    size_t    plen;
    uint64_t  h;
    AggTable *t = gkey_table(op, gkey, klen, 1, &plen);
    if (!t) return -1;
    if (gkey_image(op, t, gkey, klen, plen, &h) < 0) return -1;
    if (agg_table_find(t, &op->kl, h, op->simg) != AGG_NONE)
        return agg_fail(op, "spill: a spilled group is also in a checkpoint chunk");
    if (bloom_add(t, h) < 0) return agg_fail(op, "out of memory");
    t->nspilled++;
    op->nspilled++;
    return 0;
}

void agg_spill_hold(AggOp *op, AggTable *t)
{
    /* the emitted groups go, with their memory; the spilled ones stay */
    AggTable keep = *t;
    (void)op;
    t->bloom = NULL;
    agg_table_destroy(t);
    t->wend = keep.wend;
    t->snap_present = keep.snap_present;
    t->snap_dirty = keep.snap_dirty | keep.snap_present;   /* stored buckets are now empty */
    t->snap_next = keep.snap_next;
    t->nspilled = keep.nspilled;
    t->bloom = keep.bloom;
    t->drain = 1;
}

int64_t agg_op_spilled(const AggOp *op)
{
    return op->nspilled;
}

int64_t agg_op_spill_loads(const AggOp *op)
{
    return op->spill_loads;
}

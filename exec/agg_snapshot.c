/*
 * agg_snapshot.c — checkpoints of the hash aggregate: agg_op_snapshot and
 * agg_op_restore (the contract and the chunk layout are in agg.h).
 *
 * Chunking. A table (the global one, or one window's) is cut into 64
 * buckets by the top 6 bits of each group's key hash; a chunk is one
 * (table, bucket). Sessions are cut the same way by the hash of their
 * "other keys" (agg_session.c writes those chunks). Each table keeps two
 * masks: snap_dirty (buckets touched since the last snapshot: set by the
 * push path, one OR per run of rows, and by emission when a group's
 * EMIT CHANGES flags change) and snap_present (buckets stored at the last
 * snapshot). A snapshot visits the dirty buckets only: it groups the rows
 * of those buckets with one counting pass over the table (op->sgids),
 * encodes each bucket into one reusable buffer, and reports a put (the
 * bucket has groups) or a delete (it had some at the last snapshot, and
 * has none now). A released window table leaves its stored buckets in
 * op->gone, reported as deletes at the next snapshot — unless a table
 * for the same window_end opens again first (a flush does not move the
 * watermark), which then takes the mask back.
 *
 * Two phases: every chunk is reported first, the bookkeeping (present
 * masks, the gone list, the meta values) is committed only when fn
 * accepted them all, so a refused write batch loses nothing.
 *
 * Restore decodes one chunk: the header (version, kind, fingerprint), then
 * each group's flags, key (its hash recomputed as hash_vector does, and
 * checked against the chunk's bucket and window), and states
 * (agg_state_snap_get), inserted through agg_table_probe. Every read is
 * bounds-checked; a group that already exists is a duplicate chunk. Any
 * failure marks the op broken (a half-loaded op must not run).
 *
 * Value encodings (after the 10-byte header):
 *   meta     u8 flags (1 = a watermark was set), u64le watermark, varint late
 *   G / W    varint n, then n groups: u8 flags (1 = changed since the last
 *            emission, 2 = emitted), key, states (with retract: the SUM
 *            counts and the hidden row count, agg_state.c), then with
 *            update_before, when emitted: the last emitted results
 *            (agg_res_snap_put)
 *   key      varint NULL mask, then per non-NULL key: BIGINT/TIMESTAMP/
 *            INTERVAL zigzag varint, DOUBLE u64le (canonical), BOOLEAN u8,
 *            VARCHAR varint length + bytes
 */
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"
#include "exec/hash.h"

/* 2: retract (SUM counts, hidden row counts) and update_before (last emitted
 * results); an op with neither encodes exactly as in version 1, so version 1
 * chunks still load into it (their spec fingerprint cannot match an op with
 * either flag, which refuses them) */
#define SNAP_VERSION 2

/* ---- byte buffer ---------------------------------------------------------------- */

static int buf_room(SnapBuf *b, size_t n)
{
    if (b->oom) return -1;
    if (b->n + n <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + n) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

void snap_put_u8(SnapBuf *b, uint8_t x)
{
    if (buf_room(b, 1) == 0) b->p[b->n++] = x;
}

void snap_put_bytes(SnapBuf *b, const void *p, size_t n)
{
    if (n && buf_room(b, n) == 0) {
        memcpy(b->p + b->n, p, n);
        b->n += n;
    }
}

void snap_put_varint(SnapBuf *b, uint64_t x)
{
    if (buf_room(b, 10) < 0) return;
    while (x >= 0x80) {
        b->p[b->n++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    b->p[b->n++] = (uint8_t)x;
}

void snap_put_i64(SnapBuf *b, int64_t x)
{
    snap_put_varint(b, ((uint64_t)x << 1) ^ (uint64_t)(x >> 63));
}

void snap_put_u64le(SnapBuf *b, uint64_t x)
{
    if (buf_room(b, 8) < 0) return;
    for (int i = 0; i < 8; i++) b->p[b->n++] = (uint8_t)(x >> (8 * i));
}

int snap_get_u8(SnapRd *r, uint8_t *x)
{
    if (r->p == r->end) return -1;
    *x = *r->p++;
    return 0;
}

int snap_get_varint(SnapRd *r, uint64_t *x)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end) return -1;
        uint8_t c = *r->p++;
        if (shift == 63 && c > 1) return -1;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

int snap_get_i64(SnapRd *r, int64_t *x)
{
    uint64_t z;
    if (snap_get_varint(r, &z) < 0) return -1;
    *x = (int64_t)((z >> 1) ^ (~(z & 1) + 1));
    return 0;
}

int snap_get_u64le(SnapRd *r, uint64_t *x)
{
    if (r->end - r->p < 8) return -1;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += 8;
    *x = v;
    return 0;
}

int snap_get_bytes(SnapRd *r, size_t n, const uint8_t **p)
{
    if ((size_t)(r->end - r->p) < n) return -1;
    *p = r->p;
    r->p += n;
    return 0;
}

/* ---- header, keys ------------------------------------------------------------------ */

void snap_put_header(const AggOp *op, SnapBuf *b, char kind)
{
    b->n = 0;
    b->oom = 0;
    snap_put_u8(b, SNAP_VERSION);
    snap_put_u8(b, (uint8_t)kind);
    snap_put_u64le(b, op->fingerprint);
}

int snap_get_header(AggOp *op, SnapRd *r, char kind)
{
    uint8_t  v, k;
    uint64_t fp;
    if (snap_get_u8(r, &v) < 0 || snap_get_u8(r, &k) < 0 || snap_get_u64le(r, &fp) < 0)
        return agg_fail(op, "restore: chunk value truncated in its header");
    if (v != SNAP_VERSION && !(v == 1 && !op->retract && !op->update_before))
        return agg_fail(op, "restore: chunk format version %u, want %u", v, SNAP_VERSION);
    if (k != (uint8_t)kind)
        return agg_fail(op, "restore: chunk value of kind '%c' under a '%c' key", k >= 32 && k < 127 ? k : '?', kind);
    if (fp != op->fingerprint)
        return agg_fail(op, "restore: the chunk was written by an aggregate with another spec");
    return 0;
}

void snap_put_key(const AggOp *op, SnapBuf *b, const uint8_t *img)
{
    const KeyLayout *kl = &op->kl;
    if (kl->n == 0) return;
    uint64_t mask = *(const uint64_t *)(img + kl->width - 8);
    snap_put_varint(b, mask);
    for (int k = 0; k < kl->n; k++) {
        if (mask >> k & 1) continue;
        const uint8_t *x = img + kl->off[k];
        switch (kl->type[k]) {
        case TYPE_NULL:
            break;
        case TYPE_BOOLEAN:
            snap_put_u8(b, (uint8_t)*(const uint64_t *)x);
            break;
        case TYPE_DOUBLE:
            snap_put_u64le(b, *(const uint64_t *)x);
            break;
        case TYPE_VARCHAR: {
            const Str *s = (const Str *)x;
            snap_put_varint(b, s->len);
            snap_put_bytes(b, s->ptr, s->len);
            break;
        }
        default:
            snap_put_i64(b, *(const int64_t *)x);
            break;
        }
    }
}

int snap_get_key(AggOp *op, SnapRd *r, uint8_t *img, uint64_t *hash)
{
    const KeyLayout *kl = &op->kl;
    uint64_t         h = 0, mask = 0;
    if (kl->n == 0) {
        *hash = 0;
        return 0;
    }
    memset(img, 0, kl->width);
    if (snap_get_varint(r, &mask) < 0) return agg_fail(op, "restore: truncated key");
    if (kl->n < 64 && mask >> kl->n) return agg_fail(op, "restore: key NULL mask out of range");
    for (int k = 0; k < kl->n; k++) {
        uint8_t *x = img + kl->off[k];
        uint64_t hk = HASH_NULL;
        if (kl->type[k] == TYPE_NULL && !(mask >> k & 1))
            return agg_fail(op, "restore: a NULL-typed key is not NULL");
        if (!(mask >> k & 1)) {
            switch (kl->type[k]) {
            case TYPE_BOOLEAN: {
                uint8_t v;
                if (snap_get_u8(r, &v) < 0 || v > 1) return agg_fail(op, "restore: bad BOOLEAN key");
                *(uint64_t *)x = v;
                hk = hash_i64(v);
                break;
            }
            case TYPE_DOUBLE: {
                uint64_t bits;
                double   d;
                if (snap_get_u64le(r, &bits) < 0) return agg_fail(op, "restore: truncated key");
                memcpy(&d, &bits, sizeof d);
                if (agg_f64_bits(d) != bits) return agg_fail(op, "restore: non-canonical DOUBLE key");
                *(uint64_t *)x = bits;
                hk = hash_f64(d);
                break;
            }
            case TYPE_VARCHAR: {
                uint64_t       len;
                const uint8_t *p;
                if (snap_get_varint(r, &len) < 0 || len > UINT32_MAX ||
                    snap_get_bytes(r, (size_t)len, &p) < 0)
                    return agg_fail(op, "restore: truncated VARCHAR key");
                Str s = {(const char *)p, (uint32_t)len};
                hk = hash_str(s);
                *(Str *)x = s;
                break;
            }
            default: {
                int64_t v;
                if (snap_get_i64(r, &v) < 0) return agg_fail(op, "restore: truncated key");
                *(int64_t *)x = v;
                hk = hash_i64(v);
                break;
            }
            }
        }
        h = k == 0 ? hk : hash_combine(h, hk);
    }
    *(uint64_t *)(img + kl->width - 8) = mask;
    *hash = h;
    return 0;
}

/* ---- bookkeeping helpers ------------------------------------------------------------- */

int snap_emit(AggOp *op, AggChunkFn fn, void *ctx, const uint8_t *key, size_t klen,
              const SnapBuf *val)
{
    if (val && val->oom) return agg_fail(op, "snapshot: out of memory");
    if (fn(ctx, key, klen, val ? val->p : NULL, val ? val->n : 0) != 0)
        return agg_fail(op, "snapshot: the chunk callback failed");
    return 0;
}

int snap_bucket_rows(AggOp *op, const uint8_t *rows, uint32_t nrows, uint32_t width,
                     uint64_t mask, uint32_t start[65])
{
    uint32_t cnt[65];
    memset(cnt, 0, sizeof cnt);
    for (uint32_t g = 0; g < nrows; g++) {
        const GroupHdr *h = (const GroupHdr *)(rows + (size_t)g * width);
        if ((h->flags & GF_LIVE) && (mask & SNAP_BIT(op, h->hash))) cnt[SNAP_BUCKET(op, h->hash) + 1]++;
    }
    for (int b = 0; b < 64; b++) cnt[b + 1] += cnt[b];
    if (cnt[64] > op->sgids_cap) {
        uint32_t *p = realloc(op->sgids, (size_t)cnt[64] * sizeof *p);
        if (!p) return agg_fail(op, "snapshot: out of memory");
        op->sgids = p;
        op->sgids_cap = cnt[64];
    }
    memcpy(start, cnt, sizeof cnt);
    for (uint32_t g = 0; g < nrows; g++) {
        const GroupHdr *h = (const GroupHdr *)(rows + (size_t)g * width);
        if ((h->flags & GF_LIVE) && (mask & SNAP_BIT(op, h->hash))) op->sgids[cnt[SNAP_BUCKET(op, h->hash)]++] = g;
    }
    return 0;
}

int snap_reserve_gone(AggOp *op, int n)
{
    if (op->ngone + n <= op->gone_cap) return 0;
    int      cap = op->gone_cap ? op->gone_cap : 8;
    while (cap < op->ngone + n) cap *= 2;
    AggGone *g = realloc(op->gone, (size_t)cap * sizeof *g);
    if (!g) return -1;
    op->gone = g;
    op->gone_cap = cap;
    return 0;
}

void snap_table_gone(AggOp *op, AggTable *t)
{
    if (t->snap_present && op->ngone < op->gone_cap) {
        op->gone[op->ngone].wend = t->wend;
        op->gone[op->ngone].mask = t->snap_present;
        op->ngone++;
    }
    t->snap_present = t->snap_dirty = 0;
}

void snap_table_reopen(AggOp *op, AggTable *t)
{
    t->snap_present = t->snap_dirty = 0;
    for (int i = 0; i < op->ngone; i++) {
        if (op->gone[i].wend != t->wend) continue;
        /* stored buckets of this window_end: rewritten or deleted by this table */
        t->snap_present = t->snap_dirty = op->gone[i].mask;
        op->gone[i] = op->gone[--op->ngone];
        return;
    }
}

/* ---- snapshot ------------------------------------------------------------------------ */

static size_t table_key(const AggOp *op, const AggTable *t, unsigned b, uint8_t *key)
{
    if (!op->windowed) {
        key[0] = 'G';
        key[1] = (uint8_t)b;
        return 2;
    }
    uint64_t e = (uint64_t)t->wend ^ (UINT64_C(1) << 63);
    key[0] = 'W';
    for (int i = 0; i < 8; i++) key[1 + i] = (uint8_t)(e >> (56 - 8 * i));
    key[9] = (uint8_t)b;
    return 10;
}

/* report table t's buckets in `mask` (puts or deletes); new mask into snap_next */
static int snapshot_table(AggOp *op, AggTable *t, int full, AggChunkFn fn, void *ctx)
{
    uint64_t mask = full ? ~UINT64_C(0) : t->snap_dirty;
    uint32_t start[65];
    uint8_t  key[16];
    t->snap_next = t->snap_present & ~mask;
    if (!mask) return 0;
    if (snap_bucket_rows(op, t->rows, t->nrows, t->width, mask, start) < 0) return -1;
    for (unsigned b = 0; b < 64; b++) {
        if (!(mask >> b & 1)) continue;
        uint32_t n = start[b + 1] - start[b];
        size_t   kn = table_key(op, t, b, key);
        if (n == 0) {
            if ((t->snap_present >> b & 1) && snap_emit(op, fn, ctx, key, kn, NULL) < 0) return -1;
            continue;
        }
        SnapBuf *sb = &op->sbuf;
        snap_put_header(op, sb, key[0]);
        snap_put_varint(sb, n);
        for (uint32_t i = start[b]; i < start[b + 1]; i++) {
            const uint8_t  *row = agg_table_row(t, op->sgids[i]);
            const GroupHdr *h = (const GroupHdr *)row;
            snap_put_u8(sb, (uint8_t)((h->flags & GF_DIRTY ? 1 : 0) | (h->flags & GF_EMITTED ? 2 : 0)));
            snap_put_key(op, sb, row + GROUP_HDR);
            agg_state_snap_put(op, row + op->state_off, sb);
            if (op->update_before && (h->flags & GF_EMITTED)) agg_res_snap_put(op, row + op->res_off, sb);
        }
        if (snap_emit(op, fn, ctx, key, kn, sb) < 0) return -1;
        t->snap_next |= UINT64_C(1) << b;
    }
    return 0;
}

static int meta_changed(const AggOp *op)
{
    return !op->snap_meta || op->snap_have_wm != op->have_wm ||
           (op->have_wm && op->snap_wm != op->wm) || op->snap_late != op->late;
}

int agg_op_snapshot(AggOp *op, int full, AggChunkFn fn, void *ctx)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (op->mid_emit) return agg_fail(op, "snapshot: an emission is pending (*more was 1)");
    if (!op->snap_started) full = 1;
    if (full || meta_changed(op)) {
        const uint8_t key = 'M';
        SnapBuf      *sb = &op->sbuf;
        snap_put_header(op, sb, 'M');
        snap_put_u8(sb, (uint8_t)(op->have_wm ? 1 : 0));
        snap_put_u64le(sb, (uint64_t)(op->have_wm ? op->wm : 0));
        snap_put_varint(sb, (uint64_t)op->late);
        if (snap_emit(op, fn, ctx, &key, 1, sb) < 0) return -1;
    }
    if (op->session) {
        if (sess_snapshot(op, full, fn, ctx) < 0) return -1;
    } else if (!op->windowed) {
        if (snapshot_table(op, &op->global, full, fn, ctx) < 0) return -1;
    } else {
        for (int i = 0; i < op->ngone; i++) {
            AggTable tmp;   /* only wend is read by table_key */
            uint8_t  key[16];
            tmp.wend = op->gone[i].wend;
            for (unsigned b = 0; b < 64; b++) {
                if (!(op->gone[i].mask >> b & 1)) continue;
                size_t kn = table_key(op, &tmp, b, key);
                if (snap_emit(op, fn, ctx, key, kn, NULL) < 0) return -1;
            }
        }
        for (int i = 0; i < op->nopen; i++)
            if (snapshot_table(op, op->open[i], full, fn, ctx) < 0) return -1;
    }

    /* every chunk accepted: commit */
    op->snap_started = op->snap_meta = 1;
    op->snap_have_wm = op->have_wm;
    op->snap_wm = op->wm;
    op->snap_late = op->late;
    if (op->session) {
        sess_snap_commit(op);
    } else if (!op->windowed) {
        op->global.snap_present = op->global.snap_next;
        op->global.snap_dirty = 0;
    } else {
        op->ngone = 0;
        for (int i = 0; i < op->nopen; i++) {
            op->open[i]->snap_present = op->open[i]->snap_next;
            op->open[i]->snap_dirty = 0;
        }
    }
    return 0;
}

/* ---- restore ------------------------------------------------------------------------- */

static AggTable *restore_window(AggOp *op, int64_t wend)
{
    int lo = 0, hi = op->nopen;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (op->open[mid]->wend < wend) lo = mid + 1;
        else hi = mid;
    }
    if (lo < op->nopen && op->open[lo]->wend == wend) return op->open[lo];
    if (op->nopen == op->open_cap) {
        int        ncap = op->open_cap ? op->open_cap * 2 : 8;
        AggTable **no = realloc(op->open, (size_t)ncap * sizeof *no);
        if (!no) return NULL;
        op->open = no;
        op->open_cap = ncap;
    }
    AggTable *t = malloc(sizeof *t);
    if (!t) return NULL;
    agg_table_init(t, op->row_width);
    t->wend = wend;
    memmove(op->open + lo + 1, op->open + lo, (size_t)(op->nopen - lo) * sizeof *op->open);
    op->open[lo] = t;
    op->nopen++;
    return t;
}

static int restore_meta(AggOp *op, SnapRd *r)
{
    uint8_t  f;
    uint64_t wm, late;
    if (op->snap_meta) return agg_fail(op, "restore: a second meta chunk");
    if (snap_get_header(op, r, 'M') < 0) return -1;
    if (snap_get_u8(r, &f) < 0 || snap_get_u64le(r, &wm) < 0 || snap_get_varint(r, &late) < 0)
        return agg_fail(op, "restore: truncated meta chunk");
    if (f > 1 || (f == 0 && wm != 0) || late > INT64_MAX || r->p != r->end)
        return agg_fail(op, "restore: malformed meta chunk");
    if (f && (!op->windowed)) return agg_fail(op, "restore: a watermark for a non-windowed aggregate");
    op->have_wm = f;
    op->wm = (int64_t)wm;
    op->late = (int64_t)late;
    if (op->have_wm) {
        for (int i = 0; i < op->nopen; i++)
            if (op->open[i]->wend <= op->wm)
                return agg_fail(op, "restore: a window that the watermark closed");
        if (op->session && sess_restore_check_wm(op) < 0) return -1;
    }
    op->snap_meta = 1;
    op->snap_have_wm = op->have_wm;
    op->snap_wm = op->wm;
    op->snap_late = op->late;
    return 0;
}

static int restore_table(AggOp *op, AggTable *t, unsigned bucket, char kind, SnapRd *r)
{
    uint64_t n;
    if (snap_get_header(op, r, kind) < 0) return -1;
    if (snap_get_varint(r, &n) < 0 || n == 0 || n > (uint64_t)(r->end - r->p))
        return agg_fail(op, "restore: bad group count");
    if (t->snap_present >> bucket & 1) return agg_fail(op, "restore: chunk loaded twice");
    uint8_t *img = op->img;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t  fl;
        uint64_t h;
        uint32_t gid;
        if (snap_get_u8(r, &fl) < 0) return agg_fail(op, "restore: truncated group");
        if (fl > 3 || (fl && !op->changes)) return agg_fail(op, "restore: bad group flags");
        if (snap_get_key(op, r, img, &h) < 0) return -1;
        if (SNAP_BUCKET(op, h) != bucket) return agg_fail(op, "restore: a group in the wrong bucket");
        if (op->windowed) {
            int li = op->kmap[op->wend];
            if ((*(uint64_t *)(img + op->kl.width - 8) >> li & 1) ||
                *(int64_t *)(img + op->kl.off[li]) != t->wend)
                return agg_fail(op, "restore: a group of another window");
        }
        uint32_t used = t->used;
        if (agg_table_probe(t, &op->kl, &h, img, 1, &gid) < 0) return agg_fail(op, "out of memory");
        if (t->used == used) return agg_fail(op, "restore: a group loaded twice");
        uint8_t  *row = agg_table_row(t, gid);
        GroupHdr *hdr = (GroupHdr *)row;
        if (agg_state_snap_get(op, row + op->state_off, &t->heap, r) < 0) return -1;
        if (op->update_before && (fl & 2) && agg_res_snap_get(op, row + op->res_off, &t->heap, r) < 0)
            return -1;
        if (op->retract && op->phase != AGG_PHASE_PARTIAL) {
            /* a live count > 0, or 0 for a retraction not emitted yet (zeroed state) */
            int64_t cnt = *(const int64_t *)(row + op->state_off + op->cnt_off);
            if (cnt < 0 || (cnt == 0 && (fl != 3 || memcmp(row + op->state_off, op->zero_state,
                                                           op->state_size) != 0)))
                return agg_fail(op, "restore: a group with a bad live row count");
        }
        hdr->flags |= (fl & 1 ? GF_DIRTY : 0) | (fl & 2 ? GF_EMITTED : 0);
        if ((fl & 1) && agg_table_push_dirty(t, gid) < 0) return agg_fail(op, "out of memory");
    }
    if (r->p != r->end) return agg_fail(op, "restore: trailing bytes in a chunk");
    t->snap_present |= UINT64_C(1) << bucket;
    return 0;
}

static int restore(AggOp *op, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    SnapRd r = {val, val + vlen};
    if (op->pushed) return agg_fail(op, "restore: the aggregate has already received rows");
    if (!key || klen == 0) return agg_fail(op, "restore: empty chunk key");
    if (!val) return agg_fail(op, "restore: no chunk value");
    if (agg_ensure_scratch(op, 1) < 0) return -1;
    switch (key[0]) {
    case 'M':
        if (klen != 1) return agg_fail(op, "restore: bad meta key");
        return restore_meta(op, &r);
    case 'G':
        if (klen != 2 || key[1] >= 64 || op->windowed)
            return agg_fail(op, "restore: a 'G' chunk does not fit this aggregate");
        return restore_table(op, &op->global, key[1], 'G', &r);
    case 'W': {
        if (klen != 10 || key[9] >= 64 || !op->windowed || op->session)
            return agg_fail(op, "restore: a 'W' chunk does not fit this aggregate");
        uint64_t e = 0;
        for (int i = 0; i < 8; i++) e = e << 8 | key[1 + i];
        int64_t wend = (int64_t)(e ^ (UINT64_C(1) << 63));
        if (op->snap_meta && op->have_wm && wend <= op->wm)
            return agg_fail(op, "restore: a window that the watermark closed");
        if (snap_get_header(op, &r, 'W') < 0) return -1;
        r.p = val;   /* restore_table reads the header again */
        AggTable *t = restore_window(op, wend);
        if (!t) return agg_fail(op, "out of memory");
        int rc = restore_table(op, t, key[9], 'W', &r);
        return rc;
    }
    case 'S':
        if (klen != 2 || key[1] >= 64 || !op->session)
            return agg_fail(op, "restore: an 'S' chunk does not fit this aggregate");
        if (snap_get_header(op, &r, 'S') < 0) return -1;
        return sess_restore(op, key[1], &r);
    default:
        return agg_fail(op, "restore: unknown chunk key");
    }
}

int agg_op_restore(AggOp *op, const void *key, size_t klen, const void *val, size_t vlen)
{
    op->err[0] = '\0';
    if (op->broken) return agg_fail(op, "a restore failed: the aggregate is unusable");
    if (restore(op, key, klen, val, vlen) < 0) {
        op->broken = 1;
        return -1;
    }
    op->snap_started = 1;
    return 0;
}

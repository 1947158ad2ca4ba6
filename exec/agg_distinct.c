/*
 * agg_distinct.c — the exact sets of COUNT(DISTINCT x) and their serialized
 * form (the partial state; the encoding is documented in agg.h).
 *
 * A set is one block in the group's arena: a header and `cap` entries
 * (hash, value), open addressing with linear probing at load <= 1/2; hash
 * 0 marks an empty entry (a real hash of 0 is stored as 1). The value is
 * the int64 / canonical DOUBLE bits / 0-1 of the element, or for VARCHAR a
 * pointer to a length-prefixed copy of its bytes in the same arena. A full
 * set is rebuilt at twice the size in the arena; the old block stays there
 * as garbage until the arena is reset (window closed) or compacted
 * (sessions), which bounds the waste by the size of the live sets.
 */
#include <stdlib.h>
#include <string.h>

#include "exec/agg_int.h"
#include "exec/hash.h"

typedef struct DEntry {
    uint64_t h;   /* 0: empty */
    uint64_t v;
} DEntry;

struct DSet {
    uint32_t count;
    uint32_t cap;   /* power of two */
    SqlType  type;
    uint32_t pad;
    DEntry   e[];
};

/* ---- private helpers ------------------------------------------------------ */

static const char *blob_bytes(uint64_t v, uint32_t *len)
{
    const char *b = (const char *)(uintptr_t)v;
    memcpy(len, b, sizeof *len);
    return b + sizeof *len;
}

static uint64_t value_hash(SqlType t, uint64_t bits, const char *p, uint32_t len)
{
    uint64_t h = t == TYPE_VARCHAR ? hash_bytes(p, len, HASH_STR_SEED) : hash_mix64(bits);
    return h ? h : 1;
}

static DSet *set_alloc(Arena *a, SqlType t, uint32_t cap)
{
    DSet *s = arena_alloc(a, sizeof *s + (size_t)cap * sizeof(DEntry));
    if (!s) return NULL;
    s->count = 0;
    s->cap = cap;
    s->type = t;
    s->pad = 0;
    memset(s->e, 0, (size_t)cap * sizeof(DEntry));
    return s;
}

static void entry_put(DSet *s, uint64_t h, uint64_t v)
{
    uint32_t mask = s->cap - 1, pos = (uint32_t)h & mask;
    while (s->e[pos].h) pos = (pos + 1) & mask;
    s->e[pos].h = h;
    s->e[pos].v = v;
    s->count++;
}

static int set_grow(DSet **ps, Arena *a)
{
    DSet *o = *ps;
    if (o->cap >= (UINT32_C(1) << 30)) return -1;
    DSet *s = set_alloc(a, o->type, o->cap * 2);
    if (!s) return -1;
    for (uint32_t i = 0; i < o->cap; i++)
        if (o->e[i].h) entry_put(s, o->e[i].h, o->e[i].v);
    *ps = s;
    return 0;
}

static size_t varint_len(uint64_t x)
{
    size_t n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

static uint8_t *varint_put(uint8_t *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

static int varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *x)
{
    const uint8_t *p = *pp;
    uint64_t       r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p == end) return -1;
        uint8_t b = *p++;
        if (shift == 63 && b > 1) return -1;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *x = r;
            return 0;
        }
    }
    return -1;
}

static uint64_t zigzag(int64_t x)
{
    return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static int64_t unzigzag(uint64_t z)
{
    return (int64_t)((z >> 1) ^ (~(z & 1) + 1));
}

/* in-place heapsort of int64 (no allocation, O(n log n) worst case) */
static void sift(int64_t *a, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && a[c + 1] > a[c]) c++;
        if (a[i] >= a[c]) return;
        int64_t t = a[i];
        a[i] = a[c];
        a[c] = t;
        i = c;
    }
}

static void sort_i64(int64_t *a, size_t n)
{
    for (size_t i = n / 2; i-- > 0;) sift(a, i, n);
    for (size_t k = n; k-- > 1;) {
        int64_t t = a[0];
        a[0] = a[k];
        a[k] = t;
        sift(a, 0, k);
    }
}

static int type_ok(int t)
{
    return t == TYPE_BOOLEAN || t == TYPE_BIGINT || t == TYPE_DOUBLE || t == TYPE_VARCHAR ||
           t == TYPE_TIMESTAMP || t == TYPE_INTERVAL;
}

/* ---- API -------------------------------------------------------------------- */

int dset_add(DSet **ps, Arena *a, SqlType t, uint64_t bits, const char *p, uint32_t len)
{
    DSet *s = *ps;
    if (!s) {
        if (!(s = set_alloc(a, t, 8))) return -1;
        *ps = s;
    } else if (s->type != t) {
        return -1;
    }
    uint64_t h = value_hash(t, bits, p, len);
    uint32_t mask = s->cap - 1, pos = (uint32_t)h & mask;
    for (; s->e[pos].h; pos = (pos + 1) & mask) {
        if (s->e[pos].h != h) continue;
        if (t != TYPE_VARCHAR) {
            if (s->e[pos].v == bits) return 0;
        } else {
            uint32_t    n;
            const char *q = blob_bytes(s->e[pos].v, &n);
            if (n == len && (len == 0 || memcmp(p, q, len) == 0)) return 0;
        }
    }
    uint64_t v = bits;
    if (t == TYPE_VARCHAR) {
        char *b = arena_alloc_bytes(a, sizeof len + (size_t)len);
        if (!b) return -1;
        memcpy(b, &len, sizeof len);
        if (len) memcpy(b + sizeof len, p, len);
        v = (uint64_t)(uintptr_t)b;
    }
    if ((s->count + 1) * 2 > s->cap) {
        if (set_grow(ps, a) < 0) return -1;
        s = *ps;
    }
    entry_put(s, h, v);
    return 0;
}

uint32_t dset_count(const DSet *s)
{
    return s ? s->count : 0;
}

size_t dset_encode_begin(const DSet *s, uint64_t *scratch)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->cap; i++)
        if (s->e[i].h) scratch[n++] = s->e[i].v;
    size_t size = 1 + varint_len(n);
    switch (s->type) {
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        sort_i64((int64_t *)scratch, n);
        for (uint32_t i = 0; i < n; i++)
            size += i == 0 ? varint_len(zigzag((int64_t)scratch[0]))
                           : varint_len(scratch[i] - scratch[i - 1]);
        break;
    case TYPE_DOUBLE:
        size += (size_t)n * 8;
        break;
    case TYPE_BOOLEAN:
        size += n;
        break;
    case TYPE_VARCHAR:
        for (uint32_t i = 0; i < n; i++) {
            uint32_t len;
            blob_bytes(scratch[i], &len);
            size += varint_len(len) + len;
        }
        break;
    default:
        break;
    }
    return size;
}

void dset_encode_finish(const DSet *s, const uint64_t *scratch, uint8_t *out)
{
    uint32_t n = s->count;
    *out++ = (uint8_t)s->type;
    out = varint_put(out, n);
    for (uint32_t i = 0; i < n; i++) {
        switch (s->type) {
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL:
            out = varint_put(out, i == 0 ? zigzag((int64_t)scratch[0]) : scratch[i] - scratch[i - 1]);
            break;
        case TYPE_DOUBLE:
            for (int b = 0; b < 8; b++) *out++ = (uint8_t)(scratch[i] >> (8 * b));
            break;
        case TYPE_BOOLEAN:
            *out++ = (uint8_t)scratch[i];
            break;
        case TYPE_VARCHAR: {
            uint32_t    len;
            const char *p = blob_bytes(scratch[i], &len);
            out = varint_put(out, len);
            if (len) memcpy(out, p, len);
            out += len;
            break;
        }
        default:
            break;
        }
    }
}

int dset_merge_encoded(DSet **ps, Arena *a, const uint8_t *p, size_t n)
{
    const uint8_t *end = p + n;
    if (n < 2 || !type_ok(p[0])) return -1;
    SqlType  t = (SqlType)p[0];
    uint64_t cnt, prev = 0;
    p++;
    if (varint_get(&p, end, &cnt) < 0 || cnt > (uint64_t)(end - p)) return -1;
    if (*ps && (*ps)->type != t) return -1;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t    bits = 0, x;
        const char *str = NULL;
        uint32_t    len = 0;
        switch (t) {
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL:
            if (varint_get(&p, end, &x) < 0) return -1;
            if (i == 0) {
                bits = (uint64_t)unzigzag(x);
            } else {
                if (x == 0) return -1;
                bits = prev + x;
            }
            prev = bits;
            break;
        case TYPE_DOUBLE:
            if (end - p < 8) return -1;
            for (int b = 0; b < 8; b++) bits |= (uint64_t)p[b] << (8 * b);
            p += 8;
            {
                double d;
                memcpy(&d, &bits, sizeof d);
                bits = agg_f64_bits(d);
            }
            break;
        case TYPE_BOOLEAN:
            if (p == end || *p > 1) return -1;
            bits = *p++;
            break;
        default:   /* TYPE_VARCHAR */
            if (varint_get(&p, end, &x) < 0 || x > (uint64_t)(end - p)) return -1;
            len = (uint32_t)x;
            str = (const char *)p;
            p += len;
            break;
        }
        if (dset_add(ps, a, t, bits, str, len) < 0) return -1;
    }
    return p == end ? 0 : -1;
}

int dset_union(DSet **dst, Arena *a, const DSet *src)
{
    if (!src) return 0;
    for (uint32_t i = 0; i < src->cap; i++) {
        if (!src->e[i].h) continue;
        uint32_t    len = 0;
        const char *p = NULL;
        uint64_t    bits = src->e[i].v;
        if (src->type == TYPE_VARCHAR) {
            p = blob_bytes(bits, &len);
            bits = 0;
        }
        if (dset_add(dst, a, src->type, bits, p, len) < 0) return -1;
    }
    return 0;
}

int dset_relocate(DSet **ps, Arena *to)
{
    const DSet *o = *ps;
    if (!o) return 0;
    DSet *s = arena_alloc(to, sizeof *s + (size_t)o->cap * sizeof(DEntry));
    if (!s) return -1;
    memcpy(s, o, sizeof *s + (size_t)o->cap * sizeof(DEntry));
    if (s->type == TYPE_VARCHAR) {
        for (uint32_t i = 0; i < s->cap; i++) {
            if (!s->e[i].h) continue;
            uint32_t len;
            blob_bytes(s->e[i].v, &len);
            char *b = arena_alloc_bytes(to, sizeof len + (size_t)len);
            if (!b) return -1;
            memcpy(b, (const char *)(uintptr_t)s->e[i].v, sizeof len + (size_t)len);
            s->e[i].v = (uint64_t)(uintptr_t)b;
        }
    }
    *ps = s;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------------------
 *
 * u8 type, u8 log2(cap), varint count, then the values in slot order,
 * starting after an empty slot and wrapping around: BIGINT/TIMESTAMP/
 * INTERVAL zigzag varint, DOUBLE u64le (canonical), BOOLEAN u8, VARCHAR
 * varint length + bytes. Inserting them in that order into a set of the
 * same capacity puts each value in the same slot (no probe run crosses the
 * starting point), so the set — and the order dset_encode_* writes its
 * DOUBLE and VARCHAR values in — is the same as the original. */

void dset_snap_put(const DSet *s, SnapBuf *b)
{
    uint32_t lg = 0, first = 0;
    while ((UINT32_C(1) << lg) < s->cap) lg++;
    while (first < s->cap && s->e[first].h) first++;   /* load <= 1/2: one is empty */
    snap_put_u8(b, (uint8_t)s->type);
    snap_put_u8(b, (uint8_t)lg);
    snap_put_varint(b, s->count);
    for (uint32_t k = 1; k <= s->cap; k++) {
        const DEntry *e = &s->e[(first + k) & (s->cap - 1)];
        if (!e->h) continue;
        switch (s->type) {
        case TYPE_DOUBLE:
            snap_put_u64le(b, e->v);
            break;
        case TYPE_BOOLEAN:
            snap_put_u8(b, (uint8_t)e->v);
            break;
        case TYPE_VARCHAR: {
            uint32_t    len;
            const char *p = blob_bytes(e->v, &len);
            snap_put_varint(b, len);
            snap_put_bytes(b, p, len);
            break;
        }
        default:
            snap_put_i64(b, (int64_t)e->v);
            break;
        }
    }
}

int dset_snap_get(DSet **ps, Arena *a, SqlType want, SnapRd *r)
{
    uint8_t  t, lg;
    uint64_t cnt;
    if (snap_get_u8(r, &t) < 0 || snap_get_u8(r, &lg) < 0 || snap_get_varint(r, &cnt) < 0) return -1;
    if (!type_ok(t) || (want != TYPE_NULL && t != want) || lg < 3 || lg > 30) return -1;
    uint32_t cap = UINT32_C(1) << lg;
    /* a set grows to twice its size when half full: cap <= 4 * count (or 8) */
    if (cnt * 2 > cap || (cap > 8 && cap > 4 * cnt) || cnt > (uint64_t)(r->end - r->p)) return -1;
    DSet *s = set_alloc(a, (SqlType)t, cap);
    if (!s) return -1;
    for (uint64_t i = 0; i < cnt; i++) {
        uint64_t    bits = 0, len = 0;
        const char *str = NULL;
        switch (t) {
        case TYPE_DOUBLE: {
            double d;
            if (snap_get_u64le(r, &bits) < 0) return -1;
            memcpy(&d, &bits, sizeof d);
            if (agg_f64_bits(d) != bits) return -1;
            break;
        }
        case TYPE_BOOLEAN: {
            uint8_t v;
            if (snap_get_u8(r, &v) < 0 || v > 1) return -1;
            bits = v;
            break;
        }
        case TYPE_VARCHAR: {
            const uint8_t *p;
            if (snap_get_varint(r, &len) < 0 || len > UINT32_MAX || snap_get_bytes(r, (size_t)len, &p) < 0)
                return -1;
            str = (const char *)p;
            break;
        }
        default: {
            int64_t v;
            if (snap_get_i64(r, &v) < 0) return -1;
            bits = (uint64_t)v;
            break;
        }
        }
        uint64_t h = value_hash((SqlType)t, bits, str, (uint32_t)len);
        uint32_t mask = cap - 1, pos = (uint32_t)h & mask;
        for (; s->e[pos].h; pos = (pos + 1) & mask) {
            if (s->e[pos].h != h) continue;
            if (t != TYPE_VARCHAR) {
                if (s->e[pos].v == bits) return -1;   /* a duplicate */
            } else {
                uint32_t    n;
                const char *q = blob_bytes(s->e[pos].v, &n);
                if (n == len && (len == 0 || memcmp(str, q, len) == 0)) return -1;
            }
        }
        uint64_t v = bits;
        if (t == TYPE_VARCHAR) {
            uint32_t l32 = (uint32_t)len;
            char    *blob = arena_alloc_bytes(a, sizeof l32 + (size_t)len);
            if (!blob) return -1;
            memcpy(blob, &l32, sizeof l32);
            if (len) memcpy(blob + sizeof l32, str, len);
            v = (uint64_t)(uintptr_t)blob;
        }
        s->e[pos].h = h;
        s->e[pos].v = v;
        s->count++;
    }
    *ps = s;
    return 0;
}

/*
 * join.c — streaming window, interval and regular joins (see join.h).
 *
 * Design. The three flavors are one algorithm. Each side keeps the rows that
 * may still match a future row of the other side; a new batch on side s
 *
 *   1. classifies its live rows, batch-wide: key hashes (hash_vector per key
 *      column), key images (8 bytes per key: the int64, canonical DOUBLE
 *      bits, the BOOLEAN; VARCHAR keys compare their bytes separately),
 *      the event time t, and a status: late (behind side s's watermark),
 *      unmatchable (a NULL or NaN key, a NULL interval time) or ok;
 *   2. probes the other side's index with every ok row: walk the hash chain,
 *      compare hash, key image, VARCHAR keys and (INTERVAL) the time bounds,
 *      and collect the candidate pairs, up to JQ_CAP at a time;
 *   3. per JQ_CAP candidates, gathers them into a scratch batch (probe
 *      columns from the input with vector_gather, stored columns from the
 *      records), narrows it with the residual (expr_filter), marks both rows
 *      of every surviving pair matched, queues a -D for each stored row of
 *      a regular outer join that just got its first match, then queues the
 *      survivors;
 *   4. queues the padded rows due now (an unmatched row of a preserved side
 *      that is unmatchable, dead on arrival, or of a regular join);
 *   5. stores the ok rows that are not dead on arrival: a record each, an
 *      entry in the index and, with expiry, in the release heap.
 *
 * A record's release time ("deadline") is t + off, off being -lower (left)
 * or upper (right) for INTERVAL, 0 for WINDOW (where t = window_end - 1, so
 * a window join is an interval join with bounds 0), ttl for REGULAR with a
 * TTL; a record dies when deadline < the other side's watermark, or when the
 * other side ends (watermark INT64_MAX). join.h derives these bounds.
 *
 * Records. A side's records have one fixed size:
 *
 *   | RecHdr 40 B | key image 8 B × nkeys | column slots | NULL bits |
 *
 * column slots are 8 bytes (int64, double, bool) or 16 (VARCHAR: a Str
 * into the side's string arena). Records live in slabs of SLAB_ROWS and are
 * named by a uint32 index; freed records go on a free list threaded through
 * `next`. The index is an array of bucket heads (a power of two, at least
 * one bucket per live record) with doubly linked chains through next/prev,
 * so removing a record is O(1). The heap holds (deadline, index) pairs; a
 * record leaves the state only through the heap or when the other side ends
 * (then the whole side is cleared), so the heap needs no back pointers.
 *
 * Output queue. Queued rows are copied into pending batches of JQ_CAP rows
 * (left ++ right columns; with emit_changes their ops marks hold +I/-D);
 * drain copies them out in order and recycles the drained batches, so in
 * steady state nothing is allocated.
 */
#include "exec/join.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/agg.h"
#include "exec/agg_int.h"   /* SnapBuf / SnapRd and their varint helpers */
#include "exec/arena.h"
#include "exec/batch_copy.h"
#include "exec/expr_eval.h"
#include "exec/hash.h"

#define JQ_CAP      SLUICE_VECTOR_SIZE  /* rows per scratch / queue batch      */
#define SLAB_SHIFT  10
#define SLAB_ROWS   (1u << SLAB_SHIFT)
#define NIL         UINT32_MAX
#define MAX_KEYS    64
#define STR_FLOOR   ((size_t)1 << 16)   /* no compaction below this            */

#define REC_LIVE    1u
#define REC_MATCHED 2u

enum { ST_OK, ST_LATE, ST_NOKEY };

/* ---- types ---------------------------------------------------------------------- */

typedef struct RecHdr {
    uint64_t hash;       /* key hash (hash_vector combination)                */
    int64_t  t;          /* event time (WINDOW: window_end - 1); 0 untimed    */
    int64_t  deadline;   /* released when deadline < the other watermark      */
    uint32_t next, prev; /* bucket chain (free list: next)                    */
    uint32_t flags;      /* REC_LIVE | REC_MATCHED                            */
    uint32_t pad_;
} RecHdr;

typedef struct HeapEnt {
    int64_t  d;
    uint32_t idx;
} HeapEnt;

typedef struct Side {
    int       ncols;
    SqlType  *types;
    int      *keys;        /* nkeys input columns                               */
    int       tcol;        /* time or window_end column, -1 untimed             */
    int       preserved;   /* outer on this side                                */
    int64_t   off;         /* deadline = t + off                                */
    size_t    recsize;
    size_t   *coloff;      /* slot offset of each column in a record            */
    size_t    nulloff;     /* NULL bits (bit c set: column c NULL)              */
    uint8_t **slabs;
    int       nslabs, slabcap;
    uint32_t  nrec;        /* records ever handed out (high-water mark)         */
    uint32_t  freelist;
    int64_t   nlive;
    uint32_t *buckets;
    uint32_t  nbuckets;    /* power of two, or 0                                */
    HeapEnt  *heap;
    int64_t   nheap, heapcap;
    Arena     str;         /* string bytes of the records                       */
    size_t    live_str;    /* bytes of those strings still referenced           */
    int64_t   wm;          /* this side's watermark                             */
    /* checkpoints (see "Checkpoints" below) */
    int64_t  *dirty;       /* chunk ids touched since the last snapshot         */
    int       ndirty, dirtycap;
    int       snap_all;    /* every chunk may have changed (cleared, or OOM)    */
    int64_t  *present;     /* sorted chunk ids stored at the last snapshot      */
    int       npresent, presentcap;
    int64_t  *next;        /* the same after the snapshot being reported        */
    int       nnext, nextcap;
    Batch     rb;          /* restore: decoded rows                             */
    int       rb_init;
} Side;

struct JoinOp {
    JoinType     type;
    JoinOpFlavor flavor;
    int          emit_changes;
    int          table_side;    /* spec->table as a side: 0, 1, or -1 none     */
    int          upsert;        /* spec->table_upsert                          */
    int          nkeys;
    size_t       kimg;          /* key image bytes: 8 * nkeys                  */
    SqlType      ktype[MAX_KEYS];  /* physical class of each key (left's type) */
    int          has_str_key;
    int          timed;         /* rows carry a time and expire by it          */
    int          interval;      /* probe checks lower <= l.t - r.t <= upper    */
    int64_t      lower, upper;
    int          nout;          /* left + right columns                        */
    SqlType     *otypes;        /* their types                                 */
    Side         side[2];
    ExprState   *residual;

    Batch        cand, pad;     /* scratch batches, left ++ right, JQ_CAP      */
    int          cand_init, pad_init;
    int          ncand;
    uint32_t     cand_i[JQ_CAP];    /* probe row (index into the push arrays)  */
    uint32_t     cand_phys[JQ_CAP]; /* its physical row in the input           */
    uint8_t     *cand_rec[JQ_CAP];  /* the stored record                       */
    uint8_t     *recs[JQ_CAP];      /* records to emit padded / release        */
    uint32_t     recidx[JQ_CAP];
    uint32_t     rows[JQ_CAP];      /* physical input rows to emit padded      */
    uint32_t     ident[JQ_CAP];     /* 0, 1, 2, …                              */

    /* per-push arrays, sized to the largest batch seen */
    int          scap;
    uint64_t    *hashes;
    uint8_t     *img;
    int64_t     *times;
    uint8_t     *status;
    uint8_t     *matched;
    uint32_t    *phys;
    uint32_t    *store;

    /* output queue: batches qb[qh..qn), the head drained up to qpos */
    Batch      **qb;
    int          qh, qn, qcap;
    int          qpos;
    Batch      **qfree;
    int          nfree, freecap;
    int64_t      pending;

    int64_t      late;

    /* checkpoints */
    uint64_t     fingerprint;   /* of the spec, in every chunk                 */
    int          snap_started;  /* a snapshot or restore happened              */
    int          snap_meta;     /* meta reported / loaded: values below        */
    int64_t      snap_wm[2], snap_late;
    int          pushed;        /* push/advance called: no more restores       */
    int          broken;        /* a restore failed                            */
    SnapBuf      sbuf;
    int64_t     *ids;           /* snapshot scratch: chunk ids, counts, order  */
    uint32_t    *idcnt, *order;
    size_t       idcap, idcntcap, ordercap;
    char         err[256];
};

/* ---- helpers ---------------------------------------------------------------------- */

static int fail(JoinOp *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(JoinOp *op, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(op->err, sizeof op->err, fmt, ap);
    va_end(ap);
    return -1;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

static int same_class(SqlType a, SqlType b)
{
    return a == b || (sql_type_is_i64(a) && sql_type_is_i64(b));
}

static inline uint8_t *rec_at(const Side *sd, uint32_t idx)
{
    return sd->slabs[idx >> SLAB_SHIFT] + (size_t)(idx & (SLAB_ROWS - 1)) * sd->recsize;
}

static inline RecHdr *hdr(uint8_t *rec)
{
    return (RecHdr *)(void *)rec;
}

static inline int rec_null(const Side *sd, const uint8_t *rec, int c)
{
    return (rec[sd->nulloff + (size_t)(c >> 3)] >> (c & 7)) & 1;
}

static inline int side_expires(const JoinOp *op)
{
    return op->timed;
}

/* Is a row of side s with this deadline dead given the other side's watermark? */
static inline int dead(const JoinOp *op, int64_t deadline, int64_t other_wm)
{
    if (other_wm == INT64_MAX) return 1;
    return op->timed && deadline < other_wm;
}

static void snap_touch(Side *sd, int64_t id);
static int64_t chunk_id(const JoinOp *op, uint64_t hash, int64_t t);

static uint64_t spec_fingerprint(const JoinOp *op);

/* ---- records ------------------------------------------------------------------------ */

static int rec_alloc(Side *sd, uint32_t *idx)
{
    if (sd->freelist != NIL) {
        *idx = sd->freelist;
        sd->freelist = hdr(rec_at(sd, *idx))->next;
        return 0;
    }
    if ((sd->nrec >> SLAB_SHIFT) >= (uint32_t)sd->nslabs) {
        if (sd->nrec >= NIL - SLAB_ROWS) return -1;
        if (sd->nslabs == sd->slabcap) {
            int       nc = sd->slabcap ? 2 * sd->slabcap : 16;
            uint8_t **s = realloc(sd->slabs, (size_t)nc * sizeof *s);
            if (!s) return -1;
            sd->slabs = s;
            sd->slabcap = nc;
        }
        uint8_t *slab = malloc(SLAB_ROWS * sd->recsize);
        if (!slab) return -1;
        sd->slabs[sd->nslabs++] = slab;
    }
    *idx = sd->nrec++;
    return 0;
}

static size_t rec_strbytes(const Side *sd, uint8_t *rec)
{
    size_t n = 0;
    for (int c = 0; c < sd->ncols; c++) {
        if (sd->types[c] != TYPE_VARCHAR || rec_null(sd, rec, c)) continue;
        Str s;
        memcpy(&s, rec + sd->coloff[c], sizeof s);
        n += s.len;
    }
    return n;
}

static void bucket_insert(Side *sd, uint32_t idx, uint8_t *rec)
{
    RecHdr   *h = hdr(rec);
    uint32_t *b = &sd->buckets[h->hash & (sd->nbuckets - 1)];
    h->prev = NIL;
    h->next = *b;
    if (*b != NIL) hdr(rec_at(sd, *b))->prev = idx;
    *b = idx;
}

static void bucket_remove(Side *sd, uint8_t *rec)
{
    RecHdr *h = hdr(rec);
    if (h->prev != NIL) hdr(rec_at(sd, h->prev))->next = h->next;
    else sd->buckets[h->hash & (sd->nbuckets - 1)] = h->next;
    if (h->next != NIL) hdr(rec_at(sd, h->next))->prev = h->prev;
}

/* make room for `want` live records: at least one bucket per record */
static int buckets_reserve(Side *sd, int64_t want)
{
    if ((int64_t)sd->nbuckets >= want && sd->nbuckets) return 0;
    uint32_t nb = sd->nbuckets ? sd->nbuckets : 1024;
    while ((int64_t)nb < want) {
        if (nb >= (UINT32_C(1) << 31)) return -1;
        nb *= 2;
    }
    uint32_t *b = malloc((size_t)nb * sizeof *b);
    if (!b) return -1;
    memset(b, 0xff, (size_t)nb * sizeof *b);
    free(sd->buckets);
    sd->buckets = b;
    sd->nbuckets = nb;
    for (uint32_t i = 0; i < sd->nrec; i++) {
        uint8_t *rec = rec_at(sd, i);
        if (hdr(rec)->flags & REC_LIVE) bucket_insert(sd, i, rec);
    }
    return 0;
}

static void rec_free(Side *sd, uint32_t idx, uint8_t *rec)
{
    bucket_remove(sd, rec);
    sd->live_str -= rec_strbytes(sd, rec);
    RecHdr *h = hdr(rec);
    h->flags = 0;
    h->next = sd->freelist;
    sd->freelist = idx;
    sd->nlive--;
}

/* drop every record of a side (its slabs, buckets and arena memory are kept) */
static void side_clear(Side *sd)
{
    sd->nrec = 0;
    sd->freelist = NIL;
    sd->nlive = 0;
    sd->nheap = 0;
    sd->live_str = 0;
    if (sd->nbuckets) memset(sd->buckets, 0xff, (size_t)sd->nbuckets * sizeof *sd->buckets);
    arena_free(&sd->str);
    sd->snap_all = 1;   /* every stored chunk of the side becomes a delete */
}

/* ---- the release heap ----------------------------------------------------------------- */

static int heap_push(Side *sd, int64_t d, uint32_t idx)
{
    if (sd->nheap == sd->heapcap) {
        int64_t  nc = sd->heapcap ? 2 * sd->heapcap : 1024;
        HeapEnt *h = realloc(sd->heap, (size_t)nc * sizeof *h);
        if (!h) return -1;
        sd->heap = h;
        sd->heapcap = nc;
    }
    HeapEnt *h = sd->heap;
    int64_t  i = sd->nheap++;
    while (i > 0) {
        int64_t p = (i - 1) / 2;
        if (h[p].d <= d) break;
        h[i] = h[p];
        i = p;
    }
    h[i].d = d;
    h[i].idx = idx;
    return 0;
}

static uint32_t heap_pop(Side *sd)
{
    HeapEnt *h = sd->heap;
    uint32_t top = h[0].idx;
    HeapEnt  last = h[--sd->nheap];
    int64_t  n = sd->nheap, i = 0;
    for (;;) {
        int64_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].d < h[c].d) c++;
        if (last.d <= h[c].d) break;
        h[i] = h[c];
        i = c;
    }
    if (n > 0) h[i] = last;
    return top;
}

/* ---- strings -------------------------------------------------------------------------- */

/* Copy the live strings into a fresh arena when the arena holds twice what is
 * live: the memory of released rows' strings is given back. */
static int side_compact(Side *sd)
{
    size_t used = arena_bytes_used(&sd->str);
    if (used <= STR_FLOOR || used <= 2 * sd->live_str) return 0;
    Arena fresh;
    arena_init(&fresh, sd->live_str > 4096 ? sd->live_str : 4096);
    for (uint32_t i = 0; i < sd->nrec; i++) {
        uint8_t *rec = rec_at(sd, i);
        if (!(hdr(rec)->flags & REC_LIVE)) continue;
        for (int c = 0; c < sd->ncols; c++) {
            if (sd->types[c] != TYPE_VARCHAR || rec_null(sd, rec, c)) continue;
            Str s;
            memcpy(&s, rec + sd->coloff[c], sizeof s);
            if (s.len == 0) continue;
            char *p = arena_alloc_bytes(&fresh, s.len);
            if (!p) {
                arena_free(&fresh);
                return -1;
            }
            memcpy(p, s.ptr, s.len);
            s.ptr = p;
            memcpy(rec + sd->coloff[c], &s, sizeof s);
        }
    }
    arena_free(&sd->str);
    sd->str = fresh;
    return 0;
}

/* ---- gathering rows into batches ------------------------------------------------------- */

/* Write the records' columns into dst[0..ncols) at slots [at, at+n). */
static int gather_records(Vector *dst, int at, const Side *sd, uint8_t *const *recs, int n)
{
    for (int c = 0; c < sd->ncols; c++) {
        Vector *v = &dst[c];
        size_t  off = sd->coloff[c];
        switch (sd->types[c]) {
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL: {
            int64_t *d = vector_i64(v) + at;
            for (int j = 0; j < n; j++) memcpy(&d[j], recs[j] + off, 8);
            break;
        }
        case TYPE_DOUBLE: {
            double *d = vector_f64(v) + at;
            for (int j = 0; j < n; j++) memcpy(&d[j], recs[j] + off, 8);
            break;
        }
        case TYPE_BOOLEAN: {
            uint8_t *d = vector_bool(v) + at;
            for (int j = 0; j < n; j++) d[j] = recs[j][off];
            break;
        }
        case TYPE_VARCHAR:
            for (int j = 0; j < n; j++) {
                if (rec_null(sd, recs[j], c)) continue;
                Str s;
                memcpy(&s, recs[j] + off, sizeof s);
                if (vector_set_str(v, at + j, s.ptr, s.len) != 0) return -1;
            }
            break;
        default:
            break;
        }
        for (int j = 0; j < n; j++) {
            if (rec_null(sd, recs[j], c)) vector_set_null(v, at + j);
            else vector_set_valid(v, at + j);
        }
    }
    return 0;
}

static void fill_null(Vector *dst, int ncols, int at, int n)
{
    for (int c = 0; c < ncols; c++)
        for (int j = 0; j < n; j++) vector_set_null(&dst[c], at + j);
}

static int side_off(const JoinOp *op, int s)
{
    return s == 0 ? 0 : op->side[0].ncols;
}

/* ---- the output queue ------------------------------------------------------------------ */

static Batch *queue_tail(JoinOp *op)
{
    if (op->qn > op->qh && op->qb[op->qn - 1]->nrows < JQ_CAP) return op->qb[op->qn - 1];
    if (op->qn == op->qcap) {
        if (op->qh > 0) {
            memmove(op->qb, op->qb + op->qh, (size_t)(op->qn - op->qh) * sizeof *op->qb);
            op->qn -= op->qh;
            op->qh = 0;
        } else {
            int     nc = op->qcap ? 2 * op->qcap : 8;
            Batch **q = realloc(op->qb, (size_t)nc * sizeof *q);
            if (!q) return NULL;
            op->qb = q;
            op->qcap = nc;
        }
    }
    Batch *b;
    if (op->nfree > 0) {
        b = op->qfree[--op->nfree];
    } else {
        b = malloc(sizeof *b);
        if (!b) return NULL;
        if (batch_init(b, op->nout, op->otypes, JQ_CAP) != 0) {
            batch_destroy(b);
            free(b);
            return NULL;
        }
    }
    op->qb[op->qn++] = b;
    return b;
}

/* Queue rows[0..n) of src (a cand/pad batch; rows NULL: 0..n-1) marked op. */
static int queue_rows(JoinOp *op, const Batch *src, const uint32_t *rows, int n, uint8_t mark)
{
    int done = 0;
    while (done < n) {
        Batch *t = queue_tail(op);
        if (!t) return fail(op, "out of memory");
        int m = JQ_CAP - t->nrows;
        if (m > n - done) m = n - done;
        const uint32_t *r = rows ? rows + done : op->ident + done;
        for (int c = 0; c < t->ncols; c++)
            if (vector_gather(&t->cols[c], t->nrows, &src->cols[c], r, m) != 0)
                return fail(op, "out of memory");
        if (op->emit_changes) {
            uint8_t *ops = batch_ops_buf(t);
            if (!ops) return fail(op, "out of memory");
            memset(ops + t->nrows, mark, (size_t)m);
            t->ops = ops;
        }
        t->nrows += m;
        t->count = t->nrows;
        op->pending += m;
        done += m;
    }
    return 0;
}

/* Queue the records recs[0..n) of side s padded (the other side NULL). */
static int queue_padded_records(JoinOp *op, int s, uint8_t *const *recs, int n, uint8_t mark)
{
    if (n == 0) return 0;
    Batch *p = &op->pad;
    batch_reset(p);
    if (gather_records(p->cols + side_off(op, s), 0, &op->side[s], recs, n) != 0)
        return fail(op, "out of memory");
    fill_null(p->cols + side_off(op, 1 - s), op->side[1 - s].ncols, 0, n);
    batch_set_nrows(p, n);
    return queue_rows(op, p, NULL, n, mark);
}

/* Queue the input rows rows[0..n) of side s padded. */
static int queue_padded_input(JoinOp *op, int s, const Batch *in, const uint32_t *rows, int n)
{
    if (n == 0) return 0;
    Batch *p = &op->pad;
    batch_reset(p);
    int o = side_off(op, s);
    for (int c = 0; c < op->side[s].ncols; c++)
        if (vector_gather(&p->cols[o + c], 0, &in->cols[c], rows, n) != 0) return fail(op, "out of memory");
    fill_null(p->cols + side_off(op, 1 - s), op->side[1 - s].ncols, 0, n);
    batch_set_nrows(p, n);
    return queue_rows(op, p, NULL, n, AGG_ROW_INSERT);
}

/* ---- API ------------------------------------------------------------------------------ */

static int side_init(JoinOp *op, int s, const JoinOpSpec *spec, char *why, size_t cap)
{
    Side          *sd = &op->side[s];
    int            n = s == 0 ? spec->nleft : spec->nright;
    const SqlType *t = s == 0 ? spec->left_types : spec->right_types;
    const int     *k = s == 0 ? spec->lkeys : spec->rkeys;
    const char    *name = s == 0 ? "left" : "right";
    if (n < 1 || n > 4096 || !t) {
        snprintf(why, cap, "join: the %s input needs 1..4096 columns", name);
        return -1;
    }
    sd->ncols = n;
    sd->types = malloc((size_t)n * sizeof *sd->types);
    sd->keys = malloc((size_t)(spec->nkeys > 0 ? spec->nkeys : 1) * sizeof *sd->keys);
    sd->coloff = malloc((size_t)n * sizeof *sd->coloff);
    if (!sd->types || !sd->keys || !sd->coloff) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    for (int c = 0; c < n; c++) {
        if (t[c] < TYPE_NULL || t[c] > TYPE_INTERVAL) {
            snprintf(why, cap, "join: %s column %d has an unknown type", name, c);
            return -1;
        }
        sd->types[c] = t[c];
    }
    for (int i = 0; i < spec->nkeys; i++) {
        if (!k || k[i] < 0 || k[i] >= n) {
            snprintf(why, cap, "join: %s key %d is not a column of the %s input", name, i, name);
            return -1;
        }
        sd->keys[i] = k[i];
    }
    sd->tcol = -1;
    if (spec->flavor == JOIN_OP_WINDOW) sd->tcol = s == 0 ? spec->lwend : spec->rwend;
    else if (spec->flavor == JOIN_OP_INTERVAL || spec->ttl_us > 0) sd->tcol = s == 0 ? spec->ltime : spec->rtime;
    if (op->timed && (sd->tcol < 0 || sd->tcol >= n || !sql_type_is_i64(t[sd->tcol]))) {
        snprintf(why, cap, "join: the %s %s column must be a TIMESTAMP (or int64) column of the %s input", name,
                 spec->flavor == JOIN_OP_WINDOW ? "window_end" : "time", name);
        return -1;
    }
    sd->preserved = s == 0 ? (spec->type == JOIN_TYPE_LEFT || spec->type == JOIN_TYPE_FULL)
                           : (spec->type == JOIN_TYPE_RIGHT || spec->type == JOIN_TYPE_FULL);
    if (spec->flavor == JOIN_OP_INTERVAL) sd->off = s == 0 ? -spec->lower_us : spec->upper_us;
    else if (spec->flavor == JOIN_OP_REGULAR) sd->off = spec->ttl_us;
    else sd->off = 0;
    if (spec->flavor == JOIN_OP_INTERVAL && s == 0 && spec->lower_us == INT64_MIN) sd->off = INT64_MAX;

    size_t off = sizeof(RecHdr) + op->kimg;
    for (int c = 0; c < n; c++) {
        sd->coloff[c] = off;
        off += t[c] == TYPE_VARCHAR ? sizeof(Str) : 8;
    }
    sd->nulloff = off;
    off += ((size_t)n + 7) / 8;
    sd->recsize = (off + 7) & ~(size_t)7;
    sd->freelist = NIL;
    sd->wm = INT64_MIN;
    arena_init(&sd->str, 4096);
    return 0;
}

JoinOp *join_op_new(const JoinOpSpec *spec, char *why, size_t cap)
{
    char dummy[8];
    if (!why || cap == 0) {
        why = dummy;
        cap = sizeof dummy;
    }
    why[0] = '\0';
    if (!spec) {
        snprintf(why, cap, "join: no spec");
        return NULL;
    }
    if (spec->type < JOIN_TYPE_INNER || spec->type > JOIN_TYPE_FULL || spec->flavor < JOIN_OP_WINDOW ||
        spec->flavor > JOIN_OP_REGULAR) {
        snprintf(why, cap, "join: unknown join type or flavor");
        return NULL;
    }
    if (spec->nkeys < 0 || spec->nkeys > MAX_KEYS) {
        snprintf(why, cap, "join: 0..%d equality keys, got %d", MAX_KEYS, spec->nkeys);
        return NULL;
    }
    if (spec->flavor == JOIN_OP_INTERVAL && spec->lower_us > spec->upper_us) {
        snprintf(why, cap, "join: the interval bounds are empty (lower %lld > upper %lld)",
                 (long long)spec->lower_us, (long long)spec->upper_us);
        return NULL;
    }
    if (spec->flavor == JOIN_OP_REGULAR && spec->ttl_us < 0) {
        snprintf(why, cap, "join: negative state TTL");
        return NULL;
    }
    if (spec->table_upsert && (!spec->table || spec->flavor != JOIN_OP_REGULAR || spec->ttl_us != 0)) {
        snprintf(why, cap, "join: table_upsert needs a table side of a regular join without a TTL");
        return NULL;
    }
    /* with a table that ends first, a padded stream row is final */
    int table_first = (spec->type == JOIN_TYPE_LEFT && spec->table == 1) ||
                      (spec->type == JOIN_TYPE_RIGHT && spec->table == 2);
    if (spec->flavor == JOIN_OP_REGULAR && spec->type != JOIN_TYPE_INNER && !spec->emit_changes && !table_first) {
        snprintf(why, cap, "join: an outer join without time bounds retracts its padded rows: it needs emit_changes");
        return NULL;
    }
    JoinOp *op = calloc(1, sizeof *op);
    if (!op) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    op->type = spec->type;
    op->flavor = spec->flavor;
    op->emit_changes = spec->emit_changes != 0;
    op->table_side = spec->table == 1 ? 1 : spec->table == 2 ? 0 : -1;
    op->upsert = spec->table_upsert != 0;
    op->nkeys = spec->nkeys;
    op->kimg = (size_t)spec->nkeys * 8;
    op->timed = spec->flavor != JOIN_OP_REGULAR || spec->ttl_us > 0;
    op->interval = spec->flavor == JOIN_OP_INTERVAL;
    op->lower = spec->lower_us;
    op->upper = spec->upper_us;
    op->side[0].freelist = op->side[1].freelist = NIL;
    for (uint32_t i = 0; i < JQ_CAP; i++) op->ident[i] = i;
    if (side_init(op, 0, spec, why, cap) != 0 || side_init(op, 1, spec, why, cap) != 0) goto fail;
    for (int k = 0; k < op->nkeys; k++) {
        SqlType a = spec->left_types[spec->lkeys[k]], b = spec->right_types[spec->rkeys[k]];
        if (!same_class(a, b) && a != TYPE_NULL && b != TYPE_NULL) {
            snprintf(why, cap, "join: key %d compares %s with %s", k, sql_type_name(a), sql_type_name(b));
            goto fail;
        }
        op->ktype[k] = a == TYPE_NULL ? b : a;
        if (op->ktype[k] == TYPE_VARCHAR) op->has_str_key = 1;
    }
    op->nout = op->side[0].ncols + op->side[1].ncols;
    if (spec->residual) {
        if (spec->residual->type != TYPE_BOOLEAN) {
            snprintf(why, cap, "join: the residual condition must be BOOLEAN, not %s",
                     sql_type_name(spec->residual->type));
            goto fail;
        }
        char ewhy[200];
        op->residual = expr_state_new(spec->residual, JQ_CAP, ewhy, sizeof ewhy);
        if (!op->residual) {
            snprintf(why, cap, "join: residual condition: %s", ewhy);
            goto fail;
        }
    }
    op->otypes = malloc((size_t)op->nout * sizeof *op->otypes);
    if (!op->otypes) {
        snprintf(why, cap, "out of memory");
        goto fail;
    }
    memcpy(op->otypes, op->side[0].types, (size_t)op->side[0].ncols * sizeof *op->otypes);
    memcpy(op->otypes + op->side[0].ncols, op->side[1].types, (size_t)op->side[1].ncols * sizeof *op->otypes);
    op->fingerprint = spec_fingerprint(op);
    op->cand_init = batch_init(&op->cand, op->nout, op->otypes, JQ_CAP) == 0;
    op->pad_init = batch_init(&op->pad, op->nout, op->otypes, JQ_CAP) == 0;
    if (!op->cand_init || !op->pad_init) {
        snprintf(why, cap, "out of memory");
        goto fail;
    }
    return op;
fail:
    join_op_free(op);
    return NULL;
}

static void side_free(Side *sd)
{
    for (int i = 0; i < sd->nslabs; i++) free(sd->slabs[i]);
    free(sd->slabs);
    free(sd->buckets);
    free(sd->heap);
    free(sd->types);
    free(sd->keys);
    free(sd->coloff);
    arena_free(&sd->str);
    free(sd->dirty);
    free(sd->present);
    free(sd->next);
    if (sd->rb_init) batch_destroy(&sd->rb);
}

void join_op_free(JoinOp *op)
{
    if (!op) return;
    side_free(&op->side[0]);
    side_free(&op->side[1]);
    expr_state_free(op->residual);
    if (op->cand_init) batch_destroy(&op->cand);
    if (op->pad_init) batch_destroy(&op->pad);
    free(op->otypes);
    for (int i = op->qh; i < op->qn; i++) {
        batch_destroy(op->qb[i]);
        free(op->qb[i]);
    }
    for (int i = 0; i < op->nfree; i++) {
        batch_destroy(op->qfree[i]);
        free(op->qfree[i]);
    }
    free(op->qb);
    free(op->qfree);
    free(op->hashes);
    free(op->img);
    free(op->times);
    free(op->status);
    free(op->matched);
    free(op->phys);
    free(op->store);
    free(op->sbuf.p);
    free(op->ids);
    free(op->idcnt);
    free(op->order);
    free(op);
}

static int scratch_reserve(JoinOp *op, int n)
{
    if (n <= op->scap) return 0;
    int nc = op->scap ? op->scap : 1024;
    while (nc < n) nc *= 2;
#define GROW(p, sz)                                       \
    do {                                                  \
        void *q_ = realloc((p), (size_t)nc * (sz));       \
        if (!q_) return -1;                               \
        (p) = q_;                                         \
    } while (0)
    GROW(op->hashes, sizeof *op->hashes);
    GROW(op->img, op->kimg ? op->kimg : 1);
    GROW(op->times, sizeof *op->times);
    GROW(op->status, 1);
    GROW(op->matched, 1);
    GROW(op->phys, sizeof *op->phys);
    GROW(op->store, sizeof *op->store);
#undef GROW
    op->scap = nc;
    return 0;
}

/* Step 1: hashes, key images, times and status of the live rows of in. */
static void classify(JoinOp *op, int s, const Batch *in)
{
    Side    *sd = &op->side[s];
    int      n = in->count;
    size_t   kimg = op->kimg;
    uint8_t *st = op->status;
    for (int i = 0; i < n; i++) {
        op->phys[i] = (uint32_t)batch_row(in, i);
        st[i] = ST_OK;
        op->matched[i] = 0;
    }
    if (op->nkeys == 0) memset(op->hashes, 0, (size_t)n * sizeof *op->hashes);
    for (int k = 0; k < op->nkeys; k++) {
        const Vector   *v = &in->cols[sd->keys[k]];
        const uint64_t *val = v->validity;
        int             cst = vector_is_constant(v);
        uint8_t        *img = op->img + 8 * (size_t)k;
        hash_vector(v, in->sel, n, op->hashes, k > 0);
        switch (v->type) {
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL: {
            const int64_t *x = vector_i64(v);
            for (int i = 0; i < n; i++) {
                int r = cst ? 0 : (int)op->phys[i];
                memcpy(img + (size_t)i * kimg, &x[r], 8);
                if (!vector_validity_get(val, r)) st[i] = ST_NOKEY;
            }
            break;
        }
        case TYPE_DOUBLE: {
            const double *x = vector_f64(v);
            for (int i = 0; i < n; i++) {
                int    r = cst ? 0 : (int)op->phys[i];
                double d = x[r];
                if (d == 0.0) d = 0.0;   /* -0.0 = 0.0 */
                memcpy(img + (size_t)i * kimg, &d, 8);
                if (!vector_validity_get(val, r) || d != d) st[i] = ST_NOKEY;
            }
            break;
        }
        case TYPE_BOOLEAN: {
            const uint8_t *x = vector_bool(v);
            for (int i = 0; i < n; i++) {
                int      r = cst ? 0 : (int)op->phys[i];
                uint64_t b = x[r] != 0;
                memcpy(img + (size_t)i * kimg, &b, 8);
                if (!vector_validity_get(val, r)) st[i] = ST_NOKEY;
            }
            break;
        }
        case TYPE_VARCHAR:
            for (int i = 0; i < n; i++) {
                int r = cst ? 0 : (int)op->phys[i];
                memset(img + (size_t)i * kimg, 0, 8);
                if (!vector_validity_get(val, r)) st[i] = ST_NOKEY;
            }
            break;
        default:   /* TYPE_NULL: never matches */
            for (int i = 0; i < n; i++) {
                memset(img + (size_t)i * kimg, 0, 8);
                st[i] = ST_NOKEY;
            }
            break;
        }
    }
    if (sd->tcol < 0) {
        memset(op->times, 0, (size_t)n * sizeof *op->times);
        return;
    }
    const Vector   *v = &in->cols[sd->tcol];
    const uint64_t *val = v->validity;
    const int64_t  *x = vector_i64(v);
    int             cst = vector_is_constant(v);
    int64_t         wm = sd->wm;
    for (int i = 0; i < n; i++) {
        int r = cst ? 0 : (int)op->phys[i];
        if (!vector_validity_get(val, r)) {
            /* a NULL interval time cannot satisfy BETWEEN: unmatchable; a NULL
             * window_end or TTL time is late (as agg.h's NULL window_end) */
            if (op->flavor == JOIN_OP_INTERVAL) {
                if (st[i] == ST_OK) st[i] = ST_NOKEY;
            } else {
                st[i] = ST_LATE;
            }
            op->times[i] = 0;
            continue;
        }
        int64_t t = x[r];
        if (op->flavor == JOIN_OP_WINDOW) {
            if (t <= wm) {
                st[i] = ST_LATE;
                t = 0;
            } else {
                t -= 1;   /* window_end > wm >= INT64_MIN */
            }
        } else if (t < wm) {
            st[i] = ST_LATE;
        }
        op->times[i] = t;
    }
}

static inline int keys_equal(const JoinOp *op, int s, const Batch *in, uint32_t phys, const uint8_t *img,
                             const uint8_t *rec)
{
    if (op->kimg && memcmp(img, rec + sizeof(RecHdr), op->kimg) != 0) return 0;
    if (!op->has_str_key) return 1;
    const Side *so = &op->side[1 - s];
    for (int k = 0; k < op->nkeys; k++) {
        if (op->ktype[k] != TYPE_VARCHAR) continue;
        const Vector *v = &in->cols[op->side[s].keys[k]];
        Str           a = vector_str(v)[vector_index(v, (int)phys)], b;
        memcpy(&b, rec + so->coloff[so->keys[k]], sizeof b);
        if (!str_eq(a, b)) return 0;
    }
    return 1;
}

/* Step 3: the collected candidates: residual, matched marks, retractions, queue. */
static int flush_candidates(JoinOp *op, int s, const Batch *in)
{
    int n = op->ncand;
    if (n == 0) return 0;
    op->ncand = 0;
    int    o = 1 - s;
    Side  *so = &op->side[o];
    Batch *cb = &op->cand;
    batch_reset(cb);
    int ps = side_off(op, s);
    for (int c = 0; c < op->side[s].ncols; c++)
        if (vector_gather(&cb->cols[ps + c], 0, &in->cols[c], op->cand_phys, n) != 0)
            return fail(op, "out of memory");
    if (gather_records(cb->cols + side_off(op, o), 0, so, op->cand_rec, n) != 0) return fail(op, "out of memory");
    batch_set_nrows(cb, n);
    if (op->residual && expr_filter(op->residual, cb) != 0)
        return fail(op, "join condition: %s", expr_state_error(op->residual));
    int retract = op->flavor == JOIN_OP_REGULAR && so->preserved;
    int nret = 0;
    for (int j = 0; j < cb->count; j++) {
        int k = batch_row(cb, j);
        op->matched[op->cand_i[k]] = 1;
        RecHdr *h = hdr(op->cand_rec[k]);
        if (!(h->flags & REC_MATCHED)) {
            h->flags |= REC_MATCHED;
            if (retract) op->recs[nret++] = op->cand_rec[k];
            if (so->preserved) snap_touch(so, chunk_id(op, h->hash, h->t));
        }
    }
    /* the -D of padded rows first, then the joined rows that replace them */
    if (nret) {
        /* the pad batch is free here: padded input rows are queued later */
        if (queue_padded_records(op, o, op->recs, nret, AGG_ROW_DELETE) != 0) return -1;
    }
    return queue_rows(op, cb, cb->sel, cb->count, AGG_ROW_INSERT);
}

/* Step 5: store rows op->store[0..m) (indexes into the push arrays). */
/* Do stored records a and b of side sd have equal keys (their hashes being equal)? */
static int rec_keys_equal(const JoinOp *op, const Side *sd, const uint8_t *a, const uint8_t *b)
{
    if (op->kimg && memcmp(a + sizeof(RecHdr), b + sizeof(RecHdr), op->kimg) != 0) return 0;
    for (int k = 0; op->has_str_key && k < op->nkeys; k++) {
        if (op->ktype[k] != TYPE_VARCHAR) continue;
        Str x, y;
        memcpy(&x, a + sd->coloff[sd->keys[k]], sizeof x);
        memcpy(&y, b + sd->coloff[sd->keys[k]], sizeof y);
        if (!str_eq(x, y)) return 0;
    }
    return 1;
}

/* A table keyed by the join keys (spec.table_upsert): the stored row with
 * rec's keys, if any, gives way to rec (not yet in the index). */
static void upsert_remove(JoinOp *op, Side *sd, uint8_t *rec)
{
    uint64_t h = hdr(rec)->hash;
    for (uint32_t idx = sd->buckets[h & (sd->nbuckets - 1)]; idx != NIL;) {
        uint8_t *o = rec_at(sd, idx);
        uint32_t at = idx;
        idx = hdr(o)->next;
        if (hdr(o)->hash != h || !rec_keys_equal(op, sd, o, rec)) continue;
        snap_touch(sd, chunk_id(op, h, hdr(o)->t));
        rec_free(sd, at, o);
    }
}

static int store_rows(JoinOp *op, int s, const Batch *in, int m)
{
    Side *sd = &op->side[s];
    if (m == 0) return 0;
    if (buckets_reserve(sd, sd->nlive + m) != 0) return fail(op, "out of memory");
    for (int base = 0; base < m; base += JQ_CAP) {
        int n = m - base < JQ_CAP ? m - base : JQ_CAP;
        const uint32_t *ix = op->store + base;
        for (int j = 0; j < n; j++) {
            uint32_t idx;
            if (rec_alloc(sd, &idx) != 0) return fail(op, "out of memory");
            uint8_t *rec = rec_at(sd, idx);
            RecHdr  *h = hdr(rec);
            uint32_t i = ix[j];
            h->hash = op->hashes[i];
            h->t = op->times[i];
            h->deadline = sat_add(op->times[i], sd->off);
            h->flags = REC_LIVE | (op->matched[i] ? REC_MATCHED : 0);
            snap_touch(sd, chunk_id(op, h->hash, h->t));
            if (op->kimg) memcpy(rec + sizeof(RecHdr), op->img + (size_t)i * op->kimg, op->kimg);
            memset(rec + sd->nulloff, 0, sd->recsize - sd->nulloff);
            op->recs[j] = rec;
            op->recidx[j] = idx;
            op->rows[j] = op->phys[i];
        }
        for (int c = 0; c < sd->ncols; c++) {
            const Vector   *v = &in->cols[c];
            const uint64_t *val = v->validity;
            int             cst = vector_is_constant(v);
            size_t          off = sd->coloff[c];
            size_t          nb = sd->nulloff + (size_t)(c >> 3);
            uint8_t         bit = (uint8_t)(1u << (c & 7));
            switch (v->type) {
            case TYPE_BIGINT:
            case TYPE_TIMESTAMP:
            case TYPE_INTERVAL:
            case TYPE_DOUBLE: {
                const uint64_t *x = (const uint64_t *)v->data;
                for (int j = 0; j < n; j++) memcpy(op->recs[j] + off, &x[cst ? 0 : op->rows[j]], 8);
                break;
            }
            case TYPE_BOOLEAN: {
                const uint8_t *x = vector_bool(v);
                for (int j = 0; j < n; j++) op->recs[j][off] = x[cst ? 0 : op->rows[j]];
                break;
            }
            case TYPE_VARCHAR: {
                const Str *x = vector_str(v);
                for (int j = 0; j < n; j++) {
                    int r = cst ? 0 : (int)op->rows[j];
                    Str str = {NULL, 0};
                    if (vector_validity_get(val, r) && x[r].len) {
                        char *p = arena_alloc_bytes(&sd->str, x[r].len);
                        if (!p) return fail(op, "out of memory");
                        memcpy(p, x[r].ptr, x[r].len);
                        str.ptr = p;
                        str.len = x[r].len;
                        sd->live_str += str.len;
                    }
                    memcpy(op->recs[j] + off, &str, sizeof str);
                }
                break;
            }
            default:
                break;
            }
            if (v->type == TYPE_NULL) {
                for (int j = 0; j < n; j++) op->recs[j][nb] |= bit;
            } else if (val) {
                for (int j = 0; j < n; j++)
                    if (!vector_validity_get(val, cst ? 0 : (int)op->rows[j])) op->recs[j][nb] |= bit;
            }
        }
        for (int j = 0; j < n; j++) {
            if (op->upsert && s == op->table_side) upsert_remove(op, sd, op->recs[j]);
            bucket_insert(sd, op->recidx[j], op->recs[j]);
            sd->nlive++;
            if (in->ops && in->ops[op->rows[j]] == BATCH_OP_DELETE) {   /* a tombstone: its key's row went */
                rec_free(sd, op->recidx[j], op->recs[j]);
                continue;
            }
            if (side_expires(op) && heap_push(sd, hdr(op->recs[j])->deadline, op->recidx[j]) != 0)
                return fail(op, "out of memory");
        }
    }
    return 0;
}

static int check_input(JoinOp *op, int s, const Batch *in)
{
    const Side *sd = &op->side[s];
    if (!in || in->ncols != sd->ncols)
        return fail(op, "join: the %s input batch has %d columns, expected %d", s ? "right" : "left",
                    in ? in->ncols : -1, sd->ncols);
    for (int c = 0; c < sd->ncols; c++)
        if (!same_class(in->cols[c].type, sd->types[c]))
            return fail(op, "join: %s column %d is %s, expected %s", s ? "right" : "left", c,
                        sql_type_name(in->cols[c].type), sql_type_name(sd->types[c]));
    int dels = op->upsert && s == op->table_side;   /* a table's deletes (tombstones) */
    if (in->ops)
        for (int i = 0; i < in->count; i++) {
            uint8_t k = in->ops[batch_row(in, i)];
            if (k != BATCH_OP_INSERT && !(dels && k == BATCH_OP_DELETE))
                return fail(op, "join: the %s input is a changelog (updates or deletes): joins take append-only inputs",
                            s ? "right" : "left");
        }
    return 0;
}

int join_op_push(JoinOp *op, int side, const Batch *in)
{
    op->err[0] = '\0';
    if (op->broken) return fail(op, "a restore failed: the join is unusable");
    if (side != 0 && side != 1) return fail(op, "join: side must be 0 (left) or 1 (right)");
    if (check_input(op, side, in) != 0) return -1;
    if (op->table_side == 1 - side && op->side[op->table_side].wm != INT64_MAX && in->count > 0)
        return fail(op, "join: a row of the stream side came before the table side ended");
    op->pushed = 1;
    int n = in->count;
    if (n == 0) return 0;
    if (scratch_reserve(op, n) != 0) return fail(op, "out of memory");
    classify(op, side, in);

    int     o = 1 - side;
    Side   *sd = &op->side[side], *so = &op->side[o];
    int64_t owm = so->wm;
    /* step 2: probe */
    if (so->nlive > 0) {
        uint32_t mask = so->nbuckets - 1;
        for (int i = 0; i < n; i++) {
            if (op->status[i] != ST_OK) continue;
            uint64_t       h = op->hashes[i];
            const uint8_t *img = op->img + (size_t)i * op->kimg;
            int64_t        t = op->times[i];
            for (uint32_t idx = so->buckets[h & mask]; idx != NIL;) {
                uint8_t *rec = rec_at(so, idx);
                RecHdr  *rh = hdr(rec);
                idx = rh->next;
                if (rh->hash != h || !keys_equal(op, side, in, op->phys[i], img, rec)) continue;
                if (op->interval) {
                    __int128 d = side == 0 ? (__int128)t - rh->t : (__int128)rh->t - t;   /* l.t - r.t */
                    if (d < op->lower || d > op->upper) continue;
                }
                op->cand_i[op->ncand] = (uint32_t)i;
                op->cand_phys[op->ncand] = op->phys[i];
                op->cand_rec[op->ncand] = rec;
                if (++op->ncand == JQ_CAP && flush_candidates(op, side, in) != 0) return -1;
            }
        }
        if (flush_candidates(op, side, in) != 0) return -1;
    }
    /* step 4: padded rows due now; step 5: which rows to store */
    int npad = 0, nstore = 0;
    for (int i = 0; i < n; i++) {
        uint8_t st = op->status[i];
        if (st == ST_LATE) {
            op->late++;
            continue;
        }
        int gone = st == ST_NOKEY || dead(op, sat_add(op->times[i], sd->off), owm);
        if (!gone) op->store[nstore++] = (uint32_t)i;
        if (sd->preserved && !op->matched[i] && (gone || op->flavor == JOIN_OP_REGULAR)) {
            op->rows[npad++] = op->phys[i];
            if (npad == JQ_CAP) {
                if (queue_padded_input(op, side, in, op->rows, npad) != 0) return -1;
                npad = 0;
            }
        }
    }
    if (queue_padded_input(op, side, in, op->rows, npad) != 0) return -1;
    return store_rows(op, side, in, nstore);
}

/* Release the records recs/recidx[0..n) of side s (emitting padded rows). */
static int release(JoinOp *op, int s, int n)
{
    Side *sd = &op->side[s];
    if (sd->preserved && op->flavor != JOIN_OP_REGULAR) {
        int np = 0;
        for (int j = 0; j < n; j++)
            if (!(hdr(op->recs[j])->flags & REC_MATCHED)) op->cand_rec[np++] = op->recs[j];
        if (queue_padded_records(op, s, op->cand_rec, np, AGG_ROW_INSERT) != 0) return -1;
    }
    for (int j = 0; j < n; j++) {
        snap_touch(sd, chunk_id(op, hdr(op->recs[j])->hash, hdr(op->recs[j])->t));
        rec_free(sd, op->recidx[j], op->recs[j]);
    }
    return 0;
}

int join_op_advance(JoinOp *op, int side, int64_t watermark_us)
{
    op->err[0] = '\0';
    if (op->broken) return fail(op, "a restore failed: the join is unusable");
    if (side != 0 && side != 1) return fail(op, "join: side must be 0 (left) or 1 (right)");
    op->pushed = 1;
    Side *me = &op->side[side], *so = &op->side[1 - side];
    if (watermark_us <= me->wm) return 0;
    me->wm = watermark_us;
    if (so->nlive == 0) {
        if (watermark_us == INT64_MAX) side_clear(so);
        return 0;
    }
    if (watermark_us == INT64_MAX) {
        /* the end of this side: nothing on the other side can match again */
        int n = 0;
        if (so->preserved && op->flavor != JOIN_OP_REGULAR) {
            for (uint32_t i = 0; i < so->nrec; i++) {
                uint8_t *rec = rec_at(so, i);
                if ((hdr(rec)->flags & (REC_LIVE | REC_MATCHED)) != REC_LIVE) continue;
                op->cand_rec[n++] = rec;
                if (n == JQ_CAP) {
                    if (queue_padded_records(op, 1 - side, op->cand_rec, n, AGG_ROW_INSERT) != 0) return -1;
                    n = 0;
                }
            }
        }
        if (queue_padded_records(op, 1 - side, op->cand_rec, n, AGG_ROW_INSERT) != 0) return -1;
        side_clear(so);
        return 0;
    }
    if (!side_expires(op)) return 0;
    for (;;) {
        int n = 0;
        while (n < JQ_CAP && so->nheap > 0 && so->heap[0].d < watermark_us) {
            uint32_t idx = heap_pop(so);
            op->recidx[n] = idx;
            op->recs[n++] = rec_at(so, idx);
        }
        if (n == 0) break;
        if (release(op, 1 - side, n) != 0) return -1;
    }
    if (side_compact(so) != 0) return fail(op, "out of memory");
    return 0;
}

int join_op_drain(JoinOp *op, Batch *out, int *more)
{
    op->err[0] = '\0';
    int lead = op->emit_changes;
    if (more) *more = 0;
    if (op->broken) return fail(op, "a restore failed: the join is unusable");
    if (!out || out->ncols != lead + op->nout)
        return fail(op, "join: the output batch has %d columns, expected %d", out ? out->ncols : -1, lead + op->nout);
    batch_reset(out);
    int n = 0;
    while (n < out->capacity && op->qh < op->qn) {
        Batch *hb = op->qb[op->qh];
        int    m = hb->nrows - op->qpos;
        if (m > out->capacity - n) m = out->capacity - n;
        for (int c = 0; c < op->nout; c++)
            if (vector_gather(&out->cols[lead + c], n, &hb->cols[c], op->ident + op->qpos, m) != 0)
                return fail(op, "join: output column %d: wrong type, or out of memory", lead + c);
        if (lead) {
            if (!sql_type_is_i64(out->cols[0].type)) return fail(op, "join: the op column must be BIGINT");
            int64_t *opc = vector_i64(&out->cols[0]);
            for (int j = 0; j < m; j++) opc[n + j] = hb->ops ? hb->ops[op->qpos + j] : AGG_ROW_INSERT;
        }
        n += m;
        op->qpos += m;
        op->pending -= m;
        if (op->qpos == hb->nrows) {
            op->qpos = 0;
            op->qh++;
            batch_reset(hb);
            if (op->nfree == op->freecap) {
                int     nc = op->freecap ? 2 * op->freecap : 8;
                Batch **f = realloc(op->qfree, (size_t)nc * sizeof *f);
                if (!f) {
                    batch_destroy(hb);
                    free(hb);
                    continue;
                }
                op->qfree = f;
                op->freecap = nc;
            }
            op->qfree[op->nfree++] = hb;
        }
    }
    if (op->qh == op->qn) op->qh = op->qn = 0;
    batch_set_nrows(out, n);
    if (more) *more = op->qh < op->qn;
    return n;
}

int join_op_output_types(const JoinOp *op, SqlType *types)
{
    int n = 0;
    if (op->emit_changes) types[n++] = TYPE_BIGINT;
    for (int s = 0; s < 2; s++)
        for (int c = 0; c < op->side[s].ncols; c++) types[n++] = op->side[s].types[c];
    return n;
}

int64_t join_op_pending_rows(const JoinOp *op)
{
    return op->pending;
}

int64_t join_op_state_rows(const JoinOp *op)
{
    return op->side[0].nlive + op->side[1].nlive;
}

int64_t join_op_side_rows(const JoinOp *op, int side)
{
    return side == 0 || side == 1 ? op->side[side].nlive : 0;
}

int64_t join_op_late_rows(const JoinOp *op)
{
    return op->late;
}

size_t join_op_state_bytes(const JoinOp *op)
{
    size_t b = 0;
    for (int s = 0; s < 2; s++) {
        const Side *sd = &op->side[s];
        b += (size_t)sd->nlive * (sd->recsize + sizeof(uint32_t)) + sd->live_str + (size_t)sd->nheap * sizeof(HeapEnt);
    }
    return b;
}

size_t join_op_reserved_bytes(const JoinOp *op)
{
    size_t b = sizeof *op;
    for (int s = 0; s < 2; s++) {
        const Side *sd = &op->side[s];
        b += (size_t)sd->nslabs * SLAB_ROWS * sd->recsize + (size_t)sd->nbuckets * sizeof(uint32_t) +
             (size_t)sd->heapcap * sizeof(HeapEnt) + arena_bytes_reserved(&sd->str);
    }
    b += (size_t)(op->qn - op->qh + op->nfree) * JQ_CAP * 16;   /* queue batches, roughly */
    return b;
}

const char *join_op_error(const JoinOp *op)
{
    return op->err;
}

/* ---- checkpoints ---------------------------------------------------------------------
 *
 * Chunks (the contract is in join.h). A side's records are cut into chunks by
 * a chunk id: the window_end - 1 of a WINDOW row (one chunk per window), the
 * time slot t / 2^20 µs (about a second) of an INTERVAL or TTL row, the top 6
 * bits of the key hash of an untimed REGULAR row (64 chunks). Timed rows
 * arrive and expire roughly in time order, so a checkpoint rewrites the few
 * recent chunks and deletes the expired ones instead of rewriting the state.
 *
 * Tracking: every change of a stored record (stored, matched on a preserved
 * side, released) appends its chunk id to side->dirty (the last id is not
 * repeated; a full array is sorted and deduplicated in place, so it holds at
 * most the distinct ids touched, plus slack). Clearing a side, or running out
 * of memory while tracking, sets snap_all: the next snapshot of that side
 * looks at every chunk. present is the sorted set of ids stored at the last
 * snapshot.
 *
 * A snapshot sorts the dirty ids, makes one pass over the side's records to
 * count and order the records of those ids (binary search per record), then
 * reports a put per id that has records and a delete per id that has none
 * but is present. The new present set is built in next and swapped in only
 * when every chunk was accepted (two phases, as agg_snapshot.c).
 *
 * Restore decodes a chunk's rows into a batch of the side's types and stores
 * them through classify + store_rows, the push path itself: hashes, key
 * images, times and deadlines are recomputed exactly as for the original
 * rows, then checked against the chunk (the right chunk id, a key that can
 * match, not already released by the restored watermark).
 *
 * Value encodings (after the 10-byte header: u8 version, u8 kind, u64le
 * fingerprint):
 *   meta  'M'   u64le W0, u64le W1 (two's complement), varint late rows
 *   rows  'L'/'R'  varint n, then n rows: u8 flags (1 = matched; preserved
 *         sides only), the (ncols + 7) / 8 NULL bytes (bit c of byte c / 8:
 *         column c NULL), then each non-NULL column: BIGINT / TIMESTAMP /
 *         INTERVAL zigzag varint, DOUBLE u64le bits (as stored: -0.0 and NaN
 *         payloads kept), BOOLEAN u8 0/1, VARCHAR varint length + bytes
 */

#define SNAP_VERSION 1
#define SLOT_SHIFT   20   /* INTERVAL / TTL chunks: 2^20 µs of event time */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * UINT64_C(0x100000001b3);
    return h;
}

/* Everything the stored state depends on: types, keys, flavor, time columns,
 * bounds and TTL (through each side's deadline offset), join type, emit mode.
 * Not the residual (an Expr): it decides matches, not the record format. */
static uint64_t spec_fingerprint(const JoinOp *op)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    int      v[6] = {SNAP_VERSION, (int)op->type, (int)op->flavor, op->emit_changes, op->nkeys, op->timed};
    h = fnv(h, v, sizeof v);
    h = fnv(h, op->ktype, (size_t)op->nkeys * sizeof *op->ktype);
    int64_t b[2] = {op->interval ? op->lower : 0, op->interval ? op->upper : 0};
    h = fnv(h, b, sizeof b);
    for (int s = 0; s < 2; s++) {
        const Side *sd = &op->side[s];
        h = fnv(h, &sd->ncols, sizeof sd->ncols);
        h = fnv(h, sd->types, (size_t)sd->ncols * sizeof *sd->types);
        h = fnv(h, sd->keys, (size_t)op->nkeys * sizeof *sd->keys);
        h = fnv(h, &sd->tcol, sizeof sd->tcol);
        h = fnv(h, &sd->off, sizeof sd->off);
    }
    return h;
}

static int64_t chunk_id(const JoinOp *op, uint64_t hash, int64_t t)
{
    if (!op->timed) return (int64_t)(hash >> 58);
    if (op->flavor == JOIN_OP_WINDOW) return t;
    return t >= 0 ? t >> SLOT_SHIFT : -((-(t + 1)) >> SLOT_SHIFT) - 1;   /* floor(t / 2^20) */
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int sort_unique(int64_t *v, int n)
{
    if (n < 2) return n;
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int m = 1;
    for (int i = 1; i < n; i++)
        if (v[i] != v[m - 1]) v[m++] = v[i];
    return m;
}

/* index of id in the sorted v[0..n), or -1 */
static int find_id(const int64_t *v, int n, int64_t id)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (v[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && v[lo] == id ? lo : -1;
}

/* Record that chunk id of side sd changed. Never fails: without memory the
 * side falls back to looking at every chunk at the next snapshot. */
static void snap_touch(Side *sd, int64_t id)
{
    if (sd->snap_all) return;
    if (sd->ndirty > 0 && sd->dirty[sd->ndirty - 1] == id) return;
    if (sd->ndirty == sd->dirtycap) {
        sd->ndirty = sort_unique(sd->dirty, sd->ndirty);
        if (sd->dirtycap == 0 || sd->ndirty > sd->dirtycap / 2) {
            int      nc = sd->dirtycap ? 2 * sd->dirtycap : 64;
            int64_t *d = realloc(sd->dirty, (size_t)nc * sizeof *d);
            if (!d) {
                sd->snap_all = 1;
                sd->ndirty = 0;
                return;
            }
            sd->dirty = d;
            sd->dirtycap = nc;
        }
    }
    sd->dirty[sd->ndirty++] = id;
}

/* p (of *cap elements) grown to hold want; NULL when out of memory (p kept) */
static void *grow(void *p, size_t *cap, size_t want, size_t elem)
{
    if (want == 0) want = 1;
    if (want <= *cap && p) return p;
    size_t nc = *cap ? *cap : 64;
    while (nc < want) nc *= 2;
    void *q = realloc(p, nc * elem);
    if (!q) return NULL;
    *cap = nc;
    return q;
}

#define GROW(p, cap, want) grow_into((void *)&(p), &(cap), (want), sizeof *(p))
/* GROW(ptr, cap, want): 0, or -1 when out of memory */
static int grow_into(void *pp, size_t *cap, size_t want, size_t elem)
{
    void *p;
    memcpy(&p, pp, sizeof p);
    void *q = grow(p, cap, want, elem);
    if (!q) return -1;
    memcpy(pp, &q, sizeof q);
    return 0;
}

static int reserve_i64s(int64_t **p, int *cap, int want)
{
    size_t c = (size_t)*cap;
    if (GROW(*p, c, (size_t)want) != 0 || c > INT32_MAX) return -1;
    *cap = (int)c;
    return 0;
}

static void put_chunk_key(uint8_t key[9], int s, int64_t id)
{
    uint64_t e = (uint64_t)id ^ (UINT64_C(1) << 63);
    key[0] = s == 0 ? 'L' : 'R';
    for (int i = 0; i < 8; i++) key[1 + i] = (uint8_t)(e >> (56 - 8 * i));
}

static void put_header(JoinOp *op, char kind)
{
    SnapBuf *b = &op->sbuf;
    b->n = 0;
    b->oom = 0;
    snap_put_u8(b, SNAP_VERSION);
    snap_put_u8(b, (uint8_t)kind);
    snap_put_u64le(b, op->fingerprint);
}

static int emit(JoinOp *op, AggChunkFn fn, void *ctx, const uint8_t *key, size_t klen, int put)
{
    if (put && op->sbuf.oom) return fail(op, "snapshot: out of memory");
    if (fn(ctx, key, klen, put ? op->sbuf.p : NULL, put ? op->sbuf.n : 0) != 0)
        return fail(op, "snapshot: the chunk callback failed");
    return 0;
}

static void put_record(JoinOp *op, const Side *sd, uint8_t *rec)
{
    SnapBuf *b = &op->sbuf;
    snap_put_u8(b, (uint8_t)(sd->preserved && (hdr(rec)->flags & REC_MATCHED) ? 1 : 0));
    snap_put_bytes(b, rec + sd->nulloff, ((size_t)sd->ncols + 7) / 8);
    for (int c = 0; c < sd->ncols; c++) {
        if (rec_null(sd, rec, c)) continue;
        const uint8_t *x = rec + sd->coloff[c];
        switch (sd->types[c]) {
        case TYPE_BOOLEAN:
            snap_put_u8(b, x[0] != 0);
            break;
        case TYPE_DOUBLE: {
            uint64_t bits;
            memcpy(&bits, x, 8);
            snap_put_u64le(b, bits);
            break;
        }
        case TYPE_VARCHAR: {
            Str str;
            memcpy(&str, x, sizeof str);
            snap_put_varint(b, str.len);
            snap_put_bytes(b, str.ptr, str.len);
            break;
        }
        case TYPE_NULL:
            break;
        default: {
            int64_t v;
            memcpy(&v, x, 8);
            snap_put_i64(b, v);
            break;
        }
        }
    }
}

/* Report side s's changed chunks; the new present set into sd->next. */
static int side_snapshot(JoinOp *op, int s, int full, AggChunkFn fn, void *ctx)
{
    Side *sd = &op->side[s];
    int   all = full || sd->snap_all;
    /* 1. the chunk ids to look at, sorted */
    size_t nids = 0;
    if (all) {
        if (GROW(op->ids, op->idcap, (size_t)sd->npresent + (size_t)sd->nlive) != 0)
            return fail(op, "snapshot: out of memory");
        if (sd->npresent) memcpy(op->ids, sd->present, (size_t)sd->npresent * sizeof *op->ids);
        nids = (size_t)sd->npresent;
        int64_t last = 0;
        int     have = 0;
        for (uint32_t i = 0; i < sd->nrec; i++) {
            RecHdr *h = hdr(rec_at(sd, i));
            if (!(h->flags & REC_LIVE)) continue;
            int64_t id = chunk_id(op, h->hash, h->t);
            if (have && id == last) continue;
            op->ids[nids++] = last = id;
            have = 1;
        }
    } else {
        if (GROW(op->ids, op->idcap, (size_t)sd->ndirty) != 0)
            return fail(op, "snapshot: out of memory");
        if (sd->ndirty) memcpy(op->ids, sd->dirty, (size_t)sd->ndirty * sizeof *op->ids);
        nids = (size_t)sd->ndirty;
    }
    if (nids > INT32_MAX) return fail(op, "snapshot: too many chunks");
    int n = sort_unique(op->ids, (int)nids);
    /* 2. count and order the records of those ids */
    if (GROW(op->idcnt, op->idcntcap, (size_t)n + 1) != 0)
        return fail(op, "snapshot: out of memory");
    uint32_t *cnt = op->idcnt;
    memset(cnt, 0, ((size_t)n + 1) * sizeof *cnt);
    if (n > 0 && sd->nlive > 0) {
        for (uint32_t i = 0; i < sd->nrec; i++) {
            RecHdr *h = hdr(rec_at(sd, i));
            if (!(h->flags & REC_LIVE)) continue;
            int p = find_id(op->ids, n, chunk_id(op, h->hash, h->t));
            if (p >= 0) cnt[p + 1]++;
        }
        for (int p = 0; p < n; p++) cnt[p + 1] += cnt[p];
        if (GROW(op->order, op->ordercap, (size_t)cnt[n] + 1) != 0)
            return fail(op, "snapshot: out of memory");
        for (uint32_t i = 0; i < sd->nrec; i++) {
            RecHdr *h = hdr(rec_at(sd, i));
            if (!(h->flags & REC_LIVE)) continue;
            int p = find_id(op->ids, n, chunk_id(op, h->hash, h->t));
            if (p >= 0) op->order[cnt[p]++] = i;
        }
        for (int p = n; p > 0; p--) cnt[p] = cnt[p - 1];   /* back to start offsets */
        cnt[0] = 0;
    }
    /* 3. the new present set: present minus ids, plus the ids with records */
    if (reserve_i64s(&sd->next, &sd->nextcap, sd->npresent + n) != 0) return fail(op, "snapshot: out of memory");
    int a = 0, m = 0;
    for (int p = 0; p < n; p++) {
        while (a < sd->npresent && sd->present[a] < op->ids[p]) sd->next[m++] = sd->present[a++];
        if (a < sd->npresent && sd->present[a] == op->ids[p]) a++;
        if (cnt[p + 1] > cnt[p]) sd->next[m++] = op->ids[p];
    }
    while (a < sd->npresent) sd->next[m++] = sd->present[a++];
    sd->nnext = m;
    /* 4. report */
    for (int p = 0; p < n; p++) {
        uint8_t key[9];
        put_chunk_key(key, s, op->ids[p]);
        uint32_t lo = cnt[p], hi = cnt[p + 1];
        if (lo == hi) {
            if (find_id(sd->present, sd->npresent, op->ids[p]) >= 0 && emit(op, fn, ctx, key, sizeof key, 0) != 0)
                return -1;
            continue;
        }
        put_header(op, (char)key[0]);
        snap_put_varint(&op->sbuf, hi - lo);
        for (uint32_t j = lo; j < hi; j++) put_record(op, sd, rec_at(sd, op->order[j]));
        if (emit(op, fn, ctx, key, sizeof key, 1) != 0) return -1;
    }
    return 0;
}

int join_op_snapshot(JoinOp *op, int full, AggChunkFn fn, void *ctx)
{
    op->err[0] = '\0';
    if (op->broken) return fail(op, "a restore failed: the join is unusable");
    if (!fn) return fail(op, "snapshot: no chunk callback");
    if (op->pending > 0) return fail(op, "snapshot: %lld rows are queued (drain first)", (long long)op->pending);
    if (!op->snap_started) full = 1;
    if (full || !op->snap_meta || op->snap_wm[0] != op->side[0].wm || op->snap_wm[1] != op->side[1].wm ||
        op->snap_late != op->late) {
        const uint8_t key = 'M';
        put_header(op, 'M');
        snap_put_u64le(&op->sbuf, (uint64_t)op->side[0].wm);
        snap_put_u64le(&op->sbuf, (uint64_t)op->side[1].wm);
        snap_put_varint(&op->sbuf, (uint64_t)op->late);
        if (emit(op, fn, ctx, &key, 1, 1) != 0) return -1;
    }
    for (int s = 0; s < 2; s++)
        if (side_snapshot(op, s, full, fn, ctx) != 0) return -1;
    /* every chunk accepted: commit */
    op->snap_started = op->snap_meta = 1;
    op->snap_wm[0] = op->side[0].wm;
    op->snap_wm[1] = op->side[1].wm;
    op->snap_late = op->late;
    for (int s = 0; s < 2; s++) {
        Side    *sd = &op->side[s];
        int64_t *t = sd->present;
        int      tc = sd->presentcap;
        sd->present = sd->next;
        sd->presentcap = sd->nextcap;
        sd->npresent = sd->nnext;
        sd->next = t;
        sd->nextcap = tc;
        sd->nnext = 0;
        sd->ndirty = 0;
        sd->snap_all = 0;
    }
    return 0;
}

/* Is a stored row of side s with this deadline already released by the
 * other side's watermark? (the state never holds such a row) */
static int released(const JoinOp *op, int s, int64_t deadline)
{
    return dead(op, deadline, op->side[1 - s].wm);
}

static int restore_meta(JoinOp *op, SnapRd *r)
{
    uint64_t w0, w1, late;
    if (op->snap_meta) return fail(op, "restore: a second meta chunk");
    if (snap_get_u64le(r, &w0) < 0 || snap_get_u64le(r, &w1) < 0 || snap_get_varint(r, &late) < 0)
        return fail(op, "restore: truncated meta chunk");
    if (late > INT64_MAX || r->p != r->end) return fail(op, "restore: malformed meta chunk");
    op->side[0].wm = (int64_t)w0;
    op->side[1].wm = (int64_t)w1;
    op->late = (int64_t)late;
    for (int s = 0; s < 2; s++) {
        const Side *sd = &op->side[s];
        if (sd->nlive == 0) continue;
        /* rows loaded before the meta: the earliest release time decides */
        int64_t d = side_expires(op) ? sd->heap[0].d : INT64_MAX;
        if (released(op, s, d)) return fail(op, "restore: a stored row that the watermark has released");
    }
    op->snap_meta = 1;
    op->snap_wm[0] = op->side[0].wm;
    op->snap_wm[1] = op->side[1].wm;
    op->snap_late = op->late;
    return 0;
}

/* decode one row of side s into slot j of sd->rb; *matched its flag */
static int restore_row(JoinOp *op, int s, SnapRd *r, int j, uint8_t *matched)
{
    Side          *sd = &op->side[s];
    Batch         *b = &sd->rb;
    const uint8_t *nulls;
    uint8_t        fl;
    size_t         nb = ((size_t)sd->ncols + 7) / 8;
    if (snap_get_u8(r, &fl) < 0 || snap_get_bytes(r, nb, &nulls) < 0) return fail(op, "restore: truncated row");
    if (fl > 1 || (fl && !sd->preserved)) return fail(op, "restore: bad row flags");
    if ((sd->ncols & 7) && (nulls[nb - 1] >> (sd->ncols & 7))) return fail(op, "restore: NULL bits out of range");
    *matched = fl;
    for (int c = 0; c < sd->ncols; c++) {
        Vector *v = &b->cols[c];
        if ((nulls[c >> 3] >> (c & 7)) & 1) {
            vector_set_null(v, j);
            continue;
        }
        vector_set_valid(v, j);
        switch (sd->types[c]) {
        case TYPE_NULL:
            return fail(op, "restore: a NULL-typed column is not NULL");
        case TYPE_BOOLEAN: {
            uint8_t x;
            if (snap_get_u8(r, &x) < 0 || x > 1) return fail(op, "restore: bad BOOLEAN value");
            vector_bool(v)[j] = x;
            break;
        }
        case TYPE_DOUBLE: {
            uint64_t bits;
            if (snap_get_u64le(r, &bits) < 0) return fail(op, "restore: truncated row");
            memcpy(&vector_f64(v)[j], &bits, 8);
            break;
        }
        case TYPE_VARCHAR: {
            uint64_t       len;
            const uint8_t *p;
            if (snap_get_varint(r, &len) < 0 || len > UINT32_MAX || snap_get_bytes(r, (size_t)len, &p) < 0)
                return fail(op, "restore: truncated VARCHAR value");
            vector_set_str_ref(v, j, (const char *)p, (uint32_t)len);   /* copied by store_rows */
            break;
        }
        default: {
            int64_t x;
            if (snap_get_i64(r, &x) < 0) return fail(op, "restore: truncated row");
            vector_i64(v)[j] = x;
            break;
        }
        }
    }
    return 0;
}

static int restore_rows(JoinOp *op, int s, int64_t id, SnapRd *r)
{
    Side    *sd = &op->side[s];
    uint64_t n;
    if (snap_get_varint(r, &n) < 0 || n == 0 || n > (uint64_t)(r->end - r->p))
        return fail(op, "restore: bad row count");
    int at = find_id(sd->present, sd->npresent, id);
    if (at >= 0) return fail(op, "restore: chunk loaded twice");
    if (reserve_i64s(&sd->present, &sd->presentcap, sd->npresent + 1) != 0) return fail(op, "out of memory");
    int pos = sd->npresent;
    while (pos > 0 && sd->present[pos - 1] > id) pos--;
    memmove(sd->present + pos + 1, sd->present + pos, (size_t)(sd->npresent - pos) * sizeof *sd->present);
    sd->present[pos] = id;
    sd->npresent++;
    if (!sd->rb_init) {
        if (batch_init(&sd->rb, sd->ncols, sd->types, JQ_CAP) != 0) return fail(op, "out of memory");
        sd->rb_init = 1;
    }
    if (scratch_reserve(op, JQ_CAP) != 0) return fail(op, "out of memory");
    uint8_t fl[JQ_CAP];
    while (n > 0) {
        int m = n < JQ_CAP ? (int)n : JQ_CAP;
        n -= (uint64_t)m;
        batch_reset(&sd->rb);
        for (int j = 0; j < m; j++)
            if (restore_row(op, s, r, j, &fl[j]) != 0) return -1;
        batch_set_nrows(&sd->rb, m);
        int64_t wm = sd->wm;
        sd->wm = INT64_MIN;   /* restored rows are never late */
        classify(op, s, &sd->rb);
        sd->wm = wm;
        for (int i = 0; i < m; i++) {
            if (op->status[i] != ST_OK) return fail(op, "restore: a stored row whose key or time can never match");
            if (chunk_id(op, op->hashes[i], op->times[i]) != id) return fail(op, "restore: a row in the wrong chunk");
            if (op->snap_meta && released(op, s, sat_add(op->times[i], sd->off)))
                return fail(op, "restore: a stored row that the watermark has released");
            op->matched[i] = fl[i];
            op->store[i] = (uint32_t)i;
        }
        if (store_rows(op, s, &sd->rb, m) != 0) return -1;
    }
    sd->ndirty = 0;   /* the loaded chunks are the last snapshot */
    if (r->p != r->end) return fail(op, "restore: trailing bytes in a chunk");
    return 0;
}

static int restore(JoinOp *op, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    SnapRd   r = {val, val + vlen};
    uint8_t  v, k;
    uint64_t fp;
    if (op->pushed) return fail(op, "restore: the join has already received rows or watermarks");
    if (!key || klen == 0) return fail(op, "restore: empty chunk key");
    if (!val) return fail(op, "restore: no chunk value");
    if (snap_get_u8(&r, &v) < 0 || snap_get_u8(&r, &k) < 0 || snap_get_u64le(&r, &fp) < 0)
        return fail(op, "restore: chunk value truncated in its header");
    if (v != SNAP_VERSION) return fail(op, "restore: chunk format version %u, want %u", v, SNAP_VERSION);
    if (k != key[0]) return fail(op, "restore: a chunk value of another kind than its key");
    if (fp != op->fingerprint) return fail(op, "restore: the chunk was written by a join with another spec");
    switch (key[0]) {
    case 'M':
        if (klen != 1) return fail(op, "restore: bad meta key");
        return restore_meta(op, &r);
    case 'L':
    case 'R': {
        if (klen != 9) return fail(op, "restore: bad row chunk key");
        uint64_t e = 0;
        for (int i = 0; i < 8; i++) e = e << 8 | key[1 + i];
        int64_t id = (int64_t)(e ^ (UINT64_C(1) << 63));
        if (!op->timed && (id < 0 || id > 63)) return fail(op, "restore: bad row chunk key");
        return restore_rows(op, key[0] == 'L' ? 0 : 1, id, &r);
    }
    default:
        return fail(op, "restore: unknown chunk key");
    }
}

int join_op_restore(JoinOp *op, const void *key, size_t klen, const void *val, size_t vlen)
{
    op->err[0] = '\0';
    if (op->broken) return fail(op, "a restore failed: the join is unusable");
    if (restore(op, key, klen, val, vlen) != 0) {
        op->broken = 1;
        for (int s = 0; s < 2; s++) op->side[s].ndirty = 0;
        return -1;
    }
    op->snap_started = 1;
    return 0;
}

/* ---- debug ---------------------------------------------------------------------------- */

int join_op_check(JoinOp *op)
{
    for (int s = 0; s < 2; s++) {
        Side   *sd = &op->side[s];
        int64_t live = 0, chained = 0;
        size_t  str = 0;
        for (uint32_t i = 0; i < sd->nrec; i++) {
            uint8_t *rec = rec_at(sd, i);
            if (!(hdr(rec)->flags & REC_LIVE)) continue;
            live++;
            str += rec_strbytes(sd, rec);
            if (sd->nbuckets == 0) return fail(op, "side %d: live record %u without an index", s, i);
        }
        if (live != sd->nlive) return fail(op, "side %d: %lld live records, counted %lld", s, (long long)live,
                                           (long long)sd->nlive);
        if (str != sd->live_str) return fail(op, "side %d: live string bytes %zu, counted %zu", s, str, sd->live_str);
        for (uint32_t b = 0; b < sd->nbuckets; b++) {
            uint32_t prev = NIL;
            for (uint32_t idx = sd->buckets[b]; idx != NIL; idx = hdr(rec_at(sd, idx))->next) {
                RecHdr *h = hdr(rec_at(sd, idx));
                if (!(h->flags & REC_LIVE)) return fail(op, "side %d: dead record %u in bucket %u", s, idx, b);
                if ((h->hash & (sd->nbuckets - 1)) != b) return fail(op, "side %d: record %u in the wrong bucket", s, idx);
                if (h->prev != prev) return fail(op, "side %d: record %u: broken prev link", s, idx);
                prev = idx;
                if (++chained > live) return fail(op, "side %d: a bucket chain loops", s);
            }
        }
        if (chained != live) return fail(op, "side %d: %lld records reachable of %lld", s, (long long)chained,
                                         (long long)live);
        if (side_expires(op)) {
            if (sd->nheap != live) return fail(op, "side %d: heap holds %lld of %lld records", s,
                                               (long long)sd->nheap, (long long)live);
            for (int64_t i = 1; i < sd->nheap; i++)
                if (sd->heap[(i - 1) / 2].d > sd->heap[i].d) return fail(op, "side %d: heap out of order", s);
            for (int64_t i = 0; i < sd->nheap; i++) {
                RecHdr *h = hdr(rec_at(sd, sd->heap[i].idx));
                if (!(h->flags & REC_LIVE) || h->deadline != sd->heap[i].d)
                    return fail(op, "side %d: heap entry %lld does not match its record", s, (long long)i);
            }
        }
    }
    return 0;
}

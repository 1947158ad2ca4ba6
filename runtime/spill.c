/*
 * spill.c — the spill store of spilled aggregate groups (see spill.h).
 *
 * Layout. One LevelDB record per gkey: key 'x' op(2) part(2) gkey…, value
 * the gkey's versions, newest first:
 *
 *   varint n (>= 1), then n times: be64 tag, varint len (0: a tombstone),
 *   len bytes of the spilled group
 *
 * so every operation on one gkey is a point read (a Get, cheap also where
 * many records were deleted nearby — a seek would step over every deletion
 * marker) and one write. Versions are few: after the GC rule at most one at
 * or below the committed epoch plus those of checkpoints still in flight.
 *
 * Writes. A put or take reads the gkey's record, applies the new version and
 * the GC rule (apply_version) and writes the record back (or deletes it when
 * no version is left), unsynced: the next checkpoint commit of state.c is
 * synced, and LevelDB's log is sequential, so whatever a committed
 * checkpoint could need is durable with it. A temporary store is
 * unversioned (tag 0 always): a put writes its record blind, a take is one
 * Get and one Delete.
 *
 * Iterations (drain, recover, drop) read through a snapshot taken at the
 * call, without filling the block cache; their writes are batched
 * (BATCH_MAX per write).
 *
 * Threads: LevelDB is thread-safe; the store's own state is read-only after
 * open but for the two counters (relaxed atomics). Per-call objects
 * (iterators, write batches, snapshots) belong to the calling thread.
 */
#include "runtime/spill.h"

#include <errno.h>
#include <ftw.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <leveldb/c.h>

enum {
    BASE_LEN = 5,          /* 'x' op(2) part(2)                             */
    BATCH_MAX = 4096,      /* operations per write batch before it is written */
};

struct SpillStore {
    leveldb_t              *db;
    leveldb_options_t      *opts;       /* temp store only (owns db)           */
    leveldb_filterpolicy_t *filter;     /* temp store: its files' bloom filters */
    leveldb_readoptions_t  *ropts;      /* point reads: checksums, cache       */
    leveldb_writeoptions_t *wopts;      /* sync off (the checkpoint syncs)     */
    int                     versioned;  /* shared store: tags + GC rule        */
    char                   *dir;        /* temp store: removed by spill_close  */
    _Atomic int64_t         writes;     /* puts                                */
    _Atomic int64_t         reads;      /* takes and drained gkeys             */
};

struct SpillBatch {
    SpillStore           *sp;
    leveldb_writebatch_t *wb;
    int                   n;   /* operations queued */
};

/* One version of a gkey: its value points into the record read. */
typedef struct Ver {
    int64_t              tag;
    const unsigned char *val;
    size_t               len;   /* 0: a tombstone */
} Ver;

#define MAX_VERS 256   /* versions of one gkey (checkpoints in flight + 1) */

typedef struct Rec {
    Ver    v[MAX_VERS + 2];
    size_t n;
} Rec;

/* A growable byte buffer with room on the stack for the common case. */
typedef struct Buf {
    unsigned char *p;
    size_t         n, cap;
    unsigned char  local[256];
} Buf;

/* ---- helpers ------------------------------------------------------------------------ */

static void set_err(char *err, size_t cap, const char *what, char *lerr)
{
    snprintf(err, cap, "spill store: %s: %s", what, lerr ? lerr : "unknown error");
    leveldb_free(lerr);
}

static int oom(char *err, size_t cap)
{
    snprintf(err, cap, "spill store: out of memory");
    return -1;
}

static void buf_init(Buf *b)
{
    b->p = b->local;
    b->n = 0;
    b->cap = sizeof b->local;
}

/* room for n more bytes. 0 or -1. */
static int buf_room(Buf *b, size_t n)
{
    if (b->n + n <= b->cap) return 0;
    size_t cap = (b->n + n) * 2;
    unsigned char *q = malloc(cap);
    if (!q) return -1;
    memcpy(q, b->p, b->n);
    if (b->p != b->local) free(b->p);
    b->p = q;
    b->cap = cap;
    return 0;
}

static void buf_free(Buf *b)
{
    if (b->p != b->local) free(b->p);
}

/* base + s (slen bytes) into b. 0 or -1. */
static int make_key(Buf *b, int op, int part, const void *s, size_t slen)
{
    b->n = 0;
    if (buf_room(b, BASE_LEN + slen) != 0) return -1;
    b->p[0] = 'x';
    b->p[1] = (unsigned char)((unsigned)op >> 8);
    b->p[2] = (unsigned char)op;
    b->p[3] = (unsigned char)((unsigned)part >> 8);
    b->p[4] = (unsigned char)part;
    if (slen) memcpy(b->p + BASE_LEN, s, slen);
    b->n = BASE_LEN + slen;
    return 0;
}

/* ---- records ------------------------------------------------------------------------ */

static int get_varint(const unsigned char **p, const unsigned char *end, uint64_t *x)
{
    uint64_t v = 0;
    for (int s = 0; s < 64 && *p < end; s += 7) {
        unsigned char c = *(*p)++;
        v |= (uint64_t)(c & 0x7f) << s;
        if (!(c & 0x80)) {
            *x = v;
            return 0;
        }
    }
    return -1;
}

static void put_varint(unsigned char *p, size_t *n, uint64_t x)
{
    while (x >= 0x80) {
        p[(*n)++] = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    p[(*n)++] = (unsigned char)x;
}

/* parse a record (newest first, tags strictly decreasing). 0 or -1. */
static int rec_parse(Rec *r, const unsigned char *p, size_t len)
{
    const unsigned char *end = p + len;
    uint64_t             n;
    r->n = 0;
    if (get_varint(&p, end, &n) != 0 || n == 0 || n > MAX_VERS) return -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t tag = 0, vlen;
        if (end - p < 8) return -1;
        for (int k = 0; k < 8; k++) tag = tag << 8 | *p++;
        if (get_varint(&p, end, &vlen) != 0 || vlen > (uint64_t)(end - p)) return -1;
        if (i > 0 && (int64_t)tag >= r->v[i - 1].tag) return -1;
        r->v[i] = (Ver){(int64_t)tag, p, (size_t)vlen};
        p += vlen;
        r->n++;
    }
    return p == end ? 0 : -1;
}

/* serialize r into b (reset). 0 or -1. */
static int rec_write(const Rec *r, Buf *b)
{
    size_t need = 10;
    for (size_t i = 0; i < r->n; i++) need += 8 + 10 + r->v[i].len;
    b->n = 0;
    if (buf_room(b, need) != 0) return -1;
    put_varint(b->p, &b->n, r->n);
    for (size_t i = 0; i < r->n; i++) {
        uint64_t tag = (uint64_t)r->v[i].tag;
        for (int k = 0; k < 8; k++) b->p[b->n++] = (unsigned char)(tag >> (56 - 8 * k));
        put_varint(b->p, &b->n, r->v[i].len);
        if (r->v[i].len) memcpy(b->p + b->n, r->v[i].val, r->v[i].len);
        b->n += r->v[i].len;
    }
    return 0;
}

/*
 * The GC rule (spill.h) after writing version `tag` (val/len; len 0 = a
 * tombstone) when add, committed = C:
 *   1. versions with tag > C are kept;
 *   2. of the versions with tag <= C only the newest is kept;
 *   3. while the oldest kept version is a tombstone, it is deleted.
 * r stays newest first. -1 when r is full (MAX_VERS versions in flight).
 */
static int apply_version(Rec *r, int add, int64_t tag, const unsigned char *val, size_t len, int64_t committed)
{
    if (add) {
        size_t i = 0;
        while (i < r->n && r->v[i].tag > tag) i++;
        if (i < r->n && r->v[i].tag == tag) {
            r->v[i] = (Ver){tag, val, len};
        } else {
            if (r->n > MAX_VERS) return -1;
            memmove(r->v + i + 1, r->v + i, (r->n - i) * sizeof *r->v);
            r->v[i] = (Ver){tag, val, len};
            r->n++;
        }
    }
    size_t k = 0;
    int    seen = 0;
    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].tag <= committed) {
            if (seen) continue;
            seen = 1;
        }
        r->v[k++] = r->v[i];
    }
    r->n = k;
    while (r->n > 0 && r->v[r->n - 1].len == 0) r->n--;
    return r->n > MAX_VERS ? -1 : 0;
}

static int too_many(char *err, size_t cap)
{
    snprintf(err, cap, "spill store: a group with more than %d versions (checkpoints have not committed for "
                       "that many epochs)", MAX_VERS);
    return -1;
}

/* read the record of key into r (its bytes in *raw: leveldb_free it). 1
 * found, 0 none, -1 error. */
static int rec_get(SpillStore *sp, const Buf *key, Rec *r, char **raw, char *err, size_t cap)
{
    char  *lerr = NULL;
    size_t len = 0;
    *raw = leveldb_get(sp->db, sp->ropts, (const char *)key->p, key->n, &len, &lerr);
    if (lerr) {
        set_err(err, cap, "read failed", lerr);
        return -1;
    }
    r->n = 0;
    if (!*raw) return 0;
    if (rec_parse(r, (const unsigned char *)*raw, len) != 0) {
        snprintf(err, cap, "spill store: a malformed record (corrupt store?)");
        return -1;
    }
    return 1;
}

static int write_batch(SpillStore *sp, leveldb_writebatch_t *wb, char *err, size_t cap)
{
    char *lerr = NULL;
    leveldb_write(sp->db, sp->wopts, wb, &lerr);
    if (!lerr) return 0;
    set_err(err, cap, "write failed", lerr);
    return -1;
}

/* queue r as key's record (deleted when empty) into wb */
static int rec_queue(leveldb_writebatch_t *wb, const Buf *key, const Rec *r, Buf *tmp, char *err, size_t cap)
{
    if (r->n == 0) {
        leveldb_writebatch_delete(wb, (const char *)key->p, key->n);
        return 0;
    }
    if (rec_write(r, tmp) != 0) return oom(err, cap);
    leveldb_writebatch_put(wb, (const char *)key->p, key->n, (const char *)tmp->p, tmp->n);
    return 0;
}

/* write r as key's record: into b (written when full), or at once */
static int rec_store(SpillStore *sp, SpillBatch *b, const Buf *key, const Rec *r, char *err, size_t cap)
{
    Buf tmp;
    buf_init(&tmp);
    int rc;
    if (b) {
        rc = rec_queue(b->wb, key, r, &tmp, err, cap);
        if (rc == 0 && ++b->n >= BATCH_MAX) rc = spill_batch_commit(b, err, cap);
    } else {
        leveldb_writebatch_t *wb = leveldb_writebatch_create();
        rc = wb ? rec_queue(wb, key, r, &tmp, err, cap) : oom(err, cap);
        if (rc == 0) rc = write_batch(sp, wb, err, cap);
        if (wb) leveldb_writebatch_destroy(wb);
    }
    buf_free(&tmp);
    return rc;
}

/* A read options object for an iteration over a snapshot of sp (NULL when
 * out of memory); free with iter_opts_free. */
static leveldb_readoptions_t *iter_opts_new(SpillStore *sp, const leveldb_snapshot_t **snap)
{
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    if (!ro) return NULL;
    leveldb_readoptions_set_verify_checksums(ro, 1);
    leveldb_readoptions_set_fill_cache(ro, 0);
    *snap = leveldb_create_snapshot(sp->db);
    leveldb_readoptions_set_snapshot(ro, *snap);
    return ro;
}

static void iter_opts_free(SpillStore *sp, leveldb_readoptions_t *ro, const leveldb_snapshot_t *snap)
{
    if (snap) leveldb_release_snapshot(sp->db, snap);
    if (ro) leveldb_readoptions_destroy(ro);
}

static int iter_status(leveldb_iterator_t *it, const char *what, char *err, size_t cap)
{
    char *lerr = NULL;
    leveldb_iter_get_error(it, &lerr);
    if (!lerr) return 0;
    set_err(err, cap, what, lerr);
    return -1;
}

/* ---- open / close ------------------------------------------------------------------- */

static SpillStore *store_new(void)
{
    SpillStore *sp = calloc(1, sizeof *sp);
    if (!sp) return NULL;
    atomic_init(&sp->writes, 0);
    atomic_init(&sp->reads, 0);
    sp->ropts = leveldb_readoptions_create();
    sp->wopts = leveldb_writeoptions_create();
    if (!sp->ropts || !sp->wopts) {
        spill_close(sp);
        return NULL;
    }
    leveldb_readoptions_set_verify_checksums(sp->ropts, 1);
    leveldb_readoptions_set_fill_cache(sp->ropts, 1);
    leveldb_writeoptions_set_sync(sp->wopts, 0);
    return sp;
}

SpillStore *spill_open_temp(const char *parent, char *err, size_t cap)
{
    if (!parent) parent = getenv("TMPDIR");
    if (!parent || !*parent) parent = "/tmp";
    SpillStore *sp = store_new();
    size_t      dlen = strlen(parent) + sizeof "/sluice-spill-XXXXXX";
    if (sp) sp->dir = malloc(dlen);
    if (!sp || !sp->dir) {
        spill_close(sp);
        oom(err, cap);
        return NULL;
    }
    snprintf(sp->dir, dlen, "%s/sluice-spill-XXXXXX", parent);
    if (!mkdtemp(sp->dir)) {
        snprintf(err, cap, "spill store: cannot create a directory in '%s': %s", parent, strerror(errno));
        free(sp->dir);
        sp->dir = NULL;
        spill_close(sp);
        return NULL;
    }
    sp->opts = leveldb_options_create();
    if (!sp->opts) {
        spill_close(sp);
        oom(err, cap);
        return NULL;
    }
    leveldb_options_set_create_if_missing(sp->opts, 1);
    leveldb_options_set_compression(sp->opts, leveldb_no_compression);   /* scratch: speed over size */
    leveldb_options_set_write_buffer_size(sp->opts, 4 << 20);
    leveldb_options_set_error_if_exists(sp->opts, 1);
    /* a fetch asks for groups one by one: a bloom filter per table file
     * spares reading the files that do not have the key */
    if ((sp->filter = leveldb_filterpolicy_create_bloom(10))) leveldb_options_set_filter_policy(sp->opts, sp->filter);
    char *lerr = NULL;
    sp->db = leveldb_open(sp->opts, sp->dir, &lerr);
    if (!sp->db) {
        char what[600];
        snprintf(what, sizeof what, "cannot open a database in '%.500s'", sp->dir);
        set_err(err, cap, what, lerr);
        spill_close(sp);
        return NULL;
    }
    return sp;
}

SpillStore *spill_open_shared(StateStore *st, char *err, size_t cap)
{
    SpillStore *sp = store_new();
    if (!sp) {
        oom(err, cap);
        return NULL;
    }
    sp->db = state_leveldb(st);
    sp->versioned = 1;
    return sp;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb, (void)type, (void)ftw;
    remove(path);   /* best effort: what cannot go stays */
    return 0;
}

void spill_close(SpillStore *sp)
{
    if (!sp) return;
    if (sp->opts) {   /* a temporary store owns its database */
        if (sp->db) leveldb_close(sp->db);
        leveldb_options_destroy(sp->opts);
        if (sp->filter) leveldb_filterpolicy_destroy(sp->filter);
    }
    if (sp->dir) {
        nftw(sp->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(sp->dir);
    }
    if (sp->ropts) leveldb_readoptions_destroy(sp->ropts);
    if (sp->wopts) leveldb_writeoptions_destroy(sp->wopts);
    free(sp);
}

/* ---- batches ------------------------------------------------------------------------ */

SpillBatch *spill_batch_new(SpillStore *sp)
{
    SpillBatch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->sp = sp;
    if (!(b->wb = leveldb_writebatch_create())) {
        free(b);
        return NULL;
    }
    return b;
}

int spill_batch_commit(SpillBatch *b, char *err, size_t cap)
{
    if (!b || b->n == 0) return 0;
    int rc = write_batch(b->sp, b->wb, err, cap);
    leveldb_writebatch_clear(b->wb);
    b->n = 0;
    return rc;
}

void spill_batch_free(SpillBatch *b)
{
    if (!b) return;
    leveldb_writebatch_destroy(b->wb);
    free(b);
}

/* ---- put / take --------------------------------------------------------------------- */

int spill_put(SpillStore *sp, int op, int part, const void *gkey, size_t klen, const void *val,
              size_t vlen, int64_t tag, int64_t committed, char *err, size_t cap)
{
    return spill_bput(sp, NULL, op, part, gkey, klen, val, vlen, tag, committed, err, cap);
}

int spill_take(SpillStore *sp, int op, int part, const void *gkey, size_t klen, int64_t tag,
               int64_t committed, void **buf, size_t *bufcap, size_t *vlen, char *err, size_t cap)
{
    return spill_btake(sp, NULL, op, part, gkey, klen, tag, committed, buf, bufcap, vlen, err, cap);
}

int spill_bput(SpillStore *sp, SpillBatch *b, int op, int part, const void *gkey, size_t klen,
               const void *val, size_t vlen, int64_t tag, int64_t committed, char *err, size_t cap)
{
    if (vlen == 0) {
        snprintf(err, cap, "spill store: an empty value cannot be spilled");
        return -1;
    }
    Buf  key;
    Rec  r;
    char *raw = NULL;
    int  rc = 0;
    buf_init(&key);
    if (make_key(&key, op, part, gkey, klen) != 0) return oom(err, cap);
    if (!sp->versioned) {   /* one version, tag 0: what was there goes */
        tag = committed = 0;
        r.n = 0;
    } else {
        rc = rec_get(sp, &key, &r, &raw, err, cap) < 0 ? -1 : 0;
    }
    if (rc == 0 && apply_version(&r, 1, tag, val, vlen, committed) != 0) rc = too_many(err, cap);
    if (rc == 0) rc = rec_store(sp, b, &key, &r, err, cap);
    leveldb_free(raw);
    buf_free(&key);
    if (rc == 0) atomic_fetch_add_explicit(&sp->writes, 1, memory_order_relaxed);
    return rc;
}

/* copy v into *buf */
static int give(const Ver *v, void **buf, size_t *bufcap, size_t *vlen, char *err, size_t cap)
{
    if (v->len > *bufcap) {
        void *q = realloc(*buf, v->len);
        if (!q) return oom(err, cap);
        *buf = q;
        *bufcap = v->len;
    }
    memcpy(*buf, v->val, v->len);
    *vlen = v->len;
    return 0;
}

int spill_btake(SpillStore *sp, SpillBatch *b, int op, int part, const void *gkey, size_t klen,
                int64_t tag, int64_t committed, void **buf, size_t *bufcap, size_t *vlen, char *err,
                size_t cap)
{
    Buf  key;
    Rec  r;
    char *raw = NULL;
    buf_init(&key);
    if (make_key(&key, op, part, gkey, klen) != 0) return oom(err, cap);
    if (!sp->versioned) tag = committed = 0;
    int rc = rec_get(sp, &key, &r, &raw, err, cap);
    if (rc == 1 && r.v[0].len == 0) rc = 0;   /* the newest version is a tombstone */
    if (rc == 1 && give(&r.v[0], buf, bufcap, vlen, err, cap) != 0) rc = -1;
    if (rc == 1 && apply_version(&r, 1, tag, NULL, 0, committed) != 0) rc = too_many(err, cap);   /* a tombstone at tag */
    if (rc == 1 && rec_store(sp, b, &key, &r, err, cap) != 0) rc = -1;
    leveldb_free(raw);
    buf_free(&key);
    if (rc == 1) atomic_fetch_add_explicit(&sp->reads, 1, memory_order_relaxed);
    return rc;
}

/* ---- iterations --------------------------------------------------------------------- */

/* Walk the records of (op, part) whose gkey starts with prefix: each(record
 * key, its versions) may change r and set *write to have it written back
 * (deleted when empty), batched. each returns 0 to go on, 1 to stop after
 * this record, -1 to fail. 0, 1 (stopped) or -1. */
typedef int (*EachFn)(void *ctx, const unsigned char *k, size_t klen, Rec *r, int *write);

static int walk(SpillStore *sp, int op, int part, const void *prefix, size_t plen, EachFn each, void *ctx,
                char *err, size_t cap)
{
    Buf base, key, tmp;
    buf_init(&base);
    buf_init(&key);
    buf_init(&tmp);
    if (make_key(&base, op, part, prefix, plen) != 0) return oom(err, cap);
    const leveldb_snapshot_t *snap = NULL;
    leveldb_readoptions_t    *ro = iter_opts_new(sp, &snap);
    leveldb_iterator_t       *it = ro ? leveldb_create_iterator(sp->db, ro) : NULL;
    leveldb_writebatch_t     *wb = leveldb_writebatch_create();
    Rec                       r;
    int                       rc = 0, queued = 0;
    if (!it || !wb) rc = oom(err, cap);
    if (rc == 0) leveldb_iter_seek(it, (const char *)base.p, base.n);
    for (; rc == 0 && leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t      klen, vlen;
        const char *k = leveldb_iter_key(it, &klen);
        if (klen < base.n || memcmp(k, base.p, base.n) != 0) break;
        const char *v = leveldb_iter_value(it, &vlen);
        if (rec_parse(&r, (const unsigned char *)v, vlen) != 0) {
            snprintf(err, cap, "spill store: a malformed record (corrupt store?)");
            rc = -1;
            break;
        }
        int write = 0;
        rc = each(ctx, (const unsigned char *)k, klen, &r, &write);
        if (rc < 0) break;
        if (write) {
            key.n = 0;
            if (buf_room(&key, klen) != 0) {
                rc = oom(err, cap);
                break;
            }
            memcpy(key.p, k, klen);
            key.n = klen;
            if (rec_queue(wb, &key, &r, &tmp, err, cap) != 0) {
                rc = -1;
                break;
            }
            if (++queued >= BATCH_MAX) {
                queued = 0;
                int wrc = write_batch(sp, wb, err, cap);
                leveldb_writebatch_clear(wb);
                if (wrc != 0) {
                    rc = -1;
                    break;
                }
            }
        }
        if (rc == 1) break;
    }
    if (it) {
        if (rc >= 0 && iter_status(it, "read failed", err, cap) != 0) rc = -1;
        leveldb_iter_destroy(it);
    }
    if (wb) {
        if (rc >= 0 && queued && write_batch(sp, wb, err, cap) != 0) rc = -1;
        leveldb_writebatch_destroy(wb);
    }
    iter_opts_free(sp, ro, snap);
    buf_free(&tmp);
    buf_free(&key);
    buf_free(&base);
    return rc;
}

typedef struct DrainCtx {
    SpillStore *sp;
    char       *err;
    size_t      cap;
    int64_t     tag, committed;
    SpillFn     fn;
    void       *ctx;
} DrainCtx;

static int drain_each(void *ctx, const unsigned char *k, size_t klen, Rec *r, int *write)
{
    DrainCtx *d = ctx;
    if (r->v[0].len == 0) return 0;   /* not spilled now */
    /* fn stopping still takes this gkey (fn has it) */
    int stop = d->fn(d->ctx, k + BASE_LEN, klen - BASE_LEN, r->v[0].val, r->v[0].len) != 0;
    if (apply_version(r, 1, d->tag, NULL, 0, d->committed) != 0) return too_many(d->err, d->cap);
    *write = 1;
    atomic_fetch_add_explicit(&d->sp->reads, 1, memory_order_relaxed);
    return stop;
}

int spill_drain(SpillStore *sp, int op, int part, const void *prefix, size_t plen, int64_t tag,
                int64_t committed, SpillFn fn, void *ctx, char *err, size_t cap)
{
    if (!sp->versioned) tag = committed = 0;
    DrainCtx d = {sp, err, cap, tag, committed, fn, ctx};
    return walk(sp, op, part, prefix, plen, drain_each, &d, err, cap);
}

typedef struct RecoverCtx {
    int64_t epoch;
    SpillFn fn;
    void   *ctx;
} RecoverCtx;

static int recover_each(void *ctx, const unsigned char *k, size_t klen, Rec *r, int *write)
{
    RecoverCtx *c = ctx;
    size_t      n = r->n, i = 0;
    while (i < r->n && r->v[i].tag > c->epoch) i++;   /* written after the checkpoint */
    if (i > 0) {
        memmove(r->v, r->v + i, (r->n - i) * sizeof *r->v);
        r->n -= i;
    }
    apply_version(r, 0, 0, NULL, 0, c->epoch);   /* GC only */
    *write = r->n != n;
    if (r->n > 0 && r->v[0].len > 0 && c->fn(c->ctx, k + BASE_LEN, klen - BASE_LEN, r->v[0].val, r->v[0].len) != 0)
        return -2;
    return 0;
}

int spill_recover(SpillStore *sp, int op, int part, int64_t epoch, SpillFn fn, void *ctx, char *err,
                  size_t cap)
{
    RecoverCtx c = {epoch, fn, ctx};
    int        rc = walk(sp, op, part, NULL, 0, recover_each, &c, err, cap);
    if (rc == -2) snprintf(err, cap, "spill store: recovery stopped");
    return rc < 0 ? -1 : 0;
}

static int drop_each(void *ctx, const unsigned char *k, size_t klen, Rec *r, int *write)
{
    (void)ctx;
    (void)k;
    (void)klen;
    r->n = 0;
    *write = 1;
    return 0;
}

int spill_drop(SpillStore *sp, int op, int part, const void *prefix, size_t plen, char *err, size_t cap)
{
    return walk(sp, op, part, prefix, plen, drop_each, NULL, err, cap) < 0 ? -1 : 0;
}

/* ---- figures ------------------------------------------------------------------------ */

int64_t spill_writes(const SpillStore *sp)
{
    return atomic_load_explicit(&sp->writes, memory_order_relaxed);
}

int64_t spill_reads(const SpillStore *sp)
{
    return atomic_load_explicit(&sp->reads, memory_order_relaxed);
}

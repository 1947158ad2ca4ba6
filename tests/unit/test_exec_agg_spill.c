/*
 * test_exec_agg_spill.c — the aggregate's spill API (exec/agg.h, "spilling:
 * state larger than memory") against a test-side key-value store (a hash
 * map of gkey bytes -> value bytes standing in for runtime/spill.h):
 *
 *   - differential random runs (the core): op A never spills; op B gets the
 *     same input but after every push evicts down to a tiny target (a few
 *     KB, sometimes 0) into the map, fetches before each push (the get
 *     callback REMOVES the group from the map: it is back in memory) and
 *     drains at every advance / flush (agg_op_spill_wanted, then
 *     agg_op_spill_load of a few entries with the wanted prefix, then the
 *     emission again). Every emission round of B emits exactly the rows of
 *     A's round (sorted multisets; in EMIT CHANGES mode evicted groups are
 *     clean, so even the changelog rows agree round by round), B's
 *     changelog is legal (+I new key, +U/-U/-D of the last row, -U right
 *     before its +U), groups(A) = groups(B) + spilled(B), spilled(B) = the
 *     map's size, late rows agree, agg_op_check(B) passes after each step,
 *     and no group of a closed window is left in the map. Specs: SIMPLE and
 *     FINAL (fed by a PARTIAL), windowed (tumbling bounds as keys) and not,
 *     COUNT(*), COUNT, SUM, AVG, MIN/MAX (VARCHAR, BIGINT, DOUBLE),
 *     COUNT(DISTINCT), APPROX_COUNT_DISTINCT, FILTER; BIGINT, VARCHAR,
 *     DOUBLE (-0.0, NaN) and NULL keys; EMIT CHANGES with and without
 *     update_before; retract inputs (+I/+U/-U/-D changelogs, also PARTIAL
 *     -> FINAL). Some runs also rebuild an op C now and then from B's
 *     incremental snapshots + agg_op_spill_register of every gkey in B's
 *     map; C then gets the same input and must emit what A emits;
 *   - eviction frees memory (100k groups down to 64 KB; windows oldest
 *     first); rows of never-spilled groups (almost) never call get; a group
 *     repeated in a batch is fetched once; late rows cost nothing;
 *   - register errors (malformed, closed window);
 *   - EMIT CHANGES: groups with a pending change, or anything during a
 *     pending emission, are never evicted;
 *   - sessions and PARTIAL: evict returns 0 and nothing changes;
 *   - malformed values (every truncation, version byte, another spec's
 *     value) in agg_op_spill_load and from the get callback fail with -1
 *     and a message; byte flips never crash (run under SAN too);
 *   - a put callback that refuses stops evict with -1.
 */
#include <math.h>

#include "exec/hash.h"
#include "tests/unit/test_exec_agg_util.h"

#define SEC   USEC_PER_SEC
#define WSIZE (10 * SEC)

/* ---- a byte-string hash map: the spill store, the chunk store, changelogs ------- */

typedef struct KvNode {
    struct KvNode *next;
    uint64_t       h;
    size_t         kn, vn;
    uint8_t       *v;    /* right after k, NUL-terminated (text maps) */
    uint8_t        k[];
} KvNode;

typedef struct KvMap {
    KvNode **b;
    size_t   nb, n;
    size_t   cur;        /* kv_take_prefix resumes at this bucket                      */
    KvNode  *held;       /* the value the last get handed out (valid until the next get) */
    int64_t  puts, gets, hits;
    int64_t  put_limit;  /* the put callback refuses once puts reaches it; < 0: never */
    int      bad;        /* the put callback saw a malformed or duplicate gkey         */
} KvMap;

static uint64_t kv_hash(const void *k, size_t kn)
{
    return hash_bytes(k, kn, 0x5eed5eedu);
}

/* the link that points at k's node, or the NULL link ending its chain */
static KvNode **kv_link(KvMap *m, const void *k, size_t kn, uint64_t h)
{
    KvNode **p = &m->b[h & (m->nb - 1)];
    for (; *p; p = &(*p)->next)
        if ((*p)->h == h && (*p)->kn == kn && memcmp((*p)->k, k, kn) == 0) break;
    return p;
}

static void kv_grow(KvMap *m)
{
    size_t   nb = m->nb ? 4 * m->nb : 64;
    KvNode **b = calloc(nb, sizeof *b);
    for (size_t i = 0; i < m->nb; i++) {
        for (KvNode *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->h & (nb - 1)];
            b[e->h & (nb - 1)] = e;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    m->cur = 0;
}

static KvNode *kv_find(KvMap *m, const void *k, size_t kn)
{
    return m->nb ? *kv_link(m, k, kn, kv_hash(k, kn)) : NULL;
}

/* set k to v (replacing); 1 if k was there */
static int kv_set(KvMap *m, const void *k, size_t kn, const void *v, size_t vn)
{
    if (m->n >= m->nb) kv_grow(m);
    uint64_t h = kv_hash(k, kn);
    KvNode **p = kv_link(m, k, kn, h), *old = *p;
    KvNode  *e = malloc(sizeof *e + kn + vn + 1);
    e->h = h;
    e->kn = kn;
    e->vn = vn;
    if (kn) memcpy(e->k, k, kn);
    e->v = e->k + kn;
    if (vn) memcpy(e->v, v, vn);
    e->v[vn] = 0;
    e->next = old ? old->next : NULL;
    *p = e;
    free(old);
    if (!old) m->n++;
    return old != NULL;
}

/* unlink k's node (the caller frees it); NULL if absent */
static KvNode *kv_take(KvMap *m, const void *k, size_t kn)
{
    if (!m->nb) return NULL;
    KvNode **p = kv_link(m, k, kn, kv_hash(k, kn)), *e = *p;
    if (e) {
        *p = e->next;
        m->n--;
    }
    return e;
}

/* unlink up to max nodes whose key starts with prefix into out (one pass
 * at most, resuming where the last call stopped) */
static int kv_take_prefix(KvMap *m, const uint8_t *prefix, size_t plen, int max, KvNode **out)
{
    int n = 0;
    for (size_t j = 0; j < m->nb && n < max; j++) {
        size_t i = (m->cur + j) & (m->nb - 1);
        m->cur = i;
        for (KvNode **p = &m->b[i]; *p && n < max;) {
            KvNode *e = *p;
            if (e->kn >= plen && memcmp(e->k, prefix, plen) == 0) {
                *p = e->next;
                m->n--;
                out[n++] = e;
            } else {
                p = &e->next;
            }
        }
    }
    return n;
}

static void kv_free(KvMap *m)
{
    for (size_t i = 0; i < m->nb; i++) {
        for (KvNode *e = m->b[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    }
    free(m->b);
    free(m->held);
    memset(m, 0, sizeof *m);
    m->put_limit = -1;
}

static void kv_clone(KvMap *dst, KvMap *src)
{
    kv_free(dst);
    for (size_t i = 0; i < src->nb; i++)
        for (KvNode *e = src->b[i]; e; e = e->next) kv_set(dst, e->k, e->kn, e->v, e->vn);
}

/* the first node (any), NULL when empty */
static KvNode *kv_any(const KvMap *m)
{
    for (size_t i = 0; i < m->nb; i++)
        if (m->b[i]) return m->b[i];
    return NULL;
}

#define KV_EACH(m, e)                          \
    for (size_t i_ = 0; i_ < (m)->nb; i_++)    \
        for (KvNode *e = (m)->b[i_]; e; e = e->next)

static KvMap kv_new(void)
{
    KvMap m;
    memset(&m, 0, sizeof m);
    m.put_limit = -1;
    return m;
}

/* window_end of a "W" gkey */
static int64_t gkey_wend(const uint8_t *k)
{
    uint64_t e = 0;
    for (int i = 0; i < 8; i++) e = e << 8 | k[1 + i];
    return (int64_t)(e ^ (UINT64_C(1) << 63));
}

static void gkey_set_wend(uint8_t *k, int64_t wend)
{
    uint64_t e = (uint64_t)wend ^ (UINT64_C(1) << 63);
    for (int i = 0; i < 8; i++) k[1 + i] = (uint8_t)(e >> (56 - 8 * i));
}

/* ---- the callbacks ------------------------------------------------------------------ */

/* agg_op_spill_evict's put: a new, well-formed gkey into the map */
static int spill_put_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    KvMap         *m = ctx;
    const uint8_t *kb = k;
    if (m->put_limit >= 0 && m->puts >= m->put_limit) return 1;
    m->puts++;
    if (!k || kn < 2 || !v || vn < 1 || (kb[0] != 'G' && kb[0] != 'W') || (kb[0] == 'W' && kn < 10) ||
        kv_find(m, k, kn)) {
        m->bad++;
        return 1;
    }
    kv_set(m, k, kn, v, vn);
    return 0;
}

/* agg_op_spill_fetch's get: found = taken out of the map */
static int spill_get_cb(void *ctx, const void *k, size_t kn, const void **v, size_t *vn)
{
    KvMap *m = ctx;
    m->gets++;
    free(m->held);
    m->held = kv_take(m, k, kn);
    if (!m->held) return 0;
    m->hits++;
    *v = m->held->v;
    *vn = m->held->vn;
    return 1;
}

/* agg_op_snapshot's chunks: puts and deletes */
static int chunk_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    KvMap *m = ctx;
    if (!v) {
        free(kv_take(m, k, kn));
        return 0;
    }
    kv_set(m, k, kn, v, vn);
    return 0;
}

static int err_set(const AggOp *op)
{
    const char *e = agg_op_error(op);
    return e && e[0];
}

/* ---- the input -------------------------------------------------------------------- */

enum { C_K, C_S, C_D, C_X, C_STR, C_F, C_WS, C_WE, NCOLS };
static const SqlType in_t[NCOLS] = {TYPE_BIGINT,  TYPE_VARCHAR, TYPE_DOUBLE,    TYPE_BIGINT,
                                    TYPE_VARCHAR, TYPE_BOOLEAN, TYPE_TIMESTAMP, TYPE_TIMESTAMP};

#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}
#define AF(fn, arg, filt) {fn, arg, filt, TYPE_NULL, TYPE_NULL}

static const AggColSpec full_aggs[] = {
    A(AGGFN_COUNT_STAR, -1),  A(AGGFN_COUNT, C_X),  A(AGGFN_SUM, C_X),
    A(AGGFN_SUM, C_D),        A(AGGFN_AVG, C_X),    A(AGGFN_AVG, C_D),
    A(AGGFN_MIN, C_STR),      A(AGGFN_MAX, C_STR),  A(AGGFN_MIN, C_X),
    A(AGGFN_MAX, C_D),        A(AGGFN_COUNT_DISTINCT, C_X), A(AGGFN_COUNT_DISTINCT, C_STR),
    A(AGGFN_APPROX_COUNT_DISTINCT, C_STR), A(AGGFN_APPROX_COUNT_DISTINCT, C_X),
    AF(AGGFN_SUM, C_X, C_F),  AF(AGGFN_MAX, C_STR, C_F),
};
#define NFULL ((int)(sizeof full_aggs / sizeof *full_aggs))

/* what retract allows */
static const AggColSpec ret_aggs[] = {
    A(AGGFN_COUNT_STAR, -1), A(AGGFN_COUNT, C_X), A(AGGFN_COUNT, C_STR), A(AGGFN_SUM, C_X),
    A(AGGFN_SUM, C_D),       A(AGGFN_AVG, C_X),   A(AGGFN_AVG, C_D),     AF(AGGFN_SUM, C_X, C_F),
};
#define NRET ((int)(sizeof ret_aggs / sizeof *ret_aggs))

#define NSTR 14
static const char *str_at(int i)
{
    static char l300[301], l40[41];
    static const char *const pool[NSTR - 2] = {"", "a", "ab", "abc", "b", "zebra", "Zebra",
                                               "x y", "0", "~", "\xc3\xa9t\xc3\xa9", "mango"};
    if (!l300[0]) {
        for (int c = 0; c < 300; c++) l300[c] = (char)('a' + c % 26);
        for (int c = 0; c < 40; c++) l40[c] = (char)('A' + c % 26);
    }
    return i < NSTR - 2 ? pool[i] : i == NSTR - 2 ? l40 : l300;
}

static const double dvals[10] = {0.0, -0.0, 0.5, -1.25, 3.0, NAN, 1e300, -7.75, 2.5, 100.0};

typedef struct Row {
    int64_t k, x, ts;
    double  d;
    int     s, str;            /* str_at indexes, -1 = NULL */
    int8_t  knul, dnul, xnul;
    int8_t  f;                 /* 0, 1, -1 = NULL */
    int8_t  wnul;              /* NULL window bounds (late) */
} Row;

static void gen_row(Rng *g, int nk, int64_t ts, Row *w)
{
    memset(w, 0, sizeof *w);
    w->k = rng_below(g, nk);
    w->knul = rng_below(g, 50) == 0;
    w->s = (int)rng_below(g, NSTR);
    if (rng_below(g, 40) == 0) w->s = -1;
    w->d = dvals[rng_below(g, 10)];
    w->dnul = rng_below(g, 30) == 0;
    w->x = rng_below(g, 2001) - 1000;
    if (rng_below(g, 60) == 0) w->x = rng_below(g, 2) ? INT64_MAX - 5 : INT64_MIN + 5;
    w->xnul = rng_below(g, 10) == 0;
    w->str = rng_below(g, 8) == 0 ? -1 : (int)rng_below(g, NSTR);
    w->f = rng_below(g, 7) == 0 ? -1 : (int8_t)rng_below(g, 2);
    w->ts = ts;
    w->wnul = rng_below(g, 300) == 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static void put_row(Batch *b, int r, const Row *w)
{
    vector_i64(&b->cols[C_K])[r] = w->k;
    if (w->knul) vector_set_null(&b->cols[C_K], r);
    if (w->s < 0) vector_set_null(&b->cols[C_S], r);
    else vector_set_str(&b->cols[C_S], r, str_at(w->s), strlen(str_at(w->s)));
    vector_f64(&b->cols[C_D])[r] = w->d;
    if (w->dnul) vector_set_null(&b->cols[C_D], r);
    vector_i64(&b->cols[C_X])[r] = w->x;
    if (w->xnul) vector_set_null(&b->cols[C_X], r);
    if (w->str < 0) vector_set_null(&b->cols[C_STR], r);
    else vector_set_str(&b->cols[C_STR], r, str_at(w->str), strlen(str_at(w->str)));
    vector_bool(&b->cols[C_F])[r] = w->f > 0;
    if (w->f < 0) vector_set_null(&b->cols[C_F], r);
    int64_t ws = floor_div(w->ts, WSIZE) * WSIZE;
    vector_i64(&b->cols[C_WS])[r] = ws;
    vector_i64(&b->cols[C_WE])[r] = ws + WSIZE;
    if (w->wnul) {
        vector_set_null(&b->cols[C_WS], r);
        vector_set_null(&b->cols[C_WE], r);
    }
}

/* The FINAL spec over a PARTIAL's output (SUM has two partial columns under
 * retract, AVG always; retract adds the live-row count last). */
static AggOpSpec final_of(const AggOp *partial, const AggOpSpec *ps, AggColSpec *fa, int *fk,
                          SqlType *types)
{
    int       n = agg_op_output_types(partial, types);
    AggOpSpec f = *ps;
    f.phase = AGG_PHASE_FINAL;
    f.ninput = n;
    f.input_types = types;
    for (int k = 0; k < ps->nkeys; k++) fk[k] = k;
    f.keys = fk;
    int c = ps->nkeys;
    for (int a = 0; a < ps->naggs; a++) {
        fa[a] = ps->aggs[a];
        fa[a].arg = c;
        fa[a].filter = -1;
        fa[a].arg_type = TYPE_NULL;
        c += ps->aggs[a].fn == AGGFN_AVG || (ps->retract && ps->aggs[a].fn == AGGFN_SUM) ? 2 : 1;
    }
    f.aggs = fa;
    return f;
}

/* ---- changelogs ------------------------------------------------------------------ */

/* Apply an EMIT CHANGES batch to m (key text -> row text without the op);
 * 1 if every row is legal: +I of a new key, +U of a present key (with ub:
 * only right after its -U), -U equal to the stored row and followed by the
 * +U of the same key, -D of a present key (with ub: equal to the stored row). */
static int apply_changes(KvMap *m, const Batch *b, int nkeys, int ub, const char *who)
{
    static char buf[8192], nb[8192];
    for (int i = 0; i < b->count; i++) {
        int64_t op = vector_i64(&b->cols[0])[i];
        row_text(b, i, 0, buf, sizeof buf);
        const char *row = strchr(buf, '|') + 1, *p = row;
        for (int k = 0; k < nkeys; k++) p = strchr(p, '|') + 1;
        size_t  kl = (size_t)(p - row);
        KvNode *at = kv_find(m, row, kl);
        switch (op) {
        case AGG_ROW_INSERT:
            if (at) {
                printf("  %s: +I of a present key: %s\n", who, row);
                return 0;
            }
            kv_set(m, row, kl, row, strlen(row));
            break;
        case AGG_ROW_UPDATE:
            if (!at || ub) {
                printf("  %s: %s +U %s\n", who, at ? "lone" : "absent", row);
                return 0;
            }
            kv_set(m, row, kl, row, strlen(row));
            break;
        case AGG_ROW_UPDATE_BEFORE: {
            if (!ub || !at || strcmp((char *)at->v, row) != 0) {
                printf("  %s: -U %s is not the last row (%s)\n", who, row, at ? (char *)at->v : "none");
                return 0;
            }
            if (i + 1 >= b->count || vector_i64(&b->cols[0])[i + 1] != AGG_ROW_UPDATE) {
                printf("  %s: -U %s not followed by a +U\n", who, row);
                return 0;
            }
            row_text(b, i + 1, 0, nb, sizeof nb);
            const char *nr = strchr(nb, '|') + 1;
            if (strncmp(nr, row, kl) != 0) {
                printf("  %s: -U %s followed by the +U of another key %s\n", who, row, nr);
                return 0;
            }
            kv_set(m, nr, kl, nr, strlen(nr));
            i++;
            break;
        }
        case AGG_ROW_DELETE:
            if (!at || (ub && strcmp((char *)at->v, row) != 0)) {
                printf("  %s: -D %s is not the last row (%s)\n", who, row, at ? (char *)at->v : "none");
                return 0;
            }
            free(kv_take(m, row, kl));
            break;
        default:
            printf("  %s: bad op %lld\n", who, (long long)op);
            return 0;
        }
    }
    return 1;
}

static int kv_equal_text(KvMap *a, KvMap *b, const char *what)
{
    if (a->n != b->n) {
        printf("  %s: %zu vs %zu keys\n", what, a->n, b->n);
        return 0;
    }
    KV_EACH(a, e)
    {
        KvNode *o = kv_find(b, e->k, e->kn);
        if (!o || strcmp((char *)o->v, (char *)e->v) != 0) {
            printf("  %s: %s vs %s\n", what, (char *)e->v, o ? (char *)o->v : "none");
            return 0;
        }
    }
    return 1;
}

/* ---- draining with the spill protocol --------------------------------------------- */

enum { E_CHANGES, E_ADVANCE, E_FLUSH };

typedef struct Side {
    AggOp      *op;
    KvMap      *sp;       /* its spill store; NULL: never spills */
    KvMap      *cl;       /* its applied changelog (changes mode) */
    Batch      *out;
    const char *who;
} Side;

static int emit_once(Side *s, int how, int64_t wm, int *more)
{
    return how == E_CHANGES   ? agg_op_changes(s->op, s->out, more)
           : how == E_ADVANCE ? agg_op_advance(s->op, wm, s->out, more)
                              : agg_op_flush(s->op, s->out, more);
}

/* One emission round as agg.h says: emit until *more = 0; then, for advance
 * and flush, while a due table still holds spilled groups, load up to
 * `per` of them from the store and emit again. Rows into rows (may be
 * NULL), changes applied to s->cl when nkeys >= 0. 1 if all went well. */
static int side_emit(Side *s, int how, int64_t wm, int per, RowSet *rows, int nkeys, int ub,
                     int64_t *loaded)
{
    for (long guard = 0;; guard++) {
        int more;
        do {
            int n = emit_once(s, how, wm, &more);
            if (n < 0 || n != s->out->count) {
                printf("  %s emit: %d rows, %s\n", s->who, n, agg_op_error(s->op));
                return 0;
            }
            if (rows) rows_add_batch(rows, s->out, 0);
            if (nkeys >= 0 && !apply_changes(s->cl, s->out, nkeys, ub, s->who)) return 0;
        } while (more);
        if (!s->sp || how == E_CHANGES) break;
        uint8_t prefix[16];
        size_t  plen = 0;
        int     w = agg_op_spill_wanted(s->op, how == E_ADVANCE ? wm : INT64_MAX, prefix, &plen);
        if (w == 0) break;
        if (w != 1 || plen < 1 || plen > 16 || guard > 10000000) {
            printf("  %s: spill_wanted %d, plen %zu\n", s->who, w, plen);
            return 0;
        }
        static KvNode *got[4096];
        int            n = kv_take_prefix(s->sp, prefix, plen, per < 4096 ? per : 4096, got);
        if (n == 0) {
            printf("  %s: spill_wanted says '%c'… (%zu bytes) but the store holds none of it\n", s->who,
                   prefix[0], plen);
            return 0;
        }
        int ok = 1;
        for (int i = 0; i < n; i++) {
            if (ok && agg_op_spill_load(s->op, got[i]->k, got[i]->kn, got[i]->v, got[i]->vn) < 0) {
                printf("  %s: spill_load: %s\n", s->who, agg_op_error(s->op));
                ok = 0;
            }
            free(got[i]);
        }
        if (!ok) return 0;
        if (loaded) *loaded += n;
    }
    if (agg_op_check(s->op) < 0) {
        printf("  %s check after emission: %s\n", s->who, agg_op_error(s->op));
        return 0;
    }
    return 1;
}

/* fetch (when something is spilled), push, check */
static int side_push(Side *s, const Batch *in)
{
    if (agg_op_spilled(s->op) > 0 && agg_op_spill_fetch(s->op, in, spill_get_cb, s->sp) < 0) {
        printf("  %s fetch: %s\n", s->who, agg_op_error(s->op));
        return 0;
    }
    if (agg_op_push(s->op, in) < 0) {
        printf("  %s push: %s\n", s->who, agg_op_error(s->op));
        return 0;
    }
    if (agg_op_check(s->op) < 0) {
        printf("  %s check after push: %s\n", s->who, agg_op_error(s->op));
        return 0;
    }
    return 1;
}

/* evictions that stopped above their target while more could go (a second
 * call evicted some): counted, reported once per test, the run goes on */
static int64_t evict_short;

/* evict down to target; counts and the store must follow; if the state is
 * still above target, nothing more can go (a second call evicts 0) */
static int side_evict(Side *s, size_t target, int64_t *evicted)
{
    int64_t before = agg_op_spilled(s->op);
    size_t  mapn = s->sp->n;
    int64_t n = agg_op_spill_evict(s->op, target, spill_put_cb, s->sp);
    if (n < 0 || s->sp->bad) {
        printf("  %s evict: %lld, %s (bad puts %d)\n", s->who, (long long)n, agg_op_error(s->op), s->sp->bad);
        return 0;
    }
    if (agg_op_spilled(s->op) != before + n || s->sp->n != mapn + (size_t)n) {
        printf("  (before any second call)\n");
        printf("  %s evict %lld: spilled %lld -> %lld, store %zu -> %zu\n", s->who, (long long)n,
               (long long)before, (long long)agg_op_spilled(s->op), mapn, s->sp->n);
        return 0;
    }
    size_t left = agg_op_state_bytes(s->op);
    if (left > target) {
        int64_t again = agg_op_spill_evict(s->op, target, spill_put_cb, s->sp);
        if (again < 0 || s->sp->bad) {
            printf("  %s evict again: %s\n", s->who, agg_op_error(s->op));
            return 0;
        }
        if (again > 0 && evict_short++ < 3)
            printf("  %s: evict %lld to %zu left %zu bytes (%lld groups in memory), yet a second call "
                   "evicted %lld more (now %zu bytes)\n",
                   s->who, (long long)n, target, left, (long long)(agg_op_groups(s->op) + again), (long long)again,
                   agg_op_state_bytes(s->op));
        n += again;
    }
    if (agg_op_check(s->op) < 0) {
        printf("  %s check after evict: %s\n", s->who, agg_op_error(s->op));
        return 0;
    }
    if (evicted) *evicted += n;
    return 1;
}

/* ---- the differential rig ---------------------------------------------------------- */

typedef struct Cfg {
    const char *name;
    AggPhase    phase;          /* SIMPLE, or FINAL fed by a PARTIAL over the rows */
    int         windowed, changes, ub, retract;
    int         nkeys;
    int         keys[4];        /* input columns; window bounds first when windowed */
    int         restore_every;  /* > 0: rebuild C from B every so many steps      */
} Cfg;

#define POOL_CAP 3000

typedef struct Rig {
    Cfg        cfg;
    Rng        g;
    AggOpSpec  rspec, spec;     /* raw-row spec (SIMPLE or PARTIAL); A/B/C's spec */
    AggColSpec faggs[NFULL];
    int        fkeys[4];
    SqlType    ptypes[64];
    AggOp     *p, *a, *b, *c;
    KvMap      spb, spc, cla, clb, clc, chunks;
    Batch      in, pout, oa, ob, oc;
    Side       sa, sb, sc;
    Row        pool[POOL_CAP];  /* retract: live rows that may be retracted */
    int        npool;
    int        nk;
    int64_t    clock, maxts;
    int64_t    evicted, drained, rounds, rebuilds;
} Rig;

static int rig_open(Rig *r, const Cfg *cfg, uint64_t seed)
{
    memset(r, 0, sizeof *r);
    r->cfg = *cfg;
    r->g.s = seed;
    r->nk = 50 + (int)rng_below(&r->g, 1500);
    r->spb = kv_new();
    r->spc = kv_new();
    r->cla = kv_new();
    r->clb = kv_new();
    r->clc = kv_new();
    r->chunks = kv_new();
    r->maxts = INT64_MIN;
    const AggColSpec *aggs = cfg->retract ? ret_aggs : full_aggs;
    int               naggs = cfg->retract ? NRET : NFULL;
    AggOpSpec         base = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, cfg->nkeys, cfg->keys, naggs, aggs);
    if (cfg->windowed) {
        base.wstart_key = 0;
        base.wend_key = 1;
    }
    base.retract = cfg->retract;
    if (cfg->phase == AGG_PHASE_FINAL) {
        r->rspec = base;
        r->rspec.phase = AGG_PHASE_PARTIAL;
        if (!(r->p = agg_op_new(&r->rspec, NULL, 0))) return -1;
        r->spec = final_of(r->p, &r->rspec, r->faggs, r->fkeys, r->ptypes);
        if (agg_out_init(r->p, &r->pout, 1 + (int)rng_below(&r->g, 300)) < 0) return -1;
    } else {
        r->spec = base;
    }
    r->spec.emit_changes = cfg->changes;
    r->spec.update_before = cfg->ub;
    char why[256] = "";
    if (!(r->a = agg_op_new(&r->spec, why, sizeof why)) || !(r->b = agg_op_new(&r->spec, why, sizeof why))) {
        printf("  %s: agg_op_new: %s\n", cfg->name, why);
        return -1;
    }
    if (batch_init(&r->in, NCOLS, in_t, 0) < 0 || agg_out_init(r->a, &r->oa, 0) < 0 ||
        agg_out_init(r->a, &r->ob, 2 + (int)rng_below(&r->g, 200)) < 0 ||
        agg_out_init(r->a, &r->oc, 2 + (int)rng_below(&r->g, 50)) < 0)
        return -1;
    r->sa = (Side){r->a, NULL, &r->cla, &r->oa, "A"};
    r->sb = (Side){r->b, &r->spb, &r->clb, &r->ob, "B"};
    r->sc = (Side){NULL, &r->spc, &r->clc, &r->oc, "C"};
    return 0;
}

static void rig_close(Rig *r)
{
    agg_op_free(r->p);
    agg_op_free(r->a);
    agg_op_free(r->b);
    agg_op_free(r->c);
    Batch *bs[5] = {&r->in, &r->pout, &r->oa, &r->ob, &r->oc};
    for (int i = 0; i < 5; i++)
        if (bs[i]->ncols) batch_destroy(bs[i]);
    kv_free(&r->spb);
    kv_free(&r->spc);
    kv_free(&r->cla);
    kv_free(&r->clb);
    kv_free(&r->clc);
    kv_free(&r->chunks);
}

/* a random batch; with retract a changelog whose -U/-D rows retract rows
 * inserted earlier (and live: selected) */
static void rig_batch(Rig *r)
{
    Rng    *g = &r->g;
    Batch  *b = &r->in;
    static Row     rows[SLUICE_VECTOR_SIZE];
    static uint8_t ops[SLUICE_VECTOR_SIZE], live[SLUICE_VECTOR_SIZE];
    batch_reset(b);
    int n = 1 + (int)rng_below(g, rng_below(g, 6) == 0 ? SLUICE_VECTOR_SIZE : 80);
    for (int i = 0; i < n; i++) {
        r->clock += rng_below(g, 10 * USEC_PER_MSEC);
        if (r->cfg.retract && r->npool && rng_below(g, 3) == 0) {
            int j = (int)rng_below(g, r->npool);
            rows[i] = r->pool[j];
            r->pool[j] = r->pool[--r->npool];
            ops[i] = rng_below(g, 2) ? BATCH_OP_DELETE : BATCH_OP_UPDATE_BEFORE;
        } else {
            gen_row(g, r->nk, r->clock - rng_below(g, 4 * SEC), &rows[i]);
            ops[i] = rng_below(g, 4) == 0 ? BATCH_OP_UPDATE : BATCH_OP_INSERT;
            if (!rows[i].wnul && rows[i].ts > r->maxts) r->maxts = rows[i].ts;
        }
        put_row(b, i, &rows[i]);
    }
    batch_set_nrows(b, n);
    if (r->cfg.retract) {
        uint8_t *o = batch_ops_buf(b);
        memcpy(o, ops, (size_t)n);
        b->ops = o;
    } else if (rng_below(g, 5) == 0) {
        static const int cc[6] = {C_K, C_S, C_D, C_X, C_STR, C_F};
        vector_make_constant(&b->cols[cc[rng_below(g, 6)]]);
    }
    memset(live, 1, (size_t)n);
    if (rng_below(g, 3) == 0) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            live[i] = rng_below(g, 3) != 0;
            if (live[i]) b->sel_buf[k++] = (uint32_t)i;
        }
        batch_set_sel(b, b->sel_buf, k);
    }
    if (!r->cfg.retract) return;
    for (int i = 0; i < n; i++) {
        int retraction = ops[i] == BATCH_OP_DELETE || ops[i] == BATCH_OP_UPDATE_BEFORE;
        /* inserted (live) rows may be retracted later; a retraction not
         * pushed (not selected) leaves its row live */
        if (live[i] == !retraction && r->npool < POOL_CAP) r->pool[r->npool++] = rows[i];
    }
}

/* the counters A and B (and C) must agree on */
static int rig_counters(Rig *r)
{
    Side *ss[2] = {&r->sb, &r->sc};
    for (int i = 0; i < 2; i++) {
        Side *s = ss[i];
        if (!s->op) continue;
        if (agg_op_groups(r->a) != agg_op_groups(s->op) + agg_op_spilled(s->op) ||
            agg_op_spilled(s->op) != (int64_t)s->sp->n || agg_op_late_rows(r->a) != agg_op_late_rows(s->op)) {
            printf("  %s: groups A %lld, %s %lld + spilled %lld (store %zu); late %lld vs %lld\n", r->cfg.name,
                   (long long)agg_op_groups(r->a), s->who, (long long)agg_op_groups(s->op),
                   (long long)agg_op_spilled(s->op), s->sp->n, (long long)agg_op_late_rows(r->a),
                   (long long)agg_op_late_rows(s->op));
            return 0;
        }
    }
    return 1;
}

static int rig_push(Rig *r, const Batch *in)
{
    if (agg_op_push(r->a, in) < 0) {
        printf("  A push: %s\n", agg_op_error(r->a));
        return 0;
    }
    if (!side_push(&r->sb, in) || (r->c && !side_push(&r->sc, in))) return 0;
    return 1;
}

static size_t rand_target(Rng *g)
{
    int64_t t = rng_below(g, 10);
    return t < 2 ? 0 : t == 2 ? (size_t)1 << 24 : (size_t)(512 + rng_below(g, 16384));
}

static int rig_evict(Rig *r)
{
    if (!side_evict(&r->sb, rand_target(&r->g), &r->evicted)) return 0;
    if (r->c && !side_evict(&r->sc, rand_target(&r->g), NULL)) return 0;
    return 1;
}

/* no group of a window that wm closed may be left in a store */
static int no_closed_left(const KvMap *m, int64_t wm, const char *who)
{
    KV_EACH(m, e)
    {
        if (e->k[0] == 'W' && gkey_wend(e->k) <= wm) {
            printf("  %s: a group of window_end %lld is still spilled after advance(%lld)\n", who,
                   (long long)gkey_wend(e->k), (long long)wm);
            return 0;
        }
    }
    return 1;
}

static int rig_round(Rig *r, int how, int64_t wm)
{
    RowSet ra = {0}, rb = {0}, rc = {0};
    int    nk = r->cfg.changes ? r->spec.nkeys : -1, ub = r->cfg.ub;
    int    per = rng_below(&r->g, 4) ? 1 + (int)rng_below(&r->g, 3) : 64;
    int    ok = side_emit(&r->sa, how, wm, per, &ra, nk, ub, NULL) &&
             side_emit(&r->sb, how, wm, per, &rb, nk, ub, &r->drained) &&
             (!r->c || side_emit(&r->sc, how, wm, per, &rc, nk, ub, NULL));
    ok = ok && rows_equal(&ra, &rb, "A vs B");
    ok = ok && (!r->c || rows_equal(&ra, &rc, "A vs C (restored)"));
    if (ok && how == E_ADVANCE)
        ok = no_closed_left(&r->spb, wm, "B") && (!r->c || no_closed_left(&r->spc, wm, "C"));
    if (ok && how == E_FLUSH && (r->spb.n || (r->c && r->spc.n))) {
        printf("  flush left %zu groups in B's store, %zu in C's\n", r->spb.n, r->spc.n);
        ok = 0;
    }
    r->rounds++;
    rows_free(&ra);
    rows_free(&rb);
    rows_free(&rc);
    return ok;
}

/* C := restored from B's incremental snapshots + every gkey of B's store registered */
static int rig_rebuild_c(Rig *r)
{
    if (agg_op_snapshot(r->b, r->rebuilds == 0, chunk_cb, &r->chunks) < 0) {
        printf("  snapshot B: %s\n", agg_op_error(r->b));
        return 0;
    }
    AggOp *c = agg_op_new(&r->spec, NULL, 0);
    if (!c) return 0;
    agg_op_free(r->c);
    r->c = r->sc.op = c;
    KV_EACH(&r->chunks, e)
    {
        if (agg_op_restore(c, e->k, e->kn, e->v, e->vn) < 0) {
            printf("  restore C: %s\n", agg_op_error(c));
            return 0;
        }
    }
    kv_clone(&r->spc, &r->spb);
    KV_EACH(&r->spc, e)
    {
        if (agg_op_spill_register(c, e->k, e->kn) < 0) {
            printf("  register in C: %s\n", agg_op_error(c));
            return 0;
        }
    }
    kv_clone(&r->clc, &r->clb);
    if (agg_op_check(c) < 0) {
        printf("  C check after restore: %s\n", agg_op_error(c));
        return 0;
    }
    if (agg_op_spilled(c) != agg_op_spilled(r->b) || agg_op_groups(c) != agg_op_groups(r->b)) {
        printf("  C restored: groups %lld spilled %lld, B: %lld %lld\n", (long long)agg_op_groups(c),
               (long long)agg_op_spilled(c), (long long)agg_op_groups(r->b), (long long)agg_op_spilled(r->b));
        return 0;
    }
    r->rebuilds++;
    return 1;
}

/* the PARTIAL's state into A, B, C */
static int rig_pflush(Rig *r)
{
    int more;
    do {
        if (agg_op_flush(r->p, &r->pout, &more) < 0) {
            printf("  partial flush: %s\n", agg_op_error(r->p));
            return 0;
        }
        if (!rig_push(r, &r->pout)) return 0;
    } while (more);
    return 1;
}

static int rig_step(Rig *r, int step)
{
    rig_batch(r);
    if (r->p) {
        if (agg_op_push(r->p, &r->in) < 0) {
            printf("  P push: %s\n", agg_op_error(r->p));
            return 0;
        }
        if (rng_below(&r->g, 3) == 0 && !rig_pflush(r)) return 0;
    } else if (!rig_push(r, &r->in)) {
        return 0;
    }
    if (!rig_evict(r) || !rig_counters(r)) return 0;
    if (r->cfg.changes && rng_below(&r->g, 4) == 0 && !rig_round(r, E_CHANGES, 0)) return 0;
    if (r->cfg.windowed && r->maxts != INT64_MIN && rng_below(&r->g, 3) == 0 &&
        !rig_round(r, E_ADVANCE, r->maxts - 2 * SEC))
        return 0;
    if (!r->cfg.windowed && !r->cfg.changes && rng_below(&r->g, 60) == 0 && !rig_round(r, E_FLUSH, 0))
        return 0;
    if (rng_below(&r->g, 3) == 0 && !rig_evict(r)) return 0;   /* right after an emission, too */
    if (!rig_counters(r)) return 0;
    if (r->cfg.restore_every > 0 && step % r->cfg.restore_every == r->cfg.restore_every - 1 &&
        !rig_rebuild_c(r))
        return 0;
    return 1;
}

static int rig_run(const Cfg *cfg, uint64_t seed, int steps)
{
    Rig *r = calloc(1, sizeof *r);
    int  ok = rig_open(r, cfg, seed) == 0;
    for (int i = 0; ok && i < steps; i++) {
        ok = rig_step(r, i);
        if (!ok) printf("  %s seed %llu: step %d failed\n", cfg->name, (unsigned long long)seed, i);
    }
    if (ok && r->p) ok = rig_pflush(r);
    if (ok) ok = rig_round(r, E_FLUSH, 0);
    if (ok && (agg_op_spilled(r->b) != 0 || agg_op_groups(r->b) != 0 || r->spb.n != 0)) {
        printf("  %s: after the final flush B has %lld groups, %lld spilled, store %zu\n", cfg->name,
               (long long)agg_op_groups(r->b), (long long)agg_op_spilled(r->b), r->spb.n);
        ok = 0;
    }
    if (ok && cfg->changes) {
        ok = kv_equal_text(&r->cla, &r->clb, "A's vs B's applied changelog") &&
             (!r->c || kv_equal_text(&r->cla, &r->clc, "A's vs C's applied changelog"));
    }
    if (getenv("SLUICE_SPILL_STATS"))   /* how much of the API a run exercised */
        printf("  %-44s seed %llu: %lld evicted, %lld fetched/loaded, %lld drained, %lld rounds, %lld "
               "restores, %lld late rows\n",
               cfg->name, (unsigned long long)seed, (long long)r->evicted, (long long)agg_op_spill_loads(r->b),
               (long long)r->drained, (long long)r->rounds, (long long)r->rebuilds,
               (long long)agg_op_late_rows(r->a));
    /* the run must have exercised the API */
    if (ok && (r->evicted < 100 || agg_op_spill_loads(r->b) < 100 || (cfg->windowed && r->drained == 0) ||
               (cfg->restore_every && r->rebuilds == 0))) {
        printf("  %s: too little spilling: %lld evicted, %lld loads, %lld drained, %lld rebuilds\n",
               cfg->name, (long long)r->evicted, (long long)agg_op_spill_loads(r->b), (long long)r->drained,
               (long long)r->rebuilds);
        ok = 0;
    }
    rig_close(r);
    free(r);
    return ok;
}

static const Cfg cfgs[] = {
    {"simple plain (k, s)", AGG_PHASE_SIMPLE, 0, 0, 0, 0, 2, {C_K, C_S}, 0},
    {"simple window (ws, we, k)", AGG_PHASE_SIMPLE, 1, 0, 0, 0, 3, {C_WS, C_WE, C_K}, 40},
    {"simple changes (d, s)", AGG_PHASE_SIMPLE, 0, 1, 0, 0, 2, {C_D, C_S}, 0},
    {"simple window changes ub (ws, we, s, d)", AGG_PHASE_SIMPLE, 1, 1, 1, 0, 4, {C_WS, C_WE, C_S, C_D}, 35},
    {"simple changes ub (k)", AGG_PHASE_SIMPLE, 0, 1, 1, 0, 1, {C_K}, 50},
    {"final plain (k, d)", AGG_PHASE_FINAL, 0, 0, 0, 0, 2, {C_K, C_D}, 0},
    {"final window changes ub (ws, we, k)", AGG_PHASE_FINAL, 1, 1, 1, 0, 3, {C_WS, C_WE, C_K}, 45},
    {"final window changes (ws, we, d)", AGG_PHASE_FINAL, 1, 1, 0, 0, 3, {C_WS, C_WE, C_D}, 0},
    {"retract changes ub (k)", AGG_PHASE_SIMPLE, 0, 1, 1, 1, 1, {C_K}, 30},
    {"retract window changes (ws, we, s)", AGG_PHASE_SIMPLE, 1, 1, 0, 1, 3, {C_WS, C_WE, C_S}, 0},
    {"retract window final mode (ws, we, k)", AGG_PHASE_SIMPLE, 1, 0, 0, 1, 3, {C_WS, C_WE, C_K}, 40},
    {"final retract changes ub (k, s)", AGG_PHASE_FINAL, 0, 1, 1, 1, 2, {C_K, C_S}, 0},
};
#define NCFG ((int)(sizeof cfgs / sizeof *cfgs))

static void run_cfgs(int from, int to)
{
    evict_short = 0;
    for (int i = from; i < to && i < NCFG; i++) {
        for (uint64_t seed = 1; seed <= 2; seed++) {
            if (!rig_run(&cfgs[i], seed * 1000003 + (uint64_t)i, 250))
                unit_fail(__FILE__, __LINE__, "differential: %s, seed %llu", cfgs[i].name,
                          (unsigned long long)seed);
        }
    }
    if (evict_short) unit_fail(__FILE__, __LINE__, "%lld evictions stopped above their target while more could go",
                               (long long)evict_short);
}

TEST(agg_spill_differential_simple)
{
    run_cfgs(0, 5);
}

TEST(agg_spill_differential_final)
{
    run_cfgs(5, 8);
}

TEST(agg_spill_differential_retract)
{
    run_cfgs(8, NCFG);
}

/* ---- small fixed specs for the targeted tests ----------------------------------- */

/* input: k BIGINT, x BIGINT, ws, we TIMESTAMP */
enum { S_K, S_X, S_WS, S_WE, SNCOLS };
static const SqlType s_t[SNCOLS] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_TIMESTAMP, TYPE_TIMESTAMP};
static const AggColSpec s_aggs[2] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, S_X)};
static const int        s_keys_plain[1] = {S_K};
static const int        s_keys_win[3] = {S_WS, S_WE, S_K};

static AggOpSpec small_spec(int windowed)
{
    AggOpSpec s = agg_spec(AGG_PHASE_SIMPLE, SNCOLS, s_t, windowed ? 3 : 1, windowed ? s_keys_win : s_keys_plain,
                           2, s_aggs);
    if (windowed) {
        s.wstart_key = 0;
        s.wend_key = 1;
    }
    return s;
}

/* rows k = k0 .. k0+n-1 (each `rep` times), x = k, in window [ws, ws + WSIZE) */
static void small_batch(Batch *b, int64_t k0, int n, int rep, int64_t ws)
{
    batch_reset(b);
    int r = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < rep; j++, r++) {
            vector_i64(&b->cols[S_K])[r] = k0 + i;
            vector_i64(&b->cols[S_X])[r] = k0 + i;
            vector_i64(&b->cols[S_WS])[r] = ws;
            vector_i64(&b->cols[S_WE])[r] = ws + WSIZE;
        }
    }
    batch_set_nrows(b, r);
}

/* push keys [k0, k0 + n) through fetch + push, in batches of at most 1000 rows */
static int small_push(AggOp *op, KvMap *sp, Batch *b, int64_t k0, int64_t n, int rep, int64_t ws)
{
    for (int64_t k = k0; k < k0 + n;) {
        int m = (int)(k0 + n - k < 1000 / rep ? k0 + n - k : 1000 / rep);
        small_batch(b, k, m, rep, ws);
        if (agg_op_spilled(op) > 0 && agg_op_spill_fetch(op, b, spill_get_cb, sp) < 0) return -1;
        if (agg_op_push(op, b) < 0) return -1;
        k += m;
    }
    return 0;
}

/* ---- 2. eviction frees memory ------------------------------------------------------- */

TEST(agg_spill_evict_frees_memory)
{
    AggOpSpec spec = small_spec(0);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 100000, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 100000);
    size_t state0 = agg_op_state_bytes(op), res0 = agg_op_reserved_bytes(op);
    CHECK(state0 > 1000000);
    /* a target above the state evicts nothing */
    CHECK_EQ_INT(agg_op_spill_evict(op, state0 + 1, spill_put_cb, &sp), 0);
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    int64_t n = agg_op_spill_evict(op, 64 * 1024, spill_put_cb, &sp);
    CHECK(n > 90000);
    CHECK_EQ_INT(sp.bad, 0);
    if (agg_op_state_bytes(op) > 64 * 1024)
        printf("  100k groups: evicted %lld to 64 KB, state %zu -> %zu bytes, %lld groups left\n", (long long)n,
               state0, agg_op_state_bytes(op), (long long)agg_op_groups(op));
    CHECK(agg_op_state_bytes(op) <= 64 * 1024);
    CHECK_EQ_INT(agg_op_spilled(op), n);
    CHECK_EQ_INT((int64_t)sp.n, n);
    CHECK_EQ_INT(agg_op_groups(op), 100000 - n);
    /* the memory really goes back (the table is rebuilt at its new size) */
    size_t res1 = agg_op_reserved_bytes(op);
    if (!(res1 < res0 / 4))
        printf("  reserved bytes %zu -> %zu (state %zu -> %zu)\n", res0, res1, state0, agg_op_state_bytes(op));
    CHECK(res1 < res0 / 4);
    CHECK(agg_op_check(op) == 0);
    /* every gkey is "G" + key; all different (the store refused none) */
    int badkey = 0;
    KV_EACH(&sp, e) badkey += e->k[0] != 'G';
    CHECK_EQ_INT(badkey, 0);
    /* keys 0..999 come back and count twice; the flush drains the rest */
    REQUIRE(small_push(op, &sp, &b, 0, 1000, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_spilled(op) + agg_op_groups(op), 100000);
    CHECK(agg_op_check(op) == 0);
    Side   s = {op, &sp, NULL, &out, "op"};
    RowSet rows = {0};
    CHECK(side_emit(&s, E_FLUSH, 0, 5000, &rows, -1, 0, NULL));
    CHECK_EQ_INT(rows.n, 100000);
    int64_t cnt = 0, twos = 0;
    for (int i = 0; i < rows.n; i++) {
        long long k, c, sum;
        if (sscanf(rows.r[i], "%lld|%lld|%lld", &k, &c, &sum) == 3) {
            cnt += c;
            twos += c == 2 && k < 1000 && sum == 2 * k;
        }
    }
    CHECK_EQ_INT(cnt, 101000);
    CHECK_EQ_INT(twos, 1000);
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    CHECK_EQ_INT((int64_t)sp.n, 0);
    CHECK_EQ_INT(agg_op_groups(op), 0);
    rows_free(&rows);
    /* evict to 0: every group goes */
    REQUIRE(small_push(op, &sp, &b, 0, 5000, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 5000);
    CHECK_EQ_INT(agg_op_groups(op), 0);
    CHECK_EQ_INT(agg_op_spilled(op), 5000);
    CHECK(agg_op_check(op) == 0);
    kv_free(&sp);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* windowed: the oldest windows go first */
TEST(agg_spill_evict_oldest_windows_first)
{
    AggOpSpec spec = small_spec(1);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    /* 100 windows of 1000 keys, pushed newest first */
    for (int w = 99; w >= 0; w--) REQUIRE(small_push(op, &sp, &b, 0, 1000, 1, (int64_t)w * WSIZE) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 100000);
    int64_t n = agg_op_spill_evict(op, 64 * 1024, spill_put_cb, &sp);
    CHECK(n > 90000);
    if (agg_op_state_bytes(op) > 64 * 1024)
        printf("  100 windows: evicted %lld to 64 KB, state %zu bytes, %lld groups left\n", (long long)n,
               agg_op_state_bytes(op), (long long)agg_op_groups(op));
    CHECK(agg_op_state_bytes(op) <= 64 * 1024);
    CHECK_EQ_INT(agg_op_spilled(op), n);
    CHECK_EQ_INT(agg_op_groups(op), 100000 - n);
    /* per window: full windows, then at most one partial one, then none */
    int per[100] = {0}, other = 0;
    KV_EACH(&sp, e)
    {
        int64_t we = gkey_wend(e->k), w = we / WSIZE - 1;
        if (e->k[0] != 'W' || we % WSIZE != 0 || w < 0 || w >= 100) other++;
        else per[w]++;
    }
    CHECK_EQ_INT(other, 0);
    int w = 0;
    while (w < 100 && per[w] == 1000) w++;
    if (w < 100) w++;   /* the partial one */
    int later = 0;
    for (; w < 100; w++) later += per[w];
    CHECK_EQ_INT(later, 0);
    /* advance closes the 50 oldest windows: they are drained back */
    Side   s = {op, &sp, NULL, &out, "op"};
    RowSet rows = {0};
    int64_t loaded = 0;
    CHECK(side_emit(&s, E_ADVANCE, 50 * WSIZE, 3000, &rows, -1, 0, &loaded));
    CHECK_EQ_INT(rows.n, 50000);   /* window_end <= 50 * WSIZE: windows 0..49 */
    CHECK(no_closed_left(&sp, 50 * WSIZE, "op"));
    CHECK_EQ_INT(agg_op_groups(op) + agg_op_spilled(op), 50000);
    rows_free(&rows);
    CHECK(side_emit(&s, E_FLUSH, 0, 3000, &rows, -1, 0, &loaded));
    CHECK_EQ_INT(rows.n, 50000);
    CHECK_EQ_INT((int64_t)sp.n, 0);
    CHECK_EQ_INT(loaded, n);
    rows_free(&rows);
    kv_free(&sp);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* ---- 3. rows of never-spilled groups do not call get ----------------------------- */

TEST(agg_spill_fetch_only_spilled)
{
    AggOpSpec spec = small_spec(0);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new();
    Batch b;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 10000, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 10000);
    /* 20000 new keys: only bloom false positives ask the store (and find nothing) */
    REQUIRE(small_push(op, &sp, &b, 10000, 20000, 1, 0) == 0);
    if (!(sp.gets < 1000)) printf("  %lld gets for 20000 never-spilled keys\n", (long long)sp.gets);
    CHECK(sp.gets < 1000);
    CHECK_EQ_INT(sp.hits, 0);
    CHECK_EQ_INT(agg_op_spilled(op), 10000);
    /* a batch of 300 spilled keys, each 3 times: exactly one get each */
    sp.gets = sp.hits = 0;
    int64_t loads0 = agg_op_spill_loads(op);
    small_batch(&b, 0, 300, 3, 0);
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.gets, 300);
    CHECK_EQ_INT(sp.hits, 300);
    CHECK_EQ_INT(agg_op_spilled(op), 9700);
    CHECK_EQ_INT(agg_op_spill_loads(op) - loads0, 300);
    /* the fetched groups are in memory: a second fetch asks nothing */
    sp.gets = 0;
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.gets, 0);
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 20300);
    CHECK(agg_op_check(op) == 0);
    /* a selection: only live rows are looked up */
    sp.gets = sp.hits = 0;
    small_batch(&b, 1000, 100, 1, 0);
    for (int i = 0; i < 10; i++) b.sel_buf[i] = (uint32_t)(i * 10);
    batch_set_sel(&b, b.sel_buf, 10);
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.hits, 10);
    CHECK_EQ_INT(sp.gets, 10);
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK(agg_op_check(op) == 0);
    kv_free(&sp);
    batch_destroy(&b);
    agg_op_free(op);
}

/* windowed: late rows (closed window, NULL window_end) cost nothing */
TEST(agg_spill_fetch_late_rows_free)
{
    AggOpSpec spec = small_spec(1);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 500, 1, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 500, 1, WSIZE) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 500, 1, 2 * WSIZE) == 0);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 1500);
    Side   s = {op, &sp, NULL, &out, "op"};
    RowSet rows = {0};
    CHECK(side_emit(&s, E_ADVANCE, 2 * WSIZE, 100, &rows, -1, 0, NULL));   /* closes windows 0 and 1 */
    CHECK_EQ_INT(rows.n, 1000);
    CHECK_EQ_INT(agg_op_spilled(op), 500);
    rows_free(&rows);
    sp.gets = 0;
    small_batch(&b, 0, 500, 1, WSIZE);   /* late: window 1 closed */
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.gets, 0);
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 500);
    small_batch(&b, 0, 500, 1, 2 * WSIZE);   /* NULL window_end: late */
    for (int i = 0; i < 500; i++) vector_set_null(&b.cols[S_WE], i);
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.gets, 0);
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK_EQ_INT(agg_op_late_rows(op), 1000);
    /* the same keys in the open window: each one fetched */
    small_batch(&b, 0, 500, 1, 2 * WSIZE);
    REQUIRE(agg_op_spill_fetch(op, &b, spill_get_cb, &sp) == 0);
    CHECK_EQ_INT(sp.hits, 500);
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    REQUIRE(agg_op_push(op, &b) == 0);
    CHECK(side_emit(&s, E_FLUSH, 0, 100, &rows, -1, 0, NULL));
    CHECK_EQ_INT(rows.n, 500);
    CHECK(rows_has(&rows, "1970-01-01 00:00:20|1970-01-01 00:00:30|7|2|14"));
    rows_free(&rows);
    kv_free(&sp);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

/* ---- 4. checkpoints: register ----------------------------------------------------- */

typedef struct RegFix {
    AggOpSpec spec;
    KvMap     chunks, sp;
    uint8_t   closed[64];   /* a gkey of a window the checkpoint's watermark closed */
    size_t    closed_n;
} RegFix;

/* an op with windows 1..4 of 50 keys, all evicted, window 1 closed and
 * drained, snapshotted */
static int regfix_open(RegFix *f, int windowed)
{
    memset(f, 0, sizeof *f);
    f->spec = small_spec(windowed);
    f->chunks = kv_new();
    f->sp = kv_new();
    AggOp *op = agg_op_new(&f->spec, NULL, 0);
    Batch  b, out;
    int    ok = op && batch_init(&b, SNCOLS, s_t, 0) == 0 && agg_out_init(op, &out, 0) == 0;
    for (int w = 1; ok && w <= 4; w++) ok = small_push(op, &f->sp, &b, 0, 50, 1, (int64_t)w * WSIZE) == 0;
    ok = ok && agg_op_spill_evict(op, 0, spill_put_cb, &f->sp) == (windowed ? 200 : 50);
    KV_EACH(&f->sp, e)
    {
        if (windowed && gkey_wend(e->k) == 2 * WSIZE && e->kn <= sizeof f->closed) {
            memcpy(f->closed, e->k, e->kn);
            f->closed_n = e->kn;
        }
    }
    Side s = {op, &f->sp, NULL, &out, "fix"};
    if (ok && windowed) ok = side_emit(&s, E_ADVANCE, 2 * WSIZE, 7, NULL, -1, 0, NULL) && f->closed_n > 0;
    /* some groups back in memory, so the chunks are not empty */
    ok = ok && small_push(op, &f->sp, &b, 0, 10, 1, 3 * WSIZE) == 0;
    ok = ok && agg_op_snapshot(op, 1, chunk_cb, &f->chunks) == 0;
    if (!ok) printf("  regfix: %s\n", op ? agg_op_error(op) : "no op");
    agg_op_free(op);
    batch_destroy(&b);
    batch_destroy(&out);
    return ok ? 0 : -1;
}

static AggOp *regfix_restore(RegFix *f)
{
    AggOp *op = agg_op_new(&f->spec, NULL, 0);
    KV_EACH(&f->chunks, e)
    {
        if (op && agg_op_restore(op, e->k, e->kn, e->v, e->vn) < 0) {
            printf("  restore: %s\n", agg_op_error(op));
            agg_op_free(op);
            op = NULL;
        }
    }
    return op;
}

static void regfix_close(RegFix *f)
{
    kv_free(&f->chunks);
    kv_free(&f->sp);
}

/* a fresh restored op must refuse gkey k with -1 and a message */
static int refuses(RegFix *f, const void *k, size_t kn)
{
    AggOp *op = regfix_restore(f);
    if (!op) return 0;
    int rc = agg_op_spill_register(op, k, kn);
    int ok = rc == -1 && err_set(op);
    agg_op_free(op);
    return ok;
}

static void register_cases(int windowed)
{
    RegFix f;
    REQUIRE(regfix_open(&f, windowed) == 0);
    /* all of the store registers; then the op agrees with the store */
    AggOp *op = regfix_restore(&f);
    REQUIRE(op != NULL);
    int64_t nsp = (int64_t)f.sp.n;
    CHECK(nsp == (windowed ? 140 : 40));
    int fails = 0;
    KV_EACH(&f.sp, e) fails += agg_op_spill_register(op, e->k, e->kn) != 0;
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(agg_op_spilled(op), nsp);
    CHECK(agg_op_check(op) == 0);
    /* registered groups come back through fetch and drains */
    {
        KvMap  sp = kv_new();
        Batch  b, out;
        RowSet rows = {0};
        kv_clone(&sp, &f.sp);
        REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
        REQUIRE(agg_out_init(op, &out, 0) == 0);
        REQUIRE(small_push(op, &sp, &b, 0, 50, 1, 3 * WSIZE) == 0);
        CHECK_EQ_INT(agg_op_spilled(op), nsp - 40);
        Side s = {op, &sp, NULL, &out, "restored"};
        CHECK(side_emit(&s, E_FLUSH, 0, 3, &rows, -1, 0, NULL));
        CHECK_EQ_INT(rows.n, windowed ? 150 : 50);
        const char *want = windowed ? "1970-01-01 00:00:30|1970-01-01 00:00:40|7|3|21" : "7|6|42";
        CHECK(rows_has(&rows, want));
        if (!rows_has(&rows, want) && rows.n) printf("  e.g. %s\n", rows.r[0]);
        CHECK_EQ_INT((int64_t)sp.n, 0);
        rows_free(&rows);
        batch_destroy(&b);
        batch_destroy(&out);
        kv_free(&sp);
    }
    agg_op_free(op);
    /* a gkey registered twice is not detected (agg.h: the store gives each once) */
    KvNode *one = kv_any(&f.sp);
    REQUIRE(one != NULL);
    /* malformed: empty, unknown prefix, the other table kind, every
     * truncation, a trailing byte */
    uint8_t k[128];
    REQUIRE(one->kn + 1 <= sizeof k);
    CHECK(refuses(&f, one->k, 0));
    CHECK(refuses(&f, "X\x01\x02", 3));
    if (windowed) CHECK(refuses(&f, "G\x00\x02", 3));
    else CHECK(refuses(&f, "W\x80\x00\x00\x00\x00\x00\x00\x28\x00\x02", 11));
    for (size_t n = 0; n < one->kn; n++) {
        if (!refuses(&f, one->k, n)) unit_fail(__FILE__, __LINE__, "register of a gkey cut to %zu of %zu bytes", n, one->kn);
    }
    memcpy(k, one->k, one->kn);
    k[one->kn] = 0;
    CHECK(refuses(&f, k, one->kn + 1));
    if (windowed) {
        /* the window closed at the checkpoint */
        CHECK(refuses(&f, f.closed, f.closed_n));
        /* a prefix window that is not the key's window */
        memcpy(k, one->k, one->kn);
        gkey_set_wend(k, gkey_wend(one->k) + WSIZE);
        CHECK(refuses(&f, k, one->kn));
    }
    regfix_close(&f);
}

TEST(agg_spill_register_errors_windowed)
{
    register_cases(1);
}

TEST(agg_spill_register_errors_plain)
{
    register_cases(0);
}

/* evicting marks the checkpoint buckets: an incremental snapshot taken
 * right after an eviction (no push in between) drops the evicted groups
 * from the chunks, so a restore + register of the store has each group
 * exactly once */
static void snapshot_after_evict(int windowed)
{
    AggOpSpec spec = small_spec(windowed);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new(), chunks = kv_new(), sp2 = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 300, 1, WSIZE) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 300, 2, 2 * WSIZE) == 0);
    REQUIRE(agg_op_snapshot(op, 1, chunk_cb, &chunks) == 0);
    /* about half, then a snapshot; then all, then another */
    int64_t n1 = agg_op_spill_evict(op, agg_op_state_bytes(op) / 2, spill_put_cb, &sp);
    CHECK(n1 > 0);
    for (int round = 0; round < 2; round++) {
        REQUIRE(agg_op_snapshot(op, 0, chunk_cb, &chunks) == 0);
        AggOp *c = agg_op_new(&spec, NULL, 0);
        REQUIRE(c != NULL);
        int bad = 0;
        KV_EACH(&chunks, e) bad += agg_op_restore(c, e->k, e->kn, e->v, e->vn) != 0;
        KV_EACH(&sp, e)
        {
            if (agg_op_spill_register(c, e->k, e->kn) != 0 && !bad++)
                printf("  round %d: register: %s\n", round, agg_op_error(c));
        }
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(agg_op_groups(c), agg_op_groups(op));
        CHECK_EQ_INT(agg_op_spilled(c), agg_op_spilled(op));
        CHECK(agg_op_check(c) == 0);
        /* C drains what B would */
        RowSet rc = {0}, rb = {0};
        kv_clone(&sp2, &sp);
        Side sc = {c, &sp2, NULL, &out, "C"};
        CHECK(side_emit(&sc, E_FLUSH, 0, 5, &rc, -1, 0, NULL));
        CHECK_EQ_INT(rc.n, windowed ? 600 : 300);
        CHECK_EQ_INT((int64_t)sp2.n, 0);
        if (round == 1) {
            Side sb = {op, &sp, NULL, &out, "B"};
            CHECK(side_emit(&sb, E_FLUSH, 0, 5, &rb, -1, 0, NULL));
            CHECK(rows_equal(&rb, &rc, "B vs C"));
        }
        rows_free(&rc);
        rows_free(&rb);
        agg_op_free(c);
        if (round == 0) CHECK(agg_op_spill_evict(op, 0, spill_put_cb, &sp) > 0);
    }
    kv_free(&sp);
    kv_free(&sp2);
    kv_free(&chunks);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

TEST(agg_spill_snapshot_after_evict)
{
    snapshot_after_evict(0);
    snapshot_after_evict(1);
}

/* ---- 5. EMIT CHANGES: pending changes stay in memory -------------------------------- */

static void changes_case(int ub)
{
    AggOpSpec spec = small_spec(0);
    spec.emit_changes = 1;
    spec.update_before = ub;
    AggOp *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new(), cl = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 7) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 100, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 0);   /* all dirty */
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    CHECK_EQ_INT(agg_op_groups(op), 100);
    /* an emission pending: nothing goes */
    int more = 0;
    CHECK_EQ_INT(agg_op_changes(op, &out, &more), 7);
    CHECK(more == 1);
    REQUIRE(apply_changes(&cl, &out, 1, ub, "op"));
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 0);
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    Side   s = {op, &sp, &cl, &out, "op"};
    RowSet rows = {0};
    CHECK(side_emit(&s, E_CHANGES, 0, 3, &rows, 1, ub, NULL));
    CHECK_EQ_INT(rows.n, 93);
    rows_free(&rows);
    /* all clean: all go */
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 100);
    CHECK_EQ_INT(agg_op_groups(op), 0);
    /* 10 come back changed, 5 are new: 15 dirty groups, none can go */
    REQUIRE(small_push(op, &sp, &b, 0, 10, 1, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 100, 5, 1, 0) == 0);
    CHECK_EQ_INT(agg_op_spilled(op), 90);
    CHECK_EQ_INT(agg_op_groups(op), 15);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 0);
    CHECK_EQ_INT(agg_op_spilled(op), 90);
    CHECK(side_emit(&s, E_CHANGES, 0, 3, &rows, 1, ub, NULL));
    int nins = 0, nupd = 0, nub = 0;
    for (int i = 0; i < rows.n; i++) {
        nins += rows.r[i][0] == '0';
        nupd += rows.r[i][0] == '1';
        nub += rows.r[i][0] == '3';
    }
    CHECK_EQ_INT(nins, 5);
    CHECK_EQ_INT(nupd, 10);
    CHECK_EQ_INT(nub, ub ? 10 : 0);
    CHECK(rows_has(&rows, "1|7|2|14"));
    CHECK(rows_has(&rows, "0|103|1|103"));
    if (ub) CHECK(rows_has(&rows, "3|7|1|7"));
    rows_free(&rows);
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 15);
    CHECK_EQ_INT(agg_op_spilled(op), 105);
    /* a flush: nothing pending, every spilled group is taken back and freed */
    CHECK(side_emit(&s, E_FLUSH, 0, 3, &rows, 1, ub, NULL));
    CHECK_EQ_INT(rows.n, 0);
    CHECK_EQ_INT(agg_op_spilled(op), 0);
    CHECK_EQ_INT(agg_op_groups(op), 0);
    CHECK_EQ_INT((int64_t)sp.n, 0);
    CHECK_EQ_INT((int64_t)cl.n, 105);
    rows_free(&rows);
    kv_free(&sp);
    kv_free(&cl);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

TEST(agg_spill_changes_dirty_stay)
{
    changes_case(0);
    changes_case(1);
}

/* ---- 6. sessions and PARTIAL: nothing can go ---------------------------------------- */

static void nothing_goes(int session)
{
    AggOpSpec spec = small_spec(session);
    if (session) spec.session = 1;
    else spec.phase = AGG_PHASE_PARTIAL;
    AggOp *op = agg_op_new(&spec, NULL, 0), *ref = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL && ref != NULL);
    KvMap  sp = kv_new();
    Batch  b, out, rout;
    Rng    g = {42};
    RowSet ra = {0}, rb = {0};
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 5) == 0);
    REQUIRE(agg_out_init(ref, &rout, 0) == 0);
    int64_t clock = 0;
    for (int step = 0; step < 60; step++) {
        batch_reset(&b);
        int n = 1 + (int)rng_below(&g, 100);
        for (int r = 0; r < n; r++) {
            clock += rng_below(&g, 50 * USEC_PER_MSEC);
            int64_t ts = clock - rng_below(&g, SEC);
            vector_i64(&b.cols[S_K])[r] = rng_below(&g, 30);
            vector_i64(&b.cols[S_X])[r] = rng_below(&g, 100);
            vector_i64(&b.cols[S_WS])[r] = session ? ts : floor_div(ts, WSIZE) * WSIZE;
            vector_i64(&b.cols[S_WE])[r] = session ? ts + 300 * USEC_PER_MSEC : floor_div(ts, WSIZE) * WSIZE + WSIZE;
        }
        batch_set_nrows(&b, n);
        REQUIRE(agg_op_push(ref, &b) == 0);
        CHECK_EQ_INT(agg_op_spilled(op), 0);
        REQUIRE(agg_op_push(op, &b) == 0);
        size_t  bytes = agg_op_state_bytes(op);
        int64_t groups = agg_op_groups(op);
        CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), 0);
        CHECK_EQ_INT(agg_op_spilled(op), 0);
        CHECK_EQ_INT(agg_op_groups(op), groups);
        CHECK(agg_op_state_bytes(op) == bytes);
        CHECK(agg_op_check(op) == 0);
        uint8_t prefix[16];
        size_t  plen;
        CHECK_EQ_INT(agg_op_spill_wanted(op, INT64_MAX, prefix, &plen), 0);
        if (step % 7 == 6) {
            int64_t wm = clock - 2 * SEC;
            CHECK(agg_drain(ref, session ? DRAIN_ADVANCE : DRAIN_FLUSH, wm, &rout, &ra, NULL) >= 0);
            Side s = {op, &sp, NULL, &out, "op"};
            CHECK(side_emit(&s, session ? E_ADVANCE : E_FLUSH, wm, 3, &rb, -1, 0, NULL));
        }
    }
    CHECK(agg_drain(ref, DRAIN_FLUSH, 0, &rout, &ra, NULL) >= 0);
    Side s = {op, &sp, NULL, &out, "op"};
    CHECK(side_emit(&s, E_FLUSH, 0, 3, &rb, -1, 0, NULL));
    CHECK(ra.n > 30);
    CHECK(rows_equal(&ra, &rb, session ? "sessions" : "partial"));
    CHECK_EQ_INT(sp.puts, 0);
    rows_free(&ra);
    rows_free(&rb);
    kv_free(&sp);
    batch_destroy(&b);
    batch_destroy(&out);
    batch_destroy(&rout);
    agg_op_free(op);
    agg_op_free(ref);
}

TEST(agg_spill_sessions_partial_keep_all)
{
    nothing_goes(1);
    nothing_goes(0);
}

/* ---- 7. malformed values ------------------------------------------------------------ */

/* an op over the full input (keys k, s; all aggregates; EMIT CHANGES with
 * update_before, so values carry last emitted results) with a few emitted,
 * evicted groups; its store in sp */
static AggOp *mal_op(const AggColSpec *aggs, int naggs, KvMap *sp)
{
    static const int keys[2] = {C_K, C_S};
    AggOpSpec        spec = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 2, keys, naggs, aggs);
    spec.emit_changes = 1;
    spec.update_before = 1;
    AggOp *op = agg_op_new(&spec, NULL, 0);
    Batch  b, out = {0};
    Rng    g = {7};
    if (!op || batch_init(&b, NCOLS, in_t, 0) < 0) return NULL;
    for (int i = 0; i < 40; i++) {
        Row w;
        gen_row(&g, 3, 0, &w);
        w.s = (int)(i % 3) + NSTR - 3;   /* long-ish strings */
        w.knul = 0;
        put_row(&b, i, &w);
    }
    batch_set_nrows(&b, 40);
    int ok = agg_op_push(op, &b) == 0 && agg_out_init(op, &out, 0) == 0;
    Side s = {op, sp, NULL, &out, "mal"};
    ok = ok && side_emit(&s, E_CHANGES, 0, 3, NULL, -1, 0, NULL) && agg_op_push(op, &b) == 0 &&
         side_emit(&s, E_CHANGES, 0, 3, NULL, -1, 0, NULL);
    ok = ok && agg_op_spill_evict(op, 0, spill_put_cb, sp) > 0;
    batch_destroy(&b);
    if (out.ncols) batch_destroy(&out);
    if (!ok) {
        printf("  mal_op: %s\n", agg_op_error(op));
        agg_op_free(op);
        return NULL;
    }
    return op;
}

/* the longest value in the store */
static KvNode *longest(KvMap *m)
{
    KvNode *best = NULL;
    KV_EACH(m, e)
    if (!best || e->vn > best->vn) best = e;
    return best;
}

/* a get that hands out a given (bad) value for the group it is asked for */
typedef struct BadGet {
    const uint8_t *v;
    size_t         vn;
    int            calls;
} BadGet;

static int bad_get_cb(void *ctx, const void *k, size_t kn, const void **v, size_t *vn)
{
    BadGet *g = ctx;
    (void)k;
    (void)kn;
    g->calls++;
    *v = g->v;
    *vn = g->vn;
    return 1;
}

/* a batch of one row of the group whose gkey is given: the same generator */
static void mal_row(Batch *b)
{
    Rng g = {7};
    Row w;
    batch_reset(b);
    gen_row(&g, 3, 0, &w);
    w.s = NSTR - 3;
    w.knul = 0;
    put_row(b, 0, &w);
    batch_set_nrows(b, 1);
}

TEST(agg_spill_malformed_values)
{
    KvMap  sp = kv_new();
    AggOp *op = mal_op(full_aggs, NFULL, &sp);
    REQUIRE(op != NULL);
    agg_op_free(op);
    KvNode *e = longest(&sp);
    REQUIRE(e != NULL);
    CHECK(e->vn > 50);
    size_t   kn = e->kn, vn = e->vn;
    uint8_t *k = malloc(kn), *v = malloc(vn);
    memcpy(k, e->k, kn);
    memcpy(v, e->v, vn);
    /* the intact value loads */
    {
        KvMap s2 = kv_new();
        AggOp *o = mal_op(full_aggs, NFULL, &s2);
        REQUIRE(o != NULL);
        CHECK(agg_op_spill_load(o, k, kn, v, vn) == 0);
        CHECK(agg_op_check(o) == 0);
        /* twice: it is not spilled any more */
        CHECK(agg_op_spill_load(o, k, kn, v, vn) == -1);
        CHECK(err_set(o));
        agg_op_free(o);
        kv_free(&s2);
    }
    /* every truncation, through load and through fetch's get */
    int bad_load = 0, bad_fetch = 0;
    Batch b;
    REQUIRE(batch_init(&b, NCOLS, in_t, 0) == 0);
    for (size_t n = 0; n < vn; n++) {
        KvMap  s2 = kv_new();
        AggOp *o = mal_op(full_aggs, NFULL, &s2);
        REQUIRE(o != NULL);
        if (agg_op_spill_load(o, k, kn, v, n) != -1 || !err_set(o)) {
            if (!bad_load++) printf("  load of a value cut to %zu of %zu bytes did not fail\n", n, vn);
        }
        agg_op_free(o);
        kv_free(&s2);
        s2 = kv_new();
        o = mal_op(full_aggs, NFULL, &s2);
        REQUIRE(o != NULL);
        BadGet bg = {v, n, 0};
        mal_row(&b);
        int rc = agg_op_spill_fetch(o, &b, bad_get_cb, &bg);
        if (bg.calls != 1 || rc != -1 || !err_set(o)) {
            if (!bad_fetch++)
                printf("  fetch of a value cut to %zu of %zu bytes: rc %d, %d gets\n", n, vn, rc, bg.calls);
        }
        agg_op_free(o);
        kv_free(&s2);
    }
    CHECK_EQ_INT(bad_load, 0);
    CHECK_EQ_INT(bad_fetch, 0);
    /* a wrong version byte */
    {
        KvMap  s2 = kv_new();
        AggOp *o = mal_op(full_aggs, NFULL, &s2);
        REQUIRE(o != NULL);
        v[0] ^= 0x5a;
        CHECK(agg_op_spill_load(o, k, kn, v, vn) == -1);
        CHECK(err_set(o));
        v[0] ^= 0x5a;
        agg_op_free(o);
        kv_free(&s2);
    }
    /* byte flips anywhere: no crash, no broken invariant if accepted (SAN) */
    for (size_t i = 0; i < vn; i++) {
        KvMap  s2 = kv_new();
        AggOp *o = mal_op(full_aggs, NFULL, &s2);
        REQUIRE(o != NULL);
        v[i] ^= (uint8_t)(1u << (i % 8));
        if (agg_op_spill_load(o, k, kn, v, vn) == 0) {
            if (agg_op_check(o) != 0) unit_fail(__FILE__, __LINE__, "flip at %zu: %s", i, agg_op_error(o));
        } else {
            CHECK(err_set(o));
        }
        v[i] ^= (uint8_t)(1u << (i % 8));
        agg_op_free(o);
        kv_free(&s2);
    }
    /* a value of another spec (fewer aggregates) and the reverse */
    {
        KvMap  s2 = kv_new(), s3 = kv_new();
        AggOp *small = mal_op(ret_aggs, 3, &s2), *big = mal_op(full_aggs, NFULL, &s3);
        REQUIRE(small != NULL && big != NULL);
        KvNode *se = kv_find(&s2, k, kn), *be = kv_find(&s3, k, kn);
        REQUIRE(se != NULL && be != NULL);
        CHECK(agg_op_spill_load(big, k, kn, se->v, se->vn) == -1);
        CHECK(err_set(big));
        CHECK(agg_op_spill_load(small, k, kn, be->v, be->vn) == -1);
        CHECK(err_set(small));
        agg_op_free(small);
        agg_op_free(big);
        kv_free(&s2);
        kv_free(&s3);
    }
    /* a gkey that is not spilled (its table has nothing spilled: a fresh op) */
    {
        AggOp    *o;
        AggOpSpec spec;
        static const int keys[2] = {C_K, C_S};
        spec = agg_spec(AGG_PHASE_SIMPLE, NCOLS, in_t, 2, keys, NFULL, full_aggs);
        spec.emit_changes = spec.update_before = 1;
        o = agg_op_new(&spec, NULL, 0);
        REQUIRE(o != NULL);
        CHECK(agg_op_spill_load(o, k, kn, v, vn) == -1);
        CHECK(err_set(o));
        agg_op_free(o);
    }
    batch_destroy(&b);
    free(k);
    free(v);
    kv_free(&sp);
}

/* ---- put refusing -------------------------------------------------------------------- */

TEST(agg_spill_put_refused)
{
    AggOpSpec spec = small_spec(0);
    AggOp    *op = agg_op_new(&spec, NULL, 0);
    REQUIRE(op != NULL);
    KvMap sp = kv_new();
    Batch b, out;
    REQUIRE(batch_init(&b, SNCOLS, s_t, 0) == 0);
    REQUIRE(agg_out_init(op, &out, 0) == 0);
    REQUIRE(small_push(op, &sp, &b, 0, 100, 1, 0) == 0);
    sp.put_limit = 5;
    CHECK_EQ_INT(agg_op_spill_evict(op, 0, spill_put_cb, &sp), -1);
    CHECK(err_set(op));
    CHECK(agg_op_check(op) == 0);
    /* the groups the store took are spilled, the others are not */
    CHECK_EQ_INT(agg_op_spilled(op), (int64_t)sp.n);
    CHECK_EQ_INT(agg_op_spilled(op) + agg_op_groups(op), 100);
    sp.put_limit = -1;
    Side   s = {op, &sp, NULL, &out, "op"};
    RowSet rows = {0};
    CHECK(side_emit(&s, E_FLUSH, 0, 2, &rows, -1, 0, NULL));
    CHECK_EQ_INT(rows.n, 100);
    CHECK(rows_has(&rows, "0|1|0"));
    CHECK(rows_has(&rows, "99|1|99"));
    rows_free(&rows);
    kv_free(&sp);
    batch_destroy(&b);
    batch_destroy(&out);
    agg_op_free(op);
}

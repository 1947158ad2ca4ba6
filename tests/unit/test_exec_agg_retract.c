/*
 * test_exec_agg_retract.c — aggregates over changelogs: a producer with
 * EMIT CHANGES + update_before (-U before every +U) feeding a consumer with
 * retract (agg.h, "UPDATE_BEFORE" and "RETRACTIONS"):
 *
 *   - random runs: producer P (non-windowed or tumbling windows) gets
 *     random rows, random agg_op_changes / advance calls; its changelog
 *     goes into a consumer C (SIMPLE, or PARTIAL -> FINAL with random
 *     flush points; changes or final mode). After every changes/flush
 *     call of P (an advance leaves open windows' changes pending), P's
 *     changelog applied to a map equals P's current groups (a reference
 *     op without changes, fed the same rows, copied by snapshot/restore
 *     and flushed); every -U immediately precedes its +U with exactly the
 *     previous values; at the end, C's output (its changelog applied, or
 *     its final rows) equals a plain aggregate over P's final rows. In the
 *     middle, P and C are replaced by ops restored from snapshots.
 *   - groups whose rows are all retracted emit -D (or nothing, if never
 *     emitted / in final mode); retracting a row never inserted fails;
 *   - MIN, MAX, COUNT(DISTINCT), APPROX_COUNT_DISTINCT are refused;
 *   - SIMPLE SUM is exact under retraction (leaves int64 and comes back);
 *   - format-1 chunks still load into ops without the new flags.
 */
#include "tests/unit/test_exec_agg_util.h"

#define SEC USEC_PER_SEC

/* producer input: k, x, d, s, ws, we */
enum { I_K, I_X, I_D, I_S, I_WS, I_WE, NIN };
/* (window bounds as BIGINT µs: rows go through text and back) */
static const SqlType in_t[NIN] = {TYPE_BIGINT,  TYPE_BIGINT, TYPE_DOUBLE,
                                  TYPE_VARCHAR, TYPE_BIGINT, TYPE_BIGINT};
#define A(fn, arg) {fn, arg, -1, TYPE_NULL, TYPE_NULL}

/* P: COUNT(*), SUM(x), SUM(d), MAX(s), COUNT(x) */
static const AggColSpec p_aggs[5] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, I_X), A(AGGFN_SUM, I_D),
                                     A(AGGFN_MAX, I_S), A(AGGFN_COUNT, I_X)};
#define P_NAGGS 5

/* ---- a text map: key -> row ------------------------------------------------------ */

typedef struct Map {
    char **k, **v;
    int    n, cap;
} Map;

static int map_find(const Map *m, const char *k)
{
    for (int i = 0; i < m->n; i++)
        if (strcmp(m->k[i], k) == 0) return i;
    return -1;
}

static void map_set(Map *m, const char *k, const char *v)
{
    int i = map_find(m, k);
    if (i >= 0) {
        free(m->v[i]);
        m->v[i] = strdup(v);
        return;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 64;
        m->k = realloc(m->k, (size_t)m->cap * sizeof *m->k);
        m->v = realloc(m->v, (size_t)m->cap * sizeof *m->v);
    }
    m->k[m->n] = strdup(k);
    m->v[m->n++] = strdup(v);
}

static void map_del(Map *m, int i)
{
    free(m->k[i]);
    free(m->v[i]);
    m->n--;
    m->k[i] = m->k[m->n];
    m->v[i] = m->v[m->n];
}

static void map_free(Map *m)
{
    for (int i = 0; i < m->n; i++) {
        free(m->k[i]);
        free(m->v[i]);
    }
    free(m->k);
    free(m->v);
    memset(m, 0, sizeof *m);
}

static void map_rows(const Map *m, RowSet *s)
{
    for (int i = 0; i < m->n; i++) rows_add(s, m->v[i]);
}

/* Apply a changelog batch (column 0 = op, then nkeys keys, then values) to
 * m; values are stored without the op column. Checks: -U is followed by
 * the +U of the same key and equals the stored row; +I of a new key; -D of
 * a stored row (equal when `full_delete`, else keys only). 1 if fine. */
static int apply_changes(Map *m, const Batch *b, int nkeys, int full_delete, const char *who)
{
    static char buf[4096], key[4096], nkey[4096];
    for (int i = 0; i < b->count; i++) {
        int64_t op = vector_i64(&b->cols[0])[i];
        row_text(b, i, 0, buf, sizeof buf);
        const char *row = strchr(buf, '|') + 1;
        /* the key: the first nkeys fields */
        const char *p = row;
        for (int k = 0; k < nkeys; k++) p = strchr(p, '|') + 1;
        snprintf(key, sizeof key, "%.*s", (int)(p - row), row);
        int at = map_find(m, key);
        switch (op) {
        case AGG_ROW_INSERT:
            if (at >= 0) {
                printf("  %s: +I of an existing key %s\n", who, row);
                return 0;
            }
            map_set(m, key, row);
            break;
        case AGG_ROW_UPDATE:
            if (at < 0) {
                printf("  %s: +U of a missing key %s\n", who, row);
                return 0;
            }
            map_set(m, key, row);
            break;
        case AGG_ROW_UPDATE_BEFORE: {
            if (at < 0 || strcmp(m->v[at], row) != 0) {
                printf("  %s: -U %s is not the last row (%s)\n", who, row, at < 0 ? "none" : m->v[at]);
                return 0;
            }
            /* the next row must be the +U of the same key */
            static char nb[4096];
            if (i + 1 >= b->count || vector_i64(&b->cols[0])[i + 1] != AGG_ROW_UPDATE) {
                printf("  %s: -U %s not followed by its +U\n", who, row);
                return 0;
            }
            row_text(b, i + 1, 0, nb, sizeof nb);
            const char *nr = strchr(nb, '|') + 1, *q = nr;
            for (int k = 0; k < nkeys; k++) q = strchr(q, '|') + 1;
            snprintf(nkey, sizeof nkey, "%.*s", (int)(q - nr), nr);
            if (strcmp(nkey, key) != 0) {
                printf("  %s: -U %s followed by +U of another key %s\n", who, row, nr);
                return 0;
            }
            map_del(m, at);
            /* the +U that follows re-inserts: make it an insert */
            map_set(m, key, nr);
            i++;
            break;
        }
        case AGG_ROW_DELETE:
            if (at < 0 || (full_delete && strcmp(m->v[at], row) != 0)) {
                printf("  %s: -D %s is not the last row (%s)\n", who, row, at < 0 ? "none" : m->v[at]);
                return 0;
            }
            map_del(m, at);
            break;
        default:
            printf("  %s: bad op %lld\n", who, (long long)op);
            return 0;
        }
    }
    return 1;
}

/* every P +U must come right after its -U (checked by apply_changes for -U;
 * here: no lone +U) */
static int no_lone_update(const Batch *b, const char *who)
{
    const int64_t *op = vector_i64(&b->cols[0]);
    for (int i = 0; i < b->count; i++)
        if (op[i] == AGG_ROW_UPDATE && (i == 0 || op[i - 1] != AGG_ROW_UPDATE_BEFORE)) {
            printf("  %s: +U at %d without a -U before it\n", who, i);
            return 0;
        }
    return 1;
}

/* ---- snapshot into memory, restore ------------------------------------------------ */

typedef struct Kv {
    uint8_t *k, *v;
    size_t   kn, vn;
} Kv;
typedef struct Store {
    Kv *e;
    int n, cap;
} Store;

static int store_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    Store *s = ctx;
    int    i;
    for (i = 0; i < s->n; i++)
        if (s->e[i].kn == kn && memcmp(s->e[i].k, k, kn) == 0) break;
    if (!v) {
        if (i == s->n) return 0;   /* a fresh store (full snapshots) */
        free(s->e[i].k);
        free(s->e[i].v);
        s->e[i] = s->e[--s->n];
        return 0;
    }
    if (i == s->n) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 16;
            s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
        }
        s->n++;
        s->e[i].k = malloc(kn);
        memcpy(s->e[i].k, k, kn);
        s->e[i].kn = kn;
    } else {
        free(s->e[i].v);
    }
    s->e[i].v = malloc(vn ? vn : 1);
    memcpy(s->e[i].v, v, vn);
    s->e[i].vn = vn;
    return 0;
}

static void store_free(Store *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->e[i].k);
        free(s->e[i].v);
    }
    free(s->e);
    memset(s, 0, sizeof *s);
}

/* a copy of op made by a full snapshot and a restore (NULL on failure) */
static AggOp *clone_op(AggOp *op, const AggOpSpec *spec)
{
    Store  st = {0};
    AggOp *c = NULL;
    if (agg_op_snapshot(op, 1, store_cb, &st) < 0) {
        printf("  snapshot: %s\n", agg_op_error(op));
        goto out;
    }
    c = agg_op_new(spec, NULL, 0);
    for (int i = 0; c && i < st.n; i++) {
        if (agg_op_restore(c, st.e[i].k, st.e[i].kn, st.e[i].v, st.e[i].vn) < 0) {
            printf("  restore: %s\n", agg_op_error(c));
            agg_op_free(c);
            c = NULL;
        }
    }
    if (c && agg_op_check(c) < 0) {
        printf("  check after restore: %s\n", agg_op_error(c));
        agg_op_free(c);
        c = NULL;
    }
out:
    store_free(&st);
    return c;
}

/* ---- the rig ----------------------------------------------------------------------- */

typedef struct Scen {
    int windowed;
    int partial;     /* C is PARTIAL -> FINAL */
    int c_changes;   /* C emits changes (with update_before when c_ub) */
    int c_ub;
    int big;         /* SUM inputs near the int64 limits (SIMPLE only) */
} Scen;

typedef struct Rig {
    Scen       sc;
    AggOpSpec  pspec, rspec, cspec, c1spec, bspec;
    int        pkeys[3], ckeys[3], fkeys[3];
    AggColSpec caggs[8], faggs[8];
    SqlType    pt[16], c1t[32];
    AggOp     *p, *ref, *c, *c1;   /* producer, its reference, consumer (FINAL), partial */
    Batch      pout, c1out, cout, rout;
    Map        pmap, cmap;
    RowSet     rclosed, cfinal;    /* reference rows of closed windows; C's final rows */
    int        w;                  /* 2 when windowed: the bounds lead the keys */
    int        cnk;                /* C's keys */
} Rig;

static int rig_open(Rig *r, const Scen *sc, Rng *g)
{
    memset(r, 0, sizeof *r);
    r->sc = *sc;
    r->w = sc->windowed ? 2 : 0;
    int nk = 0;
    if (sc->windowed) {
        r->pkeys[nk++] = I_WS;
        r->pkeys[nk++] = I_WE;
    }
    r->pkeys[nk++] = I_K;
    r->pspec = agg_spec(AGG_PHASE_SIMPLE, NIN, in_t, nk, r->pkeys, P_NAGGS, p_aggs);
    if (sc->windowed) {
        r->pspec.wstart_key = 0;
        r->pspec.wend_key = 1;
    }
    r->rspec = r->pspec;   /* the reference: no changes */
    r->pspec.emit_changes = 1;
    r->pspec.update_before = 1;
    if (!(r->p = agg_op_new(&r->pspec, NULL, 0)) || !(r->ref = agg_op_new(&r->rspec, NULL, 0)))
        return -1;
    int np = agg_op_output_types(r->p, r->pt);
    /* P's output: op, [ws, we], k, cnt, sumx, sumd, maxs, cntx */
    const int w = r->w, o_cnt = 2 + w, o_sumx = 3 + w, o_sumd = 4 + w, o_maxs = 5 + w, o_cntx = 6 + w;
    int       ck = 0;
    if (sc->windowed) {
        r->ckeys[ck++] = 1;
        r->ckeys[ck++] = 2;
    }
    r->ckeys[ck++] = rng_below(g, 2) ? o_maxs : o_cnt;
    r->cnk = ck;
    const AggColSpec ca[7] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_COUNT, o_sumx), A(AGGFN_SUM, o_sumx),
                              A(AGGFN_SUM, o_sumd),    A(AGGFN_AVG, o_cnt),    A(AGGFN_SUM, o_cntx),
                              A(AGGFN_AVG, o_sumd)};
    memcpy(r->caggs, ca, sizeof ca);
    r->cspec = agg_spec(sc->partial ? AGG_PHASE_PARTIAL : AGG_PHASE_SIMPLE, np, r->pt, ck, r->ckeys,
                        7, r->caggs);
    if (sc->windowed) {
        r->cspec.wstart_key = 0;
        r->cspec.wend_key = 1;
    }
    r->bspec = r->cspec;   /* the batch computation: plain SIMPLE */
    r->bspec.phase = AGG_PHASE_SIMPLE;
    r->cspec.retract = 1;
    if (sc->partial) {
        r->c1spec = r->cspec;
        if (!(r->c1 = agg_op_new(&r->c1spec, NULL, 0))) return -1;
        int nc = agg_op_output_types(r->c1, r->c1t), c = ck;
        r->cspec.phase = AGG_PHASE_FINAL;
        r->cspec.ninput = nc;
        r->cspec.input_types = r->c1t;
        for (int k = 0; k < ck; k++) r->fkeys[k] = k;
        r->cspec.keys = r->fkeys;
        for (int a = 0; a < 7; a++) {
            r->faggs[a] = ca[a];
            r->faggs[a].arg = c;
            c += ca[a].fn == AGGFN_SUM || ca[a].fn == AGGFN_AVG ? 2 : 1;
        }
        if (c != nc - 1) return -1;   /* the row count is the last column */
        r->cspec.aggs = r->faggs;
        if (agg_out_init(r->c1, &r->c1out, 1 + (int)rng_below(g, 200)) < 0) return -1;
    }
    r->cspec.emit_changes = sc->c_changes;
    r->cspec.update_before = sc->c_changes && sc->c_ub;
    if (!(r->c = agg_op_new(&r->cspec, NULL, 0))) return -1;
    if (agg_out_init(r->p, &r->pout, 2 + (int)rng_below(g, 3) * (int)rng_below(g, 100)) < 0 ||
        agg_out_init(r->c, &r->cout, 2 + (int)rng_below(g, 50)) < 0 ||
        agg_out_init(r->ref, &r->rout, 0) < 0)
        return -1;
    return 0;
}

static void rig_close(Rig *r)
{
    agg_op_free(r->p);
    agg_op_free(r->ref);
    agg_op_free(r->c);
    agg_op_free(r->c1);
    if (r->pout.ncols) batch_destroy(&r->pout);
    if (r->c1out.ncols) batch_destroy(&r->c1out);
    if (r->cout.ncols) batch_destroy(&r->cout);
    if (r->rout.ncols) batch_destroy(&r->rout);
    map_free(&r->pmap);
    map_free(&r->cmap);
    rows_free(&r->rclosed);
    rows_free(&r->cfinal);
}

/* C's output batch: apply (changes) or collect (final) */
static int take_c(Rig *r)
{
    if (!r->sc.c_changes) {
        rows_add_batch(&r->cfinal, &r->cout, 0);
        return 1;
    }
    if (r->sc.c_ub && !no_lone_update(&r->cout, "C")) return 0;
    return apply_changes(&r->cmap, &r->cout, r->cnk, r->sc.c_ub, "C");
}

enum { E_CHANGES, E_ADVANCE, E_FLUSH };

static int c_emit(Rig *r, int how, int64_t wm)
{
    int more;
    do {
        int n = how == E_CHANGES ? agg_op_changes(r->c, &r->cout, &more)
                : how == E_ADVANCE ? agg_op_advance(r->c, wm, &r->cout, &more)
                                   : agg_op_flush(r->c, &r->cout, &more);
        if (n < 0) {
            printf("  C emit: %s\n", agg_op_error(r->c));
            return 0;
        }
        if (!take_c(r)) return 0;
    } while (more);
    if (agg_op_check(r->c) < 0) {
        printf("  C check: %s\n", agg_op_error(r->c));
        return 0;
    }
    return 1;
}

/* the partial's state into the final */
static int c1_flush(Rig *r)
{
    int more;
    do {
        if (agg_op_flush(r->c1, &r->c1out, &more) < 0 || agg_op_push(r->c, &r->c1out) < 0) {
            printf("  partial flush: %s / %s\n", agg_op_error(r->c1), agg_op_error(r->c));
            return 0;
        }
    } while (more);
    return 1;
}

/* P's current groups == its applied changelog */
static int check_p(Rig *r)
{
    AggOp *copy = clone_op(r->ref, &r->rspec);
    if (!copy) return 0;
    RowSet want = {0}, got = {0};
    int    ok = agg_drain(copy, DRAIN_FLUSH, 0, &r->rout, &want, NULL) >= 0;
    for (int i = 0; i < r->rclosed.n; i++) rows_add(&want, r->rclosed.r[i]);
    map_rows(&r->pmap, &got);
    if (ok) ok = rows_equal(&got, &want, "P changelog vs P groups");
    rows_free(&want);
    rows_free(&got);
    agg_op_free(copy);
    return ok;
}

/* one emitting call of P: check and apply its rows, feed them to C */
static int p_emit(Rig *r, int how, int64_t wm, Rng *g)
{
    int more;
    do {
        int n = how == E_CHANGES ? agg_op_changes(r->p, &r->pout, &more)
                : how == E_ADVANCE ? agg_op_advance(r->p, wm, &r->pout, &more)
                                   : agg_op_flush(r->p, &r->pout, &more);
        if (n < 0) {
            printf("  P emit: %s\n", agg_op_error(r->p));
            return 0;
        }
        if (!no_lone_update(&r->pout, "P")) return 0;
        if (!apply_changes(&r->pmap, &r->pout, r->w + 1, 1, "P")) return 0;
        /* the changelog into C: ops from column 0 */
        uint8_t *ops = batch_ops_buf(&r->pout);
        for (int i = 0; i < r->pout.count; i++) ops[i] = (uint8_t)vector_i64(&r->pout.cols[0])[i];
        r->pout.ops = ops;
        AggOp *dst = r->c1 ? r->c1 : r->c;
        if (agg_op_push(dst, &r->pout) < 0) {
            printf("  C push: %s\n", agg_op_error(dst));
            return 0;
        }
        if (r->c1 && rng_below(g, 3) == 0 && !c1_flush(r)) return 0;
    } while (more);
    if (agg_op_check(r->p) < 0) {
        printf("  P check: %s\n", agg_op_error(r->p));
        return 0;
    }
    if (how == E_ADVANCE) {
        /* the reference closes the same windows */
        if (agg_drain(r->ref, DRAIN_ADVANCE, wm, &r->rout, &r->rclosed, NULL) < 0) return 0;
        return 1;   /* open windows may have changes not emitted yet */
    }
    return check_p(r);
}

static void random_batch(Rng *g, Batch *b, int64_t *clock, int nkeys, int big)
{
    static const char *const pool[] = {"", "a", "ab", "b", "zz", "m"};
    batch_reset(b);
    int n = 1 + (int)rng_below(g, rng_below(g, 6) == 0 ? 300 : 12);
    for (int r = 0; r < n; r++) {
        *clock += rng_below(g, 300 * USEC_PER_MSEC);
        vector_i64(&b->cols[I_K])[r] = rng_below(g, nkeys);
        int64_t x = rng_below(g, 201) - 100;
        if (big && rng_below(g, 8) == 0) x = rng_below(g, 2) ? INT64_MAX - rng_below(g, 9) : INT64_MIN + 1;
        vector_i64(&b->cols[I_X])[r] = x;
        if (rng_below(g, 8) == 0) vector_set_null(&b->cols[I_X], r);
        vector_f64(&b->cols[I_D])[r] = (double)(rng_below(g, 41) - 20) * 0.25;
        if (rng_below(g, 8) == 0) vector_set_null(&b->cols[I_D], r);
        const char *s = pool[rng_below(g, 6)];
        vector_set_str(&b->cols[I_S], r, s, strlen(s));
        if (rng_below(g, 6) == 0) vector_set_null(&b->cols[I_S], r);
        int64_t t = *clock - rng_below(g, 3 * SEC);
        vector_i64(&b->cols[I_WS])[r] = t - t % (10 * SEC);
        vector_i64(&b->cols[I_WE])[r] = t - t % (10 * SEC) + 10 * SEC;
    }
    batch_set_nrows(b, n);
}

/* replace op *pp by a copy restored from its snapshot */
static int swap_restored(AggOp **pp, const AggOpSpec *spec)
{
    AggOp *c = clone_op(*pp, spec);
    if (!c) return 0;
    agg_op_free(*pp);
    *pp = c;
    return 1;
}

static int run_one(const Scen *sc, uint64_t seed)
{
    Rng     g = {seed * 0x9e3779b97f4a7c15ULL + 5};
    Rig     r;
    Batch   in;
    int     ok = 1;
    int64_t clock = 0;
    if (batch_init(&in, NIN, in_t, 0) < 0) return 0;
    if (rig_open(&r, sc, &g) < 0) {
        printf("  rig_open failed\n");
        rig_close(&r);
        batch_destroy(&in);
        return 0;
    }
    int nkeys = 2 + (int)rng_below(&g, 15), steps = 20 + (int)rng_below(&g, 40);
    int restart = (int)rng_below(&g, steps);
    for (int step = 0; step < steps && ok; step++) {
        random_batch(&g, &in, &clock, nkeys, sc->big);
        if (agg_op_push(r.p, &in) < 0 || agg_op_push(r.ref, &in) < 0) {
            printf("  P push: %s\n", agg_op_error(r.p));
            ok = 0;
            break;
        }
        int act = (int)rng_below(&g, 10);
        if (act < 5) ok = p_emit(&r, E_CHANGES, 0, &g);
        else if (act < 7 && sc->windowed) {
            int64_t wm = clock - 4 * SEC - rng_below(&g, 4 * SEC);
            ok = p_emit(&r, E_ADVANCE, wm, &g);
            if (ok && r.c1) ok = c1_flush(&r);   /* everything up to wm reaches C */
            if (ok) ok = c_emit(&r, E_ADVANCE, wm);
        }
        if (ok && sc->c_changes && rng_below(&g, 3) == 0) {
            if (r.c1 && rng_below(&g, 2)) ok = c1_flush(&r);
            if (ok) ok = c_emit(&r, E_CHANGES, 0);
        }
        if (ok && step == restart) {
            /* a restart from checkpoints (no emission is pending here) */
            ok = swap_restored(&r.p, &r.pspec) && swap_restored(&r.c, &r.cspec);
        }
    }
    /* the end: P flushes everything into C, C flushes */
    if (ok) ok = p_emit(&r, E_FLUSH, 0, &g);
    if (ok && r.c1) ok = c1_flush(&r);
    if (ok) ok = c_emit(&r, E_FLUSH, 0);
    if (ok) {
        /* the batch computation over P's final rows (op column 0) */
        AggOp *b = agg_op_new(&r.bspec, NULL, 0);
        Batch  bin, bout;
        RowSet want = {0}, got = {0};
        ok = b && batch_init(&bin, agg_op_output_types(r.p, r.pt), r.pt, r.pmap.n + 1) == 0;
        if (ok) {
            static char row[4096];
            for (int i = 0; i < r.pmap.n; i++) {
                snprintf(row, sizeof row, "0|%s", r.pmap.v[i]);
                add_row(&bin, row);
            }
            ok = agg_op_push(b, &bin) == 0 && agg_out_init(b, &bout, 0) == 0;
            if (ok) ok = agg_drain(b, DRAIN_FLUSH, 0, &bout, &want, NULL) >= 0;
            batch_destroy(&bin);
            batch_destroy(&bout);
        }
        if (ok && sc->c_changes) map_rows(&r.cmap, &got);
        else if (ok) {
            for (int i = 0; i < r.cfinal.n; i++) rows_add(&got, r.cfinal.r[i]);
        }
        if (ok) ok = rows_equal(&got, &want, "C vs batch over P's rows");
        rows_free(&want);
        rows_free(&got);
        agg_op_free(b);
    }
    rig_close(&r);
    batch_destroy(&in);
    return ok;
}

static void run_scen(const Scen *sc, int seeds, const char *name)
{
    int bad = 0;
    for (int s = 1; s <= seeds && bad < 3; s++) {
        if (!run_one(sc, (uint64_t)s * 104729 + (uint64_t)sc->windowed * 7 + (uint64_t)sc->partial)) {
            printf("  %s: seed %d failed\n", name, s);
            bad++;
        }
    }
    CHECK(bad == 0);
}

TEST(agg_retract_random_simple)
{
    Scen s = {0, 0, 1, 1, 0};
    run_scen(&s, 40, "simple changes ub");
    s.c_ub = 0;
    run_scen(&s, 20, "simple changes");
    s.c_changes = 0;
    run_scen(&s, 20, "simple final");
    Scen big = {0, 0, 1, 1, 1};
    run_scen(&big, 30, "simple changes big sums");
}

TEST(agg_retract_random_partial)
{
    Scen s = {0, 1, 1, 1, 0};
    run_scen(&s, 40, "partial/final changes ub");
    s.c_changes = 0;
    run_scen(&s, 20, "partial/final final");
}

TEST(agg_retract_random_windows)
{
    Scen s = {1, 0, 1, 1, 0};
    run_scen(&s, 30, "tumble changes ub");
    s.c_changes = 0;
    run_scen(&s, 20, "tumble final");
    Scen p = {1, 1, 1, 1, 0};
    run_scen(&p, 25, "tumble partial/final changes ub");
}

/* ---- focused tests ------------------------------------------------------------------- */

/* consumer input: k BIGINT, x BIGINT, s VARCHAR, we BIGINT (window_end) */
static const SqlType c_t[4] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_VARCHAR, TYPE_BIGINT};
static const int     c_keys[1] = {0};
static const AggColSpec c_aggs[2] = {A(AGGFN_COUNT_STAR, -1), A(AGGFN_SUM, 1)};

/* one row "k|x|s|we" with op o appended to b */
static void put(Batch *b, const char *row, uint8_t o)
{
    uint8_t *ops = batch_ops_buf(b);
    ops[b->nrows] = o;
    add_row(b, row);
    b->ops = ops;
}

static int64_t drain_rows(AggOp *op, int how, int64_t wm, Batch *out, RowSet *s)
{
    return agg_drain(op, how, wm, out, s, NULL);
}

TEST(agg_retract_groups_vanish)
{
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 1, c_keys, 2, c_aggs);
    sp.retract = 1;
    sp.emit_changes = 1;
    sp.update_before = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    Batch  in, out;
    RowSet s = {0};
    REQUIRE(op && batch_init(&in, 4, c_t, 0) == 0 && agg_out_init(op, &out, 8) == 0);
    put(&in, "1|10|a|0", BATCH_OP_INSERT);
    put(&in, "2|5|a|0", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 2);
    rows_free(&s);
    /* group 1 loses its row: -D with its last emitted values; group 2 gets
     * -U/+U; group 3 comes and goes before an emission: nothing */
    batch_reset(&in);
    put(&in, "1|10|a|0", BATCH_OP_DELETE);
    put(&in, "2|5|a|0", BATCH_OP_UPDATE_BEFORE);
    put(&in, "2|7|a|0", BATCH_OP_UPDATE);
    put(&in, "3|1|a|0", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    batch_reset(&in);
    put(&in, "3|1|a|0", BATCH_OP_DELETE);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 2);   /* 1 waits for its -D; 3 is gone */
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 3);
    CHECK(rows_has(&s, "2|1|1|10"));   /* -D of the emitted row, values kept */
    CHECK(rows_has(&s, "3|2|1|5"));    /* -U: the previous values */
    CHECK(rows_has(&s, "1|2|1|7"));
    CHECK_EQ_INT(agg_op_groups(op), 1);
    rows_free(&s);
    /* a retraction of a row never inserted fails */
    batch_reset(&in);
    put(&in, "9|1|a|0", BATCH_OP_DELETE);
    CHECK(agg_op_push(op, &in) < 0);
    CHECK(strstr(agg_op_error(op), "never inserted") != NULL);
    agg_op_free(op);

    /* without update_before the -D has NULL values; a revived group is a +U */
    sp.update_before = 0;
    op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    batch_reset(&in);
    put(&in, "1|10|a|0", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    batch_reset(&in);
    put(&in, "1|10|a|0", BATCH_OP_DELETE);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_FLUSH, 0, &out, &s), 1);
    CHECK(rows_has(&s, "2|1|NULL|NULL"));
    rows_free(&s);
    batch_reset(&in);
    put(&in, "1|10|a|0", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    batch_reset(&in);
    put(&in, "1|10|a|0", BATCH_OP_DELETE);
    REQUIRE(agg_op_push(op, &in) == 0);
    put(&in, "1|3|a|0", BATCH_OP_INSERT);   /* the batch again plus a new row */
    in.ops_buf[0] = BATCH_OP_INSERT;
    REQUIRE(agg_op_push(op, &in) == 0);   /* count 0 -> 2 before the emission */
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    CHECK(rows_has(&s, "1|1|2|13"));
    rows_free(&s);
    agg_op_free(op);

    /* final mode, windows: a window whose groups all vanished emits nothing */
    static const int wkeys[2] = {3, 0};
    sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 2, wkeys, 2, c_aggs);
    sp.wend_key = 0;
    sp.retract = 1;
    op = agg_op_new(&sp, NULL, 0);
    REQUIRE(op != NULL);
    batch_reset(&in);
    put(&in, "1|10|a|100", BATCH_OP_INSERT);
    put(&in, "2|10|a|200", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    batch_reset(&in);
    put(&in, "1|10|a|100", BATCH_OP_UPDATE_BEFORE);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(agg_op_groups(op), 1);
    batch_destroy(&out);
    REQUIRE(agg_out_init(op, &out, 8) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_ADVANCE, 150, &out, &s), 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_ADVANCE, 250, &out, &s), 1);
    CHECK(rows_has(&s, "200|2|1|10"));
    rows_free(&s);
    agg_op_free(op);
    batch_destroy(&in);
    batch_destroy(&out);
}

TEST(agg_retract_refuses_non_retractable)
{
    static const AggFn bad[4] = {AGGFN_MIN, AGGFN_MAX, AGGFN_COUNT_DISTINCT,
                                 AGGFN_APPROX_COUNT_DISTINCT};
    static const char *const names[4] = {"MIN", "MAX", "COUNT(DISTINCT)", "APPROX_COUNT_DISTINCT"};
    for (int i = 0; i < 4; i++) {
        AggColSpec a[2] = {A(AGGFN_COUNT_STAR, -1), A(bad[i], 1)};
        AggOpSpec  sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 1, c_keys, 2, a);
        char       why[256], want[64];
        AggOp     *op = agg_op_new(&sp, why, sizeof why);
        CHECK(op != NULL);   /* fine without retract */
        agg_op_free(op);
        sp.retract = 1;
        CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
        snprintf(want, sizeof want, "%s cannot take retractions", names[i]);
        CHECK(strstr(why, want) == why);
        CHECK(strstr(why, "changelog") != NULL);
    }
    /* sessions: neither flag; update_before needs EMIT CHANGES */
    static const int wk[3] = {3, 3, 0};
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 3, wk, 2, c_aggs);
    char      why[256];
    sp.wstart_key = 0;
    sp.wend_key = 1;
    sp.session = 1;
    sp.retract = 1;
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 1, c_keys, 2, c_aggs);
    sp.update_before = 1;
    CHECK(agg_op_new(&sp, why, sizeof why) == NULL);
    CHECK(strstr(why, "EMIT CHANGES") != NULL);
}

TEST(agg_retract_sum_exact)
{
    /* SIMPLE: the 128-bit sum leaves the int64 range (NULL) and comes back */
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 1, c_keys, 2, c_aggs);
    sp.retract = 1;
    sp.emit_changes = 1;
    AggOp *op = agg_op_new(&sp, NULL, 0);
    Batch  in, out;
    RowSet s = {0};
    REQUIRE(op && batch_init(&in, 4, c_t, 0) == 0 && agg_out_init(op, &out, 8) == 0);
    put(&in, "1|9223372036854775807|a|0", BATCH_OP_INSERT);
    put(&in, "1|9223372036854775807|a|0", BATCH_OP_INSERT);
    put(&in, "1|NULL|a|0", BATCH_OP_INSERT);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    CHECK(rows_has(&s, "0|1|3|NULL"));
    rows_free(&s);
    batch_reset(&in);
    put(&in, "1|9223372036854775807|a|0", BATCH_OP_DELETE);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    CHECK(rows_has(&s, "1|1|2|9223372036854775807"));
    rows_free(&s);
    /* the last non-NULL input retracted: SUM is NULL, COUNT(*) 1 */
    batch_reset(&in);
    put(&in, "1|9223372036854775807|a|0", BATCH_OP_DELETE);
    REQUIRE(agg_op_push(op, &in) == 0);
    CHECK_EQ_INT(drain_rows(op, DRAIN_CHANGES, 0, &out, &s), 1);
    CHECK(rows_has(&s, "1|1|1|NULL"));
    rows_free(&s);
    agg_op_free(op);
    batch_destroy(&in);
    batch_destroy(&out);
}

/* format-1 chunks load into ops without the new flags, not into ops with them */
TEST(agg_retract_snapshot_versions)
{
    AggOpSpec sp = agg_spec(AGG_PHASE_SIMPLE, 4, c_t, 1, c_keys, 2, c_aggs);
    AggOp    *op = agg_op_new(&sp, NULL, 0);
    Batch     in;
    Store     st = {0};
    REQUIRE(op && batch_init(&in, 4, c_t, 0) == 0);
    add_row(&in, "1|10|a|0");
    REQUIRE(agg_op_push(op, &in) == 0);
    REQUIRE(agg_op_snapshot(op, 1, store_cb, &st) == 0);
    REQUIRE(st.n == 2);
    for (int i = 0; i < st.n; i++) {
        CHECK_EQ_INT(st.e[i].v[0], 2);
        st.e[i].v[0] = 1;   /* as version 1 wrote it */
    }
    AggOp *r = agg_op_new(&sp, NULL, 0);
    for (int i = 0; i < st.n; i++) CHECK(agg_op_restore(r, st.e[i].k, st.e[i].kn, st.e[i].v, st.e[i].vn) == 0);
    CHECK_EQ_INT(agg_op_groups(r), 1);
    agg_op_free(r);
    sp.retract = 1;
    r = agg_op_new(&sp, NULL, 0);
    CHECK(agg_op_restore(r, st.e[0].k, st.e[0].kn, st.e[0].v, st.e[0].vn) < 0);
    CHECK(strstr(agg_op_error(r), "version 1") != NULL);
    agg_op_free(r);
    store_free(&st);
    batch_destroy(&in);
    agg_op_free(op);
}

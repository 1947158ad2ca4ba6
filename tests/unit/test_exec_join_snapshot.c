/*
 * test_exec_join_snapshot.c — checkpoints of the streaming join
 * (join_op_snapshot / join_op_restore):
 *
 *   - the key property, over many seeds, for every flavor (window, interval,
 *     regular without and with a TTL) × join type (inner, left, right,
 *     full), with and without a residual: op A gets random batches on both
 *     sides and per-side watermarks that trail the data, and snapshots now
 *     and then (full or incremental) into a model key-value map applying
 *     the puts and deletes; op B is restored from the map (chunks in key
 *     order or shuffled) and from then on gets the same input: every drain
 *     gives the same rows (as a multiset, with the +I/-D column), side rows
 *     and late rows agree, join_op_check(B) passes; at the end op C,
 *     restored from the map that A's later incremental snapshots kept up to
 *     date, and A and B all end both sides and agree again;
 *   - incremental snapshots: nothing changed → only nothing; one new row →
 *     one chunk; released windows → deletes, and an empty store at the end;
 *   - malformed chunks: every truncation fails with a reason; byte flips
 *     either fail or leave a consistent op; wrong keys, another spec, a
 *     chunk loaded twice, a second meta, rows the watermark released, a
 *     restore after a push; an op whose restore failed refuses everything
 *     (run under SAN too);
 *   - a snapshot with rows queued is refused; a refused chunk callback
 *     leaves the bookkeeping unchanged.
 */
#include <math.h>

#include "exec/func.h"
#include "exec/join.h"
#include "tests/unit/test_exec_agg_util.h"

#define SEC   INT64_C(1000000)
#define WSIZE (4 * SEC)

/* every side: k, s, d, t, id, ws, we, f */
enum { C_K, C_S, C_D, C_T, C_ID, C_WS, C_WE, C_F, NC };
static const SqlType side_t[NC] = {TYPE_BIGINT,    TYPE_VARCHAR,   TYPE_DOUBLE,    TYPE_TIMESTAMP,
                                   TYPE_BIGINT,    TYPE_TIMESTAMP, TYPE_TIMESTAMP, TYPE_BOOLEAN};
static const char *const spool[] = {"a", "b", "", "a longer string key, longer than sixteen bytes"};

/* ---- the model key-value store ------------------------------------------------------ */

typedef struct Kv {
    uint8_t *k, *v;
    size_t   kn, vn;
} Kv;

typedef struct Store {
    Kv  *e;
    int  n, cap;
    int  puts, dels;   /* of the last snapshot */
    int  refuse_at;    /* > 0: the callback fails at this call */
} Store;

static int kv_find(const Store *s, const void *k, size_t kn)
{
    for (int i = 0; i < s->n; i++)
        if (s->e[i].kn == kn && memcmp(s->e[i].k, k, kn) == 0) return i;
    return -1;
}

static int store_cb(void *ctx, const void *k, size_t kn, const void *v, size_t vn)
{
    Store *s = ctx;
    if (s->refuse_at > 0 && --s->refuse_at == 0) return 1;
    int i = kv_find(s, k, kn);
    if (!v) {
        s->dels++;
        if (i < 0) return 1;   /* a delete of a chunk never stored: a bug */
        free(s->e[i].k);
        free(s->e[i].v);
        s->e[i] = s->e[--s->n];
        return 0;
    }
    s->puts++;
    if (i < 0) {
        if (s->n == s->cap) {
            s->cap = s->cap ? 2 * s->cap : 64;
            s->e = realloc(s->e, (size_t)s->cap * sizeof *s->e);
        }
        i = s->n++;
        s->e[i].k = malloc(kn);
        memcpy(s->e[i].k, k, kn);
        s->e[i].kn = kn;
    } else {
        free(s->e[i].v);
    }
    s->e[i].v = malloc(vn ? vn : 1);
    if (vn) memcpy(s->e[i].v, v, vn);
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

static int kv_cmp(const void *a, const void *b)
{
    const Kv *x = a, *y = b;
    size_t    n = x->kn < y->kn ? x->kn : y->kn;
    int       c = memcmp(x->k, y->k, n);
    return c ? c : (x->kn > y->kn) - (x->kn < y->kn);
}

static int snap(JoinOp *op, int full, Store *s)
{
    s->puts = s->dels = 0;
    int rc = join_op_snapshot(op, full, store_cb, s);
    if (rc < 0) printf("  snapshot: %s\n", join_op_error(op));
    return rc;
}

/* ---- specs and data ------------------------------------------------------------------ */

typedef struct Cfg {
    JoinType     type;
    JoinOpFlavor flavor;
    int64_t      ttl;
    int          nkeys, keys[8];
    int          residual;
    int          emit_changes;
    int64_t      lower, upper;
} Cfg;

typedef struct Rig {
    Arena      a;
    JoinOpSpec spec;
    int        lk[8], rk[8];
} Rig;

static Expr *residual_expr(Arena *a)
{
    /* (l.id + r.id) % 3 <> 0 */
    Expr *lid = expr_column(a, C_ID, TYPE_BIGINT, -1), *rid = expr_column(a, NC + C_ID, TYPE_BIGINT, -1);
    Expr *sum_args[2] = {lid, rid};
    Expr *sum = expr_func(a, FN_ADD, TYPE_BIGINT, 2, sum_args, -1);
    Expr *mod_args[2] = {sum, expr_const(a, value_i64(TYPE_BIGINT, 3), -1)};
    Expr *mod = expr_func(a, FN_MOD, TYPE_BIGINT, 2, mod_args, -1);
    Expr *ne_args[2] = {mod, expr_const(a, value_i64(TYPE_BIGINT, 0), -1)};
    return expr_func(a, FN_NE, TYPE_BOOLEAN, 2, ne_args, -1);
}

static void rig_init(Rig *r, const Cfg *cfg)
{
    memset(r, 0, sizeof *r);
    arena_init(&r->a, 4096);
    JoinOpSpec *sp = &r->spec;
    sp->type = cfg->type;
    sp->flavor = cfg->flavor;
    sp->nleft = sp->nright = NC;
    sp->left_types = sp->right_types = side_t;
    sp->nkeys = cfg->nkeys;
    for (int k = 0; k < cfg->nkeys; k++) r->lk[k] = r->rk[k] = cfg->keys[k];
    sp->lkeys = r->lk;
    sp->rkeys = r->rk;
    sp->lwend = sp->rwend = C_WE;
    sp->ltime = sp->rtime = C_T;
    sp->lower_us = cfg->lower;
    sp->upper_us = cfg->upper;
    sp->ttl_us = cfg->ttl;
    sp->residual = cfg->residual ? residual_expr(&r->a) : NULL;
    sp->emit_changes = cfg->emit_changes;
}

static void random_cfg(Rng *g, JoinOpFlavor fl, JoinType ty, int ttl, Cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->flavor = fl;
    cfg->type = ty;
    static const int ks[4][3] = {{C_K, -1, -1}, {C_S, C_K, -1}, {C_D, C_K, -1}, {C_K, C_D, C_S}};
    int              which = (int)rng_below(g, 4);
    for (int i = 0; i < 3 && ks[which][i] >= 0; i++) cfg->keys[cfg->nkeys++] = ks[which][i];
    if (fl == JOIN_OP_WINDOW) {
        cfg->keys[cfg->nkeys++] = C_WS;
        cfg->keys[cfg->nkeys++] = C_WE;
    }
    cfg->residual = (int)rng_below(g, 2);
    cfg->emit_changes = fl == JOIN_OP_REGULAR && ty != JOIN_TYPE_INNER ? 1 : (int)rng_below(g, 2);
    if (fl == JOIN_OP_INTERVAL) {
        cfg->lower = (rng_below(g, 7) - 4) * SEC / 2;
        cfg->upper = cfg->lower + rng_below(g, 7) * SEC / 2;
    }
    if (fl == JOIN_OP_REGULAR && ttl) cfg->ttl = (1 + rng_below(g, 4)) * SEC;
}

/* a batch of 1..40 rows of side s around clock (times jitter ±2 s) */
static void random_batch(Rng *g, const Cfg *cfg, Batch *b, int64_t *clock, int64_t *next_id, int64_t *maxt)
{
    static const double dv[] = {0.0, -0.0, 1.5, NAN, 2.0};
    batch_reset(b);
    int     n = 1 + (int)rng_below(g, rng_below(g, 8) == 0 ? 300 : 40);
    int64_t krange = cfg->flavor == JOIN_OP_REGULAR ? 40 : 6;
    for (int i = 0; i < n; i++) {
        *clock += 200 * 1000;
        int64_t t = *clock + (rng_below(g, 41) - 20) * (SEC / 10);
        vector_i64(&b->cols[C_K])[i] = rng_below(g, krange);
        if (rng_below(g, 25) == 0) vector_set_null(&b->cols[C_K], i);
        const char *s = spool[rng_below(g, 4)];
        vector_set_str(&b->cols[C_S], i, s, strlen(s));
        if (rng_below(g, 25) == 0) vector_set_null(&b->cols[C_S], i);
        vector_f64(&b->cols[C_D])[i] = dv[rng_below(g, 5)];
        if (rng_below(g, 25) == 0) vector_set_null(&b->cols[C_D], i);
        vector_i64(&b->cols[C_T])[i] = t;
        if (rng_below(g, 60) == 0) vector_set_null(&b->cols[C_T], i);
        else if (t > *maxt) *maxt = t;
        vector_i64(&b->cols[C_ID])[i] = (*next_id)++;
        int64_t ws = t - ((t % WSIZE) + WSIZE) % WSIZE;
        vector_i64(&b->cols[C_WS])[i] = ws;
        vector_i64(&b->cols[C_WE])[i] = ws + WSIZE;
        vector_bool(&b->cols[C_F])[i] = (uint8_t)rng_below(g, 2);
        if (rng_below(g, 5) == 0) vector_set_null(&b->cols[C_F], i);
    }
    batch_set_nrows(b, n);
    if (rng_below(g, 8) == 0) vector_make_constant(&b->cols[C_K]);
    if (rng_below(g, 3) == 0) {
        int k = 0;
        for (int r = 0; r < n; r++)
            if (rng_below(g, 3)) b->sel_buf[k++] = (uint32_t)r;
        batch_set_sel(b, b->sel_buf, k);
    }
}

/* a new op restored from the store: in key order (as LevelDB) or shuffled */
static JoinOp *restore_from(const JoinOpSpec *spec, Store *s, Rng *g)
{
    char    why[256];
    JoinOp *op = join_op_new(spec, why, sizeof why);
    if (!op) {
        printf("  join_op_new: %s\n", why);
        return NULL;
    }
    if (s->n) qsort(s->e, (size_t)s->n, sizeof *s->e, kv_cmp);
    if (g && rng_below(g, 2))
        for (int i = s->n - 1; i > 0; i--) {
            int j = (int)rng_below(g, i + 1);
            Kv  t = s->e[i];
            s->e[i] = s->e[j];
            s->e[j] = t;
        }
    for (int i = 0; i < s->n; i++) {
        if (join_op_restore(op, s->e[i].k, s->e[i].kn, s->e[i].v, s->e[i].vn) < 0) {
            printf("  restore: %s\n", join_op_error(op));
            join_op_free(op);
            return NULL;
        }
    }
    if (join_op_check(op) < 0) {
        printf("  check after restore: %s\n", join_op_error(op));
        join_op_free(op);
        return NULL;
    }
    return op;
}

/* drain every op fully; the multisets of rows (op column included) must agree */
static int drain_same(JoinOp **ops, int n, Batch *out)
{
    RowSet rs[3];
    memset(rs, 0, sizeof rs);
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        int more;
        do {
            if (join_op_drain(ops[i], out, &more) < 0) {
                printf("  drain: %s\n", join_op_error(ops[i]));
                ok = 0;
                break;
            }
            rows_add_batch(&rs[i], out, 0);
        } while (more);
        if (ok && join_op_check(ops[i]) < 0) {
            printf("  check: %s\n", join_op_error(ops[i]));
            ok = 0;
        }
    }
    for (int i = 1; i < n && ok; i++) ok = rows_equal(&rs[0], &rs[i], "A vs restored");
    for (int i = 0; i < n; i++) rows_free(&rs[i]);
    return ok;
}

static int same_counts(JoinOp **ops, int n)
{
    for (int i = 1; i < n; i++)
        for (int s = 0; s < 2; s++)
            if (join_op_side_rows(ops[i], s) != join_op_side_rows(ops[0], s) ||
                join_op_late_rows(ops[i]) != join_op_late_rows(ops[0]) ||
                join_op_state_bytes(ops[i]) != join_op_state_bytes(ops[0])) {
                printf("  side %d rows %lld/%lld late %lld/%lld bytes %zu/%zu\n", s,
                       (long long)join_op_side_rows(ops[0], s), (long long)join_op_side_rows(ops[i], s),
                       (long long)join_op_late_rows(ops[0]), (long long)join_op_late_rows(ops[i]),
                       join_op_state_bytes(ops[0]), join_op_state_bytes(ops[i]));
                return 0;
            }
    return 1;
}

/* one seed; 1 when everything agreed */
static int run_one(const Cfg *cfg, uint64_t seed)
{
    Rng   g = {seed * 0x9e3779b97f4a7c15ULL + 17};
    Rig   r;
    Store st = {0};
    Batch in, out;
    int   ok = 1;
    rig_init(&r, cfg);
    char    why[256];
    JoinOp *ops[3] = {join_op_new(&r.spec, why, sizeof why), NULL, NULL};
    int     nops = 1;
    if (!ops[0]) {
        printf("  join_op_new: %s\n", why);
        arena_free(&r.a);
        return 0;
    }
    SqlType ot[2 * NC + 1];
    batch_init(&out, join_op_output_types(ops[0], ot), ot, 1 + (int)rng_below(&g, 300));
    batch_init(&in, NC, side_t, 0);
    int     steps = 40 + (int)rng_below(&g, 60), at = 5 + (int)rng_below(&g, steps - 10);
    int64_t clock[2] = {100 * SEC, 100 * SEC}, maxt[2] = {INT64_MIN, INT64_MIN}, next_id = 1;
    for (int step = 0; step < steps && ok; step++) {
        int s = clock[0] < clock[1] ? (rng_below(&g, 10) < 7 ? 0 : 1) : (rng_below(&g, 10) < 7 ? 1 : 0);
        if (rng_below(&g, 10) < 7) {
            random_batch(&g, cfg, &in, &clock[s], &next_id, &maxt[s]);
            for (int i = 0; i < nops && ok; i++)
                if (join_op_push(ops[i], s, &in) != 0) {
                    printf("  push: %s\n", join_op_error(ops[i]));
                    ok = 0;
                }
        } else if (maxt[s] != INT64_MIN) {
            int64_t w = maxt[s] - rng_below(&g, 31) * (SEC / 10);
            for (int i = 0; i < nops && ok; i++)
                if (join_op_advance(ops[i], s, w) != 0) ok = 0;
        }
        if (ok) ok = drain_same(ops, nops, &out);
        if (ok) ok = same_counts(ops, nops);
        if (ok && (rng_below(&g, 3) == 0 || step == at)) ok = snap(ops[0], rng_below(&g, 6) == 0, &st) == 0;
        if (ok && step == at) {
            ops[1] = restore_from(&r.spec, &st, &g);
            ok = ops[1] != NULL;
            nops = ok ? 2 : 1;
            if (ok) ok = same_counts(ops, nops);
        }
    }
    /* the store kept up to date by A's later snapshots restores C */
    if (ok) ok = snap(ops[0], 0, &st) == 0;
    if (ok) {
        ops[2] = restore_from(&r.spec, &st, &g);
        ok = ops[2] != NULL;
        if (ok) nops = 3;
    }
    if (ok) ok = same_counts(ops, nops);
    /* both sides end */
    int first = (int)rng_below(&g, 2);
    for (int i = 0; i < nops && ok; i++)
        ok = join_op_advance(ops[i], first, INT64_MAX) == 0 && join_op_advance(ops[i], 1 - first, INT64_MAX) == 0;
    if (ok) ok = drain_same(ops, nops, &out);
    if (ok) ok = same_counts(ops, nops);
    /* after the end, an incremental snapshot deletes every row chunk */
    if (ok) ok = snap(ops[0], 0, &st) == 0;
    if (ok && !(st.n == 1 && st.e[0].kn == 1 && st.e[0].k[0] == 'M')) {
        printf("  %d chunks left in the store after the end\n", st.n);
        ok = 0;
    }
    for (int i = 0; i < 3; i++) join_op_free(ops[i]);
    batch_destroy(&in);
    batch_destroy(&out);
    store_free(&st);
    arena_free(&r.a);
    return ok;
}

static void run_flavor(JoinOpFlavor fl, int ttl, int seeds)
{
    static const char *const tn[] = {"INNER", "LEFT", "RIGHT", "FULL"};
    static const char *const fn[] = {"WINDOW", "INTERVAL", "REGULAR"};
    for (int ty = 0; ty < 4; ty++) {
        int bad = 0;
        for (int t = 0; t < seeds && bad < 2; t++) {
            Rng g = {UINT64_C(0x5eed) + (uint64_t)(fl * 1000 + ty * 100 + t + ttl * 7)};
            Cfg cfg;
            random_cfg(&g, fl, (JoinType)ty, ttl, &cfg);
            if (!run_one(&cfg, rng_next(&g))) {
                unit_fail(__FILE__, __LINE__, "%s%s %s join, seed %d (keys %d, residual %d, ttl %lld)", fn[fl],
                          ttl ? "+TTL" : "", tn[ty], t, cfg.nkeys, cfg.residual, (long long)cfg.ttl);
                bad++;
            }
        }
    }
}

TEST(exec_join_snapshot_random_window)
{
    run_flavor(JOIN_OP_WINDOW, 0, 8);
}

TEST(exec_join_snapshot_random_interval)
{
    run_flavor(JOIN_OP_INTERVAL, 0, 8);
}

TEST(exec_join_snapshot_random_regular)
{
    run_flavor(JOIN_OP_REGULAR, 0, 6);
    run_flavor(JOIN_OP_REGULAR, 1, 6);
}

/* ---- focused tests ------------------------------------------------------------------- */

static void one_row(Batch *b, int64_t k, int64_t t, int64_t id)
{
    batch_reset(b);
    vector_i64(&b->cols[C_K])[0] = k;
    vector_set_str(&b->cols[C_S], 0, "v", 1);
    vector_f64(&b->cols[C_D])[0] = 0.5;
    vector_i64(&b->cols[C_T])[0] = t;
    vector_i64(&b->cols[C_ID])[0] = id;
    int64_t ws = t - ((t % WSIZE) + WSIZE) % WSIZE;
    vector_i64(&b->cols[C_WS])[0] = ws;
    vector_i64(&b->cols[C_WE])[0] = ws + WSIZE;
    vector_bool(&b->cols[C_F])[0] = 1;
    batch_set_nrows(b, 1);
}

static void drain_all(JoinOp *op, Batch *out)
{
    int more;
    do {
        if (join_op_drain(op, out, &more) < 0) return;
    } while (more);
}

static void window_cfg(Cfg *cfg, JoinType ty)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->type = ty;
    cfg->flavor = JOIN_OP_WINDOW;
    cfg->nkeys = 3;
    cfg->keys[0] = C_K;
    cfg->keys[1] = C_WS;
    cfg->keys[2] = C_WE;
}

TEST(exec_join_snapshot_incremental)
{
    Cfg cfg;
    window_cfg(&cfg, JOIN_TYPE_LEFT);
    Rig r;
    rig_init(&r, &cfg);
    JoinOp *op = join_op_new(&r.spec, NULL, 0);
    REQUIRE(op);
    Batch   in, out;
    SqlType ot[2 * NC + 1];
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, join_op_output_types(op, ot), ot, 64);
    Store st = {0};
    /* 10 windows × 20 rows on the left */
    for (int w = 0; w < 10; w++)
        for (int i = 0; i < 20; i++) {
            one_row(&in, i % 5, (int64_t)w * WSIZE + i * (WSIZE / 20), w * 100 + i);
            CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
        }
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.puts, 11);   /* meta + one chunk per window */
    CHECK_EQ_INT(st.dels, 0);
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.puts + st.dels, 0);   /* nothing changed: nothing reported */
    /* a right row matching window 9: the matched left rows' chunk, the new right chunk */
    one_row(&in, 1, 9 * WSIZE + 1, 5000);
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    drain_all(op, &out);
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.puts, 2);
    CHECK_EQ_INT(st.dels, 0);
    /* the right watermark closes windows 0..4: five deletes and the meta */
    CHECK_EQ_INT(join_op_advance(op, 1, 5 * WSIZE), 0);
    drain_all(op, &out);
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.dels, 5);
    CHECK_EQ_INT(st.puts, 1);
    CHECK_EQ_INT(st.n, 1 + 5 + 1);
    /* a snapshot with rows queued is refused */
    one_row(&in, 1, 9 * WSIZE + 2, 5001);
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK(join_op_pending_rows(op) > 0);
    CHECK_EQ_INT(join_op_snapshot(op, 0, store_cb, &st), -1);
    CHECK(strstr(join_op_error(op), "queued") != NULL);
    drain_all(op, &out);
    /* a refused callback: bookkeeping unchanged, the next snapshot reports it all */
    st.refuse_at = 1;
    CHECK_EQ_INT(join_op_snapshot(op, 0, store_cb, &st), -1);
    st.refuse_at = 0;
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.puts, 1);   /* the right chunk of window 9 */
    /* the store restores an equal op */
    JoinOp *b = restore_from(&r.spec, &st, NULL);
    REQUIRE(b);
    CHECK_EQ_INT(join_op_side_rows(b, 0), join_op_side_rows(op, 0));
    CHECK_EQ_INT(join_op_side_rows(b, 1), 2);
    /* the end: every row chunk becomes a delete */
    CHECK_EQ_INT(join_op_advance(op, 1, INT64_MAX), 0);
    CHECK_EQ_INT(join_op_advance(op, 0, INT64_MAX), 0);
    drain_all(op, &out);
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK_EQ_INT(st.n, 1);
    join_op_free(b);
    join_op_free(op);
    store_free(&st);
    batch_destroy(&in);
    batch_destroy(&out);
    arena_free(&r.a);
}

/* a full snapshot of a small FULL regular join with state on both sides */
static JoinOp *small_state(Rig *r, Store *st, int64_t ttl)
{
    Cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.type = JOIN_TYPE_FULL;
    cfg.flavor = JOIN_OP_REGULAR;
    cfg.nkeys = 2;
    cfg.keys[0] = C_K;
    cfg.keys[1] = C_S;
    cfg.emit_changes = 1;
    cfg.ttl = ttl;
    rig_init(r, &cfg);
    JoinOp *op = join_op_new(&r->spec, NULL, 0);
    if (!op) return NULL;
    Batch   in, out;
    SqlType ot[2 * NC + 1];
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, join_op_output_types(op, ot), ot, 64);
    for (int i = 0; i < 12; i++) {
        one_row(&in, i % 4, 10 * SEC + i * SEC, i);
        if (i % 3 == 0) vector_set_null(&in.cols[C_D], 0);
        join_op_push(op, i & 1, &in);
    }
    join_op_advance(op, 0, 12 * SEC);
    drain_all(op, &out);
    st->puts = st->dels = 0;
    if (join_op_snapshot(op, 1, store_cb, st) != 0) {
        join_op_free(op);
        op = NULL;
    }
    batch_destroy(&in);
    batch_destroy(&out);
    return op;
}

/* restore all chunks of st into a new op, chunk `which` replaced by (k, v) */
static int restore_with(const JoinOpSpec *spec, Store *st, int which, const uint8_t *k, size_t kn, const uint8_t *v,
                        size_t vn, char *err, size_t cap)
{
    JoinOp *op = join_op_new(spec, NULL, 0);
    if (!op) return -2;
    int rc = 0;
    for (int i = 0; i < st->n && rc == 0; i++) {
        const uint8_t *ck = i == which ? k : st->e[i].k, *cv = i == which ? v : st->e[i].v;
        size_t         ckn = i == which ? kn : st->e[i].kn, cvn = i == which ? vn : st->e[i].vn;
        /* an exact-size copy: reading past the value is caught under SAN */
        uint8_t *copy = malloc(cvn ? cvn : 1);
        memcpy(copy, cv, cvn);
        rc = join_op_restore(op, ck, ckn, copy, cvn);
        free(copy);
    }
    snprintf(err, cap, "%s", join_op_error(op));
    if (rc == 0) {
        /* whatever was accepted is consistent and runs */
        if (join_op_check(op) != 0) rc = -3;
        Batch   in, out;
        SqlType ot[2 * NC + 1];
        batch_init(&in, NC, side_t, 4);
        batch_init(&out, join_op_output_types(op, ot), ot, 16);
        one_row(&in, 1, 30 * SEC, 99);
        join_op_push(op, 0, &in);
        join_op_push(op, 1, &in);
        join_op_advance(op, 0, INT64_MAX);
        join_op_advance(op, 1, INT64_MAX);
        drain_all(op, &out);
        if (join_op_check(op) != 0) rc = -3;
        batch_destroy(&in);
        batch_destroy(&out);
    }
    join_op_free(op);
    return rc;
}

TEST(exec_join_snapshot_malformed)
{
    for (int ttl = 0; ttl < 2; ttl++) {
        Rig     r;
        Store   st = {0};
        JoinOp *op = small_state(&r, &st, ttl ? 5 * SEC : 0);
        REQUIRE(op);
        REQUIRE(st.n >= 3);
        char err[256];
        CHECK_EQ_INT(restore_with(&r.spec, &st, -1, NULL, 0, NULL, 0, err, sizeof err), 0);
        for (int c = 0; c < st.n; c++) {
            const Kv *e = &st.e[c];
            /* every truncation fails, saying why */
            for (size_t n = 0; n < e->vn; n++) {
                int rc = restore_with(&r.spec, &st, c, e->k, e->kn, e->v, n, err, sizeof err);
                if (rc != -1 || !err[0]) {
                    unit_fail(__FILE__, __LINE__, "chunk %c truncated to %zu of %zu: rc %d (%s)", e->k[0], n, e->vn,
                              rc, err);
                    break;
                }
            }
            /* byte flips: fail cleanly, or load a consistent op */
            uint8_t *v = malloc(e->vn);
            for (size_t i = 0; i < e->vn; i++)
                for (int bit = 0; bit < 8; bit += 3) {
                    memcpy(v, e->v, e->vn);
                    v[i] ^= (uint8_t)(1u << bit);
                    int rc = restore_with(&r.spec, &st, c, e->k, e->kn, v, e->vn, err, sizeof err);
                    if (rc < -1 || (rc == -1 && !err[0])) {
                        unit_fail(__FILE__, __LINE__, "chunk %c byte %zu bit %d: rc %d", e->k[0], i, bit, rc);
                        i = e->vn;
                        break;
                    }
                }
            free(v);
            /* under another key */
            uint8_t k2[16];
            memcpy(k2, e->k, e->kn);
            k2[0] = e->k[0] == 'L' ? 'R' : e->k[0] == 'R' ? 'M' : 'L';
            CHECK_EQ_INT(restore_with(&r.spec, &st, c, k2, e->kn, e->v, e->vn, err, sizeof err), -1);
            memcpy(k2, e->k, e->kn);
            k2[e->kn] = 0;
            CHECK_EQ_INT(restore_with(&r.spec, &st, c, k2, e->kn == 9 ? 8 : 2, e->v, e->vn, err, sizeof err), -1);
            if (e->kn == 9) {
                memcpy(k2, e->k, 9);
                k2[8] ^= 1;   /* the rows belong to another chunk id */
                CHECK_EQ_INT(restore_with(&r.spec, &st, c, k2, 9, e->v, e->vn, err, sizeof err), -1);
                CHECK(strstr(err, "chunk") != NULL);
            }
        }
        /* a chunk loaded twice; a second meta */
        JoinOp *b = join_op_new(&r.spec, NULL, 0);
        REQUIRE(b);
        int row = st.e[0].k[0] == 'M' ? 1 : 0, meta = 1 - row;
        CHECK_EQ_INT(join_op_restore(b, st.e[row].k, st.e[row].kn, st.e[row].v, st.e[row].vn), 0);
        CHECK_EQ_INT(join_op_restore(b, st.e[row].k, st.e[row].kn, st.e[row].v, st.e[row].vn), -1);
        CHECK(strstr(join_op_error(b), "twice") != NULL);
        /* broken: everything else fails */
        Batch in, out;
        SqlType ot[2 * NC + 1];
        batch_init(&in, NC, side_t, 4);
        batch_init(&out, join_op_output_types(b, ot), ot, 16);
        one_row(&in, 1, 0, 1);
        CHECK_EQ_INT(join_op_push(b, 0, &in), -1);
        CHECK_EQ_INT(join_op_advance(b, 0, 5), -1);
        CHECK_EQ_INT(join_op_snapshot(b, 1, store_cb, &st), -1);
        int more;
        CHECK_EQ_INT(join_op_drain(b, &out, &more), -1);
        join_op_free(b);
        if (st.e[meta].k[0] == 'M') {
            b = join_op_new(&r.spec, NULL, 0);
            CHECK_EQ_INT(join_op_restore(b, st.e[meta].k, 1, st.e[meta].v, st.e[meta].vn), 0);
            CHECK_EQ_INT(join_op_restore(b, st.e[meta].k, 1, st.e[meta].v, st.e[meta].vn), -1);
            join_op_free(b);
        }
        /* a restore after a push */
        b = join_op_new(&r.spec, NULL, 0);
        CHECK_EQ_INT(join_op_push(b, 0, &in), 0);
        CHECK_EQ_INT(join_op_restore(b, st.e[row].k, st.e[row].kn, st.e[row].v, st.e[row].vn), -1);
        join_op_free(b);
        /* another spec: the fingerprint differs */
        JoinOpSpec other = r.spec;
        other.type = JOIN_TYPE_LEFT;
        b = join_op_new(&other, NULL, 0);
        REQUIRE(b);
        CHECK_EQ_INT(join_op_restore(b, st.e[row].k, st.e[row].kn, st.e[row].v, st.e[row].vn), -1);
        CHECK(strstr(join_op_error(b), "spec") != NULL);
        join_op_free(b);
        batch_destroy(&in);
        batch_destroy(&out);
        join_op_free(op);
        store_free(&st);
        arena_free(&r.a);
    }
}

TEST(exec_join_snapshot_released_rows)
{
    /* a TTL join: rows stored under W = 12 s must not come back under a meta
     * whose watermark has released them (a stale row chunk with a newer meta) */
    Rig     r;
    Store   st = {0};
    JoinOp *op = small_state(&r, &st, 5 * SEC);
    REQUIRE(op);
    Store old = {0};
    for (int i = 0; i < st.n; i++) store_cb(&old, st.e[i].k, st.e[i].kn, st.e[i].v, st.e[i].vn);
    CHECK_EQ_INT(join_op_advance(op, 0, 40 * SEC), 0);   /* releases every right row */
    CHECK_EQ_INT(join_op_side_rows(op, 1), 0);
    Batch   out;
    SqlType ot[2 * NC + 1];
    batch_init(&out, join_op_output_types(op, ot), ot, 16);
    drain_all(op, &out);
    CHECK_EQ_INT(snap(op, 0, &st), 0);
    CHECK(st.dels > 0);
    int mi = kv_find(&st, "M", 1), rows = 0;
    REQUIRE(mi >= 0);
    for (int order = 0; order < 2; order++) {
        /* the new meta with the old right rows, meta first or last */
        JoinOp *b = join_op_new(&r.spec, NULL, 0);
        int     rc = 0;
        if (order == 0) rc = join_op_restore(b, "M", 1, st.e[mi].v, st.e[mi].vn);
        for (int i = 0; i < old.n && rc == 0; i++)
            if (old.e[i].k[0] == 'R') {
                rc = join_op_restore(b, old.e[i].k, old.e[i].kn, old.e[i].v, old.e[i].vn);
                rows++;
            }
        if (order == 1 && rc == 0) rc = join_op_restore(b, "M", 1, st.e[mi].v, st.e[mi].vn);
        CHECK_EQ_INT(rc, -1);
        CHECK(strstr(join_op_error(b), "released") != NULL);
        join_op_free(b);
    }
    CHECK(rows > 0);
    batch_destroy(&out);
    join_op_free(op);
    store_free(&st);
    store_free(&old);
    arena_free(&r.a);
}

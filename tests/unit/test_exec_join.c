/*
 * test_exec_join.c — exec/join (window, interval and regular joins):
 *
 *   - randomized differential tests against a nested-loop reference, for
 *     each flavor × join type × key set, with and without a residual: random
 *     interleavings of left/right batches (selections, constant columns,
 *     NULL / NaN / -0.0 keys, duplicates) and per-side watermarks that trail
 *     the data like a source's (rows behind their side's watermark are late:
 *     the test decides which, excludes them from the reference and checks
 *     the late count); the output multiset after both sides end (changelogs
 *     applied: -D must retract an emitted row) equals the reference;
 *   - the expiry inequalities at their exact boundaries (interval, window),
 *     and state that shrinks as watermarks advance (window, interval, TTL)
 *     or stays (regular without TTL);
 *   - the regular outer changelog (+I padded, then -D / +I), a hot key whose
 *     matches exceed a batch, drains into small batches, spec errors.
 */
#include <math.h>

#include "exec/func.h"
#include "exec/join.h"
#include "tests/unit/test_exec_agg_util.h"

#define SEC INT64_C(1000000)

/* every side: k, s, d, t, id, ws, we */
enum { C_K, C_S, C_D, C_T, C_ID, C_WS, C_WE, NC };
static const SqlType side_t[NC] = {TYPE_BIGINT, TYPE_VARCHAR, TYPE_DOUBLE,   TYPE_TIMESTAMP,
                                   TYPE_BIGINT, TYPE_TIMESTAMP, TYPE_TIMESTAMP};
static const char *const spool[] = {"a", "b", "", "a longer string key"};
#define WSIZE (4 * SEC)

typedef struct TRow {
    int64_t k, t, id, ws, we;
    int     si;              /* index into spool                        */
    double  d;
    int     knull, snull, dnull, tnull;
    int     late;
    int     side;
} TRow;

typedef struct Rows {
    TRow *r;
    int   n, cap;
} Rows;

static void trows_add(Rows *s, const TRow *r)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->r = realloc(s->r, (size_t)s->cap * sizeof *s->r);
    }
    s->r[s->n++] = *r;
}

/* write r at slot `slot` of b (a batch of side_t) */
static void put_row(Batch *b, int slot, const TRow *r)
{
    vector_i64(&b->cols[C_K])[slot] = r->k;
    if (r->knull) vector_set_null(&b->cols[C_K], slot);
    vector_set_str(&b->cols[C_S], slot, spool[r->si], strlen(spool[r->si]));
    if (r->snull) vector_set_null(&b->cols[C_S], slot);
    vector_f64(&b->cols[C_D])[slot] = r->d;
    if (r->dnull) vector_set_null(&b->cols[C_D], slot);
    vector_i64(&b->cols[C_T])[slot] = r->t;
    if (r->tnull) vector_set_null(&b->cols[C_T], slot);
    vector_i64(&b->cols[C_ID])[slot] = r->id;
    vector_i64(&b->cols[C_WS])[slot] = r->ws;
    vector_i64(&b->cols[C_WE])[slot] = r->we;
}

/* the text of an output row (left ++ right; NULL side when l/r is NULL),
 * formatted through a batch like the op's output */
static void ref_text(const TRow *l, const TRow *r, char *buf, size_t cap)
{
    static Batch b;
    static int   init;
    SqlType      t[2 * NC];
    if (!init) {
        for (int c = 0; c < 2 * NC; c++) t[c] = side_t[c % NC];
        batch_init(&b, 2 * NC, t, 4);
        init = 1;
    }
    batch_reset(&b);
    Batch one;
    batch_init(&one, NC, side_t, 1);
    for (int s = 0; s < 2; s++) {
        const TRow *x = s ? r : l;
        for (int c = 0; c < NC; c++) {
            if (!x) {
                vector_set_null(&b.cols[s * NC + c], 0);
                continue;
            }
            batch_reset(&one);
            put_row(&one, 0, x);
            vector_copy_row(&b.cols[s * NC + c], 0, &one.cols[c], 0);
        }
    }
    batch_set_nrows(&b, 1);
    row_text(&b, 0, 0, buf, cap);
    batch_destroy(&one);
}

/* ---- the reference ------------------------------------------------------------ */

typedef struct Cfg {
    JoinType     type;
    JoinOpFlavor flavor;
    int          nkeys;
    int          keys[8];
    int          residual;     /* (l.id + r.id) % 3 <> 0 */
    int          emit_changes;
    int64_t      lower, upper;
} Cfg;

static int key_eq(const TRow *l, const TRow *r, int c)
{
    switch (c) {
    case C_K: return !l->knull && !r->knull && l->k == r->k;
    case C_S: return !l->snull && !r->snull && l->si == r->si;
    case C_D: return !l->dnull && !r->dnull && l->d == r->d;   /* IEEE: NaN never, -0.0 == 0.0 */
    case C_WS: return l->ws == r->ws;
    case C_WE: return l->we == r->we;
    default: return 0;
    }
}

static int ref_match(const Cfg *cfg, const TRow *l, const TRow *r)
{
    for (int k = 0; k < cfg->nkeys; k++)
        if (!key_eq(l, r, cfg->keys[k])) return 0;
    if (cfg->flavor == JOIN_OP_INTERVAL) {
        if (l->tnull || r->tnull) return 0;
        int64_t d = l->t - r->t;
        if (d < cfg->lower || d > cfg->upper) return 0;
    }
    if (cfg->residual && (l->id + r->id) % 3 == 0) return 0;
    return 1;
}

static void reference(const Cfg *cfg, const Rows *L, const Rows *R, RowSet *out)
{
    char  buf[1024];
    char *rm = calloc((size_t)R->n + 1, 1);
    for (int i = 0; i < L->n; i++) {
        const TRow *l = &L->r[i];
        if (l->late) continue;
        int lm = 0;
        for (int j = 0; j < R->n; j++) {
            const TRow *r = &R->r[j];
            if (r->late || !ref_match(cfg, l, r)) continue;
            lm = rm[j] = 1;
            ref_text(l, r, buf, sizeof buf);
            rows_add(out, buf);
        }
        if (!lm && (cfg->type == JOIN_TYPE_LEFT || cfg->type == JOIN_TYPE_FULL)) {
            ref_text(l, NULL, buf, sizeof buf);
            rows_add(out, buf);
        }
    }
    if (cfg->type == JOIN_TYPE_RIGHT || cfg->type == JOIN_TYPE_FULL)
        for (int j = 0; j < R->n; j++) {
            if (R->r[j].late || rm[j]) continue;
            ref_text(NULL, &R->r[j], buf, sizeof buf);
            rows_add(out, buf);
        }
    free(rm);
}

/* ---- driving the op ------------------------------------------------------------- */

static void rows_remove(RowSet *s, const char *text, int *bad)
{
    for (int i = s->n - 1; i >= 0; i--)
        if (strcmp(s->r[i], text) == 0) {
            free(s->r[i]);
            s->r[i] = s->r[--s->n];
            return;
        }
    if (!*bad) printf("  -D of a row never emitted: %s\n", text);
    *bad = 1;
}

/* drain everything into got (changelog applied); -1 on an op error */
static int drain_all(JoinOp *op, Batch *out, int lead, RowSet *got, int *bad)
{
    char buf[1024];
    int  more;
    do {
        int n = join_op_drain(op, out, &more);
        if (n < 0) {
            printf("  drain: %s\n", join_op_error(op));
            return -1;
        }
        if (n != out->count) return -1;
        for (int i = 0; i < n; i++) {
            size_t len = 0;
            buf[0] = '\0';
            for (int c = lead; c < out->ncols; c++) {
                if (c > lead) buf[len++] = '|';
                int w = vector_format_value(&out->cols[c], i, buf + len, sizeof buf - len);
                len += (size_t)w;
            }
            int64_t opk = lead ? vector_i64(&out->cols[0])[i] : AGG_ROW_INSERT;
            if (opk == AGG_ROW_DELETE) rows_remove(got, buf, bad);
            else if (opk == AGG_ROW_INSERT) rows_add(got, buf);
            else *bad = 1;
        }
    } while (more);
    return 0;
}

static Expr *residual_expr(Arena *a)
{
    Expr *lid = expr_column(a, C_ID, TYPE_BIGINT, -1), *rid = expr_column(a, NC + C_ID, TYPE_BIGINT, -1);
    Expr *sum_args[2] = {lid, rid};
    Expr *sum = expr_func(a, FN_ADD, TYPE_BIGINT, 2, sum_args, -1);
    Expr *mod_args[2] = {sum, expr_const(a, value_i64(TYPE_BIGINT, 3), -1)};
    Expr *mod = expr_func(a, FN_MOD, TYPE_BIGINT, 2, mod_args, -1);
    Expr *ne_args[2] = {mod, expr_const(a, value_i64(TYPE_BIGINT, 0), -1)};
    return expr_func(a, FN_NE, TYPE_BOOLEAN, 2, ne_args, -1);
}

static JoinOpSpec make_spec(const Cfg *cfg, const Expr *residual, int *lk, int *rk)
{
    JoinOpSpec sp;
    memset(&sp, 0, sizeof sp);
    sp.type = cfg->type;
    sp.flavor = cfg->flavor;
    sp.nleft = sp.nright = NC;
    sp.left_types = sp.right_types = side_t;
    sp.nkeys = cfg->nkeys;
    for (int k = 0; k < cfg->nkeys; k++) lk[k] = rk[k] = cfg->keys[k];
    sp.lkeys = lk;
    sp.rkeys = rk;
    sp.lwend = sp.rwend = C_WE;
    sp.ltime = sp.rtime = C_T;
    sp.lower_us = cfg->lower;
    sp.upper_us = cfg->upper;
    sp.residual = residual;
    sp.emit_changes = cfg->emit_changes;
    return sp;
}

static void random_trow(Rng *g, const Cfg *cfg, int side, int64_t clock, int64_t *next_id, TRow *r)
{
    memset(r, 0, sizeof *r);
    r->side = side;
    int64_t krange = cfg->flavor == JOIN_OP_REGULAR ? 40 : 6;
    r->k = rng_below(g, krange);
    r->knull = rng_below(g, 25) == 0;
    r->si = (int)rng_below(g, 4);
    r->snull = rng_below(g, 25) == 0;
    static const double dv[] = {0.0, -0.0, 1.5, NAN, 2.0};
    r->d = dv[rng_below(g, 5)];
    r->dnull = rng_below(g, 25) == 0;
    r->t = clock + (rng_below(g, 41) - 20) * (SEC / 10);   /* coarse: bounds hit exactly */
    r->tnull = cfg->flavor == JOIN_OP_INTERVAL && rng_below(g, 40) == 0;
    r->ws = r->t - ((r->t % WSIZE) + WSIZE) % WSIZE;
    r->we = r->ws + WSIZE;
    r->id = (*next_id)++;
}

/* One randomized run; returns 1 when the output equals the reference. */
static int run_trial(const Cfg *cfg, uint64_t seed, int steps)
{
    Rng   g = {seed};
    Arena a;
    arena_init(&a, 4096);
    int        lk[8], rk[8];
    JoinOpSpec sp = make_spec(cfg, cfg->residual ? residual_expr(&a) : NULL, lk, rk);
    char       why[256];
    JoinOp    *op = join_op_new(&sp, why, sizeof why);
    if (!op) {
        printf("  join_op_new: %s\n", why);
        arena_free(&a);
        return 0;
    }
    SqlType ot[2 * NC + 1];
    int     lead = cfg->emit_changes;
    Batch   out, in;
    batch_init(&out, join_op_output_types(op, ot), ot, 1 + (int)rng_below(&g, 300));
    batch_init(&in, NC, side_t, 64);

    Rows    rows[2] = {{0}};
    int64_t clock[2] = {100 * SEC, 100 * SEC}, maxt[2] = {INT64_MIN, INT64_MIN};
    int64_t wm[2] = {INT64_MIN, INT64_MIN}, next_id = 1, late = 0;
    RowSet  got = {0}, want = {0};
    int     ok = 1, bad = 0;
    for (int step = 0; step < steps && ok; step++) {
        int act = (int)rng_below(&g, 10);
        int s = clock[0] < clock[1] ? (rng_below(&g, 10) < 7 ? 0 : 1) : (rng_below(&g, 10) < 7 ? 1 : 0);
        if (act < 8) {
            /* a batch of 1..40 rows, maybe with a selection or a constant column */
            batch_reset(&in);
            int  n = 1 + (int)rng_below(&g, 40);
            int  selmode = (int)rng_below(&g, 4);   /* 0: selection of the even slots */
            int  cst = rng_below(&g, 8) == 0;       /* k constant over the batch      */
            TRow tr[64];
            for (int i = 0; i < n; i++) {
                random_trow(&g, cfg, s, clock[s], &next_id, &tr[i]);
                clock[s] += 200 * 1000;
                if (cst) {
                    tr[i].k = tr[0].k;
                    tr[i].knull = tr[0].knull;
                }
                put_row(&in, i, &tr[i]);
            }
            batch_set_nrows(&in, n);
            if (cst) vector_make_constant(&in.cols[C_K]);
            int cnt = 0;
            for (int i = 0; i < n; i++) {
                if (selmode == 0 && (i & 1)) continue;
                in.sel_buf[cnt++] = (uint32_t)i;
                TRow *r = &tr[i];
                if (cfg->flavor == JOIN_OP_WINDOW) r->late = r->we <= wm[s];
                else if (cfg->flavor == JOIN_OP_INTERVAL) r->late = !r->tnull && r->t < wm[s];
                late += r->late;
                trows_add(&rows[s], r);
                if (!r->tnull && r->t > maxt[s]) maxt[s] = r->t;
            }
            if (selmode == 0) batch_set_sel(&in, in.sel_buf, cnt);
            if (join_op_push(op, s, &in) != 0) {
                printf("  push: %s\n", join_op_error(op));
                ok = 0;
            }
        } else if (maxt[s] != INT64_MIN) {
            /* a watermark that trails the data: max seen - a delay of 0..3 s */
            int64_t w = maxt[s] - rng_below(&g, 31) * (SEC / 10);
            if (w > wm[s]) wm[s] = w;
            if (join_op_advance(op, s, w) != 0) {
                printf("  advance: %s\n", join_op_error(op));
                ok = 0;
            }
        }
        if (ok && rng_below(&g, 2) == 0 && drain_all(op, &out, lead, &got, &bad) != 0) ok = 0;
        if (ok && join_op_check(op) != 0) {
            printf("  check: %s\n", join_op_error(op));
            ok = 0;
        }
    }
    if (ok) {
        int first = (int)rng_below(&g, 2);
        if (join_op_advance(op, first, INT64_MAX) != 0 || join_op_advance(op, 1 - first, INT64_MAX) != 0) ok = 0;
        if (ok && drain_all(op, &out, lead, &got, &bad) != 0) ok = 0;
        if (ok && join_op_state_rows(op) != 0) {
            printf("  %lld rows left in state after the end\n", (long long)join_op_state_rows(op));
            ok = 0;
        }
        if (ok && join_op_late_rows(op) != late) {
            printf("  late rows %lld, expected %lld\n", (long long)join_op_late_rows(op), (long long)late);
            ok = 0;
        }
    }
    if (ok) {
        reference(cfg, &rows[0], &rows[1], &want);
        ok = !bad && rows_equal(&got, &want, "join output vs reference");
        if (ok && want.n == 0) printf("  (trial with an empty reference)\n");
    }
    rows_free(&got);
    rows_free(&want);
    free(rows[0].r);
    free(rows[1].r);
    batch_destroy(&out);
    batch_destroy(&in);
    join_op_free(op);
    arena_free(&a);
    return ok;
}

static void random_cfg(Rng *g, JoinOpFlavor fl, JoinType ty, Cfg *cfg)
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
        cfg->lower = (rng_below(g, 7) - 4) * SEC / 2;          /* -2 s .. +1 s */
        cfg->upper = cfg->lower + rng_below(g, 7) * SEC / 2;   /* + 0 .. 3 s   */
    }
}

static void differential(JoinOpFlavor fl, int trials, int steps)
{
    static const char *const tn[] = {"INNER", "LEFT", "RIGHT", "FULL"};
    static const char *const fn[] = {"WINDOW", "INTERVAL", "REGULAR"};
    for (int ty = 0; ty < 4; ty++) {
        for (int t = 0; t < trials; t++) {
            Rng g = {UINT64_C(0x10f00d) + (uint64_t)(fl * 1000 + ty * 100 + t)};
            Cfg cfg;
            random_cfg(&g, fl, (JoinType)ty, &cfg);
            if (!run_trial(&cfg, rng_next(&g), steps)) {
                unit_fail(__FILE__, __LINE__, "%s %s join, trial %d (keys %d, residual %d, bounds %lld..%lld)",
                          fn[fl], tn[ty], t, cfg.nkeys, cfg.residual, (long long)cfg.lower,
                          (long long)cfg.upper);
                return;
            }
        }
    }
}

TEST(exec_join_random_window)
{
    differential(JOIN_OP_WINDOW, 6, 250);
}

TEST(exec_join_random_interval)
{
    differential(JOIN_OP_INTERVAL, 6, 250);
}

TEST(exec_join_random_regular)
{
    differential(JOIN_OP_REGULAR, 4, 120);
}

/* ---- focused tests ------------------------------------------------------------------ */

/* a one-row batch of side_t: key k, time t (window from t), id */
static void one_row(Batch *b, int64_t k, int64_t t, int64_t id, const char *s)
{
    batch_reset(b);
    TRow r;
    memset(&r, 0, sizeof r);
    r.k = k;
    r.t = t;
    r.id = id;
    r.ws = t - ((t % WSIZE) + WSIZE) % WSIZE;
    r.we = r.ws + WSIZE;
    put_row(b, 0, &r);
    if (s) vector_set_str(&b->cols[C_S], 0, s, strlen(s));
    batch_set_nrows(b, 1);
}

/* rows drained, counted by op kind; texts into s if given */
static int64_t drain_count(JoinOp *op, Batch *out, int lead, RowSet *s, int64_t *dels)
{
    int64_t n = 0;
    int     more;
    do {
        int k = join_op_drain(op, out, &more);
        if (k < 0) return -1;
        for (int i = 0; i < k; i++) {
            if (lead && vector_i64(&out->cols[0])[i] == AGG_ROW_DELETE && dels) (*dels)++;
            if (s) {
                char buf[1024];
                size_t len = 0;
                buf[0] = '\0';
                for (int c = 0; c < out->ncols; c++) {
                    if (c) buf[len++] = '|';
                    len += (size_t)vector_format_value(&out->cols[c], i, buf + len, sizeof buf - len);
                }
                rows_add(s, buf);
            }
        }
        n += k;
    } while (more);
    return n;
}

/* a spec over two sides of side_t, joined on k (and the window for WINDOW) */
static void spec_init(JoinOpSpec *sp, JoinType ty, JoinOpFlavor fl)
{
    static int k[1] = {C_K};
    static int kw[3] = {C_K, C_WS, C_WE};
    memset(sp, 0, sizeof *sp);
    sp->type = ty;
    sp->flavor = fl;
    sp->nleft = sp->nright = NC;
    sp->left_types = sp->right_types = side_t;
    sp->nkeys = fl == JOIN_OP_WINDOW ? 3 : 1;
    sp->lkeys = sp->rkeys = fl == JOIN_OP_WINDOW ? kw : k;
    sp->lwend = sp->rwend = C_WE;
    sp->ltime = sp->rtime = C_T;
}

static JoinOp *simple_op(JoinType ty, JoinOpFlavor fl, int64_t lower, int64_t upper, int64_t ttl, int changes)
{
    JoinOpSpec sp;
    spec_init(&sp, ty, fl);
    sp.lower_us = lower;
    sp.upper_us = upper;
    sp.ttl_us = ttl;
    sp.emit_changes = changes;
    char why[256];
    JoinOp *op = join_op_new(&sp, why, sizeof why);
    if (!op) printf("  join_op_new: %s\n", why);
    return op;
}

TEST(exec_join_interval_bounds)
{
    /* l.t BETWEEN r.t - 2 s AND r.t + 1 s: a left row at 10 s matches right
     * rows in [9 s, 12 s]; it is released when W1 > 10 - (-2) = 12 s; a right
     * row at 10 s matches left rows in [8 s, 11 s], released when W0 > 11 s */
    JoinOp *op = simple_op(JOIN_TYPE_LEFT, JOIN_OP_INTERVAL, -2 * SEC, 1 * SEC, 0, 0);
    REQUIRE(op);
    Batch in, out;
    SqlType ot[2 * NC];
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, join_op_output_types(op, ot), ot, 16);
    one_row(&in, 1, 10 * SEC, 1, "x");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 12 * SEC), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 1);           /* W1 = 12 s: r.t = 12 s may still come */
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 0);
    one_row(&in, 1, 12 * SEC, 2, "y");                    /* the boundary: l.t - r.t = -2 s = lower */
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 1);
    one_row(&in, 1, 11 * SEC, 3, "late");                 /* behind W1: late */
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_late_rows(op), 1);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 12 * SEC + 1), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);           /* released; it matched: no padded row */
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 0);
    /* right row 12 s is released when W0 > 12 + 1 = 13 s */
    CHECK_EQ_INT(join_op_side_rows(op, 1), 1);
    CHECK_EQ_INT(join_op_advance(op, 0, 13 * SEC), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 1);
    CHECK_EQ_INT(join_op_advance(op, 0, 13 * SEC + 1), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 0);
    /* an unmatched left row is emitted padded exactly when released */
    one_row(&in, 2, 20 * SEC, 4, "z");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 22 * SEC), 0);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 22 * SEC + 1), 0);
    RowSet s = {0};
    CHECK_EQ_INT(drain_count(op, &out, 0, &s, NULL), 1);
    CHECK(s.n == 1 && strstr(s.r[0], "|4|") && strstr(s.r[0], "NULL|NULL|NULL|NULL|NULL|NULL|NULL"));
    /* arriving already past the point: padded at once, not stored */
    one_row(&in, 3, 20 * SEC, 5, "w");                    /* 20 - (-2) = 22 s < W1 */
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 1);
    one_row(&in, 3, 20 * SEC + 1, 6, "w");                /* 22 s + 1 = W1: a right row at W1 may match */
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 1);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 0);
    CHECK_EQ_INT(join_op_check(op), 0);
    rows_free(&s);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

TEST(exec_join_window_state_shrinks)
{
    JoinOp *op = simple_op(JOIN_TYPE_FULL, JOIN_OP_WINDOW, 0, 0, 0, 0);
    REQUIRE(op);
    Batch in, out;
    SqlType ot[2 * NC];
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, join_op_output_types(op, ot), ot, 64);
    char longs[200];
    memset(longs, 'q', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    /* 10 windows of 4 s, 50 rows per window per side; keys 0..9 left, 5..14 right */
    int64_t id = 1;
    for (int w = 0; w < 10; w++)
        for (int i = 0; i < 50; i++)
            for (int s = 0; s < 2; s++) {
                one_row(&in, s * 5 + i % 10, (int64_t)w * WSIZE + i * (WSIZE / 50), id++, longs);
                CHECK_EQ_INT(join_op_push(op, s, &in), 0);
            }
    CHECK_EQ_INT(join_op_state_rows(op), 1000);
    size_t full = join_op_state_bytes(op);
    int64_t out0 = drain_count(op, &out, 0, NULL, NULL);
    /* per window: keys 5..9 match 5 × 5 rows each way → 5 keys × 25 pairs */
    CHECK_EQ_INT(out0, 10 * 5 * 25);
    /* the left watermark releases RIGHT rows of the windows it closes (end <= 20 s) */
    CHECK_EQ_INT(join_op_advance(op, 0, 5 * WSIZE), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 250);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 500);
    /* the unmatched right rows (keys 10..14) of those 5 windows come out padded */
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 5 * 25);
    CHECK_EQ_INT(join_op_advance(op, 1, 5 * WSIZE - 1), 0);   /* closes ends 4..16 s, not 20 s */
    CHECK_EQ_INT(join_op_side_rows(op, 0), 300);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 4 * 25);
    CHECK_EQ_INT(join_op_advance(op, 1, 5 * WSIZE), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 250);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 25);
    CHECK(join_op_state_bytes(op) < full * 6 / 10);
    CHECK_EQ_INT(join_op_check(op), 0);
    /* a late right row (window end 20 s <= W1) is dropped */
    one_row(&in, 5, 19 * SEC, id++, "x");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_late_rows(op), 1);
    /* the rest: both sides past the last window */
    CHECK_EQ_INT(join_op_advance(op, 0, 10 * WSIZE), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 10 * WSIZE), 0);
    CHECK_EQ_INT(join_op_state_rows(op), 0);
    CHECK_EQ_INT(join_op_state_bytes(op), 0);
    CHECK_EQ_INT(drain_count(op, &out, 0, NULL, NULL), 2 * 5 * 25);
    CHECK_EQ_INT(join_op_check(op), 0);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

TEST(exec_join_interval_state_shrinks)
{
    JoinOp *op = simple_op(JOIN_TYPE_INNER, JOIN_OP_INTERVAL, -1 * SEC, 1 * SEC, 0, 0);
    REQUIRE(op);
    Batch in;
    batch_init(&in, NC, side_t, 4);
    char longs[300];
    memset(longs, 'z', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    for (int i = 0; i < 2000; i++)
        for (int s = 0; s < 2; s++) {
            one_row(&in, i % 7, (int64_t)i * SEC / 10, i, longs);   /* 10 rows/s per side, 200 s */
            CHECK_EQ_INT(join_op_push(op, s, &in), 0);
        }
    CHECK_EQ_INT(join_op_state_rows(op), 4000);
    size_t  full = join_op_state_bytes(op);
    int64_t prev = join_op_state_rows(op);
    for (int64_t w = 20; w <= 200; w += 20) {
        CHECK_EQ_INT(join_op_advance(op, 0, w * SEC), 0);
        CHECK_EQ_INT(join_op_advance(op, 1, w * SEC), 0);
        /* a left row l is kept while l.t + 1 s >= W1, a right row while r.t + 1 s >= W0 */
        int64_t keep = 0;
        for (int i = 0; i < 2000; i++) keep += (int64_t)i * SEC / 10 + SEC >= w * SEC;
        CHECK_EQ_INT(join_op_state_rows(op), 2 * keep);
        CHECK(join_op_state_rows(op) < prev);
        prev = join_op_state_rows(op);
        CHECK_EQ_INT(join_op_check(op), 0);
    }
    CHECK(join_op_state_bytes(op) < full / 10);
    CHECK(join_op_reserved_bytes(op) > 0);
    batch_destroy(&in);
    join_op_free(op);
}

TEST(exec_join_regular_state)
{
    /* without TTL: watermarks release nothing */
    JoinOp *op = simple_op(JOIN_TYPE_INNER, JOIN_OP_REGULAR, 0, 0, 0, 0);
    REQUIRE(op);
    Batch in;
    batch_init(&in, NC, side_t, 4);
    for (int i = 0; i < 300; i++)
        for (int s = 0; s < 2; s++) {
            one_row(&in, i, (int64_t)i * SEC, i, "v");
            CHECK_EQ_INT(join_op_push(op, s, &in), 0);
        }
    CHECK_EQ_INT(join_op_advance(op, 0, 1000 * SEC), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, 1000 * SEC), 0);
    CHECK_EQ_INT(join_op_state_rows(op), 600);
    CHECK_EQ_INT(join_op_late_rows(op), 0);
    one_row(&in, 5, 0, 9999, "v");   /* time behind the watermark: not late without TTL */
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_late_rows(op), 0);
    CHECK_EQ_INT(join_op_pending_rows(op), 301);
    CHECK_EQ_INT(join_op_check(op), 0);
    /* the end of the right side frees the left side */
    CHECK_EQ_INT(join_op_advance(op, 1, INT64_MAX), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 300);
    join_op_free(op);

    /* with TTL 10 s: a row is released when its time + 10 s < the other watermark */
    op = simple_op(JOIN_TYPE_INNER, JOIN_OP_REGULAR, 0, 0, 10 * SEC, 0);
    REQUIRE(op);
    for (int i = 0; i < 300; i++)
        for (int s = 0; s < 2; s++) {
            one_row(&in, i % 5, (int64_t)i * SEC, i, "v");
            CHECK_EQ_INT(join_op_push(op, s, &in), 0);
        }
    CHECK_EQ_INT(join_op_state_rows(op), 600);
    CHECK_EQ_INT(join_op_advance(op, 0, 110 * SEC), 0);   /* right rows with t < 100 s go */
    CHECK_EQ_INT(join_op_side_rows(op, 1), 200);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 300);
    CHECK_EQ_INT(join_op_advance(op, 1, 310 * SEC), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);
    one_row(&in, 1, 100 * SEC, 1, "v");                   /* behind W0 = 110 s: late */
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_late_rows(op), 1);
    CHECK_EQ_INT(join_op_check(op), 0);
    batch_destroy(&in);
    join_op_free(op);
}

/* a table side (a group's broadcast join, spec.table): the stream side's
 * rows are refused until the table ended, then matched and never stored */
TEST(exec_join_table_side)
{
    JoinOpSpec sp;
    spec_init(&sp, JOIN_TYPE_INNER, JOIN_OP_REGULAR);
    sp.table = 1;   /* the right side */
    char    why[256];
    JoinOp *op = join_op_new(&sp, why, sizeof why);
    REQUIRE(op);
    Batch in, out;
    SqlType ot[1 + 2 * NC];
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, join_op_output_types(op, ot), ot, 64);
    for (int i = 0; i < 10; i++) {   /* the table: keys 0..9 */
        one_row(&in, i, 0, 100 + i, "t");
        CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    }
    one_row(&in, 3, 0, 1, "s");
    CHECK_EQ_INT(join_op_push(op, 0, &in), -1);   /* before the table ended */
    CHECK(strstr(join_op_error(op), "before the table side ended") != NULL);
    CHECK_EQ_INT(join_op_advance(op, 1, INT64_MAX), 0);
    int matched = 0, more = 0;
    for (int i = 0; i < 20; i++) {   /* keys 0..19: half match */
        one_row(&in, i, (int64_t)i * SEC, i, "s");
        CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
        do {
            int n = join_op_drain(op, &out, &more);
            CHECK(n >= 0);
            matched += n;
        } while (more);
    }
    CHECK_EQ_INT(matched, 10);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);    /* stream rows are not kept */
    CHECK_EQ_INT(join_op_side_rows(op, 1), 10);   /* the table is */
    CHECK_EQ_INT(join_op_check(op), 0);
    batch_destroy(&out);
    join_op_free(op);

    /* stream LEFT JOIN table: no changelog; an unmatched row comes padded, once */
    spec_init(&sp, JOIN_TYPE_LEFT, JOIN_OP_REGULAR);
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* a stream on the right: emit_changes */
    sp.table = 2;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* the table preserved: refused */
    sp.table = 1;
    REQUIRE(op = join_op_new(&sp, why, sizeof why));
    CHECK_EQ_INT(join_op_output_types(op, ot), 2 * NC);   /* no op column */
    batch_init(&out, 2 * NC, ot, 64);
    one_row(&in, 3, 0, 100, "t");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, INT64_MAX), 0);
    int rows = 0, padded = 0;
    for (int i = 0; i < 6; i++) {   /* keys 0..5: one matches */
        one_row(&in, i, 0, i, "s");
        CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
        do {
            int n = join_op_drain(op, &out, &more);
            CHECK(n >= 0);
            for (int r = 0; r < n; r++) padded += vector_is_null(&out.cols[NC + C_ID], r);
            rows += n;
        } while (more);
    }
    CHECK_EQ_INT(rows, 6);
    CHECK_EQ_INT(padded, 5);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);
    CHECK_EQ_INT(join_op_advance(op, 0, INT64_MAX), 0);   /* the stream's end adds nothing */
    CHECK_EQ_INT(join_op_pending_rows(op), 0);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

/* a table of updates keyed by the join key (spec.table_upsert, a compacted
 * Kafka topic): the last row per key is the table, within a batch too */
TEST(exec_join_table_upsert)
{
    JoinOpSpec sp;
    spec_init(&sp, JOIN_TYPE_INNER, JOIN_OP_REGULAR);
    sp.table = 1;
    sp.table_upsert = 1;
    sp.ttl_us = SEC;
    char why[256];
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* a TTL would expire the table */
    sp.ttl_us = 0;
    JoinOp *op = join_op_new(&sp, why, sizeof why);
    REQUIRE(op);
    Batch in, out;
    SqlType ot[2 * NC];
    batch_init(&in, NC, side_t, 8);
    batch_init(&out, join_op_output_types(op, ot), ot, 64);
    /* keys 0..9, ids 100..109; then key 3 twice in one batch (ids 203, 303) and key 5 again (205) */
    for (int i = 0; i < 10; i++) {
        one_row(&in, i, 0, 100 + i, "t");
        CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    }
    batch_reset(&in);
    TRow r;
    memset(&r, 0, sizeof r);
    r.k = 3, r.id = 203;
    put_row(&in, 0, &r);
    r.id = 303;
    put_row(&in, 1, &r);
    r.k = 5, r.id = 205;
    put_row(&in, 2, &r);
    batch_set_nrows(&in, 3);
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 10);
    CHECK_EQ_INT(join_op_check(op), 0);
    CHECK_EQ_INT(join_op_advance(op, 1, INT64_MAX), 0);
    int64_t ids[10] = {0};
    int     rows = 0, more = 0;
    for (int i = 0; i < 10; i++) {
        one_row(&in, i, 0, i, "s");
        CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
        do {
            int n = join_op_drain(op, &out, &more);
            CHECK(n >= 0);
            for (int j = 0; j < n; j++) ids[vector_i64(&out.cols[C_ID])[j]] = vector_i64(&out.cols[NC + C_ID])[j];
            rows += n;
        } while (more);
    }
    CHECK_EQ_INT(rows, 10);   /* one table row per key */
    CHECK_EQ_INT(ids[3], 303);
    CHECK_EQ_INT(ids[5], 205);
    CHECK_EQ_INT(ids[4], 104);
    /* a followed table: an update after the table's end replaces its key's
     * row for the stream rows after it, and joins nothing itself (no
     * stream row is kept) */
    one_row(&in, 4, 0, 404, "t");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_drain(op, &out, &more), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 10);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 0);
    one_row(&in, 4, 0, 4, "s");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_drain(op, &out, &more), 1);
    CHECK_EQ_INT(vector_i64(&out.cols[NC + C_ID])[0], 404);
    /* a tombstone (a -D row with the key): key 4 has no row after it, key 6
     * keeps its own; a -D of a key not in the table changes nothing */
    batch_reset(&in);
    memset(&r, 0, sizeof r);
    r.k = 4, r.id = 0;
    put_row(&in, 0, &r);
    r.k = 77;
    put_row(&in, 1, &r);
    batch_set_nrows(&in, 2);
    uint8_t *ops = batch_ops_buf(&in);
    REQUIRE(ops);
    ops[0] = ops[1] = BATCH_OP_DELETE;
    in.ops = ops;
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_side_rows(op, 1), 9);
    CHECK_EQ_INT(join_op_push(op, 0, &in), -1);   /* the stream side takes no deletes */
    CHECK(strstr(join_op_error(op), "changelog") != NULL);
    in.ops = NULL;
    one_row(&in, 4, 0, 4, "s");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_drain(op, &out, &more), 0);
    one_row(&in, 6, 0, 6, "s");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_drain(op, &out, &more), 1);
    CHECK_EQ_INT(vector_i64(&out.cols[NC + C_ID])[0], 106);
    /* the key comes back with a later row */
    one_row(&in, 4, 0, 504, "t");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    one_row(&in, 4, 0, 4, "s");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(join_op_drain(op, &out, &more), 1);
    CHECK_EQ_INT(vector_i64(&out.cols[NC + C_ID])[0], 504);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

TEST(exec_join_regular_outer_changelog)
{
    JoinOp *op = simple_op(JOIN_TYPE_FULL, JOIN_OP_REGULAR, 0, 0, 0, 1);
    REQUIRE(op);
    Batch in, out;
    SqlType ot[2 * NC + 1];
    int     n = join_op_output_types(op, ot);
    CHECK_EQ_INT(n, 2 * NC + 1);
    CHECK_EQ_INT(ot[0], TYPE_BIGINT);
    batch_init(&in, NC, side_t, 4);
    batch_init(&out, n, ot, 16);
    RowSet  s = {0};
    int64_t dels = 0;
    one_row(&in, 1, 0, 10, "l");
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, &s, &dels), 1);   /* +I (l, NULL) */
    CHECK(s.n == 1 && strncmp(s.r[0], "0|1|l|", 6) == 0 && strstr(s.r[0], "|NULL|NULL|NULL|NULL|NULL|NULL|NULL"));
    rows_free(&s);
    one_row(&in, 1, 0, 20, "r");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, &s, &dels), 2);   /* -D (l, NULL), +I (l, r) */
    CHECK_EQ_INT(dels, 1);
    CHECK(s.n == 2 && strncmp(s.r[0], "2|1|l|", 6) == 0 && strstr(s.r[0], "|NULL|NULL|NULL|NULL|NULL|NULL|NULL"));
    CHECK(s.n == 2 && strncmp(s.r[1], "0|1|l|", 6) == 0 && strstr(s.r[1], "|1|r|"));
    rows_free(&s);
    one_row(&in, 1, 0, 21, "r2");
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, &s, &dels), 1);   /* +I (l, r2): no retraction */
    CHECK_EQ_INT(dels, 1);
    rows_free(&s);
    one_row(&in, 2, 0, 22, "r3");                            /* no partner: +I (NULL, r3) */
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, &s, &dels), 1);
    CHECK(s.n == 1 && strncmp(s.r[0], "0|NULL|NULL|", 12) == 0);
    rows_free(&s);
    /* a NULL key never matches: padded at once, never retracted */
    batch_reset(&in);
    one_row(&in, 2, 0, 23, "n");
    vector_set_null(&in.cols[C_K], 0);
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, NULL, &dels), 1);
    CHECK_EQ_INT(join_op_side_rows(op, 0), 1);
    one_row(&in, 2, 0, 24, "l2");                            /* matches r3: -D (NULL, r3), +I */
    CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    CHECK_EQ_INT(drain_count(op, &out, 1, NULL, &dels), 2);
    CHECK_EQ_INT(dels, 2);
    CHECK_EQ_INT(join_op_check(op), 0);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

TEST(exec_join_hot_key_small_drains)
{
    /* 3000 stored rows of one key, then 3 probes: 9000 matches from one push,
     * more than a batch, drained 7 at a time in order */
    JoinOp *op = simple_op(JOIN_TYPE_INNER, JOIN_OP_REGULAR, 0, 0, 0, 0);
    REQUIRE(op);
    Batch   in, out;
    SqlType ot[2 * NC];
    batch_init(&in, NC, side_t, 1000);
    batch_init(&out, join_op_output_types(op, ot), ot, 7);
    for (int b = 0; b < 3; b++) {
        batch_reset(&in);
        for (int i = 0; i < 1000; i++) {
            TRow r;
            memset(&r, 0, sizeof r);
            r.k = 42;
            r.id = b * 1000 + i;
            r.si = i % 4;
            put_row(&in, i, &r);
        }
        batch_set_nrows(&in, 1000);
        CHECK_EQ_INT(join_op_push(op, 0, &in), 0);
    }
    batch_reset(&in);
    for (int i = 0; i < 3; i++) {
        TRow r;
        memset(&r, 0, sizeof r);
        r.k = 42;
        r.id = 100000 + i;
        put_row(&in, i, &r);
    }
    batch_set_nrows(&in, 3);
    CHECK_EQ_INT(join_op_push(op, 1, &in), 0);
    CHECK_EQ_INT(join_op_pending_rows(op), 9000);
    int64_t total = 0, sum = 0;
    int     more;
    do {
        int n = join_op_drain(op, &out, &more);
        REQUIRE(n >= 0 && n <= 7);
        for (int i = 0; i < n; i++) sum += vector_i64(&out.cols[C_ID])[i] + vector_i64(&out.cols[NC + C_ID])[i];
        total += n;
    } while (more);
    CHECK_EQ_INT(total, 9000);
    CHECK_EQ_INT(sum, 3 * (2999 * 3000 / 2) + 3000 * (3 * 100000 + 3));
    CHECK_EQ_INT(join_op_pending_rows(op), 0);
    batch_destroy(&in);
    batch_destroy(&out);
    join_op_free(op);
}

TEST(exec_join_spec_errors)
{
    char       why[256];
    int        k[1] = {C_K}, bad[1] = {NC};
    JoinOpSpec sp;
    memset(&sp, 0, sizeof sp);
    sp.type = JOIN_TYPE_LEFT;
    sp.flavor = JOIN_OP_REGULAR;
    sp.nleft = sp.nright = NC;
    sp.left_types = sp.right_types = side_t;
    sp.nkeys = 1;
    sp.lkeys = sp.rkeys = k;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* outer regular needs emit_changes */
    CHECK(strstr(why, "emit_changes") != NULL);
    sp.emit_changes = 1;
    JoinOp *op = join_op_new(&sp, why, sizeof why);
    CHECK(op != NULL);
    if (op) {
        Batch b;
        SqlType t2[2] = {TYPE_BIGINT, TYPE_BIGINT};
        batch_init(&b, 2, t2, 4);
        CHECK_EQ_INT(join_op_push(op, 0, &b), -1);       /* wrong number of columns */
        CHECK(strstr(join_op_error(op), "columns") != NULL);
        CHECK_EQ_INT(join_op_push(op, 2, &b), -1);       /* no such side */
        batch_destroy(&b);
        join_op_free(op);
    }
    sp.flavor = JOIN_OP_INTERVAL;
    sp.ltime = sp.rtime = C_T;
    sp.lower_us = 5;
    sp.upper_us = 1;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* lower > upper */
    sp.upper_us = 10;
    sp.ltime = C_S;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* VARCHAR time column */
    sp.ltime = C_T;
    sp.lkeys = bad;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* key out of range */
    sp.lkeys = k;
    int kd[1] = {C_D};
    sp.rkeys = kd;
    CHECK(join_op_new(&sp, why, sizeof why) == NULL);   /* BIGINT = DOUBLE key */
    sp.rkeys = k;
    op = join_op_new(&sp, why, sizeof why);
    CHECK(op != NULL);
    join_op_free(op);
    join_op_free(NULL);
}

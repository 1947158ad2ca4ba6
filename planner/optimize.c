/*
 * optimize.c — rewrite rules and stage formation (see optimize.h).
 *
 * The plan is rewritten in place while it is being planned (it becomes
 * immutable when planning ends). Expressions are never rewritten in place:
 * a remapped or substituted expression is a new tree in the plan's arena,
 * because the binder may share a subtree between two expressions (BETWEEN
 * uses its operand twice).
 *
 * Column pruning works on index maps: prune(n, need) trims n's output to
 * the columns in need (and what n itself uses), and returns map[old] = new
 * (-1 for a dropped column) so the parent can remap its own expressions.
 */
#include "planner/optimize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/batch.h"
#include "exec/expr_eval.h"

typedef struct Opt {
    Plan     *p;
    Arena    *a;
    SqlError *err;
    int       failed;
} Opt;

static void *oom(Opt *o)
{
    if (!o->failed) {
        o->failed = 1;
        o->err->loc = -1;
        snprintf(o->err->msg, sizeof o->err->msg, "out of memory");
    }
    return NULL;
}

/* ---- expression helpers ------------------------------------------------------ */

static void expr_mark(const Expr *e, unsigned char *used)
{
    if (!e) return;
    if (e->op == EXPR_COLUMN) used[e->col] = 1;
    for (int i = 0; i < e->nargs; i++) expr_mark(e->args[i], used);
}

static int expr_max_col(const Expr *e)
{
    int m = e->op == EXPR_COLUMN ? e->col : -1;
    for (int i = 0; i < e->nargs; i++) {
        int k = expr_max_col(e->args[i]);
        if (k > m) m = k;
    }
    return m;
}

static Expr *expr_copy_node(Opt *o, const Expr *e)
{
    Expr *c = arena_alloc(o->a, sizeof *c);
    if (!c) return oom(o);
    *c = *e;
    if (e->nargs) {
        c->args = arena_alloc(o->a, (size_t)e->nargs * sizeof *c->args);
        if (!c->args) return oom(o);
        memcpy(c->args, e->args, (size_t)e->nargs * sizeof *c->args);
    }
    return c;
}

/* A copy of e with column k replaced by map[k] (a new tree). */
static Expr *expr_remap(Opt *o, const Expr *e, const int *map)
{
    Expr *c = expr_copy_node(o, e);
    if (!c) return NULL;
    if (e->op == EXPR_COLUMN) c->col = map[e->col];
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = expr_remap(o, e->args[i], map))) return NULL;
    return c;
}

/* A copy of e with column k replaced by the expression subst[k]. */
static Expr *expr_subst(Opt *o, const Expr *e, Expr *const *subst)
{
    if (e->op == EXPR_COLUMN) return subst[e->col];
    Expr *c = expr_copy_node(o, e);
    if (!c) return NULL;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = expr_subst(o, e->args[i], subst))) return NULL;
    return c;
}

static Expr *expr_and(Opt *o, Expr *a, Expr *b)
{
    if (!a) return b;
    if (!b) return a;
    Expr *e = expr_new(o->a, EXPR_AND, TYPE_BOOLEAN, 2, a->loc);
    if (!e) return oom(o);
    e->args[0] = a;
    e->args[1] = b;
    return e;
}

/* Split a predicate into its AND-ed conjuncts. */
static void conjuncts(Expr *e, Expr **out, int *n, int cap)
{
    if (e->op == EXPR_AND) {
        for (int i = 0; i < e->nargs; i++) conjuncts(e->args[i], out, n, cap);
        return;
    }
    if (*n < cap) out[(*n)++] = e;
}

static int is_const_bool(const Expr *e, int b)
{
    return e && e->op == EXPR_CONST && e->type == TYPE_BOOLEAN && !e->value.is_null && e->value.u.b == b;
}

/* ---- constant folding ------------------------------------------------------- */

static Expr *fold(Opt *o, Expr *e)
{
    if (!e || e->op == EXPR_COLUMN || e->op == EXPR_CONST) return e;
    Expr *c = expr_copy_node(o, e);
    if (!c) return NULL;
    int all_const = 1;
    for (int i = 0; i < c->nargs; i++) {
        if (!(c->args[i] = fold(o, c->args[i]))) return NULL;
        if (c->args[i]->op != EXPR_CONST) all_const = 0;
    }
    /* x AND FALSE → FALSE, x OR TRUE → TRUE, TRUE AND x → x, FALSE OR x → x */
    if (c->op == EXPR_AND || c->op == EXPR_OR) {
        int    absorbing = c->op == EXPR_OR;
        int    k = 0;
        for (int i = 0; i < c->nargs; i++) {
            if (is_const_bool(c->args[i], absorbing)) return c->args[i];
            if (!is_const_bool(c->args[i], !absorbing)) c->args[k++] = c->args[i];
        }
        if (k == 0) {
            Expr *t = expr_const(o->a, value_bool(!absorbing), c->loc);
            return t ? t : oom(o);
        }
        if (k == 1) return c->args[0];
        c->nargs = k;
        return c;
    }
    if (!all_const) return c;

    char       why[256];
    ExprState *st = expr_state_new(c, 1, why, sizeof why);
    if (!st) return c;   /* leave it to run time */
    Batch b;
    if (batch_init(&b, 0, NULL, 1) != 0) {
        expr_state_free(st);
        return oom(o);
    }
    b.nrows = b.count = 1;
    const Vector *out = NULL;
    Expr         *r = c;
    if (expr_eval(st, &b, &out) == 0 && out) {
        Value v = value_null(c->type);
        if (!vector_is_null(out, 0)) {
            int k = vector_index(out, 0);
            v.is_null = 0;
            switch (c->type) {
            case TYPE_BOOLEAN: v.u.b = vector_bool(out)[k]; break;
            case TYPE_DOUBLE: v.u.d = vector_f64(out)[k]; break;
            case TYPE_VARCHAR: v.u.s = vector_str(out)[k]; break;
            case TYPE_NULL: v.is_null = 1; break;
            default: v.u.i = vector_i64(out)[k]; break;
            }
        }
        r = expr_const(o->a, v, c->loc);   /* copies string bytes */
        if (!r) r = oom(o);
    }
    batch_destroy(&b);
    expr_state_free(st);
    return r;
}

static PlanNode *fold_node(Opt *o, PlanNode *n)
{
    if (!n) return NULL;
    n->input = fold_node(o, n->input);
    n->right = fold_node(o, n->right);
    switch (n->kind) {
    case PLAN_FILTER:
        n->u.filter.pred = fold(o, n->u.filter.pred);
        if (is_const_bool(n->u.filter.pred, 1)) return n->input;
        break;
    case PLAN_PROJECT:
        for (int i = 0; i < n->out.ncols; i++) n->u.project.exprs[i] = fold(o, n->u.project.exprs[i]);
        break;
    case PLAN_SCAN:
        if (n->u.scan.filter) {
            n->u.scan.filter = fold(o, n->u.scan.filter);
            if (is_const_bool(n->u.scan.filter, 1)) n->u.scan.filter = NULL;
        }
        break;
    case PLAN_JOIN:
        if (n->u.join.residual) n->u.join.residual = fold(o, n->u.join.residual);
        break;
    default: break;
    }
    return n;
}

/* ---- predicate pushdown -------------------------------------------------------- */

static PlanNode *filter_over(Opt *o, Expr *pred, PlanNode *in)
{
    if (!pred) return in;
    PlanNode *f = arena_calloc(o->a, 1, sizeof *f);
    if (!f) return oom(o);
    f->kind = PLAN_FILTER;
    f->id = o->p->nnodes++;
    f->input = in;
    f->out.ncols = in->out.ncols;
    f->out.cols = arena_alloc(o->a, (size_t)(in->out.ncols + 1) * sizeof *f->out.cols);
    if (!f->out.cols) return oom(o);
    memcpy(f->out.cols, in->out.cols, (size_t)in->out.ncols * sizeof *f->out.cols);
    f->u.filter.pred = pred;
    return f;
}

#define MAXCONJ 64

static PlanNode *push_filter(Opt *o, Expr *pred, PlanNode *in)
{
    if (o->failed) return NULL;
    Expr *c[MAXCONJ];
    int   nc = 0;
    switch (in->kind) {
    case PLAN_FILTER:
        return push_filter(o, expr_and(o, in->u.filter.pred, pred), in->input);
    case PLAN_SCAN:
        in->u.scan.filter = expr_and(o, in->u.scan.filter, pred);
        return in;
    case PLAN_PROJECT: {
        /* conjuncts whose columns are all plain columns or constants below the project */
        Expr *down = NULL, *stay = NULL;
        conjuncts(pred, c, &nc, MAXCONJ);
        for (int i = 0; i < nc; i++) {
            unsigned char *used = calloc((size_t)in->out.ncols + 1, 1);
            if (!used) return oom(o);
            expr_mark(c[i], used);
            int ok = 1;
            for (int k = 0; k < in->out.ncols; k++) {
                const Expr *x = in->u.project.exprs[k];
                if (used[k] && x->op != EXPR_COLUMN && x->op != EXPR_CONST) ok = 0;
            }
            free(used);
            if (ok) down = expr_and(o, down, expr_subst(o, c[i], in->u.project.exprs));
            else stay = expr_and(o, stay, c[i]);
        }
        if (down) in->input = push_filter(o, down, in->input);
        return filter_over(o, stay, in);
    }
    case PLAN_WINDOW: {
        Expr *down = NULL, *stay = NULL;
        int   base = in->input->out.ncols;
        conjuncts(pred, c, &nc, MAXCONJ);
        for (int i = 0; i < nc; i++) {
            if (expr_max_col(c[i]) < base) down = expr_and(o, down, c[i]);
            else stay = expr_and(o, stay, c[i]);
        }
        if (down) in->input = push_filter(o, down, in->input);
        return filter_over(o, stay, in);
    }
    case PLAN_JOIN: {
        /* a conjunct on one side only moves into that side — for an outer join
         * only into the side whose rows are preserved */
        Expr *left = NULL, *right = NULL, *stay = NULL;
        int   nl = in->input->out.ncols;
        int   can_l = in->u.join.kind == PJOIN_INNER || in->u.join.kind == PJOIN_LEFT;
        int   can_r = in->u.join.kind == PJOIN_INNER || in->u.join.kind == PJOIN_RIGHT;
        /* a Kafka table's rows are updates: a filter applies to the last one
         * per key, after the join has kept it, not to every record */
        if (in->u.join.table_topic && in->u.join.table == 1) can_r = 0;
        if (in->u.join.table_topic && in->u.join.table == 2) can_l = 0;
        conjuncts(pred, c, &nc, MAXCONJ);
        for (int i = 0; i < nc; i++) {
            unsigned char *used = calloc((size_t)in->out.ncols + 1, 1);
            if (!used) return oom(o);
            expr_mark(c[i], used);
            int uses_l = 0, uses_r = 0;
            for (int k = 0; k < in->out.ncols; k++)
                if (used[k]) {
                    if (k < nl) uses_l = 1;
                    else uses_r = 1;
                }
            free(used);
            if (uses_l && !uses_r && can_l) {
                left = expr_and(o, left, c[i]);
            } else if (uses_r && !uses_l && can_r) {
                int *map = arena_alloc(o->a, (size_t)(in->out.ncols + 1) * sizeof *map);
                if (!map) return oom(o);
                for (int k = 0; k < in->out.ncols; k++) map[k] = k - nl;
                right = expr_and(o, right, expr_remap(o, c[i], map));
            } else {
                stay = expr_and(o, stay, c[i]);
            }
        }
        if (left) in->input = push_filter(o, left, in->input);
        if (right) in->right = push_filter(o, right, in->right);
        return filter_over(o, stay, in);
    }
    default:
        return filter_over(o, pred, in);
    }
}

static PlanNode *pushdown(Opt *o, PlanNode *n)
{
    if (!n || o->failed) return n;
    n->input = pushdown(o, n->input);
    n->right = pushdown(o, n->right);
    if (n->kind == PLAN_FILTER) return push_filter(o, n->u.filter.pred, n->input);
    return n;
}

/* ---- column pruning -------------------------------------------------------------- */

static int *prune(Opt *o, PlanNode *n, const unsigned char *need);

static int *identity_map(Opt *o, int n)
{
    int *m = arena_alloc(o->a, (size_t)(n + 1) * sizeof *m);
    if (!m) return oom(o);
    for (int i = 0; i < n; i++) m[i] = i;
    return m;
}

static unsigned char *need_all(Opt *o, int n)
{
    unsigned char *u = arena_alloc(o->a, (size_t)n + 1);
    if (!u) return oom(o);
    memset(u, 1, (size_t)n + 1);
    return u;
}

static unsigned char *need_none(Opt *o, int n)
{
    unsigned char *u = arena_calloc(o->a, (size_t)n + 1, 1);
    return u ? u : oom(o);
}

/* Take n's output schema from its (pruned) input: Filter, Limit, Exchange. */
static void passthrough_schema(PlanNode *n)
{
    n->out = n->input->out;
}

static int *prune(Opt *o, PlanNode *n, const unsigned char *need)
{
    if (o->failed) return NULL;
    switch (n->kind) {
    case PLAN_SCAN: {
        unsigned char *use = need_none(o, n->out.ncols);
        if (!use) return NULL;
        for (int i = 0; i < n->out.ncols; i++) use[i] = need[i];
        expr_mark(n->u.scan.filter, use);
        if (n->u.scan.wm_col >= 0) use[n->u.scan.wm_col] = 1;   /* the watermark is computed from it */
        int *map = arena_alloc(o->a, (size_t)(n->out.ncols + 1) * sizeof *map);
        if (!map) return oom(o);
        int k = 0;
        for (int i = 0; i < n->out.ncols; i++) {
            map[i] = use[i] ? k : -1;
            if (use[i]) {
                n->u.scan.proj[k] = n->u.scan.proj[i];
                n->out.cols[k] = n->out.cols[i];
                k++;
            }
        }
        if (n->u.scan.filter && !(n->u.scan.filter = expr_remap(o, n->u.scan.filter, map))) return NULL;
        if (n->u.scan.wm_col >= 0) n->u.scan.wm_col = map[n->u.scan.wm_col];
        n->out.ncols = k;
        return map;
    }
    case PLAN_VALUES:
        return identity_map(o, n->out.ncols);
    case PLAN_FILTER: {
        unsigned char *use = need_none(o, n->out.ncols);
        if (!use) return NULL;
        for (int i = 0; i < n->out.ncols; i++) use[i] = need[i];
        expr_mark(n->u.filter.pred, use);
        int *map = prune(o, n->input, use);
        if (!map) return NULL;
        if (!(n->u.filter.pred = expr_remap(o, n->u.filter.pred, map))) return NULL;
        passthrough_schema(n);
        return map;
    }
    case PLAN_LIMIT: {
        int *map = prune(o, n->input, need);
        if (map) passthrough_schema(n);
        return map;
    }
    case PLAN_EXCHANGE: {
        unsigned char *use = need_none(o, n->out.ncols);
        if (!use) return NULL;
        for (int i = 0; i < n->out.ncols; i++) use[i] = need[i];
        for (int i = 0; i < n->u.exchange.nkeys; i++) use[n->u.exchange.keys[i]] = 1;
        int *map = prune(o, n->input, use);
        if (!map) return NULL;
        for (int i = 0; i < n->u.exchange.nkeys; i++) n->u.exchange.keys[i] = map[n->u.exchange.keys[i]];
        passthrough_schema(n);
        return map;
    }
    case PLAN_WINDOW: {
        int            base = n->input->out.ncols;
        unsigned char *use = need_none(o, base);
        if (!use) return NULL;
        for (int i = 0; i < base; i++) use[i] = need[i];
        use[n->u.window.time_col] = 1;
        for (int i = 0; i < n->u.window.nkeys; i++) use[n->u.window.keys[i]] = 1;
        int *in_map = prune(o, n->input, use);
        if (!in_map) return NULL;
        int nbase = n->input->out.ncols;
        int *map = arena_alloc(o->a, (size_t)(base + 4) * sizeof *map);
        if (!map) return oom(o);
        for (int i = 0; i < base; i++) map[i] = in_map[i];
        for (int i = 0; i < 3; i++) map[base + i] = nbase + i;
        n->u.window.time_col = in_map[n->u.window.time_col];
        for (int i = 0; i < n->u.window.nkeys; i++) n->u.window.keys[i] = in_map[n->u.window.keys[i]];
        PlanColumn *cols = arena_alloc(o->a, (size_t)(nbase + 3) * sizeof *cols);
        if (!cols) return oom(o);
        memcpy(cols, n->input->out.cols, (size_t)nbase * sizeof *cols);
        memcpy(cols + nbase, n->out.cols + base, 3 * sizeof *cols);
        n->out.cols = cols;
        n->out.ncols = nbase + 3;
        return map;
    }
    case PLAN_PROJECT: {
        int  nin = n->input->out.ncols;
        int *map = arena_alloc(o->a, (size_t)(n->out.ncols + 1) * sizeof *map);
        unsigned char *use = need_none(o, nin);
        if (!map || !use) return oom(o);
        int k = 0;
        for (int i = 0; i < n->out.ncols; i++) {
            map[i] = need[i] ? k : -1;
            if (need[i]) {
                n->u.project.exprs[k] = n->u.project.exprs[i];
                n->out.cols[k] = n->out.cols[i];
                expr_mark(n->u.project.exprs[k], use);
                k++;
            }
        }
        n->out.ncols = k;
        int *in_map = prune(o, n->input, use);
        if (!in_map) return NULL;
        for (int i = 0; i < k; i++)
            if (!(n->u.project.exprs[i] = expr_remap(o, n->u.project.exprs[i], in_map))) return NULL;
        return map;
    }
    case PLAN_AGGREGATE: {
        /* keeps all of its outputs; needs keys, arguments and filters */
        unsigned char *use = need_none(o, n->input->out.ncols);
        if (!use) return NULL;
        for (int i = 0; i < n->u.agg.nkeys; i++) use[n->u.agg.keys[i]] = 1;
        for (int j = 0; j < n->u.agg.naggs; j++) {
            const AggCall *c = &n->u.agg.aggs[j];
            if (c->arg >= 0) {
                use[c->arg] = 1;
                if (n->u.agg.mode == AGG_FINAL && c->kind == AGG_AVG) use[c->arg + 1] = 1;
            }
            if (c->filter >= 0) use[c->filter] = 1;
        }
        int *in_map = prune(o, n->input, use);
        if (!in_map) return NULL;
        for (int i = 0; i < n->u.agg.nkeys; i++) n->u.agg.keys[i] = in_map[n->u.agg.keys[i]];
        for (int j = 0; j < n->u.agg.naggs; j++) {
            AggCall *c = &n->u.agg.aggs[j];
            if (c->arg >= 0) c->arg = in_map[c->arg];
            if (c->filter >= 0) c->filter = in_map[c->filter];
        }
        return identity_map(o, n->out.ncols);
    }
    case PLAN_OUTPUT: {
        unsigned char *all = need_all(o, n->input->out.ncols);
        if (!all) return NULL;
        int *in_map = prune(o, n->input, all);
        return in_map ? identity_map(o, n->out.ncols) : NULL;
    }
    case PLAN_JOIN: {
        int            nl = n->input->out.ncols, nr = n->right->out.ncols;
        unsigned char *use = need_none(o, nl + nr);
        if (!use) return NULL;
        for (int i = 0; i < nl + nr; i++) use[i] = need[i];
        for (int k = 0; k < n->u.join.nkeys; k++) {
            use[n->u.join.lkeys[k]] = 1;
            use[nl + n->u.join.rkeys[k]] = 1;
        }
        if (n->u.join.ltime >= 0) use[n->u.join.ltime] = 1;
        if (n->u.join.rtime >= 0) use[nl + n->u.join.rtime] = 1;
        expr_mark(n->u.join.residual, use);
        int *lm = prune(o, n->input, use);
        int *rm = lm ? prune(o, n->right, use + nl) : NULL;
        if (!rm) return NULL;
        int nl2 = n->input->out.ncols, nr2 = n->right->out.ncols;
        int *map = arena_alloc(o->a, (size_t)(nl + nr + 1) * sizeof *map);
        if (!map) return oom(o);
        for (int i = 0; i < nl; i++) map[i] = lm[i];
        for (int i = 0; i < nr; i++) map[nl + i] = rm[i] < 0 ? -1 : nl2 + rm[i];
        for (int k = 0; k < n->u.join.nkeys; k++) {
            n->u.join.lkeys[k] = lm[n->u.join.lkeys[k]];
            n->u.join.rkeys[k] = rm[n->u.join.rkeys[k]];
        }
        if (n->u.join.ltime >= 0) n->u.join.ltime = lm[n->u.join.ltime];
        if (n->u.join.rtime >= 0) n->u.join.rtime = rm[n->u.join.rtime];
        if (n->u.join.residual && !(n->u.join.residual = expr_remap(o, n->u.join.residual, map))) return NULL;
        PlanColumn *cols = arena_alloc(o->a, (size_t)(nl2 + nr2 + 1) * sizeof *cols);
        if (!cols) return oom(o);
        memcpy(cols, n->input->out.cols, (size_t)nl2 * sizeof *cols);
        memcpy(cols + nl2, n->right->out.cols, (size_t)nr2 * sizeof *cols);
        n->out.cols = cols;
        n->out.ncols = nl2 + nr2;
        return map;
    }
    }
    return NULL;
}

/* An aggregate reading a projection of plain columns reads those columns
 * directly: the projection disappears (after pruning, the binder's
 * pre-aggregation projection is often just that). */
static PlanNode *fuse_projections(Opt *o, PlanNode *n)
{
    if (!n || o->failed) return n;
    n->input = fuse_projections(o, n->input);
    n->right = fuse_projections(o, n->right);
    /* a projection that passes every input column through in order does nothing
     * (its parent keeps its own copy of the output names) */
    if (n->right && n->right->kind == PLAN_PROJECT) {
        PlanNode *p = n->right;
        int       identity = p->out.ncols == p->input->out.ncols;
        for (int i = 0; identity && i < p->out.ncols; i++)
            identity = p->u.project.exprs[i]->op == EXPR_COLUMN && p->u.project.exprs[i]->col == i;
        if (identity) n->right = p->input;
    }
    if (n->input && n->input->kind == PLAN_PROJECT && n->kind != PLAN_SCAN) {
        PlanNode *p = n->input;
        int       identity = p->out.ncols == p->input->out.ncols;
        for (int i = 0; identity && i < p->out.ncols; i++)
            identity = p->u.project.exprs[i]->op == EXPR_COLUMN && p->u.project.exprs[i]->col == i;
        if (identity) n->input = p->input;
    }
    if (n->kind != PLAN_AGGREGATE || !n->input || n->input->kind != PLAN_PROJECT) return n;
    PlanNode *p = n->input;
    for (int i = 0; i < p->out.ncols; i++)
        if (p->u.project.exprs[i]->op != EXPR_COLUMN) return n;
    for (int i = 0; i < n->u.agg.nkeys; i++) n->u.agg.keys[i] = p->u.project.exprs[n->u.agg.keys[i]]->col;
    for (int j = 0; j < n->u.agg.naggs; j++) {
        AggCall *c = &n->u.agg.aggs[j];
        if (c->arg >= 0) c->arg = p->u.project.exprs[c->arg]->col;
        if (c->filter >= 0) c->filter = p->u.project.exprs[c->filter]->col;
    }
    n->input = p->input;
    return n;
}

/* ---- two-phase aggregation and exchanges --------------------------------------------- */

/* Partitioning of a node's output, as computed bottom-up. */
typedef struct Part {
    Partitioning kind;    /* PART_FORWARD here means "arbitrary" (as read from sources) */
    int          nkeys;
    int          keys[16];
} Part;

static PlanNode *exchange_over(Opt *o, PlanNode *in, Partitioning part, const int *keys, int nkeys)
{
    PlanNode *x = arena_calloc(o->a, 1, sizeof *x);
    if (!x) return oom(o);
    x->kind = PLAN_EXCHANGE;
    x->id = o->p->nnodes++;
    x->input = in;
    x->out = in->out;
    x->u.exchange.part = part;
    x->u.exchange.nkeys = nkeys;
    x->u.exchange.keys = arena_alloc(o->a, (size_t)(nkeys + 1) * sizeof(int));
    if (!x->u.exchange.keys) return oom(o);
    if (nkeys) memcpy(x->u.exchange.keys, keys, (size_t)nkeys * sizeof(int));
    return x;
}

/* The partial-state columns of one aggregate (see plan.h's AggMode). */
int agg_partial_width(AggKind k)
{
    return k == AGG_AVG ? 2 : 1;
}

/* Partial columns of one aggregate; a retracting SUM also carries how many
 * non-NULL inputs it has (exec/agg.h). */
static int partial_width(AggKind k, int retract)
{
    return agg_partial_width(k) + (retract && k == AGG_SUM);
}

static PlanNode *split_aggregate(Opt *o, PlanNode *agg, const int *pkeys, int npkeys)
{
    PlanNode *in = agg->input;
    int       nkeys = agg->u.agg.nkeys;
    int       retract = agg->u.agg.retract;
    int       width = nkeys + retract;   /* retract: the live-row count last */
    for (int j = 0; j < agg->u.agg.naggs; j++) width += partial_width(agg->u.agg.aggs[j].kind, retract);

    PlanNode *part = arena_calloc(o->a, 1, sizeof *part);
    if (!part) return oom(o);
    *part = *agg;
    part->id = o->p->nnodes++;
    part->u.agg.mode = AGG_PARTIAL;
    part->u.agg.update_before = 0;   /* the FINAL emits the rows */
    part->out.ncols = width;
    part->out.cols = arena_calloc(o->a, (size_t)width + 1, sizeof *part->out.cols);
    if (!part->out.cols) return oom(o);
    for (int i = 0; i < nkeys; i++) part->out.cols[i] = agg->out.cols[i];
    int c = nkeys;
    for (int j = 0; j < agg->u.agg.naggs; j++) {
        const AggCall *a = &agg->u.agg.aggs[j];
        SqlType        at = a->arg >= 0 ? in->out.cols[a->arg].type : TYPE_BIGINT;
        switch (a->kind) {
        case AGG_AVG:
            part->out.cols[c] = (PlanColumn){"avg_sum", NULL, TYPE_DOUBLE};
            part->out.cols[c + 1] = (PlanColumn){"avg_count", NULL, TYPE_BIGINT};
            break;
        case AGG_COUNT_DISTINCT:
            part->out.cols[c] = (PlanColumn){"distinct_set", NULL, TYPE_VARCHAR};
            break;
        case AGG_APPROX_COUNT_DISTINCT:
            part->out.cols[c] = (PlanColumn){"hll_sketch", NULL, TYPE_VARCHAR};
            break;
        case AGG_SUM:
            part->out.cols[c] = (PlanColumn){a->name, NULL, at};
            if (retract) part->out.cols[c + 1] = (PlanColumn){"sum_count", NULL, TYPE_BIGINT};
            break;
        case AGG_MIN:
        case AGG_MAX:
            part->out.cols[c] = (PlanColumn){a->name, NULL, at};
            break;
        default:
            part->out.cols[c] = (PlanColumn){a->name, NULL, TYPE_BIGINT};
            break;
        }
        c += partial_width(a->kind, retract);
    }
    if (retract) part->out.cols[c] = (PlanColumn){"live_rows", NULL, TYPE_BIGINT};

    int *keymap = arena_alloc(o->a, (size_t)(npkeys + 1) * sizeof *keymap);
    if (!keymap) return oom(o);
    for (int i = 0; i < npkeys; i++) {
        keymap[i] = -1;
        for (int k = 0; k < nkeys; k++)
            if (agg->u.agg.keys[k] == pkeys[i]) keymap[i] = k;
    }
    PlanNode *x = exchange_over(o, part, npkeys ? PART_HASH : PART_SINGLE, keymap, npkeys);
    if (!x) return NULL;

    agg->input = x;
    agg->u.agg.mode = AGG_FINAL;
    agg->u.agg.keys = arena_alloc(o->a, (size_t)(nkeys + 1) * sizeof(int));
    agg->u.agg.aggs = arena_alloc(o->a, (size_t)(agg->u.agg.naggs + 1) * sizeof(AggCall));
    if (!agg->u.agg.keys || !agg->u.agg.aggs) return oom(o);
    for (int i = 0; i < nkeys; i++) agg->u.agg.keys[i] = i;
    c = nkeys;
    for (int j = 0; j < agg->u.agg.naggs; j++) {
        agg->u.agg.aggs[j] = part->u.agg.aggs[j];
        agg->u.agg.aggs[j].arg = c;
        agg->u.agg.aggs[j].filter = -1;
        c += partial_width(part->u.agg.aggs[j].kind, retract);
    }
    return agg;
}

static int keys_subset(const Part *p, const int *want, int nwant)
{
    if (p->kind != PART_HASH || p->nkeys == 0) return 0;
    for (int i = 0; i < p->nkeys; i++) {
        int found = 0;
        for (int k = 0; k < nwant; k++)
            if (want[k] == p->keys[i]) found = 1;
        if (!found) return 0;
    }
    return 1;
}

static int has_join_or_exchange(const PlanNode *n)
{
    for (; n; n = n->input)
        if (n->kind == PLAN_JOIN || n->kind == PLAN_EXCHANGE) return 1;
    return 0;
}

static PlanNode *place_exchanges(Opt *o, PlanNode *n, unsigned rules, Part *out)
{
    Part in = {PART_FORWARD, 0, {0}};
    Part rin = {PART_FORWARD, 0, {0}};
    if (n->input && !(n->input = place_exchanges(o, n->input, rules, &in))) return NULL;
    if (n->right && !(n->right = place_exchanges(o, n->right, rules, &rin))) return NULL;
    *out = in;
    switch (n->kind) {
    case PLAN_SCAN:
        out->kind = PART_FORWARD;
        return n;
    case PLAN_VALUES:
        out->kind = PART_SINGLE;
        return n;
    case PLAN_PROJECT: {
        if (in.kind != PART_HASH) return n;
        Part p = {PART_HASH, 0, {0}};
        for (int i = 0; i < in.nkeys; i++) {
            int found = -1;
            for (int k = 0; k < n->out.ncols; k++) {
                const Expr *e = n->u.project.exprs[k];
                if (e->op == EXPR_COLUMN && e->col == in.keys[i]) found = k;
            }
            if (found < 0) {
                out->kind = PART_FORWARD;
                out->nkeys = 0;
                return n;
            }
            p.keys[p.nkeys++] = found;
        }
        *out = p;
        return n;
    }
    case PLAN_LIMIT:
        if (in.kind != PART_SINGLE && o->p->parallelism > 1) {
            n->input = exchange_over(o, n->input, PART_SINGLE, NULL, 0);
            if (!n->input) return NULL;
            out->kind = PART_SINGLE;
            out->nkeys = 0;
        }
        return n;
    case PLAN_JOIN: {
        /* both sides hash-partitioned on the equality keys (a window join's
         * window columns left out, as for aggregates) */
        int lreq[16], rreq[16], nreq = 0;
        for (int k = 0; k < n->u.join.nkeys && nreq < 16; k++) {
            const char *ln = n->input->out.cols[n->u.join.lkeys[k]].name;
            if (n->u.join.flavor == JOIN_WINDOW &&
                (!strcmp(ln, "window_start") || !strcmp(ln, "window_end") || !strcmp(ln, "window_time")))
                continue;
            lreq[nreq] = n->u.join.lkeys[k];
            rreq[nreq++] = n->u.join.rkeys[k];
        }
        if (nreq == 0) {
            lreq[0] = n->u.join.lkeys[0];
            rreq[0] = n->u.join.rkeys[0];
            nreq = 1;
        }
        out->kind = PART_HASH;
        out->nkeys = nreq;
        for (int k = 0; k < nreq; k++) out->keys[k] = lreq[k];
        if (!(rules & RULE_EXCHANGES)) return n;
        if (n->u.join.table) {
            /* deployment.group: the table side goes whole to every join task
             * of the instance (plan.h). The stream side stays where it is
             * read: the join runs in the tasks of its Kafka source — unless
             * that side is itself computed from exchanges or has a join (a
             * task runs one), when it comes by its keys */
            int       tl = n->u.join.table == 2;
            PlanNode *stream = tl ? n->right : n->input;
            if (!(tl ? (n->input = exchange_over(o, n->input, PART_BROADCAST, NULL, 0))
                     : (n->right = exchange_over(o, n->right, PART_BROADCAST, NULL, 0))))
                return NULL;
            if (!has_join_or_exchange(stream)) {
                out->kind = PART_FORWARD;
                out->nkeys = 0;
                return n;
            }
            if (!(stream = exchange_over(o, stream, PART_HASH, tl ? rreq : lreq, nreq))) return NULL;
            if (tl) n->right = stream;
            else n->input = stream;
            if (tl)
                for (int k = 0; k < nreq; k++) out->keys[k] = n->input->out.ncols + rreq[k];
            return n;
        }
        /* a side already hash-partitioned on exactly these keys, in this order,
         * is co-partitioned with the other side's exchange: no exchange. At
         * parallelism 1 both sides still get one (a forward channel): a task
         * reads one source or channels, never two sources */
        int lsame = o->p->parallelism > 1 && in.kind == PART_HASH && in.nkeys == nreq;
        int rsame = o->p->parallelism > 1 && rin.kind == PART_HASH && rin.nkeys == nreq;
        for (int k = 0; k < nreq; k++) {
            if (lsame && in.keys[k] != lreq[k]) lsame = 0;
            if (rsame && rin.keys[k] != rreq[k]) rsame = 0;
        }
        if (!lsame && !(n->input = exchange_over(o, n->input, PART_HASH, lreq, nreq))) return NULL;
        if (!rsame && !(n->right = exchange_over(o, n->right, PART_HASH, rreq, nreq))) return NULL;
        return n;
    }
    case PLAN_AGGREGATE: {
        if (n->u.agg.mode != AGG_SIMPLE) return n;
        /* required partitioning: the keys without the window columns */
        int req[16], nreq = 0;
        for (int i = 0; i < n->u.agg.nkeys && nreq < 16; i++)
            if (i != n->u.agg.wstart_key && i != n->u.agg.wend_key) req[nreq++] = n->u.agg.keys[i];
        if (nreq == 0 && n->u.agg.windowed && n->u.agg.wkind != WINDOW_SESSION && n->u.agg.wstart_key >= 0)
            req[nreq++] = n->u.agg.keys[n->u.agg.wstart_key];
        if (o->p->group && n->u.agg.windowed && n->u.agg.wkind != WINDOW_SESSION && n->u.agg.emit == EMIT_MODE_CHANGES &&
            !n->u.agg.retract && !n->u.agg.late_sink && n->u.agg.nkeys <= 16) {
            /* group mode, a window's changes: every key, the window's too, so
             * that a group's checkpoint slice is the partition of the
             * repartition topic its rows come from (runtime: kx_cl_setup) */
            nreq = 0;
            for (int i = 0; i < n->u.agg.nkeys; i++) req[nreq++] = n->u.agg.keys[i];
        }
        Part after = {nreq ? PART_HASH : PART_SINGLE, 0, {0}};
        for (int i = 0; i < nreq; i++)
            for (int k = 0; k < n->u.agg.nkeys; k++)
                if (n->u.agg.keys[k] == req[i]) after.keys[after.nkeys++] = k;
        *out = after;
        /* group mode: the exchange is a repartition topic between instances,
         * needed whatever the parallelism of one */
        if ((o->p->parallelism <= 1 && !o->p->group) || !(rules & RULE_EXCHANGES)) return n;
        if (in.kind == PART_SINGLE || keys_subset(&in, req, nreq)) return n;   /* already there */
        /* with a late sink the aggregate sees raw rows, so it can hand the late ones on */
        if ((rules & RULE_TWO_PHASE_AGG) && !n->u.agg.late_sink) return split_aggregate(o, n, req, nreq);
        n->input = exchange_over(o, n->input, nreq ? PART_HASH : PART_SINGLE, req, nreq);
        return n->input ? n : NULL;
    }
    default:
        return n;
    }
}

int plan_optimize(Plan *p, unsigned rules, SqlError *err)
{
    Opt o = {p, &p->arena, err, 0};
    if (rules & RULE_CONSTANT_FOLD) p->root = fold_node(&o, p->root);
    if (!o.failed && (rules & RULE_PUSH_FILTER)) p->root = pushdown(&o, p->root);
    if (!o.failed && (rules & RULE_PRUNE_COLUMNS)) {
        unsigned char *all = need_all(&o, p->root->out.ncols);
        if (all) prune(&o, p->root, all);
        if (!o.failed) p->root = fuse_projections(&o, p->root);
    }
    if (!o.failed && (rules & (RULE_EXCHANGES | RULE_TWO_PHASE_AGG))) {
        Part part;
        p->root = place_exchanges(&o, p->root, rules, &part);
    }
    return o.failed ? -1 : 0;
}

/* ---- stages ------------------------------------------------------------------------- */

typedef struct StageBuild {
    Plan      *p;
    int        cap;
} StageBuild;

static int stage_add_op(Plan *p, Stage *s, PlanNode *n)
{
    PlanNode **ops = arena_alloc(&p->arena, (size_t)(s->nops + 1) * sizeof *ops);
    if (!ops) return -1;
    if (s->nops) memcpy(ops, s->ops, (size_t)s->nops * sizeof *ops);
    ops[s->nops++] = n;
    s->ops = ops;
    return 0;
}

/* Assign n and the nodes below it (up to exchanges) to stage sid; exchanges
 * start new stages. Returns 0 or -1. Stages are numbered so that sources
 * come first: a stage's id is smaller than its downstream's. */
static int build_stage(Plan *p, PlanNode *n, int sid)
{
    Stage *s = &p->stages[sid];
    if (n->kind == PLAN_EXCHANGE) {
        int up = p->nstages++;
        Stage *u = &p->stages[up];
        memset(u, 0, sizeof *u);
        u->id = up;
        u->parallelism = p->parallelism;
        u->inputs[0] = u->inputs[1] = -1;
        u->out_exchange = n;
        u->downstream = sid;
        s = &p->stages[sid];
        if (s->ninputs < 2) {
            s->inputs[s->ninputs] = up;
            s->in_exchange[s->ninputs] = n;
            s->ninputs++;
        }
        n->stage = up;
        return build_stage(p, n->input, up);
    }
    n->stage = sid;
    if (n->input && build_stage(p, n->input, sid)) return -1;
    if (n->right && build_stage(p, n->right, sid)) return -1;
    if (n->kind == PLAN_OUTPUT) return 0;   /* the output is the stage's end, not an operator */
    return stage_add_op(p, &p->stages[sid], n);
}

static int count_exchanges(const PlanNode *n)
{
    if (!n) return 0;
    return (n->kind == PLAN_EXCHANGE) + count_exchanges(n->input) + count_exchanges(n->right);
}

int plan_stages(Plan *p)
{
    int cap = count_exchanges(p->root) + 1;
    p->stages = arena_calloc(&p->arena, (size_t)cap, sizeof *p->stages);
    if (!p->stages) return -1;
    p->nstages = 1;
    Stage *last = &p->stages[0];
    last->id = 0;
    last->parallelism = p->parallelism;
    last->inputs[0] = last->inputs[1] = -1;
    last->downstream = -1;
    if (build_stage(p, p->root, 0)) return -1;
    /* renumber so that upstream stages come first: reverse creation order */
    int    n = p->nstages;
    int   *newid = arena_alloc(&p->arena, (size_t)n * sizeof *newid);
    Stage *st = arena_alloc(&p->arena, (size_t)n * sizeof *st);
    if (!newid || !st) return -1;
    for (int i = 0; i < n; i++) newid[i] = n - 1 - i;
    for (int i = 0; i < n; i++) {
        Stage s = p->stages[i];
        s.id = newid[i];
        if (s.downstream >= 0) s.downstream = newid[s.downstream];
        for (int k = 0; k < s.ninputs; k++) s.inputs[k] = newid[s.inputs[k]];
        st[newid[i]] = s;
    }
    p->stages = st;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < st[i].nops; k++) st[i].ops[k]->stage = i;
    /* a stage whose only operators read a single-row VALUES, or that gathers into one task, runs on one task */
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < st[i].ninputs; k++)
            if (st[i].in_exchange[k]->u.exchange.part == PART_SINGLE) st[i].parallelism = 1;
        if (st[i].nops > 0 && st[i].ops[0]->kind == PLAN_VALUES) st[i].parallelism = 1;
        if (st[i].out_exchange) st[i].out_exchange->stage = i;
    }
    return 0;
}

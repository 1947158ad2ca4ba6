/*
 * bind.c — the binder: AST → typed logical plan (see bind.h).
 *
 * A SELECT is bound bottom-up, clause by clause, each clause becoming plan
 * nodes over the previous ones:
 *
 *   FROM      Scan (stream) | bound view/subquery | Window (TVF) | Values
 *   WHERE     Filter
 *   GROUP BY  [Window for GROUP BY TUMBLE(ts, …) / window(ts, '…')]
 *             Project (keys, aggregate arguments and filters)
 *             Aggregate
 *   HAVING    Filter over the aggregate
 *   SELECT    Project (or, with DISTINCT, an Aggregate on every column)
 *   LIMIT     Limit
 *
 * Every expression is bound against a Schema (the columns of the node below
 * it): names resolve to column indexes, types come from exec/func.h's
 * overload resolution, and implicit casts become explicit EXPR_CAST nodes.
 * Above an aggregate, an expression may only use group keys (matched as
 * bound expressions, so `GROUP BY logs.user_id` matches `user_id`) and
 * aggregate calls.
 *
 * Errors: the first one wins; it carries the byte offset of the AST node.
 * During a "quiet" bind (trying whether an expression matches a group key)
 * errors are not recorded.
 */
#include "planner/bind.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/func.h"
#include "exec/timefmt.h"
#include "planner/names.h"

/* ---- types -------------------------------------------------------------------- */

typedef struct Binder {
    const Catalog  *cat;
    const Settings *settings;
    Plan           *plan;
    Arena          *a;
    SqlError       *err;
    int             failed;
    int             quiet;
    const char     *clause;      /* "WHERE", "GROUP BY", … for messages */
    char           *warn;
    size_t          warn_cap;
    int             depth;       /* views within views */
    /* WHERE conjuncts that read both sides of an inner join become join
     * conditions: bind_select names the join (where_join) and its WHERE;
     * bind_join takes it (where_taken) and leaves the rest in where_rest */
    const AstJoin  *where_join;
    const AstNode  *where_ast;
    int             where_taken;
    Expr           *where_rest;
} Binder;

/* Above an aggregate: what select/having expressions may refer to. */
typedef struct AggScope {
    const Schema  *in;      /* the aggregate's input scope (for matching keys) */
    int            nkeys;
    Expr         **keys;    /* bound over `in`                                 */
    int            naggs;
    const AstFunc **calls;
    const Schema  *out;     /* the aggregate's output: keys, then aggregates   */
} AggScope;

/* ---- small helpers --------------------------------------------------------------- */

static void *fail(Binder *B, int loc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void *fail(Binder *B, int loc, const char *fmt, ...)
{
    if (B->quiet || B->failed) {
        B->failed = 1;
        return NULL;
    }
    va_list ap;
    B->failed = 1;
    B->err->loc = loc;
    va_start(ap, fmt);
    vsnprintf(B->err->msg, sizeof B->err->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

static void warn(Binder *B, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(Binder *B, const char *fmt, ...)
{
    if (!B->warn || B->quiet) return;
    size_t used = strlen(B->warn);
    if (used + 2 >= B->warn_cap) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(B->warn + used, B->warn_cap - used - 1, fmt, ap);
    va_end(ap);
    used = strlen(B->warn);
    B->warn[used] = '\n';
    B->warn[used + 1] = 0;
}

static void *oom(Binder *B)
{
    int q = B->quiet;
    B->quiet = 0;
    fail(B, -1, "out of memory");
    B->quiet = q;
    return NULL;
}

static const char *astrdup(Binder *B, const char *s)
{
    return s ? arena_strndup(B->a, s, strlen(s)) : NULL;
}

static PlanNode *node_new(Binder *B, PlanKind kind, PlanNode *input, int ncols)
{
    PlanNode *n = arena_calloc(B->a, 1, sizeof *n);
    if (!n) return oom(B);
    n->kind = kind;
    n->input = input;
    n->id = B->plan->nnodes++;
    n->out.ncols = ncols;
    if (ncols > 0) {
        n->out.cols = arena_calloc(B->a, (size_t)ncols, sizeof *n->out.cols);
        if (!n->out.cols) return oom(B);
    }
    return n;
}

static int *int_array(Binder *B, int n)
{
    int *p = arena_calloc(B->a, (size_t)(n > 0 ? n : 1), sizeof *p);
    if (!p) oom(B);
    return p;
}

/* An upper-case copy of a function name for messages (in the plan's arena). */
static const char *upper(Binder *B, const char *name)
{
    char  *u = arena_strndup(B->a, name, strlen(name));
    if (!u) return name;
    for (char *c = u; *c; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    return u;
}

static int is_agg_name(const char *name)
{
    return !strcmp(name, "count") || !strcmp(name, "sum") || !strcmp(name, "avg") ||
           !strcmp(name, "min") || !strcmp(name, "max") ||
           !strcmp(name, "approx_count_distinct");
}

static int window_fn_kind(const char *name, WindowKind *k)
{
    if (!strcmp(name, "tumble")) *k = WINDOW_TUMBLE;
    else if (!strcmp(name, "hop")) *k = WINDOW_HOP;
    else if (!strcmp(name, "session")) *k = WINDOW_SESSION;
    else if (!strcmp(name, "cumulate")) *k = WINDOW_CUMULATE;
    else if (!strcmp(name, "window")) *k = WINDOW_TUMBLE;   /* Spark; HOP with a slide */
    else return 0;
    return 1;
}

/* tumble_start → window_start, hop_end → window_end, session_rowtime → window_time */
static const char *window_aux_column(const char *name)
{
    static const char *const prefixes[] = {"tumble_", "hop_", "session_", "cumulate_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(name, prefixes[i], n) != 0) continue;
        const char *rest = name + n;
        if (!strcmp(rest, "start")) return "window_start";
        if (!strcmp(rest, "end")) return "window_end";
        if (!strcmp(rest, "rowtime")) return "window_time";
    }
    return NULL;
}

/* ---- the watermark column of a plan's output ---------------------------------------- */

static int wm_col(const PlanNode *n)
{
    if (!n) return -1;
    switch (n->kind) {
    case PLAN_SCAN: return n->u.scan.wm_col;
    case PLAN_FILTER:
    case PLAN_LIMIT:
    case PLAN_EXCHANGE:
    case PLAN_WINDOW: return wm_col(n->input);
    case PLAN_JOIN: return wm_col(n->input);   /* the left side's event time */
    case PLAN_PROJECT: {
        int w = wm_col(n->input);
        if (w < 0) return -1;
        for (int i = 0; i < n->out.ncols; i++) {
            const Expr *e = n->u.project.exprs[i];
            if (e->op == EXPR_COLUMN && e->col == w) return i;
        }
        return -1;
    }
    default: return -1;
    }
}

/* Does column col of n come from window_start (*which 0), window_end (1) or
 * window_time (2) of a Window node? Returns that node or NULL. */
static const PlanNode *trace_window(const PlanNode *n, int col, int *which)
{
    while (n) {
        switch (n->kind) {
        case PLAN_FILTER:
        case PLAN_LIMIT:
        case PLAN_EXCHANGE:
            n = n->input;
            continue;
        case PLAN_PROJECT: {
            const Expr *e = n->u.project.exprs[col];
            if (e->op != EXPR_COLUMN) return NULL;
            col = e->col;
            n = n->input;
            continue;
        }
        case PLAN_WINDOW: {
            int base = n->input->out.ncols;
            if (col >= base) {
                *which = col - base;
                return n;
            }
            n = n->input;
            continue;
        }
        case PLAN_AGGREGATE:
            /* a group key passes its value through (window joins of aggregates) */
            if (col >= n->u.agg.nkeys) return NULL;
            col = n->u.agg.keys[col];
            n = n->input;
            continue;
        case PLAN_JOIN: {
            int nl = n->input->out.ncols;
            if (col >= nl) {
                col -= nl;
                n = n->right;
            } else {
                n = n->input;
            }
            continue;
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

/* The scan at the bottom of a chain, for messages ("… over 'logs'"). */
static const char *source_name(const PlanNode *n)
{
    while (n && n->kind != PLAN_SCAN) n = n->input;
    return n ? n->u.scan.stream : "the input";
}

/* ---- column resolution ------------------------------------------------------------ */

static int resolve_column(Binder *B, const Schema *s, const char *qual, const char *name, int loc)
{
    int found = -1, count = 0;
    for (int i = 0; i < s->ncols; i++) {
        if (strcmp(s->cols[i].name, name) != 0) continue;
        if (qual && (!s->cols[i].qualifier || strcmp(s->cols[i].qualifier, qual) != 0)) continue;
        if (count == 0) found = i;
        count++;
    }
    if (count == 1) return found;
    if (count > 1) {
        fail(B, loc, "column reference '%s' is ambiguous: qualify it, e.g. %s.%s", name,
             s->cols[found].qualifier ? s->cols[found].qualifier : "t", name);
        return -1;
    }
    /* Spark's window.start / window.end */
    if (qual && !strcmp(qual, "window") && (!strcmp(name, "start") || !strcmp(name, "end"))) {
        int k = resolve_column(B, s, NULL, !strcmp(name, "start") ? "window_start" : "window_end", loc);
        return k;
    }
    if (B->quiet) {
        B->failed = 1;
        return -1;
    }
    if (qual) {
        int known = 0;
        for (int i = 0; i < s->ncols; i++)
            if (s->cols[i].qualifier && !strcmp(s->cols[i].qualifier, qual)) known = 1;
        if (!known) {
            fail(B, loc, "unknown table or alias '%s' in '%s.%s'", qual, qual, name);
            return -1;
        }
    }
    const char **names = malloc((s->ncols > 0 ? (size_t)s->ncols : 1) * sizeof *names);
    if (!names) {
        oom(B);
        return -1;
    }
    for (int i = 0; i < s->ncols; i++) names[i] = s->cols[i].name;
    const char *from = NULL;
    for (int i = 0; i < s->ncols && !from; i++) from = s->cols[i].qualifier;
    char msg[400];
    if (from) snprintf(msg, sizeof msg, "unknown column '%s' in '%s'", name, from);
    else snprintf(msg, sizeof msg, "unknown column '%s'", name);
    name_append_suggestion(msg, sizeof msg, name, names, (size_t)s->ncols);
    free(names);
    if (!strcmp(name, "window_start") || !strcmp(name, "window_end") || !strcmp(name, "window_time"))
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
                 ": window columns exist after a window, e.g. FROM TUMBLE(s, ts, INTERVAL '10' SECOND)");
    fail(B, loc, "%s", msg);
    return -1;
}

/* ---- expressions ------------------------------------------------------------------- */

static Expr *bind_expr(Binder *B, const Schema *s, const AggScope *ag, const AstNode *n);

static int expr_equal(const Expr *a, const Expr *b)
{
    if (a->op != b->op || a->type != b->type || a->nargs != b->nargs) return 0;
    switch (a->op) {
    case EXPR_COLUMN: return a->col == b->col;
    case EXPR_CONST: return value_equal(&a->value, &b->value);
    case EXPR_FUNC: if (a->fn != b->fn) return 0; break;
    case EXPR_IS_NULL:
    case EXPR_IN: if (a->negated != b->negated) return 0; break;
    case EXPR_CASE: if (a->has_else != b->has_else) return 0; break;
    default: break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!expr_equal(a->args[i], b->args[i])) return 0;
    return 1;
}

/* Wrap e in a cast to t when its type differs (a NULL constant just takes t). */
static Expr *coerce(Binder *B, Expr *e, SqlType t)
{
    if (!e || e->type == t) return e;
    if (e->op == EXPR_CONST && e->value.is_null) {
        Expr *c = expr_const(B->a, value_null(t), e->loc);
        return c ? c : oom(B);
    }
    if (!cast_allowed(e->type, t))
        return fail(B, e->loc, "cannot convert %s to %s", sql_type_name(e->type), sql_type_name(t));
    Expr *c = expr_new(B->a, EXPR_CAST, t, 1, e->loc);
    if (!c) return oom(B);
    c->args[0] = e;
    return c;
}

static Expr *make_call(Binder *B, int fn, int nargs, Expr **args, int loc, const char *what)
{
    SqlType types[16], want[16], ret;
    char    why[256];
    if (nargs > 16) return fail(B, loc, "%s takes at most 16 arguments", what);
    for (int i = 0; i < nargs; i++) types[i] = args[i]->type;
    if (func_resolve(fn, nargs, types, want, &ret, why, sizeof why) != 0)
        return fail(B, loc, "%s", why);
    Expr *e = expr_new(B->a, EXPR_FUNC, ret, nargs, loc);
    if (!e) return oom(B);
    e->fn = fn;
    for (int i = 0; i < nargs; i++)
        if (!(e->args[i] = coerce(B, args[i], want[i]))) return NULL;
    return e;
}

static Expr *make_bool(Binder *B, ExprOp op, int nargs, Expr **args, int loc, const char *what)
{
    for (int i = 0; i < nargs; i++) {
        if (args[i]->type == TYPE_NULL) args[i] = coerce(B, args[i], TYPE_BOOLEAN);
        else if (args[i]->type != TYPE_BOOLEAN)
            return fail(B, args[i]->loc, "%s needs BOOLEAN operands, got %s", what,
                        sql_type_name(args[i]->type));
    }
    Expr *e = expr_new(B->a, op, TYPE_BOOLEAN, nargs, loc);
    if (!e) return oom(B);
    memcpy(e->args, args, (size_t)nargs * sizeof *args);
    return e;
}

static int binary_fn(AstBinaryOp op)
{
    switch (op) {
    case BOP_ADD: return FN_ADD;
    case BOP_SUB: return FN_SUB;
    case BOP_MUL: return FN_MUL;
    case BOP_DIV: return FN_DIV;
    case BOP_MOD: return FN_MOD;
    case BOP_CONCAT: return FN_CONCAT_OP;
    case BOP_EQ: return FN_EQ;
    case BOP_NE: return FN_NE;
    case BOP_LT: return FN_LT;
    case BOP_LE: return FN_LE;
    case BOP_GT: return FN_GT;
    case BOP_GE: return FN_GE;
    default: return -1;
    }
}

static const char *binary_sym(AstBinaryOp op)
{
    static const char *const s[] = {"+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR"};
    return s[op];
}

static Expr *bind_literal(Binder *B, const AstLiteral *l)
{
    Value v;
    int   loc = l->hdr.loc;
    switch (l->kind) {
    case LIT_NULL: v = value_null(TYPE_NULL); break;
    case LIT_BOOL: v = value_bool((int)l->ival); break;
    case LIT_INT: v = value_i64(TYPE_BIGINT, l->ival); break;
    case LIT_DOUBLE: v = value_f64(l->dval); break;
    case LIT_STRING: v = value_str(l->text, (uint32_t)strlen(l->text)); break;
    case LIT_INTERVAL: v = value_i64(TYPE_INTERVAL, l->ival); break;
    case LIT_TIMESTAMP: {
        int64_t ts;
        if (ts_parse(l->text, strlen(l->text), &ts) != 0)
            return fail(B, loc, "invalid TIMESTAMP literal '%s' (expected e.g. '2024-01-31 12:00:00')", l->text);
        v = value_i64(TYPE_TIMESTAMP, ts);
        break;
    }
    default: return fail(B, loc, "unsupported literal");
    }
    Expr *e = expr_const(B->a, v, loc);
    return e ? e : oom(B);
}

static Expr *bind_func(Binder *B, const Schema *s, const AggScope *ag, const AstFunc *f)
{
    int loc = f->hdr.loc;
    if (is_agg_name(f->name)) {
        if (!ag) return fail(B, loc, "aggregate function %s is not allowed in %s", upper(B, f->name), B->clause);
        /* nested inside an aggregate's argument */
        return fail(B, loc, "aggregate function calls cannot be nested");
    }
    if (f->filter) return fail(B, f->filter->loc, "FILTER (WHERE …) applies only to aggregate functions");
    if (f->distinct) return fail(B, loc, "DISTINCT applies only to aggregate functions");
    if (f->star) return fail(B, loc, "%s(*) is not a function call; only COUNT(*) takes *", f->name);

    const char *aux = window_aux_column(f->name);
    if (aux) {
        int col = resolve_column(B, s, NULL, aux, loc);
        if (col < 0) {
            if (!B->quiet && strstr(B->err->msg, "unknown column"))
                snprintf(B->err->msg, sizeof B->err->msg,
                         "%s needs a group window: GROUP BY %.*s(ts, INTERVAL …)", upper(B, f->name),
                         (int)(strchr(f->name, '_') - f->name), upper(B, f->name));
            return NULL;
        }
        Expr *e = expr_column(B->a, col, s->cols[col].type, loc);
        return e ? e : oom(B);
    }
    WindowKind wk;
    if (window_fn_kind(f->name, &wk))
        return fail(B, loc, "window function %s belongs in FROM or GROUP BY", upper(B, f->name));

    int fn = func_lookup(f->name);
    if (fn < 0) {
        static const char *const callable[] = {
#define CALLABLE_(id, name, call, op, syn, mn, mx, usage) call,
            FUNC_LIST(CALLABLE_)
#undef CALLABLE_
        };
        static const char *const extra[] = {"count", "sum", "avg", "min", "max",
                                            "approx_count_distinct", "char_length", "ceiling"};
        const char *names[sizeof callable / sizeof callable[0] + sizeof extra / sizeof extra[0]];
        size_t      n = 0;
        for (size_t i = 0; i < sizeof callable / sizeof callable[0]; i++)
            if (callable[i]) names[n++] = callable[i];
        for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) names[n++] = extra[i];
        char msg[300];
        snprintf(msg, sizeof msg, "unknown function '%s'", f->name);
        name_append_suggestion(msg, sizeof msg, f->name, names, n);
        return fail(B, loc, "%s", msg);
    }
    Expr *args[16];
    if (f->args.n > 16) return fail(B, loc, "too many arguments to %s", f->name);
    for (int i = 0; i < f->args.n; i++)
        if (!(args[i] = bind_expr(B, s, ag, f->args.items[i]))) return NULL;
    return make_call(B, fn, f->args.n, args, loc, f->name);
}

static Expr *bind_case(Binder *B, const Schema *s, const AggScope *ag, const AstCase *c)
{
    int   n = c->whens.n * 2 + (c->else_ ? 1 : 0);
    Expr *e = expr_new(B->a, EXPR_CASE, TYPE_NULL, n, c->hdr.loc);
    if (!e) return oom(B);
    e->has_else = c->else_ != NULL;
    Expr   *operand = c->operand ? bind_expr(B, s, ag, c->operand) : NULL;
    SqlType t = TYPE_NULL;
    if (c->operand && !operand) return NULL;
    for (int i = 0; i < c->whens.n; i++) {
        const AstWhen *w = AST_AS(AstWhen, c->whens.items[i]);
        Expr          *cond = bind_expr(B, s, ag, w->cond);
        if (!cond) return NULL;
        if (operand) {
            Expr *pair[2] = {operand, cond};
            cond = make_call(B, FN_EQ, 2, pair, w->cond->loc, "CASE");
            if (!cond) return NULL;
        }
        Expr *bl[1] = {cond};
        if (cond->type != TYPE_BOOLEAN && !make_bool(B, EXPR_AND, 1, bl, cond->loc, "CASE WHEN"))
            return NULL;
        e->args[2 * i] = bl[0];
        if (!(e->args[2 * i + 1] = bind_expr(B, s, ag, w->result))) return NULL;
        SqlType nt = type_common(t, e->args[2 * i + 1]->type);
        if (nt == TYPE_NULL && t != TYPE_NULL && e->args[2 * i + 1]->type != TYPE_NULL)
            return fail(B, w->result->loc, "CASE branches have incompatible types %s and %s",
                        sql_type_name(t), sql_type_name(e->args[2 * i + 1]->type));
        if (nt != TYPE_NULL) t = nt;
    }
    if (c->else_) {
        Expr *x = bind_expr(B, s, ag, c->else_);
        if (!x) return NULL;
        SqlType nt = type_common(t, x->type);
        if (nt == TYPE_NULL && t != TYPE_NULL && x->type != TYPE_NULL)
            return fail(B, c->else_->loc, "CASE branches have incompatible types %s and %s",
                        sql_type_name(t), sql_type_name(x->type));
        if (nt != TYPE_NULL) t = nt;
        e->args[n - 1] = x;
    }
    if (t == TYPE_NULL) t = TYPE_VARCHAR;   /* every branch NULL */
    for (int i = 0; i < c->whens.n; i++)
        if (!(e->args[2 * i + 1] = coerce(B, e->args[2 * i + 1], t))) return NULL;
    if (c->else_ && !(e->args[n - 1] = coerce(B, e->args[n - 1], t))) return NULL;
    e->type = t;
    return e;
}

static Expr *negate(Binder *B, Expr *e, int loc)
{
    Expr *x = expr_new(B->a, EXPR_NOT, TYPE_BOOLEAN, 1, loc);
    if (!x) return oom(B);
    x->args[0] = e;
    return x;
}

static int agg_index(const AggScope *ag, const AstNode *n)
{
    for (int i = 0; i < ag->naggs; i++)
        if (ast_equal((const AstNode *)ag->calls[i], n)) return i;
    return -1;
}

static Expr *bind_expr(Binder *B, const Schema *s, const AggScope *ag, const AstNode *n)
{
    if (B->failed && !B->quiet) return NULL;
    if (ag) {
        /* 1. an aggregate call → its output column */
        if (IS_A(n, AST_FUNC) && is_agg_name(AST_AS(AstFunc, n)->name)) {
            int j = agg_index(ag, n);
            if (j < 0) return fail(B, n->loc, "aggregate function calls cannot be nested");
            int col = ag->nkeys + j;
            Expr *e = expr_column(B->a, col, ag->out->cols[col].type, n->loc);
            return e ? e : oom(B);
        }
        /* 2. an expression equal to a group key → the key column */
        if (!IS_A(n, AST_LITERAL)) {
            int         q = B->quiet, f = B->failed;
            const char *clause = B->clause;
            B->quiet = 1;
            B->failed = 0;
            Expr *try = bind_expr(B, ag->in, NULL, n);
            B->quiet = q;
            B->failed = f;
            B->clause = clause;
            if (try) {
                for (int i = 0; i < ag->nkeys; i++)
                    if (expr_equal(try, ag->keys[i])) {
                        Expr *e = expr_column(B->a, i, ag->out->cols[i].type, n->loc);
                        return e ? e : oom(B);
                    }
            }
        }
        /* 3. a column that is not a key */
        if (IS_A(n, AST_COLUMN_REF)) {
            const AstColumnRef *cr = AST_AS(AstColumnRef, n);
            return fail(B, n->loc,
                        "column '%s' must appear in GROUP BY or be used in an aggregate function",
                        cr->name);
        }
        if (IS_A(n, AST_FUNC) && window_aux_column(AST_AS(AstFunc, n)->name))
            return fail(B, n->loc, "%s needs a matching group window in GROUP BY",
                        upper(B, AST_AS(AstFunc, n)->name));
        /* 4. otherwise bind the node itself, its children in this same mode */
        s = ag->out;
    }

    switch (n->tag) {
    case AST_LITERAL:
        return bind_literal(B, AST_AS(AstLiteral, n));
    case AST_COLUMN_REF: {
        const AstColumnRef *cr = AST_AS(AstColumnRef, n);
        int                 col = resolve_column(B, s, cr->qualifier, cr->name, n->loc);
        if (col < 0) return NULL;
        Expr *e = expr_column(B->a, col, s->cols[col].type, n->loc);
        return e ? e : oom(B);
    }
    case AST_STAR:
        return fail(B, n->loc, "'*' is only allowed in the select list and in COUNT(*)");
    case AST_UNARY: {
        const AstUnary *u = AST_AS(AstUnary, n);
        Expr           *x = bind_expr(B, s, ag, u->arg);
        if (!x) return NULL;
        if (u->op == UOP_NOT) return make_bool(B, EXPR_NOT, 1, &x, n->loc, "NOT");
        if (u->op == UOP_PLUS) {
            if (x->type != TYPE_BIGINT && x->type != TYPE_DOUBLE && x->type != TYPE_INTERVAL && x->type != TYPE_NULL)
                return fail(B, n->loc, "unary '+' needs a number, got %s", sql_type_name(x->type));
            return x;
        }
        return make_call(B, FN_NEG, 1, &x, n->loc, "unary '-'");
    }
    case AST_BINARY: {
        const AstBinary *b = AST_AS(AstBinary, n);
        Expr            *args[2];
        if (!(args[0] = bind_expr(B, s, ag, b->left))) return NULL;
        if (!(args[1] = bind_expr(B, s, ag, b->right))) return NULL;
        if (b->op == BOP_AND) return make_bool(B, EXPR_AND, 2, args, n->loc, "AND");
        if (b->op == BOP_OR) return make_bool(B, EXPR_OR, 2, args, n->loc, "OR");
        return make_call(B, binary_fn(b->op), 2, args, n->loc, binary_sym(b->op));
    }
    case AST_FUNC:
        return bind_func(B, s, ag, AST_AS(AstFunc, n));
    case AST_CASE:
        return bind_case(B, s, ag, AST_AS(AstCase, n));
    case AST_CAST: {
        const AstCast *c = AST_AS(AstCast, n);
        Expr          *x = bind_expr(B, s, ag, c->arg);
        if (!x) return NULL;
        SqlType t;
        switch (c->type.name) {
        case AST_TYPE_BOOLEAN: t = TYPE_BOOLEAN; break;
        case AST_TYPE_BIGINT: t = TYPE_BIGINT; break;
        case AST_TYPE_DOUBLE: t = TYPE_DOUBLE; break;
        case AST_TYPE_VARCHAR: t = TYPE_VARCHAR; break;
        case AST_TYPE_TIMESTAMP: t = TYPE_TIMESTAMP; break;
        default: t = TYPE_INTERVAL; break;
        }
        if (x->type == t) return x;
        if (x->op == EXPR_CONST && x->value.is_null) return coerce(B, x, t);
        if (!cast_allowed(x->type, t))
            return fail(B, n->loc, "cannot cast %s to %s", sql_type_name(x->type), sql_type_name(t));
        Expr *e = expr_new(B->a, EXPR_CAST, t, 1, n->loc);
        if (!e) return oom(B);
        e->args[0] = x;
        return e;
    }
    case AST_IS_NULL: {
        const AstIsNull *i = AST_AS(AstIsNull, n);
        Expr            *x = bind_expr(B, s, ag, i->arg);
        if (!x) return NULL;
        Expr *e = expr_new(B->a, EXPR_IS_NULL, TYPE_BOOLEAN, 1, n->loc);
        if (!e) return oom(B);
        e->args[0] = x;
        e->negated = i->negated;
        return e;
    }
    case AST_BETWEEN: {
        const AstBetween *bt = AST_AS(AstBetween, n);
        Expr             *x = bind_expr(B, s, ag, bt->arg);
        Expr             *lo = x ? bind_expr(B, s, ag, bt->lo) : NULL;
        Expr             *hi = lo ? bind_expr(B, s, ag, bt->hi) : NULL;
        if (!hi) return NULL;
        Expr *ge[2] = {x, lo}, *le[2] = {x, hi};
        Expr *both[2];
        if (!(both[0] = make_call(B, FN_GE, 2, ge, n->loc, "BETWEEN"))) return NULL;
        if (!(both[1] = make_call(B, FN_LE, 2, le, n->loc, "BETWEEN"))) return NULL;
        Expr *e = make_bool(B, EXPR_AND, 2, both, n->loc, "BETWEEN");
        return e && bt->negated ? negate(B, e, n->loc) : e;
    }
    case AST_IN_LIST: {
        const AstInList *in = AST_AS(AstInList, n);
        Expr            *e = expr_new(B->a, EXPR_IN, TYPE_BOOLEAN, in->list.n + 1, n->loc);
        if (!e) return oom(B);
        e->negated = in->negated;
        if (!(e->args[0] = bind_expr(B, s, ag, in->arg))) return NULL;
        SqlType t = e->args[0]->type;
        for (int i = 0; i < in->list.n; i++) {
            if (!(e->args[i + 1] = bind_expr(B, s, ag, in->list.items[i]))) return NULL;
            SqlType nt = type_common(t, e->args[i + 1]->type);
            if (nt == TYPE_NULL && t != TYPE_NULL && e->args[i + 1]->type != TYPE_NULL) {
                /* VARCHAR literal against a TIMESTAMP, as in comparisons */
                if (t == TYPE_TIMESTAMP && e->args[i + 1]->type == TYPE_VARCHAR) continue;
                return fail(B, in->list.items[i]->loc, "IN list item of type %s does not match %s",
                            sql_type_name(e->args[i + 1]->type), sql_type_name(t));
            }
            if (nt != TYPE_NULL) t = nt;
        }
        if (t == TYPE_NULL) t = TYPE_BIGINT;
        for (int i = 0; i <= in->list.n; i++)
            if (!(e->args[i] = coerce(B, e->args[i], t))) return NULL;
        return e;
    }
    case AST_LIKE: {
        const AstLike *lk = AST_AS(AstLike, n);
        Expr          *args[3];
        int            nargs = 2;
        if (!(args[0] = bind_expr(B, s, ag, lk->arg))) return NULL;
        if (!(args[1] = bind_expr(B, s, ag, lk->pattern))) return NULL;
        if (lk->escape) {
            if (!(args[2] = bind_expr(B, s, ag, lk->escape))) return NULL;
            nargs = 3;
        }
        Expr *e = make_call(B, lk->kind == LIKE_SIMILAR ? FN_SIMILAR : FN_LIKE, nargs, args, n->loc,
                            lk->kind == LIKE_SIMILAR ? "SIMILAR TO" : "LIKE");
        return e && lk->negated ? negate(B, e, n->loc) : e;
    }
    default:
        return fail(B, n->loc, "this expression is not allowed here");
    }
}

/* An INTERVAL-valued constant argument (INTERVAL '10' SECOND or '10 seconds'). */
static int interval_arg(Binder *B, const AstNode *n, const char *what, int64_t *us)
{
    if (IS_A(n, AST_LITERAL)) {
        const AstLiteral *l = AST_AS(AstLiteral, n);
        if (l->kind == LIT_INTERVAL) *us = l->ival;
        else if (l->kind == LIT_STRING && interval_parse(l->text, strlen(l->text), us) == 0) {
        } else {
            fail(B, n->loc, "%s must be an interval like INTERVAL '10' SECOND or '10 seconds'", what);
            return -1;
        }
        if (*us <= 0) {
            fail(B, n->loc, "%s must be positive", what);
            return -1;
        }
        return 0;
    }
    fail(B, n->loc, "%s must be an interval literal like INTERVAL '10' SECOND", what);
    return -1;
}

/* ---- FROM ----------------------------------------------------------------------- */

static PlanNode *bind_select(Binder *B, const AstSelect *sel, EmitMode *emit);

/* Give every output column of n the qualifier q. */
static void requalify(Binder *B, PlanNode *n, const char *q)
{
    const char *c = astrdup(B, q);
    for (int i = 0; i < n->out.ncols; i++) n->out.cols[i].qualifier = c;
}

static PlanNode *bind_scan(Binder *B, const CatObject *o, const char *alias, int loc)
{
    (void)loc;
    PlanNode *n = node_new(B, PLAN_SCAN, NULL, o->ncols);
    if (!n) return NULL;
    const char *q = astrdup(B, alias ? alias : o->name);
    PlanColumn *src = arena_calloc(B->a, (size_t)o->ncols, sizeof *src);
    n->u.scan.proj = int_array(B, o->ncols);
    n->u.scan.opt_keys = arena_calloc(B->a, (size_t)(o->nopts + 1), sizeof(char *));
    n->u.scan.opt_values = arena_calloc(B->a, (size_t)(o->nopts + 1), sizeof(char *));
    if (!src || !n->u.scan.proj || !n->u.scan.opt_keys || !n->u.scan.opt_values) return oom(B);
    for (int i = 0; i < o->ncols; i++) {
        src[i].name = astrdup(B, o->cols[i].name);
        src[i].qualifier = q;
        src[i].type = o->cols[i].type;
        n->out.cols[i] = src[i];
        n->u.scan.proj[i] = i;
    }
    for (int i = 0; i < o->nopts; i++) {
        n->u.scan.opt_keys[i] = astrdup(B, o->opts[i].key);
        n->u.scan.opt_values[i] = astrdup(B, o->opts[i].value);
    }
    n->u.scan.nopts = o->nopts;
    n->u.scan.stream = astrdup(B, o->name);
    n->u.scan.alias = astrdup(B, alias);
    n->u.scan.connector = astrdup(B, o->connector);
    n->u.scan.format = astrdup(B, o->format);
    n->u.scan.nsource_cols = o->ncols;
    n->u.scan.source_cols = src;
    n->u.scan.wm_col = o->wm_col;
    n->u.scan.wm_delay_us = o->wm_delay_us;
    return n;
}

static PlanNode *bind_view(Binder *B, const CatObject *o, const char *alias, int loc)
{
    if (B->depth > 16) return fail(B, loc, "views nest too deeply (is view '%s' defined in terms of itself?)", o->name);
    SqlParse *p = sql_parse(o->view_sql, strlen(o->view_sql));
    if (!p) return oom(B);
    if (p->nerrors || p->nstmts != 1 || !IS_A(p->stmts[0], AST_SELECT)) {
        sql_parse_free(p);
        return fail(B, loc, "view '%s' could not be re-read", o->name);
    }
    B->depth++;
    SqlError  inner;
    SqlError *outer = B->err;
    EmitMode  em;
    B->err = &inner;
    PlanNode *n = bind_select(B, AST_AS(AstSelect, p->stmts[0]), &em);
    B->err = outer;
    B->depth--;
    sql_parse_free(p);
    if (!n) {
        if (!B->quiet) {
            B->err->loc = loc;
            snprintf(B->err->msg, sizeof B->err->msg, "in view '%.64s': %.400s", o->name, inner.msg);
        }
        return NULL;
    }
    requalify(B, n, alias ? alias : o->name);
    return n;
}

static PlanNode *bind_window_tvf(Binder *B, const AstWindowTvf *w);
static PlanNode *bind_join(Binder *B, const AstJoin *j);

static PlanNode *bind_from(Binder *B, const AstNode *from)
{
    switch (from->tag) {
    case AST_TABLE_REF: {
        const AstTableRef *t = AST_AS(AstTableRef, from);
        const CatObject   *o = catalog_find(B->cat, t->name);
        if (!o)
            return fail(B, from->loc, "unknown stream or view '%s'%s", t->name,
                        catalog_suggest(B->cat, t->name));
        if (o->kind == CAT_SINK)
            return fail(B, from->loc, "'%s' is a sink: queries read from streams and views", t->name);
        if (o->kind == CAT_VIEW) return bind_view(B, o, t->alias, from->loc);
        return bind_scan(B, o, t->alias, from->loc);
    }
    case AST_SUBQUERY: {
        const AstSubquery *sq = AST_AS(AstSubquery, from);
        EmitMode           em;
        PlanNode          *n = bind_select(B, sq->query, &em);
        if (n && sq->alias) requalify(B, n, sq->alias);
        return n;
    }
    case AST_WINDOW_TVF:
        return bind_window_tvf(B, AST_AS(AstWindowTvf, from));
    case AST_JOIN:
        return bind_join(B, AST_AS(AstJoin, from));
    default:
        return fail(B, from->loc, "unsupported FROM item");
    }
}

/* A Window node over input: out = input columns + window_start/_end/_time. */
#define MAX_WINDOWS_PER_ROW 100000

static PlanNode *window_node(Binder *B, PlanNode *input, WindowKind kind, int time_col,
                             int64_t a1, int64_t a2, int loc)
{
    /* each row belongs to size / slide HOP windows (size / step CUMULATE
     * windows): bounded, or one row could fill memory */
    if ((kind == WINDOW_HOP || kind == WINDOW_CUMULATE) && a1 > 0 && a2 / a1 > MAX_WINDOWS_PER_ROW)
        return fail(B, loc,
                    "%s puts each row in %lld windows (size / %s); at most %d are allowed: use a larger %s",
                    kind == WINDOW_HOP ? "this HOP" : "this CUMULATE", (long long)(a2 / a1),
                    kind == WINDOW_HOP ? "slide" : "step", MAX_WINDOWS_PER_ROW,
                    kind == WINDOW_HOP ? "slide" : "step");
    int       base = input->out.ncols;
    PlanNode *n = node_new(B, PLAN_WINDOW, input, base + 3);
    if (!n) return NULL;
    memcpy(n->out.cols, input->out.cols, (size_t)base * sizeof *n->out.cols);
    const char *q = base > 0 ? input->out.cols[time_col].qualifier : NULL;
    static const char *const names[] = {"window_start", "window_end", "window_time"};
    for (int i = 0; i < 3; i++) {
        n->out.cols[base + i].name = names[i];
        n->out.cols[base + i].qualifier = q;
        n->out.cols[base + i].type = TYPE_TIMESTAMP;
    }
    n->u.window.kind = kind;
    n->u.window.time_col = time_col;
    switch (kind) {
    case WINDOW_TUMBLE: n->u.window.size_us = a1; break;
    case WINDOW_HOP: n->u.window.slide_us = a1; n->u.window.size_us = a2; break;
    case WINDOW_CUMULATE: n->u.window.slide_us = a1; n->u.window.size_us = a2; break;
    case WINDOW_SESSION: n->u.window.gap_us = a1; break;
    }
    return n;
}

static int window_args(Binder *B, WindowKind kind, const AstList *args, int loc, int first,
                       int64_t *a1, int64_t *a2, const char *fname)
{
    int want = (kind == WINDOW_HOP || kind == WINDOW_CUMULATE) ? 2 : 1;
    int have = args->n - first;
    if (have != want) {
        static const char *const usage[] = {
            "TUMBLE(stream, time_col, size)", "HOP(stream, time_col, slide, size)",
            "SESSION(stream, time_col, gap)", "CUMULATE(stream, time_col, step, size)"};
        fail(B, loc, "%s takes %d interval argument%s: %s", fname, want, want > 1 ? "s" : "",
             usage[kind]);
        return -1;
    }
    const char *n1 = kind == WINDOW_TUMBLE ? "window size" : kind == WINDOW_SESSION ? "session gap"
                   : kind == WINDOW_HOP ? "window slide" : "window step";
    if (interval_arg(B, args->items[first], n1, a1)) return -1;
    if (want == 2) {
        if (interval_arg(B, args->items[first + 1], "window size", a2)) return -1;
        if (kind == WINDOW_CUMULATE && *a2 % *a1 != 0) {
            fail(B, args->items[first + 1]->loc, "CUMULATE size must be a whole multiple of its step");
            return -1;
        }
        if (*a1 > *a2) {
            fail(B, args->items[first]->loc, "window slide/step must not exceed the window size");
            return -1;
        }
    }
    return 0;
}

static int time_column(Binder *B, const PlanNode *input, const AstNode *ref)
{
    if (!IS_A(ref, AST_COLUMN_REF)) {
        fail(B, ref ? ref->loc : -1, "the window's time column must be a column name, e.g. ts");
        return -1;
    }
    const AstColumnRef *cr = AST_AS(AstColumnRef, ref);
    int                 col = resolve_column(B, &input->out, cr->qualifier, cr->name, ref->loc);
    if (col < 0) return -1;
    if (input->out.cols[col].type != TYPE_TIMESTAMP) {
        fail(B, ref->loc, "window time column '%s' must be a TIMESTAMP, not %s", cr->name,
             sql_type_name(input->out.cols[col].type));
        return -1;
    }
    return col;
}

static PlanNode *bind_window_tvf(Binder *B, const AstWindowTvf *w)
{
    PlanNode *input = bind_from(B, w->source);
    if (!input) return NULL;
    int col = time_column(B, input, w->timecol);
    if (col < 0) return NULL;
    int64_t           a1 = 0, a2 = 0;
    static const char *const fnames[] = {"TUMBLE", "HOP", "SESSION", "CUMULATE"};
    WindowKind        kind = (WindowKind)w->kind;
    if (window_args(B, kind, &w->args, w->hdr.loc, 0, &a1, &a2, fnames[kind])) return NULL;
    PlanNode *n = window_node(B, input, kind, col, a1, a2, w->hdr.loc);
    if (n && w->partition_by.n > 0) {
        n->u.window.nkeys = w->partition_by.n;
        n->u.window.keys = int_array(B, w->partition_by.n);
        for (int i = 0; n->u.window.keys && i < w->partition_by.n; i++) {
            const AstNode *k = w->partition_by.items[i];
            if (!IS_A(k, AST_COLUMN_REF)) return fail(B, k->loc, "PARTITION BY takes column names");
            int c = resolve_column(B, &input->out, AST_AS(AstColumnRef, k)->qualifier,
                                   AST_AS(AstColumnRef, k)->name, k->loc);
            if (c < 0) return NULL;
            n->u.window.keys[i] = c;
        }
    }
    if (n && w->alias) requalify(B, n, w->alias);
    return n;
}

/* ---- joins ----------------------------------------------------------------------- */

/* the conjuncts of an AND tree, left to right */
static int count_and(const Expr *e)
{
    if (e->op != EXPR_AND) return 1;
    int n = 0;
    for (int i = 0; i < e->nargs; i++) n += count_and(e->args[i]);
    return n;
}

static void split_and(Expr *e, Expr **out, int *n)
{
    if (e->op == EXPR_AND) {
        for (int i = 0; i < e->nargs; i++) split_and(e->args[i], out, n);
        return;
    }
    out[(*n)++] = e;
}

/* which sides of a join (left columns < nl) an expression reads */
static void expr_sides(const Expr *e, int nl, int *uses_l, int *uses_r)
{
    if (e->op == EXPR_COLUMN) {
        if (e->col < nl) *uses_l = 1;
        else *uses_r = 1;
    }
    for (int i = 0; i < e->nargs; i++) expr_sides(e->args[i], nl, uses_l, uses_r);
}

static Expr *and_of(Binder *B, Expr *a, Expr *b)
{
    if (!a) return b;
    Expr *x = expr_new(B->a, EXPR_AND, TYPE_BOOLEAN, 2, a->loc);
    if (!x) return oom(B);
    x->args[0] = a;
    x->args[1] = b;
    return x;
}

/* col, or col ± constant interval: the column and the offset in µs. */
static int time_operand(const Expr *e, int *col, int64_t *off)
{
    if (e->op == EXPR_CAST) e = e->args[0];
    if (e->op == EXPR_COLUMN && e->type == TYPE_TIMESTAMP) {
        *col = e->col;
        *off = 0;
        return 1;
    }
    if (e->op == EXPR_FUNC && (e->fn == FN_ADD || e->fn == FN_SUB) && e->nargs == 2 &&
        e->args[0]->op == EXPR_COLUMN && e->args[0]->type == TYPE_TIMESTAMP &&
        e->args[1]->op == EXPR_CONST && e->args[1]->type == TYPE_INTERVAL && !e->args[1]->value.is_null &&
        !(e->fn == FN_SUB && e->args[1]->value.u.i == INT64_MIN)) {
        *col = e->args[0]->col;
        *off = e->fn == FN_ADD ? e->args[1]->value.u.i : -e->args[1]->value.u.i;
        return 1;
    }
    return 0;
}

/* A bound on l.t - r.t from one comparison: l.t >= r.t + a gives lower a;
 * l.t <= r.t + b gives upper b (and the mirrored forms). Timestamps are
 * integer µs, so a strict comparison is the inclusive one 1 µs tighter:
 * l.t > r.t + a  ⇔  l.t - r.t >= a + 1 µs (exact: no residual needed).
 * Several bounds on one side combine to the tightest. */
static int time_bound(const Expr *c, int nleft, int *lt, int *rt, int64_t *lo, int *has_lo, int64_t *hi,
                      int *has_hi)
{
    if (c->op != EXPR_FUNC || c->nargs != 2) return 0;
    int fn = c->fn;
    if (fn != FN_GE && fn != FN_GT && fn != FN_LE && fn != FN_LT) return 0;
    int     ca, cb;
    int64_t oa, ob;
    if (!time_operand(c->args[0], &ca, &oa) || !time_operand(c->args[1], &cb, &ob)) return 0;
    int left_first = ca < nleft && cb >= nleft;
    int right_first = ca >= nleft && cb < nleft;
    if (!left_first && !right_first) return 0;
    /* normalize to  l.t + ol  OP  r.t + or  with l on the left */
    int     l = left_first ? ca : cb, r = left_first ? cb : ca;
    int64_t ol = left_first ? oa : ob, orr = left_first ? ob : oa;
    int     ge = fn == FN_GE || fn == FN_GT;
    int     strict = fn == FN_GT || fn == FN_LT;
    if (!left_first) ge = !ge;
    if ((*lt >= 0 && *lt != l) || (*rt >= 0 && *rt != r)) return 0;
    /* l.t - r.t >= orr - ol (+ 1 µs if strict)   or   <= orr - ol (- 1 µs) */
    int64_t d;
    if (__builtin_sub_overflow(orr, ol, &d)) return 0;
    if (strict && __builtin_add_overflow(d, ge ? 1 : -1, &d)) return 0;
    *lt = l;
    *rt = r;
    if (ge) {
        if (!*has_lo || d > *lo) *lo = d;
        *has_lo = 1;
    } else {
        if (!*has_hi || d < *hi) *hi = d;
        *has_hi = 1;
    }
    return 1;
}

enum { CONJ_OTHER, CONJ_KEY, CONJ_BOUND };

static PlanNode *bind_join(Binder *B, const AstJoin *j)
{
    /* an inner or comma join at the top of a FROM with a WHERE takes the
     * WHERE conjuncts that read both sides as join conditions (Flink does);
     * bind_select applies the rest (B->where_rest) */
    int take_where = B->where_join == j;
    if (take_where) B->where_join = NULL;
    PlanNode *l = bind_from(B, j->left);
    PlanNode *r = l ? bind_from(B, j->right) : NULL;
    if (!r) return NULL;
    int       nl = l->out.ncols, nr = r->out.ncols;
    PlanNode *n = node_new(B, PLAN_JOIN, l, nl + nr);
    if (!n) return NULL;
    n->right = r;
    memcpy(n->out.cols, l->out.cols, (size_t)nl * sizeof *n->out.cols);
    memcpy(n->out.cols + nl, r->out.cols, (size_t)nr * sizeof *n->out.cols);
    n->u.join.kind = j->kind == JOIN_LEFT ? PJOIN_LEFT : j->kind == JOIN_RIGHT ? PJOIN_RIGHT
                   : j->kind == JOIN_FULL ? PJOIN_FULL : PJOIN_INNER;
    n->u.join.ltime = n->u.join.rtime = -1;
    int   loc = j->on ? j->on->loc : j->hdr.loc;
    Expr *on = NULL, *where = NULL;
    if (j->on) {
        B->clause = "ON";
        on = bind_expr(B, &n->out, NULL, j->on);
        if (!on) return NULL;
        if (on->type != TYPE_BOOLEAN)
            return fail(B, j->on->loc, "ON needs a BOOLEAN condition, got %s", sql_type_name(on->type));
    }
    if (take_where) {
        B->clause = "WHERE";
        where = bind_expr(B, &n->out, NULL, B->where_ast);
        if (!where) return NULL;
        if (where->type == TYPE_BOOLEAN) B->where_taken = 1;
        else where = NULL;   /* bind_select reports it */
        B->clause = "ON";
    }

    int    non = on ? count_and(on) : 0, nwh = where ? count_and(where) : 0, nc = 0;
    Expr **c = arena_alloc(B->a, (size_t)(non + nwh + 1) * sizeof *c);
    int   *kind = int_array(B, non + nwh + 1);
    int   *lk = int_array(B, non + nwh + 1), *rk = int_array(B, non + nwh + 1);
    if (!c || !kind || !lk || !rk) return oom(B);
    if (on) split_and(on, c, &nc);
    if (where) {
        Expr **w = arena_alloc(B->a, (size_t)nwh * sizeof *w);
        int    nw = 0;
        if (!w) return oom(B);
        split_and(where, w, &nw);
        B->where_rest = NULL;
        for (int i = 0; i < nw; i++) {
            int ul = 0, ur = 0;
            expr_sides(w[i], nl, &ul, &ur);
            if (ul && ur) c[nc++] = w[i];
            else if (!(B->where_rest = and_of(B, B->where_rest, w[i]))) return NULL;
        }
    }
    if (nc == 0)
        return fail(B, j->hdr.loc,
                    "a streaming join needs an ON condition with at least one equality between the two sides "
                    "(a.k = b.k): a cross join of two unbounded streams never ends");
    int     nkeys = 0;
    int     lt = -1, rt = -1, has_lo = 0, has_hi = 0;
    int64_t lo = 0, hi = 0;
    for (int i = 0; i < nc; i++) {
        Expr *e = c[i];
        kind[i] = CONJ_OTHER;
        if (e->op == EXPR_FUNC && e->fn == FN_EQ && e->nargs == 2 && e->args[0]->op == EXPR_COLUMN &&
            e->args[1]->op == EXPR_COLUMN) {
            int a = e->args[0]->col, b2 = e->args[1]->col;
            if (a < nl && b2 >= nl) {
                lk[nkeys] = a;
                rk[nkeys++] = b2 - nl;
                kind[i] = CONJ_KEY;
                continue;
            }
            if (b2 < nl && a >= nl) {
                lk[nkeys] = b2;
                rk[nkeys++] = a - nl;
                kind[i] = CONJ_KEY;
                continue;
            }
        }
        if (time_bound(e, nl, &lt, &rt, &lo, &has_lo, &hi, &has_hi)) kind[i] = CONJ_BOUND;
    }
    if (nkeys == 0)
        return fail(B, loc,
                    "a streaming join needs at least one equality between the two sides in ON (a.k = b.k), "
                    "so rows can be partitioned by key");
    n->u.join.nkeys = nkeys;
    n->u.join.lkeys = lk;
    n->u.join.rkeys = rk;

    /* flavor: window join (both sides windowed, joined on window_start/window_end),
     * interval join (time bounds between the sides' watermark columns), or regular */
    int wl = 0, wr = 0, wend_k = -1;
    for (int k = 0; k < nkeys; k++) {
        int which_l, which_r;
        const PlanNode *a = trace_window(l, lk[k], &which_l);
        const PlanNode *b2 = trace_window(r, rk[k], &which_r);
        if (a && b2 && which_l == which_r && which_l <= 1) {
            if (a->u.window.kind != b2->u.window.kind || a->u.window.size_us != b2->u.window.size_us ||
                a->u.window.slide_us != b2->u.window.slide_us)
                return fail(B, loc, "a window join needs the same window on both sides");
            if (which_l == 0) wl = 1;
            else {
                wr = 1;
                wend_k = k;
            }
        }
    }
    if (wl && wr) {
        n->u.join.flavor = JOIN_WINDOW;
        n->u.join.ltime = lk[wend_k];   /* the window_end columns */
        n->u.join.rtime = rk[wend_k];
    } else if (has_lo && has_hi && lo > hi) {
        return fail(B, loc, "the join's time bounds are empty (lower bound above upper bound)");
    } else if (has_lo && has_hi && wm_col(l) == lt && wm_col(r) == rt - nl) {
        /* bounds between the two sides' watermark columns: state expires by
         * them. Bounds between other TIMESTAMP columns (a window_end of an
         * aggregate, an expiry time) bound nothing: a regular join below,
         * with the comparisons checked row by row */
        n->u.join.flavor = JOIN_INTERVAL;
        n->u.join.ltime = lt;
        n->u.join.rtime = rt - nl;
        n->u.join.lower_us = lo;
        n->u.join.upper_us = hi;
    } else {
        n->u.join.flavor = JOIN_REGULAR;
        /* the event-time columns, for a state TTL (state.ttl) */
        int wl2 = wm_col(l), wr2 = wm_col(r);
        if (wl2 >= 0 && wr2 >= 0) {
            n->u.join.ltime = wl2;
            n->u.join.rtime = wr2;
        }
        /* a stream joined with a table read whole first keeps only the
         * table (plan_join_table, planner.c's mark_tables): no warning */
        int topic;
        if (B->settings->state_ttl_us == 0 && !plan_join_table(n, B->settings->deployment_group[0] != 0, &topic))
            warn(B, "the join has no time bound: its state keeps every row of both sides; SET state.ttl = '1 hour' "
                    "(or join on windows or a time interval) to bound it");
    }
    /* the residual: every conjunct but the keys and, for an interval join, its
     * bounds (a window or regular join checks a time comparison row by row) */
    Expr *residual = NULL;
    for (int i = 0; i < nc; i++) {
        if (kind[i] == CONJ_KEY || (kind[i] == CONJ_BOUND && n->u.join.flavor == JOIN_INTERVAL)) continue;
        if (!(residual = and_of(B, residual, c[i]))) return NULL;
    }
    n->u.join.residual = residual;
    return n;
}

/* ---- aggregates ------------------------------------------------------------------ */

typedef struct AggList {
    const AstFunc **calls;
    int             n, cap;
} AggList;

static int collect_aggs(Binder *B, const AstNode *n, AggList *L, int inside)
{
    if (!n) return 0;
    switch (n->tag) {
    case AST_FUNC: {
        const AstFunc *f = AST_AS(AstFunc, n);
        if (is_agg_name(f->name)) {
            if (inside) {
                fail(B, n->loc, "aggregate function calls cannot be nested");
                return -1;
            }
            for (int i = 0; i < f->args.n; i++)
                if (collect_aggs(B, f->args.items[i], L, 1)) return -1;
            if (f->filter && collect_aggs(B, f->filter, L, 1)) return -1;
            for (int i = 0; i < L->n; i++)
                if (ast_equal((const AstNode *)L->calls[i], n)) return 0;
            if (L->n == L->cap) {
                int             cap = L->cap ? L->cap * 2 : 8;
                const AstFunc **c = arena_alloc(B->a, (size_t)cap * sizeof *c);
                if (!c) {
                    oom(B);
                    return -1;
                }
                if (L->n) memcpy(c, L->calls, (size_t)L->n * sizeof *c);
                L->calls = c;
                L->cap = cap;
            }
            L->calls[L->n++] = f;
            return 0;
        }
        for (int i = 0; i < f->args.n; i++)
            if (collect_aggs(B, f->args.items[i], L, inside)) return -1;
        return 0;
    }
    case AST_UNARY: return collect_aggs(B, AST_AS(AstUnary, n)->arg, L, inside);
    case AST_BINARY:
        return collect_aggs(B, AST_AS(AstBinary, n)->left, L, inside) ||
               collect_aggs(B, AST_AS(AstBinary, n)->right, L, inside);
    case AST_CASE: {
        const AstCase *c = AST_AS(AstCase, n);
        if (collect_aggs(B, c->operand, L, inside) || collect_aggs(B, c->else_, L, inside)) return -1;
        for (int i = 0; i < c->whens.n; i++) {
            const AstWhen *w = AST_AS(AstWhen, c->whens.items[i]);
            if (collect_aggs(B, w->cond, L, inside) || collect_aggs(B, w->result, L, inside)) return -1;
        }
        return 0;
    }
    case AST_CAST: return collect_aggs(B, AST_AS(AstCast, n)->arg, L, inside);
    case AST_IS_NULL: return collect_aggs(B, AST_AS(AstIsNull, n)->arg, L, inside);
    case AST_BETWEEN: {
        const AstBetween *b = AST_AS(AstBetween, n);
        return collect_aggs(B, b->arg, L, inside) || collect_aggs(B, b->lo, L, inside) ||
               collect_aggs(B, b->hi, L, inside);
    }
    case AST_IN_LIST: {
        const AstInList *in = AST_AS(AstInList, n);
        if (collect_aggs(B, in->arg, L, inside)) return -1;
        for (int i = 0; i < in->list.n; i++)
            if (collect_aggs(B, in->list.items[i], L, inside)) return -1;
        return 0;
    }
    case AST_LIKE: {
        const AstLike *l = AST_AS(AstLike, n);
        return collect_aggs(B, l->arg, L, inside) || collect_aggs(B, l->pattern, L, inside) ||
               collect_aggs(B, l->escape, L, inside);
    }
    case AST_SELECT_ITEM: return collect_aggs(B, AST_AS(AstSelectItem, n)->expr, L, inside);
    default: return 0;
    }
}

static const char *expr_name(Binder *B, const AstNode *n, int i)
{
    if (IS_A(n, AST_COLUMN_REF)) {
        const AstColumnRef *cr = AST_AS(AstColumnRef, n);
        if (cr->qualifier && !strcmp(cr->qualifier, "window") && !strcmp(cr->name, "start")) return "window_start";
        if (cr->qualifier && !strcmp(cr->qualifier, "window") && !strcmp(cr->name, "end")) return "window_end";
        return astrdup(B, cr->name);   /* plan names outlive the AST (views are re-parsed and freed) */
    }
    if (IS_A(n, AST_FUNC)) {
        const char *aux = window_aux_column(AST_AS(AstFunc, n)->name);
        return aux ? aux : astrdup(B, AST_AS(AstFunc, n)->name);
    }
    if (IS_A(n, AST_CAST)) return expr_name(B, AST_AS(AstCast, n)->arg, i);
    char buf[32];
    snprintf(buf, sizeof buf, "expr%d", i);
    return astrdup(B, buf);
}

/* Give duplicate output names a suffix: count, count_2, … */
static void dedupe_names(Binder *B, Schema *s)
{
    for (int i = 1; i < s->ncols; i++) {
        int dup = 0;
        for (int k = 0; k < i; k++)
            if (!strcmp(s->cols[k].name, s->cols[i].name)) dup = 1;
        if (!dup) continue;
        char buf[160];
        for (int suffix = 2;; suffix++) {
            snprintf(buf, sizeof buf, "%s_%d", s->cols[i].name, suffix);
            int taken = 0;
            for (int k = 0; k < s->ncols; k++)
                if (k != i && !strcmp(s->cols[k].name, buf)) taken = 1;
            if (!taken) break;
        }
        s->cols[i].name = astrdup(B, buf);
    }
}

static int agg_kind_of(const AstFunc *f, AggKind *k)
{
    if (!strcmp(f->name, "count")) *k = f->star ? AGG_COUNT_STAR : f->distinct ? AGG_COUNT_DISTINCT : AGG_COUNT;
    else if (!strcmp(f->name, "sum")) *k = AGG_SUM;
    else if (!strcmp(f->name, "avg")) *k = AGG_AVG;
    else if (!strcmp(f->name, "min")) *k = AGG_MIN;
    else if (!strcmp(f->name, "max")) *k = AGG_MAX;
    else if (!strcmp(f->name, "approx_count_distinct")) *k = AGG_APPROX_COUNT_DISTINCT;
    else return -1;
    return 0;
}

/* The AggCall text for EXPLAIN, e.g. "COUNT(*)", "SUM(bytes)". */
static const char *agg_text(Binder *B, const AstFunc *f)
{
    char *sql = ast_to_sql((const AstNode *)f);
    if (!sql) return "?";
    for (char *c = sql; *c && *c != '('; c++)
        if (*c >= 'a' && *c <= 'z') *c = (char)(*c - 'a' + 'A');
    const char *r = astrdup(B, sql);
    free(sql);
    return r;
}

/* ---- SELECT ------------------------------------------------------------------------ */

/* Expand the select list (with * and t.*) into expressions over s. */
typedef struct Items {
    const AstNode **ast;     /* the expression ASTs (NULL for a * column) */
    int            *star_col;/* for * columns: the input column           */
    const char    **names;
    int             n;
} Items;

static int expand_items(Binder *B, const AstSelect *sel, const Schema *s, int agg_mode, Items *it)
{
    int cap = 0;
    for (int i = 0; i < sel->items.n; i++) {
        const AstSelectItem *si = AST_AS(AstSelectItem, sel->items.items[i]);
        cap += IS_A(si->expr, AST_STAR) ? s->ncols : 1;
    }
    it->ast = arena_calloc(B->a, (size_t)(cap + 1), sizeof *it->ast);
    it->star_col = arena_calloc(B->a, (size_t)(cap + 1), sizeof *it->star_col);
    it->names = arena_calloc(B->a, (size_t)(cap + 1), sizeof *it->names);
    if (!it->ast || !it->star_col || !it->names) {
        oom(B);
        return -1;
    }
    it->n = 0;
    for (int i = 0; i < sel->items.n; i++) {
        const AstSelectItem *si = AST_AS(AstSelectItem, sel->items.items[i]);
        if (IS_A(si->expr, AST_STAR)) {
            const AstStar *st = AST_AS(AstStar, si->expr);
            if (agg_mode) {
                fail(B, si->expr->loc, "SELECT * cannot be used with GROUP BY or aggregates: list the columns");
                return -1;
            }
            int any = 0;
            for (int c = 0; c < s->ncols; c++) {
                if (st->qualifier && (!s->cols[c].qualifier || strcmp(s->cols[c].qualifier, st->qualifier)))
                    continue;
                it->ast[it->n] = NULL;
                it->star_col[it->n] = c;
                it->names[it->n] = s->cols[c].name;
                it->n++;
                any = 1;
            }
            if (!any) {
                fail(B, si->expr->loc, st->qualifier ? "unknown table or alias '%s' in '%s.*'" : "no columns to expand in '*'%s",
                     st->qualifier ? st->qualifier : "", st->qualifier ? st->qualifier : "");
                return -1;
            }
            continue;
        }
        it->ast[it->n] = si->expr;
        it->star_col[it->n] = -1;
        it->names[it->n] = si->alias ? astrdup(B, si->alias) : expr_name(B, si->expr, it->n + 1);
        it->n++;
    }
    return 0;
}

static PlanNode *project_node(Binder *B, PlanNode *input, int n)
{
    PlanNode *p = node_new(B, PLAN_PROJECT, input, n);
    if (!p) return NULL;
    p->u.project.exprs = arena_calloc(B->a, (size_t)(n > 0 ? n : 1), sizeof(Expr *));
    return p->u.project.exprs ? p : oom(B);
}

/* A group-window call in GROUP BY: TUMBLE(ts, i), HOP(ts, slide, size), SESSION(ts, gap),
 * CUMULATE(ts, step, size), window(ts, size[, slide]). */
static int is_group_window(const AstNode *n)
{
    WindowKind k;
    return IS_A(n, AST_FUNC) && window_fn_kind(AST_AS(AstFunc, n)->name, &k);
}

static PlanNode *group_window(Binder *B, PlanNode *input, const AstFunc *f)
{
    WindowKind kind;
    window_fn_kind(f->name, &kind);
    if (f->args.n < 1) return fail(B, f->hdr.loc, "%s needs a time column and an interval", f->name);
    int col = time_column(B, input, f->args.items[0]);
    if (col < 0) return NULL;
    int64_t a1 = 0, a2 = 0;
    if (!strcmp(f->name, "window")) {
        /* Spark: window(ts, size[, slide]) */
        if (f->args.n != 2 && f->args.n != 3)
            return fail(B, f->hdr.loc, "window() takes (time_col, size[, slide]), e.g. window(ts, '10 seconds')");
        if (interval_arg(B, f->args.items[1], "window size", &a1)) return NULL;
        if (f->args.n == 3) {
            int64_t slide;
            if (interval_arg(B, f->args.items[2], "window slide", &slide)) return NULL;
            if (slide > a1) return fail(B, f->args.items[2]->loc, "window slide must not exceed the window size");
            if (slide != a1) {
                kind = WINDOW_HOP;
                a2 = a1;
                a1 = slide;
            }
        }
    } else {
        char upper[16];
        size_t k = 0;
        for (; f->name[k] && k < sizeof upper - 1; k++) upper[k] = (char)(f->name[k] - 'a' + 'A');
        upper[k] = 0;
        if (window_args(B, kind, &f->args, f->hdr.loc, 1, &a1, &a2, upper)) return NULL;
    }
    return window_node(B, input, kind, col, a1, a2, f->hdr.loc);
}

static PlanNode *bind_aggregate(Binder *B, const AstSelect *sel, PlanNode *input, const AggList *aggs,
                                EmitMode *emit)
{
    /* GROUP BY: a group window becomes a Window node; its place in the keys
     * becomes window_start, window_end. */
    const AstNode *gw = NULL;
    for (int i = 0; i < sel->group_by.n; i++) {
        const AstNode *g = sel->group_by.items[i];
        if (!is_group_window(g)) continue;
        if (gw) return fail(B, g->loc, "GROUP BY may contain only one window");
        gw = g;
    }
    if (gw) {
        input = group_window(B, input, AST_AS(AstFunc, gw));
        if (!input) return NULL;
    }
    const Schema *in = &input->out;

    int    nkeys = sel->group_by.n + (gw ? 1 : 0);
    Expr **keys = arena_calloc(B->a, (size_t)(nkeys + 1), sizeof *keys);
    const AstNode **key_ast = arena_calloc(B->a, (size_t)(nkeys + 1), sizeof *key_ast);
    if (!keys || !key_ast) return oom(B);
    int k = 0;
    B->clause = "GROUP BY";
    for (int i = 0; i < sel->group_by.n; i++) {
        const AstNode *g = sel->group_by.items[i];
        if (g == gw) {
            int base = input->input->out.ncols;
            keys[k] = expr_column(B->a, base, TYPE_TIMESTAMP, g->loc);
            keys[k + 1] = expr_column(B->a, base + 1, TYPE_TIMESTAMP, g->loc);
            if (!keys[k] || !keys[k + 1]) return oom(B);
            k += 2;
            continue;
        }
        /* GROUP BY 2: the second select item */
        if (IS_A(g, AST_LITERAL) && AST_AS(AstLiteral, g)->kind == LIT_INT) {
            int64_t ord = AST_AS(AstLiteral, g)->ival;
            if (ord < 1 || ord > sel->items.n)
                return fail(B, g->loc, "GROUP BY position %lld is not in the select list", (long long)ord);
            g = AST_AS(AstSelectItem, sel->items.items[ord - 1])->expr;
        }
        if (IS_A(g, AST_FUNC) && is_agg_name(AST_AS(AstFunc, g)->name))
            return fail(B, g->loc, "aggregate functions are not allowed in GROUP BY");
        key_ast[k] = g;
        if (!(keys[k] = bind_expr(B, in, NULL, g))) return NULL;
        k++;
    }
    nkeys = k;

    /* the pre-aggregation projection: keys, then each aggregate's argument and filter */
    int nproj = nkeys;
    for (int j = 0; j < aggs->n; j++) nproj += (aggs->calls[j]->args.n > 0) + (aggs->calls[j]->filter != NULL);
    PlanNode *pre = project_node(B, input, nproj);
    if (!pre) return NULL;
    for (int i = 0; i < nkeys; i++) {
        pre->u.project.exprs[i] = keys[i];
        if (keys[i]->op == EXPR_COLUMN) pre->out.cols[i] = in->cols[keys[i]->col];
        else {
            pre->out.cols[i].name = key_ast[i] ? expr_name(B, key_ast[i], i + 1) : "key";
            pre->out.cols[i].type = keys[i]->type;
        }
    }

    PlanNode *agg = node_new(B, PLAN_AGGREGATE, pre, nkeys + aggs->n);
    if (!agg) return NULL;
    agg->u.agg.mode = AGG_SIMPLE;
    agg->u.agg.nkeys = nkeys;
    agg->u.agg.keys = int_array(B, nkeys);
    agg->u.agg.naggs = aggs->n;
    agg->u.agg.aggs = arena_calloc(B->a, (size_t)(aggs->n + 1), sizeof(AggCall));
    if (!agg->u.agg.keys || !agg->u.agg.aggs) return oom(B);
    for (int i = 0; i < nkeys; i++) {
        agg->u.agg.keys[i] = i;
        agg->out.cols[i] = pre->out.cols[i];
    }
    int pc = nkeys;
    B->clause = "an aggregate's argument";
    for (int j = 0; j < aggs->n; j++) {
        const AstFunc *f = aggs->calls[j];
        AggCall       *c = &agg->u.agg.aggs[j];
        agg_kind_of(f, &c->kind);
        c->arg = c->filter = -1;
        c->text = agg_text(B, f);
        int nargs_ok = c->kind == AGG_COUNT_STAR ? 0 : 1;
        if (f->args.n != nargs_ok)
            return fail(B, f->hdr.loc, "%s takes %s", upper(B, f->name), nargs_ok ? "one argument" : "no argument");
        if (f->distinct && c->kind != AGG_COUNT_DISTINCT) {
            if (c->kind == AGG_MIN || c->kind == AGG_MAX) {
                /* MIN/MAX(DISTINCT x) = MIN/MAX(x) */
            } else {
                return fail(B, f->hdr.loc, "DISTINCT is supported in COUNT(DISTINCT x), not in %s", upper(B, f->name));
            }
        }
        SqlType at = TYPE_NULL;
        if (f->args.n == 1) {
            Expr *x = bind_expr(B, in, NULL, f->args.items[0]);
            if (!x) return NULL;
            at = x->type;
            if ((c->kind == AGG_SUM || c->kind == AGG_AVG) && at != TYPE_BIGINT && at != TYPE_DOUBLE &&
                !(c->kind == AGG_SUM && at == TYPE_INTERVAL))
                return fail(B, f->args.items[0]->loc, "%s needs a number, got %s", upper(B, f->name), sql_type_name(at));
            if (at == TYPE_NULL) {
                x = coerce(B, x, TYPE_BIGINT);
                at = TYPE_BIGINT;
            }
            pre->u.project.exprs[pc] = x;
            pre->out.cols[pc].name = "agg_arg";
            pre->out.cols[pc].type = at;
            c->arg = pc++;
        }
        if (f->filter) {
            B->clause = "FILTER (WHERE …)";
            Expr *x = bind_expr(B, in, NULL, f->filter);
            if (!x) return NULL;
            if (x->type != TYPE_BOOLEAN && !(x = coerce(B, x, TYPE_BOOLEAN))) return NULL;
            pre->u.project.exprs[pc] = x;
            pre->out.cols[pc].name = "agg_filter";
            pre->out.cols[pc].type = TYPE_BOOLEAN;
            c->filter = pc++;
        }
        switch (c->kind) {
        case AGG_COUNT_STAR:
        case AGG_COUNT:
        case AGG_COUNT_DISTINCT:
        case AGG_APPROX_COUNT_DISTINCT: c->type = TYPE_BIGINT; break;
        case AGG_AVG: c->type = TYPE_DOUBLE; break;
        default: c->type = at; break;
        }
        char nm[32];
        snprintf(nm, sizeof nm, "agg%d", j);
        c->name = astrdup(B, nm);
        agg->out.cols[nkeys + j].name = c->name;
        agg->out.cols[nkeys + j].type = c->type;
    }

    /* windowed? a key that is window_start or window_end of a Window below */
    agg->u.agg.wstart_key = agg->u.agg.wend_key = -1;
    const PlanNode *win = NULL;
    for (int i = 0; i < nkeys; i++) {
        int             which;
        const PlanNode *w = trace_window(pre, i, &which);
        if (!w) continue;
        if (which == 0) agg->u.agg.wstart_key = i;
        if (which == 1) agg->u.agg.wend_key = i;
        if (which <= 1) win = w;
    }
    if (win) {
        agg->u.agg.windowed = 1;
        agg->u.agg.wkind = win->u.window.kind;
        /* the stream's 'late.sink': late rows are written there, not only counted */
        const PlanNode *scan = win;
        while (scan && scan->kind != PLAN_SCAN) scan = scan->input;
        for (int i = 0; scan && i < scan->u.scan.nopts; i++) {
            if (strcmp(scan->u.scan.opt_keys[i], "late.sink") != 0) continue;
            const char      *name = scan->u.scan.opt_values[i];
            const CatObject *ls = catalog_find(B->cat, name);
            if (!ls || ls->kind != CAT_SINK)
                return fail(B, sel->hdr.loc, "stream '%s' sends late rows to 'late.sink' = '%s', but there is no sink '%s'%s",
                            scan->u.scan.stream, name, name, catalog_suggest(B->cat, name));
            agg->u.agg.late_sink = astrdup(B, ls->name);
            agg->u.agg.late_connector = astrdup(B, ls->connector);
            agg->u.agg.late_format = astrdup(B, ls->format);
            agg->u.agg.late_nopts = ls->nopts;
            agg->u.agg.late_keys = arena_calloc(B->a, (size_t)ls->nopts + 1, sizeof(char *));
            agg->u.agg.late_values = arena_calloc(B->a, (size_t)ls->nopts + 1, sizeof(char *));
            if (!agg->u.agg.late_keys || !agg->u.agg.late_values) return oom(B);
            for (int k = 0; k < ls->nopts; k++) {
                agg->u.agg.late_keys[k] = astrdup(B, ls->opts[k].key);
                agg->u.agg.late_values[k] = astrdup(B, ls->opts[k].value);
            }
        }
        int w = wm_col(win->input);
        if (w < 0 || w != win->u.window.time_col) {
            const char *tc = win->input->out.cols[win->u.window.time_col].name;
            if (w < 0)
                return fail(B, sel->hdr.loc,
                            "windowed aggregation over '%s' needs a watermark on '%s': add "
                            "WATERMARK FOR %s AS %s - INTERVAL '5' SECOND to the stream",
                            source_name(win), tc, tc, tc);
            return fail(B, sel->hdr.loc,
                        "windowed aggregation must use the watermark column '%s' of '%s' as its time column, not '%s'",
                        win->input->out.cols[w].name, source_name(win), tc);
        }
    } else {
        int has_window_below = 0;
        for (const PlanNode *x = input; x; x = x->input)
            if (x->kind == PLAN_WINDOW) has_window_below = 1;
        if (has_window_below)
            warn(B, "the aggregation does not group by window_start and window_end, so it is not per window: "
                    "add them to GROUP BY for one result per window");
    }

    /* emit mode */
    if (sel->emit == EMIT_FINAL && !agg->u.agg.windowed)
        return fail(B, sel->hdr.loc,
                    "EMIT FINAL needs a windowed aggregation, e.g. FROM TUMBLE(%s, ts, INTERVAL '10' SECOND) "
                    "... GROUP BY window_start, window_end, ...", source_name(input));
    *emit = sel->emit == EMIT_CHANGES || !agg->u.agg.windowed ? EMIT_MODE_CHANGES : EMIT_MODE_FINAL;
    agg->u.agg.emit = *emit;
    if (!agg->u.agg.windowed)
        warn(B, "the aggregation over '%s' has no window: its state grows with every distinct group "
                "and results are emitted as changes", source_name(input));

    /* select list and HAVING over the aggregate */
    AggScope ag = {in, nkeys, keys, aggs->n, aggs->calls, &agg->out};
    PlanNode *top = agg;
    if (sel->having) {
        B->clause = "HAVING";
        Expr *h = bind_expr(B, in, &ag, sel->having);
        if (!h) return NULL;
        if (h->type != TYPE_BOOLEAN && !(h = coerce(B, h, TYPE_BOOLEAN))) return NULL;
        PlanNode *f = node_new(B, PLAN_FILTER, agg, agg->out.ncols);
        if (!f) return NULL;
        memcpy(f->out.cols, agg->out.cols, (size_t)agg->out.ncols * sizeof *f->out.cols);
        f->u.filter.pred = h;
        top = f;
    }
    Items it;
    if (expand_items(B, sel, in, 1, &it)) return NULL;
    PlanNode *proj = project_node(B, top, it.n);
    if (!proj) return NULL;
    B->clause = "the select list";
    for (int i = 0; i < it.n; i++) {
        Expr *e = bind_expr(B, in, &ag, it.ast[i]);
        if (!e) return NULL;
        proj->u.project.exprs[i] = e;
        proj->out.cols[i].name = it.names[i];
        proj->out.cols[i].type = e->type;
        if (e->op == EXPR_COLUMN) proj->out.cols[i].qualifier = top->out.cols[e->col].qualifier;
    }
    dedupe_names(B, &proj->out);
    /* name each aggregate after the select item that is exactly it (crashes, not agg0) */
    for (int i = 0; i < it.n; i++) {
        const Expr *e = proj->u.project.exprs[i];
        if (e->op != EXPR_COLUMN || e->col < nkeys) continue;
        int taken = 0;
        for (int c = 0; c < agg->out.ncols; c++)
            if (!strcmp(agg->out.cols[c].name, proj->out.cols[i].name)) taken = 1;
        if (taken) continue;
        agg->out.cols[e->col].name = proj->out.cols[i].name;
        agg->u.agg.aggs[e->col - nkeys].name = proj->out.cols[i].name;
        if (top != agg) top->out.cols[e->col].name = proj->out.cols[i].name;
    }
    return proj;
}

static PlanNode *bind_select(Binder *B, const AstSelect *sel, EmitMode *emit)
{
    PlanNode *input;
    *emit = EMIT_MODE_APPEND;
    int   where_taken = 0;
    Expr *where_rest = NULL;
    if (sel->from) {
        /* an inner or comma join directly under this WHERE may take conditions from it */
        const AstJoin *saved_j = B->where_join;
        const AstNode *saved_w = B->where_ast;
        int            saved_t = B->where_taken;
        Expr          *saved_r = B->where_rest;
        B->where_join = NULL;
        B->where_taken = 0;
        B->where_rest = NULL;
        if (sel->where && sel->from->tag == AST_JOIN) {
            const AstJoin *jn = AST_AS(AstJoin, sel->from);
            if (jn->kind == JOIN_INNER || jn->kind == JOIN_CROSS) {
                B->where_join = jn;
                B->where_ast = sel->where;
            }
        }
        B->clause = "FROM";
        input = bind_from(B, sel->from);
        where_taken = B->where_taken;
        where_rest = B->where_rest;
        B->where_join = saved_j;
        B->where_ast = saved_w;
        B->where_taken = saved_t;
        B->where_rest = saved_r;
    } else {
        input = node_new(B, PLAN_VALUES, NULL, 0);
    }
    if (!input) return NULL;

    if (where_taken && where_rest) {
        /* the join took the conjuncts that read both sides; filter by the rest */
        PlanNode *f = node_new(B, PLAN_FILTER, input, input->out.ncols);
        if (!f) return NULL;
        memcpy(f->out.cols, input->out.cols, (size_t)input->out.ncols * sizeof *f->out.cols);
        f->u.filter.pred = where_rest;
        input = f;
    } else if (sel->where && !where_taken) {
        B->clause = "WHERE";
        Expr *w = bind_expr(B, &input->out, NULL, sel->where);
        if (!w) return NULL;
        if (w->type != TYPE_BOOLEAN) {
            if (w->type != TYPE_NULL)
                return fail(B, sel->where->loc, "WHERE needs a BOOLEAN condition, got %s", sql_type_name(w->type));
            if (!(w = coerce(B, w, TYPE_BOOLEAN))) return NULL;
        }
        PlanNode *f = node_new(B, PLAN_FILTER, input, input->out.ncols);
        if (!f) return NULL;
        memcpy(f->out.cols, input->out.cols, (size_t)input->out.ncols * sizeof *f->out.cols);
        f->u.filter.pred = w;
        input = f;
    }

    AggList aggs = {0};
    for (int i = 0; i < sel->items.n; i++)
        if (collect_aggs(B, sel->items.items[i], &aggs, 0)) return NULL;
    if (sel->having && collect_aggs(B, sel->having, &aggs, 0)) return NULL;
    if (sel->having && aggs.n == 0 && sel->group_by.n == 0)
        return fail(B, sel->having->loc, "HAVING needs GROUP BY or an aggregate function");

    PlanNode *top;
    if (sel->group_by.n > 0 || aggs.n > 0) {
        top = bind_aggregate(B, sel, input, &aggs, emit);
        if (!top) return NULL;
    } else {
        /* rows of a query without aggregation are final as they come: EMIT
         * FINAL and EMIT CHANGES both mean append here */
        Items it;
        B->clause = "the select list";
        if (expand_items(B, sel, &input->out, 0, &it)) return NULL;
        top = project_node(B, input, it.n);
        if (!top) return NULL;
        for (int i = 0; i < it.n; i++) {
            Expr *e;
            if (!it.ast[i]) e = expr_column(B->a, it.star_col[i], input->out.cols[it.star_col[i]].type, sel->hdr.loc);
            else e = bind_expr(B, &input->out, NULL, it.ast[i]);
            if (!e) return B->failed ? NULL : oom(B);
            top->u.project.exprs[i] = e;
            top->out.cols[i].name = it.names[i];
            top->out.cols[i].type = e->type;
            if (e->op == EXPR_COLUMN) top->out.cols[i].qualifier = input->out.cols[e->col].qualifier;
        }
        dedupe_names(B, &top->out);
    }

    if (sel->distinct) {
        PlanNode *d = node_new(B, PLAN_AGGREGATE, top, top->out.ncols);
        if (!d) return NULL;
        memcpy(d->out.cols, top->out.cols, (size_t)top->out.ncols * sizeof *d->out.cols);
        d->u.agg.mode = AGG_SIMPLE;
        d->u.agg.nkeys = top->out.ncols;
        d->u.agg.keys = int_array(B, top->out.ncols);
        if (!d->u.agg.keys) return NULL;
        d->u.agg.wstart_key = d->u.agg.wend_key = -1;
        for (int i = 0; i < top->out.ncols; i++) {
            d->u.agg.keys[i] = i;
            int             which;
            const PlanNode *w = trace_window(top, i, &which);
            if (w && which == 0) d->u.agg.wstart_key = i;
            if (w && which == 1) d->u.agg.wend_key = i;
            if (w && which <= 1) {
                d->u.agg.windowed = 1;
                d->u.agg.wkind = w->u.window.kind;
            }
        }
        *emit = d->u.agg.windowed && sel->emit != EMIT_CHANGES ? EMIT_MODE_FINAL : EMIT_MODE_CHANGES;
        d->u.agg.emit = *emit;
        top = d;
    }

    if (sel->limit >= 0) {
        PlanNode *l = node_new(B, PLAN_LIMIT, top, top->out.ncols);
        if (!l) return NULL;
        memcpy(l->out.cols, top->out.cols, (size_t)top->out.ncols * sizeof *l->out.cols);
        l->u.limit.n = sel->limit;
        top = l;
    }
    return top;
}

/* ---- statements --------------------------------------------------------------------- */

/* How the query's output changes: the aggregate closest to the output decides
 * (EMIT FINAL or CHANGES), but any aggregate below that emits changes makes
 * everything above it a changelog too; no aggregate at all: append. */
EmitMode plan_emit(const PlanNode *n)
{
    if (!n) return EMIT_MODE_APPEND;
    EmitMode below = plan_emit(n->input);
    if (n->right) {
        EmitMode r = plan_emit(n->right);
        if (r == EMIT_MODE_CHANGES || below == EMIT_MODE_CHANGES) below = EMIT_MODE_CHANGES;
        else if (r == EMIT_MODE_FINAL) below = EMIT_MODE_FINAL;
    }
    if (below == EMIT_MODE_CHANGES) return EMIT_MODE_CHANGES;
    if (n->kind == PLAN_AGGREGATE) return n->u.agg.emit;
    if (n->kind == PLAN_JOIN) {
        if (n->u.join.table) return below;   /* inner, the table whole first: append */
        if (n->u.join.flavor == JOIN_REGULAR) return EMIT_MODE_CHANGES;
        if (n->u.join.flavor == JOIN_WINDOW) return EMIT_MODE_FINAL;
        return n->u.join.kind == PJOIN_INNER ? below : EMIT_MODE_FINAL;
    }
    return below;
}

static PlanNode *output_node(Binder *B, PlanNode *top, const CatObject *sink, int loc)
{
    PlanNode *o = node_new(B, PLAN_OUTPUT, top, top->out.ncols);
    if (!o) return NULL;
    memcpy(o->out.cols, top->out.cols, (size_t)top->out.ncols * sizeof *o->out.cols);
    if (!sink) return o;
    if (sink->ncols > 0) {
        if (sink->ncols != top->out.ncols)
            return fail(B, loc, "sink '%s' has %d columns but the query returns %d", sink->name,
                        sink->ncols, top->out.ncols);
        for (int i = 0; i < sink->ncols; i++) {
            SqlType from = top->out.cols[i].type, to = sink->cols[i].type;
            if (from != to && from != TYPE_NULL && !(from == TYPE_BIGINT && to == TYPE_DOUBLE))
                return fail(B, loc, "column %d of the query is %s but sink column '%s' is %s", i + 1,
                            sql_type_name(from), sink->cols[i].name, sql_type_name(to));
            o->out.cols[i].name = astrdup(B, sink->cols[i].name);
        }
    }
    o->u.output.sink = astrdup(B, sink->name);
    o->u.output.connector = astrdup(B, sink->connector);
    o->u.output.format = astrdup(B, sink->format);
    o->u.output.nopts = sink->nopts;
    o->u.output.opt_keys = arena_calloc(B->a, (size_t)(sink->nopts + 1), sizeof(char *));
    o->u.output.opt_values = arena_calloc(B->a, (size_t)(sink->nopts + 1), sizeof(char *));
    if (!o->u.output.opt_keys || !o->u.output.opt_values) return oom(B);
    for (int i = 0; i < sink->nopts; i++) {
        o->u.output.opt_keys[i] = astrdup(B, sink->opts[i].key);
        o->u.output.opt_values[i] = astrdup(B, sink->opts[i].value);
    }
    return o;
}

int bind_statement(const Catalog *cat, const Settings *settings, const AstNode *stmt, Plan **out,
                   char *warnbuf, size_t warn_cap, SqlError *err)
{
    Plan *plan = calloc(1, sizeof *plan);
    if (!plan) {
        err->loc = -1;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    arena_init(&plan->arena, 16384);
    Binder B = {0};
    B.cat = cat;
    B.settings = settings;
    B.plan = plan;
    B.a = &plan->arena;
    B.err = err;
    B.warn = warnbuf;
    B.warn_cap = warn_cap;
    B.clause = "the query";
    if (warnbuf && warn_cap) warnbuf[0] = 0;
    plan->parallelism = (int)settings->parallelism;

    const AstSelect *sel = NULL;
    const CatObject *sink = NULL;
    if (IS_A(stmt, AST_INSERT)) {
        const AstInsert *ins = AST_AS(AstInsert, stmt);
        sink = catalog_find(cat, ins->target);
        if (!sink) {
            fail(&B, stmt->loc, "unknown sink '%s'%s", ins->target, catalog_suggest(cat, ins->target));
            plan_free(plan);
            return -1;
        }
        if (sink->kind != CAT_SINK) {
            fail(&B, stmt->loc, "'%s' is a %s; INSERT INTO needs a sink (CREATE SINK …)", ins->target,
                 cat_kind_name(sink->kind));
            plan_free(plan);
            return -1;
        }
        sel = ins->query;
    } else if (IS_A(stmt, AST_SELECT)) {
        sel = AST_AS(AstSelect, stmt);
    } else {
        fail(&B, stmt->loc, "only SELECT and INSERT INTO can be planned");
        plan_free(plan);
        return -1;
    }
    EmitMode  emit;
    PlanNode *top = bind_select(&B, sel, &emit);
    PlanNode *root = top ? output_node(&B, top, sink, stmt->loc) : NULL;
    if (!root || B.failed) {
        plan_free(plan);
        return -1;
    }
    plan->root = root;
    plan->emit = plan_emit(root);
    (void)emit;
    char *sql = ast_to_sql(stmt);
    plan->sql = sql ? arena_strndup(&plan->arena, sql, strlen(sql)) : "";
    free(sql);
    *out = plan;
    return 0;
}

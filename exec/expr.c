/*
 * expr.c — builders and value helpers of the expression IR (see expr.h).
 *
 * Nodes live in the plan's arena: a builder allocates the node and its
 * argument array there and never frees anything. A node made by expr_new has
 * every field defined: col and fn are -1 (none), the value is a NULL of the
 * node's type, the argument slots are NULL until the caller fills them.
 */
#include "exec/expr.h"

#include <string.h>

/* ---- builders ---------------------------------------------------------------- */

Expr *expr_new(Arena *a, ExprOp op, SqlType type, int nargs, int loc)
{
    if (nargs < 0) return NULL;
    Expr *e = arena_calloc(a, 1, sizeof *e);
    if (!e) return NULL;
    e->op = op;
    e->type = type;
    e->col = -1;
    e->fn = -1;
    e->value = value_null(type);
    e->nargs = nargs;
    e->loc = loc;
    if (nargs > 0) {
        e->args = arena_calloc(a, (size_t)nargs, sizeof *e->args);
        if (!e->args) return NULL;
    }
    return e;
}

Expr *expr_column(Arena *a, int col, SqlType type, int loc)
{
    Expr *e = expr_new(a, EXPR_COLUMN, type, 0, loc);
    if (e) e->col = col;
    return e;
}

Expr *expr_const(Arena *a, Value v, int loc)
{
    Expr *e = expr_new(a, EXPR_CONST, v.type, 0, loc);
    if (!e) return NULL;
    e->value = v;
    if (v.type == TYPE_VARCHAR && !v.is_null) {
        char *copy = arena_strndup(a, v.u.s.ptr, v.u.s.len);
        if (!copy) return NULL;
        e->value.u.s.ptr = copy;
    }
    return e;
}

static Expr *with_args(Expr *e, int nargs, Expr *const *args)
{
    if (!e) return NULL;
    for (int i = 0; i < nargs; i++) {
        if (!args[i]) return NULL;
        e->args[i] = args[i];
    }
    return e;
}

Expr *expr_func(Arena *a, int fn, SqlType type, int nargs, Expr *const *args, int loc)
{
    for (int i = 0; i < nargs; i++)
        if (!args[i]) return NULL;
    Expr *e = with_args(expr_new(a, EXPR_FUNC, type, nargs, loc), nargs, args);
    if (e) e->fn = fn;
    return e;
}

Expr *expr_cast(Arena *a, Expr *arg, SqlType to, int loc)
{
    if (!arg) return NULL;
    return with_args(expr_new(a, EXPR_CAST, to, 1, loc), 1, &arg);
}

Expr *expr_logic(Arena *a, ExprOp op, int nargs, Expr *const *args, int loc)
{
    for (int i = 0; i < nargs; i++)
        if (!args[i]) return NULL;
    return with_args(expr_new(a, op, TYPE_BOOLEAN, nargs, loc), nargs, args);
}

/* ---- values ------------------------------------------------------------------ */

Value value_null(SqlType t)
{
    Value v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.is_null = 1;
    return v;
}

Value value_i64(SqlType t, int64_t i)
{
    Value v = value_null(t);
    v.is_null = 0;
    v.u.i = i;
    return v;
}

Value value_f64(double d)
{
    Value v = value_null(TYPE_DOUBLE);
    v.is_null = 0;
    v.u.d = d;
    return v;
}

Value value_bool(int b)
{
    Value v = value_null(TYPE_BOOLEAN);
    v.is_null = 0;
    v.u.b = (uint8_t)(b != 0);
    return v;
}

Value value_str(const char *p, uint32_t n)
{
    Value v = value_null(TYPE_VARCHAR);
    v.is_null = 0;
    v.u.s.ptr = p;
    v.u.s.len = n;
    return v;
}

/* Grouping equality: two NULLs are equal (whatever their types), a NULL
 * equals no value; values must have the same type; DOUBLE -0.0 equals 0.0
 * and NaN equals NaN, as in hash.h, so equal values hash equal. */
int value_equal(const Value *a, const Value *b)
{
    if (a->is_null || b->is_null) return a->is_null && b->is_null;
    if (a->type != b->type) return 0;
    switch (a->type) {
    case TYPE_NULL:
        return 1;
    case TYPE_BOOLEAN:
        return a->u.b == b->u.b;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        return a->u.i == b->u.i;
    case TYPE_DOUBLE:
        return a->u.d == b->u.d || (a->u.d != a->u.d && b->u.d != b->u.d);
    case TYPE_VARCHAR:
        return str_eq(a->u.s, b->u.s);
    }
    return 0;
}

int expr_is_constant(const Expr *e)
{
    if (!e) return 0;
    if (e->op == EXPR_COLUMN) return 0;
    for (int i = 0; i < e->nargs; i++)
        if (!expr_is_constant(e->args[i])) return 0;
    return 1;
}

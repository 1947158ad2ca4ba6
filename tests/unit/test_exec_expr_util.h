/*
 * test_exec_expr_util.h — helpers for the expression tests
 * (tests/unit/test_exec_expr*.c, test_exec_func*.c).
 *
 * Trees are built with binder-like helpers over the expr.h builders: F()
 * resolves the overload with func_resolve and inserts the casts it asks for,
 * CASE_()/IN_() unify branch types with type_common. Every node lives in the
 * per-test arena (ex_begin / ex_end).
 *
 * ev(e) evaluates an expression of constants and returns its value as text
 * (vector_format_value: "3", "3.0", "true", "NULL", …; "ERR <why>" when the
 * state cannot be built). It is differential: besides the folded result it
 * evaluates the same tree with every constant leaf turned into a column of
 * a batch — flat columns read through a selection, constant vectors, and
 * flat/constant mixtures both ways — and returns "MISMATCH …" unless every
 * live row of every variant agrees with the folded value. So each ev()
 * check exercises the scalar, flat, selection and per-row-pattern paths.
 */
#ifndef SLUICE_TESTS_EXPR_UTIL_H
#define SLUICE_TESTS_EXPR_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/batch.h"
#include "exec/expr.h"
#include "exec/expr_eval.h"
#include "exec/func.h"
#include "exec/timefmt.h"
#include "tests/unit/unit.h"

#define EXU static inline __attribute__((unused))

static Arena ex_arena;
static char  ex_why[256];   /* why the last F()/CASE_()/IN_() failed to type */

EXU void ex_begin(void)
{
    arena_init(&ex_arena, 4096);
    ex_why[0] = '\0';
}

EXU void ex_end(void)
{
    arena_free(&ex_arena);
}

/* ---- leaves ---------------------------------------------------------------- */

EXU Expr *I(int64_t x) { return expr_const(&ex_arena, value_i64(TYPE_BIGINT, x), -1); }
EXU Expr *D(double x)  { return expr_const(&ex_arena, value_f64(x), -1); }
EXU Expr *B(int x)     { return expr_const(&ex_arena, value_bool(x), -1); }
EXU Expr *NUL(SqlType t) { return expr_const(&ex_arena, value_null(t), -1); }
EXU Expr *IV(int64_t us) { return expr_const(&ex_arena, value_i64(TYPE_INTERVAL, us), -1); }
EXU Expr *COL(int c, SqlType t) { return expr_column(&ex_arena, c, t, -1); }

EXU Expr *S(const char *s)
{
    return expr_const(&ex_arena, value_str(s, (uint32_t)strlen(s)), -1);
}

/* a TIMESTAMP constant from text (ts_parse) */
EXU Expr *TS(const char *text)
{
    int64_t t = 0;
    if (ts_parse(text, strlen(text), &t) < 0) return NULL;
    return expr_const(&ex_arena, value_i64(TYPE_TIMESTAMP, t), -1);
}

/* ---- binder-like builders ---------------------------------------------------- */

EXU Expr *CAST(Expr *x, SqlType t)
{
    return expr_cast(&ex_arena, x, t, -1);
}

/* fn(args…) with the overload resolved and casts inserted, as the binder does */
EXU Expr *Fv(int fn, int n, Expr **args)
{
    SqlType t[16], want[16], ret;
    if (n > 16) return NULL;
    for (int i = 0; i < n; i++) {
        if (!args[i]) return NULL;
        t[i] = args[i]->type;
    }
    if (func_resolve(fn, n, t, want, &ret, ex_why, sizeof ex_why) < 0) return NULL;
    for (int i = 0; i < n; i++)
        if (want[i] != t[i]) args[i] = CAST(args[i], want[i]);
    return expr_func(&ex_arena, fn, ret, n, args, -1);
}

EXU Expr *F(int fn, int n, ...)
{
    Expr   *args[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n && i < 16; i++) args[i] = va_arg(ap, Expr *);
    va_end(ap);
    return Fv(fn, n, args);
}

EXU Expr *F1(int fn, Expr *a)          { return F(fn, 1, a); }
EXU Expr *F2(int fn, Expr *a, Expr *b) { return F(fn, 2, a, b); }
EXU Expr *F3(int fn, Expr *a, Expr *b, Expr *c) { return F(fn, 3, a, b, c); }

EXU Expr *logic(ExprOp op, int n, va_list ap)
{
    Expr *args[16];
    for (int i = 0; i < n && i < 16; i++) args[i] = va_arg(ap, Expr *);
    return expr_logic(&ex_arena, op, n, args, -1);
}

EXU Expr *AND(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    Expr *e = logic(EXPR_AND, n, ap);
    va_end(ap);
    return e;
}

EXU Expr *OR(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    Expr *e = logic(EXPR_OR, n, ap);
    va_end(ap);
    return e;
}

EXU Expr *NOT(Expr *x)
{
    return expr_logic(&ex_arena, EXPR_NOT, 1, &x, -1);
}

EXU Expr *ISNULL(Expr *x, int negated)
{
    if (!x) return NULL;
    Expr *e = expr_new(&ex_arena, EXPR_IS_NULL, TYPE_BOOLEAN, 1, -1);
    if (!e) return NULL;
    e->args[0] = x;
    e->negated = negated;
    return e;
}

/* x [NOT] IN (items…), items cast to the common type like the binder */
EXU Expr *IN_(int negated, Expr *x, int n, ...)
{
    Expr   *items[32];
    va_list ap;
    if (!x || n > 31) return NULL;
    SqlType t = x->type;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        items[i] = va_arg(ap, Expr *);
        if (items[i]) t = type_common(t, items[i]->type);
    }
    va_end(ap);
    Expr *e = expr_new(&ex_arena, EXPR_IN, TYPE_BOOLEAN, n + 1, -1);
    if (!e) return NULL;
    e->negated = negated;
    e->args[0] = x->type == t ? x : CAST(x, t);
    for (int i = 0; i < n; i++) {
        if (!items[i]) return NULL;
        e->args[i + 1] = items[i]->type == t ? items[i] : CAST(items[i], t);
    }
    return e;
}

/* CASE WHEN c1 THEN v1 … [ELSE v]: pass 2*pairs (+1 with has_else) args */
EXU Expr *CASE_(int has_else, int nargs, ...)
{
    Expr   *args[32];
    va_list ap;
    if (nargs > 32) return NULL;
    SqlType t = TYPE_NULL;
    va_start(ap, nargs);
    for (int i = 0; i < nargs; i++) {
        args[i] = va_arg(ap, Expr *);
        int is_value = (i % 2 == 1) || (has_else && i == nargs - 1);
        if (args[i] && is_value) t = type_common(t, args[i]->type);
    }
    va_end(ap);
    Expr *e = expr_new(&ex_arena, EXPR_CASE, t, nargs, -1);
    if (!e) return NULL;
    e->has_else = has_else;
    for (int i = 0; i < nargs; i++) {
        if (!args[i]) return NULL;
        int is_value = (i % 2 == 1) || (has_else && i == nargs - 1);
        e->args[i] = is_value && args[i]->type != t ? CAST(args[i], t) : args[i];
    }
    return e;
}

/* ---- values in vectors ---------------------------------------------------------- */

EXU int put_value(Vector *v, int row, const Value *x)
{
    if (x->is_null || x->type == TYPE_NULL) {
        vector_set_null(v, row);
        return 0;
    }
    switch (x->type) {
    case TYPE_BOOLEAN:   vector_bool(v)[row] = x->u.b; break;
    case TYPE_DOUBLE:    vector_f64(v)[row] = x->u.d; break;
    case TYPE_VARCHAR:   return vector_set_str(v, row, x->u.s.ptr, x->u.s.len);
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:  vector_i64(v)[row] = x->u.i; break;
    case TYPE_NULL:      break;
    }
    vector_set_valid(v, row);
    return 0;
}

/* the text of row `row` of v, in buf */
EXU const char *fmt_row(const Vector *v, int row, char *buf, size_t cap)
{
    vector_format_value(v, row, buf, cap);
    return buf;
}

/* ---- the differential evaluator ----------------------------------------------------- */

typedef struct LeafList {
    const Expr *leaf[128];
    int         n;
} LeafList;

/* a copy of e with every constant leaf replaced by a column (its index in L) */
EXU Expr *leaves_to_columns(const Expr *e, LeafList *L)
{
    if (e->op == EXPR_CONST) {
        if (L->n >= 128) return NULL;
        L->leaf[L->n] = e;
        return COL(L->n++, e->type);
    }
    Expr *c = expr_new(&ex_arena, e->op, e->type, e->nargs, e->loc);
    if (!c) return NULL;
    Expr **args = c->args;
    *c = *e;
    c->args = args;
    for (int i = 0; i < e->nargs; i++)
        if (!(c->args[i] = leaves_to_columns(e->args[i], L))) return NULL;
    return c;
}

/* variant: 0 flat + selection, 1 all constant vectors, 2 even leaves constant,
 * 3 odd leaves constant. Checks every live row against want. */
EXU int ev_variant(const Expr *ce, const LeafList *L, int variant, const char *want,
                   char *got, size_t cap)
{
    enum { NROWS = 70 };   /* crosses a validity word */
    SqlType types[128];
    Batch   b;
    int     ok = 1;
    char    why[256];
    for (int k = 0; k < L->n; k++) types[k] = L->leaf[k]->type;
    if (batch_init(&b, L->n, types, 128) < 0) return 0;
    for (int k = 0; k < L->n; k++) {
        int constant = variant == 1 || (variant == 2 && k % 2 == 0) ||
                       (variant == 3 && k % 2 == 1);
        for (int r = 0; r < NROWS; r++) put_value(&b.cols[k], r, &L->leaf[k]->value);
        if (constant) vector_make_constant(&b.cols[k]);
    }
    batch_set_nrows(&b, NROWS);
    static const uint32_t sel[] = {1, 5, 63, 64, 69};
    if (variant == 0) batch_set_sel(&b, sel, 5);

    ExprState *st = expr_state_new(ce, 128, why, sizeof why);
    if (!st) {
        snprintf(got, cap, "variant %d: ERR %s", variant, why);
        batch_destroy(&b);
        return 0;
    }
    const Vector *v;
    if (expr_eval(st, &b, &v) < 0) {
        snprintf(got, cap, "variant %d: EVALERR %s", variant, expr_state_error(st));
        ok = 0;
    } else {
        for (int i = 0; i < b.count && ok; i++) {
            int  r = batch_row(&b, i);
            char text[512];
            fmt_row(v, r, text, sizeof text);
            if (strcmp(text, want) != 0) {
                snprintf(got, cap, "variant %d row %d: %s", variant, r, text);
                ok = 0;
            }
        }
    }
    expr_state_free(st);
    batch_destroy(&b);
    return ok;
}

/* value of a constant expression as text; see the top of this file */
EXU const char *ev(const Expr *e)
{
    static char out[1400];
    char        why[256];
    if (!e) {
        snprintf(out, sizeof out, "TYPE-ERR %s", ex_why);
        return out;
    }
    ExprState *st = expr_state_new(e, 0, why, sizeof why);
    if (!st) {
        snprintf(out, sizeof out, "ERR %s", why);
        return out;
    }
    const Vector *v;
    if (expr_eval(st, NULL, &v) < 0) {
        snprintf(out, sizeof out, "EVALERR %s", expr_state_error(st));
        expr_state_free(st);
        return out;
    }
    char want[512];
    fmt_row(v, 0, want, sizeof want);
    int constant = v->kind == VECTOR_CONSTANT;
    expr_state_free(st);
    if (!constant) {
        snprintf(out, sizeof out, "NOT-CONSTANT %s", want);
        return out;
    }

    LeafList L;
    L.n = 0;
    Expr *ce = leaves_to_columns(e, &L);
    if (!ce) {
        snprintf(out, sizeof out, "REWRITE-FAILED");
        return out;
    }
    char got[600];
    for (int variant = 0; variant < 4; variant++) {
        if (L.n == 0 && variant > 0) break;
        if (!ev_variant(ce, &L, variant, want, got, sizeof got)) {
            snprintf(out, sizeof out, "MISMATCH folded %s, %s", want, got);
            return out;
        }
    }
    snprintf(out, sizeof out, "%s", want);
    return out;
}

/* ---- batches for explicit tests --------------------------------------------------- */

/* set row `row` of column c from text (NULL pointer: SQL NULL) */
EXU int put_text(Batch *b, int c, int row, const char *text)
{
    Vector *v = &b->cols[c];
    if (!text) {
        vector_set_null(v, row);
        return 0;
    }
    switch (v->type) {
    case TYPE_BOOLEAN:   vector_bool(v)[row] = strcmp(text, "true") == 0; break;
    case TYPE_BIGINT:    vector_i64(v)[row] = strtoll(text, NULL, 10); break;
    case TYPE_DOUBLE:    vector_f64(v)[row] = strtod(text, NULL); break;
    case TYPE_VARCHAR:   return vector_set_str(v, row, text, strlen(text));
    case TYPE_TIMESTAMP: return ts_parse(text, strlen(text), &vector_i64(v)[row]);
    case TYPE_INTERVAL:  return interval_parse(text, strlen(text), &vector_i64(v)[row]);
    case TYPE_NULL:      return 0;
    }
    vector_set_valid(v, row);
    return 0;
}

/* append a row: one const char * per column */
EXU void add_row(Batch *b, ...)
{
    va_list ap;
    va_start(ap, b);
    for (int c = 0; c < b->ncols; c++) put_text(b, c, b->nrows, va_arg(ap, const char *));
    va_end(ap);
    batch_set_nrows(b, b->nrows + 1);
}

/* the live rows of v (as evaluated over b), comma-separated */
EXU const char *rows_text(const Batch *b, const Vector *v)
{
    static char out[4096];
    size_t      len = 0;
    out[0] = '\0';
    for (int i = 0; i < b->count && len < sizeof out - 64; i++) {
        char text[256];
        fmt_row(v, batch_row(b, i), text, sizeof text);
        len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "," : "", text);
    }
    return out;
}

/* evaluate e over b: the live rows as text, or "ERR …" */
EXU const char *ev_batch(const Expr *e, const Batch *b)
{
    static char out[4200];
    char        why[256];
    if (!e) {
        snprintf(out, sizeof out, "TYPE-ERR %s", ex_why);
        return out;
    }
    ExprState *st = expr_state_new(e, b->capacity, why, sizeof why);
    if (!st) {
        snprintf(out, sizeof out, "ERR %s", why);
        return out;
    }
    const Vector *v;
    if (expr_eval(st, b, &v) < 0) snprintf(out, sizeof out, "EVALERR %s", expr_state_error(st));
    else snprintf(out, sizeof out, "%s", rows_text(b, v));
    expr_state_free(st);
    return out;
}

/* build error text of e ("" when it builds) */
EXU const char *build_err(const Expr *e)
{
    static char why[256];
    ExprState  *st = expr_state_new(e, 0, why, sizeof why);
    if (st) {
        expr_state_free(st);
        return "";
    }
    return why;
}

#endif

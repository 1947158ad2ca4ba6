/*
 * expr_eval.c — compiling Expr trees into kernel trees and running them over
 * batches (see expr_eval.h for the interface, expr_kernels.h for the node
 * layout and the strict-kernel calling convention).
 *
 * Semantics (also in docs/expressions.md)
 *
 *   NULLs. Every function and operator returns NULL when an argument is
 *   NULL, except: AND / OR (three-valued: FALSE AND NULL = FALSE, TRUE OR
 *   NULL = TRUE, otherwise NULL wins over TRUE/FALSE), IS [NOT] NULL (never
 *   NULL), COALESCE (first non-NULL), NULLIF (NULLIF(a, NULL) = a), CONCAT
 *   (NULL arguments are skipped; all NULL gives ''), CASE (a NULL condition
 *   is not TRUE: the next branch is tried; no branch and no ELSE gives
 *   NULL), IN (x IN (…) is TRUE when found, else NULL when x or an item is
 *   NULL, else FALSE; NOT IN is its negation, NULL staying NULL).
 *
 *   BIGINT arithmetic never wraps and is never undefined: an overflow in
 *   + - * or unary minus (and ABS(INT64_MIN)) gives NULL, division and
 *   modulo by zero give NULL, INT64_MIN / -1 gives NULL (INT64_MIN % -1 is
 *   0). Division truncates toward zero; % takes the sign of the dividend
 *   (C, PostgreSQL, sqlite3). DOUBLE follows IEEE 754 (overflow to
 *   ±Infinity, NaN propagates, comparisons with NaN are FALSE) except that
 *   division or modulo by zero gives NULL here too (as sqlite3).
 *   TIMESTAMP ± INTERVAL, TIMESTAMP − TIMESTAMP and INTERVAL arithmetic are
 *   int64 microseconds with the same overflow rule; INTERVAL * DOUBLE and
 *   INTERVAL / DOUBLE round to the nearest microsecond, half away from zero.
 *
 *   Casts. Numbers, booleans, timestamps and intervals become VARCHAR with
 *   the text of vector_format_value (3.0, 1.0e+20, true, 2024-01-01
 *   00:00:10.5, 1 hour 30 minutes). VARCHAR → BIGINT accepts optional
 *   blanks and a sign around decimal digits; → DOUBLE what strtod accepts
 *   in decimal (plus Infinity / NaN), no hex; → BOOLEAN true/false, t/f,
 *   yes/no, y/n, on/off, 1/0 (any case); → TIMESTAMP ts_parse; → INTERVAL
 *   interval_parse; malformed text gives NULL. DOUBLE → BIGINT rounds half
 *   away from zero (PostgreSQL), NaN or out of range gives NULL. BIGINT ↔
 *   BOOLEAN is 0/1 (nonzero is TRUE). BIGINT → TIMESTAMP is not a cast: use
 *   TO_TIMESTAMP (epoch seconds).
 *
 *   Strings are bytes, assumed UTF-8. LENGTH, SUBSTRING, TRIM's character
 *   set and LIKE's '_' count characters (a lead byte and its continuation
 *   bytes; an invalid byte counts as one character). LOWER / UPPER change
 *   the ASCII letters only. Comparison is byte-wise (= code point order).
 *   LIKE is case-sensitive, '%' matches any run, '_' one character; there
 *   is no escape character unless ESCAPE gives one (Flink); ESCAPE '' means
 *   none. SIMILAR TO is the SQL regular expression (anchored; % _ | * + ?
 *   {m,n} ( ) [ ] are operators, ESCAPE as for LIKE), translated to a POSIX
 *   extended regex; REGEXP_LIKE(s, re[, flags]) is TRUE when the POSIX
 *   extended regex matches anywhere in s (flags: i case-insensitive,
 *   c case-sensitive, m/n newline-sensitive). Both use libc <regex.h>, so
 *   '.' and bracket expressions follow the process's LC_CTYPE (sluice runs
 *   in the C locale: bytes). A constant pattern is compiled once, when the
 *   state is built, and a malformed one is a build error; a pattern that
 *   comes from a column is compiled per distinct value (the last one is
 *   cached) and a malformed one gives NULL for that row.
 *
 *   Time. EXTRACT fields and DATE_TRUNC units are listed in func.h; all
 *   fields are BIGINT (SECOND whole seconds, MILLISECOND seconds*1000+ms,
 *   EPOCH floor seconds, DOW 0 = Sunday, WEEK ISO 8601). DATE_TRUNC week
 *   goes to Monday. TO_TIMESTAMP(VARCHAR) is ts_parse (NULL when
 *   malformed), TO_TIMESTAMP(BIGINT|DOUBLE) takes epoch seconds (fractions
 *   rounded to the microsecond); out of range gives NULL.
 *
 * Evaluation order. Arguments of ordinary functions are evaluated on all
 * live rows before the function. AND / OR evaluate each operand only on
 * the rows the previous operands left undecided, CASE evaluates a THEN only
 * on the rows its WHEN selected and each WHEN only on the rows no earlier
 * WHEN took, COALESCE evaluates an argument only where all earlier ones
 * were NULL. Nothing here can fail per row, so the order changes the work
 * done, never the result.
 */
#include "exec/expr_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/expr_kernels.h"

#define NODE_ARENA_CHUNK 4096

/* ---- prototypes ----------------------------------------------------------- */

static const Vector *eval_node(ExprState *st, ENode *n, const EvalCtx *cx);
static ENode        *compile(ExprState *st, const Expr *e, char *why, size_t cap);

/* ---- node construction ------------------------------------------------------ */

static ENode *node_new(ExprState *st, int kernel, SqlType type, int nargs)
{
    ENode *n = arena_calloc(&st->mem, 1, sizeof *n);
    if (!n) return NULL;
    n->kernel = kernel;
    n->type = type;
    n->nargs = nargs;
    n->col = -1;
    arena_init(&n->arena, NODE_ARENA_CHUNK);
    n->next_all = st->all;
    st->all = n;
    if (nargs > 0) {
        n->args = arena_calloc(&st->mem, (size_t)nargs, sizeof *n->args);
        n->argv = arena_calloc(&st->mem, (size_t)nargs, sizeof *n->argv);
        if (!n->args || !n->argv) return NULL;
    }
    if (kernel != K_COLUMN) {
        int rows = kernel == K_CONST || kernel == K_NULL ? 1 : st->capacity;
        if (vector_init(&n->res, type, rows) < 0) return NULL;
        n->res.arena = &n->arena;
    }
    return n;
}

/* A folded result only needs slot 0: trade the capacity-row scratch vector
 * for a one-row constant (strings stay in the node's arena), so constant
 * subtrees and long IN lists cost no per-row memory. */
static int shrink_folded(ENode *n)
{
    Vector one;
    if (n->res.capacity <= 1) return 0;
    if (vector_init(&one, n->type, 1) < 0) return -1;
    one.arena = &n->arena;
    if (vector_copy_row(&one, 0, &n->res, 0) < 0) {
        vector_destroy(&one);
        return -1;
    }
    vector_make_constant(&one);
    vector_destroy(&n->res);
    n->res = one;
    return 0;
}

static uint32_t *sel_new(ExprState *st)
{
    return arena_alloc(&st->mem, (size_t)st->capacity * sizeof(uint32_t));
}

static ENode *oom(char *why, size_t cap)
{
    snprintf(why, cap, "out of memory");
    return NULL;
}

/* a constant NULL of type t */
static ENode *null_node(ExprState *st, SqlType t)
{
    ENode *n = node_new(st, K_NULL, t, 0);
    if (!n) return NULL;
    vector_set_null(&n->res, 0);
    vector_make_constant(&n->res);
    n->out = &n->res;
    n->folded = 1;
    return n;
}

/* Evaluate a node whose arguments are all constant, once, now. */
static int fold(ExprState *st, ENode *n, char *why, size_t cap)
{
    EvalCtx       one = {NULL, NULL, 1, 1};
    const Vector *v = eval_node(st, n, &one);
    if (!v) {
        snprintf(why, cap, "%s", st->err);
        return -1;
    }
    if (v == &n->res) {
        vector_make_constant(&n->res);
        if (shrink_folded(n) < 0) {
            snprintf(why, cap, "out of memory");
            return -1;
        }
    }
    n->out = v;
    n->folded = 1;
    return 0;
}

static int all_args_folded(const ENode *n)
{
    for (int i = 0; i < n->nargs; i++)
        if (!n->args[i]->folded) return 0;
    return 1;
}

static ENode *maybe_fold(ExprState *st, ENode *n, char *why, size_t cap)
{
    if (n && n->kernel != K_COLUMN && all_args_folded(n) && fold(st, n, why, cap) < 0)
        return NULL;
    return n;
}

/* c converted to type want: itself, a typed NULL, or a cast node */
static ENode *coerce(ExprState *st, ENode *c, SqlType want, char *why, size_t cap)
{
    if (c->type == want) return c;
    if (c->type == TYPE_NULL) {
        ENode *n = null_node(st, want);
        return n ? n : oom(why, cap);
    }
    if (!cast_allowed(c->type, want)) {
        snprintf(why, cap, "cannot cast %s to %s", sql_type_name(c->type), sql_type_name(want));
        return NULL;
    }
    ENode *n = node_new(st, K_CAST, want, 1);
    if (!n) return oom(why, cap);
    n->from = c->type;
    n->args[0] = c;
    return maybe_fold(st, n, why, cap);
}

/* ---- compiling ------------------------------------------------------------------- */

static ENode *compile_const(ExprState *st, const Expr *e, char *why, size_t cap)
{
    const Value *v = &e->value;
    if (v->is_null || e->type == TYPE_NULL) {
        ENode *n = null_node(st, e->type);
        return n ? n : oom(why, cap);
    }
    if (v->type != e->type) {
        snprintf(why, cap, "constant of type %s in a node typed %s", sql_type_name(v->type),
                 sql_type_name(e->type));
        return NULL;
    }
    ENode *n = node_new(st, K_CONST, e->type, 0);
    if (!n) return oom(why, cap);
    Vector *r = &n->res;
    switch (e->type) {
    case TYPE_NULL:
        break;
    case TYPE_BOOLEAN:
        vector_bool(r)[0] = v->u.b ? 1 : 0;
        break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        vector_i64(r)[0] = v->u.i;
        break;
    case TYPE_DOUBLE:
        vector_f64(r)[0] = v->u.d;
        break;
    case TYPE_VARCHAR:
        if (vector_set_str(r, 0, v->u.s.ptr, v->u.s.len) < 0) return oom(why, cap);
        break;
    }
    vector_make_constant(r);
    n->out = r;
    n->folded = 1;
    return n;
}

static int is_strict_fn(int fn)
{
    return fn != FN_CONCAT && fn != FN_COALESCE && fn != FN_NULLIF;
}

/* the kernel for fn with resolved argument types */
static int pick_kernel(int fn, int nargs, const SqlType *t, int *flag)
{
    *flag = 0;
    switch (fn) {
    case FN_ADD:
    case FN_SUB:
    case FN_MUL:
    case FN_DIV:
    case FN_MOD:
        *flag = fn;
        if (t[0] == TYPE_DOUBLE && t[1] == TYPE_DOUBLE) return K_ARITH_F64;
        if (fn == FN_MUL && (t[0] == TYPE_DOUBLE || t[1] == TYPE_DOUBLE)) {
            *flag = t[0] == TYPE_DOUBLE;         /* 1: DOUBLE * INTERVAL */
            return K_IVL_MUL_F64;
        }
        if (fn == FN_DIV && t[1] == TYPE_DOUBLE) {
            *flag = 0;
            return K_IVL_DIV_F64;
        }
        return K_ARITH_I64;
    case FN_NEG:
        return t[0] == TYPE_DOUBLE ? K_NEG_F64 : K_NEG_I64;
    case FN_EQ:
    case FN_NE:
    case FN_LT:
    case FN_LE:
    case FN_GT:
    case FN_GE:
        *flag = fn;
        switch (t[0]) {
        case TYPE_DOUBLE:  return K_CMP_F64;
        case TYPE_VARCHAR: return K_CMP_STR;
        case TYPE_BOOLEAN: return K_CMP_BOOL;
        default:           return K_CMP_I64;
        }
    case FN_CONCAT_OP:   return K_CONCAT_OP;
    case FN_LIKE:        return K_LIKE;
    case FN_SIMILAR:     *flag = 1; return K_REGEX;
    case FN_REGEXP_LIKE: return K_REGEX;
    case FN_LOWER:       return K_LOWER;
    case FN_UPPER:       return K_UPPER;
    case FN_LENGTH:      return K_LENGTH;
    case FN_SUBSTRING:   return K_SUBSTRING;
    case FN_TRIM:        *flag = TRIM_LEFT | TRIM_RIGHT; return K_TRIM;
    case FN_LTRIM:       *flag = TRIM_LEFT; return K_TRIM;
    case FN_RTRIM:       *flag = TRIM_RIGHT; return K_TRIM;
    case FN_CONCAT:      return K_CONCAT;
    case FN_ABS:         return t[0] == TYPE_DOUBLE ? K_ABS_F64 : K_ABS_I64;
    case FN_ROUND:
        if (t[0] == TYPE_DOUBLE) return K_ROUND_F64;
        return nargs == 2 ? K_ROUND_I64 : -2;      /* ROUND(BIGINT) is the argument */
    case FN_FLOOR:       return t[0] == TYPE_DOUBLE ? K_FLOOR_F64 : -2;
    case FN_CEIL:        return t[0] == TYPE_DOUBLE ? K_CEIL_F64 : -2;
    case FN_COALESCE:    return K_COALESCE;
    case FN_NULLIF:      return K_NULLIF;
    case FN_EXTRACT:     return K_EXTRACT;
    case FN_DATE_TRUNC:  return K_DATE_TRUNC;
    case FN_TO_TIMESTAMP:
        return t[0] == TYPE_VARCHAR ? K_TO_TS_STR
             : t[0] == TYPE_DOUBLE  ? K_TO_TS_F64
                                    : K_TO_TS_I64;
    }
    return -1;
}

static ENode *compile_func(ExprState *st, const Expr *e, char *why, size_t cap)
{
    int      na = e->nargs;
    ENode   *c[64];
    SqlType  types[64], want[64], ret;
    if (na > 64) {
        snprintf(why, cap, "%s has too many arguments (%d, at most 64)", func_name(e->fn), na);
        return NULL;
    }
    for (int i = 0; i < na; i++) {
        if (!(c[i] = compile(st, e->args[i], why, cap))) return NULL;
        types[i] = c[i]->type;
    }
    if (func_resolve(e->fn, na, types, want, &ret, why, cap) < 0) return NULL;
    if (ret != e->type) {
        snprintf(why, cap, "%s returns %s here but the expression is typed %s",
                 func_name(e->fn), sql_type_name(ret), sql_type_name(e->type));
        return NULL;
    }
    int any_null = 0;
    for (int i = 0; i < na; i++) any_null |= types[i] == TYPE_NULL;
    if (ret == TYPE_NULL || (any_null && is_strict_fn(e->fn))) {
        ENode *n = null_node(st, ret);
        return n ? n : oom(why, cap);
    }
    for (int i = 0; i < na; i++)
        if (!(c[i] = coerce(st, c[i], want[i], why, cap))) return NULL;

    int flag, kernel = pick_kernel(e->fn, na, want, &flag);
    if (kernel == -2) return c[0];           /* identity on this type */
    if (kernel < 0) {
        snprintf(why, cap, "no kernel for %s", func_name(e->fn));
        return NULL;
    }
    ENode *n = node_new(st, kernel, ret, na);
    if (!n) return oom(why, cap);
    n->flag = flag;
    for (int i = 0; i < na; i++) n->args[i] = c[i];

    int rc = 0;
    switch (kernel) {
    case K_LIKE:
        rc = kern_like_prepare(n, &st->mem, why, cap);
        break;
    case K_REGEX:
        rc = kern_regex_prepare(n, &st->mem, why, cap);
        break;
    case K_EXTRACT:
    case K_DATE_TRUNC:
        rc = kern_time_prepare(n, why, cap);
        break;
    case K_COALESCE:
        if (!(n->sel_a = sel_new(st))) return oom(why, cap);
        break;
    default:
        break;
    }
    if (rc < 0) return NULL;
    return maybe_fold(st, n, why, cap);
}

/* a BOOLEAN operand of AND / OR / NOT / CASE WHEN */
static ENode *compile_bool(ExprState *st, const Expr *e, const char *what, char *why,
                           size_t cap)
{
    ENode *c = compile(st, e, why, cap);
    if (!c) return NULL;
    if (c->type != TYPE_BOOLEAN && c->type != TYPE_NULL) {
        snprintf(why, cap, "%s needs a BOOLEAN, got %s", what, sql_type_name(c->type));
        return NULL;
    }
    return coerce(st, c, TYPE_BOOLEAN, why, cap);
}

static ENode *compile_logic(ExprState *st, const Expr *e, char *why, size_t cap)
{
    const char *what = e->op == EXPR_AND ? "AND" : e->op == EXPR_OR ? "OR" : "NOT";
    if (e->nargs < 1 || (e->op == EXPR_NOT && e->nargs != 1)) {
        snprintf(why, cap, "%s with %d operands", what, e->nargs);
        return NULL;
    }
    int    kernel = e->op == EXPR_AND ? K_AND : e->op == EXPR_OR ? K_OR : K_NOT;
    ENode *n = node_new(st, kernel, TYPE_BOOLEAN, e->nargs);
    if (!n) return oom(why, cap);
    for (int i = 0; i < e->nargs; i++)
        if (!(n->args[i] = compile_bool(st, e->args[i], what, why, cap))) return NULL;
    if (kernel != K_NOT && !(n->sel_a = sel_new(st))) return oom(why, cap);
    return maybe_fold(st, n, why, cap);
}

static ENode *compile_is_null(ExprState *st, const Expr *e, char *why, size_t cap)
{
    if (e->nargs != 1) {
        snprintf(why, cap, "IS NULL with %d operands", e->nargs);
        return NULL;
    }
    ENode *n = node_new(st, K_IS_NULL, TYPE_BOOLEAN, 1);
    if (!n) return oom(why, cap);
    n->flag = e->negated != 0;
    if (!(n->args[0] = compile(st, e->args[0], why, cap))) return NULL;
    return maybe_fold(st, n, why, cap);
}

/* ---- IN: constant items become a sorted set ----------------------------------- */

typedef struct InSet {
    int       n;          /* constant non-NULL items                     */
    int       has_null;   /* a constant NULL item                        */
    int64_t  *i64;        /* BIGINT / TIMESTAMP / INTERVAL, sorted       */
    double   *f64;        /* DOUBLE, sorted, NaN left out                */
    Str      *str;        /* VARCHAR, sorted by str_cmp                  */
    int       has_true, has_false;   /* BOOLEAN                          */
    int       nvar;       /* non-constant items: args[var[k]]            */
    int      *var;
} InSet;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_f64(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return str_cmp(*(const Str *)a, *(const Str *)b);
}

static ENode *compile_in(ExprState *st, const Expr *e, char *why, size_t cap)
{
    int na = e->nargs;
    if (na < 2) {
        snprintf(why, cap, "IN needs a value and at least one item");
        return NULL;
    }
    ENode *n = node_new(st, K_IN, TYPE_BOOLEAN, na);
    if (!n) return oom(why, cap);
    n->flag = e->negated != 0;
    SqlType t = TYPE_NULL;
    for (int i = 0; i < na; i++) {
        if (!(n->args[i] = compile(st, e->args[i], why, cap))) return NULL;
        SqlType c = type_common(t, n->args[i]->type);
        if (c == TYPE_NULL && n->args[i]->type != TYPE_NULL) {
            snprintf(why, cap, "IN list types do not match: %s and %s", sql_type_name(t),
                     sql_type_name(n->args[i]->type));
            return NULL;
        }
        t = c;
    }
    if (t == TYPE_NULL) {
        ENode *z = null_node(st, TYPE_BOOLEAN);
        return z ? z : oom(why, cap);
    }
    for (int i = 0; i < na; i++)
        if (!(n->args[i] = coerce(st, n->args[i], t, why, cap))) return NULL;

    InSet *s = arena_calloc(&st->mem, 1, sizeof *s);
    if (!s) return oom(why, cap);
    n->aux = s;
    size_t items = (size_t)na - 1;
    s->var = arena_calloc(&st->mem, items, sizeof *s->var);
    s->i64 = arena_calloc(&st->mem, items, sizeof *s->i64);
    s->f64 = arena_calloc(&st->mem, items, sizeof *s->f64);
    s->str = arena_calloc(&st->mem, items, sizeof *s->str);
    if (!s->var || !s->i64 || !s->f64 || !s->str) return oom(why, cap);
    for (int i = 1; i < na; i++) {
        const ENode *c = n->args[i];
        if (!c->folded) {
            s->var[s->nvar++] = i;
            continue;
        }
        const Vector *v = c->out;
        if (vector_is_null(v, 0)) {
            s->has_null = 1;
            continue;
        }
        switch (t) {
        case TYPE_BOOLEAN:
            if (vector_bool(v)[0]) s->has_true = 1;
            else s->has_false = 1;
            break;
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL:
            s->i64[s->n++] = vector_i64(v)[0];
            break;
        case TYPE_DOUBLE: {
            double d = vector_f64(v)[0];
            if (d == d) s->f64[s->n++] = d;   /* NaN equals nothing */
            break;
        }
        case TYPE_VARCHAR:
            s->str[s->n++] = vector_str(v)[0];   /* bytes of a folded node: stable */
            break;
        case TYPE_NULL:
            break;
        }
    }
    if (t == TYPE_DOUBLE) qsort(s->f64, (size_t)s->n, sizeof *s->f64, cmp_f64);
    else if (t == TYPE_VARCHAR) qsort(s->str, (size_t)s->n, sizeof *s->str, cmp_str);
    else if (t != TYPE_BOOLEAN) qsort(s->i64, (size_t)s->n, sizeof *s->i64, cmp_i64);
    return maybe_fold(st, n, why, cap);
}

static ENode *compile_case(ExprState *st, const Expr *e, char *why, size_t cap)
{
    int has_else = e->has_else != 0;
    int npairs = (e->nargs - has_else) / 2;
    if (npairs < 1 || npairs * 2 + has_else != e->nargs) {
        snprintf(why, cap, "CASE with %d arguments%s", e->nargs, has_else ? " and ELSE" : "");
        return NULL;
    }
    if (e->type == TYPE_NULL) {
        ENode *z = null_node(st, TYPE_NULL);
        return z ? z : oom(why, cap);
    }
    ENode *n = node_new(st, K_CASE, e->type, e->nargs);
    if (!n) return oom(why, cap);
    n->flag = has_else;
    for (int i = 0; i < e->nargs; i++) {
        int    is_when = i % 2 == 0 && i < npairs * 2;
        ENode *c = is_when ? compile_bool(st, e->args[i], "CASE WHEN", why, cap)
                           : compile(st, e->args[i], why, cap);
        if (!c) return NULL;
        if (!is_when && !(c = coerce(st, c, e->type, why, cap))) return NULL;
        n->args[i] = c;
    }
    if (!(n->sel_a = sel_new(st)) || !(n->sel_b = sel_new(st))) return oom(why, cap);
    return maybe_fold(st, n, why, cap);
}

static ENode *compile(ExprState *st, const Expr *e, char *why, size_t cap)
{
    if (!e) {
        snprintf(why, cap, "missing expression");
        return NULL;
    }
    if ((unsigned)e->type >= SQL_TYPE_COUNT) {
        snprintf(why, cap, "expression of unknown type %d", (int)e->type);
        return NULL;
    }
    for (int i = 0; i < e->nargs; i++)
        if (!e->args[i]) {
            snprintf(why, cap, "missing argument %d", i + 1);
            return NULL;
        }
    switch (e->op) {
    case EXPR_COLUMN: {
        if (e->col < 0) {
            snprintf(why, cap, "column index %d", e->col);
            return NULL;
        }
        ENode *n = node_new(st, K_COLUMN, e->type, 0);
        if (!n) return oom(why, cap);
        n->col = e->col;
        return n;
    }
    case EXPR_CONST:
        return compile_const(st, e, why, cap);
    case EXPR_FUNC:
        return compile_func(st, e, why, cap);
    case EXPR_CAST: {
        if (e->nargs != 1) {
            snprintf(why, cap, "CAST with %d operands", e->nargs);
            return NULL;
        }
        ENode *c = compile(st, e->args[0], why, cap);
        if (!c) return NULL;
        if (e->type == TYPE_NULL && c->type != TYPE_NULL) {
            snprintf(why, cap, "cannot cast %s to NULL", sql_type_name(c->type));
            return NULL;
        }
        return coerce(st, c, e->type, why, cap);
    }
    case EXPR_AND:
    case EXPR_OR:
    case EXPR_NOT:
        return compile_logic(st, e, why, cap);
    case EXPR_IS_NULL:
        return compile_is_null(st, e, why, cap);
    case EXPR_IN:
        return compile_in(st, e, why, cap);
    case EXPR_CASE:
        return compile_case(st, e, why, cap);
    }
    snprintf(why, cap, "unknown expression op %d", (int)e->op);
    return NULL;
}

/* ---- row helpers for the non-strict kernels ----------------------------------- */

/* dst[r] = src[r & m] (value and NULL) for the rows sel[0..count) (NULL sel:
 * 0..count-1); dst and src have the same type */
static void copy_rows(Vector *dst, const Vector *src, const uint32_t *sel, int count)
{
    int             m = KMASK(src);
    const uint64_t *sv = src->validity;
    if (src->type == TYPE_NULL) {
        for (int i = 0; i < count; i++) vector_set_null(dst, sel ? (int)sel[i] : i);
        return;
    }
#define COPY_LOOP(T, ACC)                                                  \
    do {                                                                   \
        const T *x = ACC(src);                                             \
        T       *o = ACC(dst);                                             \
        for (int i = 0; i < count; i++) {                                  \
            int r = sel ? (int)sel[i] : i;                                 \
            o[r] = x[r & m];                                               \
            if (!KVALID(sv, r & m)) vector_set_null(dst, r);               \
        }                                                                  \
    } while (0)
    switch (src->type) {
    case TYPE_BOOLEAN:   COPY_LOOP(uint8_t, vector_bool); break;
    case TYPE_DOUBLE:    COPY_LOOP(double, vector_f64); break;
    case TYPE_VARCHAR:   COPY_LOOP(Str, vector_str); break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:  COPY_LOOP(int64_t, vector_i64); break;
    case TYPE_NULL:      break;
    }
#undef COPY_LOOP
}

/* for the rows sel[0..count): where src is valid copy it into dst, and write
 * the other rows (src NULL) to rest[]; returns how many. rest may be sel. */
static int copy_valid_rows(Vector *dst, const Vector *src, const uint32_t *sel, int count,
                           uint32_t *rest)
{
    int             m = KMASK(src), k = 0;
    const uint64_t *sv = src->validity;
    if (src->type == TYPE_NULL) {
        for (int i = 0; i < count; i++) rest[k++] = sel ? sel[i] : (uint32_t)i;
        return k;
    }
#define TAKE_LOOP(T, ACC)                                                  \
    do {                                                                   \
        const T *x = ACC(src);                                             \
        T       *o = ACC(dst);                                             \
        for (int i = 0; i < count; i++) {                                  \
            int r = sel ? (int)sel[i] : i;                                 \
            if (KVALID(sv, r & m)) o[r] = x[r & m];                        \
            else rest[k++] = (uint32_t)r;                                  \
        }                                                                  \
    } while (0)
    switch (src->type) {
    case TYPE_BOOLEAN:   TAKE_LOOP(uint8_t, vector_bool); break;
    case TYPE_DOUBLE:    TAKE_LOOP(double, vector_f64); break;
    case TYPE_VARCHAR:   TAKE_LOOP(Str, vector_str); break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:  TAKE_LOOP(int64_t, vector_i64); break;
    case TYPE_NULL:      break;
    }
#undef TAKE_LOOP
    return k;
}

static EvalCtx sub_ctx(const EvalCtx *cx, const uint32_t *sel, int count)
{
    EvalCtx c = *cx;
    c.sel = sel;
    c.count = count;
    return c;
}

/* ---- lazy kernels --------------------------------------------------------------- */

/* AND (decide = 0) / OR (decide = 1) */
static int kern_logic(ExprState *st, ENode *n, const EvalCtx *cx, uint8_t decide)
{
    Vector         *res = &n->res;
    uint8_t        *o = vector_bool(res);
    const uint32_t *cur = cx->sel;
    int             cnt = cx->count;
    for (int k = 0; k < n->nargs && cnt > 0; k++) {
        EvalCtx       c = sub_ctx(cx, cur, cnt);
        const Vector *v = eval_node(st, n->args[k], &c);
        if (!v) return -1;
        const uint8_t  *x = vector_bool(v);
        const uint64_t *xv = v->validity;
        int             m = KMASK(v), rest = 0;
        for (int i = 0; i < cnt; i++) {
            int r = cur ? (int)cur[i] : i;
            if (!KVALID(xv, r & m)) {
                vector_set_null(res, r);
                n->sel_a[rest++] = (uint32_t)r;
            } else if (x[r & m] == decide) {
                o[r] = decide;
                vector_set_valid(res, r);
            } else {
                n->sel_a[rest++] = (uint32_t)r;
            }
        }
        cur = n->sel_a;
        cnt = rest;
    }
    for (int i = 0; i < cnt; i++) o[cur ? (int)cur[i] : i] = (uint8_t)!decide;
    return 0;
}

static int kern_case(ExprState *st, ENode *n, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint32_t *cur = cx->sel;
    int             cnt = cx->count;
    int             npairs = (n->nargs - n->flag) / 2;
    for (int k = 0; k < npairs && cnt > 0; k++) {
        EvalCtx       c = sub_ctx(cx, cur, cnt);
        const Vector *w = eval_node(st, n->args[2 * k], &c);
        if (!w) return -1;
        const uint8_t  *wd = vector_bool(w);
        const uint64_t *wv = w->validity;
        int             m = KMASK(w), nmatch = 0, rest = 0;
        for (int i = 0; i < cnt; i++) {
            int r = cur ? (int)cur[i] : i;
            if (KVALID(wv, r & m) && wd[r & m]) n->sel_b[nmatch++] = (uint32_t)r;
            else n->sel_a[rest++] = (uint32_t)r;
        }
        if (nmatch > 0) {
            EvalCtx       tc = sub_ctx(cx, n->sel_b, nmatch);
            const Vector *t = eval_node(st, n->args[2 * k + 1], &tc);
            if (!t) return -1;
            copy_rows(res, t, n->sel_b, nmatch);
        }
        cur = n->sel_a;
        cnt = rest;
    }
    if (cnt == 0) return 0;
    if (n->flag) {
        EvalCtx       c = sub_ctx(cx, cur, cnt);
        const Vector *v = eval_node(st, n->args[n->nargs - 1], &c);
        if (!v) return -1;
        copy_rows(res, v, cur, cnt);
    } else {
        for (int i = 0; i < cnt; i++) vector_set_null(res, cur ? (int)cur[i] : i);
    }
    return 0;
}

static int kern_coalesce(ExprState *st, ENode *n, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const uint32_t *cur = cx->sel;
    int             cnt = cx->count;
    for (int k = 0; k < n->nargs && cnt > 0; k++) {
        EvalCtx       c = sub_ctx(cx, cur, cnt);
        const Vector *v = eval_node(st, n->args[k], &c);
        if (!v) return -1;
        cnt = copy_valid_rows(res, v, cur, cnt, n->sel_a);
        cur = n->sel_a;
    }
    for (int i = 0; i < cnt; i++) vector_set_null(res, cur ? (int)cur[i] : i);
    return 0;
}

/* ---- eager non-strict kernels ------------------------------------------------- */

static int kern_is_null(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const uint64_t *xv = a[0]->validity;
    uint8_t        *o = vector_bool(&n->res);
    uint8_t         neg = (uint8_t)n->flag;
    int             m = KMASK(a[0]);
    const uint32_t *sel = cx->sel;
    if (!xv) {
        for (int i = 0; i < cx->count; i++) o[sel ? (int)sel[i] : i] = neg;
        return 0;
    }
    for (int i = 0; i < cx->count; i++) {
        int r = sel ? (int)sel[i] : i;
        o[r] = (uint8_t)(!KVALID(xv, r & m) ^ neg);
    }
    return 0;
}

static int kern_nullif(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    Vector         *res = &n->res;
    const Vector   *x = a[0], *y = a[1];
    const uint32_t *sel = cx->sel;
    int             mx = KMASK(x), my = KMASK(y), count = cx->count;
    copy_rows(res, x, sel, count);
#define NULLIF_LOOP(T, ACC, EQ)                                                  \
    do {                                                                         \
        const T *xd = ACC(x), *yd = ACC(y);                                      \
        for (int i = 0; i < count; i++) {                                        \
            int r = sel ? (int)sel[i] : i;                                       \
            if (!KVALID(x->validity, r & mx) || !KVALID(y->validity, r & my))    \
                continue;                                                        \
            T xv = xd[r & mx], yv = yd[r & my];                                  \
            if (EQ) vector_set_null(res, r);                                     \
        }                                                                        \
    } while (0)
    switch (x->type) {
    case TYPE_BOOLEAN: NULLIF_LOOP(uint8_t, vector_bool, xv == yv); break;
    case TYPE_DOUBLE:  NULLIF_LOOP(double, vector_f64, xv == yv); break;
    case TYPE_VARCHAR: NULLIF_LOOP(Str, vector_str, str_eq(xv, yv)); break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL: NULLIF_LOOP(int64_t, vector_i64, xv == yv); break;
    case TYPE_NULL:    break;
    }
#undef NULLIF_LOOP
    return 0;
}

/* binary search for a constant IN set (n sorted entries): the first entry
 * not below KEY, then an equality test (so a NaN key finds nothing) */
#define IN_BSEARCH(ARR, N, KEY, LESS, EQ, FOUND)                                \
    do {                                                                        \
        int lo_ = 0, hi_ = (N);                                                 \
        while (lo_ < hi_) {                                                     \
            int mid_ = lo_ + (hi_ - lo_) / 2;                                   \
            if (LESS((ARR)[mid_], (KEY))) lo_ = mid_ + 1;                       \
            else hi_ = mid_;                                                    \
        }                                                                       \
        (FOUND) = lo_ < (N) && EQ((ARR)[lo_], (KEY));                           \
    } while (0)

#define LESS_NUM(a, b) ((a) < (b))
#define EQ_NUM(a, b)   ((a) == (b))
#define LESS_STR(a, b) (str_cmp((a), (b)) < 0)
#define EQ_STR(a, b)   str_eq((a), (b))

static int kern_in(ENode *n, const Vector *const *a, const EvalCtx *cx)
{
    const InSet    *s = n->aux;
    Vector         *res = &n->res;
    uint8_t        *o = vector_bool(res);
    const Vector   *x = a[0];
    const uint32_t *sel = cx->sel;
    int             mx = KMASK(x), count = cx->count;
    uint8_t         neg = (uint8_t)n->flag;

/* FIND sets `found` for the value xv from the constant set; EQ compares
 * xv with an item value iv */
#define IN_LOOP(T, ACC, FIND, EQ)                                                \
    do {                                                                         \
        const T *xd = ACC(x);                                                    \
        for (int i = 0; i < count; i++) {                                        \
            int r = sel ? (int)sel[i] : i;                                       \
            if (!KVALID(x->validity, r & mx)) {                                  \
                vector_set_null(res, r);                                         \
                continue;                                                        \
            }                                                                    \
            T   xv = xd[r & mx];                                                 \
            int found = 0, saw_null = s->has_null;                               \
            FIND;                                                                \
            for (int k = 0; k < s->nvar && !found; k++) {                        \
                const Vector *it = a[s->var[k]];                                 \
                int           ri = r & KMASK(it);                                \
                if (!KVALID(it->validity, ri)) {                                 \
                    saw_null = 1;                                                \
                    continue;                                                    \
                }                                                                \
                T iv = ACC(it)[ri];                                              \
                found = (EQ);                                                    \
            }                                                                    \
            if (found) o[r] = (uint8_t)!neg;                                     \
            else if (saw_null) vector_set_null(res, r);                          \
            else o[r] = neg;                                                     \
        }                                                                        \
    } while (0)

    switch (x->type) {
    case TYPE_BOOLEAN:
        IN_LOOP(uint8_t, vector_bool, found = xv ? s->has_true : s->has_false, iv == xv);
        break;
    case TYPE_DOUBLE:
        IN_LOOP(double, vector_f64, IN_BSEARCH(s->f64, s->n, xv, LESS_NUM, EQ_NUM, found), iv == xv);
        break;
    case TYPE_VARCHAR:
        IN_LOOP(Str, vector_str, IN_BSEARCH(s->str, s->n, xv, LESS_STR, EQ_STR, found),
                str_eq(iv, xv));
        break;
    case TYPE_BIGINT:
    case TYPE_TIMESTAMP:
    case TYPE_INTERVAL:
        IN_LOOP(int64_t, vector_i64, IN_BSEARCH(s->i64, s->n, xv, LESS_NUM, EQ_NUM, found),
                iv == xv);
        break;
    case TYPE_NULL:
        break;
    }
#undef IN_LOOP
    return 0;
}

/* ---- the driver ------------------------------------------------------------------ */


/* A constant NULL argument makes a strict result a constant NULL (returns 1).
 * Otherwise the result's validity becomes the AND of the flat arguments'. */
static int strict_prepare(ENode *n, const EvalCtx *cx)
{
    Vector   *res = &n->res;
    uint64_t *dst = NULL;
    size_t    words = VECTOR_VALIDITY_WORDS(cx->nslots);
    for (int k = 0; k < n->nargs; k++) {
        const Vector *v = n->argv[k];
        if (v->kind == VECTOR_CONSTANT) {
            if (!KVALID(v->validity, 0)) {
                vector_set_null(res, 0);
                vector_make_constant(res);
                return 1;
            }
            continue;
        }
        if (!v->validity) continue;
        if (!dst) {
            dst = res->validity_buf;
            memcpy(dst, v->validity, words * sizeof *dst);
        } else {
            for (size_t w = 0; w < words; w++) dst[w] &= v->validity[w];
        }
    }
    res->validity = dst;
    return 0;
}

static int dispatch(ExprState *st, ENode *n, const EvalCtx *cx)
{
    const Vector *const *a = n->argv;
    switch (n->kernel) {
    case K_ARITH_I64:
    case K_ARITH_F64:
    case K_IVL_MUL_F64:
    case K_IVL_DIV_F64:  return kern_arith(n, a, cx);
    case K_NEG_I64:
    case K_NEG_F64:      return kern_neg(n, a, cx);
    case K_CMP_I64:
    case K_CMP_F64:
    case K_CMP_STR:
    case K_CMP_BOOL:     return kern_cmp(n, a, cx);
    case K_ABS_I64:
    case K_ABS_F64:
    case K_ROUND_I64:
    case K_ROUND_F64:
    case K_FLOOR_F64:
    case K_CEIL_F64:     return kern_math(n, a, cx);
    case K_NOT:          return kern_not(n, a, cx);
    case K_CONCAT_OP:
    case K_LOWER:
    case K_UPPER:
    case K_LENGTH:
    case K_SUBSTRING:
    case K_TRIM:         return kern_string(n, a, cx);
    case K_LIKE:         return kern_like(n, a, cx);
    case K_REGEX:        return kern_regex(n, a, cx);
    case K_EXTRACT:
    case K_DATE_TRUNC:
    case K_TO_TS_STR:
    case K_TO_TS_I64:
    case K_TO_TS_F64:    return kern_time(n, a, cx);
    case K_CAST:         return kern_cast(n, a, cx);
    case K_CONCAT:       return kern_concat(n, a, cx);
    case K_NULLIF:       return kern_nullif(n, a, cx);
    case K_IS_NULL:      return kern_is_null(n, a, cx);
    case K_IN:           return kern_in(n, a, cx);
    case K_AND:          return kern_logic(st, n, cx, 0);
    case K_OR:           return kern_logic(st, n, cx, 1);
    case K_CASE:         return kern_case(st, n, cx);
    case K_COALESCE:     return kern_coalesce(st, n, cx);
    }
    return -1;
}

static const Vector *eval_node(ExprState *st, ENode *n, const EvalCtx *cx)
{
    if (n->folded) return n->out;
    if (n->kernel == K_COLUMN) {
        const Batch *in = cx->in;
        if (!in || n->col >= in->ncols) {
            snprintf(st->err, sizeof st->err, "column %d is not in the input (%d columns)",
                     n->col, in ? in->ncols : 0);
            return NULL;
        }
        const Vector *v = &in->cols[n->col];
        if (v->type != n->type) {
            snprintf(st->err, sizeof st->err, "column %d is %s, the expression expects %s",
                     n->col, sql_type_name(v->type), sql_type_name(n->type));
            return NULL;
        }
        return n->out = v;
    }

    Vector *res = &n->res;
    EvalCtx c = *cx;
    if (n->kernel > K_EAGER_END_) {                  /* lazy: evaluates its own args */
        vector_reset(res);
        arena_reset(&n->arena);
        if (dispatch(st, n, &c) < 0) return NULL;
        return n->out = res;
    }

    int all_const = 1;
    for (int k = 0; k < n->nargs; k++) {
        const Vector *v = eval_node(st, n->args[k], cx);
        if (!v) return NULL;
        n->argv[k] = v;
        all_const &= v->kind == VECTOR_CONSTANT;
    }
    vector_reset(res);
    arena_reset(&n->arena);
    if (all_const) {
        c.sel = NULL;
        c.count = 1;
        c.nslots = 1;
    }
    if (n->kernel < K_STRICT_END_ && strict_prepare(n, &c)) return n->out = res;
    if (dispatch(st, n, &c) < 0) {
        snprintf(st->err, sizeof st->err, "out of memory");
        return NULL;
    }
    if (all_const) vector_make_constant(res);
    return n->out = res;
}

/* ---- filtering -------------------------------------------------------------------- */

/* narrow (*sel, *count) to the rows where n is TRUE; writes into fsel */
static int filter_node(ExprState *st, ENode *n, const EvalCtx *base, const uint32_t **sel,
                       int *count, uint32_t *fsel)
{
    if (n->kernel == K_AND && !n->folded) {
        for (int k = 0; k < n->nargs && *count > 0; k++)
            if (filter_node(st, n->args[k], base, sel, count, fsel) < 0) return -1;
        return 0;
    }
    EvalCtx       c = sub_ctx(base, *sel, *count);
    const Vector *v = eval_node(st, n, &c);
    if (!v) return -1;
    if (v->type == TYPE_NULL) {
        *count = 0;
        return 0;
    }
    const uint8_t  *x = vector_bool(v);
    const uint64_t *xv = v->validity;
    const uint32_t *in = *sel;
    int             cnt = *count, k = 0;
    if (v->kind == VECTOR_CONSTANT) {
        if (!KVALID(xv, 0) || !x[0]) *count = 0;
        return 0;
    }
    if (!in && !xv) {
        for (int i = 0; i < cnt; i++) {
            fsel[k] = (uint32_t)i;
            k += x[i] != 0;
        }
    } else if (!in) {
        for (int i = 0; i < cnt; i++) {
            fsel[k] = (uint32_t)i;
            k += x[i] && KVALID(xv, i);
        }
    } else if (!xv) {
        for (int i = 0; i < cnt; i++) {
            uint32_t r = in[i];
            fsel[k] = r;
            k += x[r] != 0;
        }
    } else {
        for (int i = 0; i < cnt; i++) {
            uint32_t r = in[i];
            fsel[k] = r;
            k += x[r] && KVALID(xv, (int)r);
        }
    }
    *sel = fsel;
    *count = k;
    return 0;
}

/* ---- API -------------------------------------------------------------------------- */

ExprState *expr_state_new(const Expr *e, int capacity, char *why, size_t cap)
{
    if (cap > 0) why[0] = '\0';
    ExprState *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    st->capacity = capacity > 0 ? capacity : SLUICE_VECTOR_SIZE;
    arena_init(&st->mem, 8192);
    st->root = compile(st, e, why, cap);
    if (!st->root) {
        expr_state_free(st);
        return NULL;
    }
    st->err[0] = '\0';
    return st;
}

void expr_state_free(ExprState *st)
{
    if (!st) return;
    for (ENode *n = st->all; n; n = n->next_all) {
        if (n->kernel == K_REGEX) kern_regex_release(n);
        if (n->kernel == K_LIKE) kern_like_release(n);
        vector_destroy(&n->res);
        arena_free(&n->arena);
    }
    arena_free(&st->mem);
    free(st);
}

void expr_state_reset(ExprState *st)
{
    if (!st) return;
    for (ENode *n = st->all; n; n = n->next_all)
        if (!n->folded) {
            arena_reset(&n->arena);
            vector_reset(&n->res);
            n->out = NULL;
        }
}

SqlType expr_state_type(const ExprState *st)
{
    return st->root->type;
}

const char *expr_state_error(const ExprState *st)
{
    return st->err;
}

static int make_ctx(ExprState *st, const Batch *in, EvalCtx *cx)
{
    st->err[0] = '\0';
    if (!in) {
        EvalCtx one = {NULL, NULL, 1, 1};
        *cx = one;
        return 0;
    }
    cx->in = in;
    cx->sel = in->sel;
    cx->count = in->count;
    cx->nslots = in->sel ? in->nrows : in->count;
    if (cx->nslots > st->capacity || cx->count > st->capacity || cx->count < 0) {
        snprintf(st->err, sizeof st->err, "batch of %d rows exceeds the expression's capacity %d",
                 cx->nslots > cx->count ? cx->nslots : cx->count, st->capacity);
        return -1;
    }
    return 0;
}

int expr_eval(ExprState *st, const Batch *in, const Vector **out)
{
    EvalCtx cx;
    if (make_ctx(st, in, &cx) < 0) return -1;
    const Vector *v = eval_node(st, st->root, &cx);
    if (!v) return -1;
    *out = v;
    return 0;
}

int expr_filter(ExprState *st, Batch *b)
{
    EvalCtx cx;
    if (make_ctx(st, b, &cx) < 0) return -1;
    if (st->root->type != TYPE_BOOLEAN && st->root->type != TYPE_NULL) {
        snprintf(st->err, sizeof st->err, "a filter needs a BOOLEAN predicate, got %s",
                 sql_type_name(st->root->type));
        return -1;
    }
    if (!st->fsel && !(st->fsel = sel_new(st))) {
        snprintf(st->err, sizeof st->err, "out of memory");
        return -1;
    }
    const uint32_t *sel = b->sel;
    int             count = b->count;
    if (count > 0 && filter_node(st, st->root, &cx, &sel, &count, st->fsel) < 0) return -1;
    /* the kept rows are a subsequence of the live rows: same count, same rows */
    if (count == b->count) return 0;
    if (count > 0) memcpy(b->sel_buf, sel, (size_t)count * sizeof *sel);   /* sel is fsel */
    batch_set_sel(b, b->sel_buf, count);
    return 0;
}

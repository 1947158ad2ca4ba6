/*
 * expr.h — the expression IR that plans carry and kernels evaluate.
 *
 * The planner's binder turns AST expressions into Expr trees: names are
 * resolved to input column indexes, every node is typed, overloads are
 * resolved to one FuncId (func.h), and implicit casts are explicit
 * EXPR_CAST nodes. An Expr tree is immutable once built and shared by every
 * task that runs the plan; evaluation state (scratch vectors) lives in an
 * ExprState built per task (expr_eval.h), so the tree itself is never
 * written during execution.
 *
 * Operators are all EXPR_FUNC nodes with a FuncId (a + b is FN_ADD with two
 * args); the few forms that are not plain functions of evaluated arguments
 * have their own op: AND/OR/NOT (three-valued, and AND/OR may skip work on
 * rows already decided), CASE (lazy branches), IS [NOT] NULL, IN (a list of
 * constants or expressions), CAST.
 *
 * Ownership: Expr nodes and their constant strings live in the arena of the
 * plan that holds them (exec/arena.h); nothing is freed node by node.
 */
#ifndef SLUICE_EXEC_EXPR_H
#define SLUICE_EXEC_EXPR_H

#include <stdint.h>

#include "exec/arena.h"
#include "exec/types.h"

/* A single SQL value (constants, aggregate results, group keys). */
typedef struct Value {
    SqlType type;
    int     is_null;
    union {
        int64_t i;   /* BIGINT, TIMESTAMP, INTERVAL */
        double  d;   /* DOUBLE                      */
        uint8_t b;   /* BOOLEAN                     */
        Str     s;   /* VARCHAR (bytes owned by an arena) */
    } u;
} Value;

typedef enum ExprOp {
    EXPR_COLUMN,    /* input column `col`                                    */
    EXPR_CONST,     /* `value`                                               */
    EXPR_FUNC,      /* `fn`(args…): operators and scalar functions          */
    EXPR_CAST,      /* args[0] converted to `type`                           */
    EXPR_AND,       /* args[0] AND args[1] AND …  (three-valued)             */
    EXPR_OR,        /* args[0] OR args[1] OR …    (three-valued)             */
    EXPR_NOT,       /* NOT args[0]                                           */
    EXPR_IS_NULL,   /* args[0] IS NULL; `negated`: IS NOT NULL               */
    EXPR_IN,        /* args[0] IN (args[1..]); `negated`: NOT IN             */
    EXPR_CASE       /* searched: args = when1, then1, when2, then2, …        */
                    /* [, else] (`has_else`); CASE x WHEN v is bound as      */
                    /* WHEN x = v                                            */
} ExprOp;

typedef struct Expr {
    ExprOp        op;
    SqlType       type;      /* result type                                    */
    int           col;       /* EXPR_COLUMN: index into the input batch        */
    int           fn;        /* EXPR_FUNC: a FuncId (func.h)                   */
    int           negated;   /* EXPR_IS_NULL, EXPR_IN                          */
    int           has_else;  /* EXPR_CASE                                      */
    Value         value;     /* EXPR_CONST                                     */
    int           nargs;
    struct Expr **args;
    int           loc;       /* byte offset in the statement text, -1 unknown  */
} Expr;

/* Builders (arena-allocated; NULL when out of memory). */
Expr *expr_column(Arena *a, int col, SqlType type, int loc);
Expr *expr_const(Arena *a, Value v, int loc);     /* copies a VARCHAR's bytes */
Expr *expr_new(Arena *a, ExprOp op, SqlType type, int nargs, int loc);   /* args zeroed */

/* Convenience builders over expr_new (NULL when out of memory or when an
 * argument is NULL, so calls nest without checks). args[] is copied. */
Expr *expr_func(Arena *a, int fn, SqlType type, int nargs, Expr *const *args, int loc);
Expr *expr_cast(Arena *a, Expr *arg, SqlType to, int loc);
Expr *expr_logic(Arena *a, ExprOp op, int nargs, Expr *const *args, int loc); /* AND/OR/NOT */

/* Value helpers. */
Value value_null(SqlType t);
Value value_i64(SqlType t, int64_t i);   /* BIGINT, TIMESTAMP or INTERVAL */
Value value_f64(double d);
Value value_bool(int b);
Value value_str(const char *p, uint32_t n);   /* no copy */
int   value_equal(const Value *a, const Value *b);   /* NULL == NULL here */

/* Is the whole tree free of column references (a constant expression)? */
int expr_is_constant(const Expr *e);

#endif

/*
 * func.h — the catalog of scalar operators and functions, and their typing.
 *
 * Every operator and scalar function of the SQL dialect (LANGUAGE.md,
 * "Expressions") has one FuncId, generated from the X-macro table below so
 * the enum, the names, the operator spellings and the argument counts cannot
 * drift apart. The binder (planner/) uses this file to type-check:
 *
 *   int fn = func_lookup("lower");                       // FN_LOWER, or -1
 *   SqlType want[2], ret;
 *   if (func_resolve(fn, n, arg_types, want, &ret, why, sizeof why) < 0)
 *       → error at the call's position: why says what is wrong
 *   for each i with want[i] != arg_types[i]: wrap args[i] in EXPR_CAST(want[i])
 *   node = EXPR_FUNC fn, type ret
 *
 * Operators (+, =, ||, LIKE, …) are not callable by name: the binder maps the
 * AST operator to its FuncId directly (FN_ADD …) and func_lookup() only knows
 * the names a user may call (with aliases: char_length → LENGTH, substr →
 * SUBSTRING, ceiling → CEIL, btrim → TRIM). MOD is both: MOD(a, b) and
 * a % b are FN_MOD. AND, OR, NOT, IS NULL, IN, CASE and CAST are not
 * functions: they have their own ExprOp (expr.h); BETWEEN is bound as two
 * comparisons and NOT LIKE as NOT over LIKE.
 *
 * Overload resolution. Each function has a list of signatures; an argument
 * of type A fits a parameter of type P at a cost: 0 when A == P, 1 when A is
 * TYPE_NULL (the NULL literal fits anything), 2 for BIGINT → DOUBLE, and,
 * for comparisons only, 3 for VARCHAR → TIMESTAMP or INTERVAL. The signature
 * with the lowest total cost wins (the first listed on a tie), so
 * BIGINT + BIGINT is BIGINT, BIGINT + DOUBLE is DOUBLE, ts = '2024-01-01'
 * compares timestamps, INTERVAL * BIGINT stays integral. Polymorphic
 * functions are resolved by rule: COALESCE and NULLIF use type_common() of
 * their arguments; CONCAT casts every argument to VARCHAR; `||` needs one
 * VARCHAR (or NULL) side and casts the other.
 *
 * Result types (B BOOLEAN, I BIGINT, D DOUBLE, V VARCHAR, T TIMESTAMP,
 * N INTERVAL):
 *
 *   + -        I,I→I  D,D→D  T±N→T  N+T→T  N±N→N  T-T→N
 *   * /        I,I→I  D,D→D  N*I→N  I*N→N  N*D→N  D*N→N  N/I→N  N/D→N
 *   % MOD      I,I→I  D,D→D
 *   unary -    I→I  D→D  N→N
 *   = <> < <= > >=   same type (B, I, D, V, T, N) → B; I with D as D;
 *                    V with T (or N) casts the V
 *   ||         V,V→V (a non-VARCHAR side is cast to VARCHAR)
 *   LIKE, SIMILAR TO   V,V[,V escape]→B      REGEXP_LIKE  V,V[,V flags]→B
 *   LOWER UPPER  V→V   LENGTH V→I   SUBSTRING V,I[,I]→V
 *   TRIM LTRIM RTRIM   V[,V chars]→V   CONCAT any…→V
 *   ABS FLOOR CEIL  I→I D→D   ROUND I[,I]→I  D[,I]→D
 *   COALESCE  T…→T   NULLIF T,T→T   (T = type_common of the arguments)
 *   EXTRACT   V field, T→I     DATE_TRUNC V unit, T→T
 *   TO_TIMESTAMP  V→T  I→T (epoch seconds)  D→T (fractional seconds)
 *
 * The meaning of each (NULL handling, overflow, units) is documented in
 * expr_eval.c and docs/expressions.md.
 *
 * Ownership: nothing allocates; names are static strings; `why` is caller
 * memory written with snprintf rules.
 */
#ifndef SLUICE_EXEC_FUNC_H
#define SLUICE_EXEC_FUNC_H

#include <stddef.h>

#include "exec/types.h"

typedef enum FuncSyntax {
    FSYN_CALL,     /* name(args)                   */
    FSYN_INFIX,    /* a op b  (LIKE: a LIKE b [ESCAPE c]; SIMILAR TO likewise) */
    FSYN_PREFIX    /* op a    (unary minus)        */
} FuncSyntax;

/*
 * X(ID, NAME, CALLABLE, OPERATOR, SYNTAX, MIN_ARGS, MAX_ARGS, USAGE)
 *   NAME      upper-case name for messages and EXPLAIN of calls
 *   CALLABLE  lower-case name func_lookup() knows, or NULL (operators)
 *   OPERATOR  SQL spelling when it is an operator, or NULL
 *   MAX_ARGS  -1: variadic
 *   USAGE     the accepted forms, quoted in type errors
 */
#define FUNC_LIST(X)                                                                        \
    X(ADD, "+", NULL, "+", FSYN_INFIX, 2, 2, "")                                            \
    X(SUB, "-", NULL, "-", FSYN_INFIX, 2, 2, "")                                            \
    X(MUL, "*", NULL, "*", FSYN_INFIX, 2, 2, "")                                            \
    X(DIV, "/", NULL, "/", FSYN_INFIX, 2, 2, "")                                            \
    X(MOD, "MOD", "mod", "%", FSYN_INFIX, 2, 2, "MOD(BIGINT, BIGINT) or MOD(DOUBLE, DOUBLE)") \
    X(NEG, "-", NULL, "-", FSYN_PREFIX, 1, 1, "")                                           \
    X(EQ, "=", NULL, "=", FSYN_INFIX, 2, 2, "")                                             \
    X(NE, "<>", NULL, "<>", FSYN_INFIX, 2, 2, "")                                           \
    X(LT, "<", NULL, "<", FSYN_INFIX, 2, 2, "")                                             \
    X(LE, "<=", NULL, "<=", FSYN_INFIX, 2, 2, "")                                           \
    X(GT, ">", NULL, ">", FSYN_INFIX, 2, 2, "")                                             \
    X(GE, ">=", NULL, ">=", FSYN_INFIX, 2, 2, "")                                           \
    X(CONCAT_OP, "||", NULL, "||", FSYN_INFIX, 2, 2, "")                                    \
    X(LIKE, "LIKE", NULL, "LIKE", FSYN_INFIX, 2, 3, "VARCHAR LIKE VARCHAR [ESCAPE VARCHAR]") \
    X(SIMILAR, "SIMILAR TO", NULL, "SIMILAR TO", FSYN_INFIX, 2, 3,                          \
      "VARCHAR SIMILAR TO VARCHAR [ESCAPE VARCHAR]")                                        \
    X(REGEXP_LIKE, "REGEXP_LIKE", "regexp_like", NULL, FSYN_CALL, 2, 3,                     \
      "REGEXP_LIKE(VARCHAR, VARCHAR[, VARCHAR flags])")                                     \
    X(LOWER, "LOWER", "lower", NULL, FSYN_CALL, 1, 1, "LOWER(VARCHAR)")                     \
    X(UPPER, "UPPER", "upper", NULL, FSYN_CALL, 1, 1, "UPPER(VARCHAR)")                     \
    X(LENGTH, "LENGTH", "length", NULL, FSYN_CALL, 1, 1, "LENGTH(VARCHAR)")                 \
    X(SUBSTRING, "SUBSTRING", "substring", NULL, FSYN_CALL, 2, 3,                           \
      "SUBSTRING(VARCHAR, BIGINT[, BIGINT])")                                               \
    X(TRIM, "TRIM", "trim", NULL, FSYN_CALL, 1, 2, "TRIM(VARCHAR[, VARCHAR chars])")        \
    X(LTRIM, "LTRIM", "ltrim", NULL, FSYN_CALL, 1, 2, "LTRIM(VARCHAR[, VARCHAR chars])")    \
    X(RTRIM, "RTRIM", "rtrim", NULL, FSYN_CALL, 1, 2, "RTRIM(VARCHAR[, VARCHAR chars])")    \
    X(CONCAT, "CONCAT", "concat", NULL, FSYN_CALL, 1, -1, "CONCAT(value, ...)")             \
    X(ABS, "ABS", "abs", NULL, FSYN_CALL, 1, 1, "ABS(BIGINT) or ABS(DOUBLE)")               \
    X(ROUND, "ROUND", "round", NULL, FSYN_CALL, 1, 2,                                       \
      "ROUND(BIGINT|DOUBLE[, BIGINT digits])")                                              \
    X(FLOOR, "FLOOR", "floor", NULL, FSYN_CALL, 1, 1, "FLOOR(BIGINT) or FLOOR(DOUBLE)")     \
    X(CEIL, "CEIL", "ceil", NULL, FSYN_CALL, 1, 1, "CEIL(BIGINT) or CEIL(DOUBLE)")          \
    X(COALESCE, "COALESCE", "coalesce", NULL, FSYN_CALL, 1, -1, "COALESCE(value, ...)")     \
    X(NULLIF, "NULLIF", "nullif", NULL, FSYN_CALL, 2, 2, "NULLIF(value, value)")            \
    X(EXTRACT, "EXTRACT", "extract", NULL, FSYN_CALL, 2, 2,                                 \
      "EXTRACT(field FROM TIMESTAMP)")                                                      \
    X(DATE_TRUNC, "DATE_TRUNC", "date_trunc", NULL, FSYN_CALL, 2, 2,                        \
      "DATE_TRUNC(VARCHAR unit, TIMESTAMP)")                                                \
    X(TO_TIMESTAMP, "TO_TIMESTAMP", "to_timestamp", NULL, FSYN_CALL, 1, 1,                  \
      "TO_TIMESTAMP(VARCHAR), TO_TIMESTAMP(BIGINT) or TO_TIMESTAMP(DOUBLE)")

typedef enum FuncId {
#define FUNC_ENUM_(id, name, call, op, syn, mn, mx, usage) FN_##id,
    FUNC_LIST(FUNC_ENUM_)
#undef FUNC_ENUM_
    FN__COUNT
} FuncId;

/* EXTRACT fields (first argument of FN_EXTRACT, a constant VARCHAR) */
typedef enum ExtractField {
    EXTRACT_YEAR,
    EXTRACT_QUARTER,
    EXTRACT_MONTH,
    EXTRACT_WEEK,          /* ISO 8601 week of the ISO year, 1..53           */
    EXTRACT_DAY,           /* day of the month                               */
    EXTRACT_DOW,           /* 0 = Sunday … 6 = Saturday (PostgreSQL)         */
    EXTRACT_ISODOW,        /* 1 = Monday … 7 = Sunday                        */
    EXTRACT_DOY,           /* 1..366                                         */
    EXTRACT_HOUR,
    EXTRACT_MINUTE,
    EXTRACT_SECOND,        /* 0..59, whole seconds                           */
    EXTRACT_MILLISECOND,   /* seconds * 1000 + ms, 0..59999 (PostgreSQL)     */
    EXTRACT_MICROSECOND,   /* seconds * 1e6 + µs, 0..59999999                */
    EXTRACT_EPOCH          /* whole seconds since 1970-01-01, floor          */
} ExtractField;

/* DATE_TRUNC units (first argument of FN_DATE_TRUNC) */
typedef enum TruncUnit {
    TRUNC_MICROSECOND,
    TRUNC_MILLISECOND,
    TRUNC_SECOND,
    TRUNC_MINUTE,
    TRUNC_HOUR,
    TRUNC_DAY,
    TRUNC_WEEK,            /* to Monday 00:00 (ISO week)                     */
    TRUNC_MONTH,
    TRUNC_QUARTER,
    TRUNC_YEAR
} TruncUnit;

/* FuncId of a callable name (case-insensitive; aliases included), or -1.
 * Operators are not callable: func_lookup("+") is -1. */
int func_lookup(const char *name);

/* "LOWER", "+", "SIMILAR TO", …; "?" for an id out of range. */
const char *func_name(int fn);

/* Nonzero when fn is written as an operator: FSYN_INFIX or FSYN_PREFIX. */
int func_is_operator(int fn);

/* The operator's SQL spelling ("+", "<>", "||", "LIKE", "%"), or NULL for a
 * plain function. */
const char *func_operator(int fn);

/* FSYN_CALL, FSYN_INFIX or FSYN_PREFIX (FSYN_CALL for an id out of range). */
FuncSyntax func_syntax(int fn);

/* Argument counts: min, and max (-1 for variadic). 0, or -1 for a bad id. */
int func_arity(int fn, int *min_args, int *max_args);

/* Pick the overload of fn for nargs arguments of types args[] (see above).
 * On success fills arg_types_out[0..nargs) with the type each argument must
 * have (the binder casts where it differs), *ret with the result type, and
 * returns 0. Otherwise returns -1 and writes a user-facing reason to why
 * ("cannot apply '+' to VARCHAR and BIGINT", "LOWER takes 1 argument, got
 * 2"). arg_types_out may alias args. */
int func_resolve(int fn, int nargs, const SqlType *args, SqlType *arg_types_out, SqlType *ret,
                 char *why, size_t cap);

/* May CAST(x AS to) be written for an x of type from? Same type and NULL → any
 * are allowed; any → VARCHAR; VARCHAR → BOOLEAN, BIGINT, DOUBLE, TIMESTAMP,
 * INTERVAL (parsed; malformed text gives NULL); BIGINT ↔ DOUBLE;
 * BIGINT ↔ BOOLEAN. Not BIGINT → TIMESTAMP (use TO_TIMESTAMP). */
int cast_allowed(SqlType from, SqlType to);

/* The type two branches of CASE / COALESCE / IN are unified to: a if equal,
 * the other one when one is TYPE_NULL, DOUBLE for BIGINT with DOUBLE;
 * otherwise TYPE_NULL, meaning there is none. */
SqlType type_common(SqlType a, SqlType b);

/* An EXTRACT field name ("year", "DOW", "epoch", …, case-insensitive, with
 * aliases: "days", "dayofweek", "dayofyear", "ms", "milliseconds", …) →
 * ExtractField, or -1. For the binder to reject a bad constant early. */
int func_extract_field(const char *p, size_t n);

/* A DATE_TRUNC unit ("second" … "year", case-insensitive, plural accepted)
 * → TruncUnit, or -1. */
int func_trunc_unit(const char *p, size_t n);

#endif

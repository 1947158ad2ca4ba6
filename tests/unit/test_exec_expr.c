/*
 * test_exec_expr.c — exec/expr + exec/expr_eval: builders and values,
 * arithmetic (overflow, division by zero, INT64_MIN), comparisons,
 * three-valued AND/OR/NOT, IS NULL, CASE, IN, COALESCE, NULLIF, casts,
 * evaluation through selections and constant vectors, expr_filter, build
 * errors, steady-state reuse.
 *
 * Most checks use ev() (test_exec_expr_util.h), which also evaluates each
 * expression through flat, selected and constant input vectors and demands
 * the same answer.
 */
#include <float.h>
#include <malloc.h>
#include <math.h>
#include <stdint.h>

#include "tests/unit/test_exec_expr_util.h"

/* ---- builders and values ------------------------------------------------------- */

TEST(expr_builders_and_values)
{
    ex_begin();
    char  text[] = "hello";
    Expr *c = expr_const(&ex_arena, value_str(text, 5), 7);
    REQUIRE(c != NULL);
    text[0] = 'J';                                   /* the constant kept a copy */
    CHECK_EQ_MEM(c->value.u.s.ptr, c->value.u.s.len, "hello");
    CHECK_EQ_INT(c->loc, 7);
    CHECK_EQ_INT(c->type, TYPE_VARCHAR);
    CHECK(expr_is_constant(c));

    Expr *col = expr_column(&ex_arena, 3, TYPE_BIGINT, 0);
    CHECK_EQ_INT(col->col, 3);
    CHECK(!expr_is_constant(col));
    Expr *sum = F2(FN_ADD, col, I(1));
    REQUIRE(sum != NULL);
    CHECK_EQ_INT(sum->fn, FN_ADD);
    CHECK_EQ_INT(sum->type, TYPE_BIGINT);
    CHECK(!expr_is_constant(sum));
    CHECK(expr_is_constant(F2(FN_ADD, I(1), I(2))));

    Expr *n = expr_new(&ex_arena, EXPR_CASE, TYPE_DOUBLE, 3, -1);
    REQUIRE(n != NULL);
    CHECK(n->args[0] == NULL && n->args[2] == NULL);
    CHECK_EQ_INT(n->col, -1);
    CHECK_EQ_INT(n->fn, -1);
    CHECK(expr_func(&ex_arena, FN_ADD, TYPE_BIGINT, 2, (Expr *[]){I(1), NULL}, -1) == NULL);
    CHECK(expr_cast(&ex_arena, NULL, TYPE_BIGINT, -1) == NULL);

    Value a = value_i64(TYPE_BIGINT, 5), b = value_i64(TYPE_BIGINT, 5);
    Value ts = value_i64(TYPE_TIMESTAMP, 5);
    CHECK(value_equal(&a, &b));
    CHECK(!value_equal(&a, &ts));
    Value n1 = value_null(TYPE_BIGINT), n2 = value_null(TYPE_VARCHAR);
    CHECK(value_equal(&n1, &n2));
    CHECK(!value_equal(&n1, &a));
    Value nan1 = value_f64(NAN), nan2 = value_f64(NAN), z = value_f64(0.0), mz = value_f64(-0.0);
    CHECK(value_equal(&nan1, &nan2));
    CHECK(value_equal(&z, &mz));
    Value s1 = value_str("ab", 2), s2 = value_str("abc", 2);
    CHECK(value_equal(&s1, &s2));
    Value t = value_bool(7);
    CHECK_EQ_INT(t.u.b, 1);
    CHECK(!t.is_null);
    ex_end();
}

/* ---- arithmetic ------------------------------------------------------------------ */

TEST(expr_arith_bigint)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_ADD, I(2), I(3))), "5");
    CHECK_EQ_STR(ev(F2(FN_SUB, I(2), I(3))), "-1");
    CHECK_EQ_STR(ev(F2(FN_MUL, I(-4), I(3))), "-12");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(7), I(2))), "3");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(-7), I(2))), "-3");     /* toward zero */
    CHECK_EQ_STR(ev(F2(FN_DIV, I(7), I(-2))), "-3");
    CHECK_EQ_STR(ev(F2(FN_MOD, I(7), I(3))), "1");
    CHECK_EQ_STR(ev(F2(FN_MOD, I(-7), I(3))), "-1");     /* sign of the dividend */
    CHECK_EQ_STR(ev(F2(FN_MOD, I(7), I(-3))), "1");
    CHECK_EQ_STR(ev(F1(FN_NEG, I(5))), "-5");
    CHECK_EQ_STR(ev(F1(FN_NEG, I(-5))), "5");
    /* NULL in, NULL out */
    CHECK_EQ_STR(ev(F2(FN_ADD, I(2), NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, NUL(TYPE_NULL), I(2))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_NEG, NUL(TYPE_BIGINT))), "NULL");
    ex_end();
}

TEST(expr_arith_overflow_is_null)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_ADD, I(INT64_MAX), I(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_ADD, I(INT64_MIN), I(-1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_ADD, I(INT64_MAX), I(0))), "9223372036854775807");
    CHECK_EQ_STR(ev(F2(FN_ADD, I(INT64_MAX), I(INT64_MIN))), "-1");
    CHECK_EQ_STR(ev(F2(FN_SUB, I(INT64_MIN), I(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_SUB, I(0), I(INT64_MIN))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_SUB, I(-1), I(INT64_MIN))), "9223372036854775807");
    CHECK_EQ_STR(ev(F2(FN_MUL, I(INT64_MAX), I(2))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, I(INT64_MIN), I(-1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, I(4611686018427387904LL), I(-2))), "-9223372036854775808");
    CHECK_EQ_STR(ev(F1(FN_NEG, I(INT64_MIN))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_NEG, I(INT64_MAX))), "-9223372036854775807");
    CHECK_EQ_STR(ev(F1(FN_ABS, I(INT64_MIN))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_ABS, I(-INT64_MAX))), "9223372036854775807");
    ex_end();
}

TEST(expr_arith_division_by_zero_is_null)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_DIV, I(1), I(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MOD, I(1), I(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(0), I(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(INT64_MIN), I(-1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MOD, I(INT64_MIN), I(-1))), "0");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(INT64_MIN), I(1))), "-9223372036854775808");
    CHECK_EQ_STR(ev(F2(FN_DIV, D(1), D(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MOD, D(1.5), D(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(1), D(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DIV, D(-1), D(-0.0))), "NULL");
    ex_end();
}

TEST(expr_arith_double)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_ADD, D(1.5), D(2.25))), "3.75");
    CHECK_EQ_STR(ev(F2(FN_ADD, I(1), D(0.5))), "1.5");          /* BIGINT cast */
    CHECK_EQ_STR(ev(F2(FN_MUL, D(0.5), I(3))), "1.5");
    CHECK_EQ_STR(ev(F2(FN_DIV, I(1), D(4))), "0.25");
    CHECK_EQ_STR(ev(F2(FN_SUB, D(1), D(3))), "-2.0");
    CHECK_EQ_STR(ev(F2(FN_MOD, D(7.5), D(2))), "1.5");
    CHECK_EQ_STR(ev(F2(FN_MOD, D(-7.5), D(2))), "-1.5");
    CHECK_EQ_STR(ev(F1(FN_NEG, D(2.5))), "-2.5");
    CHECK_EQ_STR(ev(F1(FN_NEG, D(0))), "-0.0");
    CHECK_EQ_STR(ev(F2(FN_MUL, D(DBL_MAX), D(2))), "Infinity");   /* IEEE */
    CHECK_EQ_STR(ev(F2(FN_SUB, D(INFINITY), D(INFINITY))), "NaN");
    CHECK_EQ_STR(ev(F2(FN_ADD, D(NAN), D(1))), "NaN");
    CHECK_EQ_STR(ev(F2(FN_ADD, D(1), NUL(TYPE_DOUBLE))), "NULL");
    /* the binder's cast is optional: the state casts BIGINT to DOUBLE itself */
    Expr *raw = expr_func(&ex_arena, FN_ADD, TYPE_DOUBLE, 2, (Expr *[]){I(1), D(0.5)}, -1);
    CHECK_EQ_STR(ev(raw), "1.5");
    ex_end();
}

TEST(expr_math_functions)
{
    ex_begin();
    CHECK_EQ_STR(ev(F1(FN_ABS, I(-3))), "3");
    CHECK_EQ_STR(ev(F1(FN_ABS, I(3))), "3");
    CHECK_EQ_STR(ev(F1(FN_ABS, D(-2.5))), "2.5");
    CHECK_EQ_STR(ev(F1(FN_ABS, D(-0.0))), "0.0");
    CHECK_EQ_STR(ev(F1(FN_ABS, NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_ROUND, D(2.5))), "3.0");           /* half away from zero */
    CHECK_EQ_STR(ev(F1(FN_ROUND, D(-2.5))), "-3.0");
    CHECK_EQ_STR(ev(F1(FN_ROUND, D(2.4))), "2.0");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(3.14159), I(2))), "3.14");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(-3.145), I(1))), "-3.1");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1234.5), I(-2))), "1200.0");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1250), I(-2))), "1300.0");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1.5), I(400))), "1.5");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1e300), I(20))), "1.0e+300");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1.5), I(-400))), "0.0");
    CHECK_EQ_STR(ev(F2(FN_ROUND, D(1.5), NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_ROUND, I(17))), "17");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(1234), I(-2))), "1200");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(1250), I(-2))), "1300");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(-1250), I(-2))), "-1300");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(-1249), I(-2))), "-1200");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(1234), I(3))), "1234");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(5), I(-1))), "10");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(1234), I(-30))), "0");
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(INT64_MAX), I(-1))), "NULL");   /* does not fit */
    CHECK_EQ_STR(ev(F2(FN_ROUND, I(INT64_MAX), I(-18))), "9000000000000000000");
    CHECK_EQ_STR(ev(F1(FN_FLOOR, D(-1.5))), "-2.0");
    CHECK_EQ_STR(ev(F1(FN_FLOOR, D(1.5))), "1.0");
    CHECK_EQ_STR(ev(F1(FN_CEIL, D(1.2))), "2.0");
    CHECK_EQ_STR(ev(F1(FN_CEIL, D(-1.2))), "-1.0");
    CHECK_EQ_STR(ev(F1(FN_FLOOR, I(-7))), "-7");
    CHECK_EQ_STR(ev(F1(FN_CEIL, I(7))), "7");
    CHECK_EQ_STR(ev(F1(FN_CEIL, NUL(TYPE_DOUBLE))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MOD, I(10), I(4))), "2");           /* MOD() is FN_MOD */
    ex_end();
}

/* ---- comparisons ---------------------------------------------------------------------- */

TEST(expr_compare_numbers)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_EQ, I(1), I(1))), "true");
    CHECK_EQ_STR(ev(F2(FN_EQ, I(1), I(2))), "false");
    CHECK_EQ_STR(ev(F2(FN_NE, I(1), I(2))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, I(1), I(2))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, I(2), I(2))), "false");
    CHECK_EQ_STR(ev(F2(FN_LE, I(2), I(2))), "true");
    CHECK_EQ_STR(ev(F2(FN_GT, I(3), I(2))), "true");
    CHECK_EQ_STR(ev(F2(FN_GE, I(1), I(2))), "false");
    CHECK_EQ_STR(ev(F2(FN_LT, I(INT64_MIN), I(INT64_MAX))), "true");
    CHECK_EQ_STR(ev(F2(FN_EQ, I(1), D(1.0))), "true");          /* mixed: as DOUBLE */
    CHECK_EQ_STR(ev(F2(FN_LT, I(1), D(1.5))), "true");
    CHECK_EQ_STR(ev(F2(FN_GT, D(-0.0), D(0.0))), "false");
    CHECK_EQ_STR(ev(F2(FN_EQ, D(-0.0), D(0.0))), "true");
    /* IEEE: NaN compares false, except <> */
    CHECK_EQ_STR(ev(F2(FN_EQ, D(NAN), D(NAN))), "false");
    CHECK_EQ_STR(ev(F2(FN_NE, D(NAN), D(NAN))), "true");
    CHECK_EQ_STR(ev(F2(FN_LE, D(NAN), D(1))), "false");
    CHECK_EQ_STR(ev(F2(FN_GE, D(NAN), D(1))), "false");
    CHECK_EQ_STR(ev(F2(FN_EQ, I(1), NUL(TYPE_NULL))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_LT, NUL(TYPE_DOUBLE), D(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_EQ, B(1), B(1))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, B(0), B(1))), "true");
    CHECK_EQ_STR(ev(F2(FN_GE, B(0), B(1))), "false");
    CHECK_EQ_STR(ev(F2(FN_EQ, IV(5), IV(5))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, IV(-5), IV(5))), "true");
    ex_end();
}

TEST(expr_compare_strings)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_EQ, S("abc"), S("abc"))), "true");
    CHECK_EQ_STR(ev(F2(FN_EQ, S("abc"), S("abd"))), "false");
    CHECK_EQ_STR(ev(F2(FN_EQ, S(""), S(""))), "true");
    CHECK_EQ_STR(ev(F2(FN_EQ, S(""), S("a"))), "false");
    CHECK_EQ_STR(ev(F2(FN_NE, S("a"), S("b"))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, S("ab"), S("abc"))), "true");     /* prefix first */
    CHECK_EQ_STR(ev(F2(FN_LT, S("B"), S("a"))), "true");        /* bytes */
    CHECK_EQ_STR(ev(F2(FN_GT, S("é"), S("z"))), "true");        /* code points */
    CHECK_EQ_STR(ev(F2(FN_LE, S("abc"), S("abc"))), "true");
    CHECK_EQ_STR(ev(F2(FN_GE, S("abc"), S("abd"))), "false");
    CHECK_EQ_STR(ev(F2(FN_EQ, S("a"), NUL(TYPE_VARCHAR))), "NULL");
    /* VARCHAR with TIMESTAMP compares as TIMESTAMP */
    CHECK_EQ_STR(ev(F2(FN_EQ, TS("2024-01-01 10:00:00"), S("2024-01-01T10:00:00Z"))), "true");
    CHECK_EQ_STR(ev(F2(FN_LT, S("2023-12-31"), TS("2024-01-01"))), "true");
    CHECK_EQ_STR(ev(F2(FN_EQ, TS("2024-01-01"), S("not a time"))), "NULL");
    ex_end();
}

/* ---- logic ------------------------------------------------------------------------------ */

static Expr *tv(int v)   /* 0 false, 1 true, 2 NULL */
{
    return v == 2 ? NUL(TYPE_BOOLEAN) : B(v);
}

TEST(expr_logic_truth_tables)
{
    static const char *names[] = {"false", "true", "NULL"};
    /* [a][b] for a, b in false, true, NULL */
    static const int and_t[3][3] = {{0, 0, 0}, {0, 1, 2}, {0, 2, 2}};
    static const int or_t[3][3] = {{0, 1, 2}, {1, 1, 1}, {2, 1, 2}};
    static const int not_t[3] = {1, 0, 2};
    ex_begin();
    for (int a = 0; a < 3; a++) {
        CHECK_EQ_STR(ev(NOT(tv(a))), names[not_t[a]]);
        for (int b = 0; b < 3; b++) {
            CHECK_EQ_STR(ev(AND(2, tv(a), tv(b))), names[and_t[a][b]]);
            CHECK_EQ_STR(ev(OR(2, tv(a), tv(b))), names[or_t[a][b]]);
        }
    }
    /* n-ary: FALSE anywhere wins over NULL for AND, TRUE for OR */
    CHECK_EQ_STR(ev(AND(3, tv(2), tv(1), tv(0))), "false");
    CHECK_EQ_STR(ev(AND(3, tv(2), tv(1), tv(1))), "NULL");
    CHECK_EQ_STR(ev(AND(3, tv(1), tv(1), tv(1))), "true");
    CHECK_EQ_STR(ev(OR(3, tv(2), tv(0), tv(1))), "true");
    CHECK_EQ_STR(ev(OR(3, tv(2), tv(0), tv(0))), "NULL");
    CHECK_EQ_STR(ev(OR(3, tv(0), tv(0), tv(0))), "false");
    CHECK_EQ_STR(ev(AND(2, NUL(TYPE_NULL), tv(0))), "false");
    CHECK_EQ_STR(ev(NOT(NUL(TYPE_NULL))), "NULL");
    ex_end();
}

/* AND/OR over columns: every combination of the 3 values in one batch, with
 * a selection, checked row by row against the tables */
TEST(expr_logic_vectors)
{
    static const SqlType types[2] = {TYPE_BOOLEAN, TYPE_BOOLEAN};
    static const char   *vals[3] = {"false", "true", NULL};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 2, types, 0) == 0);
    for (int rep = 0; rep < 10; rep++)
        for (int a = 0; a < 3; a++)
            for (int c = 0; c < 3; c++) add_row(&b, vals[a], vals[c]);
    Expr *and_e = AND(2, COL(0, TYPE_BOOLEAN), COL(1, TYPE_BOOLEAN));
    Expr *or_e = OR(2, COL(0, TYPE_BOOLEAN), COL(1, TYPE_BOOLEAN));
    char  want_and[1024] = "", want_or[1024] = "";
    static const char *names[] = {"false", "true", "NULL"};
    static const int   and_t[3][3] = {{0, 0, 0}, {0, 1, 2}, {0, 2, 2}};
    static const int   or_t[3][3] = {{0, 1, 2}, {1, 1, 1}, {2, 1, 2}};
    /* every third row is live */
    uint32_t sel[30];
    int      n = 0;
    for (int r = 0; r < b.nrows; r += 3) sel[n++] = (uint32_t)r;
    batch_set_sel(&b, sel, n);
    for (int i = 0; i < n; i++) {
        int r = (int)sel[i], a = (r / 3) % 3, c = r % 3;
        strcat(want_and, i ? "," : "");
        strcat(want_and, names[and_t[a][c]]);
        strcat(want_or, i ? "," : "");
        strcat(want_or, names[or_t[a][c]]);
    }
    CHECK_EQ_STR(ev_batch(and_e, &b), want_and);
    CHECK_EQ_STR(ev_batch(or_e, &b), want_or);
    batch_destroy(&b);
    ex_end();
}

TEST(expr_is_null)
{
    ex_begin();
    CHECK_EQ_STR(ev(ISNULL(NUL(TYPE_BIGINT), 0)), "true");
    CHECK_EQ_STR(ev(ISNULL(NUL(TYPE_NULL), 0)), "true");
    CHECK_EQ_STR(ev(ISNULL(I(1), 0)), "false");
    CHECK_EQ_STR(ev(ISNULL(I(1), 1)), "true");
    CHECK_EQ_STR(ev(ISNULL(NUL(TYPE_VARCHAR), 1)), "false");
    CHECK_EQ_STR(ev(ISNULL(F2(FN_DIV, I(1), I(0)), 0)), "true");
    CHECK_EQ_STR(ev(ISNULL(S(""), 0)), "false");
    /* expressions of the NULL type itself */
    CHECK_EQ_STR(ev(NUL(TYPE_NULL)), "NULL");
    CHECK_EQ_STR(ev(CASE_(1, 3, B(1), NUL(TYPE_NULL), NUL(TYPE_NULL))), "NULL");
    CHECK_EQ_STR(ev(ISNULL(CASE_(0, 2, B(1), NUL(TYPE_NULL)), 0)), "true");
    ex_end();
}

/* ---- CASE, COALESCE, NULLIF, IN ---------------------------------------------------- */

TEST(expr_case)
{
    ex_begin();
    CHECK_EQ_STR(ev(CASE_(1, 3, B(1), I(1), I(2))), "1");
    CHECK_EQ_STR(ev(CASE_(1, 3, B(0), I(1), I(2))), "2");
    CHECK_EQ_STR(ev(CASE_(1, 3, NUL(TYPE_BOOLEAN), I(1), I(2))), "2");   /* NULL is not TRUE */
    CHECK_EQ_STR(ev(CASE_(0, 2, B(0), I(1))), "NULL");                    /* no ELSE */
    CHECK_EQ_STR(ev(CASE_(0, 4, B(0), I(1), B(1), I(7))), "7");
    CHECK_EQ_STR(ev(CASE_(0, 4, B(1), S("first"), B(1), S("second"))), "first");
    CHECK_EQ_STR(ev(CASE_(1, 3, B(1), I(1), D(2.5))), "1.0");              /* unified */
    CHECK_EQ_STR(ev(CASE_(1, 3, B(0), NUL(TYPE_NULL), S("x"))), "x");
    CHECK_EQ_STR(ev(CASE_(1, 3, B(1), NUL(TYPE_NULL), S("x"))), "NULL");
    /* a THEN that would fail is not evaluated where its WHEN is false */
    CHECK_EQ_STR(ev(CASE_(1, 3, B(0), F2(FN_DIV, I(1), I(0)), I(5))), "5");

    /* over a column: CASE WHEN x < 0 THEN 'neg' WHEN x = 0 THEN 'zero' [ELSE 'pos'] */
    static const SqlType t[1] = {TYPE_BIGINT};
    Batch b;
    REQUIRE(batch_init(&b, 1, t, 0) == 0);
    add_row(&b, "-5");
    add_row(&b, "0");
    add_row(&b, "3");
    add_row(&b, NULL);
    add_row(&b, "-1");
    Expr *x = COL(0, TYPE_BIGINT);
    Expr *with_else = CASE_(1, 5, F2(FN_LT, x, I(0)), S("neg"), F2(FN_EQ, x, I(0)), S("zero"),
                            S("pos"));
    Expr *no_else = CASE_(0, 4, F2(FN_LT, x, I(0)), S("neg"), F2(FN_EQ, x, I(0)), S("zero"));
    CHECK_EQ_STR(ev_batch(with_else, &b), "neg,zero,pos,pos,neg");
    CHECK_EQ_STR(ev_batch(no_else, &b), "neg,zero,NULL,NULL,neg");
    static const uint32_t sel[] = {4, 2, 1};
    batch_set_sel(&b, sel, 3);
    CHECK_EQ_STR(ev_batch(with_else, &b), "neg,pos,zero");
    /* THEN values from a column */
    Expr *abs_case = CASE_(1, 3, F2(FN_LT, x, I(0)), F1(FN_NEG, x), x);
    batch_set_sel(&b, NULL, 5);
    CHECK_EQ_STR(ev_batch(abs_case, &b), "5,0,3,NULL,1");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_coalesce_nullif)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_COALESCE, NUL(TYPE_BIGINT), I(2))), "2");
    CHECK_EQ_STR(ev(F2(FN_COALESCE, I(1), I(2))), "1");
    CHECK_EQ_STR(ev(F3(FN_COALESCE, NUL(TYPE_NULL), NUL(TYPE_VARCHAR), S("z"))), "z");
    CHECK_EQ_STR(ev(F2(FN_COALESCE, NUL(TYPE_BIGINT), NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_COALESCE, NUL(TYPE_NULL), NUL(TYPE_NULL))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_COALESCE, NUL(TYPE_BIGINT), D(1.5))), "1.5");
    CHECK_EQ_STR(ev(F2(FN_COALESCE, I(1), D(1.5))), "1.0");
    CHECK_EQ_STR(ev(F1(FN_COALESCE, I(4))), "4");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, I(1), I(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, I(1), I(2))), "1");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, I(1), NUL(TYPE_BIGINT))), "1");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, NUL(TYPE_BIGINT), I(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, S("a"), S("a"))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, S("a"), S("b"))), "a");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, I(2), D(2.0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_NULLIF, B(1), B(0))), "true");

    static const SqlType t[2] = {TYPE_VARCHAR, TYPE_VARCHAR};
    Batch b;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    add_row(&b, "a", "x");
    add_row(&b, NULL, "y");
    add_row(&b, NULL, NULL);
    add_row(&b, "d", NULL);
    Expr *c = F3(FN_COALESCE, COL(0, TYPE_VARCHAR), COL(1, TYPE_VARCHAR), S("-"));
    CHECK_EQ_STR(ev_batch(c, &b), "a,y,-,d");
    Expr *ni = F2(FN_NULLIF, COL(0, TYPE_VARCHAR), S("d"));
    CHECK_EQ_STR(ev_batch(ni, &b), "a,NULL,NULL,NULL");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_in_list)
{
    ex_begin();
    CHECK_EQ_STR(ev(IN_(0, I(2), 3, I(1), I(2), I(3))), "true");
    CHECK_EQ_STR(ev(IN_(0, I(5), 3, I(1), I(2), I(3))), "false");
    CHECK_EQ_STR(ev(IN_(0, I(1), 2, I(1), NUL(TYPE_NULL))), "true");
    CHECK_EQ_STR(ev(IN_(0, I(5), 2, I(1), NUL(TYPE_NULL))), "NULL");   /* not found + NULL */
    CHECK_EQ_STR(ev(IN_(0, NUL(TYPE_BIGINT), 2, I(1), I(2))), "NULL");
    CHECK_EQ_STR(ev(IN_(1, I(5), 2, I(1), I(2))), "true");
    CHECK_EQ_STR(ev(IN_(1, I(1), 2, I(1), I(2))), "false");
    CHECK_EQ_STR(ev(IN_(1, I(5), 2, I(1), NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(IN_(0, I(2), 2, D(2.0), D(3.5))), "true");         /* common DOUBLE */
    CHECK_EQ_STR(ev(IN_(0, D(NAN), 2, D(NAN), D(1))), "false");
    CHECK_EQ_STR(ev(IN_(0, S("b"), 3, S("a"), S("b"), S("c"))), "true");
    CHECK_EQ_STR(ev(IN_(0, S(""), 2, S("a"), S(""))), "true");
    CHECK_EQ_STR(ev(IN_(0, S("z"), 2, S("a"), S("b"))), "false");
    CHECK_EQ_STR(ev(IN_(0, B(1), 1, B(0))), "false");
    CHECK_EQ_STR(ev(IN_(0, B(0), 2, B(1), B(0))), "true");
    CHECK_EQ_STR(ev(IN_(0, NUL(TYPE_NULL), 1, NUL(TYPE_NULL))), "NULL");
    /* a long list: sorted constant set, binary search */
    Expr *x = I(977);
    Expr *e = expr_new(&ex_arena, EXPR_IN, TYPE_BOOLEAN, 101, -1);
    REQUIRE(e != NULL);
    e->args[0] = x;
    for (int i = 1; i <= 100; i++) e->args[i] = I((i * 7919) % 1000);
    CHECK_EQ_STR(ev(e), "false");                  /* 977 is not among them */
    e->args[0] = I((37 * 7919) % 1000);
    CHECK_EQ_STR(ev(e), "true");

    /* items that are expressions over columns */
    static const SqlType t[3] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_BIGINT};
    Batch b;
    REQUIRE(batch_init(&b, 3, t, 0) == 0);
    add_row(&b, "1", "1", "2");
    add_row(&b, "2", "1", "2");
    add_row(&b, "3", "1", "2");
    add_row(&b, "3", NULL, "2");
    add_row(&b, NULL, "1", "2");
    add_row(&b, "9", "9", NULL);
    Expr *in = IN_(0, COL(0, TYPE_BIGINT), 3, COL(1, TYPE_BIGINT), COL(2, TYPE_BIGINT), I(3));
    CHECK_EQ_STR(ev_batch(in, &b), "true,true,true,true,NULL,true");
    Expr *in2 = IN_(0, COL(0, TYPE_BIGINT), 2, COL(1, TYPE_BIGINT), I(7));
    CHECK_EQ_STR(ev_batch(in2, &b), "true,false,false,NULL,NULL,true");
    Expr *notin = IN_(1, COL(0, TYPE_BIGINT), 2, COL(1, TYPE_BIGINT), I(7));
    CHECK_EQ_STR(ev_batch(notin, &b), "false,true,true,NULL,NULL,false");
    batch_destroy(&b);
    ex_end();
}

/* ---- casts ------------------------------------------------------------------------------- */

TEST(expr_cast_to_varchar)
{
    ex_begin();
    CHECK_EQ_STR(ev(CAST(I(-42), TYPE_VARCHAR)), "-42");
    CHECK_EQ_STR(ev(CAST(I(INT64_MIN), TYPE_VARCHAR)), "-9223372036854775808");
    CHECK_EQ_STR(ev(CAST(I(0), TYPE_VARCHAR)), "0");
    CHECK_EQ_STR(ev(CAST(D(3), TYPE_VARCHAR)), "3.0");
    CHECK_EQ_STR(ev(CAST(D(0.1), TYPE_VARCHAR)), "0.1");
    CHECK_EQ_STR(ev(CAST(D(1e20), TYPE_VARCHAR)), "1.0e+20");
    CHECK_EQ_STR(ev(CAST(D(-INFINITY), TYPE_VARCHAR)), "-Infinity");
    CHECK_EQ_STR(ev(CAST(B(1), TYPE_VARCHAR)), "true");
    CHECK_EQ_STR(ev(CAST(B(0), TYPE_VARCHAR)), "false");
    CHECK_EQ_STR(ev(CAST(TS("2024-01-01 00:00:10.25"), TYPE_VARCHAR)), "2024-01-01 00:00:10.25");
    CHECK_EQ_STR(ev(CAST(IV(90 * USEC_PER_MINUTE), TYPE_VARCHAR)), "1 hour 30 minutes");
    CHECK_EQ_STR(ev(CAST(NUL(TYPE_BIGINT), TYPE_VARCHAR)), "NULL");
    CHECK_EQ_STR(ev(CAST(NUL(TYPE_NULL), TYPE_VARCHAR)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("same"), TYPE_VARCHAR)), "same");
    ex_end();
}

TEST(expr_cast_from_varchar)
{
    ex_begin();
    CHECK_EQ_STR(ev(CAST(S("42"), TYPE_BIGINT)), "42");
    CHECK_EQ_STR(ev(CAST(S("  -17 "), TYPE_BIGINT)), "-17");
    CHECK_EQ_STR(ev(CAST(S("+5"), TYPE_BIGINT)), "5");
    CHECK_EQ_STR(ev(CAST(S("9223372036854775807"), TYPE_BIGINT)), "9223372036854775807");
    CHECK_EQ_STR(ev(CAST(S("-9223372036854775808"), TYPE_BIGINT)), "-9223372036854775808");
    CHECK_EQ_STR(ev(CAST(S("9223372036854775808"), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("12.5"), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("12a"), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S(""), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("-"), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("1 2"), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("2.5"), TYPE_DOUBLE)), "2.5");
    CHECK_EQ_STR(ev(CAST(S(" -1e3 "), TYPE_DOUBLE)), "-1000.0");
    CHECK_EQ_STR(ev(CAST(S("Infinity"), TYPE_DOUBLE)), "Infinity");
    CHECK_EQ_STR(ev(CAST(S("NaN"), TYPE_DOUBLE)), "NaN");
    CHECK_EQ_STR(ev(CAST(S("0x10"), TYPE_DOUBLE)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("1.5x"), TYPE_DOUBLE)), "NULL");
    CHECK_EQ_STR(ev(CAST(S(""), TYPE_DOUBLE)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("true"), TYPE_BOOLEAN)), "true");
    CHECK_EQ_STR(ev(CAST(S(" FALSE "), TYPE_BOOLEAN)), "false");
    CHECK_EQ_STR(ev(CAST(S("Yes"), TYPE_BOOLEAN)), "true");
    CHECK_EQ_STR(ev(CAST(S("off"), TYPE_BOOLEAN)), "false");
    CHECK_EQ_STR(ev(CAST(S("1"), TYPE_BOOLEAN)), "true");
    CHECK_EQ_STR(ev(CAST(S("maybe"), TYPE_BOOLEAN)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("2024-02-29 12:00:00"), TYPE_TIMESTAMP)), "2024-02-29 12:00:00");
    CHECK_EQ_STR(ev(CAST(S("2023-02-29"), TYPE_TIMESTAMP)), "NULL");
    CHECK_EQ_STR(ev(CAST(S("1969-12-31T23:59:59.5Z"), TYPE_TIMESTAMP)), "1969-12-31 23:59:59.5");
    CHECK_EQ_STR(ev(CAST(S("10 seconds"), TYPE_INTERVAL)), "10 seconds");
    CHECK_EQ_STR(ev(CAST(S("1h 30m"), TYPE_INTERVAL)), "1 hour 30 minutes");
    CHECK_EQ_STR(ev(CAST(S("10 parsecs"), TYPE_INTERVAL)), "NULL");
    ex_end();
}

TEST(expr_cast_numbers)
{
    ex_begin();
    CHECK_EQ_STR(ev(CAST(I(3), TYPE_DOUBLE)), "3.0");
    CHECK_EQ_STR(ev(CAST(D(2.5), TYPE_BIGINT)), "3");          /* half away from zero */
    CHECK_EQ_STR(ev(CAST(D(-2.5), TYPE_BIGINT)), "-3");
    CHECK_EQ_STR(ev(CAST(D(2.4999), TYPE_BIGINT)), "2");
    CHECK_EQ_STR(ev(CAST(D(-0.4), TYPE_BIGINT)), "0");
    CHECK_EQ_STR(ev(CAST(D(9.3e18), TYPE_BIGINT)), "NULL");     /* out of range */
    CHECK_EQ_STR(ev(CAST(D(-9223372036854775808.0), TYPE_BIGINT)), "-9223372036854775808");
    CHECK_EQ_STR(ev(CAST(D(9223372036854775808.0), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(D(NAN), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(D(INFINITY), TYPE_BIGINT)), "NULL");
    CHECK_EQ_STR(ev(CAST(I(0), TYPE_BOOLEAN)), "false");
    CHECK_EQ_STR(ev(CAST(I(-3), TYPE_BOOLEAN)), "true");
    CHECK_EQ_STR(ev(CAST(B(1), TYPE_BIGINT)), "1");
    CHECK_EQ_STR(ev(CAST(B(0), TYPE_BIGINT)), "0");
    CHECK_EQ_STR(ev(CAST(NUL(TYPE_DOUBLE), TYPE_BIGINT)), "NULL");
    /* round trips through text */
    CHECK_EQ_STR(ev(CAST(CAST(D(0.1 + 0.2), TYPE_VARCHAR), TYPE_DOUBLE)), "0.30000000000000004");
    CHECK_EQ_STR(ev(CAST(CAST(I(INT64_MAX), TYPE_VARCHAR), TYPE_BIGINT)), "9223372036854775807");
    /* forbidden casts fail to build */
    CHECK(strstr(build_err(CAST(I(1), TYPE_TIMESTAMP)), "cannot cast BIGINT to TIMESTAMP"));
    CHECK(strstr(build_err(CAST(TS("2024-01-01"), TYPE_BIGINT)), "cannot cast"));
    CHECK(strstr(build_err(CAST(B(1), TYPE_DOUBLE)), "cannot cast BOOLEAN to DOUBLE"));
    CHECK(strstr(build_err(CAST(I(1), TYPE_NULL)), "cannot cast BIGINT to NULL"));
    ex_end();
}

/* ---- selection vectors and constant vectors ------------------------------------------------ */

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* a batch of n rows: BIGINT a, BIGINT b, DOUBLE d, VARCHAR s; ~1/8 NULLs, and
 * edge values so overflow and division by zero occur */
static void fill_random(Batch *b, int n, uint64_t seed)
{
    static const int64_t edge[] = {0, 1, -1, INT64_MAX, INT64_MIN, 7, -7, 1000};
    static const char   *strs[] = {"", "a", "abc", "CRITICAL", "crash", "héllo", "ab%", "x_y"};
    batch_reset(b);
    for (int r = 0; r < n; r++) {
        for (int c = 0; c < 2; c++) {
            uint64_t x = rng(&seed);
            if (x % 8 == 0) vector_set_null(&b->cols[c], r);
            else vector_i64(&b->cols[c])[r] = x % 3 == 0 ? edge[(x >> 8) % 8] : (int64_t)(x % 201) - 100;
        }
        uint64_t x = rng(&seed);
        if (x % 8 == 0) vector_set_null(&b->cols[2], r);
        else vector_f64(&b->cols[2])[r] = ((double)(x % 2001) - 1000.0) / 8.0;
        x = rng(&seed);
        if (x % 8 == 0) vector_set_null(&b->cols[3], r);
        else vector_set_str(&b->cols[3], r, strs[(x >> 4) % 8], strlen(strs[(x >> 4) % 8]));
    }
    batch_set_nrows(b, n);
}

/* evaluate e over b (with its selection) and over a compacted copy; the live
 * rows must agree */
static int same_as_compacted(const Expr *e, Batch *b, Batch *tmp)
{
    char text1[8192], text2[8192];
    snprintf(text1, sizeof text1, "%s", ev_batch(e, b));
    batch_reset(tmp);
    for (int i = 0; i < b->count; i++)
        if (batch_append_row_from(tmp, b, batch_row(b, i)) < 0) return 0;
    snprintf(text2, sizeof text2, "%s", ev_batch(e, tmp));
    if (strcmp(text1, text2) != 0) {
        printf("selection: %.300s\ncompacted: %.300s\n", text1, text2);
        return 0;
    }
    return strncmp(text1, "ERR", 3) != 0 && strncmp(text1, "EVALERR", 7) != 0;
}

TEST(expr_selection_matches_compacted)
{
    static const SqlType types[4] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_DOUBLE, TYPE_VARCHAR};
    ex_begin();
    Batch b, tmp;
    REQUIRE(batch_init(&b, 4, types, 0) == 0);
    REQUIRE(batch_init(&tmp, 4, types, 0) == 0);
    Expr *a = COL(0, TYPE_BIGINT), *bb = COL(1, TYPE_BIGINT), *d = COL(2, TYPE_DOUBLE);
    Expr *s = COL(3, TYPE_VARCHAR);
    Expr *exprs[] = {
        F2(FN_ADD, a, bb),
        F2(FN_SUB, a, bb),
        F2(FN_MUL, a, bb),
        F2(FN_DIV, a, bb),
        F2(FN_MOD, a, bb),
        F1(FN_NEG, a),
        F2(FN_ADD, a, I(INT64_MAX)),
        F2(FN_MUL, I(3), a),
        F2(FN_DIV, I(100), a),
        F2(FN_ADD, a, d),
        F2(FN_DIV, d, D(0.5)),
        F2(FN_LT, a, bb),
        F2(FN_GE, d, I(0)),
        F2(FN_EQ, s, S("crash")),
        F2(FN_LT, S("abc"), s),
        AND(2, F2(FN_GT, a, I(0)), F2(FN_EQ, s, S("a"))),
        OR(3, F2(FN_GT, a, I(50)), F2(FN_LT, d, D(-10)), ISNULL(s, 0)),
        NOT(F2(FN_EQ, a, bb)),
        CASE_(1, 5, F2(FN_GT, a, I(0)), s, F2(FN_LT, a, I(0)), S("neg"), S("zero")),
        F3(FN_COALESCE, a, bb, I(-1)),
        F2(FN_NULLIF, a, bb),
        IN_(0, a, 4, I(1), I(-1), I(7), NUL(TYPE_NULL)),
        IN_(1, s, 3, S("a"), S("abc"), S("crash")),
        CAST(a, TYPE_VARCHAR),
        CAST(d, TYPE_BIGINT),
        CAST(s, TYPE_BIGINT),
        F1(FN_UPPER, s),
        F1(FN_LENGTH, s),
        F2(FN_CONCAT_OP, s, S("!")),
        F3(FN_CONCAT, s, NUL(TYPE_VARCHAR), CAST(a, TYPE_VARCHAR)),
        F3(FN_SUBSTRING, s, I(2), I(2)),
        F2(FN_LIKE, s, S("%a%")),
        F2(FN_LIKE, s, S("_b%")),
        F2(FN_REGEXP_LIKE, s, S("^c")),
        F1(FN_ABS, a),
        F2(FN_ROUND, d, I(-1)),
    };
    uint64_t seed = 42;
    for (int round = 0; round < 6; round++) {
        int n = round == 0 ? 1024 : 1 + (int)(rng(&seed) % 1024);
        fill_random(&b, n, seed + (uint64_t)round);
        /* a random, increasing selection; round 1 keeps every row */
        int k = 0;
        for (int r = 0; r < n; r++)
            if (round == 1 || rng(&seed) % 3 != 0) b.sel_buf[k++] = (uint32_t)r;
        batch_set_sel(&b, b.sel_buf, k);
        for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
            REQUIRE(exprs[i] != NULL);
            if (!same_as_compacted(exprs[i], &b, &tmp)) {
                unit_fail(__FILE__, __LINE__, "expression %zu, round %d differs", i, round);
                break;
            }
        }
    }
    batch_destroy(&b);
    batch_destroy(&tmp);
    ex_end();
}

TEST(expr_column_is_input_vector)
{
    static const SqlType t[2] = {TYPE_BIGINT, TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    add_row(&b, "1", "a");
    char       why[128];
    ExprState *st = expr_state_new(COL(1, TYPE_VARCHAR), 0, why, sizeof why);
    REQUIRE(st != NULL);
    const Vector *v;
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK(v == &b.cols[1]);
    CHECK_EQ_INT(expr_state_type(st), TYPE_VARCHAR);
    expr_state_free(st);

    /* a wrong column index or type is an evaluation error, not a crash */
    st = expr_state_new(COL(5, TYPE_BIGINT), 0, why, sizeof why);
    REQUIRE(st != NULL);
    CHECK(expr_eval(st, &b, &v) < 0);
    CHECK(strstr(expr_state_error(st), "column 5") != NULL);
    CHECK(expr_eval(st, NULL, &v) < 0);
    expr_state_free(st);
    st = expr_state_new(COL(0, TYPE_DOUBLE), 0, why, sizeof why);
    REQUIRE(st != NULL);
    CHECK(expr_eval(st, &b, &v) < 0);
    CHECK(strstr(expr_state_error(st), "BIGINT") != NULL);
    expr_state_free(st);
    /* a batch larger than the state's capacity */
    st = expr_state_new(COL(0, TYPE_BIGINT), 0, why, sizeof why);
    REQUIRE(st != NULL);
    Batch big;
    REQUIRE(batch_init(&big, 1, t, 2048) == 0);
    batch_set_nrows(&big, 2000);
    CHECK(expr_eval(st, &big, &v) < 0);
    CHECK(strstr(expr_state_error(st), "capacity") != NULL);
    batch_destroy(&big);
    expr_state_free(st);
    batch_destroy(&b);
    ex_end();
}

TEST(expr_constant_inputs_give_constant_results)
{
    static const SqlType t[2] = {TYPE_BIGINT, TYPE_BIGINT};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    for (int r = 0; r < 100; r++) {
        vector_i64(&b.cols[0])[r] = r;
        vector_i64(&b.cols[1])[r] = 1000;
    }
    batch_set_nrows(&b, 100);
    vector_make_constant(&b.cols[1]);            /* b = 1000 for every row */
    char       why[128];
    const Vector *v;
    /* constant input → constant result, computed once */
    ExprState *st = expr_state_new(F2(FN_MUL, COL(1, TYPE_BIGINT), I(2)), 0, why, sizeof why);
    REQUIRE(st != NULL);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK(v->kind == VECTOR_CONSTANT);
    CHECK_EQ_INT(vector_i64(v)[0], 2000);
    expr_state_free(st);
    /* flat with constant → flat */
    st = expr_state_new(F2(FN_ADD, COL(0, TYPE_BIGINT), COL(1, TYPE_BIGINT)), 0, why, sizeof why);
    REQUIRE(st != NULL);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK(v->kind == VECTOR_FLAT);
    CHECK_EQ_INT(vector_i64(v)[0], 1000);
    CHECK_EQ_INT(vector_i64(v)[99], 1099);
    expr_state_free(st);
    /* a constant subtree is folded at build time */
    st = expr_state_new(F2(FN_ADD, F2(FN_MUL, I(6), I(7)), I(0)), 0, why, sizeof why);
    REQUIRE(st != NULL);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK(v->kind == VECTOR_CONSTANT);
    CHECK_EQ_INT(vector_i64(v)[0], 42);
    expr_state_free(st);
    /* a constant NULL input vector makes a strict result a constant NULL */
    vector_set_null(&b.cols[1], 0);
    st = expr_state_new(F2(FN_ADD, COL(0, TYPE_BIGINT), COL(1, TYPE_BIGINT)), 0, why, sizeof why);
    REQUIRE(st != NULL);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK(vector_is_null(v, 0) && vector_is_null(v, 57));
    expr_state_free(st);
    batch_destroy(&b);
    ex_end();
}

/* ---- expr_filter --------------------------------------------------------------------------- */

TEST(expr_filter_narrows_selection)
{
    static const SqlType t[3] = {TYPE_VARCHAR, TYPE_VARCHAR, TYPE_BIGINT};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 3, t, 0) == 0);
    add_row(&b, "CRITICAL", "crash", "1");     /* 0 */
    add_row(&b, "INFO", "crash", "2");         /* 1 */
    add_row(&b, "CRITICAL", "login", "3");     /* 2 */
    add_row(&b, "CRITICAL", "crash", "4");     /* 3 */
    add_row(&b, NULL, "crash", "5");           /* 4 */
    add_row(&b, "CRITICAL", NULL, "6");        /* 5 */
    add_row(&b, "CRITICAL", "crash", NULL);    /* 6 */
    Expr *pred = AND(2, F2(FN_EQ, COL(0, TYPE_VARCHAR), S("CRITICAL")),
                     F2(FN_EQ, COL(1, TYPE_VARCHAR), S("crash")));
    char       why[128];
    ExprState *st = expr_state_new(pred, 0, why, sizeof why);
    REQUIRE(st != NULL);
    REQUIRE(expr_filter(st, &b) == 0);
    REQUIRE(b.count == 3);
    CHECK(b.sel == b.sel_buf);
    CHECK_EQ_INT(b.sel[0], 0);
    CHECK_EQ_INT(b.sel[1], 3);
    CHECK_EQ_INT(b.sel[2], 6);
    /* narrowing an existing selection: user_id > 1 keeps rows 3 (4) only:
     * row 6's NULL is not TRUE */
    ExprState *st2 = expr_state_new(F2(FN_GT, COL(2, TYPE_BIGINT), I(1)), 0, why, sizeof why);
    REQUIRE(st2 != NULL);
    REQUIRE(expr_filter(st2, &b) == 0);
    REQUIRE(b.count == 1);
    CHECK_EQ_INT(b.sel[0], 3);
    /* a borrowed selection is narrowed into sel_buf, the borrowed array untouched */
    static const uint32_t borrowed[] = {6, 5, 3, 1, 0};
    batch_set_sel(&b, borrowed, 5);
    REQUIRE(expr_filter(st, &b) == 0);
    REQUIRE(b.count == 3);
    CHECK(b.sel == b.sel_buf);
    CHECK_EQ_INT(b.sel[0], 6);             /* order of the selection kept */
    CHECK_EQ_INT(b.sel[1], 3);
    CHECK_EQ_INT(b.sel[2], 0);
    CHECK_EQ_INT(borrowed[0], 6);
    CHECK_EQ_INT(borrowed[1], 5);
    /* every row kept: nothing changes */
    batch_set_sel(&b, NULL, 7);
    ExprState *all = expr_state_new(ISNULL(COL(1, TYPE_VARCHAR), 0), 0, why, sizeof why);
    ExprState *keep = expr_state_new(OR(2, B(1), NUL(TYPE_BOOLEAN)), 0, why, sizeof why);
    REQUIRE(all && keep);
    REQUIRE(expr_filter(keep, &b) == 0);
    CHECK(b.sel == NULL && b.count == 7);
    REQUIRE(expr_filter(all, &b) == 0);
    CHECK(b.count == 1 && b.sel[0] == 5);
    /* constant FALSE / NULL predicate drops everything */
    ExprState *none = expr_state_new(AND(2, B(1), NUL(TYPE_BOOLEAN)), 0, why, sizeof why);
    REQUIRE(none != NULL);
    batch_set_sel(&b, NULL, 7);
    REQUIRE(expr_filter(none, &b) == 0);
    CHECK_EQ_INT(b.count, 0);
    REQUIRE(expr_filter(st, &b) == 0);     /* on an empty batch */
    CHECK_EQ_INT(b.count, 0);
    /* a non-BOOLEAN expression cannot filter */
    ExprState *num = expr_state_new(COL(2, TYPE_BIGINT), 0, why, sizeof why);
    REQUIRE(num != NULL);
    batch_set_sel(&b, NULL, 7);
    CHECK(expr_filter(num, &b) < 0);
    CHECK(b.count == 7 && b.sel == NULL);
    /* WHERE NULL */
    ExprState *nul = expr_state_new(NUL(TYPE_NULL), 0, why, sizeof why);
    REQUIRE(nul != NULL);
    REQUIRE(expr_filter(nul, &b) == 0);
    CHECK_EQ_INT(b.count, 0);
    expr_state_free(st);
    expr_state_free(st2);
    expr_state_free(all);
    expr_state_free(keep);
    expr_state_free(none);
    expr_state_free(num);
    expr_state_free(nul);
    batch_destroy(&b);
    ex_end();
}

/* filter result = rows where expr_eval says TRUE, for random data */
TEST(expr_filter_matches_eval)
{
    static const SqlType types[4] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_DOUBLE, TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 4, types, 0) == 0);
    Expr *a = COL(0, TYPE_BIGINT), *s = COL(3, TYPE_VARCHAR);
    Expr *preds[] = {
        F2(FN_GT, a, I(0)),
        AND(3, F2(FN_GT, a, I(-50)), F2(FN_LT, a, I(50)), F2(FN_NE, s, S("a"))),
        OR(2, F2(FN_EQ, s, S("crash")), ISNULL(a, 0)),
        AND(2, OR(2, F2(FN_GT, a, I(0)), F2(FN_LT, COL(2, TYPE_DOUBLE), D(0))), NOT(ISNULL(s, 0))),
    };
    uint64_t seed = 7;
    for (size_t p = 0; p < sizeof preds / sizeof preds[0]; p++) {
        fill_random(&b, 1000, seed++);
        int k = 0;
        for (int r = 0; r < 1000; r += 1 + (int)(rng(&seed) % 3)) b.sel_buf[k++] = (uint32_t)r;
        batch_set_sel(&b, b.sel_buf, k);
        char       why[128];
        ExprState *st = expr_state_new(preds[p], 0, why, sizeof why);
        REQUIRE(st != NULL);
        const Vector *v;
        REQUIRE(expr_eval(st, &b, &v) == 0);
        uint32_t want[1024];
        int      nwant = 0;
        for (int i = 0; i < b.count; i++) {
            int r = batch_row(&b, i);
            if (!vector_is_null(v, r) && vector_bool(v)[vector_index(v, r)]) want[nwant++] = (uint32_t)r;
        }
        REQUIRE(expr_filter(st, &b) == 0);
        CHECK_EQ_INT(b.count, nwant);
        CHECK(memcmp(b.sel, want, (size_t)nwant * sizeof *want) == 0);
        expr_state_free(st);
    }
    batch_destroy(&b);
    ex_end();
}

/* ---- errors and reuse ------------------------------------------------------------------------ */

TEST(expr_build_errors)
{
    ex_begin();
    /* types the binder should have rejected are caught here too */
    Expr *bad_add = expr_func(&ex_arena, FN_ADD, TYPE_BIGINT, 2, (Expr *[]){S("a"), I(1)}, -1);
    CHECK_EQ_STR(build_err(bad_add), "cannot apply '+' to VARCHAR and BIGINT");
    Expr *wrong_type = expr_func(&ex_arena, FN_ADD, TYPE_DOUBLE, 2, (Expr *[]){I(1), I(2)}, -1);
    CHECK(strstr(build_err(wrong_type), "returns BIGINT") != NULL);
    Expr *bad_fn = expr_func(&ex_arena, 999, TYPE_BIGINT, 1, (Expr *[]){I(1)}, -1);
    CHECK(strstr(build_err(bad_fn), "unknown function") != NULL);
    CHECK(strstr(build_err(AND(2, I(1), B(1))), "AND needs a BOOLEAN, got BIGINT") != NULL);
    CHECK(strstr(build_err(NOT(S("x"))), "NOT needs a BOOLEAN") != NULL);
    Expr *bad_in = expr_new(&ex_arena, EXPR_IN, TYPE_BOOLEAN, 2, -1);
    bad_in->args[0] = I(1);
    bad_in->args[1] = S("1");
    CHECK(strstr(build_err(bad_in), "IN list types do not match") != NULL);
    Expr *bad_case = expr_new(&ex_arena, EXPR_CASE, TYPE_BIGINT, 2, -1);
    bad_case->args[0] = I(1);
    bad_case->args[1] = I(2);
    CHECK(strstr(build_err(bad_case), "CASE WHEN needs a BOOLEAN") != NULL);
    Expr *short_case = expr_new(&ex_arena, EXPR_CASE, TYPE_BIGINT, 1, -1);
    short_case->args[0] = B(1);
    CHECK(strstr(build_err(short_case), "CASE with 1 arguments") != NULL);
    Expr *hole = expr_new(&ex_arena, EXPR_NOT, TYPE_BOOLEAN, 1, -1);
    CHECK(strstr(build_err(hole), "missing argument 1") != NULL);
    CHECK(strstr(build_err(NULL), "missing expression") != NULL);
    Expr *bad_const = expr_const(&ex_arena, value_i64(TYPE_BIGINT, 1), -1);
    bad_const->type = TYPE_DOUBLE;
    CHECK(strstr(build_err(bad_const), "constant of type BIGINT") != NULL);
    ex_end();
}

/* the same state over many batches: results stay right, and after a warm-up
 * evaluation allocates nothing (malloc's in-use bytes do not move; under
 * ASan mallinfo2 reports nothing and the check is vacuous) */
TEST(expr_state_reuse_steady)
{
    static const SqlType types[4] = {TYPE_BIGINT, TYPE_BIGINT, TYPE_DOUBLE, TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 4, types, 0) == 0);
    Expr *e = F2(FN_CONCAT_OP, F1(FN_UPPER, COL(3, TYPE_VARCHAR)),
                 CAST(F2(FN_ADD, COL(0, TYPE_BIGINT), COL(1, TYPE_BIGINT)), TYPE_VARCHAR));
    char       why[128];
    ExprState *st = expr_state_new(e, 0, why, sizeof why);
    REQUIRE(st != NULL);
    char first[8192];
    fill_random(&b, 1024, 99);
    const Vector *v;
    REQUIRE(expr_eval(st, &b, &v) == 0);
    snprintf(first, sizeof first, "%s", rows_text(&b, v));
    size_t in_use = 0;
    for (int round = 0; round < 24; round++) {
        fill_random(&b, 1024, 1000 + (uint64_t)(round % 3));   /* three shapes */
        REQUIRE(expr_eval(st, &b, &v) == 0);
        if (round == 8) in_use = mallinfo2().uordblks;
    }
    CHECK_EQ_INT(mallinfo2().uordblks, in_use);
    fill_random(&b, 1024, 99);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK_EQ_STR(rows_text(&b, v), first);
    expr_state_reset(st);
    REQUIRE(expr_eval(st, &b, &v) == 0);
    CHECK_EQ_STR(rows_text(&b, v), first);
    expr_state_free(st);
    expr_state_free(NULL);
    batch_destroy(&b);
    ex_end();
}

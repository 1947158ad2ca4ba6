/*
 * test_exec_func.c — exec/func: names and aliases, operator spellings,
 * arities, overload resolution (chosen argument types, result types, the
 * NULL literal, implicit BIGINT → DOUBLE and VARCHAR → TIMESTAMP), error
 * messages, cast_allowed, type_common, EXTRACT / DATE_TRUNC names.
 * (Test names start with expr_ so `unit_tests expr` runs them.)
 */
#include "tests/unit/unit.h"

#include "exec/func.h"

#define B TYPE_BOOLEAN
#define I TYPE_BIGINT
#define D TYPE_DOUBLE
#define V TYPE_VARCHAR
#define T TYPE_TIMESTAMP
#define N TYPE_INTERVAL
#define Z TYPE_NULL

static char    why[256];
static SqlType want[8];
static SqlType ret;

/* resolve fn over the given argument types; -1 on error (why is set) */
static int res(int fn, int n, SqlType a0, SqlType a1, SqlType a2)
{
    SqlType args[3] = {a0, a1, a2};
    memset(want, 0xff, sizeof want);
    ret = (SqlType)-1;
    return func_resolve(fn, n, args, want, &ret, why, sizeof why);
}

TEST(expr_func_lookup_and_names)
{
    CHECK_EQ_INT(func_lookup("lower"), FN_LOWER);
    CHECK_EQ_INT(func_lookup("LOWER"), FN_LOWER);
    CHECK_EQ_INT(func_lookup("Upper"), FN_UPPER);
    CHECK_EQ_INT(func_lookup("length"), FN_LENGTH);
    CHECK_EQ_INT(func_lookup("char_length"), FN_LENGTH);
    CHECK_EQ_INT(func_lookup("character_length"), FN_LENGTH);
    CHECK_EQ_INT(func_lookup("substring"), FN_SUBSTRING);
    CHECK_EQ_INT(func_lookup("substr"), FN_SUBSTRING);
    CHECK_EQ_INT(func_lookup("trim"), FN_TRIM);
    CHECK_EQ_INT(func_lookup("btrim"), FN_TRIM);
    CHECK_EQ_INT(func_lookup("ltrim"), FN_LTRIM);
    CHECK_EQ_INT(func_lookup("rtrim"), FN_RTRIM);
    CHECK_EQ_INT(func_lookup("concat"), FN_CONCAT);
    CHECK_EQ_INT(func_lookup("regexp_like"), FN_REGEXP_LIKE);
    CHECK_EQ_INT(func_lookup("abs"), FN_ABS);
    CHECK_EQ_INT(func_lookup("round"), FN_ROUND);
    CHECK_EQ_INT(func_lookup("floor"), FN_FLOOR);
    CHECK_EQ_INT(func_lookup("ceil"), FN_CEIL);
    CHECK_EQ_INT(func_lookup("CEILING"), FN_CEIL);
    CHECK_EQ_INT(func_lookup("mod"), FN_MOD);
    CHECK_EQ_INT(func_lookup("coalesce"), FN_COALESCE);
    CHECK_EQ_INT(func_lookup("nullif"), FN_NULLIF);
    CHECK_EQ_INT(func_lookup("extract"), FN_EXTRACT);
    CHECK_EQ_INT(func_lookup("date_trunc"), FN_DATE_TRUNC);
    CHECK_EQ_INT(func_lookup("to_timestamp"), FN_TO_TIMESTAMP);
    /* operators and unknown names are not callable */
    CHECK_EQ_INT(func_lookup("+"), -1);
    CHECK_EQ_INT(func_lookup("like"), -1);
    CHECK_EQ_INT(func_lookup("lowerx"), -1);
    CHECK_EQ_INT(func_lookup("lowe"), -1);
    CHECK_EQ_INT(func_lookup(""), -1);
    CHECK_EQ_INT(func_lookup(NULL), -1);

    CHECK_EQ_STR(func_name(FN_LOWER), "LOWER");
    CHECK_EQ_STR(func_name(FN_ADD), "+");
    CHECK_EQ_STR(func_name(FN_SIMILAR), "SIMILAR TO");
    CHECK_EQ_STR(func_name(-1), "?");
    CHECK_EQ_STR(func_name(FN__COUNT), "?");
    CHECK(func_is_operator(FN_ADD));
    CHECK(func_is_operator(FN_NEG));
    CHECK(func_is_operator(FN_LIKE));
    CHECK(func_is_operator(FN_MOD));
    CHECK(!func_is_operator(FN_LOWER));
    CHECK(!func_is_operator(99));
    CHECK_EQ_STR(func_operator(FN_NE), "<>");
    CHECK_EQ_STR(func_operator(FN_CONCAT_OP), "||");
    CHECK_EQ_STR(func_operator(FN_MOD), "%");
    CHECK_EQ_STR(func_operator(FN_LIKE), "LIKE");
    CHECK(func_operator(FN_UPPER) == NULL);
    CHECK_EQ_INT(func_syntax(FN_NEG), FSYN_PREFIX);
    CHECK_EQ_INT(func_syntax(FN_GE), FSYN_INFIX);
    CHECK_EQ_INT(func_syntax(FN_COALESCE), FSYN_CALL);
    int mn, mx;
    CHECK(func_arity(FN_SUBSTRING, &mn, &mx) == 0 && mn == 2 && mx == 3);
    CHECK(func_arity(FN_CONCAT, &mn, &mx) == 0 && mn == 1 && mx == -1);
    CHECK(func_arity(FN__COUNT, &mn, &mx) < 0);
    /* every id has a name and a consistent arity */
    for (int fn = 0; fn < FN__COUNT; fn++) {
        CHECK(strcmp(func_name(fn), "?") != 0);
        CHECK(func_arity(fn, &mn, &mx) == 0 && mn >= 1 && (mx == -1 || mx >= mn));
        CHECK(func_is_operator(fn) == (func_operator(fn) != NULL));
    }
}

TEST(expr_func_resolve_arith)
{
    CHECK(res(FN_ADD, 2, I, I, 0) == 0 && ret == I && want[0] == I && want[1] == I);
    CHECK(res(FN_ADD, 2, I, D, 0) == 0 && ret == D && want[0] == D && want[1] == D);
    CHECK(res(FN_ADD, 2, D, I, 0) == 0 && ret == D && want[0] == D && want[1] == D);
    CHECK(res(FN_ADD, 2, I, Z, 0) == 0 && ret == I && want[1] == I);
    CHECK(res(FN_ADD, 2, Z, D, 0) == 0 && ret == D && want[0] == D);
    CHECK(res(FN_ADD, 2, Z, Z, 0) == 0 && ret == I);
    CHECK(res(FN_ADD, 2, T, N, 0) == 0 && ret == T && want[0] == T && want[1] == N);
    CHECK(res(FN_ADD, 2, N, T, 0) == 0 && ret == T);
    CHECK(res(FN_ADD, 2, N, N, 0) == 0 && ret == N);
    CHECK(res(FN_ADD, 2, T, Z, 0) == 0 && ret == T && want[1] == N);
    CHECK(res(FN_ADD, 2, T, T, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '+' to TIMESTAMP and TIMESTAMP");
    CHECK(res(FN_SUB, 2, T, T, 0) == 0 && ret == N);
    CHECK(res(FN_SUB, 2, T, N, 0) == 0 && ret == T);
    CHECK(res(FN_SUB, 2, N, T, 0) < 0);
    CHECK(res(FN_MUL, 2, N, I, 0) == 0 && ret == N && want[1] == I);
    CHECK(res(FN_MUL, 2, I, N, 0) == 0 && ret == N && want[0] == I);
    CHECK(res(FN_MUL, 2, N, D, 0) == 0 && ret == N && want[1] == D);
    CHECK(res(FN_MUL, 2, D, N, 0) == 0 && ret == N);
    CHECK(res(FN_MUL, 2, N, N, 0) < 0);
    CHECK(res(FN_DIV, 2, N, I, 0) == 0 && ret == N);
    CHECK(res(FN_DIV, 2, N, D, 0) == 0 && ret == N);
    CHECK(res(FN_DIV, 2, I, N, 0) < 0);
    CHECK(res(FN_DIV, 2, I, I, 0) == 0 && ret == I);
    CHECK(res(FN_MOD, 2, I, I, 0) == 0 && ret == I);
    CHECK(res(FN_MOD, 2, D, I, 0) == 0 && ret == D && want[1] == D);
    CHECK(res(FN_NEG, 1, I, 0, 0) == 0 && ret == I);
    CHECK(res(FN_NEG, 1, N, 0, 0) == 0 && ret == N);
    CHECK(res(FN_NEG, 1, V, 0, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply unary '-' to VARCHAR");
    CHECK(res(FN_ADD, 2, V, I, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '+' to VARCHAR and BIGINT");
    CHECK(res(FN_MUL, 2, B, B, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '*' to BOOLEAN and BOOLEAN");
    CHECK(res(FN_MOD, 2, V, V, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '%' to VARCHAR and VARCHAR");
    CHECK(res(FN_ADD, 1, I, 0, 0) < 0);
    CHECK_EQ_STR(why, "'+' takes 2 arguments, got 1");
}

TEST(expr_func_resolve_compare)
{
    static const int cmps[] = {FN_EQ, FN_NE, FN_LT, FN_LE, FN_GT, FN_GE};
    static const SqlType same[] = {B, I, D, V, T, N};
    for (size_t k = 0; k < 6; k++)
        for (size_t t = 0; t < 6; t++) {
            CHECK(res(cmps[k], 2, same[t], same[t], 0) == 0);
            CHECK(ret == B && want[0] == same[t] && want[1] == same[t]);
        }
    CHECK(res(FN_EQ, 2, I, D, 0) == 0 && want[0] == D && want[1] == D && ret == B);
    CHECK(res(FN_LT, 2, D, I, 0) == 0 && want[0] == D && want[1] == D);
    CHECK(res(FN_EQ, 2, V, T, 0) == 0 && want[0] == T && want[1] == T);
    CHECK(res(FN_GE, 2, T, V, 0) == 0 && want[0] == T && want[1] == T);
    CHECK(res(FN_EQ, 2, N, V, 0) == 0 && want[1] == N);
    CHECK(res(FN_EQ, 2, V, Z, 0) == 0 && want[1] == V);
    CHECK(res(FN_EQ, 2, Z, T, 0) == 0 && want[0] == T);
    CHECK(res(FN_EQ, 2, Z, Z, 0) == 0 && ret == B);
    CHECK(res(FN_EQ, 2, V, I, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '=' to VARCHAR and BIGINT");
    CHECK(res(FN_LT, 2, T, I, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '<' to TIMESTAMP and BIGINT");
    CHECK(res(FN_NE, 2, B, I, 0) < 0);
    CHECK(res(FN_EQ, 2, T, N, 0) < 0);
}

TEST(expr_func_resolve_functions)
{
    CHECK(res(FN_LOWER, 1, V, 0, 0) == 0 && ret == V);
    CHECK(res(FN_LOWER, 1, Z, 0, 0) == 0 && ret == V && want[0] == V);
    CHECK(res(FN_LOWER, 2, V, V, 0) < 0);
    CHECK_EQ_STR(why, "LOWER takes 1 argument, got 2");
    CHECK(res(FN_LOWER, 1, I, 0, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply LOWER to BIGINT (expected LOWER(VARCHAR))");
    CHECK(res(FN_LENGTH, 1, V, 0, 0) == 0 && ret == I);
    CHECK(res(FN_SUBSTRING, 2, V, I, 0) == 0 && ret == V);
    CHECK(res(FN_SUBSTRING, 3, V, I, I) == 0 && ret == V);
    CHECK(res(FN_SUBSTRING, 3, V, D, I) < 0);
    CHECK(strstr(why, "SUBSTRING(VARCHAR, BIGINT[, BIGINT])") != NULL);
    CHECK(res(FN_SUBSTRING, 1, V, 0, 0) < 0);
    CHECK_EQ_STR(why, "SUBSTRING takes 2 or 3 arguments, got 1");
    CHECK(res(FN_TRIM, 2, V, V, 0) == 0 && ret == V);
    CHECK(res(FN_LIKE, 2, V, V, 0) == 0 && ret == B);
    CHECK(res(FN_LIKE, 3, V, V, V) == 0 && ret == B);
    CHECK(res(FN_LIKE, 2, I, V, 0) < 0);
    CHECK(strstr(why, "cannot apply LIKE to BIGINT and VARCHAR") != NULL);
    CHECK(res(FN_SIMILAR, 2, V, V, 0) == 0 && ret == B);
    CHECK(res(FN_REGEXP_LIKE, 3, V, V, V) == 0 && ret == B);
    CHECK(res(FN_ABS, 1, I, 0, 0) == 0 && ret == I);
    CHECK(res(FN_ABS, 1, D, 0, 0) == 0 && ret == D);
    CHECK(res(FN_ABS, 1, Z, 0, 0) == 0 && ret == I);
    CHECK(res(FN_ABS, 1, V, 0, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply ABS to VARCHAR (expected ABS(BIGINT) or ABS(DOUBLE))");
    CHECK(res(FN_ROUND, 1, D, 0, 0) == 0 && ret == D);
    CHECK(res(FN_ROUND, 2, D, I, 0) == 0 && ret == D);
    CHECK(res(FN_ROUND, 2, I, I, 0) == 0 && ret == I);
    CHECK(res(FN_ROUND, 2, I, D, 0) < 0);
    CHECK(res(FN_FLOOR, 1, I, 0, 0) == 0 && ret == I);
    CHECK(res(FN_CEIL, 1, D, 0, 0) == 0 && ret == D);
    CHECK(res(FN_EXTRACT, 2, V, T, 0) == 0 && ret == I);
    CHECK(res(FN_EXTRACT, 2, V, V, 0) < 0);
    CHECK(res(FN_DATE_TRUNC, 2, V, T, 0) == 0 && ret == T);
    CHECK(res(FN_TO_TIMESTAMP, 1, V, 0, 0) == 0 && ret == T && want[0] == V);
    CHECK(res(FN_TO_TIMESTAMP, 1, I, 0, 0) == 0 && ret == T && want[0] == I);
    CHECK(res(FN_TO_TIMESTAMP, 1, D, 0, 0) == 0 && ret == T && want[0] == D);
    CHECK(res(FN_TO_TIMESTAMP, 1, B, 0, 0) < 0);
    CHECK(res(FN__COUNT, 1, I, 0, 0) < 0);
    CHECK(strstr(why, "unknown function") != NULL);
    CHECK(res(FN_LOWER, 1, (SqlType)42, 0, 0) < 0);
}

TEST(expr_func_resolve_polymorphic)
{
    SqlType a5[5] = {Z, I, D, Z, I}, w5[5];
    CHECK(func_resolve(FN_COALESCE, 5, a5, w5, &ret, why, sizeof why) == 0);
    CHECK(ret == D && w5[0] == D && w5[1] == D && w5[4] == D);
    CHECK(res(FN_COALESCE, 2, V, V, 0) == 0 && ret == V);
    CHECK(res(FN_COALESCE, 2, Z, Z, 0) == 0 && ret == Z);
    CHECK(res(FN_COALESCE, 2, V, I, 0) < 0);
    CHECK_EQ_STR(why, "COALESCE arguments have no common type: VARCHAR and BIGINT");
    CHECK(res(FN_COALESCE, 0, 0, 0, 0) < 0);
    CHECK_EQ_STR(why, "COALESCE takes at least 1 argument, got 0");
    CHECK(res(FN_NULLIF, 2, I, D, 0) == 0 && ret == D);
    CHECK(res(FN_NULLIF, 2, T, Z, 0) == 0 && ret == T && want[1] == T);
    CHECK(res(FN_NULLIF, 2, T, N, 0) < 0);
    CHECK(res(FN_CONCAT, 3, V, I, T) == 0 && ret == V && want[0] == V && want[1] == V &&
          want[2] == V);
    CHECK(res(FN_CONCAT, 1, Z, 0, 0) == 0 && ret == V);
    CHECK(res(FN_CONCAT_OP, 2, V, V, 0) == 0 && ret == V);
    CHECK(res(FN_CONCAT_OP, 2, V, I, 0) == 0 && want[1] == V);
    CHECK(res(FN_CONCAT_OP, 2, B, V, 0) == 0 && want[0] == V);
    CHECK(res(FN_CONCAT_OP, 2, I, Z, 0) == 0 && ret == V);
    CHECK(res(FN_CONCAT_OP, 2, I, I, 0) < 0);
    CHECK_EQ_STR(why, "cannot apply '||' to BIGINT and BIGINT");
    /* arg_types_out may alias args */
    SqlType io[2] = {I, D};
    CHECK(func_resolve(FN_ADD, 2, io, io, &ret, why, sizeof why) == 0);
    CHECK(io[0] == D && io[1] == D && ret == D);
    /* a small buffer is truncated, not overrun */
    char small[8];
    SqlType bad[2] = {V, I};
    CHECK(func_resolve(FN_ADD, 2, bad, io, &ret, small, sizeof small) < 0);
    CHECK_EQ_STR(small, "cannot ");
}

TEST(expr_func_cast_allowed_and_common)
{
    static const SqlType all[] = {Z, B, I, D, V, T, N};
    for (int a = 0; a < 7; a++) {
        CHECK(cast_allowed(all[a], all[a]));
        CHECK(cast_allowed(Z, all[a]));
        CHECK(cast_allowed(all[a], V));
        CHECK(type_common(all[a], all[a]) == all[a]);
        CHECK(type_common(Z, all[a]) == all[a]);
        CHECK(type_common(all[a], Z) == all[a]);
    }
    CHECK(cast_allowed(V, B) && cast_allowed(V, I) && cast_allowed(V, D));
    CHECK(cast_allowed(V, T) && cast_allowed(V, N));
    CHECK(cast_allowed(I, D) && cast_allowed(D, I));
    CHECK(cast_allowed(I, B) && cast_allowed(B, I));
    CHECK(!cast_allowed(I, T));
    CHECK(!cast_allowed(T, I));
    CHECK(!cast_allowed(N, I));
    CHECK(!cast_allowed(B, D));
    CHECK(!cast_allowed(D, B));
    CHECK(!cast_allowed(T, N));
    CHECK(!cast_allowed(I, Z));
    CHECK(!cast_allowed((SqlType)99, V));
    CHECK(type_common(I, D) == D);
    CHECK(type_common(D, I) == D);
    CHECK(type_common(V, I) == Z);
    CHECK(type_common(T, V) == Z);
    CHECK(type_common(T, N) == Z);
    CHECK(type_common(B, I) == Z);
}

TEST(expr_func_extract_and_trunc_names)
{
    CHECK_EQ_INT(func_extract_field("year", 4), EXTRACT_YEAR);
    CHECK_EQ_INT(func_extract_field("YEAR", 4), EXTRACT_YEAR);
    CHECK_EQ_INT(func_extract_field("Dow", 3), EXTRACT_DOW);
    CHECK_EQ_INT(func_extract_field("doy", 3), EXTRACT_DOY);
    CHECK_EQ_INT(func_extract_field("epoch", 5), EXTRACT_EPOCH);
    CHECK_EQ_INT(func_extract_field("week", 4), EXTRACT_WEEK);
    CHECK_EQ_INT(func_extract_field("quarter", 7), EXTRACT_QUARTER);
    CHECK_EQ_INT(func_extract_field("millisecond", 11), EXTRACT_MILLISECOND);
    CHECK_EQ_INT(func_extract_field("microseconds", 12), EXTRACT_MICROSECOND);
    CHECK_EQ_INT(func_extract_field(" hour ", 6), EXTRACT_HOUR);
    CHECK_EQ_INT(func_extract_field("yearx", 4), EXTRACT_YEAR);   /* n bounds the text */
    CHECK_EQ_INT(func_extract_field("yearx", 5), -1);
    CHECK_EQ_INT(func_extract_field("", 0), -1);
    CHECK_EQ_INT(func_extract_field(NULL, 0), -1);
    CHECK_EQ_INT(func_trunc_unit("second", 6), TRUNC_SECOND);
    CHECK_EQ_INT(func_trunc_unit("MONTHS", 6), TRUNC_MONTH);
    CHECK_EQ_INT(func_trunc_unit("week", 4), TRUNC_WEEK);
    CHECK_EQ_INT(func_trunc_unit("quarter", 7), TRUNC_QUARTER);
    CHECK_EQ_INT(func_trunc_unit("year", 4), TRUNC_YEAR);
    CHECK_EQ_INT(func_trunc_unit("dow", 3), -1);
}

/*
 * test_exec_expr_time.c — TIMESTAMP and INTERVAL arithmetic, EXTRACT,
 * DATE_TRUNC and TO_TIMESTAMP on known dates, before and after 1970, with
 * the overflow edges of the int64 range.
 */
#include <math.h>

#include "tests/unit/test_exec_expr_util.h"

#define SEC USEC_PER_SEC

static Expr *extract(const char *field, const char *ts)
{
    return F2(FN_EXTRACT, S(field), TS(ts));
}

static Expr *trunc_(const char *unit, const char *ts)
{
    return F2(FN_DATE_TRUNC, S(unit), TS(ts));
}

TEST(expr_time_arith)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_ADD, TS("2024-01-01"), IV(10 * SEC))), "2024-01-01 00:00:10");
    CHECK_EQ_STR(ev(F2(FN_ADD, IV(90 * USEC_PER_MINUTE), TS("2024-01-01"))), "2024-01-01 01:30:00");
    CHECK_EQ_STR(ev(F2(FN_SUB, TS("1970-01-01 00:00:05"), IV(10 * SEC))), "1969-12-31 23:59:55");
    CHECK_EQ_STR(ev(F2(FN_ADD, TS("2024-02-28 23:00:00"), IV(USEC_PER_DAY))), "2024-02-29 23:00:00");
    CHECK_EQ_STR(ev(F2(FN_SUB, TS("2024-01-02"), TS("2024-01-01"))), "1 day");
    CHECK_EQ_STR(ev(F2(FN_SUB, TS("2024-01-01"), TS("2024-01-01 00:00:00.5"))), "-0.5 seconds");
    CHECK_EQ_STR(ev(F2(FN_SUB, TS("1970-01-01"), TS("1969-12-31 23:00:00"))), "1 hour");
    CHECK_EQ_STR(ev(F2(FN_ADD, IV(SEC), IV(2 * SEC))), "3 seconds");
    CHECK_EQ_STR(ev(F2(FN_SUB, IV(SEC), IV(USEC_PER_MINUTE))), "-59 seconds");
    CHECK_EQ_STR(ev(F1(FN_NEG, IV(USEC_PER_HOUR))), "-1 hour");
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(10 * SEC), I(3))), "30 seconds");
    CHECK_EQ_STR(ev(F2(FN_MUL, I(3), IV(10 * SEC))), "30 seconds");
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(10 * SEC), D(1.5))), "15 seconds");
    CHECK_EQ_STR(ev(F2(FN_MUL, D(0.5), IV(3))), "0.000002 seconds");    /* 1.5 µs → 2 */
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(-3), D(0.5))), "-0.000002 seconds");
    CHECK_EQ_STR(ev(F2(FN_DIV, IV(10 * SEC), I(4))), "2.5 seconds");
    CHECK_EQ_STR(ev(F2(FN_DIV, IV(SEC), D(3.0))), "0.333333 seconds");
    CHECK_EQ_STR(ev(F2(FN_DIV, IV(SEC), I(0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DIV, IV(SEC), D(0.0))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(SEC), D(NAN))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(SEC), D(1e300))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_MUL, IV(INT64_MAX), I(2))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_ADD, TS("9999-12-31"), IV(INT64_MAX))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_NEG, IV(INT64_MIN))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_ADD, TS("2024-01-01"), NUL(TYPE_INTERVAL))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_ADD, TS("2024-01-01"), NUL(TYPE_NULL))), "NULL");
    /* comparisons */
    CHECK_EQ_STR(ev(F2(FN_LT, TS("1969-12-31"), TS("1970-01-01"))), "true");
    CHECK_EQ_STR(ev(F2(FN_GE, IV(SEC), IV(USEC_PER_MINUTE))), "false");
    /* a watermark-style expression: ts - INTERVAL '10' SECOND over a column */
    static const SqlType t[1] = {TYPE_TIMESTAMP};
    Batch b;
    REQUIRE(batch_init(&b, 1, t, 0) == 0);
    add_row(&b, "2024-01-01 00:00:10");
    add_row(&b, (const char *)NULL);
    add_row(&b, "1970-01-01 00:00:00.000001");
    CHECK_EQ_STR(ev_batch(F2(FN_SUB, COL(0, TYPE_TIMESTAMP), IV(10 * SEC)), &b),
                 "2024-01-01 00:00:00,NULL,1969-12-31 23:59:50.000001");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_time_extract)
{
    ex_begin();
    const char *t = "2024-03-15 13:45:30.123456";   /* a Friday */
    CHECK_EQ_STR(ev(extract("YEAR", t)), "2024");
    CHECK_EQ_STR(ev(extract("quarter", t)), "1");
    CHECK_EQ_STR(ev(extract("Month", t)), "3");
    CHECK_EQ_STR(ev(extract("DAY", t)), "15");
    CHECK_EQ_STR(ev(extract("HOUR", t)), "13");
    CHECK_EQ_STR(ev(extract("MINUTE", t)), "45");
    CHECK_EQ_STR(ev(extract("SECOND", t)), "30");
    CHECK_EQ_STR(ev(extract("MILLISECOND", t)), "30123");
    CHECK_EQ_STR(ev(extract("MICROSECOND", t)), "30123456");
    CHECK_EQ_STR(ev(extract("DOW", t)), "5");
    CHECK_EQ_STR(ev(extract("ISODOW", t)), "5");
    CHECK_EQ_STR(ev(extract("DOY", t)), "75");
    CHECK_EQ_STR(ev(extract("WEEK", t)), "11");
    CHECK_EQ_STR(ev(extract("EPOCH", t)), "1710510330");
    CHECK_EQ_STR(ev(extract("dayofweek", t)), "5");               /* aliases */
    CHECK_EQ_STR(ev(extract(" year ", t)), "2024");
    /* before 1970 */
    const char *u = "1969-12-31 23:59:59.5";
    CHECK_EQ_STR(ev(extract("YEAR", u)), "1969");
    CHECK_EQ_STR(ev(extract("MONTH", u)), "12");
    CHECK_EQ_STR(ev(extract("DAY", u)), "31");
    CHECK_EQ_STR(ev(extract("SECOND", u)), "59");
    CHECK_EQ_STR(ev(extract("MILLISECOND", u)), "59500");
    CHECK_EQ_STR(ev(extract("EPOCH", u)), "-1");                   /* floor */
    CHECK_EQ_STR(ev(extract("DOW", u)), "3");                      /* Wednesday */
    CHECK_EQ_STR(ev(extract("DOY", u)), "365");
    CHECK_EQ_STR(ev(extract("WEEK", u)), "1");                     /* ISO week 1 of 1970 */
    CHECK_EQ_STR(ev(extract("QUARTER", u)), "4");
    CHECK_EQ_STR(ev(extract("DOY", "1900-03-01")), "60");          /* 1900: not leap */
    CHECK_EQ_STR(ev(extract("DOW", "1900-03-01")), "4");
    CHECK_EQ_STR(ev(extract("WEEK", "1900-03-01")), "9");
    CHECK_EQ_STR(ev(extract("DOW", "1969-07-20 20:17:40")), "0");  /* Sunday */
    CHECK_EQ_STR(ev(extract("ISODOW", "1969-07-20 20:17:40")), "7");
    CHECK_EQ_STR(ev(extract("WEEK", "1969-07-20")), "29");
    CHECK_EQ_STR(ev(extract("DOW", "0001-01-01")), "1");           /* a Monday */
    CHECK_EQ_STR(ev(extract("YEAR", "0001-01-01")), "1");
    /* ISO week edges */
    CHECK_EQ_STR(ev(extract("WEEK", "2021-01-03")), "53");
    CHECK_EQ_STR(ev(extract("WEEK", "2024-12-30")), "1");
    CHECK_EQ_STR(ev(extract("WEEK", "2026-01-01")), "1");
    CHECK_EQ_STR(ev(extract("DOY", "2024-12-31")), "366");
    /* NULLs and bad fields */
    CHECK_EQ_STR(ev(F2(FN_EXTRACT, S("YEAR"), NUL(TYPE_TIMESTAMP))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_EXTRACT, NUL(TYPE_VARCHAR), TS("2024-01-01"))), "NULL");
    CHECK(strstr(build_err(extract("fortnight", t)), "unknown EXTRACT field 'fortnight'") != NULL);
    /* EXTRACT of a VARCHAR argument: the binder casts it to TIMESTAMP */
    CHECK_EQ_STR(ev(F2(FN_EXTRACT, S("MONTH"), CAST(S("2024-07-04"), TYPE_TIMESTAMP))), "7");
    /* the extremes of the int64 range do not overflow */
    Expr *lo = expr_const(&ex_arena, value_i64(TYPE_TIMESTAMP, INT64_MIN), -1);
    Expr *hi = expr_const(&ex_arena, value_i64(TYPE_TIMESTAMP, INT64_MAX), -1);
    CHECK_EQ_STR(ev(F2(FN_EXTRACT, S("EPOCH"), lo)), "-9223372036855");
    CHECK_EQ_STR(ev(F2(FN_EXTRACT, S("EPOCH"), hi)), "9223372036854");
    CHECK(strcmp(ev(F2(FN_EXTRACT, S("WEEK"), lo)), "NULL") != 0);
    CHECK(strcmp(ev(F2(FN_EXTRACT, S("WEEK"), hi)), "NULL") != 0);
    ex_end();
}

TEST(expr_time_extract_per_row_field)
{
    static const SqlType types[2] = {TYPE_VARCHAR, TYPE_TIMESTAMP};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 2, types, 0) == 0);
    add_row(&b, "year", "2024-03-15 13:45:30");
    add_row(&b, "hour", "2024-03-15 13:45:30");
    add_row(&b, "nonsense", "2024-03-15 13:45:30");
    add_row(&b, (const char *)NULL, "2024-03-15 13:45:30");
    add_row(&b, "dow", (const char *)NULL);
    add_row(&b, "week", "2021-01-03");
    CHECK_EQ_STR(ev_batch(F2(FN_EXTRACT, COL(0, TYPE_VARCHAR), COL(1, TYPE_TIMESTAMP)), &b),
                 "2024,13,NULL,NULL,NULL,53");
    CHECK_EQ_STR(ev_batch(F2(FN_DATE_TRUNC, COL(0, TYPE_VARCHAR), COL(1, TYPE_TIMESTAMP)), &b),
                 "2024-01-01 00:00:00,2024-03-15 13:00:00,NULL,NULL,NULL,2020-12-28 00:00:00");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_time_date_trunc)
{
    ex_begin();
    const char *t = "2024-03-15 13:45:30.123456";
    CHECK_EQ_STR(ev(trunc_("microsecond", t)), "2024-03-15 13:45:30.123456");
    CHECK_EQ_STR(ev(trunc_("millisecond", t)), "2024-03-15 13:45:30.123");
    CHECK_EQ_STR(ev(trunc_("second", t)), "2024-03-15 13:45:30");
    CHECK_EQ_STR(ev(trunc_("MINUTE", t)), "2024-03-15 13:45:00");
    CHECK_EQ_STR(ev(trunc_("hour", t)), "2024-03-15 13:00:00");
    CHECK_EQ_STR(ev(trunc_("day", t)), "2024-03-15 00:00:00");
    CHECK_EQ_STR(ev(trunc_("week", t)), "2024-03-11 00:00:00");   /* Monday */
    CHECK_EQ_STR(ev(trunc_("month", t)), "2024-03-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("quarter", t)), "2024-01-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("quarter", "2024-11-30 10:00:00")), "2024-10-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("year", t)), "2024-01-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("weeks", "2024-03-11")), "2024-03-11 00:00:00");
    CHECK_EQ_STR(ev(trunc_("week", "2024-03-17 23:59:59")), "2024-03-11 00:00:00");
    /* before 1970: floor, not toward zero */
    const char *u = "1969-07-20 20:17:40.9";
    CHECK_EQ_STR(ev(trunc_("second", u)), "1969-07-20 20:17:40");
    CHECK_EQ_STR(ev(trunc_("hour", u)), "1969-07-20 20:00:00");
    CHECK_EQ_STR(ev(trunc_("day", u)), "1969-07-20 00:00:00");
    CHECK_EQ_STR(ev(trunc_("week", u)), "1969-07-14 00:00:00");
    CHECK_EQ_STR(ev(trunc_("month", u)), "1969-07-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("quarter", u)), "1969-07-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("year", u)), "1969-01-01 00:00:00");
    CHECK_EQ_STR(ev(trunc_("millisecond", "1969-12-31 23:59:59.9995")), "1969-12-31 23:59:59.999");
    CHECK_EQ_STR(ev(trunc_("day", "1969-12-31 23:59:59.9995")), "1969-12-31 00:00:00");
    CHECK_EQ_STR(ev(trunc_("week", "1970-01-01")), "1969-12-29 00:00:00");
    CHECK_EQ_STR(ev(F2(FN_DATE_TRUNC, S("day"), NUL(TYPE_TIMESTAMP))), "NULL");
    CHECK(strstr(build_err(trunc_("decade", t)), "unknown DATE_TRUNC unit 'decade'") != NULL);
    /* flooring the smallest timestamp would leave the range: NULL, not UB */
    Expr *lo = expr_const(&ex_arena, value_i64(TYPE_TIMESTAMP, INT64_MIN), -1);
    CHECK_EQ_STR(ev(F2(FN_DATE_TRUNC, S("second"), lo)), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DATE_TRUNC, S("week"), lo)), "NULL");
    CHECK_EQ_STR(ev(F2(FN_DATE_TRUNC, S("microsecond"), lo)), "-290308-12-21 19:59:05.224192");
    ex_end();
}

TEST(expr_time_to_timestamp)
{
    ex_begin();
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, S("2024-01-01 10:00:00"))), "2024-01-01 10:00:00");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, S("2024-01-01T10:00:00+02:00"))), "2024-01-01 08:00:00");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, S("yesterday"))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, S(""))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, I(0))), "1970-01-01 00:00:00");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, I(-1))), "1969-12-31 23:59:59");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, I(1710510330))), "2024-03-15 13:45:30");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, I(INT64_MAX))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, D(1.5))), "1970-01-01 00:00:01.5");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, D(-0.25))), "1969-12-31 23:59:59.75");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, D(1e300))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, D(NAN))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_TO_TIMESTAMP, NUL(TYPE_NULL))), "NULL");
    ex_end();
}

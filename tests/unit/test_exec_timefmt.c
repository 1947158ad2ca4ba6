/*
 * test_exec_timefmt.c — exec/timefmt: the civil calendar against a day-by-day
 * count over years 1..9999, known dates, timestamp parse/format round trips
 * (fixed-seed random values), accepted and rejected timestamp text, interval
 * parsing and formatting.
 */
#include "tests/unit/unit.h"

#include "exec/timefmt.h"

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int parse(const char *s, int64_t *out)
{
    return ts_parse(s, strlen(s), out);
}

static int64_t must_parse(const char *s)
{
    int64_t v = INT64_MIN;
    if (parse(s, &v) < 0) unit_fail(__FILE__, __LINE__, "ts_parse(\"%s\") failed", s);
    return v;
}

static const char *tsf(int64_t ts, int iso)
{
    static char buf[TS_FORMAT_MAX];
    ts_format(ts, buf, sizeof buf, iso);
    return buf;
}

static int iparse(const char *s, int64_t *out)
{
    return interval_parse(s, strlen(s), out);
}

static const char *ivf(int64_t us)
{
    static char buf[INTERVAL_FORMAT_MAX];
    interval_format(us, buf, sizeof buf);
    return buf;
}

#define TS_0001 INT64_C(-62135596800000000)   /* 0001-01-01 00:00:00 */
#define TS_9999 INT64_C(253402300799999999)   /* 9999-12-31 23:59:59.999999 */

TEST(exec_ts_calendar_matches_day_count)
{
    /* walk every day from 0001-01-01 to 9999-12-31 with a naive calendar */
    int64_t days = ts_days_from_civil(1, 1, 1);
    CHECK_EQ_INT(days, -719162);
    int y = 1, m = 1, d = 1, bad = 0;
    for (;;) {
        if (ts_days_from_civil(y, m, d) != days) bad++;
        CivilTime c;
        ts_to_civil(days * USEC_PER_DAY, &c);
        if (c.year != y || c.month != m || c.day != d || c.hour || c.minute || c.second ||
            c.usec)
            bad++;
        if (y == 9999 && m == 12 && d == 31) break;
        days++;
        if (++d > ts_days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(days, 2932896);   /* 9999-12-31 */
}

TEST(exec_ts_days_in_month)
{
    CHECK_EQ_INT(ts_days_in_month(2024, 2), 29);
    CHECK_EQ_INT(ts_days_in_month(2023, 2), 28);
    CHECK_EQ_INT(ts_days_in_month(1900, 2), 28);
    CHECK_EQ_INT(ts_days_in_month(2000, 2), 29);
    CHECK_EQ_INT(ts_days_in_month(2024, 4), 30);
    CHECK_EQ_INT(ts_days_in_month(2024, 12), 31);
    CHECK_EQ_INT(ts_days_in_month(2024, 13), 0);
    CHECK_EQ_INT(ts_days_in_month(2024, 0), 0);
}

TEST(exec_ts_known_dates)
{
    CHECK_EQ_INT(must_parse("1970-01-01"), 0);
    CHECK_EQ_INT(must_parse("1970-01-01 00:00:00"), 0);
    CHECK_EQ_INT(must_parse("2000-02-29"), INT64_C(951782400000000));
    CHECK_EQ_INT(must_parse("1969-12-31 23:59:59.999999"), -1);
    CHECK_EQ_INT(must_parse("9999-12-31"), INT64_C(253402214400000000));
    CHECK_EQ_INT(must_parse("9999-12-31 23:59:59.999999"), TS_9999);
    CHECK_EQ_INT(must_parse("0001-01-01 00:00:00"), TS_0001);
    CHECK_EQ_INT(must_parse("2024-01-01T00:00:10Z"), INT64_C(1704067210000000));
    CHECK_EQ_INT(ts_from_civil(2024, 1, 1, 0, 0, 10, 0), INT64_C(1704067210000000));
    CHECK_EQ_INT(ts_from_civil(1969, 12, 31, 23, 59, 59, 999999), -1);

    CHECK_EQ_STR(tsf(0, 0), "1970-01-01 00:00:00");
    CHECK_EQ_STR(tsf(-1, 0), "1969-12-31 23:59:59.999999");
    CHECK_EQ_STR(tsf(INT64_C(951782400000000), 0), "2000-02-29 00:00:00");
    CHECK_EQ_STR(tsf(TS_9999, 0), "9999-12-31 23:59:59.999999");
    CHECK_EQ_STR(tsf(TS_0001, 0), "0001-01-01 00:00:00");

    CivilTime c;
    ts_to_civil(-1, &c);
    CHECK(c.year == 1969 && c.month == 12 && c.day == 31 && c.hour == 23 && c.minute == 59 &&
          c.second == 59 && c.usec == 999999);
}

TEST(exec_ts_format_fraction_and_iso)
{
    int64_t t = ts_from_civil(2024, 1, 1, 0, 0, 10, 0);
    CHECK_EQ_STR(tsf(t, 0), "2024-01-01 00:00:10");
    CHECK_EQ_STR(tsf(t + 250000, 0), "2024-01-01 00:00:10.25");
    CHECK_EQ_STR(tsf(t + 100000, 0), "2024-01-01 00:00:10.1");
    CHECK_EQ_STR(tsf(t + 1, 0), "2024-01-01 00:00:10.000001");
    CHECK_EQ_STR(tsf(t + 120, 0), "2024-01-01 00:00:10.00012");
    CHECK_EQ_STR(tsf(t, 1), "2024-01-01T00:00:10.000Z");
    CHECK_EQ_STR(tsf(t + 250000, 1), "2024-01-01T00:00:10.250Z");
    CHECK_EQ_STR(tsf(t + 999999, 1), "2024-01-01T00:00:10.999Z");   /* floor to ms */
    CHECK_EQ_STR(tsf(-1, 1), "1969-12-31T23:59:59.999Z");

    /* snprintf rules */
    char small[11];
    CHECK_EQ_INT(ts_format(t, small, sizeof small, 0), 19);
    CHECK_EQ_STR(small, "2024-01-01");
    CHECK_EQ_INT(ts_format(t, NULL, 0, 1), 24);

    /* the extremes of int64 format without trouble */
    char buf[TS_FORMAT_MAX];
    int  n = ts_format(INT64_MAX, buf, sizeof buf, 0);
    CHECK(n > 0 && n < TS_FORMAT_MAX);
    CHECK_EQ_STR(buf, "294247-01-10 04:00:54.775807");
    n = ts_format(INT64_MIN, buf, sizeof buf, 0);
    CHECK(n > 0 && n < TS_FORMAT_MAX);
    CHECK_EQ_STR(buf, "-290308-12-21 19:59:05.224192");
}

TEST(exec_ts_parse_variants)
{
    int64_t base = ts_from_civil(2024, 3, 5, 7, 8, 9, 0);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T07:08:09"), base);
    CHECK_EQ_INT(must_parse("2024-03-05t07:08:09"), base);
    CHECK_EQ_INT(must_parse("  2024-03-05 07:08:09 \n"), base);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08"), base - 9 * USEC_PER_SEC);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09Z"), base);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09z"), base);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09 Z"), base);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09+00:00"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T09:08:09+02:00"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T09:08:09+0200"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T09:08:09+02"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T01:38:09-05:30"), base);
    CHECK_EQ_INT(must_parse("2024-03-05T01:38:09 -0530"), base);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09.5"), base + 500000);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09.123"), base + 123000);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09.123456"), base + 123456);
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09.1234567"), base + 123456);    /* truncated */
    CHECK_EQ_INT(must_parse("2024-03-05 07:08:09.999999999"), base + 999999);  /* 9 digits */
    CHECK_EQ_INT(must_parse("2024-03-05T07:08:09.250+01:00"), base + 250000 - USEC_PER_HOUR);
    /* an offset can cross the day (and the epoch) */
    CHECK_EQ_INT(must_parse("1970-01-01T00:30:00+01:00"), -30 * USEC_PER_MINUTE);
    /* n bounds the input: text after it is ignored */
    int64_t v;
    CHECK_EQ_INT(ts_parse("2024-03-05 07:08:09garbage", 19, &v), 0);
    CHECK_EQ_INT(v, base);
}

TEST(exec_ts_parse_rejects_malformed)
{
    static const char *bad[] = {
        "",
        "   ",
        "2024",
        "2024-01",
        "24-01-01",
        "2024-1-01",
        "2024-01-1",
        "2024/01/01",
        "2024-13-01",
        "2024-00-10",
        "2024-01-00",
        "2024-01-32",
        "2024-02-30",
        "2023-02-29",
        "1900-02-29",
        "2024-04-31",
        "0000-01-01",
        "2024-01-01 24:00:00",
        "2024-01-01 23:60:00",
        "2024-01-01 23:59:60",
        "2024-01-01 7:08:09",
        "2024-01-01 07:8:09",
        "2024-01-01 07:08:9",
        "2024-01-01 07",
        "2024-01-01T",
        "2024-01-01  07:08:09",
        "2024-01-01 07:08:09.",
        "2024-01-01 07:08:09.1234567890",
        "2024-01-01 07:08:09.12a",
        "2024-01-01 07:08:09+",
        "2024-01-01 07:08:09+2",
        "2024-01-01 07:08:09+24:00",
        "2024-01-01 07:08:09+01:60",
        "2024-01-01 07:08:09+01:",
        "2024-01-01 07:08:09ZZ",
        "2024-01-01 07:08:09 UTC",
        "2024-01-01Z",
        "2024-01-01x",
        "2024-01-01 07:08:09 junk",
        "+2024-01-01",
        "-001-01-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 12345;
        if (parse(bad[i], &v) != -1 || v != 12345)
            unit_fail(__FILE__, __LINE__, "ts_parse accepted \"%s\"", bad[i]);
    }
    int64_t v;
    CHECK_EQ_INT(ts_parse(NULL, 0, &v), -1);
    CHECK_EQ_INT(ts_parse("2024-01-01", 9, &v), -1);   /* cut short by n */
}

TEST(exec_ts_random_round_trips)
{
    uint64_t seed = 12345;
    int      bad = 0;
    for (int k = 0; k < 20000; k++) {
        uint64_t span = (uint64_t)(TS_9999 - TS_0001) + 1;
        int64_t  ts = TS_0001 + (int64_t)(rng_next(&seed) % span);
        if (k % 4 == 0) ts -= ts % USEC_PER_SEC;     /* whole seconds too */
        if (k % 8 == 1) ts = (int64_t)(rng_next(&seed) % 4000000000000000) - 2000000000000000;

        char buf[TS_FORMAT_MAX];
        int  n = ts_format(ts, buf, sizeof buf, 0);
        int64_t back = 0;
        if (ts_parse(buf, (size_t)n, &back) < 0 || back != ts) bad++;

        /* ISO text reads back to the value floored to milliseconds */
        n = ts_format(ts, buf, sizeof buf, 1);
        int64_t ms = ts - ((ts % 1000) + 1000) % 1000;
        if (n != 24 || ts_parse(buf, (size_t)n, &back) < 0 || back != ms) bad++;

        CivilTime c;
        ts_to_civil(ts, &c);
        if (ts_from_civil(c.year, c.month, c.day, c.hour, c.minute, c.second, c.usec) != ts)
            bad++;
        if (bad && bad < 3) unit_fail(__FILE__, __LINE__, "round trip failed for %lld: %s",
                                      (long long)ts, buf);
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(exec_interval_parse_spellings)
{
    static const struct {
        const char *text;
        int64_t     usec;
    } ok[] = {
        {"10 seconds", 10 * USEC_PER_SEC},
        {"5 minutes", 5 * USEC_PER_MINUTE},
        {"1 hour", USEC_PER_HOUR},
        {"200ms", 200 * USEC_PER_MSEC},
        {"1.5s", 1500 * USEC_PER_MSEC},
        {"1 min", USEC_PER_MINUTE},
        {"2 hours", 2 * USEC_PER_HOUR},
        {"1 day", USEC_PER_DAY},
        {"1 week", 7 * USEC_PER_DAY},
        {"3w", 21 * USEC_PER_DAY},
        {"10 SECOND", 10 * USEC_PER_SEC},
        {"10 Seconds", 10 * USEC_PER_SEC},
        {"  7 secs  ", 7 * USEC_PER_SEC},
        {"1 sec", USEC_PER_SEC},
        {"15s", 15 * USEC_PER_SEC},
        {"2 hrs", 2 * USEC_PER_HOUR},
        {"1h30m", 90 * USEC_PER_MINUTE},
        {"1 hour 30 minutes", 90 * USEC_PER_MINUTE},
        {"1 day 2 hours 3 minutes 4.5 seconds",
         USEC_PER_DAY + 2 * USEC_PER_HOUR + 3 * USEC_PER_MINUTE + 4500000},
        {"250 us", 250},
        {"250 microseconds", 250},
        {"3 millis", 3000},
        {"0.5 ms", 500},
        {"1.5 us", 1},                          /* truncated to µs */
        {"-1.5 us", -1},                        /* toward zero */
        {".5s", 500000},
        {"5.s", 5 * USEC_PER_SEC},
        {"0 seconds", 0},
        {"-10 seconds", -10 * USEC_PER_SEC},
        {"+10 seconds", 10 * USEC_PER_SEC},
        {"1 hour -30 minutes", 30 * USEC_PER_MINUTE},
        {"1.000000001 minute", USEC_PER_MINUTE},
        {"0.1234567 seconds", 123456},
        {"1.5 hours", 90 * USEC_PER_MINUTE},
        {"0.1 day", 8640 * USEC_PER_SEC},
        {"106751991 days", INT64_C(106751991) * USEC_PER_DAY},
        {"9223372036854775807 us", INT64_MAX},
        {"-9223372036854775808 us", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t v = -7;
        if (iparse(ok[i].text, &v) != 0 || v != ok[i].usec)
            unit_fail(__FILE__, __LINE__, "interval_parse(\"%s\") = %lld, want %lld",
                      ok[i].text, (long long)v, (long long)ok[i].usec);
    }
}

TEST(exec_interval_parse_rejects)
{
    static const char *bad[] = {
        "", "  ", "10", "seconds", "s", "10 parsecs", "1 month", "1 year", "1 mon",
        "10 seconds 5", "--1s", "- 1s", "1..5s", "1.5.5s", "1e3 s", "10 seconds,",
        "1,5s", "9223372036854775808 us", "106751992 days", "1000000000000000000000 us",
        "0.1234567890123456789 s", "abc", "1 s x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 99;
        if (iparse(bad[i], &v) != -1 || v != 99)
            unit_fail(__FILE__, __LINE__, "interval_parse accepted \"%s\"", bad[i]);
    }
    int64_t v;
    CHECK_EQ_INT(interval_parse(NULL, 0, &v), -1);
}

TEST(exec_interval_format)
{
    CHECK_EQ_STR(ivf(0), "0 seconds");
    CHECK_EQ_STR(ivf(USEC_PER_SEC), "1 second");
    CHECK_EQ_STR(ivf(10 * USEC_PER_SEC), "10 seconds");
    CHECK_EQ_STR(ivf(USEC_PER_MINUTE), "1 minute");
    CHECK_EQ_STR(ivf(5 * USEC_PER_MINUTE), "5 minutes");
    CHECK_EQ_STR(ivf(USEC_PER_HOUR), "1 hour");
    CHECK_EQ_STR(ivf(90 * USEC_PER_MINUTE), "1 hour 30 minutes");
    CHECK_EQ_STR(ivf(USEC_PER_DAY), "1 day");
    CHECK_EQ_STR(ivf(7 * USEC_PER_DAY), "7 days");
    CHECK_EQ_STR(ivf(200 * USEC_PER_MSEC), "0.2 seconds");
    CHECK_EQ_STR(ivf(1500 * USEC_PER_MSEC), "1.5 seconds");
    CHECK_EQ_STR(ivf(1), "0.000001 seconds");
    CHECK_EQ_STR(ivf(2 * USEC_PER_DAY + 3 * USEC_PER_HOUR + 1), "2 days 3 hours 0.000001 seconds");
    CHECK_EQ_STR(ivf(USEC_PER_DAY + USEC_PER_SEC), "1 day 1 second");
    CHECK_EQ_STR(ivf(-10 * USEC_PER_SEC), "-10 seconds");
    CHECK_EQ_STR(ivf(-90 * USEC_PER_MINUTE), "-1 hour -30 minutes");
    CHECK_EQ_STR(ivf(-1500 * USEC_PER_MSEC), "-1.5 seconds");
    CHECK_EQ_STR(ivf(INT64_MAX), "106751991 days 4 hours 54.775807 seconds");
    CHECK_EQ_STR(ivf(INT64_MIN), "-106751991 days -4 hours -54.775808 seconds");
    char small[5];
    CHECK_EQ_INT(interval_format(10 * USEC_PER_SEC, small, sizeof small), 10);
    CHECK_EQ_STR(small, "10 s");
}

TEST(exec_interval_format_parse_round_trip)
{
    uint64_t seed = 99;
    int      bad = 0;
    for (int k = 0; k < 20000; k++) {
        uint64_t r = rng_next(&seed);
        int64_t  us;
        switch (k % 4) {
        case 0:  us = (int64_t)r; break;                                       /* any */
        case 1:  us = (int64_t)(r % 200000000000) - 100000000000; break;        /* ±1 day */
        case 2:  us = (int64_t)(r % 100000) * USEC_PER_SEC; break;              /* whole s */
        default: us = (int64_t)(r % 2000) * USEC_PER_MSEC - 1000000; break;    /* ms */
        }
        char buf[INTERVAL_FORMAT_MAX];
        int  n = interval_format(us, buf, sizeof buf);
        int64_t back = 0;
        if (n <= 0 || n >= INTERVAL_FORMAT_MAX || interval_parse(buf, (size_t)n, &back) < 0 ||
            back != us) {
            if (bad++ < 3) unit_fail(__FILE__, __LINE__, "%lld -> \"%s\"", (long long)us, buf);
        }
    }
    CHECK_EQ_INT(bad, 0);
}

/*
 * test_exec_vector.c — exec/types and exec/vector: type names and sizes,
 * NULL bitmaps at word boundaries, constant vs flat, strings in the arena,
 * row copies, value formatting of every type.
 */
#include "tests/unit/unit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "exec/timefmt.h"
#include "exec/types.h"
#include "exec/vector.h"

static const SqlType all_types[] = {TYPE_NULL,    TYPE_BOOLEAN,   TYPE_BIGINT,  TYPE_DOUBLE,
                                    TYPE_VARCHAR, TYPE_TIMESTAMP, TYPE_INTERVAL};
#define NTYPES ((int)(sizeof all_types / sizeof all_types[0]))

static const int boundary_rows[] = {0, 63, 64, 1023};

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* format row of v into a static buffer */
static const char *fmt(const Vector *v, int row)
{
    static char buf[128];
    int n = vector_format_value(v, row, buf, sizeof buf);
    if (n < 0 || (size_t)n >= sizeof buf) return "(overflow)";
    return buf;
}

static const char *fmt_f64(double x)
{
    Vector v;
    if (vector_init(&v, TYPE_DOUBLE, 1) < 0) return "(oom)";
    vector_f64(&v)[0] = x;
    const char *s = fmt(&v, 0);
    vector_destroy(&v);
    return s;
}

/* ---- types -------------------------------------------------------------- */

TEST(exec_types_names_and_sizes)
{
    CHECK_EQ_STR(sql_type_name(TYPE_NULL), "NULL");
    CHECK_EQ_STR(sql_type_name(TYPE_BOOLEAN), "BOOLEAN");
    CHECK_EQ_STR(sql_type_name(TYPE_BIGINT), "BIGINT");
    CHECK_EQ_STR(sql_type_name(TYPE_DOUBLE), "DOUBLE");
    CHECK_EQ_STR(sql_type_name(TYPE_VARCHAR), "VARCHAR");
    CHECK_EQ_STR(sql_type_name(TYPE_TIMESTAMP), "TIMESTAMP");
    CHECK_EQ_STR(sql_type_name(TYPE_INTERVAL), "INTERVAL");
    CHECK_EQ_STR(sql_type_name((SqlType)99), "UNKNOWN");
    CHECK_EQ_INT(sql_type_size(TYPE_NULL), 0);
    CHECK_EQ_INT(sql_type_size(TYPE_BOOLEAN), 1);
    CHECK_EQ_INT(sql_type_size(TYPE_BIGINT), 8);
    CHECK_EQ_INT(sql_type_size(TYPE_DOUBLE), 8);
    CHECK_EQ_INT(sql_type_size(TYPE_VARCHAR), sizeof(Str));
    CHECK_EQ_INT(sql_type_size(TYPE_TIMESTAMP), 8);
    CHECK_EQ_INT(sql_type_size(TYPE_INTERVAL), 8);
    CHECK_EQ_INT(sql_type_size((SqlType)99), 0);
    CHECK(sql_type_is_i64(TYPE_BIGINT) && sql_type_is_i64(TYPE_TIMESTAMP) &&
          sql_type_is_i64(TYPE_INTERVAL));
    CHECK(!sql_type_is_i64(TYPE_DOUBLE) && !sql_type_is_i64(TYPE_BOOLEAN));
    CHECK_EQ_INT(SLUICE_VECTOR_SIZE, 1024);
}

TEST(exec_types_str_helpers)
{
    Str a = str_from_cstr("abc"), b = {"abcd", 3}, c = str_from_cstr("abd");
    Str e = {NULL, 0}, e2 = str_from_cstr("");
    CHECK(str_eq(a, b));
    CHECK(!str_eq(a, c));
    CHECK(str_eq(e, e2));
    CHECK(str_cmp(a, c) < 0 && str_cmp(c, a) > 0);
    CHECK(str_cmp(a, b) == 0);
    CHECK(str_cmp(e, a) < 0 && str_cmp(a, e) > 0);
    CHECK(str_cmp(a, str_from_cstr("abcd")) < 0);   /* prefix sorts first */
    Str hi = {"\xff", 1};
    CHECK(str_cmp(a, hi) < 0);                       /* bytes compare unsigned */
}

/* ---- lifecycle and NULLs ------------------------------------------------ */

TEST(exec_vector_init_every_type)
{
    for (int t = 0; t < NTYPES; t++) {
        Vector v;
        REQUIRE(vector_init(&v, all_types[t], 0) == 0);
        CHECK_EQ_INT(v.capacity, SLUICE_VECTOR_SIZE);
        CHECK_EQ_INT(v.kind, VECTOR_FLAT);
        CHECK(v.arena == NULL);
        if (all_types[t] == TYPE_NULL) {
            CHECK(v.data == NULL);
            CHECK(vector_is_null(&v, 0) && vector_is_null(&v, 1023));
        } else {
            CHECK(v.data != NULL);
            CHECK(v.validity == NULL);
            CHECK(!vector_is_null(&v, 0) && !vector_is_null(&v, 1023));
        }
        vector_destroy(&v);
        CHECK(v.data == NULL && v.validity_buf == NULL);
        vector_destroy(&v);                       /* twice is harmless */
    }
    Vector bad;
    CHECK_EQ_INT(vector_init(&bad, (SqlType)42, 16), -1);
    vector_destroy(&bad);
}

TEST(exec_vector_nulls_at_word_boundaries)
{
    for (int t = 1; t < NTYPES; t++) {
        Vector v;
        REQUIRE(vector_init(&v, all_types[t], 1024) == 0);
        for (int k = 0; k < 4; k++) vector_set_null(&v, boundary_rows[k]);
        REQUIRE(v.validity != NULL);
        int nnull = 0;
        for (int r = 0; r < 1024; r++) nnull += vector_is_null(&v, r);
        CHECK_EQ_INT(nnull, 4);
        for (int k = 0; k < 4; k++) CHECK(vector_is_null(&v, boundary_rows[k]));
        CHECK(!vector_is_null(&v, 1) && !vector_is_null(&v, 62) && !vector_is_null(&v, 65) &&
              !vector_is_null(&v, 1022));
        CHECK_EQ_STR(fmt(&v, 63), "NULL");

        vector_set_valid(&v, 64);
        CHECK(!vector_is_null(&v, 64));
        CHECK(vector_is_null(&v, 63));
        vector_set_null(&v, 63);                  /* idempotent */
        CHECK(vector_is_null(&v, 63));

        vector_reset(&v);
        CHECK(v.validity == NULL);
        for (int k = 0; k < 4; k++) CHECK(!vector_is_null(&v, boundary_rows[k]));
        /* the bitmap comes back all valid after a reset: no stale NULLs */
        vector_set_null(&v, 500);
        nnull = 0;
        for (int r = 0; r < 1024; r++) nnull += vector_is_null(&v, r);
        CHECK_EQ_INT(nnull, 1);
        vector_destroy(&v);
    }
}

TEST(exec_vector_odd_capacity)
{
    Vector v;
    REQUIRE(vector_init(&v, TYPE_BIGINT, 65) == 0);
    vector_set_null(&v, 64);
    CHECK(vector_is_null(&v, 64) && !vector_is_null(&v, 63));
    vector_i64(&v)[64] = 9;
    vector_destroy(&v);
}

TEST(exec_vector_null_type_is_always_null)
{
    Vector v;
    REQUIRE(vector_init(&v, TYPE_NULL, 100) == 0);
    vector_set_valid(&v, 5);
    CHECK(vector_is_null(&v, 5));
    vector_reset(&v);
    CHECK(vector_is_null(&v, 99));
    CHECK_EQ_STR(fmt(&v, 7), "NULL");
    vector_make_constant(&v);
    vector_flatten(&v, 100);
    CHECK(vector_is_null(&v, 42));
    vector_destroy(&v);
}

/* ---- constant vectors --------------------------------------------------- */

TEST(exec_vector_constant_and_flatten)
{
    Vector v;
    REQUIRE(vector_init(&v, TYPE_BIGINT, 1024) == 0);
    vector_i64(&v)[0] = 42;
    vector_i64(&v)[1023] = -1;                   /* ignored while constant */
    vector_make_constant(&v);
    CHECK(vector_is_constant(&v));
    CHECK_EQ_INT(vector_index(&v, 777), 0);
    CHECK_EQ_STR(fmt(&v, 1023), "42");
    CHECK(!vector_is_null(&v, 900));
    vector_flatten(&v, 1024);
    CHECK(!vector_is_constant(&v));
    int ok = 1;
    for (int r = 0; r < 1024; r++) ok &= vector_i64(&v)[r] == 42;
    CHECK(ok);
    CHECK(v.validity == NULL);
    vector_flatten(&v, 1024);                     /* flat: no-op */
    CHECK_EQ_INT(vector_i64(&v)[5], 42);

    /* a NULL constant flattens to all NULL, even over stale valid bits */
    vector_reset(&v);
    vector_set_null(&v, 0);
    vector_make_constant(&v);
    CHECK(vector_is_null(&v, 64) && vector_is_null(&v, 1023));
    CHECK_EQ_STR(fmt(&v, 999), "NULL");
    vector_flatten(&v, 2000);                     /* clamped to capacity */
    CHECK(!vector_is_constant(&v));
    int nulls = 0;
    for (int r = 0; r < 1024; r++) nulls += vector_is_null(&v, r);
    CHECK_EQ_INT(nulls, 1024);
    vector_destroy(&v);
}

TEST(exec_vector_constant_string_flatten_shares_bytes)
{
    Arena  a;
    Vector v;
    arena_init(&a, 256);
    REQUIRE(vector_init(&v, TYPE_VARCHAR, 128) == 0);
    v.arena = &a;
    REQUIRE(vector_set_str(&v, 0, "hello", 5) == 0);
    vector_make_constant(&v);
    CHECK_EQ_STR(fmt(&v, 100), "hello");
    size_t used = arena_bytes_used(&a);
    vector_flatten(&v, 128);
    CHECK_EQ_INT(arena_bytes_used(&a), used);    /* no copies of the bytes */
    CHECK_EQ_MEM(vector_str(&v)[127].ptr, vector_str(&v)[127].len, "hello");
    CHECK(vector_str(&v)[127].ptr == vector_str(&v)[0].ptr);
    vector_destroy(&v);
    arena_free(&a);
}

/* ---- strings -------------------------------------------------------------- */

TEST(exec_vector_strings_survive_source_overwrite)
{
    Arena  a;
    Vector v;
    arena_init(&a, 128);
    REQUIRE(vector_init(&v, TYPE_VARCHAR, 1024) == 0);
    CHECK_EQ_INT(vector_set_str(&v, 0, "x", 1), -1);   /* no arena yet */
    v.arena = &a;

    char src[64];
    for (int r = 0; r < 1024; r++) {
        int n = snprintf(src, sizeof src, "row-%d-%s", r, r % 2 ? "odd" : "even");
        REQUIRE(vector_set_str(&v, r, src, (size_t)n) == 0);
        memset(src, '#', sizeof src);             /* clobber the source */
    }
    int ok = 1;
    for (int r = 0; r < 1024; r++) {
        char want[64];
        snprintf(want, sizeof want, "row-%d-%s", r, r % 2 ? "odd" : "even");
        Str s = vector_str(&v)[r];
        ok &= s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
    }
    CHECK(ok);
    CHECK(arena_bytes_used(&a) > 1024 * 9);

    /* empty string and embedded NUL */
    REQUIRE(vector_set_str(&v, 5, "", 0) == 0);
    CHECK_EQ_INT(vector_str(&v)[5].len, 0);
    CHECK_EQ_STR(fmt(&v, 5), "");
    REQUIRE(vector_set_str(&v, 6, "a\0b", 3) == 0);
    CHECK_EQ_INT(vector_str(&v)[6].len, 3);
    CHECK(memcmp(vector_str(&v)[6].ptr, "a\0b", 3) == 0);

    /* setting a value on a NULL row makes it valid */
    vector_set_null(&v, 7);
    REQUIRE(vector_set_str(&v, 7, "back", 4) == 0);
    CHECK(!vector_is_null(&v, 7));
    CHECK_EQ_STR(fmt(&v, 7), "back");
    vector_destroy(&v);
    arena_free(&a);
}

TEST(exec_vector_str_ref_does_not_copy)
{
    Arena  a;
    Vector v;
    arena_init(&a, 128);
    REQUIRE(vector_init(&v, TYPE_VARCHAR, 8) == 0);
    v.arena = &a;
    static const char text[] = "static text";
    vector_set_null(&v, 3);
    vector_set_str_ref(&v, 3, text, 6);
    CHECK(vector_str(&v)[3].ptr == text);
    CHECK(!vector_is_null(&v, 3));
    CHECK_EQ_STR(fmt(&v, 3), "static");
    CHECK_EQ_INT(arena_bytes_used(&a), 0);
    vector_destroy(&v);
    arena_free(&a);
}

/* ---- row copies ------------------------------------------------------------ */

TEST(exec_vector_copy_row_values_and_nulls)
{
    Vector a, b, d;
    REQUIRE(vector_init(&a, TYPE_BIGINT, 16) == 0);
    REQUIRE(vector_init(&b, TYPE_TIMESTAMP, 16) == 0);
    REQUIRE(vector_init(&d, TYPE_DOUBLE, 16) == 0);
    vector_i64(&a)[2] = 1234;
    vector_set_null(&a, 3);
    CHECK_EQ_INT(vector_copy_row(&b, 0, &a, 2), 0);     /* BIGINT -> TIMESTAMP: same layout */
    CHECK_EQ_INT(vector_i64(&b)[0], 1234);
    CHECK_EQ_INT(vector_copy_row(&b, 1, &a, 3), 0);
    CHECK(vector_is_null(&b, 1));
    CHECK_EQ_INT(vector_copy_row(&b, 1, &a, 2), 0);     /* overwrite a NULL: valid again */
    CHECK(!vector_is_null(&b, 1));
    CHECK_EQ_INT(vector_copy_row(&d, 0, &a, 2), -1);    /* BIGINT -> DOUBLE: no */

    /* from a constant: every row reads slot 0 */
    vector_i64(&a)[0] = 77;
    vector_make_constant(&a);
    CHECK_EQ_INT(vector_copy_row(&b, 9, &a, 15), 0);
    CHECK_EQ_INT(vector_i64(&b)[9], 77);

    /* doubles and booleans */
    Vector x, y;
    REQUIRE(vector_init(&x, TYPE_BOOLEAN, 4) == 0);
    REQUIRE(vector_init(&y, TYPE_BOOLEAN, 4) == 0);
    vector_bool(&x)[1] = 1;
    CHECK_EQ_INT(vector_copy_row(&y, 3, &x, 1), 0);
    CHECK_EQ_INT(vector_bool(&y)[3], 1);
    vector_f64(&d)[4] = 2.5;
    Vector d2;
    REQUIRE(vector_init(&d2, TYPE_DOUBLE, 4) == 0);
    CHECK_EQ_INT(vector_copy_row(&d2, 0, &d, 4), 0);
    CHECK_EQ_DBL(vector_f64(&d2)[0], 2.5);

    /* TYPE_NULL source: copies a NULL into any type? no: layouts differ */
    Vector n;
    REQUIRE(vector_init(&n, TYPE_NULL, 4) == 0);
    CHECK_EQ_INT(vector_copy_row(&d2, 1, &n, 0), -1);
    Vector n2;
    REQUIRE(vector_init(&n2, TYPE_NULL, 4) == 0);
    CHECK_EQ_INT(vector_copy_row(&n2, 1, &n, 0), 0);
    CHECK(vector_is_null(&n2, 1));

    vector_destroy(&a);
    vector_destroy(&b);
    vector_destroy(&d);
    vector_destroy(&d2);
    vector_destroy(&x);
    vector_destroy(&y);
    vector_destroy(&n);
    vector_destroy(&n2);
}

TEST(exec_vector_copy_row_strings_across_arenas)
{
    Arena  a1, a2;
    Vector s, t, u;
    arena_init(&a1, 128);
    arena_init(&a2, 128);
    REQUIRE(vector_init(&s, TYPE_VARCHAR, 4) == 0);
    REQUIRE(vector_init(&t, TYPE_VARCHAR, 4) == 0);
    REQUIRE(vector_init(&u, TYPE_VARCHAR, 4) == 0);
    s.arena = &a1;
    t.arena = &a2;
    u.arena = &a1;
    REQUIRE(vector_set_str(&s, 0, "payload", 7) == 0);

    /* same arena: shared */
    CHECK_EQ_INT(vector_copy_row(&u, 1, &s, 0), 0);
    CHECK(vector_str(&u)[1].ptr == vector_str(&s)[0].ptr);

    /* other arena: copied, and survives the source arena's reset */
    CHECK_EQ_INT(vector_copy_row(&t, 2, &s, 0), 0);
    CHECK(vector_str(&t)[2].ptr != vector_str(&s)[0].ptr);
    arena_reset(&a1);
    char *reused = arena_alloc_bytes(&a1, 7);   /* the source bytes' memory, reused */
    REQUIRE(reused != NULL);
    memset(reused, 'Z', 7);
    CHECK_EQ_STR(fmt(&t, 2), "payload");

    /* no destination arena: refused rather than sharing silently */
    t.arena = NULL;
    REQUIRE(vector_set_str(&s, 0, "again", 5) == 0);
    CHECK_EQ_INT(vector_copy_row(&t, 3, &s, 0), -1);

    vector_destroy(&s);
    vector_destroy(&t);
    vector_destroy(&u);
    arena_free(&a1);
    arena_free(&a2);
}

/* ---- formatting -------------------------------------------------------------- */

TEST(exec_vector_format_boolean_bigint)
{
    Vector b, i;
    REQUIRE(vector_init(&b, TYPE_BOOLEAN, 4) == 0);
    REQUIRE(vector_init(&i, TYPE_BIGINT, 4) == 0);
    vector_bool(&b)[0] = 1;
    vector_bool(&b)[1] = 0;
    vector_set_null(&b, 2);
    CHECK_EQ_STR(fmt(&b, 0), "true");
    CHECK_EQ_STR(fmt(&b, 1), "false");
    CHECK_EQ_STR(fmt(&b, 2), "NULL");
    vector_i64(&i)[0] = 0;
    vector_i64(&i)[1] = -42;
    vector_i64(&i)[2] = INT64_MAX;
    vector_i64(&i)[3] = INT64_MIN;
    CHECK_EQ_STR(fmt(&i, 0), "0");
    CHECK_EQ_STR(fmt(&i, 1), "-42");
    CHECK_EQ_STR(fmt(&i, 2), "9223372036854775807");
    CHECK_EQ_STR(fmt(&i, 3), "-9223372036854775808");
    vector_destroy(&b);
    vector_destroy(&i);
}

TEST(exec_vector_format_double_sqlite_style)
{
    CHECK_EQ_STR(fmt_f64(3.0), "3.0");
    CHECK_EQ_STR(fmt_f64(0.0), "0.0");
    CHECK_EQ_STR(fmt_f64(-0.0), "-0.0");
    CHECK_EQ_STR(fmt_f64(0.1), "0.1");
    CHECK_EQ_STR(fmt_f64(-2.5), "-2.5");
    CHECK_EQ_STR(fmt_f64(100.0), "100.0");
    CHECK_EQ_STR(fmt_f64(123456789.0), "123456789.0");
    CHECK_EQ_STR(fmt_f64(0.1 + 0.2), "0.30000000000000004");   /* needs 17 */
    CHECK_EQ_STR(fmt_f64(1e20), "1.0e+20");
    CHECK_EQ_STR(fmt_f64(1e15), "1.0e+15");
    CHECK_EQ_STR(fmt_f64(1e-5), "1.0e-05");
    CHECK_EQ_STR(fmt_f64(2.5e-7), "2.5e-07");
    CHECK_EQ_STR(fmt_f64(1.5e300), "1.5e+300");
    CHECK_EQ_STR(fmt_f64(9007199254740993.0), "9007199254740992.0");  /* 2^53 + 1 rounds */
    CHECK_EQ_STR(fmt_f64(1.0 / 3.0), "0.3333333333333333");          /* 16 digits */
    CHECK_EQ_STR(fmt_f64(DBL_MAX), "1.7976931348623157e+308");
    CHECK_EQ_STR(fmt_f64(5e-324), "4.94065645841247e-324");
    CHECK_EQ_STR(fmt_f64(INFINITY), "Infinity");
    CHECK_EQ_STR(fmt_f64(-INFINITY), "-Infinity");
    CHECK_EQ_STR(fmt_f64(NAN), "NaN");
}

TEST(exec_vector_format_double_round_trips)
{
    uint64_t seed = 2024;
    int      bad = 0;
    for (int k = 0; k < 20000; k++) {
        uint64_t bits = rng_next(&seed);
        double   x;
        if (k % 2) {
            memcpy(&x, &bits, sizeof x);                       /* any bit pattern */
            if (isnan(x) || isinf(x)) continue;
        } else {
            x = (double)(int64_t)(bits % 2000001) / 1000.0 - 1000.0;  /* "decimal" data */
        }
        const char *s = fmt_f64(x);
        char       *end;
        double      y = strtod(s, &end);
        if (*end != '\0' || y != x || !strchr(s, '.') || strlen(s) > 26) {
            if (bad++ < 5) CHECK(!"double did not round-trip");
        }
        /* never longer than needed: 15 digits when 15 suffice */
        if (k % 2 == 0) {
            char p15[40];
            snprintf(p15, sizeof p15, "%.15g", x);
            if (strtod(p15, NULL) == x && strlen(s) > strlen(p15) + 2) bad++;
        }
    }
    CHECK_EQ_INT(bad, 0);
}

TEST(exec_vector_format_varchar_timestamp_interval)
{
    Arena  a;
    Vector s, ts, iv;
    arena_init(&a, 0);
    REQUIRE(vector_init(&s, TYPE_VARCHAR, 4) == 0);
    REQUIRE(vector_init(&ts, TYPE_TIMESTAMP, 4) == 0);
    REQUIRE(vector_init(&iv, TYPE_INTERVAL, 4) == 0);
    s.arena = &a;
    REQUIRE(vector_set_str(&s, 0, "héllo, wörld", strlen("héllo, wörld")) == 0);
    vector_set_null(&s, 1);
    CHECK_EQ_STR(fmt(&s, 0), "héllo, wörld");
    CHECK_EQ_STR(fmt(&s, 1), "NULL");

    vector_i64(&ts)[0] = 0;
    vector_i64(&ts)[1] = ts_from_civil(2024, 1, 1, 0, 0, 10, 250000);
    vector_i64(&ts)[2] = -1;
    vector_set_null(&ts, 3);
    CHECK_EQ_STR(fmt(&ts, 0), "1970-01-01 00:00:00");
    CHECK_EQ_STR(fmt(&ts, 1), "2024-01-01 00:00:10.25");
    CHECK_EQ_STR(fmt(&ts, 2), "1969-12-31 23:59:59.999999");
    CHECK_EQ_STR(fmt(&ts, 3), "NULL");

    vector_i64(&iv)[0] = 10 * USEC_PER_SEC;
    vector_i64(&iv)[1] = 90 * USEC_PER_MINUTE;
    vector_i64(&iv)[2] = 200 * USEC_PER_MSEC;
    vector_set_null(&iv, 3);
    CHECK_EQ_STR(fmt(&iv, 0), "10 seconds");
    CHECK_EQ_STR(fmt(&iv, 1), "1 hour 30 minutes");
    CHECK_EQ_STR(fmt(&iv, 2), "0.2 seconds");
    CHECK_EQ_STR(fmt(&iv, 3), "NULL");

    vector_destroy(&s);
    vector_destroy(&ts);
    vector_destroy(&iv);
    arena_free(&a);
}

TEST(exec_vector_format_truncates_like_snprintf)
{
    Vector i;
    REQUIRE(vector_init(&i, TYPE_BIGINT, 1) == 0);
    vector_i64(&i)[0] = 1234567;
    char buf[4] = "zzz";
    CHECK_EQ_INT(vector_format_value(&i, 0, buf, sizeof buf), 7);
    CHECK_EQ_STR(buf, "123");
    CHECK_EQ_INT(vector_format_value(&i, 0, NULL, 0), 7);   /* measure only */
    char one[1] = {'q'};
    CHECK_EQ_INT(vector_format_value(&i, 0, one, 1), 7);
    CHECK_EQ_INT(one[0], '\0');
    vector_destroy(&i);
}

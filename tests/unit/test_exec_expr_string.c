/*
 * test_exec_expr_string.c — string functions and patterns: ||, CONCAT,
 * LOWER/UPPER, LENGTH, SUBSTRING, TRIM family (UTF-8 included), LIKE (fast
 * paths, '_', ESCAPE, per-row patterns), SIMILAR TO, REGEXP_LIKE, and the
 * build errors of bad constant patterns.
 */
#include "tests/unit/test_exec_expr_util.h"

/* "é" is 2 bytes, "€" 3, "😀" 4 */

TEST(expr_str_concat)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, S("ab"), S("cd"))), "abcd");
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, S(""), S(""))), "");
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, S("a"), NUL(TYPE_VARCHAR))), "NULL");   /* || is strict */
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, S("n="), I(5))), "n=5");               /* cast to text */
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, D(1.5), S("x"))), "1.5x");
    CHECK_EQ_STR(ev(F2(FN_CONCAT_OP, S("é"), S("€"))), "é€");
    CHECK_EQ_STR(ev(F3(FN_CONCAT, S("a"), NUL(TYPE_VARCHAR), S("c"))), "ac");  /* skipped */
    CHECK_EQ_STR(ev(F2(FN_CONCAT, NUL(TYPE_VARCHAR), NUL(TYPE_NULL))), "");
    CHECK_EQ_STR(ev(F1(FN_CONCAT, S("solo"))), "solo");
    CHECK_EQ_STR(ev(F(FN_CONCAT, 4, S("x"), I(1), B(1), D(2))), "x1true2.0");
    CHECK_EQ_STR(ev(F(FN_CONCAT, 3, TS("2024-01-01"), S(" / "), IV(USEC_PER_SEC))),
                 "2024-01-01 00:00:00 / 1 second");
    ex_end();
}

TEST(expr_str_case_and_length)
{
    ex_begin();
    CHECK_EQ_STR(ev(F1(FN_LOWER, S("Hello WORLD 123"))), "hello world 123");
    CHECK_EQ_STR(ev(F1(FN_UPPER, S("Hello world 123"))), "HELLO WORLD 123");
    CHECK_EQ_STR(ev(F1(FN_LOWER, S("ÉCOLE Été"))), "École Été");     /* ASCII only */
    CHECK_EQ_STR(ev(F1(FN_UPPER, S("@[`{"))), "@[`{");              /* around the letters */
    CHECK_EQ_STR(ev(F1(FN_LOWER, S("@[`{"))), "@[`{");
    CHECK_EQ_STR(ev(F1(FN_UPPER, S(""))), "");
    CHECK_EQ_STR(ev(F1(FN_LOWER, NUL(TYPE_VARCHAR))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_LENGTH, S("hello"))), "5");
    CHECK_EQ_STR(ev(F1(FN_LENGTH, S(""))), "0");
    CHECK_EQ_STR(ev(F1(FN_LENGTH, S("héllo"))), "5");
    CHECK_EQ_STR(ev(F1(FN_LENGTH, S("€😀a"))), "3");
    CHECK_EQ_STR(ev(F1(FN_LENGTH, S("\xff\xfe"))), "2");             /* invalid bytes count */
    CHECK_EQ_STR(ev(F1(FN_LENGTH, NUL(TYPE_VARCHAR))), "NULL");
    ex_end();
}

TEST(expr_str_substring)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("hello"), I(2))), "ello");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(2), I(3))), "ell");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(1), I(5))), "hello");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(0), I(3))), "he");      /* SQL: from 0 */
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(-2), I(5))), "he");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(-10), I(3))), "");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(4), I(100))), "lo");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("hello"), I(6))), "");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("hello"), I(100))), "");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(2), I(0))), "");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(2), I(-1))), "NULL");   /* negative length */
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(INT64_MAX), I(INT64_MAX))), "");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("hello"), I(INT64_MIN), I(INT64_MAX))), "");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("hello"), I(INT64_MIN))), "hello");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("héllo€"), I(2), I(3))), "éll");     /* characters */
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("😀€é"), I(2))), "€é");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("😀€é"), I(3), I(1))), "é");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S(""), I(1))), "");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, NUL(TYPE_VARCHAR), I(1))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_SUBSTRING, S("abc"), NUL(TYPE_BIGINT))), "NULL");
    CHECK_EQ_STR(ev(F3(FN_SUBSTRING, S("abc"), I(1), NUL(TYPE_BIGINT))), "NULL");
    ex_end();
}

TEST(expr_str_trim)
{
    ex_begin();
    CHECK_EQ_STR(ev(F1(FN_TRIM, S("  a b  "))), "a b");
    CHECK_EQ_STR(ev(F1(FN_LTRIM, S("  a b  "))), "a b  ");
    CHECK_EQ_STR(ev(F1(FN_RTRIM, S("  a b  "))), "  a b");
    CHECK_EQ_STR(ev(F1(FN_TRIM, S("\ta\t"))), "\ta\t");             /* spaces only */
    CHECK_EQ_STR(ev(F1(FN_TRIM, S("    "))), "");
    CHECK_EQ_STR(ev(F1(FN_TRIM, S(""))), "");
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("xxhixyx"), S("xy"))), "hi");
    CHECK_EQ_STR(ev(F2(FN_LTRIM, S("xxhixyx"), S("xy"))), "hixyx");
    CHECK_EQ_STR(ev(F2(FN_RTRIM, S("xxhixyx"), S("xy"))), "xxhi");
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("abc"), S(""))), "abc");
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("ééaéé"), S("é"))), "a");          /* multibyte set */
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("€xé€"), S("€é"))), "x");
    CHECK_EQ_STR(ev(F2(FN_RTRIM, S("aé"), S("\xa9"))), "aé");        /* not half a character */
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("é"), S("é"))), "");
    CHECK_EQ_STR(ev(F2(FN_TRIM, S("abc"), NUL(TYPE_VARCHAR))), "NULL");
    CHECK_EQ_STR(ev(F1(FN_RTRIM, NUL(TYPE_VARCHAR))), "NULL");
    CHECK_EQ_INT(func_lookup("btrim"), FN_TRIM);
    ex_end();
}

/* a LIKE b [ESCAPE e] */
static Expr *like(const char *s, const char *p, const char *e)
{
    return e ? F3(FN_LIKE, S(s), S(p), S(e)) : F2(FN_LIKE, S(s), S(p));
}

TEST(expr_like)
{
    ex_begin();
    /* exact, prefix, suffix, contains, segments */
    CHECK_EQ_STR(ev(like("abc", "abc", NULL)), "true");
    CHECK_EQ_STR(ev(like("abc", "abd", NULL)), "false");
    CHECK_EQ_STR(ev(like("abc", "ab", NULL)), "false");
    CHECK_EQ_STR(ev(like("", "", NULL)), "true");
    CHECK_EQ_STR(ev(like("a", "", NULL)), "false");
    CHECK_EQ_STR(ev(like("", "%", NULL)), "true");
    CHECK_EQ_STR(ev(like("anything", "%%", NULL)), "true");
    CHECK_EQ_STR(ev(like("CRITICAL", "CRIT%", NULL)), "true");
    CHECK_EQ_STR(ev(like("CRI", "CRIT%", NULL)), "false");
    CHECK_EQ_STR(ev(like("crit", "CRIT%", NULL)), "false");           /* case-sensitive */
    CHECK_EQ_STR(ev(like("file.log", "%.log", NULL)), "true");
    CHECK_EQ_STR(ev(like("log", "%.log", NULL)), "false");
    CHECK_EQ_STR(ev(like("a crash here", "%crash%", NULL)), "true");
    CHECK_EQ_STR(ev(like("crash", "%crash%", NULL)), "true");
    CHECK_EQ_STR(ev(like("cras", "%crash%", NULL)), "false");
    CHECK_EQ_STR(ev(like("abcxyzdef", "abc%def", NULL)), "true");
    CHECK_EQ_STR(ev(like("abcdef", "abc%def", NULL)), "true");
    CHECK_EQ_STR(ev(like("abcdef", "abcd%def", NULL)), "false");       /* no overlap */
    CHECK_EQ_STR(ev(like("xaybzc", "%a%b%c", NULL)), "true");
    CHECK_EQ_STR(ev(like("xaybzcq", "%a%b%c", NULL)), "false");
    CHECK_EQ_STR(ev(like("abab", "%ab%ab%", NULL)), "true");
    CHECK_EQ_STR(ev(like("aba", "%ab%ab%", NULL)), "false");
    CHECK_EQ_STR(ev(like("a%b", "a%%b", NULL)), "true");
    /* '_' is one character, UTF-8 aware */
    CHECK_EQ_STR(ev(like("abc", "a_c", NULL)), "true");
    CHECK_EQ_STR(ev(like("ac", "a_c", NULL)), "false");
    CHECK_EQ_STR(ev(like("aéc", "a_c", NULL)), "true");
    CHECK_EQ_STR(ev(like("a😀c", "a_c", NULL)), "true");
    CHECK_EQ_STR(ev(like("a😀c", "a__c", NULL)), "false");
    CHECK_EQ_STR(ev(like("é", "_", NULL)), "true");
    CHECK_EQ_STR(ev(like("", "_", NULL)), "false");
    CHECK_EQ_STR(ev(like("abcde", "%_d_", NULL)), "true");
    CHECK_EQ_STR(ev(like("abcde", "_%_%_", NULL)), "true");
    CHECK_EQ_STR(ev(like("ab", "_%_%_", NULL)), "false");
    CHECK_EQ_STR(ev(like("xxéyyéz", "%é_z", NULL)), "false");
    CHECK_EQ_STR(ev(like("xxéyyéwz", "%é_z", NULL)), "true");
    CHECK_EQ_STR(ev(like("mississippi", "m%iss%_ppi", NULL)), "true");
    CHECK_EQ_STR(ev(like("mississippi", "m%iss%_pa", NULL)), "false");
    CHECK_EQ_STR(ev(like("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", "%a%a%a%a%a%a%a%_c", NULL)), "false");
    /* no default escape: a backslash is an ordinary character */
    CHECK_EQ_STR(ev(like("a\\b", "a\\_", NULL)), "true");
    CHECK_EQ_STR(ev(like("ab", "a\\_", NULL)), "false");
    CHECK_EQ_STR(ev(like("a\\b", "a\\%", NULL)), "true");
    /* ESCAPE */
    CHECK_EQ_STR(ev(like("100%", "100!%", "!")), "true");
    CHECK_EQ_STR(ev(like("1000", "100!%", "!")), "false");
    CHECK_EQ_STR(ev(like("a_b", "a!_b", "!")), "true");
    CHECK_EQ_STR(ev(like("axb", "a!_b", "!")), "false");
    CHECK_EQ_STR(ev(like("a!b", "a!!b", "!")), "true");
    CHECK_EQ_STR(ev(like("50% off", "%!%%", "!")), "true");
    CHECK_EQ_STR(ev(like("a\\b", "a\\\\b", "\\")), "true");
    CHECK_EQ_STR(ev(like("a%b", "a€%b", "€")), "true");                /* multibyte escape */
    CHECK_EQ_STR(ev(like("aXb", "a€%b", "€")), "false");
    CHECK_EQ_STR(ev(like("a_b", "a_b", "")), "true");                  /* '' = none */
    CHECK_EQ_STR(ev(like("a\\", "a\\", "")), "true");
    /* NULLs */
    CHECK_EQ_STR(ev(F2(FN_LIKE, NUL(TYPE_VARCHAR), S("%"))), "NULL");
    CHECK_EQ_STR(ev(F2(FN_LIKE, S("a"), NUL(TYPE_VARCHAR))), "NULL");
    CHECK_EQ_STR(ev(F3(FN_LIKE, S("a"), S("a"), NUL(TYPE_VARCHAR))), "NULL");
    /* NOT LIKE is NOT over LIKE */
    CHECK_EQ_STR(ev(NOT(like("abc", "a%", NULL))), "false");
    ex_end();
}

TEST(expr_like_bad_patterns)
{
    ex_begin();
    /* constant: a build error */
    CHECK(strstr(build_err(like("a", "ab!", "!")), "ends with the escape character") != NULL);
    CHECK(strstr(build_err(like("a", "ab", "!!")), "ESCAPE must be a single character") != NULL);
    /* per row: NULL for that row */
    static const SqlType t[3] = {TYPE_VARCHAR, TYPE_VARCHAR, TYPE_VARCHAR};
    Batch b;
    REQUIRE(batch_init(&b, 3, t, 0) == 0);
    add_row(&b, "abc", "a%", "!");
    add_row(&b, "abc", "ab!", "!");
    add_row(&b, "a_c", "a!_c", "!");
    add_row(&b, "abc", "a!_c", "!");
    add_row(&b, "abc", "abc", "xy");
    add_row(&b, "abc", NULL, "!");
    add_row(&b, "ab", "%b", "");
    Expr *e = F3(FN_LIKE, COL(0, TYPE_VARCHAR), COL(1, TYPE_VARCHAR), COL(2, TYPE_VARCHAR));
    CHECK_EQ_STR(ev_batch(e, &b), "true,NULL,true,false,NULL,NULL,true");
    Expr *e2 = F2(FN_LIKE, COL(1, TYPE_VARCHAR), COL(0, TYPE_VARCHAR));   /* pattern column */
    CHECK_EQ_STR(ev_batch(e2, &b), "false,false,false,false,true,NULL,false");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_like_column_fast_paths)
{
    static const SqlType t[1] = {TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 1, t, 0) == 0);
    const char *rows[] = {"CRITICAL", "critical", "CRIT", "", NULL, "xCRITICALx", "CRITICAL!"};
    for (int i = 0; i < 7; i++) add_row(&b, rows[i]);
    Expr *c = COL(0, TYPE_VARCHAR);
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("CRITICAL")), &b), "true,false,false,false,NULL,false,false");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("CRIT%")), &b), "true,false,true,false,NULL,false,true");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("%AL")), &b), "true,false,false,false,NULL,false,false");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("%TIC%")), &b), "true,false,false,false,NULL,true,true");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("%")), &b), "true,true,true,true,NULL,true,true");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("C%I%L")), &b), "true,false,false,false,NULL,false,false");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("_RIT%")), &b), "true,false,true,false,NULL,false,true");
    CHECK_EQ_STR(ev_batch(F2(FN_LIKE, c, S("")), &b), "false,false,false,true,NULL,false,false");
    batch_destroy(&b);
    ex_end();
}

TEST(expr_similar_to)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("abc"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abcd"), S("abc"))), "false");        /* anchored */
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("a%"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("_b_"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("%(b|d)%"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("(b|d)%"))), "false");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("aaa"), S("a+"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("ab"), S("a{2}"))), "false");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("aa"), S("a{2}"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("a7"), S("a[0-9]"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("a.c"), S("a.c"))), "true");          /* . is literal */
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("abc"), S("a.c"))), "false");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("a$^"), S("a$^"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("a\\b"), S("a\\b"))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("a%"), S("a[%]"))), "true");          /* % in brackets */
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S("ab"), S("a[%]"))), "false");
    CHECK_EQ_STR(ev(F3(FN_SIMILAR, S("10%"), S("10#%"), S("#"))), "true");
    CHECK_EQ_STR(ev(F3(FN_SIMILAR, S("100"), S("10#%"), S("#"))), "false");
    CHECK_EQ_STR(ev(F3(FN_SIMILAR, S("a+"), S("a#+"), S("#"))), "true");
    CHECK_EQ_STR(ev(F3(FN_SIMILAR, S("aa"), S("a#+"), S("#"))), "false");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, S(""), S(""))), "true");
    CHECK_EQ_STR(ev(F2(FN_SIMILAR, NUL(TYPE_VARCHAR), S("a"))), "NULL");
    CHECK(strstr(build_err(F2(FN_SIMILAR, S("a"), S("(a"))), "invalid SIMILAR TO pattern") != NULL);
    CHECK(strstr(build_err(F3(FN_SIMILAR, S("a"), S("a#"), S("#"))), "escape character") != NULL);
    ex_end();
}

TEST(expr_regexp_like)
{
    ex_begin();
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("error 404"), S("[0-9]{3}"))), "true");  /* anywhere */
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("error"), S("[0-9]{3}"))), "false");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("abc"), S("^b"))), "false");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("abc"), S("c$"))), "true");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("foo|bar"), S("o\\|b"))), "true");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("xbarx"), S("foo|bar"))), "true");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("ABC"), S("abc"))), "false");
    CHECK_EQ_STR(ev(F3(FN_REGEXP_LIKE, S("ABC"), S("abc"), S("i"))), "true");
    CHECK_EQ_STR(ev(F3(FN_REGEXP_LIKE, S("ABC"), S("abc"), S("ic"))), "false");
    CHECK_EQ_STR(ev(F3(FN_REGEXP_LIKE, S("a\nb"), S("^b"), S("n"))), "true");
    CHECK_EQ_STR(ev(F3(FN_REGEXP_LIKE, S("a\nb"), S("^b"), S(""))), "false");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S(""), S(""))), "true");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("héllo"), S("h.llo"))), "false");   /* C locale: bytes */
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, S("héllo"), S("h..llo"))), "true");
    CHECK_EQ_STR(ev(F2(FN_REGEXP_LIKE, NUL(TYPE_VARCHAR), S("a"))), "NULL");
    CHECK_EQ_STR(ev(F3(FN_REGEXP_LIKE, S("a"), S("a"), NUL(TYPE_VARCHAR))), "NULL");
    CHECK(strstr(build_err(F2(FN_REGEXP_LIKE, S("a"), S("a("))), "invalid REGEXP_LIKE pattern") != NULL);
    CHECK(strstr(build_err(F3(FN_REGEXP_LIKE, S("a"), S("a"), S("x"))), "unknown REGEXP_LIKE flag 'x'") != NULL);
    ex_end();
}

/* regexes from a column: cached while the pattern repeats, NULL when bad;
 * the subject is bounded by its length (no NUL needed) */
TEST(expr_regexp_per_row)
{
    static const SqlType t[2] = {TYPE_VARCHAR, TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 2, t, 0) == 0);
    add_row(&b, "abc", "b");
    add_row(&b, "xyz", "b");
    add_row(&b, "xyz", "(");
    add_row(&b, "xyz", "(");
    add_row(&b, "abc", "^a");
    add_row(&b, NULL, "a");
    add_row(&b, "abc", NULL);
    add_row(&b, "abc", "b");
    /* a subject that is a prefix of longer bytes in the arena: "ab" of "abc" */
    Expr *sub = F3(FN_SUBSTRING, COL(0, TYPE_VARCHAR), I(1), I(2));
    Expr *e = F2(FN_REGEXP_LIKE, COL(0, TYPE_VARCHAR), COL(1, TYPE_VARCHAR));
    CHECK_EQ_STR(ev_batch(e, &b), "true,false,NULL,NULL,true,NULL,NULL,true");
    Expr *anchored = F2(FN_REGEXP_LIKE, sub, S("^ab$"));
    CHECK_EQ_STR(ev_batch(anchored, &b), "true,false,false,false,true,NULL,true,true");
    Expr *sim = F2(FN_SIMILAR, COL(0, TYPE_VARCHAR), COL(1, TYPE_VARCHAR));
    CHECK_EQ_STR(ev_batch(sim, &b), "false,false,NULL,NULL,false,NULL,NULL,false");
    batch_destroy(&b);
    ex_end();
}

/* string kernels on a longer column, through a selection, against a
 * per-row reference computed here */
TEST(expr_str_vectors)
{
    static const SqlType t[1] = {TYPE_VARCHAR};
    ex_begin();
    Batch b;
    REQUIRE(batch_init(&b, 1, t, 0) == 0);
    char want_upper[8192] = "", want_len[4096] = "", buf[64];
    for (int r = 0; r < 300; r++) {
        int len = snprintf(buf, sizeof buf, "row%d-é", r);
        if (r % 7 == 3) add_row(&b, (const char *)NULL);
        else add_row(&b, buf);
        (void)len;
    }
    uint32_t sel[150];
    int      n = 0;
    for (int r = 1; r < 300; r += 2) sel[n++] = (uint32_t)r;
    batch_set_sel(&b, sel, n);
    for (int i = 0; i < n; i++) {
        int r = (int)sel[i];
        if (r % 7 == 3) {
            strcat(want_upper, i ? ",NULL" : "NULL");
            strcat(want_len, i ? ",NULL" : "NULL");
        } else {
            snprintf(buf, sizeof buf, "%sROW%d-é", i ? "," : "", r);
            strcat(want_upper, buf);
            int digits = r < 10 ? 1 : r < 100 ? 2 : 3;
            snprintf(buf, sizeof buf, "%s%d", i ? "," : "", 3 + digits + 2);
            strcat(want_len, buf);
        }
    }
    CHECK_EQ_STR(ev_batch(F1(FN_UPPER, COL(0, TYPE_VARCHAR)), &b), want_upper);
    CHECK_EQ_STR(ev_batch(F1(FN_LENGTH, COL(0, TYPE_VARCHAR)), &b), want_len);
    batch_destroy(&b);
    ex_end();
}

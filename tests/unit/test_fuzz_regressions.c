/*
 * test_fuzz_regressions.c — inputs the fuzzers (tests/fuzz/) found, kept as
 * tests so the behaviour they pinned down stays.
 */
#include <string.h>

#include "exec/batch.h"
#include "runtime/connectors/formats.h"
#include "tests/unit/unit.h"

/* fuzz_json: a NUL byte between tokens. jansson accepts it; JSON has no such
 * whitespace, and the re2c decoder rejects the record (a bad record). */
TEST(fuzz_regression_json_nul_between_tokens)
{
    static const char        in[] = "{\"ts0j0\":17000\0}";
    static const char *const names[] = {"ts", "user_id"};
    static const SqlType     types[] = {TYPE_TIMESTAMP, TYPE_BIGINT};
    Batch                    b;
    REQUIRE(batch_init(&b, 2, types, 1) == 0);
    char why[256] = "";
    CHECK_EQ_INT(json_fast_decode_line(in, sizeof in - 1, 2, names, &b, 0, why, sizeof why), -1);
    CHECK(strstr(why, "NUL") != NULL);
    /* the same without the NUL is a good record with no matching column */
    static const char ok[] = "{\"ts0j0\":17000}";
    batch_reset(&b);
    CHECK_EQ_INT(json_fast_decode_line(ok, sizeof ok - 1, 2, names, &b, 0, why, sizeof why), 0);
    batch_destroy(&b);
}

/* ---- found by tests/cli/bad_input.sh (issue 11's bad-input catalogue) ---------- */

#include "runtime/connectors/conn_internal.h"
#include "tests/unit/test_conn_util.h"

/* conn_utf8_valid: RFC 3629, with the ASCII fast path on both sides of a
 * multi-byte sequence */
TEST(bad_input_utf8_validation)
{
    static const struct { const char *s; int ok; } cases[] = {
        {"", 1}, {"plain ascii, longer than eight bytes", 1}, {"\xc3\xa9t\xc3\xa9", 1},
        {"\xe6\x97\xa5\xe6\x9c\xac", 1}, {"\xf0\x9f\x98\x80 and more ascii text", 1},
        {"\xf4\x8f\xbf\xbf", 1}, {"\xff\xfe", 0}, {"\xc0\xaf", 0} /* overlong */,
        {"\xe0\x80\xaf", 0} /* overlong */, {"\xed\xa0\x80", 0} /* surrogate */,
        {"\xf4\x90\x80\x80", 0} /* > U+10FFFF */, {"abcdefgh\xc3", 0} /* cut short */,
        {"abcdefghijklmnop\x80", 0}, {"\xe6\x97", 0}, {"\xc3\x28", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (conn_utf8_valid(cases[i].s, strlen(cases[i].s)) != cases[i].ok)
            unit_fail(__FILE__, __LINE__, "case %zu: want %d", i, cases[i].ok);
}

/* CSV: a VARCHAR field that is not UTF-8 is a bad record (it used to pass
 * through and reach JSON sinks as invalid JSON text) */
TEST(bad_input_csv_invalid_utf8)
{
    static const SqlType types[] = {TYPE_BIGINT, TYPE_VARCHAR};
    static const int     map[] = {0, 1};
    Batch                b;
    REQUIRE(batch_init(&b, 2, types, 4) == 0);
    CsvParser cp;
    csv_parser_init(&cp, ',');
    char   why[200] = "";
    size_t used = 0;
    static const char bad[] = "1,ab\xff\n", good[] = "2,\xc3\xa9\n";
    REQUIRE(csv_parse_record(&cp, bad, sizeof bad - 1, 1, &used, why, sizeof why) == CSV_RECORD);
    CHECK_EQ_INT(csv_decode_record(&cp, map, &b, 0, why, sizeof why), -1);
    CHECK(strstr(why, "field 2: invalid UTF-8") != NULL);
    REQUIRE(csv_parse_record(&cp, good, sizeof good - 1, 1, &used, why, sizeof why) == CSV_RECORD);
    CHECK_EQ_INT(csv_decode_record(&cp, map, &b, 0, why, sizeof why), 0);
    csv_parser_free(&cp);
    batch_destroy(&b);
}

/* TIMESTAMP from epoch milliseconds: only years 1..9999 (the range of the
 * text form). Beyond, a session window's end overflowed int64 and the row
 * vanished without a word. Both JSON decoders and the CSV path agree. */
TEST(bad_input_timestamp_range)
{
    static const char *const names[] = {"ts"};
    static const SqlType     types[] = {TYPE_TIMESTAMP};
    static const struct { const char *line; int ok; } cases[] = {
        {"{\"ts\":253402300799999}", 1},  {"{\"ts\":253402300800000}", 0},
        {"{\"ts\":-62135596800000}", 1},  {"{\"ts\":-62135596800001}", 0},
        {"{\"ts\":9223372036854775}", 0}, {"{\"ts\":9.0e15}", 0},
        {"{\"ts\":1704067200000.5}", 1},  {"{\"ts\":\"9999-12-31T23:59:59.999Z\"}", 1},
    };
    Batch b;
    REQUIRE(batch_init(&b, 1, types, 1) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char        why[200] = "";
        const char *l = cases[i].line;
        batch_reset(&b);
        int fast = json_fast_decode_line(l, strlen(l), 1, names, &b, 0, why, sizeof why);
        batch_reset(&b);
        int ref = json_decode_line_jansson(l, strlen(l), 1, names, &b, 0, why, sizeof why);
        if ((fast == 0) != cases[i].ok || (ref == 0) != cases[i].ok)
            unit_fail(__FILE__, __LINE__, "%s: fast %d, jansson %d, want ok=%d (%s)", l, fast, ref,
                      cases[i].ok, why);
        if (!cases[i].ok) CHECK(strstr(why, "out of range") != NULL);
    }
    char why[200];
    batch_reset(&b);
    CHECK_EQ_INT(conn_store_text(&b.cols[0], 0, "253402300799999", 15, why, sizeof why), 0);
    CHECK_EQ_INT(conn_store_text(&b.cols[0], 0, "253402300800000", 15, why, sizeof why), -1);
    CHECK(strstr(why, "out of the TIMESTAMP range") != NULL);
    batch_destroy(&b);
}

/* the file source's max-record-size: a longer line is a counted bad record
 * naming the option, the next line is read; a bad value is refused at open */
TEST(bad_input_max_record_size)
{
    char dir[64], path[128];
    tu_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/in.jsonl", dir);
    size_t big = 5000;
    char  *text = malloc(big + 64);
    REQUIRE(text != NULL);
    int k = snprintf(text, big + 64, "{\"s\":\"");
    memset(text + k, 'x', big);
    snprintf(text + k + big, 64, "\"}\n{\"s\":\"y\"}\n");
    tu_write_str(path, text);
    free(text);

    TSpec t;
    tspec_init(&t, "file", "json", "s VARCHAR", "path", path, "max-record-size", "2KB", NULL);
    char    err[256] = "";
    Source *s = source_open(&t.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Rows r = {0};
    CHECK_EQ_INT(tu_drain(s, &t.spec, &r, 3), SOURCE_END);
    SourceStats st;
    source_stats(s, &st);
    CHECK_EQ_INT(r.n, 1);
    if (r.n == 1) CHECK_EQ_STR(r.r[0], "y");
    CHECK_EQ_INT(st.bad_records, 1);
    CHECK(st.nbad_msgs >= 1 && strstr(st.bad_msgs[0], "record longer than 2048 bytes (max-record-size)"));
    rows_free(&r);
    source_close(s);

    /* the default (16 MiB) reads it */
    TSpec t2;
    tspec_init(&t2, "file", "json", "s VARCHAR", "path", path, NULL);
    s = source_open(&t2.spec, err, sizeof err);
    REQUIRE(s != NULL);
    Rows r2 = {0};
    CHECK_EQ_INT(tu_drain(s, &t2.spec, &r2, 3), SOURCE_END);
    CHECK_EQ_INT(r2.n, 2);
    rows_free(&r2);
    source_close(s);

    static const char *const badv[] = {"12", "lots", "2TB", "0", "-5MB", "1.5MB"};
    for (size_t i = 0; i < sizeof badv / sizeof badv[0]; i++) {
        TSpec t3;
        tspec_init(&t3, "file", "json", "s VARCHAR", "path", path, "max-record-size", badv[i], NULL);
        err[0] = 0;
        s = source_open(&t3.spec, err, sizeof err);
        CHECK(s == NULL);
        if (s) source_close(s);
        CHECK(strstr(err, "max-record-size") != NULL);
    }
}

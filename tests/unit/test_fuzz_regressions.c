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

/*
 * test_conn_json_fast.c — the re2c JSON decoder (json_fast.re) against the
 * jansson reference decoder (format_json.c):
 *   - differential: many random valid records (fixed-seed PRNG: random
 *     field order, duplicate and case-variant keys, escaped keys, escapes,
 *     \u and surrogate pairs, raw UTF-8, nesting, numbers at the int64 and
 *     2^53 boundaries, reals, literals, random whitespace) decoded into
 *     random schemas by both decoders: same accept/reject, identical rows,
 *     identical messages (but the reason text of "invalid JSON");
 *   - the same on random mutations of those records (bytes deleted,
 *     inserted, replaced, truncated), which are mostly invalid;
 *   - targeted inputs: truncated, unterminated string, bad escapes, lone
 *     surrogates, invalid UTF-8, control characters, depth 2048/2049, a 1 MB
 *     string (plain and escaped), empty line, CRLF, trailing garbage,
 *     overflowing numbers, NUL in keys, top-level non-objects.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/batch.h"
#include "exec/vector.h"
#include "runtime/connectors/formats.h"
#include "tests/unit/unit.h"

/* ---- PRNG (xorshift64*) -------------------------------------------------------------------- */

static uint64_t rng_state;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}
static int rn(int n) { return (int)(rnd() % (uint64_t)n); }

/* ---- a growable text buffer ---------------------------------------------------------------- */

typedef struct Buf {
    char  *p;
    size_t n, cap;
} Buf;

static void put(Buf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}
static void puts_(Buf *b, const char *s) { put(b, s, strlen(s)); }

static void ws(Buf *b)
{
    static const char *const w[] = {"", "", "", " ", "\t", "\r\n ", "  "};
    puts_(b, w[rn(7)]);
}

/* ---- random JSON --------------------------------------------------------------------------- */

static void gen_string_body(Buf *b)
{
    static const char *const parts[] = {
        "plain", "a b", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9",
        "\\u00E9", "\\u20ac", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\\u0041", "\\u0000",
        "\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\x7f", "2024-01-01T00:00:10.250Z",
        "10 seconds", "x", "'", "{", "[1,2]", ":", ",", "\\u007f", "\\uffff", "\\u0800",
    };
    int k = rn(5);
    for (int i = 0; i < k; i++) puts_(b, parts[rn((int)(sizeof parts / sizeof *parts))]);
}

static void gen_number(Buf *b)
{
    static const char *const nums[] = {
        "0", "-0", "1", "-1", "42", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "99999999999999999999", "9007199254740992", "9007199254740993", "-9007199254740993",
        "1704067200123", "1.5", "-2.5e-3", "1e3", "2.0", "1E2", "1e+2", "0.1", "1e308", "-1e308",
        "1e-320", "4.9e-324", "1e-400", "123456789012345678901234.5", "0.30000000000000004",
        "9.2e15", "1e22", "1e23", "3.14159265358979323846", "-0.0", "0e10", "12345678901234567",
        "1.7976931348623157e308", "9223372036854775807.0", "9223372036854775808.0", "1.25e2",
        "100000000000000000000000000000", "5e-1",
    };
    if (rn(3) == 0) {
        char t[64];
        int64_t v = (int64_t)rnd() >> rn(64);
        snprintf(t, sizeof t, "%lld", (long long)v);
        puts_(b, t);
        if (rn(4) == 0) {
            snprintf(t, sizeof t, ".%d", rn(1000));
            puts_(b, t);
        }
        if (rn(6) == 0) {
            snprintf(t, sizeof t, "e%d", rn(40) - 20);
            puts_(b, t);
        }
        return;
    }
    puts_(b, nums[rn((int)(sizeof nums / sizeof *nums))]);
}

static void gen_value(Buf *b, int depth);

static void gen_key(Buf *b)
{
    static const char *const keys[] = {
        "b", "i", "d", "s", "ts", "iv", "Name", "name", "NAME", "S", "I", "Ts", "TS", "x",
        "extra", "\\u0073", "\\u0054s", "n\\u0061me", "msg", "", "\xc3\xa9",
    };
    puts_(b, "\"");
    puts_(b, keys[rn((int)(sizeof keys / sizeof *keys))]);
    puts_(b, "\"");
}

static void gen_value(Buf *b, int depth)
{
    int k = rn(depth > 3 ? 6 : 8);
    switch (k) {
    case 0:
    case 1:
        puts_(b, "\"");
        gen_string_body(b);
        puts_(b, "\"");
        break;
    case 2:
    case 3: gen_number(b); break;
    case 4: puts_(b, rn(2) ? "true" : "false"); break;
    case 5: puts_(b, "null"); break;
    case 6: {
        puts_(b, "[");
        int m = rn(4);
        for (int i = 0; i < m; i++) {
            if (i) puts_(b, ",");
            ws(b);
            gen_value(b, depth + 1);
            ws(b);
        }
        puts_(b, "]");
        break;
    }
    default: {
        puts_(b, "{");
        int m = rn(4);
        for (int i = 0; i < m; i++) {
            if (i) puts_(b, ",");
            ws(b);
            gen_key(b);
            ws(b);
            puts_(b, ":");
            ws(b);
            gen_value(b, depth + 1);
            ws(b);
        }
        puts_(b, "}");
        break;
    }
    }
}

static void gen_record(Buf *b)
{
    b->n = 0;
    ws(b);
    puts_(b, "{");
    int m = rn(9);
    for (int i = 0; i < m; i++) {
        if (i) puts_(b, ",");
        ws(b);
        gen_key(b);
        ws(b);
        puts_(b, ":");
        ws(b);
        gen_value(b, 1);
        ws(b);
    }
    puts_(b, "}");
    ws(b);
}

/* ---- comparing the two decoders ------------------------------------------------------------ */

#define NCOLS 7
static const char *const col_names[NCOLS] = {"b", "i", "d", "s", "ts", "iv", "name"};

typedef struct Pair {
    Batch   fast, ref;
    SqlType types[NCOLS];
} Pair;

static void pair_init(Pair *p)
{
    for (int c = 0; c < NCOLS; c++) p->types[c] = (SqlType)(TYPE_NULL + rn(7));
    batch_init(&p->fast, NCOLS, p->types, 4);
    batch_init(&p->ref, NCOLS, p->types, 4);
}

static void pair_free(Pair *p)
{
    batch_destroy(&p->fast);
    batch_destroy(&p->ref);
}

static int same_row(const Batch *a, const Batch *b, int row, char *diff, size_t cap)
{
    for (int c = 0; c < a->ncols; c++) {
        const Vector *x = &a->cols[c], *y = &b->cols[c];
        int xn = vector_is_null(x, row), yn = vector_is_null(y, row);
        if (xn != yn) return snprintf(diff, cap, "column %d: null %d vs %d", c, xn, yn), 0;
        if (xn || x->type == TYPE_NULL) continue;
        int same = 1;
        switch (x->type) {
        case TYPE_BOOLEAN: same = vector_bool(x)[row] == vector_bool(y)[row]; break;
        case TYPE_BIGINT:
        case TYPE_TIMESTAMP:
        case TYPE_INTERVAL: same = vector_i64(x)[row] == vector_i64(y)[row]; break;
        case TYPE_DOUBLE: same = memcmp(&vector_f64(x)[row], &vector_f64(y)[row], 8) == 0; break;
        case TYPE_VARCHAR: {
            Str s = vector_str(x)[row], t = vector_str(y)[row];
            same = s.len == t.len && memcmp(s.ptr, t.ptr, s.len) == 0;
            break;
        }
        default: break;
        }
        if (!same) return snprintf(diff, cap, "column %d: values differ", c), 0;
    }
    return 1;
}

static int invalid_json(const char *why) { return strncmp(why, "invalid JSON at column ", 23) == 0; }

/* decode line with both; check they agree. Returns the common rc (0/-1), or
 * 2 after reporting a disagreement. */
static int compare_line(Pair *pp, const char *line, size_t n, int srcline)
{
    char wf[256] = "", wr[256] = "";
    batch_reset(&pp->fast);
    batch_reset(&pp->ref);
    int rf = json_fast_decode_line(line, n, NCOLS, col_names, &pp->fast, 1, wf, sizeof wf);
    int rr = json_decode_line_jansson(line, n, NCOLS, col_names, &pp->ref, 1, wr, sizeof wr);
    char diff[128] = "";
    int  bad = 0;
    if (rf != rr) bad = 1;
    else if (rr == 0 && !same_row(&pp->fast, &pp->ref, 1, diff, sizeof diff)) bad = 1;
    else if (rr != 0 && !(invalid_json(wr) ? invalid_json(wf) : strcmp(wf, wr) == 0)) bad = 1;
    if (bad) {
        char types[64] = "";
        for (int c = 0; c < NCOLS; c++)
            snprintf(types + strlen(types), sizeof types - strlen(types), "%d", (int)pp->types[c]);
        unit_fail(__FILE__, srcline, "decoders differ on '%.*s' (types %s): fast %d '%s', jansson %d '%s' %s",
                  n > 300 ? 300 : (int)n, line, types, rf, wf, rr, wr, diff);
        return 2;
    }
    return rr;
}

TEST(conn_json_fast_differential_random)
{
    rng_state = 0x5eed1234abcdULL;
    Buf b = {0};
    int ok = 0, badrec = 0, fails = 0;
    for (int round = 0; round < 400 && fails < 5; round++) {
        Pair pp;
        pair_init(&pp);
        for (int i = 0; i < 100 && fails < 5; i++) {
            gen_record(&b);
            int rc = compare_line(&pp, b.p, b.n, __LINE__);
            if (rc == 2) fails++;
            else if (rc == 0) ok++;
            else badrec++;
        }
        pair_free(&pp);
    }
    /* the schemas are random, so many records hit a type mismatch; both kinds occur */
    CHECK(ok > 2000);
    CHECK(badrec > 2000);
    free(b.p);
}

TEST(conn_json_fast_differential_mutated)
{
    rng_state = 0xfeedface12345ULL;
    Buf b = {0};
    int fails = 0, invalid = 0;
    static const char junk[] = "{}[]:,\"\\ u0aeE.-+9tfnl\x80\xc3\xed\xf4\xff\x01\t";
    for (int round = 0; round < 200 && fails < 5; round++) {
        Pair pp;
        pair_init(&pp);
        for (int i = 0; i < 100 && fails < 5; i++) {
            gen_record(&b);
            int muts = 1 + rn(3);
            for (int m = 0; m < muts && b.n > 0; m++) {
                size_t at = (size_t)rn((int)b.n);
                char   c = junk[rn((int)sizeof junk - 1)];
                switch (rn(4)) {
                case 0: memmove(b.p + at, b.p + at + 1, b.n - at); b.n--; break;   /* delete */
                case 1:                                                             /* insert */
                    put(&b, "", 0);
                    put(&b, " ", 1);
                    memmove(b.p + at + 1, b.p + at, b.n - at - 1);
                    b.p[at] = c;
                    break;
                case 2: b.p[at] = c; break;   /* replace */
                default: b.n = at; break;      /* truncate */
                }
            }
            int rc = compare_line(&pp, b.p, b.n, __LINE__);
            if (rc == 2) fails++;
            else if (rc != 0) invalid++;
        }
        pair_free(&pp);
    }
    CHECK(invalid > 5000);
    free(b.p);
}

/* both decoders on one line with a fixed schema; expect ok (1) or bad (0) */
static void targeted(const char *line, size_t n, int want_ok, const char *want_why, int srcline)
{
    static const SqlType types[NCOLS] = {TYPE_BOOLEAN,   TYPE_BIGINT,   TYPE_DOUBLE, TYPE_VARCHAR,
                                         TYPE_TIMESTAMP, TYPE_INTERVAL, TYPE_VARCHAR};
    Pair pp;
    memcpy(pp.types, types, sizeof types);
    batch_init(&pp.fast, NCOLS, pp.types, 4);
    batch_init(&pp.ref, NCOLS, pp.types, 4);
    int rc = compare_line(&pp, line, n, srcline);
    if (rc != 2 && (rc == 0) != want_ok)
        unit_fail(__FILE__, srcline, "'%.*s': rc %d, expected %s", n > 100 ? 100 : (int)n, line,
                  rc, want_ok ? "ok" : "a bad record");
    if (rc == -1 && want_why) {
        char why[256];
        batch_reset(&pp.fast);
        json_fast_decode_line(line, n, NCOLS, col_names, &pp.fast, 0, why, sizeof why);
        if (!strstr(why, want_why))
            unit_fail(__FILE__, srcline, "'%.*s': message '%s', expected '%s'",
                      n > 100 ? 100 : (int)n, line, why, want_why);
    }
    batch_destroy(&pp.fast);
    batch_destroy(&pp.ref);
}

#define OK(s) targeted(s, sizeof(s) - 1, 1, NULL, __LINE__)
#define BAD(s, why) targeted(s, sizeof(s) - 1, 0, why, __LINE__)

TEST(conn_json_fast_targeted)
{
    OK("{}");
    OK("  {  }  ");
    OK("{\"s\":\"x\"}\r\n");                         /* CRLF */
    OK("{\"s\":\"x\"}\r");
    OK("\t{\"i\" : 1 ,\n\"s\":\"a\"}\n");
    OK("{\"s\":\"\\ud83d\\ude00 \\u00e9\\u20ac \\\" \\\\ \\/ \\b\\f\\n\\r\\t\"}");
    OK("{\"s\":\"nul\\u0000byte\"}");
    OK("{\"s\":\"raw \xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80 \x7f\"}");
    OK("{\"i\":-9223372036854775808,\"d\":9223372036854775807}");
    OK("{\"i\":1,\"i\":2}");                          /* duplicates: the last wins */
    OK("{\"I\":1,\"i\":2,\"I\":3}");
    OK("{\"NAME\":\"a\",\"Name\":\"b\",\"NAME\":\"c\"}");   /* case-insensitive: first key, last value */
    OK("{\"\\u0073\":\"escaped key\"}");
    OK("{\"extra\":{\"a\":[1,{\"b\":[[],{}]}],\"c\":\"\\u00e9\"},\"i\":5}");
    OK("{\"d\":1e-400,\"x\":-1e-400}");
    OK("{\"d\":99999999999999999999}");              /* int beyond int64 → DOUBLE */
    OK("{\"i\":1e3,\"ts\":1704067200123,\"iv\":1500}");
    OK("{\"ts\":\"2024-01-01T00:00:10.250Z\",\"iv\":\"10 seconds\"}");
    OK("{\"ts\":\"2024\\u002d01-01T00:00:10.250Z\"}");   /* escaped timestamp text */
    OK("{\"i\":null,\"s\":null,\"b\":false}");
    OK("{\"x\":[1, 2, 3], \"y\": {\"z\": 99999999999999999999}, \"d\": 1.5}");

    BAD("", "invalid JSON");                          /* empty line */
    BAD("   ", "invalid JSON");
    BAD("{\"i\":1", "invalid JSON");                  /* truncated */
    BAD("{\"i\":", "invalid JSON");
    BAD("{\"i\"", "invalid JSON");
    BAD("{", "invalid JSON");
    BAD("{\"s\":\"abc}", "invalid JSON");             /* unterminated string */
    BAD("{\"s\":\"a\\x\"}", "invalid JSON");          /* bad escapes */
    BAD("{\"s\":\"a\\u12\"}", "invalid JSON");
    BAD("{\"s\":\"a\\u12G4\"}", "invalid JSON");
    BAD("{\"s\":\"a\\", "invalid JSON");
    BAD("{\"s\":\"\\ud83d\"}", "invalid JSON");       /* lone surrogates */
    BAD("{\"s\":\"\\ude00\"}", "invalid JSON");
    BAD("{\"s\":\"\\ud83d\\ud83d\"}", "invalid JSON");
    BAD("{\"s\":\"\\ud83dx\"}", "invalid JSON");
    BAD("{\"x\":\"\\ud83d\"}", "invalid JSON");       /* also in a field not read */
    BAD("{\"s\":\"\xc3\"}", "invalid JSON");          /* invalid UTF-8: rejected */
    BAD("{\"s\":\"\xc0\x80\"}", "invalid JSON");
    BAD("{\"s\":\"\xed\xa0\x80\"}", "invalid JSON");
    BAD("{\"s\":\"\xf4\x90\x80\x80\"}", "invalid JSON");
    BAD("{\"s\":\"\x80\"}", "invalid JSON");
    BAD("{\"x\":\"\xff\"}", "invalid JSON");
    BAD("{\"s\":\"tab\there\"}", "invalid JSON");     /* raw control character */
    BAD("{\"s\":\"a\0b\"}", "invalid JSON");
    BAD("{\"i\":1}\0", "invalid JSON");
    BAD("{\"i\":1} x", "invalid JSON");               /* trailing garbage */
    BAD("{}{}", "invalid JSON");
    BAD("{\"i\":1,}", "invalid JSON");
    BAD("{,}", "invalid JSON");
    BAD("{\"x\":[1,]}", "invalid JSON");
    BAD("{\"x\":[1 2]}", "invalid JSON");
    BAD("{\"x\":{\"a\" 1}}", "invalid JSON");
    BAD("{\"x\":{1:2}}", "invalid JSON");
    BAD("{\"i\":01}", "invalid JSON");
    BAD("{\"i\":1.}", "invalid JSON");
    BAD("{\"i\":-}", "invalid JSON");
    BAD("{\"i\":+1}", "invalid JSON");
    BAD("{\"i\":.5}", "invalid JSON");
    BAD("{\"i\":1e}", "invalid JSON");
    BAD("{\"d\":1e999}", "invalid JSON");             /* real overflow */
    BAD("{\"x\":[-1e999]}", "invalid JSON");
    BAD("{\"i\":tru}", "invalid JSON");
    BAD("{\"i\":truex}", "invalid JSON");
    BAD("{\"i\":NaN}", "invalid JSON");
    BAD("{\"a\\u0000b\":1}", "invalid JSON");         /* NUL in a key */
    BAD("{\"x\":{\"\\u0000\":1}}", "invalid JSON");
    BAD("5", "invalid JSON");                         /* top level not an object */
    BAD("\"x\"", "invalid JSON");
    BAD("null", "invalid JSON");
    BAD("[1,2]", "expected a JSON object, got an array");
    BAD("[1,2", "invalid JSON");
    BAD("{'i':1}", "invalid JSON");
    BAD("{\"i\":\"x\"}", "field 'i': expected BIGINT, got a string");
    BAD("{\"i\":1.5}", "field 'i': 1.5 is not a BIGINT");
    BAD("{\"i\":99999999999999999999}", "is too large for BIGINT");
    OK("{\"i\":1,\"x\":99999999999999999999}");    /* ints become reals: 1.0 is fine */
    BAD("{\"s\":9007199254740993,\"x\":99999999999999999999}", "too large for VARCHAR");
    BAD("{\"b\":1}", "field 'b': expected BOOLEAN, got an integer");
    BAD("{\"s\":{}}", "field 's': expected VARCHAR, got an object");
    BAD("{\"d\":[1]}", "field 'd': expected DOUBLE, got an array");
    BAD("{\"ts\":\"2024-13-01\"}", "is not a valid TIMESTAMP");
    BAD("{\"ts\":1e300}", "milliseconds is out of range");
    BAD("{\"ts\":9223372036854775807}", "milliseconds is out of range");
    BAD("{\"iv\":\"soon\"}", "is not a valid INTERVAL");
    BAD("{\"i\":\"a\",\"i\":2,\"s\":1}", "field 's'");    /* duplicate fixes i; s is wrong */
}

TEST(conn_json_fast_depth_and_size)
{
    /* nesting: 2048 levels of values are allowed (jansson's limit), 2049 not */
    size_t cap = 3 * 4100 + 64;
    char  *s = malloc(cap);
    for (int depth = 2046; depth <= 2050; depth++) {
        /* {"x": [[...[ 1 ]...]]} : the object is level 1, arrays 2..k+1, the 1 at k+2 */
        int    k = depth - 2;   /* arrays so that the innermost scalar is at level `depth` */
        size_t n = 0;
        n += (size_t)sprintf(s + n, "{\"x\":");
        for (int i = 0; i < k; i++) s[n++] = '[';
        s[n++] = '1';
        for (int i = 0; i < k; i++) s[n++] = ']';
        n += (size_t)sprintf(s + n, ",\"i\":3}");
        targeted(s, n, depth <= 2048, depth <= 2048 ? NULL : "maximum parsing depth", __LINE__);
        /* the same with objects, empty innermost */
        n = 0;
        n += (size_t)sprintf(s + n, "{\"x\":");
        for (int i = 0; i < k; i++) n += (size_t)sprintf(s + n, "{\"a\":");
        s[n++] = '1';
        for (int i = 0; i < k; i++) s[n++] = '}';
        s[n++] = '}';
        targeted(s, n, depth <= 2048, NULL, __LINE__);
        /* top-level arrays */
        n = 0;
        for (int i = 0; i < depth; i++) s[n++] = '[';
        for (int i = 0; i < depth; i++) s[n++] = ']';
        targeted(s, n, 0, depth <= 2048 ? "got an array" : "invalid JSON", __LINE__);
    }
    free(s);

    /* a 1 MB string, plain and with escapes, in a read field and a skipped one */
    size_t big = 1 << 20;
    char  *line = malloc(2 * big + 64);
    for (int esc = 0; esc < 2; esc++) {
        for (int field = 0; field < 2; field++) {
            size_t n = (size_t)sprintf(line, "{\"%s\":\"", field ? "s" : "x");
            for (size_t i = 0; i < big; i++) {
                if (esc && i % 100 == 0) {
                    memcpy(line + n, "\\u00e9", 6);
                    n += 6;
                } else {
                    line[n++] = (char)('a' + i % 26);
                }
            }
            n += (size_t)sprintf(line + n, "\",\"i\":1}");
            targeted(line, n, 1, NULL, __LINE__);
        }
    }
    /* and the value arrives intact */
    static const SqlType t1[1] = {TYPE_VARCHAR};
    static const char *const n1[1] = {"s"};
    Batch b;
    REQUIRE(batch_init(&b, 1, t1, 2) == 0);
    size_t n = (size_t)sprintf(line, "{\"s\":\"");
    for (size_t i = 0; i < big; i++) line[n++] = (char)('a' + i % 26);
    memcpy(line + n, "\\n\"}", 4);
    n += 4;
    char why[200];
    CHECK_EQ_INT(json_fast_decode_line(line, n, 1, n1, &b, 0, why, sizeof why), 0);
    Str v = vector_str(&b.cols[0])[0];
    CHECK_EQ_INT(v.len, big + 1);
    CHECK(v.ptr[0] == 'a' && v.ptr[big - 1] == (char)('a' + (big - 1) % 26) && v.ptr[big] == '\n');
    batch_destroy(&b);
    free(line);
}

TEST(conn_json_fast_many_columns)
{
    /* > 64 columns and a long column name take the heap path */
    enum { NC = 100 };
    SqlType types[NC];
    char    namebuf[NC][400];
    const char *names[NC];
    for (int c = 0; c < NC; c++) {
        types[c] = TYPE_BIGINT;
        if (c == NC - 1) {
            memset(namebuf[c], 'k', 300);
            namebuf[c][300] = '\0';
        } else {
            snprintf(namebuf[c], sizeof namebuf[c], "c%d", c);
        }
        names[c] = namebuf[c];
    }
    Batch f, r;
    REQUIRE(batch_init(&f, NC, types, 2) == 0);
    REQUIRE(batch_init(&r, NC, types, 2) == 0);
    Buf line = {0};
    puts_(&line, "{");
    for (int c = NC - 1; c >= 0; c--) {
        if (c % 3 == 1) continue;   /* some columns missing */
        char t[400];
        snprintf(t, sizeof t, "%s\"%s\":%d", c == NC - 1 ? "" : ",", c == 5 ? "C\\u0035" : names[c], c * 7);
        puts_(&line, t);
    }
    puts_(&line, "}");
    char w1[200], w2[200];
    CHECK_EQ_INT(json_fast_decode_line(line.p, line.n, NC, names, &f, 0, w1, sizeof w1), 0);
    CHECK_EQ_INT(json_decode_line_jansson(line.p, line.n, NC, names, &r, 0, w2, sizeof w2), 0);
    char diff[128];
    CHECK(same_row(&f, &r, 0, diff, sizeof diff));
    CHECK(!vector_is_null(&f.cols[NC - 1], 0) && vector_i64(&f.cols[NC - 1])[0] == (NC - 1) * 7);
    CHECK(!vector_is_null(&f.cols[5], 0) && vector_i64(&f.cols[5])[0] == 35);
    batch_destroy(&f);
    batch_destroy(&r);
    free(line.p);
}

TEST(conn_json_fast_timestamps)
{
    /* the 24-byte ISO fast path against ts_parse (via the jansson decoder):
     * valid and invalid dates, leap years, out-of-range fields, other
     * separators and suffixes, stray characters */
    static const SqlType types[NCOLS] = {TYPE_BOOLEAN,   TYPE_BIGINT,   TYPE_DOUBLE, TYPE_VARCHAR,
                                         TYPE_TIMESTAMP, TYPE_INTERVAL, TYPE_TIMESTAMP};
    static const int years[] = {0, 1, 4, 100, 1600, 1900, 1969, 1970, 2000, 2023, 2024, 2100, 9999};
    Pair pp;
    memcpy(pp.types, types, sizeof types);
    batch_init(&pp.fast, NCOLS, pp.types, 4);
    batch_init(&pp.ref, NCOLS, pp.types, 4);
    rng_state = 0x7157a3bULL;
    int ok = 0, fails = 0;
    for (int i = 0; i < 50000 && fails < 5; i++) {
        char ts[40], line[96];
        int  y = rn(3) ? years[rn(13)] : rn(10000);
        snprintf(ts, sizeof ts, "%04d-%02d-%02d%c%02d:%02d:%02d.%03d%c", y, rn(14), rn(33),
                 "Tt x"[rn(4)], rn(25), rn(61), rn(61), rn(1000), "ZZZz+"[rn(5)]);
        if (rn(10) == 0) ts[rn(24)] = "0123456789-:.T /a"[rn(17)];
        int n = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"name\":\"%s\"}", ts, ts);
        int rc = compare_line(&pp, line, (size_t)n, __LINE__);
        if (rc == 2) fails++;
        else if (rc == 0) ok++;
    }
    CHECK(ok > 5000);
    batch_destroy(&pp.fast);
    batch_destroy(&pp.ref);
}

/*
 * test_parser_errors.c — the parser on bad input: the cases of
 * tests/parser/errors.txt (message and position), the caret rendering of
 * sql_error_format, sql_line_col, sql_is_complete, recovery after a bad
 * statement, and hostile input: every prefix of every valid statement,
 * random bytes and token soup from a fixed-seed generator, every allocation
 * failing in turn, and nesting past the limit. Run it under `make SAN=1` to
 * prove no crash and no leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"
#include "parser/parser.h"
#include "tests/unit/unit.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char  *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *p = realloc(buf, (cap *= 2) + 1);
        if (!p) free(buf);
        buf = p;
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

static SqlParse *parse(const char *sql)
{
    return sql_parse(sql, strlen(sql));
}

/* xorshift64*: the same "random" input on every run */
static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Du;
}

/* Everything a caller may touch in a parse result must be sane. */
static void check_result_sane(const SqlParse *p, const char *text, size_t len)
{
    for (int i = 0; i < p->nstmts; i++) {
        if (!p->stmts[i] || p->stmts[i]->loc < 0 || p->stmt_end[i] > (int)len
            || p->stmt_end[i] <= p->stmts[i]->loc) {
            unit_fail(__FILE__, __LINE__, "bad statement bounds for: %.80s", text);
            return;
        }
        char *s = ast_to_sql(p->stmts[i]);
        char *d = ast_dump(p->stmts[i]);
        if (!s || !d) unit_fail(__FILE__, __LINE__, "print failed");
        free(s);
        free(d);
    }
    for (int i = 0; i < p->nerrors; i++) {
        const SqlError *e = &p->errors[i];
        if (e->loc < -1 || e->loc > (int)len || e->msg[0] == '\0') {
            unit_fail(__FILE__, __LINE__, "bad error (loc %d) for: %.80s", e->loc, text);
            return;
        }
        char buf[1024];
        sql_error_format(text, len, e->loc, e->msg, buf, sizeof buf);
    }
}

/* ---- errors.txt ------------------------------------------------------------------ */

TEST(parser_errors_file)
{
    size_t len;
    char  *data = read_file("tests/parser/errors.txt", &len);
    REQUIRE(data != NULL);
    int   cases = 0;
    char *p = strstr(data, "\n=== ");
    while (p) {
        char *header = p + 5;
        char *sql = strchr(header, '\n');
        if (!sql) break;
        *sql++ = '\0';
        char *next = strstr(sql, "\n=== ");
        char *end = next ? next : data + len;
        /* the SQL ends before the newline that precedes the next header;
         * blank lines and comment lines between cases are not part of it */
        char *sql_end = end;
        while (sql_end > sql && sql_end[-1] == '\n') sql_end--;
        char *hash = sql_end;
        while (1) {   /* drop a trailing "# ..." comment block */
            char *line = hash;
            while (line > sql && line[-1] != '\n') line--;
            if (line == hash || *line != '#' || line == sql) break;
            hash = line;
            while (hash > sql && hash[-1] == '\n') hash--;
        }
        sql_end = hash;
        int  line = 0, col = 0, consumed = 0;
        char what[256];
        if (sscanf(header, "%d:%d %n", &line, &col, &consumed) != 2) {
            unit_fail(__FILE__, __LINE__, "bad header: %s", header);
            break;
        }
        snprintf(what, sizeof what, "%s", header + consumed);
        size_t    sql_len = (size_t)(sql_end - sql);
        SqlParse *r = sql_parse(sql, sql_len);
        cases++;
        if (!r) {
            unit_fail(__FILE__, __LINE__, "out of memory");
        } else if (r->nerrors != 1) {
            unit_fail(__FILE__, __LINE__, "%d errors (want 1) for:\n%.*s%s%s", r->nerrors,
                      (int)sql_len, sql, r->nerrors ? "\n  first: " : "",
                      r->nerrors ? r->errors[0].msg : "");
        } else {
            int el, ec;
            sql_line_col(sql, sql_len, r->errors[0].loc, &el, &ec);
            if (el != line || ec != col || !strstr(r->errors[0].msg, what)) {
                char buf[1024];
                sql_error_format(sql, sql_len, r->errors[0].loc, r->errors[0].msg, buf, sizeof buf);
                unit_fail(__FILE__, __LINE__, "want %d:%d \"%s\", got:\n%s", line, col, what, buf);
            }
        }
        if (r) check_result_sane(r, sql, sql_len);
        sql_parse_free(r);
        p = next;
    }
    CHECK(cases >= 60);
    free(data);
}

/* ---- rendering --------------------------------------------------------------------- */

TEST(parser_error_format_golden)
{
    char   buf[512];
    size_t n;

    const char *sql = "SELECT a,\n       b\n  FORM t";
    n = sql_error_format(sql, strlen(sql), (int)(strstr(sql, "FORM") - sql),
                         "syntax error near 'FORM'", buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 3, column 3: syntax error near 'FORM'\n"
                      "  FORM t\n"
                      "  ^");
    CHECK_EQ_INT(n, strlen(buf));

    /* a tab before the error stays a tab under it */
    const char *tabbed = "SELECT\ta,\t#";
    sql_error_format(tabbed, strlen(tabbed), 10, "unexpected character '#'", buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 1, column 11: unexpected character '#'\n"
                      "SELECT\ta,\t#\n"
                      "      \t  \t^");

    /* multi-byte characters count one column for the caret, bytes for the number */
    const char *utf8 = "SELECT 'é', #";
    sql_error_format(utf8, strlen(utf8), (int)(strchr(utf8, '#') - utf8), "m", buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 1, column 14: m\n"
                      "SELECT 'é', #\n"
                      "            ^");

    /* at the end of the text, on the last line; CRLF line ends */
    const char *crlf = "SELECT 1;\r\nSELECT a FROM\r\n";
    sql_error_format(crlf, strlen(crlf), 24, "syntax error at end of input", buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 2, column 14: syntax error at end of input\n"
                      "SELECT a FROM\n"
                      "             ^");

    /* no position: just the message */
    n = sql_error_format(sql, strlen(sql), -1, "input too large", buf, sizeof buf);
    CHECK_EQ_STR(buf, "input too large");
    CHECK_EQ_INT(n, 15);

    /* truncated to the buffer, always terminated */
    char small[16];
    n = sql_error_format(sql, strlen(sql), 0, "a long message here", small, sizeof small);
    CHECK_EQ_STR(small, "line 1, column ");
    CHECK_EQ_INT(n, 15);
    n = sql_error_format(sql, strlen(sql), 0, "x", small, 0);
    CHECK_EQ_INT(n, 0);

    /* a very long line is shown around the error */
    char longline[400];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "SELECT ", 7);
    longline[300] = '#';
    sql_error_format(longline, sizeof longline, 300, "m", buf, sizeof buf);
    char want[512];
    snprintf(want, sizeof want, "line 1, column 301: m\n...%.120s...\n%64s", longline + 240, "^");
    CHECK_EQ_STR(buf, want);

    /* control characters do not break the source line */
    const char ctl[] = {'S', 'E', 'L', '\r', 'x', '\0', '#'};
    sql_error_format(ctl, sizeof ctl, 6, "m", buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 1, column 7: m\nSEL x #\n      ^");
}

TEST(parser_error_format_from_parse)
{
    const char *sql = "SELECT 1;\nSELECT a,\n\t* FORM t;\nSELECT 2";
    SqlParse   *p = parse(sql);
    REQUIRE(p && p->nerrors == 1);
    CHECK_EQ_INT(p->nstmts, 2);
    char buf[512];
    sql_error_format(sql, strlen(sql), p->errors[0].loc, p->errors[0].msg, buf, sizeof buf);
    CHECK_EQ_STR(buf, "line 3, column 4: syntax error near 'FORM', expected FROM, ',', WHERE, "
                      "GROUP BY, HAVING, LIMIT, ...\n"
                      "\t* FORM t;\n"
                      "\t  ^");
    sql_parse_free(p);
}

TEST(parser_line_col)
{
    const char *t = "ab\ncd\n\nef";
    size_t      n = strlen(t);
    int         l, c;
    static const int want[][3] = {{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3},
                                  {6, 3, 1}, {7, 4, 1}, {9, 4, 3}, {99, 4, 3}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sql_line_col(t, n, want[i][0], &l, &c);
        CHECK_EQ_INT(l, want[i][1]);
        CHECK_EQ_INT(c, want[i][2]);
    }
    sql_line_col(t, n, -1, &l, &c);
    CHECK_EQ_INT(l, 0);
    CHECK_EQ_INT(c, 0);
}

/* ---- sql_is_complete ---------------------------------------------------------------- */

TEST(parser_is_complete)
{
    static const struct {
        const char *text;
        int         complete;
    } cases[] = {
        {"", 0},
        {"   \n", 0},
        {"SELECT 1", 0},
        {"SELECT 1;", 1},
        {"SELECT 1;  \n\t", 1},
        {"SELECT 1; -- done", 1},
        {"SELECT 1; /* done */", 1},
        {"SELECT 1; SELECT", 0},
        {"SELECT 1; SELECT 2;", 1},
        {";", 1},
        {"SELECT 'a;", 0},
        {"SELECT 'a;'", 0},
        {"SELECT 'a;';", 1},
        {"SELECT \"a;", 0},
        {"SELECT \"a;\";", 1},
        {"SELECT `a;", 0},
        {"SELECT 1 /* ; */", 0},
        {"SELECT 1 /* ; ", 0},
        {"SELECT 1; /* unterminated", 0},
        {"SELECT 1 -- ;", 0},
        {"SELECT 1 -- ;\n;", 1},
        {"SELECT 'it''s';", 1},
        {"SELECT # ;", 1},
        {"SELECT 1; #", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = sql_is_complete(cases[i].text, strlen(cases[i].text));
        if (got != cases[i].complete)
            unit_fail(__FILE__, __LINE__, "sql_is_complete(\"%s\") = %d", cases[i].text, got);
    }
    CHECK(!sql_is_complete("SELECT 1;", 8));   /* the length bounds the text */
    CHECK(!sql_is_complete(NULL, 0));
}

/* ---- recovery ---------------------------------------------------------------------- */

TEST(parser_recovery_after_errors)
{
    const char *sql = "SELECT 1;\n"
                      "SELECT FROM;\n"            /* syntax error           */
                      "SELECT 2;\n"
                      "SELECT # 3;\n"             /* lexical error          */
                      "SELECT 4;\n"
                      "SELECT INTERVAL 'x' DAY;\n" /* error from a builder   */
                      "SELECT 5";
    SqlParse *p = parse(sql);
    REQUIRE(p != NULL);
    REQUIRE(p->nstmts == 4);
    REQUIRE(p->nerrors == 3);
    static const int values[] = {1, 2, 4, 5};
    for (int i = 0; i < 4; i++) {
        const AstSelect  *s = AST_AS(const AstSelect, p->stmts[i]);
        const AstNode    *x = AST_AS(const AstSelectItem, s->items.items[0])->expr;
        const AstLiteral *l = AST_AS(const AstLiteral, x);
        CHECK_EQ_INT(l->ival, values[i]);
    }
    int line, col;
    sql_line_col(sql, strlen(sql), p->errors[0].loc, &line, &col);
    CHECK_EQ_INT(line, 2);
    sql_line_col(sql, strlen(sql), p->errors[1].loc, &line, &col);
    CHECK_EQ_INT(line, 4);
    CHECK_EQ_INT(col, 8);
    sql_line_col(sql, strlen(sql), p->errors[2].loc, &line, &col);
    CHECK_EQ_INT(line, 6);
    CHECK(strstr(p->errors[2].msg, "invalid interval value 'x' for DAY") != NULL);
    sql_parse_free(p);

    /* an unterminated string swallows the rest: one error, earlier statements kept */
    p = parse("SELECT 1; SELECT 'abc; SELECT 2;");
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts, 1);
    CHECK_EQ_INT(p->nerrors, 1);
    CHECK_EQ_STR(p->errors[0].msg, "unterminated string literal");
    sql_parse_free(p);

    /* many bad statements: one error each, in order */
    p = parse("x; y; z; SELECT 1; w");
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts, 1);
    REQUIRE(p->nerrors == 4);
    for (int i = 1; i < 4; i++) CHECK(p->errors[i].loc > p->errors[i - 1].loc);
    sql_parse_free(p);
}

/* ---- hostile input -------------------------------------------------------------------- */

TEST(parser_hostile_every_prefix)
{
    size_t len;
    char  *sql = read_file("tests/parser/valid.sql", &len);
    REQUIRE(sql != NULL);
    SqlParse *all = sql_parse(sql, len);
    REQUIRE(all != NULL);
    long parses = 0;
    for (int i = 0; i < all->nstmts; i++) {
        int start = all->stmts[i]->loc, end = all->stmt_end[i];
        for (int cut = start; cut <= end; cut++) {
            size_t    n = (size_t)(cut - start);
            SqlParse *p = sql_parse(sql + start, n);
            if (!p) {
                unit_fail(__FILE__, __LINE__, "out of memory");
                continue;
            }
            parses++;
            check_result_sane(p, sql + start, n);
            CHECK(p->nstmts + p->nerrors <= 1 || n == 0);
            sql_parse_free(p);
        }
    }
    CHECK(parses > 5000);
    sql_parse_free(all);
    free(sql);
}

TEST(parser_hostile_random_bytes)
{
    char buf[256];
    rng_state = 0x9E3779B97F4A7C15u;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rng() % sizeof buf;
        int    printable = iter % 2;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = rng();
            buf[i] = printable ? (char)(" ;'\"`()*+-/<>=!|:,.#$a1eE_\n\t"[r % 29]) : (char)r;
        }
        SqlParse *p = sql_parse(buf, n);
        if (!p) {
            unit_fail(__FILE__, __LINE__, "out of memory");
            continue;
        }
        check_result_sane(p, buf, n);
        sql_parse_free(p);
        (void)sql_is_complete(buf, n);
    }
}

/* Random sequences of real tokens get much deeper into the grammar than bytes. */
TEST(parser_hostile_token_soup)
{
    static const char *const words[] = {
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "LIMIT", "EMIT", "CHANGES", "FINAL",
        "JOIN", "LEFT", "ON", "AS", "a", "b.c", "t", "(", ")", ",", "*", "+", "-", "=", "<>",
        "AND", "OR", "NOT", "IS", "NULL", "IN", "BETWEEN", "LIKE", "ESCAPE", "CASE", "WHEN",
        "THEN", "ELSE", "END", "CAST", "::", "INT", "VARCHAR", "TIMESTAMP", "INTERVAL", "'10'",
        "SECOND", "1", "2.5", "'x'", "TUMBLE", "TABLE", "DESCRIPTOR", "PARTITION", "COUNT",
        "DISTINCT", "FILTER", "EXTRACT", "TRIM", "BOTH", "POSITION", "CREATE", "STREAM",
        "SINK", "VIEW", "WITH", "WATERMARK", "FOR", "INSERT", "INTO", "EXPLAIN", "FORMAT",
        "JSON", "SHOW", "DESCRIBE", "QUERY", "DROP", "IF", "EXISTS", "STOP", "SET", "RESET",
        ";", ".", "||", "/*c*/", "--c\n", "TRUE", "SIMILAR", "TO", "HOP", "SESSION",
    };
    enum { NW = sizeof words / sizeof words[0] };
    char buf[2048];
    rng_state = 12345;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        int    ntok = 1 + (int)(rng() % 40);
        for (int k = 0; k < ntok; k++) {
            const char *w = words[rng() % NW];
            size_t      wl = strlen(w);
            if (n + wl + 2 >= sizeof buf) break;
            memcpy(buf + n, w, wl);
            n += wl;
            buf[n++] = ' ';
        }
        SqlParse *p = sql_parse(buf, n);
        if (!p) {
            unit_fail(__FILE__, __LINE__, "out of memory");
            continue;
        }
        check_result_sane(p, buf, n);
        /* whatever parsed must round-trip too */
        for (int i = 0; i < p->nstmts; i++) {
            char     *s = ast_to_sql(p->stmts[i]);
            SqlParse *q = s ? parse(s) : NULL;
            if (!q || q->nerrors || q->nstmts != 1 || !ast_equal(q->stmts[0], p->stmts[i]))
                unit_fail(__FILE__, __LINE__, "round trip: %.*s -> %s", (int)n, buf, s ? s : "");
            sql_parse_free(q);
            free(s);
        }
        sql_parse_free(p);
    }
}

/* Fail every allocation in turn: sql_parse returns NULL or a complete
 * result, never crashes, never leaks. */
TEST(parser_out_of_memory)
{
    static const char *const sqls[] = {
        "SELECT window_start, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) "
        "WHERE level = 'CRITICAL' AND event IN ('a', 'b', 'c', 'd', 'e', 'f') GROUP BY window_start",
        "CREATE STREAM s (a BIGINT, b VARCHAR, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) "
        "WITH (connector = 'kafka', 'x.y' = 'z'); SELECT FORM; SET a.b = 1",
        "SELECT * FROM a JOIN b ON a.k = b.k WHERE x BETWEEN 1 AND 2 # bad; SELECT 1",
    };
    for (size_t i = 0; i < sizeof sqls / sizeof sqls[0]; i++) {
        SqlParse *ok = parse(sqls[i]);
        REQUIRE(ok != NULL);
        int failures = 0, successes = 0;
        for (long k = 1; k < 100000; k++) {
            sql_test_fail_malloc_after(k);
            SqlParse *p = parse(sqls[i]);
            sql_test_fail_malloc_after(0);
            if (!p) {
                failures++;
                continue;
            }
            /* the countdown ran out before it fired: the parse is complete */
            CHECK_EQ_INT(p->nstmts, ok->nstmts);
            CHECK_EQ_INT(p->nerrors, ok->nerrors);
            for (int s = 0; s < p->nstmts && s < ok->nstmts; s++)
                CHECK(ast_equal(p->stmts[s], ok->stmts[s]));
            sql_parse_free(p);
            successes++;
            break;
        }
        CHECK(failures >= 3);
        CHECK_EQ_INT(successes, 1);
        sql_parse_free(ok);
    }

    /* the printer and dumper report out of memory as NULL */
    SqlParse *p = parse(sqls[0]);
    REQUIRE(p != NULL);
    int nulls = 0;
    for (long k = 1; k < 50; k++) {
        sql_test_fail_malloc_after(k);
        char *s = ast_to_sql(p->stmts[0]);
        sql_test_fail_malloc_after(0);
        if (!s) nulls++;
        free(s);
    }
    CHECK(nulls >= 1);
    sql_parse_free(p);
}

TEST(parser_nesting_limits)
{
    /* just under the limit parses, and prints */
    enum { DEPTH = SQL_MAX_DEPTH - 3 };
    size_t cap = 8 * (size_t)SQL_MAX_DEPTH * 8 + 64;
    char  *buf = malloc(cap);
    REQUIRE(buf != NULL);
    size_t n = (size_t)sprintf(buf, "SELECT ");
    for (int i = 0; i < DEPTH - 1; i++) n += (size_t)sprintf(buf + n, "NOT ");
    n += (size_t)sprintf(buf + n, "a");
    SqlParse *p = sql_parse(buf, n);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nerrors, 0);
    CHECK_EQ_INT(p->nstmts, 1);
    sql_parse_free(p);

    /* a long left-deep chain goes past the limit without deep parser stack */
    n = (size_t)sprintf(buf, "SELECT a");
    for (int i = 0; i < 2 * SQL_MAX_DEPTH; i++) n += (size_t)sprintf(buf + n, " + a");
    p = sql_parse(buf, n);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts, 0);
    REQUIRE(p->nerrors == 1);
    CHECK(strstr(p->errors[0].msg, "nested too deeply") != NULL);
    sql_parse_free(p);

    /* deep parentheses and prefix operators overflow the parser stack */
    static const char *const openers[] = {"(", "-(", "NOT ", "f(", "CASE WHEN "};
    for (size_t o = 0; o < sizeof openers / sizeof openers[0]; o++) {
        n = (size_t)sprintf(buf, "SELECT ");
        for (int i = 0; i < 5 * SQL_MAX_DEPTH && n + 16 < cap; i++)
            n += (size_t)sprintf(buf + n, "%s", openers[o]);
        n += (size_t)sprintf(buf + n, "1; SELECT 2");
        p = sql_parse(buf, n);
        REQUIRE(p != NULL);
        CHECK_EQ_INT(p->nerrors, 1);
        CHECK(strstr(p->errors[0].msg, "nested too deeply") != NULL);
        CHECK_EQ_INT(p->nstmts, 1);   /* the statement after it still parses */
        sql_parse_free(p);
    }
    free(buf);

    /* wide is fine: a long IN list and a long select list */
    size_t wide_cap = 200000;
    char  *wide = malloc(wide_cap);
    REQUIRE(wide != NULL);
    n = (size_t)sprintf(wide, "SELECT a IN (0");
    for (int i = 1; i < 20000; i++) n += (size_t)sprintf(wide + n, ", %d", i);
    n += (size_t)sprintf(wide + n, ")");
    p = sql_parse(wide, n);
    REQUIRE(p != NULL && p->nstmts == 1);
    const AstSelect *s = AST_AS(const AstSelect, p->stmts[0]);
    CHECK_EQ_INT(AST_AS(AstInList, AST_AS(AstSelectItem, s->items.items[0])->expr)->list.n, 20000);
    sql_parse_free(p);
    free(wide);
}

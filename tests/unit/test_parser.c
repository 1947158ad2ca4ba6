/*
 * test_parser.c — the parser on valid input: every statement of
 * tests/parser/valid.sql parses and round-trips through the printer, tree
 * shapes of the statements that matter, golden printer output, keywords as
 * names, the lexer and the keyword table. Errors, positions and hostile input
 * are in test_parser_errors.c.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser/ast_build.h"
#include "parser/grammar.h"
#include "parser/parser.h"
#include "tests/unit/unit.h"

/* ---- helpers ------------------------------------------------------------------ */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char  *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *p = realloc(buf, cap *= 2);
        if (!p) {
            free(buf);
            buf = NULL;
        }
        buf = p;
    }
    fclose(f);
    if (buf) buf[n < cap ? n : cap - 1] = '\0';
    *len = n;
    return buf;
}

static SqlParse *parse(const char *sql)
{
    return sql_parse(sql, strlen(sql));
}

/* dst = src in lower case (ASCII); src shorter than 32 bytes */
static void lower_copy(char dst[32], const char *src)
{
    size_t n = strlen(src);
    if (n > 31) n = 31;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)(src[i] >= 'A' && src[i] <= 'Z' ? src[i] + 32 : src[i]);
    dst[n] = '\0';
}

/* The expression of select item i. */
static const AstNode *item_expr(const AstSelect *s, int i)
{
    return AST_AS(const AstSelectItem, s->items.items[i])->expr;
}

/* The dump of the single statement in sql, or "ERROR: msg". Caller frees. */
static char *dump_of(const char *sql)
{
    SqlParse *p = parse(sql);
    char     *out;
    if (!p) return strdup("OOM");
    if (p->nerrors) {
        out = malloc(strlen(p->errors[0].msg) + 8);
        sprintf(out, "ERROR: %s", p->errors[0].msg);
    } else if (p->nstmts != 1) {
        out = strdup("NOT ONE STATEMENT");
    } else {
        out = ast_dump(p->stmts[0]);
    }
    sql_parse_free(p);
    return out;
}

/* The dump of the first select item of "SELECT <expr>". */
static char *dump_expr(const char *expr)
{
    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT %s", expr);
    SqlParse *p = parse(sql);
    char     *out;
    if (!p || p->nerrors || p->nstmts != 1) {
        out = strdup(p && p->nerrors ? p->errors[0].msg : "bad parse");
    } else {
        const AstSelect *s = AST_AS(const AstSelect, p->stmts[0]);
        out = ast_dump(s->items.items[0]);
    }
    sql_parse_free(p);
    return out;
}

#define CHECK_DUMP(sql, expected)              \
    do {                                       \
        char *d_ = dump_of(sql);               \
        CHECK_EQ_STR(d_, expected);            \
        free(d_);                              \
    } while (0)

#define CHECK_EXPR(expr, expected)             \
    do {                                       \
        char *d_ = dump_expr(expr);            \
        CHECK_EQ_STR(d_, expected);            \
        free(d_);                              \
    } while (0)

/* Round trip one tree: print, reparse, compare; print again, compare text. */
static int roundtrip_ok(const AstNode *stmt, const char *what)
{
    char *s1 = ast_to_sql(stmt);
    if (!s1) {
        unit_fail(__FILE__, __LINE__, "%s: ast_to_sql failed", what);
        return 0;
    }
    SqlParse *q = parse(s1);
    int       ok = q && q->nerrors == 0 && q->nstmts == 1 && ast_equal(stmt, q->stmts[0]);
    if (!ok) {
        unit_fail(__FILE__, __LINE__, "round trip of %s\n  printed: %s\n  reparse: %s", what,
                  s1, q && q->nerrors ? q->errors[0].msg : "different tree");
    } else {
        char *s2 = ast_to_sql(q->stmts[0]);
        if (!s2 || strcmp(s1, s2) != 0) {
            unit_fail(__FILE__, __LINE__, "printer not stable for %s\n  1: %s\n  2: %s", what,
                      s1, s2 ? s2 : "(null)");
            ok = 0;
        }
        free(s2);
    }
    sql_parse_free(q);
    free(s1);
    return ok;
}

/* ---- the valid statements file ------------------------------------------------ */

TEST(parser_valid_file_parses_and_round_trips)
{
    size_t len;
    char  *sql = read_file("tests/parser/valid.sql", &len);
    REQUIRE(sql != NULL);
    SqlParse *p = sql_parse(sql, len);
    REQUIRE(p != NULL);
    for (int i = 0; i < p->nerrors; i++) {
        char buf[1024];
        sql_error_format(sql, len, p->errors[i].loc, p->errors[i].msg, buf, sizeof buf);
        unit_fail(__FILE__, __LINE__, "valid.sql: %s", buf);
    }
    CHECK(p->nstmts >= 150);
    for (int i = 0; i < p->nstmts; i++) {
        const AstNode *st = p->stmts[i];
        int            start = st->loc, end = p->stmt_end[i];
        char           what[160];
        int            line, col;
        sql_line_col(sql, len, start, &line, &col);
        snprintf(what, sizeof what, "valid.sql line %d: %.60s", line, sql + start);
        for (char *c = what; *c; c++)
            if (*c == '\n') *c = ' ';
        CHECK(ast_stmt_name(st) != NULL);
        roundtrip_ok(st, what);

        /* the statement's own text, cut out with loc and stmt_end, is the
         * same statement, and ends where the statement ends */
        REQUIRE(start >= 0 && end > start && (size_t)end <= len);
        CHECK(sql[end] == ';' || sql[end] == ' ' || sql[end] == '\n' || sql[end] == '-'
              || sql[end] == '/' || sql[end] == '\t' || sql[end] == '\0');
        SqlParse *alone = sql_parse(sql + start, (size_t)(end - start));
        if (!alone || alone->nerrors || alone->nstmts != 1 || !ast_equal(alone->stmts[0], st))
            unit_fail(__FILE__, __LINE__, "%s: does not parse alone", what);
        else
            CHECK_EQ_INT(alone->stmt_end[0], end - start);
        sql_parse_free(alone);
    }
    sql_parse_free(p);
    free(sql);
}

TEST(parser_examples_parse)
{
    glob_t g;
    if (glob("examples/*.sql", 0, NULL, &g) != 0) return;   /* no examples yet */
    for (size_t i = 0; i < g.gl_pathc; i++) {
        size_t len;
        char  *sql = read_file(g.gl_pathv[i], &len);
        if (!sql) {
            unit_fail(__FILE__, __LINE__, "cannot read %s", g.gl_pathv[i]);
            continue;
        }
        SqlParse *p = sql_parse(sql, len);
        CHECK(p != NULL);
        for (int k = 0; p && k < p->nerrors; k++) {
            char buf[1024];
            sql_error_format(sql, len, p->errors[k].loc, p->errors[k].msg, buf, sizeof buf);
            unit_fail(__FILE__, __LINE__, "%s: %s", g.gl_pathv[i], buf);
        }
        for (int k = 0; p && k < p->nstmts; k++) roundtrip_ok(p->stmts[k], g.gl_pathv[i]);
        sql_parse_free(p);
        free(sql);
    }
    globfree(&g);
}

/* ---- tree shapes ------------------------------------------------------------------ */

TEST(parser_shape_seed_query)
{
    const char *seed =
        "SELECT window_start, window_end, user_id, COUNT(*) AS crashes\n"
        "FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)\n"
        "WHERE level = 'CRITICAL' AND event = 'crash'\n"
        "GROUP BY window_start, window_end, user_id;";
    CHECK_DUMP(seed,
               "(select window_start window_end user_id (as (call count *) crashes)"
               " (from (tumble (table logs) ts (interval 10000000)))"
               " (where (and (= level 'CRITICAL') (= event 'crash')))"
               " (group-by window_start window_end user_id))");

    SqlParse *p = parse(seed);
    REQUIRE(p && p->nstmts == 1 && IS_A(p->stmts[0], AST_SELECT));
    const AstSelect *s = AST_AS(const AstSelect, p->stmts[0]);
    CHECK_EQ_INT(s->items.n, 4);
    CHECK_EQ_INT(s->limit, -1);
    CHECK_EQ_INT(s->emit, EMIT_DEFAULT);
    REQUIRE(IS_A(s->from, AST_WINDOW_TVF));
    const AstWindowTvf *w = AST_AS(const AstWindowTvf, s->from);
    CHECK_EQ_INT(w->kind, WIN_TUMBLE);
    REQUIRE(IS_A(w->source, AST_TABLE_REF));
    CHECK_EQ_STR(AST_AS(const AstTableRef, w->source)->name, "logs");
    REQUIRE(IS_A(w->timecol, AST_COLUMN_REF));
    CHECK_EQ_STR(AST_AS(const AstColumnRef, w->timecol)->name, "ts");
    REQUIRE(w->args.n == 1 && IS_A(w->args.items[0], AST_LITERAL));
    const AstLiteral *size = AST_AS(const AstLiteral, w->args.items[0]);
    CHECK_EQ_INT(size->kind, LIT_INTERVAL);
    CHECK_EQ_INT(size->ival, 10000000);
    CHECK_EQ_STR(size->text, "10");
    CHECK_EQ_STR(size->unit, "SECOND");
    const AstSelectItem *crashes = AST_AS(const AstSelectItem, s->items.items[3]);
    CHECK_EQ_STR(crashes->alias, "crashes");
    REQUIRE(IS_A(crashes->expr, AST_FUNC));
    CHECK_EQ_STR(AST_AS(const AstFunc, crashes->expr)->name, "count");
    CHECK(AST_AS(const AstFunc, crashes->expr)->star);
    CHECK_EQ_INT(s->group_by.n, 3);
    sql_parse_free(p);
}

TEST(parser_shape_window_tvf_spellings_agree)
{
    const char *pairs[][2] = {
        {"SELECT * FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECONDS))",
         "SELECT * FROM TUMBLE(s, ts, INTERVAL '10' SECONDS)"},
        {"SELECT * FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '1' MINUTE)) AS h",
         "select * from hop(s, ts, interval '5' second, interval '1' minute) h"},
        {"SELECT * FROM TABLE(SESSION(TABLE s, DESCRIPTOR(ts), INTERVAL '5' MINUTES))",
         "SELECT * FROM SESSION(s, ts, INTERVAL '5' MINUTES)"},
        {"SELECT * FROM TABLE(CUMULATE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR))",
         "SELECT * FROM CUMULATE(s, ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR)"},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        SqlParse *a = parse(pairs[i][0]), *b = parse(pairs[i][1]);
        CHECK(a && b && a->nstmts == 1 && b->nstmts == 1);
        if (a && b && a->nstmts == 1 && b->nstmts == 1) CHECK(ast_equal(a->stmts[0], b->stmts[0]));
        sql_parse_free(a);
        sql_parse_free(b);
    }
    /* and they differ from a different window */
    SqlParse *a = parse(pairs[0][1]);
    SqlParse *b = parse("SELECT * FROM TUMBLE(s, ts, INTERVAL '11' SECONDS)");
    CHECK(!ast_equal(a->stmts[0], b->stmts[0]));
    sql_parse_free(a);
    sql_parse_free(b);

    CHECK_DUMP("SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY item, DESCRIPTOR(bidtime), "
               "INTERVAL '5' MINUTES))",
               "(select * (from (session (table bid) bidtime (interval 300000000)"
               " (partition item))))");
    CHECK_DUMP("SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY (item, b.c), DESCRIPTOR(t), "
               "INTERVAL '1' SECOND)) s",
               "(select * (from (session (table bid) t (interval 1000000) (partition item b.c)"
               " (as s))))");
    CHECK_DUMP("SELECT * FROM TUMBLE((SELECT a FROM t), ts, INTERVAL '1' SECOND) w",
               "(select * (from (tumble (subquery (select a (from (table t)))) ts"
               " (interval 1000000) (as w))))");
}

TEST(parser_shape_precedence)
{
    CHECK_EXPR("1 + 2 * 3", "(+ 1 (* 2 3))");
    CHECK_EXPR("(1 + 2) * 3", "(* (+ 1 2) 3)");
    CHECK_EXPR("1 - 2 - 3", "(- (- 1 2) 3)");
    CHECK_EXPR("1 - (2 - 3)", "(- 1 (- 2 3))");
    CHECK_EXPR("a / b % c * d", "(* (% (/ a b) c) d)");
    CHECK_EXPR("a || b + c", "(+ (|| a b) c)");
    CHECK_EXPR("a + b || c", "(|| (+ a b) c)");
    CHECK_EXPR("a || b * c", "(|| a (* b c))");
    CHECK_EXPR("a OR b AND c", "(or a (and b c))");
    CHECK_EXPR("a AND b OR c", "(or (and a b) c)");
    CHECK_EXPR("NOT a AND b", "(and (not a) b)");
    CHECK_EXPR("NOT a = b", "(not (= a b))");
    CHECK_EXPR("NOT NOT a", "(not (not a))");
    CHECK_EXPR("a = b AND c <> d", "(and (= a b) (<> c d))");
    CHECK_EXPR("a != b", "(<> a b)");
    CHECK_EXPR("a < b + 1", "(< a (+ b 1))");
    CHECK_EXPR("a = b = c", "(= (= a b) c)");
    CHECK_EXPR("-a * b", "(* (neg a) b)");
    CHECK_EXPR("-(a * b)", "(neg (* a b))");
    CHECK_EXPR("- -a", "(neg (neg a))");
    CHECK_EXPR("+a", "(pos a)");
    CHECK_EXPR("-5", "-5");
    CHECK_EXPR("- 5", "-5");
    CHECK_EXPR("-(-5)", "(neg -5)");
    CHECK_EXPR("-5 * 2", "(* -5 2)");
    CHECK_EXPR("2 - -5", "(- 2 -5)");
    CHECK_EXPR("-a::int", "(neg (cast a BIGINT))");
    CHECK_EXPR("a::int + 1", "(+ (cast a BIGINT) 1)");
    CHECK_EXPR("a + b::varchar", "(+ a (cast b VARCHAR))");
    CHECK_EXPR("a::int::double", "(cast (cast a BIGINT) DOUBLE)");
    CHECK_EXPR("a IS NULL AND b", "(and (is-null a) b)");
    CHECK_EXPR("a + 1 IS NOT NULL", "(is-not-null (+ a 1))");
    CHECK_EXPR("NOT a IS NULL", "(not (is-null a))");
    CHECK_EXPR("a = b IS NULL", "(is-null (= a b))");
    CHECK_EXPR("a BETWEEN 1 AND 2 AND b", "(and (between a 1 2) b)");
    CHECK_EXPR("a BETWEEN b + 1 AND c * 2", "(between a (+ b 1) (* c 2))");
    CHECK_EXPR("a NOT BETWEEN 1 AND 2", "(not-between a 1 2)");
    CHECK_EXPR("a AND b NOT IN (1, 2)", "(and a (not-in b 1 2))");
    CHECK_EXPR("a + b IN (1)", "(in (+ a b) 1)");
    CHECK_EXPR("a LIKE 'x' || y", "(like a (|| 'x' y))");
    CHECK_EXPR("a NOT LIKE b ESCAPE c || d", "(not-like a b (escape (|| c d)))");
    CHECK_EXPR("a LIKE b AND c", "(and (like a b) c)");
    CHECK_EXPR("a SIMILAR TO b", "(similar a b)");
    CHECK_EXPR("a NOT SIMILAR TO b ESCAPE '!'", "(not-similar a b (escape '!'))");
    CHECK_EXPR("ts - INTERVAL '10' SECOND", "(- ts (interval 10000000))");
    CHECK_EXPR("CASE WHEN a THEN 1 ELSE 2 END + 1",
               "(+ (case (when a 1) (else 2)) 1)");
    CHECK_EXPR("CASE x WHEN 1 THEN 'a' WHEN 2 THEN 'b' END",
               "(case (operand x) (when 1 'a') (when 2 'b'))");
    CHECK_EXPR("CAST(a + 1 AS VARCHAR(10))", "(cast (+ a 1) VARCHAR(10))");
    CHECK_EXPR("count(DISTINCT a) FILTER (WHERE b > 0)",
               "(call count distinct a (filter (> b 0)))");
    CHECK_EXPR("f()", "(call f)");
    CHECK_EXPR("f(a, b + 1)", "(call f a (+ b 1))");
}

TEST(parser_shape_special_calls)
{
    CHECK_EXPR("EXTRACT(HOUR FROM ts)", "(call extract 'HOUR' ts)");
    CHECK_EXPR("extract(day FROM ts)", "(call extract 'DAY' ts)");
    CHECK_EXPR("SUBSTRING(s FROM 2)", "(call substring s 2)");
    CHECK_EXPR("SUBSTRING(s FROM 2 FOR 3)", "(call substring s 2 3)");
    CHECK_EXPR("SUBSTRING(s, 2, 3)", "(call substring s 2 3)");
    CHECK_EXPR("TRIM(s)", "(call trim s)");
    CHECK_EXPR("TRIM(BOTH FROM s)", "(call trim s)");
    CHECK_EXPR("TRIM('x' FROM s)", "(call trim s 'x')");
    CHECK_EXPR("TRIM(BOTH 'x' FROM s)", "(call trim s 'x')");
    CHECK_EXPR("TRIM(LEADING FROM s)", "(call ltrim s)");
    CHECK_EXPR("TRIM(TRAILING 'x' FROM s)", "(call rtrim s 'x')");
    CHECK_EXPR("POSITION('@' IN email)", "(call position '@' email)");
    CHECK_EXPR("POSITION('@' IN lower(email))", "(call position '@' (call lower email))");
    CHECK_EXPR("POSITION('@' IN (a || b))", "(call position '@' (|| a b))");
    CHECK_EXPR("TUMBLE_START(ts, INTERVAL '1' MINUTE)",
               "(call tumble_start ts (interval 60000000))");
    CHECK_EXPR("window.start", "window.start");
    CHECK_EXPR("window.end", "window.end");
    CHECK_EXPR("\"Count\"(x)", "(call count x)");
    CHECK_DUMP("SELECT 1 FROM t GROUP BY window(ts, '10 seconds', '5 seconds'), k",
               "(select 1 (from (table t)) (group-by (call window ts '10 seconds' '5 seconds') k))");
    CHECK_DUMP("SELECT 1 FROM t GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '1' MINUTE)",
               "(select 1 (from (table t)) (group-by (call hop ts (interval 5000000)"
               " (interval 60000000))))");
}

TEST(parser_shape_literals_and_intervals)
{
    static const struct {
        const char *sql;
        int64_t     micros;
        const char *text, *unit;
    } iv[] = {
        {"INTERVAL '10' SECOND", 10000000, "10", "SECOND"},
        {"INTERVAL '10' SECONDS", 10000000, "10", "SECONDS"},
        {"interval '1.5' second", 1500000, "1.5", "SECOND"},
        {"INTERVAL '5' MINUTE", 300000000, "5", "MINUTE"},
        {"INTERVAL '2' HOURS", INT64_C(7200000000), "2", "HOURS"},
        {"INTERVAL '1' DAY", INT64_C(86400000000), "1", "DAY"},
        {"INTERVAL '250' MILLISECOND", 250000, "250", "MILLISECOND"},
        {"INTERVAL '7' MICROSECONDS", 7, "7", "MICROSECONDS"},
        {"INTERVAL '-5' SECOND", -5000000, "-5", "SECOND"},
        {"INTERVAL '+0.000001' SECOND", 1, "+0.000001", "SECOND"},
        {"INTERVAL '0.5' DAY", INT64_C(43200000000), "0.5", "DAY"},
        {"INTERVAL '.25' MINUTE", 15000000, ".25", "MINUTE"},
        {"INTERVAL '3.' HOUR", INT64_C(10800000000), "3.", "HOUR"},
        {"INTERVAL 10 SECOND", 10000000, "10", "SECOND"},
        {"INTERVAL 1.5 MINUTES", 90000000, "1.5", "MINUTES"},
        {"INTERVAL '10 seconds'", 10000000, "10", "SECONDS"},
        {"INTERVAL '2  Hours '", INT64_C(7200000000), "2", "HOURS"},
        {"INTERVAL '106751991' DAY", INT64_C(9223372022400000000), "106751991", "DAY"},
    };
    for (size_t i = 0; i < sizeof iv / sizeof iv[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT %s", iv[i].sql);
        SqlParse *p = parse(sql);
        if (!p || p->nerrors || p->nstmts != 1) {
            unit_fail(__FILE__, __LINE__, "%s: %s", iv[i].sql,
                      p && p->nerrors ? p->errors[0].msg : "no statement");
            sql_parse_free(p);
            continue;
        }
        const AstSelect     *s = AST_AS(const AstSelect, p->stmts[0]);
        const AstSelectItem *it = AST_AS(const AstSelectItem, s->items.items[0]);
        REQUIRE(IS_A(it->expr, AST_LITERAL));
        const AstLiteral *l = AST_AS(const AstLiteral, it->expr);
        CHECK_EQ_INT(l->kind, LIT_INTERVAL);
        CHECK_EQ_INT(l->ival, iv[i].micros);
        CHECK_EQ_STR(l->text, iv[i].text);
        CHECK_EQ_STR(l->unit, iv[i].unit);
        sql_parse_free(p);
    }

    CHECK_EXPR("9223372036854775807", "9223372036854775807");
    CHECK_EXPR("-9223372036854775808", "-9223372036854775808");
    CHECK_EXPR("9223372036854775808", "(double 9223372036854775808)");
    CHECK_EXPR("1.50", "(double 1.50)");
    CHECK_EXPR("-1e3", "(double -1e3)");
    CHECK_EXPR(".5", "(double .5)");
    CHECK_EXPR("'it''s'", "'it''s'");
    CHECK_EXPR("TRUE", "TRUE");
    CHECK_EXPR("null", "NULL");
    CHECK_EXPR("TIMESTAMP '2024-01-01 00:00:00'", "(timestamp '2024-01-01 00:00:00')");

    SqlParse *p = parse("SELECT 1.5e3, 42, 'a''b', '', 00012");
    REQUIRE(p && p->nstmts == 1);
    const AstSelect  *s = AST_AS(const AstSelect, p->stmts[0]);
    const AstLiteral *d = AST_AS(const AstLiteral, item_expr(s, 0));
    CHECK_EQ_INT(d->kind, LIT_DOUBLE);
    CHECK_EQ_DBL(d->dval, 1500.0);
    CHECK_EQ_STR(d->text, "1.5e3");
    const AstLiteral *i = AST_AS(const AstLiteral, item_expr(s, 1));
    CHECK_EQ_INT(i->kind, LIT_INT);
    CHECK_EQ_INT(i->ival, 42);
    CHECK(i->text == NULL);
    const AstLiteral *str = AST_AS(const AstLiteral, item_expr(s, 2));
    CHECK_EQ_INT(str->kind, LIT_STRING);
    CHECK_EQ_STR(str->text, "a'b");
    const AstLiteral *empty = AST_AS(const AstLiteral, item_expr(s, 3));
    CHECK_EQ_STR(empty->text, "");
    const AstLiteral *lead = AST_AS(const AstLiteral, item_expr(s, 4));
    CHECK_EQ_INT(lead->ival, 12);
    sql_parse_free(p);
}

TEST(parser_shape_identifiers)
{
    CHECK_EXPR("UserId", "userid");
    CHECK_EXPR("\"UserId\"", "\"UserId\"");
    CHECK_EXPR("`UserId`", "\"UserId\"");
    CHECK_EXPR("\"a\"\"b\"", "\"a\"\"b\"");
    CHECK_EXPR("`a``b`", "\"a`b\"");
    CHECK_EXPR("Logs.User_ID", "logs.user_id");
    CHECK_EXPR("\"select\"", "\"select\"");
    CHECK_EXPR("a AS \"Total\"", "(as a \"Total\")");
    CHECK_EXPR("a total", "(as a total)");

    SqlParse *p = parse("SELECT \"Mixed Case\".\"Col\", plain FROM \"My Stream\" AS \"S\"");
    REQUIRE(p && p->nstmts == 1);
    const AstSelect    *s = AST_AS(const AstSelect, p->stmts[0]);
    const AstColumnRef *c = AST_AS(const AstColumnRef, item_expr(s, 0));
    CHECK_EQ_STR(c->qualifier, "Mixed Case");
    CHECK_EQ_STR(c->name, "Col");
    const AstTableRef *t = AST_AS(const AstTableRef, s->from);
    CHECK_EQ_STR(t->name, "My Stream");
    CHECK_EQ_STR(t->alias, "S");
    sql_parse_free(p);
}

TEST(parser_shape_keywords_as_names)
{
    /* the names the brief promises, in every role */
    static const char *const names[] = {"level", "event", "key", "value", "window", "start",
                                        "end", "timestamp", "format", "topic", "user",
                                        "source", "query", "text", "second", "filter"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *n = names[i];
        char        sql[512], expect[512];
        snprintf(sql, sizeof sql, "SELECT %s, t.%s, %s AS %s FROM %s t WHERE %s = 1", n, n, n, n,
                 n, n);
        const char *q = sql_ident_needs_quotes(n) ? "\"" : "";
        snprintf(expect, sizeof expect,
                 "(select %s%s%s t.%s%s%s (as %s%s%s %s%s%s) (from (table %s%s%s (as t)))"
                 " (where (= %s%s%s 1)))",
                 q, n, q, q, n, q, q, n, q, q, n, q, q, n, q, q, n, q);
        CHECK_DUMP(sql, expect);
        snprintf(sql, sizeof sql,
                 "CREATE STREAM s (%s BIGINT, WATERMARK FOR %s AS %s) WITH (%s = 'x')", n, n, n, n);
        SqlParse *p = parse(sql);
        CHECK(p && p->nerrors == 0 && p->nstmts == 1);
        if (p && p->nstmts == 1) {
            const AstCreateStream *c = AST_AS(const AstCreateStream, p->stmts[0]);
            CHECK_EQ_STR(AST_AS(AstColumnDef, c->columns.items[0])->name, n);
            CHECK_EQ_STR(c->watermark->column, n);
            CHECK_EQ_STR(AST_AS(AstOption, c->options.items[0])->key, n);
            roundtrip_ok(p->stmts[0], sql);
        }
        sql_parse_free(p);
    }
    /* clause keywords still work right after a place that takes an alias */
    CHECK_DUMP("SELECT a FROM t EMIT CHANGES", "(select a (from (table t)) (emit changes))");
    CHECK_DUMP("SELECT a FROM t AS x EMIT FINAL LIMIT 3",
               "(select a (from (table t (as x))) (limit 3) (emit final))");
    CHECK_DUMP("SELECT a EMIT CHANGES", "(select a (emit changes))");
    CHECK_DUMP("SELECT count(x) FILTER (WHERE y) FROM t",
               "(select (call count x (filter y)) (from (table t)))");
    CHECK_DUMP("SELECT INTERVAL '1' SECOND second", "(select (as (interval 1000000) second))");
    CHECK_DUMP("SELECT CASE WHEN a THEN b END end", "(select (as (case (when a b)) end))");
}

/* Every keyword, quoted, in every place a name is printed; non-reserved ones
 * also bare. The printer must quote exactly enough for the round trip. */
TEST(parser_keywords_in_every_name_position)
{
    static const char *const templates[] = {
        "SELECT %1$s, %1$s.%1$s, %1$s.*, %1$s(%1$s) AS %1$s FROM %1$s AS %1$s",
        "SELECT a FROM %1$s JOIN %1$s AS %1$s ON %1$s.%1$s = %1$s",
        "SELECT * FROM TUMBLE(%1$s, %1$s, INTERVAL '1' SECOND) AS %1$s",
        "SELECT * FROM TABLE(SESSION(TABLE %1$s PARTITION BY %1$s, DESCRIPTOR(%1$s), x))",
        "SELECT CASE %1$s WHEN %1$s THEN %1$s ELSE %1$s END, CAST(%1$s AS INT), %1$s IS NULL",
        "CREATE STREAM %1$s (%1$s BIGINT, WATERMARK FOR %1$s AS %1$s) WITH (%1$s = %1$s)",
        "CREATE STREAM IF NOT EXISTS %1$s (%1$s INT)",
        "CREATE SINK %1$s (%1$s INT) WITH (%1$s.%1$s = 'x')",
        "CREATE VIEW %1$s AS SELECT %1$s FROM %1$s",
        "INSERT INTO %1$s SELECT %1$s FROM %1$s",
        "DESCRIBE %1$s",
        "DROP VIEW %1$s",
        "DROP STREAM IF EXISTS %1$s",
        "STOP QUERY %1$s",
        "DESCRIBE QUERY %1$s",
        "SET %1$s.%1$s = %1$s",
        "RESET %1$s",
    };
    int keywords = 0;
    for (int code = 1; code <= TK_ILLEGAL; code++) {
        const char *kw = sql_keyword_spelling(code);
        if (!kw) continue;
        keywords++;
        char lower[32], quoted[40];
        lower_copy(lower, kw);
        snprintf(quoted, sizeof quoted, "\"%s\"", lower);
        for (size_t t = 0; t < sizeof templates / sizeof templates[0]; t++) {
            char sql[1024];
            snprintf(sql, sizeof sql, templates[t], quoted);
            SqlParse *p = parse(sql);
            if (!p || p->nerrors || p->nstmts != 1) {
                unit_fail(__FILE__, __LINE__, "%s: %s", sql,
                          p && p->nerrors ? p->errors[0].msg : "no statement");
            } else {
                roundtrip_ok(p->stmts[0], sql);
                /* a bare non-reserved keyword means the same as the quoted one
                 * wherever the printer leaves it bare */
                if (!sql_ident_needs_quotes(lower)) {
                    char bare[1024];
                    snprintf(bare, sizeof bare, templates[t], lower);
                    SqlParse *b = parse(bare);
                    if (!b || b->nerrors || b->nstmts != 1 || !ast_equal(b->stmts[0], p->stmts[0]))
                        unit_fail(__FILE__, __LINE__, "bare keyword: %s: %s", bare,
                                  b && b->nerrors ? b->errors[0].msg : "different tree");
                    sql_parse_free(b);
                }
            }
            sql_parse_free(p);
        }
    }
    CHECK(keywords > 90);
}

/* Settings and option keys take any word, reserved or not: checks that the
 * grammar's `reserved` token class lists every reserved keyword. */
TEST(parser_keywords_in_keys)
{
    for (int code = 1; code <= TK_ILLEGAL; code++) {
        const char *kw = sql_keyword_spelling(code);
        if (!kw) continue;
        char lower[32], sql[256], key[128];
        lower_copy(lower, kw);

        snprintf(sql, sizeof sql, "SET %s.x-%s = 1", kw, kw);
        snprintf(key, sizeof key, "%s.x-%s", lower, lower);
        SqlParse *p = parse(sql);
        if (!p || p->nerrors || p->nstmts != 1) {
            unit_fail(__FILE__, __LINE__, "%s: %s", sql, p && p->nerrors ? p->errors[0].msg : "?");
        } else {
            CHECK_EQ_STR(AST_AS(AstSet, p->stmts[0])->key, key);
            roundtrip_ok(p->stmts[0], sql);
        }
        sql_parse_free(p);

        snprintf(sql, sizeof sql, "CREATE SINK k WITH (%s = 'v', a.%s = 'w')", kw, kw);
        snprintf(key, sizeof key, "a.%s", lower);
        p = parse(sql);
        if (!p || p->nerrors || p->nstmts != 1) {
            unit_fail(__FILE__, __LINE__, "%s: %s", sql, p && p->nerrors ? p->errors[0].msg : "?");
        } else {
            const AstCreateSink *s = AST_AS(const AstCreateSink, p->stmts[0]);
            CHECK_EQ_STR(AST_AS(AstOption, s->options.items[0])->key, lower);
            CHECK_EQ_STR(AST_AS(AstOption, s->options.items[1])->key, key);
            roundtrip_ok(p->stmts[0], sql);
        }
        sql_parse_free(p);
    }
}

TEST(parser_shape_statements)
{
    const char *sql =
        "CREATE SOURCE IF NOT EXISTS s (ts TIMESTAMP(3), n BIGINT, v VARCHAR(20), d DOUBLE PRECISION,"
        " WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'kafka', n = 5, neg = -1.5,"
        " b = TRUE, w = Word, 'Quoted.Key' = 'V', a.b-c.d = 'x');"
        "CREATE SINK k WITH (connector = 'stdout');"
        "CREATE VIEW v AS SELECT 1;"
        "INSERT INTO k SELECT * FROM s;"
        "EXPLAIN ANALYZE FORMAT JSON INSERT INTO k SELECT * FROM s;"
        "SHOW SOURCES; SHOW SINKS; SHOW VIEWS; SHOW QUERIES;"
        "DESCRIBE QUERY 'Q7'; DESC s;"
        "DROP TABLE IF EXISTS s; DROP SINK k; DROP VIEW v;"
        "STOP QUERY Q7;"
        "SET; SET a.b = 1; SET x = -2.5; SET y = on_off; SET z = INTERVAL '1' MINUTE; SET 'K' = 'v';"
        "RESET; RESET emit.interval";
    SqlParse *p = parse(sql);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nerrors, 0);
    REQUIRE(p->nstmts == 23);

    const AstCreateStream *cs = AST_AS(const AstCreateStream, p->stmts[0]);
    REQUIRE(IS_A(cs, AST_CREATE_STREAM));
    CHECK_EQ_STR(ast_stmt_name(&cs->hdr), "CREATE SOURCE");
    CHECK_EQ_INT(cs->keyword, STREAM_KW_SOURCE);
    CHECK(cs->if_not_exists);
    CHECK_EQ_STR(cs->name, "s");
    REQUIRE(cs->columns.n == 4);
    const AstColumnDef *c0 = AST_AS(const AstColumnDef, cs->columns.items[0]);
    CHECK_EQ_INT(c0->type.name, AST_TYPE_TIMESTAMP);
    CHECK_EQ_INT(c0->type.param, 3);
    CHECK_EQ_INT(AST_AS(AstColumnDef, cs->columns.items[1])->type.name, AST_TYPE_BIGINT);
    CHECK_EQ_INT(AST_AS(AstColumnDef, cs->columns.items[1])->type.param, -1);
    CHECK_EQ_INT(AST_AS(AstColumnDef, cs->columns.items[2])->type.param, 20);
    CHECK_EQ_INT(AST_AS(AstColumnDef, cs->columns.items[3])->type.name, AST_TYPE_DOUBLE);
    REQUIRE(cs->watermark != NULL);
    CHECK_EQ_STR(cs->watermark->column, "ts");
    CHECK(IS_A(cs->watermark->expr, AST_BINARY));
    static const char *const kv[][2] = {{"connector", "kafka"}, {"n", "5"}, {"neg", "-1.5"},
                                        {"b", "true"}, {"w", "word"}, {"Quoted.Key", "V"},
                                        {"a.b-c.d", "x"}};
    REQUIRE(cs->options.n == 7);
    for (int i = 0; i < 7; i++) {
        const AstOption *o = AST_AS(const AstOption, cs->options.items[i]);
        CHECK_EQ_STR(o->key, kv[i][0]);
        CHECK_EQ_STR(o->value, kv[i][1]);
        CHECK(o->value_loc > o->hdr.loc);
    }
    const AstOption *neg = AST_AS(const AstOption, cs->options.items[2]);
    CHECK_EQ_INT(neg->hdr.loc, (int)(strstr(sql, "neg =") - sql));
    CHECK_EQ_INT(neg->value_loc, (int)(strstr(sql, "-1.5") - sql));

    const AstCreateSink *sk = AST_AS(const AstCreateSink, p->stmts[1]);
    CHECK_EQ_STR(ast_stmt_name(p->stmts[1]), "CREATE SINK");
    CHECK_EQ_INT(sk->columns.n, 0);
    CHECK_EQ_INT(sk->options.n, 1);
    CHECK(IS_A(AST_AS(AstCreateView, p->stmts[2])->query, AST_SELECT));
    CHECK_EQ_STR(AST_AS(AstInsert, p->stmts[3])->target, "k");
    const AstExplain *ex = AST_AS(const AstExplain, p->stmts[4]);
    CHECK(ex->analyze && ex->json && IS_A(ex->stmt, AST_INSERT));
    CHECK_EQ_INT(AST_AS(AstShow, p->stmts[5])->what, OBJ_STREAM);
    CHECK_EQ_INT(AST_AS(AstShow, p->stmts[6])->what, OBJ_SINK);
    CHECK_EQ_INT(AST_AS(AstShow, p->stmts[7])->what, OBJ_VIEW);
    CHECK_EQ_INT(AST_AS(AstShow, p->stmts[8])->what, OBJ_QUERY);
    const AstDescribe *dq = AST_AS(const AstDescribe, p->stmts[9]);
    CHECK(dq->query);
    CHECK_EQ_STR(dq->name, "Q7");
    CHECK(!AST_AS(AstDescribe, p->stmts[10])->query);
    const AstDrop *dr = AST_AS(const AstDrop, p->stmts[11]);
    CHECK_EQ_INT(dr->what, OBJ_STREAM);
    CHECK(dr->if_exists);
    CHECK_EQ_INT(AST_AS(AstDrop, p->stmts[12])->what, OBJ_SINK);
    CHECK_EQ_INT(AST_AS(AstDrop, p->stmts[13])->what, OBJ_VIEW);
    CHECK_EQ_STR(ast_stmt_name(p->stmts[12]), "DROP SINK");
    CHECK_EQ_STR(AST_AS(AstStopQuery, p->stmts[14])->id, "q7");

    const AstSet *s0 = AST_AS(const AstSet, p->stmts[15]);
    CHECK(s0->key == NULL && s0->value == NULL);
    const AstSet *s1 = AST_AS(const AstSet, p->stmts[16]);
    CHECK_EQ_STR(s1->key, "a.b");
    CHECK_EQ_INT(s1->value->kind, LIT_INT);
    CHECK_EQ_INT(s1->value->ival, 1);
    const AstSet *s2 = AST_AS(const AstSet, p->stmts[17]);
    CHECK_EQ_INT(s2->value->kind, LIT_DOUBLE);
    CHECK_EQ_DBL(s2->value->dval, -2.5);
    const AstSet *s3 = AST_AS(const AstSet, p->stmts[18]);
    CHECK_EQ_INT(s3->value->kind, LIT_STRING);
    CHECK_EQ_STR(s3->value->text, "on_off");
    const AstSet *s4 = AST_AS(const AstSet, p->stmts[19]);
    CHECK_EQ_INT(s4->value->kind, LIT_INTERVAL);
    CHECK_EQ_INT(s4->value->ival, 60000000);
    CHECK_EQ_STR(AST_AS(AstSet, p->stmts[20])->key, "K");
    CHECK(AST_AS(AstReset, p->stmts[21])->key == NULL);
    CHECK_EQ_STR(AST_AS(AstReset, p->stmts[22])->key, "emit.interval");
    sql_parse_free(p);

    CHECK_DUMP("SELECT a FROM t LIMIT 5 EMIT CHANGES", "(select a (from (table t)) (limit 5) (emit changes))");
    CHECK_DUMP("SELECT a FROM t EMIT CHANGES LIMIT 5", "(select a (from (table t)) (limit 5) (emit changes))");
    CHECK_DUMP("SELECT * FROM a, b", "(select * (from (cross-join (table a) (table b))))");
    CHECK_DUMP("SELECT * FROM a CROSS JOIN b", "(select * (from (cross-join (table a) (table b))))");
    CHECK_DUMP("SELECT * FROM a LEFT OUTER JOIN b ON x JOIN c ON y",
               "(select * (from (join (left-join (table a) (table b) (on x)) (table c) (on y))))");
    CHECK_DUMP("SELECT * FROM a JOIN (b FULL JOIN c ON y) ON x",
               "(select * (from (join (table a) (full-join (table b) (table c) (on y)) (on x))))");
    CHECK_DUMP("SELECT * FROM a RIGHT JOIN b ON x",
               "(select * (from (right-join (table a) (table b) (on x))))");
    CHECK_DUMP("SELECT x FROM (SELECT 1 x) s",
               "(select x (from (subquery (select (as 1 x)) (as s))))");
    CHECK_DUMP("SELECT DISTINCT a, t.* FROM t", "(select distinct a t.* (from (table t)))");
}

TEST(parser_locations)
{
    const char *sql = "  SELECT a + b AS s\n  FROM t x WHERE f(y) IS NULL ;\n\n-- c\n SHOW STREAMS";
    SqlParse   *p = parse(sql);
    REQUIRE(p && p->nstmts == 2 && p->nerrors == 0);
    const AstSelect *s = AST_AS(const AstSelect, p->stmts[0]);
    CHECK_EQ_INT(s->hdr.loc, 2);
    CHECK_EQ_INT(p->stmt_end[0], (int)(strstr(sql, " ;") - sql));
    const AstSelectItem *it = AST_AS(const AstSelectItem, s->items.items[0]);
    CHECK_EQ_INT(it->expr->loc, (int)(strchr(sql, '+') - sql));   /* an operator: at the operator */
    const AstBinary *plus = AST_AS(const AstBinary, it->expr);
    CHECK_EQ_INT(plus->left->loc, (int)(strchr(sql, 'a') - sql));
    CHECK_EQ_INT(plus->right->loc, (int)(strchr(sql, 'b') - sql));
    CHECK_EQ_INT(s->from->loc, (int)(strstr(sql, "t x") - sql));
    const AstIsNull *isn = AST_AS(const AstIsNull, s->where);
    CHECK_EQ_INT(isn->hdr.loc, (int)(strstr(sql, "IS") - sql));
    CHECK_EQ_INT(isn->arg->loc, (int)(strstr(sql, "f(y)") - sql));
    CHECK_EQ_INT(p->stmts[1]->loc, (int)(strstr(sql, "SHOW") - sql));
    CHECK_EQ_INT(p->stmt_end[1], (int)strlen(sql));
    sql_parse_free(p);

    /* the input need not be NUL-terminated: parse a prefix of a buffer */
    const char *buf = "SELECT 1;SELECT 2 garbage";
    p = sql_parse(buf, 17);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts, 2);
    CHECK_EQ_INT(p->nerrors, 0);
    CHECK_EQ_INT(p->stmt_end[1], 17);
    sql_parse_free(p);

    p = sql_parse(NULL, 0);
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts + p->nerrors, 0);
    sql_parse_free(p);
    p = parse(" ;; -- nothing\n ; /* */ ");
    REQUIRE(p != NULL);
    CHECK_EQ_INT(p->nstmts + p->nerrors, 0);
    sql_parse_free(p);
}

/* ---- the printer ------------------------------------------------------------------ */

TEST(parser_printer_golden)
{
    static const char *const cases[][2] = {
        {"select a,b from t where x=1 and y<>2 group by a having count(*)>1 limit 10 emit changes",
         "SELECT a, b FROM t WHERE x = 1 AND y <> 2 GROUP BY a HAVING count(*) > 1 LIMIT 10 EMIT CHANGES"},
        {"SELECT (a + b) * c, a + (b * c), (a - b) - c, a - (b - c), -(a + b), - -a, -(-5), - 5",
         "SELECT (a + b) * c, a + b * c, a - b - c, a - (b - c), -(a + b), -(-a), -(-5), -5"},
        {"SELECT NOT (a AND b), NOT a AND b, (a OR b) AND c, a OR (b AND c), (a = b) = c, a = (b = c)",
         "SELECT NOT (a AND b), NOT a AND b, (a OR b) AND c, a OR b AND c, (a = b) = c, a = (b = c)"},
        {"SELECT x::int, CAST(y AS double precision), z::varchar(5), a != b, 'it''s'",
         "SELECT CAST(x AS BIGINT), CAST(y AS DOUBLE), CAST(z AS VARCHAR(5)), a <> b, 'it''s'"},
        {"SELECT \"Weird Name\", \"select\", `ok`, \"MiXed\".x, timestamp, \"interval\" FROM \"T\"",
         "SELECT \"Weird Name\", \"select\", ok, \"MiXed\".x, \"timestamp\", \"interval\" FROM \"T\""},
        {"SELECT * FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECONDS)) w",
         "SELECT * FROM TUMBLE(s, ts, INTERVAL '10' SECONDS) AS w"},
        {"SELECT * FROM TABLE(SESSION(TABLE s PARTITION BY k, DESCRIPTOR(ts), INTERVAL '1' MINUTE))",
         "SELECT * FROM TABLE(SESSION(TABLE s PARTITION BY (k), DESCRIPTOR(ts), INTERVAL '1' MINUTE))"},
        {"SELECT * FROM a, b JOIN c ON x LEFT OUTER JOIN (d JOIN e ON y) ON z",
         "SELECT * FROM a CROSS JOIN b JOIN c ON x LEFT JOIN (d JOIN e ON y) ON z"},
        {"create stream s (ts timestamp(3), v string, watermark for ts as ts - interval '5' second)"
         " with (connector='kafka', 'properties.bootstrap.servers'='h:9092', scan.startup.mode='x')",
         "CREATE STREAM s (ts TIMESTAMP(3), v VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND)"
         " WITH (connector = 'kafka', properties.bootstrap.servers = 'h:9092',"
         " scan.startup.mode = 'x')"},
        {"SET 'checkpoint.interval' = '5s'", "SET checkpoint.interval = '5s'"},
        {"SET 'Odd Key' = 1", "SET 'Odd Key' = 1"},
        {"RESET 'trailing.'", "RESET 'trailing.'"},
        {"RESET WATERMARK.Idle-Timeout", "RESET watermark.idle-timeout"},
        {"set parallelism=4", "SET parallelism = 4"},
        {"SET mode = Fast", "SET mode = 'fast'"},
        {"set 'state.ttl' = interval '2' hours", "SET state.ttl = INTERVAL '2' HOURS"},
        {"SELECT INTERVAL '10 seconds', INTERVAL 5 MINUTE, EXTRACT(hour FROM ts), TRIM(LEADING 'x' FROM s)",
         "SELECT INTERVAL '10' SECONDS, INTERVAL '5' MINUTE, extract('HOUR', ts), ltrim(s, 'x')"},
        {"SELECT a FROM t WHERE a NOT BETWEEN 1 AND 2 AND b NOT IN (1,2) AND c NOT LIKE 'x' ESCAPE '!'"
         " AND d IS NOT NULL AND e SIMILAR TO 'y'",
         "SELECT a FROM t WHERE a NOT BETWEEN 1 AND 2 AND b NOT IN (1, 2) AND c NOT LIKE 'x' ESCAPE '!'"
         " AND d IS NOT NULL AND e SIMILAR TO 'y'"},
        {"SELECT CASE WHEN a THEN 'x' END, count(DISTINCT u) FILTER (WHERE ok), count(*)",
         "SELECT CASE WHEN a THEN 'x' END, count(DISTINCT u) FILTER (WHERE ok), count(*)"},
        {"explain analyze format json insert into k select 1", "EXPLAIN ANALYZE FORMAT JSON INSERT INTO k SELECT 1"},
        {"show tables", "SHOW STREAMS"},
        {"desc s", "DESCRIBE s"},
        {"stop query 'Q-1'", "STOP QUERY 'Q-1'"},
        {"drop source if exists s", "DROP STREAM IF EXISTS s"},
        {"create table t (a int) with (connector = 'x')", "CREATE TABLE t (a BIGINT) WITH (connector = 'x')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SqlParse *p = parse(cases[i][0]);
        if (!p || p->nerrors || p->nstmts != 1) {
            unit_fail(__FILE__, __LINE__, "%s: %s", cases[i][0],
                      p && p->nerrors ? p->errors[0].msg : "no statement");
            sql_parse_free(p);
            continue;
        }
        char *s = ast_to_sql(p->stmts[0]);
        CHECK_EQ_STR(s, cases[i][1]);
        roundtrip_ok(p->stmts[0], cases[i][0]);
        free(s);
        sql_parse_free(p);
    }
}

TEST(parser_printer_expressions_and_pieces)
{
    SqlParse *p = parse("SELECT a + 1 AS x FROM t JOIN u ON t.k = u.k WHERE a LIKE 'x%'");
    REQUIRE(p && p->nstmts == 1);
    const AstSelect *s = AST_AS(const AstSelect, p->stmts[0]);
    char *item = ast_to_sql(s->items.items[0]);
    char *from = ast_to_sql(s->from);
    char *where = ast_to_sql(s->where);
    CHECK_EQ_STR(item, "a + 1 AS x");
    CHECK_EQ_STR(from, "t JOIN u ON t.k = u.k");
    CHECK_EQ_STR(where, "a LIKE 'x%'");
    free(item);
    free(from);
    free(where);
    CHECK(ast_stmt_name(s->where) == NULL);
    CHECK(ast_stmt_name(NULL) == NULL);
    sql_parse_free(p);

    char *null_sql = ast_to_sql(NULL);
    CHECK_EQ_STR(null_sql, "");
    free(null_sql);
    CHECK_EQ_STR(ast_type_name(AST_TYPE_BOOLEAN), "BOOLEAN");
    CHECK_EQ_STR(ast_type_name(AST_TYPE_BIGINT), "BIGINT");
    CHECK_EQ_STR(ast_type_name(AST_TYPE_DOUBLE), "DOUBLE");
    CHECK_EQ_STR(ast_type_name(AST_TYPE_VARCHAR), "VARCHAR");
    CHECK_EQ_STR(ast_type_name(AST_TYPE_TIMESTAMP), "TIMESTAMP");
    CHECK_EQ_STR(ast_type_name(AST_TYPE_INTERVAL), "INTERVAL");
}

TEST(parser_ast_equal)
{
    static const char *const same[][2] = {
        {"SELECT a FROM t", "select  A  from  T"},
        {"SELECT a::int", "SELECT CAST(a AS INTEGER)"},
        {"SELECT a <> b", "SELECT a != b"},
        {"SELECT * FROM a, b", "SELECT * FROM a CROSS JOIN b"},
        {"SELECT x FROM t LIMIT 1 EMIT FINAL", "SELECT x FROM t EMIT FINAL LIMIT 1"},
        {"SELECT ((a))", "SELECT a"},
        {"SELECT \"a\"", "SELECT a"},
        {"SHOW TABLES", "SHOW STREAMS"},
        {"SELECT POSITION(a IN (b))", "SELECT position(a, b)"},
    };
    static const char *const different[][2] = {
        {"SELECT a FROM t", "SELECT b FROM t"},
        {"SELECT \"A\"", "SELECT a"},
        {"SELECT 1", "SELECT 1.0"},
        {"SELECT 1.0", "SELECT 1.00"},
        {"SELECT a + b", "SELECT a - b"},
        {"SELECT a FROM t", "SELECT a FROM t LIMIT 1"},
        {"SELECT a FROM t", "SELECT a FROM t EMIT CHANGES"},
        {"SELECT DISTINCT a", "SELECT a"},
        {"SELECT count(a)", "SELECT count(DISTINCT a)"},
        {"SELECT INTERVAL '1' SECOND", "SELECT INTERVAL '1' SECONDS"},
        {"SELECT INTERVAL '60' SECOND", "SELECT INTERVAL '1' MINUTE"},
        {"CREATE STREAM s (a INT)", "CREATE SOURCE s (a INT)"},
        {"CREATE STREAM s (a INT)", "CREATE STREAM s (a VARCHAR)"},
        {"SELECT * FROM a JOIN b ON x", "SELECT * FROM a LEFT JOIN b ON x"},
        {"SELECT a IS NULL", "SELECT a IS NOT NULL"},
        {"SELECT a AS x", "SELECT a"},
        {"SELECT 1 + 2 * 3", "SELECT (1 + 2) * 3"},
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        SqlParse *a = parse(same[i][0]), *b = parse(same[i][1]);
        REQUIRE(a && b && a->nstmts == 1 && b->nstmts == 1);
        if (!ast_equal(a->stmts[0], b->stmts[0]))
            unit_fail(__FILE__, __LINE__, "should be equal: %s | %s", same[i][0], same[i][1]);
        sql_parse_free(a);
        sql_parse_free(b);
    }
    for (size_t i = 0; i < sizeof different / sizeof different[0]; i++) {
        SqlParse *a = parse(different[i][0]), *b = parse(different[i][1]);
        REQUIRE(a && b && a->nstmts == 1 && b->nstmts == 1);
        if (ast_equal(a->stmts[0], b->stmts[0]))
            unit_fail(__FILE__, __LINE__, "should differ: %s | %s", different[i][0],
                      different[i][1]);
        sql_parse_free(a);
        sql_parse_free(b);
    }
    CHECK(ast_equal(NULL, NULL));
}

/* ---- lexer and keyword table ---------------------------------------------------- */

TEST(parser_lexer_tokens)
{
    static const struct {
        const char *text;
        int         code, len;
        LexError    err;
    } cases[] = {
        {"select x", TK_SELECT, 6, LEX_OK},
        {"SeLeCt", TK_SELECT, 6, LEX_OK},
        {"selects", TK_ID, 7, LEX_OK},
        {"_a1$", TK_ID, 4, LEX_OK},
        {"naïve", TK_ID, 6, LEX_OK},
        {"\"a\"\"b\" x", TK_ID, 6, LEX_OK},
        {"`a``b` x", TK_ID, 6, LEX_OK},
        {"'a''b' x", TK_STRING, 6, LEX_OK},
        {"'a;b--c'", TK_STRING, 8, LEX_OK},
        {"123 ", TK_INTEGER, 3, LEX_OK},
        {"1.5e-3 ", TK_FLOAT, 6, LEX_OK},
        {"1. ", TK_FLOAT, 2, LEX_OK},
        {".5)", TK_FLOAT, 2, LEX_OK},
        {"1E10", TK_FLOAT, 4, LEX_OK},
        {"5s", TK_ILLEGAL, 2, LEX_BAD_NUMBER},
        {"1e", TK_ILLEGAL, 2, LEX_BAD_NUMBER},
        {"1.5x", TK_ILLEGAL, 4, LEX_BAD_NUMBER},
        {"||x", TK_CONCAT, 2, LEX_OK},
        {"::x", TK_DCOLON, 2, LEX_OK},
        {"<>", TK_NE, 2, LEX_OK},
        {"!=", TK_NE, 2, LEX_OK},
        {"<=", TK_LE, 2, LEX_OK},
        {">=", TK_GE, 2, LEX_OK},
        {"< =", TK_LT, 1, LEX_OK},
        {"%", TK_REM, 1, LEX_OK},
        {";", TK_SEMI, 1, LEX_OK},
        {"  \t\r\n\f\vx", TK_SPACE, 7, LEX_OK},
        {"-- c\nx", TK_SPACE, 4, LEX_OK},
        {"--", TK_SPACE, 2, LEX_OK},
        {"/* a * / b **/x", TK_SPACE, 14, LEX_OK},
        {"/**/", TK_SPACE, 4, LEX_OK},
        {"/* open", TK_ILLEGAL, 7, LEX_UNTERMINATED_COMMENT},
        {"/* open *", TK_ILLEGAL, 9, LEX_UNTERMINATED_COMMENT},
        {"'open", TK_ILLEGAL, 5, LEX_UNTERMINATED_STRING},
        {"'open''", TK_ILLEGAL, 7, LEX_UNTERMINATED_STRING},
        {"\"open", TK_ILLEGAL, 5, LEX_UNTERMINATED_IDENT},
        {"`open", TK_ILLEGAL, 5, LEX_UNTERMINATED_IDENT},
        {"\"\"", TK_ILLEGAL, 2, LEX_EMPTY_IDENT},
        {"#", TK_ILLEGAL, 1, LEX_BAD_CHAR},
        {"|", TK_ILLEGAL, 1, LEX_BAD_CHAR},
        {"!", TK_ILLEGAL, 1, LEX_BAD_CHAR},
        {":", TK_ILLEGAL, 1, LEX_BAD_CHAR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *t = cases[i].text;
        int         len = -1;
        LexError    err;
        int         code = sql_lex(t, t + strlen(t), &len, &err);
        if (code != cases[i].code || len != cases[i].len || err != cases[i].err)
            unit_fail(__FILE__, __LINE__, "lex \"%s\": code %d len %d err %d, want %d %d %d", t,
                      code, len, err, cases[i].code, cases[i].len, cases[i].err);
    }
    /* NUL bytes: a stray character inside the text, the end at the bound */
    const char nul[] = {'a', '\0', 'b'};
    int        len;
    LexError   err;
    CHECK_EQ_INT(sql_lex(nul, nul + 3, &len, &err), TK_ID);
    CHECK_EQ_INT(len, 1);
    CHECK_EQ_INT(sql_lex(nul + 1, nul + 3, &len, &err), TK_ILLEGAL);
    CHECK_EQ_INT(err, LEX_BAD_CHAR);
    CHECK_EQ_INT(sql_lex(nul + 3, nul + 3, &len, &err), 0);
    CHECK_EQ_INT(len, 0);
    const char str_nul[] = {'\'', 'a', '\0', '\''};
    CHECK_EQ_INT(sql_lex(str_nul, str_nul + 4, &len, &err), TK_STRING);
    CHECK_EQ_INT(len, 4);
    CHECK_EQ_INT(sql_lex(str_nul, str_nul + 3, &len, &err), TK_ILLEGAL);   /* cut by the bound */
    CHECK_EQ_INT(len, 3);
    CHECK_EQ_INT(err, LEX_UNTERMINATED_STRING);
}

TEST(parser_keyword_table)
{
    /* every terminal that is not a punctuation mark or a literal class has
     * a spelling, and the lexer maps that spelling, in any case, back to it */
    int non_keywords[] = {TK_ID,     TK_STRING, TK_INTEGER, TK_FLOAT, TK_COMMA, TK_RP,
                          TK_LP,     TK_EQ,     TK_DOT,     TK_NE,    TK_LT,    TK_LE,
                          TK_GT,     TK_GE,     TK_CONCAT,  TK_PLUS,  TK_MINUS, TK_STAR,
                          TK_SLASH,  TK_REM,    TK_DCOLON,  TK_SEMI,  TK_SPACE, TK_ILLEGAL};
    for (int code = 1; code <= TK_ILLEGAL; code++) {
        int is_kw = 1;
        for (size_t i = 0; i < sizeof non_keywords / sizeof non_keywords[0]; i++)
            if (non_keywords[i] == code) is_kw = 0;
        const char *kw = sql_keyword_spelling(code);
        if (!is_kw) {
            CHECK(kw == NULL);
            continue;
        }
        if (!kw) {
            unit_fail(__FILE__, __LINE__, "token %d has no keyword spelling", code);
            continue;
        }
        char   lower[32];
        size_t n = strlen(kw);
        lower_copy(lower, kw);
        int      len;
        LexError err;
        CHECK_EQ_INT(sql_lex(kw, kw + n, &len, &err), code);
        CHECK_EQ_INT(sql_lex(lower, lower + n, &len, &err), code);
        CHECK_EQ_INT(len, (int)n);
        CHECK_EQ_INT(sql_keyword_code(lower, (int)n), code);
        CHECK(sql_ident_needs_quotes(lower) == (sql_keyword_is_reserved(code)
                                                 || code == TK_INTERVAL || code == TK_TIMESTAMP
                                                 || code == TK_IF || code == TK_QUERY
                                                 || code == TK_WATERMARK || code == TK_BOTH
                                                 || code == TK_LEADING || code == TK_TRAILING));
    }
    CHECK_EQ_INT(sql_keyword_code("selec", 5), 0);
    CHECK_EQ_INT(sql_keyword_code("select", 6), TK_SELECT);
    CHECK(sql_keyword_is_reserved(TK_SELECT));
    CHECK(sql_keyword_is_reserved(TK_EMIT));
    CHECK(!sql_keyword_is_reserved(TK_FORMAT));
    CHECK(!sql_keyword_is_reserved(TK_END));
    CHECK(!sql_keyword_is_reserved(TK_ID));
    CHECK(sql_ident_needs_quotes("Abc"));
    CHECK(sql_ident_needs_quotes("a b"));
    CHECK(sql_ident_needs_quotes(""));
    CHECK(sql_ident_needs_quotes("1a"));
    CHECK(!sql_ident_needs_quotes("a1_$"));
    CHECK(!sql_ident_needs_quotes("level"));
}

/*
 * test_planner.c — each rewrite rule shown by the plan before and after it,
 * plus the stage cut and the JSON form of EXPLAIN.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "planner/planner.h"
#include "tests/unit/unit.h"

static const char *ddl =
    "CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR,"
    " msg VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)"
    " WITH (connector = 'kafka', topic = 'logs', format = 'json');";

/* Plan sql (after ddl) with the given rules at parallelism 2; returns EXPLAIN
 * text (json: EXPLAIN FORMAT JSON) or NULL; caller frees. */
static char *plan_text(const char *sql, unsigned rules, int json)
{
    Catalog *cat = catalog_new();
    Settings set;
    SqlError err;
    settings_init(&set, 2);
    SqlParse *d = sql_parse(ddl, strlen(ddl));
    if (!d || d->nerrors || catalog_create_stream(cat, AST_AS(AstCreateStream, d->stmts[0]), &err)) {
        sql_parse_free(d);
        catalog_free(cat);
        return NULL;
    }
    sql_parse_free(d);
    SqlParse *p = sql_parse(sql, strlen(sql));
    char     *out = NULL;
    Plan     *plan = NULL;
    char      warn[512];
    if (p && p->nerrors == 0 && p->nstmts == 1 &&
        planner_plan(cat, &set, p->stmts[0], rules, &plan, warn, sizeof warn, &err) == 0) {
        out = json ? explain_json(plan) : explain_text(plan);
        plan_free(plan);
    } else if (p && p->nerrors == 0) {
        unit_fail(__FILE__, __LINE__, "plan failed: %s", err.msg);
    }
    sql_parse_free(p);
    catalog_free(cat);
    return out;
}

static int has(const char *text, const char *needle)
{
    return text && strstr(text, needle) != NULL;
}

#define ALL_BUT(r) (RULE_ALL & ~(unsigned)(r))

static const char *crash =
    "SELECT window_start, window_end, user_id, COUNT(*) AS crashes "
    "FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) "
    "WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id";

TEST(planner_rule_constant_fold)
{
    const char *q = "SELECT 1 + 2 * 3 AS x, user_id FROM logs WHERE user_id > 10 - 3";
    char       *before = plan_text(q, ALL_BUT(RULE_CONSTANT_FOLD), 0);
    char       *after = plan_text(q, RULE_ALL, 0);
    CHECK(has(before, "1 + 2 * 3 AS x"));
    CHECK(has(before, "filter user_id > 10 - 3"));
    CHECK(has(after, "7 AS x"));
    CHECK(has(after, "filter user_id > 7"));
    free(before);
    free(after);
    /* a filter that folds to TRUE disappears */
    char *t = plan_text("SELECT user_id FROM logs WHERE 1 < 2", RULE_ALL, 0);
    CHECK(t && !has(t, "filter") && !has(t, "Filter"));
    free(t);
}

TEST(planner_rule_push_filter)
{
    char *before = plan_text(crash, ALL_BUT(RULE_PUSH_FILTER), 0);
    char *after = plan_text(crash, RULE_ALL, 0);
    /* before: a Filter operator above the window; after: inside the scan */
    CHECK(has(before, "│ Filter     level = 'CRITICAL' AND event = 'crash'"));
    CHECK(!has(before, "filter level = 'CRITICAL'"));
    CHECK(!has(after, "│ Filter"));
    CHECK(has(after, "filter level = 'CRITICAL' AND event = 'crash'"));
    free(before);
    free(after);
    /* through a projection (a subquery) into the scan, but not a window-column predicate below the window */
    char *sub = plan_text("SELECT u FROM (SELECT user_id AS u, level FROM logs) AS t WHERE level = 'WARN'", RULE_ALL, 0);
    CHECK(has(sub, "filter level = 'WARN'"));
    free(sub);
    char *w = plan_text("SELECT user_id FROM TUMBLE(logs, ts, INTERVAL '1' MINUTE) WHERE window_start > ts AND user_id = 3",
                        RULE_ALL, 0);
    CHECK(has(w, "filter user_id = 3"));
    CHECK(has(w, "│ Filter     window_start > ts"));
    free(w);
}

TEST(planner_rule_prune_columns)
{
    char *before = plan_text(crash, ALL_BUT(RULE_PRUNE_COLUMNS), 0);
    char *after = plan_text(crash, RULE_ALL, 0);
    CHECK(has(before, "reads ts, user_id, ip, level, event, msg (6 of 6 columns)"));
    CHECK(has(after, "reads ts, user_id, level, event (4 of 6 columns)"));
    free(before);
    free(after);
    /* the watermark column is read even when the query does not use it */
    char *t = plan_text("SELECT ip FROM logs", RULE_ALL, 0);
    CHECK(has(t, "reads ts, ip (2 of 6 columns)"));
    free(t);
}

TEST(planner_rule_two_phase_and_exchanges)
{
    char *one = plan_text(crash, ALL_BUT(RULE_TWO_PHASE_AGG), 0);
    char *two = plan_text(crash, RULE_ALL, 0);
    char *none = plan_text(crash, ALL_BUT(RULE_TWO_PHASE_AGG | RULE_EXCHANGES), 0);
    /* without two-phase: raw rows cross the exchange into a single-phase aggregate */
    CHECK(has(one, "Aggregate  single-phase"));
    CHECK(has(one, "Exchange  hash(user_id)"));
    CHECK(!has(one, "partial"));
    /* with it: partial before the exchange, final after */
    CHECK(has(two, "Aggregate  partial"));
    CHECK(has(two, "Aggregate  final"));
    CHECK(has(two, "Exchange  hash(user_id) · 2 → 2 tasks"));
    CHECK(has(two, "Stage 0") && has(two, "Stage 1"));
    /* no exchanges: one stage */
    CHECK(has(none, "Stage 0") && !has(none, "Stage 1") && !has(none, "Exchange"));
    free(one);
    free(two);
    free(none);
}

TEST(planner_no_exchange_when_already_partitioned)
{
    /* the outer aggregate groups by the key the inner one is partitioned on */
    const char *q = "SELECT user_id, SUM(n) AS m FROM (SELECT user_id, COUNT(*) AS n FROM logs GROUP BY user_id) AS t "
                    "GROUP BY user_id";
    char *t = plan_text(q, RULE_ALL, 0);
    REQUIRE(t);
    int   exchanges = 0;
    for (const char *p = t; (p = strstr(p, "Exchange")) != NULL; p++) exchanges++;
    CHECK_EQ_INT(exchanges, 1);
    CHECK(has(t, "Aggregate  single-phase · group by user_id"));
    free(t);
}

TEST(planner_window_spellings_one_plan)
{
    const char *flink = "SELECT window_start, window_end, user_id, COUNT(*) AS crashes "
                        "FROM TABLE(TUMBLE(TABLE logs, DESCRIPTOR(ts), INTERVAL '10' SECONDS)) "
                        "WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id";
    const char *group = "SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS window_start, "
                        "TUMBLE_END(ts, INTERVAL '10' SECOND) AS window_end, user_id, COUNT(*) AS crashes "
                        "FROM logs WHERE level = 'CRITICAL' AND event = 'crash' "
                        "GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), user_id";
    const char *spark = "SELECT window.start, window.end, user_id, COUNT(*) AS crashes FROM logs "
                        "WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window(ts, '10 seconds'), user_id";
    char *a = plan_text(crash, RULE_ALL, 0);
    char *b = plan_text(flink, RULE_ALL, 0);
    char *c = plan_text(group, RULE_ALL, 0);
    char *d = plan_text(spark, RULE_ALL, 0);
    REQUIRE(a && b && c && d);
    CHECK_EQ_STR(b, a);
    CHECK_EQ_STR(c, a);
    CHECK_EQ_STR(d, a);
    free(a);
    free(b);
    free(c);
    free(d);
}

TEST(planner_explain_json)
{
    char *j = plan_text(crash, RULE_ALL, 1);
    REQUIRE(j);
    json_error_t e;
    json_t      *root = json_loads(j, 0, &e);
    REQUIRE(root);
    CHECK_EQ_STR(json_string_value(json_object_get(root, "emit")), "final");
    json_t *stages = json_object_get(root, "stages");
    CHECK_EQ_INT(json_array_size(stages), 2);
    json_t *s0 = json_array_get(stages, 0), *s1 = json_array_get(stages, 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s0, "downstream")), 1);
    json_t *in = json_array_get(json_object_get(s1, "inputs"), 0);
    CHECK_EQ_STR(json_string_value(json_object_get(in, "partitioning")), "hash");
    CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(in, "keys"), 0)), "user_id");
    json_t *ops = json_object_get(s0, "operators");
    json_t *scan = json_array_get(ops, 0);
    CHECK_EQ_STR(json_string_value(json_object_get(scan, "operator")), "Scan");
    CHECK_EQ_INT(json_array_size(json_object_get(scan, "columns")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(scan, "watermark"), "delayMs")), 10000);
    json_decref(root);
    free(j);
}

/* Plan sql (after ddl) at parallelism 2 with every rule: 0 with *out, or -1
 * with err. */
static int plan_of(const char *sql, Plan **out, char *warn, size_t wcap, SqlError *err)
{
    Catalog *cat = catalog_new();
    Settings set;
    settings_init(&set, 2);
    SqlParse *d = sql_parse(ddl, strlen(ddl));
    int       rc = -1;
    if (d && !d->nerrors && !catalog_create_stream(cat, AST_AS(AstCreateStream, d->stmts[0]), err)) {
        SqlParse *p = sql_parse(sql, strlen(sql));
        if (p && p->nerrors == 0 && p->nstmts == 1)
            rc = planner_plan(cat, &set, p->stmts[0], RULE_ALL, out, warn, wcap, err);
        sql_parse_free(p);
    }
    sql_parse_free(d);
    catalog_free(cat);
    return rc;
}

static void count_flags(const PlanNode *n, int *retract, int *before)
{
    if (!n) return;
    if (n->kind == PLAN_AGGREGATE) {
        *retract += n->u.agg.retract;
        *before += n->u.agg.update_before;
    }
    count_flags(n->input, retract, before);
    count_flags(n->right, retract, before);
}

TEST(planner_changelog_flags_and_refusals)
{
    /* an aggregate over an aggregate that emits changes retracts, and the
     * inner one sends the old row (-U) before each new one */
    const char *q = "SELECT n, COUNT(*) FROM (SELECT user_id, COUNT(*) AS n FROM logs GROUP BY user_id) AS t GROUP BY n";
    Plan *p = NULL;
    char  warn[256];
    SqlError err;
    REQUIRE(plan_of(q, &p, warn, sizeof warn, &err) == 0);
    int retract = 0, before = 0;
    count_flags(p->root, &retract, &before);
    CHECK(retract >= 2);   /* the outer aggregate's PARTIAL and FINAL */
    CHECK_EQ_INT(before, 1);   /* the inner FINAL, not its PARTIAL */
    plan_free(p);
    /* a windowed inner aggregate emits final rows: nothing to retract */
    q = "SELECT n, COUNT(*) FROM (SELECT user_id, window_start, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '1' MINUTE) "
        "GROUP BY user_id, window_start, window_end) AS t GROUP BY n";
    REQUIRE(plan_of(q, &p, warn, sizeof warn, &err) == 0);
    retract = before = 0;
    count_flags(p->root, &retract, &before);
    CHECK(retract == 0 && before == 0);
    plan_free(p);
    /* MAX cannot take a row back */
    q = "SELECT MAX(n) FROM (SELECT user_id, COUNT(*) AS n FROM logs GROUP BY user_id) AS t";
    CHECK(plan_of(q, &p, warn, sizeof warn, &err) != 0);
    CHECK(strstr(err.msg, "MAX cannot aggregate the changing rows") != NULL);
}

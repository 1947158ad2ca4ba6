/*
 * test_session_queries.c — the session's query registry (runtime/session.h):
 * records for foreground queries, their progress samples and JSON, lookups
 * by id, since filtering, failed queries, eviction of old finished records,
 * the query start callback and session_get_setting.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/query.h"
#include "runtime/session.h"
#include "tests/unit/unit.h"

static const char gen_sql[] =
    "CREATE STREAM g (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,"
    "  WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)"
    "  WITH (connector = 'logs', count = '30000', rate = '1000000', users = '10', seed = '7',"
    "        start = '2024-01-01 00:00:00');"
    "SELECT level, COUNT(*) AS n FROM g GROUP BY level;";

static int nstarts;
static void on_start(void *ctx, Session *s)
{
    (void)s;
    (*(int *)ctx)++;
}

TEST(session_queries_records_a_foreground_query)
{
    Session *s = session_new();
    REQUIRE(s);
    SqlError err;
    nstarts = 0;
    session_set_query_start_callback(s, on_start, &nstarts);
    REQUIRE(session_set(s, "parallelism", "2", &err) == 0);

    SessionQueryInfo *v = NULL;
    CHECK_EQ_INT(session_queries_list(s, &v), 0);   /* empty before any query */
    CHECK(v == NULL);

    REQUIRE(session_exec(s, gen_sql, strlen(gen_sql), NULL, &err) == 0);
    CHECK_EQ_INT(nstarts, 1);

    int n = session_queries_list(s, &v);
    REQUIRE(n == 1);
    CHECK_EQ_STR(v[0].id, "q1");
    CHECK_EQ_STR(v[0].status, "finished");
    CHECK_EQ_STR(v[0].sink, "console");
    CHECK_EQ_STR(v[0].source, "g");
    CHECK(strstr(v[0].sql, "GROUP BY level") != NULL);
    CHECK(v[0].plan_json && strstr(v[0].plan_json, "\"stages\""));
    CHECK(v[0].end_us >= v[0].start_us && v[0].start_us > 0);
    CHECK_EQ_INT(v[0].parallelism, 2);
    CHECK_EQ_INT(v[0].nsamples, 0);                 /* the list has no history */
    REQUIRE(v[0].last != NULL);
    CHECK_EQ_INT(v[0].last->input_rows, 30000);
    session_queries_free(v, n);

    SessionQueryInfo q;
    REQUIRE(session_query_get(s, "q1", 0, 0, &q) == 0);
    REQUIRE(q.nsamples >= 1);                       /* at least the final figures */
    CHECK(q.base == NULL);                          /* samples[0] is the first */
    CHECK_EQ_INT(q.sample_seq[0], 0);
    CHECK_EQ_INT(q.samples[q.nsamples - 1].input_rows, 30000);
    CHECK_EQ_INT(q.nsampled, q.nsamples);
    char *j = session_progress_json(&q, 0);
    REQUIRE(j != NULL);
    CHECK(strstr(j, "\"id\":\"q1\"") && strstr(j, "\"batchId\":0") && strstr(j, "\"numInputRows\":"));
    free(j);
    CHECK(session_progress_json(&q, q.nsamples) == NULL);   /* out of range */
    j = session_progress_json(&q, -1);
    CHECK(j && strstr(j, "\"totalInputRows\":30000"));
    free(j);
    session_query_info_clear(&q);
    CHECK(q.sql == NULL && q.samples == NULL);

    /* since: nothing newer than the end; the base is the last sample */
    REQUIRE(session_query_get(s, "q1", INT64_MAX, 0, &q) == 0);
    CHECK_EQ_INT(q.nsamples, 0);
    CHECK(q.base != NULL);
    session_query_info_clear(&q);

    CHECK_EQ_INT(session_query_get(s, "q2", 0, 0, &q), 1);
    CHECK_EQ_INT(session_query_get(s, "", 0, 0, &q), 1);
    session_free(s);
}

TEST(session_queries_failed_and_evicted)
{
    Session *s = session_new();
    REQUIRE(s);
    SqlError    err;
    const char *bad = "CREATE STREAM f (a BIGINT) WITH (connector = 'file', path = '/nonexistent/x.jsonl',"
                      " format = 'json'); SELECT a FROM f;";
    CHECK(session_exec(s, bad, strlen(bad), NULL, &err) == SESSION_RUNTIME_ERROR);
    SessionQueryInfo q;
    REQUIRE(session_query_get(s, "q1", 0, 0, &q) == 0);
    CHECK_EQ_STR(q.status, "failed");
    CHECK(q.error[0] != 0);
    session_query_info_clear(&q);

    /* many short queries: only the last SESSION_HISTORY_DONE finished ones stay */
    const char *one = "SELECT 1;";
    for (int i = 0; i < SESSION_HISTORY_DONE + 8; i++) REQUIRE(session_exec(s, one, strlen(one), NULL, &err) == 0);
    SessionQueryInfo *v;
    int               n = session_queries_list(s, &v);
    CHECK_EQ_INT(n, SESSION_HISTORY_DONE);
    REQUIRE(n > 0);
    char last[16];
    snprintf(last, sizeof last, "q%d", SESSION_HISTORY_DONE + 9);
    CHECK_EQ_STR(v[n - 1].id, last);                 /* oldest first, newest kept */
    CHECK_EQ_INT(session_query_get(s, "q1", 0, 0, &q), 1);   /* the oldest went */
    session_queries_free(v, n);
    session_free(s);
}

TEST(session_get_setting_reads_settings)
{
    Session *s = session_new();
    REQUIRE(s);
    SqlError err;
    char     buf[64];
    CHECK_EQ_INT(session_get_setting(s, "ui.port", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "0");
    REQUIRE(session_exec(s, "SET ui.port = 4040;", 19, NULL, &err) == 0);
    CHECK_EQ_INT(session_get_setting(s, "UI.PORT", buf, sizeof buf), 0);
    CHECK_EQ_STR(buf, "4040");
    CHECK_EQ_INT(session_get_setting(s, "no.such", buf, sizeof buf), -1);
    session_free(s);
}

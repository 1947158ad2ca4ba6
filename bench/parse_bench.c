/*
 * parse_bench.c — how fast does sluice parse SQL?
 *
 *   make build/bench/parse_bench && build/bench/parse_bench [ROUNDS] [MB]
 *
 * Builds about MB (default 1) megabytes of SQL from a mix of realistic
 * statements — DDL with WITH options, windowed aggregates, joins, CASE and
 * function-heavy projections, SET/SHOW — with the names varied so the text
 * is not one string repeated, then parses it ROUNDS times (default 20) and
 * prints the best and median throughput in MB/s and statements/s.
 * A benchmark, not a test: it checks only that everything parsed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parser/parser.h"

static const char *const templates[] = {
    "CREATE STREAM logs_%d (\n"
    "  ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,\n"
    "  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND\n"
    ") WITH (connector = 'kafka', topic = 'logs_%d', format = 'json',\n"
    "  'properties.bootstrap.servers' = 'localhost:9092', 'scan.startup.mode' = 'earliest-offset');\n",

    "SELECT window_start, window_end, user_id, COUNT(*) AS crashes\n"
    "FROM TUMBLE(logs_%d, ts, INTERVAL '10' SECOND)\n"
    "WHERE level = 'CRITICAL' AND event = 'crash'\n"
    "GROUP BY window_start, window_end, user_id;\n",

    "INSERT INTO sink_%d\n"
    "SELECT window_start, window_end, item, COUNT(*) AS bids, MAX(price) AS top,\n"
    "       SUM(price) FILTER (WHERE price > 100) AS big, COUNT(DISTINCT bidder) AS bidders\n"
    "FROM TABLE(HOP(TABLE bid_%d, DESCRIPTOR(bidtime), INTERVAL '2' SECOND, INTERVAL '10' SECOND))\n"
    "GROUP BY window_start, window_end, item HAVING COUNT(*) > %d EMIT CHANGES;\n",

    "SELECT o.id, o.amount, p.method, CASE WHEN o.amount > %d THEN 'large'\n"
    "  WHEN o.amount > 10 THEN 'medium' ELSE 'small' END AS size\n"
    "FROM orders_%d o JOIN payments p ON o.id = p.order_id\n"
    "  AND o.ts BETWEEN p.ts - INTERVAL '5' MINUTE AND p.ts + INTERVAL '5' MINUTE\n"
    "WHERE o.status IN ('new', 'paid', 'shipped') AND p.method NOT LIKE 'test%%';\n",

    "SELECT user_id, LOWER(TRIM(name)) AS name, SUBSTRING(email FROM 1 FOR 20) AS email,\n"
    "  EXTRACT(HOUR FROM ts) AS hour, COALESCE(city, 'unknown') AS city,\n"
    "  CAST(score AS DOUBLE) * 1.5 + bonus::int AS weighted, -- a comment\n"
    "  ROUND(latency_ms / 1000.0, 2) AS latency_s\n"
    "FROM events_%d /* filtered below */ WHERE score IS NOT NULL AND NOT deleted LIMIT %d;\n",

    "CREATE SINK out_%d (window_start TIMESTAMP, n BIGINT) WITH (connector = 'file',\n"
    "  path = 'out/result_%d.jsonl', format = 'json');\n",

    "CREATE VIEW errors_%d AS SELECT * FROM logs WHERE level IN ('ERROR', 'CRITICAL')"
    " AND msg SIMILAR TO '%%(timeout|refused)%%';\n",

    "SET checkpoint.interval = '%ds'; SET parallelism = %d; SHOW QUERIES; DESCRIBE QUERY q%d;\n",

    "EXPLAIN FORMAT JSON SELECT window.start, window.end, COUNT(*) FROM clicks_%d\n"
    "GROUP BY window(ts, '10 seconds', '5 seconds'), page;\n",
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int    rounds = argc > 1 ? atoi(argv[1]) : 20;
    double mb = argc > 2 ? atof(argv[2]) : 1.0;
    if (rounds < 1) rounds = 1;
    size_t target = (size_t)(mb * 1024 * 1024);

    char  *sql = malloc(target + 4096);
    size_t len = 0;
    if (!sql) return 1;
    for (int i = 0; len < target; i++) {
        const char *t = templates[i % (sizeof templates / sizeof templates[0])];
        len += (size_t)snprintf(sql + len, target + 4096 - len, t, i, i, i % 97 + 3);
    }

    SqlParse *p = sql_parse(sql, len);
    if (!p || p->nerrors) {
        fprintf(stderr, "parse_bench: the workload does not parse: %s\n",
                p ? p->errors[0].msg : "out of memory");
        return 1;
    }
    int nstmts = p->nstmts;
    sql_parse_free(p);

    double *secs = malloc((size_t)rounds * sizeof *secs);
    if (!secs) return 1;
    for (int r = 0; r < rounds; r++) {
        double t0 = now();
        p = sql_parse(sql, len);
        double t1 = now();
        if (!p || p->nstmts != nstmts) return 1;
        sql_parse_free(p);
        secs[r] = t1 - t0;
    }
    qsort(secs, (size_t)rounds, sizeof *secs, cmp_double);
    double best = secs[0], median = secs[rounds / 2];
    double mbytes = (double)len / (1024.0 * 1024.0);

    printf("parse_bench: %.2f MB, %d statements, %d rounds\n", mbytes, nstmts, rounds);
    printf("  best    %8.2f ms  %8.1f MB/s  %10.0f statements/s\n", best * 1e3, mbytes / best,
           nstmts / best);
    printf("  median  %8.2f ms  %8.1f MB/s  %10.0f statements/s\n", median * 1e3,
           mbytes / median, nstmts / median);
    free(secs);
    free(sql);
    return 0;
}

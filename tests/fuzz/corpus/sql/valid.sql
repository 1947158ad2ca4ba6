-- valid.sql — statements the parser must accept; test_parser.c parses each
-- one, checks the round trip parse(print(parse(s))) == parse(s) and that the
-- printer is stable. One statement per ';'. Comments are part of the test.

-- ===== LANGUAGE.md: streams and sinks =====
CREATE STREAM logs (
  ts       TIMESTAMP(3),
  user_id  BIGINT,
  ip       VARCHAR,
  level    VARCHAR,
  event    VARCHAR,
  msg      VARCHAR,
  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND
) WITH (
  connector = 'kafka', topic = 'logs', format = 'json',
  'properties.bootstrap.servers' = 'localhost:9092',
  'scan.startup.mode' = 'earliest-offset'
);
CREATE SINK crash_counts WITH (connector = 'kafka', topic = 'crash_counts', format = 'json');
CREATE SINK crash_file   WITH (connector = 'file', path = 'out/crashes.jsonl', format = 'json');

-- ===== LANGUAGE.md: queries =====
SELECT window_start, window_end, user_id, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY window_start, window_end, user_id;
INSERT INTO crash_counts
SELECT window_start, window_end, user_id, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY window_start, window_end, user_id;
EXPLAIN SELECT user_id, COUNT(*) FROM logs GROUP BY user_id;
EXPLAIN FORMAT JSON SELECT user_id, COUNT(*) FROM logs GROUP BY user_id;

-- ===== CREATE STREAM / SOURCE / TABLE =====
CREATE STREAM IF NOT EXISTS s1 (a BIGINT, b VARCHAR);
CREATE SOURCE src (a INT, b INTEGER, c BIGINT) WITH (connector = 'stdin', format = 'csv');
CREATE TABLE tbl (x DOUBLE, y FLOAT, z REAL, w DOUBLE PRECISION) WITH (connector = 'file', path = '/tmp/x.csv');
CREATE STREAM typed (b BOOLEAN, s STRING, t TEXT, v VARCHAR(20), ts TIMESTAMP, ts3 TIMESTAMP(3), d INTERVAL);
CREATE STREAM gen WITH (connector = 'datagen', 'rows-per-second' = 100, 'fields.id.min' = -5, 'ratio' = 0.25);
CREATE STREAM nex WITH (connector = 'nexmark', 'events.num' = 1000000, enabled = true, strict = FALSE);
CREATE STREAM lg WITH (connector = logs, rate = 1000, users = 50, seed = 42, 'out-of-orderness' = '2s', 'crash.ratio' = 0.01, count = 100000);
CREATE STREAM wm_only (ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '5' SECONDS);
CREATE STREAM wm_first (WATERMARK FOR ts AS ts, ts TIMESTAMP);
CREATE STREAM "Mixed Case" ("Id" BIGINT, "select" VARCHAR, "a""b" INT);
CREATE STREAM `flink_style` (`timestamp` TIMESTAMP(3), `value` DOUBLE) WITH (`format` = 'json');
CREATE STREAM kw_cols (level VARCHAR, event VARCHAR, key VARCHAR, value VARCHAR, window VARCHAR, start BIGINT, end BIGINT, timestamp TIMESTAMP, format VARCHAR, topic VARCHAR, user VARCHAR);
CREATE STREAM more_kw (source VARCHAR, sink VARCHAR, stream VARCHAR, query VARCHAR, text TEXT, json VARCHAR, final BOOLEAN, changes BIGINT, second INT, day INT, hour INT, filter VARCHAR, partition INT, escape VARCHAR);
CREATE STREAM dotted WITH (connector = 'kafka', properties.bootstrap.servers = 'k:9092', scan.startup.mode = 'latest-offset', scan.bounded.mode = 'latest-offset');
CREATE STREAM f1 WITH (connector = 'file', path = 'data/*.jsonl', follow = 'true', 'format.on-error' = 'skip');
CREATE STREAM kafka_grp WITH (connector = 'kafka', 'properties.group.id' = 'g1', topic = 'events');
create stream lower_case (a bigint) with (connector = 'stdin');
CrEaTe StReAm MiXeD (A BiGiNt) WiTh (Connector = 'stdin');
CREATE STREAM quoted_vals WITH (connector = 'file', path = 'it''s here.json');
CREATE STREAM uni (naïve VARCHAR, "日本" VARCHAR) WITH (connector = 'stdin');

-- ===== CREATE SINK =====
CREATE SINK out1 WITH (connector = 'stdout');
CREATE SINK IF NOT EXISTS out2 (window_start TIMESTAMP, cnt BIGINT) WITH (connector = 'file', path = 'out/x.jsonl', format = 'json');
CREATE SINK out3 (a VARCHAR) WITH (connector = 'kafka', topic = 'out3', 'properties.bootstrap.servers' = 'localhost:9092');

-- ===== CREATE VIEW =====
CREATE VIEW critical AS SELECT * FROM logs WHERE level = 'CRITICAL';
CREATE VIEW IF NOT EXISTS per_user AS SELECT user_id, COUNT(*) AS n FROM logs GROUP BY user_id;

-- ===== INSERT =====
INSERT INTO out1 SELECT * FROM logs;
INSERT INTO out2 SELECT window_start, COUNT(*) FROM TUMBLE(logs, ts, INTERVAL '1' MINUTE) GROUP BY window_start EMIT FINAL;

-- ===== SELECT basics =====
SELECT 1;
SELECT 1, 2.5, 'x', TRUE, FALSE, NULL;
SELECT 1 AS one, 'two' two;
SELECT DISTINCT user_id FROM logs;
SELECT ALL user_id FROM logs;
SELECT * FROM logs;
SELECT logs.* FROM logs;
SELECT l.*, l.user_id FROM logs AS l;
SELECT l.ts FROM logs l;
SELECT a FROM t WHERE a > 1 LIMIT 10;
SELECT a FROM t LIMIT 0;
SELECT a FROM t EMIT CHANGES;
SELECT a FROM t EMIT FINAL;
SELECT a FROM t LIMIT 5 EMIT CHANGES;
SELECT a FROM t EMIT CHANGES LIMIT 5;
SELECT user_id, COUNT(*) FROM logs GROUP BY user_id HAVING COUNT(*) > 10;
SELECT user_id, COUNT(*) c FROM logs WHERE level <> 'DEBUG' GROUP BY user_id HAVING c >= 3 LIMIT 100 EMIT CHANGES;
SELECT "User", "select", "a""b" FROM "My Stream";
SELECT `user`, `value` FROM `events`;
SELECT level, event, key, value, window, start, end, timestamp, format, topic, user FROM kw_cols;
SELECT source, sink, stream, query, text, json, final, changes, second, day, hour, filter, partition, escape FROM more_kw;
SELECT t.timestamp, t.format, t.end, t.interval FROM kw_cols t;
SELECT a AS timestamp, b AS interval, c AS "from" FROM t;
SELECT a FROM t emit_table;
SELECT x FROM (SELECT a AS x FROM t) AS sub;
SELECT x FROM (SELECT a AS x FROM t) sub WHERE x > 0;
SELECT x FROM (SELECT a AS x FROM t);
SELECT * FROM (SELECT * FROM (SELECT * FROM t) a) b;

-- ===== joins =====
SELECT * FROM a JOIN b ON a.k = b.k;
SELECT * FROM a INNER JOIN b ON a.k = b.k;
SELECT * FROM a LEFT JOIN b ON a.k = b.k;
SELECT * FROM a LEFT OUTER JOIN b ON a.k = b.k;
SELECT * FROM a RIGHT JOIN b ON a.k = b.k;
SELECT * FROM a RIGHT OUTER JOIN b ON a.k = b.k;
SELECT * FROM a FULL JOIN b ON a.k = b.k;
SELECT * FROM a FULL OUTER JOIN b ON a.k = b.k AND a.j = b.j;
SELECT * FROM a CROSS JOIN b;
SELECT * FROM a, b WHERE a.k = b.k;
SELECT * FROM a, b, c;
SELECT * FROM a JOIN b ON a.k = b.k JOIN c ON b.k = c.k LEFT JOIN d ON d.k = a.k;
SELECT * FROM a JOIN (b JOIN c ON b.k = c.k) ON a.k = b.k;
SELECT * FROM (a JOIN b ON a.k = b.k);
SELECT * FROM a AS x JOIN b AS y ON x.k = y.k;
SELECT o.id, p.name FROM orders o JOIN payments p ON o.id = p.order_id AND o.ts BETWEEN p.ts - INTERVAL '1' HOUR AND p.ts + INTERVAL '1' HOUR;
SELECT a.window_start, a.k, a.n, b.m FROM (SELECT window_start, window_end, k, COUNT(*) n FROM TUMBLE(s1, ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end, k) a JOIN (SELECT window_start, window_end, k, SUM(v) m FROM TUMBLE(s2, ts, INTERVAL '1' MINUTE) GROUP BY window_start, window_end, k) b ON a.window_start = b.window_start AND a.window_end = b.window_end AND a.k = b.k;
SELECT * FROM TUMBLE(a, ts, INTERVAL '1' MINUTE) x JOIN TUMBLE(b, ts, INTERVAL '1' MINUTE) y ON x.window_start = y.window_start;

-- ===== window table functions =====
SELECT * FROM TUMBLE(logs, ts, INTERVAL '10' SECONDS);
SELECT * FROM HOP(logs, ts, INTERVAL '5' SECOND, INTERVAL '1' MINUTE);
SELECT * FROM SESSION(logs, ts, INTERVAL '30' SECOND);
SELECT * FROM CUMULATE(logs, ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR);
SELECT * FROM tumble(logs, ts, INTERVAL '1.5' SECOND) AS w;
SELECT * FROM TUMBLE(logs, logs.ts, INTERVAL '1' MINUTE) w;
SELECT * FROM TUMBLE((SELECT * FROM logs WHERE level = 'ERROR'), ts, INTERVAL '1' MINUTE);
SELECT * FROM TABLE(TUMBLE(TABLE logs, DESCRIPTOR(ts), INTERVAL '10' SECONDS));
SELECT * FROM TABLE(HOP(TABLE logs, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '1' MINUTE)) AS h;
SELECT * FROM TABLE(CUMULATE(TABLE logs, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '1' HOUR));
SELECT * FROM TABLE(SESSION(TABLE logs, DESCRIPTOR(ts), INTERVAL '5' MINUTES));
SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES));
SELECT * FROM TABLE(SESSION(TABLE bid PARTITION BY (item, bidder), DESCRIPTOR(bidtime), INTERVAL '5' MINUTES)) s;
SELECT window_start, window_end, SUM(price) FROM TABLE(TUMBLE(TABLE bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end;

-- ===== group windows (Flink legacy, Spark) =====
SELECT user_id, COUNT(*) FROM logs GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), user_id;
SELECT TUMBLE_START(ts, INTERVAL '10' SECOND) AS ws, TUMBLE_END(ts, INTERVAL '10' SECOND) AS we, COUNT(*) FROM logs GROUP BY TUMBLE(ts, INTERVAL '10' SECOND);
SELECT HOP_START(ts, INTERVAL '5' SECOND, INTERVAL '1' MINUTE), COUNT(*) FROM logs GROUP BY HOP(ts, INTERVAL '5' SECOND, INTERVAL '1' MINUTE);
SELECT SESSION_START(ts, INTERVAL '30' SECOND), SESSION_END(ts, INTERVAL '30' SECOND), user_id FROM logs GROUP BY SESSION(ts, INTERVAL '30' SECOND), user_id;
SELECT window.start, window.end, user_id, COUNT(*) FROM logs GROUP BY window(ts, '10 seconds'), user_id;
SELECT window.start, window.end, COUNT(*) FROM logs GROUP BY window(ts, '10 seconds', '5 seconds');

-- ===== expressions: arithmetic and precedence =====
SELECT 1 + 2 * 3, (1 + 2) * 3, 1 - 2 - 3, 1 - (2 - 3), 10 / 2 % 3, -a, +a, - -a, -(-5);
SELECT a || b || 'c', a || (b || c), a + b || c, a * b + c * d;
SELECT NOT a, NOT NOT a, NOT a AND b, NOT (a AND b), a OR b AND c, (a OR b) AND c;
SELECT a = b, a <> b, a != b, a < b, a <= b, a > b, a >= b;
SELECT (a = b) = c, a = (b = c), a < b AND b < c;
SELECT -9223372036854775808, 9223372036854775807, 99999999999999999999, 1.50, 1e3, 2.5E-3, .5, 7., -1.5;
SELECT a::BIGINT, CAST(a AS VARCHAR), CAST(a AS VARCHAR(10)), a::double precision, CAST(ts AS TIMESTAMP(3)), '5'::int + 1, -a::int;
SELECT CAST(x AS BOOLEAN), CAST(x AS STRING), CAST(x AS TEXT), CAST(x AS REAL), CAST(x AS INTEGER), x::interval;

-- ===== predicates =====
SELECT * FROM t WHERE a IS NULL AND b IS NOT NULL;
SELECT * FROM t WHERE a BETWEEN 1 AND 10 AND b NOT BETWEEN 2 AND 3;
SELECT * FROM t WHERE a BETWEEN b + 1 AND c * 2 OR d;
SELECT * FROM t WHERE a IN (1, 2, 3) AND b NOT IN ('x', 'y');
SELECT * FROM t WHERE a IN (1) OR a IN (SELECTED, other);
SELECT * FROM t WHERE a LIKE 'x%' AND b NOT LIKE '%y' AND c LIKE 'a\_%' ESCAPE '\';
SELECT * FROM t WHERE a NOT LIKE 'x!%' ESCAPE '!';
SELECT * FROM t WHERE a SIMILAR TO '(a|b)%' AND b NOT SIMILAR TO 'c%' ESCAPE '#';
SELECT * FROM t WHERE (a IS NULL) = (b IS NULL);
SELECT * FROM t WHERE a + 1 IS NOT NULL AND NOT b IS NULL;
SELECT * FROM t WHERE a LIKE b || '%';

-- ===== CASE =====
SELECT CASE WHEN a > 0 THEN 'pos' WHEN a < 0 THEN 'neg' ELSE 'zero' END FROM t;
SELECT CASE level WHEN 'ERROR' THEN 3 WHEN 'WARN' THEN 2 END AS sev FROM logs;
SELECT CASE WHEN a THEN CASE WHEN b THEN 1 ELSE 2 END END FROM t;
SELECT CASE a + 1 WHEN 2 THEN 'two' ELSE NULL END FROM t;

-- ===== literals =====
SELECT INTERVAL '10' SECOND, INTERVAL '10' SECONDS, INTERVAL '1.5' SECOND, INTERVAL '5' MINUTE, INTERVAL '5' MINUTES;
SELECT INTERVAL '2' HOUR, INTERVAL '2' HOURS, INTERVAL '1' DAY, INTERVAL '3' DAYS, INTERVAL '250' MILLISECOND, INTERVAL '250' MILLISECONDS;
SELECT INTERVAL '7' MICROSECOND, INTERVAL '7' MICROSECONDS, INTERVAL '-5' SECOND, INTERVAL ' 3 ' SECOND, INTERVAL '0.001' SECOND;
SELECT INTERVAL 10 SECOND, INTERVAL 1.5 MINUTES, INTERVAL '10 seconds', INTERVAL '2 hours', INTERVAL '1 day';
SELECT ts + INTERVAL '1' HOUR, ts - INTERVAL '30' SECOND, -INTERVAL '1' SECOND FROM logs;
SELECT TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP '2024-01-01T00:00:00.123Z' FROM t;
SELECT timestamp FROM t WHERE timestamp > TIMESTAMP '2024-01-01 00:00:00';
SELECT 'multi
line', '', '''', 'a''b''c', 'ünïcödé ☃';

-- ===== functions =====
SELECT COUNT(*), COUNT(x), COUNT(DISTINCT x), SUM(x), AVG(x), MIN(x), MAX(x), APPROX_COUNT_DISTINCT(x) FROM t;
SELECT COUNT(*) FILTER (WHERE level = 'ERROR'), SUM(v) FILTER (WHERE v > 0) AS pos FROM t;
SELECT LOWER(s), UPPER(s), LENGTH(s), CHAR_LENGTH(s), CONCAT(a, b, c), REGEXP_LIKE(s, '^a'), ABS(x), ROUND(x, 2), FLOOR(x), CEIL(x), MOD(a, b) FROM t;
SELECT COALESCE(a, b, 0), NULLIF(a, 0), DATE_TRUNC('hour', ts), TO_TIMESTAMP(s), now(), f() FROM t;
SELECT EXTRACT(HOUR FROM ts), EXTRACT(day FROM ts), EXTRACT(EPOCH FROM ts) FROM t;
SELECT SUBSTRING(s FROM 2), SUBSTRING(s FROM 2 FOR 3), SUBSTRING(s, 2, 3), substr(s FROM 1 FOR 2) FROM t;
SELECT TRIM(s), TRIM(BOTH FROM s), TRIM(LEADING FROM s), TRIM(TRAILING 'x' FROM s), TRIM(BOTH ' ' FROM s), TRIM('x' FROM s) FROM t;
SELECT POSITION('@' IN email), POSITION('x' IN LOWER(s)), POSITION(a IN t.b), POSITION('a' IN (s || 'b')) FROM t;
SELECT "count"(x), "My Func"(x), if(a, b, c), left_pad(s, 3), replace(s, 'a', 'b') FROM t;
SELECT SUM(CASE WHEN a THEN 1 ELSE 0 END) / COUNT(*) AS ratio FROM t;

-- ===== EXPLAIN =====
EXPLAIN ANALYZE SELECT * FROM logs;
EXPLAIN FORMAT TEXT SELECT * FROM logs;
EXPLAIN ANALYZE FORMAT JSON INSERT INTO crash_counts SELECT * FROM logs;
EXPLAIN INSERT INTO out1 SELECT a FROM t;

-- ===== SHOW, DESCRIBE, DROP, STOP =====
SHOW STREAMS;
SHOW SOURCES;
SHOW TABLES;
SHOW SINKS;
SHOW VIEWS;
SHOW QUERIES;
DESCRIBE logs;
DESC logs;
DESCRIBE "Mixed Case";
DESCRIBE QUERY q1;
DESCRIBE QUERY 7;
DESCRIBE QUERY 'Q-7';
DROP STREAM logs;
DROP STREAM IF EXISTS logs;
DROP SOURCE src;
DROP TABLE tbl;
DROP SINK out1;
DROP SINK IF EXISTS out2;
DROP VIEW critical;
DROP VIEW IF EXISTS per_user;
STOP QUERY q1;
STOP QUERY 12;
STOP QUERY 'query-12';

-- ===== SET, RESET =====
SET;
SET parallelism = 2;
SET checkpoint.interval = '5s';
SET 'checkpoint.interval' = '200ms';
SET state.dir = '/var/lib/sluice';
SET emit.interval = INTERVAL '1' SECOND;
SET watermark.idle-timeout = '30s';
SET state.ttl = '2 hours';
SET 'memory.budget' = '1gb';
SET ratio = 0.5;
SET offset = -3;
SET verbose = TRUE;
SET quiet = false;
SET mode = fast;
SET "Mixed.Key" = 'v';
RESET;
RESET parallelism;
RESET checkpoint.interval;
RESET 'checkpoint.interval';

-- ===== multi-statement and lexical variety =====
SELECT 1; SELECT 2;;; SELECT 3;
/* a block comment */ SELECT /* inline */ a -- trailing comment
FROM t /* multi
line comment */ WHERE a = 1;
SELECT a--comment right after a token
FROM t;
SELECT	a,	b
FROM	t;
SELECT a FROM t WHERE s = 'semi;colon' AND "weird;name" = 1 /* ; */ -- ;
;
SELECT ((((((((((a)))))))))) FROM t;
SELECT a.b, "a"."B" FROM t;

-- The seed's Activity 3: critical crash events per user, per 10-second
-- event-time window, with a 10-second watermark.
--
-- Input: the built-in `logs` generator (the seed's load generator: users,
-- levels INFO/WARN/ERROR/CRITICAL, events incl. crash, out-of-order by up to
-- a few seconds). Swap the WITH clause for the Kafka one below to read the
-- seed's topic instead.
--
--   make demo                      (runs this file)
--   build/sluice -f examples/crash_monitoring.sql

CREATE STREAM logs (
  ts       TIMESTAMP(3),
  user_id  BIGINT,
  ip       VARCHAR,
  level    VARCHAR,
  event    VARCHAR,
  msg      VARCHAR,
  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND
) WITH (
  connector = 'logs',
  rate = '20000',             -- events per second
  users = '100',
  'out-of-orderness' = '5s',
  seed = '42'
);

-- To read the seed's Kafka topic instead:
--   WITH (connector = 'kafka', topic = 'logs', format = 'json',
--         'properties.bootstrap.servers' = 'localhost:9092',
--         'scan.startup.mode' = 'earliest-offset')

SELECT window_start, window_end, user_id, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY window_start, window_end, user_id;

-- The seed's Activity 3: critical crash events per user, per 10-second
-- event-time window, with a 10-second watermark.
--
-- Input: the built-in `logs` generator (the seed's load generator: users,
-- levels INFO/WARN/ERROR/CRITICAL, events incl. crash, out-of-order by up to
-- a few seconds). Swap the WITH clause for the Kafka one below to read the
-- seed's topic instead.
--
--   make demo                      (runs this file for 45 seconds)
--   build/sluice -f examples/crash_monitoring.sql      (Ctrl-C stops it)
--
-- A window [t, t+10s) is final when the watermark (the largest event time
-- seen minus 10 s) passes t+10s: its rows appear about 20 s after t.

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
  rate = '20000',             -- events per second, like the seed's load generator
  users = '100',
  'out-of-orderness' = '5s',  -- events arrive up to 5 s late; the watermark waits 10 s
  start = 'now',              -- event time follows the wall clock
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

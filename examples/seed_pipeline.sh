#!/usr/bin/env bash
# The seed's whole pipeline on one machine, with Kafka in the middle:
#
#   logs generator ──INSERT──► topic 'logs' (2 partitions) ──► crash monitoring ──INSERT──► topic 'crashes'
#                              (sluice broker: a local Kafka-protocol broker)          kcat reads it ◄┘
#
#   bash examples/seed_pipeline.sh [SECONDS]      (default 40; needs build/sluice and kcat)
#
# Each sluice process is what a user would run; kcat is an independent Kafka
# client showing the results as they arrive on the 'crashes' topic.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-40}
SLUICE=${SLUICE:-build/sluice}
command -v kcat >/dev/null || { echo "seed_pipeline: kcat is needed (make deps)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {   # the queries first (their last commits need the broker), then the broker
  for p in "${pids[@]:1}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  kill -INT "${pids[0]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"
}
trap cleanup EXIT

"$SLUICE" broker --topics logs,crashes --partitions 2 > "$tmp/addr" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
B=$(head -1 "$tmp/addr")
echo "broker at $B"

# 1. the load generator writes log events into topic 'logs' (20k events/s, event time = now)
"$SLUICE" -q -e "
  CREATE STREAM gen (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR)
    WITH (connector = 'logs', rate = '20000', users = '100', start = 'now', 'out-of-orderness' = '5s', seed = '42');
  CREATE SINK logs_topic WITH (connector = 'kafka', topic = 'logs', format = 'json',
    'properties.bootstrap.servers' = '$B');
  INSERT INTO logs_topic SELECT * FROM gen;" 2>"$tmp/gen.err" &
pids+=($!)

# 2. the seed's Activity 3 query reads 'logs' and writes crash counts to 'crashes'
"$SLUICE" -q -e "
  CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
                      WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
    WITH (connector = 'kafka', topic = 'logs', format = 'json', 'properties.bootstrap.servers' = '$B',
          'scan.startup.mode' = 'earliest-offset');
  CREATE SINK crashes WITH (connector = 'kafka', topic = 'crashes', format = 'json', key = 'user_id',
    'properties.bootstrap.servers' = '$B');
  INSERT INTO crashes
  SELECT window_start, window_end, user_id, COUNT(*) AS crashes
  FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
  WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id;" 2>"$tmp/mon.err" &
pids+=($!)

echo "crash counts per user per 10-second window, as kcat reads them from topic 'crashes' (first after ~20 s):"
timeout "$SECONDS_TO_RUN" kcat -C -b "$B" -t crashes -q -f '%k\t%s\n' || true

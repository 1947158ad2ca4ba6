#!/usr/bin/env bash
# The seed's pipeline scaled out (issue 13; docs/scaling.md): two sluice
# instances run one query as a group, with Kafka in the middle, and enrich
# the crash events with a table of users before counting them per country:
#
#   logs generator ─► topic 'logs' (6 partitions) ─┬─► instance A ─┐  repartition topic
#                                                  └─► instance B ─┴─► 'crashes-1-repartition'
#   users (kcat) ──► topic 'users' ('table' = 'true': read whole by A and B)      │
#                                         A and B count windows ─► topic 'crashes_by_country' ─► kcat
#
#   bash examples/group_pipeline.sh [SECONDS]     (default 60; needs build/sluice and kcat)
#
# Both instances join the consumer group 'crashes': Kafka gives each some of
# the partitions of 'logs'; each reads the whole 'users' topic, joins its
# events with it where it reads them, pre-aggregates, and writes partial
# counts into the repartition topic; each then finishes the windows of the
# countries Kafka gives it from that topic. Stop one with Ctrl-C (or kill
# it) and the other takes over its partitions.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-60}
SLUICE=${SLUICE:-build/sluice}
command -v kcat >/dev/null || { echo "group_pipeline: kcat is needed (make deps)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {   # the queries first (their last commits need the broker), then the broker
  for p in "${pids[@]:1}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${pids[@]:1}"; do wait "$p" 2>/dev/null || true; done
  kill -INT "${pids[0]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"
}
trap cleanup EXIT

"$SLUICE" broker --topics logs,users,crashes_by_country,crashes-1-repartition --partitions 6 > "$tmp/addr" 2>/dev/null &
pids+=($!)
for _ in $(seq 50); do [ -s "$tmp/addr" ] && break; sleep 0.1; done
B=$(head -1 "$tmp/addr")
echo "broker at $B"

# 1. the users table: one record per user, keyed by user_id (a later record would replace it)
for u in $(seq 0 100); do
  case $((u % 3)) in 0) c=NL ;; 1) c=DE ;; *) c=FR ;; esac
  printf '%d\t{"user_id":%d,"name":"user%d","country":"%s"}\n' "$u" "$u" "$u" "$c"
done | kcat -b "$B" -t users -P -K '\t'

# 2. the load generator writes log events into topic 'logs' (20k events/s, event time = now)
"$SLUICE" -q -e "
  CREATE STREAM gen (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR)
    WITH (connector = 'logs', rate = '20000', users = '100', start = 'now', 'out-of-orderness' = '5s', seed = '42');
  CREATE SINK logs_topic WITH (connector = 'kafka', topic = 'logs', format = 'json', key = 'user_id',
    'properties.bootstrap.servers' = '$B');
  INSERT INTO logs_topic SELECT * FROM gen;" 2>"$tmp/gen.err" &
pids+=($!)

# 3. two instances of one query, group 'crashes' (each its own state dir)
for n in A B; do
  "$SLUICE" -q --group crashes --state-dir "$tmp/state.$n" --set deployment.partitions=6 -e "
    CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
                        WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
      WITH (connector = 'kafka', topic = 'logs', format = 'json', 'properties.bootstrap.servers' = '$B');
    CREATE STREAM users (user_id BIGINT, name VARCHAR, country VARCHAR)
      WITH (connector = 'kafka', topic = 'users', format = 'json', 'table' = 'true',
            'properties.bootstrap.servers' = '$B');
    CREATE SINK crashes_by_country WITH (connector = 'kafka', topic = 'crashes_by_country', format = 'json',
      key = 'country', 'properties.bootstrap.servers' = '$B');
    INSERT INTO crashes_by_country
    SELECT window_start, window_end, u.country, COUNT(*) AS crashes
    FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) l JOIN users u ON l.user_id = u.user_id
    WHERE l.level = 'CRITICAL' AND l.event = 'crash'
    GROUP BY window_start, window_end, u.country;" 2>"$tmp/$n.err" &
  pids+=($!)
done

echo "crash counts per country per 10-second window, as kcat reads them from topic 'crashes_by_country'"
echo "(the first after ~35 s: the group's first assignment, a window, the watermark delay, a checkpoint):"
timeout "$SECONDS_TO_RUN" kcat -C -b "$B" -t crashes_by_country -q -f '%k\t%s\n' || true
for n in A B; do [ -s "$tmp/$n.err" ] && { echo "instance $n said:"; head -5 "$tmp/$n.err"; }; done
exit 0

#!/usr/bin/env bash
# Kafka offsets in checkpoints: an unbounded query over a topic, with a state
# dir and an exactly-once file sink, is stopped (SIGTERM, then SIGKILL) and
# restarted while kcat keeps producing; at the end the sink holds every
# message exactly once — the restart resumed at the checkpointed offsets of
# each partition, not at the startup mode's. Skipped like kafka.sh.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "kafka_checkpoint.sh: skipped ('sluice broker' or kcat not available)"
  finish
  exit
fi

"$SLUICE" broker --partitions 3 --topics in >"$T/broker.out" 2>"$T/broker.err" </dev/null &
BROKER=$!
trap 'kill -TERM $BROKER 2>/dev/null; wait $BROKER 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s "$T/broker.out" ] && break; sleep 0.1; done
BS=$(head -n 1 "$T/broker.out")

produce() {   # FROM TO: messages with ids FROM..TO into topic in
  for i in $(seq "$1" "$2"); do printf '{"id":%d,"grp":"g%d"}\n' "$i" $((i % 7)); done >"$T/batch.jsonl"
  kcat -b "$BS" -t in -P -l "$T/batch.jsonl" 2>>"$T/kcat.err"
}

cat >"$T/q.sql" <<SQL
CREATE STREAM s (id BIGINT, grp VARCHAR) WITH (connector = 'kafka', topic = 'in', format = 'json',
  'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'earliest-offset');
CREATE SINK out WITH (connector = 'file', path = '$T/out.csv', format = 'csv');
INSERT INTO out SELECT id, grp FROM s;
SQL

run() {   # run the query in the background; PID in $pid
  "$SLUICE" -q --set parallelism=2 --set checkpoint.interval=50ms --state-dir "$T/state" -f "$T/q.sql" \
    >/dev/null 2>>"$T/err" </dev/null &
  pid=$!
}
wait_rows() {   # N: until the sink holds N rows (10 s at most)
  for _ in $(seq 100); do
    [ "$(tail -n +2 "$T/out.csv" 2>/dev/null | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

produce 0 999
run
if wait_rows 1000; then _ok; else _bad "the first 1000 messages are committed" "$(tail -n +2 "$T/out.csv" 2>/dev/null | wc -l) rows; $(tail -c 300 "$T/err")"; fi
kill -TERM $pid; wait $pid
produce 1000 1999          # while it is down
run
sleep 0.5
produce 2000 2999          # while it runs
if wait_rows 3000; then _ok; else _bad "after a stop and restart, 3000 rows" "$(tail -n +2 "$T/out.csv" | wc -l) rows; $(tail -c 300 "$T/err")"; fi
kill -9 $pid; wait $pid 2>/dev/null
produce 3000 3999          # after a crash
run
if wait_rows 4000; then _ok; else _bad "after a crash and restart, 4000 rows" "$(tail -n +2 "$T/out.csv" | wc -l) rows; $(tail -c 300 "$T/err")"; fi
sleep 0.3
kill -TERM $pid; wait $pid
tail -n +2 "$T/out.csv" | sort >"$T/got"
for i in $(seq 0 3999); do echo "$i,g$((i % 7))"; done | sort >"$T/want"
if cmp -s "$T/got" "$T/want"; then _ok; else
  _bad "every message exactly once across a stop and a crash" "$(wc -l <"$T/got") rows; dups: $(sort "$T/got" | uniq -d | head -3 | tr '\n' ' ') missing: $(comm -23 "$T/want" "$T/got" | head -3 | tr '\n' ' ')"; fi
finish

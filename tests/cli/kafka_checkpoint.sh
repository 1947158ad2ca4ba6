#!/usr/bin/env bash
# Kafka offsets in checkpoints: an unbounded query over a topic, with a state
# dir and an exactly-once file sink, is stopped (SIGTERM, then SIGKILL) and
# restarted while kcat keeps producing; at the end the sink holds every
# message exactly once — the restart resumed at the checkpointed offsets of
# each partition, not at the startup mode's. Then messages deleted by the
# broker before the query read them (its retention) stop the restart,
# naming the offsets lost, or with 'scan.on-data-loss' = 'warn' are
# reported and skipped. Skipped like kafka.sh.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "kafka_checkpoint.sh: skipped ('sluice broker' or kcat not available)"
  finish
  exit
fi

"$SLUICE" broker --partitions 3 --topics in >"$T/broker.out" 2>"$T/broker.err" </dev/null &
BROKER=$!
trap 'kill -TERM $BROKER 2>/dev/null; wait $BROKER 2>/dev/null; rm -rf "$T"' EXIT
wait_nonempty "$T/broker.out"
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

# Data loss: while the query is down, ~7 MB more go into partition 0 in ~1 MB
# message sets; the bundled broker keeps 5 MB a partition and deletes the
# oldest — messages the query had not read among them. The restart resumes
# at the checkpointed offset, which is gone: it fails naming the offsets
# lost (scan.on-data-loss = fail, the default), rather than go on from the
# first message left as if nothing happened. With 'warn' it reads on.
pad=$(head -c 10000 /dev/zero | tr '\0' x)
produce 4000 4099          # unread, then deleted
for k in $(seq 0 6); do
  for i in $(seq $((5000 + k * 100)) $((5099 + k * 100))); do printf '{"id":%d,"grp":"p","pad":"%s"}\n' "$i" "$pad"; done >"$T/big.jsonl"
  kcat -b "$BS" -t in -p 0 -P -l "$T/big.jsonl" 2>>"$T/kcat.err"
done
lo=$(kcat -b "$BS" -t in -p 0 -C -o beginning -c 1 -f '%o\n' -e 2>/dev/null)
: >"$T/err"
run
for _ in $(seq 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
rc=0; kill -0 $pid 2>/dev/null && { kill -9 $pid; rc=killed; }; wait $pid || rc=$?
if [ "$rc" != 0 ] && [ "$rc" != killed ] && grep -q "in\[0\]: offsets [0-9]* to $((lo - 1)) were deleted before they were read (the topic's retention; its log now starts at $lo)" "$T/err"; then _ok; else
  _bad "deleted unread messages fail the query, naming the offsets" "exit $rc, log start ${lo:-?}: $(tail -c 400 "$T/err")"; fi
sed -i "s/'scan.startup.mode' = 'earliest-offset'/'scan.startup.mode' = 'earliest-offset', 'scan.on-data-loss' = 'warn'/" "$T/q.sql"
lost=$(grep -o '[0-9]* records lost' "$T/err" | head -1 | grep -o '^[0-9]*')
run
if wait_rows $((4800 - ${lost:-0})); then _ok; else _bad "with scan.on-data-loss = warn, the read goes on" "$(tail -n +2 "$T/out.csv" | wc -l) rows; $(tail -c 300 "$T/err")"; fi
kill -TERM $pid; wait $pid
if [ "$(tail -n +2 "$T/out.csv" | wc -l)" = $((4800 - ${lost:-0})) ] && [ "$(grep -c "records lost" "$T/err")" -ge 2 ]; then _ok; else _bad "with scan.on-data-loss = warn, the loss is reported" "$(tail -c 300 "$T/err")"; fi
finish

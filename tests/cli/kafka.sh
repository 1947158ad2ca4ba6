#!/usr/bin/env bash
# Kafka end to end with an independent client: `sluice broker` (the embedded
# mock cluster) runs in the background; kcat produces JSON lines into topic
# `in`, sluice reads them back (bounded) and computes; sluice writes topic
# `out` through the kafka sink and kcat consumes it, checking every message
# and its key. Skipped (0 passed, 0 failed) when this build has no
# `sluice broker` subcommand or kcat is missing.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "kafka.sh: skipped ('sluice broker' or kcat not available)"
  finish
  exit
fi

"$SLUICE" broker --partitions 2 --topics in,out,ts >"$T/broker.out" 2>"$T/broker.err" </dev/null &
BROKER=$!
trap 'kill -TERM $BROKER 2>/dev/null; wait $BROKER 2>/dev/null; rm -rf "$T"' EXIT
wait_nonempty "$T/broker.out"
BS=$(head -n 1 "$T/broker.out")
if [[ "$BS" =~ ^127\.0\.0\.1:[0-9]+ ]]; then _ok; else
  _bad "broker prints its bootstrap address first" "'$BS' $(head -c 300 "$T/broker.err")"; fi

# kcat → topic in: 200 JSON lines and 2 malformed ones
for i in $(seq 0 199); do printf '{"id":%d,"grp":"g%d"}\n' "$i" $((i % 5)); done >"$T/in.jsonl"
printf 'not json\n{"id":"x","grp":"g"}\n' >>"$T/in.jsonl"
if kcat -b "$BS" -t in -P -l "$T/in.jsonl" 2>"$T/err"; then _ok; else
  _bad "kcat produces into the broker" "$(head -c 300 "$T/err")"; fi
n=$(timeout 20 kcat -b "$BS" -t in -C -e -q 2>/dev/null | wc -l)
if [ "$n" -eq 202 ]; then _ok; else _bad "kcat reads back what it produced" "$n messages"; fi

SRC="CREATE STREAM s (id BIGINT, grp VARCHAR) WITH (connector = 'kafka', topic = 'in', format = 'json',
  'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset');"

# sluice consumes every good message exactly once (two source tasks, two partitions)
timeout 30 "$SLUICE" -q --format csv --set parallelism=2 -e "$SRC SELECT id, grp FROM s;" \
  >"$T/out" 2>"$T/err" </dev/null
rc=$?
grep -v '^id,grp$' "$T/out" | sort >"$T/got"
for i in $(seq 0 199); do echo "$i,g$((i % 5))"; done | sort >"$T/want"
if [ $rc -eq 0 ] && cmp -s "$T/got" "$T/want"; then _ok; else
  _bad "sluice reads every message from kcat once" "exit $rc: $(diff "$T/want" "$T/got" | head -c 300) $(head -c 300 "$T/err")"; fi

# scan.rate-limit: every message still, never faster than the limit (a
# lower bound on the time only: 200 rows at 100/s with a 0.1 s bucket take
# at least 1.9 s however fast the machine; a slow one only takes longer)
t0=$(date +%s%N)
timeout 30 "$SLUICE" -q --format csv --set parallelism=1 -e "${SRC%);}, 'scan.rate-limit' = '100'); SELECT id, grp FROM s;" \
  >"$T/out" 2>"$T/err" </dev/null
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
grep -v '^id,grp$' "$T/out" | sort >"$T/got"
if [ $rc -eq 0 ] && cmp -s "$T/got" "$T/want" && [ "$ms" -ge 1900 ]; then _ok; else
  _bad "scan.rate-limit = 100: every message, at 100 rows/s at most" "exit $rc, $ms ms: $(diff "$T/want" "$T/got" | head -c 200) $(head -c 300 "$T/err")"; fi
timeout 30 "$SLUICE" -q -e "${SRC%);}, 'scan.rate-limit' = 'fast'); SELECT id FROM s;" >"$T/out" 2>"$T/err" </dev/null
if grep -q "scan.rate-limit" "$T/err"; then _ok; else
  _bad "scan.rate-limit = 'fast' is refused, naming the option" "$(head -c 300 "$T/err")"; fi

# ... and filters
timeout 30 "$SLUICE" -q --format csv -e "$SRC SELECT id FROM s WHERE grp = 'g3' AND id >= 100;" \
  >"$T/out" 2>"$T/err" </dev/null
grep -v '^id$' "$T/out" | sort -n | tr '\n' ' ' >"$T/got"
if [ "$(cat "$T/got")" = "103 108 113 118 123 128 133 138 143 148 153 158 163 168 173 178 183 188 193 198 " ]; then _ok; else
  _bad "sluice computes over the topic" "$(cat "$T/got") $(head -c 300 "$T/err")"; fi

# sluice → topic out with key = grp; kcat consumes and checks each message and key
timeout 30 "$SLUICE" -q -e "$SRC CREATE SINK k WITH (connector = 'kafka', topic = 'out', format = 'json',
  'properties.bootstrap.servers' = '$BS', key = 'grp');
  INSERT INTO k SELECT id, grp FROM s;" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then _ok; else _bad "INSERT INTO a kafka sink" "exit $rc: $(head -c 300 "$T/err")"; fi
timeout 20 kcat -b "$BS" -t out -C -e -q -f '%k\t%s\n' 2>/dev/null | sort >"$T/got"
for i in $(seq 0 199); do printf 'g%d\t{"id":%d,"grp":"g%d"}\n' $((i % 5)) "$i" $((i % 5)); done | sort >"$T/want"
if cmp -s "$T/got" "$T/want"; then _ok; else
  _bad "kcat reads every message sluice produced, keyed by grp" "$(diff "$T/want" "$T/got" | head -c 400)"; fi

# scan.startup.mode = 'timestamp': only the messages produced at or after the
# given time (the broker cannot look offsets up by time: sluice reads from
# the beginning and skips what is older, per partition)
for i in $(seq 1000 1049); do printf '{"id":%d,"grp":"old"}\n' "$i"; done >"$T/old.jsonl"
kcat -b "$BS" -t ts -P -l "$T/old.jsonl" 2>/dev/null
sleep 1.2
T0=$(date +%s%3N)
sleep 0.2
for i in $(seq 2000 2039); do printf '{"id":%d,"grp":"new"}\n' "$i"; done >"$T/new.jsonl"
kcat -b "$BS" -t ts -P -l "$T/new.jsonl" 2>/dev/null
TSSRC="CREATE STREAM t (id BIGINT, grp VARCHAR) WITH (connector = 'kafka', topic = 'ts', format = 'json',
  'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset',
  'scan.startup.mode' = 'timestamp', 'scan.startup.timestamp-millis' = '$T0');"
timeout 30 "$SLUICE" -q --format csv --set parallelism=2 -e "$TSSRC SELECT id, grp FROM t;" >"$T/out" 2>"$T/err" </dev/null
rc=$?
got=$(tail -n +2 "$T/out" | sort -n | tr '\n' ' ')
want=$(for i in $(seq 2000 2039); do printf '%d,new ' "$i"; done)
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then _ok; else
  _bad "startup mode timestamp reads only what came at or after it" "exit $rc: got $(echo "$got" | head -c 200) $(head -c 300 "$T/err")"; fi
expect_out "timestamp mode needs the millis option" "needs 'scan.startup.timestamp-millis'" "$SLUICE" -q -e "CREATE STREAM t (id BIGINT) WITH (connector = 'kafka', topic = 'ts', 'properties.bootstrap.servers' = '$BS', 'scan.startup.mode' = 'timestamp'); SELECT id FROM t;"

# the broker stops on SIGTERM
kill -TERM $BROKER
for _ in $(seq 50); do kill -0 $BROKER 2>/dev/null || break; sleep 0.1; done
if ! kill -0 $BROKER 2>/dev/null; then wait $BROKER; rc=$?; [ $rc -eq 0 ] && _ok || _bad "broker exits 0 on SIGTERM" "exit $rc"; else
  _bad "broker stops on SIGTERM" "still running"; fi
finish

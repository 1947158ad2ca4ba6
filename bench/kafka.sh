#!/usr/bin/env bash
# (c) The seed's crash query through Kafka: logs generator → the bundled
# broker (`sluice broker`) → sluice.
#
#   1. `sluice broker --topics logs --partitions P` (librdkafka's mock
#      cluster: in memory, each partition keeps only about its last 5 MB).
#      P = max(4, ceil(N_KAFKA / 15625)): ~2 MB of JSON per partition on
#      average at ~129 bytes per event (64 partitions for 1M events), so the
#      uneven spread of 1000 user keys over P partitions stays far below the
#      retention. The script checks that the topic holds all N_KAFKA
#      messages (with kcat) and says so when it does not.
#   2. Produce, timed once: N_KAFKA events of the logs generator (seed 1,
#      the same events as the JSON files) as JSON messages keyed by user_id,
#      INSERT INTO a kafka sink, parallelism 1. (At parallelism 2 the two
#      generator tasks run ahead of each other by up to ~100 s of event time
#      and the sink writes rows as they come, so a partition would be out of
#      order by more than the 10 s watermark delay; one producer task keeps
#      each partition in event-time order up to the generator's 5 s jitter.)
#   3. Consume, at parallelism 1 and 2, best of REPEAT: the crash query over
#      the topic with scan.bounded.mode = latest-offset (read to the high
#      watermarks fetched at setup, then end). The timed region is the whole
#      sluice process: connecting, metadata and watermark requests,
#      fetching, JSON decoding, the query, the CSV output to /dev/null.
#   4. Checks that the answer equals the one the logs generator gives for the
#      same events directly (no late rows, nothing lost).
# A benchmark, not a test: it never fails on speed. Skipped with a message
# when the broker cannot start.
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
N=$N_KAFKA
P=$(( (N + 15624) / 15625 )); [ "$P" -lt 4 ] && P=4
WL="crash query, Kafka $(human "$N")"
T=$(mktemp -d)
start_broker Kafka logs "$P"
echo "== Kafka: broker $B, topic logs, $P partitions, $N events (best of $REPEAT)"
GEN_COLS="ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR"
GEN_N="CREATE STREAM gen ($GEN_COLS) WITH (connector = 'logs', count = '$N', users = '1000', seed = '1', 'out-of-orderness' = '5s');"
$MEASURE "Kafka produce (logs generator → broker) $(human "$N")" sluice 1 "$N" 1 "$BENCH_RECORDS" -- \
  "$SLUICE" -q --set parallelism=1 -e "$GEN_N
  CREATE SINK t WITH (connector = 'kafka', topic = 'logs', format = 'json', key = 'user_id',
                      'properties.bootstrap.servers' = '$B');
  INSERT INTO t SELECT * FROM gen;" || { echo "skipping Kafka: producing failed"; exit 0; }

held=""
if command -v kcat >/dev/null; then
  held=0
  for p in $(seq 0 $((P - 1))); do
    hi=$(kcat -Q -b "$B" -t "logs:$p:-1" 2>/dev/null | awk '{print $NF}')
    lo=$(kcat -Q -b "$B" -t "logs:$p:-2" 2>/dev/null | awk '{print $NF}')
    held=$((held + ${hi:-0} - ${lo:-0}))
  done
  [ "$held" = "$N" ] || echo "warning: the topic holds $held of $N messages (retention or failed deliveries)"
fi

KDDL="CREATE STREAM logs ($COLS) WITH (connector = 'kafka', topic = 'logs', format = 'json',
  'properties.bootstrap.servers' = '$B', 'scan.bounded.mode' = 'latest-offset');"
for p in 1 2; do
  $MEASURE "$WL" sluice $p "$N" "$REPEAT" "$BENCH_RECORDS" -- \
    "$SLUICE" -q --format csv --set parallelism=$p -e "$KDDL $QUERY"
done

# ---- same answer as the generator read directly? -----------------------------
"$SLUICE" -q --format csv --set parallelism=2 -e "$KDDL $QUERY" 2> "$T/err" \
  | tail -n +2 | LC_ALL=C sort > "$T/kafka.csv"
"$SLUICE" -q --format csv --set parallelism=1 -e "
  CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N', users = '1000', seed = '1', 'out-of-orderness' = '5s');
  $QUERY" | tail -n +2 | LC_ALL=C sort > "$T/gen.csv"
groups=$(wc -l < "$T/gen.csv")
late=$(grep -o '[0-9]* late rows' "$T/err" | head -1)
if cmp -s "$T/kafka.csv" "$T/gen.csv"; then
  msg="$WL: answer agrees with the generator's — $groups (window, user) groups; topic held ${held:-?} of $N messages, $P partitions"
else
  msg="$WL: answer DIFFERS from the generator's: $(wc -l < "$T/kafka.csv") vs $groups groups${late:+, $late dropped}; topic held ${held:-?} of $N messages, $P partitions"
fi
echo "$msg"
python3 -c 'import json, sys; print(json.dumps({"check": sys.argv[1]}))' "$msg" >> "$BENCH_RECORDS"

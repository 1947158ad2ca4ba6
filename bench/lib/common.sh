# Shared by the bench/*.sh workloads (sourced; not run by run.sh).
# The seed's crash query, its stream schema, the sizes of every workload, and
# the JSON-lines files crash.sh, kafka.sh and peers.sh read.
#
# Sizes (environment; BENCH_QUICK=1 picks the smaller defaults in brackets):
#   N_GEN      logs-generator events for the crash query       100M  [20M]
#   N_FILES    JSON-lines files, events each (space-separated)  "1000000 10000000"  [1000000]
#              (N_FILE=n, the old knob, means N_FILES=n)
#   N_KAFKA    events produced into the bundled broker          1M    [200k]
#   N_NEXMARK  nexmark generator events (all types) per query    5M    [1M]
#   REPEAT     runs per measurement, best kept                  3     [1]
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
BENCH_QUICK=${BENCH_QUICK:-0}
if [ "$BENCH_QUICK" = 1 ]; then
  N_GEN=${N_GEN:-20000000};  N_KAFKA=${N_KAFKA:-200000};  N_NEXMARK=${N_NEXMARK:-1000000}
  REPEAT=${REPEAT:-1};       N_FILES=${N_FILES:-${N_FILE:-1000000}}
else
  N_GEN=${N_GEN:-100000000}; N_KAFKA=${N_KAFKA:-1000000}; N_NEXMARK=${N_NEXMARK:-5000000}
  REPEAT=${REPEAT:-3};       N_FILES=${N_FILES:-${N_FILE:-1000000 10000000}}
fi
# Where measurements go (JSON lines, one per run); bench/run.sh sets it and
# turns it into the table. Standalone runs just print.
BENCH_RECORDS=${BENCH_RECORDS:-/dev/null}
MEASURE="python3 bench/lib/measure.py"
QUERY="SELECT window_start, window_end, user_id, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY window_start, window_end, user_id;"
COLS="ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
      WATERMARK FOR ts AS ts - INTERVAL '10' SECOND"
GEN_DDL="CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N_GEN', users = '1000', seed = '1', 'out-of-orderness' = '5s');"
mkdir -p bench/data

# human size of an event count: 1000000 → 1M, 200000 → 200k
human() {
  local n=$1
  if [ $((n % 1000000)) = 0 ]; then echo "$((n / 1000000))M"
  elif [ $((n % 1000)) = 0 ]; then echo "$((n / 1000))k"
  else echo "$n"; fi
}

# use_file N: JSON_FILE, FILE_DDL and FILE_WL (the workload's name) for the
# N-event file
use_file() {
  N_FILE=$1
  JSON_FILE=bench/data/logs-$N_FILE.jsonl
  FILE_DDL="CREATE STREAM logs ($COLS) WITH (connector = 'file', path = '$JSON_FILE', format = 'json');"
  FILE_WL="crash query, JSON file $(human "$N_FILE")"
}

# prepare_json [N]: the JSON-lines file of N (default N_FILE) events of the
# logs generator (seed 1), written once by sluice itself
prepare_json() {
  [ $# -gt 0 ] && use_file "$1"
  if [ ! -s "$JSON_FILE" ]; then
    echo "preparing $JSON_FILE ($N_FILE events) …" >&2
    "$SLUICE" -q --format json --set parallelism=1 -e "
      CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N_FILE', users = '1000', seed = '1', 'out-of-orderness' = '5s');
      SELECT * FROM logs;" > "$JSON_FILE.tmp"
    mv "$JSON_FILE.tmp" "$JSON_FILE"
  fi
}

# start_broker WHAT TOPICS PARTITIONS: `sluice broker` with those topics in
# the background (pid in bpid), its bootstrap address in B; at exit it is
# stopped and $T removed (kept with GROUP_KEEP=1). When it does not start,
# the workload is skipped: a message naming WHAT, exit 0. Needs T.
start_broker() {
  "$SLUICE" broker --topics "$2" --partitions "$3" > "$T/addr" 2> "$T/broker.err" &
  bpid=$!
  trap 'kill -TERM $bpid 2>/dev/null; wait $bpid 2>/dev/null; [ -n "${GROUP_KEEP:-}" ] || rm -rf "$T"' EXIT
  for _ in $(seq 300); do [ -s "$T/addr" ] && break; sleep 0.1; done
  B=$(head -1 "$T/addr")
  if [ -z "$B" ]; then
    echo "skipping $1: sluice broker did not start: $(head -c 300 "$T/broker.err")"
    exit 0
  fi
}

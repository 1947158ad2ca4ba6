#!/usr/bin/env bash
# The seed's crash query, end to end through the sluice binary:
#   (a) from the built-in logs generator (no parsing), 20M events
#   (b) from a JSON-lines file of 1M events (generated once into bench/data/)
# at parallelism 1 and 2. Prints events/s (wall) and events per CPU-second of
# the worker threads. A benchmark, not a test: it never fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
N_GEN=${N_GEN:-20000000}
N_FILE=${N_FILE:-1000000}
mkdir -p bench/data
QUERY="SELECT window_start, window_end, user_id, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY window_start, window_end, user_id;"
COLS="ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
      WATERMARK FOR ts AS ts - INTERVAL '10' SECOND"

file=bench/data/logs-$N_FILE.jsonl
if [ ! -s "$file" ]; then
  echo "preparing $file ($N_FILE events) …" >&2
  "$SLUICE" -q --format json --set parallelism=1 -e "
    CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N_FILE', users = '1000', seed = '1', 'out-of-orderness' = '5s');
    SELECT * FROM logs;" > "$file.tmp"
  mv "$file.tmp" "$file"
fi

run() {   # NAME PARALLELISM DDL EVENTS
  local name=$1 p=$2 ddl=$3 n=$4 prog t0 t1
  prog=$(mktemp)
  t0=$(date +%s.%N)
  "$SLUICE" -q --format csv --set parallelism=$p --progress "$prog" -e "$ddl $QUERY" > /dev/null
  t1=$(date +%s.%N)
  python3 - "$name" "$p" "$n" "$t0" "$t1" "$prog" <<'PY'
import json, sys
name, p, n, t0, t1, prog = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
lines = [json.loads(l) for l in open(prog) if l.strip()]
cpu_ms = sum(l["durationMs"]["cpu"] for l in lines)
rows = lines[-1]["sluice"]["totalInputRows"] if lines else 0
wall = t1 - t0
print(f"{name:<34} p={p}  {rows:>10} events  {wall:7.3f} s  {rows/wall/1e6:8.2f} M events/s  "
      f"{(rows/(cpu_ms/1000) if cpu_ms else 0)/1e6:8.2f} M events/CPU-s")
PY
  rm -f "$prog"
}

echo "== seed crash query (sluice $($SLUICE --version | cut -d' ' -f2), $(nproc) cores)"
for p in 1 2; do
  run "logs generator (no parsing)" $p "CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N_GEN', users = '1000', seed = '1', 'out-of-orderness' = '5s');" "$N_GEN"
done
for p in 1 2; do
  run "JSON file ($N_FILE lines, jansson)" $p "CREATE STREAM logs ($COLS) WITH (connector = 'file', path = '$file', format = 'json');" "$N_FILE"
done

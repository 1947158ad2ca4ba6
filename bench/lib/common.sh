# Shared by bench/crash.sh and bench/peers.sh (sourced; not run by run.sh).
# The seed's crash query, its stream schema, and the JSON-lines file both
# scripts (and the peers) read.
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
N_GEN=${N_GEN:-20000000}
N_FILE=${N_FILE:-1000000}
REPEAT=${REPEAT:-3}
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
JSON_FILE=bench/data/logs-$N_FILE.jsonl
FILE_DDL="CREATE STREAM logs ($COLS) WITH (connector = 'file', path = '$JSON_FILE', format = 'json');"
mkdir -p bench/data

# The JSON-lines file: N_FILE events of the logs generator (seed 1), written
# once by sluice itself.
prepare_json() {
  if [ ! -s "$JSON_FILE" ]; then
    echo "preparing $JSON_FILE ($N_FILE events) …" >&2
    "$SLUICE" -q --format json --set parallelism=1 -e "
      CREATE STREAM logs ($COLS) WITH (connector = 'logs', count = '$N_FILE', users = '1000', seed = '1', 'out-of-orderness' = '5s');
      SELECT * FROM logs;" > "$JSON_FILE.tmp"
    mv "$JSON_FILE.tmp" "$JSON_FILE"
  fi
}

#!/usr/bin/env bash
# Latency from a watermark passing to the rows it releases reaching the
# output: a live run of the seed's query (event time = wall clock, 500k
# events/s, 2 s watermark delay, 1 s windows) for 8 s at parallelism 2.
# Prints p50/p99 over the output batches (sluice's --progress latencyMs).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
prog=$(mktemp)
timeout -s INT 8 "$SLUICE" -q --format csv --set parallelism=2 --progress "$prog" -e "
  CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR,
                      WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'logs', rate = '500000', start = 'now', users = '1000', 'out-of-orderness' = '1s');
  SELECT window_start, window_end, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
  WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;" > /dev/null || true
python3 - "$prog" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
lat = next((l["sluice"]["latencyMs"] for l in reversed(lines) if l["sluice"].get("latencyMs")), None)
rate = max((l["inputRowsPerSecond"] for l in lines), default=0)
if lat:
    print(f"== latency (live, {rate/1e3:.0f}k events/s): watermark → output p50 {lat['p50']:.3f} ms, "
          f"p99 {lat['p99']:.3f} ms over {lat['samples']} output batches (target p99 <= 10 ms)")
else:
    print("== latency: no window closed during the run")
PY
rm -f "$prog"

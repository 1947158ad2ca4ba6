#!/usr/bin/env bash
# Latency from a watermark passing to the rows it releases reaching the
# output: a live run of the seed's query (event time = wall clock, 500k
# events/s, 2 s watermark delay, 1 s windows) for 8 s at parallelism 2.
# Prints p50/p99 over the output batches (sluice's --progress latencyMs) and
# appends them, with the rows read and the CPU the run used, to BENCH_RECORDS
# (the table's p50/p99 columns). The run's rate is fixed, so its rows/s is
# the offered load, not a capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SLUICE=$BUILD/sluice
BENCH_RECORDS=${BENCH_RECORDS:-/dev/null}
prog=$(mktemp)
tf=$(mktemp)
t0=$(date +%s.%N)
# GNU time (when present) gives the run's CPU and peak RSS; timeout signals
# its whole process group, so sluice gets the SIGINT and stops cleanly
timer=(); [ -x /usr/bin/time ] && timer=(/usr/bin/time -q -o "$tf" -f "%U %S %M")
timeout -s INT 8 "${timer[@]}" "$SLUICE" -q --format csv --set parallelism=2 --progress "$prog" -e "
  CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR,
                      WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'logs', rate = '500000', start = 'now', users = '1000', 'out-of-orderness' = '1s');
  SELECT window_start, window_end, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
  WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;" > /dev/null || true
python3 - "$prog" "$BENCH_RECORDS" "$t0" "$tf" <<'PY'
import json, os, sys, time
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wall = time.time() - float(sys.argv[3])
cpu = rss = None
try:
    u, s, m = open(sys.argv[4]).read().split()[-3:]
    cpu, rss = float(u) + float(s), int(m) * 1024
except (OSError, ValueError):
    pass
lat = next((l["sluice"]["latencyMs"] for l in reversed(lines) if l["sluice"].get("latencyMs")), None)
rate = max((l["inputRowsPerSecond"] for l in lines), default=0)
if lat:
    print(f"== latency (live, {rate/1e3:.0f}k events/s): watermark → output p50 {lat['p50']:.3f} ms, "
          f"p99 {lat['p99']:.3f} ms over {lat['samples']} output batches (target p99 <= 10 ms)")
    rows = lines[-1]["sluice"]["totalInputRows"]
    rec = dict(workload="crash query, live 500k events/s (latency)", engine="sluice", threads=2,
               rows=rows, wall_s=wall, cpu_s=cpu, peak_rss_bytes=rss, runs=1,
               latency_p50_ms=lat["p50"], latency_p99_ms=lat["p99"], latency_samples=lat["samples"],
               note="fixed rate for 8 s: rows/s is the offered load; latency = watermark to emitted row")
    with open(sys.argv[2], "a") as f:
        f.write(json.dumps(rec) + "\n")
else:
    print("== latency: no window closed during the run")
PY
rm -f "$prog" "$tf"

#!/usr/bin/env bash
# The seed's crash query, end to end through the sluice binary:
#   (b) from the built-in logs generator (no parsing), N_GEN events
#   (a) from JSON-lines files of N_FILES events (1M and 10M; generated once
#       into bench/data/ by sluice from the same generator)
# at parallelism 1 and 2 (f), best of REPEAT runs. Prints rows/s (wall) and
# rows per CPU-second (user+sys of the whole process). The timed region is
# the whole sluice process: start, planning, reading + decoding the file,
# the query, and writing the result rows as CSV to /dev/null.
# Then the state per (window, key): a live run of the same query (2M
# events/s, 100k users so that windows hold many keys, no window closes in
# the 3.5 s) sampled by --progress each second: the aggregate's
# memoryUsedBytes / numRowsTotal.
# A benchmark, not a test: it never fails on speed. bench/peers.sh runs
# DuckDB and sqlite3 on the same files; bench/run.sh prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh

echo "== seed crash query (sluice $($SLUICE --version | cut -d' ' -f2), $(nproc) cores, best of $REPEAT)"
for p in 1 2; do
  $MEASURE "crash query, logs generator" sluice $p "$N_GEN" "$REPEAT" "$BENCH_RECORDS" -- \
    "$SLUICE" -q --format csv --set parallelism=$p -e "$GEN_DDL $QUERY"
done
for n in $N_FILES; do
  prepare_json "$n"
  for p in 1 2; do
    $MEASURE "$FILE_WL" sluice $p "$N_FILE" "$REPEAT" "$BENCH_RECORDS" -- \
      "$SLUICE" -q --format csv --set parallelism=$p -e "$FILE_DDL $QUERY"
  done
done

# ---- state bytes per (window, key) ------------------------------------------
prog=$(mktemp)
timeout -s INT 3.5 "$SLUICE" -q --format csv --set parallelism=1 --progress "$prog" -e "
  CREATE STREAM logs ($COLS) WITH (connector = 'logs', rate = '2000000', users = '100000', seed = '1',
                                   'out-of-orderness' = '5s');
  $QUERY" > /dev/null || true
python3 - "$prog" "$BENCH_RECORDS" <<'PY'
import json, sys
samples = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    j = json.loads(line)
    ops = j.get("stateOperators") or []
    rows = sum(o.get("numRowsTotal", 0) for o in ops)
    mem = sum(o.get("memoryUsedBytes", 0) for o in ops)
    if rows:
        samples.append((rows, mem))
if not samples:
    print("== state: no --progress sample with state (run too short?)")
    sys.exit(0)
per = [m / r for r, m in samples]
rows, mem = samples[-1]
rec = dict(state=dict(workload="crash query, live logs generator (2M events/s, 100k users), parallelism 1",
                      samples=[dict(rows=r, bytes=m) for r, m in samples],
                      bytes_per_row_last=mem / rows, bytes_per_row_min=min(per), bytes_per_row_max=max(per)))
print(f"== state per (window, user): {mem / rows:.0f} bytes at {rows} groups "
      f"({min(per):.0f}–{max(per):.0f} over {len(samples)} samples; target <= 64)")
with open(sys.argv[2], "a") as f:
    f.write(json.dumps(rec) + "\n")
PY
rm -f "$prog"

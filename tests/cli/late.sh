#!/usr/bin/env bash
# Late rows: with more disorder than the watermark delay, rows whose window
# has already closed are dropped and counted.
# With a delay that covers the disorder, nothing is dropped.
source "$(dirname "$0")/lib.sh"

run() {   # DELAY-SECONDS PARALLELISM → "sum late"
  local delay=$1 p=$2
  "$SLUICE" -q --format csv --set parallelism=$p -e "
    CREATE STREAM g (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '$delay' SECOND)
    WITH (connector = 'logs', count = '50000', seed = '11', 'out-of-orderness' = '10s');
    SELECT window_start, COUNT(*) AS n FROM TUMBLE(g, ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end;" \
    >"$T/out" 2>"$T/err" </dev/null
  local sum late
  sum=$(tail -n +2 "$T/out" | awk -F, '{s += $2} END {print s + 0}')
  late=$(sed -n 's/^warning: \([0-9]*\) late rows were dropped.*/\1/p' "$T/err")
  echo "$sum ${late:-0}"
}

# parallelism 1 aggregates in one phase: every dropped input row is counted.
# With two-phase aggregation the final aggregate drops partial groups, and
# counts those (as Spark's numRowsDroppedByWatermark does): fewer than the
# input rows they stand for.
for p in 1 2; do
  read -r sum late < <(run 1 $p)
  if [ "$p" -eq 1 ]; then
    if [ "$late" -gt 0 ] && [ $((sum + late)) -eq 50000 ]; then _ok; else
      _bad "late rows dropped and counted (parallelism $p)" "counted $sum, late $late"; fi
  else
    if [ "$late" -gt 0 ] && [ "$sum" -lt 50000 ] && [ $((sum + late)) -le 50000 ]; then _ok; else
      _bad "late rows dropped (parallelism $p)" "counted $sum, late $late"; fi
  fi
  read -r sum late < <(run 11 $p)
  if [ "$late" -eq 0 ] && [ "$sum" -eq 50000 ]; then _ok; else
    _bad "a delay covering the disorder drops nothing (parallelism $p)" "counted $sum, late $late"; fi
done
# 'late.sink': every late row is written there with its reason, and the
# aggregate runs in one phase so nothing is lost: counted + late = all rows
for p in 1 2; do
  "$SLUICE" -q --format csv --set parallelism=$p -e "
    CREATE SINK late_rows WITH (connector = 'file', path = '$T/late$p.jsonl', format = 'json');
    CREATE STREAM g (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
    WITH (connector = 'logs', count = '50000', seed = '11', 'out-of-orderness' = '10s', 'late.sink' = 'late_rows');
    SELECT window_start, COUNT(*) AS n FROM TUMBLE(g, ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end;" \
    >"$T/out" 2>"$T/err" </dev/null
  sum=$(tail -n +2 "$T/out" | awk -F, '{s += $2} END {print s + 0}')
  nlate=$(wc -l < "$T/late$p.jsonl" 2>/dev/null || echo 0)
  if [ "$nlate" -gt 0 ] && [ $((sum + nlate)) -eq 50000 ] && grep -q '"late_reason":"window already closed' "$T/late$p.jsonl"; then _ok; else
    _bad "late.sink receives every late row (parallelism $p)" "counted $sum, late file $nlate rows; $(head -c 200 "$T/err")"; fi
done
finish

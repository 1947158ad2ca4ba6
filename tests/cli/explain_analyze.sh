#!/usr/bin/env bash
# EXPLAIN ANALYZE runs the query without printing its rows and annotates each
# stage of the plan with its figures; the figures agree with what a plain
# run of the same query returns.
source "$(dirname "$0")/lib.sh"

DDL="CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR,
       WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
     WITH (connector = 'logs', count = '200000', users = '500', zipf = '1.3', seed = '3');"
Q="SELECT user_id, window_start, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
   WHERE level = 'CRITICAL' GROUP BY user_id, window_start, window_end;"

rows=$("$SLUICE" -q --format csv --set parallelism=2 -e "$DDL $Q" | tail -n +2 | wc -l)
"$SLUICE" -q --set parallelism=2 -e "$DDL EXPLAIN ANALYZE $Q" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then _ok; else _bad "EXPLAIN ANALYZE runs" "exit $rc: $(head -c 300 "$T/err")"; fi
if grep -q "^Ran .* · input 200000 rows · output $rows rows" "$T/out"; then _ok; else
  _bad "its totals match a plain run ($rows rows)" "$(head -3 "$T/out")"; fi
if ! grep -q "^[0-9]*,20" "$T/out" && ! grep -q "user_id *|" "$T/out"; then _ok; else
  _bad "no result rows are printed" "$(head -5 "$T/out")"; fi
# stage 0 read every row and shuffled; stage 1 produced the output
if grep -A1 "Stage 0 · 2 tasks" "$T/out" | grep -q "» rows in 200.0k · out .* (shuffled .*B)"; then _ok; else
  _bad "the source stage shows its rows and its shuffle" "$(grep -A2 'Stage 0' "$T/out")"; fi
if grep -A3 "Stage 1 · 2 tasks" "$T/out" | grep -q "» skew [0-9.]* (max .* / median of 2 tasks)"; then _ok; else
  _bad "the aggregate stage shows its skew" "$(grep -A3 'Stage 1' "$T/out")"; fi
out1=$(grep -A1 "Stage 1 · 2 tasks" "$T/out" | sed -n 's/.*· out \([0-9.k]*\) .*/\1/p')
want=$rows; [ "$rows" -ge 10000 ] && want=$(awk -v r="$rows" 'BEGIN { printf "%.1fk", r / 1000 }')
if [ "$out1" = "$want" ]; then _ok; else _bad "stage 1's rows out = the query's rows" "$out1 vs $want"; fi
if grep -A2 "Stage 0 · 2 tasks" "$T/out" | grep -qE "» time Aggregate [0-9.]+ s · Window [0-9.]+ s · Scan [0-9.]+ s"; then _ok; else
  _bad "time per operator, top-down" "$(grep -A3 'Stage 0' "$T/out")"; fi
expect_exit 1 "EXPLAIN ANALYZE FORMAT JSON is refused" "$SLUICE" -q -e "$DDL EXPLAIN ANALYZE FORMAT JSON $Q"
finish

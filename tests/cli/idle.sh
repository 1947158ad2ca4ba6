#!/usr/bin/env bash
# Idle inputs: a followed file is read by one of two source tasks; the other
# has nothing. After watermark.idle-timeout the quiet task stops holding back
# the watermark, so windows close; before it, they do not.
source "$(dirname "$0")/lib.sh"
mkdir -p "$T/in"
printf '%s\n' '{"ts":"2024-01-01 00:00:01","k":1}' '{"ts":"2024-01-01 00:00:05","k":1}' \
  '{"ts":"2024-01-01 00:00:30","k":1}' > "$T/in/a.jsonl"
Q() { echo "CREATE STREAM s (ts TIMESTAMP, k BIGINT, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
  WITH (connector = 'file', path = '$T/in/*.jsonl', follow = 'true');
  SELECT window_start, COUNT(*) FROM TUMBLE(s, ts, INTERVAL '10' SECOND) GROUP BY window_start, window_end LIMIT 1;"; }

timeout 20 "$SLUICE" -q --format csv --set parallelism=2 --set watermark.idle-timeout=300ms -e "$(Q)" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ $rc -eq 0 ] && grep -q '^2024-01-01 00:00:00,2$' "$T/out"; then _ok; else
  _bad "windows close once a quiet input is idle" "exit $rc: $(cat "$T/out" "$T/err")"; fi

"$SLUICE" -q --format csv --set parallelism=2 --set watermark.idle-timeout=1min -e "$(Q)" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 1.5
kill -INT $pid; wait $pid
if [ "$(wc -l < "$T/out")" -eq 1 ]; then _ok; else
  _bad "a quiet input holds the watermark back until the timeout" "$(cat "$T/out")"; fi
finish

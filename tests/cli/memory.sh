#!/usr/bin/env bash
# No allocation per row, no growth: the seed's query over 60 s of event time
# (60 000 events at the generator's 1 000 events/s of event time: six
# 10-second windows open, fill, close and are freed) and over 240 s (24
# windows) makes the same number of heap allocations — window state is
# reused, not grown — and valgrind memcheck finds no error and no leak.
# The count is exact on one worker thread; with two it varies with thread
# timing (batches in flight between the stages: 2917 and 3290 once on a
# loaded machine), so there the bound is looser.
source "$(dirname "$0")/lib.sh"
# valgrind cannot run an AddressSanitizer build (make SAN=1): there ASan checks memory instead
case "${BUILD:-build}" in *san*) echo "0 passed, 0 failed"; exit 0 ;; esac
command -v valgrind >/dev/null || { echo "FAIL $0: valgrind is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }

allocs() {   # PARALLELISM EVENTS → "allocs exit"
  local sql="CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR,
      WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
    WITH (connector = 'logs', count = '$2', users = '500', 'out-of-orderness' = '1s');
    SELECT window_start, window_end, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
    WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;"
  valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
    "$SLUICE" -q --format csv --set parallelism="$1" -e "$sql" >/dev/null 2>"$T/vg" </dev/null
  local rc=$?
  local n
  n=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$T/vg" | tr -d ,)
  echo "${n:-0} $rc"
}

read -r o1 orc1 < <(allocs 1 60000)
read -r o2 orc2 < <(allocs 1 240000)
read -r a1 rc1 < <(allocs 2 60000)
read -r a2 rc2 < <(allocs 2 240000)
[ -n "${MEMORY_VERBOSE:-}" ] && echo "allocs: one thread $o1 (60 s) $o2 (240 s); two $a1 (60 s) $a2 (240 s)"
if [ "$orc1" -eq 0 ] && [ "$orc2" -eq 0 ] && [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ]; then _ok; else
  _bad "valgrind memcheck clean" "exit $orc1 / $orc2 / $rc1 / $rc2: $(grep -E 'ERROR SUMMARY|definitely' "$T/vg")"; fi
if [ "$o1" -gt 0 ] && [ "$o2" -le $((o1 + 10)) ]; then _ok; else
  _bad "allocations do not grow with rows or closed windows (one thread)" "$o1 allocs for 60 s of events, $o2 for 240 s"; fi
if [ "$a1" -gt 0 ] && [ "$a2" -le $((a1 + a1 / 5 + 50)) ]; then _ok; else
  _bad "allocations do not grow with rows or closed windows (two threads)" "$a1 allocs for 60 s of events, $a2 for 240 s"; fi
finish

#!/usr/bin/env bash
# Background queries in the interactive shell (tmux): INSERT INTO returns a
# query id at once; SHOW QUERIES, DESCRIBE QUERY and STOP QUERY manage it.
source "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null 2>&1; then echo "0 passed, 0 failed"; exit 0; fi

source "$(dirname "$0")/tmux_lib.bash"

tmux_start sq "SLUICE_HISTORY=$T/hist $SLUICE"
wait_for "the shell starts" 'sluice>'
send_line "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', rate = '2000');"
send_line "CREATE SINK f WITH (connector = 'file', path = '$T/out.jsonl', format = 'json');"
wait_for "DDL" '^CREATE SINK'
send_line "INSERT INTO f SELECT user_id FROM g;"
wait_for "INSERT returns a query id" 'INSERT started as query q1'
send_line "SHOW QUERIES;"
wait_for "SHOW QUERIES lists it running" 'q1 +\| running +\| f '
wait_for "SHOW QUERIES has rates and the watermark" 'rows_per_second +\| output_rows +\| watermark'
sleep 1
n=$(wc -l < "$T/out.jsonl" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ]; then _ok; else _bad "the query writes while the shell is free" "$n lines"; fi
send_line "DESCRIBE QUERY q1;"
wait_for "DESCRIBE QUERY shows figures and the plan" 'Query q1 · running'
wait_for "DESCRIBE QUERY shows the plan" 'Output: sink f'
wait_for "DESCRIBE QUERY annotates the stage with live figures" '» rows in [0-9.]+k? · out [0-9.]+k? · state 0 rows'
send_line "STOP QUERY q1;"
wait_for "STOP QUERY" '^STOP QUERY$'
send_line "SHOW QUERIES;"
wait_for "it is stopped" 'q1 +\| stopped'
n1=$(wc -l < "$T/out.jsonl"); sleep 0.5; n2=$(wc -l < "$T/out.jsonl")
if [ "$n1" -eq "$n2" ]; then _ok; else _bad "nothing is written after STOP QUERY" "$n1 then $n2 lines"; fi
send_line "STOP QUERY q9;"
wait_for "an unknown id is an error" "no query with id 'q9'"
send_line '\q'
for _ in $(seq 50); do tm has-session -t "$S" 2>/dev/null || break; sleep 0.1; done
if tm has-session -t "$S" 2>/dev/null; then _bad "\\q exits" "still running"; else _ok; fi
finish

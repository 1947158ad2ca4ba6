#!/usr/bin/env bash
# The shell issue's "done when", step by step in a real terminal (tmux): a
# new user starts sluice, pastes the seed's DDL and crash query
# (examples/crash_monitoring.sql), watches the status line and the crash
# counts arrive, presses Ctrl-C, starts a background INSERT, runs SHOW
# QUERIES and EXPLAIN ANALYZE, and leaves with \q.
source "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null 2>&1; then echo "tmux not found: skipping"; finish; exit 0; fi

source "$(dirname "$0")/tmux_lib.bash"

tmux_start walk "env HOME='$T' SLUICE_HISTORY='$T/hist' TERM=xterm '$SLUICE'"
wait_for "the shell starts" '^sluice>'

# paste the seed's DDL and query as they are in the example (comments and all)
tm load-buffer -b seed examples/crash_monitoring.sql
tm paste-buffer -b seed -t "$S"
tm send-keys -t "$S" Enter
wait_for "the DDL is accepted" '^CREATE STREAM$'
wait_for "the query's header appears" '^ window_start +\| window_end +\| user_id +\| crashes'
wait_for "the live status line" '^in [0-9.kMG]+ rows/s \| processed [0-9.kMG]+ rows/s \| watermark .* \| state [0-9.kMG]+ rows \| late [0-9]+' 10
# the first 10-second window closes when the watermark (10 s behind) passes it
wait_for "crash counts arrive" '^ 20[0-9-]+ [0-9:.]+ +\| 20[0-9-]+ [0-9:.]+ +\| +[0-9]+ \| +[0-9]+$' 40
tm send-keys -t "$S" C-c
wait_for "Ctrl-C stops the query, not the shell" '^Query stopped by Ctrl-C: [0-9]+ rows? received\.$'

# a background query, then SHOW QUERIES
send_line "CREATE SINK crashes WITH (connector = 'file', path = '$T/crashes.jsonl', format = 'json');"
wait_for "CREATE SINK" '^CREATE SINK$'
send_line "INSERT INTO crashes SELECT window_start, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;"
wait_for "INSERT returns a query id" 'INSERT started as query q[0-9]+'
send_line "SHOW QUERIES;"
wait_for "SHOW QUERIES lists it" 'q[0-9]+ +\| running +\| crashes '

# EXPLAIN ANALYZE of a bounded run of the same query
send_line "CREATE STREAM sample (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'logs', count = '200000', users = '100', seed = '42');"
wait_for "a bounded sample stream" '^CREATE STREAM$'
send_line "EXPLAIN ANALYZE SELECT window_start, user_id, COUNT(*) FROM TUMBLE(sample, ts, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;"
wait_for "EXPLAIN ANALYZE prints the totals" '^Ran [0-9.]+ s · input 200000 rows · output [0-9]+ rows' 20
wait_for "…and the stages with their figures" '│ » rows in 200.0k · out '
wait_for "EXPLAIN ANALYZE done" '^EXPLAIN ANALYZE$'

send_line '\q'
for _ in $(seq 100); do tm has-session -t "$S" 2>/dev/null || break; sleep 0.1; done
if tm has-session -t "$S" 2>/dev/null; then _bad "\\q leaves the shell" "still running"; else _ok; fi
finish

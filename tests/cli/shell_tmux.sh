#!/usr/bin/env bash
# The interactive shell in a real terminal: tmux runs build/sluice in a
# detached 200x50 session; keys go in with send-keys and the screen comes
# back with capture-pane. Every wait polls the screen with a timeout.
source "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null 2>&1; then
  echo "tmux not found: skipping the terminal tests"
  finish
  exit 0
fi

unset TMUX
SOCK="sluice-test-$$"
S=sh
tm() { tmux -L "$SOCK" "$@"; }
cleanup() { tm kill-server >/dev/null 2>&1; rm -rf "$T"; }
trap cleanup EXIT

screen() { tm capture-pane -p -t "$S" 2>/dev/null | sed -e 's/[[:space:]]*$//' | grep -v '^$'; }
last_line() { screen | tail -1; }

# send_line TEXT — type TEXT and Enter (a trailing ';' is escaped for tmux)
send_line() {
  local t=$1
  if [ "${t%;}" != "$t" ]; then
    tm send-keys -t "$S" -l -- "${t%;}"
    tm send-keys -t "$S" '\;'
  else
    tm send-keys -t "$S" -l -- "$t"
  fi
  tm send-keys -t "$S" Enter
}

# wait_for NAME EREGEX [SECONDS] — some screen line matches
wait_for() {
  local name=$1 re=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if screen | grep -qE -- "$re"; then _ok; return 0; fi
    sleep 0.05
  done
  _bad "$name" "no line matches /$re/; screen ends: $(screen | tail -6)"
  return 1
}

# wait_count NAME EREGEX N [SECONDS] — at least N screen lines match
wait_count() {
  local name=$1 re=$2 n=$3 secs=${4:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if [ "$(screen | grep -cE -- "$re")" -ge "$n" ]; then _ok; return 0; fi
    sleep 0.05
  done
  _bad "$name" "fewer than $n lines match /$re/; screen ends: $(screen | tail -6)"
  return 1
}

# wait_last NAME EREGEX [SECONDS] — the last non-blank line matches
wait_last() {
  local name=$1 re=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    if last_line | grep -qE -- "$re"; then _ok; return 0; fi
    sleep 0.05
  done
  _bad "$name" "last line is '$(last_line)', want /$re/"
  return 1
}

HIST="$T/history"
printf 'SHOW STREAMS;\n' > "$T/show.sql"
# bash -c (not exec): it outlives Ctrl-C when sluice does, and records the exit code
tm new-session -d -s "$S" -x 200 -y 50 \
  "env HOME='$T' SLUICE_HISTORY='$HIST' TERM=xterm bash -c '\"\$0\"; echo \$? > \"\$1\"' '$SLUICE' '$T/rc'" || { _bad "tmux starts" "new-session failed"; finish; exit; }
tm set-option -t "$S" remain-on-exit on >/dev/null

wait_last "the prompt appears" '^sluice>$'

# a multi-line CREATE STREAM: the continuation prompt, then the tag
send_line "CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR,"
wait_last "continuation prompt" '^   \.\.\.>$'
send_line "  event VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'logs', rate = '40', seed = '3');"
wait_for "CREATE STREAM done" '^CREATE STREAM$'
wait_last "prompt after CREATE" '^sluice>$'

# a query over the unbounded generator: rows arrive as they come
send_line "SELECT user_id, level FROM logs;"
wait_for "table header" '^ user_id +\| level'
wait_count "rows arrive" '^ +[0-9]+ \| [A-Z]+$' 5

# Ctrl-C stops the query, not the shell
tm send-keys -t "$S" C-c
wait_for "Ctrl-C prints the rows received" '^Query stopped by Ctrl-C: [0-9]+ rows? received\.$'
wait_last "prompt after Ctrl-C" '^sluice>$'
n=$(screen | sed -n 's/^Query stopped by Ctrl-C: \([0-9]*\) rows* received\.$/\1/p' | tail -1)
tag=$(screen | sed -n 's/^SELECT \([0-9]*\)$/\1/p' | tail -1)
if [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" = "$tag" ]; then _ok; else
  _bad "rows received matches the rows shown" "received '$n', tag 'SELECT $tag'"; fi

# Up recalls the query from the history; Ctrl-C at the prompt drops the line
tm send-keys -t "$S" Up
wait_last "Up recalls the query" '^sluice> SELECT user_id, level FROM logs;$'
tm send-keys -t "$S" C-c
wait_last "Ctrl-C at the prompt drops the line" '^sluice>$'

# Ctrl-C in the middle of a multi-line statement drops it too
send_line "SELECT user_id"
wait_last "continuation again" '^   \.\.\.>$'
tm send-keys -t "$S" C-c
wait_last "Ctrl-C at the continuation prompt" '^sluice>$'

# Tab completes a column name of a known stream, a keyword and a stream name
# (a unique match gets a space after it, as in bash)
tm send-keys -t "$S" -l "SELECT us"
tm send-keys -t "$S" Tab
wait_last "Tab completes user_id" '^sluice> SELECT user_id$'
tm send-keys -t "$S" -l "FRO"
tm send-keys -t "$S" Tab
wait_last "Tab completes FROM" '^sluice> SELECT user_id FROM$'
tm send-keys -t "$S" -l "lo"
tm send-keys -t "$S" Tab
wait_last "Tab completes a stream name" '^sluice> SELECT user_id FROM logs$'
tm send-keys -t "$S" C-c
wait_last "prompt after completion" '^sluice>$'

# the live status line on a terminal: a windowed count shows no rows for a
# while, so the line stays; it is erased when the query stops
send_line "SELECT window_start, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '1' HOUR) GROUP BY window_start, window_end;"
wait_for "status line" '^in [0-9.kMG]+ rows/s \| processed [0-9.kMG]+ rows/s \| watermark .* behind now\) \| state [0-9.kMG]+ rows \| late [0-9]+$'
tm send-keys -t "$S" C-c
wait_count "Ctrl-C stops the windowed query" '^Query stopped by Ctrl-C' 2
wait_last "prompt after the windowed query" '^sluice>$'
if screen | grep -q 'rows/s'; then _bad "status line erased at the end" "$(screen | grep 'rows/s')"; else _ok; fi

# backslash commands
send_line '\format csv'
wait_for "\\format csv" '^Output format is csv\.$'
send_line '\format xml'
wait_for "\\format with a bad argument" "^.format: unknown format 'xml' \(expected table, changelog, csv or json\)$"
send_line '\timing on'
wait_for "\\timing on" '^Timing is on\.$'
send_line "\\i $T/show.sql"
wait_for "\\i runs a file (csv)" '^logs,logs,,ts - 5 seconds$'
wait_for "\\timing prints the time" '^Time: [0-9.]+ ms$'
send_line '\i'
wait_for "\\i without a file" '^.i: needs a file name'
send_line '\nope'
wait_for "unknown command" "^unknown command '.nope'"
# the changelog view: an op column on every row
send_line '\format changelog'
wait_for "\\format changelog" '^Output format is changelog\.$'
send_line "SELECT user_id, COUNT(*) AS n FROM logs GROUP BY user_id LIMIT 3;"
wait_for "changelog header" '^ op \| user_id +\| n'
wait_for "changelog rows carry their op" '^ \+[IU] \| +[0-9]+ \| +[0-9]+$'
wait_for "the count is of changes" '^\(3 changes\)$'
send_line '\format csv'
wait_for "back to csv" '^Output format is csv\.$' 
send_line 'HELP'
wait_for "HELP lists statements" '^  CREATE STREAM$'
send_line 'HELP select'
wait_for "HELP SELECT" '^SELECT \[DISTINCT \| ALL\] item'
send_line 'SELEC 1;'
wait_for "a bad statement shows an error" "syntax error near 'SELEC'"
wait_last "a bad statement does not end the shell" '^sluice>$'

# \q leaves; the history file has the statements, multi-line ones as one entry
send_line '\q'
for _ in $(seq 100); do [ -s "$T/rc" ] && break; sleep 0.05; done
if [ "$(cat "$T/rc" 2>/dev/null)" = 0 ]; then _ok; else _bad "\\q exits 0" "exit code '$(cat "$T/rc" 2>/dev/null)'"; fi
if grep -q 'SELECT.040user_id,.040level.040FROM.040logs;' "$HIST" 2>/dev/null; then _ok; else
  _bad "history has the query" "$(head -c 400 "$HIST" 2>&1)"; fi
if [ "$(grep -c 'CREATE.040STREAM.040logs.*event.040VARCHAR' "$HIST" 2>/dev/null)" = 1 ]; then _ok; else
  _bad "multi-line statement is one history entry" "$(head -c 400 "$HIST" 2>&1)"; fi

# a second shell reads the history back: Up shows the last statement
tm kill-session -t "$S" 2>/dev/null
tm new-session -d -s "$S" -x 200 -y 50 "env HOME='$T' SLUICE_HISTORY='$HIST' TERM=xterm '$SLUICE'"
wait_last "second shell starts" '^sluice>$'
tm send-keys -t "$S" Up Up
wait_last "history survives a restart" '^sluice> SELEC 1;$'
tm send-keys -t "$S" C-d C-d
tm kill-session -t "$S" 2>/dev/null

# no status line when stderr is not a terminal
"$SLUICE" -q -e "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', rate = '20'); SELECT user_id FROM g LIMIT 12;" \
  >"$T/out" 2>"$T/err" </dev/null
if [ "$(wc -l < "$T/out")" -ge 12 ] && ! grep -q 'rows/s' "$T/err"; then _ok; else
  _bad "no status line off a terminal" "$(head -c 300 "$T/err")"; fi

finish

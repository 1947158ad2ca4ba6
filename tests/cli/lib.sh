# tests/cli/lib.sh — tiny helpers for CLI tests that drive build/sluice.
#   source "$(dirname "$0")/lib.sh"
#   expect_exit 0 "check ok" "$SLUICE" --check -e 'SELECT 1;'
#   expect_out  "help"  "Usage:" "$SLUICE" --help
#   finish
# Each check prints "FAIL tests/cli/x.sh: name: why" on failure; finish prints
# "N passed, M failed" and sets the exit status.
set -u
SLUICE=${SLUICE:-$PWD/build/sluice}
_pass=0
_fail=0
_self=${BASH_SOURCE[1]:-$0}
T=$(mktemp -d)
trap '[ -n "${KEEP_T:-}" ] && echo "kept $T" >&2 || rm -rf "$T"' EXIT

_ok()  { _pass=$((_pass + 1)); }
_bad() { _fail=$((_fail + 1)); echo "FAIL $_self: $1: $2"; }

# expect_exit CODE NAME CMD...   — the command exits with CODE
expect_exit() {
  local want=$1 name=$2; shift 2
  "$@" >"$T/out" 2>"$T/err" </dev/null
  local rc=$?
  if [ "$rc" -eq "$want" ]; then _ok; else
    _bad "$name" "exit $rc, want $want; stderr: $(head -c 300 "$T/err")"; fi
}

# expect_out NAME SUBSTRING CMD...  — stdout+stderr contains SUBSTRING
expect_out() {
  local name=$1 want=$2; shift 2
  "$@" >"$T/out" 2>&1 </dev/null
  if grep -qF -- "$want" "$T/out"; then _ok; else
    _bad "$name" "output lacks '$want': $(head -c 300 "$T/out")"; fi
}

# expect_stdout_file NAME FILE CMD... — stdout equals FILE exactly
expect_stdout_file() {
  local name=$1 file=$2; shift 2
  "$@" >"$T/out" 2>"$T/err" </dev/null
  if cmp -s "$T/out" "$file"; then _ok; else
    _bad "$name" "stdout differs from $file: $(diff "$file" "$T/out" | head -c 400)"; fi
}

# group_broker NAME TOPICS: the bundled broker (6 partitions a topic) in the
# background for a group test, its address in BS; the test's instances go
# into PIDS. At exit they and the broker are stopped (KEEP=1 first copies
# the logs and outputs to /tmp/NAME.keep.PID), and $T is removed.
# wait_nonempty FILE: until FILE has content (a broker's address), 30 s at
# most — a loaded machine starts a broker with many partitions slowly
wait_nonempty() {
  for _ in $(seq 300); do [ -s "$1" ] && return 0; sleep 0.1; done
  return 1
}

group_broker() {
  _gname=$1
  "$SLUICE" broker --partitions 6 --topics "$2" >"$T/broker.out" 2>"$T/broker.err" </dev/null &
  BROKER=$!
  PIDS=()
  trap _group_cleanup EXIT
  wait_nonempty "$T/broker.out"
  BS=$(head -n 1 "$T/broker.out")
}
_group_cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  kill -TERM "$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null
  [ -n "${KEEP:-}" ] && cp -r "$T" "/tmp/$_gname.keep.$$"
  rm -rf "$T"
}

# ---- group runs (group_agg.sh, group_wjoin.sh): each run on a fresh broker
# (run_broker; PIDS the run's instances, BROKER the broker); instance NAME
# of run RUN writes $T/out.RUN.NAME.csv (a file sink) and --progress
# $T/prog.RUN.NAME
run_cleanup() {   # the last run's instances (SIGKILL) and broker
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${BROKER:-}" ] && { kill -TERM "$BROKER" 2>/dev/null; wait "$BROKER" 2>/dev/null; }
}
run_broker() {   # TOPICS [P]: the last run gone, a fresh bundled broker with TOPICS (P partitions, 6); sets BS
  run_cleanup
  PIDS=()
  "$SLUICE" broker --partitions "${2:-6}" --topics "$1" >"$T/broker.out" 2>"$T/broker.err" </dev/null &
  BROKER=$!
  wait_nonempty "$T/broker.out"
  BS=$(head -n 1 "$T/broker.out")
  [ -z "$BS" ] && echo "$(basename "$0"): the broker gave no address: $(head -c 300 "$T/broker.err")"
  # it answers before anything starts (a run once found none: every instance
  # failed on the topic's metadata)
  for _ in $(seq 20); do kcat -b "$BS" -L -t "${1%%,*}" >/dev/null 2>&1 && break; sleep 0.5; done
}
progress_sum() {   # KEY RUN NAME...: KEY summed over the instances' last progress reports
  local key=$1 run=$2 sum=0 n v; shift 2
  for n in "$@"; do
    v=$(tail -n 1 "$T/prog.$run.$n" 2>/dev/null | grep -o "\"$key\": *[0-9]*" | grep -o '[0-9]*$')
    sum=$((sum + ${v:-0}))
  done
  echo $sum
}
late() { progress_sum numRowsDroppedByWatermark "$@"; }   # RUN NAME...: rows dropped as late
replayed() { progress_sum replayedRows "$@"; }            # RUN NAME...: rows read again after moves
rows() { local run=$1; shift; for n in "$@"; do tail -n +2 "$T/out.$run.$n.csv" 2>/dev/null; done; }
wait_ended() {   # SECONDS PID...: 0 when all ended in time (exit codes in $T/rc.PID)
  local secs=$1; shift
  for _ in $(seq $((secs * 10))); do
    local alive=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  local late=0
  for p in "$@"; do
    if kill -0 "$p" 2>/dev/null; then late=1; kill -9 "$p"; fi
    wait "$p"; echo $? >"$T/rc.$p"
  done
  return $late
}
crash_start() {   # WHAT RUN NAME START-ARGS...: the test's `start START-ARGS...` (instance NAME
                  # of RUN) with SLUICE_CRASH_AFTER_COMMIT=2, which kills itself right after the
                  # sink's commit of its second checkpoint with rows; waits (60 s at most) until
                  # it has, and checks it died of SIGKILL. In a subshell that waits for it and
                  # keeps its exit code: no "Killed" from this shell.
  local what=$1 run=$2 name=$3 pid rc=alive; shift 3
  ( SLUICE_CRASH_AFTER_COMMIT=2 start "$@"; wait "${PIDS[-1]}" 2>/dev/null; echo $? >"$T/rc.crash.$run" ) &
  pid=$!
  for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then pkill -9 -P "$pid"; else rc=$(cat "$T/rc.crash.$run"); fi
  wait "$pid" 2>/dev/null
  if [ "$rc" = 137 ]; then _ok; else
    _bad "$what: $name killed itself after a commit" "exit code $rc (alive: still running after 60 s): $(tail -c 300 "$T/log.$run.$name")"; fi
}

emitted() {   # RUN NAME: wait (30 s at most) until the instance has emitted rows
  for _ in $(seq 300); do
    [ -s "$T/.out.$1.$2.csv.pending" ] || [ "$(rows "$1" "$2" | wc -l)" -gt 0 ] && return
    sleep 0.1
  done
}

# ---- group suites with a sqlite3 oracle (group_changes.sh, group_sessions.sh,
# group_wjoin.sh)
group_tools() {   # SUITE: 0 when 'sluice broker', kcat and sqlite3 are there, else says SUITE is skipped
  "$SLUICE" broker --help >/dev/null 2>&1 && command -v kcat >/dev/null 2>&1 && command -v sqlite3 >/dev/null 2>&1 &&
    return 0
  echo "$1: skipped ('sluice broker', kcat or sqlite3 not available)"
  return 1
}
crash_events() {   # N SEED JITTER-MS: N log events of 300 users, 2 ms apart, each up to JITTER-MS
                   # early (0: in time order), with a value to sum: $T/events.jsonl (user TAB
                   # json, for kcat -K) and $T/events.csv (ts,uid,level,event,ms, for sqlite3)
  awk -v n="$1" -v seed="$2" -v jit="$3" 'BEGIN {
    s = seed; t0 = 1700000000000
    split("CRITICAL INFO WARN ERROR", lv, " "); split("crash login click crash", ev, " ")
    for (i = 0; i < n; i++) {
      s = (s * 69069 + 1) % 4294967296; u = 1 + int(s / 65536) % 300
      s = (s * 69069 + 1) % 4294967296; l = lv[1 + int(s / 65536) % 4]
      s = (s * 69069 + 1) % 4294967296; e = ev[1 + int(s / 65536) % 4]
      s = (s * 69069 + 1) % 4294967296; d = int(s / 65536) % 1000
      ts = t0 + i * 2
      if (jit > 0) { s = (s * 69069 + 1) % 4294967296; ts -= int(s / 65536) % jit }
      printf "%d\t{\"ts\":%.0f,\"user_id\":%d,\"level\":\"%s\",\"event\":\"%s\",\"ms\":%d}\n", u, ts, u, l, e, d
    }
  }' >"$T/events.jsonl"
  cut -f2 "$T/events.jsonl" |
    sed 's/.*"ts":\([0-9]*\),"user_id":\([0-9]*\),"level":"\([A-Z]*\)","event":"\([a-z]*\)","ms":\([0-9]*\)}/\1,\2,\3,\4,\5/' >"$T/events.csv"
}
crash_oracle() {   # SELECT: sqlite3's answer over crash_events' rows (table ev), sorted
  sqlite3 -list -separator , :memory: "CREATE TABLE ev (ts INTEGER, uid INTEGER, level TEXT, event TEXT, ms INTEGER);" \
    ".import --csv $T/events.csv ev" "$1" | sort
}
# sqlite3, over table ev (crash_events' csv): each user's crash sessions — crashes
# at most 5 s apart, a gap of exactly 5 s joining them, as Flink's sessions do —
# as s(uid, a = the first crash's ts, b = the last one's + 5 s, n = crashes, m = SUM(ms))
SESSIONS_CTE="WITH e AS (SELECT uid, ts, ms FROM ev WHERE level = 'CRITICAL' AND event = 'crash'),
  f AS (SELECT uid, ts, ms, CASE WHEN ts - LAG(ts) OVER (PARTITION BY uid ORDER BY ts) <= 5000 THEN 0 ELSE 1 END AS nw FROM e),
  g AS (SELECT uid, ts, ms, SUM(nw) OVER (PARTITION BY uid ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM f),
  s AS (SELECT uid, MIN(ts) AS a, MAX(ts) + 5000 AS b, COUNT(*) AS n, SUM(ms) AS m FROM g GROUP BY uid, sid)"
sql_ts() {   # COL: the sqlite3 expression printing epoch-ms COL as sluice's csv does (no trailing zeros)
  echo "strftime('%Y-%m-%d %H:%M:%S', $1 / 1000.0, 'unixepoch') || rtrim(rtrim(printf('.%03d', $1 % 1000), '0'), '.')"
}

finish() {
  echo "$_pass passed, $_fail failed"
  [ "$_fail" -eq 0 ]
}

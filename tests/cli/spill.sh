#!/usr/bin/env bash
# Spilling state to disk: with SET state.memory = 1MB (the minimum) an
# aggregate whose state is several MB moves groups to a LevelDB store and
# takes them back, and the answers do not change:
#   1. a tumbling-window aggregate at parallelism 1 and 2 gives the rows of
#      the run without a limit (and of sqlite3), and it did spill (the
#      --progress samples show numRowsSpilled > 0; without a limit, 0);
#   2. several aggregates (MIN/MAX over VARCHAR, COUNT(DISTINCT), AVG, SUM)
#      grouped by a VARCHAR key: the same answers;
#   3. a non-windowed GROUP BY (a changelog, emitted early before spilling):
#      the same final state per key;
#   4. with checkpoints (--state-dir: the spilled groups live in the state
#      database, versioned per checkpoint): killed (SIGKILL) at random
#      moments and restarted, stopped (SIGTERM) and restarted, the file
#      sink ends with the uninterrupted output; --reset-state starts over;
#   5. the temporary spill directory ($TMPDIR/sluice-spill-*) exists while
#      the query spills and is gone after it, also after a failed query;
#   6. session windows cannot spill: over the budget, a clear error.
# The inputs are rate-limited generators so that every run lasts about
# SPILL_N / SPILL_RATE seconds whatever the build (the --progress samples,
# one a second, then see the state mid-run); the sanitizer build uses
# smaller ones. SPILL_KILLS sets the number of SIGKILLs (6).
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL $0: sqlite3 is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }
command -v jq >/dev/null || { echo "FAIL $0: jq is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }

case "${BUILD:-build}" in
  *san*) N=${SPILL_N:-120000} RATE=${SPILL_RATE:-60000} ;;
  *)     N=${SPILL_N:-250000} RATE=${SPILL_RATE:-100000} ;;
esac
KILLS=${SPILL_KILLS:-6}
KN=$(( KILLS > 6 ? N * KILLS / 2 : 3 * N ))   # events of the killed runs: room for KILLS kills
LIMIT="--set state.memory=1MB"
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"   # every run's temporary spill store goes here (check 5)

# 50 000 users, RATE events per second of event time: a 1 s window holds
# RATE events of ~35-45k distinct users, several MB of state per window
DDL="CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
                         WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
     WITH (connector = 'logs', count = '$N', rate = '$RATE', users = '50000', seed = '5',
           'out-of-orderness' = '500ms');"

# spilled FILE → the largest numRowsSpilled over the --progress samples in FILE
spilled() { jq -s 'map([.stateOperators[]?.numRowsSpilled // 0] | add // 0) | max // 0' "$1" 2>/dev/null || echo -1; }
# run NAME ARGS... → sluice -q --format csv ARGS with the query's stdout in
# $T/NAME.raw, stderr in $T/NAME.err, progress in $T/NAME.prog, exit in $T/NAME.rc
run() {
  local name=$1; shift
  "$SLUICE" -q --format csv --progress "$T/$name.prog" "$@" >"$T/$name.raw" 2>"$T/$name.err" </dev/null
  echo $? >"$T/$name.rc"
}
# rows NAME → the result rows of run NAME, header dropped, sorted
rows() { tail -n +2 "$T/$1.raw" | sort; }
# same NAME WANT GOT — the sorted rows of run GOT equal those of run WANT
same() {
  local name=$1 want=$2 got=$3
  rows "$want" >"$T/$want.sorted"; rows "$got" >"$T/$got.sorted"
  if [ "$(cat "$T/$got.rc")" = 0 ] && [ -s "$T/$want.sorted" ] && cmp -s "$T/$want.sorted" "$T/$got.sorted"; then _ok; else
    _bad "$name" "exit $(cat "$T/$got.rc"); $(wc -l <"$T/$want.sorted") rows expected, $(wc -l <"$T/$got.sorted") got; $(diff "$T/$want.sorted" "$T/$got.sorted" | head -4 | tr '\n' ' ') $(head -c 300 "$T/$got.err")"
  fi
}
# did_spill NAME RUN — its progress shows spilled groups
did_spill() {
  local s; s=$(spilled "$T/$2.prog")
  if [ "$s" -gt 0 ] 2>/dev/null; then _ok; else _bad "$1" "numRowsSpilled peaked at $s: $(head -c 300 "$T/$2.prog")"; fi
}

# ---- 1. a tumbling window, parallelism 1 and 2, and sqlite3 ---------------------
Q1="SELECT window_start, user_id, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
    GROUP BY window_start, window_end, user_id;"
# all four runs at once: they are rate-limited, so mostly idle
run w_ref   --set parallelism=2 -e "$DDL $Q1" &
run w_p1    --set parallelism=1 $LIMIT -e "$DDL $Q1" &
run w_p2    --set parallelism=2 $LIMIT -e "$DDL $Q1" &
run w_rows  --set parallelism=2 -e "$DDL SELECT ts, user_id FROM logs;" &
# meanwhile: is the temporary spill store there while a query spills?
seen=0
while [ -n "$(jobs -rp)" ]; do
  compgen -G "$TMPDIR/sluice-spill-*" >/dev/null && seen=1
  sleep 0.02
done
wait
same "windowed, state.memory=1MB, parallelism 1: the rows of the run without a limit" w_ref w_p1
same "windowed, state.memory=1MB, parallelism 2: the rows of the run without a limit" w_ref w_p2
did_spill "windowed, state.memory=1MB, parallelism 1 spilled" w_p1
did_spill "windowed, state.memory=1MB, parallelism 2 spilled" w_p2
s=$(spilled "$T/w_ref.prog")
if [ "$s" = 0 ] && [ "$(wc -l <"$T/w_ref.prog")" -ge 2 ]; then _ok; else
  _bad "without a limit nothing spills" "numRowsSpilled peaked at $s over $(wc -l <"$T/w_ref.prog") samples"; fi
# the oracle: sqlite3 over the same rows (each timestamp in whole µs, `us`)
sqlite3 "$T/db" <<SQL
CREATE TABLE logs (ts TEXT, user_id INTEGER);
.import --csv --skip 1 $T/w_rows.raw logs
ALTER TABLE logs ADD COLUMN us INTEGER;
UPDATE logs SET us = CAST(strftime('%s', substr(ts, 1, 19)) AS INTEGER) * 1000000
                   + CAST(substr(ts || '.000000', 21, 6) || substr('000000', 1, 6 - length(substr(ts || '.000000', 21, 6))) AS INTEGER);
SQL
sqlite3 -list -separator , "$T/db" \
  "SELECT datetime((us / 1000000), 'unixepoch'), user_id, COUNT(*) FROM logs GROUP BY 1, 2;" | sort >"$T/w_sqlite.sorted"
if [ "$(($(wc -l <"$T/w_rows.raw") - 1))" = "$N" ] && cmp -s "$T/w_sqlite.sorted" "$T/w_p2.sorted"; then _ok; else
  _bad "windowed, state.memory=1MB: the rows sqlite3 gives" "$(wc -l <"$T/w_sqlite.sorted") rows expected, $(wc -l <"$T/w_p2.sorted") got; $(diff "$T/w_sqlite.sorted" "$T/w_p2.sorted" | head -4 | tr '\n' ' ')"; fi
# 5 (success): the spill store was there while the query spilled, and is gone
if [ $seen = 1 ]; then _ok; else _bad "a sluice-spill-* directory exists in TMPDIR while a query spills" "never seen"; fi
if ! compgen -G "$TMPDIR/sluice-spill-*" >/dev/null; then _ok; else
  _bad "no sluice-spill-* directory is left after the queries" "$(ls "$TMPDIR")"; fi

# ---- 2. several aggregates, VARCHAR keys and values ------------------------------
Q2="SELECT window_start, ip, COUNT(*) AS n, MIN(event) AS e_min, MAX(msg) AS m_max, MIN(level) AS l_min,
           COUNT(DISTINCT event) AS events, AVG(user_id) AS u_avg, SUM(user_id) AS u_sum
    FROM TUMBLE(logs, ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end, ip;"
run a_ref --set parallelism=2 -e "$DDL $Q2" &
run a_lim --set parallelism=2 $LIMIT -e "$DDL $Q2" &
wait
same "several aggregates over VARCHAR, state.memory=1MB: the answers without a limit" a_ref a_lim
did_spill "several aggregates over VARCHAR, state.memory=1MB spilled" a_lim

# ---- 3. a non-windowed GROUP BY: a changelog -------------------------------------
# final NAME → the state its changelog leaves: per key (user_id) the last
# +I/+U row, a -U/-D removing it
final() {
  tail -n +2 "$T/$1.raw" | awk -F, '{ k = $2; r = substr($0, length($1) + 2) }
    $1 == "+I" || $1 == "+U" { s[k] = r; next } $1 == "-U" || $1 == "-D" { delete s[k] }
    END { for (k in s) print s[k] }' | sort
}
Q3="SELECT user_id, COUNT(*) AS n, MAX(event) AS e, MIN(ip) AS ip FROM logs GROUP BY user_id;"
run c_ref --set parallelism=2 -e "$DDL $Q3" &
run c_lim --set parallelism=2 $LIMIT -e "$DDL $Q3" &
wait
final c_ref >"$T/c_ref.final"; final c_lim >"$T/c_lim.final"
if [ "$(cat "$T/c_lim.rc")" = 0 ] && [ "$(wc -l <"$T/c_ref.final")" -gt 40000 ] && cmp -s "$T/c_ref.final" "$T/c_lim.final"; then _ok; else
  _bad "non-windowed changelog, state.memory=1MB: the final state without a limit" \
    "exit $(cat "$T/c_lim.rc"); $(wc -l <"$T/c_ref.final") keys expected, $(wc -l <"$T/c_lim.final") got; $(diff "$T/c_ref.final" "$T/c_lim.final" | head -4 | tr '\n' ' ') $(head -c 300 "$T/c_lim.err")"; fi
did_spill "non-windowed changelog, state.memory=1MB spilled" c_lim

# ---- 4. checkpoints + spill: SIGKILL, SIGTERM, --reset-state ---------------------
# cquery COUNT OUT-FILE → the windowed query over COUNT events into a CSV file
# sink; the killed runs read KN events (room for KILLS kills)
cquery() {
  cat <<SQL
${DDL/"count = '$N'"/"count = '$1'"}
CREATE SINK out WITH (connector = 'file', path = '$2', format = 'csv');
INSERT INTO out
SELECT window_start, user_id, COUNT(*) AS n, MAX(event) AS e FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
GROUP BY window_start, window_end, user_id;
SQL
}
d="$T/ckpt"; mkdir -p "$d"
# alongside the killed runs (all rate-limited): the uninterrupted runs over
# KN and N events, and the SIGTERM stop + resume
cquery "$KN" "$d/ref.csv" >"$d/ref.sql"
cquery "$N" "$d/refn.csv" >"$d/refn.sql"
"$SLUICE" -q --set parallelism=2 -f "$d/ref.sql" >/dev/null 2>"$d/ref.err" </dev/null &
refpid=$!
"$SLUICE" -q --set parallelism=2 -f "$d/refn.sql" >/dev/null 2>"$d/refn.err" </dev/null &
refnpid=$!
cquery "$KN" "$d/term.csv" >"$d/t.sql"
(
  # SIGTERM mid-run takes a last checkpoint, spilled groups in it; the restart resumes
  "$SLUICE" -q --set parallelism=2 $LIMIT --set checkpoint.interval=10s --state-dir "$d/tstate" \
    --progress "$d/tprog" -f "$d/t.sql" >/dev/null 2>"$d/terr" </dev/null &
  pid=$!
  sleep 1.2
  kill -TERM $pid 2>/dev/null; wait $pid; echo $? >"$d/trc"
  "$SLUICE" -q --set parallelism=2 $LIMIT --state-dir "$d/tstate" -f "$d/t.sql" >/dev/null 2>>"$d/terr" </dev/null
  echo $? >>"$d/trc"
) &
termpid=$!

cquery "$KN" "$d/out.csv" >"$d/q.sql"
CK=(--set parallelism=2 $LIMIT --set checkpoint.interval=100ms --state-dir "$d/state")
kills=0 runs=0 rc=1 kspill=0
while :; do
  runs=$((runs + 1))
  "$SLUICE" -q "${CK[@]}" --progress "$d/prog$runs" -f "$d/q.sql" >/dev/null 2>>"$d/err" </dev/null &
  pid=$!
  if [ $kills -lt "$KILLS" ]; then
    # a random moment 0.3–1.5 s into this run (a run resumes from its last
    # checkpoint, and spills from ~0.2 s on)
    ms=$((300 + RANDOM % 1200))
    sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
    if kill -9 $pid 2>/dev/null; then
      kills=$((kills + 1))
      wait $pid 2>/dev/null
      continue
    fi
  fi
  wait $pid; rc=$?
  break
done
wait $refpid $refnpid $termpid
for f in "$d"/prog*; do [ "$(spilled "$f")" -gt 0 ] 2>/dev/null && kspill=$((kspill + 1)); done
if [ $rc -eq 0 ]; then _ok; else _bad "checkpoints + spill: the last run completes" "exit $rc: $(tail -c 400 "$d/err")"; fi
if [ $kills -ge "$KILLS" ]; then _ok; else _bad "checkpoints + spill: killed $KILLS times" "only $kills before the input ran out"; fi
if [ $kspill -gt 0 ]; then _ok; else _bad "checkpoints + spill: the runs spilled" "no progress sample with numRowsSpilled > 0 in $runs runs"; fi
tail -n +2 "$d/ref.csv" | sort >"$d/ref.sorted"
tail -n +2 "$d/out.csv" | sort >"$d/out.sorted"
if [ "$(grep -c '^window_start,' "$d/out.csv")" = 1 ] && [ -s "$d/ref.sorted" ] && cmp -s "$d/ref.sorted" "$d/out.sorted"; then _ok; else
  _bad "checkpoints + spill: after $kills kills the output equals an uninterrupted run" \
    "$(grep -c '^window_start,' "$d/out.csv") headers; ref $(wc -l <"$d/ref.sorted") rows, got $(wc -l <"$d/out.sorted"); $(diff "$d/ref.sorted" "$d/out.sorted" | head -4 | tr '\n' ' ')"; fi

tspill=$(spilled "$d/tprog")
tail -n +2 "$d/term.csv" | sort >"$d/term.sorted"
if [ "$(tr '\n' ' ' <"$d/trc")" = "0 0 " ] && [ "$tspill" -gt 0 ] 2>/dev/null && cmp -s "$d/ref.sorted" "$d/term.sorted"; then _ok; else
  _bad "checkpoints + spill: SIGTERM at 1.2 s and resume give the uninterrupted output" \
    "exits $(tr '\n' ' ' <"$d/trc"); spilled before the stop: $tspill; $(diff "$d/ref.sorted" "$d/term.sorted" | head -4 | tr '\n' ' ') $(tail -c 300 "$d/terr")"; fi

# --reset-state over the killed runs' finished, spilled-into state (another
# count: without the reset, a changed query would be refused)
cquery "$N" "$d/reset.csv" >"$d/r.sql"
"$SLUICE" -q --set parallelism=2 $LIMIT --state-dir "$d/state" --reset-state -f "$d/r.sql" >/dev/null 2>"$d/rerr" </dev/null
rc=$?
tail -n +2 "$d/refn.csv" | sort >"$d/refn.sorted"
tail -n +2 "$d/reset.csv" 2>/dev/null | sort >"$d/reset.sorted"
if [ $rc -eq 0 ] && [ -s "$d/refn.sorted" ] && cmp -s "$d/refn.sorted" "$d/reset.sorted"; then _ok; else
  _bad "checkpoints + spill: --reset-state starts over" "exit $rc; $(diff "$d/refn.sorted" "$d/reset.sorted" | head -4 | tr '\n' ' ') $(head -c 300 "$d/rerr")"; fi
# with checkpoints the spill store is the state database: nothing in TMPDIR
if ! compgen -G "$TMPDIR/sluice-spill-*" >/dev/null; then _ok; else
  _bad "with --state-dir no temporary spill directory is left" "$(ls "$TMPDIR")"; fi

# ---- 5. a query that fails after it spilled leaves no spill directory -----------
# the rows of a bounded run, then a bad record: format.on-error = 'fail'
"$SLUICE" -q --format json -e "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs',
  count = '150000', users = '50000', seed = '9', 'out-of-orderness' = '1s'); SELECT ts, user_id FROM g;" >"$T/bad.json"
echo '{"ts": "2024-01-01 00:02:30", "user_id": ' >>"$T/bad.json"
FQ="CREATE STREAM f (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
    WITH (connector = 'file', path = '$T/bad.json', format = 'json', 'format.on-error' = 'fail');
    SELECT window_start, user_id, COUNT(*) AS n FROM TUMBLE(f, ts, INTERVAL '60' SECOND) GROUP BY window_start, window_end, user_id;"
run fail --set parallelism=1 $LIMIT -e "$FQ" &
seen=0
while [ -n "$(jobs -rp)" ]; do
  compgen -G "$TMPDIR/sluice-spill-*" >/dev/null && seen=1
  sleep 0.01
done
wait
if [ "$(cat "$T/fail.rc")" = 3 ] && grep -q "bad record" "$T/fail.err"; then _ok; else
  _bad "a bad record fails the spilling query" "exit $(cat "$T/fail.rc"): $(head -c 300 "$T/fail.err")"; fi
if [ $seen = 1 ] && ! compgen -G "$TMPDIR/sluice-spill-*" >/dev/null; then _ok; else
  _bad "a failed query removes its temporary spill directory" "seen during the run: $seen; left: $(ls "$TMPDIR")"; fi

# ---- 6. session windows cannot spill ----------------------------------------------
# one session per user for the whole input: 50 000 sessions, over 1MB at once
SQ="SELECT window_start, window_end, user_id, COUNT(*) AS n FROM SESSION(logs, ts, INTERVAL '10' MINUTE)
    GROUP BY window_start, window_end, user_id;"
expect_exit 3 "a session window over state.memory stops the query" "$SLUICE" -q --set parallelism=2 $LIMIT -e "$DDL $SQ"
if grep -q "join and session-window state holds .* over state.memory .* and cannot spill" "$T/err"; then _ok; else
  _bad "the session-window error says it cannot spill" "$(head -c 300 "$T/err")"; fi

# no run reported a sanitizer error (a killed run's exit status is not checked)
if ! grep -l "Sanitizer\|runtime error:" "$T"/*.err "$d"/*err 2>/dev/null | grep -q .; then _ok; else
  _bad "no sanitizer reports" "$(grep -h -m2 "Sanitizer\|runtime error:" "$T"/*.err "$d"/*err | head -c 400)"; fi
finish

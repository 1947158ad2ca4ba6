#!/usr/bin/env bash
# Group mode with session windows that emit final rows (issue 13;
# docs/scaling.md, "Sessions"): critical crash events per user and session
# (a 5-second gap), each session emitted once when the watermark passes its
# end, run by sluice instances of one group against the bundled broker. The
# partial sessions cross the repartition topic g-0-repartition (keyed by the
# user alone: a session's bounds are the aggregation's own); each
# partition's open sessions go to the changelog topic g-1-changelog at
# every checkpoint, and a partition's next owner restores them from there.
# The events come up to 3 s out of time order (the watermark waits 10 s),
# so partial sessions merge in the aggregation, and a session's start can
# move earlier. Each instance writes the sessions it closes to its own
# exactly-once file sink. Checked against sqlite3's sessions (a user's
# crashes at most 5 s apart; a gap of exactly 5 s joins them, as Flink's
# sessions do), row for row: every session once, with its count and sum,
# nothing else, and no row late:
#   1. the single-process answer;
#   2. three instances, all alive (and every one did a share);
#   3. GROUP_KILLS runs (default 2) where one of three is killed with
#      SIGKILL mid-run: the survivors restore its partitions' open sessions
#      (progress: restoredGroups > 0). The survivors keep their own
#      partitions through the rebalance, and restore those from their own
#      records: they first take a checkpoint with reading stopped, so that
#      the sessions they closed since their last record do not close again
#      (emitted twice; no run here has had a session close in that gap:
#      after a kill the survivors' watermark waits for the dead instance's
#      source partitions);
#   3b. GROUP_KILLS runs where C joins A and B mid-run and is killed soon
#      after it emitted sessions: A and B take its partitions back while
#      they keep theirs — the checkpoint they take first must record the
#      positions their state is at, not the replay points their readers
#      went back to at the change;
#   4. a third instance joining mid-run (the two running give partitions
#      up after a checkpoint);
#   5. one of three leaving on SIGTERM mid-run, its last checkpoint
#      committed 1.5 s late while its tasks run on
#      (SLUICE_STOP_COMMIT_DELAY_MS): the sessions closed after that
#      checkpoint's barrier are in no sink, and its partitions' next owners
#      must close them.
# Skipped like kafka.sh when the broker, kcat or sqlite3 is missing.
# GROUP_LOGS=DIR keeps a failed run's logs in DIR/runK.
source "$(dirname "$0")/lib.sh"

group_tools group_sessions.sh || { finish; exit; }
KILLS=${GROUP_KILLS:-2}
N=${GROUP_EVENTS:-120000}
RATE=${GROUP_RATE:-10000}   # rows/s each instance reads at most: a run lasts a few seconds
PIDS=()
BROKER=
trap 'run_cleanup; rm -rf "$T"' EXIT

crash_events "$N" 777 3000   # log events keyed by user (300 users), up to 3 s out of order, a value to sum
# sqlite3's sessions: window_start, window_end (the last crash + 5 s), user, count, sum
crash_oracle "$SESSIONS_CTE SELECT $(sql_ts a), $(sql_ts b), uid, n, m FROM s;" >"$T/want"
if [ "$(wc -l <"$T/want")" -ge 3000 ]; then _ok; else _bad "sqlite3's sessions" "$(wc -l <"$T/want") sessions"; fi

broker() {   # a fresh broker (12 partitions) with the source topic and the group's two topics
  run_broker events,g-0-repartition,g-1-changelog 12
  kcat -b "$BS" -t events -P -K '\t' -l "$T/events.jsonl" 2>>"$T/kcat.err"
  SRC="CREATE STREAM events (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR, ms BIGINT,
    WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'kafka', topic = 'events',
    format = 'json', 'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset',
    'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500'"
}
QUERY="INSERT INTO out SELECT window_start, window_end, user_id, COUNT(*) AS crashes, SUM(ms) AS ms
  FROM SESSION(events, ts, INTERVAL '5' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id;"
sink() { echo "CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');"; }
start() {   # NAME RUN: one instance of group g
  "$SLUICE" -q --group g --state-dir "$T/state.$2.$1" --set checkpoint.interval=300ms --set parallelism=1 \
    --progress "$T/prog.$2.$1" --set deployment.partitions=12 \
    -e "$SRC, 'scan.rate-limit' = '$RATE'); $(sink "$T/out.$2.$1.csv") $QUERY" >"$T/log.$2.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
keep_logs() {
  [ -n "${GROUP_LOGS:-}" ] || return 0
  mkdir -p "$GROUP_LOGS/run$1" && cp "$T"/log."$1".* "$T"/out."$1".*.csv "$T"/prog."$1".* "$T/want" "$T/got" "$GROUP_LOGS/run$1/" 2>/dev/null
}
sessions_exact() {   # WHAT RUN SECS NAME...: the running instances end, exit 0; the named ones' sessions are sqlite3's, each once
  local what=$1 run=$2 secs=$3 codes dups; shift 3
  if wait_ended "$secs" "${PIDS[@]}"; then _ok; else _bad "$what: all end by themselves" "still running after $secs s"; fi
  codes=$(for p in "${PIDS[@]}"; do cat "$T/rc.$p"; done | tr -d '\n')
  if [ "$codes" = "$(printf '0%.0s' "${PIDS[@]}")" ]; then _ok; else
    _bad "$what: all exit cleanly" "exit codes $codes: $(tail -c 300 "$T/log.$run.A")"; fi
  PIDS=()
  rows "$run" "$@" | sort >"$T/got"
  dups=$(uniq -d "$T/got" | wc -l)
  if cmp -s "$T/want" "$T/got"; then _ok; else
    keep_logs "$run"
    _bad "$what: every session once, sqlite3's, nothing else" "$(wc -l <"$T/got") rows for $(wc -l <"$T/want"): missing $(comm -23 "$T/want" "$T/got" | wc -l) ($(comm -23 "$T/want" "$T/got" | head -2 | tr '\n' ' ')), extra $(comm -13 "$T/want" "$T/got" | wc -l) ($(comm -13 "$T/want" "$T/got" | head -2 | tr '\n' ' ')), $dups twice"; fi
  if [ "$(late "$run" "$@")" = 0 ]; then _ok; else _bad "$what: no row late" "$(late "$run" "$@") late rows"; fi
}
counts() {   # RUN NAME...: sessions per instance
  local run=$1 out=""; shift
  for n in "$@"; do out+="$n $(rows "$run" "$n" | wc -l), "; done
  echo "${out%, }"
}

# 1. the single-process answer
broker
"$SLUICE" -q --set parallelism=2 -e "$SRC); $(sink "$T/single.csv") $QUERY" >"$T/log.single" 2>&1 </dev/null
tail -n +2 "$T/single.csv" | sort >"$T/single"
if cmp -s "$T/want" "$T/single"; then _ok; else
  _bad "the single-process answer is sqlite3's" "$(wc -l <"$T/single") sessions for $(wc -l <"$T/want"): $(diff "$T/want" "$T/single" | grep '^[<>]' | head -4 | tr '\n' ' ') $(tail -c 300 "$T/log.single")"; fi
expect_out "EXPLAIN names the changelog topic" "group: state in changelog topic g-1-changelog (12 partitions)" \
  "$SLUICE" -q --group g --set deployment.partitions=12 -e "$SRC); $(sink "$T/x.csv") EXPLAIN $QUERY"

# 2. three instances, all alive
start A 0; start B 0; start C 0
sessions_exact "three instances" 0 120 A B C
spread=1
for n in A B C; do [ "$(rows 0 "$n" | wc -l)" -gt 0 ] || spread=0; done
if [ $spread = 1 ]; then _ok; else _bad "every instance computes a share" "$(counts 0 A B C)"; fi
echo "group_sessions.sh: three instances: $(counts 0 A B C) of $(wc -l <"$T/want") sessions"

# 3. one of three killed mid-run (SIGKILL, 0.5 … 2.5 s after it emitted sessions)
kill_run() {   # RUN
  broker
  start A "$1"; start B "$1"; start C "$1"
  C=${PIDS[2]}
  emitted "$1" C
  sleep "$(awk -v k="$(printf '%s' "$1" | cksum | cut -d' ' -f1)" 'BEGIN { srand(k % 100000); printf "%.1f", 0.5 + rand() * 2 }')"
  kill -0 "$C" 2>/dev/null || echo "group_sessions.sh: kill run $1: C ended before the kill"
  kill -9 "$C"
  wait "$C" 2>/dev/null
  PIDS=("${PIDS[0]}" "${PIDS[1]}")
  sessions_exact "kill run $1: the survivors" "$1" 120 A B C
  restored=$(progress_sum restoredGroups "$1" A B)
  if [ "$restored" -gt 0 ]; then _ok; else _bad "kill run $1: the survivors restore sessions from the changelog" "restoredGroups $restored"; fi
  echo "group_sessions.sh: kill run $1: $(counts "$1" A B C) (C killed); sessions restored $restored, messages dropped as applied $(progress_sum replayDropped "$1" A B)"
}
for k in $(seq "$KILLS"); do kill_run "K$k"; done
# 3b. C joins late (A and B hand partitions over to it) and is killed soon
# after it emitted sessions: A and B get partitions back while they keep
# their own. Each first takes a checkpoint with reading stopped; its reader
# went back to the last records' replay points at the change, so that
# checkpoint must record the positions its state is at (held), or the
# rows since come twice (222 sessions one or two rows too many, in 1 of 12
# runs of this before the positions were held)
late_run() {   # RUN
  broker
  start A "$1"; start B "$1"
  emitted "$1" A
  start C "$1"
  C=${PIDS[2]}
  emitted "$1" C
  sleep 0.5
  kill -0 "$C" 2>/dev/null || echo "group_sessions.sh: late run $1: C ended before the kill"
  kill -9 "$C"
  wait "$C" 2>/dev/null
  PIDS=("${PIDS[0]}" "${PIDS[1]}")
  sessions_exact "late run $1: C joins, then is killed" "$1" 120 A B C
  echo "group_sessions.sh: late run $1: $(counts "$1" A B C) (C joined, then killed); sessions restored $(progress_sum restoredGroups "$1" A B)"
}
for k in $(seq "$KILLS"); do late_run "J$k"; done

# 4. an instance joining mid-run
broker
start A J; start B J
emitted J A
sleep 1
start C J
sessions_exact "an instance joins mid-run" J 120 A B C
echo "group_sessions.sh: join run: $(counts J A B C) (C joined); sessions restored $(progress_sum restoredGroups J A B C)"

# 5. one of three leaves (SIGTERM) mid-run, its last checkpoint late
broker
start A L; start B L; SLUICE_STOP_COMMIT_DELAY_MS=1500 start C L
emitted L C
sleep 0.5
kill -TERM "${PIDS[2]}"
sessions_exact "an instance leaves mid-run" L 120 A B C
echo "group_sessions.sh: leave run: $(counts L A B C) (C left)"

finish

#!/usr/bin/env bash
# Group mode with aggregations that emit changes (issue 13; docs/scaling.md,
# "An aggregation without a window keeps its state in the changelog
# topic", and the windowed one after it): critical crash events counted per user
# over the whole stream, EMIT CHANGES, run by sluice instances of one group
# against the bundled broker. The partial counts cross the repartition topic
# g-0-repartition; each partition's state goes to the changelog topic
# g-1-changelog at every checkpoint, and a partition's next owner restores
# it from there and reads the repartition topic on from the position
# recorded with it. Each instance writes the changes it emits (+I/+U rows)
# to its own file sink. Checked against sqlite3 (the same counts over the
# same rows):
#   1. the single-process answer: each user's last change is sqlite3's row;
#   2. three instances, all alive: per user, the largest count emitted by
#      any instance is sqlite3's count (with its sum), no instance emits
#      more than that (nothing counted twice), every instance did a share;
#   3. GROUP_KILLS runs (default 2) where one of three is killed with
#      SIGKILL mid-run: the survivors restore its partitions' state from
#      the changelog (progress: restoredGroups > 0), and the same holds:
#      every user's final count and sum are sqlite3's, none larger.
#   3b. one of three stalled (SIGSTOP) for twice the session timeout, then
#      continued: the others take its partitions and it comes back as a
#      zombie, then rejoins; all three end with sqlite3's answer.
#   4. more than 64 partitions is refused, naming the setting.
#   5. the same per user and 10-second TUMBLE window, EMIT CHANGES (each
#      window's state in the changelog too, by window and partition): the
#      single-process answer, three instances all alive, GROUP_KILLS
#      kill runs as in 1-3, a third instance joining mid-run, and a kill
#      run in HOP windows and one in CUMULATE windows: per window and
#      user, the largest count emitted is sqlite3's, none larger; and in
#      every instance's file, each window's last change is its largest (a
#      window an instance closes again after a restore is closed with all
#      its rows, not with the restored state's older value).
#   6. the same per user and session (5-second gap), EMIT CHANGES: the
#      single-process answer is sqlite3's sessions, and three instances
#      all alive and GROUP_KILLS kill runs end with every session's count
#      and sum, none larger, each session's last change its largest.
# Skipped like kafka.sh when the broker, kcat or sqlite3 is missing.
# GROUP_LOGS=DIR keeps a failed run's logs in DIR/runK.
source "$(dirname "$0")/lib.sh"

group_tools group_changes.sh || { finish; exit; }
KILLS=${GROUP_KILLS:-2}
N=${GROUP_EVENTS:-120000}
RATE=${GROUP_RATE:-10000}   # rows/s each instance reads at most: a run lasts a few seconds
PIDS=()
BROKER=
trap 'run_cleanup; rm -rf "$T"' EXIT

crash_events "$N" 4242 0   # log events keyed by user (300 users), in time order, a value to sum
crash_oracle "SELECT uid, COUNT(*), SUM(ms) FROM ev WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY uid;" >"$T/want"
if [ "$(wc -l <"$T/want")" -ge 290 ]; then _ok; else _bad "sqlite3's answer" "$(wc -l <"$T/want") users"; fi

broker() {   # a fresh broker (12 partitions) with the source topic and the group's two topics
  run_broker events,g-0-repartition,g-1-changelog 12
  kcat -b "$BS" -t events -P -K '\t' -l "$T/events.jsonl" 2>>"$T/kcat.err"
  SRC="CREATE STREAM events (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR, ms BIGINT,
    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND) WITH (connector = 'kafka', topic = 'events',
    format = 'json', 'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset',
    'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500'"
}
QUERY="INSERT INTO out SELECT user_id, COUNT(*) AS crashes, SUM(ms) AS ms FROM events
  WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY user_id EMIT CHANGES;"
sink() { echo "CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');"; }
start() {   # NAME RUN [PARTITIONS]: one instance of group g
  "$SLUICE" -q --group g --state-dir "$T/state.$2.$1" --set checkpoint.interval=300ms --set parallelism=1 \
    --set emit.interval=200ms --progress "$T/prog.$2.$1" --set deployment.partitions="${3:-12}" \
    -e "$SRC, 'scan.rate-limit' = '$RATE'); $(sink "$T/out.$2.$1.csv") $QUERY" >"$T/log.$2.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
keep_logs() {
  [ -n "${GROUP_LOGS:-}" ] || return 0
  mkdir -p "$GROUP_LOGS/run$1" && cp "$T"/log."$1".* "$T"/out."$1".*.csv "$T"/prog."$1".* "$T/want" "$T/got" "$GROUP_LOGS/run$1/" 2>/dev/null
}
# per group, the change with the largest count any instance emitted (op,KEY...,count,sum rows:
# the first KEYS columns after op are the group's; 1 unless set: user)
KEYS=1
final() { awk -F, -v nk="$KEYS" '$1 != "op" { k = $2; for (i = 3; i <= nk + 1; i++) k = k "," $i
                   if (!(k in c) || $(nk + 2) + 0 > c[k] + 0) { c[k] = $(nk + 2); s[k] = $(nk + 3) } }
                   END { for (u in c) print u "," c[u] "," s[u] }' "$@" | sort; }
# the groups whose last change in FILE is not its largest (KEY,last,largest)
regressed() { awk -F, -v nk="$KEYS" '$1 != "op" { k = $2; for (i = 3; i <= nk + 1; i++) k = k "," $i
                   l[k] = $(nk + 2) + 0; if (l[k] > m[k]) m[k] = l[k] }
                   END { for (k in l) if (l[k] < m[k]) print k "," l[k] "," m[k] }' "$1"; }
changes_exact() {   # WHAT RUN SECS NAME...: the named instances end, exit 0, and their changes end at sqlite3's
  local what=$1 run=$2 secs=$3 codes files=(); shift 3
  if wait_ended "$secs" "${PIDS[@]}"; then _ok; else _bad "$what: all end by themselves" "still running after $secs s"; fi
  codes=$(for p in "${PIDS[@]}"; do cat "$T/rc.$p"; done | tr -d '\n')
  if [ "$codes" = "$(printf '0%.0s' "${PIDS[@]}")" ]; then _ok; else
    _bad "$what: all exit cleanly" "exit codes $codes: $(tail -c 300 "$T/log.$run.A")"; fi
  PIDS=()
  for n in "$@"; do [ -f "$T/out.$run.$n.csv" ] && files+=("$T/out.$run.$n.csv"); done
  final "${files[@]}" >"$T/got"
  if cmp -s "$T/want" "$T/got"; then _ok; else
    keep_logs "$run"
    _bad "$what: every group's last count is sqlite3's, none larger" "$(wc -l <"$T/got") groups for $(wc -l <"$T/want"): $(diff "$T/want" "$T/got" | grep -c '^>') differ: $(diff "$T/want" "$T/got" | grep '^[<>]' | head -4 | tr '\n' ' ')"; fi
  [ "$KEYS" -gt 1 ] || return 0
  local back=""
  for f in "${files[@]}"; do back+=$(regressed "$f" | head -3 | sed "s|^|${f##*/}: |" | tr '\n' ' '); done
  if [ -z "$back" ]; then _ok; else
    keep_logs "$run"
    _bad "$what: in each instance's output, every window's last change is its largest" "$back"; fi
}

# 1. the single-process answer: each user's last change
broker
"$SLUICE" -q --set parallelism=2 -e "$SRC); $(sink "$T/single.csv") $QUERY" >"$T/log.single" 2>&1 </dev/null
final "$T/single.csv" >"$T/single"
if cmp -s "$T/want" "$T/single"; then _ok; else
  _bad "the single-process answer is sqlite3's" "$(wc -l <"$T/single") users: $(tail -c 300 "$T/log.single")"; fi

# EXPLAIN names the changelog topic
expect_out "EXPLAIN: the changelog topic" "group: state in changelog topic g-1-changelog (12 partitions)" \
  "$SLUICE" -q --group g --set deployment.partitions=12 -e "$SRC); $(sink "$T/x.csv") EXPLAIN $QUERY"

# 2. three instances, all alive
start A 0; start B 0; start C 0
changes_exact "three instances" 0 120 A B C
spread=1
for n in A B C; do [ "$(tail -n +2 "$T/out.0.$n.csv" 2>/dev/null | wc -l)" -gt 0 ] || spread=0; done
if [ $spread = 1 ]; then _ok; else _bad "every instance computes a share" "$(wc -l "$T"/out.0.*.csv | tr '\n' ' ')"; fi

# 3. one of three killed mid-run (SIGKILL, at a random moment)
kill_run() {   # RUN
  broker
  start A "$1"; start B "$1"; start C "$1"
  C=${PIDS[2]}
  emitted "$1" C
  sleep "$(awk -v k="$(printf '%s' "$1" | cksum | cut -d' ' -f1)" 'BEGIN { srand(k % 100000); printf "%.1f", 0.5 + rand() * 2 }')"
  kill -0 "$C" 2>/dev/null || echo "group_changes.sh: kill run $1: C ended before the kill"
  kill -9 "$C"
  wait "$C" 2>/dev/null
  PIDS=("${PIDS[0]}" "${PIDS[1]}")
  changes_exact "kill run $1: the survivors" "$1" 120 A B C
  restored=$(progress_sum restoredGroups "$1" A B)
  if [ "$restored" -gt 0 ]; then _ok; else _bad "kill run $1: the survivors restore state from the changelog" "restoredGroups $restored"; fi
  echo "group_changes.sh: kill run $1: changes A $(tail -n +2 "$T/out.$1.A.csv" | wc -l), B $(tail -n +2 "$T/out.$1.B.csv" | wc -l), C (killed) $(tail -n +2 "$T/out.$1.C.csv" 2>/dev/null | wc -l); groups restored $restored, messages dropped as applied $(progress_sum replayDropped "$1" A B)"
}
for k in $(seq "$KILLS"); do kill_run "K$k"; done

# 3b. a stalled instance (SIGSTOP for twice the session timeout, then
# SIGCONT): the group gives its partitions to the others, who restore them;
# when it runs again it is a zombie until it notices — what it writes to
# the changelog meanwhile carries its old owner token, which a restore
# skips — and it then rejoins and gets partitions back (restored from the
# others' records). All three end; the answer is sqlite3's.
stall_run() {   # RUN
  broker
  start A "$1"; start B "$1"; start C "$1"
  C=${PIDS[2]}
  emitted "$1" C
  sleep 0.5
  kill -STOP "$C"
  sleep 6
  kill -CONT "$C"
  changes_exact "stall run $1: all three" "$1" 120 A B C
  echo "group_changes.sh: stall run $1: changes A $(tail -n +2 "$T/out.$1.A.csv" | wc -l), B $(tail -n +2 "$T/out.$1.B.csv" | wc -l), C (stalled) $(tail -n +2 "$T/out.$1.C.csv" 2>/dev/null | wc -l); groups restored $(progress_sum restoredGroups "$1" A B C)"
}
stall_run S1

# 4. more partitions than its checkpoint slices: refused, naming the setting
expect_out "deployment.partitions at most 64" "deployment.partitions must be 1 … 64; got 100" \
  "$SLUICE" -q --group g --state-dir "$T/state.p100" --set deployment.partitions=100 -e "$SRC); $(sink "$T/x.csv") $QUERY"

# 5. per user and 10-second window, EMIT CHANGES: 1-3 again
QUERY="INSERT INTO out SELECT window_start, user_id, COUNT(*) AS crashes, SUM(ms) AS ms
  FROM TUMBLE(events, ts, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id EMIT CHANGES;"
KEYS=2
crash_oracle "SELECT strftime('%Y-%m-%d %H:%M:%S', ts / 10000 * 10, 'unixepoch'), uid, COUNT(*), SUM(ms) FROM ev
  WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY 1, 2;" >"$T/want"
if [ "$(wc -l <"$T/want")" -ge 5000 ]; then _ok; else _bad "sqlite3's windowed answer" "$(wc -l <"$T/want") groups"; fi
broker
"$SLUICE" -q --set parallelism=2 -e "$SRC); $(sink "$T/single.w.csv") $QUERY" >"$T/log.single.w" 2>&1 </dev/null
final "$T/single.w.csv" >"$T/single"
if cmp -s "$T/want" "$T/single"; then _ok; else
  _bad "windows: the single-process answer is sqlite3's" "$(wc -l <"$T/single") groups: $(tail -c 300 "$T/log.single.w")"; fi
expect_out "windows: EXPLAIN names the changelog topic" "group: state in changelog topic g-1-changelog (12 partitions)" \
  "$SLUICE" -q --group g --set deployment.partitions=12 -e "$SRC); $(sink "$T/x.csv") EXPLAIN $QUERY"
start A W0; start B W0; start C W0
changes_exact "windows: three instances" W0 120 A B C
for k in $(seq "$KILLS"); do kill_run "WK$k"; done
# an instance joining mid-run: the two running give it partitions while
# their watermark moves on, and restore the ones they keep
broker
start A WJ; start B WJ
emitted WJ A
sleep 1
start C WJ
changes_exact "windows: an instance joins mid-run" WJ 120 A B C
echo "group_changes.sh: join run: changes A $(tail -n +2 "$T/out.WJ.A.csv" | wc -l), B $(tail -n +2 "$T/out.WJ.B.csv" | wc -l), C (joined) $(tail -n +2 "$T/out.WJ.C.csv" 2>/dev/null | wc -l); groups restored $(progress_sum restoredGroups WJ A B C)"
# the same in HOP windows (10 s, every 5 s: each row in two), one of three killed
QUERY="INSERT INTO out SELECT window_start, user_id, COUNT(*) AS crashes, SUM(ms) AS ms
  FROM HOP(events, ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id EMIT CHANGES;"
crash_oracle "SELECT strftime('%Y-%m-%d %H:%M:%S', s / 1000, 'unixepoch'), uid, COUNT(*), SUM(ms) FROM
  (SELECT ts / 5000 * 5000 AS s, uid, ms FROM ev WHERE level = 'CRITICAL' AND event = 'crash'
   UNION ALL SELECT ts / 5000 * 5000 - 5000, uid, ms FROM ev WHERE level = 'CRITICAL' AND event = 'crash')
  GROUP BY 1, 2;" >"$T/want"
kill_run WH1
# and in CUMULATE windows (every 5 s up to 10 s: window_end tells them apart)
QUERY="INSERT INTO out SELECT window_end, user_id, COUNT(*) AS crashes, SUM(ms) AS ms
  FROM CUMULATE(events, ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id EMIT CHANGES;"
crash_oracle "SELECT strftime('%Y-%m-%d %H:%M:%S', e / 1000, 'unixepoch'), uid, COUNT(*), SUM(ms) FROM
  (SELECT ts / 10000 * 10000 + 10000 AS e, uid, ms FROM ev WHERE level = 'CRITICAL' AND event = 'crash'
   UNION ALL SELECT ts / 10000 * 10000 + 5000, uid, ms FROM ev WHERE level = 'CRITICAL' AND event = 'crash'
   AND ts < ts / 10000 * 10000 + 5000)
  GROUP BY 1, 2;" >"$T/want"
kill_run WC2   # (WC1 would sleep 2.5 s before the kill, when C may be done)

# 6. per user and session (a 5-second gap), EMIT CHANGES: each key's
# sessions go to the changelog in its partition's slice (the repartition
# topic is keyed by the user alone: a session's bounds are the
# aggregation's own). sqlite3's sessions: a user's crashes at most 5 s
# apart (a gap of exactly 5 s joins them, as Flink's sessions do), keyed by
# their first crash's time (the rows come in time order: a session's start
# never moves)
QUERY="INSERT INTO out SELECT window_start, user_id, COUNT(*) AS crashes, SUM(ms) AS ms
  FROM SESSION(events, ts, INTERVAL '5' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id EMIT CHANGES;"
KEYS=2
crash_oracle "$SESSIONS_CTE SELECT $(sql_ts a), uid, n, m FROM s;" >"$T/want"
if [ "$(wc -l <"$T/want")" -ge 3000 ]; then _ok; else _bad "sqlite3's sessions" "$(wc -l <"$T/want") sessions"; fi
broker
"$SLUICE" -q --set parallelism=2 -e "$SRC); $(sink "$T/single.s.csv") $QUERY" >"$T/log.single.s" 2>&1 </dev/null
final "$T/single.s.csv" >"$T/single"
if cmp -s "$T/want" "$T/single"; then _ok; else
  _bad "sessions: the single-process answer is sqlite3's" "$(wc -l <"$T/single") sessions: $(diff "$T/want" "$T/single" | grep '^[<>]' | head -4 | tr '\n' ' ') $(tail -c 300 "$T/log.single.s")"; fi
expect_out "sessions: EXPLAIN names the changelog topic" "group: state in changelog topic g-1-changelog (12 partitions)" \
  "$SLUICE" -q --group g --set deployment.partitions=12 -e "$SRC); $(sink "$T/x.csv") EXPLAIN $QUERY"
start A S0; start B S0; start C S0
changes_exact "sessions: three instances" S0 120 A B C
for k in $(seq "$KILLS"); do kill_run "SE$k"; done   # (SE: 1.0 … 1.3 s before the kill)

finish

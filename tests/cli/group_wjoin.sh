#!/usr/bin/env bash
# Group mode with a window or interval join of two Kafka streams (issue 13;
# docs/scaling.md, "Joins of two streams"): critical crash events joined
# with the same user's clicks of the same 10-second window (or from 4 s
# before to 2 s after the event: an interval join), run by
# sluice instances of one group against the bundled broker. Both streams'
# rows go into one repartition topic (g-1-repartition), keyed by user, each
# tagged with its side; the join tasks read its partitions, and emit a
# window's joined rows once the window closes. Checked against sqlite3 (the
# same join over the same rows) and the single-process answer:
#   1. three instances, all alive: the union of their outputs is the
#      answer, every row once, every instance did a share, nothing late;
#   2. a LEFT JOIN (crashes without a click too), two instances: the same;
#   2b. two of three leaving mid-run (SIGTERM), the second during the
#      first's last checkpoint, held back: the same;
#   3. the joined rows counted per window and user (an aggregation in the
#      join's tasks), three instances with one killed mid-run: the same;
#   4. GROUP_KILLS runs (default 2) where one of three instances is killed
#      with SIGKILL mid-run: the survivors take over its source partitions
#      (of both topics) and its repartition partitions, rebuild the open
#      windows from the topic, skip the closed ones, and end by themselves
#      with the answer, every row once;
#   5. the interval join — INNER, LEFT, and RIGHT (the clicks on the left:
#      the LEFT join's answer), and a LEFT JOIN with the clicks from 5 s to
#      1 s before the event (both bounds on one side: a padded row can be
#      final before its row comes) — each on three instances, one killed
#      mid-run: a replay skips the rows whose pairs (and padded rows) were
#      all emitted, and drops the pairs of the rows it reads again that
#      were;
#   6. the interval join's rows counted per window and user (an
#      aggregation in the join's tasks), JOIN and LEFT JOIN in TUMBLE
#      windows, and JOIN in HOP windows, on three instances with one
#      killed mid-run: a replay skips the rows whose windows were all
#      emitted, and drops a pair's windows emitted already.
# Each instance reads at most GROUP_RATE rows/s of each stream, so a run
# lasts a few seconds. Skipped like kafka.sh when the broker, kcat or
# sqlite3 is missing. GROUP_LOGS=DIR keeps a failed run's logs in DIR/runK.
source "$(dirname "$0")/lib.sh"

group_tools group_wjoin.sh || { finish; exit; }
KILLS=${GROUP_KILLS:-2}
N=${GROUP_EVENTS:-60000}   # log events, 2 ms apart; clicks: N/5, 10 ms apart
RATE=${GROUP_RATE:-5000}
PIDS=()
BROKER=
trap 'run_cleanup; rm -rf "$T"' EXIT

# log events and clicks keyed by user (200 users), up to 3 s out of order
# (the watermarks wait 10 s and 5 s)
awk -v n="$N" -v out="$T" 'BEGIN {
  s = 12345; t0 = 1700000000000
  split("CRITICAL INFO WARN ERROR", lv, " "); split("crash login click crash", ev, " ")
  for (i = 0; i < n; i++) {
    s = (s * 69069 + 1) % 4294967296; u = 1 + int(s / 65536) % 200
    s = (s * 69069 + 1) % 4294967296; l = lv[1 + int(s / 65536) % 4]
    s = (s * 69069 + 1) % 4294967296; e = ev[1 + int(s / 65536) % 4]
    s = (s * 69069 + 1) % 4294967296; ts = t0 + i * 2 - int(s / 65536) % 3000
    printf "%d\t{\"ts\":%.0f,\"id\":%d,\"user_id\":%d,\"level\":\"%s\",\"event\":\"%s\"}\n", u, ts, i, u, l, e >(out "/events.jsonl")
    if (i % 5 == 0) {
      s = (s * 69069 + 1) % 4294967296; u = 1 + int(s / 65536) % 200
      s = (s * 69069 + 1) % 4294967296; ts = t0 + i * 2 - int(s / 65536) % 3000
      printf "%d\t{\"ts\":%.0f,\"cid\":%d,\"user_id\":%d,\"page\":\"p%d\"}\n", u, ts, i / 5, u, i % 7 >(out "/clicks.jsonl")
    }
  }
}'

# sqlite3's answer: the crash events and the clicks of the same user and
# 10-second window (JOIN, or LEFT JOIN), or of -2 s <= e.ts - c.ts <= 4 s
# ($2 = interval), or of 1 s <= e.ts - c.ts <= 5 s ($2 = before)
oracle() {
  python3 - "$T" <<'EOF'
import json, sys
d = sys.argv[1]
with open(d + "/ev.csv", "w") as f:
    for line in open(d + "/events.jsonl"):
        e = json.loads(line.split("\t", 1)[1])
        f.write(f'{e["ts"]},{e["id"]},{e["user_id"]},{e["level"]},{e["event"]}\n')
with open(d + "/cl.csv", "w") as f:
    for line in open(d + "/clicks.jsonl"):
        c = json.loads(line.split("\t", 1)[1])
        f.write(f'{c["ts"]},{c["cid"]},{c["user_id"]},{c["page"]}\n')
EOF
  sqlite3 -csv :memory: \
    "CREATE TABLE ev (ts INTEGER, id INTEGER, uid INTEGER, level TEXT, event TEXT);" \
    "CREATE TABLE cl (ts INTEGER, cid INTEGER, uid INTEGER, page TEXT);" \
    ".import $T/ev.csv ev" ".import $T/cl.csv cl" \
    "SELECT e.id, c.cid, c.page FROM ev e $1 cl c ON e.uid = c.uid AND
       $(case "${2:-}" in interval) echo "e.ts BETWEEN c.ts - 2000 AND c.ts + 4000" ;;
                          before) echo "e.ts BETWEEN c.ts + 1000 AND c.ts + 5000" ;;
                          *) echo "e.ts / 10000 = c.ts / 10000" ;; esac)
     WHERE e.level = 'CRITICAL' AND e.event = 'crash';" | sort
}

broker() {   # a fresh broker with both topics and the group's repartition topic
  run_broker events,clicks,g-1-repartition
  kcat -b "$BS" -t events -P -K '\t' -l "$T/events.jsonl" 2>>"$T/kcat.err"
  kcat -b "$BS" -t clicks -P -K '\t' -l "$T/clicks.jsonl" 2>>"$T/kcat.err"
}
src() {   # RATE: both streams, bounded, rate-limited to RATE rows/s (0: not)
  local lim=""
  [ "$1" != 0 ] && lim=", 'scan.rate-limit' = '$1'"
  local common="'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset',
    'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500'$lim"
  echo "CREATE STREAM events (ts TIMESTAMP(3), id BIGINT, user_id BIGINT, level VARCHAR, event VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'kafka', topic = 'events',
    format = 'json', $common);
  CREATE STREAM clicks (ts TIMESTAMP(3), cid BIGINT, user_id BIGINT, page VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'kafka', topic = 'clicks',
    format = 'json', $common);"
}
query() {   # JOIN [interval|before]: the crash events with the clicks of their user and window (AGG:
            # per window and user), or of -2 s <= e.ts - c.ts <= 4 s, or of 1 s <= e.ts - c.ts <= 5 s
  if [ "${2:-}" = before ]; then
    echo "INSERT INTO out SELECT e.id, c.cid, c.page FROM events e $1 clicks c ON e.user_id = c.user_id AND
      e.ts BETWEEN c.ts + INTERVAL '1' SECOND AND c.ts + INTERVAL '5' SECOND
    WHERE e.level = 'CRITICAL' AND e.event = 'crash';"
    return
  fi
  if [ "${2:-}" = ivalagg ] || [ "${2:-}" = ivalhop ]; then   # per 10-second window of the event and user
    local w="TUMBLE"                                             # (ivalhop: every 5 seconds)
    [ "$2" = ivalhop ] && w="HOP"
    echo "INSERT INTO out SELECT window_start, user_id, COUNT(*) AS n, SUM(cid) AS cids
  FROM $w((SELECT e.ts, e.user_id, c.cid FROM events e $1 clicks c ON e.user_id = c.user_id AND
      e.ts BETWEEN c.ts - INTERVAL '2' SECOND AND c.ts + INTERVAL '4' SECOND
    WHERE e.level = 'CRITICAL' AND e.event = 'crash'), ts,$([ "$2" = ivalhop ] && echo " INTERVAL '5' SECOND,") INTERVAL '10' SECOND)
  GROUP BY window_start, window_end, user_id;"
    return
  fi
  if [ "${2:-}" = interval ]; then
    local from="events e $1 clicks c ON e.user_id = c.user_id AND
      e.ts BETWEEN c.ts - INTERVAL '2' SECOND AND c.ts + INTERVAL '4' SECOND"
    [ "$1" = "RIGHT JOIN" ] && from="clicks c RIGHT JOIN events e ON c.user_id = e.user_id AND
      c.ts BETWEEN e.ts - INTERVAL '4' SECOND AND e.ts + INTERVAL '2' SECOND"
    echo "INSERT INTO out SELECT e.id, c.cid, c.page FROM $from WHERE e.level = 'CRITICAL' AND e.event = 'crash';"
    return
  fi
  if [ "$1" = AGG ]; then
    echo "INSERT INTO out SELECT e.window_start, e.user_id, COUNT(*) AS n, SUM(c.cid) AS cids
  FROM TUMBLE(events, ts, INTERVAL '10' SECOND) e JOIN TUMBLE(clicks, ts, INTERVAL '10' SECOND) c
    ON e.user_id = c.user_id AND e.window_start = c.window_start AND e.window_end = c.window_end
  WHERE e.level = 'CRITICAL' AND e.event = 'crash'
  GROUP BY e.window_start, e.window_end, e.user_id;"
    return
  fi
  echo "INSERT INTO out SELECT e.id, c.cid, c.page
  FROM TUMBLE(events, ts, INTERVAL '10' SECOND) e $1 TUMBLE(clicks, ts, INTERVAL '10' SECOND) c
    ON e.user_id = c.user_id AND e.window_start = c.window_start AND e.window_end = c.window_end
  WHERE e.level = 'CRITICAL' AND e.event = 'crash';"
}
sink() { echo "CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');"; }

start() {   # NAME RUN JOIN [interval|before]: one instance of group g
  "$SLUICE" -q --group g --state-dir "$T/state.$2.$1" --set checkpoint.interval=300ms --set parallelism=1 \
    --progress "$T/prog.$2.$1" --set deployment.partitions=6 \
    -e "$(src "$RATE") $(sink "$T/out.$2.$1.csv") $(query "$3" "${4:-}")" >"$T/log.$2.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
keep_logs() {
  [ -n "${GROUP_LOGS:-}" ] || return 0
  mkdir -p "$GROUP_LOGS/run$1" && cp "$T"/log."$1".* "$T"/out."$1".*.csv "$T"/prog."$1".* "$T/$2" "$T/got" "$GROUP_LOGS/run$1/" 2>/dev/null
}
exact() {   # WHAT RUN WANT SECS NAME...: the instances end in SECS, exit 0, give WANT, nothing late
  local what=$1 run=$2 want=$3 secs=$4 codes; shift 4
  if wait_ended "$secs" "${PIDS[@]}"; then _ok; else _bad "$what: all end by themselves" "still running after $secs s"; fi
  codes=$(for p in "${PIDS[@]}"; do cat "$T/rc.$p"; done | tr -d '\n')
  if [ "$codes" = "$(printf '0%.0s' "${PIDS[@]}")" ]; then _ok; else
    _bad "$what: all exit cleanly" "exit codes $codes: $(tail -c 300 "$T/log.$run.A")"; fi
  PIDS=()
  rows "$run" "$@" | sort >"$T/got"
  if cmp -s "$T/$want" "$T/got"; then _ok; else
    keep_logs "$run" "$want"
    _bad "$what: the answer, every row once" "$(wc -l <"$T/got") rows for $(wc -l <"$T/$want"): missing $(comm -23 "$T/$want" "$T/got" | wc -l), extra $(comm -13 "$T/$want" "$T/got" | wc -l)"; fi
  if [ "$(late "$run" "$@")" = 0 ]; then _ok; else _bad "$what: no row late" "$(late "$run" "$@") late rows"; fi
}

oracle JOIN >"$T/want"
oracle "LEFT JOIN" >"$T/want.left"
oracle JOIN interval >"$T/want.ival"
oracle "LEFT JOIN" interval >"$T/want.ival.left"
oracle "LEFT JOIN" before >"$T/want.before.left"
sqlite3 -list -separator , :memory: \
  "CREATE TABLE ev (ts INTEGER, id INTEGER, uid INTEGER, level TEXT, event TEXT);" \
  "CREATE TABLE cl (ts INTEGER, cid INTEGER, uid INTEGER, page TEXT);" \
  ".import --csv $T/ev.csv ev" ".import --csv $T/cl.csv cl" \
  "SELECT strftime('%Y-%m-%d %H:%M:%S', e.ts / 10000 * 10, 'unixepoch'), e.uid, COUNT(*), SUM(c.cid)
   FROM ev e JOIN cl c ON e.uid = c.uid AND e.ts / 10000 = c.ts / 10000
   WHERE e.level = 'CRITICAL' AND e.event = 'crash' GROUP BY e.ts / 10000, e.uid;" | sort >"$T/want.agg"
for k in JOIN "LEFT JOIN"; do   # the interval join's rows per window and user
  sqlite3 -list -separator , :memory: \
    "CREATE TABLE ev (ts INTEGER, id INTEGER, uid INTEGER, level TEXT, event TEXT);" \
    "CREATE TABLE cl (ts INTEGER, cid INTEGER, uid INTEGER, page TEXT);" \
    ".import --csv $T/ev.csv ev" ".import --csv $T/cl.csv cl" \
    "SELECT strftime('%Y-%m-%d %H:%M:%S', e.ts / 10000 * 10, 'unixepoch'), e.uid, COUNT(*), SUM(c.cid)
     FROM ev e $k cl c ON e.uid = c.uid AND e.ts BETWEEN c.ts - 2000 AND c.ts + 4000
     WHERE e.level = 'CRITICAL' AND e.event = 'crash' GROUP BY e.ts / 10000, e.uid;" | sort \
    >"$T/want.ivalagg$([ "$k" = JOIN ] || echo .left)"
done
sqlite3 -list -separator , :memory: \
  "CREATE TABLE ev (ts INTEGER, id INTEGER, uid INTEGER, level TEXT, event TEXT);" \
  "CREATE TABLE cl (ts INTEGER, cid INTEGER, uid INTEGER, page TEXT);" \
  ".import --csv $T/ev.csv ev" ".import --csv $T/cl.csv cl" \
  "WITH p AS (SELECT e.ts AS ts, e.uid AS uid, c.cid AS cid FROM ev e JOIN cl c
              ON e.uid = c.uid AND e.ts BETWEEN c.ts - 2000 AND c.ts + 4000
              WHERE e.level = 'CRITICAL' AND e.event = 'crash'),
        w AS (SELECT ts / 5000 * 5000 AS ws, uid, cid FROM p UNION ALL SELECT ts / 5000 * 5000 - 5000, uid, cid FROM p)
   SELECT strftime('%Y-%m-%d %H:%M:%S', ws / 1000, 'unixepoch'), uid, COUNT(*), SUM(cid) FROM w GROUP BY ws, uid;" |
  sort >"$T/want.ivalhop"
# (the query's CSV: an empty string for a NULL page, as sqlite3's)
if [ "$(wc -l <"$T/want")" -gt 1000 ] && [ "$(wc -l <"$T/want.left")" -gt "$(wc -l <"$T/want")" ] && [ "$(wc -l <"$T/want.agg")" -gt 100 ]; then _ok; else
  _bad "sqlite3's answers" "$(wc -l <"$T/want"), $(wc -l <"$T/want.left") and $(wc -l <"$T/want.agg") rows"; fi
if [ "$(wc -l <"$T/want.ival")" -gt 1000 ] && [ "$(wc -l <"$T/want.ival.left")" -gt "$(wc -l <"$T/want.ival")" ] &&
   [ "$(wc -l <"$T/want.before.left")" -gt 1000 ] && [ "$(wc -l <"$T/want.ivalagg")" -gt 100 ] &&
   [ "$(wc -l <"$T/want.ivalagg.left")" -gt "$(wc -l <"$T/want.ivalagg")" ] &&
   [ "$(wc -l <"$T/want.ivalhop")" -gt "$(wc -l <"$T/want.ivalagg")" ]; then _ok; else
  _bad "sqlite3's interval answers" "$(wc -l <"$T/want.ival"), $(wc -l <"$T/want.ival.left") and $(wc -l <"$T/want.before.left") rows"; fi

# the single-process answers are sqlite3's
broker
for f in "" interval ivalagg ivalhop; do
  rm -f "$T/single.csv"
  "$SLUICE" -q --set parallelism=2 -e "$(src 0) $(sink "$T/single.csv") $(query JOIN $f)" >"$T/log.single" 2>&1 </dev/null
  tail -n +2 "$T/single.csv" | sort >"$T/single"
  w=want; [ "$f" = interval ] && w=want.ival; [ -n "$f" ] && [ "$f" != interval ] && w=want.$f
  if cmp -s "$T/$w" "$T/single"; then _ok; else
    _bad "the single-process answer is sqlite3's${f:+ ($f)}" "$(wc -l <"$T/single") rows for $(wc -l <"$T/$w"): $(tail -c 300 "$T/log.single")"; fi
done

# EXPLAIN names the one topic both sides go into, and when rows are final
expect_out "EXPLAIN: both sides into one topic" "topic g-1-repartition (6 partitions)" \
  "$SLUICE" -q --group g --set deployment.partitions=6 -e "$(src 0) $(sink "$T/x.csv") EXPLAIN $(query JOIN)"
expect_out "EXPLAIN: an aggregate takes an interval join's rows at once" "group: joined rows go to the aggregation at once; its windows are emitted as they close" \
  "$SLUICE" -q --group g --set deployment.partitions=6 -e "$(src 0) $(sink "$T/x.csv") EXPLAIN $(query JOIN ivalagg)"
expect_out "EXPLAIN: an interval join's rows are final" "group: a joined row is emitted when the watermark passes the later of its two times, a padded one when its row expires" \
  "$SLUICE" -q --group g --set deployment.partitions=6 -e "$(src 0) $(sink "$T/x.csv") EXPLAIN $(query "LEFT JOIN" interval)"

# 1. three instances, all alive
broker
start A 0 JOIN; start B 0 JOIN; start C 0 JOIN
exact "three instances" 0 want 120 A B C
spread=1
for n in A B C; do [ "$(rows 0 $n | wc -l)" -gt 0 ] || spread=0; done
if [ $spread = 1 ]; then _ok; else
  _bad "every instance computes a share" "rows: A $(rows 0 A | wc -l), B $(rows 0 B | wc -l), C $(rows 0 C | wc -l)"; fi
# each instance's last progress says where its sources stood: done with
# their share and waiting for the group's end (what a read that does not
# end would show), none of them rebalancing
ending=1
for n in A B C; do [ "$(progress_sum endingSources 0 $n)" -gt 0 ] || ending=0; done
if [ $ending = 1 ] && grep -q '"rebalancingSources": *0' "$T/prog.0.A"; then _ok; else
  _bad "progress: endingSources and rebalancingSources" "$(tail -n 1 "$T/prog.0.A" | grep -o '"group":.*')"; fi
echo "group_wjoin.sh: 3 instances: A $(rows 0 A | wc -l), B $(rows 0 B | wc -l), C $(rows 0 C | wc -l) rows of $(wc -l <"$T/want")"

# 2. a LEFT JOIN, two instances
broker
start A L "LEFT JOIN"; start B L "LEFT JOIN"
exact "LEFT JOIN, two instances" L want.left 120 A B

# one of three instances killed mid-run (SIGKILL, at a random moment)
kill_run() {   # RUN WANT JOIN [interval|before]
  broker
  start A "$1" "$3" "${4:-}"; start B "$1" "$3" "${4:-}"; start C "$1" "$3" "${4:-}"
  C=${PIDS[2]}
  emitted "$1" C
  sleep "$(awk -v k="$(printf '%s' "$1" | cksum | cut -d' ' -f1)" 'BEGIN { srand(k % 100000); printf "%.1f", rand() * 2.5 }')"
  kill -0 "$C" 2>/dev/null || echo "group_wjoin.sh: kill run $1: C ended before the kill"
  kill -9 "$C"
  wait "$C" 2>/dev/null
  PIDS=("${PIDS[0]}" "${PIDS[1]}")
  exact "kill run $1 ($3${4:+ $4}): the survivors" "$1" "$2" 120 A B C
  echo "group_wjoin.sh: kill run $1 ($3${4:+ $4}): A $(rows "$1" A | wc -l), B $(rows "$1" B | wc -l), C (killed) $(rows "$1" C | wc -l) rows; read again after the moves $(replayed "$1" A B)"
}

# one of three killed right after the sink's commit of its second
# checkpoint with rows, before the task hears of it (SLUICE_CRASH_AFTER_COMMIT:
# the process kills itself there): the record of those windows must be in
# the group already (written before the sink's commit), else the survivors
# emit them again
crash_run() {   # RUN WANT JOIN
  broker
  start A "$1" "$3"; start B "$1" "$3"
  crash_start "crash run $1" "$1" C C "$1" "$3"   # (not in PIDS: the survivors are)
  exact "crash run $1 ($3): the survivors" "$1" "$2" 120 A B C
  echo "group_wjoin.sh: crash run $1 ($3): A $(rows "$1" A | wc -l), B $(rows "$1" B | wc -l), C (killed) $(rows "$1" C | wc -l) rows; read again after the moves $(replayed "$1" A B)"
}
crash_run X want JOIN

# two of three leave mid-run (SIGTERM), the second 0.3 s after the first,
# whose last checkpoint is held back 4 s (SLUICE_STOP_COMMIT_DELAY_MS): the
# second's partitions reach the first between that checkpoint's barrier and
# its commit. The first must not start over (which drops the barrier's
# records) until that checkpoint has committed and recorded the rows its
# sink holds, else nobody records them and A emits them again
leave_run() {   # RUN WANT JOIN HOLD-MS B-AFTER-S
  broker
  start A "$1" "$3"; start B "$1" "$3"; SLUICE_STOP_COMMIT_DELAY_MS=$4 start C "$1" "$3"
  emitted "$1" C
  sleep 0.5
  kill -TERM "${PIDS[2]}"
  sleep "$5"
  kill -TERM "${PIDS[1]}"
  exact "leave run $1 ($3): C leaves, then B during C's last checkpoint" "$1" "$2" 120 A B C
  echo "group_wjoin.sh: leave run $1 ($3): A $(rows "$1" A | wc -l), B $(rows "$1" B | wc -l), C $(rows "$1" C | wc -l) rows"
}
leave_run T want JOIN 4000 0.3

# 3. the joined rows counted per window and user, in the join's tasks:
# three instances, one killed mid-run
kill_run G want.agg AGG

# 4. kill one of the three, mid-run
for k in $(seq "$KILLS"); do kill_run "$k" want JOIN; done

# 5. the interval join, inner and outer on either side, one of three killed
kill_run I want.ival JOIN interval
kill_run IL want.ival.left "LEFT JOIN" interval
kill_run IR want.ival.left "RIGHT JOIN" interval
kill_run IB want.before.left "LEFT JOIN" before

# 6. the interval join's rows per window and user (an aggregation in the
# join's tasks: no hold; a replay skips the rows of windows emitted), JOIN
# and LEFT JOIN, one of three killed
kill_run IA want.ivalagg JOIN ivalagg
kill_run IAL want.ivalagg.left "LEFT JOIN" ivalagg
kill_run IH want.ivalhop JOIN ivalhop

finish

#!/usr/bin/env bash
# Group mode with a repartition topic (issue 13; docs/scaling.md): the
# seed's crash query — critical crash events per user per 10-second
# window, 10-second watermark — run by three sluice instances of one group
# against the bundled broker, over a bounded topic of log events. Their
# exchange is the topic g-0-repartition; each writes the windows it owns to
# its own exactly-once file sink. Checked against the single-process answer
# of the same query over the same topic (itself checked against sqlite3 by
# oracle.sh for this kind of query):
# Each instance reads at most GROUP_RATE (10000) rows/s ('scan.rate-limit'),
# so a run lasts a few seconds and rebalances happen while data flows.
#   1. three instances, all alive: the union of their outputs equals the
#      single-process answer exactly, every instance did a share, and no
#      instance dropped a row as late (numRowsDroppedByWatermark in its last
#      --progress report: the watermarks crossing the topic never pass its
#      rows);
#   2. A and B start, C joins mid-run: A and B hand partitions over to C
#      (each at a checkpoint) — the same exact answer, C did a share;
#   3. C is stopped with SIGTERM mid-run (it leaves the group after a last
#      checkpoint): the same exact answer, every instance exits 0. C's last
#      checkpoint commits 1.5 s late (SLUICE_STOP_COMMIT_DELAY_MS) while its
#      tasks run on, so windows close after that checkpoint's barrier: they
#      are in no sink, and C must hand over only what it committed. Then C
#      and B stopped one after the other, C's last checkpoint 4 s late: B's
#      partitions move to C between that checkpoint's barrier and its
#      commit, and C must record that checkpoint before it starts over.
#      And C stopped while its records to the group fail (its first 10 s:
#      SLUICE_FAIL_RECORDS_MS): the same exact answer; the failures are
#      counted in C's progress (recordFailures), are its warning meanwhile,
#      and the warning is gone once a record goes through;
#   4. GROUP_KILLS runs (default 2; `make group-kill-test` runs RUNS, 10)
#      where one of the three is killed with SIGKILL mid-run (0 … 2.5 s
#      after it emitted its first windows): the survivors take over its
#      source partitions and its repartition partitions (rebuilding the
#      windows from the topic, and skipping those already emitted), and end
#      by themselves. Every window of the single-process answer is there once
#      with its count, nothing else, and nothing was late.
#      GROUP_LOGS=DIR keeps the logs and outputs of a failed run in DIR/runK.
#      And one such run of the query in HOP windows (10 s every 5 s), and
#      one where C kills itself right after the sink's commit of its second
#      checkpoint with windows (SLUICE_CRASH_AFTER_COMMIT=2).
#   5. records of the repartition topic deleted unread (the bundled broker's
#      5 MB a partition, overrun by kcat beforehand): the instance fails,
#      naming the topic, partition and offsets lost.
# Skipped like kafka.sh when the broker or kcat is missing.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "group_agg.sh: skipped ('sluice broker' or kcat not available)"
  finish
  exit
fi
KILLS=${GROUP_KILLS:-2}   # make test: 2; make group-kill-test: RUNS (10)
N=${GROUP_EVENTS:-120000}
RATE=${GROUP_RATE:-10000}   # rows/s each instance reads at most: the run lasts a few seconds
PIDS=()
BROKER=
trap 'run_cleanup; rm -rf "$T"' EXIT

# log events, keyed by user, 3 s out of order at most (the watermark waits 10 s)
awk -v n="$N" 'BEGIN {
  s = 12345; t0 = 1700000000000
  split("CRITICAL INFO WARN ERROR", lv, " "); split("crash login click crash", ev, " ")
  for (i = 0; i < n; i++) {
    s = (s * 69069 + 1) % 4294967296; u = 1 + int(s / 65536) % 200
    s = (s * 69069 + 1) % 4294967296; l = lv[1 + int(s / 65536) % 4]
    s = (s * 69069 + 1) % 4294967296; e = ev[1 + int(s / 65536) % 4]
    s = (s * 69069 + 1) % 4294967296; ts = t0 + i * 2 - int(s / 65536) % 3000
    printf "%d\t{\"ts\":%.0f,\"user_id\":%d,\"level\":\"%s\",\"event\":\"%s\"}\n", u, ts, u, l, e
  }
}' >"$T/events.jsonl"

broker() {   # a fresh broker with the source topic and the group's repartition topic
  run_broker events,g-0-repartition
  kcat -b "$BS" -t events -P -K '\t' -l "$T/events.jsonl" 2>>"$T/kcat.err"
  SRC="CREATE STREAM events (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'kafka', topic = 'events',
    format = 'json', 'properties.bootstrap.servers' = '$BS', 'scan.bounded.mode' = 'latest-offset',
    'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500'"   # (closed by the caller: rate limit or not)
}
QUERY="INSERT INTO out SELECT window_start, window_end, user_id, COUNT(*) AS crashes
  FROM TUMBLE(events, ts, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id;"
sink() { echo "CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');"; }

start() {   # NAME RUN: one instance of group g
  "$SLUICE" -q --group g --state-dir "$T/state.$2.$1" --set checkpoint.interval=300ms --set parallelism=1 \
    --progress "$T/prog.$2.$1" \
    --set deployment.partitions=6 -e "$SRC, 'scan.rate-limit' = '$RATE'); $(sink "$T/out.$2.$1.csv") $QUERY" >"$T/log.$2.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
keep_logs() {   # RUN: GROUP_LOGS=DIR keeps the run's logs and outputs in DIR/runRUN
  [ -n "${GROUP_LOGS:-}" ] || return 0
  mkdir -p "$GROUP_LOGS/run$1" && cp "$T"/log."$1".* "$T"/out."$1".*.csv "$T"/prog."$1".* "$T/want" "$T/got" "$GROUP_LOGS/run$1/" 2>/dev/null
}
all_exact() {   # WHAT RUN SECS: A, B and C of RUN end in SECS, exit 0, give the answer, nothing late
  local what=$1 run=$2 codes
  if wait_ended "$3" "${PIDS[@]}"; then _ok; else _bad "$what: all end by themselves" "still running after $3 s"; fi
  codes=$(for p in "${PIDS[@]}"; do cat "$T/rc.$p"; done | tr '\n' ' ')
  if [ "$codes" = "0 0 0 " ]; then _ok; else
    _bad "$what: all exit cleanly" "exit codes $codes: $(tail -c 300 "$T/log.$run.A")"; fi
  PIDS=()
  rows "$run" A B C | sort >"$T/got"
  if cmp -s "$T/want" "$T/got"; then _ok; else
    keep_logs "$run"
    _bad "$what: the single-process answer" "$(wc -l <"$T/got") rows for $(wc -l <"$T/want"): missing $(comm -23 "$T/want" "$T/got" | wc -l), extra $(comm -13 "$T/want" "$T/got" | wc -l)"; fi
  # the watermarks that cross the topic never pass its rows: nothing is late
  if [ "$(late "$run" A B C)" = 0 ]; then _ok; else _bad "$what: no row late" "$(late "$run" A B C) late rows"; fi
}

# the single-process answer
broker
"$SLUICE" -q --set parallelism=1 -e "$SRC); $(sink "$T/single.csv") $QUERY" >"$T/log.single" 2>&1 </dev/null
tail -n +2 "$T/single.csv" | sort >"$T/want"
if [ "$(wc -l <"$T/want")" -gt 1000 ]; then _ok; else
  _bad "the single-process answer" "$(wc -l <"$T/want") rows: $(tail -c 300 "$T/log.single")"; fi

# 1. three instances, all alive
start A 0; start B 0; start C 0
all_exact "three instances" 0 90
spread=1
for n in A B C; do [ "$(rows 0 $n | wc -l)" -gt 0 ] || spread=0; done
if [ $spread = 1 ]; then _ok; else
  _bad "every instance computes a share" "rows: A $(rows 0 A | wc -l), B $(rows 0 B | wc -l), C $(rows 0 C | wc -l)"; fi
echo "group_agg.sh: 3 instances: A $(rows 0 A | wc -l), B $(rows 0 B | wc -l), C $(rows 0 C | wc -l) windows of $(wc -l <"$T/want")"

# 2. scale out mid-run: A and B start, C joins once A has emitted windows;
# A and B give partitions up to C only after a checkpoint has committed what
# they emitted of them (docs/scaling.md), and C starts right after that
broker
start A J; start B J
emitted J A
sleep 0.5
start C J
all_exact "a third instance joins mid-run" J 120
if [ "$(rows J C | wc -l)" -gt 0 ]; then _ok; else _bad "the instance that joined computes a share" "C wrote no window"; fi
echo "group_agg.sh: C joined: A $(rows J A | wc -l), B $(rows J B | wc -l), C $(rows J C | wc -l) windows"

# 3. scale in mid-run: C is stopped with SIGTERM once it has emitted windows;
# it takes a last checkpoint, records how far its sink got, leaves the group
# and exits 0; A and B take its partitions over. Its last checkpoint commits
# late while its tasks run on (SLUICE_STOP_COMMIT_DELAY_MS): windows close
# after the barrier, and C's handoff must not say they were emitted (it did,
# when it gave the task's watermark: 56 … 224 windows missing in 3 of 3 runs)
leave_run() {   # RUN HOLD-MS [B-TOO-AFTER-S]
  local run=$1
  broker
  start A "$run"; start B "$run"; SLUICE_STOP_COMMIT_DELAY_MS=$2 start C "$run"
  emitted "$run" C
  sleep 0.5
  kill -TERM "${PIDS[2]}"
  if [ -n "${3:-}" ]; then sleep "$3"; kill -TERM "${PIDS[1]}"; fi
}
leave_run L 1500
all_exact "an instance leaves mid-run" L 120
echo "group_agg.sh: C left: A $(rows L A | wc -l), B $(rows L B | wc -l), C $(rows L C | wc -l) windows"
# B leaves while C's last checkpoint is in flight: B's partitions come to C
# after that checkpoint's barrier, before its commit. C must not start over
# (which drops the barrier's records) until that checkpoint has committed
# and recorded the windows its sink holds — else nobody records them and A
# emits them again (56 windows twice in 4 of 4 runs, before)
leave_run L2 4000 0.3
all_exact "two instances leave mid-run, one during the other's last checkpoint" L2 120
echo "group_agg.sh: C and B left: A $(rows L2 A | wc -l), B $(rows L2 B | wc -l), C $(rows L2 C | wc -l) windows"
# C's records to the group fail for its first 10 s (SLUICE_FAIL_RECORDS_MS),
# through its stop: each failure is counted (recordFailures) and is the
# query's warning until a record goes through; the records are retried and
# C's leave still hands its partitions over with the last checkpoint's
broker
start A LF; start B LF
t0=$(date +%s%N)
SLUICE_FAIL_RECORDS_MS=10000 start C LF
emitted LF C
sleep 0.5
kill -TERM "${PIDS[2]}"
term_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
all_exact "an instance whose records fail leaves mid-run" LF 120
fails=$(progress_sum recordFailures LF C)
if [ "$fails" -gt 0 ] && [ "$(progress_sum recordFailures LF A B)" = 0 ]; then _ok; else
  _bad "failed records are counted, the instance's own" "C $fails, A and B $(progress_sum recordFailures LF A B)"; fi
grep -q '"warning":"group: SLUICE_FAIL_RECORDS_MS' "$T/prog.LF.C" && ! tail -n 1 "$T/prog.LF.C" | grep -q '"warning":"group:'
if [ $? = 0 ]; then _ok; else
  _bad "a failing record is a warning until one goes through" "$(grep -c '"warning":"group:' "$T/prog.LF.C") reports warn; the last: $(tail -n 1 "$T/prog.LF.C" | grep -o '"warning":"[^"]*"')"; fi
echo "group_agg.sh: C's records failed: $fails failures, SIGTERM $term_ms ms after its start (failing until 10000 ms)"

# 4. kill one of the three, mid-run
exact=0
kill_run() {   # RUN [crash]
  local k=$1
  broker
  start A "$k"; start B "$k"
  if [ "${2:-}" = crash ]; then
    # C kills itself right after the sink's commit of its second checkpoint
    # with windows, before anything else hears of it: those windows must be
    # recorded already, else they come twice
    crash_start "run $k" "$k" C C "$k"
  else
    start C "$k"
    C=${PIDS[2]}
    # mid-run: once C has emitted windows (its sink's pending file has rows),
    # then 0 … 2.5 s later (each instance reads for ~4 s at RATE rows/s)
    emitted "$k" C
    sleep "$(awk -v k="$k" 'BEGIN { srand(k); printf "%.1f", rand() * 2.5 }')"
    kill -0 "$C" 2>/dev/null || echo "group_agg.sh: kill run $k: C ended before the kill"
    kill -9 "$C"
    wait "$C" 2>/dev/null
  fi
  if wait_ended 120 "${PIDS[0]}" "${PIDS[1]}"; then _ok; else
    _bad "run $k: the survivors end by themselves" "still running after 120 s: $(tail -c 300 "$T/log.$k.A")"; fi
  codes="$(cat "$T/rc.${PIDS[0]}") $(cat "$T/rc.${PIDS[1]}")"
  if [ "$codes" = "0 0" ]; then _ok; else
    _bad "run $k: the survivors exit cleanly" "exit codes $codes: $(tail -c 300 "$T/log.$k.A")"; fi
  PIDS=()
  rows "$k" A B C | sort >"$T/got"
  sort -u "$T/got" >"$T/got.u"
  same=0
  cmp -s "$T/want" "$T/got.u" && same=1
  if [ $same = 1 ]; then _ok; else
    _bad "run $k: every window once killed, with its count, nothing else" "missing $(comm -23 "$T/want" "$T/got.u" | wc -l): $(comm -23 "$T/want" "$T/got.u" | head -2 | tr '\n' ' '); extra $(comm -13 "$T/want" "$T/got.u" | wc -l): $(comm -13 "$T/want" "$T/got.u" | head -2 | tr '\n' ' ')"; fi
  if [ "$(late "$k" A B)" = 0 ]; then _ok; else _bad "run $k: the survivors drop no row as late" "$(late "$k" A B) late rows"; fi
  dups=$(uniq -d "$T/got" | wc -l)
  if [ "$dups" = 0 ]; then _ok; else
    _bad "run $k: no window twice" "$dups windows twice"; fi
  [ "$dups" = 0 ] && [ $same = 1 ] && exact=$((exact + 1))
  if [ "$dups" != 0 ] || [ $same = 0 ] || [ "$codes" != "0 0" ]; then keep_logs "$k"; fi
  echo "group_agg.sh: kill run $k: A $(rows "$k" A | wc -l), B $(rows "$k" B | wc -l), killed C $(rows "$k" C | wc -l) windows; $dups twice; $(replayed "$k" A B) rows replayed"
}
for k in $(seq "$KILLS"); do kill_run "$k"; done
echo "group_agg.sh: $exact of $KILLS kill runs gave the single-process answer exactly"
kill_run X crash

# 4b. the same in HOP windows (10 s every 5 s: each row in two windows, a
# partial row per window), one kill run, against its single-process answer
QUERY="INSERT INTO out SELECT window_start, window_end, user_id, COUNT(*) AS crashes
  FROM HOP(events, ts, INTERVAL '5' SECOND, INTERVAL '10' SECOND) WHERE level = 'CRITICAL' AND event = 'crash'
  GROUP BY window_start, window_end, user_id;"
broker
"$SLUICE" -q --set parallelism=1 -e "$SRC); $(sink "$T/single.hop.csv") $QUERY" >"$T/log.single" 2>&1 </dev/null
tail -n +2 "$T/single.hop.csv" | sort >"$T/want"
if [ "$(wc -l <"$T/want")" -gt 2000 ]; then _ok; else
  _bad "the single-process answer (HOP)" "$(wc -l <"$T/want") rows: $(tail -c 300 "$T/log.single")"; fi
kill_run H

# 5. records of the repartition topic deleted before they were read (a
# retention reached by a lagging reader): ~7 MB put into partition 0 ahead
# of the instance, in ~1 MB message sets — the bundled broker keeps 5 MB a
# partition and deletes the oldest — so the partition starts past offset 0.
# The instance must stop, naming the topic, the partition and the offsets
# lost, not go on from the first record left with windows missing.
broker
head -c 10000 /dev/zero | tr '\0' x >"$T/junk1"
for _ in $(seq 100); do cat "$T/junk1"; echo; done >"$T/junk"
for _ in $(seq 7); do kcat -b "$BS" -t g-0-repartition -p 0 -P -l "$T/junk" 2>>"$T/kcat.err"; done
lo=$(kcat -b "$BS" -t g-0-repartition -p 0 -C -o beginning -c 1 -f '%o\n' -e 2>/dev/null)
if [ "${lo:-0}" -gt 0 ]; then _ok; else _bad "the broker deleted the oldest records" "first offset ${lo:-none}"; fi
start A D
if wait_ended 90 "${PIDS[0]}"; then _ok; else _bad "deleted records: the instance stops" "still running after 90 s"; fi
rc=$(cat "$T/rc.${PIDS[0]}"); PIDS=()
if [ "$rc" != 0 ] && grep -q "topic 'g-0-repartition' partition 0: records at offsets 0 to $((lo - 1)) were deleted unread" "$T/log.D.A"; then _ok; else
  _bad "deleted records: a failure naming the offsets lost" "exit $rc: $(tail -c 400 "$T/log.D.A")"; fi
finish

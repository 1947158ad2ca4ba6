#!/usr/bin/env bash
# Checkpoints and recovery: a query killed at random moments (SIGKILL) and
# restarted with the same state dir ends with exactly the output of a run
# that was never interrupted — nothing lost, nothing twice — at parallelism
# 1 and 2. Also: a stop (SIGTERM) takes a last checkpoint; a changed query
# is refused with what changed; --reset-state starts over; a corrupt state
# dir is a clear error; a source that cannot be replayed is refused.
source "$(dirname "$0")/lib.sh"
KILLS=${CHECKPOINT_KILLS:-20}
# the input (at 40 000 rows/s) lasts long enough for KILLS kills of 0.1–0.5 s
EVENTS=$(( KILLS > 20 ? 24000 * KILLS : 480000 ))

query() {   # OUT-FILE → the crash query over the logs generator into OUT-FILE
  cat <<SQL
CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR,
                    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
WITH (connector = 'logs', count = '$EVENTS', rate = '40000', users = '50', seed = '7',
      'out-of-orderness' = '1s', 'crash-ratio' = '0.2');
CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');
INSERT INTO out
SELECT user_id, window_start, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY user_id, window_start, window_end;
SQL
}

for p in 1 2; do
  d="$T/p$p"; mkdir -p "$d"
  # the reference (an uninterrupted run) runs alongside the killed ones
  query "$d/ref.csv" >"$d/ref.sql"
  "$SLUICE" -q --set parallelism=$p -f "$d/ref.sql" >/dev/null 2>"$d/ref.err" </dev/null &
  refpid=$!

  query "$d/out.csv" >"$d/q.sql"
  kills=0 runs=0 rc=1
  while :; do
    runs=$((runs + 1))
    "$SLUICE" -q --set parallelism=$p --set checkpoint.interval=100ms --state-dir "$d/state" \
      --progress "$d/progress" -f "$d/q.sql" >/dev/null 2>>"$d/err" </dev/null &
    pid=$!
    if [ $kills -lt "$KILLS" ]; then
      # a random moment in the first 0.1–0.5 s of this run
      sleep "0.$(( (RANDOM % 40) + 10 ))"
      if kill -9 $pid 2>/dev/null; then
        kills=$((kills + 1))
        wait $pid 2>/dev/null
        continue
      fi
    fi
    wait $pid; rc=$?
    break
  done
  wait $refpid
  nref=$(tail -n +2 "$d/ref.csv" | wc -l)
  if [ "$nref" -gt 100 ]; then _ok; else _bad "reference run (parallelism $p)" "$nref rows: $(head -c 300 "$d/ref.err")"; fi
  if [ $rc -eq 0 ]; then _ok; else _bad "the last run completes (parallelism $p)" "exit $rc: $(tail -c 400 "$d/err")"; fi
  # the last run's progress: the checkpoint it resumed from, and later ones
  ck=$(tail -n 1 "$d/progress" | python3 -c 'import json, sys; c = json.load(sys.stdin)["sluice"]["checkpoint"]
print(int(c["restoredEpoch"] > 0 and c["lastEpoch"] > c["restoredEpoch"] and c["count"] > 0))' 2>&1)
  if [ "$ck" = 1 ]; then _ok; else
    _bad "progress: the last run's checkpoint figures (parallelism $p)" "$ck: $(tail -n 1 "$d/progress" | grep -o '"checkpoint":[^}]*')"; fi
  if [ $kills -ge "$KILLS" ]; then _ok; else _bad "killed $KILLS times (parallelism $p)" "only $kills before the input ran out (runs: $runs)"; fi
  # the header once, then exactly the reference rows (order aside)
  if [ "$(grep -c '^user_id,' "$d/out.csv")" = 1 ]; then _ok; else
    _bad "one CSV header after $kills kills (parallelism $p)" "$(grep -c '^user_id,' "$d/out.csv") headers"; fi
  tail -n +2 "$d/ref.csv" | sort >"$d/ref.sorted"
  tail -n +2 "$d/out.csv" | sort >"$d/out.sorted"
  if cmp -s "$d/ref.sorted" "$d/out.sorted"; then _ok; else
    _bad "after $kills kills the output equals an uninterrupted run (parallelism $p)" \
      "ref $(wc -l <"$d/ref.sorted") rows, got $(wc -l <"$d/out.sorted"); diff: $(diff "$d/ref.sorted" "$d/out.sorted" | head -5 | tr '\n' ' ')"
  fi

  # run again on the finished state: nothing more to read, nothing written
  before=$(wc -l <"$d/out.csv")
  "$SLUICE" -q --set parallelism=$p --state-dir "$d/state" -f "$d/q.sql" >/dev/null 2>"$d/again.err" </dev/null
  if [ $? -eq 0 ] && [ "$(wc -l <"$d/out.csv")" = "$before" ]; then _ok; else
    _bad "a finished query resumed writes nothing (parallelism $p)" "$(wc -l <"$d/out.csv") vs $before lines; $(head -c 300 "$d/again.err")"; fi
done

# a join's state is checkpointed too: an interval left outer join of two
# generated streams, killed at random, ends with the uninterrupted output
jquery() {
  cat <<SQL
CREATE STREAM a (ts TIMESTAMP, user_id BIGINT, event VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
WITH (connector = 'logs', count = '160000', rate = '20000', users = '400', seed = '3', 'out-of-orderness' = '1s');
CREATE STREAM b (ts TIMESTAMP, user_id BIGINT, level VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
WITH (connector = 'logs', count = '16000', rate = '2000', users = '400', seed = '4', 'out-of-orderness' = '1s');
CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');
INSERT INTO out
SELECT a.user_id, a.ts, a.event, b.ts AS bts, b.level
FROM a LEFT JOIN b ON a.user_id = b.user_id AND a.ts BETWEEN b.ts - INTERVAL '100' MILLISECOND AND b.ts
WHERE a.event = 'crash';
SQL
}
d="$T/join"; mkdir -p "$d"
jquery "$d/ref.csv" >"$d/ref.sql"
"$SLUICE" -q --set parallelism=2 -f "$d/ref.sql" >/dev/null 2>"$d/ref.err" </dev/null &
refpid=$!
jquery "$d/out.csv" >"$d/q.sql"
kills=0 rc=1
while :; do
  "$SLUICE" -q --set parallelism=2 --set checkpoint.interval=100ms --state-dir "$d/state" \
    -f "$d/q.sql" >/dev/null 2>>"$d/err" </dev/null &
  pid=$!
  if [ $kills -lt $((KILLS / 2)) ]; then
    sleep "0.$(( (RANDOM % 40) + 10 ))"
    if kill -9 $pid 2>/dev/null; then kills=$((kills + 1)); wait $pid 2>/dev/null; continue; fi
  fi
  wait $pid; rc=$?
  break
done
wait $refpid
tail -n +2 "$d/ref.csv" | sort >"$d/ref.sorted"
tail -n +2 "$d/out.csv" | sort >"$d/out.sorted"
if [ $rc -eq 0 ] && [ -s "$d/ref.sorted" ] && cmp -s "$d/ref.sorted" "$d/out.sorted"; then _ok; else
  _bad "a join killed $kills times ends with the uninterrupted output" \
    "exit $rc; ref $(wc -l <"$d/ref.sorted") rows, got $(wc -l <"$d/out.sorted"); $(diff "$d/ref.sorted" "$d/out.sorted" | head -4 | tr '\n' ' ') $(tail -c 300 "$d/err")"
fi

# SIGTERM: the query stops after a last checkpoint; the restart goes on from
# there and the output is still exact
d="$T/term"; mkdir -p "$d"
query "$d/out.csv" >"$d/q.sql"
"$SLUICE" -q --set parallelism=2 --set checkpoint.interval=10s --state-dir "$d/state" -f "$d/q.sql" \
  >/dev/null 2>"$d/err" </dev/null &
pid=$!
sleep 3.5
kill -TERM $pid; wait $pid; rc=$?
lines=$(tail -n +2 "$d/out.csv" 2>/dev/null | wc -l)
if [ "$lines" -gt 0 ]; then _ok; else
  _bad "SIGTERM commits the output so far (checkpoint interval 10 s)" "exit $rc, $lines rows; $(head -c 300 "$d/err")"; fi
"$SLUICE" -q --set parallelism=2 --state-dir "$d/state" -f "$d/q.sql" >/dev/null 2>>"$d/err" </dev/null
tail -n +2 "$d/out.csv" | sort >"$d/out.sorted"
if cmp -s "$T/p2/ref.sorted" "$d/out.sorted"; then _ok; else
  _bad "stop + resume gives the uninterrupted output" "$(diff "$T/p2/ref.sorted" "$d/out.sorted" | head -5 | tr '\n' ' ')"; fi

# a changed query: refused, saying what changed, until --reset-state
sed 's/INTERVAL .1. SECOND)/INTERVAL '"'"'2'"'"' SECOND)/' "$d/q.sql" >"$d/q2.sql"
expect_exit 3 "a changed query is refused" "$SLUICE" -q --set parallelism=2 --state-dir "$d/state" -f "$d/q2.sql"
if grep -q "different query" "$T/err" && grep -q "plan line" "$T/err" && grep -q -- "--reset-state" "$T/err"; then _ok; else
  _bad "the refusal says what changed and how to start over" "$(head -c 400 "$T/err")"; fi
expect_exit 3 "other parallelism is a different plan" "$SLUICE" -q --set parallelism=1 --state-dir "$d/state" -f "$d/q.sql"
rm -f "$d/out.csv"
expect_exit 0 "--reset-state starts over" "$SLUICE" -q --set parallelism=2 --state-dir "$d/state" --reset-state -f "$d/q2.sql"
if [ "$(tail -n +2 "$d/out.csv" | wc -l)" -gt 0 ]; then _ok; else _bad "--reset-state run writes output" "empty"; fi

# a corrupt state dir: a clear error, no crash
d="$T/corrupt"; mkdir -p "$d"
query "$d/out.csv" >"$d/q.sql"
"$SLUICE" -q --set parallelism=1 --state-dir "$d/state" -f "$d/q.sql" >/dev/null 2>&1 </dev/null
for f in "$d"/state/out/MANIFEST-*; do printf 'garbage' >"$f"; done
expect_exit 3 "a corrupt state dir is refused" "$SLUICE" -q --set parallelism=1 --state-dir "$d/state" -f "$d/q.sql"
if grep -qi "state" "$T/err" && ! grep -qi "sanitizer\|segmentation" "$T/err"; then _ok; else
  _bad "the corrupt state error is clear" "$(head -c 400 "$T/err")"; fi

# stdin cannot be replayed: refused up front when checkpoints are on
printf '{"a":1}\n' >"$T/one.json"
expect_out "stdin cannot be checkpointed" "cannot be checkpointed" sh -c "\"$SLUICE\" -q --state-dir '$T/st' -e \"CREATE STREAM s (a BIGINT) WITH (connector='stdin'); SELECT a FROM s;\" <'$T/one.json'"
finish

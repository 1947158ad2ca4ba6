#!/usr/bin/env bash
# Faults (issue 11, item 4), through the real binary:
#   - a sink that stalls (a file sink onto a FIFO nobody reads): back-pressure
#     stops the sources, memory stays bounded, and when the reader comes the
#     output is complete — nothing lost, nothing twice;
#   - a sink that fails (/dev/full): a clear error, exit 3;
#   - a state dir that cannot be created or opened: a clear error, exit 3,
#     and no output written;
#   - SIGTERM at random moments while checkpoints run every 10 ms: every
#     restart recovers and the output is exactly an uninterrupted run's.
# (Broker down and up is tests/cli/kafka_down.sh.)
source "$(dirname "$0")/lib.sh"
TERMS=${FAULT_TERMS:-10}

# ---- a stalled sink -------------------------------------------------------------
mkfifo "$T/fifo"
cat >"$T/stall.sql" <<SQL
CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR, msg VARCHAR)
WITH (connector = 'logs', count = '1500000', rate = '300000', seed = '5');
CREATE SINK out WITH (connector = 'file', path = '$T/fifo', format = 'json');
INSERT INTO out SELECT * FROM logs;
SQL
# the reference: the same query into a plain file, alongside
sed "s#'$T/fifo'#'$T/stall.ref'#" "$T/stall.sql" >"$T/stall_ref.sql"
"$SLUICE" -q --set parallelism=2 -f "$T/stall_ref.sql" >/dev/null 2>&1 </dev/null &
refpid=$!
exec 3<>"$T/fifo"     # a reader that never reads: the open succeeds, the pipe fills
"$SLUICE" -q --set parallelism=2 --progress "$T/prog" -f "$T/stall.sql" >/dev/null 2>"$T/stall.err" </dev/null 3>&- &
pid=$!
max=0 samples=0
for i in $(seq 1 16); do   # 4 s of stall: the source alone would make 1.2 M rows (~150 MB of JSON)
  sleep 0.25
  kb=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null)
  [ -n "$kb" ] || break
  samples=$((samples + 1))
  [ "$kb" -gt "$max" ] && max=$kb
done
if [ $samples -eq 16 ]; then _ok; else _bad "a stalled sink: the query waits (does not fail)" "gone after $samples samples: $(head -c 300 "$T/stall.err")"; fi
if [ "$max" -gt 0 ] && [ "$max" -lt 100000 ]; then _ok; else _bad "a stalled sink: memory stays bounded" "VmRSS peaked at $max kB"; fi
# the reader comes; the writer's end closes when sluice exits (fd 3 is not passed on)
cat "$T/fifo" >"$T/stall.out" 3>&- &
cpid=$!
sleep 0.5               # cat has the FIFO open before our reader goes away
exec 3>&-
wait $pid; rc=$?
wait $cpid
if [ $rc -eq 0 ]; then _ok; else _bad "a stalled sink: the query completes once read" "exit $rc: $(head -c 300 "$T/stall.err")"; fi
n=$(wc -l <"$T/stall.out")
if [ "$n" -eq 1500000 ]; then _ok; else _bad "a stalled sink: nothing lost or doubled" "$n rows, want 1500000"; fi
wait $refpid
if cmp -s <(sort "$T/stall.ref") <(sort "$T/stall.out"); then _ok; else
  _bad "a stalled sink: the rows equal an unstalled run's" "$(wc -l <"$T/stall.ref") reference rows"; fi
# the progress goes on while the sink is stalled (an INSERT reports it from
# a thread of its own) and shows the input rate falling to 0
if grep -q '"inputRowsPerSecond":0.0' "$T/prog" && [ "$(grep -c . "$T/prog")" -ge 4 ]; then _ok; else
  _bad "a stalled sink: the progress shows input rate 0 while stalled" "$(grep -c . "$T/prog") progress lines"; fi

# ---- a sink that fails: /dev/full --------------------------------------------------
cat >"$T/full.sql" <<SQL
CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR) WITH (connector = 'logs', count = '200000', seed = '5');
CREATE SINK out WITH (connector = 'file', path = '/dev/full', format = 'json');
INSERT INTO out SELECT * FROM logs;
SQL
expect_exit 3 "a full disk (sink on /dev/full): exit 3" timeout 30 "$SLUICE" -q -f "$T/full.sql"
if grep -q "sink 'out'" "$T/err" && grep -q "No space left on device" "$T/err"; then _ok; else
  _bad "a full disk: the error names the sink and the cause" "$(head -c 300 "$T/err")"; fi
expect_exit 3 "a full disk with checkpoints: exit 3" timeout 30 "$SLUICE" -q --state-dir "$T/stfull" -f "$T/full.sql"
if grep -q "sink 'out'" "$T/err" && grep -qE "No space left on device|cannot fsync '/dev/full'" "$T/err"; then _ok; else
  _bad "a full disk with checkpoints: the cause" "$(head -c 300 "$T/err")"; fi
# the state it left is still a valid store: the same query again fails on the
# sink again (finishing the commit the failure interrupted), not on the store
expect_exit 3 "a full disk, run again on its state: exit 3" timeout 30 "$SLUICE" -q --state-dir "$T/stfull" -f "$T/full.sql"
if grep -q "/dev/full" "$T/err" && ! grep -qi "corrupt" "$T/err"; then _ok; else
  _bad "a full disk leaves no corrupted checkpoint" "$(head -c 300 "$T/err")"; fi

# ---- an unusable state dir -----------------------------------------------------------
sed "s#/dev/full#$T/ok.json#" "$T/full.sql" >"$T/ok.sql"
echo x >"$T/notadir"
expect_exit 3 "a file where the state dir should be: exit 3" timeout 30 "$SLUICE" -q --state-dir "$T/notadir" -f "$T/ok.sql"
if grep -q "state directory" "$T/err" && grep -q "Not a directory" "$T/err"; then _ok; else
  _bad "a file as the state dir: clear error" "$(head -c 300 "$T/err")"; fi
mkdir -p "$T/st2"; echo x >"$T/st2/out"
expect_exit 3 "a file where the query's store should be: exit 3" timeout 30 "$SLUICE" -q --state-dir "$T/st2" -f "$T/ok.sql"
if grep -q "$T/st2/out" "$T/err"; then _ok; else _bad "the store error names the directory" "$(head -c 300 "$T/err")"; fi
expect_exit 3 "a state dir that cannot be created: exit 3" timeout 30 "$SLUICE" -q --state-dir /proc/self/sluice-state -f "$T/ok.sql"
if grep -q "state.dir '/proc/self/sluice-state'" "$T/err"; then _ok; else _bad "an uncreatable state dir: clear error" "$(head -c 300 "$T/err")"; fi
if [ "$(id -u)" -ne 0 ]; then   # root ignores permissions
  mkdir -p "$T/st000"; chmod 000 "$T/st000"
  expect_exit 3 "an unwritable state dir (chmod 000): exit 3" timeout 30 "$SLUICE" -q --state-dir "$T/st000" -f "$T/ok.sql"
  if grep -q "st000" "$T/err"; then _ok; else _bad "an unwritable state dir: clear error" "$(head -c 300 "$T/err")"; fi
  chmod 700 "$T/st000"
fi
if [ ! -s "$T/ok.json" ]; then _ok; else _bad "a refused state dir writes no output" "$(wc -l <"$T/ok.json") rows"; fi

# ---- SIGTERM while checkpoints run every 10 ms ------------------------------------------
query() {
  cat <<SQL
CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR,
                    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND)
WITH (connector = 'logs', count = '200000', rate = '40000', users = '50', seed = '11',
      'out-of-orderness' = '1s', 'crash-ratio' = '0.2');
CREATE SINK out WITH (connector = 'file', path = '$1', format = 'csv');
INSERT INTO out
SELECT user_id, window_start, COUNT(*) AS crashes
FROM TUMBLE(logs, ts, INTERVAL '1' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash'
GROUP BY user_id, window_start, window_end;
SQL
}
d="$T/term"; mkdir -p "$d"
query "$d/ref.csv" >"$d/ref.sql"
"$SLUICE" -q --set parallelism=2 -f "$d/ref.sql" >/dev/null 2>"$d/ref.err" </dev/null &
refpid=$!
query "$d/out.csv" >"$d/q.sql"
terms=0 bad_exit=0 rc=1
while :; do
  "$SLUICE" -q --set parallelism=2 --set checkpoint.interval=10ms --state-dir "$d/state" \
    -f "$d/q.sql" >/dev/null 2>>"$d/err" </dev/null &
  pid=$!
  if [ $terms -lt "$TERMS" ]; then
    sleep "0.$(( (RANDOM % 30) + 10 ))"
    if kill -TERM $pid 2>/dev/null; then
      terms=$((terms + 1))
      timeout 15 tail --pid=$pid -f /dev/null || { kill -9 $pid; bad_exit=$((bad_exit + 1)); }
      wait $pid; r=$?
      [ $r -eq 0 ] || bad_exit=$((bad_exit + 1))
      continue
    fi
  fi
  wait $pid; rc=$?
  break
done
wait $refpid
if [ $bad_exit -eq 0 ]; then _ok; else _bad "SIGTERM during 10 ms checkpoints: each stop exits 0 in time" "$bad_exit bad stops: $(tail -c 300 "$d/err")"; fi
if [ $rc -eq 0 ]; then _ok; else _bad "SIGTERM x$terms: the last run completes" "exit $rc: $(tail -c 300 "$d/err")"; fi
if [ $terms -ge "$TERMS" ]; then _ok; else _bad "stopped $TERMS times" "only $terms"; fi
if [ "$(grep -c '^user_id,' "$d/out.csv")" = 1 ]; then _ok; else _bad "one CSV header after $terms stops" "$(grep -c '^user_id,' "$d/out.csv")"; fi
tail -n +2 "$d/ref.csv" | sort >"$d/ref.sorted"
tail -n +2 "$d/out.csv" | sort >"$d/out.sorted"
if [ -s "$d/ref.sorted" ] && cmp -s "$d/ref.sorted" "$d/out.sorted"; then _ok; else
  _bad "after $terms SIGTERMs the output equals an uninterrupted run" \
    "ref $(wc -l <"$d/ref.sorted") rows, got $(wc -l <"$d/out.sorted"): $(diff "$d/ref.sorted" "$d/out.sorted" | head -4 | tr '\n' ' ')"
fi
if ! grep -qiE "sanitizer|corrupt|segmentation" "$d/err"; then _ok; else _bad "no crash or corrupt state across the stops" "$(grep -iE 'sanitizer|corrupt|segmentation' "$d/err" | head -3)"; fi
# state.memory: a query whose join state (which cannot spill, unlike an
# aggregate's: tests/cli/spill.sh) outgrows the budget stops with an error
# naming the setting (exit 3) instead of eating the machine
"$SLUICE" -q --set state.memory=2MB -e "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT)
  WITH (connector = 'logs', count = '2000000', users = '1000000');
  CREATE STREAM h (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', count = '2000000', users = '1000000', seed = '7');
  SELECT COUNT(*) FROM g JOIN h ON g.user_id = h.user_id;" >/dev/null 2>"$T/mem.err" </dev/null
rc=$?
if [ $rc -eq 3 ] && grep -q "over state.memory (2097152 bytes), and cannot spill" "$T/mem.err"; then _ok; else
  _bad "join state over state.memory stops the query, naming the setting" "exit $rc: $(tail -c 300 "$T/mem.err")"; fi
# … and the same query fits the default budget
"$SLUICE" -q -e "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', count = '200000', users = '1000');
  SELECT COUNT(*) FROM (SELECT user_id, COUNT(*) AS n FROM g GROUP BY user_id) x;" >/dev/null 2>"$T/mem.err" </dev/null
if [ $? -eq 0 ]; then _ok; else _bad "a small state fits the default state.memory" "$(tail -c 300 "$T/mem.err")"; fi
# a HOP that would put each row in millions of windows is refused at plan time
expect_out "a HOP with size/slide over 100 000 is refused" "puts each row in 3600000 windows" "$SLUICE" --check -e "
  CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs');
  SELECT window_start, COUNT(*) FROM HOP(g, ts, INTERVAL '1' MILLISECOND, INTERVAL '1' HOUR) GROUP BY window_start, window_end;"
# max-record-size is an option of file and stdin streams
printf '{"a":"1"}\n{"a":"%s"}\n{"a":"3"}\n' "$(head -c 5000 /dev/zero | tr '\0' x)" >"$T/long.json"
"$SLUICE" -q --format csv -e "CREATE STREAM s (a VARCHAR) WITH (connector = 'file', path = '$T/long.json', 'max-record-size' = '1KB');
  SELECT a FROM s;" >"$T/long.out" 2>"$T/long.err" </dev/null
if [ "$(tail -n +2 "$T/long.out" | sort | tr '\n' ' ')" = "1 3 " ] && grep -q "max-record-size" "$T/long.err"; then _ok; else
  _bad "max-record-size skips longer records and says so" "$(cat "$T/long.out") $(head -c 300 "$T/long.err")"; fi
finish

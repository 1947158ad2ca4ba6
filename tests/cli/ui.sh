#!/usr/bin/env bash
# The web UI (sluice --ui PORT, SET ui.port; docs/ui.md): every page and API
# endpoint answers against a running query with valid JSON / Prometheus
# text, bad requests get 4xx, a burst of 200 concurrent requests is served,
# the query's output is the same as without the UI, and Ctrl-C exits cleanly.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || { echo "SKIP $0: curl is not installed (make deps)"; echo "0 passed, 0 failed"; exit 0; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# check NAME COND-EXIT-STATUS DETAIL
check() { if [ "$2" -eq 0 ]; then _ok; else _bad "$1" "$3"; fi; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
is_json() { python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; }

# a bounded generator query (20 s at 20k rows/s), with and without the UI
cat > "$T/q.sql" <<'EOF'
CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
  WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
WITH (connector = 'logs', rate = '20000', count = '400000', users = '100', 'out-of-orderness' = '5s',
      start = '2024-01-01 00:00:00', seed = '42');
SELECT window_start, window_end, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;
EOF

PORT=$(free_port)
U="http://127.0.0.1:$PORT"
"$SLUICE" -q --format csv --set parallelism=2 --ui "$PORT" -f "$T/q.sql" >"$T/ui.out" 2>"$T/ui.err" </dev/null &
pid=$!
"$SLUICE" -q --format csv --set parallelism=2 -f "$T/q.sql" >"$T/ref.out" 2>"$T/ref.err" </dev/null &
ref=$!

# wait for the server and for a few progress samples
for _ in $(seq 1 50); do
  n=$(curl -s "$U/api/queries/q1/progress" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.2
done
grep -qF "sluice: web UI at $U/" "$T/ui.err"; check "the URL is printed" $? "$(head -c 300 "$T/ui.err")"

# pages
curl -s "$U/" >"$T/index.html"; check "GET / is 200" "$([ "$(code "$U/")" = 200 ]; echo $?)" "$(code "$U/")"
grep -q 'href="/queries/q1"' "$T/index.html"; check "the list links q1" $? "$(head -c 300 "$T/index.html")"
curl -s "$U/queries/q1" >"$T/q1.html"
grep -q '<canvas id="c-rates"' "$T/q1.html"; check "the query page has its charts" $? "$(head -c 300 "$T/q1.html")"
curl -s "$U/static/app.js" >"$T/app.js"; curl -s "$U/static/ui.css" >"$T/ui.css"
[ -s "$T/app.js" ] && [ -s "$T/ui.css" ]; check "the assets are served" $? "empty app.js or ui.css"
# nothing external: no URL with a scheme or a protocol-relative one in what the browser loads
! grep -qE '(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}' "$T/index.html" "$T/q1.html" "$T/app.js" "$T/ui.css"
check "no external URL in the pages" $? "$(grep -oE '(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}' "$T/index.html" "$T/q1.html" "$T/app.js" "$T/ui.css" | head -3)"

# the JSON API
curl -s "$U/api/queries" >"$T/list.json"
python3 - "$T/list.json" <<'EOF'; check "/api/queries lists q1 running" $? "$(head -c 300 "$T/list.json")"
import json, sys
d = json.load(open(sys.argv[1]))
q = [x for x in d["queries"] if x["id"] == "q1"][0]
assert q["status"] == "running" and q["inputRows"] > 0 and "SELECT" in q["sql"], q
EOF
curl -s "$U/api/queries/q1" >"$T/q1.json"
python3 - "$T/q1.json" <<'EOF'; check "/api/queries/q1 has progress and settings" $? "$(head -c 300 "$T/q1.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["id"] == "q1" and d["progress"]["sluice"]["totalInputRows"] > 0, d
assert d["workers"]["parallelism"] == 2 and d["checkpoints"]["enabled"] is False, d
assert d["group"] is None, d   # one process
EOF
curl -s "$U/api/queries/q1/progress" >"$T/progress.json"
python3 - "$T/progress.json" <<'EOF'; check "/progress gives the --progress objects" $? "$(head -c 300 "$T/progress.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) >= 2, d
for p in d:
    for k in ("id", "timestamp", "batchId", "numInputRows", "inputRowsPerSecond", "processedRowsPerSecond",
              "durationMs", "eventTime", "stateOperators", "sources", "sink", "sluice"):
        assert k in p, (k, p)
assert [p["batchId"] for p in d] == sorted(p["batchId"] for p in d)
assert sum(p["numInputRows"] for p in d) > 0
EOF
# since = the last timestamp a page has (whole ms; the sample was taken a
# fraction of a ms later): that sample must not come back a second time
python3 - "$T/progress.json" "$U/api/queries/q1/progress" 2>"$T/since.err" <<'EOF'; check "since excludes the sample it names" $? "$(tail -c 300 "$T/since.err")"
import calendar, datetime, json, sys, urllib.request
def ms(t):   # exact: no float
    d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return calendar.timegm(d.utctimetuple()) * 1000 + d.microsecond // 1000
d = json.load(open(sys.argv[1]))
for p in d[-3:]:
    again = json.load(urllib.request.urlopen(sys.argv[2] + "?since=%d" % ms(p["timestamp"])))
    assert all(ms(x["timestamp"]) > ms(p["timestamp"]) for x in again), (p["timestamp"], again[:1])
    assert all(x["batchId"] > p["batchId"] for x in again), (p["batchId"], [x["batchId"] for x in again])
EOF
future=$(( ($(date +%s) + 3600) * 1000 ))
[ "$(curl -s "$U/api/queries/q1/progress?since=$future")" = "[]" ]; check "since filters" $? "$(curl -s "$U/api/queries/q1/progress?since=$future" | head -c 200)"
curl -s "$U/api/queries/q1/plan" >"$T/plan.json"
python3 - "$T/plan.json" <<'EOF'; check "/plan has the stages and live figures" $? "$(head -c 300 "$T/plan.json")"
import json, sys
d = json.load(open(sys.argv[1]))
st = d["plan"]["stages"]
assert len(st) == 2 and st[1]["inputs"][0]["partitioning"], st
assert len(d["live"]["stages"]) == 2 and d["live"]["stages"][0]["rowsIn"] > 0, d["live"]
EOF

# Prometheus text: every line a comment or "name{labels} value"; the counters are there
curl -s "$U/metrics" >"$T/metrics"
! grep -vE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+\{query="q[0-9]+"\} -?[0-9.e+-]+)$' "$T/metrics" | grep -q .
check "/metrics parses as Prometheus text" $? "$(grep -vE '^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+\{query="q[0-9]+"\} -?[0-9.e+-]+)$' "$T/metrics" | head -3)"
for m in sluice_input_rows_total sluice_output_rows_total sluice_late_rows_total sluice_state_rows \
         sluice_watermark_seconds sluice_bad_records_total; do
  grep -q "^# TYPE $m " "$T/metrics" && grep -q "^$m{query=\"q1\"} " "$T/metrics"
  check "/metrics has $m" $? "$(head -c 300 "$T/metrics")"
done

# bad requests: 4xx, never a crash
want() {   # CODE NAME CURL-ARGS...
  local w=$1 name=$2; shift 2
  local got; got=$(code "$@")
  [ "$got" = "$w" ]; check "$name is $w" $? "got $got"
}
want 404 "an unknown path" "$U/nope"
want 404 "an unknown API path" "$U/api/nope"
want 404 "an unknown query" "$U/api/queries/q999"
want 404 "an unknown query page" "$U/queries/q999"
want 404 "an unknown sub-resource" "$U/api/queries/q1/nope"
want 400 "a malformed id" "$U/api/queries/abc"
want 400 "a huge id" "$U/api/queries/q99999999999999999999999999"
want 400 "an id with NUL" "$U/api/queries/q1%00x"
want 400 "a bad since" "$U/api/queries/q1/progress?since=abc"
want 400 "a dot-dot id" --path-as-is "$U/api/queries/../../etc/passwd"
want 404 "a dot-dot path" --path-as-is "$U/../../etc/passwd"
want 405 "POST" -X POST -d x=1 "$U/api/queries"
want 405 "DELETE" -X DELETE "$U/api/queries/q1"
long=$(head -c 20000 /dev/zero | tr '\0' a)
got=$(code "$U/$long"); case "$got" in 4??) _ok ;; *) _bad "a very long URL is 4xx" "got $got" ;; esac

# a burst of 200 requests, 20 at a time, while the query runs
for i in $(seq 1 200); do
  case $((i % 5)) in
    0) echo "$U/" ;; 1) echo "$U/api/queries" ;; 2) echo "$U/api/queries/q1/progress" ;;
    3) echo "$U/metrics" ;; 4) echo "$U/api/queries/q1/plan" ;;
  esac
done | xargs -P 20 -n 1 curl -s -o /dev/null -w '%{http_code}\n' >"$T/burst"
[ "$(grep -c '^200$' "$T/burst")" -eq 200 ]; check "200 concurrent requests all served" $? "$(sort "$T/burst" | uniq -c | tr '\n' ' ')"
kill -0 $pid 2>/dev/null; check "the query still runs after the burst" $? "it exited early: $(tail -c 300 "$T/ui.err")"

# the query's output does not depend on the UI
wait $pid; rc=$?
wait $ref; rrc=$?
[ $rc -eq 0 ] && [ $rrc -eq 0 ]; check "both runs exit 0" $? "exit $rc / $rrc: $(tail -c 300 "$T/ui.err")"
# (rows of one window come in task order, which varies from run to run: compare sorted)
sort "$T/ui.out" >"$T/ui.sorted"; sort "$T/ref.out" >"$T/ref.sorted"
[ "$(wc -l <"$T/ref.sorted")" -gt 10 ] && cmp -s "$T/ui.sorted" "$T/ref.sorted"
check "the output is the same with the UI" $? "$(diff "$T/ref.sorted" "$T/ui.sorted" | head -5)"
[ "$(code "$U/")" = 000 ]; check "the server is gone after exit" $? "still answering"

# SET ui.port in the script starts the UI; Ctrl-C stops the query and sluice exits cleanly
PORT2=$(free_port)
"$SLUICE" -q --state-dir "$T/state" -e "SET ui.port = $PORT2;
  CREATE STREAM g (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR)
    WITH (connector = 'logs', rate = '5000', users = '10', seed = '1');
  SELECT level, COUNT(*) FROM g GROUP BY level;" >"$T/set.out" 2>"$T/set.err" </dev/null &
pid=$!
ok=1
for _ in $(seq 1 50); do [ "$(code "http://127.0.0.1:$PORT2/api/queries/q1")" = 200 ] && { ok=0; break; }; sleep 0.1; done
check "SET ui.port starts the UI" $ok "$(head -c 300 "$T/set.err")"
curl -s "http://127.0.0.1:$PORT2/api/queries/q1" | python3 -c '
import json, sys
c = json.load(sys.stdin)["checkpoints"]
assert c["enabled"] is True and c["stateDir"].endswith("/state"), c' 2>"$T/ck.err"
check "--state-dir shows in the checkpoints section" $? "$(tail -c 300 "$T/ck.err")"
sleep 1
kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 0 ]; check "Ctrl-C exits cleanly" $? "exit $rc: $(tail -c 300 "$T/set.err")"

# flags: a bad port is a usage error; --reset-state; a port in use fails with a message
expect_exit 2 "--ui with a bad port" "$SLUICE" --ui 70000 -e 'SELECT 1;'
expect_exit 0 "--reset-state is accepted" "$SLUICE" --state-dir "$T/state" --reset-state -e 'SELECT 1;'
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(5)' >"$T/busy" &
busy=$!
for _ in $(seq 1 30); do [ -s "$T/busy" ] && break; sleep 0.1; done
expect_out "--ui on a port in use" "cannot start the web UI" "$SLUICE" --ui "$(cat "$T/busy")" -e 'SELECT 1;'
kill $busy 2>/dev/null; wait $busy 2>/dev/null
finish

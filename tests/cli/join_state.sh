#!/usr/bin/env bash
# Join state is bounded by the watermarks: an interval join and a window join
# over two rate-limited generators keep a flat state while their input
# keeps growing (rows are freed as the other side's watermark passes them),
# and end with none. The figures come from the --progress file.
source "$(dirname "$0")/lib.sh"

DDL="CREATE STREAM a (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '500' MILLISECOND)
       WITH (connector = 'logs', count = '200000', rate = '50000', users = '1000', seed = '1');
     CREATE STREAM b (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '500' MILLISECOND)
       WITH (connector = 'logs', count = '200000', rate = '50000', users = '1000', seed = '2');"

check() {   # NAME QUERY
  local name=$1 q=$2
  "$SLUICE" -q --set parallelism=2 --progress "$T/p.jsonl" -e "$DDL $q" >/dev/null 2>"$T/err" </dev/null
  python3 - "$T/p.jsonl" <<'PY' >"$T/verdict"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
total, state = 0, []
for o in rows:
    total += o["numInputRows"]
    state.append((total, sum(s["numRowsTotal"] for s in o["stateOperators"])))
mid = [s for t, s in state if 100000 <= t < 380000]
ok = len(mid) >= 2 and max(mid) < 0.5 * 400000 and max(mid) <= 1.5 * min(mid) + 1000 and state[-1][1] == 0
print("ok" if ok else "bad", total, state)
PY
  [ -n "${JOIN_STATE_VERBOSE:-}" ] && cat "$T/verdict"
  if grep -q "^ok 400000 " "$T/verdict"; then _ok; else _bad "$name: state stays flat and ends empty" "$(head -c 400 "$T/verdict") $(head -c 200 "$T/err")"; fi
}

check "interval join" "SELECT a.user_id, b.ts FROM a JOIN b ON a.user_id = b.user_id AND a.ts BETWEEN b.ts - INTERVAL '20' MILLISECOND AND b.ts;"
check "window join" "SELECT x.user_id, x.n, y.n FROM
  (SELECT user_id, window_start, window_end, COUNT(*) AS n FROM TUMBLE(a, ts, INTERVAL '1' SECOND) GROUP BY user_id, window_start, window_end) x
  JOIN
  (SELECT user_id, window_start, window_end, COUNT(*) AS n FROM TUMBLE(b, ts, INTERVAL '1' SECOND) GROUP BY user_id, window_start, window_end) y
  ON x.user_id = y.user_id AND x.window_start = y.window_start AND x.window_end = y.window_end;"
finish

#!/usr/bin/env bash
# Oracle test: windowed queries over generated log events give, at
# parallelism 1 and 2, exactly what sqlite3 (batch SQL over the same rows)
# gives. The watermark delay covers the generator's out-of-orderness, so no
# row is late and the streaming answer must equal the batch answer.
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL $0: sqlite3 is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }

DDL="CREATE STREAM logs (ts TIMESTAMP(3), user_id BIGINT, ip VARCHAR, level VARCHAR, event VARCHAR, msg VARCHAR,
       WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
     WITH (connector = 'logs', count = '300000', users = '40', seed = '7', 'out-of-orderness' = '5s',
           'crash-ratio' = '0.05', zipf = '1.1');"

# the rows, exactly as sluice reads them, into sqlite3
"$SLUICE" -q --format csv -e "$DDL SELECT ts, user_id, ip, level, event FROM logs;" > "$T/rows.csv"
rows=$(($(wc -l < "$T/rows.csv") - 1))
if [ "$rows" -eq 300000 ]; then _ok; else _bad "generator row count" "got $rows rows"; fi
sqlite3 "$T/db" <<SQL
CREATE TABLE logs (ts TEXT, user_id INTEGER, ip TEXT, level TEXT, event TEXT);
.import --csv --skip 1 $T/rows.csv logs
-- event time in whole microseconds since the epoch, and window starts in seconds
ALTER TABLE logs ADD COLUMN us INTEGER;
UPDATE logs SET us = CAST(strftime('%s', substr(ts, 1, 19)) AS INTEGER) * 1000000
                   + CAST(substr(ts || '.000000', 21, 6) || substr('000000', 1, 6 - length(substr(ts || '.000000', 21, 6))) AS INTEGER);
SQL

# fmt(µs) in sqlite: sluice's TIMESTAMP text for whole seconds
ws() { echo "datetime(($1) / 1000000, 'unixepoch')"; }

check() {   # NAME SLUICE-QUERY SQLITE-QUERY
  local name=$1 sq=$2 lq=$3 p
  sqlite3 -list -separator , "$T/db" "$lq" | sort > "$T/want"
  for p in 1 2; do
    # a changelog (EMIT CHANGES) starts with an op column; with emit.interval
    # longer than the run, each group appears once (+I) with its final value
    "$SLUICE" -q --format csv --set parallelism=$p --set emit.interval=1h -e "$DDL $sq" 2>"$T/err" > "$T/raw"
    if head -1 "$T/raw" | grep -q '^op,'; then tail -n +2 "$T/raw" | cut -d, -f2- | sort > "$T/got"
    else tail -n +2 "$T/raw" | sort > "$T/got"; fi
    if [ -s "$T/want" ] && cmp -s "$T/want" "$T/got"; then _ok; else
      _bad "$name (parallelism $p)" "$(wc -l < "$T/want") rows expected, $(wc -l < "$T/got") got; $(diff "$T/want" "$T/got" | head -5) $(head -c 300 "$T/err")"
    fi
  done
}

W10="(us / 10000000) * 10000000"
check "seed crash query: tumble 10 s" \
  "SELECT window_start, window_end, user_id, COUNT(*) AS crashes FROM TUMBLE(logs, ts, INTERVAL '10' SECOND)
   WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY window_start, window_end, user_id;" \
  "SELECT $(ws "$W10"), $(ws "$W10 + 10000000"), user_id, COUNT(*) FROM logs
   WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY 1, 2, 3;"

check "group-window spelling with several aggregates" \
  "SELECT TUMBLE_START(ts, INTERVAL '1' MINUTE) AS ws, level, COUNT(*), SUM(user_id), MIN(user_id), MAX(user_id), COUNT(DISTINCT ip)
   FROM logs GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), level;" \
  "SELECT $(ws "(us / 60000000) * 60000000"), level, COUNT(*), SUM(user_id), MIN(user_id), MAX(user_id), COUNT(DISTINCT ip)
   FROM logs GROUP BY 1, 2;"

check "hop 20 s every 10 s, per event" \
  "SELECT window_start, event, COUNT(*) FROM HOP(logs, ts, INTERVAL '10' SECOND, INTERVAL '20' SECOND) GROUP BY window_start, window_end, event;" \
  "WITH w(s) AS (SELECT DISTINCT (us / 10000000) * 10000000 FROM logs UNION SELECT DISTINCT (us / 10000000) * 10000000 - 10000000 FROM logs)
   SELECT $(ws "w.s"), event, COUNT(*) FROM w JOIN logs ON logs.us >= w.s AND logs.us < w.s + 20000000 GROUP BY w.s, event;"

check "filter with FILTER clause and HAVING" \
  "SELECT window_start, user_id, COUNT(*) FILTER (WHERE level = 'ERROR') AS errors, COUNT(*) AS total
   FROM TUMBLE(logs, ts, INTERVAL '30' SECOND) GROUP BY window_start, window_end, user_id HAVING COUNT(*) > 100;" \
  "SELECT $(ws "(us / 30000000) * 30000000"), user_id, SUM(level = 'ERROR'), COUNT(*) FROM logs GROUP BY 1, 2 HAVING COUNT(*) > 100;"

check "projection and filter (append)" \
  "SELECT user_id, UPPER(event) FROM logs WHERE level = 'CRITICAL' AND user_id BETWEEN 3 AND 9;" \
  "SELECT user_id, UPPER(event) FROM logs WHERE level = 'CRITICAL' AND user_id BETWEEN 3 AND 9;"

check "non-windowed aggregate, final values at the end of input" \
  "SELECT level, COUNT(*), MAX(user_id) FROM logs GROUP BY level;" \
  "SELECT level, COUNT(*), MAX(user_id) FROM logs GROUP BY level;"

finish

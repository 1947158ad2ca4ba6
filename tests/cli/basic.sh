#!/usr/bin/env bash
# CLI behaviour of build/sluice: flags, exit codes, error format, output formats.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "--help exits 0" "$SLUICE" --help
expect_out "--help shows usage" "Usage: sluice" "$SLUICE" --help
expect_out "--help lists --check" "--check" "$SLUICE" --help
expect_exit 0 "--version exits 0" "$SLUICE" --version
expect_out "--version prints the name" "sluice " "$SLUICE" --version
expect_exit 2 "unknown option is a usage error" "$SLUICE" --bogus
expect_out "unknown option is named" "unknown option '--bogus'" "$SLUICE" --bogus
expect_exit 2 "-e without value" "$SLUICE" -e
expect_exit 2 "bad --format" "$SLUICE" --format xml -e 'SHOW STREAMS;'
expect_exit 2 "missing file" "$SLUICE" -f "$T/nope.sql"
expect_out "missing file is named" "cannot read '$T/nope.sql'" "$SLUICE" -f "$T/nope.sql"
expect_exit 2 "bad --set key" "$SLUICE" --set paralelism=2 -e 'SHOW STREAMS;'
expect_out "bad --set key is explained" "did you mean 'parallelism'" "$SLUICE" --set paralelism=2 -e 'SHOW STREAMS;'

# the man page documents every option of --help
missing=""
for opt in $("$SLUICE" --help | grep -oE -- '--[a-z-]+' | sort -u); do
  grep -qF -- "${opt//-/\\-}" docs/sluice.1 || missing="$missing $opt"
done
if [ -z "$missing" ]; then _ok; else _bad "docs/sluice.1 documents every option" "missing:$missing"; fi

# --check: every example parses
for f in examples/*.sql; do
  expect_exit 0 "--check $f" "$SLUICE" --check -f "$f"
done

# --check reports errors with file, line, column, the source line and a caret
printf 'SHOW STREAMS;\nSELECT a,\n  b FROM logs GROUP user_id;\n' > "$T/bad.sql"
expect_exit 1 "--check on a bad file exits 1" "$SLUICE" --check -f "$T/bad.sql"
expect_out "--check names file and position" "$T/bad.sql: line 3, column 21: syntax error near 'user_id', expected BY" "$SLUICE" --check -f "$T/bad.sql"
"$SLUICE" --check -f "$T/bad.sql" 2>"$T/err"
if sed -n 2p "$T/err" | grep -q '^  b FROM logs GROUP user_id;$' && sed -n 3p "$T/err" | grep -q '^                    \^$'; then _ok; else
  _bad "caret under the error" "$(cat "$T/err")"; fi

# --check reports every bad statement, not only the first
printf 'SELEC 1;\nSHOW STREAMS;\nDROP STREAM;\n' > "$T/two.sql"
"$SLUICE" --check -f "$T/two.sql" 2>"$T/err"
if [ "$(grep -c 'line [0-9]*, column' "$T/err")" -eq 2 ]; then _ok; else
  _bad "--check reports each error" "$(cat "$T/err")"; fi

# running statements: catalog and output formats
DDL="CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, WATERMARK FOR ts AS ts - INTERVAL '10' SECOND) WITH (connector = 'stdin', format = 'json');"
expect_exit 0 "-e runs DDL" "$SLUICE" -e "$DDL SHOW STREAMS;"
"$SLUICE" --format csv -q -e "$DDL SHOW STREAMS;" >"$T/out" 2>&1
printf 'name,connector,format,watermark\nlogs,stdin,json,ts - 10 seconds\n' > "$T/want"
if cmp -s "$T/out" "$T/want"; then _ok; else _bad "csv output" "$(cat "$T/out")"; fi
"$SLUICE" --format json -q -e "$DDL DESCRIBE logs;" >"$T/out" 2>&1
printf '{"column":"ts","type":"TIMESTAMP","watermark":"ts - 10 seconds"}\n{"column":"user_id","type":"BIGINT","watermark":null}\n' > "$T/want"
if cmp -s "$T/out" "$T/want"; then _ok; else _bad "json output" "$(cat "$T/out")"; fi
expect_out "table output" " name | connector | format | watermark" "$SLUICE" -e "$DDL SHOW STREAMS;"
expect_out "table row count" "(1 row)" "$SLUICE" -e "$DDL SHOW STREAMS;"

# SQL errors exit 1 and stop the input there
expect_exit 1 "SQL error exits 1" "$SLUICE" -e "DROP STREAM nope;"
"$SLUICE" -q --format csv -e "DROP STREAM nope; SHOW STREAMS;" >"$T/out" 2>"$T/err"
if [ ! -s "$T/out" ] && grep -q "line 1, column 1: stream 'nope' does not exist" "$T/err"; then _ok; else
  _bad "stop at first error" "out=$(cat "$T/out") err=$(cat "$T/err")"; fi
# a syntax error anywhere runs nothing
"$SLUICE" -q --format csv -e "$DDL SHOW STREAMS; SELEC 1;" >"$T/out" 2>"$T/err"
if [ ! -s "$T/out" ]; then _ok; else _bad "syntax error runs nothing" "$(cat "$T/out")"; fi

# statements from stdin when it is not a terminal
echo "$DDL SHOW STREAMS;" | "$SLUICE" -q --format csv >"$T/out" 2>&1
if grep -q '^logs,stdin,json' "$T/out"; then _ok; else _bad "stdin script" "$(cat "$T/out")"; fi

# queries run: a stream on stdin, windows, INSERT INTO a file sink, LIMIT, Ctrl-C
printf '%s\n' '{"ts":"2024-01-01 00:00:01","user_id":1}' '{"ts":"2024-01-01 00:00:04","user_id":2}' \
  '{"ts":"2024-01-01 00:00:12","user_id":1}' 'not json' '{"ts":"2024-01-01 00:00:31","user_id":1}' > "$T/in.jsonl"
"$SLUICE" -q --format csv -e "$DDL SELECT window_start, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) GROUP BY window_start, window_end;" < "$T/in.jsonl" 2>"$T/err" | sort > "$T/out"
printf '2024-01-01 00:00:00,2\n2024-01-01 00:00:10,1\n2024-01-01 00:00:30,1\nwindow_start,n\n' > "$T/want"
if cmp -s "$T/out" "$T/want"; then _ok; else _bad "windowed count over stdin" "$(cat "$T/out" "$T/err")"; fi

GEN="CREATE STREAM gen (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) WITH (connector = 'logs', seed = '3', users = '10');"
"$SLUICE" -q --format csv -e "$GEN SELECT user_id FROM gen LIMIT 7;" > "$T/out" 2>"$T/err" </dev/null
if [ "$(wc -l < "$T/out")" -eq 8 ]; then _ok; else _bad "LIMIT ends an unbounded query" "$(head -c 300 "$T/out" "$T/err")"; fi

"$SLUICE" -q -e "$GEN CREATE SINK f WITH (connector = 'file', path = '$T/sink/out.jsonl', format = 'json');
  INSERT INTO f SELECT user_id, level FROM gen WHERE event = 'crash' LIMIT 5;" >"$T/out" 2>"$T/err" </dev/null
if [ "$(wc -l < "$T/sink/out.jsonl" 2>/dev/null)" = 5 ] && grep -q '"level":"CRITICAL"\|"level":"ERROR"' "$T/sink/out.jsonl"; then _ok; else
  _bad "INSERT INTO a file sink" "$(cat "$T/sink/out.jsonl" "$T/err" 2>&1 | head -c 300)"; fi

# SIGINT stops a running query cleanly
"$SLUICE" -q --format csv -e "$GEN SELECT user_id FROM gen;" > "$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 0.5
kill -INT $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; _bad "SIGINT stops a query" "still running"; else
  wait $pid; rc=$?
  if [ "$rc" -eq 0 ] && [ "$(wc -l < "$T/out")" -gt 1 ]; then _ok; else _bad "SIGINT stops a query" "exit $rc, $(wc -l < "$T/out") lines"; fi
fi

# EMIT CHANGES: a changelog with +I for the first value of a group, +U after
"$SLUICE" -q --format csv --set emit.interval=200ms -e "CREATE STREAM g (ts TIMESTAMP, level VARCHAR) WITH (connector = 'logs', rate = '2000', seed = '5');
  SELECT level, COUNT(*) AS n FROM g GROUP BY level;" > "$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 1.5
kill -INT $pid; wait $pid
if head -1 "$T/out" | grep -q '^op,level,n$' && grep -q '^+I,INFO,' "$T/out" && grep -q '^+U,INFO,' "$T/out" &&
   [ "$(grep -c '^+I,INFO,' "$T/out")" -eq 1 ]; then _ok; else _bad "EMIT CHANGES changelog" "$(head -c 400 "$T/out")"; fi

# a reader that goes away (| head) ends an unbounded query quietly
timeout 20 "$SLUICE" -q --format csv -e "$GEN SELECT user_id FROM gen;" 2>"$T/err" </dev/null | head -3 > "$T/out"
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ] && [ "$(wc -l < "$T/out")" -eq 3 ] && [ ! -s "$T/err" ]; then _ok; else
  _bad "SIGPIPE ends quietly" "exit $rc, stderr: $(head -c 200 "$T/err")"; fi

# a runtime error names the stream
"$SLUICE" -q -e "CREATE STREAM f (a BIGINT) WITH (connector = 'file', path = '$T/none/*.jsonl'); SELECT a FROM f;" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" -eq 3 ] && grep -q "stream 'f'" "$T/err"; then _ok; else _bad "missing input file: exit 3" "exit $rc: $(cat "$T/err")"; fi
# a bad record with format.on-error = 'fail' is a runtime failure too (exit 3)
printf 'a\n1\nx\n' > "$T/bad.csv"
"$SLUICE" -q -e "CREATE STREAM c (a BIGINT) WITH (connector = 'file', path = '$T/bad.csv', format = 'csv', 'format.on-error' = 'fail'); SELECT a FROM c;" >"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" -eq 3 ] && grep -q "bad record at .*bad.csv:3" "$T/err"; then _ok; else _bad "on-error fail: exit 3" "exit $rc: $(cat "$T/err")"; fi

# the blackhole sink takes every row and keeps none (benchmarks)
expect_out "blackhole sink counts the rows it drops" "INSERT 700" "$SLUICE" -e "CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', count = '700');
  CREATE SINK nul WITH (connector = 'blackhole'); INSERT INTO nul SELECT user_id, ts FROM g;"
expect_exit 1 "blackhole takes no options" "$SLUICE" -e "CREATE SINK nul WITH (connector = 'blackhole', path = 'x');"
finish

#!/usr/bin/env bash
# The bad-input catalogue (issue 11, item 3), through the real binary: every
# kind of bad record, hostile file and SQL edge case gives a counted skip
# (the "bad input record(s) were skipped" warning with the count and the
# first reasons) or a clear error naming the problem — never a crash, a hang
# (every run is under `timeout`) or a silent wrong answer. JSON and CSV, file
# and stdin sources. docs/operations.md "Bad input" summarises the outcomes.
source "$(dirname "$0")/lib.sh"
TMO=${BAD_INPUT_TIMEOUT:-30}

# run NAME STDIN-FILE SQL... — run sluice (CSV output) on the SQL with stdin
# from STDIN-FILE; leaves $rc, $T/out, $T/err. A crash, a sanitizer report
# or a timeout is a failure of its own.
run() {
  local name=$1 in=$2; shift 2
  timeout "$TMO" "$SLUICE" -q --format csv "$@" <"$in" >"$T/out" 2>"$T/err"
  rc=$?
  if [ $rc -ge 124 ] || grep -qiE 'sanitizer|segmentation|core dumped|runtime error' "$T/err"; then
    _bad "$name" "crashed or hung (exit $rc): $(head -c 300 "$T/err")"; return 1; fi
  return 0
}
# want_rc NAME CODE · want_out NAME TEXT-FILE (stdout, rows sorted) · want_err NAME SUBSTRING
want_rc()  { if [ "$rc" -eq "$2" ]; then _ok; else _bad "$1" "exit $rc, want $2: $(head -c 300 "$T/err")"; fi; }
want_out() {
  if diff <(sort "$2") <(sort "$T/out") >/dev/null; then _ok; else
    _bad "$1" "output differs: $(diff <(sort "$2") <(sort "$T/out") | head -c 400 | tr '\n' ' ')"; fi
}
want_err() { if grep -qF -- "$2" "$T/err"; then _ok; else _bad "$1" "stderr lacks '$2': $(head -c 300 "$T/err")"; fi; }
rows() { printf '%s\n' "$@" >"$T/want"; }   # the expected CSV output, header first
# want_final NAME WANT: the changelog in $T/out, applied (+I/+U add a row,
# -U/-D take one back), holds exactly WANT's rows — for outputs whose
# intermediate changes depend on the arrival order (outer joins at
# parallelism 2: a left row may go out unmatched, then be retracted)
want_final() {
  awk -F, 'NR == 1 { print; next }
           { op = $1; row = substr($0, length(op) + 2)
             if (op == "+I" || op == "+U") n[row]++; else n[row]-- }
           END { for (r in n) for (i = 0; i < n[r]; i++) print "+I," r }' "$T/out" >"$T/final"
  if diff <(sort "$2") <(sort "$T/final") >/dev/null; then _ok; else
    _bad "$1" "final state differs: $(diff <(sort "$2") <(sort "$T/final") | head -c 400 | tr '\n' ' ') (changelog: $(head -c 300 "$T/out" | tr '\n' ' '))"; fi
}

# check NAME FORMAT FILE "COLS" "SELECT-LIST" EXPECT-SKIPPED REASON WANT-ROWS...
#   reads FILE as a file source and again as stdin; both give exactly the rows
#   (and the header), exit 0, and the skip warning with the count and reason.
check() {
  local name=$1 fmt=$2 file=$3 cols=$4 sel=$5 nbad=$6 reason=$7; shift 7
  rows "$@"
  local src
  for src in file stdin; do
    local with="connector = 'file', path = '$file'" in=/dev/null
    if [ $src = stdin ]; then with="connector = 'stdin'"; in=$file; fi
    run "$name ($fmt, $src)" "$in" -e "CREATE STREAM s ($cols) WITH ($with, format = '$fmt');
      SELECT $sel FROM s;" || continue
    want_rc "$name ($fmt, $src): exit 0" 0
    want_out "$name ($fmt, $src): rows" "$T/want"
    if [ "$nbad" -eq 0 ]; then
      if grep -q "bad input" "$T/err"; then _bad "$name ($fmt, $src)" "unexpected skips: $(head -c 300 "$T/err")"; else _ok; fi
    else
      local what="$nbad bad input records were skipped"
      [ "$nbad" -eq 1 ] && what="1 bad input record was skipped"
      want_err "$name ($fmt, $src): counted" "$what"
      want_err "$name ($fmt, $src): reason" "$reason"
    fi
  done
}

# ---- truncated records ------------------------------------------------------
printf '{"a":1,"b":"x"}\n{"a":2,"b":\n{"a":3,"b":"y"}\n{"a":4,"b":"z' >"$T/trunc.json"
check "truncated JSON" json "$T/trunc.json" "a BIGINT, b VARCHAR" "a, b" 2 "invalid JSON" \
  a,b 1,x 3,y
printf 'a,b\n1,x\n2,"y\n' >"$T/trunc.csv"
check "truncated CSV (quote open at the end)" csv "$T/trunc.csv" "a BIGINT, b VARCHAR" "a, b" 1 \
  "quoted field not closed" a,b 1,x

# ---- invalid UTF-8: a bad record in both formats (never passed through) ---------
printf '{"a":1,"b":"\xff\xfe"}\n{"a":2,"b":"ok"}\n{"a":3,"b":"\xc3\xa9t\xc3\xa9"}\n{"a":4,"b":"\xed\xa0\x80"}\n' >"$T/utf8.json"
check "invalid UTF-8" json "$T/utf8.json" "a BIGINT, b VARCHAR" "a, b" 2 "invalid UTF-8" \
  a,b 2,ok "3,été"
printf 'a,b\n1,\xff\xfe\n2,ok\n3,\xc3\xa9t\xc3\xa9\n4,"\xc0\xaf"\n' >"$T/utf8.csv"
check "invalid UTF-8" csv "$T/utf8.csv" "a BIGINT, b VARCHAR" "a, b" 2 "invalid UTF-8" \
  a,b 2,ok "3,été"

# ---- huge strings and records -------------------------------------------------
big=$(head -c 1048576 /dev/zero | tr '\0' 'x')
printf '{"a":1,"b":"%s"}\n{"a":2,"b":"y"}\n' "$big" >"$T/big.json"
printf 'a,b\n1,%s\n2,y\n' "$big" >"$T/big.csv"
for f in json csv; do
  check "a 1 MB field" $f "$T/big.$f" "a BIGINT, b VARCHAR" "a, length(b) AS n, substr(b, 1048570) AS tail" 0 "" \
    a,n,tail 1,1048576,xxxxxxx 2,1,
done
# a 100 MB line: skipped (the buffer stops at max-record-size, 16 MiB), the
# next line read, memory bounded
{ printf '{"a":1,"b":"'; head -c $((100 * 1024 * 1024)) /dev/zero | tr '\0' 'x'; printf '"}\n{"a":2,"b":"y"}\n'; } >"$T/huge.json"
for src in file stdin; do
  with="connector = 'file', path = '$T/huge.json'" in=/dev/null
  [ $src = stdin ] && with="connector = 'stdin'" && in=$T/huge.json
  rss=$( { /usr/bin/time -f '%M' timeout "$TMO" "$SLUICE" -q --format csv --set parallelism=1 \
           -e "CREATE STREAM s (a BIGINT, b VARCHAR) WITH ($with); SELECT a, b FROM s;" \
           <"$in" >"$T/out" 2>"$T/err"; } 2>&1 | tail -1)
  rows a,b 2,y
  want_out "a 100 MB line ($src): the next line is read" "$T/want"
  want_err "a 100 MB line ($src): counted" "1 bad input record was skipped"
  want_err "a 100 MB line ($src): names the limit" "record longer than 16777216 bytes (max-record-size)"
  if [ "${rss:-0}" -lt 200000 ] 2>/dev/null; then _ok; else _bad "a 100 MB line ($src): memory bounded" "max RSS ${rss} KB"; fi
done
rm -f "$T/huge.json"

# ---- deep nesting -----------------------------------------------------------
{ printf '{"a":1,"b":'; head -c 100000 /dev/zero | tr '\0' '['; printf '\n{"a":2,"c":'; head -c 100000 /dev/zero | tr '\0' '['
  head -c 100000 /dev/zero | tr '\0' ']'; printf ',"b":"deep"}\n{"a":3,"b":"z"}\n'; } >"$T/deep.json"
check "100k nested [" json "$T/deep.json" "a BIGINT, b VARCHAR" "a, b" 2 "depth" a,b 3,z

# ---- numbers out of range, wrong types, missing fields ------------------------
cat >"$T/num.json" <<'EOF'
{"a":1e400,"d":1}
{"a":99999999999999999999}
{"a":-99999999999999999999}
{"a":9223372036854775808}
{"a":9223372036854775807,"d":1e308}
{"a":-9223372036854775808,"d":-0.5}
{"a":1.5}
{"a":"12"}
{"a":true}
{"a":[1]}
{"d":"x"}
{"ts":"2024-13-01"}
{"ts":99999999999999999}
{"b":7}
{"a":2.0,"d":99999999999999999999,"b":"two"}
EOF
check "numbers out of range and wrong types" json "$T/num.json" \
  "a BIGINT, d DOUBLE, b VARCHAR, ts TIMESTAMP" "a, d, b, ts" 12 "too large for BIGINT" \
  a,d,b,ts "9223372036854775807,1.0e+308,," "-9223372036854775808,-0.5,," "2,1.0e+20,two,"
# each record's own reason (only the first 5 messages are kept)
for line in 7:"1.5 is not a BIGINT" 8:"expected BIGINT, got a string" 9:"expected BIGINT, got a boolean" \
            10:"expected BIGINT, got an array" 11:"expected DOUBLE, got a string" \
            12:"not a valid TIMESTAMP" 13:"milliseconds is out of range" 14:"expected VARCHAR, got an integer"; do
  sed -n "${line%%:*}p" "$T/num.json" >"$T/one.json"
  run "JSON reasons" "$T/one.json" -e "CREATE STREAM s (a BIGINT, d DOUBLE, b VARCHAR, ts TIMESTAMP)
    WITH (connector = 'stdin'); SELECT a, d, b, ts FROM s;" && want_err "JSON reason: ${line#*:}" "${line#*:}"
done
printf 'a,d,b,ts\n99999999999999999999,1,x,\n1,1e400,x,\nabc,1,x,\n2, 2.5 ,two,2024-01-01 00:00:01\n3,,,\n' >"$T/num.csv"
check "numbers out of range and wrong types" csv "$T/num.csv" \
  "a BIGINT, d DOUBLE, b VARCHAR, ts TIMESTAMP" "a, d, b, ts" 3 "is not a valid BIGINT" \
  a,d,b,ts "2,2.5,two,2024-01-01 00:00:01" "3,,,"
# missing fields → NULL (JSON: absent or null; CSV: a column the header lacks)
printf '{"a":1}\n{"b":"only b"}\n{"a":null,"b":null}\n{}\n' >"$T/missing.json"
check "missing fields are NULL" json "$T/missing.json" "a BIGINT, b VARCHAR" \
  "a, b, a IS NULL AS an, b IS NULL AS bn" 0 "" a,b,an,bn "1,,false,true" ",only b,true,false" \
  ",,true,true" ",,true,true"
printf 'b\nx\n' >"$T/missing.csv"
check "missing fields are NULL" csv "$T/missing.csv" "a BIGINT, b VARCHAR" "a IS NULL AS an, b" 0 "" \
  an,b true,x

# ---- empty lines, CRLF, a 0-byte file ------------------------------------------
printf '\n{"a":1,"b":"x"}\r\n\r\n   \n{"a":2,"b":"y"}\r\n\n' >"$T/crlf.json"
check "empty lines and CRLF" json "$T/crlf.json" "a BIGINT, b VARCHAR" "a, b, length(b) AS n" 0 "" \
  a,b,n 1,x,1 2,y,1
printf 'a,b\r\n\r\n1,x\r\n\r\n2,"y\r\nz"\r\n3,w' >"$T/crlf.csv"
check "empty lines and CRLF" csv "$T/crlf.csv" "a BIGINT, b VARCHAR" "a, length(b) AS n" 0 "" \
  a,n 1,1 2,4 3,1
: >"$T/empty.json"
for f in json csv; do
  check "a 0-byte file" $f "$T/empty.json" "a BIGINT" "a" 0 "" a
done

# ---- a file deleted while followed --------------------------------------------
printf '{"k":1}\n' >"$T/f.json"
timeout "$TMO" "$SLUICE" -q --format csv -e "CREATE STREAM f (k BIGINT) WITH (connector = 'file',
  path = '$T/f.json', follow = 'true'); SELECT k FROM f;" >"$T/fout" 2>"$T/ferr" </dev/null &
fpid=$!
sleep 1; printf '{"k":2}\n' >>"$T/f.json"; sleep 0.5
rm -f "$T/f.json"; sleep 1.5
printf '{"k":3}\n' >"$T/f.json"; sleep 1.5
alive=0; kill -0 $fpid 2>/dev/null && alive=1
kill -INT $fpid 2>/dev/null; wait $fpid; frc=$?
if [ $alive = 1 ] && [ $frc -eq 0 ]; then _ok; else
  _bad "a followed file deleted: the query keeps running, stops cleanly" "alive=$alive exit $frc: $(head -c 300 "$T/ferr")"; fi
rows k 1 2 3; cp "$T/fout" "$T/out"
want_out "a followed file deleted, then created again: every row once" "$T/want"

# ---- timestamps in the far past / future (watermark jumps) ----------------------
# delivered one by one from stdin, so the watermark really jumps between them
wq="CREATE STREAM s (ts TIMESTAMP, k VARCHAR, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
    WITH (connector = 'stdin');"
feed() {
  for l in '{"ts":"2024-01-01T00:00:01Z","k":"a"}' '{"ts":"0001-01-01T00:00:00Z","k":"past"}' \
           '{"ts":"9999-12-31T23:59:59.999Z","k":"future"}' '{"ts":"2024-01-01T00:00:02Z","k":"late"}' \
           '{"ts":-62135596800001,"k":"too far past"}' '{"ts":253402300800000,"k":"too far future"}' \
           '{"ts":"9999-12-31T23:59:59.999Z","k":"future2"}'; do
    printf '%s\n' "$l"; sleep 0.3; done
}
feed >"$T/ts.json"
( feed | /usr/bin/time -f '%M' -o "$T/rss" timeout "$TMO" "$SLUICE" -q --format csv --set parallelism=1 \
    -e "$wq SELECT k, window_start, COUNT(*) AS n FROM TUMBLE(s, ts, INTERVAL '1' SECOND) GROUP BY k, window_start, window_end;" \
    >"$T/out" 2>"$T/err" ); rc=$?
want_rc "watermark jumps (TUMBLE): exit 0" 0
rows k,window_start,n "a,2024-01-01 00:00:01,1" "future,9999-12-31 23:59:59,1" "future2,9999-12-31 23:59:59,1"
want_out "watermark jumps (TUMBLE): the windows before and after the jump, the late rows dropped" "$T/want"
want_err "watermark jumps: late rows counted" "2 late rows were dropped"
want_err "timestamps beyond year 9999 or before year 1: counted" "2 bad input records were skipped"
want_err "timestamps out of range: the reason" "milliseconds is out of range"
if [ "$(tail -1 "$T/rss")" -lt 200000 ] 2>/dev/null; then _ok; else _bad "watermark jumps: memory" "$(cat "$T/rss") KB"; fi
for w in "HOP(s, ts, INTERVAL '1' SECOND, INTERVAL '10' SECOND)" "SESSION(s, ts, INTERVAL '1' HOUR)" \
         "CUMULATE(s, ts, INTERVAL '1' MINUTE, INTERVAL '1' DAY)"; do
  run "watermark jumps ($w)" "$T/ts.json" --set parallelism=1 -e "$wq SELECT k, COUNT(*) AS n FROM $w GROUP BY k, window_start, window_end;" || continue
  want_rc "watermark jumps ($w): exit 0" 0
  if grep -q '^a,' "$T/out" && grep -q '^future2,' "$T/out" && ! grep -q 'too far' "$T/out"; then _ok; else
    _bad "watermark jumps ($w): windows emitted" "$(head -c 300 "$T/out")"; fi
done

# a window table per window_end must stay small when windows are many and
# sparse: a one-day CUMULATE with a one-second step puts each row in up to
# 86 400 windows (1 KB+ per window table would be ~0.5 GB here)
( /usr/bin/time -f '%M' -o "$T/rss2" timeout "$TMO" "$SLUICE" -q --format csv --set parallelism=1 \
    -e "$wq SELECT k, COUNT(*) AS n FROM CUMULATE(s, ts, INTERVAL '1' SECOND, INTERVAL '1' DAY) GROUP BY k, window_start, window_end;" \
    <"$T/ts.json" >"$T/out" 2>"$T/err" ); rc=$?
want_rc "many sparse windows (CUMULATE 1 day / 1 s): exit 0" 0
if [ "$(tail -1 "$T/rss2")" -lt 300000 ] 2>/dev/null; then _ok; else _bad "many sparse windows: memory" "$(tail -1 "$T/rss2") KB"; fi

# ---- NULL keys ----------------------------------------------------------------
printf '{"k":1,"v":"a"}\n{"k":null,"v":"n1"}\n{"v":"n2"}\n{"k":2,"v":"b"}\n' >"$T/l.json"
printf '{"k":1,"w":"A"}\n{"k":null,"w":"N"}\n{"k":3,"w":"C"}\n' >"$T/r.json"
ddl="CREATE STREAM l (k BIGINT, v VARCHAR) WITH (connector = 'file', path = '$T/l.json');
     CREATE STREAM r (k BIGINT, w VARCHAR) WITH (connector = 'file', path = '$T/r.json');"
for p in 1 2; do
  run "NULL keys in GROUP BY" /dev/null --set parallelism=$p -e "$ddl SELECT k, COUNT(*) AS n FROM l GROUP BY k;"
  want_rc "NULL keys in GROUP BY (parallelism $p): exit 0" 0
  rows op,k,n "+I,,2" "+I,1,1" "+I,2,1"   # the two NULL-key rows are one group
  want_out "NULL keys in GROUP BY form one group (parallelism $p)" "$T/want"
  run "NULL keys in a join" /dev/null --set parallelism=$p -e "$ddl SELECT l.k, v, w FROM l JOIN r ON l.k = r.k;"
  want_rc "NULL keys in a join (parallelism $p): exit 0" 0
  rows op,k,v,w "+I,1,a,A"   # NULL never equals NULL
  want_out "NULL keys never join (parallelism $p)" "$T/want"
  run "NULL keys in a left join" /dev/null --set parallelism=$p -e "$ddl SELECT l.k, v, w FROM l LEFT JOIN r ON l.k = r.k;"
  rows op,k,v,w "+I,1,a,A" "+I,,n1," "+I,,n2," "+I,2,b,"
  want_final "NULL keys in a left join keep their row, unmatched (parallelism $p)" "$T/want"
done

# ---- format.on-error = fail: a clear runtime error, exit 3 ------------------------
run "on-error fail" /dev/null --set parallelism=1 -e "CREATE STREAM s (a BIGINT, b VARCHAR) WITH (connector = 'file',
  path = '$T/trunc.json', 'format.on-error' = 'fail'); SELECT a, b FROM s;"
want_rc "format.on-error = fail: exit 3" 3
want_err "format.on-error = fail: names the record" "trunc.json:2: invalid JSON"

# ---- SQL edge cases --------------------------------------------------------------
printf '{"from":1,"group":"g","select":true}\n' >"$T/kw.json"
run "reserved words as quoted names" "$T/kw.json" -e 'CREATE STREAM "select" ("from" BIGINT, "group" VARCHAR, "select" BOOLEAN)
  WITH (connector = '"'stdin'"'); SELECT "from", "group", "select" FROM "select" WHERE "from" > 0;'
want_rc "reserved words as quoted names: exit 0" 0
rows from,group,select 1,g,true
want_out "reserved words as quoted names: rows" "$T/want"
run "unquoted reserved word" /dev/null -e 'CREATE STREAM select (a BIGINT) WITH (connector = '"'stdin'"');'
want_rc "an unquoted reserved word is a syntax error: exit 1" 1
want_err "the syntax error names the word" "select"
for sql in ';;;' ';' ' ; ;; ' ';;; SELECT 1 AS x;;; ;'; do
  run "empty statements '$sql'" /dev/null -e "$sql"
  want_rc "empty statements '$sql': exit 0" 0
done
if [ "$(cat "$T/out")" = "$(printf 'x\n1')" ]; then _ok; else _bad "empty statements around a SELECT" "$(head -c 200 "$T/out")"; fi
# a 10k-column SELECT: refused with a clear error (at most 512 columns run)
python3 -c "print('SELECT ' + ', '.join('%d AS c%d' % (i, i) for i in range(10000)) + ';')" >"$T/wide.sql"
run "a 10k-column SELECT" /dev/null -f "$T/wide.sql"
if [ $rc -eq 1 ] || [ $rc -eq 3 ]; then _ok; else _bad "a 10k-column SELECT: exit 1 or 3" "exit $rc"; fi
want_err "a 10k-column SELECT: the error says why" "too many columns"
python3 -c "print('SELECT ' + ', '.join('%d AS c%d' % (i, i) for i in range(500)) + ';')" >"$T/wide500.sql"
run "a 500-column SELECT" /dev/null -f "$T/wide500.sql"
want_rc "a 500-column SELECT runs" 0
if [ "$(tail -1 "$T/out" | cut -d, -f500)" = 499 ]; then _ok; else _bad "a 500-column SELECT: values" "$(tail -c 100 "$T/out")"; fi
# a 1 MB statement (a 1 MB string literal) runs; a 1 MB expression is refused
python3 -c "print(\"SELECT length('\" + 'x' * (1 << 20) + \"') AS n;\")" >"$T/big.sql"
run "a 1 MB statement" /dev/null -f "$T/big.sql"
want_rc "a 1 MB statement: exit 0" 0
rows n 1048576; want_out "a 1 MB statement: the value" "$T/want"
python3 -c "print('SELECT ' + '+'.join(['1'] * 200000) + ' AS x;')" >"$T/bigexpr.sql"
run "a 1 MB expression" /dev/null -f "$T/bigexpr.sql"
want_rc "a 1 MB expression (200k terms): exit 1" 1
want_err "a 1 MB expression: nested too deeply" "nested too deeply"
python3 -c "print('SELECT ' + '(' * 10000 + '1' + ')' * 10000 + ' AS x;')" >"$T/paren.sql"
run "10k nested parentheses" /dev/null -f "$T/paren.sql"
want_rc "10k nested parentheses: exit 1" 1
want_err "10k nested parentheses: nested too deeply" "nested too deeply"
python3 -c "print('SELECT ' + '(' * 100 + '1' + ')' * 100 + ' AS x;')" >"$T/paren100.sql"
run "100 nested parentheses" /dev/null -f "$T/paren100.sql"
want_rc "100 nested parentheses run" 0
finish

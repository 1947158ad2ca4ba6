#!/usr/bin/env bash
# A Kafka source whose broker cannot be reached waits (it never fails the
# query) and says why in progress; Ctrl-C stops it cleanly.
source "$(dirname "$0")/lib.sh"
"$SLUICE" -q --progress "$T/progress.jsonl" -e "
  CREATE STREAM k (a BIGINT) WITH (connector = 'kafka', topic = 't', 'properties.bootstrap.servers' = '127.0.0.1:1');
  SELECT a FROM k;" > "$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 2.5
kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 0 ]; then _ok; else _bad "the query waits instead of failing" "exit $rc: $(cat "$T/err")"; fi
if grep -q '"warning": *"kafka: .*(retrying)"' "$T/progress.jsonl"; then _ok; else
  _bad "progress names the broker problem" "$(tail -c 400 "$T/progress.jsonl")"; fi
finish

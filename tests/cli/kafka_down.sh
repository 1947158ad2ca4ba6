#!/usr/bin/env bash
# A Kafka source whose broker cannot be reached waits (it never fails the
# query) and says why in progress; Ctrl-C stops it cleanly. The same for a
# Kafka sink: rows wait for the broker and progress says so.
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

"$SLUICE" -q --progress "$T/progress2.jsonl" -e "
  CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', rate = '1000');
  CREATE SINK k WITH (connector = 'kafka', topic = 'out', 'properties.bootstrap.servers' = '127.0.0.1:1');
  INSERT INTO k SELECT user_id FROM g;" > "$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 3
kill -INT $pid; wait $pid; rc=$?
if [ $rc -eq 0 ]; then _ok; else _bad "a sink without a broker waits, Ctrl-C stops it" "exit $rc: $(head -c 300 "$T/err")"; fi
if grep -q "warning: sink 'k': kafka: [0-9]* message(s) waiting for a broker .*; they are dropped now" "$T/err"; then _ok; else
  _bad "a stop says which rows the sink could not deliver" "$(head -c 300 "$T/err")"; fi
if grep -q '"warning": *"kafka: [0-9]* message(s) waiting for a broker' "$T/progress2.jsonl"; then _ok; else
  _bad "progress names the sink's broker problem" "$(tail -c 400 "$T/progress2.jsonl")"; fi
finish

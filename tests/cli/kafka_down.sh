#!/usr/bin/env bash
# A Kafka source whose broker cannot be reached waits (it never fails the
# query) and says why in progress; Ctrl-C stops it cleanly. The same for a
# Kafka sink: rows wait for the broker and progress says so; Ctrl-C ends it
# even while it waits for room in a full queue.
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

# the same with the producer's queue full (rows as fast as they come): the
# sink waits for room, and a stop still ends it at once — the rows not
# queued are counted, not waited for
"$SLUICE" -q -e "
  CREATE STREAM g (ts TIMESTAMP, user_id BIGINT) WITH (connector = 'logs', count = '3000000');
  CREATE SINK k WITH (connector = 'kafka', topic = 'out', 'properties.bootstrap.servers' = '127.0.0.1:1');
  INSERT INTO k SELECT user_id FROM g;" > "$T/out" 2>"$T/err" </dev/null &
pid=$!
sleep 3
kill -INT $pid
if wait_ended 20 $pid; then _ok; else _bad "a sink with its queue full: Ctrl-C ends it" "still running after 20 s"; fi
if [ "$(cat "$T/rc.$pid")" = 0 ] &&
   grep -q "warning: sink 'k': kafka: [0-9]* message(s) waiting for a broker and [0-9]* more not queued" "$T/err"; then _ok; else
  _bad "a stop with the queue full says what was not delivered" "exit $(cat "$T/rc.$pid"): $(head -c 300 "$T/err")"; fi
finish

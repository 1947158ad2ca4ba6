#!/usr/bin/env bash
# `sluice broker`: a Kafka-protocol broker on loopback that a real Kafka
# client (kcat) can produce to and consume from; SIGTERM stops it.
source "$(dirname "$0")/lib.sh"
command -v kcat >/dev/null || { echo "FAIL $0: kcat is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }

expect_out "broker --help" "Kafka-protocol broker" "$SLUICE" broker --help
expect_exit 2 "broker bad option" "$SLUICE" broker --bogus 1

expect_exit 3 "broker: a topic's own partition count must be 1 or more" "$SLUICE" broker --topics t1:0
expect_out "broker: a bad topic:N is named" "topic 't1:x': write NAME:N" "$SLUICE" broker --topics t1:x

"$SLUICE" broker --topics t1,t2:5 --partitions 3 > "$T/addr" 2>"$T/err" &
pid=$!
wait_nonempty "$T/addr"
B=$(head -1 "$T/addr")
if [[ "$B" =~ ^127\.0\.0\.1:[0-9]+$ ]]; then _ok; else _bad "prints its bootstrap address" "'$B' $(cat "$T/err")"; fi

seq 1 100 | sed 's/.*/{"n":&}/' | timeout 20 kcat -P -b "$B" -t t1 2>"$T/kerr"
timeout 20 kcat -C -b "$B" -t t1 -e -q > "$T/got" 2>>"$T/kerr"
if [ "$(wc -l < "$T/got")" -eq 100 ] && [ "$(sort -t: -k2 -n "$T/got" | tail -1)" = '{"n":100}' ]; then _ok; else
  _bad "kcat round trip through the broker" "$(wc -l < "$T/got") messages; $(head -c 300 "$T/kerr")"; fi
timeout 20 kcat -L -b "$B" -t t1 > "$T/meta" 2>&1
if grep -q '3 partitions' "$T/meta"; then _ok; else _bad "topic has 3 partitions" "$(head -c 300 "$T/meta")"; fi
timeout 20 kcat -L -b "$B" -t t2 > "$T/meta2" 2>&1
if grep -q '"t2" with 5 partitions' "$T/meta2"; then _ok; else _bad "t2:5 has 5 partitions of its own" "$(head -c 300 "$T/meta2")"; fi

kill -TERM $pid
for _ in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then kill -9 $pid; _bad "SIGTERM stops the broker" "still running"; else
  wait $pid; rc=$?; if [ $rc -eq 0 ]; then _ok; else _bad "SIGTERM stops the broker" "exit $rc"; fi; fi
finish

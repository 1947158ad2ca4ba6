#!/usr/bin/env bash
# Group mode (issue 13, first slice; docs/scaling.md): three sluice instances
# run one stateless query with --group g against the bundled broker. Kafka's
# consumer group spreads the 6 partitions of topic `events` over them; each
# writes the rows it computes to its own (exactly-once) file sink. Then one
# instance is killed with SIGKILL mid-stream and more events are produced:
# the other two take over its partitions at the offsets of its last
# committed checkpoint. At the end every expected row is present (set
# equality over the three outputs); a row may appear twice only if the
# killed instance had committed it to its file after the group's last
# offset commit (the at-least-once window; counted and printed). Then a
# bounded read by two instances of a new group (every row once), and a
# bounded read that a second instance joins mid-way: the partitions it takes
# are handed over at a committed checkpoint (held revocation), so again
# every row once; and one of two leaving a read mid-way (SIGTERM): its last
# checkpoint's offsets go to the group before it leaves, so again every row
# once. Also: --group without --state-dir is refused. Skipped like
# kafka.sh. KEEP=1 keeps the logs and outputs in /tmp/group.keep.PID.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1; then
  echo "group.sh: skipped ('sluice broker' or kcat not available)"
  finish
  exit
fi

group_broker group events

produce() {   # FROM TO: log events FROM..TO, keyed by id (spread over the partitions)
  for i in $(seq "$1" "$2"); do
    case $((i % 3)) in 0) l=CRITICAL ;; 1) l=INFO ;; *) l=WARN ;; esac
    printf '%d\t{"id":%d,"level":"%s","msg":"m%d"}\n' "$i" "$i" "$l" "$i"
  done >"$T/batch.jsonl"
  kcat -b "$BS" -t events -P -X batch.num.messages=20 -K '\t' -l "$T/batch.jsonl" 2>>"$T/kcat.err"
}

SRC="CREATE STREAM events (id BIGINT, level VARCHAR, msg VARCHAR) WITH (connector = 'kafka',
  topic = 'events', format = 'json', 'properties.bootstrap.servers' = '$BS',
  'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500');"
QUERY="INSERT INTO out SELECT id, msg FROM events WHERE level = 'CRITICAL';"

# without a state dir: refused (offsets move at checkpoints)
expect_out "--group needs --state-dir" "deployment.group needs checkpoints (--state-dir DIR)" \
  "$SLUICE" -q --group g -e "$SRC CREATE SINK out WITH (connector = 'file', path = '$T/x.csv', format = 'csv'); $QUERY"

UIPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
start() {   # NAME: one instance of the group, its own state dir, output file and progress (A: web UI too)
  "$SLUICE" -q --group g --state-dir "$T/state.$1" --set checkpoint.interval=200ms --set parallelism=1 \
    --progress "$T/prog.$1" $([ "$1" = A ] && echo "--ui $UIPORT") \
    -e "$SRC CREATE SINK out WITH (connector = 'file', path = '$T/out.$1.csv', format = 'csv'); $QUERY" \
    >"$T/log.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
rows() { for f in "$@"; do tail -n +2 "$T/out.$f.csv" 2>/dev/null; done; }
parts() {   # NAME...: source partitions the instances' last progress reports say they read
  local sum=0 n v
  for n in "$@"; do
    v=$(tail -n 1 "$T/prog.$n" 2>/dev/null | grep -o '"sourcePartitions": *[0-9]*' | grep -o '[0-9]*$')
    sum=$((sum + ${v:-0}))
  done
  echo $sum
}
wait_parts() {   # WANT SECONDS NAME...: until the progress reports add up to WANT partitions
  local want=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 10))); do [ "$(parts "$@")" = "$want" ] && return 0; sleep 0.1; done
  return 1
}
want() { for i in $(seq "$1" 3 "$2"); do echo "$i,m$i"; done; }
wait_all() {   # FROM TO SECONDS NAMES...: until the outputs hold every expected row FROM..TO
  local from=$1 to=$2 secs=$3; shift 3
  want "$from" "$to" | sort >"$T/want"
  for _ in $(seq $((secs * 10))); do
    rows "$@" | sort -u >"$T/got"
    [ -z "$(comm -23 "$T/want" "$T/got" | head -n 1)" ] && return 0
    sleep 0.1
  done
  return 1
}

start A; A=${PIDS[0]}
start B; B=${PIDS[1]}
start C; C=${PIDS[2]}
# the group forms: the mock's first rebalance waits 3 s, and a member that
# joins after it (a slow start on a loaded machine: once in CI, B and C
# were not in the first one) needs another; wait for every instance's
# progress to report partitions (at most 60 s) before producing
t0=$(date +%s)
for _ in $(seq 600); do
  [ "$(parts A)" -gt 0 ] && [ "$(parts B)" -gt 0 ] && [ "$(parts C)" -gt 0 ] && break
  sleep 0.1
done
echo "group.sh: the group spread its partitions after $(( $(date +%s) - t0 )) s"
produce 0 2999
if wait_all 0 2999 30 A B C; then _ok; else
  _bad "three instances read the topic" "missing $(comm -23 "$T/want" "$T/got" | wc -l) rows; $(tail -c 300 "$T/log.A")"; fi
spread=1
for n in A B C; do [ "$(rows $n | wc -l)" -gt 0 ] || spread=0; done
if [ $spread = 1 ]; then _ok; else
  _bad "the partitions are spread over the instances" "rows: A $(rows A | wc -l), B $(rows B | wc -l), C $(rows C | wc -l)"; fi
echo "group.sh: before the kill: A $(rows A | wc -l), B $(rows B | wc -l), C $(rows C | wc -l) rows"
# each instance's progress says how many of the topic's partitions it reads
if wait_parts 6 5 A B C && [ "$(parts A)" -gt 0 ] && [ "$(parts B)" -gt 0 ] && [ "$(parts C)" -gt 0 ]; then _ok; else
  _bad "the progress reports show the 6 partitions spread over the instances" "A $(parts A), B $(parts B), C $(parts C): $(tail -n 1 "$T/prog.A" | grep -o '"group":{[^}]*}')"; fi

produce 3000 4499
sleep 0.3                    # C is busy with its share of these
kill -9 "$C"; wait "$C" 2>/dev/null
PIDS=("$A" "$B")
produce 4500 5999            # after the kill: C's partitions have no reader until the group rebalances

if wait_all 3000 5999 40 A B C; then _ok; else
  _bad "the survivors take over the killed instance's partitions" "missing $(comm -23 "$T/want" "$T/got" | wc -l) rows: $(comm -23 "$T/want" "$T/got" | head -3 | tr '\n' ' '); $(tail -c 300 "$T/log.A")"; fi
if wait_all 4500 5999 1 A B; then _ok; else
  _bad "rows produced after the kill come from the survivors" "missing $(comm -23 "$T/want" "$T/got" | wc -l) rows"; fi
if wait_parts 6 5 A B; then _ok; else
  _bad "the survivors' progress reports show they read all 6 partitions" "A $(parts A), B $(parts B)"; fi
# and A's /metrics say the same as its progress
curl -s "http://127.0.0.1:$UIPORT/metrics" >"$T/metrics"
mp=$(grep -o '^sluice_group_source_partitions{query="q1"} [0-9]*' "$T/metrics" | grep -o '[0-9]*$')
ma=$(grep -o '^sluice_group_assignments_total{query="q1"} [0-9]*' "$T/metrics" | grep -o '[0-9]*$')
mf=$(grep -o '^sluice_group_record_failures_total{query="q1"} [0-9]*' "$T/metrics" | grep -o '[0-9]*$')
# …and its query's API (the web UI's group section)
curl -s "http://127.0.0.1:$UIPORT/api/queries/q1" >"$T/q1.json"
ag=$(python3 -c 'import json, sys; g = json.load(open(sys.argv[1]))["group"]; print(g["name"], g["sourcePartitions"], g["recordFailures"])' "$T/q1.json" 2>&1)
if [ -n "$mp" ] && [ "$mp" = "$(parts A)" ] && [ "${ma:-0}" -ge 1 ] && [ "$mf" = 0 ] && [ "$ag" = "g $mp 0" ]; then _ok; else
  _bad "/metrics of an instance has its group figures" "partitions '$mp' (progress: $(parts A)), assignments '$ma', record failures '$mf', API '$ag': $(grep sluice_group "$T/metrics" | head -4 | tr '\n' ' ')"; fi

sleep 0.5                    # let the survivors commit what they wrote
kill -TERM "$A" "$B"
rcA=0; rcB=0; wait "$A" || rcA=$?; wait "$B" || rcB=$?
PIDS=()
if [ $rcA -eq 0 ] && [ $rcB -eq 0 ]; then _ok; else
  _bad "the survivors stop cleanly on SIGTERM" "exit $rcA / $rcB: $(tail -c 300 "$T/log.A") $(tail -c 300 "$T/log.B")"; fi

# the whole answer: set equality; duplicates only of rows the killed instance had committed
want 0 5999 | sort >"$T/want"
rows A B C | sort >"$T/all"
sort -u "$T/all" >"$T/got"
if cmp -s "$T/want" "$T/got"; then _ok; else
  _bad "every expected row, nothing else" "missing: $(comm -23 "$T/want" "$T/got" | head -3 | tr '\n' ' ') extra: $(comm -13 "$T/want" "$T/got" | head -3 | tr '\n' ' ')"; fi
uniq -d "$T/all" >"$T/dups"
rows C | sort >"$T/c"
if [ -z "$(comm -23 "$T/dups" "$T/c" | head -n 1)" ]; then _ok; else
  _bad "duplicates only of rows the killed instance had committed" "$(comm -23 "$T/dups" "$T/c" | head -3 | tr '\n' ' ')"; fi
want 0 2999 | sort >"$T/early"   # committed to the group seconds before the kill: never read twice
if [ -z "$(comm -12 "$T/dups" "$T/early" | head -n 1)" ]; then _ok; else
  _bad "the takeover starts at the group's committed offsets" "$(comm -12 "$T/dups" "$T/early" | wc -l) rows of the first batch read again: $(comm -12 "$T/dups" "$T/early" | head -3 | tr '\n' ' ')"; fi
if [ -z "$(rows A B | sort | uniq -d | head -n 1)" ]; then _ok; else
  _bad "no duplicates between the survivors" "$(rows A B | sort | uniq -d | head -3 | tr '\n' ' ')"; fi
echo "group.sh: $(wc -l <"$T/want") expected rows; killed instance committed $(wc -l <"$T/c"); duplicates after the takeover: $(wc -l <"$T/dups")"

ended() {   # WHAT A B: both exit 0 by themselves within 60 s of the first check
  local a=$1 b=$2 ra=0 rb=0 what=$3
  rm -f "$T/guard"
  for _ in $(seq 600); do
    kill -0 "${!a}" 2>/dev/null || kill -0 "${!b}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${!a}" 2>/dev/null || kill -0 "${!b}" 2>/dev/null; then touch "$T/guard"; kill -TERM "${!a}" "${!b}" 2>/dev/null; fi
  wait "${!a}" || ra=$?; wait "${!b}" || rb=$?
  PIDS=()
  if [ $ra -eq 0 ] && [ $rb -eq 0 ] && [ ! -e "$T/guard" ]; then _ok; else
    _bad "$what ends by itself on every instance" "exit $ra / $rb$([ -e "$T/guard" ] && echo ', stopped after 60 s'): $(tail -c 300 "$T/log.$a") $(tail -c 300 "$T/log.$b")"; fi
}
once() {   # WHAT A B: the rows of A and B are the topic's, each once
  rows "$2" "$3" | sort >"$T/all"
  if cmp -s "$T/want" "$T/all"; then _ok; else
    _bad "$1: no row twice or lost" "$(wc -l <"$T/all") rows for $(wc -l <"$T/want"); missing $(comm -23 "$T/want" "$T/all" | head -3 | tr '\n' ' ') extra $(comm -13 "$T/want" "$T/all" | head -3 | tr '\n' ' ')"; fi
}

# a bounded group read (scan.bounded.mode = latest-offset): two instances of
# a new group read the topic as it is when they start (events 0..5999) and
# both stop by themselves once the group's committed offsets cover it
BSRC=${SRC/"'properties.session.timeout.ms'"/"'scan.bounded.mode' = 'latest-offset', 'properties.session.timeout.ms'"}
bstart() {   # NAME
  "$SLUICE" -q --group gb --state-dir "$T/state.$1" --set checkpoint.interval=200ms --set parallelism=1 \
    -e "$BSRC CREATE SINK out WITH (connector = 'file', path = '$T/out.$1.csv', format = 'csv'); $QUERY" \
    >"$T/log.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
bstart D; D=${PIDS[0]}
bstart E; E=${PIDS[1]}
sleep 1
produce 6000 6299            # after the start: not part of the read
t0=$SECONDS
ended D E "a bounded group read"
echo "group.sh: the bounded read ended after $((SECONDS - t0)) s"
want 0 5999 | sort >"$T/want"
once "the bounded group read holds the topic as it was at the start" D E

# Moves mid-read, with the default (cooperative) assignor and with an eager
# one (range: every rebalance takes every partition from every member):
#  - a join: F reads the topic (events 0..6299, bounded) alone, slowly
#    (scan.rate-limit); once F has written rows, G joins. The rebalance
#    takes partitions from F, but F gives them up only when a checkpoint
#    has committed its output and their offsets (held revocation,
#    docs/scaling.md): every row once over F and G;
#  - a leave: H and I read together; once both have written rows, I stops
#    on SIGTERM — a last checkpoint, its offsets, then it leaves the group
#    — and H reads I's partitions on from there: every row once.
# (small fetches, so that every partition is being read when the group
# changes; a checkpoint every second, so that much is not committed then)
want 0 6299 | sort >"$T/want"
mstart() {   # NAME GROUP SOURCE
  "$SLUICE" -q --group "$2" --state-dir "$T/state.$2.$1" --set checkpoint.interval=1s --set parallelism=1 \
    -e "$3 CREATE SINK out WITH (connector = 'file', path = '$T/out.$1.csv', format = 'csv'); $QUERY" \
    >"$T/log.$1" 2>&1 </dev/null &
  PIDS+=($!)
}
midread() {   # ASSIGNOR ("" = the default) TAG
  local src=${BSRC/"'scan.bounded.mode'"/"'scan.rate-limit' = '700', 'properties.max.partition.fetch.bytes' = '600', 'scan.bounded.mode'"}
  [ -n "$1" ] && src=${src/"'scan.bounded.mode'"/"'properties.partition.assignment.strategy' = '$1', 'scan.bounded.mode'"}
  rm -f "$T"/out.[FGHI].csv
  mstart F "gj$2" "$src"; F=${PIDS[0]}
  for _ in $(seq 200); do [ "$(rows F | wc -l)" -gt 0 ] && break; sleep 0.1; done
  mstart G "gj$2" "$src"; G=${PIDS[1]}
  ended F G "a read joined mid-way${1:+ ($1)}"
  echo "group.sh: join mid-read${1:+ ($1)}: F $(rows F | wc -l), G $(rows G | wc -l) rows"
  once "a member joining mid-read${1:+ ($1)} takes over partitions" F G
  if [ "$(rows G | wc -l)" -gt 0 ]; then _ok; else
    _bad "the member that joined mid-read${1:+ ($1)} got partitions" "F $(rows F | wc -l), G 0 rows"; fi
  mstart H "gl$2" "$src"; H=${PIDS[0]}
  mstart I "gl$2" "$src"; I=${PIDS[1]}
  for _ in $(seq 300); do [ "$(rows H | wc -l)" -gt 0 ] && [ "$(rows I | wc -l)" -gt 0 ] && break; sleep 0.1; done
  kill -TERM "$I"
  ended H I "a read one member left mid-way${1:+ ($1)}"
  echo "group.sh: leave mid-read${1:+ ($1)}: H $(rows H | wc -l), I $(rows I | wc -l) rows"
  once "a member leaving mid-read${1:+ ($1)} hands its partitions over" H I
}
midread "" ""
midread range r
finish

#!/usr/bin/env bash
# Group mode with a join (issue 13; docs/scaling.md, "Joins with a table"):
# sluice instances run one query that joins a Kafka stream with a bounded
# table (a 'file' stream) under --group. Every instance reads the table
# whole, broadcasts it to its join tasks, and only then reads its share of
# the topic's partitions; the answer is checked against sqlite3 running the
# same join over the same rows:
#  - a bounded read by two instances at parallelism 2: every row once;
#    the same with the table on a Kafka topic, with updates (the last
#    record per user counts); the same with a LEFT JOIN (the events of users not in the table too);
#    and with a windowed aggregation of the joined rows (through the
#    repartition topic), also with a second instance joining mid-way (the
#    group then settles: a few revocations, not a rebalancing storm);
#  - a bounded, rate-limited read that a second instance joins mid-way (the
#    moved partitions are handed over at a committed checkpoint): every row
#    once, and both instances wrote rows;
#  - three instances reading on, one killed with SIGKILL mid-stream, more
#    events produced: the other two take over its partitions; no row is
#    missing (one may come twice: what the killed instance wrote after the
#    group's last offset commit, the at-least-once window; counted);
#  - a restart of an instance: the table comes back from its checkpoint
#    (a file changed meanwhile is not read), --reset-state reads it anew,
#    and no row comes twice;
#  - the broker stopped under two running instances: SIGINT still ends
#    both (their last commits give up).
# A join task gets no row of the stream before its whole table (the join
# operator refuses one, which would fail the query), so the table is
# large enough (100k rows, split over two tasks) to take a while.
# Skipped like kafka.sh. KEEP=1 keeps the logs and outputs in
# /tmp/group_join.keep.PID.
source "$(dirname "$0")/lib.sh"

if ! "$SLUICE" broker --help >/dev/null 2>&1 || ! command -v kcat >/dev/null 2>&1 ||
   ! command -v sqlite3 >/dev/null 2>&1; then
  echo "group_join.sh: skipped ('sluice broker', kcat or sqlite3 not available)"
  finish
  exit
fi

group_broker group_join events,users,fevents,fusers,gw-1-repartition,gx-1-repartition,gy-1-repartition

# the table: users 0..39 (country NL or DE), and 100k more that no event names
{
  echo "uid,name,country"
  for u in $(seq 0 39); do echo "$u,user$u,$([ $((u % 4)) = 0 ] && echo DE || echo NL)"; done
  seq 1000 100999 | awk '{ print $1 ",pad" $1 ",NL" }'
} >"$T/users.csv"

produce() {   # FROM TO [TOPIC]: events FROM..TO into TOPIC (events; its file $T/TOPIC.jsonl),
              # user i % 50 (10 of 50 not in the table), 20 a second
  local topic=${3:-events}
  for i in $(seq "$1" "$2"); do
    case $((i % 3)) in 0) l=CRITICAL ;; 1) l=INFO ;; *) l=WARN ;; esac
    printf '%d\t{"ts":%d,"id":%d,"uid":%d,"level":"%s"}\n' "$i" $((1700000000000 + i * 50)) "$i" $((i % 50)) "$l"
  done >"$T/batch.jsonl"
  kcat -b "$BS" -t "$topic" -P -X batch.num.messages=20 -K '\t' -l "$T/batch.jsonl" 2>>"$T/kcat.err"
  cut -f2 "$T/batch.jsonl" >>"$T/$topic.jsonl"
}

# the oracle: sqlite3's answer to the same join over events FROM..TO
# (JOIN: the query's join, `LEFT JOIN` for LQUERY's; COND: the table's
# filter; USERS: the table, a CSV file; EVENTS: the events produced)
want() {   # FROM TO [JOIN] [COND] [USERS] [EVENTS]
  python3 - "${6:-$T/events.jsonl}" "$1" "$2" >"$T/events.csv" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if int(sys.argv[2]) <= e["id"] <= int(sys.argv[3]):
        print(f'{e["ts"]},{e["id"]},{e["uid"]},{e["level"]}')
EOF
  sqlite3 -csv :memory: \
    "CREATE TABLE events (ts INTEGER, id INTEGER, uid INTEGER, level TEXT);" \
    "CREATE TABLE users (uid INTEGER, name TEXT, country TEXT);" \
    ".import $T/events.csv events" ".import --skip 1 ${5:-$T/users.csv} users" \
    "SELECT e.id, u.name FROM events e ${3:-JOIN} users u ON e.uid = u.uid
     WHERE e.level = 'CRITICAL' AND ${4:-u.country = 'NL'};" | sort
}
want_windows() {   # FROM TO: sqlite3's answer to WQUERY over events FROM..TO
  want "$1" "$2" >/dev/null   # (writes events.csv)
  sqlite3 -list -separator , :memory: \
    "CREATE TABLE events (ts INTEGER, id INTEGER, uid INTEGER, level TEXT);" \
    "CREATE TABLE users (uid INTEGER, name TEXT, country TEXT);" \
    ".import $T/events.csv events" ".import --skip 1 $T/users.csv users" \
    "SELECT strftime('%Y-%m-%d %H:%M:%S', e.ts / 10000 * 10, 'unixepoch'), u.country, COUNT(*)
     FROM events e JOIN users u ON e.uid = u.uid WHERE e.level = 'CRITICAL'
     GROUP BY e.ts / 10000, u.country;" | sort
}

SRC="CREATE STREAM events (ts TIMESTAMP(3), id BIGINT, uid BIGINT, level VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'kafka',
  topic = 'events', format = 'json', 'properties.bootstrap.servers' = '$BS',
  'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500');
CREATE STREAM users (uid BIGINT, name VARCHAR, country VARCHAR) WITH (connector = 'file',
  path = '$T/users.csv', format = 'csv');"
QUERY="INSERT INTO out SELECT e.id, u.name FROM events e JOIN users u ON e.uid = u.uid
  WHERE e.level = 'CRITICAL' AND u.country = 'NL';"
# critical events per country and 10-second window: the join runs in the
# tasks that read the topic, which pre-aggregate into the repartition topic
WQUERY="INSERT INTO out SELECT window_start, u.country, COUNT(*) AS n
  FROM TUMBLE(events, ts, INTERVAL '10' SECOND) e JOIN users u ON e.uid = u.uid
  WHERE e.level = 'CRITICAL' GROUP BY window_start, window_end, u.country;"
# every critical event, with the user's name when the table has the user
LQUERY="INSERT INTO out SELECT e.id, u.name FROM events e LEFT JOIN users u ON e.uid = u.uid
  WHERE e.level = 'CRITICAL';"

start() {   # NAME GROUP SOURCE [SETTINGS...]: one instance, its own state dir and output file
  local name=$1 group=$2 src=$3; shift 3
  "$SLUICE" -q --group "$group" --state-dir "$T/state.$group.$name" --set checkpoint.interval=200ms \
    --set parallelism=2 "$@" \
    -e "$src CREATE SINK out WITH (connector = 'file', path = '$T/out.$name.csv', format = 'csv'); ${Q:-$QUERY}" \
    >"$T/log.$name" 2>&1 </dev/null &
  PIDS+=($!)
}
rows() { for f in "$@"; do tail -n +2 "$T/out.$f.csv" 2>/dev/null; done; }
ended() {   # WHAT A B: both exit 0 by themselves within 120 s (about 10 s here, more under load)
  local a=$2 b=$3 ra=0 rb=0 late=0
  for _ in $(seq 1200); do
    kill -0 "${!a}" 2>/dev/null || kill -0 "${!b}" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "${!a}" 2>/dev/null || kill -0 "${!b}" 2>/dev/null; then
    late=1; kill -TERM "${!a}" "${!b}" 2>/dev/null
    for _ in $(seq 300); do   # (one that does not stop within 30 s is killed: the test goes on)
      kill -0 "${!a}" 2>/dev/null || kill -0 "${!b}" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "${!a}" "${!b}" 2>/dev/null
  fi
  wait "${!a}" || ra=$?; wait "${!b}" || rb=$?
  PIDS=()
  if [ $ra -eq 0 ] && [ $rb -eq 0 ] && [ $late -eq 0 ]; then _ok; else
    _bad "$1 ends by itself on every instance" "exit $ra / $rb$([ $late = 1 ] && echo ', stopped after 120 s'): $(tail -c 300 "$T/log.$a") $(tail -c 300 "$T/log.$b")"; fi
}
once() {   # WHAT A B: the rows of A and B are sqlite3's answer ($T/want), each once
  rows "$2" "$3" | sort >"$T/all"
  if [ -s "$T/want" ] && cmp -s "$T/want" "$T/all"; then _ok; else
    _bad "$1: the join's answer, every row once" "$(wc -l <"$T/all") rows for $(wc -l <"$T/want"); missing $(comm -23 "$T/want" "$T/all" | head -3 | tr '\n' ' ') extra $(comm -13 "$T/want" "$T/all" | head -3 | tr '\n' ' ')"; fi
}

produce 0 5999
want 0 5999 >"$T/want"

# EXPLAIN FORMAT JSON names the join's table side
expect_out "EXPLAIN FORMAT JSON: the join's table" '"table": "right"' \
  "$SLUICE" -q --group gexp -e "$SRC CREATE SINK out WITH (connector = 'file', path = '$T/x.csv', format = 'csv');
  EXPLAIN FORMAT JSON $QUERY"

# 1. a bounded read by two instances
BSRC=${SRC/"'properties.session.timeout.ms'"/"'scan.bounded.mode' = 'latest-offset', 'properties.session.timeout.ms'"}
start D gb "$BSRC"; D=${PIDS[0]}
start E gb "$BSRC"; E=${PIDS[1]}
ended "a bounded group read with a join" D E
echo "group_join.sh: bounded read: D $(rows D | wc -l), E $(rows E | wc -l) rows"
once "a bounded group read with a join" D E

# 1a. the table on a Kafka topic ('table' = 'true'), keyed by user: every
# instance reads it whole (from the earliest offset to the end at its
# start), a later record of a user replaces the earlier one (a compacted
# topic's meaning), and a tombstone (a key with no value, 'table.key')
# deletes the user
{
  for u in $(seq 0 39); do
    printf '%d\t{"uid":%d,"name":"user%d","country":"%s"}\n' "$u" "$u" "$u" "$([ $((u % 4)) = 0 ] && echo DE || echo NL)"
  done
  for u in $(seq 0 5 39); do   # renamed; every 10th moves to DE
    printf '%d\t{"uid":%d,"name":"renamed%d","country":"%s"}\n' "$u" "$u" "$u" "$([ $((u % 10)) = 0 ] && echo DE || echo NL)"
  done
  printf '3\t\n7\t\n15\t\n'   # tombstones ('table.key' = 'uid'): users 3, 7, 15 deleted
  printf '7\t{"uid":7,"name":"back7","country":"NL"}\n'   # and 7 back
} >"$T/users.jsonl"
kcat -b "$BS" -t users -P -K '\t' -Z -l "$T/users.jsonl" 2>>"$T/kcat.err"
python3 -c '
import json, sys
latest = {}
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("\t", 1)
    if not v:
        latest.pop(int(k), None)
        continue
    u = json.loads(v)
    latest[u["uid"]] = u
print("uid,name,country")
for u in latest.values():
    print(u["uid"], u["name"], u["country"], sep=",")
' "$T/users.jsonl" >"$T/users.latest.csv"
want 0 5999 JOIN "u.country = 'NL'" "$T/users.latest.csv" >"$T/want.topic"
cp "$T/want" "$T/want.inner"; cp "$T/want.topic" "$T/want"
TSRC=${BSRC/"CREATE STREAM users (uid BIGINT, name VARCHAR, country VARCHAR) WITH (connector = 'file',
  path = '$T/users.csv', format = 'csv');"/"CREATE STREAM users (uid BIGINT, name VARCHAR, country VARCHAR) WITH (connector = 'kafka',
  topic = 'users', format = 'json', 'properties.bootstrap.servers' = '$BS', 'table' = 'true', 'table.key' = 'uid');"}
start K1 gt "$TSRC"; K1=${PIDS[0]}
start K2 gt "$TSRC"; K2=${PIDS[1]}
ended "a bounded group read with a table on a Kafka topic" K1 K2
echo "group_join.sh: table on a topic: K1 $(rows K1 | wc -l), K2 $(rows K2 | wc -l) rows, $(rows K1 K2 | grep -c renamed) of renamed users"
once "a bounded group read with a table on a Kafka topic (the last record per user)" K1 K2
# the same join on a single node: the same meaning (table first, last record per user)
"$SLUICE" -q --set parallelism=2 \
  -e "$TSRC CREATE SINK out WITH (connector = 'file', path = '$T/out.S.csv', format = 'csv'); $QUERY" \
  >"$T/log.S" 2>&1 </dev/null
if [ "$(rows S | sort)" = "$(cat "$T/want")" ]; then _ok; else
  _bad "a single node's join with a table on a Kafka topic" "$(rows S | wc -l) rows for $(wc -l <"$T/want"); $(tail -c 300 "$T/log.S")"; fi
cp "$T/want.inner" "$T/want"

# 1b. the same with a LEFT JOIN: the events of users not in the table too,
# their name NULL (an empty CSV field, as sqlite3 prints it)
want 0 5999 "LEFT JOIN" "1 = 1" >"$T/want.left"
cp "$T/want.left" "$T/want"
Q=$LQUERY start L gl "$BSRC"; L=${PIDS[0]}
Q=$LQUERY start M gl "$BSRC"; M=${PIDS[1]}
ended "a bounded group read with a LEFT JOIN" L M
echo "group_join.sh: LEFT JOIN: L $(rows L | wc -l), M $(rows M | wc -l) rows, $(rows L M | grep -c ',$') without a user"
once "a bounded group read with a LEFT JOIN" L M
cp "$T/want.inner" "$T/want"

# 1c. the join, then a windowed aggregation through the repartition topic:
# two instances, and a second instance joining a slow read mid-way (its
# source partitions move: the tasks that lose some read again from the
# group's offsets, keeping their table)
want_windows 0 5999 >"$T/want"
Q=$WQUERY start W1 gw "$BSRC" --set deployment.partitions=6; W1=${PIDS[0]}
Q=$WQUERY start W2 gw "$BSRC" --set deployment.partitions=6; W2=${PIDS[1]}
ended "a bounded group read with a join and an aggregation" W1 W2
echo "group_join.sh: join and aggregation: W1 $(rows W1 | wc -l), W2 $(rows W2 | wc -l) windows"
once "a bounded group read with a join and an aggregation" W1 W2
RSRC=${BSRC/"'scan.bounded.mode'"/"'scan.rate-limit' = '250', 'properties.max.partition.fetch.bytes' = '600', 'scan.bounded.mode'"}
Q=$WQUERY start X1 gx "$RSRC" --set deployment.partitions=6 --set checkpoint.interval=1s --progress "$T/progress.X1"; X1=${PIDS[0]}
for _ in $(seq 300); do [ "$(rows X1 | wc -l)" -gt 0 ] && break; sleep 0.1; done
Q=$WQUERY start X2 gx "$RSRC" --set deployment.partitions=6 --set checkpoint.interval=1s --progress "$T/progress.X2"; X2=${PIDS[1]}
ended "a read with a join and an aggregation joined mid-way" X1 X2
echo "group_join.sh: join and aggregation, joined mid-way: X1 $(rows X1 | wc -l), X2 $(rows X2 | wc -l) windows"
once "a read with a join and an aggregation joined mid-way" X1 X2
# the group settles after the join: its members commit only while it is
# steady, so no commit fails with ILLEGAL_GENERATION and no member loses its
# assignment over it (librdkafka 2.0.2 rejoins then, which kept the group
# rebalancing: 13 and 43 revocations in a run that never ended; 2 now)
revs=$(for x in X1 X2; do tail -n 1 "$T/progress.$x" | grep -o '"revocations":[0-9]*' | cut -d: -f2; done | awk '{ s += $1 } END { print s + 0 }')
if [ "$revs" -ge 1 ] && [ "$revs" -le 8 ]; then _ok; else   # (the join moves some: at least 1)
  _bad "a member joining a read with a join and an aggregation: the group settles" "$revs revocations in all (1 to 8)"; fi
cp "$T/want.inner" "$T/want"

# 2. a second instance joins a slow bounded read mid-way
RSRC=${BSRC/"'scan.bounded.mode'"/"'scan.rate-limit' = '250', 'properties.max.partition.fetch.bytes' = '600', 'scan.bounded.mode'"}
start F gj "$RSRC" --set checkpoint.interval=1s; F=${PIDS[0]}
for _ in $(seq 300); do [ "$(rows F | wc -l)" -gt 0 ] && break; sleep 0.1; done
start G gj "$RSRC" --set checkpoint.interval=1s; G=${PIDS[1]}
ended "a read with a join joined mid-way" F G
echo "group_join.sh: join mid-read: F $(rows F | wc -l), G $(rows G | wc -l) rows"
once "a member joining a read with a join mid-way" F G
if [ "$(rows G | wc -l)" -gt 0 ]; then _ok; else
  _bad "the member that joined mid-read got partitions" "F $(rows F | wc -l), G 0 rows"; fi

# 3. three instances read on; one is killed, the other two take over
start A gk "$SRC"; A=${PIDS[0]}
start B gk "$SRC"; B=${PIDS[1]}
start C gk "$SRC"; C=${PIDS[2]}
covered() {   # FROM TO NAMES...: the instances' rows cover sqlite3's answer for FROM..TO
  local from=$1 to=$2; shift 2
  want "$from" "$to" >"$T/want.part"
  rows "$@" | sort -u >"$T/have"
  [ -z "$(comm -23 "$T/want.part" "$T/have" | head -1)" ]
}
ok=0
for _ in $(seq 300); do covered 0 5999 A B C && ok=1 && break; sleep 0.2; done
if [ $ok = 1 ]; then _ok; else _bad "three instances with a join read the topic" "$(rows A B C | wc -l) rows; $(tail -c 300 "$T/log.A")"; fi
if [ "$(rows C | wc -l)" -gt 0 ]; then _ok; else _bad "the instance to kill had partitions" "C wrote no row"; fi
kill -KILL "$C"; wait "$C" 2>/dev/null
produce 6000 8999
ok=0
for _ in $(seq 300); do covered 0 8999 A B C && ok=1 && break; sleep 0.2; done
if [ $ok = 1 ]; then _ok; else
  _bad "after a kill, the others take over its partitions with the table" "missing $(comm -23 "$T/want.part" "$T/have" | wc -l) rows, e.g. $(comm -23 "$T/want.part" "$T/have" | head -3 | tr '\n' ' ')"; fi
dups=$(rows A B C | sort | uniq -d | wc -l)
extra=$(rows A B C | sort -u | comm -13 "$T/want.part" - | wc -l)
echo "group_join.sh: after the kill: $(rows A B C | wc -l) rows, $dups twice (the killed instance's last checkpoint), $extra not in the answer"
if [ "$extra" = 0 ]; then _ok; else _bad "after a kill: no row outside the answer" "$extra rows"; fi
for n in A B; do
  if kill -0 "${!n}" 2>/dev/null; then _ok; else _bad "instance $n still runs after the kill" "$(tail -c 300 "$T/log.$n")"; fi
done
kill -TERM "$A" "$B"; wait "$A" "$B" 2>/dev/null; PIDS=()

# 4. a restart: the table comes back from the instance's checkpoint, and a
# file changed meanwhile is not read again; --reset-state reads it anew
# (the stream's offsets are the group's: nothing is read twice)
cp "$T/users.csv" "$T/users.r.csv"
cp "$T/users.csv" "$T/users.old.csv"
RSRC=${SRC//"$T/users.csv"/"$T/users.r.csv"}
range() { rows R | awk -F, -v lo="$1" -v hi="$2" '$1 >= lo && $1 <= hi' | sort; }
upto() {   # FROM TO USERS: R's rows for events FROM..TO are sqlite3's answer with USERS
  want "$1" "$2" JOIN "u.country = 'NL'" "$3" >"$T/want.r"
  for _ in $(seq 300); do [ "$(range "$1" "$2")" = "$(cat "$T/want.r")" ] && return 0; sleep 0.2; done
  return 1
}
stop_r() { kill -TERM "$R"; wait "$R" 2>/dev/null; PIDS=(); }
start R gr "$RSRC"; R=${PIDS[0]}
if upto 0 8999 "$T/users.old.csv"; then _ok; else _bad "an instance with a table reads the topic" "$(tail -c 300 "$T/log.R")"; fi
stop_r
sed -i 's/^\([1235]\),user/\1,changed/' "$T/users.r.csv"   # users 1, 2, 3, 5 renamed (still NL)
produce 9000 9299
start R gr "$RSRC"; R=${PIDS[0]}
if upto 9000 9299 "$T/users.old.csv"; then _ok; else
  _bad "a restarted instance joins with the table of its checkpoint" "$(range 9000 9299 | grep -c changed) rows with the file's new names; $(tail -c 300 "$T/log.R")"; fi
stop_r
produce 9300 9599
start R gr "$RSRC" --reset-state; R=${PIDS[0]}
if upto 9300 9599 "$T/users.r.csv" && [ "$(range 9300 9599 | grep -c changed)" -gt 0 ]; then _ok; else
  _bad "--reset-state reads the table anew" "$(range 9300 9599 | grep -c changed) rows with the new names; $(tail -c 300 "$T/log.R")"; fi
if [ -z "$(rows R | sort | uniq -d | head -1)" ]; then _ok; else
  _bad "restarts read nothing twice" "$(rows R | sort | uniq -d | wc -l) rows twice"; fi
stop_r

# 4a. a followed table ('table.follow' = 'true'): two instances join a
# stream with a Kafka table topic that changes while they run. Events
# before an update get the old names, events after it the new ones. "After"
# is made sure of by probes: after the update, a probe event of a renamed
# user goes to each of the topic's partitions, again until each comes out
# with the new name (so every task that reads a partition has the update)
for u in $(seq 0 39); do printf '%d\t{"uid":%d,"name":"user%d"}\n' "$u" "$u" "$u"; done >"$T/fusers.jsonl"
kcat -b "$BS" -t fusers -P -K '\t' -l "$T/fusers.jsonl" 2>>"$T/kcat.err"
fwant() {   # FROM TO USERS: sqlite3's answer to FQUERY over the fevents FROM..TO, table USERS
  want "$1" "$2" JOIN "1 = 1" "$3" "$T/fevents.jsonl"
}
frange() { rows V1 V2 | awk -F, -v lo="$1" -v hi="$2" '$1 >= lo && $1 <= hi' | sort; }
fupto() {   # FROM TO NAMES_FILE: the instances' rows for FROM..TO are fwant's, each once
  fwant "$1" "$2" "$3" >"$T/want.f"
  for _ in $(seq 300); do [ "$(frange "$1" "$2")" = "$(cat "$T/want.f")" ] && return 0; sleep 0.2; done
  return 1
}
{ echo "uid,name,country"; for u in $(seq 0 39); do echo "$u,user$u,"; done; } >"$T/names.old"
FSRC="CREATE STREAM events (ts TIMESTAMP(3), id BIGINT, uid BIGINT, level VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH (connector = 'kafka',
  topic = 'fevents', format = 'json', 'properties.bootstrap.servers' = '$BS',
  'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500');
CREATE STREAM users (uid BIGINT, name VARCHAR) WITH (connector = 'kafka', topic = 'fusers',
  format = 'json', 'properties.bootstrap.servers' = '$BS', 'table' = 'true', 'table.follow' = 'true');"
FQUERY="INSERT INTO out SELECT e.id, u.name FROM events e JOIN users u ON e.uid = u.uid WHERE e.level = 'CRITICAL';"
Q=$FQUERY start V1 gf "$FSRC"; V1=${PIDS[0]}
Q=$FQUERY start V2 gf "$FSRC"; V2=${PIDS[1]}
produce 0 599 fevents
if fupto 0 599 "$T/names.old"; then _ok; else
  _bad "a followed table: the join's answer before an update" "$(frange 0 599 | wc -l) rows for $(wc -l <"$T/want.f"); $(tail -c 300 "$T/log.V1")"; fi
for u in $(seq 0 5 39); do printf '%d\t{"uid":%d,"name":"renamed%d"}\n' "$u" "$u" "$u"; done |
  kcat -b "$BS" -t fusers -P -K '\t' 2>>"$T/kcat.err"
sed 's/^\([0-9]*[05]\),user/\1,renamed/' "$T/names.old" >"$T/names.new"
seen=0
for r in $(seq 60); do   # probes: ids 100000 + 10 r + partition, user 5 (renamed5 once updated)
  for p in $(seq 0 5); do
    printf '{"ts":1700000000000,"id":%d,"uid":5,"level":"CRITICAL"}\n' $((100000 + r * 10 + p)) |
      kcat -b "$BS" -t fevents -P -p "$p" 2>>"$T/kcat.err"
  done
  for _ in $(seq 20); do
    [ "$(rows V1 V2 | awk -F, -v lo=$((100000 + r * 10)) '$1 >= lo && $1 < lo + 6' | wc -l)" = 6 ] && break
    sleep 0.2
  done
  if [ "$(rows V1 V2 | awk -F, -v lo=$((100000 + r * 10)) '$1 >= lo && $1 < lo + 6 && $2 == "renamed5"' | wc -l)" = 6 ]; then
    seen=1; break; fi
done
if [ $seen = 1 ]; then _ok; else
  _bad "a followed table: an update reaches every task" "no probe round came out renamed in 60; $(tail -c 300 "$T/log.V1")"; fi
echo "group_join.sh: followed table: the update seen by every task after $r probe rounds"
produce 600 1199 fevents
if fupto 600 1199 "$T/names.new" && [ "$(frange 600 1199 | grep -c renamed)" -gt 0 ]; then _ok; else
  _bad "a followed table: the join's answer after an update" "$(frange 600 1199 | wc -l) rows for $(wc -l <"$T/want.f"), $(frange 600 1199 | grep -c renamed) renamed; $(tail -c 300 "$T/log.V1")"; fi
if [ "$(frange 0 599)" = "$(fwant 0 599 "$T/names.old")" ]; then _ok; else
  _bad "a followed table: the rows from before the update stay as they were" "$(frange 0 599 | grep -c renamed) renamed"; fi
kill -INT "$V1" "$V2"; ra=0; rb=0; wait "$V1" || ra=$?; wait "$V2" || rb=$?; PIDS=()
if [ $ra = 0 ] && [ $rb = 0 ]; then _ok; else _bad "a followed table: SIGINT ends the instances" "exit $ra / $rb"; fi
# a restart: the table comes back from the checkpoint and the table's
# source goes on from its offsets there — an update written meanwhile
# counts (user 1 renamed again), and what was read before is not read twice
printf '1\t{"uid":1,"name":"again1"}\n' | kcat -b "$BS" -t fusers -P -K '\t' 2>>"$T/kcat.err"
sed 's/^1,user1,$/1,again1,/' "$T/names.new" >"$T/names.again"
Q=$FQUERY start V1 gf "$FSRC"; V1=${PIDS[0]}
produce 1200 1499 fevents
if fupto 1200 1499 "$T/names.again" && [ "$(frange 1200 1499 | grep -c again1)" -gt 0 ]; then _ok; else
  _bad "a followed table after a restart: the update made meanwhile counts" "$(frange 1200 1499 | wc -l) rows for $(wc -l <"$T/want.f"), $(frange 1200 1499 | grep -c again1) of user 1 renamed again; $(tail -c 300 "$T/log.V1")"; fi
if [ -z "$(rows V1 V2 | awk -F, '$1 < 100000' | sort | uniq -d | head -1)" ]; then _ok; else
  _bad "a followed table: a restart reads nothing twice" "$(rows V1 V2 | sort | uniq -d | wc -l) rows twice"; fi
kill -INT "$V1"; wait "$V1" 2>/dev/null; PIDS=()

# 5. the brokers gone, a stop does not hang: two instances of the join then
# aggregation (whose commits wait for the group's answers) run on; the
# broker is stopped; SIGINT stops each (their last commits give up after
# their timeouts)
Q=$WQUERY start Y gy "$SRC" --set deployment.partitions=6; Y=${PIDS[0]}
Q=$WQUERY start Z gy "$SRC" --set deployment.partitions=6; Z=${PIDS[1]}
for _ in $(seq 300); do [ "$(rows Y Z | wc -l)" -gt 0 ] && break; sleep 0.2; done
kill -TERM "$BROKER"; wait "$BROKER" 2>/dev/null
gone() {   # PID SECONDS: the process ends within SECONDS
  for _ in $(seq $(($2 * 10))); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  return 1
}
kill -INT "$Y" "$Z"
for n in Y Z; do
  if gone "${!n}" 90; then _ok; else _bad "a stop with the brokers gone ends ($n)" "still running after 90 s"; fi
done
finish

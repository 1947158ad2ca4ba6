#!/usr/bin/env bash
# (e) Nexmark q0, q1, q2, q3, q4, q5, q7, q8, q11 on the built-in nexmark
# generator, at parallelism 1 and 2, best of REPEAT.
#
# Events: N_NEXMARK (5M; 1M with BENCH_QUICK=1) events of all types (person :
# auction : bid = 1 : 3 : 46, so 5M events = 100k persons, 300k auctions,
# 4.6M bids), seed 1, no `rate`: generated as fast as the query takes them,
# event time advancing 100 µs per event (10 000 events/s of event time, Beam's
# default), so 5M events span 500 s of event time. "rows" in the table is
# that event count, as Nexmark reports events/s — although a query that
# reads only person and auction (q3, q8) makes the generator produce only
# those 8% of the events (it skips the others without generating them).
#
# Queries: q0 (pass-through), q1 (currency conversion) and q2 (selection,
# MOD(auction, 123) = 0) and q11 (user sessions: bids per bidder per
# SESSION window with a 10 s gap, Flink's group-window spelling) are Flink's
# Nexmark SQL on the bid stream; q3, q4,
# q5, q7, q8 are the SELECTs of examples/nexmark_q*.sql (Flink's, in
# sluice's dialect; each file says what differs) over the same streams with
# the watermark 4 s behind, as Flink's Nexmark DDL. Every query writes into
# a `blackhole` sink (as Flink's Nexmark does): the rows are produced and
# counted, not formatted — q0 and q1 would otherwise measure the CSV writer
# more than the query (NEXMARK_SINK=csv prints CSV to /dev/null instead).
# A benchmark, not a test: it never fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
N=$N_NEXMARK
GEN="connector = 'nexmark', count = '$N', seed = '1'"
DDL="
CREATE STREAM person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR,
  state VARCHAR, date_time TIMESTAMP(3), extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND) WITH ($GEN, table = 'person');
CREATE STREAM auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT,
  date_time TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND) WITH ($GEN, table = 'auction');
CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
  date_time TIMESTAMP(3), extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND) WITH ($GEN, table = 'bid');"

echo "== Nexmark: $N events (seed 1, 10 000 events/s of event time), best of $REPEAT"
for q in q0 q1 q2 q3 q4 q5 q7 q8 q11; do
  case $q in
    q0) sql="SELECT auction, bidder, price, date_time, extra FROM bid;" ;;
    q1) sql="SELECT auction, bidder, 0.908 * price AS price, date_time, extra FROM bid;" ;;
    q2) sql="SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0;" ;;
    q11) sql="SELECT B.bidder, COUNT(*) AS bid_count,
                SESSION_START(B.date_time, INTERVAL '10' SECOND) AS starttime,
                SESSION_END(B.date_time, INTERVAL '10' SECOND) AS endtime
              FROM bid B GROUP BY B.bidder, SESSION(B.date_time, INTERVAL '10' SECOND);" ;;
    *)  sql=$(sed -n '/^SELECT/,$p' "examples/nexmark_$q.sql") ;;
  esac
  if [ -z "$sql" ]; then echo "skipping Nexmark $q: no SELECT in examples/nexmark_$q.sql"; continue; fi
  if [ "${NEXMARK_SINK:-blackhole}" = blackhole ]; then
    run_sql="$DDL CREATE SINK nul WITH (connector = 'blackhole'); INSERT INTO nul $sql"
  else
    run_sql="$DDL $sql"
  fi
  for p in 1 2; do
    $MEASURE "Nexmark $q" sluice $p "$N" "$REPEAT" "$BENCH_RECORDS" -- \
      "$SLUICE" -q --format csv --set parallelism=$p -e "$run_sql" \
      || echo "Nexmark $q at parallelism $p failed (no number recorded)"
  done
done

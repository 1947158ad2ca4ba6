#!/usr/bin/env bash
# Oracle test for the Nexmark join queries q3, q4, q5, q7 and q8: each runs as
# SQL over the nexmark generator (a finite run: the first 300000 events, i.e.
# 30 s of event time: 6000 persons, 18000 auctions, 276000 bids) at
# parallelism 1 and 2 and must give exactly what sqlite3 gives as batch SQL
# over the same rows. The queries are those of examples/nexmark_q*.sql (Flink's
# Nexmark SQL in sluice's dialect; see each file for what was changed and why);
# every example file must also pass `--check`.
#
# The generator's event time never goes back within a task, and the watermark
# delay (4 s, as Flink's Nexmark DDL) covers the skew between tasks, so no row
# is late and the streaming answer must equal the batch answer. Rows are dumped
# with `sluice --format csv` and loaded into sqlite3, each timestamp also as
# whole microseconds since the epoch (`us`, `exp_us`).
#
# Per query: `--check` passes, EXPLAIN shows the expected join, the sqlite3
# answer is non-empty, and (unless skipped) sluice's answer at parallelism 1
# and 2 equals it as a sorted multiset of rows. A changelog answer is compared
# by its final state: with KEYS = 0, +I/+U add a row and -D/-U remove one equal
# row (a join's changelog); with KEYS = k, the first k columns are a key and
# +I/+U set its row, -D/-U delete it (an aggregate's changelog, "+U replaces the
# group's last row"). Decimals are compared to 10 significant digits.
#
# Environment:
#   SLUICE                       the binary (default build/sluice)
#   JOINS_EXPECT_UNSUPPORTED=1   skip the sluice-vs-sqlite3 comparisons (while the
#                                runtime does not execute joins yet)
#   JOINS_VERBOSE=1              print each query's sqlite3 row count
source "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null || { echo "FAIL $0: sqlite3 is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }
SKIP_RUN=${JOINS_EXPECT_UNSUPPORTED:-0}
VERBOSE=${JOINS_VERBOSE:-0}
EXAMPLES="$(cd "$(dirname "$0")/../.." && pwd)/examples"

GEN="connector = 'nexmark', count = '300000', seed = '1'"
DDL="
CREATE STREAM person (id BIGINT, name VARCHAR, email_address VARCHAR, credit_card VARCHAR, city VARCHAR,
  state VARCHAR, date_time TIMESTAMP(3), extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
  WITH ($GEN, table = 'person');
CREATE STREAM auction (id BIGINT, item_name VARCHAR, description VARCHAR, initial_bid BIGINT, reserve BIGINT,
  date_time TIMESTAMP(3), expires TIMESTAMP(3), seller BIGINT, category BIGINT, extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
  WITH ($GEN, table = 'auction');
CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, channel VARCHAR, url VARCHAR,
  date_time TIMESTAMP(3), extra VARCHAR,
  WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)
  WITH ($GEN, table = 'bid');"

# ---- the rows, exactly as sluice reads them, into sqlite3 -------------------------------

# us(COL): sluice's timestamp text (up to 6 fraction digits, trailing zeros
# dropped) as whole microseconds since the epoch
us() { echo "CAST(strftime('%s', substr($1, 1, 19)) AS INTEGER) * 1000000 + CAST(substr(substr($1, 21) || '000000', 1, 6) AS INTEGER)"; }

load() {   # TABLE WANT-ROWS COLUMNS SQLITE-COLUMN-DEFS
  local t=$1 want=$2 cols=$3 defs=$4
  "$SLUICE" -q --format csv --set parallelism=1 -e "$DDL SELECT $cols FROM $t;" > "$T/$t.csv" 2>"$T/err"
  local n=$(($(wc -l < "$T/$t.csv") - 1))
  if [ "$n" -eq "$want" ]; then _ok; else _bad "dump $t" "got $n rows, want $want: $(head -c 300 "$T/err")"; fi
  sqlite3 "$T/db" <<SQL
CREATE TABLE $t ($defs);
.import --csv --skip 1 $T/$t.csv $t
ALTER TABLE $t ADD COLUMN us INTEGER;
UPDATE $t SET us = $(us date_time);
SQL
}
load person 6000 "id, name, city, state, date_time" \
  "id INTEGER, name TEXT, city TEXT, state TEXT, date_time TEXT"
load auction 18000 "id, seller, category, date_time, expires" \
  "id INTEGER, seller INTEGER, category INTEGER, date_time TEXT, expires TEXT"
load bid 276000 "auction, bidder, price, date_time" \
  "auction INTEGER, bidder INTEGER, price INTEGER, date_time TEXT"
sqlite3 "$T/db" "ALTER TABLE auction ADD COLUMN exp_us INTEGER; UPDATE auction SET exp_us = $(us expires);
                 CREATE INDEX bid_auction ON bid (auction); CREATE INDEX bid_us ON bid (us);"

# q4 bounds its join by 1 second past the auction's start: expires is within that
span=$(sqlite3 "$T/db" "SELECT MAX(exp_us - us) FROM auction;")
if [ "$span" -gt 0 ] && [ "$span" -lt 1000000 ]; then _ok; else _bad "auction length" "max expires - date_time = $span µs, want (0, 1 s)"; fi

# ---- comparing ----------------------------------------------------------------------------

norm() { awk -F, -v OFS=, '{ for (i = 1; i <= NF; i++) if ($i ~ /^-?[0-9]+\.[0-9]+([eE][-+]?[0-9]+)?$/) $i = sprintf("%.10g", $i); print }' | LC_ALL=C sort; }

# final state of a changelog on stdin (header "op,…"); $1 = key columns (see top)
changelog_final() {
  awk -v keys="$1" '
    NR == 1 { next }
    { op = substr($0, 1, index($0, ",") - 1); row = substr($0, index($0, ",") + 1)
      add = (op == "+I" || op == "+U"); del = (op == "-D" || op == "-U")
      if (!add && !del) { print "BAD OP " $0; next }
      if (keys == 0) { n[row] += add ? 1 : -1; next }
      split(row, f, ","); k = f[1]; for (i = 2; i <= keys; i++) k = k "," f[i]
      if (add) v[k] = row; else delete v[k] }
    END { for (r in n) { if (n[r] < 0) print "RETRACTED MORE THAN INSERTED: " r
                         for (i = 0; i < n[r]; i++) print r }
          for (k in v) print v[k] }'
}

# query NAME PLAN-SUBSTRING KEYS SLUICE-QUERY SQLITE-QUERY [EMIT-INTERVAL]
# (emit.interval defaults to 1h, longer than the run: an aggregate's changelog
# then has one row per group)
query() {
  local name=$1 plan=$2 keys=$3 sq=$4 lq=$5 emit=${6:-1h} p
  if "$SLUICE" --check -e "$DDL $sq" >/dev/null 2>"$T/err"; then _ok; else
    _bad "$name: --check" "$(head -c 400 "$T/err")"; fi
  "$SLUICE" -q -e "$DDL EXPLAIN $sq" >"$T/plan" 2>&1
  if grep -qF -- "$plan" "$T/plan"; then _ok; else
    _bad "$name: EXPLAIN" "lacks '$plan': $(head -c 600 "$T/plan")"; fi
  sqlite3 -list -separator , "$T/db" "$lq" 2>"$T/err" | norm > "$T/want"
  local nwant; nwant=$(wc -l < "$T/want")
  [ "$VERBOSE" = 1 ] && echo "   $name: sqlite3 $nwant rows; first: $(head -1 "$T/want")"
  if [ "$nwant" -gt 0 ]; then _ok; else _bad "$name: sqlite3" "no rows: $(head -c 300 "$T/err")"; fi
  [ "$SKIP_RUN" = 1 ] && return
  for p in 1 2; do
    "$SLUICE" -q --format csv --set parallelism=$p --set emit.interval=$emit -e "$DDL $sq" 2>"$T/err" > "$T/raw"
    if head -1 "$T/raw" | grep -q '^op,'; then changelog_final "$keys" < "$T/raw" | norm > "$T/got"
    else tail -n +2 "$T/raw" | norm > "$T/got"; fi
    if [ "$nwant" -gt 0 ] && cmp -s "$T/want" "$T/got"; then _ok; else
      _bad "$name (parallelism $p)" "$nwant rows expected, $(wc -l < "$T/got") got; $(diff "$T/want" "$T/got" | head -5) $(grep -v '^warning' "$T/err" | head -c 300)"
    fi
  done
}

# every example parses, binds and plans
for q in 3 4 5 7 8; do
  expect_exit 0 "examples/nexmark_q$q.sql --check" "$SLUICE" --check -f "$EXAMPLES/nexmark_q$q.sql"
done

# ---- q3: local item suggestion (regular join; a changelog of inserts) ----------------------

query "q3 local item suggestion" "inner regular join" 0 \
  "SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
   WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');" \
  "SELECT P.name, P.city, P.state, A.id FROM auction AS A INNER JOIN person AS P ON A.seller = P.id
   WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');"

# ---- q4: average winning price per category (interval join, two aggregates) ---------------

Q4_SQLITE="SELECT Q.category, AVG(Q.final) FROM (
     SELECT MAX(B.price) AS final, A.category FROM auction A JOIN bid B
     ON A.id = B.auction AND B.us BETWEEN A.us AND A.exp_us GROUP BY A.id, A.category) Q
   GROUP BY Q.category;"
query "q4 average price per category (interval join)" "inner interval join" 1 \
  "SELECT Q.category, AVG(Q.final) FROM (
     SELECT MAX(B.price) AS final, A.category FROM auction A JOIN bid B
     ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '1' SECOND
     WHERE B.date_time <= A.expires GROUP BY A.id, A.category) Q
   GROUP BY Q.category;" "$Q4_SQLITE"
# the same with the aggregates emitting every millisecond: the inner MAX's +U
# rows must replace (retract) its earlier values in the outer AVG
query "q4, emitting changes every 1 ms" "inner interval join" 1 \
  "SELECT Q.category, AVG(Q.final) FROM (
     SELECT MAX(B.price) AS final, A.category FROM auction A JOIN bid B
     ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.date_time + INTERVAL '1' SECOND
     WHERE B.date_time <= A.expires GROUP BY A.id, A.category) Q
   GROUP BY Q.category;" "$Q4_SQLITE" 1ms
query "q4 as Flink bounds it (regular join, expires in ON)" "inner regular join" 1 \
  "SELECT Q.category, AVG(Q.final) FROM (
     SELECT MAX(B.price) AS final, A.category FROM auction A JOIN bid B
     ON A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires GROUP BY A.id, A.category) Q
   GROUP BY Q.category;" "$Q4_SQLITE"

# ---- q5: hot items (window join of two aggregates over HOP windows) ------------------------
# sqlite3: bid at time t is in the 10 s windows starting at 2 s multiples s, t - 10 s < s <= t

query "q5 hot items" "inner window join" 0 \
  "SELECT AuctionBids.auction, AuctionBids.num, AuctionBids.starttime FROM (
     SELECT auction, COUNT(*) AS num, window_start AS starttime, window_end AS endtime
     FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
     GROUP BY auction, window_start, window_end) AS AuctionBids
   JOIN (
     SELECT MAX(CountBids.num) AS maxn, CountBids.starttime, CountBids.endtime FROM (
       SELECT COUNT(*) AS num, window_start AS starttime, window_end AS endtime
       FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND)
       GROUP BY auction, window_start, window_end) AS CountBids
     GROUP BY CountBids.starttime, CountBids.endtime) AS MaxBids
   ON AuctionBids.starttime = MaxBids.starttime AND AuctionBids.endtime = MaxBids.endtime
      AND AuctionBids.num >= MaxBids.maxn;" \
  "WITH w AS (SELECT B.auction, (B.us / 2000000 - o.k) * 2 AS s FROM bid B,
                (SELECT 0 AS k UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) o),
        c AS (SELECT auction, s, COUNT(*) AS num FROM w GROUP BY auction, s),
        m AS (SELECT s, MAX(num) AS maxn FROM c GROUP BY s)
   SELECT c.auction, c.num, datetime(c.s, 'unixepoch') FROM c JOIN m ON c.s = m.s AND c.num >= m.maxn;"

# ---- q7: highest bid (a stream joined with its own windowed aggregate) -------------------

query "q7 highest bid (window join)" "inner window join" 0 \
  "SELECT B.auction, B.bidder, B.price, B.date_time FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) B
   JOIN (SELECT window_start, window_end, MAX(price) AS maxprice
         FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) GROUP BY window_start, window_end) B1
   ON B.window_start = B1.window_start AND B.window_end = B1.window_end AND B.price = B1.maxprice;" \
  "SELECT B.auction, B.bidder, B.price, B.date_time FROM bid B
   JOIN (SELECT us / 10000000 AS w, MAX(price) AS maxprice FROM bid GROUP BY 1) B1
   ON B.us / 10000000 = B1.w AND B.price = B1.maxprice;"

# Flink's spelling: the time bound in WHERE, inclusive at both window edges
query "q7 highest bid (Flink's spelling: regular join + filter)" "inner regular join" 0 \
  "SELECT B.auction, B.bidder, B.price, B.date_time FROM bid B
   JOIN (SELECT MAX(price) AS maxprice, window_end AS date_time
         FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) GROUP BY window_start, window_end) B1
   ON B.price = B1.maxprice
   WHERE B.date_time BETWEEN B1.date_time - INTERVAL '10' SECOND AND B1.date_time;" \
  "SELECT B.auction, B.bidder, B.price, B.date_time FROM bid B
   JOIN (SELECT (us / 10000000 + 1) * 10000000 AS wend, MAX(price) AS maxprice FROM bid GROUP BY 1) B1
   ON B.price = B1.maxprice WHERE B.us BETWEEN B1.wend - 10000000 AND B1.wend;"

# ---- q8: monitor new users (window join of two aggregates) --------------------------------

query "q8 monitor new users" "inner window join" 0 \
  "SELECT P.id, P.name, P.starttime FROM (
     SELECT id, name, window_start AS starttime, window_end AS endtime
     FROM TUMBLE(person, date_time, INTERVAL '10' SECOND) GROUP BY id, name, window_start, window_end) P
   JOIN (
     SELECT seller, window_start AS starttime, window_end AS endtime
     FROM TUMBLE(auction, date_time, INTERVAL '10' SECOND) GROUP BY seller, window_start, window_end) A
   ON P.id = A.seller AND P.starttime = A.starttime AND P.endtime = A.endtime;" \
  "SELECT DISTINCT P.id, P.name, datetime(P.us / 10000000 * 10, 'unixepoch') FROM person P
   JOIN auction A ON P.id = A.seller AND P.us / 10000000 = A.us / 10000000;"

[ "$SKIP_RUN" = 1 ] && echo "note: JOINS_EXPECT_UNSUPPORTED=1: sluice-vs-sqlite3 comparisons skipped"
finish

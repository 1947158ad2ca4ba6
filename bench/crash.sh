#!/usr/bin/env bash
# The seed's crash query, end to end through the sluice binary:
#   (a) from the built-in logs generator (no parsing), N_GEN events (20M)
#   (b) from a JSON-lines file of N_FILE events (1M; generated once into
#       bench/data/ by sluice from the same generator)
# at parallelism 1 and 2, best of REPEAT runs. Prints rows/s (wall) and rows
# per CPU-second (user+sys of the whole process). The timed region is the
# whole sluice process: start, planning, reading + decoding the file,
# the query, and writing the result rows as CSV to /dev/null.
# A benchmark, not a test: it never fails on speed. bench/peers.sh runs
# DuckDB and sqlite3 on the same file; bench/run.sh prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
prepare_json

echo "== seed crash query (sluice $($SLUICE --version | cut -d' ' -f2), $(nproc) cores, best of $REPEAT)"
for p in 1 2; do
  $MEASURE "crash query, logs generator" sluice $p "$N_GEN" "$REPEAT" "$BENCH_RECORDS" -- \
    "$SLUICE" -q --format csv --set parallelism=$p -e "$GEN_DDL $QUERY"
done
for p in 1 2; do
  $MEASURE "crash query, JSON file" sluice $p "$N_FILE" "$REPEAT" "$BENCH_RECORDS" -- \
    "$SLUICE" -q --format csv --set parallelism=$p -e "$FILE_DDL $QUERY"
done


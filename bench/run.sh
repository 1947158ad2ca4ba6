#!/usr/bin/env bash
# Runs every benchmark: the C programs built into $BUILD/bench, then the
# end-to-end workloads (bench/*.sh: crash.sh, then peers.sh — DuckDB and
# sqlite3 on the same data), then prints the results table and writes it as
# JSON to bench/results/latest.json (compare two with bench/compare A B).
# Figures only; nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
mkdir -p bench/results
BENCH_RECORDS=bench/results/records.jsonl
: > "$BENCH_RECORDS"
export BENCH_RECORDS
for b in "$BUILD"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
for s in bench/*.sh; do
  [ "$s" = bench/run.sh ] && continue
  bash "$s"
done
python3 bench/report.py "$BENCH_RECORDS" bench/results/latest.json

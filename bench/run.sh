#!/usr/bin/env bash
# Runs every benchmark: the C programs built into $BUILD/bench (json_decode
# adds its rows to the table), then the end-to-end workloads in name order
# (bench/*.sh: crash.sh, kafka.sh, latency.sh, nexmark.sh, peers.sh — DuckDB
# and sqlite3 on the same files), then prints the results table and writes
# it as JSON to bench/results/latest.json (compare two with bench/compare A B).
# BENCH_QUICK=1 runs smaller sizes once each (bench/lib/common.sh).
# Figures only; nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
mkdir -p bench/results
BENCH_RECORDS=bench/results/records.jsonl
: > "$BENCH_RECORDS"
export BENCH_RECORDS
t_start=$(date +%s)
echo "== make bench$([ "${BENCH_QUICK:-0}" = 1 ] && echo " (BENCH_QUICK=1)"): load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for b in "$BUILD"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
for s in bench/*.sh; do
  [ "$s" = bench/run.sh ] && continue
  bash "$s"
done
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg); workloads took $(( $(date +%s) - t_start )) s"
python3 bench/report.py "$BENCH_RECORDS" bench/results/latest.json

#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 60) from its seed corpus
# — or, with FUZZ_RUNS=N in the environment, exactly N inputs from seed 1
# (the state target, ~100x slower per input, N/100), which is deterministic:
# what CI runs, so a CI result can be reproduced.
# (tests/fuzz/corpus/<name>/, copied so findings do not touch the repo).
# A crash, leak, UB report or failed check stops the run: the input is left in
# $BUILD/fuzz/findings/ — make it a regression test. Ends "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build-fuzz}
SECONDS_EACH=${1:-60}
pass=0 fail=0
mkdir -p "$BUILD/fuzz/findings"
for bin in "$BUILD"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); short=${name#fuzz_}
  work=$(mktemp -d)
  cp -r "tests/fuzz/corpus/$short/." "$work/" 2>/dev/null || true
  # the parser tests' statements seed the SQL target (one source of truth)
  [ "$short" = sql ] && cp tests/parser/valid.sql "$work/parser-valid.sql"
  if [ -n "${FUZZ_RUNS:-}" ]; then
    runs_arg=$FUZZ_RUNS
    [ "$short" = state ] && runs_arg=$((FUZZ_RUNS / 100 > 500 ? FUZZ_RUNS / 100 : 500))
    limit=(-seed=1 -runs="$runs_arg")
  else
    limit=(-max_total_time="$SECONDS_EACH")
  fi
  if "$bin" "$work" "${limit[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$BUILD/fuzz/findings/$short-" -print_final_stats=1 > "$BUILD/fuzz/$short.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz/$short.log")
    echo "fuzz $short: ok, ${runs:-?} inputs"
    pass=$((pass + 1))
  else
    echo "FAIL fuzz $short: see $BUILD/fuzz/$short.log and $BUILD/fuzz/findings/"
    grep -m3 -E "ERROR|SUMMARY|runtime error" "$BUILD/fuzz/$short.log"
    fail=$((fail + 1))
  fi
  rm -rf "$work"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]

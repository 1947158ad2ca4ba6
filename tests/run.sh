#!/usr/bin/env bash
# Runs every test suite and prints one closing line "N passed, M failed".
#   unit tests   build/unit_tests              (tests/unit/*.c)
#   SQL tests    build/sqltest tests/sql       (tests/sql/**/*.test), at parallelism 1 and 2
#   CLI tests    tests/cli/*.sh                (drive build/sluice as a user would)
# Each suite prints its own failures and its own "N passed, M failed" line;
# this script sums them and says how long each suite took. Exit status is
# non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD SLUICE="$PWD/$BUILD/sluice"

total_pass=0
total_fail=0
suite() {
  local name=$1; shift
  local out rc line p f t0=$SECONDS
  out=$("$@" 2>&1); rc=$?
  # show everything but the suite's own summary line
  printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$' | sed '/^$/d'
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1)
  if [ -z "$line" ]; then
    echo "FAIL $name: no summary line (exit $rc)"
    total_fail=$((total_fail + 1))
    return
  fi
  p=${line%% passed*}
  f=${line#*, }; f=${f%% failed*}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "FAIL $name: exit status $rc"
    f=1
  fi
  echo "-- $name: $p passed, $f failed ($((SECONDS - t0)) s)"
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
}

suite unit "$BUILD/unit_tests"
# the same SQL tests at parallelism 1 and 2 must give the same answers
suite sql-p1 "$BUILD/sqltest" --set parallelism=1 tests/sql
suite sql-p2 "$BUILD/sqltest" --set parallelism=2 tests/sql
for t in tests/cli/*.sh; do
  [ -e "$t" ] || continue
  case "$t" in */lib.sh) continue ;; esac
  suite "cli/$(basename "$t" .sh)" bash "$t"
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]

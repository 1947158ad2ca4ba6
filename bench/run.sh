#!/usr/bin/env bash
# Runs every benchmark: the C programs built into $BUILD/bench, then the
# end-to-end workloads (bench/*.sh). Figures only; nothing here fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
for b in "$BUILD"/bench/*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b")"
  "$b"
done
for s in bench/*.sh; do
  [ "$s" = bench/run.sh ] && continue
  bash "$s"
done

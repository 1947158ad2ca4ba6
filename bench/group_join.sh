#!/usr/bin/env bash
# Group mode with a join of two Kafka streams (issue 13; docs/scaling.md,
# "Joins of two streams"): bench/group_agg.sh with GROUP_QUERY=ijoin — the
# crash events joined with the same user's clicks within 2 s, both streams
# through one repartition topic — and then GROUP_QUERY=wjoin (the same in
# 10-second windows), then GROUP_QUERY=ijagg (the interval join's pairs
# counted per 10-second window and user, in the join's tasks), each by k =
# 1, 2 and 3 `sluice --group` instances, checked against one plain bounded
# read row for row. GROUP_QUERY=ijoin, wjoin or ijagg runs just that one. Knobs as group_agg.sh's, N_GROUP_JOIN (3M
# events, N/5 clicks; 200k with BENCH_QUICK).
set -uo pipefail
cd "$(dirname "$0")/.."
for q in ${GROUP_QUERY:-ijoin wjoin ijagg}; do GROUP_QUERY=$q bash bench/group_agg.sh; done

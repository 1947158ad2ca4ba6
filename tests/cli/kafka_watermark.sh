#!/usr/bin/env bash
# One watermark per Kafka partition: a task reading two partitions whose
# event times interleave differently must not drop the lagging partition's
# rows as late because the other partition ran ahead.
source "$(dirname "$0")/lib.sh"
if ! command -v kcat >/dev/null || ! "$SLUICE" broker --help >/dev/null 2>&1; then echo "0 passed, 0 failed"; exit 0; fi

"$SLUICE" broker --topics ev --partitions 2 > "$T/addr" 2>/dev/null &
bpid=$!
trap 'kill -TERM $bpid 2>/dev/null; wait $bpid 2>/dev/null; rm -rf "$T"' EXIT
wait_nonempty "$T/addr"
B=$(head -1 "$T/addr")

# partition 0 first covers 0..40 s; partition 1 the same 40 s, produced after it
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
for p in (0, 1):
    with open(f"{t}/p{p}.jsonl", "w") as f:
        for i in range(20000):
            s = i * 2 // 1000            # 2 ms apart: 0 … 40 s
            ms = i * 2 % 1000
            f.write('{"ts":"2024-01-01 00:00:%02d.%03d","p":%d}\n' % (s, ms, p) if s < 60 else "")
PY
timeout 30 kcat -P -b "$B" -t ev -p 0 < "$T/p0.jsonl"
timeout 30 kcat -P -b "$B" -t ev -p 1 < "$T/p1.jsonl"

"$SLUICE" -q --format csv --set parallelism=1 -e "
  CREATE STREAM ev (ts TIMESTAMP, p BIGINT, WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
  WITH (connector = 'kafka', topic = 'ev', format = 'json', 'properties.bootstrap.servers' = '$B',
        'scan.bounded.mode' = 'latest-offset');
  SELECT window_start, COUNT(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1' SECOND) GROUP BY window_start, window_end;" \
  > "$T/out" 2>"$T/err" </dev/null
sum=$(tail -n +2 "$T/out" | awk -F, '{s += $2} END {print s + 0}')
if [ "$sum" -eq 40000 ] && ! grep -q "late rows" "$T/err"; then _ok; else
  _bad "no row of the lagging partition is late" "counted $sum of 40000; $(head -c 300 "$T/err")"; fi
finish

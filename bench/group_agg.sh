#!/usr/bin/env bash
# Group mode with a repartition topic (issue 13; docs/scaling.md): the
# seed's crash query — critical crash events per user per 10-second window,
# 10-second watermark — run by k = 1, 2 and 3 `sluice --group` instances
# over a bounded topic of the bundled broker.
#
#   1. `sluice broker --topics events,small,<each run's repartition topic>
#      --partitions P`, P = 12 × ceil(N_GROUP_AGG / 250000) (divisible by 1,
#      2 and 3; ~85 bytes × N / P per partition stays under the mock's ~5 MB
#      retention on average — keyed by user, some partitions get several
#      times the average, and above ~4M events the broker drops the oldest
#      of those: the events the plain read counts are the ones measured,
#      and a note says how many were dropped; the repartition topics must exist before the instances
#      start, as docs/scaling.md says, and have P partitions too:
#      deployment.partitions = P).
#   2. Produce N_GROUP_AGG `logs` generator events (seed 1, 1000 users) as
#      JSON keyed by user_id into `events`, and N/50 into `small`, through
#      sluice's kafka sink. The expected answer: the query read once by a
#      plain (not group) bounded sluice.
#   3. For k = 1, 2, 3, best of REPEAT: start k instances at once, each
#        sluice --group aK.R --state-dir DIR.i --set parallelism=1 \
#               --set deployment.partitions=P --set checkpoint.interval=500ms \
#               --format csv --progress P.i -f q.sql
#      with 'scan.bounded.mode' = 'latest-offset': every instance reads its
#      share of the source partitions, pre-aggregates, writes the partials
#      into the repartition topic, reads its share of it back, finishes its
#      windows and prints them; they end by themselves once every partition
#      of the topic is done (the end is recorded at checkpoints, hence the
#      short interval). "total s": start → every instance exited. The same
#      k over `small` gives the fixed part — the mock coordinator's ~3 s
#      first assignment and the end's bookkeeping — and "work s" = total −
#      that is the time for the other 49/50 of the events: events/s over
#      it. Also CPU s and peak RSS of the instances (wait4), windows per
#      instance, rows read twice (Σ totalInputRows − the plain read's) and rows replayed
#      (Σ replayedRows): both 0 unless partitions moved mid-run.
#   4. Check: the union of the instances' windows equals the single read's,
#      row for row.
# On 2 cores the k instances and the broker share the cores: k = 3 cannot
# be faster than k = 2 in CPU terms, and a group run pays the repartition
# topic (every partial row written to and read back from the broker) and
# the group's coordination. The point here is the mechanism and its cost;
# docs/scaling.md says how it scales on a real cluster.
# GROUP_QUERY=wjoin or ijoin (bench/group_join.sh) measures instead a join
# of two streams through the repartition topic (docs/scaling.md, "Joins of
# two streams"): the crash events joined with the same user's clicks —
# N/5 more generator events (seed 2) in a topic `clicks` (and N/250 in
# `smallc` for the fixed part) — of the same 10-second window (wjoin) or
# within 2 s (ijoin), or those pairs counted per 10-second window and user
# in the join's tasks (ijagg); the repartition topic is then `<group>-1-repartition`,
# the rates count the events of both topics, and the check compares the
# joined rows. N_GROUP_JOIN (3M; 200k with BENCH_QUICK) sets N.
# GROUP_QUERY=changes measures an aggregation without a window (crashes
# per user over the whole stream, EMIT CHANGES; docs/scaling.md): 64
# partitions, its state through the changelog topic `<group>-1-changelog`,
# N_GROUP_AGG (2M) events; the check compares each user's final row.
# A benchmark, not a test: it never fails on speed. Appends one record per k
# to BENCH_RECORDS. Skipped with a message when the broker does not start.
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh
GQ=${GROUP_QUERY:-agg}
case "$GQ" in
  agg) WHAT="crash query"; NDEF=3000000; X=0 ;;
  wjoin) WHAT="window join"; NDEF=3000000; X=1 ;;
  ijoin) WHAT="interval join"; NDEF=3000000; X=1 ;;
  ijagg) WHAT="interval join per window"; NDEF=3000000; X=1 ;;
  changes) WHAT="crash count per user (no window, EMIT CHANGES)"; NDEF=2000000; X=0 ;;
  *) echo "GROUP_QUERY must be agg, wjoin, ijoin, ijagg or changes; got '$GQ'"; exit 2 ;;
esac
if [ "$GQ" = agg ] || [ "$GQ" = changes ]; then N=${N_GROUP_AGG:-}; else N=${N_GROUP_JOIN:-}; fi
if [ "$BENCH_QUICK" = 1 ]; then N=${N:-200000}; else N=${N:-$NDEF}; fi
P=$(( 12 * ((N + 249999) / 250000) ))
# (an aggregation without a window moves its state in 64 slices: P divides 64)
[ "$GQ" = changes ] && P=64
NS=$(( N / 50 ))
KS=${GROUP_KS:-1 2 3}
WL="$WHAT, Kafka group $(human "$N")"
T=$(mktemp -d)
topics=events,small
[ "$X" = 1 ] && topics="$topics,clicks,smallc"
for k in $KS; do for r in $(seq 0 $((REPEAT - 1))); do topics="$topics,a$k.$r-$X-repartition,s$k.$r-$X-repartition"; done; done
[ "$GQ" = changes ] && for k in $KS; do for r in $(seq 0 $((REPEAT - 1))); do topics="$topics,a$k.$r-1-changelog,s$k.$r-1-changelog"; done; done
start_broker "group_agg ($GQ)" "$topics" "$P"
echo "== group mode, $WHAT through the repartition topic: broker $B, $P partitions, $N events$([ "$X" = 1 ] && echo " and $((N / 5)) clicks"), k = $KS (best of $REPEAT; $(nproc) cores)"

produce="events:$N:1 small:$NS:1"
[ "$X" = 1 ] && produce="$produce clicks:$((N / 5)):2 smallc:$((NS / 5)):2"
for t in $produce; do
  IFS=: read -r topic count seed <<<"$t"
  "$SLUICE" -q --set parallelism=1 -e "
    CREATE STREAM gen ($COLS) WITH (connector = 'logs', count = '$count', users = '1000', seed = '$seed', 'out-of-orderness' = '5s');
    CREATE SINK t WITH (connector = 'kafka', topic = '$topic', format = 'json', key = 'user_id',
                        'properties.bootstrap.servers' = '$B');
    INSERT INTO t SELECT ts, user_id, level, event FROM gen;" 2> "$T/produce.err" \
    || { echo "skipping group_agg ($GQ): producing failed: $(head -c 300 "$T/produce.err")"; exit 0; }
done

src() {   # TOPIC [STREAM]: the stream over it
  echo "CREATE STREAM ${2:-logs} (ts TIMESTAMP(3), user_id BIGINT, level VARCHAR, event VARCHAR,
    WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
  WITH (connector = 'kafka', topic = '$1', format = 'json', 'properties.bootstrap.servers' = '$B',
        'scan.bounded.mode' = 'latest-offset',
        'properties.session.timeout.ms' = '3000', 'properties.heartbeat.interval.ms' = '500');"
}
case "$GQ" in
  wjoin) QUERY="SELECT l.ts, l.user_id, c.ts AS click_ts, c.event
FROM TUMBLE(logs, ts, INTERVAL '10' SECOND) l JOIN TUMBLE(clicks, ts, INTERVAL '10' SECOND) c
  ON l.user_id = c.user_id AND l.window_start = c.window_start AND l.window_end = c.window_end
WHERE l.level = 'CRITICAL' AND l.event = 'crash';" ;;
  ijoin) QUERY="SELECT l.ts, l.user_id, c.ts AS click_ts, c.event
FROM logs l JOIN clicks c ON l.user_id = c.user_id AND l.ts BETWEEN c.ts - INTERVAL '2' SECOND AND c.ts + INTERVAL '2' SECOND
WHERE l.level = 'CRITICAL' AND l.event = 'crash';" ;;
  ijagg) QUERY="SELECT window_start, user_id, COUNT(*) AS pairs, MAX(click_ts) AS last_click
FROM TUMBLE((SELECT l.ts, l.user_id, c.ts AS click_ts FROM logs l JOIN clicks c
  ON l.user_id = c.user_id AND l.ts BETWEEN c.ts - INTERVAL '2' SECOND AND c.ts + INTERVAL '2' SECOND
  WHERE l.level = 'CRITICAL' AND l.event = 'crash'), ts, INTERVAL '10' SECOND)
GROUP BY window_start, window_end, user_id;" ;;
  changes) QUERY="SELECT user_id, COUNT(*) AS crashes, MAX(ts) AS last_crash FROM logs
WHERE level = 'CRITICAL' AND event = 'crash' GROUP BY user_id EMIT CHANGES;" ;;
esac
if [ "$X" = 1 ]; then
  echo "$(src events) $(src clicks clicks) $QUERY" > "$T/q.sql"
  echo "$(src small) $(src smallc clicks) $QUERY" > "$T/qs.sql"
else
  echo "$(src events) $QUERY" > "$T/q.sql"
  echo "$(src small) $QUERY" > "$T/qs.sql"
fi
"$SLUICE" -q --format csv --set parallelism=1 --progress "$T/want.progress" -f "$T/q.sql" 2> "$T/want.err" \
  | tail -n +2 | LC_ALL=C sort > "$T/want.csv"
"$SLUICE" -q --format csv --set parallelism=1 --progress "$T/small.progress" -f "$T/qs.sql" > /dev/null 2>&1
C=$(wc -l < "$T/want.csv")
if [ "$C" -eq 0 ]; then echo "skipping group_agg ($GQ): the single read found no row: $(head -c 300 "$T/want.err")"; exit 0; fi
inputs() { python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]["sluice"]["totalInputRows"])' "$1" 2>/dev/null || echo 0; }
NIN=$(inputs "$T/want.progress"); NSIN=$(inputs "$T/small.progress")
echo "expected: $C rows, from one plain bounded read of $NIN events"
if [ "$X" = 0 ] && { [ "$NIN" -lt "$N" ] || [ "$NSIN" -lt "$NS" ]; }; then
  echo "   (the broker kept $NIN of $N events and $NSIN of $NS: it drops the oldest beyond 5 MB a partition; the rates count those kept)"
fi

python3 - "$SLUICE" "$T" "$NIN" "$C" "$REPEAT" "$WL" "$BENCH_RECORDS" "$KS" "$P" "$NSIN" <<'EOF'
import json, os, subprocess, sys, time

sluice, T, N, C, repeat, wl, records, ks, P, NS = sys.argv[1:]   # N, NS: the events kept
N, C, repeat, P, NS = int(N), int(C), max(1, int(repeat)), int(P), int(NS)
ks = [int(k) for k in ks.split()]
TIMEOUT = float(os.environ.get("GROUP_TIMEOUT", 120 + N / 20_000))   # seconds per run before giving up

def progress(path):                 # the last report's sluice totals
    last = {}
    try:
        for line in open(path):
            if line.strip():
                last = json.loads(line).get("sluice", {})
    except (OSError, ValueError):
        pass
    return last

def stall(k, r, pre, pids):
    """A run that did not end: what each instance still running was doing —
    its last progress (watermark, share of the group) and, with gdb, its
    threads' stacks and its query's state (bench/lib/stall_state.py) — into
    bench/results/stall-<group>.txt, for a report."""
    path = f"bench/results/stall-{pre}{k}.{r}-{os.getpid()}.txt"
    os.makedirs("bench/results", exist_ok=True)
    with open(path, "w") as f:
        for i in range(k):
            last = progress(f"{T}/{pre}{k}.{r}.{i}.progress")
            f.write(f"== instance {i}: last progress {json.dumps(last)[:2000]}\n")
        for pid in pids:
            f.write(f"== pid {pid}\n")
            f.flush()
            try:
                subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"], stdout=f,
                               stderr=subprocess.STDOUT, timeout=60)
                f.write(f"== pid {pid}: what it waits for (bench/lib/stall_state.py)\n")
                f.flush()
                subprocess.run(["gdb", "-p", str(pid), "-batch", "-x", "bench/lib/stall_state.py"], stdout=f,
                               stderr=subprocess.STDOUT, timeout=120)
            except (OSError, subprocess.SubprocessError) as e:
                f.write(f"(no stacks: {e})\n")
    print(f"k={k} run {r}: the instances still running are described in {path}")

def run(k, r, pre="a", q="q.sql", n=N):
    procs, t0 = [], time.monotonic()
    for i in range(k):
        d = f"{T}/{pre}{k}.{r}.{i}"
        procs.append(subprocess.Popen(
            [sluice, "-q", "--group", f"{pre}{k}.{r}", "--state-dir", d + ".state", "--set", "parallelism=1",
             "--set", f"deployment.partitions={P}", "--set", "checkpoint.interval=500ms",
             "--format", "csv", "--progress", d + ".progress",
             "-f", f"{T}/{q}"],
            stdin=subprocess.DEVNULL, stdout=open(d + ".csv", "wb"), stderr=open(d + ".err", "wb")))
    cpu, rss, exits, late = 0.0, 0, {}, False
    t_end = None
    while len(exits) < k:   # wait4 (not Popen.wait): each one's CPU time and peak RSS
        for p in procs:
            if p.pid in exits:
                continue
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == 0:
                continue
            exits[p.pid] = os.waitstatus_to_exitcode(status)
            cpu += ru.ru_utime + ru.ru_stime
            rss = max(rss, ru.ru_maxrss * 1024)
        if len(exits) == k:
            t_end = time.monotonic()
            break
        if time.monotonic() - t0 > TIMEOUT:
            late = True
            stall(k, r, pre, [p.pid for p in procs if p.pid not in exits])
            for p in procs:
                if p.pid not in exits:
                    os.kill(p.pid, 9)
            continue
        time.sleep(0.02)
    exits = [exits[p.pid] for p in procs]
    if late:
        print(f"k={k} run {r} ({q}): not done within {TIMEOUT:.0f} s: "
              f"{open(f'{T}/{pre}{k}.{r}.0.err').read()[-300:]}")
        return None
    lasts = [progress(f"{T}/{pre}{k}.{r}.{i}.progress") for i in range(k)]
    rows = [max(0, sum(1 for _ in open(f"{T}/{pre}{k}.{r}.{i}.csv", "rb")) - 1) for i in range(k)]
    return dict(k=k, r=r, total=t_end - t0, cpu=cpu, rss=rss, rows=rows, exits=exits,
                reread=sum(l.get("totalInputRows", 0) for l in lasts) - n,
                replayed=sum(l.get("replayedRows", 0) for l in lasts),
                late=sum(l.get("lateRowsTotal", 0) for l in lasts))

best, base = {}, {}
for k in ks:
    for r in range(repeat):
        x = run(k, r)
        if x is not None:
            print(f"   k={k} run {r}: {x['total']:.2f} s", flush=True)
        if x is not None and (k not in best or x["total"] < best[k]["total"]):
            best[k] = x
        y = run(k, r, "s", "qs.sql", NS)
        if y is not None and (k not in base or y["total"] < base[k]["total"]):
            base[k] = y

print(f"{'k':>2} {'total s':>8} {'fixed s':>7} {'work s':>7} {'events/s':>9} {'speed-up':>8} {'CPU s':>6} "
      f"{'RSS MB':>6} {'reread':>6} {'replayed':>8} {'late':>6}  rows per instance (exit status)")
rate1 = None
for k, x in sorted(best.items()):
    fixed = base[k]["total"] if k in base else 0.0
    work = x["total"] - fixed
    # the fixed part varies by seconds (a rebalance more or less): when it
    # is not clearly below the total, the work cannot be told from it
    measured = work >= 0.25 * x["total"]
    rate = (N - NS) / work if measured else None
    if k == 1:
        rate1 = rate
    up = f"{rate / rate1:.2f}x" if rate and rate1 else "-"
    rates = f"{rate / 1e6:8.2f}M" if rate else f"{'-':>9}"
    print(f"{k:>2} {x['total']:8.2f} {fixed:7.2f} {max(work, 0):7.2f} {rates} {up:>8} {x['cpu']:6.2f} "
          f"{x['rss'] / 2**20:6.0f} {x['reread']:6d} {x['replayed']:8d} {x['late']:6d}  "
          f"{' '.join(map(str, x['rows']))} ({' '.join(map(str, x['exits']))})")
    if not measured:
        print(f"   (k = {k}: the fixed part, {fixed:.2f} s, is not clearly below the total: no rate; run again "
              f"or with a larger {'N_GROUP_AGG' if os.environ.get('GROUP_QUERY', 'agg') in ('agg', 'changes') else 'N_GROUP_JOIN'})")
        continue
    with open(records, "a") as f:
        f.write(json.dumps(dict(workload=wl, engine="sluice", threads=k, rows=N - NS, wall_s=work,
                                cpu_s=x["cpu"], peak_rss_bytes=x["rss"], runs=repeat, total_s=x["total"],
                                fixed_s=fixed,
                                note=f"{k} --group instances (parallelism 1 each), the repartition topic "
                                     f"between them; wall = (start to every instance exited) minus the "
                                     f"same over a topic of N/50 events (the group's join and end); "
                                     f"best of runs")) + "\n")
print("total s: start → every instance exited (a bounded read in group mode ends once every partition of the "
      "repartition topic is done); fixed s: the same k over a topic of N/50 events (the mock coordinator's "
      "~3 s first assignment, the end's bookkeeping); work s = total − fixed, for the other 49/50 of the "
      "events; CPU s, RSS: the instances over their lives (N run)")

def final(lines):
    # EMIT CHANGES: op,user_id,crashes,… rows; each user's row with the
    # largest count (counts only grow) is its final one, whoever emitted it
    last = {}
    for l in lines:
        c = l.split(b",")
        if len(c) > 2 and c[2].isdigit() and (c[1] not in last or int(c[2]) > last[c[1]][0]):
            last[c[1]] = (int(c[2]), l.split(b",", 1)[1])
    return sorted(row for _, row in last.values())

changes = os.environ.get("GROUP_QUERY", "agg") == "changes"
want = sorted(open(f"{T}/want.csv", "rb").read().splitlines())
if changes:
    want = final(want)
    C = len(want)
bad = []
for k, x in sorted(best.items()):
    got = []
    for i in range(k):
        got += open(f"{T}/a{k}.{x['r']}.{i}.csv", "rb").read().splitlines()[1:]
    if changes:
        got = final(got)
    if sorted(got) != want:
        bad.append(f"k={k}: {len(got)} rows, {len(set(got) - set(want))} unexpected, "
                   f"{len(set(want) - set(got))} missing")
msg = (f"{wl}: the group's rows equal one plain read's ({C}) at k = {', '.join(map(str, sorted(best)))}"
       if not bad and best else
       f"{wl}: the group's rows DIFFER from one plain read's: {'; '.join(bad) or 'no run finished'}")
print(msg)
with open(records, "a") as f:
    f.write(json.dumps({"check": msg}) + "\n")
EOF

#!/usr/bin/env bash
# Spilling state to disk: what state.memory costs in time and saves in
# memory. Two queries over the logs generator (N_SPILL events, 2M, of
# SPILL_USERS users, 500k), at parallelism SPILL_P (2):
#   windowed      COUNT(*) per (10-minute tumbling window, user): ~350k
#                 groups per window, 3-4 windows
#   non-windowed  COUNT(*), MAX(event) per user (a changelog): ~490k groups
# each with no limit (state.memory 512MB, the default: nothing spills), 16MB
# and 1MB. For each run: wall s, CPU s (user+sys of the process and its
# threads), peak RssAnon (heap: what spilling saves), peak RssFile (mostly
# LevelDB's mmapped table files — page cache the kernel can drop, reported
# apart) and peak VmRSS, sampled from /proc/PID/status every 50 ms, and the
# largest numRowsSpilled of the --progress samples; then per query the ratios
# to the run without a limit (slowdown = wall ÷ wall, memory saved = 1 −
# anon ÷ anon). The temporary spill store goes to SPILL_TMPDIR (default
# $TMPDIR, else /tmp): put it on the disk you mean to measure.
# Also the floor: the same source through a stateless filter that keeps no
# row (what the process holds without any state: batches, channels, the
# runtime). One run per setting (SPILL_REPEAT=N: best of N by wall time).
# Appends one record per run to BENCH_RECORDS (bench/run.sh's table: its
# peak RSS column is VmRSS; peak_anon_bytes/peak_file_bytes are extra
# fields). A benchmark, not a test: it never fails on speed.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh

if [ "$BENCH_QUICK" = 1 ]; then N_SPILL=${N_SPILL:-500000}; SPILL_USERS=${SPILL_USERS:-200000}
else N_SPILL=${N_SPILL:-2000000}; SPILL_USERS=${SPILL_USERS:-500000}; fi
SPILL_P=${SPILL_P:-2}
SPILL_REPEAT=${SPILL_REPEAT:-1}
SPILL_LIMITS=${SPILL_LIMITS:-"512MB 16MB 1MB"}
export TMPDIR=${SPILL_TMPDIR:-${TMPDIR:-/tmp}}

DDL="CREATE STREAM logs (ts TIMESTAMP, user_id BIGINT, level VARCHAR, event VARCHAR,
                         WATERMARK FOR ts AS ts - INTERVAL '10' SECOND)
     WITH (connector = 'logs', count = '$N_SPILL', users = '$SPILL_USERS', seed = '1', 'out-of-orderness' = '1s');"
QW="SELECT window_start, user_id, COUNT(*) AS n FROM TUMBLE(logs, ts, INTERVAL '10' MINUTE)
    GROUP BY window_start, window_end, user_id;"
QN="SELECT user_id, COUNT(*) AS n, MAX(event) AS e FROM logs GROUP BY user_id;"

echo "== spilling state (sluice $($SLUICE --version | cut -d' ' -f2), $(nproc) cores, $(human "$N_SPILL") events," \
     "$(human "$SPILL_USERS") users, parallelism $SPILL_P, spill store under $TMPDIR, best of $SPILL_REPEAT)"
python3 - "$SLUICE" "$BENCH_RECORDS" "$N_SPILL" "$SPILL_P" "$SPILL_REPEAT" "$SPILL_LIMITS" \
  "$DDL SELECT user_id FROM logs WHERE user_id < 0;" "windowed|$DDL $QW" "non-windowed|$DDL $QN" <<'PY'
import json, os, sys, tempfile, time

sluice, records, n, p, repeat, limits, floor_sql = sys.argv[1:8]
n, p, repeat, limits = int(n), int(p), max(1, int(repeat)), limits.split()
queries = [a.split("|", 1) for a in sys.argv[8:]]

def status(pid):
    """RssAnon, RssFile, VmRSS of pid in bytes (None once it is gone)."""
    try:
        f = {}
        for l in open(f"/proc/{pid}/status"):
            k, _, v = l.partition(":")
            if k in ("RssAnon", "RssFile", "VmRSS"):
                f[k] = int(v.split()[0]) * 1024
        return f
    except (OSError, ValueError):
        return None

def run(sql, limit):
    prog = tempfile.NamedTemporaryFile(prefix="spill-bench", suffix=".json", delete=False).name
    errf = tempfile.NamedTemporaryFile(prefix="spill-bench", suffix=".err", delete=False).name
    cmd = [sluice, "-q", "--format", "csv", "--set", f"parallelism={p}", "--set", f"state.memory={limit}",
           "--progress", prog, "-e", sql]
    peak = dict(RssAnon=0, RssFile=0, VmRSS=0)
    t0 = time.perf_counter()
    with open(os.devnull, "wb") as out, open(errf, "wb") as err:
        pid = os.fork()
        if pid == 0:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.execv(sluice, cmd)
        while True:
            done, st, ru = os.wait4(pid, os.WNOHANG)
            if done:
                break
            s = status(pid)
            if s:
                for k in peak:
                    peak[k] = max(peak[k], s.get(k, 0))
            time.sleep(0.05)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(st)
    msg = open(errf, errors="replace").read()
    os.unlink(errf)
    if rc != 0:
        sys.exit(f"spill bench: sluice exited with {rc} (state.memory={limit}): {msg[:300]}")
    spilled = 0
    for l in open(prog):
        if l.strip():
            j = json.loads(l)
            spilled = max(spilled, sum(o.get("numRowsSpilled", 0) for o in j.get("stateOperators") or []))
    os.unlink(prog)
    return dict(wall=wall, cpu=ru.ru_utime + ru.ru_stime, anon=peak["RssAnon"], file=peak["RssFile"],
                rss=peak["VmRSS"], spilled=spilled)

mb = lambda b: b / 1048576
f = run(floor_sql, limits[0])
print(f"floor (a stateless filter over the same source): wall {f['wall']:.2f} s, anon {mb(f['anon']):.1f} MB, "
      f"file {mb(f['file']):.1f} MB, RSS {mb(f['rss']):.1f} MB")
print(f"{'query':<13} {'state.memory':>12} {'wall s':>8} {'CPU s':>7} {'anon MB':>8} {'file MB':>8} "
      f"{'RSS MB':>7} {'spilled':>9} {'slowdown':>9} {'anon saved':>10}")
for name, sql in queries:
    base = None
    for limit in limits:
        best = None
        for _ in range(repeat):
            r = run(sql, limit)
            if best is None or r["wall"] < best["wall"]:
                best = r
        r = best
        if base is None:
            base = r
        slow = r["wall"] / base["wall"]
        saved = 1 - r["anon"] / base["anon"] if base["anon"] else 0
        print(f"{name:<13} {limit:>12} {r['wall']:8.2f} {r['cpu']:7.2f} {mb(r['anon']):8.1f} {mb(r['file']):8.1f} "
              f"{mb(r['rss']):7.1f} {r['spilled']:>9} {slow:8.2f}x {saved * 100:9.0f}%")
        rec = dict(workload=f"spill: {name}, {n // 1000}k events, state.memory={limit}", engine="sluice",
                   threads=p, rows=n, wall_s=r["wall"], cpu_s=r["cpu"], peak_rss_bytes=r["rss"], runs=repeat,
                   peak_anon_bytes=r["anon"], peak_file_bytes=r["file"], spilled_rows_peak=r["spilled"],
                   slowdown=slow, anon_saved=saved,
                   note="whole process; peak RssAnon/RssFile/VmRSS sampled every 50 ms; "
                        f"ratios vs state.memory={limits[0]}")
        with open(records, "a") as f:
            f.write(json.dumps(rec) + "\n")
PY

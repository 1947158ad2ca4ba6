#!/usr/bin/env python3
"""Turn bench records (JSON lines written by bench/*.sh) into the results table.

  report.py RECORDS [OUT.json]

Prints one table — workload, engine, threads, rows, wall s, CPU s, rows/s,
rows/s per core (rows/s ÷ threads), rows per CPU-second, peak RSS, p50/p99
latency where measured (ms, watermark → emitted row), and sluice/peer:
sluice's rows/s per core at the same workload and thread count divided by
the peer's (> 1 means sluice is faster) — then the checks (answers agree),
the parallelism ratios (sluice's rows/s at parallelism 2 ÷ at 1, per
workload), the state per (window, key), and every target of issue 10 with
the figure it is judged on. Writes all of it, with the machine and its load
average, as JSON to OUT.json (bench/results/latest.json).

Record kinds (JSON lines): a measurement (workload, engine, threads, rows,
wall_s, cpu_s, peak_rss_bytes, runs, note[, latency_p50_ms, latency_p99_ms]),
{"check": text}, {"state": {...}} (bench/crash.sh).
"""
import datetime, json, os, platform, subprocess, sys

recs, checks, state = [], [], None
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        if "check" in r:
            checks.append(r["check"])
        elif "state" in r:
            state = r["state"]
        else:
            recs.append(r)
out = sys.argv[2] if len(sys.argv) > 2 else None

# sqlite3: load and query are timed apart; add their sum as an end-to-end row
by = {(r["workload"], r["engine"]): r for r in recs}
for (w, e), r in list(by.items()):
    if e == "sqlite3 (query)" and (w, "sqlite3 (load)") in by:
        l = by[(w, "sqlite3 (load)")]
        recs.append(dict(workload=w, engine="sqlite3 (load+query)", threads=1, rows=r["rows"],
                         wall_s=l["wall_s"] + r["wall_s"], cpu_s=l["cpu_s"] + r["cpu_s"],
                         peak_rss_bytes=l["peak_rss_bytes"], runs=r["runs"],
                         note=".import CSV + GROUP BY (sum of the two rows above)"))

for r in recs:
    r["rows_per_s"] = r["rows"] / r["wall_s"]
    r["rows_per_s_per_core"] = r["rows_per_s"] / r["threads"]
    r["rows_per_cpu_s"] = r["rows"] / r["cpu_s"] if r.get("cpu_s") else None
sluice = {(r["workload"], r["threads"]): r for r in recs if r["engine"] == "sluice"}
for r in recs:
    s = sluice.get((r["workload"], r["threads"]))
    r["ratio_sluice_over_peer"] = (s["rows_per_s_per_core"] / r["rows_per_s_per_core"]
                                   if s and r["engine"] != "sluice" else None)

def cpu_model():
    try:
        for l in open("/proc/cpuinfo"):
            if l.startswith("model name"):
                return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"

def sluice_version():
    try:
        return subprocess.run([os.path.join(os.environ.get("BUILD", "build"), "sluice"), "--version"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"

machine = dict(nproc=os.cpu_count(), cpu=cpu_model(), kernel=platform.release(),
               loadavg_at_end=os.getloadavg(),
               sluice=sluice_version(), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))

def m(x):
    return f"{x / 1e6:.2f}M"

hdr = ["workload", "engine", "threads", "rows", "wall s", "CPU s", "rows/s", "rows/s/core",
       "rows/CPU-s", "peak RSS MB", "p50/p99 ms", "sluice/peer"]
table = []
for r in recs:
    table.append([r["workload"], r["engine"], str(r["threads"]), str(r["rows"]),
                  f"{r['wall_s']:.3f}", f"{r['cpu_s']:.3f}" if r.get("cpu_s") is not None else "-",
                  m(r["rows_per_s"]), m(r["rows_per_s_per_core"]),
                  m(r["rows_per_cpu_s"]) if r["rows_per_cpu_s"] else "-",
                  f"{r['peak_rss_bytes'] / 2**20:.0f}" if r.get("peak_rss_bytes") else "-",
                  f"{r['latency_p50_ms']:.2f}/{r['latency_p99_ms']:.2f}" if r.get("latency_p99_ms") is not None else "-",
                  f"{r['ratio_sluice_over_peer']:.2f}x" if r["ratio_sluice_over_peer"] else "-"])
w = [max(len(h), *(len(t[i]) for t in table)) if table else len(h) for i, h in enumerate(hdr)]
right = set(range(2, len(hdr)))
fmt = lambda row: "| " + " | ".join(c.rjust(w[i]) if i in right else c.ljust(w[i]) for i, c in enumerate(row)) + " |"
print(f"\n== results ({machine['sluice']}, {machine['nproc']} cores, {machine['cpu']}, {machine['date']})")
print(fmt(hdr))
print("|" + "|".join(("-" * (w[i] + 1) + ":") if i in right else ("-" * (w[i] + 2)) for i in range(len(hdr))) + "|")
for t in table:
    print(fmt(t))
for c in checks:
    print(c)

# ---- parallelism 2 ÷ 1 ----------------------------------------------------------
scaling = []
for (w, t), r in sluice.items():
    if t == 1 and (w, 2) in sluice and not w.startswith("JSON decode"):
        two = sluice[(w, 2)]
        scaling.append(dict(workload=w, p1_rows_per_s=r["rows_per_s"], p2_rows_per_s=two["rows_per_s"],
                            ratio=two["rows_per_s"] / r["rows_per_s"]))
if scaling:
    print("\n== parallelism 2 vs 1 (sluice rows/s at 2 ÷ at 1; target >= 1.8x on 2 cores)")
    for x in scaling:
        print(f"  {x['workload']:<40} {x['ratio']:5.2f}x")
if state:
    print(f"\n== state per (window, key): {state['bytes_per_row_last']:.0f} bytes "
          f"({state['bytes_per_row_min']:.0f}–{state['bytes_per_row_max']:.0f} over the samples; "
          f"target <= 64) — {state['workload']}")

# ---- the targets of issue 10 -------------------------------------------------------
def get(w, e="sluice", t=1):
    return next((r for r in recs if r["workload"] == w and r["engine"] == e and r["threads"] == t), None)

targets = []
def target(name, value, goal, shown, higher=True):
    if value is None:
        targets.append(dict(target=name, value=None, goal=goal, met=None, shown="not measured"))
        return
    met = value >= goal if higher else value <= goal
    targets.append(dict(target=name, value=value, goal=goal, met=met,
                        shown=f"{shown} → {'met' if met else 'MISSED'} ({value / goal:.2f}× the target)"))

for w in sorted({r["workload"] for r in recs if r["workload"].startswith("crash query, JSON file")}):
    for t in (1, 2):
        s_, d_ = get(w, t=t), get(w, "duckdb", t)
        v = s_["rows_per_s_per_core"] / d_["rows_per_s_per_core"] if s_ and d_ else None
        target(f"{w}, {t} thread(s): sluice/DuckDB rows/s per core >= 1.5", v, 1.5, f"{v:.2f}×" if v else "")
g = get("crash query, logs generator")
target("crash query from the generator >= 30M rows/s per core (parallelism 1)",
       g["rows_per_s"] if g else None, 30e6, f"{g['rows_per_s'] / 1e6:.1f}M rows/s" if g else "")
for q, goal in (("q0", 10e6), ("q1", 10e6), ("q2", 10e6), ("q5", 2e6), ("q7", 2e6), ("q8", 2e6),
                ("q3", 2e6), ("q4", 2e6), ("q11", 2e6)):   # q3/q4/q11: no target of their own; the joins' 2M
    r = get(f"Nexmark {q}")
    extra = " (no target of its own; q5-q8's)" if q in ("q3", "q4", "q11") else ""
    target(f"Nexmark {q} >= {goal / 1e6:.0f}M events/s per core (parallelism 1){extra}", r["rows_per_s"] if r else None,
           goal, f"{r['rows_per_s'] / 1e6:.2f}M events/s" if r else "")
lat = next((r for r in recs if r.get("latency_p99_ms") is not None), None)
target("latency p99 <= 10 ms", lat["latency_p99_ms"] if lat else None, 10.0,
       f"{lat['latency_p99_ms']:.2f} ms" if lat else "", higher=False)
for x in scaling:
    if x["workload"].startswith("crash query, JSON file") or x["workload"] == "crash query, logs generator":
        target(f"{x['workload']}: parallelism 2 >= 1.8× parallelism 1", x["ratio"], 1.8, f"{x['ratio']:.2f}×")
target("state <= 64 bytes per (window, key)", state["bytes_per_row_last"] if state else None, 64.0,
       f"{state['bytes_per_row_last']:.0f} bytes" if state else "", higher=False)
print("\n== targets (issue 10)")
for x in targets:
    print(f"  {x['target']:<75} {x['shown']}")

if out:
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(dict(machine=machine, checks=checks, results=recs, scaling=scaling, state=state,
                       targets=targets), f, indent=1)
        f.write("\n")
    print(f"(written to {out})")

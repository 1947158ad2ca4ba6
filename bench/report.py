#!/usr/bin/env python3
"""Turn bench records (JSON lines written by bench/*.sh) into the results table.

  report.py RECORDS [OUT.json]

Prints one table — workload, engine, threads, rows, wall s, CPU s, rows/s,
rows/s per core (rows/s ÷ threads), rows per CPU-second, peak RSS, and
sluice/peer: sluice's rows/s per core at the same workload and thread count
divided by the peer's (> 1 means sluice is faster) — and writes the same
rows, with the machine, as JSON to OUT.json (bench/results/latest.json).
"""
import datetime, json, os, platform, subprocess, sys

recs, checks = [], []
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        (checks.append(r["check"]) if "check" in r else recs.append(r))
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
               sluice=sluice_version(), date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))

def m(x):
    return f"{x / 1e6:.2f}M"

hdr = ["workload", "engine", "threads", "rows", "wall s", "CPU s", "rows/s", "rows/s/core",
       "rows/CPU-s", "peak RSS MB", "sluice/peer"]
table = []
for r in recs:
    table.append([r["workload"], r["engine"], str(r["threads"]), str(r["rows"]),
                  f"{r['wall_s']:.3f}", f"{r['cpu_s']:.3f}" if r.get("cpu_s") is not None else "-",
                  m(r["rows_per_s"]), m(r["rows_per_s_per_core"]),
                  m(r["rows_per_cpu_s"]) if r["rows_per_cpu_s"] else "-",
                  f"{r['peak_rss_bytes'] / 2**20:.0f}" if r.get("peak_rss_bytes") else "-",
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
if out:
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(dict(machine=machine, checks=checks, results=recs), f, indent=1)
        f.write("\n")
    print(f"(written to {out})")

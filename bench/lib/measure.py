#!/usr/bin/env python3
"""Time a command REPEAT times; keep the best wall time.

  measure.py WORKLOAD ENGINE THREADS ROWS REPEAT RECORDS [--stdout FILE] -- CMD…

Wall time is around the whole process (start to exit, output written to
FILE or /dev/null); CPU s is user+sys of that process and all its threads
(getrusage of the child); peak RSS is the command's maxrss as GNU time
(/usr/bin/time) reports it, or "-" without it (python's own getrusage would
count the forking python's memory). Appends one JSON
record to RECORDS and prints a line.
"""
import json, os, resource, subprocess, sys, tempfile, time

args = sys.argv[1:]
sep = args.index("--")
head, cmd = args[:sep], args[sep + 1:]
out = "/dev/null"
if "--stdout" in head:
    i = head.index("--stdout")
    out = head[i + 1]
    del head[i:i + 2]
workload, engine, threads, rows, repeat, records = head
threads, rows, repeat = int(threads), int(rows), max(1, int(repeat))

best = None
peak = None
gnu_time = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None
tf = tempfile.NamedTemporaryFile(prefix="measure", delete=False).name
if gnu_time:
    cmd = [gnu_time, "-q", "-o", tf, "-f", "%M"] + cmd
for _ in range(repeat):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        p = subprocess.run(cmd, stdout=f)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit(f"measure: {engine} exited with {p.returncode}: {' '.join(cmd)[:200]}")
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if gnu_time:
        try:
            kb = int(open(tf).read().split()[-1])
            peak = max(peak or 0, kb * 1024)
        except (ValueError, IndexError):
            pass
    if best is None or wall < best[0]:
        best = (wall, cpu)

os.unlink(tf)
rec = dict(workload=workload, engine=engine, threads=threads, rows=rows,
           wall_s=best[0], cpu_s=best[1], peak_rss_bytes=peak, runs=repeat,
           note="whole process incl. startup and output; best of runs")
with open(records, "a") as f:
    f.write(json.dumps(rec) + "\n")
print(f"{workload:<40} {engine:<16} t={threads}  {rows:>10} rows  {best[0]:7.3f} s  "
      f"{rows / best[0] / 1e6:8.2f} M rows/s  {rows / best[1] / 1e6 if best[1] else 0:8.2f} M rows/CPU-s")

#!/usr/bin/env python3
"""Print bench records (JSON lines on stdin) one line each, like measure.py."""
import json, sys
for line in sys.stdin:
    if not line.strip():
        continue
    r = json.loads(line)
    n, wall, cpu = r["rows"], r["wall_s"], r["cpu_s"]
    per_cpu = f"{n / cpu / 1e6:8.2f} M rows/CPU-s" if cpu else ""
    print(f"{r['workload']:<40} {r['engine']:<16} t={r['threads']}  {n:>10} rows  {wall:7.3f} s  "
          f"{n / wall / 1e6:8.2f} M rows/s  {per_cpu}  ({r.get('note', '')})")

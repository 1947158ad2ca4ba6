#!/usr/bin/env bash
# Peers on the seed's crash query over the same JSON-lines files crash.sh
# reads (each of N_FILES; bench/lib/common.sh prepares them):
#   DuckDB (npm @duckdb/node-api, installed into bench/peers/ when
#     node_modules is missing), threads = 1 and 2; the timed region includes
#     read_json parsing the file (see bench/peers/duckdb_crash.mjs).
#   sqlite3 (CLI): the rows, exported once by sluice as CSV, are .import-ed
#     into a table (timed separately), then the GROUP BY query is timed with
#     .timer (load excluded) — a correctness peer more than a speed peer.
# Then checks that sluice, DuckDB and sqlite3 give the same answer.
# A peer that cannot run is skipped with a message; no number is made up.
set -uo pipefail
cd "$(dirname "$0")/.."
. bench/lib/common.sh

peers() {   # N: the peers on the N-event file
prepare_json "$1"
ans=bench/results/answers/$N_FILE
mkdir -p "$ans"
rm -f "$ans"/*.csv
WL=$FILE_WL
echo "== peers on $JSON_FILE ($N_FILE rows, best of $REPEAT)"

# --- sluice's answer (window_start,user_id,crashes; sorted) ---------------
"$SLUICE" -q --format csv --set parallelism=2 -e "$FILE_DDL $QUERY" \
  | tail -n +2 | awk -F, '{print $1","$3","$4}' | LC_ALL=C sort > "$ans/sluice.csv"

# --- DuckDB ------------------------------------------------------------------
duckdb_ok=1
if [ ! -d bench/peers/node_modules/@duckdb/node-api ]; then
  if ! command -v npm >/dev/null; then
    echo "skipping DuckDB: npm not found"; duckdb_ok=0
  else
    echo "installing @duckdb/node-api into bench/peers/ …"
    if ! log=$(cd bench/peers && npm install --no-audit --no-fund 2>&1); then
      echo "skipping DuckDB: npm install failed: $(echo "$log" | grep -m1 -i err || echo "$log" | tail -1)"
      duckdb_ok=0
    fi
  fi
fi
if [ $duckdb_ok = 1 ]; then
  if out=$(node bench/peers/duckdb_crash.mjs "$JSON_FILE" "$N_FILE" 1,2 "$REPEAT" "$ans/duckdb.csv" "$WL" 2>&1); then
    LC_ALL=C sort -o "$ans/duckdb.csv" "$ans/duckdb.csv"
    echo "$out" >> "$BENCH_RECORDS"
    echo "$out" | python3 bench/lib/show.py
  else
    echo "skipping DuckDB: the query failed: $(echo "$out" | tail -3)"
  fi
fi

# --- sqlite3 -----------------------------------------------------------------
if ! command -v sqlite3 >/dev/null; then
  echo "skipping sqlite3: sqlite3 not found (apt-get install sqlite3)"
else
  csv=bench/data/logs-$N_FILE.csv
  if [ ! -s "$csv" ]; then
    echo "preparing $csv …" >&2
    "$SLUICE" -q --format csv --set parallelism=1 -e "$FILE_DDL SELECT ts, user_id, level, event FROM logs;" > "$csv.tmp"
    mv "$csv.tmp" "$csv"
  fi
  db=bench/data/logs-$N_FILE.sqlite
  rm -f "$db"
  # load: .import of the CSV into a typed table in a fresh database file
  $MEASURE "$WL" "sqlite3 (load)" 1 "$N_FILE" 1 "$BENCH_RECORDS" -- \
    sqlite3 "$db" "CREATE TABLE logs(ts TEXT, user_id INTEGER, level TEXT, event TEXT);" \
    ".import --csv --skip 1 $csv logs"
  sq="SELECT strftime('%Y-%m-%d %H:%M:%S', (CAST(strftime('%s', ts) AS INTEGER) / 10) * 10, 'unixepoch') AS window_start,
             user_id, COUNT(*) AS crashes
      FROM logs WHERE level = 'CRITICAL' AND event = 'crash'
      GROUP BY window_start, user_id;"
  script=".mode list
.separator ,
.timer on"
  for _ in $(seq "$REPEAT"); do script="$script
.once $ans/sqlite3.csv
$sq"; done
  if timing=$(echo "$script" | sqlite3 "$db" 2>&1); then
    LC_ALL=C sort -o "$ans/sqlite3.csv" "$ans/sqlite3.csv"
    rec=$(echo "$timing" | python3 -c '
import json, re, sys
n = int(sys.argv[1])
runs = [tuple(map(float, m.groups())) for m in re.finditer(r"real ([\d.]+) user ([\d.]+) sys ([\d.]+)", sys.stdin.read())]
real, user, sy = min(runs)
print(json.dumps(dict(workload=sys.argv[2], engine="sqlite3 (query)", threads=1, rows=n,
      wall_s=real, cpu_s=user + sy, peak_rss_bytes=None, runs=len(runs),
      note="GROUP BY on the loaded table; load excluded; .timer; best of runs")))' "$N_FILE" "$WL")
    echo "$rec" >> "$BENCH_RECORDS"
    echo "$rec" | python3 bench/lib/show.py
  else
    echo "skipping sqlite3: the query failed: $timing"
  fi
fi

# --- do the answers agree? ---------------------------------------------------
python3 - "$ans" "$BENCH_RECORDS" "$WL" <<'PY'
import json, os, sys
d, records, wl = sys.argv[1], sys.argv[2], sys.argv[3]
msgs = []
answers = {e: open(os.path.join(d, f"{e}.csv")).read().splitlines()
           for e in ("sluice", "duckdb", "sqlite3") if os.path.exists(os.path.join(d, f"{e}.csv"))}
base = answers.pop("sluice")
bad = False
for e, rows in answers.items():
    if rows != base:
        bad = True
        a, b = set(base), set(rows)
        diff = sorted((a - b) | (b - a))
        where = (f"first difference {diff[0]!r} ({'only in sluice' if diff[0] in a else 'only in ' + e})"
                 if diff else "same rows, repeated differently")
        msgs.append(f"{wl}: answers differ: sluice vs {e}: {where}; sluice {len(base)} rows, {e} {len(rows)} rows")
if not bad:
    msgs.append(f"{wl}: answers agree: sluice, {', '.join(answers) or '(no peer ran)'} — {len(base)} (window, user) groups")
for m in msgs:
    print(m)
with open(records, "a") as f:
    f.write(json.dumps({"check": "; ".join(msgs)}) + "\n")
PY
}

for n in $N_FILES; do peers "$n"; done

#!/usr/bin/env bash
# The web UI in a real browser (docs/ui.md#testing): the seed's crash
# monitoring query (examples/crash_monitoring.sql, the `make demo` query on
# the built-in logs generator) runs with --ui; headless Chromium loads the
# pages and runs their script, and we check what it drew:
#   - the query page's DOM after the script ran: every chart has plotted
#     more than one point of every series (the canvases' data-points /
#     data-series, set by app.js after each draw), a second load a few
#     seconds later has more (the charts move), and the stage DAG has an SVG
#     box per stage of /api/queries/q1/plan and an arrow per exchange;
#   - the list page's DOM: q1, linked, with status running;
#   - screenshots of both pages, kept in tests/artifacts/ (git-ignored; set
#     UI_ARTIFACTS=DIR to put them elsewhere): PNGs that are not tiny and
#     not blank (distinct colours counted by decoding the PNG with zlib),
#     with the charts' lines on the query page;
#   - no uncaught JavaScript error in Chromium's console on any page load.
# Skipped (0 passed, 0 failed, a SKIP line) when no chromium is installed
# (`make deps` installs Debian's). Chromium's own stderr goes to files in
# $T, never to the test output; each run is killed after 60 s.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  echo "SKIP $0: chromium is not installed (make deps)"; echo "0 passed, 0 failed"; exit 0
fi
command -v curl >/dev/null || { echo "SKIP $0: curl is not installed (make deps)"; echo "0 passed, 0 failed"; exit 0; }
ART=${UI_ARTIFACTS:-$ROOT/tests/artifacts}
mkdir -p "$ART"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# check NAME COND-EXIT-STATUS DETAIL
check() { if [ "$2" -eq 0 ]; then _ok; else _bad "$1" "$3"; fi; }

# browser NAME ARGS... — one headless Chromium run (its own profile, its
# console on $T/NAME.log, killed after 60 s); stdout is the command's
nrun=0
browser() {
  local name=$1; shift
  nrun=$((nrun + 1))
  timeout -k 5 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
    --hide-scrollbars --mute-audio --user-data-dir="$T/profile-$nrun" \
    --enable-logging=stderr --v=0 "$@" 2>"$T/$name.log" </dev/null
}
# uncaught NAME — the console lines of run NAME that report a JS error
uncaught() { grep -E 'Uncaught|:ERROR:CONSOLE' "$T/$1.log"; }

# pngcheck FILE — "bytes colours accent-pixels": the size, the distinct
# colours, and the pixels near the charts' second series colour (#f08c00,
# used nowhere else on the pages), from the PNG decoded with zlib (8-bit
# RGB/RGBA, not interlaced)
pngcheck() {
  python3 - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, hdr = 8, b"", None
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR": hdr = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT": idat += body
    pos += 12 + n
w, h, depth, ctype, _, _, interlace = hdr
assert depth == 8 and ctype in (2, 6) and not interlace, hdr
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colours, accent, i = bytearray(stride), set(), 0, 0
targets = [(0xf0, 0x8c, 0x00)]
for _ in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3]); colours.add(px)
        if any(abs(px[0] - t[0]) + abs(px[1] - t[1]) + abs(px[2] - t[2]) < 60 for t in targets): accent += 1
    prev = line
print(len(data), len(colours), accent)
EOF
}

# ---- the detectors themselves catch what they are meant to --------------------
cat >"$T/broken.html" <<'EOF'
<!DOCTYPE html><html><body><p>x</p><script>setTimeout(function () { undefinedThing.go(); }, 10);</script></body></html>
EOF
browser selftest --virtual-time-budget=1000 --dump-dom "file://$T/broken.html" >/dev/null
uncaught selftest >/dev/null; check "the console check sees an uncaught error" $? "$(tail -c 300 "$T/selftest.log")"
browser blank --window-size=400,300 --screenshot="$T/blank.png" "about:blank" >/dev/null
read -r _ bcol _ < <(pngcheck "$T/blank.png" 2>/dev/null || echo "0 0 0")
[ "${bcol:-0}" -ge 1 ] && [ "${bcol:-0}" -le 20 ]
check "the blank check sees a blank page" $? "about:blank has ${bcol:-?} colours"

# ---- the seed's query with the UI --------------------------------------------
PORT=$(free_port)
U="http://127.0.0.1:$PORT"
"$SLUICE" -q --ui "$PORT" -f "$ROOT/examples/crash_monitoring.sql" >"$T/q.out" 2>"$T/q.err" </dev/null &
pid=$!
stop_query() { kill -INT $pid 2>/dev/null; wait $pid 2>/dev/null; }
trap 'stop_query; rm -rf "$T"' EXIT

# wait (up to 40 s) for at least 5 progress samples
n=0
for _ in $(seq 1 200); do
  n=$(curl -s "$U/api/queries/q1/progress" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
  [ "${n:-0}" -ge 5 ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.2
done
[ "${n:-0}" -ge 5 ]; check "the query publishes 5 progress samples" $? "${n:-0} samples; $(tail -c 300 "$T/q.err")"
curl -s "$U/api/queries/q1/plan" >"$T/plan.json"

# the query page, twice, a few seconds apart
browser query1 --virtual-time-budget=5000 --dump-dom "$U/queries/q1" >"$T/query1.html"
sleep 2
browser query2 --virtual-time-budget=5000 --dump-dom "$U/queries/q1" >"$T/query2.html"

# every chart has more than one point of every series, and more on the second load
python3 - "$T/query1.html" "$T/query2.html" >"$T/charts.err" 2>&1 <<'EOF'
import re, sys
def charts(path):
    html = open(path).read()
    out = {}
    for tag in re.findall(r"<canvas [^>]*>", html):
        cid = re.search(r'id="([^"]+)"', tag).group(1)
        pts = re.search(r'data-points="(\d+)"', tag)
        ser = re.search(r'data-series="([^"]*)"', tag)
        out[cid] = (int(pts.group(1)) if pts else None, ser.group(1) if ser else None)
    return out
a, b = charts(sys.argv[1]), charts(sys.argv[2])
want = ["c-rates", "c-dur", "c-state", "c-wm", "c-late"]
for c in want:
    assert c in b, "no canvas %s: %s" % (c, sorted(b))
    pts, ser = b[c]
    assert pts is not None, "%s was never drawn (no data-points)" % c
    assert pts > 1, "%s has %s points: %s" % (c, pts, ser)
    for s in ser.split(";"):
        assert int(s.rsplit(":", 1)[1]) > 1, "%s: series %s" % (c, s)
assert set(want) <= set(a), a
assert b["c-rates"][0] > (a["c-rates"][0] or 0), "the charts did not move: %s then %s" % (a["c-rates"], b["c-rates"])
assert b["c-rates"][1].startswith("input rows/s:") and "processed rows/s:" in b["c-rates"][1], b["c-rates"]
EOF
check "every chart has data and the charts move" $? "$(tail -c 400 "$T/charts.err")"

# the DAG: one SVG box per stage of the plan, one arrow per exchange, labelled
python3 - "$T/query2.html" "$T/plan.json" >"$T/dag.err" 2>&1 <<'EOF'
import json, re, sys
html, plan = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))["plan"]
svg = re.search(r'<div id="dag"[^>]*>(.*?)</div>', html, re.S)
assert svg and "<svg" in svg.group(1), "no SVG in #dag: %s" % html[:300]
svg = svg.group(1)
want = sorted(str(s["id"]) for s in plan["stages"])
got = sorted(re.findall(r'<rect class="stage" data-stage="(\d+)"', svg))
assert len(want) >= 2 and got == want, "stage boxes %s, plan stages %s" % (got, want)
for s in plan["stages"]:
    assert "Stage %d" % s["id"] in svg, "no label for stage %d" % s["id"]
edges = sorted(re.findall(r'<line class="exchange" data-from="(\d+)" data-to="(\d+)"', svg))
wante = sorted((str(i["stage"]), str(s["id"])) for s in plan["stages"] for i in s["inputs"])
assert wante and edges == wante, "exchanges %s, plan %s" % (edges, wante)
for s in plan["stages"]:
    for i in s["inputs"]:
        label = i["partitioning"] + ("(" + ", ".join(i["keys"]) + ")" if i.get("keys") else "")
        assert label in svg, "no edge label %r" % label
assert re.search(r"rows in [1-9]", svg), "no live rows in the stage boxes"
assert ">console<" in svg, "no sink box"
EOF
check "the query page draws the stage DAG" $? "$(tail -c 400 "$T/dag.err")"
grep -q 'id="status" class="st st-running">running<' "$T/query2.html"
check "the query page shows status running" $? "$(grep -o 'id="status"[^<]*' "$T/query2.html")"
grep -qE 'input rows <b>[0-9.]+[kM]?</b>' "$T/query2.html" && ! grep -q 'input rows <b>0</b>' "$T/query2.html"
check "the query page's summary has input rows" $? "$(grep -o "<div id=\"summary\".\{0,300\}" "$T/query2.html")"
grep -q '<div id="group"><p class="muted">one process (deployment.group is not set)</p>' "$T/query2.html"
check "the query page's group section says one process" $? "$(grep -o "<div id=\"group\".\{0,200\}" "$T/query2.html")"

# the list page
browser list --virtual-time-budget=500 --dump-dom "$U/" >"$T/list.html"
grep -q '<a href="/queries/q1">q1</a>' "$T/list.html" && grep -q 'class="st st-running">running<' "$T/list.html"
check "the list page lists q1 running" $? "$(head -c 400 "$T/list.html")"
grep -q 'TUMBLE(logs, ts' "$T/list.html"; check "the list page shows the SQL" $? "$(head -c 400 "$T/list.html")"

# screenshots of both pages (taken in $T, checked, then kept in $ART: a
# concurrent run in the same tree cannot swap them under the checks)
browser shot-query --virtual-time-budget=5000 --window-size=1400,1800 --screenshot="$T/ui-query.png" "$U/queries/q1" >/dev/null
browser shot-list --virtual-time-budget=500 --window-size=1400,900 --screenshot="$T/ui-list.png" "$U/" >/dev/null
for page in query list; do
  f="$T/ui-$page.png"
  if [ -s "$f" ] && read -r size ncol accent < <(pngcheck "$f" 2>"$T/png-$page.err"); then
    echo "$size $ncol $accent" >"$T/png-$page"
  else
    echo "0 0 0" >"$T/png-$page"
  fi
done
read -r size ncol accent <"$T/png-query"
[ "$size" -gt 20000 ] && [ "$ncol" -gt 20 ]
check "the query page's screenshot is drawn" $? "$ART/ui-query.png: $size bytes, $ncol colours $(tail -c 200 "$T/png-query.err")"
# the orange lines (processed rows/s, worker CPU ms) span their charts once
# there are two points: ~700 pixels each; the legends alone are ~100, and
# nothing is drawn before the first sample
[ "$accent" -gt 800 ]; check "the query page's screenshot has the chart lines" $? "$accent pixels of the line colour"
read -r size ncol accent <"$T/png-list"
[ "$size" -gt 10000 ] && [ "$ncol" -gt 20 ]
check "the list page's screenshot is drawn" $? "$ART/ui-list.png: $size bytes, $ncol colours $(tail -c 200 "$T/png-list.err")"
for f in ui-query.png ui-list.png; do if [ -s "$T/$f" ]; then cp "$T/$f" "$ART/$f"; else rm -f "$ART/$f"; fi; done
cp "$T/query2.html" "$ART/ui-query.html"

# no uncaught JS error on any load of the pages
errs=""
for r in query1 query2 list shot-query shot-list; do
  e=$(uncaught "$r" | head -1 | sed 's/^\[[^]]*\] //'); [ -n "$e" ] && errs="$errs [$r] $e"
done
[ -z "$errs" ]; check "no uncaught JavaScript error" $? "$errs"

# the query ran throughout, and Ctrl-C stops it cleanly
kill -0 $pid 2>/dev/null; check "the query still runs" $? "it exited: $(tail -c 300 "$T/q.err")"
kill -INT $pid; wait $pid; rc=$?
trap 'rm -rf "$T"' EXIT
[ $rc -eq 0 ]; check "Ctrl-C exits cleanly" $? "exit $rc: $(tail -c 300 "$T/q.err")"
finish

#!/usr/bin/env python3
"""check_grammar.py — checks on parser/grammar.y that lemon itself does not make.

    python3 parser/check_grammar.py

1. No parsing conflicts (lemon reports them, but the build would only fail
   on its exit status; this says where).
2. The %fallback trap. lemon tries a keyword's fallback to ID *before* the
   state's default reduction. So if, in some state, ID can be shifted (an
   optional alias may start here) while a non-reserved keyword K is only
   legal through a reduction (K would end the optional part, as EMIT after
   `FROM t`), then K is silently read as a name: `FROM t EMIT CHANGES` would
   alias t as "emit". Such a K must be reserved (removed from %fallback), or
   the grammar reshaped. lemon's -c report (no default actions) lists every
   reduce lookahead, which is what this check reads.

Exit status 0 when both checks pass.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
grammar = os.path.join(here, "grammar.y")
lempar = "/usr/share/lemon/lempar.c"

with tempfile.TemporaryDirectory() as tmp:
    y = os.path.join(tmp, "grammar.y")
    shutil.copy(grammar, y)
    lemon = subprocess.run(["lemon", "-c", "-s", "-T" + lempar, y],
                           capture_output=True, text=True)
    report = open(os.path.join(tmp, "grammar.out")).read()

text = open(grammar).read()
fallback = set(re.search(r"%fallback ID(.*?)\.", text, re.S).group(1).split())

problems = 0
conflicts = re.findall(r"\n\s+(\w+) .*\*\* Parsing conflict \*\*", report)
if conflicts or lemon.returncode != 0:
    print("parsing conflicts on:", ", ".join(sorted(set(conflicts))) or lemon.stderr.strip())
    problems += 1

states = re.split(r"\nState (\d+):\n", report)
for i in range(1, len(states), 2):
    number, body = states[i], states[i + 1].split("\n----")[0]
    actions = re.findall(r"^\s+(\w+) (shift-reduce|shift|reduce)\s+\d+", body, re.M)
    if not any(sym == "ID" and kind.startswith("shift") for sym, kind in actions):
        continue
    trapped = sorted({sym for sym, kind in actions if kind == "reduce" and sym in fallback})
    if trapped:
        problems += 1
        print("state %s: ID shifts here, but %s would be read as a name:" % (number, ", ".join(trapped)))
        for line in body.splitlines():
            if "::=" in line and not re.match(r"^\s+\S+ +(shift|reduce|accept)", line):
                print("    " + line.strip())

print("grammar.y: %s" % ("ok" if not problems else "%d problem(s)" % problems))
sys.exit(1 if problems else 0)

#!/usr/bin/env bash
# Module boundaries (ARCHITECTURE.md): each folder includes only what it may
# depend on. parser/ ← planner/ ← runtime/ ← shell/, and exec/ is a leaf.
source "$(dirname "$0")/lib.sh"

check_includes() {   # DIR ALLOWED-REGEX
  local dir=$1 allowed=$2 bad
  bad=$(grep -HnE '^#include "' "$dir"/*.[ch] "$dir"/*.re "$dir"/*.y 2>/dev/null \
        | grep -vE "#include \"($allowed)/" | grep -E '#include "[a-z_]+/' || true)
  if [ -z "$bad" ]; then _ok; else _bad "$dir includes only $allowed" "$bad"; fi
}

check_includes exec      'exec'
check_includes parser    'parser'
check_includes planner   'planner|parser|exec'
check_includes runtime   'runtime|planner|parser|exec'
check_includes runtime/connectors 'runtime|planner|parser|exec'

# exec/ does no I/O and starts no threads
# (comments stripped first: "/* event time (…" is prose, not a call)
bad=$(for f in exec/*.c; do
        sed -E 's://.*$::; s:/\*.*$::; s:^[[:space:]]*\*.*$::' "$f" \
          | grep -nE '\b(fopen|fread|fwrite|printf|fprintf|puts|open|read|write|pthread_create|clock_gettime|time)\s*\(' \
          | sed "s|^|$f:|"
      done | grep -vE 'snprintf|vsnprintf' || true)
if [ -z "$bad" ]; then _ok; else _bad "exec/ does no I/O, threads or clocks" "$bad"; fi

# only shell/ prints
bad=$(grep -nE '\b(printf|puts|fputs|perror)\s*\(|fprintf\s*\(\s*std(out|err)' parser/*.[ch] planner/*.[ch] runtime/*.[ch] 2>/dev/null || true)
if [ -z "$bad" ]; then _ok; else _bad "library code never prints" "$bad"; fi

# generated code is never committed
bad=$(git ls-files 2>/dev/null | grep -E '^(parser/(lexer|grammar)\.c|parser/grammar\.h|build/)' || true)
if [ -z "$bad" ]; then _ok; else _bad "no generated code in git" "$bad"; fi

# every source folder has a README
for d in parser planner exec runtime runtime/connectors shell tests examples bench; do
  if [ -f "$d/README.md" ]; then _ok; else _bad "README" "$d/README.md is missing"; fi
done

finish

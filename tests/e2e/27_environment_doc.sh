#!/bin/sh
# 27_environment_doc.sh — docs/environment.md cannot rot: every CUGUARD_*
# variable that libcuguard.so, cuguard or the pytest plugin reads (a
# lookup("CUGUARD_..") or getenv("CUGUARD_..") in shim/, analysis/ or
# tracer/, a "CUGUARD_.." literal in python/) and every one that
# `cuguard run --help` lists has a "### NAME" section there, and every
# such section names a variable that is still read.
. tests/e2e/shim_common.sh
require "$CUGUARD"
DOC=docs/environment.md

read_vars=$(grep -ohE '(lookup|getenv)\("CUGUARD_[A-Z0-9_]+"' shim/*.c analysis/*.c analysis/*/*.c tracer/*.c |
    sed 's/.*"\(CUGUARD_[A-Z0-9_]*\)"/\1/'
    # the pytest plugin names its variables as string literals
    grep -ohE '"CUGUARD_[A-Z0-9_]+"' python/*.py | tr -d '"')
read_vars=$(printf "%s\n" $read_vars | sort -u)
help_vars=$("$CUGUARD" run --help | grep -oE 'CUGUARD_[A-Z0-9_]+' | sort -u)
documented=$(sed -n 's/^### \(CUGUARD_[A-Z0-9_]*\)$/\1/p' "$DOC" | sort -u)
[ -n "$read_vars" ] || fail "found no variable read in the sources (the pattern is stale)"

for v in $(printf "%s\n" $read_vars $help_vars | sort -u); do
    echo "$documented" | grep -qx "$v" || fail "$v is read (or in run --help) but has no '### $v' in $DOC"
done
for v in $documented; do
    echo "$read_vars" | grep -qx "$v" || fail "$DOC documents $v, which nothing reads"
done
[ $failures -eq 0 ] && echo "ok: $(echo "$read_vars" | wc -l) variables read, all documented in $DOC"
finish

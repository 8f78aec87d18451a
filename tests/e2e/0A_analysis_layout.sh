#!/bin/sh
# 0A_analysis_layout.sh — the analyzer's stage folders keep data flowing one
# way: tools/check_layout.py passes on the tree, and it does catch an include
# of a later stage (planted in a copy of analysis/) and a file outside every
# stage folder.
set -u
PYTHON=${PYTHON:-python3}
fail=0
"$PYTHON" tools/check_layout.py || fail=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r analysis "$work/analysis"
cp tools/check_layout.py "$work/"
# planted: the model reads the report writer (a later stage)
printf '#include "analysis/output/report.h"\n' >>"$work/analysis/model/races.c"
if (cd "$work" && "$PYTHON" check_layout.py) >"$work/out" 2>&1; then
    echo "FAIL: an include of a later stage was not caught"
    fail=1
elif ! grep -q 'analysis/model/races.c:.*includes analysis/output/report.h' "$work/out"; then
    echo "FAIL: the planted include is not named:"
    cat "$work/out"
    fail=1
fi
# planted: a file in no stage folder
sed -i '$d' "$work/analysis/model/races.c"
: >"$work/analysis/loose.c"
if (cd "$work" && "$PYTHON" check_layout.py) >"$work/out" 2>&1 ||
    ! grep -q 'analysis/loose.c: in no stage folder' "$work/out"; then
    echo "FAIL: a file outside the stage folders was not caught"
    cat "$work/out"
    fail=1
fi
[ $fail -eq 0 ] && echo "all passed"
exit $fail

#!/bin/sh
# 4B_attrib_gate.sh — issue 13, CI: exit statuses, baseline, suppressions.
#
# On build/workloads/attrib_sites (one leak.event warning, one
# unknown-handle error; the program itself exits 0):
#   - `cuguard run --fail-on warning|error|unknown-handle` exits 66 and names
#     the matched findings on stderr; `--fail-on leak.pinned` (no match)
#     exits with the program's 0; `--error-exitcode 9` exits 9; a bad
#     --fail-on or an --error-exitcode without --fail-on is a usage error (2);
#   - `report --fail-on warning` exits 1 and names what matched;
#   - `report --baseline` of its own JSON shows no finding, of an empty
#     directory's report both;
#   - suppressions match a function name and a FILE:LINE glob of any frame;
#     --print-suppressions lists the used ones; --gen-suppressions writes a
#     file that suppresses every finding.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/attrib_sites"
PROG="$BUILD/workloads/attrib_sites"

gate() { # gate WANT_STATUS OPTIONS...
    want=$1
    shift
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run "$@" --dir "$WORK/run" -- \
        "$PROG" direct 3 >"$WORK/gate.out" 2>"$WORK/gate.err"
    rc=$?
    [ $rc -eq "$want" ] || fail "run $*: exit $rc, want $want: $(tail -n 2 "$WORK/gate.err")"
}

gate 66 --fail-on warning
grep -q '^cuguard: --fail-on matched: error unknown-handle at attrib_sites.c:[0-9]* in query_foreign$' \
    "$WORK/gate.err" || fail "--fail-on did not name the matched error: $(cat "$WORK/gate.err")"
grep -q '^cuguard: --fail-on matched: warning leak.event x3 at attrib_sites.c:[0-9]* in leak_one_event (3 tasks)$' \
    "$WORK/gate.err" || fail "--fail-on did not name the matched warning"
gate 66 --fail-on error
grep -q 'matched: warning' "$WORK/gate.err" && fail "--fail-on error named a warning"
gate 66 --no-report --fail-on unknown-handle
grep -q 'SUMMARY' "$WORK/gate.err" && fail "--no-report printed the summary"
gate 0 --fail-on leak.pinned
grep -q 'matched' "$WORK/gate.err" && fail "--fail-on leak.pinned matched something"
gate 9 --fail-on leak.event --error-exitcode 9
gate 2 --fail-on leak.nothing
gate 2 --error-exitcode 9
gate 2 --fail-on error --error-exitcode 300

report() { # report WANT_STATUS ARGS...
    want=$1
    shift
    "$CUGUARD" report "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    [ $rc -eq "$want" ] || fail "report $*: exit $rc, want $want: $(tail -n 2 "$WORK/err")"
}
rm -rf "$WORK/run"
gate 0
report 1 --fail-on warning "$WORK/run"
grep -q '^cuguard report: --fail-on matched: warning leak.event' "$WORK/err" ||
    fail "report --fail-on did not name what matched"

report 0 --format json "$WORK/run"
cp "$WORK/out" "$WORK/base.json"
report 0 --baseline "$WORK/base.json" --format json --fail-on warning "$WORK/run"
"$PYTHON" -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))["findings"]))' \
    "$WORK/out" || fail "--baseline of the same run still shows findings"
grep -q '2 finding(s) also in the baseline' "$WORK/err" || fail "--baseline did not say what it hid"
echo '{"format": "cuguard-report", "findings": []}' >"$WORK/empty.json"
report 1 --baseline "$WORK/empty.json" --fail-on error "$WORK/run"
report 2 --baseline "$WORK/nonexistent.json" "$WORK/run"
echo '{"x": 1}' >"$WORK/other.json"
report 2 --baseline "$WORK/other.json" "$WORK/run"

printf 'unknown-handle query_foreign\nleak.event *attrib_sites.c:*\n' >"$WORK/supp"
report 0 --suppress "$WORK/supp" --print-suppressions --fail-on warning "$WORK/run"
grep -q 'SUMMARY: cuguard: 0 errors, 0 warnings (2 suppressed)' "$WORK/out" ||
    fail "function / FILE:LINE suppressions did not apply: $(tail -n 1 "$WORK/out")"
grep -q '^  1 unknown-handle query_foreign$' "$WORK/err" &&
    grep -q '^  1 leak.event \*attrib_sites.c:\*$' "$WORK/err" ||
    fail "--print-suppressions: $(cat "$WORK/err")"
report 0 --gen-suppressions "$WORK/run"
cp "$WORK/out" "$WORK/gen"
grep -q '^leak.event \*.*attrib_sites.c:[0-9]*$' "$WORK/gen" || fail "gen-suppressions: $(cat "$WORK/gen")"
report 0 --suppress "$WORK/gen" --fail-on warning "$WORK/run"
grep -q '(2 suppressed)' "$WORK/out" || fail "generated suppressions do not suppress"
finish

#!/bin/sh
# 77_policy_abort_finding.sh — what CUGUARD_ON_ERROR=abort aborted for is in
# the trace and in the report.
#
# writeback --bug=foreign-handle queries a value no create returned. Under
# `cuguard run` with CUGUARD_ON_ERROR=abort the program dies with SIGABRT
# (status 134) at that query; the trace must hold the refusal and the call
# (in that order) and the report must raise the unknown-handle error at the
# watcher's line and say, under "what cuguard changed", that the program
# was aborted there.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"

CUGUARD_ON_ERROR=abort LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --no-report \
    --dir "$WORK/abort" -- "$BUILD/workloads/writeback" --bug=foreign-handle --timeout=20 \
    >"$WORK/abort.out" 2>"$WORK/abort.err"
rc=$?
[ $rc -eq 134 ] || fail "CUGUARD_ON_ERROR=abort: status $rc, expected 134 (SIGABRT)"
grep -q "^cuguard: unknown-handle: cuEventQuery of 0x" "$WORK/abort.err" ||
    fail "no abort message: $(tail -n 1 "$WORK/abort.err")"

"$CUGUARD" dump "$WORK/abort" >"$WORK/abort.dump" 2>/dev/null
refused=$(grep -n "cuEventQuery action=refused handle=" "$WORK/abort.dump" | head -n 1)
value=$(echo "$refused" | sed -n 's/.*action=refused handle=\(0x[0-9a-f]*\).*/\1/p')
line=${refused%%:*}
if [ -z "$value" ]; then
    fail "the trace has no refusal of the foreign query"
else
    call=$(grep -n "call cuEventQuery event=$value result=CUDA_ERROR_INVALID_HANDLE" \
        "$WORK/abort.dump" | head -n 1)
    if [ -z "$call" ] || [ "${call%%:*}" -le "$line" ]; then
        fail "the refused call of $value is not in the trace after its refusal"
    else
        echo "ok: the refusal of $value and the call are in the trace before the abort"
    fi
fi

"$CUGUARD" report --format json "$WORK/abort" >"$WORK/abort.json" 2>/dev/null
$PYTHON - "$WORK/abort.json" <<'PY' || fail "the JSON report lost what the abort was for"
import json, sys
doc = json.load(open(sys.argv[1]))
errors = [f for f in doc["findings"] if f["severity"] == "error"]
unknown = [f for f in errors if f["kind"] == "unknown-handle"]
assert unknown, "no unknown-handle error: %s" % [f["kind"] for f in errors]
assert "writeback_watcher.c" in (unknown[0].get("site") or ""), unknown[0].get("site")
assert doc["interventions"]["aborted"] == 1, doc["interventions"]
print("ok: the report raises unknown-handle at %s and counts the abort" % unknown[0]["site"])
PY
"$CUGUARD" report "$WORK/abort" >"$WORK/abort.txt" 2>/dev/null
grep -q "^what cuguard changed" "$WORK/abort.txt" || fail "no 'what cuguard changed' section"
grep -q "aborted the program at cuEventQuery($value)" "$WORK/abort.txt" ||
    fail "the text report does not say where the program was aborted"
grep -q "SUMMARY: cuguard: 1 error" "$WORK/abort.txt" ||
    fail "the summary does not count the error: $(grep SUMMARY "$WORK/abort.txt")"
finish

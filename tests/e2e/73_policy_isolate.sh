#!/bin/sh
# 73_policy_isolate.sh — isolate drains what a finished task left on its streams.
#
# writeback --bug=stale-stream keeps one stream across its tests and leaves
# 20 ms of work (cuLaunchHostFunc) on it at the end of each. With isolate,
# before each next task's first call the stream is synchronized: the trace
# has a drained-stream record after every task change and before any call of
# the new task on that stream, the drain waited for the leftover work, and
# the report lists the drain with the pending host function. Without the
# policy there is no drain (the check can fail). Each trace's header says
# which policies its process had.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"

for policy in none isolate; do
    opt=""
    [ $policy = isolate ] && opt="--policy isolate"
    LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report $opt --dir "$WORK/$policy" \
        -- "$BUILD/workloads/writeback" --bug=stale-stream --timeout=30 >"$WORK/$policy.out" \
        2>"$WORK/$policy.err" || fail "stale-stream ($policy) failed: $(tail -n 2 "$WORK/$policy.err")"
    "$CUGUARD" dump "$WORK/$policy" >"$WORK/$policy.dump" 2>/dev/null
done
grep -q "action=drained-stream" "$WORK/none.dump" && fail "a drain without the policy"
# The header says which policies were on (the analyzer follows what only a
# drain reports just where isolate was): none, then isolate.
grep -q '^== trace .* policies=none ' "$WORK/none.dump" ||
    fail "the header of the run without a policy does not say policies=none"
grep -q '^== trace .* policies=isolate ' "$WORK/isolate.dump" ||
    fail "the header of the isolate run does not say policies=isolate"

# After each task change, the first record naming the stream must be the drain.
$PYTHON - "$WORK/isolate.dump" <<'PY' || fail "isolate did not drain before the next task"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
stream = None
for l in lines:
    m = re.search(r"call cuStreamCreate stream=(0x[0-9a-f]+)", l)
    if m:
        stream = m.group(1)
assert stream, "no stream"
changes = [i for i, l in enumerate(lines) if " task-change " in l]
checked = 0
for i in changes[1:]:
    nxt = next((l for l in lines[i + 1:] if stream in l), None)
    if nxt is None or " call " in nxt and "cuStreamSynchronize" in nxt:
        continue
    assert "action=drained-stream" in nxt, "first use after %r: %r" % (lines[i], nxt)
    checked += 1
assert checked >= 2, checked
print("ok: %d task changes, each drained the stream before the new task used it" % checked)
PY
"$CUGUARD" report "$WORK/isolate" >"$WORK/isolate.txt" 2>/dev/null
if grep -q "drained stream .*cuLaunchHostFunc x1; waited" "$WORK/isolate.txt"; then
    echo "ok: the report lists what was drained"
else
    fail "the report does not list the drained work"
fi
ms=$(sed -n 's/.*drained stream .* waited \([0-9.]*\) ms$/\1/p' "$WORK/isolate.txt" | head -n 1)
$PYTHON -c "import sys; sys.exit(not float('${ms:-0}') >= 5)" ||
    fail "the first drain waited ${ms:-?} ms, not the leftover 20 ms of work"
finish

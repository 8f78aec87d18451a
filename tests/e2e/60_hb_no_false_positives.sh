#!/bin/sh
# 60_hb_no_false_positives.sh — correct programs produce no error and no
# warning (docs/findings.md: a false positive is a bug). Every route workload
# (direct, dlsym, procaddr, procaddr --per-thread, runtime), the writeback
# workload in C and in Python with --bug=none, each run plainly and again
# with FAKECUDA_DELAY_US=2000 (slow streams: more polls, other interleavings),
# traced by the real shim on the simulator; `cuguard report --fail-on
# warning` must exit 0 and the JSON must list no error or warning.
# Then the check is shown able to fail: a planted bug in the same workload
# must be reported.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/fakecuda/libcudart.so.13" "$BUILD/workloads/direct" "$BUILD/workloads/dlsym" \
    "$BUILD/workloads/procaddr" "$BUILD/workloads/runtime" "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built"
        exit 77
    fi
done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# check NAME DELAY_US COMMAND... — trace it, then demand a clean report.
check() {
    name=$1 delay=$2
    shift 2
    dir="$WORK/$name"
    LD_LIBRARY_PATH="$BUILD/fakecuda" FAKECUDA_DELAY_US=$delay timeout -k 5 120 \
        "$BUILD/cuguard" run --no-report --dir "$dir" -- "$@" >"$dir.out" 2>"$dir.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name exited $rc"
        tail -n 3 "$dir.err" | sed 's/^/    /'
        return
    fi
    timeout 60 "$BUILD/cuguard" report --format json "$dir" >"$dir.json" 2>"$dir.rerr"
    rc=$?
    [ $rc -eq 0 ] || { fail "$name: report exited $rc"; return; }
    if "$PYTHON" - "$dir.json" <<'PY'; then
import json, sys
doc = json.load(open(sys.argv[1]))
bad = [f for f in doc["findings"] if f["severity"] in ("error", "warning")]
for f in bad:
    print("    unexpected %s %s: %s" % (f["severity"], f["kind"], f["message"]))
if doc["diagnosis"]:
    print("    unexpected diagnosis: %r" % doc["diagnosis"])
sys.exit(1 if bad or doc["diagnosis"] or doc["summary"]["events"]["created"] == 0 else 0)
PY
        echo "ok: $name: no error or warning"
    else
        fail "$name: findings on a correct program"
    fi
    timeout 60 "$BUILD/cuguard" report --fail-on warning "$dir" >/dev/null 2>&1 ||
        fail "$name: --fail-on warning did not exit 0"
}

for delay in 0 2000; do
    check "direct-$delay" $delay "$BUILD/workloads/direct"
    check "dlsym-$delay" $delay "$BUILD/workloads/dlsym"
    check "procaddr-$delay" $delay "$BUILD/workloads/procaddr"
    check "procaddr-per-thread-$delay" $delay "$BUILD/workloads/procaddr" --per-thread
    check "runtime-$delay" $delay "$BUILD/workloads/runtime"
    check "writeback-$delay" $delay "$BUILD/workloads/writeback" --bug=none --timeout=30
    check "writeback-py-$delay" $delay "$PYTHON" tests/workloads/writeback.py --bug=none \
        --timeout 30
done

# The same check fails when the program has a bug.
LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 120 "$BUILD/cuguard" run --no-report \
    --dir "$WORK/planted" -- "$BUILD/workloads/writeback" --bug=reuse-inflight --timeout=5 \
    >/dev/null 2>&1
timeout 60 "$BUILD/cuguard" report --fail-on warning "$WORK/planted" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a planted reuse-inflight bug passed --fail-on warning"

[ $failures -eq 0 ] || exit 1
echo "ok: no false positives on correct workloads"

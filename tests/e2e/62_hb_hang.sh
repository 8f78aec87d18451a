#!/bin/sh
# 62_hb_hang.sh — writeback --bug=hang (a host function that never returns),
# in C and in Python, traced with CUGUARD_WATCHDOG=2 and killed (SIGKILL)
# once it has hung for longer than that: the report has blocked-at-exit for
# the watcher polling an event the workload recorded, and its text opens
# with a diagnosis naming the watcher, that event and the host function
# that never finished. When the trace holds watchdog stall records (the
# shim's watchdog, docs/design.md), the report must also have a stall naming the
# watcher; without them that part is reported as not checked.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "skip: $product is not built"
        exit 77
    fi
done
WORK=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

hang() { # IMPL COMMAND...
    impl=$1
    shift
    CUGUARD_DIR="$WORK/$impl" CUGUARD_WATCHDOG=2 LD_PRELOAD="$PWD/$BUILD/libcuguard.so" \
        LD_LIBRARY_PATH="$BUILD/fakecuda" "$@" >"$WORK/$impl.out" 2>"$WORK/$impl.err" &
    pid=$!
    i=0
    while ! grep -q '^test 2 begin' "$WORK/$impl.out" && [ $i -lt 150 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    grep -q '^test 2 begin' "$WORK/$impl.out" || fail "$impl: never reached test 2"
    sleep 3.5 # past the watchdog limit
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    pid=""
    stalls=$(timeout 60 "$BUILD/cuguard" dump "$WORK/$impl" | grep -c ' stall ')
    timeout 60 "$BUILD/cuguard" report --format json "$WORK/$impl" >"$WORK/$impl.json"
    [ $? -eq 0 ] || fail "$impl: report exited $?"
    timeout 60 "$BUILD/cuguard" report "$WORK/$impl" >"$WORK/$impl.txt"
    if "$PYTHON" - "$WORK/$impl.json" "$WORK/$impl.out" "$WORK/$impl.txt" "$stalls" <<'PY'; then
import json, re, sys
doc = json.load(open(sys.argv[1]))
out = open(sys.argv[2]).read()
text = open(sys.argv[3]).read().splitlines()
stalls = int(sys.argv[4])
recorded = {int(h, 16) for h in re.findall(r"call cuEventRecord handle=(0x[0-9a-f]+)", out)}
errors = []
blocked = [f for f in doc["findings"] if f["kind"] == "blocked-at-exit" and
           f["thread"] == "watcher" and int(f["handle"], 16) in recorded]
if not blocked:
    errors.append("no blocked-at-exit of the watcher on a recorded event")
else:
    event = "%#x" % int(blocked[0]["handle"], 16)
    diag = " ".join(doc["diagnosis"])
    if not ("\"watcher\"" in diag and event in diag and "host function" in diag):
        errors.append("diagnosis lacks the watcher, %s or the host function: %r"
                      % (event, doc["diagnosis"]))
if not text or not text[0].startswith("diagnosis:"):
    errors.append("the text report does not open with the diagnosis")
if stalls:
    st = [f for f in doc["findings"] if f["kind"] == "stall" and f["thread"] == "watcher"]
    if not st:
        errors.append("%d stall records but no stall finding for the watcher" % stalls)
    else:
        print("    stall:", st[0]["message"][:200])
else:
    print("    (no watchdog stall records in the trace: stall not checked)")
for e in errors:
    print("   ", e)
sys.exit(1 if errors else 0)
PY
        echo "ok: $impl hang"
    else
        fail "$impl hang"
    fi
}

hang c "$BUILD/workloads/writeback" --bug=hang
hang py "$PYTHON" tests/workloads/writeback.py --bug=hang

[ $failures -eq 0 ] || exit 1
echo "ok: the hang is diagnosed"

#!/bin/sh
# 42_report_blocked.sh — a workload killed (SIGKILL) while blocked inside
# cuEventSynchronize (build/workloads/stuck): the report has blocked-at-exit
# naming the thread, the API and the event, and the process is
# "complete": false; its leaks are still reported, saying it did not exit
# cleanly.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/stuck"; do
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

CUGUARD_DIR="$WORK/trace" CUGUARD_WATCHDOG=0 LD_PRELOAD="$PWD/$BUILD/libcuguard.so" \
    LD_LIBRARY_PATH="$BUILD/fakecuda" "$BUILD/workloads/stuck" >"$WORK/out" 2>"$WORK/err" &
pid=$!
i=0
while ! grep -q '^waiting' "$WORK/out" && [ $i -lt 100 ]; do
    sleep 0.1
    i=$((i + 1))
done
if ! grep -q '^waiting' "$WORK/out"; then
    echo "FAIL: stuck never reached its cuEventSynchronize"
    cat "$WORK/err"
    exit 1
fi
event=$(sed -n 's/^waiting event=\(0x[0-9a-f]*\).*/\1/p' "$WORK/out")
sleep 0.2 # let it enter the call
kill -9 "$pid"
wait "$pid" 2>/dev/null
pid=""

timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace" >"$WORK/report.json"
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: report exited $rc"; exit 1; }
"$PYTHON" - "$WORK/report.json" "$event" <<'PY' || exit 1
import json, sys
doc = json.load(open(sys.argv[1]))
event = int(sys.argv[2], 16)
errors = []
if doc["processes"][0]["complete"] is not False:
    errors.append("complete should be false")
hits = [f for f in doc["findings"] if f["kind"] == "blocked-at-exit"]
if not any(f["api"] == "cuEventSynchronize" and f["thread"] == "stuck-main" and
           int(f["handle"], 16) == event and f["severity"] == "error" for f in hits):
    errors.append("no blocked-at-exit on cuEventSynchronize of %#x by stuck-main: %r"
                  % (event, hits))
leaks = [f for f in doc["findings"] if f["kind"] == "leak.event"]
if not leaks or "did not exit cleanly" not in leaks[0]["message"]:
    errors.append("leak.event should say the process did not exit cleanly: %r" % leaks)
for e in errors:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
timeout 60 "$BUILD/cuguard" report "$WORK/trace" >"$WORK/report.txt"
grep -q '^error: blocked-at-exit' "$WORK/report.txt" || { echo "FAIL: text block"; exit 1; }
echo "ok: blocked-at-exit inside cuEventSynchronize, complete false"

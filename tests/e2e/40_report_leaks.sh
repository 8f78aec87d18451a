#!/bin/sh
# 40_report_leaks.sh — `cuguard report` on a workload that leaks a known
# amount (build/workloads/leaky: 37 events created, 30 destroyed; five 1 MiB
# pinned buffers, 3 freed), traced by the real shim on the simulator:
#   - JSON: events created 37 / destroyed 30 / leaked 7, pinned leaked 2 and
#     leaked_bytes 2097152, calls counted per API, process complete;
#   - text: the leak findings name the creating task and thread;
#   - `cuguard run` printed the summary on stderr (and not with --no-report);
#   - --fail-on warning exits 1, --fail-on error exits 0.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/workloads/leaky"; do
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

TASK="tests/test_leaky.py::test_leak"
PYTEST_CURRENT_TEST="$TASK (call)" LD_LIBRARY_PATH="$BUILD/fakecuda" \
    timeout -k 5 60 "$BUILD/cuguard" run --dir "$WORK/trace" -- "$BUILD/workloads/leaky" \
    >"$WORK/run.out" 2>"$WORK/run.err"
rc=$?
[ $rc -eq 0 ] || fail "leaky under cuguard run exited $rc: $(tail -n 3 "$WORK/run.err")"
grep -q 'SUMMARY: cuguard: 0 errors, 2 warnings (leak.event leaky.c:[0-9]* in leak_things, leak.pinned leaky.c:[0-9]* in leak_things)' "$WORK/run.err" ||
    fail "cuguard run did not print the summary on stderr: $(tail -n 3 "$WORK/run.err")"

timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace" >"$WORK/report.json"
rc=$?
[ $rc -eq 0 ] || fail "report --format json exited $rc"
"$PYTHON" - "$WORK/report.json" "$TASK" <<'PY' || fail "JSON report content"
import json, sys
doc = json.load(open(sys.argv[1]))
task = sys.argv[2]
errors = []
def want(what, got, expected):
    if got != expected:
        errors.append("%s: got %r, want %r" % (what, got, expected))
want("format", doc["format"], "cuguard-report")
want("version", doc["version"], 1)
ev, pin = doc["summary"]["events"], doc["summary"]["pinned"]
want("events.created", ev["created"], 37)
want("events.destroyed", ev["destroyed"], 30)
want("events.leaked", ev["leaked"], 7)
want("pinned.leaked", pin["leaked"], 2)
want("pinned.leaked_bytes", pin["leaked_bytes"], 2097152)
want("calls.cuEventCreate", doc["summary"]["calls"].get("cuEventCreate"), 37)
want("processes", len(doc["processes"]), 1)
want("complete", doc["processes"][0]["complete"], True)
leaks = [f for f in doc["findings"] if f["kind"] == "leak.event"]
want("leak.event total", sum(f["count"] for f in leaks), 7)
for f in leaks:
    want("leak.event task", f["task"], task)
    if not f["handle"].startswith("0x"):
        errors.append("handle %r" % f["handle"])
pinned = [f for f in doc["findings"] if f["kind"] == "leak.pinned"]
want("leak.pinned bytes", sum(f["bytes"] for f in pinned), 2097152)
others = [f["kind"] for f in doc["findings"] if f["kind"] not in ("leak.event", "leak.pinned")]
want("other findings", others, [])
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
PY

timeout 60 "$BUILD/cuguard" report "$WORK/trace" >"$WORK/report.txt"
rc=$?
[ $rc -eq 0 ] || fail "text report exited $rc"
block=$(sed -n '/^warning: leak.event/,/^$/p' "$WORK/report.txt")
echo "$block" | grep -q "leaky-creator" || fail "text report does not name the creating thread"
echo "$block" | grep -q "task       $TASK" || fail "text report does not name the creating task"
grep -q '^SUMMARY: cuguard: 0 errors, 2 warnings (leak.event leaky.c:[0-9]* in leak_things, leak.pinned leaky.c:[0-9]* in leak_things)$' "$WORK/report.txt" || fail "no SUMMARY line"

timeout 60 "$BUILD/cuguard" report --fail-on warning "$WORK/trace" >/dev/null
[ $? -eq 1 ] || fail "--fail-on warning should exit 1 with leaks"
timeout 60 "$BUILD/cuguard" report --fail-on error "$WORK/trace" >/dev/null
[ $? -eq 0 ] || fail "--fail-on error should exit 0 without errors"

LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 60 "$BUILD/cuguard" run --no-report \
    --dir "$WORK/quiet" -- "$BUILD/workloads/leaky" >/dev/null 2>"$WORK/quiet.err"
if grep -q SUMMARY "$WORK/quiet.err"; then
    fail "--no-report still printed the summary"
fi

if [ $failures -ne 0 ]; then
    sed -n '1,60p' "$WORK/report.txt"
    exit 1
fi
echo "ok: leak counts, task and thread, fail-on, run summary"

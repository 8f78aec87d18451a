#!/bin/sh
# 41_report_writeback.sh — `cuguard report` on the seed-scenario workload
# (build/workloads/writeback) traced by the real shim on the simulator:
#   - --bug=none: no error and no warning (--fail-on warning exits 0);
#   - --bug=leak: leak.event findings whose counts add up to the events the
#     workload created and did not destroy (from its own call lines);
#   - --bug=foreign-handle: unknown-handle on cuEventQuery, naming the
#     watcher thread and the handle the workload passed, and no api-error for
#     that call; --fail-on error exits 1.
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
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

trace_run() { # MODE — writeback --bug=MODE under cuguard run, trace in $WORK/MODE
    LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 90 "$BUILD/cuguard" run --no-report \
        --dir "$WORK/$1" -- "$BUILD/workloads/writeback" --bug="$1" --timeout=3 \
        >"$WORK/$1.out" 2>"$WORK/$1.err"
    timeout 60 "$BUILD/cuguard" report --format json "$WORK/$1" >"$WORK/$1.json"
    rc=$?
    [ $rc -eq 0 ] || fail "$1: report exited $rc"
}

# --- none -----------------------------------------------------------------
trace_run none
"$PYTHON" - "$WORK/none.json" <<'PY' || fail "none: findings"
import json, sys
doc = json.load(open(sys.argv[1]))
bad = [(f["kind"], f["message"]) for f in doc["findings"] if f["severity"] in ("error", "warning")]
for b in bad:
    print("unexpected finding:", b)
if doc["summary"]["events"]["created"] == 0:
    print("no events in the trace")
    bad = True
sys.exit(1 if bad else 0)
PY
timeout 60 "$BUILD/cuguard" report --fail-on warning "$WORK/none" >/dev/null
[ $? -eq 0 ] || fail "none: --fail-on warning should exit 0"

# --- leak -----------------------------------------------------------------
trace_run leak
created=$(grep -c '^call cuEventCreate .* result=0 ' "$WORK/leak.out")
destroyed=$(grep -c '^call cuEventDestroy .* result=0 ' "$WORK/leak.out")
"$PYTHON" - "$WORK/leak.json" $((created - destroyed)) <<'PY' || fail "leak: leak.event count"
import json, sys
doc = json.load(open(sys.argv[1]))
want = int(sys.argv[2])
got = sum(f["count"] for f in doc["findings"] if f["kind"] == "leak.event")
print("leak.event count", got, "want", want)
sys.exit(0 if want > 0 and got == want and doc["summary"]["events"]["leaked"] == want else 1)
PY

# --- foreign-handle ---------------------------------------------------------
trace_run foreign-handle
foreign=$(sed -n 's/^call cuEventQuery handle=\(0x[0-9a-f]*\) .* result=400 .*/\1/p' \
    "$WORK/foreign-handle.out" | head -n 1)
[ -n "$foreign" ] || fail "foreign-handle: the workload printed no failed cuEventQuery"
"$PYTHON" - "$WORK/foreign-handle.json" "$foreign" <<'PY' || fail "foreign-handle: unknown-handle"
import json, sys
doc = json.load(open(sys.argv[1]))
handle = int(sys.argv[2], 16)
hits = [f for f in doc["findings"] if f["kind"] == "unknown-handle"]
ok = any(f["api"] == "cuEventQuery" and f["thread"] == "watcher" and
         int(f["handle"], 16) == handle for f in hits)
errs = [f for f in doc["findings"] if f["kind"] == "api-error" and f["api"] == "cuEventQuery"]
print("unknown-handle:", [(f["api"], f["thread"], f["handle"]) for f in hits])
print("api-error on cuEventQuery:", len(errs))
sys.exit(0 if ok and not errs else 1)
PY
timeout 60 "$BUILD/cuguard" report --fail-on error "$WORK/foreign-handle" >"$WORK/fh.txt"
[ $? -eq 1 ] || fail "foreign-handle: --fail-on error should exit 1"
grep -q '^error: unknown-handle' "$WORK/fh.txt" || fail "foreign-handle: no text block"

[ $failures -eq 0 ] || exit 1
echo "ok: writeback none/leak/foreign-handle"

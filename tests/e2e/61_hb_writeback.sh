#!/bin/sh
# 61_hb_writeback.sh — each planted bug of the writeback workload (the seed
# scenario), in C and in Python, traced by the real shim on the simulator, gives
# its finding, and the diagnosis names the right thread and object:
#   shared-destroy  use-after-destroy or destroy-while-waited
#   foreign-handle  unknown-handle (the watcher, the foreign value); the
#                   watcher catches the error and exits while nothing hangs:
#                   no poller-exited (its only poll was the garbage handle)
#                   and no hang diagnosis
#   watcher-dies    poller-exited of the watcher on the event it last polled
#   reuse-inflight  pinned-reuse-while-inflight on a buffer the watcher
#                   returned unfinished
#   stale-stream    cross-task-use and pending-at-task-end on the kept stream
# (The hang is tests/e2e/62_hb_hang.sh.)
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

# run IMPL MODE — trace the workload, write $WORK/IMPL-MODE.{out,json}
run() {
    impl=$1 mode=$2 name="$1-$2"
    if [ "$impl" = c ]; then
        set -- "$BUILD/workloads/writeback" --bug="$mode" --timeout=3
    else
        set -- "$PYTHON" tests/workloads/writeback.py --bug="$mode" --timeout 3
    fi
    LD_LIBRARY_PATH="$BUILD/fakecuda" timeout -k 5 90 "$BUILD/cuguard" run --no-report \
        --dir "$WORK/$name" -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    timeout 60 "$BUILD/cuguard" report --format json "$WORK/$name" >"$WORK/$name.json"
    [ $? -eq 0 ] || fail "$name: report exited $?"
}

for impl in c py; do
    for mode in shared-destroy foreign-handle watcher-dies reuse-inflight stale-stream; do
        run "$impl" "$mode"
        if "$PYTHON" - "$mode" "$WORK/$impl-$mode.json" "$WORK/$impl-$mode.out" <<'PY'; then
import json, re, sys
mode, doc, out = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
found = doc["findings"]
def of(kind):
    return [f for f in found if f["kind"] == kind]
def hexes(pattern):
    return {int(h, 16) for h in re.findall(pattern, out)}
errors = []
diag = " ".join(doc["diagnosis"])
if mode == "shared-destroy":
    if not of("use-after-destroy") and not of("destroy-while-waited"):
        errors.append("no use-after-destroy or destroy-while-waited")
elif mode == "foreign-handle":
    foreign = hexes(r"call cuEventQuery handle=(0x[0-9a-f]+) .*result=400")
    uh = [f for f in of("unknown-handle") if int(f["handle"], 16) in foreign]
    if not uh:
        errors.append("want unknown-handle on %s" % foreign)
    pe = [f for f in of("poller-exited") if int(f["handle"], 16) in foreign]
    if pe:
        errors.append("poller-exited whose only poll was the garbage handle: %r" % pe)
    if doc["diagnosis"]:
        errors.append("a hang diagnosis while nothing hangs: %r" % doc["diagnosis"])
elif mode == "watcher-dies":
    polled = hexes(r"spin cuEventQuery handle=(0x[0-9a-f]+) .*thread=watcher")
    pe = [f for f in of("poller-exited") if f["thread"] == "watcher"]
    if not pe or int(pe[0]["handle"], 16) not in polled:
        errors.append("no poller-exited of the watcher on an event it polled %s" % polled)
    if "\"watcher\"" not in diag or "exited" not in diag:
        errors.append("diagnosis does not name the watcher: %r" % doc["diagnosis"])
elif mode == "reuse-inflight":
    returned = hexes(r"buffer (0x[0-9a-f]+) returned unfinished")
    hits = [f for f in of("pinned-reuse-while-inflight") if int(f["handle"], 16) in returned]
    if not hits or any(f["severity"] != "error" for f in hits):
        errors.append("no pinned-reuse-while-inflight on a returned buffer %s" % returned)
elif mode == "stale-stream":
    xt, pend = of("cross-task-use"), of("pending-at-task-end")
    if not xt or not pend or xt[0]["handle"] != pend[0]["handle"]:
        errors.append("want cross-task-use and pending-at-task-end on the same stream")
    elif not pend[0]["task"].endswith("test_1"):
        errors.append("pending-at-task-end should belong to test_1, not %s" % pend[0]["task"])
for e in errors:
    print("   ", e)
    for f in found:
        print("    finding:", f["kind"], f["thread"], f["handle"], f["message"][:160])
sys.exit(1 if errors else 0)
PY
            echo "ok: $impl $mode"
        else
            fail "$impl $mode"
        fi
    done
done

# The text report leads with the diagnosis (the watcher that died).
timeout 60 "$BUILD/cuguard" report "$WORK/c-watcher-dies" >"$WORK/fh.txt"
head -n 1 "$WORK/fh.txt" | grep -q '^diagnosis:' || fail "the text report does not lead with the diagnosis"
sed -n 2p "$WORK/fh.txt" | grep -q 'watcher' || fail "the diagnosis does not name the watcher"

[ $failures -eq 0 ] || exit 1
echo "ok: writeback bug modes"

#!/bin/sh
# run_tests: serial (each case waits out a watchdog limit or a --timeout)
# 3C_python_hang.sh — issue 17: the hang a CUDA trace cannot see.
#
# tests/workloads/hang_watcher.py (numba.cuda on the simulator): the
# "watcher" thread dies on cuEventQuery of a handle no create returned
# and the main thread waits in wait_all(), in pure Python. In both shapes
# (nosync: the main thread never synchronizes; sync: it synchronizes, so
# every event is complete, then waits on the counter):
#   - under `cuguard run --watchdog 2` the watchdog's hang report lists
#     "MainThread" with wait_all's file:line, the trace holds the stacks
#     (`cuguard report` after the program ended uncleanly), and the
#     diagnosis reads: culprit test -> unknown handle on cuEventQuery in
#     "watcher" at its line -> its exit -> MainThread still in wait_all;
#     in the sync shape that is a `stall` finding placed at wait_all's line;
#   - under `--watchdog 0 --timeout 5` cuguard asks for the report, ends the
#     program and exits 124, with the same report and diagnosis.
# The correct twin (shape none) gets no report, no stall and no diagnosis.
# A process holding the GIL in C code (ctypes.PyDLL calls libc sleep)
# still gets its report under --timeout, saying the stacks could not be
# read. A C program's report under --timeout has no Python section.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
"$PYTHON" -c "import numba.cuda" 2>/dev/null || { echo "skip: no numba for $PYTHON"; exit 77; }
SRC=tests/workloads/hang_watcher.py
QUERY=$(grep -n '# SITE:query$' $SRC | cut -d: -f1)
WAIT=$(grep -n '# SITE:wait$' $SRC | cut -d: -f1)
export NUMBA_CUDA_DRIVER="$(cd "$FAKE" && pwd)/libcuda.so.1"

# hang NAME WANT_RC CUGUARD_OPTIONS... -- ARGS: run the workload, check the
# hang report on stderr, the report's diagnosis, and the exit status.
hang() {
    name=$1 want=$2
    shift 2
    timeout -s KILL 60 "$CUGUARD" run --no-report --dir "$WORK/$name" "$@" \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ $rc -eq "$want" ] || fail "$name: exit status $rc, want $want: $(tail -n 3 "$WORK/$name.err")"
    grep -q '^cuguard: HANG REPORT (pid [0-9]*, ' "$WORK/$name.err" || {
        fail "$name: no hang report: $(tail -n 5 "$WORK/$name.err")"
        return
    }
    grep -A1 '^cuguard:     python thread [0-9]* "MainThread": ' "$WORK/$name.err" |
        grep -q "^cuguard:       /.*/hang_watcher.py:$WAIT wait_all\$" ||
        fail "$name: the hang report does not show MainThread in wait_all at line $WAIT:
$(grep -A4 'python threads' "$WORK/$name.err")"
    "$CUGUARD" report --format json "$WORK/$name" >"$WORK/$name.json" 2>"$WORK/$name.rerr" ||
        fail "$name: report exited $?: $(cat "$WORK/$name.rerr")"
    "$PYTHON" tests/e2e/hang_chain_check.py "$WORK/$name.json" "$QUERY" "$WAIT" ||
        fail "$name: the diagnosis does not read test -> watcher's error -> exit -> wait_all"
}

for shape in nosync sync; do
    hang "watchdog-$shape" 3 --watchdog 2 -- "$PYTHON" $SRC $shape 4
    grep -q '^hang_watcher gave up$' "$WORK/watchdog-$shape.out" ||
        fail "watchdog-$shape: the program did not run to its give-up"
    hang "timeout-$shape" 124 --watchdog 0 --timeout 5 -- "$PYTHON" $SRC $shape 60
    grep -q '^cuguard: HANG REPORT (pid [0-9]*, watchdog off): on SIGUSR2$' \
        "$WORK/timeout-$shape.err" || fail "timeout-$shape: the report was not asked by --timeout"
done
grep -q '^cuguard:   quiet after a dead poller: .*"watcher" exited .*CUDA_ERROR_INVALID_HANDLE' \
    "$WORK/watchdog-sync.err" || fail "watchdog-sync: the report does not name the dead watcher"
"$PYTHON" tests/e2e/attrib_check.py "$WORK/watchdog-sync.json" \
    "stall=hang_watcher\.py:$WAIT in wait_all" ||
    fail "watchdog-sync: no stall finding at wait_all's line"

# the correct twin
timeout -s KILL 60 "$CUGUARD" run --no-report --dir "$WORK/none" --watchdog 2 --timeout 30 -- \
    "$PYTHON" $SRC none 20 >"$WORK/none.out" 2>"$WORK/none.err"
rc=$?
[ $rc -eq 0 ] || fail "none: exit status $rc: $(tail -n 3 "$WORK/none.err")"
! grep -q 'HANG REPORT' "$WORK/none.err" || fail "none: a hang report for a correct program"
"$CUGUARD" report --format json "$WORK/none" >"$WORK/none.json" 2>/dev/null
"$PYTHON" tests/e2e/attrib_check.py "$WORK/none.json" "stall=!" || fail "none: a stall finding"
"$PYTHON" -c 'import json,sys; sys.exit(bool(json.load(open(sys.argv[1]))["diagnosis"]))' \
    "$WORK/none.json" || fail "none: a diagnosis for a correct program"

# the GIL held in C code: the report comes anyway and says so. ctypes.PyDLL
# keeps the GIL during the call; read() of an empty pipe blocks for good
# (the dump signal's handler restarts it, where sleep() would return).
GIL_HOLDER='import ctypes, os
from numba import cuda
event = cuda.event()
r, w = os.pipe()
print("holding", flush=True)
ctypes.PyDLL(None).read(r, ctypes.create_string_buffer(1), 1)'
timeout -s KILL 60 "$CUGUARD" run --no-report --dir "$WORK/gil" --watchdog 0 --timeout 3 -- \
    "$PYTHON" -c "$GIL_HOLDER" \
    >"$WORK/gil.out" 2>"$WORK/gil.err"
rc=$?
[ $rc -eq 124 ] || fail "gil: exit status $rc, want 124: $(tail -n 3 "$WORK/gil.err")"
grep -q '^holding$' "$WORK/gil.out" || fail "gil: the program did not reach its C loop"
grep -q '^cuguard:   Python stacks could not be read: the GIL is held' "$WORK/gil.err" ||
    fail "gil: the report does not say the GIL was held: $(cat "$WORK/gil.err")"
grep -q '^cuguard: end of hang report$' "$WORK/gil.err" || fail "gil: the report did not end"

# pytest-xdist: --timeout asks each worker for its report (into its trace:
# pytest captures a worker's stderr, and a killed worker never shows it)
if "$PYTHON" -c "import pytest, xdist" 2>/dev/null; then
    mkdir -p "$WORK/proj"
    cat >"$WORK/proj/test_hang.py" <<PY
import sys
sys.path.insert(0, "$PWD/tests/workloads")
import hang_watcher
import pytest


@pytest.mark.parametrize("n", [0, 1])
def test_hangs(n):
    hang_watcher.run("sync", 60)
PY
    timeout -s KILL 90 "$CUGUARD" run --no-report --dir "$WORK/xdist" --watchdog 0 --timeout 8 -- \
        "$PYTHON" -m pytest -q -p no:cacheprovider -n 2 "$WORK/proj/test_hang.py" \
        >"$WORK/xdist.out" 2>"$WORK/xdist.err"
    rc=$?
    [ $rc -eq 124 ] || fail "xdist: exit status $rc, want 124: $(tail -n 3 "$WORK/xdist.err")"
    # pytest captures the workers' stderr: the reports live in their traces
    "$CUGUARD" report --format json "$WORK/xdist" >"$WORK/xdist.json" 2>/dev/null
    n=$("$PYTHON" -c 'import json,sys; print(sum("\"MainThread\" still in wait_all at hang_watcher.py:%s" % sys.argv[2] in s for s in json.load(open(sys.argv[1]))["diagnosis"]))' "$WORK/xdist.json" "$WAIT")
    [ "$n" = 2 ] || fail "xdist: $n worker(s) diagnosed in wait_all, want 2"
else
    echo "skip (xdist case): $PYTHON lacks pytest or pytest-xdist"
fi

# a C program: the same report as before, no Python section
timeout -s KILL 60 "$CUGUARD" run --simulate --no-report --dir "$WORK/c" --watchdog 0 \
    --timeout 3 -- "$BUILD/workloads/writeback" --bug=watcher-dies --timeout=30 \
    >"$WORK/c.out" 2>"$WORK/c.err"
rc=$?
[ $rc -eq 124 ] || fail "c: exit status $rc, want 124: $(tail -n 3 "$WORK/c.err")"
grep -q '^cuguard: end of hang report$' "$WORK/c.err" || fail "c: no hang report"
! grep -qi 'python' "$WORK/c.err" || fail "c: a Python section in a C program's report"
finish

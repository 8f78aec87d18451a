#!/bin/sh
# 36_no_driver.sh — no real driver: the program gets what it gets without cuguard.
#
# With CUGUARD_LIBCUDA=/nonexistent and no libcuda on the library path, each
# route workload exits as it does without cuguard (direct cannot even start,
# the others report that the driver is missing) and nothing crashes; a
# preloaded process asking dlsym of the global scope for "cuEventCreate" gets
# NULL as without cuguard (not the shim's own export). With the simulator on the path, a bad CUGUARD_LIBCUDA gets
# one warning and the program is traced through libcuda.so.1.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct" \
    "$BUILD/workloads/dlsym" "$BUILD/workloads/procaddr" "$BUILD/workloads/runtime"

# same NAME COMMAND... : exit status with and without cuguard, no signal.
same() {
    name=$1
    shift
    env -u LD_LIBRARY_PATH timeout -k 5 60 "$@" >"$WORK/$name.plain" 2>&1
    plain_rc=$?
    env -u LD_LIBRARY_PATH CUGUARD_DIR="$WORK/t" CUGUARD_LIBCUDA=/nonexistent \
        LD_PRELOAD="$SHIM" timeout -k 5 60 "$@" >"$WORK/$name.out" 2>&1
    rc=$?
    if [ $rc -ne $plain_rc ]; then
        fail "$name: exit status $plain_rc without cuguard, $rc with"
        tail -n 3 "$WORK/$name.out" | sed 's/^/    /'
    elif [ $rc -eq 124 ] || [ $rc -gt 128 ]; then
        fail "$name: killed or timed out (status $rc) with and without cuguard"
    else
        echo "ok: $name: exit $rc as without cuguard"
    fi
}

# The runtime workload must find the simulated cudart, which then finds no driver.
same direct "$BUILD/workloads/direct"
same dlsym "$BUILD/workloads/dlsym"
same procaddr "$BUILD/workloads/procaddr"
same runtime env LD_LIBRARY_PATH="$FAKE/../nonexistent" "$BUILD/workloads/runtime"
same python-ctypes "$PYTHON" tests/workloads/writeback.py --timeout 10
same rtld-default "$PYTHON" -c 'import ctypes, sys
sys.exit(3 if hasattr(ctypes.CDLL(None), "cuEventCreate") else 0)'
[ "$(traces "$WORK/t")" -eq 0 ] || fail "a trace was written without any driver"

# A bad CUGUARD_LIBCUDA with a driver on the path: one warning, traced anyway.
CUGUARD_LIBCUDA=/nonexistent LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --no-report \
    --dir "$WORK/fallback" -- "$BUILD/workloads/direct" >"$WORK/fallback.out" 2>"$WORK/fallback.err"
rc=$?
[ $rc -eq 0 ] || fail "fallback: exit status $rc"
[ "$(grep -c '^cuguard: CUGUARD_LIBCUDA' "$WORK/fallback.err")" -eq 1 ] ||
    fail "fallback: expected one CUGUARD_LIBCUDA warning: $(cat "$WORK/fallback.err")"
[ "$(traces "$WORK/fallback")" -eq 1 ] && echo "ok: bad CUGUARD_LIBCUDA: one warning, traced" ||
    fail "fallback: no trace"
finish

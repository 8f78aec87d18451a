#!/bin/sh
# 30_routes.sh — every route into the driver lands in the shim exactly once.
#
# direct, dlsym, procaddr, procaddr --per-thread, runtime and the Python
# ctypes workload run under `cuguard run` on the simulator; `cuguard dump`
# must show each lifecycle call the workload printed, exactly once, with its
# handles and result, runtime calls marked via=runtime and not doubled
# (tests/e2e/routes_check.py compares them). A dump with one call removed
# must fail the same comparison (the check can fail).
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$FAKE/libcudart.so.13" \
    "$BUILD/workloads/direct" "$BUILD/workloads/dlsym" "$BUILD/workloads/procaddr" \
    "$BUILD/workloads/runtime"

# route NAME CHECK_FLAGS COMMAND... : run under cuguard, dump, compare.
route() {
    name=$1 flags=$2
    shift 2
    dir="$WORK/$name"
    LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --dir "$dir" -- "$@" \
        >"$dir.out" 2>"$dir.err"
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name exited $rc under cuguard"
        tail -n 5 "$dir.err" | sed 's/^/    /'
        return
    fi
    if grep -q '^cuguard:' "$dir.err"; then
        fail "$name: the shim complained:"
        grep '^cuguard:' "$dir.err" | sed 's/^/    /'
    fi
    n=$(traces "$dir")
    [ "$n" -eq 1 ] || fail "$name wrote $n trace files, expected 1"
    if ! "$CUGUARD" dump "$dir" >"$dir.dump" 2>"$dir.dump.err"; then
        fail "$name: cuguard dump rejected the trace: $(head -n 1 "$dir.dump.err")"
        return
    fi
    if $CHECK $flags "$dir.out" "$dir.dump" >"$dir.check"; then
        echo "ok: $name: $(tail -n 1 "$dir.check")"
    else
        fail "$name: dump and workload disagree:"
        sed 's/^/    /' "$dir.check" | tail -n 20
    fi
}

route direct "" "$BUILD/workloads/direct"
route dlsym "" "$BUILD/workloads/dlsym"
route procaddr "" "$BUILD/workloads/procaddr"
route procaddr-per-thread --per-thread "$BUILD/workloads/procaddr" --per-thread
route runtime --runtime "$BUILD/workloads/runtime"
route python-ctypes "" "$PYTHON" tests/workloads/writeback.py --timeout 30

# The comparison must be able to fail: drop one destroy from a good dump.
if [ -f "$WORK/direct.dump" ]; then
    awk '/ call cuEventDestroy/ && !done { done = 1; next } { print }' "$WORK/direct.dump" \
        >"$WORK/planted.dump"
    if $CHECK "$WORK/direct.out" "$WORK/planted.dump" >"$WORK/planted.check"; then
        fail "a dump missing one cuEventDestroy was accepted"
    else
        echo "ok: a dump missing one call is rejected ($(head -n 1 "$WORK/planted.check" | cut -c1-60)...)"
    fi
fi
finish

#!/bin/sh
# 3A_crash_in_driver.sh — a call that faults inside the driver leaves its record.
#
# With a fake libcuda that dereferences event handles unchecked (as the real
# driver does), `crashcall foreign` hands cuEventQuery the address of an
# unrelated object and `crashcall destroyed` a destroyed event: the process
# dies of SIGSEGV exactly as without cuguard (status 139), and the trace
# holds that cuEventQuery with result CRASHED(SIGSEGV) and the bad handle.
# With the program's own SIGSEGV handler installed first, that handler
# still runs (status 42) and the record is there too. A fault in the
# program's own code records no crash. Untraced, the statuses are the same.
. tests/e2e/shim_common.sh
CRASHDRV=$BUILD/workloads/crashdriver
require "$CUGUARD" "$SHIM" "$CRASHDRV/libcuda.so.1" "$BUILD/workloads/crashcall"

# run NAME MODE [--handler]: traced into $WORK/NAME; sets rc, out, dump.
run() {
    name=$1
    shift
    ulimit -c 0
    LD_LIBRARY_PATH=$CRASHDRV CUGUARD_DIR="$WORK/$name" LD_PRELOAD=$SHIM \
        timeout -k 5 30 "$BUILD/workloads/crashcall" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    out=$(cat "$WORK/$name.out")
    timeout 30 "$CUGUARD" dump "$WORK/$name"/*.cgt >"$WORK/$name.dump" 2>&1 ||
        fail "$name: dump failed: $(head -n 3 "$WORK/$name.dump")"
}

# untraced MODE [--handler]: the status without cuguard.
untraced() {
    (
        ulimit -c 0
        LD_LIBRARY_PATH=$CRASHDRV timeout -k 5 30 "$BUILD/workloads/crashcall" "$@" \
            >/dev/null 2>&1
    )
    echo $?
}

# crashed_record NAME HANDLE: the dump has cuEventQuery on HANDLE crashed by SIGSEGV.
crashed_record() {
    grep -q "call cuEventQuery event=$2 result=CRASHED(SIGSEGV)" "$WORK/$1.dump" ||
        fail "$1: no crashed cuEventQuery record on $2: $(grep cuEventQuery "$WORK/$1.dump" | tail -n 2)"
}

for mode in foreign destroyed; do
    run "$mode" "$mode"
    [ "$rc" -eq 139 ] || fail "$mode: exit status $rc, want 139 (SIGSEGV)"
    expected=$(untraced "$mode")
    [ "$expected" -eq 139 ] || fail "$mode untraced: exit status $expected, want 139"
    handle=$(echo "$out" | awk '{ print $NF; exit }')
    [ -n "$handle" ] || fail "$mode: the program printed no handle"
    crashed_record "$mode" "$handle"
    [ "$(grep -c 'CRASHED' "$WORK/$mode.dump")" -eq 1 ] || fail "$mode: not exactly one crash record"

    run "$mode-handler" "$mode" --handler
    [ "$rc" -eq 42 ] || fail "$mode --handler: exit status $rc, want 42 (the program's handler)"
    echo "$out" | grep -q 'handler ran' || fail "$mode --handler: the program's handler did not run"
    handle=$(echo "$out" | awk '{ print $NF; exit }')
    crashed_record "$mode-handler" "$handle"
done

for handler in "" --handler; do
    run "outside$handler" outside $handler
    want=139
    [ -n "$handler" ] && want=42
    [ "$rc" -eq "$want" ] || fail "outside$handler: exit status $rc, want $want"
    if grep -q CRASHED "$WORK/outside$handler.dump"; then
        fail "outside$handler: a fault outside the driver was recorded as a crashed call"
    fi
    grep -q 'call cuEventQuery .*result=CUDA_SUCCESS' "$WORK/outside$handler.dump" ||
        fail "outside$handler: the good query before the fault is missing"
done
finish

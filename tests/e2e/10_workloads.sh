#!/bin/sh
# 10_workloads.sh — every route workload (direct, dlsym, procaddr,
# procaddr --per-thread, runtime) runs on the simulated driver and runtime
# with LD_LIBRARY_PATH=$BUILD/fakecuda: exit 0, no error line, the data that
# came back equals the data computed on the host, and one call line for each
# lifecycle call the scenario makes.
set -u
BUILD=${BUILD:-build}
FAKE=$BUILD/fakecuda
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

for product in "$FAKE/libcuda.so.1" "$FAKE/libcudart.so.13" "$BUILD/workloads/direct" \
    "$BUILD/workloads/dlsym" "$BUILD/workloads/procaddr" "$BUILD/workloads/runtime"; do
    if [ ! -e "$product" ]; then
        echo "missing $product (run make first)"
        exit 1
    fi
done

# The runtime workload must pick up the simulated libcudart, not the toolkit's.
if ! LD_LIBRARY_PATH=$FAKE ldd "$BUILD/workloads/runtime" | grep -q "$FAKE/libcudart.so.13"; then
    fail "runtime does not resolve libcudart.so.13 to $FAKE"
fi

# check_run NAME MIN_CALLS COMMAND... — runs one workload and checks its output.
check_run() {
    name=$1 min_calls=$2
    shift 2
    out="$WORK/$name.out"
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$@" >"$out" 2>&1
    rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name exited $rc"
        sed 's/^/    /' "$out" | tail -n 20
        return
    fi
    if grep -q '^error' "$out"; then
        fail "$name printed errors:"
        grep '^error' "$out" | sed 's/^/    /'
    fi
    sums=$(sed -n 's/^checksum=\(0x[0-9a-f]*\) expected=\(0x[0-9a-f]*\)$/\1 \2/p' "$out")
    # shellcheck disable=SC2086 # two words wanted
    set -- $sums
    if [ $# -ne 2 ] || [ "$1" != "$2" ]; then
        fail "$name: checksum line missing or wrong: '$sums'"
    fi
    calls=$(grep -c '^call ' "$out")
    if [ "$calls" -lt "$min_calls" ]; then
        fail "$name printed $calls call lines, expected at least $min_calls"
    fi
    if grep '^call ' "$out" | grep -qv ' result=0 '; then
        fail "$name: a lifecycle call failed:"
        grep '^call ' "$out" | grep -v ' result=0 ' | sed 's/^/    /'
    fi
    echo "ok: $name ($calls calls, checksum $1)"
}

# 32 = every call of the driver scenario (tests/workloads/lifecycle.c);
# 34 for the runtime one (tests/workloads/runtime.c).
check_run direct 32 "$BUILD/workloads/direct"
check_run dlsym 32 "$BUILD/workloads/dlsym"
check_run procaddr 32 "$BUILD/workloads/procaddr"
check_run procaddr-per-thread 32 "$BUILD/workloads/procaddr" --per-thread
check_run runtime 34 "$BUILD/workloads/runtime"

# Every lifecycle API the shim wraps appears in the driver routes' output.
for api in cuEventCreate cuEventRecord cuEventRecordWithFlags cuEventQuery cuEventSynchronize \
    cuEventDestroy cuEventElapsedTime cuStreamCreate cuStreamCreateWithPriority \
    cuStreamDestroy cuStreamSynchronize cuStreamQuery cuStreamWaitEvent cuCtxSynchronize \
    cuMemAllocHost cuMemHostAlloc cuMemFreeHost cuMemHostRegister cuMemHostUnregister \
    cuMemcpyAsync cuMemcpyHtoDAsync cuMemcpyDtoHAsync cuLaunchHostFunc; do
    grep -q "^call $api " "$WORK/direct.out" || fail "direct never called $api"
done

# Bad input: one clear message and status 1, never a crash.
LD_LIBRARY_PATH=$FAKE timeout 10 "$BUILD/workloads/procaddr" --bogus >"$WORK/bad.out" 2>&1
rc=$?
if [ $rc -ne 1 ] || ! grep -q usage "$WORK/bad.out"; then
    fail "procaddr --bogus: exit $rc, no usage message"
fi

# Without any driver the simulated runtime reports cudaErrorInsufficientDriver
# (35), as the real one does, and the workload fails cleanly.
if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    echo "skipped the no-driver check: this machine has a system libcuda.so.1"
else
    mkdir "$WORK/nodriver"
    ln -s "$(cd "$FAKE" && pwd)/libcudart.so.13" "$WORK/nodriver/libcudart.so.13"
    LD_LIBRARY_PATH=$WORK/nodriver timeout 10 "$BUILD/workloads/runtime" >"$WORK/nodriver.out" 2>&1
    rc=$?
    if [ $rc -ne 1 ] || ! grep -q 'cudaGetDeviceCount count=0 result=35' "$WORK/nodriver.out"; then
        fail "runtime without a driver: exit $rc"
        sed 's/^/    /' "$WORK/nodriver.out"
    fi
fi

[ $failures -eq 0 ] || exit 1
echo "all workloads ran on the simulator"

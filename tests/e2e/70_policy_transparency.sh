#!/bin/sh
# 70_policy_transparency.sh — a correct program cannot tell a policy is on.
#
# Every correct workload (the route workloads direct, dlsym, procaddr,
# runtime; writeback --bug=none in C and in Python) runs without policies,
# then with each policy alone and all four together, with and without
# FAKECUDA_DELAY_US slowing every stream. Each run must give the same
# checksum and the same calls as the run without policies
# (tests/e2e/policy_calls.py compares them, handles renamed). The check must
# be able to fail: an output with one call removed is rejected.
. tests/e2e/shim_common.sh
require "$SHIM" "$FAKE/libcuda.so.1" "$FAKE/libcudart.so.13" "$BUILD/workloads/direct" \
    "$BUILD/workloads/dlsym" "$BUILD/workloads/procaddr" "$BUILD/workloads/runtime" \
    "$BUILD/workloads/writeback"
COMPARE="$PYTHON tests/e2e/policy_calls.py"
POLICIES="ownership isolate destroy sync-query ownership,isolate,destroy,sync-query"

# run NAME POLICY DELAY COMMAND...: run under the preloaded shim (not tracing).
run() {
    run_out=$1 run_policy=$2 run_delay=$3
    shift 3
    env CUGUARD_POLICY="$run_policy" FAKECUDA_DELAY_US="$run_delay" LD_PRELOAD="$SHIM" \
        LD_LIBRARY_PATH="$FAKE" timeout -k 5 120 "$@" >"$WORK/$run_out.out" 2>"$WORK/$run_out.err"
}

# workload NAME COMMAND...: baseline, then every policy, each delay.
workload() {
    name=$1
    shift
    for delay in 0 300; do
        if ! run "$name-none-$delay" "" "$delay" "$@"; then
            fail "$name (no policy, delay $delay) failed: $(tail -n 2 "$WORK/$name-none-$delay.err")"
            continue
        fi
        for policy in $POLICIES; do
            out="$name-$policy-$delay"
            if ! run "$out" "$policy" "$delay" "$@"; then
                fail "$name with $policy (delay $delay) failed: $(tail -n 2 "$WORK/$out.err")"
            elif ! $COMPARE "$WORK/$name-none-$delay.out" "$WORK/$out.out" >"$WORK/$out.cmp"; then
                fail "$name with $policy (delay $delay): $(cat "$WORK/$out.cmp")"
            elif grep -q '^cuguard:' "$WORK/$out.err"; then
                fail "$name with $policy: the shim complained: $(grep '^cuguard:' "$WORK/$out.err" | head -n 1)"
            fi
        done
        echo "ok: $name (delay $delay): $(cat "$WORK/$name-ownership,isolate,destroy,sync-query-$delay.cmp" 2>/dev/null)"
    done
}

workload direct "$BUILD/workloads/direct"
workload dlsym "$BUILD/workloads/dlsym"
workload procaddr "$BUILD/workloads/procaddr"
workload runtime "$BUILD/workloads/runtime"
workload writeback "$BUILD/workloads/writeback" --bug=none --timeout=60
workload writeback-py "$PYTHON" tests/workloads/writeback.py --bug=none --timeout=60

# The comparison can fail.
base="$WORK/direct-none-0.out"
if [ -f "$base" ]; then
    awk '/^call cuEventDestroy/ && !done { done = 1; next } { print }' "$base" >"$WORK/planted.out"
    if $COMPARE "$base" "$WORK/planted.out" >/dev/null; then
        fail "an output missing one call was accepted"
    else
        echo "ok: an output missing one call is rejected"
    fi
fi
finish

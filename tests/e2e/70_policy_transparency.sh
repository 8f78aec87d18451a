#!/bin/sh
# 70_policy_transparency.sh — a correct program cannot tell a policy is on.
#
# Every correct workload (the route workloads direct, dlsym, procaddr,
# runtime; writeback --bug=none in C and in Python) runs without policies,
# then with each policy alone and all four together, with and without
# FAKECUDA_DELAY_US slowing every stream. Each run must give the same
# checksum and the same calls as the run without policies
# (tests/e2e/policy_calls.py compares them, handles renamed). The writeback
# watcher finishes tasks in the order their events answer, which the GPU's
# timing moves with no policy on: its calls are compared as counts of each
# call (--any-order watcher), every other thread's in order. The check must
# be able to fail: an output with one call removed is rejected, and so is
# one with a watcher call's result changed, or with the producer's calls
# reordered; the watcher's reordered is accepted.
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

# workload NAME COMMAND...: baseline, then every policy, each delay, compared
# with $COMPARE $ORDER_FREE.
ORDER_FREE=
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
            elif ! $COMPARE $ORDER_FREE "$WORK/$name-none-$delay.out" "$WORK/$out.out" \
                >"$WORK/$out.cmp"; then
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
ORDER_FREE="--any-order watcher"
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

# swap_after API THREAD FILE: FILE with THREAD's first API call moved below
# that thread's next call (a reorder within one thread).
swap_after() {
    awk -v api="$1" -v thread="thread=$2" '
        held != "" && $0 ~ "^call " && $NF == thread { print; print held; held = ""; next }
        !done && $1 == "call" && $2 == api && $NF == thread { held = $0; done = 1; next }
        { print }' "$3"
}
base="$WORK/writeback-none-0.out"
if [ -f "$base" ]; then
    swap_after cuEventDestroy watcher "$base" >"$WORK/watcher-swapped.out"
    swap_after cuEventCreate writeback "$base" >"$WORK/producer-swapped.out"
    awk '!done && /^call cuEventQuery .* result=0 thread=watcher$/ {
             sub(/ result=0 /, " result=400 "); done = 1 } { print }' "$base" >"$WORK/watcher-failed.out"
    if cmp -s "$base" "$WORK/watcher-swapped.out" || cmp -s "$base" "$WORK/producer-swapped.out" ||
        cmp -s "$base" "$WORK/watcher-failed.out"; then
        fail "a planted change of the writeback output changed nothing"
    elif ! $COMPARE --any-order watcher "$base" "$WORK/watcher-swapped.out" >"$WORK/swap.cmp"; then
        fail "the watcher's calls in another order were rejected: $(cat "$WORK/swap.cmp")"
    elif $COMPARE --any-order watcher "$base" "$WORK/producer-swapped.out" >/dev/null; then
        fail "the producer's calls in another order were accepted"
    elif $COMPARE --any-order watcher "$base" "$WORK/watcher-failed.out" >/dev/null; then
        fail "a watcher call with another result was accepted"
    else
        echo "ok: the watcher's calls in another order are accepted ($(cat "$WORK/swap.cmp"));" \
            "the producer's reordered, or a watcher call's result changed, are rejected"
    fi
fi
finish

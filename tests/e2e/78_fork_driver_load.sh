#!/bin/sh
# 78_fork_driver_load.sh — a fork child never waits for the shim's driver lock.
#
# fork_driver_load forks while another thread is inside the shim's first
# driver load (slow_driver.so as CUGUARD_LIBCUDA takes 2 s in its
# constructor, under the shim's driver lock); the child then makes a CUDA
# call of its own. Whether the shim is idle (no CUGUARD_DIR), runs a policy
# without a trace, or traces, the child must complete: the workload waits
# for it up to 20 s (a hang detector) and fails if it had to kill it.
. tests/e2e/shim_common.sh
WL=$BUILD/workloads/fork_driver_load
SLOW=$(cd "$BUILD" && pwd)/workloads/slow_driver.so
require "$SHIM" "$WL" "$SLOW"

# run NAME ENV...: the workload under the preloaded shim with ENV.
run() {
    name=$1
    shift
    env "$@" CUGUARD_LIBCUDA="$SLOW" LD_PRELOAD="$SHIM" timeout -k 5 60 "$WL" --wait=20 \
        >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "^fork child exited" "$WORK/$name.out"; then
        echo "ok: $name: the fork child made its CUDA call during the driver load"
    else
        fail "$name: status $rc, $(tail -n 1 "$WORK/$name.out") $(tail -n 1 "$WORK/$name.err")"
    fi
}

run idle CUGUARD_POLICY=
run policy CUGUARD_POLICY=ownership
run traced CUGUARD_DIR="$WORK/trace"
finish

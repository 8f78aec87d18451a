#!/bin/sh
# 82_signal_resethand.sh — a fault reaches the program's handler as the kernel would send it.
#
# `hostile resethand` installs a SIGSEGV handler with SA_RESETHAND before
# any CUDA call, then faults. The handler must run exactly once and the
# process then die of SIGSEGV (139), traced as untraced (a handler that ran
# again would exit 3, one that loops would time out).
. tests/e2e/shim_common.sh
HOSTILE=$BUILD/workloads/hostile
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$HOSTILE"
ulimit -c 0
LD_LIBRARY_PATH=$FAKE timeout -k 5 30 "$HOSTILE" resethand >"$WORK/plain.out" 2>&1
plain=$?
LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/tr" LD_PRELOAD=$SHIM \
    timeout -k 5 30 "$HOSTILE" resethand >"$WORK/traced.out" 2>&1
traced=$?
[ "$plain" -eq 139 ] || fail "untraced: exit $plain, want 139"
[ "$traced" -eq 139 ] || fail "traced: exit $traced, want 139 (SIGSEGV)"
[ "$(grep -c '^handler' "$WORK/traced.out")" -eq 1 ] ||
    fail "traced: handler ran $(grep -c '^handler' "$WORK/traced.out") times, want 1"
finish

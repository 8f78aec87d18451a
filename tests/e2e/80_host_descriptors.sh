#!/bin/sh
# 80_host_descriptors.sh — cuguard never writes into the program's files.
#
# `hostile closefds` closes every descriptor from 3 up after its first CUDA
# calls and opens its own file (fd 3); `hostile dup2` puts its own file on
# every descriptor above it. Either way the program's file must hold only
# what it wrote while the trace grows by many segments; the trace stays
# readable, and where it could not go on it says "cut short" (no false
# "did not exit cleanly", no leak). The trace is mode 0600 under umask 0777.
# A traced process has its descriptor table grown past the high range at
# load (single-threaded, so the later move of the trace descriptor waits
# for no RCU grace period); an idle shim leaves it alone.
. tests/e2e/shim_common.sh
HOSTILE=$BUILD/workloads/hostile
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$HOSTILE"

for mode in closefds dup2; do
    mkdir -p "$WORK/$mode"
    (
        cd "$WORK/$mode" || exit 1
        ulimit -n 2048
        LD_LIBRARY_PATH=$OLDPWD/$FAKE CUGUARD_DIR="$WORK/$mode/tr" LD_PRELOAD=$SHIM \
            timeout -k 5 60 "$OLDPWD/$HOSTILE" "$mode" >out 2>err
    )
    rc=$?
    [ "$rc" -eq 0 ] || fail "$mode: exit $rc: $(cat "$WORK/$mode/out" "$WORK/$mode/err" | tail -n 3)"
    grep -q "own file intact" "$WORK/$mode/out" || fail "$mode: the program's file was written to"
    "$CUGUARD" report "$WORK/$mode/tr" >"$WORK/$mode/report" 2>&1 ||
        [ $? -eq 1 ] || fail "$mode: report failed: $(tail -n 2 "$WORK/$mode/report")"
    grep -q "did not exit cleanly]" "$WORK/$mode/report" && fail "$mode: report says not clean"
    grep -q "leak\." "$WORK/$mode/report" && fail "$mode: a leak was reported"
done

mkdir -p "$WORK/umask"
(
    umask 0777
    LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/umask/tr" LD_PRELOAD=$SHIM \
        timeout -k 5 30 "$HOSTILE" resethand >/dev/null 2>&1
)
chmod 0700 "$WORK/umask/tr" 2>/dev/null
mode=$(stat -c %a "$WORK"/umask/tr/*.cgt 2>/dev/null | head -n 1)
[ "$mode" = 600 ] || fail "umask 0777: trace mode is '$mode', want 600"
fdsize() { # fdsize [CUGUARD_DIR]: FDSize of a process with the shim loaded
    (
        ulimit -n 2048
        if [ -n "${1:-}" ]; then
            CUGUARD_DIR=$1 LD_PRELOAD=$SHIM grep '^FDSize:' /proc/self/status
        else
            env -u CUGUARD_DIR LD_PRELOAD=$SHIM grep '^FDSize:' /proc/self/status
        fi
    ) | awk '{ print $2 }'
}
traced=$(fdsize "$WORK/fdsize")
idle=$(fdsize)
[ "${traced:-0}" -gt 1024 ] || fail "traced: descriptor table not grown at load (FDSize ${traced:-?})"
[ "${idle:-0}" -gt 0 ] && [ "$idle" -le 1024 ] || fail "idle shim grew the table (FDSize ${idle:-?})"
finish

#!/bin/sh
# 34_fork_exec.sh — a forked child and an exec'd child each get their own trace.
#
# A traced Python process makes a driver call, forks a child that makes one
# too, then runs build/workloads/direct as a separate program. Three trace
# files must result: the parent's (with a fork record naming the child), the
# fork child's (its pid, the parent as ppid, its own call) and the exec'd
# program's (its argv), each accepted by `cuguard dump`.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct"
LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --dir "$WORK/t" -- \
    "$PYTHON" tests/e2e/shim_probe.py fork-exec "$BUILD/workloads/direct" >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || fail "probe exited $rc: $(tail -n 3 "$WORK/err")"
set -- $(sed -n 's/^parent=\([0-9]*\) child=\([0-9]*\) .*/\1 \2/p' "$WORK/out")
parent=${1:-0} child=${2:-0}
grep -q '^exec-status=0$' "$WORK/out" || fail "the exec'd workload failed: $(cat "$WORK/out")"
n=$(traces "$WORK/t")
[ "$n" -eq 3 ] || fail "$n trace files, expected 3 (parent, fork child, exec'd child)"
if ! "$CUGUARD" dump "$WORK/t" >"$WORK/dump" 2>"$WORK/dump.err"; then
    fail "cuguard dump rejected a trace: $(head -n 1 "$WORK/dump.err")"
fi
grep -q "^== trace .* pid=$parent " "$WORK/dump" || fail "no trace of the parent ($parent)"
grep -q " pid=$parent tid=[0-9]* task=[^ ]* fork child=$child" "$WORK/dump" ||
    fail "the parent's trace has no fork record for child $child"
grep -q "^== trace .* pid=$child ppid=$parent " "$WORK/dump" ||
    fail "no trace of the fork child ($child, ppid $parent)"
grep -q " pid=$child tid=[0-9]* task=[^ ]* call cuEventCreate " "$WORK/dump" ||
    fail "the fork child's call is not in its own trace"
grep -q "^== trace .* ppid=$parent .*argv=\"$BUILD/workloads/direct\"" "$WORK/dump" ||
    fail "no trace of the exec'd workload"
if [ "$(grep -c " pid=$parent tid=[0-9]* task=[^ ]* call cuEventCreate " "$WORK/dump")" -ne 1 ]; then
    fail "the parent's trace holds other than its own one cuEventCreate"
fi
[ $failures -eq 0 ] && echo "ok: parent $parent, fork child $child and the exec'd workload: 3 traces"
finish

#!/bin/sh
# 23_require_trace.sh — `cuguard run` when nothing gets traced.
#
# An unwritable --dir (it lies under a regular file, so even root cannot
# create it): without --require-trace the program runs untraced, cuguard
# exits with the program's status (0, or 5 for a program that exits 5) and
# stderr holds exactly one "cuguard" line, naming the directory. With
# --require-trace a program that exited 0 gives exit 3 and one more line
# saying why; a non-zero program status is kept. --fail-on implies
# --require-trace. A program that makes no CUDA call is "nothing traced" too;
# a traced run with --require-trace exits 0.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct"
: >"$WORK/file"
bad="$WORK/file/traces"

# expect WANT_RC WANT_LINES LABEL CUGUARD-ARGS... : run, compare the exit
# status and the number of lines cuguard wrote on stderr.
expect() {
    want_rc=$1 want_lines=$2 label=$3
    shift 3
    timeout -k 5 60 "$CUGUARD" "$@" >"$WORK/out" 2>"$WORK/err"
    rc=$?
    lines=$(grep -c '^cuguard' "$WORK/err")
    if [ $rc -ne "$want_rc" ] || [ "$lines" -ne "$want_lines" ]; then
        fail "$label: exit $rc with $lines cuguard lines, expected exit $want_rc with $want_lines: $(cat "$WORK/err")"
        return
    fi
    echo "ok: $label: exit $rc, $lines line(s): $(tr '\n' '|' <"$WORK/err")"
}

probe_exit_5="$PYTHON tests/e2e/shim_probe.py exit 5"
expect 0 1 "unwritable dir" run --simulate --dir "$bad" -- "$BUILD/workloads/direct"
grep -q "$bad" "$WORK/err" || fail "unwritable dir: the warning does not name $bad"
grep -q '^call cuEventCreate' "$WORK/out" || fail "unwritable dir: the program did not run its calls"
[ -e "$bad" ] && fail "$bad exists"
# shellcheck disable=SC2086
expect 5 1 "unwritable dir, program exits 5" run --simulate --dir "$bad" -- $probe_exit_5
expect 3 2 "unwritable dir --require-trace" run --simulate --require-trace --dir "$bad" -- \
    "$BUILD/workloads/direct"
grep -q 'exit 3 (--require-trace)' "$WORK/err" || fail "--require-trace: no line saying why exit 3"
# shellcheck disable=SC2086
expect 5 1 "unwritable dir --require-trace, program exits 5" run --simulate --require-trace \
    --dir "$bad" -- $probe_exit_5
expect 3 2 "unwritable dir --fail-on error" run --simulate --fail-on error --dir "$bad" -- \
    "$BUILD/workloads/direct"
grep -q 'exit 3 (--fail-on)' "$WORK/err" || fail "--fail-on: no line saying why exit 3"

expect 0 1 "no CUDA call" run --simulate --dir "$WORK/quiet" -- true
expect 3 2 "no CUDA call --require-trace" run --simulate --require-trace --dir "$WORK/quiet" -- true
expect 0 0 "traced --require-trace" run --simulate --no-report --require-trace --dir "$WORK/ok" -- \
    "$BUILD/workloads/direct"
[ "$(traces "$WORK/ok")" -eq 1 ] || fail "traced --require-trace: $(traces "$WORK/ok") traces"
finish

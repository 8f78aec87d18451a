#!/bin/sh
# 81_truncated_trace.sh — a trace truncated under a running program.
#
# `hostile truncate N` truncates its own trace file mid-run and keeps making
# calls. The program must run to its end (exit 0, not SIGBUS 135), with one
# warning; when the header survived (N > 8192) the report says "trace cut
# short at +T s: REASON" and raises no leak for the event it never destroyed.
. tests/e2e/shim_common.sh
HOSTILE=$BUILD/workloads/hostile
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$HOSTILE"

for size in 0 12000; do
    LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/$size" LD_PRELOAD=$SHIM \
        timeout -k 5 60 "$HOSTILE" truncate $size >"$WORK/$size.out" 2>"$WORK/$size.err"
    rc=$?
    [ "$rc" -eq 0 ] || fail "truncate $size: exit $rc (want 0): $(tail -n 2 "$WORK/$size.err")"
    grep -q survived "$WORK/$size.out" || fail "truncate $size: the program did not finish"
    [ "$(grep -c 'tracing stopped' "$WORK/$size.err")" -eq 1 ] ||
        fail "truncate $size: want exactly one warning: $(cat "$WORK/$size.err")"
done
"$CUGUARD" report "$WORK/12000" >"$WORK/report" 2>&1
grep -q "trace cut short at +[0-9.]* s: trace file truncated" "$WORK/report" ||
    fail "no cut-short line: $(grep summary -A 2 "$WORK/report")"
grep -q "leak\." "$WORK/report" && fail "a leak was reported for a cut-short trace"
grep -q "did not exit cleanly]" "$WORK/report" && fail "cut short reported as not clean"
"$CUGUARD" report --format json "$WORK/12000" 2>/dev/null | grep -q '"cut_short": *{' ||
    fail "JSON has no cut_short object"
finish

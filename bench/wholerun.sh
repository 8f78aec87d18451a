#!/bin/sh
# bench/wholerun.sh — whole-run wall time, traced / untraced, on the simulator.
#
#   writeback --bug=none --tests=WB_TESTS   build/workloads/writeback
#   pytest_writeback                        /usr/bin/python3 -m pytest -q in
#                                           tests/workloads/pytest_writeback
#                                           (skipped when absent)
# Untraced and traced runs alternate (so drift on a busy machine hits both);
# the ratio is median traced / median untraced. hyperfine is used when it is
# installed. Traced = the shim preloaded with CUGUARD_DIR set, as
# `cuguard run` does. Target: ratio <= 1.02 (issue 15). Never fails on timing.
#
# Also prints the size of one traced writeback run per call it made.
#
# Environment: BUILD (build), PYTHON (/usr/bin/python3), WHOLE_RUNS (11 for
# writeback; pytest gets WHOLE_RUNS_PYTEST, 5), WB_TESTS (10).
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
RUNS=${WHOLE_RUNS:-11}
PYTEST_RUNS=${WHOLE_RUNS_PYTEST:-5}
WB_TESTS=${WB_TESTS:-10}
ROOT=$(pwd)
SHIM=$ROOT/$BUILD/libcuguard.so
FAKE=$ROOT/$BUILD/fakecuda
PROJECT=tests/workloads/pytest_writeback

for product in "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "whole-run bench: $product missing (make builds it)"
        exit 1
    fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cuguard-wholerun-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now_ns() {
    date +%s%N
}

# one_run TRACED COMMAND... : wall seconds of one run, or "fail".
one_run() {
    traced=$1
    shift
    rm -rf "$WORK/t"
    start=$(now_ns)
    if [ "$traced" = 1 ]; then
        CUGUARD_DIR="$WORK/t" LD_PRELOAD="$SHIM" timeout 600 "$@" >/dev/null 2>"$WORK/err"
    else
        env -u CUGUARD_DIR timeout 600 "$@" >/dev/null 2>"$WORK/err"
    fi
    rc=$?
    end=$(now_ns)
    if [ $rc -ne 0 ]; then
        echo fail
        return
    fi
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}

median() {
    sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "NA"; else print v[int((NR + 1) / 2)] }'
}

# measure NAME RUNS COMMAND... : one table row.
measure() {
    name=$1
    runs=$2
    shift 2
    : >"$WORK/plain"
    : >"$WORK/traced"
    if command -v hyperfine >/dev/null 2>&1; then
        hyperfine -N -w 1 -r "$runs" --export-json "$WORK/h.json" \
            -n plain "env -u CUGUARD_DIR $*" \
            -n traced "env CUGUARD_DIR=$WORK/t LD_PRELOAD=$SHIM $*" >/dev/null 2>&1
        # Each result is named plain or traced: its median goes to that file.
        "$PYTHON" -c 'import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    open(sys.argv[2] + "/" + r["command"], "a").write("%f\n" % r["median"])' \
            "$WORK/h.json" "$WORK" 2>/dev/null
    fi
    if [ ! -s "$WORK/plain" ] || [ ! -s "$WORK/traced" ]; then
        one_run 0 "$@" >/dev/null # warm the page cache
        i=0
        while [ $i -lt "$runs" ]; do
            one_run 0 "$@" >>"$WORK/plain"
            one_run 1 "$@" >>"$WORK/traced"
            i=$((i + 1))
        done
    fi
    if grep -q fail "$WORK/plain" "$WORK/traced"; then
        printf '%-40s %s\n' "$name" "a run failed: $(head -n 2 "$WORK/err")"
        return
    fi
    p=$(median <"$WORK/plain")
    t=$(median <"$WORK/traced")
    awk -v n="$name" -v p="$p" -v t="$t" -v r="$runs" 'BEGIN {
        ratio = p > 0 ? t / p : 0
        printf "%-40s %5s %11.3f %11.3f %8.3f %s\n", n, r, p, t, ratio, ratio <= 1.02 ? "ok" : "MISS"
    }'
}

echo "== whole run on the simulator: wall seconds, median of alternating runs (target ratio <= 1.02)"
printf '%-40s %5s %11s %11s %8s\n' workload runs untraced traced ratio
LD_LIBRARY_PATH=$FAKE
export LD_LIBRARY_PATH
measure "writeback --bug=none --tests=$WB_TESTS" "$RUNS" \
    "$BUILD/workloads/writeback" --bug=none --tests="$WB_TESTS"
rm -rf "$WORK/t"
CUGUARD_DIR="$WORK/t" LD_PRELOAD="$SHIM" timeout 600 "$BUILD/workloads/writeback" --bug=none \
    --tests="$WB_TESTS" >/dev/null 2>&1
if [ -x "$BUILD/bench/tracestat" ]; then
    "$BUILD/bench/tracestat" "$WORK"/t/*.cgt 2>/dev/null | awk '{
        printf "  its trace: %d calls (%d polls folded), %d records, %d bytes with header and strings:" \
               " %.1f bytes/call\n", $4, $6, $2, $8, $8 / ($4 ? $4 : 1) }'
fi
unset LD_LIBRARY_PATH
if [ -d "$PROJECT" ] && "$PYTHON" -c 'import pytest, numba' >/dev/null 2>&1; then
    cd "$PROJECT" || exit 0
    NUMBA_CUDA_DRIVER=$FAKE/libcuda.so.1
    export NUMBA_CUDA_DRIVER
    measure "pytest_writeback (pytest -q)" "$PYTEST_RUNS" "$PYTHON" -m pytest -q
    cd "$ROOT" || exit 0
else
    printf '%-40s %s\n' "pytest_writeback" "skipped (project, pytest or numba missing)"
fi
exit 0

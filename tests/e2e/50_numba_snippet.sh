#!/bin/sh
# 50_numba_snippet.sh — issue 7 item 1: numba.cuda's own driver layer runs
# tests/workloads/numba_snippet.py on the simulator under `cuguard run`
# (NUMBA_CUDA_DRIVER=build/fakecuda/libcuda.so.1); the JSON report's `calls`
# equal the driver calls the snippet says it made, and the snippet, which
# destroys everything it made, has no error or warning finding.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CHECK=tests/e2e/pytest_writeback_check.py
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
"$PYTHON" -c "import numba.cuda, numpy" 2>/dev/null || { echo "skip: no numba for $PYTHON"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

NUMBA_CUDA_DRIVER=$PWD/$BUILD/fakecuda/libcuda.so.1 timeout -k 5 120 \
    "$BUILD/cuguard" run --no-report --dir "$WORK/trace" -- \
    "$PYTHON" tests/workloads/numba_snippet.py >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ $rc -ne 0 ] || ! grep -q '^checksum ok$' "$WORK/out" || ! grep -q '^snippet done$' "$WORK/out"; then
    echo "FAIL: numba_snippet.py under cuguard run: exit $rc"
    tail -n 20 "$WORK/out" "$WORK/err"
    exit 1
fi
timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace" >"$WORK/report.json" ||
    { echo "FAIL: cuguard report exited $?"; exit 1; }
"$PYTHON" "$CHECK" snippet "$WORK/out" "$WORK/report.json" || exit 1
echo "ok: numba.cuda snippet traced call for call"

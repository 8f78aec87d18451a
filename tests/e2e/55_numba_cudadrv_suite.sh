#!/bin/sh
# 55_numba_cudadrv_suite.sh — issue 12 acceptance: the driver-level modules of
# numba 0.56's own test suite (numba/cuda/tests/cudadrv) on the simulator,
# bare, under `cuguard run`, under each CUGUARD_POLICY and under all four,
# one pytest invocation per configuration. tests/e2e/numba_suite_check.py
# asserts the same per-test outcome everywhere (the destroy policy included:
# numba defers its destroys, issue 11), no stderr line the bare run did not
# print, that every test needing no kernel passes, and that the reports have
# no error and only named warnings.
# FAKECUDA_MEMORY_MB keeps test_managed_alloc's "half the GPU memory" small.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
CHECK=$PWD/tests/e2e/numba_suite_check.py
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
SUITE=$("$PYTHON" -c "import numba.cuda.tests.cudadrv as t, os; print(os.path.dirname(t.__file__))" \
    2>/dev/null) || { echo "skip: no numba cudadrv tests for $PYTHON"; exit 77; }
"$PYTHON" -c "import pytest" 2>/dev/null || { echo "skip: no pytest for $PYTHON"; exit 77; }
MODULES="test_events test_streams test_pinned test_host_alloc test_deallocations test_cuda_memory
 test_context_stack test_reset_device test_select_device test_managed_alloc test_init test_detect
 test_emm_plugins test_cuda_driver"
FILES=
for m in $MODULES; do FILES="$FILES $SUITE/$m.py"; done
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CUGUARD=$PWD/$BUILD/cuguard
export NUMBA_CUDA_DRIVER=$PWD/$BUILD/fakecuda/libcuda.so.1 FAKECUDA_MEMORY_MB=512

run_suite() { # CONFIG [cuguard run ...]
    config=$1
    shift
    # shellcheck disable=SC2086
    (cd "$WORK" && timeout -k 5 240 "$@" "$PYTHON" -m pytest -p no:cacheprovider -q \
        --junitxml="$WORK/$config.xml" $FILES >"$WORK/$config.out" 2>"$WORK/$config.err")
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL: pytest ($config) exited $rc"
        tail -n 20 "$WORK/$config.out" "$WORK/$config.err"
        exit 1
    fi
}

run_traced() { # CONFIG POLICY
    CUGUARD_POLICY=$2 run_suite "$1" "$CUGUARD" run --no-report --dir "$WORK/trace-$1" --
    timeout 120 "$CUGUARD" report --format json "$WORK/trace-$1" >"$WORK/$1.json" ||
        { echo "FAIL: cuguard report ($1) exited $?"; exit 1; }
}

run_suite bare env
run_traced traced ""
for policy in ownership isolate destroy sync-query; do
    run_traced "$policy" "$policy"
done
run_traced all ownership,isolate,destroy,sync-query
"$PYTHON" "$CHECK" "$WORK" bare traced ownership isolate destroy sync-query all

#!/bin/sh
# 52_pytest_reproduce.sh — issue 7 item 4, the case that started it all, under
# `cuguard run -- python3 -m pytest -n 2`: test_query_through_event_wrapper's
# event wrapper hands cuEventQuery the address of a Python object, the
# watcher thread dies from the exception, and test_next_batch_after_wrapper
# blocks on a stranded pinned buffer until the project's hang stop
# (CUGUARD_TEST_TIMEOUT) stops it. Checked, in order:
#   - pytest ends within its bounds, both tests failed (wait_all timeout,
#     HangTimeout);
#   - the report: unknown-handle on cuEventQuery, thread "watcher", on the
#     first test's id;
#   - the dump: the failing cuEventQuery (CUDA_ERROR_INVALID_HANDLE, a handle
#     no create returned) on the watcher, the watcher's thread-exit, then the
#     next test's wait with no CUDA progress for the whole timeout;
#   - the watchdog (--watchdog 2, under the 3 s hang stop) wrote an
#     orphaned-wait STALL record while the next test waited (and, when the
#     hang stop's first stage stopped the test, its live report reached
#     pytest's output);
#   - poller-exited, stall and the diagnosis chain (issue 5), in order.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PROJECT=tests/workloads/pytest_writeback
CHECK=tests/e2e/pytest_writeback_check.py
TIMEOUT_S=3
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
"$PYTHON" -c "import numba.cuda, pytest, xdist" 2>/dev/null ||
    { echo "skip: $PYTHON lacks numba, pytest or pytest-xdist"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CUGUARD_TEST_LIBCUDA="$PWD/$BUILD/fakecuda/libcuda.so.1" CUGUARD_TEST_TIMEOUT=$TIMEOUT_S
failures=0

CUGUARD_TEST_MANIFEST=$WORK/manifest.json timeout -k 5 120 "$PYTHON" -m pytest -q \
    --collect-only --bugs -m repro "$PROJECT" >"$WORK/collect.out" 2>&1 ||
    { echo "FAIL: collection"; tail -n 20 "$WORK/collect.out"; exit 1; }

start=$(date +%s)
timeout -k 5 180 "$BUILD/cuguard" run --no-report --watchdog 2 --dir "$WORK/trace" -- \
    "$PYTHON" -m pytest -n 2 -p no:cacheprovider -v "$PROJECT" --bugs -m repro \
    >"$WORK/pytest.out" 2>&1
rc=$?
secs=$(($(date +%s) - start))
case $rc in
124 | 137) echo "FAIL: pytest still running after 180 s"; tail -n 30 "$WORK/pytest.out"; exit 1 ;;
1) echo "ok: pytest stopped after ${secs}s with failures (exit 1)" ;;
*) echo "FAIL: pytest exited $rc, want 1"; tail -n 30 "$WORK/pytest.out"; failures=$((failures + 1)) ;;
esac
if ! grep -q 'FAILED.*test_query_through_event_wrapper' "$WORK/pytest.out" ||
    ! grep -q 'TimeoutError: wait_all' "$WORK/pytest.out"; then
    echo "FAIL: test_query_through_event_wrapper should fail in wait_all"
    failures=$((failures + 1))
fi
# The hang stop has two stages (conftest.py). Stage 1: SIGALRM raises
# HangTimeout, when the test runs on the worker's main thread. execnet 1.9
# (Debian's) now and then runs a worker's tests on another thread, which no
# signal reaches: then stage 2 ends the worker ("+++ CUGUARD_TEST_TIMEOUT",
# the controller reports a crashed worker). Either stage stops the test.
stage=0
if grep -q 'FAILED.*test_next_batch_after_wrapper' "$WORK/pytest.out" &&
    grep -q 'HangTimeout' "$WORK/pytest.out"; then
    stage=1
elif grep -q '^+++ CUGUARD_TEST_TIMEOUT: test_reproduce.py::test_next_batch_after_wrapper still running' \
    "$WORK/pytest.out" &&
    grep -q "worker 'gw[0-9]*' crashed while running 'test_reproduce.py::test_next_batch_after_wrapper'" \
        "$WORK/pytest.out"; then
    stage=2
fi
if [ $stage -eq 0 ]; then
    echo "FAIL: test_next_batch_after_wrapper should be stopped by the hang stop"
    failures=$((failures + 1))
else
    echo "ok: test_next_batch_after_wrapper stopped by the hang stop (stage $stage)"
fi

timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace" >"$WORK/report.json" ||
    { echo "FAIL: cuguard report exited $?"; exit 1; }
timeout 60 "$BUILD/cuguard" dump "$WORK/trace" >"$WORK/dump.txt" ||
    { echo "FAIL: cuguard dump exited $?"; exit 1; }
# The watchdog's live report goes to the worker's fd 2, which pytest
# captures: it reaches pytest.out with the failed test's report (stage 1)
# and is lost with the worker's capture when stage 2 ends it; the STALL
# records are in the trace either way.
live_report_seen() {
    [ $stage -eq 2 ] ||
        grep -q 'cuguard:   orphaned wait: .*"watcher".*nobody has seen it complete' "$WORK/pytest.out"
}
if grep -q ' task="[^"]*test_next_batch_after_wrapper" stall cuEventQuery ' "$WORK/dump.txt" &&
    live_report_seen; then
    echo "ok: the watchdog wrote an orphaned-wait stall during test_next_batch_after_wrapper"
else
    echo "FAIL: no orphaned-wait stall during test_next_batch_after_wrapper"
    grep ' stall \|orphaned' "$WORK/dump.txt" "$WORK/pytest.out" | head -n 5
    failures=$((failures + 1))
fi
"$PYTHON" "$CHECK" repro "$WORK/report.json" "$WORK/manifest.json" "$WORK/dump.txt" \
    "$TIMEOUT_S" || failures=$((failures + 1))

[ $failures -eq 0 ] || exit 1
echo "ok: the reproduced case is diagnosed as far as the finding kinds exist"

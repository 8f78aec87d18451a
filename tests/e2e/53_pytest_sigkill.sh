#!/bin/sh
# 53_pytest_sigkill.sh — issue 7: a pytest-xdist worker killed with SIGKILL in
# the middle of test_sigkill.py::test_worker_killed_mid_test (after creating
# and recording events) still yields its trace up to the kill: the report
# shows that worker's process as not complete and its leaked events on the
# killed test's id, saying the process did not exit cleanly; the correct tests
# of the same run have no finding, and the whole run ends in bounded time.
# (--dist load: pytest-xdist 3.1 stops scheduling after a crash under loadfile.)
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PROJECT=tests/workloads/pytest_writeback
CHECK=tests/e2e/pytest_writeback_check.py
KILLED=test_sigkill.py::test_worker_killed_mid_test
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
"$PYTHON" -c "import numba.cuda, pytest, xdist" 2>/dev/null ||
    { echo "skip: $PYTHON lacks numba, pytest or pytest-xdist"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CUGUARD_TEST_LIBCUDA="$PWD/$BUILD/fakecuda/libcuda.so.1" CUGUARD_TEST_TIMEOUT=60
failures=0

CUGUARD_TEST_MANIFEST=$WORK/manifest.json timeout -k 5 120 "$PYTHON" -m pytest -q \
    --collect-only --bugs -m "sigkill or not bug" "$PROJECT" >"$WORK/collect.out" 2>&1 ||
    { echo "FAIL: collection"; tail -n 20 "$WORK/collect.out"; exit 1; }

timeout -k 5 240 "$BUILD/cuguard" run --no-report --dir "$WORK/trace" -- \
    "$PYTHON" -m pytest -n 2 --dist load -p no:cacheprovider -v "$PROJECT" --bugs \
    -m "sigkill or not bug" >"$WORK/pytest.out" 2>&1
rc=$?
case $rc in
124 | 137) echo "FAIL: pytest still running after 240 s"; tail -n 30 "$WORK/pytest.out"; exit 1 ;;
1) ;;
*) echo "FAIL: pytest exited $rc, want 1 (one crashed test)"; failures=$((failures + 1)) ;;
esac
if grep -q "crashed while running '$KILLED'" "$WORK/pytest.out"; then
    echo "ok: pytest-xdist reports the killed worker and the run ends (exit $rc)"
else
    echo "FAIL: no crashed worker running $KILLED"
    tail -n 30 "$WORK/pytest.out"
    exit 1
fi
grep -E '^(FAILED|ERROR) ' "$WORK/pytest.out" | grep -v "$KILLED" &&
    { echo "FAIL: a correct test failed"; failures=$((failures + 1)); }

timeout 60 "$BUILD/cuguard" report --format json "$WORK/trace" >"$WORK/report.json" ||
    { echo "FAIL: cuguard report exited $?"; exit 1; }
"$PYTHON" "$CHECK" sigkill "$WORK/report.json" "$WORK/manifest.json" "$KILLED" ||
    failures=$((failures + 1))

[ $failures -eq 0 ] || exit 1
echo "ok: the killed worker's findings survive the SIGKILL"

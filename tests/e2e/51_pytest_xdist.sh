#!/bin/sh
# 51_pytest_xdist.sh — issue 7 item 3: `cuguard run -- python3 -m pytest -n 2`
# of tests/workloads/pytest_writeback (numba.cuda on the simulator):
#   - the correct run (default: no planted bugs) passes, leaves exactly one
#     trace per worker and none for the controller (which never touches CUDA),
#     and the report has no error or warning finding at all;
#   - the run with planted bugs (--bugs, minus the reproduced hang and the
#     SIGKILL, which 52 and 53 cover) puts every finding on the test id that
#     planted it (PYTEST_CURRENT_TEST, phase stripped) and none on a correct
#     test. Kinds of issue 5 print TODO(issue 5) while they do not exist.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
PROJECT=tests/workloads/pytest_writeback
CHECK=tests/e2e/pytest_writeback_check.py
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
    --collect-only --bugs "$PROJECT" >"$WORK/collect.out" 2>&1 ||
    { echo "FAIL: collection"; tail -n 20 "$WORK/collect.out"; exit 1; }

# pytest_run LABEL PYTEST_ARGS... : the controller's pid in $WORK/LABEL.pid.
pytest_run() {
    label=$1
    shift
    # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
    timeout -k 5 300 "$BUILD/cuguard" run --no-report --dir "$WORK/$label" -- \
        sh -c 'echo $$ >"$0"; exec "$@"' "$WORK/$label.pid" \
        "$PYTHON" -m pytest -n 2 -p no:cacheprovider -v "$PROJECT" "$@" \
        >"$WORK/$label.out" 2>&1
    rc=$?
    timeout 60 "$BUILD/cuguard" report --format json "$WORK/$label" >"$WORK/$label.json" ||
        { echo "FAIL: $label: cuguard report exited $?"; failures=$((failures + 1)); }
}

workers_that_ran() { # LABEL
    grep -o '^\[gw[0-9]*\] .*\(PASSED\|FAILED\|ERROR\|SKIPPED\)' "$WORK/$1.out" |
        cut -d' ' -f1 | sort -u | wc -l
}

pytest_run correct
if [ $rc -ne 0 ] || ! grep -q ' passed' "$WORK/correct.out"; then
    echo "FAIL: the correct run exited $rc"
    tail -n 30 "$WORK/correct.out"
    exit 1
fi
echo "ok: correct run: $(grep -E '[0-9]+ passed' "$WORK/correct.out" | tail -n 1)"
"$PYTHON" "$CHECK" workers "$WORK/correct.json" "$(cat "$WORK/correct.pid")" \
    "$(workers_that_ran correct)" || failures=$((failures + 1))
"$PYTHON" "$CHECK" findings "$WORK/correct.json" "$WORK/manifest.json" correct ||
    failures=$((failures + 1))

pytest_run bugs --bugs -m "not repro and not sigkill"
if [ $rc -ne 0 ]; then # the planted bugs leave the data intact: every test passes
    echo "FAIL: the run with planted bugs exited $rc"
    tail -n 30 "$WORK/bugs.out"
    failures=$((failures + 1))
fi
"$PYTHON" "$CHECK" workers "$WORK/bugs.json" "$(cat "$WORK/bugs.pid")" \
    "$(workers_that_ran bugs)" || failures=$((failures + 1))
"$PYTHON" "$CHECK" findings "$WORK/bugs.json" "$WORK/manifest.json" bugs ||
    failures=$((failures + 1))

[ $failures -eq 0 ] || exit 1
echo "ok: one trace per worker; planted findings on their tests, none on correct tests"

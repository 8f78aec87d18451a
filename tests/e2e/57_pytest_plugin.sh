#!/bin/sh
# 57_pytest_plugin.sh — issue 14: cuguard's pytest plugin (python/cuguard.py),
# loaded only through `cuguard run`'s environment into unmodified test files:
#   - tests/workloads/pytest_writeback (--bugs, serial and -n 4) and the plain
#     numba.cuda file tests/workloads/pytest_numba (--simulate, serial and
#     -n 4): the "cuguard: N errors, N warnings" section names exactly the
#     planted tests, by the node ids pytest printed, and no correct test;
#   - exit statuses: findings alone keep pytest's status; --cuguard-fail-on
#     (and `cuguard run --fail-on`, through CUGUARD_FAIL_ON) fail the session;
#     a correct run with --fail-on keeps 0;
#   - --cuguard-fail-tests: the live errors error their tests at teardown;
#   - --junitxml: one cuguard property per finding on the planted test cases;
#   - xdist workers' traces are labelled gw0.. and the text report says so;
#   - a run that never touches CUDA prints nothing and keeps its status; a
#     pytest run inside a test of a traced session stays quiet and keeps its;
#     `pytest -p cuguard` by hand without a cuguard program, or with an
#     unreadable trace, prints one warning line and keeps its status.
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
WB=tests/workloads/pytest_writeback
NB=tests/workloads/pytest_numba
CHECK=tests/e2e/pytest_plugin_check.py
for product in "$BUILD/cuguard" "$BUILD/libcuguard.so" "$BUILD/fakecuda/libcuda.so.1" \
    "$BUILD/python/cuguard.py"; do
    [ -e "$product" ] || { echo "skip: $product is not built"; exit 77; }
done
"$PYTHON" -c "import numba.cuda, pytest, xdist" 2>/dev/null ||
    { echo "skip: $PYTHON lacks numba, pytest or pytest-xdist"; exit 77; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export CUGUARD_TEST_LIBCUDA="$PWD/$BUILD/fakecuda/libcuda.so.1" CUGUARD_TEST_TIMEOUT=60
unset PYTEST_PLUGINS PYTEST_ADDOPTS CUGUARD_FAIL_ON CUGUARD_PROGRAM
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
check() { "$PYTHON" "$CHECK" "$@" || failures=$((failures + 1)); }

CUGUARD_TEST_MANIFEST=$WORK/wb.json timeout -k 5 120 "$PYTHON" -m pytest -q -p no:cacheprovider \
    --collect-only --bugs "$WB" >"$WORK/collect.out" 2>&1 ||
    { echo "FAIL: collection"; tail -n 20 "$WORK/collect.out"; exit 1; }
cat >"$WORK/nb.json" <<'EOF'
{"test_numba_cuda.py::test_leaks_event": {"planted": ["leak.event"]},
 "test_numba_cuda.py::test_double_destroy": {"planted": ["double-destroy"]},
 "test_numba_cuda.py::test_use_after_destroy": {"planted": ["use-after-destroy"]},
 "test_numba_cuda.py::test_unknown_handle": {"planted": ["unknown-handle"]},
 "test_numba_cuda.py::test_event_round_trip_correct": {"planted": null},
 "test_numba_cuda.py::test_pinned_copy_correct": {"planted": null},
 "test_numba_cuda.py::test_raw_event_correct": {"planted": null}}
EOF

# traced LABEL [cuguard run options] -- PYTEST_ARGS... : output in $WORK/LABEL.out, status in rc
traced() {
    label=$1
    shift
    opts=
    while [ "$1" != "--" ]; do
        opts="$opts $1"
        shift
    done
    shift
    # shellcheck disable=SC2086 # the cuguard run options are words
    timeout -k 5 300 "$BUILD/cuguard" run --no-report --dir "$WORK/$label" $opts -- \
        "$PYTHON" -m pytest -p no:cacheprovider -v "$@" >"$WORK/$label.out" 2>&1
    rc=$?
}
want_rc() { # LABEL WANT
    if [ "$rc" -eq "$2" ]; then
        echo "ok: $1 exited $rc"
    else
        fail "$1 exited $rc, want $2"
        tail -n 30 "$WORK/$1.out"
    fi
}
selected="not repro and not sigkill"

# ---- pytest_writeback: post-run findings, serial and -n 4 ----
traced wb-serial -- "$WB" --bugs -m "$selected"
want_rc wb-serial 0 # findings alone keep the status
check section "$WORK/wb-serial.out" "$WORK/wb.json"

traced wb-xdist -- -n 4 "$WB" --bugs -m "$selected" --cuguard-fail-on warning
want_rc wb-xdist 1
check section "$WORK/wb-xdist.out" "$WORK/wb.json"
grep -q '^cuguard: --cuguard-fail-on warning matched [0-9]* findings: the session fails$' \
    "$WORK/wb-xdist.out" || fail "wb-xdist: no 'matched' line"
grep -q '^    warning .* \[gw[0-9]*\]$' "$WORK/wb-xdist.out" || fail "wb-xdist: no worker on the lines"
timeout 60 "$BUILD/cuguard" report --format json "$WORK/wb-xdist" >"$WORK/wb-xdist.json" 2>/dev/null
timeout 60 "$BUILD/cuguard" report "$WORK/wb-xdist" >"$WORK/wb-xdist.txt" 2>/dev/null
check workers "$WORK/wb-xdist.json" "$WORK/wb-xdist.txt"

traced wb-correct --fail-on warning -- -n 4 "$WB"
want_rc wb-correct 0 # nothing found: --fail-on keeps 0
check section "$WORK/wb-correct.out" "$WORK/wb.json" correct

# ---- a plain numba.cuda test file on the simulator ----
traced nb-serial --simulate -- "$NB" --cuguard-fail-tests --junitxml="$WORK/nb-serial.xml"
want_rc nb-serial 1 # the live errors error their tests
check section "$WORK/nb-serial.out" "$WORK/nb.json"
check live "$WORK/nb-serial.out" "$WORK/nb.json" unknown-handle,use-after-destroy,double-destroy
check junit "$WORK/nb-serial.xml" "$WORK/nb.json"

traced nb-xdist --simulate --fail-on error -- -n 4 "$NB" --junitxml="$WORK/nb-xdist.xml"
want_rc nb-xdist 66 # cuguard run --fail-on; the plugin got it too:
grep -q '^cuguard: --cuguard-fail-on error matched 3 findings: the session fails$' \
    "$WORK/nb-xdist.out" || fail "nb-xdist: the plugin did not get --fail-on"
grep -q ' 7 passed' "$WORK/nb-xdist.out" || fail "nb-xdist: without --cuguard-fail-tests all pass"
check section "$WORK/nb-xdist.out" "$WORK/nb.json"
check live "$WORK/nb-xdist.out" "$WORK/nb.json" none
check junit "$WORK/nb-xdist.xml" "$WORK/nb.json"

# ---- no CUDA: nothing printed, status kept ----
mkdir "$WORK/plain"
printf 'def test_ok():\n    assert True\n' >"$WORK/plain/test_ok.py"
printf 'def test_bad():\n    assert False\n' >"$WORK/plain/test_bad.py"
traced plain-ok -- "$WORK/plain/test_ok.py" --cuguard-fail-on error
want_rc plain-ok 0
traced plain-bad -- "$WORK/plain/test_bad.py"
want_rc plain-bad 1
if grep -qi cuguard "$WORK/plain-ok.out" "$WORK/plain-bad.out"; then
    fail "a run without CUDA printed something of cuguard"
    grep -i cuguard "$WORK/plain-ok.out" "$WORK/plain-bad.out"
fi
# A pytest started by a test of a traced session (pytester-like) stays quiet:
# its findings are the outer session's, and CUGUARD_FAIL_ON must not fail it.
cat >"$WORK/plain/test_nested.py" <<EOF
import subprocess, sys
def test_inner_run_keeps_its_status():
    inner = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                            "$PWD/$NB"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = inner.stdout.decode()
    assert inner.returncode == 0 and "7 passed" in out and "cuguard:" not in out, out
EOF
traced nested --simulate --fail-on error -- "$WORK/plain/test_nested.py"
want_rc nested 66 # the outer session saw the inner run's errors
grep -q '1 passed' "$WORK/nested.out" || fail "nested: the inner run changed"
grep -q '^=* cuguard: 3 errors, 1 warning =*$' "$WORK/nested.out" || fail "nested: no outer section"
grep -q "^[^.].*test_numba_cuda.py::test_double_destroy$" "$WORK/nested.out" ||
    fail "nested: the inner run's tests are not named by their own ids"

"$PYTHON" -m pytest -p no:cacheprovider -v "$NB" >"$WORK/bare.out" 2>&1
grep -qi 'cuguard:' "$WORK/bare.out" && fail "pytest without cuguard run loaded the plugin"

# ---- plugin trouble: one warning line, status kept (by hand: pytest -p cuguard) ----
by_hand() { # LABEL PATH_FOR_PROGRAM PYTEST_ARGS...
    label=$1 path=$2
    shift 2
    env -u CUGUARD_PROGRAM PATH="$path" LD_PRELOAD="$PWD/$BUILD/libcuguard.so" \
        CUGUARD_DIR="$WORK/$label" NUMBA_CUDA_DRIVER="$PWD/$BUILD/fakecuda/libcuda.so.1" \
        PYTHONPATH="$PWD/$BUILD/python" timeout -k 5 120 "$PYTHON" -m pytest -p cuguard \
        -p no:cacheprovider "$@" >"$WORK/$label.out" 2>&1
    rc=$?
    warnings=$(grep -c '^cuguard: warning: ' "$WORK/$label.out")
    if [ "$warnings" -ne 1 ] || grep -q '^=* cuguard: ' "$WORK/$label.out"; then
        fail "$label: want one warning line and no section, got $warnings"
        tail -n 20 "$WORK/$label.out"
    else
        echo "ok: $label: $(grep '^cuguard: warning: ' "$WORK/$label.out")"
    fi
}
by_hand no-program /usr/bin:/bin "$NB" -k correct
want_rc no-program 0
mkdir "$WORK/unreadable"
printf 'not a trace' >"$WORK/unreadable/host-1-99999999999999999999.cgt"
by_hand unreadable "$PWD/$BUILD:/usr/bin:/bin" "$WORK/plain/test_ok.py"
want_rc unreadable 0

[ $failures -eq 0 ] || exit 1
echo "ok: the plugin names planted tests by node id, gates the session, and stays quiet otherwise"

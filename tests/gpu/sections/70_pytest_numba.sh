# tests/gpu/sections/70_pytest_numba.sh — issue 7 on a real GPU: the
# tests/workloads/pytest_writeback project on numba-cuda, under `cuguard run`,
# with the real driver (CUGUARD_TEST_LIBCUDA=real: NUMBA_CUDA_DRIVER unset),
# printing each report (sourced by tests/gpu/run.sh). Three runs: the correct
# tests (exit 0, the report should have no error or warning), the planted
# bugs but the hang and the SIGKILL (exit 0: their data stays correct), and
# the reproduced case of issue 7 item 4 (exit 1: both tests fail; handing a
# real driver a foreign address may also crash the process, 139, or its xdist
# worker, still 1). pytest-xdist is used when installed (-n 2), else one process.
# Every run is bounded by timeout and by the project's CUGUARD_TEST_TIMEOUT.
section "pytest_writeback on numba-cuda under cuguard run"
pytest_numba_skip="" pytest_numba_python=""
# $PYTHON, or else the python3 on PATH (a venv may hold numba-cuda and pytest).
for pytest_numba_candidate in "$PYTHON" "$(command -v python3)"; do
    [ -n "$pytest_numba_candidate" ] || continue
    if timeout -k 5 120 "$pytest_numba_candidate" -c "import numba.cuda, numpy, pytest" \
        >/dev/null 2>&1; then
        pytest_numba_python=$pytest_numba_candidate
        break
    fi
done
if [ -z "$pytest_numba_python" ]; then
    pytest_numba_skip="no python3 with numba (numba-cuda), numpy and pytest"
elif [ ! -x "$BUILD/cuguard" ] || [ ! -e "$BUILD/libcuguard.so" ]; then
    pytest_numba_skip="$BUILD/cuguard or $BUILD/libcuguard.so not built"
fi
if [ -n "$pytest_numba_skip" ]; then
    record "pytest_writeback on numba-cuda" skip "$pytest_numba_skip"
else
    pytest_numba_xdist=""
    if "$pytest_numba_python" -c "import xdist" >/dev/null 2>&1; then
        pytest_numba_xdist="-n 2"
    fi
    note "python: $pytest_numba_python," \
        "numba: $("$pytest_numba_python" -c 'import numba; print(numba.__version__)' 2>&1 | tail -n 1)," \
        "numba-cuda: $("$pytest_numba_python" -c 'import numba_cuda; print(numba_cuda.__version__)' 2>/dev/null || echo none)," \
        "pytest-xdist: ${pytest_numba_xdist:-not installed}"
    if [ "${GPU_SIMULATE:-0}" = 1 ]; then
        pytest_numba_driver=$PWD/$BUILD/fakecuda/libcuda.so.1
    else
        pytest_numba_driver=real
    fi
    # pytest_numba LABEL "RC..." PYTEST_ARGS... — one bounded run and its report.
    pytest_numba() {
        pytest_numba_label=$1 pytest_numba_rc=$2
        shift 2
        # shellcheck disable=SC2086 # pytest_numba_xdist is zero or two words
        check "pytest_writeback $pytest_numba_label" "$pytest_numba_rc" \
            env -u NUMBA_CUDA_DRIVER CUGUARD_TEST_LIBCUDA="$pytest_numba_driver" \
            CUGUARD_TEST_TIMEOUT=20 "$BUILD/cuguard" run --no-report \
            --dir "$GPU_WORK/pytest-$pytest_numba_label" -- "$pytest_numba_python" -m pytest \
            $pytest_numba_xdist -p no:cacheprovider -q -rfEs tests/workloads/pytest_writeback "$@"
        grep -E '(passed|failed|skipped|error)' "$GPU_WORK/last.out" | tail -n 1 | sed 's/^/      | /'
        bounded 60 "$BUILD/cuguard" report "$GPU_WORK/pytest-$pytest_numba_label"
        grep -E '^(error|warning|info):|SUMMARY|^  task ' "$GPU_WORK/last.out" | head -n 40 |
            sed 's/^/      report| /'
    }
    pytest_numba correct "0"
    pytest_numba planted "0" --bugs -m "not repro and not sigkill"
    pytest_numba reproduce "1 139" --bugs -m repro
fi

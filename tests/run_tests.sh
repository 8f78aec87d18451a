#!/bin/sh
# tests/run_tests.sh — run every unit suite and end-to-end script of `make test`.
#
# Usage: run_tests.sh UNIT_BINARY... -- E2E_SCRIPT...
# A unit binary is a Check suite (exit 0 = all checks passed). An end-to-end
# script exits 0 to pass, 77 to skip (with a reason on stdout), anything else
# to fail. Every test runs under a time limit so a hang fails instead of
# blocking CI. The last line is the plain summary "tests: N passed, N failed".
set -u
BUILD=${BUILD:-build}
LIMIT=${TEST_TIMEOUT:-600}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

passed=0 failed=0 skipped=0 failures=""
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"

run_one() { # label command...
    label=$1; shift
    log="$log_dir/$(echo "$label" | tr '/ ' '__').log"
    start=$(date +%s)
    timeout -k 10 "$LIMIT" "$@" >"$log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    case $rc in
    0)  passed=$((passed + 1))
        summary=$(grep -E '^[0-9]+%: Checks:' "$log" | tail -n 1)
        echo "PASS  $label (${secs}s) $summary" ;;
    77) skipped=$((skipped + 1))
        echo "SKIP  $label: $(tail -n 1 "$log")" ;;
    *)  failed=$((failed + 1)); failures="$failures $label"
        [ $rc -eq 124 ] && echo "      (timed out after ${LIMIT}s)" >>"$log"
        echo "FAIL  $label (exit $rc, ${secs}s) — last lines of $log:"
        tail -n 40 "$log" | sed 's/^/      /' ;;
    esac
}

mode=unit
for t in "$@"; do
    if [ "$t" = "--" ]; then mode=e2e; continue; fi
    if [ $mode = unit ]; then run_one "$t" "$t"; else run_one "$t" sh "$t"; fi
done

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

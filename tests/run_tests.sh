#!/bin/sh
# tests/run_tests.sh — run every unit suite and end-to-end script of `make test`.
#
# Usage: run_tests.sh [-j N] UNIT_BINARY... -- E2E_SCRIPT...
# A unit binary is a Check suite (exit 0 = all checks passed). An end-to-end
# script exits 0 to pass, 77 to skip (with a reason on stdout), anything else
# to fail. Every test runs under a time limit (TEST_TIMEOUT, default 600 s)
# so a hang fails instead of blocking CI.
#
# Tests run N at a time (-j N, else TEST_JOBS, else the number of CPUs), the
# longest of the previous run first; each writes its own log under
# build/test-logs/. An end-to-end script whose header has the line
# "# run_tests: serial" (it asserts a latency, so load would make it flaky)
# runs alone after the others. The summary lists the tests in the order
# given, whatever order they finished in, and the last line is
# "tests: N passed, N failed, N skipped".
#
# Must never: let one test's output land in another's log, or depend on the
# order tests finish in.
set -u
BUILD=${BUILD:-build}
LIMIT=${TEST_TIMEOUT:-600}
export BUILD LIMIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
log_dir="$BUILD/test-logs"
export log_dir

log_of() { echo "$log_dir/$(echo "$1" | tr '/ ' '__')"; }

# --one MODE LABEL: run one test (called through xargs); writes LOG.log and
# LOG.result ("RC SECONDS").
if [ "${1:-}" = "--one" ]; then
    mode=$2 label=$3
    log=$(log_of "$label")
    start=$(date +%s)
    if [ "$mode" = unit ]; then
        timeout -k 10 "$LIMIT" "$label" >"$log.log" 2>&1 </dev/null
    else
        timeout -k 10 "$LIMIT" sh "$label" >"$log.log" 2>&1 </dev/null
    fi
    rc=$?
    secs=$(($(date +%s) - start))
    [ $rc -eq 124 ] && echo "      (timed out after ${LIMIT}s)" >>"$log.log"
    echo "$rc $secs" >"$log.result"
    echo "$secs" >"$log.secs"
    exit 0
fi

jobs=${TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
if [ "${1:-}" = "-j" ]; then
    jobs=$2
    shift 2
fi
case $jobs in '' | *[!0-9]* | 0) echo "run_tests.sh: bad job count '$jobs'" >&2; exit 2 ;; esac
mkdir -p "$log_dir"

# One line per test, "MODE LABEL", in the order given.
list="$log_dir/.list"
: >"$list"
mode=unit
for t in "$@"; do
    if [ "$t" = "--" ]; then mode=e2e; continue; fi
    echo "$mode $t" >>"$list"
    rm -f "$(log_of "$t").result"
done

is_serial() { [ "$1" = e2e ] && grep -q '^# run_tests: serial' "$2" 2>/dev/null; }

# MODE LABEL lines of the pool, longest previous duration first (unknown: 1000 s).
: >"$log_dir/.pool"
: >"$log_dir/.serial"
while read -r m t; do
    if is_serial "$m" "$t"; then
        echo "$m $t" >>"$log_dir/.serial"
    else
        secs=$(cat "$(log_of "$t").secs" 2>/dev/null || echo 1000)
        echo "$secs $m $t" >>"$log_dir/.pool"
    fi
done <"$list"

self=$0
sort -rn -s -k1,1 "$log_dir/.pool" | cut -d' ' -f2- | tr '\n' '\0' |
    xargs -0 -r -P "$jobs" -n 1 sh -c 'sh "$0" --one ${1%% *} "${1#* }"' "$self"
while read -r m t; do
    sh "$self" --one "$m" "$t"
done <"$log_dir/.serial"

passed=0 failed=0 skipped=0 failures=""
while read -r m t; do
    log=$(log_of "$t")
    set -- $(cat "$log.result" 2>/dev/null || echo "1 0")
    rc=$1 secs=$2
    case $rc in
    0)  passed=$((passed + 1))
        summary=$(grep -E '^[0-9]+%: Checks:' "$log.log" | tail -n 1)
        echo "PASS  $t (${secs}s) $summary" ;;
    77) skipped=$((skipped + 1))
        echo "SKIP  $t: $(tail -n 1 "$log.log")" ;;
    *)  failed=$((failed + 1)); failures="$failures $t"
        echo "FAIL  $t (exit $rc, ${secs}s) — last lines of $log.log:"
        tail -n 40 "$log.log" | sed 's/^/      /' ;;
    esac
done <"$list"

echo
[ -n "$failures" ] && echo "failed:$failures"
echo "tests: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]

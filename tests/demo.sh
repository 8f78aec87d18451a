#!/bin/sh
# tests/demo.sh — `make demo`: the DESIGN §1 scenario on the simulated driver.
# Runs build/workloads/writeback twice: correct (--bug=none), then with the
# real root cause planted (--bug=foreign-handle): the watcher queries the
# address of another object instead of the event, dies with tasks in hand,
# and the next test waits for a buffer that never comes back (cut short by
# --timeout=5).
#
# DEMO_WRAP, when set, prefixes each run (e.g. "build/cuguard run --"), so a
# later stage can show the same runs under cuguard.
set -u
BUILD=${BUILD:-build}
FAKE=$BUILD/fakecuda
WRAP=${DEMO_WRAP:-}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

for product in "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "demo: missing $product (run make first)" >&2
        exit 1
    fi
done

# scenario TITLE ARGS... — runs writeback, prints a readable digest of its output.
scenario() {
    title=$1
    shift
    echo
    echo "=== $title"
    echo "\$ LD_LIBRARY_PATH=$FAKE ${WRAP:+$WRAP }$BUILD/workloads/writeback $*"
    # shellcheck disable=SC2086 # WRAP is a command prefix
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 $WRAP "$BUILD/workloads/writeback" "$@" >"$OUT" 2>&1
    rc=$?
    calls=$(grep -c '^call ' "$OUT")
    polls=$(awk '/^spin / { split($4, c, "="); n += c[2] } END { print n + 0 }' "$OUT")
    echo "    ($calls lifecycle calls, $polls not-ready polls; the lines that tell the story:)"
    grep -v '^call \|^spin ' "$OUT" | sed 's/^/    /'
    echo "    last calls of each thread:"
    # shellcheck disable=SC2013 # thread names are single words
    for thread in $(sed -n 's/^call .* thread=\([^ ]*\).*/\1/p' "$OUT" | sort -u); do
        grep "^call .* thread=$thread" "$OUT" | tail -n 2 | sed 's/^/      /'
    done
    case $rc in
    0) echo "    exit 0: every test got its data back" ;;
    2) echo "    exit 2: wrong data came back" ;;
    3) echo "    exit 3: a wait never finished; --timeout cut the hang short" ;;
    124 | 137) echo "    killed after 60 s: the run hung" ;;
    *) echo "    exit $rc" ;;
    esac
}

scenario "correct program (--bug=none)" --bug=none
scenario "the real root cause (--bug=foreign-handle)" --bug=foreign-handle --timeout=5
echo
echo "The second run hangs in test 2: look for the cuEventQuery with result=400"
echo "(CUDA_ERROR_INVALID_HANDLE) on a handle that no cuEventCreate returned."
exit 0

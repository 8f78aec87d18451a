#!/bin/sh
# 11_writeback.sh — the seed scenario (docs/design.md) (build/workloads/writeback and
# tests/workloads/writeback.py) on the simulator:
#   - --bug=none returns the data computed on the host, the same checksum on
#     every run, with FAKECUDA_DELAY_US=2000, and in C and in Python;
#   - each planted bug shows the way it should: leak and stale-stream still
#     give correct data, reuse-inflight gives wrong data, shared-destroy,
#     foreign-handle and watcher-dies strand tasks so the run gives up at its
#     --timeout (exit 3); foreign-handle queries a handle no create returned,
#     shared-destroy one that was destroyed;
#   - --bug=hang, and --bug=none with FAKECUDA_STALL_STREAM=1, block: still
#     running when `timeout` kills them (exit 124).
set -u
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
FAKE=$BUILD/fakecuda
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0

fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

for product in "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"; do
    if [ ! -e "$product" ]; then
        echo "missing $product (run make first)"
        exit 1
    fi
done

# run LABEL LIMIT [VAR=VALUE...] -- IMPL ARGS... : sets $rc, output in $WORK/LABEL.out
run() {
    label=$1 limit=$2
    shift 2
    vars=""
    while [ "$1" != "--" ]; do
        vars="$vars $1"
        shift
    done
    shift
    impl=$1
    shift
    if [ "$impl" = c ]; then
        set -- "$BUILD/workloads/writeback" "$@"
    else
        set -- "$PYTHON" tests/workloads/writeback.py "$@"
    fi
    # shellcheck disable=SC2086 # vars is a list of VAR=VALUE words
    env LD_LIBRARY_PATH="$FAKE" $vars timeout -k 5 "$limit" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err"
    rc=$?
}

show() { # LABEL — the end of a run's output, for a failure message
    tail -n 15 "$WORK/$1.out" | sed 's/^/    out: /'
    tail -n 5 "$WORK/$1.err" | sed 's/^/    err: /'
}

# The "checksum=GOT expected=WANT" line of a run, as "GOT WANT".
final_sums() {
    sed -n 's/^checksum=\(0x[0-9a-f]*\) expected=\(0x[0-9a-f]*\)$/\1 \2/p' "$WORK/$1.out"
}

expect_correct() { # LABEL — exit 0 and the data computed on the host
    # shellcheck disable=SC2046 # two words wanted
    set -- "$1" $(final_sums "$1")
    if [ $rc -ne 0 ] || [ $# -ne 3 ] || [ "$2" != "$3" ]; then
        fail "$1: exit $rc, checksum '$2' expected '${3:-}'"
        show "$1"
        return 1
    fi
    echo "ok: $1 checksum $2"
}

reference=""
for impl in c py; do
    for attempt in 1 2 3; do
        run "$impl-none-$attempt" 60 -- "$impl" --bug=none
        expect_correct "$impl-none-$attempt" || continue
        got=$(final_sums "$impl-none-$attempt" | cut -d' ' -f1)
        [ -z "$reference" ] && reference=$got
        [ "$got" = "$reference" ] || fail "$impl-none-$attempt: checksum $got differs from $reference"
    done
    run "$impl-none-delay" 120 FAKECUDA_DELAY_US=2000 -- "$impl" --bug=none
    if expect_correct "$impl-none-delay"; then
        got=$(final_sums "$impl-none-delay" | cut -d' ' -f1)
        [ "$got" = "$reference" ] || fail "$impl-none-delay: checksum $got differs from $reference"
    fi

    for mode in leak stale-stream; do
        run "$impl-$mode" 60 -- "$impl" --bug=$mode --timeout=30
        expect_correct "$impl-$mode"
    done

    # A slow "kernel" makes sure the watcher's per-task timeout fires first.
    run "$impl-reuse-inflight" 60 -- "$impl" --bug=reuse-inflight --work-us=20000 --timeout=30
    # shellcheck disable=SC2046 # two words wanted
    set -- $(final_sums "$impl-reuse-inflight")
    if [ $rc -ne 2 ] || [ $# -ne 2 ] || [ "$1" = "$2" ]; then
        fail "$impl-reuse-inflight: exit $rc (want 2, wrong data), checksums '$*'"
        show "$impl-reuse-inflight"
    else
        echo "ok: $impl-reuse-inflight gives wrong data"
    fi

    for mode in shared-destroy foreign-handle watcher-dies hang; do
        run "$impl-$mode" 30 -- "$impl" --bug=$mode --timeout=2
        if [ $rc -ne 3 ] || ! grep -q '^timeout ' "$WORK/$impl-$mode.out"; then
            fail "$impl-$mode --timeout=2: exit $rc, want 3 after a timeout line"
            show "$impl-$mode"
        else
            echo "ok: $impl-$mode gave up at its timeout"
        fi
    done

    # foreign-handle: the failed query names a handle no cuEventCreate returned.
    awk '/^call cuEventCreate / { created[$3] = 1 }
         /^call cuEventQuery / && / result=400 / { bad = $3; foreign = !($3 in created) }
         END { exit !(bad != "" && foreign) }' "$WORK/$impl-foreign-handle.out" ||
        fail "$impl-foreign-handle: no failed cuEventQuery of a never-created handle"
    # shared-destroy: the failed query names a handle destroyed before it.
    awk '/^call cuEventDestroy / { destroyed[$3] = 1 }
         /^call cuEventCreate / { delete destroyed[$3] }
         /^call cuEventQuery / && / result=400 / { stale = ($3 in destroyed) }
         END { exit !stale }' "$WORK/$impl-shared-destroy.out" ||
        fail "$impl-shared-destroy: no failed cuEventQuery of a destroyed handle"
    grep -q '^watcher: dies' "$WORK/$impl-watcher-dies.out" ||
        fail "$impl-watcher-dies: the watcher did not die"

    # Blocking: both are still running when timeout kills them.
    run "$impl-hang-blocks" 4 -- "$impl" --bug=hang
    if [ $rc -eq 124 ]; then
        echo "ok: $impl --bug=hang blocks"
    else
        fail "$impl --bug=hang: exit $rc, want 124 (still running)"
        show "$impl-hang-blocks"
    fi
    run "$impl-stall-blocks" 4 FAKECUDA_STALL_STREAM=1 -- "$impl" --bug=none
    if [ $rc -eq 124 ]; then
        echo "ok: $impl under FAKECUDA_STALL_STREAM=1 blocks"
    else
        fail "$impl stalled stream: exit $rc, want 124 (still running)"
        show "$impl-stall-blocks"
    fi

    # Bad input: one message, status 1 (C) or 2 (argparse), no traceback.
    run "$impl-bad" 10 -- "$impl" --bug=bogus
    if [ $rc -ne 1 ] && [ $rc -ne 2 ] || grep -q Traceback "$WORK/$impl-bad.err" ||
        [ ! -s "$WORK/$impl-bad.err" ]; then
        fail "$impl --bug=bogus: exit $rc"
        show "$impl-bad"
    fi
done

[ $failures -eq 0 ] || exit 1
echo "writeback behaves as planted"

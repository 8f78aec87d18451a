#!/bin/sh
# bench/stacks.sh — the added cost of call stacks (docs/stacks.md).
#
# build/bench/percall on the null driver, traced, with stacks (the default
# CUGUARD_STACK_DEPTH=8) and without (CUGUARD_STACK_DEPTH=0): the difference
# is what stack capture costs per create/destroy pair (two stacks, both seen
# before: unwind + cache hit) and per query (the innermost frame only, as
# without stacks: the difference must be ~0). ns: median of STACKS_REPS x
# STACKS_CALLS calls; instr: callgrind, the timed loop only. Then the three
# unwinders measured on this host (build/bench/unwinders). Never fails on
# timing.
#
# Environment: BUILD (build), STACKS_CALLS (100000), STACKS_REPS (5),
# CALLGRIND_CALLS (20000), BENCH_TMP (trace directory parent).
set -u
BUILD=${BUILD:-build}
CALLS=${STACKS_CALLS:-100000}
REPS=${STACKS_REPS:-5}
CG_CALLS=${CALLGRIND_CALLS:-20000}
NULLDRV=$BUILD/bench/null
PERCALL=$BUILD/bench/percall
SHIM=$(cd "$BUILD" 2>/dev/null && pwd)/libcuguard.so
for product in "$PERCALL" "$NULLDRV/libcuda.so.1" "$SHIM" "$BUILD/bench/unwinders"; do
    [ -e "$product" ] || { echo "stacks bench: $product missing (make bench builds it)"; exit 1; }
done
default_tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && default_tmp=/dev/shm
WORK=$(mktemp -d "${BENCH_TMP:-$default_tmp}/cuguard-stacks-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

run() { # run DEPTH COMMAND...
    depth=$1
    shift
    rm -rf "$WORK/t"
    env -u CUGUARD_POLICY CUGUARD_STACK_DEPTH="$depth" CUGUARD_DIR="$WORK/t" \
        LD_PRELOAD="$SHIM" LD_LIBRARY_PATH="$NULLDRV" "$@"
}

have_callgrind=0
command -v valgrind >/dev/null 2>&1 && have_callgrind=1
echo "== call stacks: added cost per call (null driver, traced; depth 8 vs 0)"
printf '%-15s %12s %12s %10s %12s %12s %10s\n' op "ns depth 0" "ns depth 8" "+ns" \
    "instr d=0" "instr d=8" "+instr"
for op in query create-destroy hostalloc-free; do
    line="$op"
    for depth in 0 8; do
        ns=$(run $depth timeout 300 "$PERCALL" "$op" 1 "$CALLS" "$REPS" 2>/dev/null |
            awk 'NF == 4 { print $3 }')
        line="$line ${ns:-NA}"
    done
    for depth in 0 8; do
        ir=NA
        if [ $have_callgrind -eq 1 ]; then
            run $depth valgrind --tool=callgrind --collect-atstart=no \
                --toggle-collect=measured_loop --callgrind-out-file="$WORK/cg.out" \
                "$PERCALL" "$op" 1 "$CG_CALLS" 1 >/dev/null 2>&1
            ir=$(awk -v n="$CG_CALLS" '/^summary:/ { printf "%.0f", $2 / n }' "$WORK/cg.out" \
                2>/dev/null)
            rm -f "$WORK/cg.out"
        fi
        line="$line ${ir:-NA}"
    done
    echo "$line" | awk '
        function d(a, b) { return (a == "NA" || b == "NA") ? "NA" : sprintf("%+.1f", b - a) }
        { printf "%-15s %12s %12s %10s %12s %12s %10s\n", $1, $2, $3, d($2, $3), $4, $5, d($4, $5) }'
done
echo "(create-destroy and hostalloc-free: per pair, two stacks; query: innermost frame only)"
echo
echo "== unwinders on this host (8 frames, through libc built without frame pointers)"
"$BUILD/bench/unwinders" 200000
exit 0

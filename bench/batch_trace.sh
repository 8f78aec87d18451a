#!/bin/sh
# bench/batch_trace.sh — ns and instructions per record for taking trace
# slots: the writer's per-thread batches (format.h "Batches") beside the
# baseline of one shared atomic add per record (the version 3 scheme),
# measured in the same run, 1 and 2 threads. Never fails on timing.
#
# Environment: BUILD (build), BATCH_RECORDS (2000000 per thread),
# BENCH_TMP (directory for the trace, default /dev/shm, else TMPDIR).
set -u
BUILD=${BUILD:-build}
N=${BATCH_RECORDS:-2000000}
BIN=$BUILD/bench/batch_trace
[ -x "$BIN" ] || { echo "batch bench: $BIN missing (make bench builds it)"; exit 1; }
default_tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && default_tmp=/dev/shm
WORK=$(mktemp -d "${BENCH_TMP:-$default_tmp}/cuguard-batch-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "== taking trace slots: ns per record (reserve, fill, publish; $N records per thread)"
printf '%-8s %12s %12s\n' threads "shared ns" "batch ns"
for thr in 1 2; do
    s=$("$BIN" shared "$thr" "$N" "$WORK/t" | awk '{ print $3 }')
    rm -rf "$WORK/t"
    b=$("$BIN" batch "$thr" "$N" "$WORK/t" | awk '{ print $3 }')
    rm -rf "$WORK/t"
    printf '%-8s %12s %12s\n' "$thr" "${s:-NA}" "${b:-NA}"
done
if command -v valgrind >/dev/null 2>&1; then
    cg_n=200000
    printf '%-8s %12s %12s\n' "instr" "shared" "batch"
    line="1"
    for mode in shared batch; do
        valgrind --tool=callgrind --collect-atstart=no --toggle-collect=measured_loop \
            --callgrind-out-file="$WORK/cg.out" "$BIN" "$mode" 1 "$cg_n" "$WORK/t" >/dev/null 2>&1
        ir=$(awk '/^summary:/ { print $2 }' "$WORK/cg.out" 2>/dev/null)
        line="$line $(awk -v ir="${ir:-0}" -v n="$cg_n" 'BEGIN { printf "%.1f", ir / n }')"
        rm -rf "$WORK/t" "$WORK/cg.out"
    done
    echo "$line" | awk '{ printf "%-8s %12s %12s  (instructions per record, 1 thread)\n", "callgrind", $2, $3 }'
fi
exit 0

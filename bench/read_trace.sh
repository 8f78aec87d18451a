#!/bin/sh
# bench/read_trace.sh — ns and instructions per record for reading a
# version 4 trace (tracer/reader.h) in the order of format.h "Batches",
# beside the baseline of the same file read in slot order (batch_records
# set to 0 in a copy), measured in the same run, 1 and 2 writer threads.
# The difference is the merge's cost. Never fails on timing.
#
# Environment: BUILD (build), READ_RECORDS (4000000 in all),
# BENCH_TMP (directory for the traces, default /dev/shm, else TMPDIR).
set -u
BUILD=${BUILD:-build}
N=${READ_RECORDS:-4000000}
W=$BUILD/bench/batch_trace
R=$BUILD/bench/read_trace
for b in "$W" "$R"; do
    [ -x "$b" ] || { echo "read bench: $b missing (make bench builds it)"; exit 1; }
done
default_tmp=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && default_tmp=/dev/shm
WORK=$(mktemp -d "${BENCH_TMP:-$default_tmp}/cuguard-read-XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# best of three runs: ns per record of `read_trace FILE batch`
best_ns() {
    for i in 1 2 3; do "$R" "$1" batch | awk '{ print $2 }'; done | sort -n | head -n 1
}

instr() {
    command -v valgrind >/dev/null 2>&1 || { echo NA; return; }
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=measured_read \
        --callgrind-out-file="$WORK/cg.out" "$R" "$1" batch >/dev/null 2>&1
    awk -v n="$2" '/^summary:/ { printf "%.1f", $2 / n }' "$WORK/cg.out" 2>/dev/null
    rm -f "$WORK/cg.out"
}

echo "== reading a trace: ns per record (cg_reader_next_batch, $N records, best of 3)"
printf '%-8s %12s %12s %12s %12s\n' threads "slot ns" "merged ns" "slot instr" "merged instr"
for thr in 1 2; do
    "$W" batch "$thr" $((N / thr)) "$WORK/t$thr" >/dev/null || exit 1
    f=$(ls "$WORK/t$thr"/*.cgt)
    "$R" --slot-order "$f" "$WORK/slots$thr.cgt" || exit 1
    a=$("$R" "$f" batch | awk '{ print $3 }')
    b=$("$R" "$f" next | awk '{ print $3 }')
    [ "$a" = "$b" ] || { echo "read bench: cg_reader_next and _batch disagree on the order"; exit 1; }
    s=$(best_ns "$WORK/slots$thr.cgt")
    m=$(best_ns "$f")
    # callgrind over a smaller trace of the same kind (load does not move it)
    "$W" batch "$thr" $((400000 / thr)) "$WORK/c$thr" >/dev/null || exit 1
    c=$(ls "$WORK/c$thr"/*.cgt)
    "$R" --slot-order "$c" "$WORK/cslots$thr.cgt" || exit 1
    cn=$("$R" "$c" batch | awk '{ print $1 }')
    printf '%-8s %12s %12s %12s %12s\n' "$thr" "$s" "$m" "$(instr "$WORK/cslots$thr.cgt" "$cn")" \
        "$(instr "$c" "$cn")"
    rm -rf "$WORK/t$thr" "$WORK/c$thr" "$WORK"/*.cgt
done
echo "(each figure includes the bench's own checksum of every record, about 40 instructions)"

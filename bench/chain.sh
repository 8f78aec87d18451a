#!/bin/sh
# bench/chain.sh — analyzer cost on chained cross-stream waits: S streams,
# each waiting on the previous stream's event (build/bench/gen_trace
# --chain S), `cuguard report` time and peak RSS. The join of sparse clocks
# is a merge, so time grows about with S² entries joined, not S³ (S=4000
# took 96 s with a linear-scan insert).
# Usage: bench/chain.sh [STREAMS...]   (default: 2000 4000 8000)
set -u
BUILD=${BUILD:-build}
for product in "$BUILD/cuguard" "$BUILD/bench/gen_trace" /usr/bin/time; do
    if [ ! -x "$product" ]; then
        echo "chain bench: $product missing (make bench builds it)"
        exit 1
    fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cuguard-chain-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
[ $# -gt 0 ] || set -- 2000 4000 8000

echo "== analyzer: chained cross-stream waits (cuguard report)"
printf '%-8s %10s %12s %10s  %s\n' streams "file KiB" "peak RSS" seconds "target: S=8000 well under 120 s"
for streams in "$@"; do
    rm -f "$WORK"/*.cgt
    if ! "$BUILD/bench/gen_trace" --chain "$streams" "$WORK/chain.cgt"; then
        echo "chain bench: could not write a $streams-stream trace"
        exit 1
    fi
    kib=$(( $(wc -c <"$WORK/chain.cgt") / 1024 ))
    if ! /usr/bin/time -f '%e %M' -o "$WORK/time" "$BUILD/cuguard" report "$WORK" >/dev/null; then
        echo "chain bench: cuguard report failed on $streams streams"
        exit 1
    fi
    read -r secs rss <"$WORK/time"
    printf '%-8s %10s %9s MiB %10s\n' "$streams" "$kib" "$((rss / 1024))" "$secs"
done

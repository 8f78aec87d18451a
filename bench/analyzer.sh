#!/bin/sh
# bench/analyzer.sh — analyzer throughput: `cuguard report --format json` on
# synthetic traces of 10M and 50M records (build/bench/gen_trace), printing
# records/s and peak RSS, beside the time `cat` takes to read the same file
# (the floor: what reading it costs). Peak RSS must stay flat as the trace
# grows (memory follows live objects, not trace length). Then instructions per
# record (callgrind, 1M records), when valgrind is installed. Seconds are the
# median of RUNS runs (default 5; min and max beside it), timed in
# milliseconds: /usr/bin/time's 10 ms steps are 5% of a 0.2 s run.
# Usage: bench/analyzer.sh [RECORDS...]   (default: 10000000 50000000)
set -u
BUILD=${BUILD:-build}
for product in "$BUILD/cuguard" "$BUILD/bench/gen_trace" /usr/bin/time; do
    if [ ! -x "$product" ]; then
        echo "analyzer bench: $product missing (make bench builds it)"
        exit 1
    fi
done
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cuguard-bench-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
[ $# -gt 0 ] || set -- 10000000 50000000
RUNS=${RUNS:-5}

# now_ms: wall clock in milliseconds (GNU date).
now_ms() {
    date +%s%3N
}

# median_of FILE: "median min max" of the numbers in FILE, one per line.
median_of() {
    sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# time_runs OUT CMD...: run CMD RUNS times (stdout to OUT), the seconds of
# each run to $WORK/secs; a failed run ends the bench.
time_runs() {
    out=$1
    shift
    : >"$WORK/secs"
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(now_ms)
        "$@" >"$out" 2>"$WORK/err" || {
            echo "analyzer bench: $* failed: $(tail -n 2 "$WORK/err")"
            exit 1
        }
        t1=$(now_ms)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1000 }' >>"$WORK/secs"
        i=$((i + 1))
    done
}

echo "== analyzer: cuguard report --format json on synthetic traces"
echo "(seconds: the median of $RUNS runs, min-max beside it; records/s from the median)"
printf '%-12s %10s %14s %12s %20s %8s  %s\n' records "file MiB" "records/s" "peak RSS" seconds \
    "cat s" "targets: >= 50M/s, RSS flat"
first_rss=
for records in "$@"; do
    rm -f "$WORK"/*.cgt
    if ! "$BUILD/bench/gen_trace" "$records" "$WORK/bench.cgt"; then
        echo "analyzer bench: could not write a $records-record trace"
        exit 1
    fi
    mib=$(( $(wc -c <"$WORK/bench.cgt") / 1048576 ))
    time_runs /dev/null cat "$WORK/bench.cgt"
    read -r cat_secs cat_min cat_max <<MEDIAN
$(median_of "$WORK/secs")
MEDIAN
    time_runs "$WORK/report.json" "$BUILD/cuguard" report --format json "$WORK"
    read -r secs secs_min secs_max <<MEDIAN
$(median_of "$WORK/secs")
MEDIAN
    /usr/bin/time -f '%M' -o "$WORK/time" "$BUILD/cuguard" report --format json "$WORK" \
        >/dev/null 2>"$WORK/err" || { echo "analyzer bench: report failed"; exit 1; }
    read -r rss_kib <"$WORK/time"
    rate=$(awk -v n="$records" -v s="$secs" 'BEGIN { if (s <= 0) s = 0.01; printf "%.0f", n / s }')
    rss=$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')
    [ -n "$first_rss" ] || first_rss=$rss
    verdict=$(awk -v r="$rate" -v m="$rss" -v f="$first_rss" 'BEGIN {
        rate = (r >= 50000000) ? "rate ok" : "rate MISS"
        flat = (m <= f * 1.25 + 1) ? "RSS flat" : "RSS GROWS"
        printf "%s, %s", rate, flat }')
    printf '%-12s %10s %14s %9s MiB %20s %8s  %s\n' "$records" "$mib" "$rate" "$rss" \
        "$secs ($secs_min-$secs_max)" "$cat_secs" "$verdict"
done

# Instructions per record (callgrind, when valgrind is installed, on a 1M-record
# trace of the same shape): the figure the machine's load does not move.
if command -v valgrind >/dev/null 2>&1; then
    rm -f "$WORK"/*.cgt
    if "$BUILD/bench/gen_trace" 1000000 "$WORK/bench.cgt" &&
        valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$BUILD/cuguard" report \
            --format json "$WORK" >/dev/null 2>"$WORK/cg.err"; then
        awk '/refs:/ { gsub(",", "", $NF); printf "instructions/record (callgrind, 1M records): %.0f\n", $NF / 1000000 }' \
            "$WORK/cg.err"
    else
        echo "analyzer bench: callgrind run failed: $(tail -n 2 "$WORK/cg.err")"
    fi
else
    echo "(valgrind not installed: no instructions/record)"
fi

# -j: 4 traces (hard links of one 5M-record trace: 4 processes) replayed on
# one thread, then on 2; the report must be the same (tests/e2e/47).
echo "== analyzer: cuguard report -j on 4 traces x 5M records (wall, user, sys s; peak RSS)"
rm -f "$WORK"/*.cgt
if ! "$BUILD/bench/gen_trace" 5000000 "$WORK/p0.cgt"; then
    echo "analyzer bench: could not write a 5M-record trace"
    exit 1
fi
for i in 1 2 3; do ln "$WORK/p0.cgt" "$WORK/p$i.cgt" || cp "$WORK/p0.cgt" "$WORK/p$i.cgt"; done
for j in 1 2; do
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/time" "$BUILD/cuguard" report -j$j --format json "$WORK" \
        >"$WORK/report-j$j.json" 2>"$WORK/err" || { echo "analyzer bench: -j$j failed"; exit 1; }
    read -r secs user sys rss_kib <"$WORK/time"
    printf '  -j%s  %8s s wall  %8s s user  %8s s sys  %8s KiB\n' "$j" "$secs" "$user" "$sys" \
        "$rss_kib"
done
cmp -s "$WORK/report-j1.json" "$WORK/report-j2.json" && echo "  same report" ||
    echo "  REPORTS DIFFER"

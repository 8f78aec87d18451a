#!/bin/sh
# run_tests: serial (asserts how soon the watchdog speaks; load would make it flaky)
# 38_watchdog_hang.sh — the watchdog explains `writeback --bug=hang` live.
#
# The hang mode enqueues a host function that never returns; the watcher
# thread then polls the batch events forever. Under `cuguard run --watchdog
# 2` the hang report must appear on stderr within limit + 2 s of the start
# (the stall begins a few ms after it), name the stalled event, its stream
# and the polling thread ("watcher"), and agree with the trace: the event was
# recorded on that stream, and a STALL record names the same event and
# thread, written between 2 and 4 s after the thread began polling it.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
limit=2
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(now_ms)
timeout -s KILL 20 "$CUGUARD" run --dir "$WORK/t" --watchdog $limit --no-report -- \
    env LD_LIBRARY_PATH=$FAKE "$BUILD/workloads/writeback" --bug=hang >"$WORK/out" 2>"$WORK/err" &
run=$!
seen=""
while [ -z "$seen" ] && [ $(( $(now_ms) - start )) -lt 10000 ]; do
    grep -q '^cuguard: end of hang report$' "$WORK/err" && seen=$(now_ms)
    sleep 0.05
done
kill -TERM $run 2>/dev/null
wait $run
if [ -z "$seen" ]; then
    fail "no hang report within 10 s; stderr: $(tail -n 5 "$WORK/err")"
    finish
fi
elapsed=$((seen - start))
[ $elapsed -le $(( (limit + 2) * 1000 )) ] ||
    fail "hang report after ${elapsed} ms (limit ${limit} s + 2 s)"
grep -q "^cuguard: HANG REPORT (pid [0-9]*, watchdog limit $limit s): 1 thread stuck$" "$WORK/err" ||
    fail "no report title: $(head -n 1 "$WORK/err")"
# thread T "watcher" polling cuEventQuery(event 0xE) for ... recorded on stream 0xS by thread M ...
line=$(grep -m 1 '^cuguard:   thread [0-9]* "watcher" polling cuEventQuery(event 0x[0-9a-f]*) for [0-9.]* s .*recorded on stream 0x[0-9a-f]* by thread [0-9]* "writeback" .*, not complete$' "$WORK/err")
[ -n "$line" ] || fail "the report names no polling watcher with its event and stream:
$(sed 's/^/    /' "$WORK/err")"
set -- $(echo "$line" | sed 's/^cuguard:   thread \([0-9]*\) .*(event \(0x[0-9a-f]*\)).*recorded on stream \(0x[0-9a-f]*\) .*/\1 \2 \3/')
watcher=${1:-0} event=${2:-none} stream=${3:-none}
grep -q "^cuguard:     event $event recorded on stream $stream by .*; polled by thread $watcher \"watcher\" for " "$WORK/err" ||
    fail "the pending-event list does not show $event on $stream polled by $watcher"
grep -q "^cuguard:     thread [0-9]* \"writeback\": .*; not in a CUDA call now$" "$WORK/err" ||
    fail "the last calls do not show the main thread outside CUDA (it waits host-side)"
if "$CUGUARD" dump "$WORK/t" >"$WORK/dump" 2>"$WORK/dump.err"; then
    grep -q " call cuEventRecord event=$event stream=$stream result=CUDA_SUCCESS" "$WORK/dump" ||
        fail "the trace has no record of $event on $stream"
    stall=$(grep " stall cuEventQuery handle=$event thread=$watcher for=" "$WORK/dump" | head -n 1)
    [ -n "$stall" ] || fail "no stall record for $event and thread $watcher:
$(grep ' stall ' "$WORK/dump" | head -n 3)"
    n=$(grep -c " stall cuEventQuery handle=$event thread=$watcher " "$WORK/dump")
    [ "$n" -eq 1 ] || fail "$n stall records for one stuck episode (expected 1)"
    stuck=$(echo "$stall" | sed 's/.* for=\([0-9.]*\)s.*/\1/')
    awk -v s="$stuck" -v l=$limit 'BEGIN { exit !(s >= l && s <= l + 2) }' ||
        fail "stall record says stuck for ${stuck} s (expected between $limit and $((limit + 2)))"
    [ $failures -eq 0 ] && echo "ok: report after ${elapsed} ms names $event on $stream polled by watcher $watcher; stall record for=${stuck}s"
else
    fail "cuguard dump rejected the trace: $(head -n 1 "$WORK/dump.err")"
fi
finish

#!/bin/sh
# run_tests: serial (asserts how soon the watchdog speaks; load would make it flaky)
# 3B_watchdog_orphaned.sh — the watchdog explains a wait nobody can finish.
#
# The seed scenario (docs/design.md): the watcher thread dies with a task in hand and the program
# then waits in host code (wait_all spinning on a counter): no CUDA call is
# blocked. Under `cuguard run --watchdog 2`, `writeback --bug=watcher-dies`
# and `--bug=foreign-handle` must get, within limit + 2 s, a hang report
# whose orphaned-wait sentence names the event, the thread that recorded it
# and the dead "watcher", and a STALL record on that same event. A correct
# program that idles on the CPU for twice the limit after its watcher
# exited (its events seen complete, or never polled) gets neither.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
limit=2
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# orphaned BUG WORDS: run writeback --bug=BUG, expect the orphaned-wait line
# (containing WORDS) within limit + 2 s and a matching STALL record.
orphaned() {
    bug=$1 words=$2
    start=$(now_ms)
    LD_LIBRARY_PATH=$FAKE timeout -s KILL 30 "$CUGUARD" run --dir "$WORK/$bug" --watchdog $limit \
        --no-report -- "$BUILD/workloads/writeback" --bug="$bug" --timeout=8 \
        >"$WORK/$bug.out" 2>"$WORK/$bug.err" &
    run=$!
    seen=""
    while [ -z "$seen" ] && [ $(($(now_ms) - start)) -lt 10000 ]; do
        grep -q 'orphaned wait: ' "$WORK/$bug.err" && seen=$(now_ms)
        sleep 0.05
    done
    wait $run
    if [ -z "$seen" ]; then
        fail "$bug: no orphaned-wait report within 10 s: $(tail -n 5 "$WORK/$bug.err")"
        return
    fi
    [ $((seen - start)) -le $(((limit + 2) * 1000)) ] ||
        fail "$bug: orphaned-wait report after $((seen - start)) ms (limit $limit s + 2 s)"
    grep -q "^cuguard: HANG REPORT (pid [0-9]*, watchdog limit $limit s): [0-9]* orphaned wait" \
        "$WORK/$bug.err" || fail "$bug: no report title: $(grep 'HANG REPORT' "$WORK/$bug.err")"
    line=$(grep -m 1 "^cuguard:   orphaned wait: no CUDA call for [0-9.]* s: event 0x[0-9a-f]* recorded by thread [0-9]* \"writeback\" on stream 0x[0-9a-f]* .*thread [0-9]* \"watcher\".* exited [0-9.]* s ago; nobody has seen it complete$" "$WORK/$bug.err")
    if [ -z "$line" ] || ! echo "$line" | grep -q "$words"; then
        fail "$bug: the report does not name the event and the dead watcher:
$(sed 's/^/    /' "$WORK/$bug.err")"
        return
    fi
    event=$(echo "$line" | sed 's/.*: event \(0x[0-9a-f]*\) recorded.*/\1/')
    "$CUGUARD" dump "$WORK/$bug" >"$WORK/$bug.dump" 2>&1
    grep -q "stall cuEventQuery handle=$event " "$WORK/$bug.dump" ||
        fail "$bug: no STALL record on $event: $(grep ' stall ' "$WORK/$bug.dump")"
    grep -q "call cuEventRecord event=$event " "$WORK/$bug.dump" ||
        fail "$bug: $event was never recorded in the trace"
}

orphaned watcher-dies "was polled only by"
orphaned foreign-handle "got CUDA_ERROR_INVALID_HANDLE from cuEventQuery"

# quiet NAME COMMAND...: under the watchdog, no report and no STALL.
quiet() {
    name=$1
    shift
    LD_LIBRARY_PATH=$FAKE timeout -s KILL 30 "$CUGUARD" run --dir "$WORK/$name" \
        --watchdog $limit --no-report -- "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    rc=$?
    [ $rc -eq 0 ] || fail "$name exited $rc: $(tail -n 3 "$WORK/$name.err")"
    if grep -q 'HANG REPORT' "$WORK/$name.err"; then
        fail "$name: a hang report for a correct program:
$(sed 's/^/    /' "$WORK/$name.err")"
    fi
    "$CUGUARD" dump "$WORK/$name" >"$WORK/$name.dump" 2>&1
    if grep -q ' stall ' "$WORK/$name.dump"; then
        fail "$name: a STALL record for a correct program"
    fi
}
quiet none "$BUILD/workloads/writeback" --bug=none --timeout=20
quiet idle "$PYTHON" tests/e2e/watchdog_probe.py idle $((limit * 2 + 1))
grep -q idle-done "$WORK/idle.out" || fail "idle: the probe did not finish: $(cat "$WORK/idle.err")"
finish

#!/bin/sh
# 39_watchdog_quiet_and_signal.sh — no false stalls; the report on demand.
#
# 1. `writeback --bug=none` (about 3 s, normal and with FAKECUDA_DELAY_US=2000)
#    under a 1 s watchdog prints nothing on stderr and writes no stall record.
# 2. SIGUSR2 to a running traced workload prints the hang report and the
#    workload finishes unharmed (exit 0, every checksum as expected);
#    CUGUARD_DUMP_SIGNAL=USR1 moves it to SIGUSR1; a bad value gets one warning.
# 3. A program with its own SIGUSR2 handler keeps it: one warning, its handler
#    runs, no report.
# 4. A fork child that traces gets its own watchdog: its stuck poll is
#    reported with the child's pid, and its trace holds the stall record.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
WB="$BUILD/workloads/writeback"

checksums_ok() { # stdout file: every "checksum=X expected=Y" has X = Y, and there is one
    n=$(grep -c 'checksum=' "$1")
    bad=$(sed -n 's/.*checksum=\(0x[0-9a-f]*\) expected=\(0x[0-9a-f]*\).*/\1 \2/p' "$1" |
          awk '$1 != $2' | wc -l)
    [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]
}

# 1. no false positives
for delay in 0 2000; do
    FAKECUDA_DELAY_US=$delay timeout -k 5 120 "$CUGUARD" run --dir "$WORK/q$delay" --watchdog 1 \
        --no-report -- env LD_LIBRARY_PATH=$FAKE "$WB" --bug=none --tests=30 --work-us=20000 \
        >"$WORK/q$delay.out" 2>"$WORK/q$delay.err"
    rc=$?
    [ $rc -eq 0 ] || fail "bug=none (delay $delay) exited $rc: $(tail -n 3 "$WORK/q$delay.err")"
    [ ! -s "$WORK/q$delay.err" ] || fail "bug=none (delay $delay) printed on stderr:
$(head -n 5 "$WORK/q$delay.err")"
    "$CUGUARD" dump "$WORK/q$delay" >"$WORK/q$delay.dump" 2>&1 || fail "dump rejected the trace"
    n=$(grep -c ' stall ' "$WORK/q$delay.dump")
    [ "$n" -eq 0 ] || fail "bug=none (delay $delay): $n stall record(s) (false positive)"
done

# 2. the report on demand
dump_on_signal() { # name signal-to-send [CUGUARD_DUMP_SIGNAL value]
    name=$1 sig=$2
    # Started directly (not under timeout, which would get the signal): a
    # guard kills it if it outlives 120 s.
    if [ -n "${3:-}" ]; then export CUGUARD_DUMP_SIGNAL=$3; fi
    CUGUARD_DIR="$WORK/$name" LD_PRELOAD="$SHIM" LD_LIBRARY_PATH=$FAKE \
        "$WB" --bug=none --tests=40 --work-us=20000 >"$WORK/$name.out" 2>"$WORK/$name.err" &
    pid=$!
    unset CUGUARD_DUMP_SIGNAL
    (sleep 120; kill -KILL $pid 2>/dev/null) &
    guard=$!
    waited=0
    while ! grep -q '^test 3 begin' "$WORK/$name.out" 2>/dev/null && [ $waited -lt 100 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    kill -$sig $pid
    wait $pid
    rc=$?
    kill $guard 2>/dev/null
    [ $rc -eq 0 ] || fail "$name: the workload exited $rc after SIG$sig: $(tail -n 3 "$WORK/$name.err")"
    checksums_ok "$WORK/$name.out" || fail "$name: wrong or missing checksums after SIG$sig"
    grep -q "^cuguard: HANG REPORT (pid $pid, watchdog limit 60 s): on SIG$sig$" "$WORK/$name.err" ||
        fail "$name: no report on SIG$sig: $(head -n 3 "$WORK/$name.err")"
    grep -q '^cuguard:   last calls ([0-9]* threads*):$' "$WORK/$name.err" ||
        fail "$name: the report lists no last calls"
    grep -q '^cuguard: end of hang report$' "$WORK/$name.err" || fail "$name: report not ended"
}
dump_on_signal usr2 USR2
dump_on_signal usr1 USR1 USR1

timeout -k 5 60 env CUGUARD_DIR="$WORK/bad" CUGUARD_DUMP_SIGNAL=bogus LD_PRELOAD="$SHIM" \
    LD_LIBRARY_PATH=$FAKE "$WB" --tests=1 >/dev/null 2>"$WORK/bad.err" || fail "bad signal value: run failed"
n=$(grep -c 'CUGUARD_DUMP_SIGNAL' "$WORK/bad.err")
[ "$n" -eq 1 ] || fail "CUGUARD_DUMP_SIGNAL=bogus gave $n warnings (expected 1): $(cat "$WORK/bad.err")"

# 3. the program's own handler wins
timeout -k 5 60 env LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/app" LD_PRELOAD="$SHIM" \
    "$PYTHON" tests/e2e/watchdog_probe.py app-handler >"$WORK/app.out" 2>"$WORK/app.err"
grep -q '^app-handler-ran=1$' "$WORK/app.out" || fail "the program's SIGUSR2 handler did not run once"
n=$(grep -c 'already has a handler' "$WORK/app.err")
[ "$n" -eq 1 ] || fail "expected one warning about the program's handler, got $n: $(cat "$WORK/app.err")"
! grep -q 'HANG REPORT' "$WORK/app.err" || fail "a report was printed although the program owns SIGUSR2"

# 4. fork child
FAKECUDA_STALL_STREAM=1 LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --dir "$WORK/fork" \
    --watchdog 1 --no-report -- "$PYTHON" tests/e2e/watchdog_probe.py fork-stall 2.5 \
    >"$WORK/fork.out" 2>"$WORK/fork.err"
set -- $(sed -n 's/^child=\([0-9]*\) event=\(0x[0-9a-f]*\) stream=\(0x[0-9a-f]*\)$/\1 \2 \3/p' "$WORK/fork.out")
child=${1:-0} event=${2:-none} stream=${3:-none}
grep -q '^child-status=0$' "$WORK/fork.out" || fail "fork child failed: $(cat "$WORK/fork.out")"
grep -q "^cuguard: HANG REPORT (pid $child, watchdog limit 1 s): 1 thread stuck$" "$WORK/fork.err" ||
    fail "no hang report from the fork child $child: $(head -n 3 "$WORK/fork.err")"
grep -q "polling cuEventQuery(event $event) .*recorded on stream $stream " "$WORK/fork.err" ||
    fail "the child's report does not name $event on $stream"
"$CUGUARD" dump "$WORK/fork" >"$WORK/fork.dump" 2>&1 || fail "dump rejected the fork traces"
grep -q " pid=$child .* stall cuEventQuery handle=$event " "$WORK/fork.dump" ||
    fail "the child's trace has no stall record for $event"
[ $failures -eq 0 ] && echo "ok: no false stalls; reports on SIGUSR2/SIGUSR1; app handler kept; fork child watched"
finish

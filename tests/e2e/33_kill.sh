#!/bin/sh
# 33_kill.sh — whatever a workload did before SIGKILL is in its trace.
#
# The writeback workload runs traced and slowed down (FAKECUDA_DELAY_US) and
# reports each call through a pipe as it returns; it is killed with SIGKILL in
# the middle of its run. `cuguard dump` must accept the trace (marked
# incomplete) and show every call and NOT_READY poll reported before the kill.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
mkfifo "$WORK/pipe"
cat "$WORK/pipe" >"$WORK/out" &
reader=$!
CUGUARD_DIR="$WORK/t" LD_PRELOAD="$SHIM" LD_LIBRARY_PATH=$FAKE FAKECUDA_DELAY_US=2000 \
    "$BUILD/workloads/writeback" --tests=1000 --timeout=60 >"$WORK/pipe" 2>"$WORK/err" &
workload=$!
# reported_calls: the calls the workload has reported so far (0 before the
# reader has created its output file).
reported_calls() {
    n=$(grep -c '^call ' "$WORK/out" 2>/dev/null)
    echo "${n:-0}"
}
# Kill once the run is well under way (or after 10 s at most).
waited=0
while [ "$(reported_calls)" -lt 200 ] && [ $waited -lt 100 ]; do
    sleep 0.1
    waited=$((waited + 1))
done
kill -KILL $workload 2>/dev/null
wait $workload
rc=$?
# A workload killed before it opened the FIFO leaves the reader waiting for
# a writer: open it once (bounded) so the reader sees the end and exits.
# shellcheck disable=SC2016 # $1 belongs to the inner shell
kill -0 $reader 2>/dev/null && timeout 5 sh -c ': >"$1"' sh "$WORK/pipe" 2>/dev/null
wait $reader
[ $rc -eq 137 ] || fail "the workload was not killed mid-run (exit status $rc)"
reported=$(reported_calls)
[ "$reported" -gt 0 ] || fail "the workload reported no call before the kill"
if "$CUGUARD" dump "$WORK/t" >"$WORK/dump" 2>"$WORK/dump.err"; then
    grep -q '^== trace .* complete=no' "$WORK/dump" || fail "the killed trace is not marked incomplete"
    if $CHECK --subset "$WORK/out" "$WORK/dump" >"$WORK/check"; then
        echo "ok: killed after $reported reported calls; all in the trace ($(tail -n 1 "$WORK/check"))"
    else
        fail "calls reported before the kill are missing:"
        sed 's/^/    /' "$WORK/check" | tail -n 10
    fi
else
    fail "cuguard dump rejected the killed trace: $(head -n 1 "$WORK/dump.err")"
fi
finish

#!/bin/sh
# 32_spin.sh — 1,000,000 NOT_READY polls of one event make O(1) records.
#
# One thread queries an event recorded on a stream the simulator never runs
# (FAKECUDA_STALL_STREAM=1) a million times: the trace holds fewer than 100
# records and `cuguard dump` shows one spin line whose count is the number of
# NOT_READY results the program saw.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
polls=1000000
FAKECUDA_STALL_STREAM=1 LD_LIBRARY_PATH=$FAKE timeout -k 5 300 "$CUGUARD" run --no-report \
    --dir "$WORK/t" -- "$PYTHON" tests/e2e/shim_probe.py spin $polls >"$WORK/out" 2>"$WORK/err"
rc=$?
[ $rc -eq 0 ] || fail "spin probe exited $rc: $(tail -n 3 "$WORK/err")"
set -- $(sed -n 's/^event=\(0x[0-9a-f]*\) polls=[0-9]* not_ready=\([0-9]*\)$/\1 \2/p' "$WORK/out")
event=${1:-none} not_ready=${2:-0}
[ "$not_ready" -eq $polls ] || fail "expected $polls NOT_READY results, the probe saw $not_ready"
if "$CUGUARD" dump "$WORK/t" >"$WORK/dump" 2>"$WORK/dump.err"; then
    records=$(grep -v '^==' "$WORK/dump" | grep -vc ' string ')
    [ "$records" -lt 100 ] || fail "$records records for one spinning thread (limit 100)"
    spins=$(grep -c " spin cuEventQuery event=$event count=$not_ready " "$WORK/dump")
    [ "$spins" -eq 1 ] || fail "no single spin line with count=$not_ready for $event:
$(grep ' spin ' "$WORK/dump" | head -n 5)"
    [ $failures -eq 0 ] && echo "ok: $polls polls, $records records, one spin line with the count"
else
    fail "cuguard dump rejected the trace: $(head -n 1 "$WORK/dump.err")"
fi
finish

#!/bin/sh
# 71_policy_ownership.sh — ownership defuses shared-destroy and foreign handles.
#
# writeback --bug=shared-destroy: the watcher destroys a batch's shared event
# when the first buffer completes and its other buffers query the destroyed
# handle. Without a policy the simulator answers CUDA_ERROR_INVALID_HANDLE,
# the watcher dies and the run gives up at --timeout (status 3, no correct
# checksum); on a real driver the stale query may crash. With ownership the
# destroy is deferred (the object stays alive in quarantine, so its value
# cannot be handed to a new event) and the stale queries are answered by it:
# status 0, right checksum; the report counts the deferred destroys and the
# stale calls. --bug=foreign-handle under ownership: the foreign value is
# refused (the unit suite test_policy proves a refused value never reaches
# the driver) and the report counts the refusal.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
WB="$BUILD/workloads/writeback"

LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --dir "$WORK/none" -- \
    "$WB" --bug=shared-destroy --timeout=5 >"$WORK/none.out" 2>"$WORK/none.err"
rc=$?
if [ $rc -eq 0 ]; then
    fail "shared-destroy without a policy succeeded: the test would prove nothing"
else
    echo "ok: shared-destroy without a policy fails (status $rc: $(grep -m1 'watcher:' "$WORK/none.out"))"
fi

LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --policy ownership \
    --dir "$WORK/own" -- "$WB" --bug=shared-destroy --timeout=30 >"$WORK/own.out" 2>"$WORK/own.err"
rc=$?
sums=$(sed -n 's/^checksum=\(0x[0-9a-f]*\) expected=\(0x[0-9a-f]*\)$/\1 \2/p' "$WORK/own.out")
set -- $sums
if [ $rc -ne 0 ] || [ $# -ne 2 ] || [ "$1" != "$2" ]; then
    fail "shared-destroy with ownership: status $rc, checksums '$sums'"
else
    echo "ok: shared-destroy with ownership gives the right checksum $1"
fi
"$CUGUARD" report --format json "$WORK/own" >"$WORK/own.json" 2>/dev/null
$PYTHON - "$WORK/own.json" <<'PY' || fail "shared-destroy report: interventions not counted"
import json, sys
iv = json.load(open(sys.argv[1]))["interventions"]
assert iv["deferred_destroys"] >= 1 and iv["stale_answered"] >= 1, iv
print("ok: report counts %d deferred destroys, %d stale calls answered"
      % (iv["deferred_destroys"], iv["stale_answered"]))
PY
"$CUGUARD" report "$WORK/own" >"$WORK/own.txt" 2>/dev/null
grep -q "^what cuguard changed" "$WORK/own.txt" || fail "no 'what cuguard changed' section"
grep -q "use-after-destroy" "$WORK/own.txt" || fail "the stale queries are no longer reported"

LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --policy ownership \
    --dir "$WORK/foreign" -- "$WB" --bug=foreign-handle --timeout=10 >"$WORK/foreign.out" \
    2>"$WORK/foreign.err"
foreign=$(sed -n 's/^call cuEventQuery handle=\(0x[0-9a-f]*\) .*result=400 .*/\1/p' "$WORK/foreign.out" | head -n 1)
[ -n "$foreign" ] || fail "the foreign query did not fail with CUDA_ERROR_INVALID_HANDLE"
"$CUGUARD" dump "$WORK/foreign" >"$WORK/foreign.dump" 2>/dev/null
if grep -q "action=refused handle=$foreign" "$WORK/foreign.dump"; then
    echo "ok: the foreign value $foreign was refused before the driver"
else
    fail "no refusal of $foreign in the trace"
fi
"$CUGUARD" report --format json "$WORK/foreign" 2>/dev/null |
    $PYTHON -c 'import json,sys; iv=json.load(sys.stdin)["interventions"]; sys.exit(iv["refused"] < 1)' ||
    fail "the report does not count the refused call"
finish

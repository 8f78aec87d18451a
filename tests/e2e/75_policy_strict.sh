#!/bin/sh
# 75_policy_strict.sh — CUGUARD_ON_ERROR: --strict refuses, abort aborts.
#
# `cuguard run --strict` (CUGUARD_ON_ERROR=refuse, no policy): writeback
# --bug=foreign-handle fails fast in the watcher with
# CUDA_ERROR_INVALID_HANDLE (400) and the trace shows the foreign value was
# refused before the driver (on a real driver the query could crash; the
# unit suite test_policy proves a refused call never reaches the driver).
# A correct run under --strict refuses nothing. CUGUARD_ON_ERROR=abort stops
# the program at the foreign query with a message naming the finding.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
WB="$BUILD/workloads/writeback"

start=$(date +%s)
LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --strict --dir "$WORK/strict" \
    -- "$WB" --bug=foreign-handle --timeout=20 >"$WORK/strict.out" 2>"$WORK/strict.err"
elapsed=$(($(date +%s) - start))
grep -q "^watcher: cuEventQuery failed with 400" "$WORK/strict.out" ||
    fail "the watcher did not fail with CUDA_ERROR_INVALID_HANDLE"
foreign=$(sed -n 's/^call cuEventQuery handle=\(0x[0-9a-f]*\) .*result=400 .*/\1/p' "$WORK/strict.out" | head -n 1)
"$CUGUARD" dump "$WORK/strict" >"$WORK/strict.dump" 2>/dev/null
if [ -n "$foreign" ] && grep -q "action=refused handle=$foreign" "$WORK/strict.dump"; then
    echo "ok: --strict refused $foreign before the driver; the watcher failed at once"
else
    fail "--strict did not refuse the foreign value (${foreign:-none seen})"
fi
[ "$elapsed" -lt 60 ] || fail "the strict run took ${elapsed}s"

LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report --strict --dir "$WORK/good" \
    -- "$WB" --bug=none --timeout=30 >"$WORK/good.out" 2>"$WORK/good.err" ||
    fail "a correct run fails under --strict: $(tail -n 2 "$WORK/good.err")"
"$CUGUARD" dump "$WORK/good" 2>/dev/null | grep -q "action=refused" &&
    fail "--strict refused a call of a correct program"

CUGUARD_ON_ERROR=abort LD_PRELOAD="$SHIM" LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$WB" \
    --bug=foreign-handle --timeout=20 >"$WORK/abort.out" 2>"$WORK/abort.err"
rc=$?
if [ $rc -eq 134 ] && grep -q "^cuguard: unknown-handle: cuEventQuery of 0x" "$WORK/abort.err"; then
    echo "ok: CUGUARD_ON_ERROR=abort aborts at the foreign query"
else
    fail "CUGUARD_ON_ERROR=abort: status $rc, $(tail -n 1 "$WORK/abort.err")"
fi
finish

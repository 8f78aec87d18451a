#!/bin/sh
# 89_small_trace.sh — a short traced process leaves a small trace file.
#
# A process making about 200 CUDA calls must not leave megabytes on disk: the
# first trace segment is small, segments grow only as records come, and a
# clean exit truncates the file to what was written (tracer/format.h). The
# writeback workload with 4 tests makes a little over 200 calls; its trace
# must hold every one of them in at most 64 KiB.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/writeback"
CUGUARD_DIR="$WORK/t" LD_PRELOAD="$SHIM" LD_LIBRARY_PATH=$FAKE \
    "$BUILD/workloads/writeback" --tests=4 >"$WORK/out" 2>"$WORK/err" ||
    fail "the workload failed: $(head -n 2 "$WORK/err")"
[ "$(traces "$WORK/t")" -eq 1 ] || fail "expected one trace file, found $(traces "$WORK/t")"
trace=$(find "$WORK/t" -name '*.cgt' | head -n 1)
bytes=$(wc -c <"$trace" | tr -d ' ')
calls=$("$CUGUARD" dump "$trace" 2>/dev/null | grep -c ' call ')
[ "$calls" -ge 200 ] || fail "the trace holds $calls calls, expected at least 200"
[ "$bytes" -le 65536 ] || fail "$calls calls left $bytes bytes on disk (at most 65536)"
[ $failures -eq 0 ] && echo "ok: $calls calls, $bytes bytes on disk"
finish

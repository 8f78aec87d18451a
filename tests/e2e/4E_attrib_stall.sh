#!/bin/sh
# 4E_attrib_stall.sh — issue 13: a hang points at the Python line that
# polls. tests/workloads/writeback.py --bug hang (ctypes, cuGetProcAddress
# route) under `cuguard run --watchdog 1`: the stall and blocked-at-exit
# findings name "writeback.py:LINE in sweep", the watcher's cuEventQuery
# line (a new spin record carries the stack), not libffi.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
SRC=tests/workloads/writeback.py
LINE=$(grep -n 'result = self.cu\["cuEventQuery"\](VP(task.query_handle))' $SRC | cut -d: -f1)
[ -n "$LINE" ] || { echo "FAIL: the polling line is not in $SRC"; exit 1; }
LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --watchdog 1 --no-report --dir "$WORK/run" -- \
    "$PYTHON" $SRC --bug hang --tests 2 --timeout 3 >"$WORK/out" 2>"$WORK/err"
"$CUGUARD" report --format json "$WORK/run" >"$WORK/report.json" || fail "report exited $?"
"$PYTHON" tests/e2e/attrib_check.py "$WORK/report.json" \
    "stall=writeback\.py:$LINE in sweep" "blocked-at-exit=writeback\.py:$LINE in sweep" ||
    fail "the hang does not name the polling line"
finish

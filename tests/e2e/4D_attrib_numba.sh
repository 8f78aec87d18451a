#!/bin/sh
# 4D_attrib_numba.sh — issue 13: numba.cuda on the simulator; findings name
# the user's Python line, not numba's API or cudadrv layer.
#
# tests/workloads/attrib_numba.py runs 100 tests that each keep one
# cuda.event() for ever (SITE:nb-leak) and drop one (SITE:nb-dropped, which
# numba's deferred-deallocation queue destroys later), then ends without
# numba's exit handlers:
#   - one leak.event, count 100 in 100 tasks, at "attrib_numba.py:LINE in
#     keep_event";
#   - the dropped events still queued are an info live-at-exit finding at
#     "attrib_numba.py:LINE in drop_event", never a leak warning.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
"$PYTHON" -c "import numba.cuda" 2>/dev/null || { echo "skip: no numba for $PYTHON"; exit 77; }
SRC=tests/workloads/attrib_numba.py
line() { grep -n "# SITE:$1\$" $SRC | cut -d: -f1; }
LEAK=$(line nb-leak) DROPPED=$(line nb-dropped)

NUMBA_CUDA_DRIVER=$PWD/$FAKE/libcuda.so.1 timeout -k 5 120 "$CUGUARD" run --no-report \
    --dir "$WORK/run" -- "$PYTHON" $SRC 100 >"$WORK/out" 2>"$WORK/err" ||
    fail "attrib_numba.py exited $?: $(tail -n 3 "$WORK/err")"
grep -q '^attrib_numba done$' "$WORK/out" || fail "the snippet did not finish"
"$CUGUARD" report --format json "$WORK/run" >"$WORK/report.json" || fail "report exited $?"
"$PYTHON" tests/e2e/attrib_check.py "$WORK/report.json" \
    "leak.event=attrib_numba\.py:$LEAK in keep_event@100/100" \
    "live-at-exit=attrib_numba\.py:$DROPPED in drop_event" ||
    fail "numba findings do not name the user's lines"
"$PYTHON" -c 'import json,sys; n=[f["count"] for f in json.load(open(sys.argv[1]))["findings"] if f["kind"]=="live-at-exit"][0]; sys.exit(not 1 <= n <= 10)' \
    "$WORK/report.json" || fail "live-at-exit should be what numba's queue held (1..10)"
finish

#!/bin/sh
# 4G_residue_owner.sh — issue 13: residue is a deferral queue not flushed at
# exit, never a line that does not destroy, however late its leak is.
#
# tests/workloads/residue_owner.py runs 300 tests under `cuguard run` on the
# simulator; each makes a stream the stand-in binding owns and closes it (the
# binding defers destroys, up to 10, and never flushes at exit):
#   - alone: one info live-at-exit at "residue_owner.py:LINE in use_stream",
#     count 10, and no leak;
#   - with "leak", the last test also creates a stream straight through the
#     driver call and never destroys it: that line is a leak.stream, count 1,
#     although it was made in the last test (the old rule called any leak of
#     the last tenth of the tests residue), and the queue is still residue.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
SRC=tests/workloads/residue_owner.py
line() { grep -n "# SITE:$1\$" $SRC | cut -d: -f1; }
OWNED=$(line owned-stream) RAW=$(line raw-leak)

run_workload() { # NAME [leak]
    name=$1
    shift
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --no-report --dir "$WORK/$name" -- \
        "$PYTHON" $SRC 300 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        fail "$name: residue_owner.py exited $?"
    grep -q '^residue_owner done$' "$WORK/$name.out" ||
        fail "$name: the suite did not finish: $(tail -n 3 "$WORK/$name.err")"
    "$CUGUARD" report --format json "$WORK/$name" >"$WORK/$name.json" 2>/dev/null ||
        fail "$name: report exited $?"
}

run_workload deferral
"$PYTHON" tests/e2e/attrib_check.py "$WORK/deferral.json" \
    "live-at-exit=residue_owner\.py:$OWNED in use_stream@10/10" "leak.stream=!" ||
    fail "deferral only: expected one live-at-exit and no leak"

run_workload leak leak
"$PYTHON" tests/e2e/attrib_check.py "$WORK/leak.json" \
    "leak.stream=residue_owner\.py:$RAW in external_stream@1/1" \
    "live-at-exit=residue_owner\.py:$OWNED in use_stream@10/10" ||
    fail "late true leak: expected the leak.stream at the raw create line"
finish

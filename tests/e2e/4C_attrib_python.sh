#!/bin/sh
# 4C_attrib_python.sh — issue 13: findings of a Python program name its
# Python line, not libffi.
#
# tests/workloads/attrib_ctypes.py (ctypes, through a stand-in binding layer
# at .../cuda/bindings/driver.py whose frames must be folded) runs 300
# tests under `cuguard run` on the simulator, in Debian's python3:
#   - the leak at SITE:py-leak is one leak.event, count 300 in 300 tasks,
#     site "attrib_ctypes.py:LINE in leak_one";
#   - the deferred-destroy pool (10 events alive at exit, all from the last
#     tests) is one info live-at-exit finding, not a leak;
#   - the foreign handle queried from a thread (ctypes released the GIL) is
#     unknown-handle at "attrib_ctypes.py:LINE in query_foreign";
#   - the run's stderr summary ends with the ASan-style SUMMARY line naming
#     those lines; the text report shows the callers of the site;
#   - the JSON stack holds Python frames, the binding's folded (user false).
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
SRC=tests/workloads/attrib_ctypes.py
line() { grep -n "# SITE:$1\$" $SRC | cut -d: -f1; }
LEAK=$(line py-leak) POOL=$(line py-pool) FOREIGN=$(line py-foreign)

LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --dir "$WORK/run" -- \
    "$PYTHON" $SRC 300 >"$WORK/out" 2>"$WORK/err" || fail "attrib_ctypes.py exited $?"
grep -q '^attrib_ctypes done$' "$WORK/out" || fail "the suite did not finish: $(tail -n 3 "$WORK/err")"
"$CUGUARD" report --format json "$WORK/run" >"$WORK/report.json" || fail "report exited $?"
"$PYTHON" tests/e2e/attrib_check.py "$WORK/report.json" \
    "leak.event=attrib_ctypes\.py:$LEAK in leak_one@300/300" \
    "live-at-exit=attrib_ctypes\.py:$POOL in pooled_event@10/10" \
    "unknown-handle=attrib_ctypes\.py:$FOREIGN in query_foreign" ||
    fail "findings do not name the Python lines"

grep -q "^cuguard: SUMMARY: cuguard: 1 error (unknown-handle attrib_ctypes.py:$FOREIGN in query_foreign), 1 warning (leak.event attrib_ctypes.py:$LEAK in leak_one), 1 note$" \
    "$WORK/err" || fail "run summary line: $(grep SUMMARY "$WORK/err")"

"$PYTHON" - "$WORK/report.json" <<'PY' || fail "JSON stack frames"
import json, sys
doc = json.load(open(sys.argv[1]))
f = [f for f in doc["findings"] if f["kind"] == "leak.event"][0]
py = [fr for fr in f["stack"] if fr["kind"] == "python"]
assert py, "no Python frames"
binding = [fr for fr in py if fr["file"].endswith("cuda/bindings/driver.py")]
assert binding and not any(fr["user"] for fr in binding), "binding frames not folded"
site = f["stack"][f["site_frame"]]
assert site["kind"] == "python" and site["function"] == "leak_one", site
assert py[-1]["function"] == "<module>" or len(py) == 8, "frames cut short: %r" % py
assert len(f["occurrences"]) == 300 and f["occurrences"][0]["task"].startswith("attrib_ctypes.py::test_0")
PY

"$CUGUARD" report "$WORK/run" >"$WORK/report.txt"
grep -A3 "^  site       attrib_ctypes.py:$LEAK in leak_one" "$WORK/report.txt" |
    grep -q '^  from       attrib_ctypes.py:[0-9]* in main$' || fail "text report: no caller of the site"
grep -q '^  tasks      300 (first: attrib_ctypes.py::test_0, attrib_ctypes.py::test_1, attrib_ctypes.py::test_2, ...)$' \
    "$WORK/report.txt" || fail "text report: no task count"
[ "$(grep -c '^  process    pid [0-9]* /usr' "$WORK/report.txt")" -eq 1 ] ||
    fail "text report: the process is described more than once"
finish

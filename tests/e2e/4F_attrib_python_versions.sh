#!/bin/sh
# 4F_attrib_python_versions.sh — issue 13: Python frames on every CPython
# 3.9–3.13 found on the machine, not only the system one.
#
# The shim finds CPython's C API at run time (shim/python_frames.c), and
# 3.11, 3.12 and 3.13 each changed frame internals. For each minor version
# found (/usr/bin/python3.N, then $PYENV_ROOT/versions/3.N.*; one
# interpreter per minor version), tests/workloads/attrib_ctypes.py runs 300
# tests under `cuguard run` on the simulator, and the report must name:
#   - leak.event at "attrib_ctypes.py:LINE in leak_one", count 300 in 300 tasks;
#   - live-at-exit at "attrib_ctypes.py:LINE in pooled_event" (the pool);
#   - unknown-handle at "attrib_ctypes.py:LINE in query_foreign" (a thread);
#   - in the JSON stack, the site frame's file is the workload's own path.
# A Python 3.8 (no PyFrame_GetCode / PyFrame_GetBack), when present, must run
# the same program to its end with native frames only: a missing symbol is no
# Python frames, never a crash. Skips (77) when no 3.9–3.13 is found.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1"
SRC=tests/workloads/attrib_ctypes.py
line() { grep -n "# SITE:$1\$" $SRC | cut -d: -f1; }
LEAK=$(line py-leak) POOL=$(line py-pool) FOREIGN=$(line py-foreign)
PYENV_ROOT=${PYENV_ROOT:-/root/.pyenv}

# interpreter MINOR: the first python3.MINOR found, or nothing.
interpreter() {
    for candidate in /usr/bin/python3."$1" "$PYENV_ROOT"/versions/3."$1".*/bin/python3; do
        if [ -x "$candidate" ] &&
            [ "$("$candidate" -c 'import sys; print(sys.version_info[1])' 2>/dev/null)" = "$1" ]; then
            echo "$candidate"
            return
        fi
    done
}

# run_workload PY NAME: the workload under cuguard, its JSON report in $WORK/NAME.json.
run_workload() {
    LD_LIBRARY_PATH=$FAKE timeout -k 5 60 "$CUGUARD" run --no-report --dir "$WORK/$2" -- \
        "$1" $SRC 300 >"$WORK/$2.out" 2>"$WORK/$2.err" || {
        fail "$2: attrib_ctypes.py exited $?: $(tail -n 3 "$WORK/$2.err")"
        return 1
    }
    grep -q '^attrib_ctypes done$' "$WORK/$2.out" || {
        fail "$2: the suite did not finish: $(tail -n 3 "$WORK/$2.err")"
        return 1
    }
    "$CUGUARD" report --format json "$WORK/$2" >"$WORK/$2.json" 2>/dev/null ||
        { fail "$2: report exited $?"; return 1; }
}

tested=
for minor in 9 10 11 12 13; do
    py=$(interpreter $minor)
    [ -n "$py" ] || { echo "note: no Python 3.$minor here"; continue; }
    tested="$tested 3.$minor"
    run_workload "$py" "py3$minor" || continue
    "$PYTHON" tests/e2e/attrib_check.py "$WORK/py3$minor.json" \
        "leak.event=attrib_ctypes\.py:$LEAK in leak_one@300/300" \
        "live-at-exit=attrib_ctypes\.py:$POOL in pooled_event@10/10" \
        "unknown-handle=attrib_ctypes\.py:$FOREIGN in query_foreign" ||
        fail "Python 3.$minor ($py): findings do not name the Python lines"
    "$PYTHON" - "$WORK/py3$minor.json" "$PWD/$SRC" <<'PY' || fail "Python 3.$minor: site frame file"
import json, os, sys
doc = json.load(open(sys.argv[1]))
for f in doc["findings"]:
    site = f["stack"][f["site_frame"]]
    assert site["kind"] == "python", site
    assert os.path.abspath(site["file"]) == sys.argv[2], site
PY
done
[ -n "$tested" ] || { echo "skip: no Python 3.9-3.13 found (/usr/bin, $PYENV_ROOT)"; exit 77; }
echo "tested:$tested"

py38=$(interpreter 8)
if [ -n "$py38" ] && run_workload "$py38" py38; then
    "$PYTHON" - "$WORK/py38.json" <<'PY' || fail "Python 3.8: expected native frames only"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["findings"], "no findings"
for f in doc["findings"]:
    assert f["stack"] and all(fr["kind"] == "native" for fr in f["stack"]), f["stack"]
PY
fi
finish

#!/bin/sh
# 4A_attrib_c_routes.sh — issue 13: findings name the user's C line.
#
# build/workloads/attrib_sites runs 300 "tests" that each leak one event at
# the line marked SITE:leak, then queries a foreign handle at SITE:foreign,
# through the direct, dlsym and cuGetProcAddress routes under `cuguard run`
# on the simulator:
#   - built with -g: one leak.event finding, count 300 in 300 tasks, site
#     "attrib_sites.c:LINE in leak_one_event", and unknown-handle at
#     "attrib_sites.c:LINE in query_foreign" (JSON: structured stack whose
#     site frame is a user frame);
#   - inlined calls appear as frames (run_tests inlined into main);
#   - the fingerprints are equal across two runs and across the routes;
#   - built without debug info: "attrib_sites_nodebug+0xOFF in leak_one_event";
#   - the binary replaced after the run: "binary changed", never a wrong line;
#   - CUGUARD_STACK_DEPTH=0: no stack, the innermost frame as before.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/attrib_sites" \
    "$BUILD/workloads/attrib_sites_nodebug"
SRC=tests/workloads/attrib_sites.c
LEAK=$(grep -n 'SITE:leak \*/' $SRC | cut -d: -f1)
FOREIGN=$(grep -n 'SITE:foreign \*/' $SRC | cut -d: -f1)
ATTRIB="$PYTHON tests/e2e/attrib_check.py"

# traced NAME BINARY ROUTE TESTS [ENV...]: run it, write $WORK/NAME.json.
traced() {
    name=$1 binary=$2 route=$3 tests=$4
    shift 4
    env LD_LIBRARY_PATH=$FAKE "$@" timeout -k 5 60 "$CUGUARD" run --no-report \
        --dir "$WORK/$name" -- "$binary" "$route" "$tests" >"$WORK/$name.out" 2>&1 ||
        fail "$name: exit $?: $(tail -n 2 "$WORK/$name.out")"
    "$CUGUARD" report --format json "$WORK/$name" >"$WORK/$name.json" ||
        fail "$name: report exited $?"
}

fingerprint() { # fingerprint REPORT KIND
    "$PYTHON" -c 'import json,sys; print([f["fingerprint"] for f in json.load(open(sys.argv[1]))["findings"] if f["kind"] == sys.argv[2]])' "$1" "$2"
}

for route in direct dlsym procaddr; do
    traced "$route" "$BUILD/workloads/attrib_sites" "$route" 300
    $ATTRIB "$WORK/$route.json" \
        "leak.event=attrib_sites\.c:$LEAK in leak_one_event@300/300" \
        "unknown-handle=attrib_sites\.c:$FOREIGN in query_foreign" ||
        fail "$route: findings do not name the user's lines"
done
"$PYTHON" - "$WORK/direct.json" <<'PY' || fail "inlined frames are not shown as ASan does"
import json, sys
f = [f for f in json.load(open(sys.argv[1]))["findings"] if f["kind"] == "leak.event"][0]
names = [(fr["function"], fr["inlined"]) for fr in f["stack"]]
# run_tests is inlined into main: both appear, run_tests marked inlined
assert ("run_tests", True) in names and ("main", False) in names, names
assert names.index(("run_tests", True)) + 1 == names.index(("main", False)), names
PY
traced again "$BUILD/workloads/attrib_sites" direct 300
for kind in leak.event unknown-handle; do
    want=$(fingerprint "$WORK/direct.json" $kind)
    for other in again dlsym procaddr; do
        got=$(fingerprint "$WORK/$other.json" $kind)
        [ "$got" = "$want" ] || fail "$kind fingerprint differs: direct $want, $other $got"
    done
done

traced nodebug "$BUILD/workloads/attrib_sites_nodebug" direct 5
$ATTRIB "$WORK/nodebug.json" \
    "leak.event=attrib_sites_nodebug\+0x[0-9a-f]+ in leak_one_event.*@5/5" ||
    fail "without debug info the site is not module+0xoff in the function"

cp "$BUILD/workloads/attrib_sites" "$WORK/moved"
traced changed "$WORK/moved" direct 2
cp "$BUILD/workloads/attrib_sites_nodebug" "$WORK/moved"
"$CUGUARD" report --format json "$WORK/changed" >"$WORK/changed2.json"
$ATTRIB "$WORK/changed2.json" "leak.event=moved\+0x[0-9a-f]+ \(binary changed since the run\)@2" ||
    fail "a rebuilt binary is not reported as changed"

traced nostack "$BUILD/workloads/attrib_sites" direct 2 CUGUARD_STACK_DEPTH=0
"$CUGUARD" dump "$WORK/nostack" | grep -q ' stack=' && fail "CUGUARD_STACK_DEPTH=0 recorded stacks"
"$CUGUARD" dump "$WORK/nostack" | grep -q ' module ' && fail "CUGUARD_STACK_DEPTH=0 recorded modules"
$ATTRIB "$WORK/nostack.json" "leak.event=attrib_sites\+0x[0-9a-f]+@2#nostack" ||
    fail "without stacks the innermost frame is not the site"
finish

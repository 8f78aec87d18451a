#!/bin/sh
# 28_json_schema_doc.sh — docs/json-schema.md cannot rot: the keys of real
# `cuguard report --format json` reports, with their types, are all in its
# table, and every key it documents is still written by the code
# (tests/e2e/json_schema_check.py). The reports between them hold leaks, a
# use-after-destroy with its destroy site and a diagnosis (writeback
# --bug=shared-destroy), a process that crashed inside the driver
# (crashcall) and a trace cut short (hostile truncate).
. tests/e2e/shim_common.sh
CRASHDRV=$BUILD/workloads/crashdriver
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/leaky" \
    "$BUILD/workloads/writeback" "$CRASHDRV/libcuda.so.1" "$BUILD/workloads/crashcall" \
    "$BUILD/workloads/hostile"

run() { # NAME COMMAND... : trace COMMAND into $WORK/NAME on the simulated driver
    name=$1
    shift
    timeout -k 5 60 "$CUGUARD" run --simulate --no-report --dir "$WORK/$name" -- "$@" \
        >/dev/null 2>&1
}
run leaky "$BUILD/workloads/leaky" || fail "leaky failed"
run shared-destroy "$BUILD/workloads/writeback" --bug=shared-destroy --timeout=5
LD_LIBRARY_PATH=$CRASHDRV CUGUARD_DIR="$WORK/crash" LD_PRELOAD=$SHIM \
    timeout -k 5 30 "$BUILD/workloads/crashcall" foreign >/dev/null 2>&1
LD_LIBRARY_PATH=$FAKE CUGUARD_DIR="$WORK/cut" LD_PRELOAD=$SHIM \
    timeout -k 5 60 "$BUILD/workloads/hostile" truncate 12000 >/dev/null 2>&1

for name in leaky shared-destroy crash cut; do
    "$CUGUARD" report --format json "$WORK/$name" >"$WORK/$name.json" 2>"$WORK/$name.err" ||
        fail "report $name: $(cat "$WORK/$name.err")"
done
# The reports must hold what they are here for, or the check below proves less.
"$PYTHON" - "$WORK" <<'PY' || fail "the reports lack what this test needs"
import json, sys
w = sys.argv[1]
load = lambda n: json.load(open("%s/%s.json" % (w, n)))
sd, crash, cut = load("shared-destroy"), load("crash"), load("cut")
need = {
    "a destroyed origin": any(f["destroyed"] for f in sd["findings"]),
    "a diagnosis": bool(sd["diagnosis"]),
    "a stack": any(f["stack"] for f in sd["findings"]),
    "a crashed process": any(p["crashed"] for p in crash["processes"]),
    "a cut-short trace": any(p["cut_short"] for p in cut["processes"]),
}
missing = [k for k, ok in need.items() if not ok]
if missing:
    print("missing: " + ", ".join(missing))
    sys.exit(1)
PY
"$PYTHON" tests/e2e/json_schema_check.py docs/json-schema.md analysis/output/report_json.c \
    analysis/output/report_json_stack.c analysis/replay/interventions.c -- \
    "$WORK/leaky.json" "$WORK/shared-destroy.json" "$WORK/crash.json" "$WORK/cut.json" ||
    fail "docs/json-schema.md is not complete"
finish

#!/bin/sh
# 76_policy_deferred_destroy.sh — the destroy policy keeps a program that
# defers its destroys (as numba does) working.
#
# deferred_destroy queues each test's stream and event and destroys them
# several tests later. With CUGUARD_POLICY=destroy (alone and with all
# four policies) the shim reclaims them first and the simulator hands the
# freed values to later creates; the program must still see every call
# succeed, print what it prints without a policy, and write nothing more on
# stderr. The trace shows why: the late destroys were answered without the
# driver (reclaimed-use), the reused values were held back (held), and the
# report has no error and no leak (the program destroyed everything).
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/deferred_destroy"
WL="$BUILD/workloads/deferred_destroy"

# run NAME POLICY: the workload under `cuguard run` with POLICY ("" = none).
run() {
    CUGUARD_POLICY=$2 LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report \
        --dir "$WORK/$1" -- "$WL" --tasks=30 >"$WORK/$1.out" 2>"$WORK/$1.err"
}

run none "" || fail "deferred_destroy fails without a policy: $(tail -n 2 "$WORK/none.out")"
for policy in destroy ownership,isolate,destroy,sync-query; do
    name=$(echo "$policy" | tr ',' '-')
    if ! run "$name" "$policy"; then
        fail "deferred_destroy fails under $policy: $(grep -m 2 '^failed' "$WORK/$name.out")"
        continue
    fi
    cmp -s "$WORK/none.out" "$WORK/$name.out" || fail "$policy changed the program's output"
    [ -s "$WORK/$name.err" ] && fail "$policy wrote on stderr: $(head -n 2 "$WORK/$name.err")"
    "$CUGUARD" dump "$WORK/$name" >"$WORK/$name.dump" 2>/dev/null
    grep -q "cuStreamDestroy.* action=reclaimed-use" "$WORK/$name.dump" ||
        fail "$policy: no late stream destroy was answered for a reclaimed stream"
    grep -q "action=held" "$WORK/$name.dump" ||
        fail "$policy: the simulator's reuse of a reclaimed value was not held back"
    "$CUGUARD" report --format json "$WORK/$name" >"$WORK/$name.json" 2>/dev/null
    $PYTHON - "$WORK/$name.json" "$policy" <<'PY' || fail "the $policy report is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
kinds = sorted({f["kind"] for f in doc["findings"]})
assert not kinds, "findings for a correct program: %s" % kinds
iv = doc["interventions"]
assert iv["reclaimed"] > 0 and iv["reclaimed_uses"] > 0 and iv["held"] > 0, iv
print("ok: %s: %d reclaimed, %d late uses answered, %d reused values held back, no finding"
      % (sys.argv[2], iv["reclaimed"], iv["reclaimed_uses"], iv["held"]))
PY
done
finish

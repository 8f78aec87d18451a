#!/bin/sh
# 72_policy_destroy.sh — destroy reclaims what finished tasks leaked.
#
# leaky_tasks: 100 tests each create and record 100 events and never
# destroy them. With the destroy policy no more than two tests' worth (200)
# of events is ever live (created minus reclaimed, in trace order); without
# it all 10000 are. The report still lists every leak (10000 leak.event
# occurrences) and counts the reclaimed objects; the late query of the
# first test's event is answered as a completed event (result 0) and
# reported as a use of a reclaimed object.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/leaky_tasks"

# peak DIR: the most events live at once in the trace of DIR.
peak() {
    "$CUGUARD" dump "$1" 2>/dev/null | awk '
        / call cuEventCreate / { live++; if (live > max) max = live }
        / action=reclaimed / && !/cuStream/ { live-- }
        END { print max + 0 }'
}

for policy in none destroy; do
    opt=""
    [ $policy = destroy ] && opt="--policy destroy"
    LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report $opt --dir "$WORK/$policy" \
        -- "$BUILD/workloads/leaky_tasks" >"$WORK/$policy.out" 2>"$WORK/$policy.err" ||
        fail "leaky_tasks ($policy) failed: $(tail -n 2 "$WORK/$policy.err")"
done
p_none=$(peak "$WORK/none")
p_destroy=$(peak "$WORK/destroy")
[ "$p_none" -eq 10000 ] || fail "without the policy the peak is $p_none, expected 10000"
if [ "$p_destroy" -le 200 ] && [ "$p_destroy" -gt 0 ]; then
    echo "ok: peak live events $p_destroy with destroy ($p_none without)"
else
    fail "with destroy the peak is $p_destroy live events (more than two tasks' worth)"
fi
grep -q "^late query result=0$" "$WORK/destroy.out" || fail "the late query was not answered 0"
"$CUGUARD" report --format json "$WORK/destroy" >"$WORK/destroy.json" 2>/dev/null
$PYTHON - "$WORK/destroy.json" <<'PY' || fail "the destroy report is wrong"
import json, sys
doc = json.load(open(sys.argv[1]))
iv = doc["interventions"]
leaks = sum(f.get("count", 1) for f in doc["findings"] if f["kind"] == "leak.event")
assert iv["reclaimed"] >= 9800, iv
assert iv["reclaimed_uses"] >= 1, iv
assert leaks == 10000, leaks
print("ok: %d leaked events listed, %d objects reclaimed, %d later use(s) answered"
      % (leaks, iv["reclaimed"], iv["reclaimed_uses"]))
PY
"$CUGUARD" report "$WORK/destroy" 2>/dev/null | grep -q "used an object cuguard had reclaimed" ||
    fail "the text report does not mention the use of a reclaimed event"
finish

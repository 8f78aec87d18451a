#!/bin/sh
# 74_policy_sync_query.sh — sync-query turns a tight poll into one query.
#
# poller polls cuEventQuery in a tight loop on 5 events, each completing
# after 20 ms of stream work: thousands of queries without a policy, about
# one per event with sync-query (at most two per event allowed), and the
# trace records each query that waited.
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/poller"

polls() {
    sed -n 's/^poller events=5 polls=\([0-9]*\) result=0$/\1/p' "$1"
}
for policy in none sync-query; do
    opt=""
    [ $policy = sync-query ] && opt="--policy sync-query"
    LD_LIBRARY_PATH=$FAKE timeout -k 5 120 "$CUGUARD" run --no-report $opt --dir "$WORK/$policy" \
        -- "$BUILD/workloads/poller" --events=5 --work-us=20000 >"$WORK/$policy.out" \
        2>"$WORK/$policy.err" || fail "poller ($policy) failed: $(tail -n 2 "$WORK/$policy.err")"
done
before=$(polls "$WORK/none.out")
after=$(polls "$WORK/sync-query.out")
[ "${before:-0}" -ge 1000 ] || fail "without the policy the poller made only ${before:-?} queries"
if [ -n "$after" ] && [ "$after" -le 10 ]; then
    echo "ok: $before queries without sync-query, $after with it (5 events)"
else
    fail "with sync-query the poller made ${after:-?} queries for 5 events"
fi
"$CUGUARD" report --format json "$WORK/sync-query" 2>/dev/null |
    $PYTHON -c 'import json,sys; iv=json.load(sys.stdin)["interventions"]; sys.exit(iv["sync_queries"] < 1)' ||
    fail "the report counts no query that waited"
finish

#!/bin/sh
# 24_dump_filters.sh — `cuguard dump` filters (--pid, --tid, --handle, --kind,
# --api, --since/--until) print exactly the records that match, the string
# table appears only with --strings, and a bad filter value is one message
# with exit 2 (tests/e2e/dump_filter_check.py has the checks).
. tests/e2e/shim_common.sh
require "$CUGUARD" "$SHIM" "$FAKE/libcuda.so.1" "$BUILD/workloads/direct" "$BUILD/workloads/leaky"
timeout -k 5 60 "$CUGUARD" run --simulate --no-report --dir "$WORK/t" -- \
    sh -c "'$BUILD/workloads/direct' && '$BUILD/workloads/leaky'" >/dev/null 2>&1 ||
    fail "direct and leaky under cuguard run failed"
[ "$(traces "$WORK/t")" -eq 2 ] || fail "$(traces "$WORK/t") traces, expected 2"
"$PYTHON" tests/e2e/dump_filter_check.py "$CUGUARD" "$WORK/t" || fail "dump filters"
finish

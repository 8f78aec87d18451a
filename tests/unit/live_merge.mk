# tests/unit/live_merge.mk — the watchdog's live reading of a growing trace
# (shim/live_merge.c) on hand-written files.
UNIT_SUITES += test_live_merge
test_live_merge_SRCS := tests/unit/test_live_merge.c shim/live_merge.c tracer/order.c

# tests/unit/watchdog.mk — unit suites of the watchdog (shim/watchdog.c,
# shim/stall_detect.c, shim/pending_events.c, shim/hang_report.c), on the
# simulated driver, with the shim's testable sources compiled in (see
# tests/unit/shim.mk).
UNIT_SUITES += test_watchdog
test_watchdog_SRCS = tests/unit/test_watchdog.c $(SHIM_UNIT_SRCS)

UNIT_SUITES += test_watchdog_mt
TSAN_SUITES += test_watchdog_mt
test_watchdog_mt_SRCS = tests/unit/test_watchdog_mt.c $(SHIM_UNIT_SRCS)

# The suites load the simulator at run time.
$(BUILD)/tests/test_watchdog $(BUILD)/tests/asan/test_watchdog $(BUILD)/tests/test_watchdog_mt \
$(BUILD)/tests/asan/test_watchdog_mt: $(BUILD)/fakecuda/libcuda.so.1
$(BUILD)/tests/tsan/test_watchdog_mt: $(BUILD)/fakecuda/tsan/libcuda.so.1

# tests/unit/shim.mk — unit suites of the shim (shim/), on the simulated driver.
#
# The shim's testable sources (everything but the dlsym/fork interposers and
# the runtime wrappers, see shim/module.mk) are compiled into each test; the
# driver is loaded at run time through CUGUARD_LIBCUDA, never linked.
SHIM_UNIT_SRCS := $(SHIM_TESTABLE_SRCS) tests/unit/shim_testlib.c tests/unit/tracer_testlib.c \
                  $(TRACER_WRITER_SRCS) tracer/reader.c tracer/merge.c tracer/order.c

UNIT_SUITES += test_shim_config
test_shim_config_SRCS := tests/unit/test_shim_config.c shim/config.c shim/task.c shim/site.c \
                         $(TRACER_WRITER_SRCS)

UNIT_SUITES += test_shim
test_shim_SRCS := tests/unit/test_shim.c $(SHIM_UNIT_SRCS)

UNIT_SUITES += test_shim_lifecycle
test_shim_lifecycle_SRCS := tests/unit/test_shim_lifecycle.c $(SHIM_UNIT_SRCS)

UNIT_SUITES += test_shim_mt
TSAN_SUITES += test_shim_mt
test_shim_mt_SRCS := tests/unit/test_shim_mt.c $(SHIM_UNIT_SRCS)

# The suites load the simulator at run time.
$(BUILD)/tests/test_shim $(BUILD)/tests/asan/test_shim $(BUILD)/tests/test_shim_mt \
$(BUILD)/tests/asan/test_shim_mt $(BUILD)/tests/test_shim_lifecycle \
$(BUILD)/tests/asan/test_shim_lifecycle: $(BUILD)/fakecuda/libcuda.so.1
$(BUILD)/tests/tsan/test_shim_mt: $(BUILD)/fakecuda/tsan/libcuda.so.1

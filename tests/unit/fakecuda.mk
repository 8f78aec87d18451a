# tests/unit/fakecuda.mk — Check suites of the simulated driver. The driver
# sources are compiled into each suite, so the ASan and TSan builds check
# the driver itself. test_fakecuda also loads the built libcuda.so.1.
UNIT_SUITES += test_fakecuda test_fakecuda_streams test_fakecuda_lifecycle
TSAN_SUITES += test_fakecuda_streams test_fakecuda_lifecycle
test_fakecuda_SRCS := tests/unit/test_fakecuda.c $(FAKECUDA_DRIVER_SRCS)
test_fakecuda_LIBS := -ldl
test_fakecuda_streams_SRCS := tests/unit/test_fakecuda_streams.c $(FAKECUDA_DRIVER_SRCS)
test_fakecuda_lifecycle_SRCS := tests/unit/test_fakecuda_lifecycle.c $(FAKECUDA_DRIVER_SRCS)

FAKECUDA_SUITE_DEPS := $(FAKECUDA_DRIVER_HDRS) tests/unit/test_fakecuda_helpers.h
$(BUILD)/tests/test_fakecuda $(BUILD)/tests/asan/test_fakecuda: \
    $(FAKECUDA_SUITE_DEPS) $(BUILD)/fakecuda/libcuda.so.1
$(BUILD)/tests/test_fakecuda_streams $(BUILD)/tests/asan/test_fakecuda_streams \
    $(BUILD)/tests/tsan/test_fakecuda_streams: $(FAKECUDA_SUITE_DEPS)
$(BUILD)/tests/test_fakecuda_lifecycle $(BUILD)/tests/asan/test_fakecuda_lifecycle \
    $(BUILD)/tests/tsan/test_fakecuda_lifecycle: $(FAKECUDA_SUITE_DEPS)

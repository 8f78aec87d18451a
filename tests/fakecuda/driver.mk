# tests/fakecuda/driver.mk — the simulated CUDA driver.
#
#   $(BUILD)/fakecuda/libcuda.so.1        (SONAME libcuda.so.1) + libcuda.so link
#   $(BUILD)/fakecuda/asan/libcuda.so.1   ASan+UBSan build (not in ALL_TARGETS)
#   $(BUILD)/fakecuda/tsan/libcuda.so.1   TSan build (not in ALL_TARGETS)
#
# FAKECUDA_DRIVER_SRCS lists the driver sources so other suites can compile
# the driver straight into a (sanitized) test binary.

FAKECUDA_DRIVER_SRCS := $(wildcard tests/fakecuda/driver/*.c)
FAKECUDA_DRIVER_HDRS := $(wildcard tests/fakecuda/driver/*.h)
FAKECUDA_DRIVER_MAP  := tests/fakecuda/driver/libcuda.map
FAKECUDA_DRIVER_LDFLAGS := -shared -Wl,-soname,libcuda.so.1 \
    -Wl,--version-script=$(FAKECUDA_DRIVER_MAP) -Wl,-Bsymbolic-functions -Wl,-z,nodelete

FAKECUDA_DRIVER_DEPS := $(FAKECUDA_DRIVER_SRCS) $(FAKECUDA_DRIVER_HDRS) $(FAKECUDA_DRIVER_MAP)

$(BUILD)/fakecuda/libcuda.so.1: $(FAKECUDA_DRIVER_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FAKECUDA_DRIVER_LDFLAGS) -o $@ $(FAKECUDA_DRIVER_SRCS) -lpthread

$(BUILD)/fakecuda/libcuda.so: $(BUILD)/fakecuda/libcuda.so.1
	ln -sf libcuda.so.1 $@

$(BUILD)/fakecuda/asan/libcuda.so.1: $(FAKECUDA_DRIVER_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $(FAKECUDA_DRIVER_LDFLAGS) -o $@ $(FAKECUDA_DRIVER_SRCS) -lpthread
	ln -sf libcuda.so.1 $(@D)/libcuda.so

$(BUILD)/fakecuda/tsan/libcuda.so.1: $(FAKECUDA_DRIVER_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(TSAN_FLAGS) $(FAKECUDA_DRIVER_LDFLAGS) -o $@ $(FAKECUDA_DRIVER_SRCS) -lpthread
	ln -sf libcuda.so.1 $(@D)/libcuda.so

ALL_TARGETS += $(BUILD)/fakecuda/libcuda.so.1 $(BUILD)/fakecuda/libcuda.so

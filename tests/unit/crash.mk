# tests/unit/crash.mk — the fault-record end-to-end test's products
# (tests/e2e/3A_crash_in_driver.sh): a fake driver that faults on a foreign
# event handle, as a real one does, and a program that hands it one.
$(BUILD)/workloads/crashdriver/libcuda.so.1: tests/workloads/crashdriver.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fvisibility=hidden -shared -Wl,-soname,libcuda.so.1 -o $@ $<

$(BUILD)/workloads/crashcall: tests/workloads/crashcall.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

ALL_TARGETS += $(BUILD)/workloads/crashdriver/libcuda.so.1 $(BUILD)/workloads/crashcall

# tests/workloads/module.mk: ordinary CUDA programs run on the simulator
# (LD_LIBRARY_PATH=build/fakecuda) and unchanged on a real GPU.
#   direct     driver API, linked -lcuda against the toolkit's stub
#   dlsym      dlopen + dlsym per function (not linked to libcuda)
#   procaddr   dlsym of cuGetProcAddress_v2 only, then everything through it
#   runtime    runtime API, linked -lcudart against the toolkit's libcudart
#   writeback  the seed scenario (docs/design.md), driver API, linked -lcuda
#   mt_events  threads creating/recording/querying/destroying their own events
WORKLOAD_COMMON := tests/workloads/common.c
WORKLOAD_HDRS   := $(wildcard tests/workloads/*.h)
WORKLOAD_CUDA_LINK    := -L$(CUDA)/lib64/stubs -lcuda
WORKLOAD_CUDART_LINK  := -L$(CUDA)/lib64 -lcudart
WORKLOAD_LIFECYCLE := tests/workloads/lifecycle.c $(WORKLOAD_COMMON)
WORKLOAD_WRITEBACK := tests/workloads/writeback.c tests/workloads/writeback_pool.c \
                      tests/workloads/writeback_watcher.c tests/workloads/writeback_calls.c \
                      $(WORKLOAD_COMMON)

WORKLOADS := direct dlsym procaddr runtime writeback mt_events
WORKLOAD_BINS := $(addprefix $(BUILD)/workloads/,$(WORKLOADS))

$(BUILD)/workloads/direct: tests/workloads/direct.c $(WORKLOAD_LIFECYCLE) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_LIFECYCLE) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

$(BUILD)/workloads/dlsym: tests/workloads/dlsym.c $(WORKLOAD_LIFECYCLE) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_LIFECYCLE) $(LDLIBS_MT)

$(BUILD)/workloads/procaddr: tests/workloads/procaddr.c $(WORKLOAD_LIFECYCLE) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_LIFECYCLE) $(LDLIBS_MT)

$(BUILD)/workloads/runtime: tests/workloads/runtime.c $(WORKLOAD_COMMON) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_COMMON) $(WORKLOAD_CUDART_LINK) $(LDLIBS_MT)

$(BUILD)/workloads/writeback: $(WORKLOAD_WRITEBACK) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(WORKLOAD_WRITEBACK) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

$(BUILD)/workloads/mt_events: tests/workloads/mt_events.c $(WORKLOAD_COMMON) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_COMMON) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

ALL_TARGETS += $(WORKLOAD_BINS)

# hostile: closes and dup2s descriptors, truncates its trace, SA_RESETHAND (tests/e2e/8N_*.sh)
$(BUILD)/workloads/hostile: tests/workloads/hostile.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)
ALL_TARGETS += $(BUILD)/workloads/hostile

# fork_driver_load + slow_driver.so: fork during the driver load (tests/e2e/78_*.sh)
$(BUILD)/workloads/fork_driver_load: tests/workloads/fork_driver_load.c $(WORKLOAD_COMMON) \
                                     $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Wl,-z,dynamic-undefined-weak -o $@ $< $(WORKLOAD_COMMON) $(LDLIBS_MT)
$(BUILD)/workloads/slow_driver.so: tests/workloads/slow_driver.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -o $@ $<
ALL_TARGETS += $(BUILD)/workloads/fork_driver_load $(BUILD)/workloads/slow_driver.so

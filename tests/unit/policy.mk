# tests/unit/policy.mk — the policies (shim/policy*.c, shim/registry.c):
# their unit suite and the workloads their end-to-end tests run
# (tests/e2e/7N_policy_*.sh).
#
# test_policy runs the shim's policied wrappers against a fake driver table
# (no simulator): it proves what reaches the driver and what does not.
UNIT_SUITES += test_policy
test_policy_SRCS := tests/unit/test_policy.c $(SHIM_TESTABLE_SRCS) $(TRACER_WRITER_SRCS) tracer/order.c

UNIT_SUITES += test_policy_registry
TSAN_SUITES += test_policy_registry
test_policy_registry_SRCS := tests/unit/test_policy_registry.c shim/registry.c shim/log.c \
                             shim/config.c

POLICY_WORKLOADS := $(BUILD)/workloads/leaky_tasks $(BUILD)/workloads/poller \
                    $(BUILD)/workloads/deferred_destroy

$(BUILD)/workloads/leaky_tasks: tests/workloads/leaky_tasks.c $(WORKLOAD_COMMON) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_COMMON) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

$(BUILD)/workloads/poller: tests/workloads/poller.c $(WORKLOAD_COMMON) $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_COMMON) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

$(BUILD)/workloads/deferred_destroy: tests/workloads/deferred_destroy.c $(WORKLOAD_COMMON) \
                                    $(WORKLOAD_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(WORKLOAD_COMMON) $(WORKLOAD_CUDA_LINK) $(LDLIBS_MT)

ALL_TARGETS += $(POLICY_WORKLOADS)

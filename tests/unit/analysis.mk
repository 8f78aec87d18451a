# tests/unit/analysis.mk — tests of the analyzer (`cuguard report`, `export`):
#   unit suites      test_analysis_replay, test_analysis_output
#   build/asan/cuguard   the CLI under ASan+UBSan, for the bad-input tests
#   build/workloads/leaky  a workload that leaks a known amount (tests/e2e/4*)
#   build/workloads/stuck  a workload that blocks forever in cuEventSynchronize
ANALYSIS_LIB_SRCS := $(filter-out analysis/cli/main.c analysis/cli/cmd_%.c,$(ANALYSIS_SRCS))
ANALYSIS_TEST_SRCS := $(ANALYSIS_LIB_SRCS) $(TRACER_SRCS) tests/unit/trace_builder.c \
                      tests/unit/tracer_testlib.c tests/unit/analysis_testlib.c

UNIT_SUITES += test_analysis_replay
test_analysis_replay_SRCS := tests/unit/test_analysis_replay.c $(ANALYSIS_TEST_SRCS)
test_analysis_replay_LIBS := -lm $(ANALYSIS_LDLIBS)

UNIT_SUITES += test_analysis_output
test_analysis_output_SRCS := tests/unit/test_analysis_output.c $(ANALYSIS_TEST_SRCS)
test_analysis_output_LIBS := -lm $(ANALYSIS_LDLIBS)

$(BUILD)/asan/cuguard: $(ANALYSIS_SRCS) $(ANALYSIS_HDRS) $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $(ANALYSIS_SRCS) $(TRACER_SRCS) -lm $(ANALYSIS_LDLIBS)

# A trace-writing helper for the end-to-end tests of bad and synthetic input.
$(BUILD)/tests/cg_synth: tests/unit/cg_synth.c tests/unit/trace_builder.c tests/unit/trace_builder.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/unit/cg_synth.c tests/unit/trace_builder.c

$(BUILD)/workloads/leaky: tests/workloads/leaky.c tests/workloads/common.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/workloads/leaky.c tests/workloads/common.c \
	    -L$(CUDA)/lib64/stubs -lcuda $(LDLIBS_MT)

$(BUILD)/workloads/stuck: tests/workloads/stuck.c tests/workloads/common.c $(wildcard tests/workloads/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/workloads/stuck.c tests/workloads/common.c \
	    -L$(CUDA)/lib64/stubs -lcuda $(LDLIBS_MT)

ALL_TARGETS += $(BUILD)/workloads/leaky $(BUILD)/workloads/stuck
test-build: $(BUILD)/asan/cuguard $(BUILD)/tests/cg_synth

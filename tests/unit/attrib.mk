# tests/unit/attrib.mk — workloads of the attribution tests (tests/e2e/4A_*..4Z_*):
#   build/workloads/attrib_sites          planted bugs at marked lines, built with -g
#   build/workloads/attrib_sites_nodebug  the same program without debug information
ATTRIB_SITES_SRC := tests/workloads/attrib_sites.c

$(BUILD)/workloads/attrib_sites: $(ATTRIB_SITES_SRC)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -g -o $@ $< -L$(CUDA)/lib64/stubs -lcuda $(LDLIBS_MT)

$(BUILD)/workloads/attrib_sites_nodebug: $(ATTRIB_SITES_SRC)
	@mkdir -p $(@D)
	$(CC) $(filter-out -g,$(CFLAGS)) -g0 -o $@ $< -L$(CUDA)/lib64/stubs -lcuda $(LDLIBS_MT)

ALL_TARGETS += $(BUILD)/workloads/attrib_sites $(BUILD)/workloads/attrib_sites_nodebug

# Attribution: stack strings, symbolization, site choice, fingerprints,
# grouping and residue (tests/unit/test_stack.c). -g: it symbolizes itself.
UNIT_SUITES += test_stack
test_stack_SRCS := tests/unit/test_stack.c $(ANALYSIS_TEST_SRCS)
test_stack_LIBS := -lm $(ANALYSIS_LDLIBS) -ldl

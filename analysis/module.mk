# analysis/: the `cuguard` program (every analysis/*.c plus the tracer).
ANALYSIS_SRCS := $(wildcard analysis/*.c)
ANALYSIS_HDRS := $(wildcard analysis/*.h)
# libdw (elfutils) symbolizes stacks in `cuguard report` (analysis/symbolize.c):
# build/cuguard only, never the shim. Debian: libdw-dev, libelf-dev.
ANALYSIS_LDLIBS := -ldw -lelf

$(BUILD)/cuguard: $(ANALYSIS_SRCS) $(ANALYSIS_HDRS) $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ANALYSIS_SRCS) $(TRACER_SRCS) -lm $(ANALYSIS_LDLIBS)

ALL_TARGETS += $(BUILD)/cuguard

# analysis/: the `cuguard` program (every analysis/*.c plus the tracer).
ANALYSIS_SRCS := $(wildcard analysis/*.c)
ANALYSIS_HDRS := $(wildcard analysis/*.h)

$(BUILD)/cuguard: $(ANALYSIS_SRCS) $(ANALYSIS_HDRS) $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(ANALYSIS_SRCS) $(TRACER_SRCS) -lm

ALL_TARGETS += $(BUILD)/cuguard

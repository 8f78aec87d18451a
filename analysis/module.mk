# analysis/: the `cuguard` program (every analysis/**/*.c plus the tracer).
#
# One folder per stage, in the order data flows; a file includes headers of
# its own stage and earlier ones only (tools/check_layout.py, run by make lint
# and tests/e2e/0A_analysis_layout.sh):
#   base/       the finding type, API and error names, JSON writer: no stage
#   input/      run directories and the set of trace files read
#   replay/     records -> per-process object lifecycles, policy interventions
#   stacks/     site ids -> frames (libdw symbolization), the user's frame
#   model/      happens-before model: races, hangs, the diagnosis chain
#   attribute/  each finding's user-code site; who owns what was made
#   group/      one finding per cause, residue, suppressions, baseline
#   analyze.c   the pipeline that runs the stages above (struct analysis)
#   output/     text and JSON reports, Perfetto exports
#   cli/        `cuguard run|report|dump|export`: options, exit statuses
ANALYSIS_SRCS := $(wildcard analysis/*.c analysis/*/*.c)
ANALYSIS_HDRS := $(wildcard analysis/*.h analysis/*/*.h)
# libdw (elfutils) symbolizes stacks in `cuguard report` (analysis/stacks/symbolize.c):
# build/cuguard only, never the shim. Debian: libdw-dev, libelf-dev.
ANALYSIS_LDLIBS := -ldw -lelf -lpthread
# The analyzer's own optimization (bench/analyzer.sh measures it): -O3 with
# link-time optimization lets the replay inline the hooks' hot paths across
# files. It comes after OPT (so it wins); ANALYSIS_OPT= builds with OPT alone.
ANALYSIS_OPT ?= -O3 -flto=auto

$(BUILD)/cuguard: $(ANALYSIS_SRCS) $(ANALYSIS_HDRS) $(TRACER_SRCS) $(TRACER_HDRS) analysis/module.mk
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(ANALYSIS_OPT) -o $@ $(ANALYSIS_SRCS) $(TRACER_SRCS) -lm $(ANALYSIS_LDLIBS)

ALL_TARGETS += $(BUILD)/cuguard

# tests/unit/hb.mk — the happens-before model and its race and hang findings
# (analysis/model/hb_model.c, races.c, diagnosis.c) on synthetic traces.
UNIT_SUITES += test_hb
test_hb_SRCS := tests/unit/test_hb.c $(ANALYSIS_TEST_SRCS)
test_hb_LIBS := -lm $(ANALYSIS_LDLIBS)

# Crash records and orphaned stalls (tracer/format.h CG_RESULT_CRASHED,
# CG_FLAG_ORPHANED): replay, diagnosis and reports.
UNIT_SUITES += test_analysis_crash
test_analysis_crash_SRCS := tests/unit/test_analysis_crash.c $(ANALYSIS_TEST_SRCS)
test_analysis_crash_LIBS := -lm $(ANALYSIS_LDLIBS)

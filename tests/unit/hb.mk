# tests/unit/hb.mk — the happens-before model and its race and hang findings
# (analysis/hb_model.c, races.c, diagnosis.c) on synthetic traces.
UNIT_SUITES += test_hb
test_hb_SRCS := tests/unit/test_hb.c $(ANALYSIS_TEST_SRCS)
test_hb_LIBS := -lm

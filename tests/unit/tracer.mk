# tests/unit/tracer.mk — unit suites of the trace writer and reader.
TRACER_TEST_SRCS := tests/unit/tracer_testlib.c $(TRACER_WRITER_SRCS) tracer/reader.c tracer/merge.c tracer/order.c

UNIT_SUITES += test_tracer
test_tracer_SRCS := tests/unit/test_tracer.c $(TRACER_TEST_SRCS)

UNIT_SUITES += test_tracer_mt
TSAN_SUITES += test_tracer_mt
test_tracer_mt_SRCS := tests/unit/test_tracer_mt.c $(TRACER_TEST_SRCS)

# Every free() of the writer is counted (tests/unit/test_tracer_fork.c).
UNIT_SUITES += test_tracer_fork
test_tracer_fork_SRCS := tests/unit/test_tracer_fork.c $(TRACER_TEST_SRCS)
test_tracer_fork_LIBS := -Wl,--wrap=free

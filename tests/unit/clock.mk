# tests/unit/clock.mk — the record clock (tracer/clock.c): never sleeps,
# never goes back across the switch to the TSC, from several threads (also
# built with TSan). Every sleep of the library is counted (--wrap).
UNIT_SUITES += test_clock
TSAN_SUITES += test_clock
test_clock_SRCS := tests/unit/test_clock.c tracer/clock.c
test_clock_LIBS := -Wl,--wrap=nanosleep -Wl,--wrap=clock_nanosleep -Wl,--wrap=usleep

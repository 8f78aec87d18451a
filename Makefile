# cuguard top-level build.
#
# This file holds only what every part shares: compiler flags, the
# sanitizer variants, the unit-suite template and the aggregate targets.
# Each folder describes its own products in a `module.mk` fragment that is
# included below; adding a source file to a folder needs no edit here.
#
#   make            build/libcuguard.so, build/cuguard, the simulator, workloads
#   make demo       the seed scenario under cuguard on the simulated driver
#   make test       unit suites (plain, ASan+UBSan, TSan) and end-to-end tests
#   make bench      per-call cost, trace size and analyzer throughput
#   make fuzz       bounded libFuzzer run of the trace reader (FUZZ_SECONDS)
#   make lint       clang-format check and cppcheck
#   make install PREFIX=/usr/local

CUDA      ?= /usr/local/cuda
PREFIX    ?= /usr/local
CC        ?= cc
BUILD     := build
PYTHON    ?= /usr/bin/python3

WARN      := -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE
INCLUDES  := -I. -I$(CUDA)/include
OPT       ?= -O2 -g
CFLAGS    := $(WARN) $(OPT) $(INCLUDES) -fPIC
LDLIBS_MT := -ldl -lpthread

ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer

CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

# Filled in by the fragments.
ALL_TARGETS   :=
UNIT_SUITES   :=
TSAN_SUITES   :=
E2E_TESTS     :=
BENCH_TARGETS :=

# Order matters only where a fragment names another's variables in a
# prerequisite list (shim and analysis use TRACER_SRCS).
include tracer/module.mk
include $(wildcard shim/module.mk analysis/module.mk tests/fakecuda/*.mk \
                   tests/workloads/module.mk tests/unit/*.mk tests/fuzz/*.mk bench/*.mk)

# Every end-to-end script, run in name order.
E2E_TESTS += $(sort $(wildcard tests/e2e/[0-9]*.sh))

# ---------------------------------------------------------------------------
# Unit-suite template. A fragment declares a suite NAME with
#   UNIT_SUITES += NAME            (built plain and with ASan+UBSan)
#   TSAN_SUITES += NAME            (also built with ThreadSanitizer)
#   NAME_SRCS   := test file + the sources under test
#   NAME_LIBS   := extra link flags (optional)
# and gets build/tests/NAME, build/tests/asan/NAME, build/tests/tsan/NAME.
define unit_suite
$(BUILD)/tests/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
$(BUILD)/tests/asan/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(ASAN_FLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
$(BUILD)/tests/tsan/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(TSAN_FLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
endef
$(foreach s,$(sort $(UNIT_SUITES) $(TSAN_SUITES)),$(eval $(call unit_suite,$(s))))

UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_SUITES)) \
             $(addprefix $(BUILD)/tests/asan/,$(UNIT_SUITES)) \
             $(addprefix $(BUILD)/tests/tsan/,$(TSAN_SUITES))

.PHONY: all test test-build demo bench fuzz lint format install clean
.DEFAULT_GOAL := all

all: $(ALL_TARGETS)

test-build: all $(UNIT_BINS)

# tests/run_tests.sh runs every suite and end-to-end script, prints each
# Check summary and ends with one line "tests: N passed, N failed".
test: test-build
	BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run_tests.sh $(UNIT_BINS) -- $(E2E_TESTS)

demo: all
	sh tests/demo.sh

bench: all $(BENCH_TARGETS)
	@if [ -f bench/run.sh ]; then sh bench/run.sh; else echo "bench: nothing to measure yet"; fi

lint:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --suppress=missingIncludeSystem --inline-suppr -D_GNU_SOURCE -I. \
	    $$(git ls-files '*.c')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib
	install -m 0755 $(BUILD)/cuguard $(DESTDIR)$(PREFIX)/bin/cuguard
	install -m 0755 $(BUILD)/libcuguard.so $(DESTDIR)$(PREFIX)/lib/libcuguard.so

clean:
	rm -rf $(BUILD) cuguard-trace

# cuguard top-level build.
#
# This file holds only what every part shares: compiler flags, the
# sanitizer variants, the unit-suite template and the aggregate targets.
# Each folder describes its own products in a `module.mk` fragment that is
# included below; adding a source file to a folder needs no edit here.
#
#   make            build/libcuguard.so, build/cuguard, the simulator, workloads
#   make deps       check (and on Debian install) what make test needs; make
#                   deps-demo: only what make/make demo need; deps-all: + lint
#   make demo       the seed scenario under cuguard on the simulated driver
#                   (DEMO_KEEP=DIR keeps its traces in DIR)
#   make test       unit suites (plain, ASan+UBSan, TSan) and end-to-end tests,
#                   TEST_JOBS at a time (default: the number of CPUs)
#   make bench      per-call cost, trace size and analyzer throughput
#   make fuzz       bounded libFuzzer run of the trace reader (FUZZ_SECONDS)
#   make lint       clang-format check and cppcheck
#   make install    PREFIX=/usr/local DESTDIR=; make uninstall removes it again
#                   (the pytest plugin goes to PREFIX/lib/cuguard/python)
#   make man        build/cuguard.1 from `cuguard --help` and each COMMAND --help

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
include $(wildcard shim/module.mk analysis/module.mk python/module.mk tests/fakecuda/*.mk \
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
$(BUILD)/tests/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h analysis/*/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
$(BUILD)/tests/asan/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h analysis/*/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(ASAN_FLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
$(BUILD)/tests/tsan/$(1): $$($(1)_SRCS) $$(wildcard tracer/*.h shim/*.h shim/*.def analysis/*.h analysis/*/*.h tests/fakecuda/*.h tests/unit/*.h)
	@mkdir -p $$(@D)
	$$(CC) $$(CFLAGS) $$(TSAN_FLAGS) -o $$@ $$($(1)_SRCS) $$($(1)_LIBS) $$(CHECK_LIBS) $$(LDLIBS_MT)
endef
$(foreach s,$(sort $(UNIT_SUITES) $(TSAN_SUITES)),$(eval $(call unit_suite,$(s))))

UNIT_BINS := $(addprefix $(BUILD)/tests/,$(UNIT_SUITES)) \
             $(addprefix $(BUILD)/tests/asan/,$(UNIT_SUITES)) \
             $(addprefix $(BUILD)/tests/tsan/,$(TSAN_SUITES))

.PHONY: all test test-build demo bench fuzz lint format install uninstall man clean \
        deps deps-demo deps-all
.DEFAULT_GOAL := all

# ---------------------------------------------------------------------------
# Dependencies: tools/deps.sh holds the one list of Debian packages. A stamp
# per group makes the check run once per build tree (and again when the
# list changes); every product waits for it (order-only), so with -j the
# compilers never start before the packages are there.
$(BUILD)/.deps-%: tools/deps.sh
	@mkdir -p $(@D)
	@CUDA=$(CUDA) PYTHON=$(PYTHON) CC=$(CC) sh tools/deps.sh $*
	@touch $@

deps-demo: $(BUILD)/.deps-demo
deps: $(BUILD)/.deps-test
deps-all: $(BUILD)/.deps-all

$(ALL_TARGETS): | $(BUILD)/.deps-demo
$(UNIT_BINS) $(BUILD)/fuzz/fuzz_reader $(BUILD)/fuzz/make_seed: | $(BUILD)/.deps-test

all: $(ALL_TARGETS)

test-build: all $(UNIT_BINS) | $(BUILD)/.deps-test

# tests/run_tests.sh runs every suite and end-to-end script, TEST_JOBS at a
# time, prints each Check summary and ends with one line
# "tests: N passed, N failed, N skipped".
TEST_JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: test-build
	BUILD=$(BUILD) PYTHON=$(PYTHON) sh tests/run_tests.sh -j $(TEST_JOBS) $(UNIT_BINS) -- $(E2E_TESTS)

demo: all
	sh tests/demo.sh

bench: all $(BENCH_TARGETS) | $(BUILD)/.deps-test
	@if [ -f bench/run.sh ]; then sh bench/run.sh; else echo "bench: nothing to measure yet"; fi

lint: | $(BUILD)/.deps-all
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --suppress=missingIncludeSystem --inline-suppr -D_GNU_SOURCE -I. \
	    $$(git ls-files '*.c')
	$(PYTHON) tools/check_layout.py

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# ---------------------------------------------------------------------------
# The man page: the text of `cuguard --help` and of each COMMAND --help.
man: $(BUILD)/cuguard.1
$(BUILD)/cuguard.1: $(BUILD)/cuguard tools/manpage.sh
	sh tools/manpage.sh $(BUILD)/cuguard >$@.tmp && mv $@.tmp $@

# PREFIX/bin/cuguard, PREFIX/lib/libcuguard.so, the simulated driver for
# `cuguard run --simulate` in PREFIX/lib/cuguard/fakecuda, the man page and
# the documents. cuguard finds the library and the simulator relative to
# itself, so DESTDIR staging and any PREFIX work.
INSTALL_FILES := bin/cuguard lib/libcuguard.so lib/cuguard/fakecuda/libcuda.so.1 \
    lib/cuguard/fakecuda/libcuda.so lib/cuguard/fakecuda/libcudart.so.13 \
    lib/cuguard/fakecuda/libcudart.so lib/cuguard/python/cuguard.py share/man/man1/cuguard.1
DOC_FILES := README.md $(wildcard docs/*.md)

install: all $(BUILD)/cuguard.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/lib/cuguard/fakecuda $(DESTDIR)$(PREFIX)/lib/cuguard/python \
	    $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/doc/cuguard
	install -m 0755 $(BUILD)/cuguard $(DESTDIR)$(PREFIX)/bin/cuguard
	install -m 0755 $(BUILD)/libcuguard.so $(DESTDIR)$(PREFIX)/lib/libcuguard.so
	install -m 0755 $(BUILD)/fakecuda/libcuda.so.1 $(BUILD)/fakecuda/libcudart.so.13 \
	    $(DESTDIR)$(PREFIX)/lib/cuguard/fakecuda/
	install -m 0644 python/cuguard.py $(DESTDIR)$(PREFIX)/lib/cuguard/python/cuguard.py
	ln -sf libcuda.so.1 $(DESTDIR)$(PREFIX)/lib/cuguard/fakecuda/libcuda.so
	ln -sf libcudart.so.13 $(DESTDIR)$(PREFIX)/lib/cuguard/fakecuda/libcudart.so
	install -m 0644 $(BUILD)/cuguard.1 $(DESTDIR)$(PREFIX)/share/man/man1/cuguard.1
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(PREFIX)/share/doc/cuguard/

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/,$(INSTALL_FILES))
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/cuguard
	rm -rf $(DESTDIR)$(PREFIX)/lib/cuguard/python/__pycache__
	-rmdir $(DESTDIR)$(PREFIX)/lib/cuguard/fakecuda $(DESTDIR)$(PREFIX)/lib/cuguard/python \
	    $(DESTDIR)$(PREFIX)/lib/cuguard 2>/dev/null

clean:
	rm -rf $(BUILD) cuguard-trace

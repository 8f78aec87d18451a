# shim/module.mk — the preloaded library, build/libcuguard.so.
#
# Every shim/*.c plus the trace writer. Symbols are hidden by default; only
# the wrapped driver/runtime entry points, dlsym and fork are exported
# (each marked visibility("default") in its source). Never linked with -lcuda:
# the real driver is dlopen'ed lazily (shim/driver.c). -z defs proves it.
SHIM_SRCS := $(wildcard shim/*.c)
SHIM_HDRS := $(wildcard shim/*.h) shim/api.def
SHIM_TRACER_SRCS := $(filter-out %/reader.c %/merge.c,$(TRACER_SRCS))
# SLP vectorizing turns the record fill's stores into vector shuffles that
# cost more instructions than the stores (bench/percall.sh counts them).
SHIM_CFLAGS := -fno-tree-slp-vectorize

$(BUILD)/libcuguard.so: $(SHIM_SRCS) $(SHIM_HDRS) $(SHIM_TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(SHIM_CFLAGS) -fvisibility=hidden -shared -Wl,-z,defs -Wl,-soname,libcuguard.so \
	    -o $@ $(SHIM_SRCS) $(SHIM_TRACER_SRCS) $(LDLIBS_MT)

ALL_TARGETS += $(BUILD)/libcuguard.so

# Shim sources a unit suite may compile into a test binary: not the dlsym
# and fork interposers (they would intercept the test harness and the
# sanitizer runtimes) nor the runtime wrappers.
SHIM_TESTABLE_SRCS := $(filter-out shim/route_dlsym.c shim/fork.c shim/runtime.c,$(SHIM_SRCS))

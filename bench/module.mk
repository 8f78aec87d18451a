# bench/module.mk — benchmark programs (run by bench/run.sh from `make bench`).
#   build/bench/gen_trace          synthetic traces of any size for the analyzer
#   build/bench/null/libcuda.so.1  a driver that does nothing (isolates the shim's cost)
#   build/bench/percall            per-call cost of the wrapped lifecycle calls
#   build/bench/tracestat          records, calls and bytes per call of a trace directory
#   build/bench/batch_trace        taking trace slots: per-thread batches vs one shared atomic
#   build/bench/read_trace         reading a trace: ns per record and a checksum of its order
#   build/bench/unwinders          frame pointers vs backtrace() vs libunwind vs the shim's
#                                  cached CFI unwinder (shim/unwind.c) on this host
#   build/bench/floor              the floor of a traced call here: fenced TSC stamp and
#                                  record stores, and the kernel's cost of a trace page
$(BUILD)/bench/gen_trace: bench/gen_trace.c tests/unit/trace_builder.c tests/unit/trace_builder.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/gen_trace.c tests/unit/trace_builder.c

$(BUILD)/bench/null/libcuda.so.1: bench/nulldriver.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fvisibility=hidden -shared -Wl,-soname,libcuda.so.1 -o $@ $<

$(BUILD)/bench/percall: bench/percall.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< -L$(CUDA)/lib64/stubs -lcuda $(LDLIBS_MT)

$(BUILD)/bench/tracestat: bench/tracestat.c $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/tracestat.c tracer/reader.c tracer/merge.c tracer/order.c

# -fno-omit-frame-pointer: the frame-pointer walk gets its best case (it still
# cannot cross libc, which is built without frame pointers).
$(BUILD)/bench/unwinders: bench/unwinders.c shim/unwind.c shim/unwind_cfi.c shim/unwind.h \
                          shim/unwind_cfi.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -fno-omit-frame-pointer -o $@ bench/unwinders.c shim/unwind.c \
	    shim/unwind_cfi.c $(LDLIBS_MT)

$(BUILD)/bench/batch_trace: bench/batch_trace.c $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/batch_trace.c $(TRACER_WRITER_SRCS) $(LDLIBS_MT)

$(BUILD)/bench/read_trace: bench/read_trace.c $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/read_trace.c tracer/reader.c tracer/merge.c tracer/order.c

$(BUILD)/bench/floor: bench/floor.c tracer/format.h tracer/pages.c tracer/pages.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/floor.c tracer/pages.c $(LDLIBS_MT)

BENCH_TARGETS += $(BUILD)/bench/floor
BENCH_TARGETS += $(BUILD)/bench/unwinders $(BUILD)/bench/batch_trace $(BUILD)/bench/read_trace
BENCH_TARGETS += $(BUILD)/bench/gen_trace $(BUILD)/bench/null/libcuda.so.1 \
                 $(BUILD)/bench/percall $(BUILD)/bench/tracestat

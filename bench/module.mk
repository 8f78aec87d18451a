# bench/module.mk — benchmark programs (run by bench/run.sh from `make bench`).
#   build/bench/gen_trace   synthetic traces of any size for the analyzer
$(BUILD)/bench/gen_trace: bench/gen_trace.c tests/unit/trace_builder.c tests/unit/trace_builder.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ bench/gen_trace.c tests/unit/trace_builder.c

BENCH_TARGETS += $(BUILD)/bench/gen_trace

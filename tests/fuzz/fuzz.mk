# tests/fuzz/fuzz.mk — `make fuzz`: libFuzzer on the trace reader and the
# analysis behind `cuguard report` / `export`, for FUZZ_SECONDS (default 60),
# starting from seeds written by the real tracer writer (tests/fuzz/make_seed)
# and the synthetic scenarios of tests/unit/cg_synth. Needs clang with
# libFuzzer (Debian: clang). New inputs go to build/fuzz/corpus; a crash is
# saved as build/fuzz/crash-* and fails the target.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer -g -O1
FUZZ_SRCS    := tests/fuzz/fuzz_reader.c \
                $(filter-out analysis/cli/main.c analysis/cli/cmd_%.c,$(ANALYSIS_SRCS)) \
                $(TRACER_SRCS)
FUZZ_SEED_SCENARIOS := clean leaky foreign blocked quoted truncated-record absurd

$(BUILD)/fuzz/fuzz_reader: $(FUZZ_SRCS) $(TRACER_HDRS) $(ANALYSIS_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(WARN) $(INCLUDES) $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS) -lm -lpthread $(ANALYSIS_LDLIBS)

$(BUILD)/fuzz/make_seed: tests/fuzz/make_seed.c $(TRACER_SRCS) $(TRACER_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ tests/fuzz/make_seed.c $(TRACER_SRCS) $(LDLIBS_MT)

$(BUILD)/fuzz/seeds/.done: $(BUILD)/fuzz/make_seed $(BUILD)/tests/cg_synth
	rm -rf $(@D) && mkdir -p $(@D)
	$(BUILD)/fuzz/make_seed lifecycle $(@D)/writer-lifecycle.cgt
	$(BUILD)/fuzz/make_seed blocked $(@D)/writer-blocked.cgt
	for s in $(FUZZ_SEED_SCENARIOS); do $(BUILD)/tests/cg_synth $$s $(@D)/synth-$$s.cgt || exit 1; done
	touch $@

fuzz: $(BUILD)/fuzz/fuzz_reader $(BUILD)/fuzz/seeds/.done
	@mkdir -p $(BUILD)/fuzz/corpus
	cd $(BUILD)/fuzz && ./fuzz_reader -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 corpus seeds

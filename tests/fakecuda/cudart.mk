# tests/fakecuda/cudart.mk: the simulated CUDA runtime, build/fakecuda/libcudart.so.13
# (+ libcudart.so). It exports the cuda* subset under the version node
# libcudart.so.13, so programs linked against the toolkit's libcudart run on it.
FAKECUDART_SRCS := $(wildcard tests/fakecuda/cudart/*.c)
FAKECUDART_HDRS := $(wildcard tests/fakecuda/cudart/*.h)
FAKECUDART_MAP  := tests/fakecuda/cudart/libcudart.map

$(BUILD)/fakecuda/libcudart.so.13: $(FAKECUDART_SRCS) $(FAKECUDART_HDRS) $(FAKECUDART_MAP)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared -Wl,-soname,libcudart.so.13 \
	    -Wl,--version-script=$(FAKECUDART_MAP) -Wl,-z,defs \
	    -o $@ $(FAKECUDART_SRCS) $(LDLIBS_MT)

$(BUILD)/fakecuda/libcudart.so: $(BUILD)/fakecuda/libcudart.so.13
	ln -sf libcudart.so.13 $@

ALL_TARGETS += $(BUILD)/fakecuda/libcudart.so.13 $(BUILD)/fakecuda/libcudart.so

# python/: cuguard's pytest plugin (python/cuguard.py, docs/pytest.md).
# Copied beside the binary, build/python/cuguard.py, where `cuguard run`
# finds it in a build tree (analysis/cli/run_pytest.h); `make install` puts it
# in PREFIX/lib/cuguard/python/.
$(BUILD)/python/cuguard.py: python/cuguard.py
	@mkdir -p $(@D)
	cp $< $@

ALL_TARGETS += $(BUILD)/python/cuguard.py

# tests/unit/unwind.mk — the shim's cached CFI unwinder (shim/unwind.c)
# against glibc backtrace(), and its CFA-program reader (shim/unwind_cfi.c).
UNIT_SUITES += test_unwind
TSAN_SUITES += test_unwind
test_unwind_SRCS := tests/unit/test_unwind.c shim/unwind.c shim/unwind_cfi.c

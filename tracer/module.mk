# tracer/: the trace format, writer and reader; compiled into both the shim
# and the analyzer (no library of its own).
TRACER_SRCS := $(wildcard tracer/*.c)
TRACER_HDRS := $(wildcard tracer/*.h)

# tracer/: the trace format, writer and reader; compiled into both the shim
# and the analyzer (no library of its own).
TRACER_SRCS := $(wildcard tracer/*.c)
TRACER_HDRS := $(wildcard tracer/*.h)
# What a program that writes traces compiles (the shim, tests, benches).
TRACER_WRITER_SRCS := tracer/writer.c tracer/pages.c tracer/clock.c

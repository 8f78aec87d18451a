/*
 * common.h — helpers shared by the workloads in tests/workloads/: the
 * machine-readable output every workload prints, the data pattern and
 * checksum, small time and option helpers.
 *
 * Output lines (one per line, written whole, from any thread):
 *   call API handle=0x.. arg=0x.. arg2=0x.. result=N thread=NAME
 *       one per lifecycle call (API = base driver name, e.g. cuEventDestroy,
 *       or the cuda* name in the runtime workload; handle/arg/arg2 as in
 *       tracer/format.h "Fields per API" for the driver call, 0 if unused)
 *   spin API handle=0x.. count=N thread=NAME
 *       N consecutive CUDA_ERROR_NOT_READY results of API on handle, printed
 *       just before the call line of the poll that ended the spin
 *   checksum=0x.. expected=0x..
 *       data actually copied vs. the same data computed on the host
 *
 * Must never: call CUDA (every workload chooses its own route to the driver).
 */
#ifndef WORKLOADS_COMMON_H
#define WORKLOADS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* printf to stdout under a lock, flushed, so lines of threads never mix. */
void wl_print(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* One "call" line (see above). */
void wl_call(const char *api, const void *handle, uintptr_t arg, uintptr_t arg2, int result);

/* One "spin" line, only when count > 0. */
void wl_spin(const char *api, const void *handle, unsigned long count);

/* Value of word `word` of data item `item` in round `round`: the data every
 * workload copies through the GPU, computable on the host alone. */
uint32_t wl_pattern(unsigned round, unsigned item, unsigned word);

/* FNV-1a 64 of n bytes, continuing from hash (start with WL_FNV_SEED). */
#define WL_FNV_SEED 0xcbf29ce484222325ull
uint64_t wl_fnv1a(uint64_t hash, const void *data, size_t n);

/* Sleeps the given number of microseconds (restarts on EINTR). */
void wl_sleep_us(unsigned long us);

/* CLOCK_MONOTONIC in seconds. */
double wl_now(void);

/* If arg is "--NAME=VALUE" with VALUE a decimal in [min,max], stores it and
 * returns true; exits with a message (status 1) on a bad VALUE. */
bool wl_option_uint(const char *arg, const char *name, unsigned min, unsigned max, unsigned *value);

/* Prints "NAME: message" to stderr and exits with status 1. */
void wl_fail(const char *format, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif

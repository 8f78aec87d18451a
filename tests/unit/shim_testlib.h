/*
 * tests/unit/shim_testlib.h — helpers for the shim unit suites.
 *
 * What it is for: pointing the shim (compiled into the test binary) at the
 * simulated driver and a fresh trace directory, and reading back the trace
 * it wrote as plain arrays a test can assert on.
 *
 * What it must never do: assert (the tests do), or hide a missing driver: a
 * setup that cannot find the simulator fails loudly.
 */
#ifndef CUGUARD_TESTS_SHIM_TESTLIB_H
#define CUGUARD_TESTS_SHIM_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/format.h"

/* The simulated driver matching this build (the TSan one under TSan). */
const char *shimtest_driver_path(void);

/* Fresh trace dir (caller frees), CUGUARD_DIR set to it, CUGUARD_LIBCUDA
 * to the simulator, and the shim's configuration reloaded. Any other
 * CUGUARD_* / FAKECUDA_* variable the test wants must be set before. */
char *shimtest_setup(void);

/* cuInit, primary context of device 0 made current on this thread, through
 * the simulator's own (unwrapped) entry points. Returns 0 or -1. */
int shimtest_cuda_init(void);
/* Make the primary context current on the calling thread. 0 or -1. */
int shimtest_cuda_thread_init(void);
/* A function of the simulator itself, bypassing the shim. */
void *shimtest_driver_sym(const char *name);

/* A whole trace read back: records in slot order (strings excluded) with
 * their API names and site strings resolved. */
struct shimtest_record {
    struct cg_record rec;
    char api[64];
    char site[256];
};

struct shimtest_trace {
    struct shimtest_record *records;
    size_t count;
    int files; /* number of .cgt files found in the directory */
    uint32_t end_state;
    uint32_t pid;
    uint64_t slots_reserved; /* the header's: slots the process took, filled or not */
};

/* Close the shim's trace (as at exit) and stream the one trace in dir to
 * `visit` (strings excluded), without keeping the records. `header` gets
 * the trace's header. Returns 0, or -1 with a reason on stderr. */
typedef void (*shimtest_visit)(const struct shimtest_record *r, void *ctx);
int shimtest_finish_and_scan(const char *dir, shimtest_visit visit, void *ctx,
                             struct cg_file_header *header);

/* Close the shim's trace (as at exit) and read the one trace in dir.
 * Returns 0, or -1 with a reason on stderr. */
int shimtest_finish_and_read(const char *dir, struct shimtest_trace *t);
void shimtest_trace_free(struct shimtest_trace *t);

/* Records of `kind` (0 = any) whose API name is `api` (NULL = any). */
size_t shimtest_count(const struct shimtest_trace *t, uint8_t kind, const char *api);

/* Sum of SPIN counts for `api` on `handle`. */
uint64_t shimtest_spin_total(const struct shimtest_trace *t, const char *api, uint64_t handle);

/* Remove the directory and free its name. */
void shimtest_cleanup(char *dir);

#endif

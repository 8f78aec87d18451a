/*
 * tests/unit/tracer_testlib.h — helpers shared by the tracer unit suites.
 *
 * What it is for: temporary directories, finding the trace a test wrote,
 * self-checking records, and a standard API name table.
 *
 * What it must never do: hide an assertion; helpers return values and the
 * tests assert on them.
 */
#ifndef CUGUARD_TESTS_TRACER_TESTLIB_H
#define CUGUARD_TESTS_TRACER_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/writer.h"

/* API table used by the tests: id 0 "", 1 cuEventCreate, 2 cuEventQuery,
 * 3 cuEventSynchronize, 4 cuMemcpyAsync, 5 cuStreamCreate. */
extern const char *const testlib_api_names[];
extern const uint32_t testlib_api_count;

/* A fresh directory under /tmp (caller frees the string). */
char *testlib_tmpdir(void);

/* rm -r of a test directory. */
void testlib_rmtree(const char *dir);

/* Number of *.cgt files in dir; the first one's path is written to path. */
int testlib_find_traces(const char *dir, char *path, size_t len);

/* Writer config for dir with the test API table. */
struct cg_writer_config testlib_config(const char *dir);

/* Hash of every field but arg2 and kind: a record is intact when
 * arg2 == testlib_record_hash(r). */
uint64_t testlib_record_hash(const struct cg_record *r);

/* Fill a self-checking record (site is left as the caller set it) and
 * publish it with `kind`. */
void testlib_fill_and_publish(struct cg_record *r, uint8_t kind, uint64_t handle, uint64_t arg,
                              uint16_t api);

/* Write a whole file (for hand-made corrupt traces). Returns 0 or -1. */
int testlib_write_file(const char *path, const void *data, size_t len);

/* A valid header for hand-made traces. */
void testlib_valid_header(struct cg_file_header *h);

#endif

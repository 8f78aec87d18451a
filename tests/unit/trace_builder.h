/*
 * tests/unit/trace_builder.h — write synthetic trace files record by record.
 *
 * What it is for: the analyzer's tests, its fuzz seeds and its benchmark need
 * traces with exactly the records a scenario calls for (including ones the
 * shim would never write, like a thread killed inside a call), without
 * running a CUDA program. The file is written directly in the format of
 * tracer/format.h: header (with the API name table), then records.
 *
 * What it must never do: depend on the shim or the writer, or hide an
 * assertion (functions return status; tests assert).
 */
#ifndef CUGUARD_TESTS_TRACE_BUILDER_H
#define CUGUARD_TESTS_TRACE_BUILDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tracer/format.h"

#define TB_MAX_APIS 64
#define TB_MAX_STRINGS 256
#define TB_WRITE_BYTES (1u << 20) /* the file is written in writes this large */

struct tb {
    FILE *f;
    char *io_buf; /* f's buffer, TB_WRITE_BYTES */
    struct cg_file_header hdr;
    uint64_t records;
    uint64_t now_ns;  /* time of the next record */
    uint64_t step_ns; /* added after each record */
    const char *apis[TB_MAX_APIS];
    uint32_t napis;
    const char *strings[TB_MAX_STRINGS]; /* interned texts (must outlive the builder) */
    uint32_t nstrings;
    int failed;
};

/* Create `path` for a process `pid` whose argv is argv0 (NULL-terminated
 * extra args are not needed by the tests). Returns NULL on failure. */
struct tb *tb_open(const char *path, uint32_t pid, const char *argv0);

/* The api id of `name`, added to the header table on first use. */
uint16_t tb_api(struct tb *b, const char *name);
/* The string id of `s`, written as STRING records (by thread tid) on first use. */
uint32_t tb_string(struct tb *b, uint32_t tid, const char *s);

/* Append any record. `api` may be NULL. */
void tb_record(struct tb *b, uint8_t kind, uint32_t tid, const char *api, uint64_t handle,
               uint64_t arg, uint64_t arg2, int32_t result, uint32_t site, uint8_t flags);

/* Append a record exactly as given (kind, time and all), for bulk writers. */
void tb_append(struct tb *b, const struct cg_record *r);

/* A completed call. */
void tb_call(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
             int32_t result);
/* A completed call with a site string. */
void tb_call_at(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
                int32_t result, const char *site);
void tb_enter(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg);
void tb_exit(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
             int32_t result);
/* `count` NOT_READY polls of `handle` by `api`, first now, last `span_ns` later. */
void tb_spin(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t count,
             uint64_t span_ns);
void tb_thread_start(struct tb *b, uint32_t tid, const char *name);
void tb_thread_exit(struct tb *b, uint32_t tid);
/* Task change; thread_only sets CG_FLAG_TASK_THREAD; name NULL = no task. */
void tb_task(struct tb *b, uint32_t tid, const char *name, int thread_only);
/* Clean end: PROCESS_EXIT record and end_state CLEAN in the header. */
void tb_process_exit(struct tb *b, uint32_t tid);

/* Write the header and close. Returns 0, -1 if anything failed. */
int tb_close(struct tb *b);

#endif

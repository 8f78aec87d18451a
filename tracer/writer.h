/*
 * tracer/writer.h — append records to this process's trace file.
 *
 * What it is for: the shim's only way to write a trace. Cheap on the hot
 * path: reserving a slot is one atomic add, no lock, no syscall, no
 * allocation (a lock and a syscall happen only when a new segment must be
 * mapped, once per CG_SEGMENT_RECORDS records).
 *
 * What it must never do: call CUDA, call getenv, or crash the host program.
 * Every failure (unwritable directory, full disk) turns tracing off with one
 * warning on stderr and the program runs on untraced.
 */
#ifndef CUGUARD_TRACER_WRITER_H
#define CUGUARD_TRACER_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracer/format.h"

struct cg_writer_config {
    const char *dir;             /* trace directory; created 0700 if missing */
    uint32_t task_mode;          /* enum cg_task_mode */
    const char *task_var;        /* env var name in CG_TASK_ENV mode, or NULL */
    const char *const *api_names;/* api id -> name, api_names[0] = "" */
    uint32_t api_count;
};

/* Open a new trace file (O_EXCL|O_NOFOLLOW, 0600). Returns 0, or -1 after
 * printing one warning; then every other call is a no-op. */
int cg_writer_open(const struct cg_writer_config *cfg);

/* 1 when a trace is open in this process. */
int cg_writer_active(void);

/* Reserve `n` consecutive slots (n <= 4). Returns NULL when tracing is off
 * or the file could not grow. The caller fills the fields and publishes each
 * record with cg_writer_publish(). */
struct cg_record *cg_writer_reserve(uint32_t n);

/* Store `kind` with release order: the record becomes valid. */
void cg_writer_publish(struct cg_record *r, uint8_t kind);

/* Intern a string; returns its id (>= 1), 0 on failure. Takes a lock only
 * the first time a given string is seen. */
uint32_t cg_writer_intern(const char *s);

/* Monotonic nanoseconds (CLOCK_MONOTONIC). */
uint64_t cg_now_ns(void);

/* Kernel thread id of the caller, cached per thread. */
uint32_t cg_gettid(void);

/* Mark the trace complete (header end_state, CG_REC_PROCESS_EXIT). */
void cg_writer_close(void);

/* In a fork child: forget the parent's file (never unmap what the parent
 * owns beyond this process) and open a fresh one with the same config. */
void cg_writer_after_fork_child(void);

#endif

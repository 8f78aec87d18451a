/*
 * tracer/writer.h — append records to this process's trace file.
 *
 * What it is for: the shim's only way to write a trace. Cheap on the hot
 * path: a thread takes CG_BATCH_RECORDS slots with one atomic add and
 * fills them privately; no lock, no syscall, no allocation (a lock and a syscall happen only when a
 * new segment must be mapped and the background thread has not mapped it yet).
 *
 * What it must never do: call CUDA, call getenv, or crash the host program.
 * Every failure (unwritable directory, full disk) turns tracing off with one
 * warning on stderr and the program runs on untraced.
 */
#ifndef CUGUARD_TRACER_WRITER_H
#define CUGUARD_TRACER_WRITER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "tracer/clock.h"
#include "tracer/format.h"

struct cg_writer_config {
    const char *dir;              /* trace directory; created 0700 if missing */
    uint32_t task_mode;           /* enum cg_task_mode */
    const char *task_var;         /* env var name in CG_TASK_ENV mode, or NULL */
    const char *const *api_names; /* api id -> name, api_names[0] = "" */
    uint32_t api_count;
    const char *label; /* the header's process label (format.h), or NULL */
    uint32_t policies; /* the header's `policies` (format.h), CG_HDR_POLICIES_KNOWN included */
};

/* Open a new trace file (O_EXCL|O_NOFOLLOW, 0600). Returns 0, or -1 after
 * printing one warning; then every other call is a no-op. Never overwrites
 * or follows a symlink to a file; never records the environment (the label is
 * the one value the caller hands in). A second
 * call while a trace is open does nothing. */
int cg_writer_open(const struct cg_writer_config *cfg);

/* Grow the process's descriptor table to where the trace descriptor will
 * be moved (above 1023). Call while the process is single-threaded (the
 * library constructor): growing it later, with threads, waits for the
 * kernel's RCU grace period. The descriptor taken is closed again. */
void cg_writer_grow_fd_table(void);

/* 1 when tracing is on: a trace is open (or, in a fork child, will be
 * opened by the first record). */
int cg_writer_active(void);

/* Reserve `n` consecutive slots (1 <= n <= 4), zero-filled, in the calling
 * thread's batch (format.h "Batches"). Returns NULL when tracing is off or
 * the file could not grow. The caller fills the fields and publishes each
 * record with cg_writer_publish(). Never allocates; one atomic add per
 * CG_BATCH_RECORDS slots; locks and makes syscalls only when a new segment
 * must be mapped (and, in a fork child, to open its file at the first
 * record). */
struct cg_record *cg_writer_reserve_slow(uint32_t n);

/* As cg_writer_reserve, but always in a new batch: the record's slot lies
 * past every slot reserved before the call (for a marker a reader scanning
 * the file from a recent slot must find, e.g. a hang report's header). */
struct cg_record *cg_writer_reserve_batch(uint32_t n);

/* What the inline reserve reads; tracer/writer.c alone writes it. A
 * thread's batch is the run of slots it took with one atomic add: a
 * reserve inside it is a compare and a store to thread-local memory. A
 * batch is valid only while the writer is active (writer.c changes the
 * generation whenever it stops). */
struct cg_writer_batch {
    struct cg_record *next, *end; /* the batch's free slots: [next, end) */
    uint32_t generation;          /* valid while equal to cg_writer_batch_generation */
};
struct cg_writer_slot_counter {
    _Alignas(64) _Atomic uint64_t value; /* alone on its cache line */
};
extern __thread struct cg_writer_batch cg_writer_batch __attribute__((tls_model("initial-exec")));
extern _Atomic uint32_t cg_writer_batch_generation __attribute__((visibility("hidden")));
extern struct cg_writer_slot_counter cg_writer_slot_counter __attribute__((visibility("hidden")));

/* 1 when the calling thread's batch holds `n` more free slots (then
 * cg_writer_take() hands them out); for a caller that keeps the slow path
 * apart, as shim/record_fast.h does. */
static inline int cg_writer_batch_fits(uint32_t n)
{
    return cg_writer_batch.generation ==
               atomic_load_explicit(&cg_writer_batch_generation, memory_order_relaxed) &&
           (size_t)(cg_writer_batch.end - cg_writer_batch.next) >= n;
}

/* The next `n` slots of a batch cg_writer_batch_fits() said holds them. */
static inline struct cg_record *cg_writer_take(uint32_t n)
{
    struct cg_record *r = cg_writer_batch.next;
    cg_writer_batch.next = r + n;
    return r;
}

/* Give back `r`, one slot the calling thread reserved and filled but never
 * published: it is zero again, and the batch hands it out again when
 * nothing was reserved after it (else readers skip it as a zero slot). */
static inline void cg_writer_unreserve(struct cg_record *r)
{
    memset(r, 0, sizeof *r); /* kind stays 0 throughout: never published */
    if (cg_writer_batch.next == r + 1 &&
        cg_writer_batch.generation ==
            atomic_load_explicit(&cg_writer_batch_generation, memory_order_relaxed))
        cg_writer_batch.next = r;
}

static inline struct cg_record *cg_writer_reserve(uint32_t n)
{
    if (n - 1u > 3u)
        return NULL;
    if (__builtin_expect(cg_writer_batch_fits(n), 1))
        return cg_writer_take(n);
    return cg_writer_reserve_batch(n);
}

/* Reserve one slot only if its segment is already mapped; async-signal-safe
 * (one compare-and-swap loop, no lock, no syscall): a batch of its own
 * whose first free slot is returned, the thread's batch left alone. NULL
 * when tracing is not active or the slot would need a new segment. For the
 * shim's fault handler. */
struct cg_record *cg_writer_reserve_mapped(void);

/* Store `kind` with release order: the record becomes valid. Never blocks;
 * NULL is ignored. Write nothing into a record after publishing it except
 * fields documented as updated in place (SPIN arg/arg2). */
static inline void cg_writer_publish(struct cg_record *r, uint8_t kind)
{
    if (r)
        __atomic_store_n(&r->kind, kind, __ATOMIC_RELEASE);
}

/* Intern a string (at most 4096 bytes are kept); returns its id (>= 1), 0
 * on failure or when tracing is off. Takes a mutex (never call it from a
 * signal handler); writes records only the first time a string is seen. */
uint32_t cg_writer_intern(const char *s);

/* Monotonic nanoseconds (CLOCK_MONOTONIC), from the record clock
 * (tracer/clock.h: the TSC where it is invariant). */
static inline uint64_t cg_now_ns(void)
{
    return cg_trace_now();
}

/* For the shim's background thread: `wake` is called (from an application
 * thread, at most once per segment) when a segment is half full; the
 * background thread then calls cg_writer_background(). NULL: threads map
 * their own segments. */
void cg_writer_set_prepare_wake(void (*wake)(void));

/* The background thread's share of the writer: map the next segment ahead
 * of need (extend, map, populate), re-anchor the record clock and refresh
 * its description in the header. Takes the segment lock; never call it
 * from an application's call path or a signal handler. */
void cg_writer_background(void);

/* Kernel thread id of the caller, cached per thread. */
uint32_t cg_gettid(void);

/* Mark the trace complete (CG_REC_PROCESS_EXIT, then header end_state, end
 * time, slots_reserved) and turn tracing off. Never unmaps: threads still
 * running may hold reserved slots. */
void cg_writer_close(void);

/* For the shim's SIGBUS handler: when `addr` lies in one of the trace's
 * mappings (the file was truncated by someone else), stop tracing, mark the
 * header cut short if it is still in the file, replace the mappings with
 * anonymous memory so the faulting store can be retried, and return 1.
 * Else 0. Async-signal-safe. */
int cg_writer_fault_at(const void *addr);

/* Path of the open trace file, or NULL. */
const char *cg_writer_path(void);

/* Fork handlers, in pthread_atfork order. prepare takes the writer's locks
 * so the child inherits a consistent string table; parent releases them. */
void cg_writer_prepare_fork(void);
void cg_writer_after_fork_parent(void);

/* In a fork child: forget the parent's file (only the child's own copies of
 * the mappings are unmapped; the parent's file is never written again) and,
 * if the parent was tracing, open a fresh file with the same config at the
 * child's first reserve/intern, so a child that only execs leaves no file.
 * cg_writer_active() stays 1 meanwhile. */
void cg_writer_after_fork_child(void);

#endif

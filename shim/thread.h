/*
 * shim/thread.h — per-thread state of the shim and thread start/exit records.
 *
 * What it is for: what one host thread keeps between its calls: its tid,
 * its open spins (shim/spin.c) and its call-site cache (shim/site.c). The
 * state is allocated on the thread's first traced call, which also writes
 * CG_REC_THREAD_START; a pthread key destructor writes CG_REC_THREAD_EXIT.
 * Also the shim's one TLS block (struct cg_tls): every thread-local of the
 * shim is a field of it, so a wrapper reaches them all from one TLS base.
 *
 * What it must never do: be shared between threads, allocate on any call
 * but a thread's first, or outlive its thread's records (a fork child or a
 * reopened trace starts it afresh).
 */
#ifndef CUGUARD_SHIM_THREAD_H
#define CUGUARD_SHIM_THREAD_H

#include <stddef.h>
#include <stdint.h>

#include "shim/trace_state.h"
#include "tracer/format.h"

#define CG_SPIN_SLOTS 16u
#define CG_SITE_SLOTS 256u /* call-site cache: 64 sets ... */
#define CG_SITE_WAYS 4u    /* ... of 4 addresses each (shim/site.c) */
#define CG_STACK_SLOTS 64u /* stack cache, direct mapped by hash (shim/stack.c) */

struct cg_spin {
    struct cg_record *rec; /* the SPIN record being updated; NULL = free slot */
    uint64_t handle;
    uint64_t epoch; /* cg_record_epoch when the record was written */
    uint64_t count;
    uint16_t api;
};

struct cg_site_slot {
    uintptr_t addr;
    uint32_t id;
};

struct cg_stack_slot {
    uint64_t hash; /* of the frames; 0 = empty */
    uint32_t id;   /* string id of the stack */
};

struct cg_thread {
    uint32_t tid;
    /* The latest site hit (most calls repeat their site): its string id
     * next to tid, so that the fast path (shim/record_fast.h) copies both
     * with one 8-byte load, and its return address. */
    uint32_t last_site_id;
    uintptr_t last_site_addr;
    uint32_t generation; /* cg_trace_generation the caches belong to */
    unsigned spin_next;  /* round-robin victim when every spin slot is used */
    unsigned spins_open; /* spins[] slots with a record: 0 lets a poll skip the search */
    /* The environment as this thread last checked the task variable
     * (shim/task.c): `environ`, and two of its slots with their values. */
    char **task_env;
    long task_slot[2];
    char *task_entry[2];
    uint64_t context; /* the context of this thread's last CONTEXT record, 0 = none */
    struct cg_spin spins[CG_SPIN_SLOTS];
    struct cg_site_slot sites[CG_SITE_SLOTS];
    struct cg_stack_slot stacks[CG_STACK_SLOTS];
};

struct cg_call;
struct cg_watch_slot;

/* Runtime marking (per thread, shim/record.h). */
struct cg_runtime_mark {
    const void *caller; /* return address of the outermost runtime call */
    unsigned depth;
};

/* Everything the shim keeps per thread in TLS, in one initial-exec block,
 * so that a wrapper reaches all of it from one TLS base (one GOT load of
 * the block's offset per function, then %fs-relative accesses). */
struct cg_tls {
    struct cg_thread *thread;      /* the state below, NULL before the first traced call */
    const struct cg_call *inside;  /* the traced call inside the real driver (record.h) */
    struct cg_record *inside_slot; /* the fast call inside the real driver: its record,
                                      filled but for ts_ns and kind (record_fast.h) */
    const void *caller;            /* the program's return address (cg_policy_caller) */
    struct cg_runtime_mark runtime;
    struct cg_watch_slot *watch; /* the thread's watchdog slot (watch_slots.h), or NULL */
    int thread_gone;             /* the thread ran its TLS destructors: no new state */
    int watch_gone;              /* released its watch slot or found none: never claim */
};
extern __thread struct cg_tls cg_tls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* The calling thread's state for the open trace, created (and its
 * THREAD_START written) on first use. NULL when the thread has already
 * exited its TLS destructors or memory is short: callers still record,
 * without compression or call sites. Only valid while the trace is open. */
struct cg_thread *cg_thread_self_slow(void);
static inline struct cg_thread *cg_thread_self(void)
{
    struct cg_thread *t = cg_tls.thread;
    if (__builtin_expect(t != NULL && t->generation ==
                                          __atomic_load_n(&cg_trace_generation, __ATOMIC_ACQUIRE),
                         1))
        return t;
    return cg_thread_self_slow();
}

/* Create the pthread key (once per process, when the trace opens). */
void cg_thread_init(void);

#endif

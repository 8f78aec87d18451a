/*
 * shim/trace_state.h — is this process tracing, and its trace file opened
 * on first need.
 *
 * What it is for: the process-wide tracing state every part of the shim
 * reads (wrappers, records, policies, threads). The trace file is opened on
 * the first record (never at load); a fork child opens its own. It calls
 * only downward (config, writer, thread, task, stack, crash guard), never
 * into policies, the driver loader or the lifecycle that sets it up.
 *
 * What it must never do: open a file, load a driver or allocate at load;
 * take a lock on the hot path once the trace is open; touch a trace this
 * process did not open.
 */
#ifndef CUGUARD_SHIM_TRACE_STATE_H
#define CUGUARD_SHIM_TRACE_STATE_H

#include <stdint.h>

enum cg_trace_state {
    CG_TRACE_OFF = 0,     /* CUGUARD_DIR unset: forward untouched ("loaded but idle") */
    CG_TRACE_PENDING = 1, /* tracing wanted, file not opened yet */
    CG_TRACE_OPEN = 2,    /* records go to this process's file */
    CG_TRACE_FAILED = 3,  /* the file could not be opened or is closed: untraced */
};

extern int cg_trace_state __attribute__((visibility("hidden")));

/* Cheap test for the wrappers: is tracing wanted at all? */
static inline int cg_trace_wanted(void)
{
    unsigned s = (unsigned)__atomic_load_n(&cg_trace_state, __ATOMIC_RELAXED);
    return s - 1u < 2u;
}

/* 1 when the trace is open (opening it now if it is pending), else 0. */
int cg_trace_ready_slow(void);
static inline int cg_trace_ready(void)
{
    if (__builtin_expect(__atomic_load_n(&cg_trace_state, __ATOMIC_ACQUIRE) == CG_TRACE_OPEN, 1))
        return 1;
    return cg_trace_ready_slow();
}

/* Incremented each time this process opens a trace file (fork children
 * open their own): per-thread and per-task caches compare against it. */
extern uint32_t cg_trace_generation __attribute__((visibility("hidden")));

/* cg_trace_generation while this process's trace is open, 0 otherwise:
 * a thread whose state (shim/thread.h) carries this generation knows with
 * one compare that the trace is open and its caches belong to it (the fast
 * path of shim/record_fast.h). */
extern uint32_t cg_trace_open_generation __attribute__((visibility("hidden")));

/* Path-independent: the directory traces go to (valid when tracing). */
const char *cg_trace_dir(void);

/* Set by the lifecycle at load: pending when tracing is wanted, else off. */
void cg_trace_state_set_wanted(int wanted);

/* Close the trace when this process opened it; 1 if it did. */
int cg_trace_close_if_ours(void);

/* Fork handlers' share (called by the lifecycle's handlers, in order):
 * hold the open lock across fork; in the child, an open trace is reopened
 * by path at its first record. */
void cg_trace_state_prepare_fork(void);
void cg_trace_state_after_fork_parent(void);
void cg_trace_state_after_fork_child(void);

#endif

/*
 * shim/lifecycle.h — when the shim traces: load, first CUDA call, fork, exit.
 *
 * What it is for: the process-wide tracing state. At load the configuration
 * is read; the trace file is opened on the first wrapped call (never at
 * load); a fork child opens its own file on its first call; the destructor
 * closes the trace.
 *
 * What it must never do: open a file, load a driver or allocate at load;
 * take a lock on the hot path once the trace is open; touch a trace this
 * process did not open.
 */
#ifndef CUGUARD_SHIM_LIFECYCLE_H
#define CUGUARD_SHIM_LIFECYCLE_H

#include <stdint.h>

enum cg_trace_state {
    CG_TRACE_OFF = 0,     /* CUGUARD_DIR unset: forward untouched ("loaded but idle") */
    CG_TRACE_PENDING = 1, /* tracing wanted, file not opened yet */
    CG_TRACE_OPEN = 2,    /* records go to this process's file */
    CG_TRACE_FAILED = 3,  /* the file could not be opened or is closed: untraced */
};

extern int cg_trace_state;

/* Cheap test for the wrappers: is tracing wanted at all? */
static inline int cg_trace_wanted(void)
{
    unsigned s = (unsigned)__atomic_load_n(&cg_trace_state, __ATOMIC_RELAXED);
    return s - 1u < 2u;
}

/* 1 when a wrapper may tail-call the real function and do nothing else:
 * the driver is resolved, no policy is on and tracing is not wanted. A
 * shortcut only: 0 always sends the call through the full wrapper, which is
 * right in every state. Refreshed by cg_forward_refresh() whenever the
 * driver state, the policies or the trace state change. */
extern int cg_forward_only;
void cg_forward_refresh(void);

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
extern uint32_t cg_trace_generation;

/* Read the configuration from the environment and set the state. Called by
 * the constructor; unit suites call it again after setenv(). */
void cg_shim_load_config(void);

/* Close the trace (what the destructor does); unit suites call it before
 * reading their trace. */
void cg_shim_finish(void);

/* Path-independent: the directory traces go to (valid when tracing). */
const char *cg_trace_dir(void);

#endif

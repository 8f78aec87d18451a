/*
 * shim/stack.h — short call stacks for the calls that need them.
 *
 * What it is for: a create, destroy, blocking (synchronize) or failed call
 * is where a finding will point, so it gets the calling thread's stack (CUGUARD_STACK_DEPTH native
 * frames, default 8, plus as many Python frames when the thread runs
 * Python), interned once as a stack string (tracer/format.h, "Stacks and
 * modules"); its record's `site` names that string and carries
 * CG_FLAG_STACK. Every other call keeps the innermost frame only
 * (shim/site.h), so a query costs what it did.
 *
 * What it must never do: block (a busy module table means no stack this
 * time), allocate, run from a signal handler, or symbolize (that happens
 * offline, in `cuguard report`).
 */
#ifndef CUGUARD_SHIM_STACK_H
#define CUGUARD_SHIM_STACK_H

#include <stdint.h>

#include "shim/api.h"
#include "shim/thread.h"

#define CG_DEFAULT_STACK_DEPTH 8u
#define CG_STACK_DEPTH_MAX 32u

/* When the trace opens: the depth (0 = stacks off), warm the unwinder up
 * (backtrace() loads libgcc_s on first use) and classify the APIs. */
void cg_stack_init(unsigned depth);

/* 1 if calls of api `id` (< CG_API_COUNT) always record a stack (create,
 * destroy, alloc, free, register, unregister, and the blocking calls:
 * their ENTER is what a hang finding names) and stacks are on. */
extern unsigned char cg_stack_wanted_api[CG_API_COUNT] __attribute__((visibility("hidden")));
static inline int cg_stack_wanted(unsigned id)
{
    return cg_stack_wanted_api[id]; /* all 0 when stacks are off: one load on every call */
}

/* 1 if stacks are on at all (for failed calls of any api). */
int cg_stack_enabled(void);

/* String id of the calling thread's stack (interned on first sight, cached
 * per thread), 0 when it cannot be taken now. The stack starts at the frame
 * whose return address is `caller` when it is among the frames unwound;
 * else after the shim's own frames (those in libcuguard.so). */
uint32_t cg_stack_id(struct cg_thread *t, const void *caller);

#endif

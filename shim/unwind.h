/*
 * shim/unwind.h — the caller's return addresses, as backtrace() gives them,
 * twenty times faster.
 *
 * What it is for: shim/stack.c takes a native stack on every create,
 * destroy and blocking call. glibc backtrace() runs libgcc's full DWARF
 * interpreter for each frame (~1 us for 8 frames). On x86-64 almost every
 * frame's rule is "CFA = rsp or rbp + k, return address at CFA-8, rbp
 * saved at CFA+j or untouched", so cg_unwind() looks each frame's FDE up
 * once with libgcc's own _Unwind_Find_FDE (the same tables backtrace()
 * reads, JIT code registered with __register_frame included), reduces its
 * CFA program to that rule and caches it per return address in a small
 * lock-free table. Anything else (a CFA expression, a signal frame, a
 * register other than rsp/rbp, no FDE, another architecture) makes the
 * whole stack come from backtrace() instead.
 *
 * What it must never do: crash the host. Every stack word it reads lies
 * above the current stack pointer, in pages this thread checked readable
 * (process_vm_readv on itself) and not above what was checked; a frame
 * that does not move up the stack ends the fast walk. It never locks
 * (except inside libgcc on a first sight of a return address, as
 * backtrace() does), never allocates, and never runs from a signal handler.
 */
#ifndef CUGUARD_SHIM_UNWIND_H
#define CUGUARD_SHIM_UNWIND_H

/* Find libgcc's _Unwind_Find_FDE with `lookup` (dlsym-like; the shim passes
 * the real dlsym) in the already loaded libgcc_s (backtrace() loads it: call
 * backtrace() once first). Without it every cg_unwind() is backtrace(). */
void cg_unwind_init(void *(*lookup)(void *handle, const char *name));

/* The most frames one call gives. */
#define CG_UNWIND_MAX 64

/* Up to `max` (at most CG_UNWIND_MAX) return addresses of the caller's
 * stack, innermost first: out[0] is the return address of this call (in
 * the caller), exactly what backtrace(out, max) called there would give.
 * Returns how many. */
int cg_unwind(void **out, int max);

/* For tests: 1 when the last cg_unwind() of this thread took the fast path
 * for the whole stack, 0 when it fell back to backtrace(). */
int cg_unwind_last_was_fast(void);

#endif

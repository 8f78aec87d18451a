/*
 * shim/policy_lock.h — the leaf spinlock of the policies' tables.
 *
 * What it is for: the lock of a registry stripe (shim/registry.c) and of
 * the quarantine (shim/policy_quarantine.c), held for a few instructions
 * (a lookup, an update, a push): cheaper than a mutex when uncontended, and
 * it yields the CPU after a short spin in case the holder was preempted.
 * ThreadSanitizer sees it through its acquire/release atomics.
 *
 * What it must never do: be held across a driver call, a trace record, or
 * anything that may take another lock of the shim (fork handlers aside, which take
 * them all in a fixed order).
 */
#ifndef CUGUARD_SHIM_POLICY_LOCK_H
#define CUGUARD_SHIM_POLICY_LOCK_H

#include <sched.h>

typedef long cg_policy_lock; /* 0 free, 1 held; zero-initialised = free */

static inline void cg_policy_lock_take(cg_policy_lock *l)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(l, __ATOMIC_RELAXED)) {
            if (++spins % 64u == 0)
                sched_yield(); /* the holder may be off the CPU */
#if defined(__x86_64__) || defined(__i386__)
            else
                __builtin_ia32_pause();
#endif
        }
    }
}

static inline void cg_policy_lock_drop(cg_policy_lock *l)
{
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
}

#endif

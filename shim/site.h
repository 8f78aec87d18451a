/*
 * shim/site.h — call sites: the caller's return address as an interned
 * "module!symbol+0xoff" string.
 *
 * What it is for: telling the user where in their program an object was
 * created or misused. Each distinct address is symbolised (dladdr) and
 * interned once per thread; later calls from the same place cost one
 * compare in a small per-thread cache.
 *
 * What it must never do: take a lock or allocate for an address the thread
 * has already seen.
 */
#ifndef CUGUARD_SHIM_SITE_H
#define CUGUARD_SHIM_SITE_H

#include <stddef.h>
#include <stdint.h>

#include "shim/thread.h"

/* String id of the call site at return address `addr`, 0 if unknown. */
uint32_t cg_site_id_slow(struct cg_thread *t, const void *addr);
static inline uint32_t cg_site_id(struct cg_thread *t, const void *addr)
{
    if (__builtin_expect(t != NULL && addr != NULL && t->last_site_addr == (uintptr_t)addr, 1))
        return t->last_site_id; /* the thread's latest site again: no hashing */
    return cg_site_id_slow(t, addr);
}

/* "module!symbol+0xoff" (or "module+0xoff" without a symbol) for `addr`
 * into buf. Pure apart from dladdr. */
void cg_site_format(const void *addr, char *buf, size_t len);

#endif

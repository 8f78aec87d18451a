/*
 * shim/site.c — symbolise and cache call sites.
 *
 * What it is for: the implementation of shim/site.h. The cache is set
 * associative (CG_SITE_WAYS slots per set, newest first), so two hot call
 * sites never keep evicting each other; a miss costs one dladdr and one
 * cg_writer_intern.
 *
 * What it must never do: symbolise on a hit, or keep ids across traces (the
 * thread state is reset when a new trace opens, and the cache with it).
 */
#include "shim/site.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "tracer/writer.h"

static const char *base_name(const char *path)
{
    if (path == NULL || path[0] == '\0')
        return "?";
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void cg_site_format(const void *addr, char *buf, size_t len)
{
    Dl_info info;
    if (addr == NULL) {
        snprintf(buf, len, "?");
        return;
    }
    /* A return address points after the call: look up the call itself. */
    const char *pc = (const char *)addr - 1;
    if (dladdr(pc, &info) == 0) {
        snprintf(buf, len, "%p", addr);
        return;
    }
    const char *module = base_name(info.dli_fname);
    if (info.dli_sname != NULL && info.dli_saddr != NULL)
        snprintf(buf, len, "%s!%s+0x%zx", module, info.dli_sname,
                 (size_t)(pc - (const char *)info.dli_saddr));
    else
        snprintf(buf, len, "%s+0x%zx", module, (size_t)(pc - (const char *)info.dli_fbase));
}

/* First slot of the set of CG_SITE_WAYS slots `addr` may occupy. */
static unsigned set_of(uintptr_t addr)
{
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 40) % (CG_SITE_SLOTS / CG_SITE_WAYS) * CG_SITE_WAYS;
}

/* The slot holding `addr` in its set, or NULL. */
static struct cg_site_slot *lookup(struct cg_thread *t, unsigned set, uintptr_t addr)
{
    for (unsigned way = 0; way < CG_SITE_WAYS; way++) {
        if (t->sites[set + way].addr == addr)
            return &t->sites[set + way];
    }
    return NULL;
}

/* Symbolise and intern (a miss: dladdr, then the writer's string lock). */
static uint32_t symbolise(const void *addr)
{
    char text[512];
    cg_site_format(addr, text, sizeof text);
    return cg_writer_intern(text);
}

uint32_t cg_site_id_slow(struct cg_thread *t, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (a == 0)
        return 0;
    if (t == NULL)
        return symbolise(addr);
    if (__builtin_expect(t->last_site_addr == a, 1))
        return t->last_site_id;
    unsigned set = set_of(a);
    const struct cg_site_slot *hit = lookup(t, set, a);
    if (__builtin_expect(hit != NULL, 1)) {
        t->last_site_addr = hit->addr;
        t->last_site_id = hit->id;
        return hit->id;
    }
    uint32_t id = symbolise(addr);
    if (id != 0) { /* a full set drops its oldest entry */
        memmove(&t->sites[set + 1], &t->sites[set], (CG_SITE_WAYS - 1) * sizeof t->sites[0]);
        t->sites[set] = (struct cg_site_slot){.addr = a, .id = id};
        t->last_site_addr = a;
        t->last_site_id = id;
    }
    return id;
}

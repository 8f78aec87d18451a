/*
 * shim/site.c — symbolise and cache call sites.
 *
 * What it is for: the implementation of shim/site.h. The cache is direct
 * mapped by address; a miss costs one dladdr and one cg_writer_intern.
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

static unsigned slot_of(uintptr_t addr)
{
    uint64_t h = (uint64_t)addr * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 58) & (CG_SITE_SLOTS - 1);
}

uint32_t cg_site_id(struct cg_thread *t, const void *addr)
{
    uintptr_t a = (uintptr_t)addr;
    if (a == 0)
        return 0;
    struct cg_site_slot *slot = t ? &t->sites[slot_of(a)] : NULL;
    if (slot != NULL && slot->addr == a)
        return slot->id;
    char text[512];
    cg_site_format(addr, text, sizeof text);
    uint32_t id = cg_writer_intern(text);
    if (slot != NULL && id != 0) {
        slot->addr = a;
        slot->id = id;
    }
    return id;
}

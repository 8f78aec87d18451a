/*
 * shim/api_maps.c — name -> api id and (base, version, flags) -> api id.
 *
 * What it is for: the lookups of the dlsym route (exact exported name) and
 * of the cuGetProcAddress route (base name plus the driver's variant rule),
 * both built once from the api info table into uthash tables.
 *
 * What it must never do: match a prefix (cudnnCreate is not ours), allocate
 * after the first lookup, or guess a variant when the driver's own answer
 * identifies one.
 */
#include "shim/api.h"

#include <cuda.h>
#include <pthread.h>
#include <string.h>
#include <uthash.h>

#include "shim/driver.h"

#define MAX_VARIANTS 8

struct by_name {
    const char *name;
    unsigned id;
    UT_hash_handle hh;
};

struct by_base {
    const char *base;
    unsigned ids[MAX_VARIANTS];
    unsigned count;
    UT_hash_handle hh;
};

static struct by_name name_entries[CG_API_COUNT];
static struct by_base base_entries[CG_API_COUNT];
static struct by_name *names;
static struct by_base *bases;
static pthread_once_t maps_once = PTHREAD_ONCE_INIT;

static void add_variant(unsigned id, unsigned *base_count)
{
    const char *base = cg_api_info[id].base;
    struct by_base *b = NULL;
    HASH_FIND_STR(bases, base, b);
    if (b == NULL) {
        b = &base_entries[(*base_count)++];
        b->base = base;
        HASH_ADD_KEYPTR(hh, bases, b->base, strlen(b->base), b);
    }
    if (b->count < MAX_VARIANTS)
        b->ids[b->count++] = id;
}

static void build_maps(void)
{
    unsigned base_count = 0;
    for (unsigned id = 1; id < CG_API_COUNT; id++) {
        struct by_name *n = &name_entries[id];
        n->name = cg_api_info[id].name;
        n->id = id;
        HASH_ADD_KEYPTR(hh, names, n->name, strlen(n->name), n);
        add_variant(id, &base_count);
    }
}

unsigned cg_api_by_name(const char *name)
{
    if (name == NULL)
        return 0;
    pthread_once(&maps_once, build_maps);
    struct by_name *n = NULL;
    HASH_FIND_STR(names, name, n);
    return n ? n->id : 0;
}

/* The driver's rule (docs/driver-behaviour.md): the newest plain variant introduced at
 * or below cuda_version; with the per-thread flag, the base's per-thread
 * variant instead when it has one. 0 when no plain variant qualifies. */
static unsigned by_rule(const struct by_base *b, int cuda_version, int per_thread)
{
    unsigned plain = 0, threaded = 0;
    for (unsigned i = 0; i < b->count; i++) {
        unsigned id = b->ids[i];
        const struct cg_api_info *v = &cg_api_info[id];
        if (v->per_thread) {
            if (threaded == 0 || cg_api_info[threaded].version < v->version)
                threaded = id;
        } else if (v->version <= cuda_version &&
                   (plain == 0 || cg_api_info[plain].version < v->version)) {
            plain = id;
        }
    }
    if (plain == 0)
        return 0;
    return per_thread && threaded != 0 ? threaded : plain;
}

unsigned cg_api_for_procaddr(const char *symbol, void *real_fn, int cuda_version, uint64_t flags)
{
    if (symbol == NULL || real_fn == NULL)
        return 0;
    pthread_once(&maps_once, build_maps);
    struct by_base *b = NULL;
    HASH_FIND_STR(bases, symbol, b);
    if (b == NULL)
        return 0;
    int per_thread = (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
    unsigned rule = by_rule(b, cuda_version, per_thread);
    if (rule != 0 && cg_real(rule) == real_fn)
        return rule;
    for (unsigned i = 0; i < b->count; i++) {
        if (cg_real(b->ids[i]) == real_fn)
            return b->ids[i];
    }
    return rule;
}

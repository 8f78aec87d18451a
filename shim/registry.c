/*
 * shim/registry.c — striped uthash tables of the handles the policies track.
 *
 * What it is for: the implementation of shim/registry.h. A handle is mixed
 * once (a multiply: heap addresses share their low bits); the top bits pick
 * its stripe, others its uthash bucket. Each stripe is one uthash table
 * under a spinlock (held for a few instructions: a lookup or an update),
 * with a free list of entries, filled CHUNK at a time and never freed, so
 * creates do not go through malloc.
 *
 * What it must never do: allocate on a lookup, call out of the shim while
 * a stripe lock is held (uthash growing its buckets aside), or lose an entry on allocation failure
 * silently (a create that cannot be remembered is logged once).
 */
#include "shim/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "shim/log.h"
#include "shim/policy_lock.h"

#define STRIPES 64u /* a power of two: the top 6 bits of the mix */
#define STRIPE_SHIFT 58u
#define CHUNK 64u /* entries allocated at once when a stripe's free list is empty */

/* The bucket hash: bits of the mix the stripe did not use. */
static inline uint64_t mix(uint64_t handle)
{
    return handle * 0x9e3779b97f4a7c15ull;
}
#define HASH_FUNCTION(keyptr, keylen, hashv)                                                       \
    ((hashv) = (unsigned)(mix(*(const uint64_t *)(keyptr)) >> 20), (void)(keylen))
#define HASH_KEYCMP(a, b, n) (*(const uint64_t *)(a) != *(const uint64_t *)(b))
#include <uthash.h>

struct entry {
    uint64_t handle;
    uint8_t kind;
    uint8_t state;
    uint64_t last_task;
    UT_hash_handle hh;
    struct entry *next_free;
};

struct stripe {
    cg_policy_lock lock;
    struct entry *table;
    struct entry *free_list;
    char pad[64 - sizeof(long) - 2 * sizeof(struct entry *)]; /* one stripe a cache line */
};
_Static_assert(sizeof(struct stripe) == 64, "a stripe is one cache line");

static struct stripe *stripes;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int alloc_warned;

static void stripe_lock(struct stripe *s)
{
    cg_policy_lock_take(&s->lock);
}

static void stripe_unlock(struct stripe *s)
{
    cg_policy_lock_drop(&s->lock);
}

static struct stripe *stripe_of(uint64_t handle)
{
    return &stripes[mix(handle) >> STRIPE_SHIFT];
}

int cg_registry_init(void)
{
    pthread_mutex_lock(&init_lock);
    if (stripes == NULL) {
        struct stripe *s = aligned_alloc(64, STRIPES * sizeof *s);
        if (s != NULL) {
            memset(s, 0, STRIPES * sizeof *s);
            __atomic_store_n(&stripes, s, __ATOMIC_RELEASE);
        }
    }
    pthread_mutex_unlock(&init_lock);
    return stripes != NULL ? 0 : -1;
}

static struct entry *find_locked(struct stripe *s, uint64_t handle)
{
    struct entry *e = NULL;
    HASH_FIND(hh, s->table, &handle, sizeof handle, e);
    return e;
}

/* Stripe locked: an entry from the free list, or NULL. */
static struct entry *take_free_locked(struct stripe *s)
{
    struct entry *e = s->free_list;
    if (e != NULL)
        s->free_list = e->next_free;
    return e;
}

/* Stripe locked: `e` (no longer in the table) goes to the free list. */
static void put_free_locked(struct stripe *s, struct entry *e)
{
    e->next_free = s->free_list;
    s->free_list = e;
}

/* Stripe locked: the entry of `handle`, added from the free list when
 * absent; NULL when the free list is empty. */
static struct entry *find_or_add_locked(struct stripe *s, uint64_t handle)
{
    struct entry *e = find_locked(s, handle);
    if (e == NULL && (e = take_free_locked(s)) != NULL) {
        e->handle = handle;
        HASH_ADD(hh, s->table, handle, sizeof e->handle, e);
    }
    return e;
}

/* Lock not held: a chunk of free entries for `s` (entries are never freed:
 * they go back to their stripe's free list). 0 when memory is short. */
static int refill(struct stripe *s)
{
    struct entry *chunk = calloc(CHUNK, sizeof *chunk);
    if (chunk == NULL)
        return 0;
    for (unsigned i = 0; i + 1 < CHUNK; i++)
        chunk[i].next_free = &chunk[i + 1];
    stripe_lock(s);
    chunk[CHUNK - 1].next_free = s->free_list;
    s->free_list = chunk;
    stripe_unlock(s);
    return 1;
}

void cg_registry_created(uint64_t handle, uint8_t kind, uint64_t task)
{
    if (stripes == NULL || handle == 0)
        return;
    struct stripe *s = stripe_of(handle);
    stripe_lock(s);
    struct entry *e = find_or_add_locked(s, handle);
    while (e == NULL) { /* allocate with the lock released, then look again */
        stripe_unlock(s);
        int refilled = refill(s);
        stripe_lock(s);
        e = find_or_add_locked(s, handle);
        if (!refilled)
            break;
    }
    if (e != NULL) {
        e->kind = kind;
        e->state = CG_OBJ_LIVE;
        e->last_task = task;
    }
    stripe_unlock(s);
    if (e == NULL && !__atomic_exchange_n(&alloc_warned, 1, __ATOMIC_RELAXED))
        cg_warn("out of memory: a new CUDA object is not tracked by the policies");
}

int cg_registry_lookup(uint64_t handle, uint64_t touch_task, struct cg_obj_info *info)
{
    int state = CG_OBJ_ABSENT;
    struct cg_obj_info found = {0, CG_OBJ_ABSENT, 0};
    if (stripes != NULL) {
        struct stripe *s = stripe_of(handle);
        stripe_lock(s);
        struct entry *e = find_locked(s, handle);
        if (e != NULL) {
            if (touch_task != 0 && e->state == CG_OBJ_LIVE)
                e->last_task = touch_task;
            found = (struct cg_obj_info){e->kind, e->state, e->last_task};
            state = e->state;
        }
        stripe_unlock(s);
    }
    if (info != NULL)
        *info = found;
    return state;
}

int cg_registry_lookup_take(uint64_t handle, uint8_t kind, int to, struct cg_obj_info *info)
{
    struct cg_obj_info found = {0, CG_OBJ_ABSENT, 0};
    if (stripes != NULL) {
        struct stripe *s = stripe_of(handle);
        stripe_lock(s);
        struct entry *e = find_locked(s, handle);
        if (e != NULL) {
            found = (struct cg_obj_info){e->kind, e->state, e->last_task};
            if (e->state == CG_OBJ_LIVE && e->kind == kind)
                e->state = (uint8_t)to;
        }
        stripe_unlock(s);
    }
    *info = found;
    return found.state;
}

int cg_registry_transition(uint64_t handle, int from, int to, uint64_t expect_task)
{
    int changed = 0;
    if (stripes == NULL)
        return 0;
    struct stripe *s = stripe_of(handle);
    stripe_lock(s);
    struct entry *e = find_locked(s, handle);
    if (e != NULL && e->state == from && (expect_task == 0 || e->last_task == expect_task)) {
        changed = 1;
        if (to == CG_OBJ_ABSENT) {
            HASH_DEL(s->table, e);
            put_free_locked(s, e);
        } else {
            e->state = (uint8_t)to;
        }
    }
    stripe_unlock(s);
    return changed;
}

size_t cg_registry_scan(uint8_t kind, uint64_t last_task_min, uint64_t last_task_max,
                        struct cg_obj_ref *out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; stripes != NULL && i < STRIPES && n < max; i++) {
        struct stripe *s = &stripes[i];
        stripe_lock(s);
        for (struct entry *e = s->table; e != NULL && n < max; e = e->hh.next) {
            if (e->state != CG_OBJ_LIVE || (kind != 0 && e->kind != kind) ||
                e->last_task < last_task_min || e->last_task > last_task_max)
                continue;
            out[n++] = (struct cg_obj_ref){e->handle, e->kind, e->last_task};
        }
        stripe_unlock(s);
    }
    return n;
}

size_t cg_registry_count(int state)
{
    size_t n = 0;
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        stripe_lock(s);
        for (struct entry *e = s->table; e != NULL; e = e->hh.next)
            n += e->state == state;
        stripe_unlock(s);
    }
    return n;
}

void cg_registry_clear(void)
{
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        stripe_lock(s);
        struct entry *e, *tmp;
        HASH_ITER(hh, s->table, e, tmp)
        {
            HASH_DEL(s->table, e);
            put_free_locked(s, e);
        }
        stripe_unlock(s);
    }
}

void cg_registry_prepare_fork(void)
{
    pthread_mutex_lock(&init_lock);
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++)
        stripe_lock(&stripes[i]);
}

void cg_registry_after_fork(void)
{
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++)
        stripe_unlock(&stripes[i]);
    pthread_mutex_unlock(&init_lock);
}

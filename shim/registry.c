/*
 * shim/registry.c — striped uthash tables of the handles the policies track.
 *
 * What it is for: the implementation of shim/registry.h. A handle's stripe
 * is a mix of its bits (heap addresses share their low bits, so they are
 * folded in from above); each stripe is one uthash table under one mutex.
 *
 * What it must never do: allocate on a lookup, call out of the shim while a
 * stripe lock is held, or lose an entry on allocation failure silently (a
 * create that cannot be remembered is logged once).
 */
#include "shim/registry.h"

#include <pthread.h>
#include <stdlib.h>
#include <uthash.h>

#include "shim/log.h"

#define STRIPES 64u

struct entry {
    uint64_t handle;
    uint8_t kind;
    uint8_t state;
    uint64_t last_task;
    UT_hash_handle hh;
};

struct stripe {
    pthread_mutex_t lock;
    struct entry *table;
};

static struct stripe *stripes;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int alloc_warned;

static struct stripe *stripe_of(uint64_t handle)
{
    uint64_t x = handle ^ (handle >> 7) ^ (handle >> 17) ^ (handle >> 31);
    return &stripes[x % STRIPES];
}

int cg_registry_init(void)
{
    pthread_mutex_lock(&init_lock);
    if (stripes == NULL) {
        struct stripe *s = calloc(STRIPES, sizeof *s);
        if (s != NULL) {
            for (unsigned i = 0; i < STRIPES; i++)
                pthread_mutex_init(&s[i].lock, NULL);
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

void cg_registry_created(uint64_t handle, uint8_t kind, uint64_t task)
{
    if (stripes == NULL || handle == 0)
        return;
    struct stripe *s = stripe_of(handle);
    pthread_mutex_lock(&s->lock);
    struct entry *e = find_locked(s, handle);
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e != NULL) {
            e->handle = handle;
            HASH_ADD(hh, s->table, handle, sizeof e->handle, e);
        }
    }
    if (e != NULL) {
        e->kind = kind;
        e->state = CG_OBJ_LIVE;
        e->last_task = task;
    }
    pthread_mutex_unlock(&s->lock);
    if (e == NULL && !__atomic_exchange_n(&alloc_warned, 1, __ATOMIC_RELAXED))
        cg_warn("out of memory: a new CUDA object is not tracked by the policies");
}

int cg_registry_lookup(uint64_t handle, uint64_t touch_task, struct cg_obj_info *info)
{
    int state = CG_OBJ_ABSENT;
    struct cg_obj_info found = {0, CG_OBJ_ABSENT, 0};
    if (stripes != NULL) {
        struct stripe *s = stripe_of(handle);
        pthread_mutex_lock(&s->lock);
        struct entry *e = find_locked(s, handle);
        if (e != NULL) {
            if (touch_task != 0 && e->state == CG_OBJ_LIVE)
                e->last_task = touch_task;
            found = (struct cg_obj_info){e->kind, e->state, e->last_task};
            state = e->state;
        }
        pthread_mutex_unlock(&s->lock);
    }
    if (info != NULL)
        *info = found;
    return state;
}

int cg_registry_transition(uint64_t handle, int from, int to, uint64_t expect_task)
{
    int changed = 0;
    if (stripes == NULL)
        return 0;
    struct stripe *s = stripe_of(handle);
    pthread_mutex_lock(&s->lock);
    struct entry *e = find_locked(s, handle);
    if (e != NULL && e->state == from && (expect_task == 0 || e->last_task == expect_task)) {
        changed = 1;
        if (to == CG_OBJ_ABSENT) {
            HASH_DEL(s->table, e);
            free(e);
        } else {
            e->state = (uint8_t)to;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return changed;
}

size_t cg_registry_scan(uint8_t kind, uint64_t last_task_min, uint64_t last_task_max,
                        struct cg_obj_ref *out, size_t max)
{
    size_t n = 0;
    for (unsigned i = 0; stripes != NULL && i < STRIPES && n < max; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        for (struct entry *e = s->table; e != NULL && n < max; e = e->hh.next) {
            if (e->state != CG_OBJ_LIVE || (kind != 0 && e->kind != kind) ||
                e->last_task < last_task_min || e->last_task > last_task_max)
                continue;
            out[n++] = (struct cg_obj_ref){e->handle, e->kind, e->last_task};
        }
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

size_t cg_registry_count(int state)
{
    size_t n = 0;
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        for (struct entry *e = s->table; e != NULL; e = e->hh.next)
            n += e->state == state;
        pthread_mutex_unlock(&s->lock);
    }
    return n;
}

void cg_registry_clear(void)
{
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++) {
        struct stripe *s = &stripes[i];
        pthread_mutex_lock(&s->lock);
        struct entry *e, *tmp;
        HASH_ITER(hh, s->table, e, tmp)
        {
            HASH_DEL(s->table, e);
            free(e);
        }
        pthread_mutex_unlock(&s->lock);
    }
}

void cg_registry_prepare_fork(void)
{
    pthread_mutex_lock(&init_lock);
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++)
        pthread_mutex_lock(&stripes[i].lock);
}

void cg_registry_after_fork(void)
{
    for (unsigned i = 0; stripes != NULL && i < STRIPES; i++)
        pthread_mutex_unlock(&stripes[i].lock);
    pthread_mutex_unlock(&init_lock);
}

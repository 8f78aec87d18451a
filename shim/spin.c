/*
 * shim/spin.c — fold NOT_READY polls into CG_REC_SPIN records.
 *
 * What it is for: the implementation of shim/spin.h. An update is two
 * relaxed 64-bit stores into the already published record (count, then the
 * time of the latest poll), so whatever the process had done before a
 * SIGKILL is in the file.
 *
 * A new spin (not an update) carries the thread's stack (shim/stack.h),
 * since a stall or a hang at exit points at it.
 *
 * What it must never do: allocate, lock (except the string table when a new
 * spin's stack was never seen), or touch a slot other than this thread's
 * own spin records.
 */
#include "shim/spin.h"

#include <cuda.h>
#include <string.h>

#include "shim/stack.h"
#include "shim/watch_slots.h"
#include "tracer/writer.h"

struct cg_epoch cg_record_epoch;

static struct cg_spin *find(struct cg_thread *t, uint16_t api, uint64_t handle)
{
    for (unsigned i = 0; i < CG_SPIN_SLOTS; i++) {
        struct cg_spin *s = &t->spins[i];
        if (s->rec != NULL && s->handle == handle && s->api == api)
            return s;
    }
    return NULL;
}

static struct cg_spin *free_slot(struct cg_thread *t)
{
    for (unsigned i = 0; i < CG_SPIN_SLOTS; i++) {
        if (t->spins[i].rec == NULL)
            return &t->spins[i];
    }
    struct cg_spin *victim = &t->spins[t->spin_next];
    t->spin_next = (t->spin_next + 1) % CG_SPIN_SLOTS;
    return victim;
}

static struct cg_record *write_spin(uint32_t tid, uint16_t api, uint8_t flags, uint32_t site,
                                    uint64_t handle, uint64_t now)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->handle = handle;
    r->arg = 1;
    r->arg2 = now;
    r->ts_ns = now;
    r->tid = tid;
    r->site = site;
    r->result = CUDA_ERROR_NOT_READY;
    r->api = api;
    r->flags = flags;
    cg_writer_publish(r, CG_REC_SPIN);
    return r;
}

void cg_spin_not_ready(struct cg_thread *t, uint16_t api, uint8_t flags, uint32_t site,
                       uint64_t handle)
{
    uint64_t now = cg_now_ns();
    if (t == NULL) {
        write_spin(cg_gettid(), api, flags, site, handle, now);
        return;
    }
    uint64_t epoch = __atomic_load_n(&cg_record_epoch.value, __ATOMIC_ACQUIRE);
    struct cg_spin *s = find(t, api, handle);
    if (s != NULL && s->epoch == epoch) {
        s->count++;
        __atomic_store_n(&s->rec->arg, s->count, __ATOMIC_RELAXED);
        __atomic_store_n(&s->rec->arg2, now, __ATOMIC_RELAXED);
        return;
    }
    if (s == NULL)
        s = free_slot(t);
    struct cg_record *previous = s->rec;
    uint32_t stack = cg_stack_enabled() ? cg_stack_id(t, NULL) : 0; /* a new spin: where a
                                                                      stall will point */
    if (stack != 0) {
        site = stack;
        flags |= CG_FLAG_STACK;
    }
    s->rec = write_spin(t->tid, api, flags, site, handle, now);
    cg_watch_spin_open((unsigned)(s - t->spins), s->rec);
    t->spins_open += (unsigned)(s->rec != NULL) - (unsigned)(previous != NULL);
    s->handle = handle;
    s->api = api;
    s->epoch = epoch;
    s->count = 1;
}

void cg_spin_end_slow(struct cg_thread *t, uint16_t api, uint64_t handle)
{
    if (t == NULL || t->spins_open == 0)
        return;
    struct cg_spin *s = find(t, api, handle);
    if (s != NULL) {
        s->rec = NULL;
        cg_watch_spin_end((unsigned)(s - t->spins));
        t->spins_open--;
    }
}

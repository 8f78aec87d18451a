/*
 * shim/policy_quarantine.c — the quarantine: objects the shim keeps alive.
 *
 * What it is for: one bounded FIFO (CUGUARD_QUARANTINE entries) of events
 * and streams that stay alive in the driver so that their values cannot be
 * handed to a new object while stale copies of them may still be used:
 *   - deferred destroys (ownership): the program destroyed the object; it
 *     is destroyed for good when it leaves the FIFO (CG_POLICY_RELEASED);
 *   - held objects (destroy): the driver handed a create the value of an
 *     object the shim reclaimed behind the program's back; the shim keeps
 *     that new object (CG_POLICY_HELD) and the create is made again. It is
 *     destroyed when the program destroys its stale copy, when it leaves
 *     the FIFO, or at exit (CG_POLICY_RELEASED, arg2 | 0x200).
 * When the FIFO is full its oldest entry is destroyed.
 *
 * What it must never do: call the driver or write a record while holding
 * the quarantine lock, or destroy in a fork child what its parent put here.
 */
#include <stdlib.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/driver.h"
#include "shim/policy_internal.h"
#include "shim/policy_lock.h"

#define HELD_FLAG 0x200u    /* CG_POLICY_RELEASED.arg2: a held object */
#define AT_EXIT_FLAG 0x100u /* CG_POLICY_RELEASED.arg2: at process exit */

struct quarantined {
    uint64_t handle; /* 0: an empty slot (a held object released early) */
    uint8_t kind;
    uint8_t held; /* 1: destroy's held object, 0: ownership's deferred destroy */
    pid_t pid;    /* the process that put it here */
};

static cg_policy_lock quarantine_lock;
static struct quarantined *ring; /* cg_config.quarantine slots; set once, read without the lock */
static size_t ring_head, ring_count;
static pid_t self_pid; /* getpid() cached: 0 until first asked, reset in a fork child */

/* This process's id without a system call per deferred destroy. */
static pid_t current_pid(void)
{
    pid_t pid = __atomic_load_n(&self_pid, __ATOMIC_RELAXED);
    if (pid == 0) {
        pid = getpid();
        __atomic_store_n(&self_pid, pid, __ATOMIC_RELAXED);
    }
    return pid;
}

static CUresult real_destroy(uint64_t handle, uint8_t kind)
{
    typedef CUresult(CUDAAPI * destroy_fn)(void *);
    unsigned id = kind == CG_OBJ_EVENT ? CG_ID_cuEventDestroy_v2 : CG_ID_cuStreamDestroy_v2;
    destroy_fn fn = (destroy_fn)cg_real(id);
    return fn != NULL ? fn((void *)(uintptr_t)handle) : CUDA_ERROR_NOT_FOUND;
}

/* Destroy for good an object that leaves the quarantine (lock not held). */
static void release(struct quarantined victim, uint64_t flags)
{
    if (victim.handle == 0 || victim.pid != current_pid())
        return; /* an empty slot, or the parent's object in a fork child */
    if (!victim.held &&
        !cg_registry_transition(victim.handle, CG_OBJ_QUARANTINED, CG_OBJ_DESTROYED, 0))
        return;
    uint64_t arg2 = victim.kind | (victim.held ? HELD_FLAG | flags : 0);
    struct cg_record *r = cg_policy_reserve(CG_POLICY_RELEASED, victim.handle, arg2);
    cg_policy_publish(r, real_destroy(victim.handle, victim.kind));
}

/* Lock held: allocate the ring once. Returns 0 when there is none. */
static int ring_ready_locked(void)
{
    if (ring == NULL && cg_config.quarantine > 0)
        __atomic_store_n(&ring, calloc(cg_config.quarantine, sizeof *ring), __ATOMIC_RELEASE);
    return ring != NULL;
}

/* Put `entry` in the quarantine; the entry pushed out (if any) into
 * `victim` (handle 0 when none). Returns 0 when there is no quarantine. */
static int push(struct quarantined entry, struct quarantined *victim)
{
    size_t cap = cg_config.quarantine;
    *victim = (struct quarantined){0, 0, 0, 0};
    cg_policy_lock_take(&quarantine_lock);
    int ok = ring_ready_locked();
    if (ok && ring_count == cap) {
        *victim = ring[ring_head];
        ring_head = (ring_head + 1) % cap;
        ring_count--;
    }
    if (ok) {
        ring[(ring_head + ring_count) % cap] = entry;
        ring_count++;
    }
    cg_policy_lock_drop(&quarantine_lock);
    return ok;
}

int cg_quarantine_defer(uint64_t handle, uint8_t kind)
{
    struct quarantined victim;
    if (!push((struct quarantined){handle, kind, 0, current_pid()}, &victim))
        return 0;
    release(victim, 0);
    return 1;
}

int cg_quarantine_ready(void)
{
    if (__atomic_load_n(&ring, __ATOMIC_ACQUIRE) != NULL)
        return 1; /* allocated once: no lock once it exists */
    cg_policy_lock_take(&quarantine_lock);
    int ok = ring_ready_locked();
    cg_policy_lock_drop(&quarantine_lock);
    return ok;
}

int cg_quarantine_hold(uint64_t handle, uint8_t kind, uint64_t *evicted)
{
    struct quarantined victim;
    *evicted = 0;
    if (!push((struct quarantined){handle, kind, 1, current_pid()}, &victim))
        return 0;
    if (victim.held)
        *evicted = victim.handle;
    release(victim, 0);
    return 1;
}

/* Lock held: take the held entry for `handle` out of the ring. */
static int take_held_locked(uint64_t handle, struct quarantined *out)
{
    size_t cap = cg_config.quarantine;
    for (size_t i = 0; ring != NULL && i < ring_count; i++) {
        struct quarantined *q = &ring[(ring_head + i) % cap];
        if (q->handle == handle && q->held) {
            *out = *q;
            q->handle = 0;
            return 1;
        }
    }
    return 0;
}

int cg_quarantine_release_held(uint64_t handle)
{
    struct quarantined held;
    cg_policy_lock_take(&quarantine_lock);
    int found = take_held_locked(handle, &held);
    cg_policy_lock_drop(&quarantine_lock);
    if (found)
        release(held, 0);
    return found;
}

void cg_quarantine_release_all_held(void)
{
    cg_policy_lock_take(&quarantine_lock);
    size_t cap = cg_config.quarantine, n = 0;
    struct quarantined *list = ring != NULL ? malloc(ring_count * sizeof *list + 1) : NULL;
    for (size_t i = 0; list != NULL && i < ring_count; i++) {
        struct quarantined *q = &ring[(ring_head + i) % cap];
        if (q->held && q->handle != 0 && q->pid == current_pid()) {
            list[n++] = *q;
            q->handle = 0;
        }
    }
    cg_policy_lock_drop(&quarantine_lock);
    for (size_t i = 0; i < n; i++)
        release(list[i], AT_EXIT_FLAG);
    free(list);
}

void cg_quarantine_prepare_fork(void)
{
    cg_policy_lock_take(&quarantine_lock);
}

void cg_quarantine_after_fork(void)
{
    cg_policy_lock_drop(&quarantine_lock);
}

void cg_quarantine_after_fork_child(void)
{
    __atomic_store_n(&self_pid, 0, __ATOMIC_RELAXED); /* the child's pid is asked anew */
    cg_quarantine_after_fork();
}

void cg_quarantine_init(void)
{
    cg_policy_lock_take(&quarantine_lock);
    free(ring);
    __atomic_store_n(&ring, NULL, __ATOMIC_RELEASE);
    ring_head = ring_count = 0;
    cg_policy_lock_drop(&quarantine_lock);
}

/*
 * shim/policy_destroy.c — the destroy policy: reclaim what finished tasks leaked.
 *
 * What it is for: at each task change, every live event and stream last
 * used more than CUGUARD_RECLAIM_AGE tasks ago (default 1: objects of task
 * N go when task N+2 begins) whose work is complete is destroyed by the
 * shim and written as a CG_POLICY_RECLAIMED record; the program never
 * destroyed it, so the analyzer still reports the leak. A later use by the
 * program is answered as a completed object would answer it (query,
 * synchronize, stream wait, destroy: success) and written as
 * CG_POLICY_RECLAIMED_USE; what a destroyed object cannot answer (a new
 * record, elapsed time, new work) is refused with CUDA_ERROR_INVALID_HANDLE.
 * None of these reaches the driver. The program may still hold the value
 * (numba, for one, queues its destroys), so when the driver hands a
 * reclaimed value to a create the shim keeps that new object in the
 * quarantine (CG_POLICY_HELD) and creates again; it is destroyed when the
 * program's late destroy of the reclaimed object arrives (answered
 * success), when the quarantine is full, or at exit.
 * At process exit whatever the program left alive is recorded and destroyed.
 *
 * What it must never do: destroy an object whose work is not complete, one
 * used again since it was chosen, or anything in a fork child of the
 * process that created it; let a value it reclaimed reach the driver
 * through the program again.
 */
#include <stdlib.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/driver.h"
#include "shim/log.h"
#include "shim/policy_internal.h"

#define RECLAIM_AT_EXIT 0x100u

typedef CUresult(CUDAAPI *handle_fn)(void *);

static pid_t exit_pid; /* process that registered the exit handler */
/* Set (for good) before the first object is marked RECLAIMED: until then no
 * create can get a reclaimed value, and cg_destroy_hold_reused looks
 * nothing up. */
static int reclaimed_any;

/* LIVE -> RECLAIMED (when last_task is still `expect_task`, 0 = any). */
static int mark_reclaimed(uint64_t handle, uint64_t expect_task)
{
    __atomic_store_n(&reclaimed_any, 1, __ATOMIC_SEQ_CST);
    return cg_registry_transition(handle, CG_OBJ_LIVE, CG_OBJ_RECLAIMED, expect_task);
}

static CUresult call_real(unsigned id, uint64_t handle)
{
    handle_fn fn = (handle_fn)cg_real(id);
    return fn != NULL ? fn((void *)(uintptr_t)handle) : CUDA_ERROR_NOT_FOUND;
}

static int complete(const struct cg_obj_ref *o)
{
    unsigned id = o->kind == CG_OBJ_EVENT ? CG_ID_cuEventQuery : CG_ID_cuStreamQuery;
    return call_real(id, o->handle) == CUDA_SUCCESS;
}

static void destroy_real(const struct cg_obj_ref *o, uint64_t when)
{
    unsigned id = o->kind == CG_OBJ_EVENT ? CG_ID_cuEventDestroy_v2 : CG_ID_cuStreamDestroy_v2;
    struct cg_record *r = cg_policy_reserve(CG_POLICY_RECLAIMED, o->handle, o->kind | when);
    cg_policy_publish(r, call_real(id, o->handle));
}

/* The LIVE objects last used in [min, max], in a malloc'ed array. */
static struct cg_obj_ref *live_objects(uint64_t min, uint64_t max, size_t *n)
{
    size_t cap = cg_registry_count(CG_OBJ_LIVE) + 16;
    struct cg_obj_ref *list = malloc(cap * sizeof *list);
    *n = list != NULL ? cg_registry_scan(0, min, max, list, cap) : 0;
    return list;
}

void cg_destroy_task_changed(uint64_t new_task)
{
    uint64_t age = cg_config.reclaim_age;
    if (new_task <= age + 1)
        return;
    size_t n = 0;
    struct cg_obj_ref *list = live_objects(0, new_task - age - 1, &n);
    size_t reclaimed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!complete(&list[i]))
            continue; /* still busy: tried again at the next task change */
        if (!mark_reclaimed(list[i].handle, list[i].last_task))
            continue; /* used again meanwhile */
        destroy_real(&list[i], 0);
        reclaimed++;
    }
    free(list);
    if (reclaimed > 0)
        cg_debug("destroy: reclaimed %zu leaked object(s) at task %llu", reclaimed,
                 (unsigned long long)new_task);
}

int cg_destroy_answer_reclaimed(struct cg_pcall *pc, uint64_t handle, uint8_t kind)
{
    const struct cg_role *role = &cg_roles[pc->id];
    int answerable = role->op == CG_OP_QUERY || role->op == CG_OP_SYNC ||
                     role->op == CG_OP_DESTROY || (role->op == CG_OP_WAIT && kind == CG_OBJ_EVENT);
    pc->verdict = CG_VERDICT_ANSWER;
    if (answerable) {
        pc->answer = CUDA_SUCCESS;
        cg_policy_record(pc, CG_POLICY_RECLAIMED_USE, handle, kind, CUDA_SUCCESS);
        /* The program let go of its copy: the value may name a new object
         * again, so the one held under it (if any) goes. */
        if (role->op == CG_OP_DESTROY &&
            cg_registry_transition(handle, CG_OBJ_RECLAIMED, CG_OBJ_DESTROYED, 0))
            cg_quarantine_release_held(handle);
    } else {
        pc->answer = CUDA_ERROR_INVALID_HANDLE;
        cg_policy_record(pc, CG_POLICY_RECLAIMED_USE, handle, kind, CUDA_ERROR_INVALID_HANDLE);
        cg_policy_record(pc, CG_POLICY_REFUSED, handle, CG_REASON_RECLAIMED,
                         CUDA_ERROR_INVALID_HANDLE);
    }
    return 0;
}

static void reclaim_at_exit(void)
{
    if (getpid() != exit_pid || !cg_policy_on.destroy)
        return;
    size_t n = 0;
    struct cg_obj_ref *list = live_objects(0, UINT64_MAX, &n);
    for (size_t i = 0; i < n; i++) {
        if (mark_reclaimed(list[i].handle, 0))
            destroy_real(&list[i], RECLAIM_AT_EXIT);
    }
    free(list);
    cg_quarantine_release_all_held();
}

int cg_destroy_hold_reused(struct cg_pcall *pc, CUresult rc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (role->op != CG_OP_CREATE || rc != CUDA_SUCCESS || pc->out == NULL)
        return 0;
    uint64_t value = (uint64_t)(uintptr_t) * (void **)pc->out;
    /* The value the latest hold pushed out was just destroyed for good: it
     * is the driver's to give (else a full quarantine would go round). */
    if (value == 0 || value == pc->evicted || pc->holds > cg_config.quarantine)
        return 0; /* (a create makes at most a quarantine's worth of holds, + 1) */
    if (!__atomic_load_n(&reclaimed_any, __ATOMIC_SEQ_CST))
        return 0; /* nothing reclaimed yet: no value can be a reclaimed one */
    if (cg_registry_lookup(value, 0, NULL) != CG_OBJ_RECLAIMED || !cg_quarantine_ready())
        return 0;
    cg_policy_record(pc, CG_POLICY_HELD, value, role->handle_kind, 0);
    pc->holds++;
    cg_quarantine_hold(value, role->handle_kind, &pc->evicted);
    cg_debug("destroy: held back reclaimed value %#llx from %s", (unsigned long long)value,
             cg_api_info[pc->id].name);
    return 1;
}

void cg_destroy_init(void)
{
    /* Registered at the first create, after main began, so it runs before
     * the driver's own destructors. Once per program: a fork child inherits
     * it and, being another pid, reclaims nothing of its parent's. */
    static int registered;
    if (__atomic_load_n(&registered, __ATOMIC_ACQUIRE) ||
        __atomic_exchange_n(&registered, 1, __ATOMIC_ACQ_REL))
        return;
    exit_pid = getpid();
    if (atexit(reclaim_at_exit) != 0)
        cg_warn("destroy: cannot register the exit handler; objects left at exit stay");
}

/*
 * shim/policy_ownership.c — the ownership policy and CUGUARD_ON_ERROR.
 *
 * What it is for: checking every event and stream a call names against the
 * registry before the call reaches the driver.
 *   - absent (never created): unknown-handle;
 *   - destroyed, or quarantined and used for anything but a query or a
 *     synchronize: use-after-destroy; destroyed again: double-destroy.
 * ownership refuses these with CUDA_ERROR_INVALID_HANDLE; so does
 * ON_ERROR=refuse; ON_ERROR=abort prints the finding and aborts; with
 * neither they reach the driver (observe only).
 * ownership also defers destroys: the object stays alive in a bounded FIFO
 * quarantine (CUGUARD_QUARANTINE), so the driver cannot give its value to a
 * new object while stale copies of it exist, and a stale query or
 * synchronize is answered by the still-alive object itself (the destroy of
 * an event others still wait on is thereby deferred until they see it
 * complete). When the quarantine is full its oldest object is destroyed.
 *
 * What it must never do: pass a handle it found absent, destroyed or
 * quarantined to the driver under ownership or ON_ERROR=refuse|abort
 * (docs/driver-behaviour.md: such calls may crash a real driver), or call the driver
 * while holding the quarantine lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/driver.h"
#include "shim/live_errors.h"
#include "shim/log.h"
#include "shim/policy_internal.h"

struct quarantined {
    uint64_t handle;
    uint8_t kind;
};

static pthread_mutex_t quarantine_lock = PTHREAD_MUTEX_INITIALIZER;
static struct quarantined *ring; /* cg_config.quarantine slots */
static size_t ring_head, ring_count;

static const char *const reason_names[] = {
    [CG_REASON_UNKNOWN_HANDLE] = "unknown-handle",
    [CG_REASON_USE_AFTER_DESTROY] = "use-after-destroy",
    [CG_REASON_DOUBLE_DESTROY] = "double-destroy",
    [CG_REASON_RECLAIMED] = "reclaimed",
};

/* A live error finding on `value`: refuse, abort, or let it through. */
static void live_error(struct cg_pcall *pc, int reason, uint64_t value)
{
    cg_live_error_note();
    if (cg_policy_on.on_error == CG_ON_ERROR_ABORT) {
        cg_policy_record(pc, CG_POLICY_REFUSED, value, (uint64_t)reason, CUDA_ERROR_INVALID_HANDLE);
        fprintf(stderr, "cuguard: %s: %s of %#llx; aborting (CUGUARD_ON_ERROR=abort)\n",
                reason_names[reason], cg_api_info[pc->id].name, (unsigned long long)value);
        abort();
    }
    if (!cg_policy_on.ownership && cg_policy_on.on_error != CG_ON_ERROR_REFUSE)
        return;
    pc->verdict = CG_VERDICT_ANSWER;
    pc->answer = CUDA_ERROR_INVALID_HANDLE;
    cg_policy_record(pc, CG_POLICY_REFUSED, value, (uint64_t)reason, CUDA_ERROR_INVALID_HANDLE);
    cg_debug("refused %s(%#llx): %s", cg_api_info[pc->id].name, (unsigned long long)value,
             reason_names[reason]);
}

/* A quarantined object named by a query or synchronize: the object is
 * alive, so the call may go on, unless ON_ERROR wants the finding acted on. */
static void stale_but_alive(struct cg_pcall *pc, uint64_t value)
{
    if (!cg_policy_on.ownership || cg_policy_on.on_error != CG_ON_ERROR_CONTINUE) {
        live_error(pc, CG_REASON_USE_AFTER_DESTROY, value);
        return;
    }
    cg_policy_record(pc, CG_POLICY_QUARANTINED, value, 0, 0);
}

/* Check one object named by the call. Returns 0 when the verdict is made. */
static int check_one(struct cg_pcall *pc, uint64_t value, uint8_t kind, int is_handle_field)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (value == 0 || (kind == CG_OBJ_STREAM && cg_builtin_stream(value)))
        return 1; /* NULL and the built-in streams: the driver answers them itself */
    uint64_t touch = cg_policy_on.isolate || cg_policy_on.destroy ? pc->task : 0;
    struct cg_obj_info info;
    int state = cg_registry_lookup(value, touch, &info);
    if (state != CG_OBJ_ABSENT && info.kind != kind)
        state = CG_OBJ_ABSENT; /* a stream passed as an event (or back): foreign */
    int destroying = is_handle_field && role->op == CG_OP_DESTROY;
    switch (state) {
    case CG_OBJ_LIVE:
        return 1;
    case CG_OBJ_RECLAIMED:
        return cg_destroy_answer_reclaimed(pc, value, kind);
    case CG_OBJ_QUARANTINED:
        if (is_handle_field && (role->op == CG_OP_QUERY || role->op == CG_OP_SYNC)) {
            stale_but_alive(pc, value);
            return pc->verdict == CG_VERDICT_CALL;
        }
        live_error(pc, destroying ? CG_REASON_DOUBLE_DESTROY : CG_REASON_USE_AFTER_DESTROY, value);
        break;
    case CG_OBJ_DESTROYED:
        live_error(pc, destroying ? CG_REASON_DOUBLE_DESTROY : CG_REASON_USE_AFTER_DESTROY, value);
        break;
    default:
        live_error(pc, CG_REASON_UNKNOWN_HANDLE, value);
        break;
    }
    return pc->verdict == CG_VERDICT_CALL;
}

void cg_ownership_check(struct cg_pcall *pc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (role->op == CG_OP_NONE || role->op == CG_OP_CREATE)
        return;
    if (role->handle_kind && !check_one(pc, pc->handle, role->handle_kind, 1))
        return;
    if (role->arg_kind && !check_one(pc, pc->arg, role->arg_kind, 0))
        return;
    if (role->op == CG_OP_DESTROY && cg_policy_on.ownership)
        cg_ownership_destroy(pc);
}

/* ---- the quarantine ---- */

static CUresult real_destroy(uint64_t handle, uint8_t kind)
{
    typedef CUresult(CUDAAPI * destroy_fn)(void *);
    unsigned id = kind == CG_OBJ_EVENT ? CG_ID_cuEventDestroy_v2 : CG_ID_cuStreamDestroy_v2;
    destroy_fn fn = (destroy_fn)cg_real(id);
    return fn != NULL ? fn((void *)(uintptr_t)handle) : CUDA_ERROR_NOT_FOUND;
}

/* Destroy for good an object that leaves the quarantine. */
static void release(struct quarantined victim)
{
    if (!cg_registry_transition(victim.handle, CG_OBJ_QUARANTINED, CG_OBJ_DESTROYED, 0))
        return;
    struct cg_record *r = cg_policy_reserve(CG_POLICY_RELEASED, victim.handle, victim.kind);
    cg_policy_publish(r, real_destroy(victim.handle, victim.kind));
}

/* Put `handle` in the quarantine; the object pushed out (if any) into
 * `victim`. Returns 0 when it could not be quarantined. */
static int quarantine_push(uint64_t handle, uint8_t kind, struct quarantined *victim, int *evicted)
{
    size_t cap = cg_config.quarantine;
    *evicted = 0;
    if (cap == 0)
        return 0;
    pthread_mutex_lock(&quarantine_lock);
    if (ring == NULL)
        ring = calloc(cap, sizeof *ring);
    int ok = ring != NULL;
    if (ok && ring_count == cap) {
        *victim = ring[ring_head];
        ring_head = (ring_head + 1) % cap;
        ring_count--;
        *evicted = 1;
    }
    if (ok) {
        ring[(ring_head + ring_count) % cap] = (struct quarantined){handle, kind};
        ring_count++;
    }
    pthread_mutex_unlock(&quarantine_lock);
    return ok;
}

void cg_ownership_destroy(struct cg_pcall *pc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    struct quarantined victim = {0, 0};
    int evicted = 0;
    if (!cg_registry_transition(pc->handle, CG_OBJ_LIVE, CG_OBJ_QUARANTINED, 0))
        return; /* raced with another destroy: the driver decides */
    if (!quarantine_push(pc->handle, role->handle_kind, &victim, &evicted)) {
        cg_registry_transition(pc->handle, CG_OBJ_QUARANTINED, CG_OBJ_LIVE, 0);
        return; /* no quarantine: destroyed now, tombstoned by cg_pcall_end */
    }
    pc->verdict = CG_VERDICT_ANSWER;
    pc->answer = CUDA_SUCCESS;
    cg_policy_record(pc, CG_POLICY_DEFERRED_DESTROY, pc->handle, role->handle_kind, 0);
    if (evicted)
        release(victim);
}

void cg_ownership_prepare_fork(void)
{
    pthread_mutex_lock(&quarantine_lock);
}

void cg_ownership_after_fork(void)
{
    pthread_mutex_unlock(&quarantine_lock);
}

void cg_ownership_init(void)
{
    pthread_mutex_lock(&quarantine_lock);
    free(ring);
    ring = NULL;
    ring_head = ring_count = 0;
    pthread_mutex_unlock(&quarantine_lock);
}

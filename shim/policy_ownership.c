/*
 * shim/policy_ownership.c — the ownership policy and CUGUARD_ON_ERROR.
 *
 * What it is for: checking every event and stream a call names against the
 * registry before the call reaches the driver.
 *   - absent (never created): unknown-handle;
 *   - destroyed, or quarantined and used for anything but a query or a
 *     synchronize: use-after-destroy; destroyed again: double-destroy.
 * ownership refuses these with CUDA_ERROR_INVALID_HANDLE; so does
 * ON_ERROR=refuse; ON_ERROR=abort refuses the call too, and once the call
 * and its REFUSED record are in the trace prints the finding and aborts;
 * with neither they reach the driver (observe only).
 * ownership also defers destroys: the object stays alive in a bounded FIFO
 * quarantine (CUGUARD_QUARANTINE, shim/policy_quarantine.c), so the driver
 * cannot give its value to a new object while stale copies of it exist,
 * and a stale query or synchronize is answered by the still-alive object
 * itself (the destroy of an event others still wait on is thereby deferred
 * until they see it complete). When the quarantine is full its oldest
 * object is destroyed.
 *
 * What it must never do: pass a handle it found absent, destroyed or
 * quarantined to the driver under ownership or ON_ERROR=refuse|abort
 * (docs/driver-behaviour.md: such calls may crash a real driver), or abort
 * before the finding is written to the trace.
 */
#include <stdio.h>
#include <stdlib.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/driver.h"
#include "shim/live_errors.h"
#include "shim/log.h"
#include "shim/policy_internal.h"

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
        /* Refused and recorded like ON_ERROR=refuse, so the finding is in
         * the trace; cg_pcall_done() aborts once the call is written. */
        pc->verdict = CG_VERDICT_ANSWER;
        pc->answer = CUDA_ERROR_INVALID_HANDLE;
        pc->aborting = reason;
        pc->abort_value = value;
        cg_policy_record(pc, CG_POLICY_REFUSED, value, (uint64_t)reason | CG_REASON_ABORTED,
                         CUDA_ERROR_INVALID_HANDLE);
        return;
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

/* The state of `value` (ABSENT for one of another kind). With `taken` set,
 * the call is a destroy to defer: a LIVE object becomes QUARANTINED in the
 * same step as the lookup (*taken = 1 then). */
static int state_of(const struct cg_pcall *pc, uint64_t value, uint8_t kind, int *taken)
{
    struct cg_obj_info info;
    int state;
    if (taken != NULL) {
        state = cg_registry_lookup_take(value, kind, CG_OBJ_QUARANTINED, &info);
        *taken = state == CG_OBJ_LIVE && info.kind == kind;
    } else {
        uint64_t touch = cg_policy_on.isolate || cg_policy_on.destroy ? pc->task : 0;
        state = cg_registry_lookup(value, touch, &info);
    }
    if (state != CG_OBJ_ABSENT && info.kind != kind)
        state = CG_OBJ_ABSENT; /* a stream passed as an event (or back): foreign */
    return state;
}

/* Check one object named by the call. Returns 0 when the verdict is made. */
static int check_one(struct cg_pcall *pc, uint64_t value, uint8_t kind, int is_handle_field,
                     int *taken)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (value == 0 || (kind == CG_OBJ_STREAM && cg_builtin_stream(value)))
        return 1; /* NULL and the built-in streams: the driver answers them itself */
    int state = state_of(pc, value, kind, taken);
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

/* The program's destroy of a LIVE object, now QUARANTINED: answered, and
 * the object kept alive in the quarantine. */
static void defer_destroy(struct cg_pcall *pc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    /* The record goes first: the object pushed out is destroyed at once. */
    pc->verdict = CG_VERDICT_ANSWER;
    pc->answer = CUDA_SUCCESS;
    cg_policy_record(pc, CG_POLICY_DEFERRED_DESTROY, pc->handle, role->handle_kind, 0);
    cg_quarantine_defer(pc->handle, role->handle_kind);
}

void cg_ownership_check(struct cg_pcall *pc)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (role->op == CG_OP_NONE || role->op == CG_OP_CREATE)
        return;
    /* A destroy under ownership with a quarantine: lookup and quarantine in
     * one step (no quarantine: destroyed now, tombstoned by cg_pcall_end). */
    int deferring = role->op == CG_OP_DESTROY && cg_policy_on.ownership && cg_quarantine_ready();
    int taken = 0;
    if (role->handle_kind &&
        !check_one(pc, pc->handle, role->handle_kind, 1, deferring ? &taken : NULL))
        return;
    if (role->arg_kind && !check_one(pc, pc->arg, role->arg_kind, 0, NULL))
        return;
    if (taken)
        defer_destroy(pc);
}

void cg_ownership_abort(const struct cg_pcall *pc)
{
    fprintf(stderr, "cuguard: %s: %s of %#llx; aborting (CUGUARD_ON_ERROR=abort)\n",
            reason_names[pc->aborting], cg_api_info[pc->id].name,
            (unsigned long long)pc->abort_value);
    abort();
}

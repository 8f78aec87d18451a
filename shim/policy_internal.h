/*
 * shim/policy_internal.h — what the policy files share (not for wrappers).
 *
 * What it is for: the role table (which record field of which api is an
 * event or a stream, and what the call does with it), the policy switches,
 * the task serial the policies age objects by, the POLICY record writer and
 * the entry points of each policy file.
 *
 * What it must never do: be included outside shim/policy*.c.
 */
#ifndef CUGUARD_SHIM_POLICY_INTERNAL_H
#define CUGUARD_SHIM_POLICY_INTERNAL_H

#include <cuda.h>
#include <stdint.h>

#include "shim/policy.h"
#include "shim/registry.h"
#include "tracer/format.h"

/* What a call does with the object in its `handle` field. */
enum cg_op {
    CG_OP_NONE = 0, /* no tracked object */
    CG_OP_CREATE,   /* handle = the new object (CG_OUT) */
    CG_OP_DESTROY,
    CG_OP_QUERY,   /* cuEventQuery, cuStreamQuery */
    CG_OP_SYNC,    /* cuEventSynchronize, cuStreamSynchronize */
    CG_OP_RECORD,  /* cuEventRecord*: arg = the stream */
    CG_OP_ELAPSED, /* arg = the end event */
    CG_OP_WAIT,    /* cuStreamWaitEvent: arg = the event */
    CG_OP_ENQUEUE, /* copies, launches: handle = the stream */
};

struct cg_role {
    uint8_t op;          /* enum cg_op */
    uint8_t handle_kind; /* enum cg_obj_kind of `handle`, 0 = none */
    uint8_t arg_kind;    /* enum cg_obj_kind of `arg`, 0 = none */
    uint8_t stream_in;   /* 1: the stream is `handle`, 2: it is `arg`, 0: none */
};

/* Indexed by api id. */
extern struct cg_role cg_roles[];

/* Work bits: which policy has anything to do for an api under the switches
 * loaded (cg_policy_load); a step whose bit is clear is never entered. */
enum cg_work {
    CG_WORK_CHECK = 1u << 0,      /* ownership/ON_ERROR check of its objects */
    CG_WORK_ISOLATE = 1u << 1,    /* isolate: a stream create or a stream argument */
    CG_WORK_HOLD = 1u << 2,       /* destroy: a create may get a reclaimed value */
    CG_WORK_SYNC_QUERY = 1u << 3, /* sync-query: cuEventQuery */
    CG_WORK_END = 1u << 4,        /* registry bookkeeping after a create or destroy */
};
/* Indexed by api id. */
extern uint8_t cg_work[];

/* Switches, from cg_config at load. */
struct cg_policy_switches {
    int ownership, isolate, destroy, sync_query;
    int on_error; /* enum cg_on_error */
    int registry; /* the registry is kept */
};
extern struct cg_policy_switches cg_policy_on;

/* Stream handles that are not objects: 0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD. */
static inline int cg_builtin_stream(uint64_t h)
{
    return h <= 2u;
}

/* The policy task serial (1, 2, ...): bumped each time the task changes
 * (CUGUARD_TASK=env:NAME; other modes stay at 1). Runs the task-change work
 * of isolate and destroy before it returns, in the calling thread. */
uint64_t cg_policy_task_now(void);

/* One CG_REC_POLICY record (when tracing). `pc` gives api, tid and site;
 * NULL for interventions between calls. */
void cg_policy_record(const struct cg_pcall *pc, uint32_t action, uint64_t handle, uint64_t arg2,
                      int32_t result);

/* The same record for a teardown the shim makes itself (RELEASED,
 * RECLAIMED): reserved and stamped before the real destroy, published with
 * its result after it (format.h "Order"). reserve returns NULL when not
 * tracing; publish ignores NULL. */
struct cg_record *cg_policy_reserve(uint32_t action, uint64_t handle, uint64_t arg2);
void cg_policy_publish(struct cg_record *r, int32_t result);

/* ownership and ON_ERROR (shim/policy_ownership.c). */
void cg_ownership_check(struct cg_pcall *pc);
/* ON_ERROR=abort, once the refused call is recorded: message, abort(). */
void cg_ownership_abort(const struct cg_pcall *pc) __attribute__((noreturn));

/* The quarantine (shim/policy_quarantine.c): a bounded FIFO of objects kept
 * alive by the shim, shared by ownership's deferred destroys and destroy's
 * held objects. When it is full the oldest entry is destroyed for good. */
/* ownership: keep the program's destroyed object alive. 0: no quarantine. */
int cg_quarantine_defer(uint64_t handle, uint8_t kind);
/* 1 when the quarantine exists (allocated now if need be): defer and hold
 * then cannot fail. */
int cg_quarantine_ready(void);
/* destroy: keep the new object `handle` (a reclaimed value the driver
 * handed out again); the held object pushed out, if any, into *evicted
 * (else 0). Returns 0 when it could not be held. */
int cg_quarantine_hold(uint64_t handle, uint8_t kind, uint64_t *evicted);
/* destroy: the program destroyed its stale copy of `handle`: destroy the
 * object held under that value, if any (1), else 0. */
int cg_quarantine_release_held(uint64_t handle);
/* destroy, at process exit: destroy every held object. */
void cg_quarantine_release_all_held(void);
void cg_quarantine_init(void);
/* Fork handlers: take and release the quarantine lock around fork; in the
 * child the cached process id is forgotten too. */
void cg_quarantine_prepare_fork(void);
void cg_quarantine_after_fork(void);
void cg_quarantine_after_fork_child(void);

/* destroy (shim/policy_destroy.c). */
void cg_destroy_task_changed(uint64_t new_task);
int cg_destroy_answer_reclaimed(struct cg_pcall *pc, uint64_t handle, uint8_t kind);
/* After a create returned `rc`: 1 when the value it got is one the shim
 * reclaimed (now held in the quarantine) and the create must be made again. */
int cg_destroy_hold_reused(struct cg_pcall *pc, CUresult rc);
void cg_destroy_init(void);

/* isolate (shim/policy_isolate.c). */
void cg_isolate_begin(struct cg_pcall *pc);
/* At load: the per-thread twin of each api. */
void cg_isolate_init(void);
void cg_isolate_task_changed(uint64_t finished_task);

/* sync-query (shim/policy_sync_query.c). */
int cg_sync_query_retry(struct cg_pcall *pc, CUresult rc);

#endif

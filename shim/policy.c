/*
 * shim/policy.c — the policy dispatcher: switches, roles, task serial,
 * POLICY records, and the begin/end of a policied call.
 *
 * What it is for: the implementation of shim/policy.h. Which record field
 * of an api is an event or a stream is derived once from the api's base
 * name (the role table); each call is then checked by ownership/ON_ERROR
 * (shim/policy_ownership.c), possibly redirected by isolate
 * (shim/policy_isolate.c), retried by sync-query
 * (shim/policy_sync_query.c); task changes run isolate's drain and
 * destroy's reclaim (shim/policy_destroy.c) before the call proceeds.
 *
 * What it must never do: hold a lock while it calls the driver (the task
 * lock aside, which only orders task changes), or write a record when the
 * process is not tracing.
 */
#include "shim/policy.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/trace_state.h"
#include "shim/log.h"
#include "shim/policy_internal.h"
#include "shim/site.h"
#include "shim/task.h"
#include "shim/thread.h"
#include "tracer/writer.h"

int cg_policy_active;
struct cg_policy_switches cg_policy_on;
struct cg_role cg_roles[CG_API_COUNT];

/* ---- roles ---- */

static const struct {
    const char *base;
    struct cg_role role;
} role_by_base[] = {
    {"cuEventCreate", {CG_OP_CREATE, CG_OBJ_EVENT, 0, 0}},
    {"cuEventRecord", {CG_OP_RECORD, CG_OBJ_EVENT, CG_OBJ_STREAM, 2}},
    {"cuEventRecordWithFlags", {CG_OP_RECORD, CG_OBJ_EVENT, CG_OBJ_STREAM, 2}},
    {"cuEventQuery", {CG_OP_QUERY, CG_OBJ_EVENT, 0, 0}},
    {"cuEventSynchronize", {CG_OP_SYNC, CG_OBJ_EVENT, 0, 0}},
    {"cuEventDestroy", {CG_OP_DESTROY, CG_OBJ_EVENT, 0, 0}},
    {"cuEventElapsedTime", {CG_OP_ELAPSED, CG_OBJ_EVENT, CG_OBJ_EVENT, 0}},
    {"cuStreamCreate", {CG_OP_CREATE, CG_OBJ_STREAM, 0, 0}},
    {"cuStreamCreateWithPriority", {CG_OP_CREATE, CG_OBJ_STREAM, 0, 0}},
    {"cuStreamDestroy", {CG_OP_DESTROY, CG_OBJ_STREAM, 0, 0}},
    {"cuStreamSynchronize", {CG_OP_SYNC, CG_OBJ_STREAM, 0, 1}},
    {"cuStreamQuery", {CG_OP_QUERY, CG_OBJ_STREAM, 0, 1}},
    {"cuStreamWaitEvent", {CG_OP_WAIT, CG_OBJ_STREAM, CG_OBJ_EVENT, 1}},
    {"cuMemcpyAsync", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
    {"cuMemcpyHtoDAsync", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
    {"cuMemcpyDtoHAsync", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
    {"cuMemcpyDtoDAsync", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
    {"cuLaunchKernel", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
    {"cuLaunchHostFunc", {CG_OP_ENQUEUE, CG_OBJ_STREAM, 0, 1}},
};

static void build_roles(void)
{
    for (unsigned id = 1; id < CG_API_COUNT; id++) {
        cg_roles[id] = (struct cg_role){0, 0, 0, 0};
        for (size_t i = 0; i < sizeof role_by_base / sizeof role_by_base[0]; i++) {
            if (strcmp(cg_api_info[id].base, role_by_base[i].base) == 0)
                cg_roles[id] = role_by_base[i].role;
        }
    }
}

uint8_t cg_work[CG_API_COUNT];

/* What each policy in `on` has to do for the api of `role`. */
static uint8_t work_of(const struct cg_role *role, const struct cg_policy_switches *on)
{
    unsigned w = 0;
    int create = role->op == CG_OP_CREATE;
    if (on->registry && role->op != CG_OP_NONE && !create)
        w |= CG_WORK_CHECK;
    if (on->isolate && ((create && role->handle_kind == CG_OBJ_STREAM) || role->stream_in != 0))
        w |= CG_WORK_ISOLATE;
    if (on->destroy && create)
        w |= CG_WORK_HOLD;
    if (on->sync_query && role->op == CG_OP_QUERY && role->handle_kind == CG_OBJ_EVENT)
        w |= CG_WORK_SYNC_QUERY;
    if (on->registry && (create || role->op == CG_OP_DESTROY))
        w |= CG_WORK_END;
    return (uint8_t)w;
}

static void build_work(const struct cg_policy_switches *on)
{
    for (unsigned id = 0; id < CG_API_COUNT; id++)
        cg_work[id] = work_of(&cg_roles[id], on);
}

/* ---- load ---- */

/* Fork safety. Lock order at fork: the registry's (init_lock, stripes),
 * then the quarantine's; all are leaves held for a few instructions. The
 * task lock is not taken: it is held across driver calls while isolate
 * drains streams, so waiting for it could stall fork for as long as the
 * GPU work lasts. The child (one thread, which did not hold it) gets a
 * fresh one instead; the task serial and hash it guards are atomics. */
static void task_lock_reset_in_child(void);

static void fork_prepare(void)
{
    cg_registry_prepare_fork();
    cg_quarantine_prepare_fork();
}

static void fork_after_parent(void)
{
    cg_quarantine_after_fork();
    cg_registry_after_fork();
}

static void fork_after_child(void)
{
    cg_quarantine_after_fork_child();
    cg_registry_after_fork();
    task_lock_reset_in_child();
}

void cg_policy_load(void)
{
    static int fork_handlers;
    struct cg_policy_switches on = {
        .ownership = (cg_config.policy & CG_POLICY_BIT_OWNERSHIP) != 0,
        .isolate = (cg_config.policy & CG_POLICY_BIT_ISOLATE) != 0,
        .destroy = (cg_config.policy & CG_POLICY_BIT_DESTROY) != 0,
        .sync_query = (cg_config.policy & CG_POLICY_BIT_SYNC_QUERY) != 0,
        .on_error = cg_config.on_error,
    };
    on.registry = on.ownership || on.isolate || on.destroy || on.on_error != CG_ON_ERROR_CONTINUE;
    if (on.registry && cg_registry_init() != 0) {
        cg_warn("out of memory: CUGUARD_POLICY and CUGUARD_ON_ERROR are ignored");
        on = (struct cg_policy_switches){0};
    }
    build_roles();
    build_work(&on);
    if (on.isolate)
        cg_isolate_init();
    cg_quarantine_init();
    cg_policy_on = on;
    if (on.registry && !fork_handlers)
        fork_handlers = pthread_atfork(fork_prepare, fork_after_parent, fork_after_child) == 0;
    int active = on.registry || on.sync_query;
    __atomic_store_n(&cg_policy_active, active, __ATOMIC_RELEASE);
    if (active)
        cg_debug("policies:%s%s%s%s, on error: %s", on.ownership ? " ownership" : "",
                 on.isolate ? " isolate" : "", on.destroy ? " destroy" : "",
                 on.sync_query ? " sync-query" : "",
                 on.on_error == CG_ON_ERROR_ABORT    ? "abort"
                 : on.on_error == CG_ON_ERROR_REFUSE ? "refuse"
                                                     : "continue");
}

/* ---- the task serial ---- */

static pthread_mutex_t task_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t task_serial = 1;
static uint64_t task_hash;  /* of the task name last seen, under task_lock to write */
static int task_hash_valid; /* 0 until the first look */

static void task_lock_reset_in_child(void)
{
    static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&task_lock, &fresh, sizeof task_lock);
}

uint64_t cg_policy_task_now(void)
{
    if (!(cg_policy_on.isolate || cg_policy_on.destroy) || cg_config.task_mode != CG_TASK_ENV)
        return __atomic_load_n(&task_serial, __ATOMIC_ACQUIRE);
    uint64_t h = cg_task_name_hash();
    if (__atomic_load_n(&task_hash_valid, __ATOMIC_ACQUIRE) &&
        __atomic_load_n(&task_hash, __ATOMIC_RELAXED) == h)
        return __atomic_load_n(&task_serial, __ATOMIC_ACQUIRE);
    pthread_mutex_lock(&task_lock);
    if (!task_hash_valid) {
        __atomic_store_n(&task_hash, h, __ATOMIC_RELAXED);
        __atomic_store_n(&task_hash_valid, 1, __ATOMIC_RELEASE);
    } else if (__atomic_load_n(&task_hash, __ATOMIC_RELAXED) != h) {
        uint64_t finished = task_serial;
        __atomic_store_n(&task_serial, finished + 1, __ATOMIC_RELEASE);
        if (cg_policy_on.isolate)
            cg_isolate_task_changed(finished);
        if (cg_policy_on.destroy)
            cg_destroy_task_changed(finished + 1);
        __atomic_store_n(&task_hash, h, __ATOMIC_RELEASE);
    }
    uint64_t serial = task_serial;
    pthread_mutex_unlock(&task_lock);
    return serial;
}

/* ---- records ---- */

void cg_policy_record(const struct cg_pcall *pc, uint32_t action, uint64_t handle, uint64_t arg2,
                      int32_t result)
{
    if (!cg_trace_wanted() || !cg_trace_ready())
        return;
    struct cg_thread *t = cg_thread_self();
    uint32_t site = pc != NULL ? cg_site_id(t, pc->caller) : 0;
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    memset(r, 0, sizeof *r);
    r->handle = handle;
    r->arg = action;
    r->arg2 = arg2;
    r->ts_ns = cg_now_ns();
    r->tid = t != NULL ? t->tid : cg_gettid();
    r->site = site;
    r->result = result;
    r->api = pc != NULL ? (uint16_t)pc->id : 0;
    cg_writer_publish(r, CG_REC_POLICY);
}

struct cg_record *cg_policy_reserve(uint32_t action, uint64_t handle, uint64_t arg2)
{
    if (!cg_trace_wanted() || !cg_trace_ready())
        return NULL;
    struct cg_thread *t = cg_thread_self();
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->handle = handle;
    r->arg = action;
    r->arg2 = arg2;
    r->ts_ns = cg_now_ns();
    r->tid = t != NULL ? t->tid : cg_gettid();
    return r;
}

void cg_policy_publish(struct cg_record *r, int32_t result)
{
    if (r == NULL)
        return;
    r->result = result;
    cg_writer_publish(r, CG_REC_POLICY);
}

/* ---- one call ---- */

uint64_t cg_pcall_note_out(struct cg_pcall *pc, void *out)
{
    pc->out = out;
    return 0;
}

void cg_pcall_begin(struct cg_pcall *pc, unsigned id, void *real, uint64_t handle, uint64_t arg,
                    uint64_t arg2)
{
    pc->id = id;
    pc->caller = cg_policy_caller;
    pc->real = real;
    pc->handle = handle;
    pc->arg = arg;
    pc->arg2 = arg2;
    pc->verdict = CG_VERDICT_CALL;
    pc->answer = CUDA_SUCCESS;
    pc->started_ns = 0;
    pc->retries = 0;
    pc->holds = 0;
    pc->evicted = 0;
    pc->aborting = 0;
    /* The TASK record goes before what a task change does. */
    if (cg_trace_wanted() && cg_trace_ready() && cg_config.task_mode == CG_TASK_ENV)
        cg_task_poll_thread(cg_thread_self());
    pc->task = cg_policy_task_now();
    unsigned work = cg_work[id];
    if (work & CG_WORK_CHECK)
        cg_ownership_check(pc);
    if (pc->verdict == CG_VERDICT_CALL && (work & CG_WORK_ISOLATE))
        cg_isolate_begin(pc);
}

int cg_pcall_retry(struct cg_pcall *pc, CUresult rc)
{
    unsigned work = cg_work[pc->id];
    if ((work & CG_WORK_HOLD) && cg_destroy_hold_reused(pc, rc))
        return 1; /* the driver reused a reclaimed value: create again */
    return (work & CG_WORK_SYNC_QUERY) && cg_sync_query_retry(pc, rc);
}

void cg_pcall_done(struct cg_pcall *pc)
{
    if (pc->aborting)
        cg_ownership_abort(pc);
}

void cg_pcall_end(struct cg_pcall *pc, CUresult rc, uint64_t new_handle)
{
    const struct cg_role *role = &cg_roles[pc->id];
    if (!(cg_work[pc->id] & CG_WORK_END) || rc != CUDA_SUCCESS || pc->verdict == CG_VERDICT_ANSWER)
        return;
    if (role->op == CG_OP_CREATE && new_handle != 0)
        cg_registry_created(new_handle, role->handle_kind, pc->task);
    else if (role->op == CG_OP_DESTROY)
        cg_registry_transition(pc->handle, CG_OBJ_LIVE, CG_OBJ_DESTROYED, 0);
    if (role->op == CG_OP_CREATE && cg_policy_on.destroy)
        cg_destroy_init();
}

/*
 * analysis/replay/replay.c — the per-process lifecycle state machine.
 *
 * What it is for: see replay.h. This file takes records in and dispatches
 * them; the tables live in replay_objects.c, finding helpers in
 * replay_raise.c, end-of-trace findings in replay_exit.c. Each call goes
 * through two phases: when it began (ENTER, or a CALL) the handles it names
 * are classified — live, destroyed, never created — and misuse is raised;
 * when it returned (EXIT, or the same CALL) its result is applied: creates
 * make objects, destroys end them, records and synchronizes move events
 * between pending and complete, and an error nobody explained becomes
 * api-error.
 *
 * What it must never do: grow with trace length, trust a field of a record,
 * or raise a finding for a call that failed and changed nothing (a failed
 * create makes no object, a failed destroy ends none).
 */
#include "analysis/replay/replay.h"
#include "analysis/replay/replay_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/cuda_errors.h"

/* ------------------------------------------------------------------ strings */

const char *replay_string(const struct replay_process *p, uint32_t id)
{
    return id ? cg_reader_string(p->reader, id) : NULL;
}

const char *replay_api_name(const struct replay_process *p, uint16_t api)
{
    if (!api)
        return NULL;
    return api < p->api_count ? p->api_names[api] : cg_reader_api_name(p->reader, api);
}

uint32_t replay_task_of(const struct replay_process *p, const struct replay_thread *t)
{
    return t && t->has_task ? t->task : p->task;
}

/* ------------------------------------------------------------------ phase 1: call began */

/* The per-record steps run once per record: inlined into the record
 * handlers, they cost no call (HOT); findings are rare (COLD). */
#define HOT static inline __attribute__((always_inline))
#define COLD static __attribute__((noinline, cold))
/* A record handler replay_feed calls: out of line, so that replay_feed
 * itself stays small (it runs once per record, whatever its kind). */
#define HANDLER static __attribute__((noinline))

struct call_state {
    int explained; /* a finding on this call explains an error result */
};

COLD void raise_handle_misuse(struct replay_process *p, const struct replay_step *s,
                              enum obj_type type, uint64_t handle, struct replay_object *o,
                              int destroying, struct call_state *cs)
{
    char what[128], msg[512], who[128];
    rp_describe_handle(what, sizeof what, type, handle, o);
    const char *api = replay_api_name(p, s->rec->api);
    if (!o) {
        if (handle == 0)
            snprintf(msg, sizeof msg, "%s was given a NULL %s handle.", api ? api : "a call",
                     rp_type_name(type));
        else
            snprintf(msg, sizeof msg,
                     "%s was given %s, a value no create call in this process returned.",
                     api ? api : "a call", what);
        replay_raise(p, s, FK_UNKNOWN_HANDLE, NULL, handle, 1, msg);
    } else if (destroying) {
        snprintf(msg, sizeof msg, "%s destroyed %s, which %s had already destroyed.",
                 api ? api : "a call", what,
                 rp_thread_label(p, o->destroyed.thread, o->destroyed.tid, who, sizeof who));
        replay_raise(p, s, FK_DOUBLE_DESTROY, o, handle, 1, msg);
    } else {
        snprintf(msg, sizeof msg, "%s used %s after %s destroyed it.", api ? api : "a call", what,
                 rp_thread_label(p, o->destroyed.thread, o->destroyed.tid, who, sizeof who));
        replay_raise(p, s, FK_USE_AFTER_DESTROY, o, handle, 1, msg);
    }
    cs->explained = 1;
}

/* Classify a handle the call uses (or destroys); returns its state. */
HOT enum handle_state classify(struct replay_process *p, const struct replay_step *s,
                               enum obj_type type, uint64_t handle, int destroying,
                               struct replay_object **out, struct call_state *cs)
{
    struct replay_object *o = rp_object_find(p, type, handle);
    *out = o;
    if (o && o->live)
        return HS_LIVE;
    raise_handle_misuse(p, s, type, handle, o, destroying, cs);
    return o ? HS_DESTROYED : HS_UNKNOWN;
}

HOT enum handle_state classify_stream(struct replay_process *p, struct replay_step *s,
                                      uint64_t handle, int destroying, struct replay_object **out,
                                      struct call_state *cs)
{
    s->stream = rp_stream_ref_of(handle, s->rec);
    s->has_stream = 1;
    if (s->stream.kind != STREAM_CREATED) {
        *out = NULL;
        return HS_BUILTIN;
    }
    return classify(p, s, OBJ_STREAM, handle, destroying, out, cs);
}

static void check_recorded(struct replay_process *p, const struct replay_step *s,
                           struct replay_object *ev)
{
    if (!ev || !ev->live || ev->records > 0 || ev->unrecorded_wait_seen)
        return;
    char what[128], msg[512];
    rp_describe_handle(what, sizeof what, OBJ_EVENT, ev->handle, ev);
    snprintf(msg, sizeof msg,
             "%s waited on %s before anything was recorded on it, so it returned at once.",
             replay_api_name(p, s->rec->api) ? replay_api_name(p, s->rec->api) : "a call", what);
    /* Once per generation: later waits on the same unrecorded event add nothing. */
    ev->unrecorded_wait_seen = 1;
    replay_raise(p, s, FK_QUERY_BEFORE_RECORD, ev, ev->handle, 1, msg);
}

/* The call began: classify every handle it names. `spin` polls are already
 * known to have seen NOT_READY, so they never count as query-before-record. */
HOT void begin_call(struct replay_process *p, struct replay_step *s, enum api_op op,
                    struct call_state *cs, int spin)
{
    const struct cg_record *r = s->rec;
    switch (op) {
    case OP_EVENT_RECORD:
        s->obj_state = classify(p, s, OBJ_EVENT, r->handle, 0, &s->obj, cs);
        s->arg_state = classify_stream(p, s, r->arg, 0, &s->arg_obj, cs);
        break;
    case OP_EVENT_QUERY:
    case OP_EVENT_SYNC:
        s->obj_state = classify(p, s, OBJ_EVENT, r->handle, 0, &s->obj, cs);
        if (!spin)
            check_recorded(p, s, s->obj);
        break;
    case OP_EVENT_ELAPSED:
        s->obj_state = classify(p, s, OBJ_EVENT, r->handle, 0, &s->obj, cs);
        s->arg_state = classify(p, s, OBJ_EVENT, r->arg, 0, &s->arg_obj, cs);
        break;
    case OP_EVENT_DESTROY:
        s->obj_state = classify(p, s, OBJ_EVENT, r->handle, 1, &s->obj, cs);
        break;
    case OP_STREAM_DESTROY:
        s->obj_state = classify_stream(p, s, r->handle, 1, &s->obj, cs);
        break;
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
    case OP_STREAM_WORK:
        s->obj_state = classify_stream(p, s, r->handle, 0, &s->obj, cs);
        break;
    case OP_STREAM_WAIT_EVENT:
        s->obj_state = classify_stream(p, s, r->handle, 0, &s->obj, cs);
        s->arg_state = classify(p, s, OBJ_EVENT, r->arg, 0, &s->arg_obj, cs);
        check_recorded(p, s, s->arg_obj);
        break;
    case OP_PINNED_FREE:
    case OP_HOST_UNREGISTER:
        s->obj_state = classify(p, s, OBJ_PINNED, r->handle, 1, &s->obj, cs);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ phase 2: call returned */

/* The origin of `rec` (the step's record or its ENTER) as rp_origin_of
 * gives it, with the task the step already knows. */
HOT struct replay_origin step_origin(const struct replay_step *s, const struct cg_record *rec)
{
    struct replay_origin o = {
        .ts_ns = rec->ts_ns,
        .tid = rec->tid,
        .site = rec->site,
        .task = s->task,
        .thread = s->thread ? s->thread->name : 0,
        .api = rec->api,
    };
    return o;
}

/* A create returned the value of an object still live here: the driver
 * freed it without a destroy the trace shows (its context ended unseen).
 * The program never destroyed it: its leak, not a silent end. */
static void raise_replaced(struct replay_process *p, struct replay_object *old, uint64_t by_ns)
{
    uint64_t start = p->hdr->start_mono_ns;
    char ended[200];
    if (old->reclaimed_ns)
        snprintf(ended, sizeof ended,
                 " before a later create returned the same value at +%.6f s (CUGUARD_POLICY="
                 "destroy had reclaimed it at +%.6f s)",
                 by_ns >= start ? (double)(by_ns - start) / 1e9 : 0.0,
                 old->reclaimed_ns >= start ? (double)(old->reclaimed_ns - start) / 1e9 : 0.0);
    else
        snprintf(ended, sizeof ended,
                 " before a later create returned the same value at +%.6f s (the driver had "
                 "freed it without a destroy the trace shows)",
                 by_ns >= start ? (double)(by_ns - start) / 1e9 : 0.0);
    rp_raise_leak_ended(p, old, ended);
}

HOT void apply_create(struct replay_process *p, struct replay_step *s, enum obj_type type)
{
    const struct cg_record *r = s->rec;
    if (r->result != RESULT_SUCCESS || r->handle == 0)
        return;
    const struct cg_record *call = s->enter ? s->enter : r;
    struct replay_object *old = rp_object_find(p, type, r->handle);
    if (old && old->live)
        raise_replaced(p, old, call->ts_ns);
    struct replay_object *o = rp_object_create_at(p, type, r->handle, call->ts_ns, old);
    if (!o)
        return;
    o->created = step_origin(s, call); /* stored in place: see rp_object_create_at */
    if (type == OBJ_STREAM)
        o->flags = r->arg;
    if (type == OBJ_PINNED) {
        o->pinned_origin = s->op == OP_HOST_REGISTER ? PINNED_REGISTERED : PINNED_ALLOCATED;
        o->bytes = r->arg;
        o->flags = r->arg2;
    }
    rp_count_created(p, o);
    rp_context_created(p, s, o);
    s->obj = o;
    s->obj_state = HS_LIVE;
}

static void apply_destroy(struct replay_process *p, struct replay_step *s)
{
    struct replay_object *o = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !o || !o->live)
        return;
    o->destroyed = step_origin(s, s->enter ? s->enter : s->rec);
    o->destroyed.ts_ns = s->rec->ts_ns;
    rp_object_destroy(p, o, s);
}

HOT void apply_record(struct replay_process *p, struct replay_step *s)
{
    struct replay_object *ev = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !ev || !ev->live)
        return;
    rp_resolve_record(p, ev, UNRESOLVED_RERECORDED, s, s->rec->ts_ns);
    ev->records++;
    ev->record = step_origin(s, s->rec);
    stream_ref_copy(&ev->record_stream, &s->stream);
    ev->record_stream_serial = s->arg_obj ? s->arg_obj->serial : 0;
    ev->record_serial = ++p->next_serial;
    rp_pending_push(p, ev);
    if (s->arg_obj && s->arg_obj->live)
        s->arg_obj->stream_busy = 1;
}

HOT void apply_observed(struct replay_process *p, const struct replay_step *s,
                        struct replay_object *ev)
{
    if (s->rec->result == RESULT_SUCCESS && ev && ev->live)
        rp_resolve_record(p, ev, RESOLVED_OBSERVED, s, s->rec->ts_ns);
}

HOT void apply_result(struct replay_process *p, struct replay_step *s, enum api_op op)
{
    int ok = s->rec->result == RESULT_SUCCESS;
    switch (op) {
    case OP_EVENT_CREATE:
        apply_create(p, s, OBJ_EVENT);
        break;
    case OP_STREAM_CREATE:
        apply_create(p, s, OBJ_STREAM);
        break;
    case OP_PINNED_ALLOC:
    case OP_HOST_REGISTER:
        apply_create(p, s, OBJ_PINNED);
        break;
    case OP_EVENT_DESTROY:
    case OP_STREAM_DESTROY:
    case OP_HOST_UNREGISTER:
        apply_destroy(p, s);
        break;
    case OP_PINNED_FREE:
        apply_destroy(p, s);
        if (ok) /* cuMemFreeHost synchronizes the context */
            rp_resolve_context_sync(p, s, s->rec->ts_ns);
        break;
    case OP_EVENT_RECORD:
        apply_record(p, s);
        break;
    case OP_EVENT_QUERY:
    case OP_EVENT_SYNC:
        apply_observed(p, s, s->obj);
        break;
    case OP_EVENT_ELAPSED:
        apply_observed(p, s, s->obj);
        apply_observed(p, s, s->arg_obj);
        break;
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
        if (ok)
            rp_resolve_stream_sync(p, &s->stream, s, s->rec->ts_ns);
        break;
    case OP_CTX_SYNC:
        if (ok)
            rp_resolve_context_sync(p, s, s->rec->ts_ns);
        break;
    case OP_STREAM_WORK:
    case OP_STREAM_WAIT_EVENT:
        if (ok && s->obj && s->obj->live)
            s->obj->stream_busy = 1;
        break;
    case OP_CTX_CREATE:
    case OP_CTX_DESTROY:
    case OP_CTX_RESET:
        if (ok)
            rp_context_call(p, s);
        break;
    default:
        break;
    }
}

/* Both phases of a call of a known op: inlined with op constant, each
 * case of call_op below is only its own code, behind one dispatch. */
HOT void call_as(struct replay_process *p, struct replay_step *s, enum api_op op,
                 struct call_state *cs)
{
    begin_call(p, s, op, cs, 0);
    apply_result(p, s, op);
}

HOT void call_op(struct replay_process *p, struct replay_step *s, enum api_op op,
                 struct call_state *cs)
{
    switch (op) {
    case OP_EVENT_CREATE:
        call_as(p, s, OP_EVENT_CREATE, cs);
        break;
    case OP_EVENT_RECORD:
        call_as(p, s, OP_EVENT_RECORD, cs);
        break;
    case OP_EVENT_QUERY:
        call_as(p, s, OP_EVENT_QUERY, cs);
        break;
    case OP_EVENT_SYNC:
        call_as(p, s, OP_EVENT_SYNC, cs);
        break;
    case OP_EVENT_DESTROY:
        call_as(p, s, OP_EVENT_DESTROY, cs);
        break;
    case OP_EVENT_ELAPSED:
        call_as(p, s, OP_EVENT_ELAPSED, cs);
        break;
    case OP_STREAM_CREATE:
        call_as(p, s, OP_STREAM_CREATE, cs);
        break;
    case OP_STREAM_DESTROY:
        call_as(p, s, OP_STREAM_DESTROY, cs);
        break;
    case OP_STREAM_SYNC:
        call_as(p, s, OP_STREAM_SYNC, cs);
        break;
    case OP_STREAM_QUERY:
        call_as(p, s, OP_STREAM_QUERY, cs);
        break;
    case OP_STREAM_WAIT_EVENT:
        call_as(p, s, OP_STREAM_WAIT_EVENT, cs);
        break;
    case OP_CTX_SYNC:
        call_as(p, s, OP_CTX_SYNC, cs);
        break;
    case OP_PINNED_ALLOC:
        call_as(p, s, OP_PINNED_ALLOC, cs);
        break;
    case OP_PINNED_FREE:
        call_as(p, s, OP_PINNED_FREE, cs);
        break;
    case OP_HOST_REGISTER:
        call_as(p, s, OP_HOST_REGISTER, cs);
        break;
    case OP_HOST_UNREGISTER:
        call_as(p, s, OP_HOST_UNREGISTER, cs);
        break;
    case OP_STREAM_WORK:
        call_as(p, s, OP_STREAM_WORK, cs);
        break;
    case OP_CTX_CREATE:
        call_as(p, s, OP_CTX_CREATE, cs);
        break;
    case OP_CTX_DESTROY:
        call_as(p, s, OP_CTX_DESTROY, cs);
        break;
    case OP_CTX_RESET:
        call_as(p, s, OP_CTX_RESET, cs);
        break;
    default: /* OP_OTHER: nothing to replay; an op without a case: both switches */
        call_as(p, s, op, cs);
        break;
    }
}

/* The shim's fault handler wrote this call's record: the process died of a
 * signal inside the driver. Not a CUresult, so never an api-error; the
 * first one is the process's crash. */
static int note_crash(struct replay_process *p, const struct replay_step *s)
{
    int32_t result = s->rec->result;
    if (!CG_RESULT_IS_CRASH(result))
        return 0;
    struct replay_crash *c = &p->crash;
    if (c->crashed)
        return 1;
    c->crashed = 1;
    c->signal = CG_RESULT_CRASH_SIGNAL(result);
    c->who = rp_origin_of(p, s->enter ? s->enter : s->rec, s->thread);
    c->handle = s->rec->handle;
    c->state = s->obj_state;
    if (s->obj_state != HS_UNKNOWN && s->obj_state != HS_DESTROYED &&
        (s->arg_state == HS_UNKNOWN || s->arg_state == HS_DESTROYED)) {
        c->handle = s->rec->arg; /* the misused one explains the crash */
        c->state = s->arg_state;
    }
    const struct replay_object *o = c->handle == s->rec->handle ? s->obj : s->arg_obj;
    if (c->state == HS_DESTROYED && o && !o->live) {
        c->has_destroyed = 1;
        c->destroyed = o->destroyed;
    }
    return 1;
}

COLD void raise_api_error(struct replay_process *p, const struct replay_step *s, int explained)
{
    int32_t result = s->rec->result;
    if (note_crash(p, s) || explained)
        return;
    char msg[512];
    const char *api = replay_api_name(p, s->rec->api);
    snprintf(msg, sizeof msg, "%s returned %s (%" PRId32 ").", api ? api : "a call",
             cuda_error_name(result), result);
    int has_handle = s->op != OP_CTX_SYNC && s->op != OP_OTHER;
    replay_raise(p, s, FK_API_ERROR, s->obj, s->rec->handle, has_handle, msg);
}

/* A failed call: a crash, or an api-error unless a finding explained it. */
HOT void check_api_error(struct replay_process *p, const struct replay_step *s, int explained)
{
    int32_t result = s->rec->result;
    if (result != RESULT_SUCCESS && result != RESULT_NOT_READY)
        raise_api_error(p, s, explained);
}

/* ------------------------------------------------------------------ dispatch */

_Static_assert(OP_COUNT < 30, "every op has its REPLAY_WANTS_OP bit");

HOT unsigned step_class(enum replay_phase phase, enum api_op op)
{
    if (phase == PHASE_OTHER)
        return 2 * OP_COUNT;
    return phase == PHASE_SPIN ? OP_COUNT + (unsigned)op : (unsigned)op;
}

static int hook_wants(const struct replay_hooks *h, unsigned cls)
{
    uint32_t m = h->step_mask;
    if (!h->step)
        return 0;
    if (!m)
        return 1;
    if (cls == 2 * OP_COUNT)
        return (m & REPLAY_WANTS_RECORDS) != 0;
    if (cls >= OP_COUNT)
        return (m & REPLAY_WANTS_SPINS) && (m & REPLAY_WANTS_OP(cls - OP_COUNT));
    return (m & REPLAY_WANTS_OP(cls)) != 0;
}

/* Sort the hooks by the steps they want (each a hook's step_op for the
 * class's op where it has one), and list those with record_resolved and
 * object_end, once per process. */
static void sort_step_hooks(struct replay_process *p)
{
    for (int i = 0; i < p->nhooks; i++) {
        if (p->hooks[i]->record_resolved)
            p->resolve_hooks[p->nresolve_hooks++] = p->hooks[i];
        if (p->hooks[i]->object_end)
            p->end_hooks[p->nend_hooks++] = p->hooks[i];
    }
    void *op_user[REPLAY_MAX_HOOKS];
    for (int i = 0; i < p->nhooks; i++)
        op_user[i] = p->hooks[i]->step_user ? p->hooks[i]->step_user(p->hooks[i]->user, p) : NULL;
    for (unsigned cls = 0; cls < REPLAY_STEP_CLASSES; cls++) {
        int n = 0;
        unsigned op = cls == 2 * OP_COUNT ? OP_OTHER : cls % OP_COUNT;
        for (int i = 0; i < p->nhooks; i++) {
            const struct replay_hooks *h = p->hooks[i];
            if (!hook_wants(h, cls))
                continue;
            if (h->step_op[op] && op_user[i])
                p->step_hooks[cls][n++] = (struct replay_step_hook){h->step_op[op], op_user[i]};
            else if (!h->step_op[op])
                p->step_hooks[cls][n++] = (struct replay_step_hook){h->step, h->user};
        }
        p->step_hooks[cls][n] = (struct replay_step_hook){NULL, NULL};
    }
}

/* Each caller passes the phase it set: a constant there, so the class costs
 * no computation. */
HOT void run_class_hooks(struct replay_process *p, const struct replay_step *s, unsigned cls)
{
    for (const struct replay_step_hook *h = p->step_hooks[cls]; h->step; h++)
        h->step(h->user, p, s);
}

HOT void run_step_hooks(struct replay_process *p, const struct replay_step *s,
                        enum replay_phase phase)
{
    run_class_hooks(p, s, step_class(phase, s->op));
}

/* Every field set one by one: a compound literal here compiles to a
 * `rep stos` of the whole step, the costliest part of a record's replay.
 * `calls` is added to the API's call count (0 for records that are no new
 * call): the API's op, name and count behind one bounds test. */
static inline __attribute__((always_inline)) void
step_init(struct replay_process *p, struct replay_step *s, const struct cg_record *rec,
          const struct cg_record *args, enum replay_phase phase, uint64_t calls)
{
    struct replay_thread *t = rp_thread_get(p, rec->tid);
    uint16_t api = rec->api;
    s->rec = rec;
    s->args = args;
    s->phase = phase;
    s->enter = NULL;
    if (api < p->api_count) {
        s->op = p->ops[api];
        s->api = p->api_names[api];
        p->calls[api] += calls;
    } else {
        s->op = OP_OTHER;
        s->api = api ? replay_api_name(p, api) : "";
    }
    s->thread = t;
    s->obj = NULL;
    s->arg_obj = NULL;
    s->obj_state = HS_NONE;
    s->arg_state = HS_NONE;
    s->stream.handle = 0;
    s->stream.kind = STREAM_CREATED;
    s->stream.tid = 0;
    s->has_stream = 0;
    s->task = t ? t->task_now : p->task;
}

void rp_step_init(struct replay_process *p, struct replay_step *s, const struct cg_record *rec,
                  const struct cg_record *args, enum replay_phase phase)
{
    step_init(p, s, rec, args, phase, 0);
}

static void remember_last(struct replay_thread *t, const struct cg_record *rec)
{
    if (!t)
        return;
    t->last = *rec;
    t->has_last = 1;
}

/* The record's step is over: forget the oldest destroyed handles beyond
 * the bound (only between steps: a step may hold a tombstone). Every
 * record handler that can end an object (destroys, context calls, other
 * records) ends with it, so that replay_feed only dispatches; the others
 * (creates, records, queries, stream work, ENTER and SPIN records, which
 * only classify) add no tombstone. */
static inline void end_record(struct replay_process *p)
{
    if (p->dead_count > REPLAY_MAX_TOMBSTONES)
        rp_evict_tombstones(p);
}

/* Can a call of `op` end an object (add a tombstone)? Constant where op is. */
HOT int op_ends_objects(enum api_op op)
{
    switch (op) {
    case OP_EVENT_CREATE:
    case OP_EVENT_RECORD:
    case OP_EVENT_QUERY:
    case OP_EVENT_SYNC:
    case OP_EVENT_ELAPSED:
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
    case OP_STREAM_WAIT_EVENT:
    case OP_STREAM_WORK:
        return 0;
    default:
        return 1;
    }
}

/* A CALL record whose op is `op` (the record's own, looked up by on_call):
 * inlined with op constant, each op's handler below is only its own code. */
HOT void call_record(struct replay_process *p, const struct cg_record *rec,
                     const struct cg_record *args, enum api_op op)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, args, PHASE_CALL, 1);
    call_as(p, &s, op, &cs); /* both phases */
    check_api_error(p, &s, cs.explained);
    remember_last(s.thread, rec);
    run_class_hooks(p, &s, step_class(PHASE_CALL, op));
    if (op_ends_objects(op))
        end_record(p);
}

/* The ops of most CALL records, each its own handler; call_any the rest. */
HANDLER void call_event_create(struct replay_process *p, const struct cg_record *rec,
                               const struct cg_record *args)
{
    call_record(p, rec, args, OP_EVENT_CREATE);
}

HANDLER void call_event_record(struct replay_process *p, const struct cg_record *rec,
                               const struct cg_record *args)
{
    call_record(p, rec, args, OP_EVENT_RECORD);
}

HANDLER void call_event_query(struct replay_process *p, const struct cg_record *rec,
                              const struct cg_record *args)
{
    call_record(p, rec, args, OP_EVENT_QUERY);
}

HANDLER void call_event_destroy(struct replay_process *p, const struct cg_record *rec,
                                const struct cg_record *args)
{
    call_record(p, rec, args, OP_EVENT_DESTROY);
}

HANDLER void call_stream_work(struct replay_process *p, const struct cg_record *rec,
                              const struct cg_record *args)
{
    call_record(p, rec, args, OP_STREAM_WORK);
}

HANDLER void call_stream_wait(struct replay_process *p, const struct cg_record *rec,
                              const struct cg_record *args)
{
    call_record(p, rec, args, OP_STREAM_WAIT_EVENT);
}

HANDLER void call_any(struct replay_process *p, const struct cg_record *rec,
                      const struct cg_record *args)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, args, PHASE_CALL, 1);
    call_op(p, &s, s.op, &cs); /* both phases, one dispatch */
    check_api_error(p, &s, cs.explained);
    remember_last(s.thread, rec);
    run_step_hooks(p, &s, PHASE_CALL);
    end_record(p);
}

/* A CALL record (or an EXIT without its ENTER): one dispatch on its op. */
HOT void on_call(struct replay_process *p, const struct cg_record *rec,
                 const struct cg_record *args)
{
    switch (rp_op_of(p, rec->api)) {
    case OP_EVENT_CREATE:
        call_event_create(p, rec, args);
        break;
    case OP_EVENT_RECORD:
        call_event_record(p, rec, args);
        break;
    case OP_EVENT_QUERY:
        call_event_query(p, rec, args);
        break;
    case OP_EVENT_DESTROY:
        call_event_destroy(p, rec, args);
        break;
    case OP_STREAM_WORK:
        call_stream_work(p, rec, args);
        break;
    case OP_STREAM_WAIT_EVENT:
        call_stream_wait(p, rec, args);
        break;
    default:
        call_any(p, rec, args);
        break;
    }
}

HANDLER void on_enter(struct replay_process *p, const struct cg_record *rec,
                      const struct cg_record *args)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, args, PHASE_ENTER, 1);
    begin_call(p, &s, s.op, &cs, 0);
    if (s.thread) {
        s.thread->in_call = 1;
        s.thread->enter = *rec;
        s.thread->enter_explained = cs.explained;
    }
    remember_last(s.thread, rec);
    run_step_hooks(p, &s, PHASE_ENTER);
}

/* Look the handles of an EXIT up again (they may have changed while it
 * blocked) without raising anything: misuse was judged at ENTER. */
static void relookup(struct replay_process *p, struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    struct replay_object *o;
    switch (s->op) {
    case OP_EVENT_QUERY:
    case OP_EVENT_SYNC:
    case OP_EVENT_DESTROY:
    case OP_EVENT_RECORD:
    case OP_EVENT_ELAPSED:
        o = rp_object_find(p, OBJ_EVENT, r->handle);
        s->obj = o;
        s->obj_state = !o ? HS_UNKNOWN : o->live ? HS_LIVE : HS_DESTROYED;
        break;
    case OP_PINNED_FREE:
    case OP_HOST_UNREGISTER:
        o = rp_object_find(p, OBJ_PINNED, r->handle);
        s->obj = o;
        s->obj_state = !o ? HS_UNKNOWN : o->live ? HS_LIVE : HS_DESTROYED;
        break;
    case OP_STREAM_DESTROY:
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
    case OP_STREAM_WORK:
    case OP_STREAM_WAIT_EVENT:
        s->stream = rp_stream_ref_of(r->handle, r);
        s->has_stream = 1;
        o = s->stream.kind == STREAM_CREATED ? rp_object_find(p, OBJ_STREAM, r->handle) : NULL;
        s->obj = o;
        s->obj_state = s->stream.kind != STREAM_CREATED ? HS_BUILTIN
                       : !o                             ? HS_UNKNOWN
                       : o->live                        ? HS_LIVE
                                                        : HS_DESTROYED;
        break;
    default:
        break;
    }
    if (s->op == OP_EVENT_RECORD) {
        s->stream = rp_stream_ref_of(r->arg, r);
        s->has_stream = 1;
        s->arg_obj =
            s->stream.kind == STREAM_CREATED ? rp_object_find(p, OBJ_STREAM, r->arg) : NULL;
    } else if (s->op == OP_EVENT_ELAPSED || s->op == OP_STREAM_WAIT_EVENT) {
        s->arg_obj = rp_object_find(p, OBJ_EVENT, r->arg);
    }
}

HANDLER void on_exit_record(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_thread *t = replay_thread_get(p, rec->tid);
    if (!t || !t->in_call || t->enter.api != rec->api) {
        on_call(p, rec, NULL); /* its ENTER was lost: judge it as a plain call */
        return;
    }
    struct cg_record exit_rec = *rec;
    if (!exit_rec.site)
        exit_rec.site = t->enter.site;
    struct cg_record enter = t->enter;
    struct replay_step s;
    step_init(p, &s, &exit_rec, NULL, PHASE_EXIT, 0);
    s.enter = &enter;
    t->in_call = 0;
    relookup(p, &s);
    apply_result(p, &s, s.op);
    check_api_error(p, &s, t->enter_explained);
    remember_last(t, &exit_rec);
    run_step_hooks(p, &s, PHASE_EXIT);
    end_record(p);
}

HANDLER void on_spin(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, NULL, PHASE_SPIN, rec->arg);
    begin_call(p, &s, s.op, &cs, 1);
    remember_last(s.thread, rec);
    run_step_hooks(p, &s, PHASE_SPIN);
}

static void on_thread_start(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_thread *t = NULL;
    HASH_FIND(hh, p->threads, &rec->tid, sizeof rec->tid, t);
    if (t && (t->has_last || t->name)) /* a new thread reusing an old tid */
        rp_thread_end(p, t);
    t = replay_thread_get(p, rec->tid);
    if (t)
        t->name = rec->site;
}

static void on_task(struct replay_process *p, const struct cg_record *rec)
{
    if (!(rec->flags & CG_FLAG_TASK_THREAD)) {
        p->task = rec->site;
        for (struct replay_thread *t = p->threads; t; t = t->hh.next)
            if (!t->has_task)
                t->task_now = p->task;
        return;
    }
    struct replay_thread *t = replay_thread_get(p, rec->tid);
    if (t) {
        t->has_task = rec->site != 0;
        t->task = rec->site;
        t->task_now = t->has_task ? t->task : p->task;
    }
}

static void on_stream_id(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_object *st = rp_object_find(p, OBJ_STREAM, rec->handle);
    if (!st || !st->live)
        return;
    if (st->has_stream_id && st->stream_id != rec->arg) {
        /* Same handle, another stream: its destroy was never seen. */
        struct replay_origin origin = st->created;
        origin.ts_ns = rec->ts_ns;
        st = rp_object_create(p, OBJ_STREAM, rec->handle, &origin);
        if (!st)
            return;
        rp_count_created(p, st);
    }
    st->has_stream_id = 1;
    st->stream_id = rec->arg;
}

HANDLER void on_other(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_step s;
    switch (rec->kind) {
    case CG_REC_THREAD_START:
        on_thread_start(p, rec);
        break;
    case CG_REC_TASK:
        on_task(p, rec);
        break;
    case CG_REC_STREAM_ID:
        on_stream_id(p, rec);
        break;
    case CG_REC_POLICY:
        if (rec->arg == CG_POLICY_RECLAIMED)
            rp_policy_reclaimed(p, rec);
        break;
    case CG_REC_PROCESS_EXIT:
        p->saw_process_exit = 1;
        break;
    case CG_REC_CONTEXT:
        rp_context_record(p, rec);
        break;
    default:
        break;
    }
    step_init(p, &s, rec, NULL, PHASE_OTHER, 0);
    s.op = OP_OTHER;
    run_step_hooks(p, &s, PHASE_OTHER);
    if (rec->kind == CG_REC_THREAD_EXIT && s.thread)
        rp_thread_end(p, s.thread);
    end_record(p);
}

/* The trace's time span: a record at `ts` (0 = none) that lasts until
 * `until`. */
static inline void note_time(struct replay_process *p, uint64_t ts, uint64_t until)
{
    if (!ts)
        return;
    if (!p->first_ts || ts < p->first_ts)
        p->first_ts = ts;
    if (until > p->last_ts)
        p->last_ts = until;
}

/* note_time(p, ts, ts) with one test when times go up: last_ts is 0 until
 * the first time is seen, so a time past it is the first one or no new
 * first. */
static inline void note_instant(struct replay_process *p, uint64_t ts)
{
    if (ts > p->last_ts) {
        if (!p->last_ts)
            p->first_ts = ts;
        p->last_ts = ts;
    } else if (ts && ts < p->first_ts) {
        p->first_ts = ts;
    }
}

void replay_feed(struct replay_process *p, const struct cg_record *rec,
                 const struct cg_record *args)
{
    /* Each handler that can end an object ends with end_record. The time
     * span is noted per kind:
     * a STRING record's ts_ns holds string bytes; a SPIN lasts until arg2. */
    uint64_t ts = rec->ts_ns;
    if (rec->kind == CG_REC_CALL) { /* most records */
        note_instant(p, ts);
        on_call(p, rec, args);
        return;
    }
    switch (rec->kind) {
    case CG_REC_ENTER:
        note_instant(p, ts);
        on_enter(p, rec, args);
        break;
    case CG_REC_EXIT:
        note_instant(p, ts);
        on_exit_record(p, rec);
        break;
    case CG_REC_SPIN:
        note_time(p, ts, rec->arg2 > ts ? rec->arg2 : ts);
        on_spin(p, rec);
        break;
    case CG_REC_STRING:
        break;
    default:
        note_instant(p, ts);
        on_other(p, rec);
    }
}

/* ------------------------------------------------------------------ begin / end */

int replay_process_init(struct replay_process *p, int index, struct cg_reader *reader,
                        struct finding_set *findings, struct replay_totals *totals,
                        const struct replay_hooks *const *hooks, int nhooks)
{
    memset(p, 0, sizeof *p);
    p->index = index;
    p->reader = reader;
    p->hdr = cg_reader_header(reader);
    p->path = cg_reader_path(reader);
    p->findings = findings;
    p->totals = totals;
    p->api_count = cg_reader_api_count(reader);
    p->ops = calloc(p->api_count ? p->api_count : 1, sizeof *p->ops);
    p->calls = calloc(p->api_count ? p->api_count : 1, sizeof *p->calls);
    p->api_names = calloc(p->api_count ? p->api_count : 1, sizeof *p->api_names);
    if (!p->ops || !p->calls || !p->api_names) {
        free(p->ops);
        free(p->calls);
        free(p->api_names);
        return -1;
    }
    for (uint32_t i = 0; i < p->api_count; i++) {
        p->api_names[i] = cg_reader_api_name(reader, (uint16_t)i);
        p->ops[i] = i ? api_op_of_name(p->api_names[i]) : OP_OTHER;
    }
    if (p->api_count)
        p->api_names[0] = ""; /* a step's api when it is no call */
    for (int i = 0; i < nhooks && i < REPLAY_MAX_HOOKS; i++)
        p->hooks[p->nhooks++] = hooks[i];
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->process_begin)
            p->hooks[i]->process_begin(p->hooks[i]->user, p);
    sort_step_hooks(p); /* after process_begin: step_user may need its state */
    return 0;
}

void replay_process_finish(struct replay_process *p)
{
    p->complete = (p->hdr->end_state == CG_END_CLEAN || p->saw_process_exit) && !p->crash.crashed;
    p->cut_short = !p->complete && !p->crash.crashed && p->hdr->end_state == CG_END_CUT_SHORT;
    rp_raise_exit_findings(p);
    while (p->pending_head)
        rp_resolve_record(p, p->pending_head, UNRESOLVED_END, NULL, p->last_ts);
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->process_end)
            p->hooks[i]->process_end(p->hooks[i]->user, p);
    while (p->threads)
        rp_thread_end(p, p->threads);
    rp_free_objects(p);
    rp_context_free(p);
    free(p->ops);
    free(p->calls);
    free(p->api_names);
    p->ops = NULL;
    p->calls = NULL;
    p->api_names = NULL;
}

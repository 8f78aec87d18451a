/*
 * analysis/replay.c — the per-process lifecycle state machine.
 *
 * What it is for: see replay.h. Each record goes through two phases: when the
 * call began (ENTER, or a CALL) the handles it names are classified — live,
 * destroyed, never created — and misuse is raised; when it returned (EXIT, or
 * the same CALL) its result is applied: creates make objects, destroys end
 * them, records and synchronizes move events between pending and complete,
 * and an error nobody explained becomes api-error.
 *
 * What it must never do: grow with trace length, trust a field of a record,
 * or raise a finding for a call that failed and changed nothing (a failed
 * create makes no object, a failed destroy ends none).
 */
#include "analysis/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/cuda_errors.h"

#define RESULT_SUCCESS 0
#define RESULT_NOT_READY 600
#define STREAM_HANDLE_LEGACY 1u     /* CU_STREAM_LEGACY */
#define STREAM_HANDLE_PER_THREAD 2u /* CU_STREAM_PER_THREAD */
#define STREAM_FLAG_NON_BLOCKING 1u /* CU_STREAM_NON_BLOCKING */

static const char *const type_names[OBJ_TYPE_COUNT] = {"event", "stream", "pinned range"};

/* ------------------------------------------------------------------ strings */

const char *replay_string(const struct replay_process *p, uint32_t id)
{
    return id ? cg_reader_string(p->reader, id) : NULL;
}

const char *replay_api_name(const struct replay_process *p, uint16_t api)
{
    return api ? cg_reader_api_name(p->reader, api) : NULL;
}

uint32_t replay_task_of(const struct replay_process *p, const struct replay_thread *t)
{
    return t && t->has_task ? t->task : p->task;
}

static enum api_op op_of(const struct replay_process *p, uint16_t api)
{
    return api < p->api_count ? p->ops[api] : OP_OTHER;
}

/* ------------------------------------------------------------------ threads */

struct replay_thread *replay_thread_get(struct replay_process *p, uint32_t tid)
{
    struct replay_thread *t = NULL;
    HASH_FIND(hh, p->threads, &tid, sizeof tid, t);
    if (t)
        return t;
    t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->tid = tid;
    t->serial = ++p->next_serial;
    HASH_ADD(hh, p->threads, tid, sizeof t->tid, t);
    return t;
}

static void thread_end(struct replay_process *p, struct replay_thread *t)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->thread_end)
            p->hooks[i]->thread_end(p->hooks[i]->user, p, t);
    HASH_DEL(p->threads, t);
    free(t);
}

/* ------------------------------------------------------------------ findings */

static void origin_in(const struct replay_process *p, const struct replay_origin *o,
                      struct finding_origin_in *out)
{
    out->present = 1;
    out->ts_ns = o->ts_ns;
    out->tid = o->tid;
    out->thread = replay_string(p, o->thread);
    out->task = replay_string(p, o->task);
    out->site = replay_string(p, o->site);
    out->api = replay_api_name(p, o->api);
}

static void raise_input(struct replay_process *p, const struct finding_input *in)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->finding)
            p->hooks[i]->finding(p->hooks[i]->user, p, in);
    findings_add(p->findings, in);
}

static void input_for_process(const struct replay_process *p, enum finding_kind kind,
                              struct finding_input *in)
{
    memset(in, 0, sizeof *in);
    in->kind = kind;
    in->process = p->index;
    in->pid = p->hdr->pid;
    in->process_start_ns = p->hdr->start_mono_ns;
}

void replay_raise(struct replay_process *p, const struct replay_step *s, enum finding_kind kind,
                  const struct replay_object *o, uint64_t handle, int has_handle,
                  const char *message)
{
    struct finding_input in;
    input_for_process(p, kind, &in);
    in.tid = s->rec->tid;
    in.thread = s->thread ? replay_string(p, s->thread->name) : NULL;
    in.task = replay_string(p, s->task);
    in.api = replay_api_name(p, s->rec->api);
    in.site = replay_string(p, s->rec->site);
    in.ts_ns = s->enter ? s->enter->ts_ns : s->rec->ts_ns;
    in.has_handle = has_handle;
    in.handle = handle;
    in.message = message;
    if (o) {
        origin_in(p, &o->created, &in.created);
        if (!o->live)
            origin_in(p, &o->destroyed, &in.destroyed);
    }
    raise_input(p, &in);
}

/* "event 0x1234" or "event 0x1234 (generation 3 of that handle value)". */
static void describe_handle(char *buf, size_t len, enum obj_type type, uint64_t handle,
                            const struct replay_object *o)
{
    if (o && o->generation > 1)
        snprintf(buf, len, "%s 0x%" PRIx64 " (generation %u of that handle value)",
                 type_names[type], handle, o->generation);
    else
        snprintf(buf, len, "%s 0x%" PRIx64, type_names[type], handle);
}

static const char *thread_label(const struct replay_process *p, uint32_t name_id, uint32_t tid,
                                char *buf, size_t len)
{
    const char *name = replay_string(p, name_id);
    if (name)
        snprintf(buf, len, "thread %" PRIu32 " \"%s\"", tid, name);
    else
        snprintf(buf, len, "thread %" PRIu32, tid);
    return buf;
}

/* ------------------------------------------------------------------ objects */

static struct replay_object *object_find(struct replay_process *p, enum obj_type type,
                                         uint64_t handle)
{
    struct replay_object *o = NULL;
    HASH_FIND(hh, p->objects[type], &handle, sizeof handle, o);
    return o;
}

static void pending_unlink(struct replay_process *p, struct replay_object *o)
{
    if (!o->pending)
        return;
    if (o->pending_prev)
        o->pending_prev->pending_next = o->pending_next;
    else
        p->pending_head = o->pending_next;
    if (o->pending_next)
        o->pending_next->pending_prev = o->pending_prev;
    o->pending_prev = o->pending_next = NULL;
    o->pending = 0;
}

static void pending_push(struct replay_process *p, struct replay_object *o)
{
    o->pending = 1;
    o->pending_prev = NULL;
    o->pending_next = p->pending_head;
    if (p->pending_head)
        p->pending_head->pending_prev = o;
    p->pending_head = o;
}

static void dead_unlink(struct replay_process *p, struct replay_object *o)
{
    if (o->dead_prev)
        o->dead_prev->dead_next = o->dead_next;
    else
        p->dead_head = o->dead_next;
    if (o->dead_next)
        o->dead_next->dead_prev = o->dead_prev;
    else
        p->dead_tail = o->dead_prev;
    o->dead_prev = o->dead_next = NULL;
    p->dead_count--;
}

static void dead_push(struct replay_process *p, struct replay_object *o)
{
    o->dead_next = NULL;
    o->dead_prev = p->dead_tail;
    if (p->dead_tail)
        p->dead_tail->dead_next = o;
    else
        p->dead_head = o;
    p->dead_tail = o;
    p->dead_count++;
}

static void object_release(struct replay_process *p, struct replay_object *o)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->object_end)
            p->hooks[i]->object_end(p->hooks[i]->user, p, o);
    o->ext = NULL;
}

static void resolve_record(struct replay_process *p, struct replay_object *ev,
                           enum record_resolution how, const struct replay_step *s,
                           uint64_t ts_ns)
{
    if (!ev->pending)
        return;
    pending_unlink(p, ev);
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->record_resolved)
            p->hooks[i]->record_resolved(p->hooks[i]->user, p, ev, how, s, ts_ns);
}

static void count_created(struct replay_counts *c)
{
    c->created++;
    c->live++;
    if (c->live > c->peak_live)
        c->peak_live = c->live;
}

static void count_pinned_created(struct replay_pinned_counts *c, const struct replay_object *o)
{
    if (o->pinned_origin == PINNED_REGISTERED)
        c->registrations++;
    else
        c->allocations++;
    c->live++;
    c->bytes_live += o->bytes;
    if (c->bytes_live > c->peak_bytes)
        c->peak_bytes = c->bytes_live;
}

static void count_pinned_ended(struct replay_pinned_counts *c, const struct replay_object *o,
                               int destroyed)
{
    if (destroyed && o->pinned_origin == PINNED_REGISTERED)
        c->unregistered++;
    else if (destroyed)
        c->freed++;
    if (c->live)
        c->live--;
    c->bytes_live = c->bytes_live >= o->bytes ? c->bytes_live - o->bytes : 0;
}

static void count_ended(struct replay_counts *c, int destroyed)
{
    if (destroyed)
        c->destroyed++;
    if (c->live)
        c->live--;
}

/* Update the process and run counters when an object starts or stops living.
 * destroyed = 0 when it vanished without a destroy (trace end, missed destroy). */
static void count_object(struct replay_process *p, const struct replay_object *o, int starting,
                         int destroyed)
{
    struct replay_totals *t = p->totals;
    switch (o->type) {
    case OBJ_EVENT:
        starting ? count_created(&p->events) : count_ended(&p->events, destroyed);
        starting ? count_created(&t->events) : count_ended(&t->events, destroyed);
        break;
    case OBJ_STREAM:
        starting ? count_created(&p->streams) : count_ended(&p->streams, destroyed);
        starting ? count_created(&t->streams) : count_ended(&t->streams, destroyed);
        break;
    default:
        if (starting) {
            count_pinned_created(&p->pinned, o);
            count_pinned_created(&t->pinned, o);
        } else {
            count_pinned_ended(&p->pinned, o, destroyed);
            count_pinned_ended(&t->pinned, o, destroyed);
        }
    }
}

/* A create returned `handle`: a new object, or the next generation of a
 * destroyed (or, if a destroy was missed, a still live) handle value. */
static struct replay_object *object_create(struct replay_process *p, enum obj_type type,
                                           uint64_t handle, const struct replay_origin *origin)
{
    struct replay_object *o = object_find(p, type, handle);
    uint32_t generation = 1;
    if (o) {
        if (o->live) {
            resolve_record(p, o, UNRESOLVED_DESTROYED, NULL, origin->ts_ns);
            count_object(p, o, 0, 0);
        } else {
            dead_unlink(p, o);
        }
        object_release(p, o);
        generation = o->generation + 1;
        UT_hash_handle hh = o->hh;
        memset(o, 0, sizeof *o);
        o->hh = hh;
    } else {
        o = calloc(1, sizeof *o);
        if (!o)
            return NULL;
        o->handle = handle;
        HASH_ADD(hh, p->objects[type], handle, sizeof o->handle, o);
    }
    o->handle = handle;
    o->type = type;
    o->live = 1;
    o->generation = generation;
    o->serial = ++p->next_serial;
    o->created = *origin;
    return o;
}

static void object_destroy(struct replay_process *p, struct replay_object *o,
                           const struct replay_origin *origin, const struct replay_step *s)
{
    resolve_record(p, o, UNRESOLVED_DESTROYED, s, origin->ts_ns);
    o->live = 0;
    o->destroyed = *origin;
    count_object(p, o, 0, 1);
    dead_push(p, o);
}

/* Forget the oldest destroyed handles beyond the bound (between steps only:
 * a step may hold a tombstone). */
static void evict_tombstones(struct replay_process *p)
{
    while (p->dead_count > REPLAY_MAX_TOMBSTONES && p->dead_head) {
        struct replay_object *o = p->dead_head;
        dead_unlink(p, o);
        object_release(p, o);
        HASH_DEL(p->objects[o->type], o);
        free(o);
    }
}

static struct replay_origin origin_of(const struct replay_process *p, const struct cg_record *rec,
                                      const struct replay_thread *t)
{
    struct replay_origin o = {
        .ts_ns = rec->ts_ns,
        .tid = rec->tid,
        .site = rec->site,
        .task = replay_task_of(p, t),
        .thread = t ? t->name : 0,
        .api = rec->api,
    };
    return o;
}

/* ------------------------------------------------------------------ streams */

static struct stream_ref stream_ref_of(uint64_t handle, const struct cg_record *rec)
{
    struct stream_ref r = {STREAM_CREATED, handle, 0};
    if (handle == 0 && (rec->flags & CG_FLAG_PTSZ))
        handle = STREAM_HANDLE_PER_THREAD;
    if (handle == 0 || handle == STREAM_HANDLE_LEGACY) {
        r.kind = STREAM_LEGACY;
        r.handle = 0;
    } else if (handle == STREAM_HANDLE_PER_THREAD) {
        r.kind = STREAM_PER_THREAD;
        r.handle = 0;
        r.tid = rec->tid;
    }
    return r;
}

/* Does a completed synchronize of `synced` prove work recorded on `on` done? */
static int sync_covers(struct replay_process *p, const struct stream_ref *synced,
                       const struct stream_ref *on)
{
    switch (synced->kind) {
    case STREAM_CREATED:
        return on->kind == STREAM_CREATED && on->handle == synced->handle;
    case STREAM_PER_THREAD:
        return on->kind == STREAM_PER_THREAD && on->tid == synced->tid;
    default: /* the legacy stream waits for every blocking stream */
        if (on->kind != STREAM_CREATED)
            return 1;
        struct replay_object *st = object_find(p, OBJ_STREAM, on->handle);
        return st && st->live && !(st->flags & STREAM_FLAG_NON_BLOCKING);
    }
}

static void resolve_stream_sync(struct replay_process *p, const struct stream_ref *synced,
                                const struct replay_step *s, uint64_t ts)
{
    struct replay_object *ev = p->pending_head;
    while (ev) {
        struct replay_object *next = ev->pending_next;
        if (sync_covers(p, synced, &ev->record_stream))
            resolve_record(p, ev, RESOLVED_BY_SYNC, s, ts);
        ev = next;
    }
    if (synced->kind == STREAM_CREATED) {
        struct replay_object *st = object_find(p, OBJ_STREAM, synced->handle);
        if (st)
            st->stream_busy = 0;
    }
}

static void resolve_context_sync(struct replay_process *p, const struct replay_step *s,
                                 uint64_t ts)
{
    while (p->pending_head)
        resolve_record(p, p->pending_head, RESOLVED_BY_SYNC, s, ts);
    for (struct replay_object *st = p->objects[OBJ_STREAM]; st; st = st->hh.next)
        st->stream_busy = 0;
}

/* ------------------------------------------------------------------ phase 1: call began */

struct call_state {
    int explained; /* a finding on this call explains an error result */
};

static void raise_handle_misuse(struct replay_process *p, const struct replay_step *s,
                                enum obj_type type, uint64_t handle, struct replay_object *o,
                                int destroying, struct call_state *cs)
{
    char what[128], msg[512], who[128];
    describe_handle(what, sizeof what, type, handle, o);
    const char *api = replay_api_name(p, s->rec->api);
    if (!o) {
        if (handle == 0)
            snprintf(msg, sizeof msg, "%s was given a NULL %s handle.", api ? api : "a call",
                     type_names[type]);
        else
            snprintf(msg, sizeof msg,
                     "%s was given %s, a value no create call in this process returned.",
                     api ? api : "a call", what);
        replay_raise(p, s, FK_UNKNOWN_HANDLE, NULL, handle, 1, msg);
    } else if (destroying) {
        snprintf(msg, sizeof msg, "%s destroyed %s, which %s had already destroyed.",
                 api ? api : "a call", what,
                 thread_label(p, o->destroyed.thread, o->destroyed.tid, who, sizeof who));
        replay_raise(p, s, FK_DOUBLE_DESTROY, o, handle, 1, msg);
    } else {
        snprintf(msg, sizeof msg, "%s used %s after %s destroyed it.", api ? api : "a call", what,
                 thread_label(p, o->destroyed.thread, o->destroyed.tid, who, sizeof who));
        replay_raise(p, s, FK_USE_AFTER_DESTROY, o, handle, 1, msg);
    }
    cs->explained = 1;
}

/* Classify a handle the call uses (or destroys); returns its state. */
static enum handle_state classify(struct replay_process *p, const struct replay_step *s,
                                  enum obj_type type, uint64_t handle, int destroying,
                                  struct replay_object **out, struct call_state *cs)
{
    struct replay_object *o = object_find(p, type, handle);
    *out = o;
    if (o && o->live)
        return HS_LIVE;
    raise_handle_misuse(p, s, type, handle, o, destroying, cs);
    return o ? HS_DESTROYED : HS_UNKNOWN;
}

static enum handle_state classify_stream(struct replay_process *p, struct replay_step *s,
                                         uint64_t handle, int destroying,
                                         struct replay_object **out, struct call_state *cs)
{
    s->stream = stream_ref_of(handle, s->rec);
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
    describe_handle(what, sizeof what, OBJ_EVENT, ev->handle, ev);
    snprintf(msg, sizeof msg,
             "%s waited on %s before anything was recorded on it, so it returned at once.",
             replay_api_name(p, s->rec->api) ? replay_api_name(p, s->rec->api) : "a call", what);
    /* Once per generation: later waits on the same unrecorded event add nothing. */
    ev->unrecorded_wait_seen = 1;
    replay_raise(p, s, FK_QUERY_BEFORE_RECORD, ev, ev->handle, 1, msg);
}

/* The call began: classify every handle it names. `spin` polls are already
 * known to have seen NOT_READY, so they never count as query-before-record. */
static void begin_call(struct replay_process *p, struct replay_step *s, struct call_state *cs,
                       int spin)
{
    const struct cg_record *r = s->rec;
    switch (s->op) {
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

static void apply_create(struct replay_process *p, struct replay_step *s, enum obj_type type)
{
    const struct cg_record *r = s->rec;
    if (r->result != RESULT_SUCCESS || r->handle == 0)
        return;
    struct replay_origin origin = origin_of(p, s->enter ? s->enter : r, s->thread);
    struct replay_object *o = object_create(p, type, r->handle, &origin);
    if (!o)
        return;
    if (type == OBJ_STREAM)
        o->flags = r->arg;
    if (type == OBJ_PINNED) {
        o->pinned_origin = s->op == OP_HOST_REGISTER ? PINNED_REGISTERED : PINNED_ALLOCATED;
        o->bytes = r->arg;
        o->flags = r->arg2;
    }
    count_object(p, o, 1, 0);
    s->obj = o;
    s->obj_state = HS_LIVE;
}

static void apply_destroy(struct replay_process *p, struct replay_step *s)
{
    struct replay_object *o = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !o || !o->live)
        return;
    struct replay_origin origin = origin_of(p, s->enter ? s->enter : s->rec, s->thread);
    origin.ts_ns = s->rec->ts_ns;
    object_destroy(p, o, &origin, s);
}

static void apply_record(struct replay_process *p, struct replay_step *s)
{
    struct replay_object *ev = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !ev || !ev->live)
        return;
    resolve_record(p, ev, UNRESOLVED_RERECORDED, s, s->rec->ts_ns);
    ev->records++;
    ev->record = origin_of(p, s->rec, s->thread);
    ev->record_stream = s->stream;
    ev->record_stream_serial = s->arg_obj ? s->arg_obj->serial : 0;
    ev->record_serial = ++p->next_serial;
    pending_push(p, ev);
    if (s->arg_obj && s->arg_obj->live)
        s->arg_obj->stream_busy = 1;
}

static void apply_observed(struct replay_process *p, const struct replay_step *s,
                           struct replay_object *ev)
{
    if (s->rec->result == RESULT_SUCCESS && ev && ev->live)
        resolve_record(p, ev, RESOLVED_OBSERVED, s, s->rec->ts_ns);
}

static void apply_result(struct replay_process *p, struct replay_step *s)
{
    int ok = s->rec->result == RESULT_SUCCESS;
    switch (s->op) {
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
            resolve_context_sync(p, s, s->rec->ts_ns);
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
            resolve_stream_sync(p, &s->stream, s, s->rec->ts_ns);
        break;
    case OP_CTX_SYNC:
        if (ok)
            resolve_context_sync(p, s, s->rec->ts_ns);
        break;
    case OP_STREAM_WORK:
    case OP_STREAM_WAIT_EVENT:
        if (ok && s->obj && s->obj->live)
            s->obj->stream_busy = 1;
        break;
    default:
        break;
    }
}

static void check_api_error(struct replay_process *p, const struct replay_step *s, int explained)
{
    int32_t result = s->rec->result;
    if (result == RESULT_SUCCESS || result == RESULT_NOT_READY || explained)
        return;
    char msg[512];
    const char *api = replay_api_name(p, s->rec->api);
    snprintf(msg, sizeof msg, "%s returned %s (%" PRId32 ").", api ? api : "a call",
             cuda_error_name(result), result);
    int has_handle = s->op != OP_CTX_SYNC && s->op != OP_OTHER;
    replay_raise(p, s, FK_API_ERROR, s->obj, s->rec->handle, has_handle, msg);
}

/* ------------------------------------------------------------------ dispatch */

static void run_step_hooks(struct replay_process *p, const struct replay_step *s)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->step)
            p->hooks[i]->step(p->hooks[i]->user, p, s);
}

static void count_call(struct replay_process *p, uint16_t api, uint64_t n)
{
    if (api < p->api_count)
        p->calls[api] += n;
}

static void step_init(struct replay_process *p, struct replay_step *s, const struct cg_record *rec,
                      const struct cg_record *args, enum replay_phase phase)
{
    memset(s, 0, sizeof *s);
    s->rec = rec;
    s->args = args;
    s->phase = phase;
    s->op = op_of(p, rec->api);
    s->api = rec->api ? cg_reader_api_name(p->reader, rec->api) : "";
    s->thread = replay_thread_get(p, rec->tid);
    s->task = replay_task_of(p, s->thread);
}

static void remember_last(struct replay_thread *t, const struct cg_record *rec)
{
    if (!t)
        return;
    t->last = *rec;
    t->has_last = 1;
}

static void on_call(struct replay_process *p, const struct cg_record *rec,
                    const struct cg_record *args)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, args, PHASE_CALL);
    count_call(p, rec->api, 1);
    begin_call(p, &s, &cs, 0);
    apply_result(p, &s);
    check_api_error(p, &s, cs.explained);
    remember_last(s.thread, rec);
    run_step_hooks(p, &s);
}

static void on_enter(struct replay_process *p, const struct cg_record *rec,
                     const struct cg_record *args)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, args, PHASE_ENTER);
    count_call(p, rec->api, 1);
    begin_call(p, &s, &cs, 0);
    if (s.thread) {
        s.thread->in_call = 1;
        s.thread->enter = *rec;
        s.thread->enter_explained = cs.explained;
    }
    remember_last(s.thread, rec);
    run_step_hooks(p, &s);
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
        o = object_find(p, OBJ_EVENT, r->handle);
        s->obj = o;
        s->obj_state = !o ? HS_UNKNOWN : o->live ? HS_LIVE : HS_DESTROYED;
        break;
    case OP_PINNED_FREE:
    case OP_HOST_UNREGISTER:
        o = object_find(p, OBJ_PINNED, r->handle);
        s->obj = o;
        s->obj_state = !o ? HS_UNKNOWN : o->live ? HS_LIVE : HS_DESTROYED;
        break;
    case OP_STREAM_DESTROY:
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
    case OP_STREAM_WORK:
    case OP_STREAM_WAIT_EVENT:
        s->stream = stream_ref_of(r->handle, r);
        s->has_stream = 1;
        o = s->stream.kind == STREAM_CREATED ? object_find(p, OBJ_STREAM, r->handle) : NULL;
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
        s->stream = stream_ref_of(r->arg, r);
        s->has_stream = 1;
        s->arg_obj =
            s->stream.kind == STREAM_CREATED ? object_find(p, OBJ_STREAM, r->arg) : NULL;
    } else if (s->op == OP_EVENT_ELAPSED || s->op == OP_STREAM_WAIT_EVENT) {
        s->arg_obj = object_find(p, OBJ_EVENT, r->arg);
    }
}

static void on_exit_record(struct replay_process *p, const struct cg_record *rec)
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
    step_init(p, &s, &exit_rec, NULL, PHASE_EXIT);
    s.enter = &enter;
    t->in_call = 0;
    relookup(p, &s);
    apply_result(p, &s);
    check_api_error(p, &s, t->enter_explained);
    remember_last(t, &exit_rec);
    run_step_hooks(p, &s);
}

static void on_spin(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_step s;
    struct call_state cs = {0};
    step_init(p, &s, rec, NULL, PHASE_SPIN);
    count_call(p, rec->api, rec->arg);
    begin_call(p, &s, &cs, 1);
    remember_last(s.thread, rec);
    run_step_hooks(p, &s);
}

static void on_thread_start(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_thread *t = NULL;
    HASH_FIND(hh, p->threads, &rec->tid, sizeof rec->tid, t);
    if (t && (t->has_last || t->name)) /* a new thread reusing an old tid */
        thread_end(p, t);
    t = replay_thread_get(p, rec->tid);
    if (t)
        t->name = rec->site;
}

static void on_task(struct replay_process *p, const struct cg_record *rec)
{
    if (!(rec->flags & CG_FLAG_TASK_THREAD)) {
        p->task = rec->site;
        return;
    }
    struct replay_thread *t = replay_thread_get(p, rec->tid);
    if (t) {
        t->has_task = rec->site != 0;
        t->task = rec->site;
    }
}

static void on_stream_id(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_object *st = object_find(p, OBJ_STREAM, rec->handle);
    if (!st || !st->live)
        return;
    if (st->has_stream_id && st->stream_id != rec->arg) {
        /* Same handle, another stream: its destroy was never seen. */
        struct replay_origin origin = st->created;
        origin.ts_ns = rec->ts_ns;
        st = object_create(p, OBJ_STREAM, rec->handle, &origin);
        if (!st)
            return;
        count_object(p, st, 1, 0);
    }
    st->has_stream_id = 1;
    st->stream_id = rec->arg;
}

static void on_other(struct replay_process *p, const struct cg_record *rec)
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
    case CG_REC_PROCESS_EXIT:
        p->saw_process_exit = 1;
        break;
    default:
        break;
    }
    step_init(p, &s, rec, NULL, PHASE_OTHER);
    s.op = OP_OTHER;
    run_step_hooks(p, &s);
    if (rec->kind == CG_REC_THREAD_EXIT && s.thread)
        thread_end(p, s.thread);
}

static void dispatch(struct replay_process *p, const struct cg_record *rec,
                     const struct cg_record *args)
{
    switch (rec->kind) {
    case CG_REC_CALL:
        on_call(p, rec, args);
        break;
    case CG_REC_ENTER:
        on_enter(p, rec, args);
        break;
    case CG_REC_EXIT:
        on_exit_record(p, rec);
        break;
    case CG_REC_SPIN:
        on_spin(p, rec);
        break;
    case CG_REC_STRING:
        break;
    default:
        on_other(p, rec);
    }
}

void replay_feed(struct replay_process *p, const struct cg_record *rec,
                 const struct cg_record *args)
{
    if (rec->ts_ns) {
        if (!p->first_ts || rec->ts_ns < p->first_ts)
            p->first_ts = rec->ts_ns;
        if (rec->ts_ns > p->last_ts)
            p->last_ts = rec->ts_ns;
    }
    dispatch(p, rec, args);
    evict_tombstones(p);
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
    if (!p->ops || !p->calls) {
        free(p->ops);
        free(p->calls);
        return -1;
    }
    for (uint32_t i = 1; i < p->api_count; i++)
        p->ops[i] = api_op_of_name(cg_reader_api_name(reader, (uint16_t)i));
    for (int i = 0; i < nhooks && i < REPLAY_MAX_HOOKS; i++)
        p->hooks[p->nhooks++] = hooks[i];
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->process_begin)
            p->hooks[i]->process_begin(p->hooks[i]->user, p);
    return 0;
}

static const char *unclean_note(const struct replay_process *p)
{
    return p->complete ? ""
                       : " The process did not exit cleanly (killed or crashed), so it may "
                         "not have reached its cleanup.";
}

static void raise_leak(struct replay_process *p, const struct replay_object *o)
{
    static const enum finding_kind leak_kind[OBJ_TYPE_COUNT] = {FK_LEAK_EVENT, FK_LEAK_STREAM,
                                                                FK_LEAK_PINNED};
    char what[128], who[128], msg[768];
    describe_handle(what, sizeof what, o->type, o->handle, o);
    const char *api = replay_api_name(p, o->created.api);
    if (o->type == OBJ_PINNED)
        snprintf(msg, sizeof msg, "%s of %" PRIu64 " bytes from %s in %s was never %s.%s", what,
                 o->bytes, api ? api : "?",
                 thread_label(p, o->created.thread, o->created.tid, who, sizeof who),
                 o->pinned_origin == PINNED_REGISTERED ? "unregistered" : "freed",
                 unclean_note(p));
    else
        snprintf(msg, sizeof msg, "%s created by %s in %s was never destroyed.%s", what,
                 api ? api : "?",
                 thread_label(p, o->created.thread, o->created.tid, who, sizeof who),
                 unclean_note(p));
    struct finding_input in;
    input_for_process(p, leak_kind[o->type], &in);
    in.tid = o->created.tid;
    in.thread = replay_string(p, o->created.thread);
    in.task = replay_string(p, o->created.task);
    in.api = api;
    in.site = replay_string(p, o->created.site);
    in.ts_ns = o->created.ts_ns;
    in.has_handle = 1;
    in.handle = o->handle;
    in.bytes = o->type == OBJ_PINNED ? o->bytes : 0;
    in.message = msg;
    origin_in(p, &o->created, &in.created);
    raise_input(p, &in);
}

static void raise_leaks(struct replay_process *p)
{
    for (int type = 0; type < OBJ_TYPE_COUNT; type++)
        for (struct replay_object *o = p->objects[type]; o; o = o->hh.next) {
            if (!o->live)
                continue;
            raise_leak(p, o);
            if (type == OBJ_EVENT)
                p->totals->leaked_events++;
            else if (type == OBJ_STREAM)
                p->totals->leaked_streams++;
            else {
                p->totals->leaked_pinned++;
                p->totals->leaked_pinned_bytes += o->bytes;
            }
        }
}

/* Is the thread's final spin still waiting on something not known done? */
static int spin_still_waiting(struct replay_process *p, const struct cg_record *spin)
{
    enum api_op op = op_of(p, spin->api);
    if (op == OP_EVENT_QUERY || op == OP_EVENT_SYNC) {
        struct replay_object *ev = object_find(p, OBJ_EVENT, spin->handle);
        return !ev || !ev->live || ev->pending;
    }
    if (op == OP_STREAM_QUERY || op == OP_STREAM_SYNC) {
        struct stream_ref ref = stream_ref_of(spin->handle, spin);
        struct replay_object *st =
            ref.kind == STREAM_CREATED ? object_find(p, OBJ_STREAM, spin->handle) : NULL;
        return !st || !st->live || st->stream_busy;
    }
    return 1;
}

static void raise_blocked(struct replay_process *p, struct replay_thread *t,
                          const struct cg_record *rec, int spinning)
{
    char who[128], msg[768];
    struct replay_step s;
    step_init(p, &s, rec, NULL, spinning ? PHASE_SPIN : PHASE_ENTER);
    const char *api = replay_api_name(p, rec->api);
    double since = rec->ts_ns >= p->hdr->start_mono_ns
                       ? (double)(rec->ts_ns - p->hdr->start_mono_ns) / 1e9
                       : 0.0;
    if (spinning)
        snprintf(msg, sizeof msg,
                 "%s was polling %s on 0x%" PRIx64 " (%" PRIu64
                 " NOT_READY results since +%.6f s) when the trace ended.",
                 thread_label(p, t->name, t->tid, who, sizeof who), api ? api : "?", rec->handle,
                 rec->arg, since);
    else
        snprintf(msg, sizeof msg,
                 "%s was inside %s on 0x%" PRIx64 " since +%.6f s when the trace ended.",
                 thread_label(p, t->name, t->tid, who, sizeof who), api ? api : "?", rec->handle,
                 since);
    struct replay_object *o = NULL;
    enum api_op op = s.op;
    if (op == OP_EVENT_QUERY || op == OP_EVENT_SYNC || op == OP_EVENT_DESTROY)
        o = object_find(p, OBJ_EVENT, rec->handle);
    else if (op == OP_STREAM_QUERY || op == OP_STREAM_SYNC || op == OP_STREAM_DESTROY)
        o = object_find(p, OBJ_STREAM, rec->handle);
    replay_raise(p, &s, FK_BLOCKED_AT_EXIT, o, rec->handle, op != OP_CTX_SYNC, msg);
}

static void raise_blocked_at_exit(struct replay_process *p)
{
    for (struct replay_thread *t = p->threads; t; t = t->hh.next) {
        if (t->in_call)
            raise_blocked(p, t, &t->enter, 0);
        else if (t->has_last && t->last.kind == CG_REC_SPIN && spin_still_waiting(p, &t->last))
            raise_blocked(p, t, &t->last, 1);
    }
}

static void free_objects(struct replay_process *p)
{
    for (int type = 0; type < OBJ_TYPE_COUNT; type++) {
        struct replay_object *o, *tmp;
        HASH_ITER(hh, p->objects[type], o, tmp)
        {
            if (o->live)
                count_object(p, o, 0, 0);
            object_release(p, o);
            HASH_DEL(p->objects[type], o);
            free(o);
        }
    }
    p->pending_head = p->dead_head = p->dead_tail = NULL;
    p->dead_count = 0;
}

void replay_process_finish(struct replay_process *p)
{
    p->complete = p->hdr->end_state == CG_END_CLEAN || p->saw_process_exit;
    if (!p->complete)
        raise_blocked_at_exit(p);
    raise_leaks(p);
    while (p->pending_head)
        resolve_record(p, p->pending_head, UNRESOLVED_END, NULL, p->last_ts);
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->process_end)
            p->hooks[i]->process_end(p->hooks[i]->user, p);
    struct replay_thread *t, *tmp;
    HASH_ITER(hh, p->threads, t, tmp)
    {
        thread_end(p, t);
    }
    free_objects(p);
    free(p->ops);
    free(p->calls);
    p->ops = NULL;
    p->calls = NULL;
}

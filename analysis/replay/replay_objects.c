/*
 * analysis/replay/replay_objects.c — the replay's tables: host threads, and the
 * events, streams and pinned ranges of one process with their generations.
 *
 * What it is for: creating and ending objects (counting live objects and
 * peaks for the process and the run), remembering destroyed handles in a
 * bounded FIFO, the list of event records not yet known complete, and which
 * synchronize proves which record complete.
 *
 * What it must never do: free an object without calling the object_end
 * hooks, or keep more destroyed handles than REPLAY_MAX_TOMBSTONES.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/replay/replay_internal.h"

struct replay_thread *replay_thread_get(struct replay_process *p, uint32_t tid)
{
    struct replay_thread **slot = &p->thread_cache[replay_thread_slot(tid)];
    struct replay_thread *t = *slot;
    if (t && t->tid == tid)
        return t;
    HASH_FIND(hh, p->threads, &tid, sizeof tid, t);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        t->tid = tid;
        t->task_now = p->task;
        t->serial = ++p->next_serial;
        HASH_ADD(hh, p->threads, tid, sizeof t->tid, t);
    }
    *slot = t;
    return t;
}

void rp_thread_end(struct replay_process *p, struct replay_thread *t)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->thread_end)
            p->hooks[i]->thread_end(p->hooks[i]->user, p, t);
    struct replay_thread **slot = &p->thread_cache[replay_thread_slot(t->tid)];
    if (*slot == t)
        *slot = NULL;
    HASH_DEL(p->threads, t);
    free(t);
}

struct replay_object *rp_object_find_slow(struct replay_process *p, enum obj_type type,
                                          uint64_t handle)
{
    struct replay_object **slot = &p->object_cache[type][replay_cache_slot(handle)];
    struct replay_object *o = *slot;
    if (o && o->handle == handle)
        return o;
    HASH_FIND(hh, p->objects[type], &handle, sizeof handle, o);
    if (o)
        *slot = o;
    return o;
}

/* Take `o` out of its table before it is freed. */
static void object_unlink(struct replay_process *p, struct replay_object *o)
{
    struct replay_object **slot = &p->object_cache[o->type][replay_cache_slot(o->handle)];
    if (*slot == o)
        *slot = NULL;
    HASH_DEL(p->objects[o->type], o);
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

void rp_pending_push(struct replay_process *p, struct replay_object *o)
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

void rp_object_release(struct replay_process *p, struct replay_object *o)
{
    for (int i = 0; i < p->nend_hooks; i++)
        p->end_hooks[i]->object_end(p->end_hooks[i]->user, p, o);
    o->ext = NULL;
}

void rp_resolve_pending(struct replay_process *p, struct replay_object *ev,
                        enum record_resolution how, const struct replay_step *s, uint64_t ts_ns)
{
    pending_unlink(p, ev);
    for (int i = 0; i < p->nresolve_hooks; i++)
        p->resolve_hooks[i]->record_resolved(p->resolve_hooks[i]->user, p, ev, how, s, ts_ns);
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
 * destroyed = 0 when it vanished without a destroy (trace end, missed destroy).
 * Inline here with constant flags: each caller gets only its own case. */
static inline __attribute__((always_inline)) void
count_object(struct replay_process *p, const struct replay_object *o, int starting, int destroyed)
{
    struct replay_totals *t = p->totals;
    switch (o->type) {
    case OBJ_EVENT:
        starting ? rp_count_one_created(&p->events) : count_ended(&p->events, destroyed);
        starting ? rp_count_one_created(&t->events) : count_ended(&t->events, destroyed);
        break;
    case OBJ_STREAM:
        starting ? rp_count_one_created(&p->streams) : count_ended(&p->streams, destroyed);
        starting ? rp_count_one_created(&t->streams) : count_ended(&t->streams, destroyed);
        break;
    default:
        if (starting) {
            rp_count_pinned_created(&p->pinned, o);
            rp_count_pinned_created(&t->pinned, o);
        } else {
            count_pinned_ended(&p->pinned, o, destroyed);
            count_pinned_ended(&t->pinned, o, destroyed);
        }
    }
}

void rp_count_object(struct replay_process *p, const struct replay_object *o, int starting,
                     int destroyed)
{
    count_object(p, o, starting, destroyed);
}

/* A generation starts over in the struct of the previous one: every field
 * but the table links and the handle back to zero, one by one (a memset
 * of the whole struct is a `rep stos` of 0x158 bytes, the costliest part
 * of a create). A new field of struct replay_object must be reset here. */
_Static_assert(sizeof(struct replay_object) == 0x158, "reset a new field in object_reuse");
static void object_reuse(struct replay_object *o)
{
    static const struct replay_origin no_origin;
    static const struct stream_ref no_stream;
    o->destroyed = no_origin;
    o->flags = 0;
    o->has_stream_id = 0;
    o->stream_id = 0;
    o->stream_busy = 0;
    o->pinned_origin = PINNED_ALLOCATED;
    o->bytes = 0;
    o->records = 0;
    o->record = no_origin;
    o->record_stream = no_stream;
    o->record_stream_serial = 0;
    o->record_serial = 0;
    o->pending = 0;
    o->unrecorded_wait_seen = 0;
    o->leak_raised = 0;
    o->reclaimed_ns = 0;
    o->has_context = 0;
    o->context = 0;
    o->pending_prev = o->pending_next = NULL;
    o->dead_prev = o->dead_next = NULL;
    o->ext = NULL;
}

/* A create returned `handle`: a new object, or the next generation of a
 * destroyed (or, if a destroy was missed, a still live) handle value. */
struct replay_object *rp_object_create(struct replay_process *p, enum obj_type type,
                                       uint64_t handle, const struct replay_origin *origin)
{
    struct replay_object *o =
        rp_object_create_at(p, type, handle, origin->ts_ns, rp_object_find(p, type, handle));
    if (o)
        o->created = *origin;
    return o;
}

struct replay_object *rp_object_create_at(struct replay_process *p, enum obj_type type,
                                          uint64_t handle, uint64_t ts_ns, struct replay_object *o)
{
    uint32_t generation = 1;
    if (o) {
        if (o->live) {
            rp_resolve_record(p, o, UNRESOLVED_DESTROYED, NULL, ts_ns);
            rp_count_object(p, o, 0, 0);
        } else {
            dead_unlink(p, o);
        }
        rp_object_release(p, o);
        generation = o->generation + 1;
        object_reuse(o);
    } else {
        o = calloc(1, sizeof *o);
        if (!o)
            return NULL;
        o->handle = handle;
        HASH_ADD(hh, p->objects[type], handle, sizeof o->handle, o);
        p->object_cache[type][replay_cache_slot(handle)] = o;
    }
    o->handle = handle;
    o->type = type;
    o->live = 1;
    o->generation = generation;
    o->serial = ++p->next_serial;
    return o;
}

static inline __attribute__((always_inline)) void object_destroyed(struct replay_process *p,
                                                                   struct replay_object *o)
{
    o->live = 0;
    count_object(p, o, 0, 1);
    dead_push(p, o);
}

/* A destroy of an event whose record is pending: out of line, so that the
 * common destroy calls nothing. */
static __attribute__((noinline)) void
destroy_pending(struct replay_process *p, struct replay_object *o, const struct replay_step *s)
{
    rp_resolve_pending(p, o, UNRESOLVED_DESTROYED, s, o->destroyed.ts_ns);
    object_destroyed(p, o);
}

void rp_object_destroy(struct replay_process *p, struct replay_object *o,
                       const struct replay_step *s)
{
    if (o->pending)
        destroy_pending(p, o, s);
    else
        object_destroyed(p, o);
}

void rp_object_end_undestroyed(struct replay_process *p, struct replay_object *o,
                               const struct replay_origin *origin, const struct replay_step *s)
{
    rp_resolve_record(p, o, UNRESOLVED_DESTROYED, s, origin->ts_ns);
    o->live = 0;
    o->destroyed = *origin;
    rp_count_object(p, o, 0, 0);
    rp_object_release(p, o); /* the model's state of it ends with it */
    dead_push(p, o);
}

/* Forget the oldest destroyed handles beyond the bound (between steps only:
 * a step may hold a tombstone). */
void rp_evict_tombstones(struct replay_process *p)
{
    while (p->dead_count > REPLAY_MAX_TOMBSTONES && p->dead_head) {
        struct replay_object *o = p->dead_head;
        dead_unlink(p, o);
        rp_object_release(p, o);
        object_unlink(p, o);
        free(o);
    }
}

struct replay_origin rp_origin_of(const struct replay_process *p, const struct cg_record *rec,
                                  const struct replay_thread *t)
{
    struct replay_origin o = {
        .ts_ns = rec->ts_ns,
        .tid = rec->tid,
        .site = rec->site,
        .task = t && t->has_task ? t->task : p->task,
        .thread = t ? t->name : 0,
        .api = rec->api,
    };
    return o;
}

struct stream_ref rp_stream_ref_of(uint64_t handle, const struct cg_record *rec)
{
    struct stream_ref r = {.handle = handle, .kind = STREAM_CREATED, .tid = 0};
    if (handle > STREAM_HANDLE_PER_THREAD) /* most calls: a created stream */
        return r;
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
        struct replay_object *st = rp_object_find(p, OBJ_STREAM, on->handle);
        return st && st->live && !(st->flags & STREAM_FLAG_NON_BLOCKING);
    }
}

void rp_resolve_stream_sync(struct replay_process *p, const struct stream_ref *synced,
                            const struct replay_step *s, uint64_t ts)
{
    struct replay_object *ev = p->pending_head;
    while (ev) {
        struct replay_object *next = ev->pending_next;
        if (sync_covers(p, synced, &ev->record_stream))
            rp_resolve_record(p, ev, RESOLVED_BY_SYNC, s, ts);
        ev = next;
    }
    if (synced->kind == STREAM_CREATED) {
        struct replay_object *st = rp_object_find(p, OBJ_STREAM, synced->handle);
        if (st)
            st->stream_busy = 0;
    }
}

void rp_resolve_context_sync(struct replay_process *p, const struct replay_step *s, uint64_t ts)
{
    while (p->pending_head)
        rp_resolve_record(p, p->pending_head, RESOLVED_BY_SYNC, s, ts);
    for (struct replay_object *st = p->objects[OBJ_STREAM]; st; st = st->hh.next)
        st->stream_busy = 0;
}

void rp_free_objects(struct replay_process *p)
{
    for (int type = 0; type < OBJ_TYPE_COUNT; type++) {
        struct replay_object *o;
        while ((o = p->objects[type]) != NULL) {
            if (o->live)
                rp_count_object(p, o, 0, 0);
            rp_object_release(p, o);
            object_unlink(p, o);
            free(o);
        }
    }
    p->pending_head = p->dead_head = p->dead_tail = NULL;
    p->dead_count = 0;
}

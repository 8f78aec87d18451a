/*
 * analysis/replay/replay_context.c — which context each object belongs to, and
 * what a context teardown (cuCtxDestroy, cuDevicePrimaryCtxReset) ends.
 *
 * What it is for: an object's context is its creating thread's latest
 * CONTEXT record (the shim writes one just after a create whenever the
 * thread's current context changed, so a CONTEXT record also names the
 * context of the create just before it). A successful teardown ends every
 * live object of that context: what the program never destroyed before it
 * is a leak (leak.event / leak.stream / leak.pinned). Objects of an old
 * trace without CONTEXT records end with a teardown of the process's only
 * seen context (or of any context when none was seen).
 *
 * What it must never do: end an object of another context, or raise a leak
 * for an object the program destroyed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/replay/replay_internal.h"

static struct replay_context *context_find(struct replay_process *p, uint64_t handle)
{
    for (size_t i = 0; i < p->ncontexts; i++)
        if (p->contexts[i].handle == handle)
            return &p->contexts[i];
    return NULL;
}

static struct replay_context *context_note(struct replay_process *p, uint64_t handle,
                                           uint64_t device1)
{
    struct replay_context *c = context_find(p, handle);
    if (!c) {
        if (p->ncontexts == p->cap_contexts) {
            size_t cap = p->cap_contexts ? p->cap_contexts * 2 : 4;
            struct replay_context *n = realloc(p->contexts, cap * sizeof *n);
            if (!n)
                return NULL;
            p->contexts = n;
            p->cap_contexts = cap;
        }
        c = &p->contexts[p->ncontexts++];
        *c = (struct replay_context){.handle = handle};
    }
    if (device1)
        c->device1 = device1;
    return c;
}

void rp_context_record(struct replay_process *p, const struct cg_record *rec)
{
    struct replay_thread *t = rp_thread_get(p, rec->tid);
    context_note(p, rec->handle, rec->arg);
    if (!t)
        return;
    t->has_context = 1;
    t->context = rec->handle;
    /* It follows the create it was written for. */
    struct replay_object *o = t->last_created_serial
                                  ? rp_object_find(p, t->last_created_type, t->last_created_handle)
                                  : NULL;
    if (o && o->live && o->serial == t->last_created_serial) {
        o->has_context = 1;
        o->context = rec->handle;
    }
}

void rp_context_created(struct replay_process *p, const struct replay_step *s,
                        struct replay_object *o)
{
    (void)p;
    struct replay_thread *t = s->thread;
    if (!t)
        return;
    o->has_context = t->has_context;
    o->context = t->context;
    t->last_created_serial = o->serial;
    t->last_created_type = o->type;
    t->last_created_handle = o->handle;
}

/* What a teardown ends: one context (destroy) or a device's primary one. */
struct teardown {
    int reset;
    uint64_t handle; /* the context, or the device ordinal */
};

static int context_torn(const struct replay_context *c, const struct teardown *td)
{
    if (!td->reset)
        return c->handle == td->handle;
    return !c->created && (c->device1 == 0 || c->device1 == td->handle + 1);
}

static int object_torn(struct replay_process *p, const struct replay_object *o,
                       const struct teardown *td)
{
    if (o->has_context) {
        const struct replay_context *c = context_find(p, o->context);
        return c ? context_torn(c, td) : !td->reset && o->context == td->handle;
    }
    if (p->ncontexts == 0)
        return 1;
    return p->ncontexts == 1 && context_torn(&p->contexts[0], td);
}

static void end_objects(struct replay_process *p, const struct replay_step *s,
                        const struct teardown *td)
{
    struct replay_origin origin = rp_origin_of(p, s->enter ? s->enter : s->rec, s->thread);
    char who[128], ended[320];
    const char *api = replay_api_name(p, s->rec->api);
    rp_thread_label(p, origin.thread, origin.tid, who, sizeof who);
    snprintf(
        ended, sizeof ended, " before %s called %s at +%.6f s (%s %" PRIu64 "%s)", who,
        api ? api : "a teardown",
        origin.ts_ns >= p->hdr->start_mono_ns ? (double)(origin.ts_ns - p->hdr->start_mono_ns) / 1e9
                                              : 0.0,
        td->reset ? "the primary context of device" : "context", td->handle, ", which ended it");
    for (int type = 0; type < OBJ_TYPE_COUNT; type++)
        for (struct replay_object *o = p->objects[type]; o; o = o->hh.next) {
            if (!o->live || !object_torn(p, o, td))
                continue;
            rp_raise_leak_ended(p, o, ended);
            rp_object_end_undestroyed(p, o, &origin, s);
        }
}

void rp_context_call(struct replay_process *p, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    if (s->phase == PHASE_ENTER)
        return;
    switch (s->op) {
    case OP_CTX_CREATE: {
        struct replay_context *c = context_note(p, r->handle, r->arg2 + 1);
        if (c)
            c->created = 1;
        break;
    }
    case OP_CTX_DESTROY:
        end_objects(p, s, &(struct teardown){0, r->handle});
        break;
    case OP_CTX_RESET:
        end_objects(p, s, &(struct teardown){1, r->handle});
        break;
    default:
        break;
    }
}

void rp_context_free(struct replay_process *p)
{
    free(p->contexts);
    p->contexts = NULL;
    p->ncontexts = p->cap_contexts = 0;
}

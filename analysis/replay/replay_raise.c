/*
 * analysis/replay/replay_raise.c — turning what the replay saw into findings.
 *
 * What it is for: filling a finding_input from a step or an object (thread,
 * task, site and API by name; where the object was created and destroyed),
 * handing it to the hooks and to the grouped finding set, and the wording
 * shared by the messages ("event 0x1234 (generation 2 ...)").
 *
 * What it must never do: keep a pointer to a reader string (the finding set
 * copies what it keeps).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/replay/replay_internal.h"

static const char *const type_names[OBJ_TYPE_COUNT] = {"event", "stream", "pinned range"};

const char *rp_type_name(enum obj_type type)
{
    return (unsigned)type < OBJ_TYPE_COUNT ? type_names[type] : "object";
}

void rp_origin_in(const struct replay_process *p, const struct replay_origin *o,
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

void rp_raise_input(struct replay_process *p, const struct finding_input *in)
{
    for (int i = 0; i < p->nhooks; i++)
        if (p->hooks[i]->finding)
            p->hooks[i]->finding(p->hooks[i]->user, p, in);
    findings_add(p->findings, in);
}

void rp_input_for_process(const struct replay_process *p, enum finding_kind kind,
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
    rp_input_for_process(p, kind, &in);
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
        rp_origin_in(p, &o->created, &in.created);
        if (!o->live)
            rp_origin_in(p, &o->destroyed, &in.destroyed);
    }
    rp_raise_input(p, &in);
}

void replay_raise_origin(struct replay_process *p, enum finding_kind kind,
                         const struct replay_origin *who, const struct replay_object *o,
                         uint64_t handle, int has_handle, const char *message)
{
    struct finding_input in;
    rp_input_for_process(p, kind, &in);
    in.tid = who->tid;
    in.thread = replay_string(p, who->thread);
    in.task = replay_string(p, who->task);
    in.api = replay_api_name(p, who->api);
    in.site = replay_string(p, who->site);
    in.ts_ns = who->ts_ns;
    in.has_handle = has_handle;
    in.handle = handle;
    in.message = message;
    if (o) {
        rp_origin_in(p, &o->created, &in.created);
        if (!o->live)
            rp_origin_in(p, &o->destroyed, &in.destroyed);
    }
    rp_raise_input(p, &in);
}

/* "event 0x1234" or "event 0x1234 (generation 3 of that handle value)". */
void rp_describe_handle(char *buf, size_t len, enum obj_type type, uint64_t handle,
                        const struct replay_object *o)
{
    if (o && o->generation > 1)
        snprintf(buf, len, "%s 0x%" PRIx64 " (generation %u of that handle value)",
                 rp_type_name(type), handle, o->generation);
    else
        snprintf(buf, len, "%s 0x%" PRIx64, rp_type_name(type), handle);
}

const char *rp_thread_label(const struct replay_process *p, uint32_t name_id, uint32_t tid,
                            char *buf, size_t len)
{
    const char *name = replay_string(p, name_id);
    if (name)
        snprintf(buf, len, "thread %" PRIu32 " \"%s\"", tid, name);
    else
        snprintf(buf, len, "thread %" PRIu32, tid);
    return buf;
}

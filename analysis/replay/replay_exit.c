/*
 * analysis/replay/replay_exit.c — what the end of a trace says: leaks, and for a
 * trace that ended without a clean exit, the threads that were blocked.
 *
 * What it is for: leak.event / leak.stream / leak.pinned for every object
 * still live when the trace ended (a killed process leaked too, and the
 * message says it did not exit cleanly); blocked-at-exit for each thread
 * that was between ENTER and EXIT, or whose last records were a spin on an
 * event or stream not known complete.
 *
 * What it must never do: report blocked-at-exit for a process that exited
 * cleanly; raise leaks or blocked-at-exit for a trace cut short (the writer
 * stopped early, so the destroys and returns may simply be missing).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/replay/replay_internal.h"

static const char *unclean_note(const struct replay_process *p)
{
    return p->complete || !p->finished
               ? ""
               : " The process did not exit cleanly (killed or crashed), so it may "
                 "not have reached its cleanup.";
}

/* ended: how the object ended without a destroy (" before ..."), NULL =
 * it was still live when the trace ended. */
static void raise_leak_ended(struct replay_process *p, const struct replay_object *o,
                             const char *ended)
{
    static const enum finding_kind leak_kind[OBJ_TYPE_COUNT] = {FK_LEAK_EVENT, FK_LEAK_STREAM,
                                                                FK_LEAK_PINNED};
    char what[128], who[128], msg[768];
    rp_describe_handle(what, sizeof what, o->type, o->handle, o);
    const char *api = replay_api_name(p, o->created.api);
    if (o->type == OBJ_PINNED)
        snprintf(msg, sizeof msg, "%s of %" PRIu64 " bytes from %s in %s was never %s%s.%s", what,
                 o->bytes, api ? api : "?",
                 rp_thread_label(p, o->created.thread, o->created.tid, who, sizeof who),
                 o->pinned_origin == PINNED_REGISTERED ? "unregistered" : "freed",
                 ended ? ended : "", ended ? "" : unclean_note(p));
    else
        snprintf(msg, sizeof msg, "%s created by %s in %s was never destroyed%s.%s", what,
                 api ? api : "?",
                 rp_thread_label(p, o->created.thread, o->created.tid, who, sizeof who),
                 ended ? ended : "", ended ? "" : unclean_note(p));
    struct finding_input in;
    rp_input_for_process(p, leak_kind[o->type], &in);
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
    rp_origin_in(p, &o->created, &in.created);
    rp_raise_input(p, &in);
}

static void raise_leak(struct replay_process *p, const struct replay_object *o)
{
    raise_leak_ended(p, o, NULL);
}

void rp_raise_leak_ended(struct replay_process *p, struct replay_object *o, const char *ended)
{
    if (o->leak_raised)
        return;
    raise_leak_ended(p, o, ended);
    o->leak_raised = 1;
    if (o->type == OBJ_EVENT)
        p->totals->leaked_events++;
    else if (o->type == OBJ_STREAM)
        p->totals->leaked_streams++;
    else {
        p->totals->leaked_pinned++;
        p->totals->leaked_pinned_bytes += o->bytes;
    }
}

void rp_policy_reclaimed(struct replay_process *p, const struct cg_record *rec)
{
    /* arg2: 1 event, 2 stream (format.h CG_POLICY_RECLAIMED). The program
     * may still destroy it (late: answered by the shim, and its CALL record
     * follows), so the leak waits for the end of the trace like any other;
     * a create that gets the value again raises it then (replay.c). */
    enum obj_type type = (rec->arg2 & 0xffu) == 2 ? OBJ_STREAM : OBJ_EVENT;
    struct replay_object *o = rp_object_find(p, type, rec->handle);
    if (o && o->live && !o->reclaimed_ns)
        o->reclaimed_ns = rec->ts_ns ? rec->ts_ns : 1;
}

static void raise_leaks(struct replay_process *p)
{
    for (int type = 0; type < OBJ_TYPE_COUNT; type++)
        for (struct replay_object *o = p->objects[type]; o; o = o->hh.next) {
            if (!o->live || o->leak_raised)
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
    enum api_op op = rp_op_of(p, spin->api);
    if (op == OP_EVENT_QUERY || op == OP_EVENT_SYNC) {
        struct replay_object *ev = rp_object_find(p, OBJ_EVENT, spin->handle);
        return !ev || !ev->live || ev->pending;
    }
    if (op == OP_STREAM_QUERY || op == OP_STREAM_SYNC) {
        struct stream_ref ref = rp_stream_ref_of(spin->handle, spin);
        struct replay_object *st =
            ref.kind == STREAM_CREATED ? rp_object_find(p, OBJ_STREAM, spin->handle) : NULL;
        return !st || !st->live || st->stream_busy;
    }
    return 1;
}

static void raise_blocked(struct replay_process *p, struct replay_thread *t,
                          const struct cg_record *rec, int spinning)
{
    char who[128], msg[768];
    struct replay_step s;
    rp_step_init(p, &s, rec, NULL, spinning ? PHASE_SPIN : PHASE_ENTER);
    const char *api = replay_api_name(p, rec->api);
    double since = rec->ts_ns >= p->hdr->start_mono_ns
                       ? (double)(rec->ts_ns - p->hdr->start_mono_ns) / 1e9
                       : 0.0;
    if (spinning)
        snprintf(msg, sizeof msg,
                 "%s was polling %s on 0x%" PRIx64 " (%" PRIu64
                 " NOT_READY results since +%.6f s) when the trace ended.",
                 rp_thread_label(p, t->name, t->tid, who, sizeof who), api ? api : "?", rec->handle,
                 rec->arg, since);
    else
        snprintf(msg, sizeof msg,
                 "%s was inside %s on 0x%" PRIx64 " since +%.6f s when the trace ended.",
                 rp_thread_label(p, t->name, t->tid, who, sizeof who), api ? api : "?", rec->handle,
                 since);
    struct replay_object *o = NULL;
    enum api_op op = s.op;
    if (op == OP_EVENT_QUERY || op == OP_EVENT_SYNC || op == OP_EVENT_DESTROY)
        o = rp_object_find(p, OBJ_EVENT, rec->handle);
    else if (op == OP_STREAM_QUERY || op == OP_STREAM_SYNC || op == OP_STREAM_DESTROY)
        o = rp_object_find(p, OBJ_STREAM, rec->handle);
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

void rp_raise_exit_findings(struct replay_process *p)
{
    p->finished = 1;
    if (p->cut_short)
        return; /* what happened after the cut is unknown */
    if (!p->complete)
        raise_blocked_at_exit(p);
    raise_leaks(p);
}

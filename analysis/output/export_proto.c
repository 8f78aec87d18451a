/*
 * analysis/output/export_proto.c — TracePackets for the Perfetto export (see
 * export_proto.h).
 *
 * What it is for: turning a track or an event into the bytes of one
 * Trace.packet entry. Every packet carries trusted_packet_sequence_id 1
 * (one writer, no interning, so no incremental state to announce).
 *
 * What it must never do: keep anything between packets but its buffers.
 */
#include "analysis/output/export_proto.h"

#include <string.h>

/* Trace */
#define F_TRACE_PACKET 1
/* TracePacket */
#define F_PACKET_TIMESTAMP 8
#define F_PACKET_SEQUENCE_ID 10
#define F_PACKET_TRACK_EVENT 11
#define F_PACKET_TRACK_DESCRIPTOR 60
/* TrackDescriptor */
#define F_TRACK_UUID 1
#define F_TRACK_NAME 2
#define F_TRACK_PROCESS 3
#define F_TRACK_THREAD 4
#define F_TRACK_PARENT_UUID 5
#define F_TRACK_COUNTER 8
/* ProcessDescriptor */
#define F_PROCESS_PID 1
#define F_PROCESS_NAME 6
/* ThreadDescriptor */
#define F_THREAD_PID 1
#define F_THREAD_TID 2
#define F_THREAD_NAME 5
/* TrackEvent */
#define F_EVENT_DEBUG_ANNOTATIONS 4
#define F_EVENT_TYPE 9
#define F_EVENT_TRACK_UUID 11
#define F_EVENT_CATEGORIES 22
#define F_EVENT_NAME 23
#define F_EVENT_COUNTER_VALUE 30
#define F_EVENT_FLOW_IDS 47
#define F_EVENT_TERMINATING_FLOW_IDS 48
/* DebugAnnotation */
#define F_ARG_BOOL 2
#define F_ARG_UINT 3
#define F_ARG_INT 4
#define F_ARG_STRING 6
#define F_ARG_POINTER 7
#define F_ARG_NAME 10

#define SEQUENCE_ID 1

void xp_init(struct export_proto *xp, FILE *out)
{
    memset(xp, 0, sizeof *xp);
    xp->out = out;
}

void xp_free(struct export_proto *xp)
{
    pb_free(&xp->packet);
    pb_free(&xp->body);
    pb_free(&xp->inner);
    pb_free(&xp->arg);
    pb_free(&xp->framed);
}

/* packet = what was built, plus the sequence id: framed as Trace.packet. */
static void emit_packet(struct export_proto *xp)
{
    pb_uint(&xp->packet, F_PACKET_SEQUENCE_ID, SEQUENCE_ID);
    pb_reset(&xp->framed);
    pb_message(&xp->framed, F_TRACE_PACKET, &xp->packet);
    (void)pb_write(xp->out, &xp->framed); /* the caller checks ferror(out) */
}

void xp_track(struct export_proto *xp, const struct xp_track *t)
{
    struct pb_buf *d = &xp->body, *in = &xp->inner;
    pb_reset(d);
    pb_reset(in);
    pb_reset(&xp->packet);
    pb_uint(d, F_TRACK_UUID, t->uuid);
    if (t->name)
        pb_string(d, F_TRACK_NAME, t->name);
    if (t->parent)
        pb_uint(d, F_TRACK_PARENT_UUID, t->parent);
    switch (t->kind) {
    case XP_PROCESS:
        pb_uint(in, F_PROCESS_PID, t->pid);
        if (t->name)
            pb_string(in, F_PROCESS_NAME, t->name);
        pb_message(d, F_TRACK_PROCESS, in);
        break;
    case XP_THREAD:
        pb_uint(in, F_THREAD_PID, t->pid);
        pb_uint(in, F_THREAD_TID, t->tid);
        if (t->name)
            pb_string(in, F_THREAD_NAME, t->name);
        pb_message(d, F_TRACK_THREAD, in);
        break;
    case XP_COUNTER:
        pb_message(d, F_TRACK_COUNTER, in); /* an empty CounterDescriptor */
        break;
    case XP_NAMED:
        break;
    }
    pb_message(&xp->packet, F_PACKET_TRACK_DESCRIPTOR, d);
    emit_packet(xp);
}

static void add_arg(struct export_proto *xp, const struct xp_arg *a)
{
    struct pb_buf *b = &xp->arg;
    pb_reset(b);
    pb_string(b, F_ARG_NAME, a->name);
    switch (a->kind) {
    case XA_STRING:
        pb_string(b, F_ARG_STRING, a->s ? a->s : "");
        break;
    case XA_UINT:
        pb_uint(b, F_ARG_UINT, a->u);
        break;
    case XA_INT:
        pb_int(b, F_ARG_INT, a->i);
        break;
    case XA_POINTER:
        pb_uint(b, F_ARG_POINTER, a->u);
        break;
    case XA_BOOL:
        pb_uint(b, F_ARG_BOOL, a->u != 0);
        break;
    }
    pb_message(&xp->body, F_EVENT_DEBUG_ANNOTATIONS, b);
}

void xp_event(struct export_proto *xp, const struct xp_event *e)
{
    struct pb_buf *ev = &xp->body;
    pb_reset(ev);
    pb_reset(&xp->packet);
    pb_uint(ev, F_EVENT_TYPE, (uint64_t)e->type);
    pb_uint(ev, F_EVENT_TRACK_UUID, e->track);
    if (e->category)
        pb_string(ev, F_EVENT_CATEGORIES, e->category);
    if (e->name)
        pb_string(ev, F_EVENT_NAME, e->name);
    if (e->type == XP_COUNTER_VALUE)
        pb_int(ev, F_EVENT_COUNTER_VALUE, e->counter);
    if (e->flow)
        pb_fixed64(ev, F_EVENT_FLOW_IDS, e->flow);
    if (e->end_flow)
        pb_fixed64(ev, F_EVENT_TERMINATING_FLOW_IDS, e->end_flow);
    for (unsigned i = 0; i < e->nargs; i++)
        add_arg(xp, &e->args[i]);
    pb_uint(&xp->packet, F_PACKET_TIMESTAMP, e->ts_ns);
    pb_message(&xp->packet, F_PACKET_TRACK_EVENT, ev);
    emit_packet(xp);
}

void xp_slice(struct export_proto *xp, const struct xp_event *begin, uint64_t dur_ns)
{
    struct xp_event b = *begin;
    b.type = XP_SLICE_BEGIN;
    xp_event(xp, &b);
    struct xp_event end = {
        .type = XP_SLICE_END, .ts_ns = begin->ts_ns + dur_ns, .track = begin->track};
    xp_event(xp, &end);
}

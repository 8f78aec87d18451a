/*
 * analysis/output/export_proto.h — Perfetto's native trace format, message by
 * message, for `cuguard export --format proto`.
 *
 * What it is for: the timeline of export_perfetto.c as TracePackets that
 * ui.perfetto.dev and Perfetto's trace processor read: a TrackDescriptor
 * per process, host thread, stream and counter (tracks named by a uuid the
 * caller chooses), and TrackEvents on them: slices (a BEGIN and an END
 * packet), instants, counter values, and flows (flow_ids on the event a
 * flow leaves, terminating_flow_ids on the one it reaches). Field numbers
 * are those of perfetto's public protos (protos/perfetto/trace/
 * trace_packet.proto, track_event/track_event.proto, track_descriptor.proto,
 * process_descriptor.proto, thread_descriptor.proto, debug_annotation.proto).
 *
 * What it must never do: write a packet it could not build whole.
 */
#ifndef CUGUARD_ANALYSIS_EXPORT_PROTO_H
#define CUGUARD_ANALYSIS_EXPORT_PROTO_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/output/proto_writer.h"

enum xp_track_kind { XP_PROCESS, XP_THREAD, XP_NAMED, XP_COUNTER };

struct xp_track {
    enum xp_track_kind kind;
    uint64_t uuid, parent; /* parent 0: none */
    const char *name;
    uint32_t pid, tid; /* XP_PROCESS: pid; XP_THREAD: both */
};

/* TrackEvent.Type */
enum xp_event_type { XP_SLICE_BEGIN = 1, XP_SLICE_END = 2, XP_INSTANT = 3, XP_COUNTER_VALUE = 4 };

enum xp_arg_kind { XA_STRING, XA_UINT, XA_INT, XA_POINTER, XA_BOOL };

/* One debug annotation. */
struct xp_arg {
    const char *name;
    enum xp_arg_kind kind;
    const char *s;
    uint64_t u; /* XA_UINT, XA_POINTER, XA_BOOL */
    int64_t i;
};

struct xp_event {
    enum xp_event_type type;
    uint64_t ts_ns;
    uint64_t track;
    const char *name;     /* NULL: none (slice ends, counters) */
    const char *category; /* NULL: none */
    int64_t counter;      /* XP_COUNTER_VALUE */
    uint64_t flow;        /* a flow leaves this event; 0 = none */
    uint64_t end_flow;    /* a flow ends at this event; 0 = none */
    const struct xp_arg *args;
    unsigned nargs;
};

struct export_proto {
    FILE *out;
    struct pb_buf packet, body, inner, arg, framed;
};

void xp_init(struct export_proto *xp, FILE *out);
void xp_free(struct export_proto *xp);
void xp_track(struct export_proto *xp, const struct xp_track *t);
void xp_event(struct export_proto *xp, const struct xp_event *e);
/* A slice [ts, ts + dur]: its BEGIN (carrying everything in e) and its END. */
void xp_slice(struct export_proto *xp, const struct xp_event *begin, uint64_t dur_ns);

#endif

/*
 * analysis/output/export_perfetto.c — replay hooks that write a Chrome trace-event
 * timeline.
 *
 * What it is for: see export_perfetto.h. Times are the traces' own
 * CLOCK_MONOTONIC in microseconds, so processes of one run line up. Stream
 * tracks get synthetic thread ids above any kernel tid. A CALL record only
 * says when the call returned, so its slice is drawn STUB_US long from
 * there; flows start and end in the middle of the slice they belong to, so
 * viewers bind them to that slice.
 *
 * What it must never do: keep state per record (only per live process,
 * thread and stream track), or emit a flow start without its end.
 */
#include "analysis/output/export_perfetto.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uthash.h>

#include "analysis/analyze.h"
#include "analysis/output/export_proto.h"
#include "analysis/base/json_writer.h"

#define STUB_US 1.0                 /* drawn length of a call whose start is unknown */
#define STREAM_TID_BASE 0x40000000u /* above any kernel tid (pid_max <= 2^22) */
#define TRACK_KEY_LEGACY (1ull << 62)
#define TRACK_KEY_PER_THREAD (1ull << 63)
#define TRACK_KEY_UNKNOWN (1ull << 61)
#define FLOW_PROCESS_SHIFT 40
/* Protobuf track uuids: the process's (index + 1) << 40, with one bit for
 * the kind of track below it. */
#define UUID_PROCESS_SHIFT 40
#define UUID_THREAD (1ull << 39)
#define UUID_STREAM (1ull << 38)
#define UUID_COUNTER (1ull << 37)
#define UUID_FINDINGS (1ull << 36)
#define PROGRESS_EVERY (1u << 20) /* records between progress lines */

struct track {
    uint64_t key;  /* stream track key, or the tid of a thread track */
    uint32_t tid;  /* the track's id in the output */
    uint32_t name; /* thread tracks: the name string id last announced */
    UT_hash_handle hh;
};

struct export_proc {
    struct track *threads; /* announced thread tracks */
    struct track *streams; /* stream tracks */
    uint32_t next_stream_tid;
    uint64_t events_live, streams_live, pinned_bytes; /* last counter values written */
    int counters_written;
    int wanted;         /* the --pid filter keeps it */
    int started;        /* process_begin ran: pid and start are known */
    uint32_t pid;       /* for findings, which name a pid */
    uint64_t start;     /* its header's start_mono_ns */
    int findings_track; /* protobuf: its findings track was announced */
};

struct exporter {
    struct json_writer w;
    struct export_proto xp;
    int proto;
    const struct export_options *opt;
    struct export_proc *procs;
    size_t nprocs;
    uint64_t steps; /* records replayed, for progress */
    struct timespec began;
};

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

static struct export_proc *proc_state(struct exporter *x, const struct replay_process *p)
{
    size_t i = (size_t)p->index;
    if (i >= x->nprocs) {
        struct export_proc *grown = realloc(x->procs, (i + 1) * sizeof *grown);
        if (!grown)
            return NULL;
        memset(grown + x->nprocs, 0, (i + 1 - x->nprocs) * sizeof *grown);
        x->procs = grown;
        x->nprocs = i + 1;
    }
    return &x->procs[i];
}

/* ------------------------------------------------------------------ filters, uuids */

static int wanted(struct exporter *x, const struct replay_process *p)
{
    struct export_proc *ps = proc_state(x, p);
    return ps && ps->wanted;
}

/* In the --since/--until window of its process (and kept by --pid). */
static int in_window(struct exporter *x, const struct replay_process *p, uint64_t ts_ns)
{
    if (!wanted(x, p))
        return 0;
    uint64_t start = p->hdr->start_mono_ns;
    uint64_t rel = ts_ns > start ? ts_ns - start : 0;
    return rel >= x->opt->since_ns && rel <= x->opt->until_ns;
}

static uint64_t process_uuid(const struct replay_process *p)
{
    return ((uint64_t)p->index + 1) << UUID_PROCESS_SHIFT;
}

static uint64_t thread_uuid(const struct replay_process *p, uint32_t tid)
{
    return process_uuid(p) | UUID_THREAD | tid;
}

static uint64_t stream_uuid(const struct replay_process *p, uint32_t stream_tid)
{
    return process_uuid(p) | UUID_STREAM | (stream_tid - STREAM_TID_BASE);
}

/* The track of an output tid: a stream's synthetic tid or a host thread's. */
static uint64_t track_uuid(const struct replay_process *p, uint32_t tid)
{
    if (tid == 0)
        return process_uuid(p);
    return tid >= STREAM_TID_BASE ? stream_uuid(p, tid) : thread_uuid(p, tid);
}

static void progress(struct exporter *x, int last)
{
    FILE *f = x->opt->progress;
    if (!f)
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double secs =
        (double)(now.tv_sec - x->began.tv_sec) + (double)(now.tv_nsec - x->began.tv_nsec) / 1e9;
    fprintf(f, "\rcuguard export: %" PRIu64 " records replayed, %.1f s%s", x->steps, secs,
            last ? "\n" : "");
    fflush(f);
}

/* ------------------------------------------------------------------ event skeletons */

static void begin_event(struct exporter *x, const char *ph, const char *name, uint32_t pid,
                        uint32_t tid, double ts_us)
{
    struct json_writer *w = &x->w;
    json_begin_object(w);
    json_kv_string(w, "ph", ph);
    json_kv_string(w, "name", name);
    json_kv_uint(w, "pid", pid);
    json_kv_uint(w, "tid", tid);
    json_kv_double(w, "ts", ts_us);
}

static void metadata(struct exporter *x, const char *what, uint32_t pid, uint32_t tid,
                     const char *key, const char *text, int64_t number)
{
    struct json_writer *w = &x->w;
    begin_event(x, "M", what, pid, tid, 0);
    json_key(w, "args");
    json_begin_object(w);
    if (text)
        json_kv_string(w, key, text);
    else
        json_kv_int(w, key, number);
    json_end_object(w);
    json_end_object(w);
}

/* ------------------------------------------------------------------ tracks */

static uint32_t thread_track(struct exporter *x, struct replay_process *p,
                             const struct replay_thread *t, uint32_t tid)
{
    struct export_proc *ps = proc_state(x, p);
    if (!ps)
        return tid;
    struct track *tr = NULL;
    uint64_t key = tid;
    HASH_FIND(hh, ps->threads, &key, sizeof key, tr);
    uint32_t name = t ? t->name : 0;
    if (tr && tr->name == name)
        return tid;
    if (!tr) {
        tr = calloc(1, sizeof *tr);
        if (!tr)
            return tid;
        tr->key = key;
        tr->tid = tid;
        HASH_ADD(hh, ps->threads, key, sizeof tr->key, tr);
    }
    tr->name = name;
    char label[160];
    const char *text = replay_string(p, name);
    if (text)
        snprintf(label, sizeof label, "%s (%" PRIu32 ")", text, tid);
    else
        snprintf(label, sizeof label, "thread %" PRIu32, tid);
    if (x->proto) {
        struct xp_track t = {XP_THREAD, thread_uuid(p, tid), process_uuid(p),
                             label,     p->hdr->pid,         tid};
        xp_track(&x->xp, &t);
    } else {
        metadata(x, "thread_name", p->hdr->pid, tid, "name", label, 0);
    }
    return tid;
}

static uint64_t stream_key(const struct stream_ref *ref, uint64_t serial)
{
    switch (ref->kind) {
    case STREAM_LEGACY:
        return TRACK_KEY_LEGACY;
    case STREAM_PER_THREAD:
        return TRACK_KEY_PER_THREAD | ref->tid;
    default:
        return serial ? serial : TRACK_KEY_UNKNOWN | (ref->handle & (TRACK_KEY_UNKNOWN - 1));
    }
}

static void stream_label(char *buf, size_t len, const struct stream_ref *ref,
                         const struct replay_object *st)
{
    if (ref->kind == STREAM_LEGACY)
        snprintf(buf, len, "stream: legacy default");
    else if (ref->kind == STREAM_PER_THREAD)
        snprintf(buf, len, "stream: per-thread default of %" PRIu32, ref->tid);
    else if (st && st->has_stream_id)
        snprintf(buf, len, "stream 0x%" PRIx64 " (id %" PRIu64 ")", ref->handle, st->stream_id);
    else if (st && st->generation > 1)
        snprintf(buf, len, "stream 0x%" PRIx64 " (generation %u)", ref->handle, st->generation);
    else
        snprintf(buf, len, "stream 0x%" PRIx64, ref->handle);
}

static uint32_t stream_track(struct exporter *x, struct replay_process *p,
                             const struct stream_ref *ref, uint64_t serial,
                             const struct replay_object *st)
{
    struct export_proc *ps = proc_state(x, p);
    if (!ps)
        return STREAM_TID_BASE;
    uint64_t key = stream_key(ref, serial);
    struct track *tr = NULL;
    HASH_FIND(hh, ps->streams, &key, sizeof key, tr);
    if (tr)
        return tr->tid;
    tr = calloc(1, sizeof *tr);
    if (!tr)
        return STREAM_TID_BASE;
    tr->key = key;
    tr->tid = STREAM_TID_BASE + ps->next_stream_tid++;
    HASH_ADD(hh, ps->streams, key, sizeof tr->key, tr);
    char label[160];
    stream_label(label, sizeof label, ref, st);
    if (x->proto) {
        struct xp_track t = {XP_NAMED, stream_uuid(p, tr->tid), process_uuid(p), label, 0, 0};
        xp_track(&x->xp, &t);
        return tr->tid;
    }
    metadata(x, "thread_name", p->hdr->pid, tr->tid, "name", label, 0);
    metadata(x, "thread_sort_index", p->hdr->pid, tr->tid, "sort_index", NULL,
             (int64_t)(1000000 + (tr->tid - STREAM_TID_BASE)));
    return tr->tid;
}

/* ------------------------------------------------------------------ slices */

/* Where a step's slice lies: [start, start + dur] in microseconds. */
static void slice_bounds(const struct replay_step *s, double *start, double *dur)
{
    if (s->phase == PHASE_EXIT && s->enter && s->rec->ts_ns >= s->enter->ts_ns) {
        *start = us(s->enter->ts_ns);
        *dur = us(s->rec->ts_ns - s->enter->ts_ns);
    } else if (s->phase == PHASE_SPIN && s->rec->arg2 >= s->rec->ts_ns) {
        *start = us(s->rec->ts_ns);
        *dur = us(s->rec->arg2 - s->rec->ts_ns);
    } else {
        *start = us(s->rec->ts_ns);
        *dur = 0;
    }
    if (*dur < STUB_US)
        *dur = STUB_US;
}

/* The same in nanoseconds, for the protobuf format. */
static void slice_bounds_ns(const struct replay_step *s, uint64_t *start, uint64_t *dur)
{
    const struct cg_record *r = s->rec;
    if (s->phase == PHASE_EXIT && s->enter && r->ts_ns >= s->enter->ts_ns) {
        *start = s->enter->ts_ns;
        *dur = r->ts_ns - s->enter->ts_ns;
    } else if (s->phase == PHASE_SPIN && r->arg2 >= r->ts_ns) {
        *start = r->ts_ns;
        *dur = r->arg2 - r->ts_ns;
    } else {
        *start = r->ts_ns;
        *dur = 0;
    }
    if (*dur < (uint64_t)(STUB_US * 1000))
        *dur = (uint64_t)(STUB_US * 1000);
}

static void proto_call_slice(struct exporter *x, struct replay_process *p,
                             const struct replay_step *s, uint32_t tid, const char *name)
{
    struct xp_arg args[6];
    unsigned n = 0;
    args[n++] = (struct xp_arg){.name = "handle", .kind = XA_POINTER, .u = s->rec->handle};
    args[n++] = (struct xp_arg){.name = "arg", .kind = XA_POINTER, .u = s->rec->arg};
    if (s->rec->arg2 && s->phase != PHASE_SPIN)
        args[n++] = (struct xp_arg){.name = "arg2", .kind = XA_POINTER, .u = s->rec->arg2};
    args[n++] = (struct xp_arg){.name = "result", .kind = XA_INT, .i = s->rec->result};
    if (s->phase == PHASE_SPIN)
        args[n++] = (struct xp_arg){.name = "not_ready_polls", .kind = XA_UINT, .u = s->rec->arg};
    if (s->rec->flags & CG_FLAG_VIA_RUNTIME)
        args[n++] = (struct xp_arg){.name = "via_runtime", .kind = XA_BOOL, .u = 1};
    uint64_t start, dur;
    slice_bounds_ns(s, &start, &dur);
    struct xp_event e = {.ts_ns = start,
                         .track = thread_uuid(p, tid),
                         .name = name,
                         .category = "api",
                         .args = args,
                         .nargs = n};
    xp_slice(&x->xp, &e, dur);
}

static void call_args(struct exporter *x, const struct replay_step *s)
{
    struct json_writer *w = &x->w;
    json_key(w, "args");
    json_begin_object(w);
    json_key(w, "handle");
    json_hex(w, s->rec->handle);
    json_key(w, "arg");
    json_hex(w, s->rec->arg);
    if (s->rec->arg2 && s->phase != PHASE_SPIN) {
        json_key(w, "arg2");
        json_hex(w, s->rec->arg2);
    }
    json_kv_int(w, "result", s->rec->result);
    if (s->phase == PHASE_SPIN)
        json_kv_uint(w, "not_ready_polls", s->rec->arg);
    if (s->rec->flags & CG_FLAG_VIA_RUNTIME)
        json_kv_bool(w, "via_runtime", 1);
    json_end_object(w);
}

static void write_call_slice(struct exporter *x, struct replay_process *p,
                             const struct replay_step *s)
{
    double start, dur;
    slice_bounds(s, &start, &dur);
    uint32_t tid = thread_track(x, p, s->thread, s->rec->tid);
    char name[160];
    if (s->phase == PHASE_SPIN)
        snprintf(name, sizeof name, "%s (spin)", s->api);
    else
        snprintf(name, sizeof name, "%s", s->api);
    if (x->proto) {
        proto_call_slice(x, p, s, tid, name);
        return;
    }
    begin_event(x, "X", name, p->hdr->pid, tid, start);
    json_kv_double(&x->w, "dur", dur);
    json_kv_string(&x->w, "cat", "api");
    call_args(x, s);
    json_end_object(&x->w);
}

static uint64_t flow_id(const struct replay_process *p, const struct replay_object *ev)
{
    return ((uint64_t)p->index << FLOW_PROCESS_SHIFT) | ev->record_serial;
}

static void write_flow(struct exporter *x, const char *ph, uint32_t pid, uint32_t tid, double ts,
                       uint64_t id)
{
    begin_event(x, ph, "event completion", pid, tid, ts);
    json_kv_string(&x->w, "cat", "event");
    json_kv_uint(&x->w, "id", id);
    if (ph[0] == 'f')
        json_kv_string(&x->w, "bp", "e");
    json_end_object(&x->w);
}

/* Work enqueued on a stream: a slice on the stream's track; an event record
 * also starts its completion flow there. */
static void write_stream_work(struct exporter *x, struct replay_process *p,
                              const struct replay_step *s)
{
    if (s->phase == PHASE_ENTER || s->rec->result != 0 || !s->has_stream)
        return;
    const struct replay_object *st = s->op == OP_EVENT_RECORD ? s->arg_obj : s->obj;
    uint32_t tid = stream_track(x, p, &s->stream, st ? st->serial : 0, st);
    double start = us(s->rec->ts_ns);
    char name[160];
    if (s->op == OP_EVENT_RECORD)
        snprintf(name, sizeof name, "record event 0x%" PRIx64, s->rec->handle);
    else if (s->op == OP_STREAM_WAIT_EVENT)
        snprintf(name, sizeof name, "wait event 0x%" PRIx64, s->rec->arg);
    else
        snprintf(name, sizeof name, "%s", s->api);
    const struct replay_object *ev = s->obj;
    int flow = s->op == OP_EVENT_RECORD && ev && ev->live && ev->pending;
    if (x->proto) {
        struct xp_event e = {.ts_ns = s->rec->ts_ns,
                             .track = stream_uuid(p, tid),
                             .name = name,
                             .category = "stream",
                             .flow = flow ? flow_id(p, ev) : 0};
        xp_slice(&x->xp, &e, (uint64_t)(STUB_US * 1000));
        return;
    }
    begin_event(x, "X", name, p->hdr->pid, tid, start);
    json_kv_double(&x->w, "dur", STUB_US);
    json_kv_string(&x->w, "cat", "stream");
    json_end_object(&x->w);
    if (flow)
        write_flow(x, "s", p->hdr->pid, tid, start + STUB_US / 2, flow_id(p, ev));
}

/* ------------------------------------------------------------------ counters, instants */

/* Protobuf: one counter track per value (0 events, 1 streams, 2 pinned bytes). */
static void proto_counter(struct exporter *x, const struct replay_process *p, unsigned which,
                          uint64_t value, uint64_t ts_ns)
{
    static const char *const names[] = {"live events", "live streams", "pinned bytes"};
    struct export_proc *ps = proc_state(x, p);
    uint64_t uuid = process_uuid(p) | UUID_COUNTER | which;
    if (ps && !ps->counters_written) {
        struct xp_track t = {XP_COUNTER, uuid, process_uuid(p), names[which], 0, 0};
        xp_track(&x->xp, &t);
    }
    struct xp_event e = {
        .type = XP_COUNTER_VALUE, .ts_ns = ts_ns, .track = uuid, .counter = (int64_t)value};
    xp_event(&x->xp, &e);
}

static void write_counter(struct exporter *x, const struct replay_process *p, const char *name,
                          const char *k1, uint64_t v1, const char *k2, uint64_t v2, uint64_t ts_ns)
{
    struct json_writer *w = &x->w;
    if (x->proto) {
        proto_counter(x, p, k2 ? 0 : 2, v1, ts_ns);
        if (k2)
            proto_counter(x, p, 1, v2, ts_ns);
        return;
    }
    begin_event(x, "C", name, p->hdr->pid, 0, us(ts_ns));
    json_key(w, "args");
    json_begin_object(w);
    json_kv_uint(w, k1, v1);
    if (k2)
        json_kv_uint(w, k2, v2);
    json_end_object(w);
    json_end_object(w);
}

/* Each counter is written when its value changed (and once at the start). */
static void write_counters(struct exporter *x, struct replay_process *p, uint64_t ts_ns)
{
    struct export_proc *ps = proc_state(x, p);
    if (!ps)
        return;
    int first = !ps->counters_written;
    if (first || ps->events_live != p->events.live || ps->streams_live != p->streams.live)
        write_counter(x, p, "live events and streams", "events", p->events.live, "streams",
                      p->streams.live, ts_ns);
    if (first || ps->pinned_bytes != p->pinned.bytes_live)
        write_counter(x, p, "pinned bytes", "bytes", p->pinned.bytes_live, NULL, 0, ts_ns);
    ps->counters_written = 1;
    ps->events_live = p->events.live;
    ps->streams_live = p->streams.live;
    ps->pinned_bytes = p->pinned.bytes_live;
}

static void write_instant(struct exporter *x, const struct replay_process *p, uint32_t tid,
                          uint64_t ts_ns, const char *name, const char *scope, const char *text)
{
    if (x->proto) {
        struct xp_arg arg = {.name = "text", .kind = XA_STRING, .s = text};
        struct xp_event e = {.type = XP_INSTANT,
                             .ts_ns = ts_ns,
                             .track = track_uuid(p, tid),
                             .name = name,
                             .args = &arg,
                             .nargs = 1};
        xp_event(&x->xp, &e);
        return;
    }
    begin_event(x, "i", name, p->hdr->pid, tid, us(ts_ns));
    json_kv_string(&x->w, "s", scope);
    json_key(&x->w, "args");
    json_begin_object(&x->w);
    json_kv_string(&x->w, "text", text);
    json_end_object(&x->w);
    json_end_object(&x->w);
}

static void write_other(struct exporter *x, struct replay_process *p, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    char text[256];
    switch (r->kind) {
    case CG_REC_TASK: {
        const char *task = replay_string(p, r->site);
        snprintf(text, sizeof text, "task: %s", task ? task : "(none)");
        write_instant(x, p, thread_track(x, p, s->thread, r->tid), r->ts_ns, text,
                      (r->flags & CG_FLAG_TASK_THREAD) ? "t" : "p", text);
        break;
    }
    case CG_REC_THREAD_START:
        thread_track(x, p, s->thread, r->tid);
        break;
    case CG_REC_FORK:
        snprintf(text, sizeof text, "fork: child pid %" PRIu64, r->arg);
        write_instant(x, p, thread_track(x, p, s->thread, r->tid), r->ts_ns, "fork", "t", text);
        break;
    case CG_REC_POLICY:
    case CG_REC_STALL:
    case CG_REC_LOG: {
        const char *note = r->kind == CG_REC_LOG ? replay_string(p, r->site) : NULL;
        snprintf(text, sizeof text, "%s handle 0x%" PRIx64 " arg %" PRIu64 "%s%s",
                 r->kind == CG_REC_POLICY  ? "policy"
                 : r->kind == CG_REC_STALL ? "stall"
                                           : "log",
                 r->handle, r->arg, note ? ": " : "", note ? note : "");
        write_instant(x, p, thread_track(x, p, s->thread, r->tid), r->ts_ns,
                      r->kind == CG_REC_POLICY  ? "policy"
                      : r->kind == CG_REC_STALL ? "stall"
                                                : "log",
                      "t", text);
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------ hooks */

static void on_process_begin(void *user, struct replay_process *p)
{
    struct exporter *x = user;
    struct export_proc *ps = proc_state(x, p);
    if (!ps)
        return;
    ps->started = 1;
    ps->pid = p->hdr->pid;
    ps->start = p->hdr->start_mono_ns;
    ps->wanted = !x->opt->has_pid || x->opt->pid == p->hdr->pid;
    if (!ps->wanted)
        return;
    const char *argv0 = p->hdr->argv[0] ? p->hdr->argv : "process";
    char label[256];
    snprintf(label, sizeof label, "%.200s (pid %" PRIu32 ")", argv0, p->hdr->pid);
    if (x->proto) {
        struct xp_track t = {XP_PROCESS, process_uuid(p), 0, label, p->hdr->pid, 0};
        xp_track(&x->xp, &t);
        return;
    }
    metadata(x, "process_name", p->hdr->pid, 0, "name", label, 0);
}

static void on_step(void *user, struct replay_process *p, const struct replay_step *s)
{
    struct exporter *x = user;
    if (++x->steps % PROGRESS_EVERY == 0)
        progress(x, 0);
    if (!in_window(x, p, s->rec->ts_ns))
        return;
    if (s->phase == PHASE_OTHER) {
        write_other(x, p, s);
        return;
    }
    if (s->phase != PHASE_ENTER)
        write_call_slice(x, p, s);
    if (s->op == OP_EVENT_RECORD || s->op == OP_STREAM_WORK || s->op == OP_STREAM_WAIT_EVENT)
        write_stream_work(x, p, s);
    write_counters(x, p, s->rec->ts_ns);
}

static const char *const unresolved_text[] = {
    [UNRESOLVED_RERECORDED] = "completion not observed: the event was recorded again",
    [UNRESOLVED_DESTROYED] = "completion not observed: the event was destroyed",
    [UNRESOLVED_END] = "completion not observed before the trace ended",
};

static void on_record_resolved(void *user, struct replay_process *p, struct replay_object *ev,
                               enum record_resolution how, const struct replay_step *s,
                               uint64_t ts_ns)
{
    struct exporter *x = user;
    uint64_t id = flow_id(p, ev);
    if (!in_window(x, p, ev->record.ts_ns))
        return; /* its start was not written */
    if ((how == RESOLVED_OBSERVED || how == RESOLVED_BY_SYNC) && s) {
        double start, dur;
        slice_bounds(s, &start, &dur);
        uint32_t tid = thread_track(x, p, s->thread, s->rec->tid);
        if (x->proto) {
            uint64_t at, len;
            slice_bounds_ns(s, &at, &len);
            struct xp_event e = {.type = XP_INSTANT,
                                 .ts_ns = at + len / 2,
                                 .track = thread_uuid(p, tid),
                                 .name = "event completion",
                                 .category = "event",
                                 .end_flow = id};
            xp_event(&x->xp, &e);
            return;
        }
        write_flow(x, "f", p->hdr->pid, tid, start + dur / 2, id);
        return;
    }
    /* Nobody saw it complete: end the flow on the record's stream. */
    uint32_t tid = stream_track(x, p, &ev->record_stream, ev->record_stream_serial, NULL);
    const char *text = how == RESOLVED_OBSERVED || how == RESOLVED_BY_SYNC ? "completion observed"
                                                                           : unresolved_text[how];
    double start = us(ts_ns);
    char name[96];
    snprintf(name, sizeof name, "event 0x%" PRIx64 " not seen complete", ev->handle);
    if (x->proto) {
        struct xp_arg why = {.name = "why", .kind = XA_STRING, .s = text};
        struct xp_event e = {.ts_ns = ts_ns,
                             .track = stream_uuid(p, tid),
                             .name = name,
                             .category = "stream",
                             .end_flow = id,
                             .args = &why,
                             .nargs = 1};
        xp_slice(&x->xp, &e, (uint64_t)(STUB_US * 1000));
        return;
    }
    begin_event(x, "X", name, p->hdr->pid, tid, start);
    json_kv_double(&x->w, "dur", STUB_US);
    json_kv_string(&x->w, "cat", "stream");
    json_key(&x->w, "args");
    json_begin_object(&x->w);
    json_kv_string(&x->w, "why", text);
    json_end_object(&x->w);
    json_end_object(&x->w);
    write_flow(x, "f", p->hdr->pid, tid, start + STUB_US / 2, id);
}

static void free_tracks(struct track **table)
{
    struct track *t, *tmp;
    HASH_ITER(hh, *table, t, tmp)
    {
        HASH_DEL(*table, t);
        free(t);
    }
}

static void on_process_end(void *user, struct replay_process *p)
{
    struct exporter *x = user;
    if (in_window(x, p, p->last_ts))
        write_counters(x, p, p->last_ts);
    if (!p->complete && in_window(x, p, p->last_ts))
        write_instant(x, p, 0, p->last_ts, "trace ended without a clean exit", "p",
                      "the process was killed or crashed, or is still running");
    struct export_proc *ps = proc_state(x, p);
    if (!ps)
        return;
    free_tracks(&ps->threads);
    free_tracks(&ps->streams);
}

/* ------------------------------------------------------------------ findings, document */

/* The process (of this run) a finding names, or NULL. */
static const struct export_proc *finding_proc(const struct exporter *x, const struct finding *f,
                                              size_t *index)
{
    for (size_t i = 0; i < x->nprocs; i++)
        if (x->procs[i].started && x->procs[i].pid == f->pid) {
            *index = i;
            return &x->procs[i];
        }
    return NULL;
}

static int finding_wanted(const struct exporter *x, const struct finding *f)
{
    size_t index = 0;
    const struct export_proc *ps = finding_proc(x, f, &index);
    if (x->opt->has_pid && f->pid != x->opt->pid)
        return 0;
    uint64_t start = ps ? ps->start : 0;
    uint64_t rel = f->ts_ns > start ? f->ts_ns - start : 0;
    return rel >= x->opt->since_ns && rel <= x->opt->until_ns;
}

/* Protobuf: findings are instants on a "findings" track of their process. */
static void proto_finding(struct exporter *x, const struct finding *f)
{
    size_t index = 0;
    struct export_proc *ps = (struct export_proc *)finding_proc(x, f, &index);
    uint64_t process = ps ? ((uint64_t)index + 1) << UUID_PROCESS_SHIFT : 0;
    uint64_t track = process | UUID_FINDINGS;
    if (!ps || !ps->findings_track) {
        struct xp_track t = {XP_NAMED, track, process, "cuguard findings", 0, 0};
        xp_track(&x->xp, &t);
        if (ps)
            ps->findings_track = 1;
    }
    struct xp_arg args[7] = {
        {.name = "severity", .kind = XA_STRING, .s = severity_name(finding_kind_severity(f->kind))},
        {.name = "message", .kind = XA_STRING, .s = f->message},
        {.name = "count", .kind = XA_UINT, .u = f->count},
        {.name = "tid", .kind = XA_UINT, .u = f->tid},
        {.name = "task", .kind = XA_STRING, .s = f->task},
        {.name = "site", .kind = XA_STRING, .s = f->site},
        {.name = "handle", .kind = XA_POINTER, .u = f->handle},
    };
    struct xp_event e = {.type = XP_INSTANT,
                         .ts_ns = f->ts_ns,
                         .track = track,
                         .name = finding_kind_name(f->kind),
                         .category = "finding",
                         .args = args,
                         .nargs = f->has_handle ? 7 : 6};
    xp_event(&x->xp, &e);
}

static void write_findings(struct exporter *x, const struct analysis *a)
{
    struct finding **list = findings_sorted(&a->findings);
    for (size_t i = 0; list && list[i]; i++) {
        const struct finding *f = list[i];
        if (!finding_wanted(x, f))
            continue;
        if (x->proto) {
            proto_finding(x, f);
            continue;
        }
        struct json_writer *w = &x->w;
        begin_event(x, "i", finding_kind_name(f->kind), f->pid, f->tid, us(f->ts_ns));
        json_kv_string(w, "s", "t");
        json_kv_string(w, "cat", "finding");
        json_key(w, "args");
        json_begin_object(w);
        json_kv_string(w, "severity", severity_name(finding_kind_severity(f->kind)));
        json_kv_string(w, "message", f->message);
        json_kv_uint(w, "count", f->count);
        json_key(w, "handle");
        if (f->has_handle)
            json_hex(w, f->handle);
        else
            json_null(w);
        json_kv_string(w, "task", f->task);
        json_kv_string(w, "site", f->site);
        json_end_object(w);
        json_end_object(w);
    }
    free(list);
}

static int replay_all(struct exporter *x, struct analysis *a, char *const *paths, int npaths,
                      const char *prog, FILE *warn)
{
    const struct replay_hooks hooks = {
        .user = x,
        .process_begin = on_process_begin,
        .step = on_step,
        .record_resolved = on_record_resolved,
        .process_end = on_process_end,
    };
    const struct replay_hooks *list[1] = {&hooks};
    clock_gettime(CLOCK_MONOTONIC, &x->began);
    int rc = analyze_paths(a, paths, npaths, prog, warn, list, 1);
    if (x->steps >= PROGRESS_EVERY)
        progress(x, 1);
    if (rc == 0)
        write_findings(x, a);
    return rc;
}

int export_perfetto_with(FILE *out, char *const *paths, int npaths, const char *prog, FILE *warn,
                         const struct export_options *opt)
{
    struct exporter x;
    memset(&x, 0, sizeof x);
    x.opt = opt;
    struct analysis a;
    int rc;
    if (opt->format == EXPORT_PROTO) {
        x.proto = 1;
        xp_init(&x.xp, out);
        rc = replay_all(&x, &a, paths, npaths, prog, warn);
        xp_free(&x.xp);
    } else {
        json_init(&x.w, out, 2);
        json_begin_object(&x.w);
        json_kv_string(&x.w, "displayTimeUnit", "ms");
        json_key(&x.w, "traceEvents");
        json_begin_array(&x.w);
        rc = replay_all(&x, &a, paths, npaths, prog, warn);
        json_end_array(&x.w);
        json_key(&x.w, "otherData");
        json_begin_object(&x.w);
        json_kv_string(&x.w, "generator", "cuguard export");
        json_kv_uint(&x.w, "processes", a.nprocs);
        json_end_object(&x.w);
        json_end_object(&x.w);
    }
    analysis_free(&a);
    free(x.procs);
    return rc;
}

int export_perfetto(FILE *out, char *const *paths, int npaths, const char *prog, FILE *warn)
{
    const struct export_options all = {.until_ns = UINT64_MAX};
    return export_perfetto_with(out, paths, npaths, prog, warn, &all);
}

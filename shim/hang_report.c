/*
 * shim/hang_report.c — format the hang report (see shim/hang_report.h).
 *
 * What it is for: one function per section (threads waiting in CUDA,
 * pending events, last calls), each building its lines in a stack buffer
 * and handing them to the caller's emit callback.
 *
 * What it must never do: allocate, lock, or print anything not in the
 * snapshot; a line that does not fit its buffer is cut, never overrun.
 */
#include "shim/hang_report.h"

#include <cuda.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "shim/api.h"
#include "tracer/format.h"

#define LINE_MAX_BYTES 1024u

/* A line being built: appends are cut at the buffer's end. */
struct line {
    char text[LINE_MAX_BYTES];
    size_t used;
};

static void put(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct line *l, const char *fmt, ...)
{
    if (l->used >= sizeof l->text - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(l->text + l->used, sizeof l->text - l->used, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    l->used += (size_t)n;
    if (l->used > sizeof l->text - 1)
        l->used = sizeof l->text - 1;
}

/* ---- names ---- */

const char *cg_hang_result_name(int32_t result, char *buf, unsigned len)
{
    static const struct {
        int32_t code;
        const char *name;
    } names[] = {
        {CUDA_SUCCESS, "CUDA_SUCCESS"},
        {CUDA_ERROR_INVALID_VALUE, "CUDA_ERROR_INVALID_VALUE"},
        {CUDA_ERROR_OUT_OF_MEMORY, "CUDA_ERROR_OUT_OF_MEMORY"},
        {CUDA_ERROR_NOT_INITIALIZED, "CUDA_ERROR_NOT_INITIALIZED"},
        {CUDA_ERROR_DEINITIALIZED, "CUDA_ERROR_DEINITIALIZED"},
        {CUDA_ERROR_NO_DEVICE, "CUDA_ERROR_NO_DEVICE"},
        {CUDA_ERROR_INVALID_DEVICE, "CUDA_ERROR_INVALID_DEVICE"},
        {CUDA_ERROR_INVALID_CONTEXT, "CUDA_ERROR_INVALID_CONTEXT"},
        {CUDA_ERROR_INVALID_HANDLE, "CUDA_ERROR_INVALID_HANDLE"},
        {CUDA_ERROR_NOT_FOUND, "CUDA_ERROR_NOT_FOUND"},
        {CUDA_ERROR_NOT_READY, "CUDA_ERROR_NOT_READY"},
        {CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA_ERROR_ILLEGAL_ADDRESS"},
        {CUDA_ERROR_LAUNCH_FAILED, "CUDA_ERROR_LAUNCH_FAILED"},
        {CUDA_ERROR_NOT_PERMITTED, "CUDA_ERROR_NOT_PERMITTED"},
        {CUDA_ERROR_NOT_SUPPORTED, "CUDA_ERROR_NOT_SUPPORTED"},
        {CUDA_ERROR_UNKNOWN, "CUDA_ERROR_UNKNOWN"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (names[i].code == result)
            return names[i].name;
    }
    snprintf(buf, len, "CUresult %" PRId32, result);
    return buf;
}

/* How the record fields of an api are named (tracer/format.h "Fields per
 * API"). A NULL name is not printed; a name starting with '#' is a count,
 * printed in decimal without the '#'. */
struct field_names {
    const char *base;
    const char *handle, *arg, *arg2;
};

static const struct field_names field_table[] = {
    {"cuEventCreate", "event", "flags", NULL},
    {"cuEventRecord", "event", "stream", NULL},
    {"cuEventRecordWithFlags", "event", "stream", "flags"},
    {"cuEventQuery", "event", NULL, NULL},
    {"cuEventSynchronize", "event", NULL, NULL},
    {"cuEventDestroy", "event", NULL, NULL},
    {"cuEventElapsedTime", "start", "end", NULL},
    {"cuStreamCreate", "stream", "flags", NULL},
    {"cuStreamCreateWithPriority", "stream", "flags", "#priority"},
    {"cuStreamDestroy", "stream", NULL, NULL},
    {"cuStreamSynchronize", "stream", NULL, NULL},
    {"cuStreamQuery", "stream", NULL, NULL},
    {"cuStreamWaitEvent", "stream", "event", "flags"},
    {"cuCtxSynchronize", NULL, NULL, NULL},
    {"cuMemAllocHost", "pointer", "#bytes", NULL},
    {"cuMemHostAlloc", "pointer", "#bytes", "flags"},
    {"cuMemFreeHost", "pointer", NULL, NULL},
    {"cuMemHostRegister", "pointer", "#bytes", "flags"},
    {"cuMemHostUnregister", "pointer", NULL, NULL},
    {"cuMemcpyHtoDAsync", "stream", "host source", "#bytes"},
    {"cuMemcpyDtoHAsync", "stream", "host destination", "#bytes"},
    {"cuMemcpyDtoDAsync", "stream", NULL, "#bytes"},
    {"cuMemcpyAsync", "stream", "destination", "source"},
    {"cuLaunchKernel", "stream", "function", NULL},
    {"cuLaunchHostFunc", "stream", "function", "data"},
};

static const char *api_name(uint16_t api)
{
    return api > 0 && api < CG_API_COUNT ? cg_api_info[api].name : "(unknown call)";
}

static const char *api_base(uint16_t api)
{
    return api > 0 && api < CG_API_COUNT ? cg_api_info[api].base : "";
}

static const struct field_names *fields_of(uint16_t api)
{
    const char *base = api_base(api);
    for (size_t i = 0; i < sizeof field_table / sizeof field_table[0]; i++) {
        if (strcmp(field_table[i].base, base) == 0)
            return &field_table[i];
    }
    return NULL;
}

static void put_field(struct line *l, int *first, const char *name, uint64_t value)
{
    if (name == NULL)
        return;
    if (name[0] == '#')
        put(l, "%s%s %" PRIu64, *first ? "" : ", ", name + 1, value);
    else
        put(l, "%s%s 0x%" PRIx64, *first ? "" : ", ", name, value);
    *first = 0;
}

static void put_call(struct line *l, const struct cg_hang_call *c)
{
    const struct field_names *f = fields_of(c->api);
    int first = 1;
    put(l, "%s(", api_name(c->api));
    if (f != NULL) {
        put_field(l, &first, f->handle, c->handle);
        put_field(l, &first, f->arg, c->arg);
        put_field(l, &first, f->arg2, c->arg2);
    } else if (c->api == CG_ID_cuCtxSynchronize_v2 || c->handle != 0) {
        put_field(l, &first, "context", c->handle);
    }
    put(l, ")");
}

void cg_hang_format_call(const struct cg_hang_call *c, char *buf, unsigned len)
{
    struct line l = {.used = 0};
    l.text[0] = '\0';
    put_call(&l, c);
    snprintf(buf, len, "%s", l.text);
}

/* ---- pieces shared by the sections ---- */

static double seconds_since(const struct cg_hang_snapshot *s, uint64_t ts)
{
    return ts < s->now_ns ? (double)(s->now_ns - ts) / 1e9 : 0.0;
}

static void put_thread(struct line *l, const struct cg_hang_thread *t)
{
    put(l, "thread %" PRIu32, t->tid);
    if (t->name[0] != '\0')
        put(l, " \"%s\"", t->name);
}

static const struct cg_hang_thread *thread_by_tid(const struct cg_hang_snapshot *s, uint32_t tid)
{
    for (unsigned i = 0; i < s->thread_count; i++) {
        if (s->threads[i].tid == tid)
            return &s->threads[i];
    }
    return NULL;
}

static void put_tid(struct line *l, const struct cg_hang_snapshot *s, uint32_t tid)
{
    const struct cg_hang_thread *t = thread_by_tid(s, tid);
    if (t != NULL)
        put_thread(l, t);
    else
        put(l, "thread %" PRIu32, tid);
}

static void put_event_record(struct line *l, const struct cg_hang_snapshot *s,
                             const struct cg_event_state *e)
{
    put(l, "event 0x%" PRIx64 " recorded on stream 0x%" PRIx64 "%s by ", e->event, e->stream,
        e->per_thread && e->stream == 0 ? " (per-thread default)" : "");
    put_tid(l, s, e->tid);
    put(l, " %.1f s ago", seconds_since(s, e->record_ns));
}

static void put_target(struct line *l, const struct cg_hang_snapshot *s, int known,
                       const struct cg_event_state *e, uint64_t handle, int is_event)
{
    if (!is_event)
        return;
    if (!known) {
        put(l, "; event 0x%" PRIx64 " has no record in the trace", handle);
        return;
    }
    put(l, "; ");
    put_event_record(l, s, e);
    put(l, e->pending ? ", not complete" : ", seen complete");
}

static int base_is(uint16_t api, const char *base)
{
    return strcmp(api_base(api), base) == 0;
}

static void emit_line(struct line *l, cg_hang_emit emit, void *ctx)
{
    emit(l->text, ctx);
}

/* ---- section 1: threads inside or polling a CUDA call ---- */

static int over_limit(const struct cg_hang_snapshot *s, uint64_t since)
{
    return s->limit_ns != 0 && since < s->now_ns && s->now_ns - since >= s->limit_ns;
}

static void emit_blocked(const struct cg_hang_snapshot *s, const struct cg_hang_thread *t,
                         cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    put(&l, "  ");
    put_thread(&l, t);
    put(&l, " blocked in ");
    put_call(&l, &t->blocked_call);
    put(&l, " for %.1f s", seconds_since(s, t->blocked_call.ts_ns));
    put_target(&l, s, t->target_known, &t->target, t->blocked_call.handle,
               base_is(t->blocked_call.api, "cuEventSynchronize"));
    emit_line(&l, emit, ctx);
}

static void emit_polling(const struct cg_hang_snapshot *s, const struct cg_hang_thread *t,
                         const struct cg_hang_poll *p, cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    put(&l, "  ");
    put_thread(&l, t);
    put(&l, " polling ");
    put_call(&l, &p->call);
    put(&l, " for %.1f s (%" PRIu64 " polls, last %.1f s ago)", seconds_since(s, p->since_ns),
        p->polls, seconds_since(s, p->last_ns));
    put_target(&l, s, p->target_known, &p->target, p->call.handle,
               base_is(p->call.api, "cuEventQuery"));
    emit_line(&l, emit, ctx);
}

/* Threads over the limit first (`stuck` 1), then the others waiting. */
static unsigned emit_waiting(const struct cg_hang_snapshot *s, int stuck, cg_hang_emit emit,
                             void *ctx)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->thread_count; i++) {
        const struct cg_hang_thread *t = &s->threads[i];
        if (t->blocked && over_limit(s, t->blocked_call.ts_ns) == stuck) {
            emit_blocked(s, t, emit, ctx);
            n++;
        }
        for (unsigned j = 0; j < t->poll_count; j++) {
            if (over_limit(s, t->polls[j].since_ns) == stuck) {
                emit_polling(s, t, &t->polls[j], emit, ctx);
                n++;
            }
        }
    }
    return n;
}

/* ---- section 2: pending events and who waits for them ---- */

static int same_stream(const struct cg_event_state *e, const struct cg_hang_thread *t,
                       const struct cg_hang_call *c)
{
    if (c->handle != e->stream)
        return 0;
    if (e->stream != 0)
        return 1;
    int call_per_thread = (c->flags & CG_FLAG_PTSZ) != 0;
    if (call_per_thread != e->per_thread)
        return 0;
    return !call_per_thread || t->tid == e->tid;
}

static void put_waiters(struct line *l, const struct cg_hang_snapshot *s,
                        const struct cg_event_state *e)
{
    int any = 0;
    for (unsigned i = 0; i < s->thread_count; i++) {
        const struct cg_hang_thread *t = &s->threads[i];
        for (unsigned j = 0; j < t->poll_count; j++) {
            const struct cg_hang_poll *p = &t->polls[j];
            int event_poll = base_is(p->call.api, "cuEventQuery") && p->call.handle == e->event;
            int stream_poll = base_is(p->call.api, "cuStreamQuery") && same_stream(e, t, &p->call);
            if (!event_poll && !stream_poll)
                continue;
            put(l, "; %s by ", event_poll ? "polled" : "its stream polled");
            put_thread(l, t);
            put(l, " for %.1f s", seconds_since(s, p->since_ns));
            any = 1;
        }
        if (!t->blocked)
            continue;
        const struct cg_hang_call *b = &t->blocked_call;
        int waits = (base_is(b->api, "cuEventSynchronize") && b->handle == e->event) ||
                    (base_is(b->api, "cuStreamSynchronize") && same_stream(e, t, b)) ||
                    base_is(b->api, "cuCtxSynchronize") || base_is(b->api, "cuMemFreeHost");
        if (waits) {
            put(l, "; waited on by ");
            put_thread(l, t);
            put(l, " in %s for %.1f s", api_name(b->api), seconds_since(s, b->ts_ns));
            any = 1;
        }
    }
    if (!any)
        put(l, "; no thread waits on it");
}

static void emit_events(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    if (s->events_unknown) {
        put(&l, "  pending events: unknown (the trace could not be read back)");
        emit_line(&l, emit, ctx);
        return;
    }
    put(&l, "  pending events (%u)%s", s->events_total, s->events_total ? ":" : "");
    emit_line(&l, emit, ctx);
    for (unsigned i = 0; i < s->event_count; i++) {
        struct line e = {.used = 0};
        put(&e, "    ");
        put_event_record(&e, s, &s->events[i]);
        put_waiters(&e, s, &s->events[i]);
        emit_line(&e, emit, ctx);
    }
    if (s->events_total > s->event_count) {
        struct line more = {.used = 0};
        put(&more, "    ... and %u more", s->events_total - s->event_count);
        emit_line(&more, emit, ctx);
    }
}

/* ---- section 3: every thread's last call ---- */

static void emit_last_call(const struct cg_hang_snapshot *s, const struct cg_hang_thread *t,
                           cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    char rbuf[32];
    put(&l, "    ");
    put_thread(&l, t);
    put(&l, ": ");
    if (!t->has_last) {
        put(&l, "no call recorded yet");
    } else if (t->last_in_progress) {
        put_call(&l, &t->last);
        put(&l, " still running after %.1f s", seconds_since(s, t->last.ts_ns));
    } else {
        put_call(&l, &t->last);
        put(&l, " = %s %.1f s ago", cg_hang_result_name(t->last.result, rbuf, sizeof rbuf),
            seconds_since(s, t->last.ts_ns));
        if (t->poll_count > 0)
            put(&l, "; polling %u handle%s", t->poll_count, t->poll_count == 1 ? "" : "s");
        else
            put(&l, "; not in a CUDA call now");
    }
    emit_line(&l, emit, ctx);
}

static void emit_last_calls(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    put(&l, "  last calls (%u thread%s):", s->thread_count, s->thread_count == 1 ? "" : "s");
    emit_line(&l, emit, ctx);
    for (unsigned i = 0; i < s->thread_count; i++)
        emit_last_call(s, &s->threads[i], emit, ctx);
    if (s->threads_unwatched > 0) {
        struct line more = {.used = 0};
        put(&more, "    ... and %u thread(s) beyond the watch table", s->threads_unwatched);
        emit_line(&more, emit, ctx);
    }
}

/* ---- section 0: orphaned waits ---- */

static void put_named(struct line *l, uint32_t tid, const char *name)
{
    put(l, "thread %" PRIu32, tid);
    if (name[0] != '\0')
        put(l, " \"%s\"", name);
}

static void emit_orphan(const struct cg_hang_snapshot *s, const struct cg_hang_orphan *o,
                        cg_hang_emit emit, void *ctx)
{
    const struct cg_event_state *e = &o->event;
    struct line l = {.used = 0};
    put(&l, "  orphaned wait: no CUDA call for %.1f s: event 0x%" PRIx64 " recorded by ",
        (double)o->idle_ns / 1e9, e->event);
    put_named(&l, e->tid, o->recorder_name);
    put(&l, " on stream 0x%" PRIx64 "%s", e->stream,
        e->per_thread && e->stream == 0 ? " (per-thread default)" : "");
    uint32_t poller = e->poller_count > 0 ? e->pollers[e->poller_count - 1] : 0;
    if (e->poll_handle == e->event) {
        put(&l, " was polled only by ");
        put_named(&l, poller, o->poller_name);
        if (e->poller_count > 1)
            put(&l, " (and %u other thread(s), all gone)", e->poller_count - 1u);
        put(&l, ", which exited %.1f s ago", seconds_since(s, o->poller_exit_ns));
    } else {
        char result[48];
        put(&l, " was never polled by its handle; ");
        put_named(&l, poller, o->poller_name);
        put(&l, " got %s from %s(0x%" PRIx64 ") after it was recorded and exited %.1f s ago",
            cg_hang_result_name(e->poll_result, result, sizeof result), api_name(e->poll_api),
            e->poll_handle, seconds_since(s, o->poller_exit_ns));
    }
    put(&l, "; nobody has seen it complete");
    emit_line(&l, emit, ctx);
}

/* ---- section 0b: quiet after a dead poller ---- */

static void emit_dead_poller(const struct cg_hang_snapshot *s, const struct cg_hang_dead_poller *d,
                             cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    put(&l, "  quiet after a dead poller: no CUDA call for %.1f s since ",
        (double)d->idle_ns / 1e9);
    put_named(&l, d->tid, d->name);
    put(&l, " exited %.1f s ago", seconds_since(s, d->exit_ns));
    if (d->has_error) {
        char result[48];
        put(&l, " after ");
        put_call(&l, &d->error);
        put(&l, " = %s", cg_hang_result_name(d->error.result, result, sizeof result));
    }
    if (d->unseen > 0)
        put(&l, "%s with %u event record(s) it polled not seen complete", d->has_error ? "," : "",
            d->unseen);
    put(&l, "; the threads left wait outside CUDA (their Python stacks below)");
    emit_line(&l, emit, ctx);
}

/* ---- section 4: every Python thread's stack ---- */

/* One "p<line> <function> <file>" frame as "      file:line function". */
static void emit_python_frame(const char *frame, size_t len, cg_hang_emit emit, void *ctx)
{
    char text[LINE_MAX_BYTES];
    if (len == 0 || frame[0] != 'p' || len >= sizeof text)
        return;
    memcpy(text, frame, len);
    text[len] = '\0';
    char *function = strchr(text, ' ');
    char *file = function ? strchr(function + 1, ' ') : NULL;
    if (file == NULL)
        return;
    *function++ = '\0';
    *file++ = '\0';
    struct line l = {.used = 0};
    put(&l, "      %s:%s %s", file, text + 1, function);
    emit_line(&l, emit, ctx);
}

static void emit_python_thread(const struct cg_hang_snapshot *s, const struct cg_pyt_thread *p,
                               cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    char rbuf[32];
    put(&l, "    python thread %" PRIu32 " \"%s\": ", p->native_tid, p->name[0] ? p->name : "?");
    const struct cg_hang_thread *t = p->native_tid ? thread_by_tid(s, p->native_tid) : NULL;
    if (t == NULL || !t->has_last) {
        put(&l, "no CUDA call recorded");
    } else if (t->last_in_progress) {
        put(&l, "in ");
        put_call(&l, &t->last);
        put(&l, " for %.1f s", seconds_since(s, t->last.ts_ns));
    } else {
        put(&l, "last CUDA call ");
        put_call(&l, &t->last);
        put(&l, " = %s %.1f s ago", cg_hang_result_name(t->last.result, rbuf, sizeof rbuf),
            seconds_since(s, t->last.ts_ns));
    }
    if (p->frames == 0)
        put(&l, "; no Python frame");
    emit_line(&l, emit, ctx);
    const char *frame = strchr(p->stack, ';');
    while (frame != NULL) {
        const char *next = strchr(frame + 1, ';');
        size_t len = next ? (size_t)(next - frame - 1) : strlen(frame + 1);
        emit_python_frame(frame + 1, len, emit, ctx);
        frame = next;
    }
}

static void emit_python(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx)
{
    const struct cg_pyt_snapshot *py = s->python;
    if (py == NULL || py->status == CG_PYT_NO_PYTHON)
        return;
    struct line l = {.used = 0};
    if (py->status == CG_PYT_GIL_HELD)
        put(&l,
            "  Python stacks could not be read: the GIL is held (waited %.1f s; a thread runs "
            "C code without releasing it); only the CUDA state above could be read safely",
            (double)py->waited_ns / 1e9);
    else if (py->status == CG_PYT_NOT_RUNNING)
        put(&l, "  Python stacks not read: the interpreter is starting up or finalizing");
    else if (py->status != CG_PYT_OK)
        put(&l, "  Python stacks not read: this Python lacks a C API function they need");
    else
        put(&l, "  python threads (%u), innermost frame first:", py->count + py->more);
    emit_line(&l, emit, ctx);
    if (py->status != CG_PYT_OK)
        return;
    for (unsigned i = 0; i < py->count; i++)
        emit_python_thread(s, &py->threads[i], emit, ctx);
    if (py->more > 0) {
        struct line more = {.used = 0};
        put(&more, "    ... and %u more Python thread(s)", py->more);
        emit_line(&more, emit, ctx);
    }
}

/* ---- the report ---- */

static void emit_title(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx)
{
    struct line l = {.used = 0};
    put(&l, "HANG REPORT (pid %" PRIu32 ", ", s->pid);
    if (s->limit_ns == 0)
        put(&l, "watchdog off)");
    else if (s->limit_ns % 1000000000u == 0)
        put(&l, "watchdog limit %" PRIu64 " s)", s->limit_ns / 1000000000u);
    else
        put(&l, "watchdog limit %.3g s)", (double)s->limit_ns / 1e9);
    if (s->why != NULL && s->why[0] != '\0')
        put(&l, ": %s", s->why);
    emit_line(&l, emit, ctx);
}

void cg_hang_report(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx)
{
    emit_title(s, emit, ctx);
    for (unsigned i = 0; i < s->orphan_count; i++)
        emit_orphan(s, &s->orphans[i], emit, ctx);
    for (unsigned i = 0; i < s->dead_count; i++)
        emit_dead_poller(s, &s->dead[i], emit, ctx);
    unsigned waiting = emit_waiting(s, 1, emit, ctx);
    waiting += emit_waiting(s, 0, emit, ctx);
    if (waiting == 0) {
        struct line l = {.used = 0};
        put(&l, "  no thread is blocked in or polling a CUDA call");
        emit_line(&l, emit, ctx);
    }
    emit_events(s, emit, ctx);
    emit_last_calls(s, emit, ctx);
    emit_python(s, emit, ctx);
    emit("end of hang report", ctx);
}

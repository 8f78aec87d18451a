/*
 * shim/stall_detect.c — stuck episodes, STALL records and the report
 * snapshot (see shim/stall_detect.h).
 *
 * What it is for: turning the pointers threads publish (shim/watch_slots.h)
 * into episodes: a blocking call is one episode (its ENTER record); a run
 * of NOT_READY polls of one handle is one episode even when the shim split
 * it into several SPIN records, as long as each began within the recent
 * window of the previous one's latest poll and the spin never ended in
 * between (spin_ends). The watchdog's own bookkeeping lives here, private
 * to the one thread that calls these functions.
 *
 * What it must never do: write into a watch slot or a record (it only
 * reads them), use malloc or a stdio stream, or report one episode twice.
 */
#include "shim/stall_detect.h"

#include <cuda.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/hang_report.h"
#include "shim/pending_events.h"
#include "shim/python_threads.h"
#include "shim/watch_slots.h"
#include "tracer/writer.h"

#define MAX_LISTED_EVENTS 64u
#define MAX_ORPHANS 8u
#define MAX_DEAD 4u
#define PYTHON_BOUND_NS 1000000000ull /* longest wait for the GIL */

struct episode {
    const struct cg_record *rec; /* SPIN record seen last; NULL = no open spin */
    uint32_t ends;               /* spin_ends when rec was seen */
    uint64_t handle;
    uint16_t api;
    uint8_t flags;
    uint64_t start_ns;     /* first poll of the episode */
    uint64_t polls_before; /* NOT_READY polls in earlier SPIN records of the episode */
    int active;            /* latest poll within the recent window */
    int reported;          /* STALL written for this episode */
};

struct track {
    uint32_t tid; /* slot owner these episodes belong to */
    const struct cg_record *blocked_reported;
    struct episode spin[CG_SPIN_SLOTS];
};

static struct track tracks[CG_WATCH_THREADS];
static uint64_t limit_ns;
static unsigned stalls_written;
static unsigned stuck_threads;
static int trace_read_this_tick;
static int trace_unreadable;
/* Latest CUDA activity the slots showed (a call, a poll, a blocking call
 * still in progress counts as now), kept across ticks: exited threads'
 * slots are cleared, the trace has the rest. */
static uint64_t slots_activity_ns;
static unsigned orphans_written;
static unsigned dead_written; /* quiet-after-a-dead-poller STALLs */
static int python_taken;      /* `python` (below) holds the snapshot taken at its when_ns */

void cg_stall_configure(uint64_t limit)
{
    limit_ns = limit;
}

uint64_t cg_stall_limit_ns(void)
{
    return limit_ns;
}

uint64_t cg_stall_recent_ns(void)
{
    uint64_t recent = limit_ns / 2;
    if (recent < 1000000000u)
        recent = 1000000000u;
    if (recent > 10000000000u)
        recent = 10000000000u;
    return recent;
}

unsigned cg_stall_records(void)
{
    return __atomic_load_n(&stalls_written, __ATOMIC_RELAXED);
}

unsigned cg_stall_stuck_threads(void)
{
    return stuck_threads;
}

void cg_stall_forget(void)
{
    memset(tracks, 0, sizeof tracks);
    stuck_threads = 0;
    slots_activity_ns = 0;
    python_taken = 0;
}

unsigned cg_stall_orphans(void)
{
    return __atomic_load_n(&orphans_written, __ATOMIC_RELAXED);
}

static void note_activity(uint64_t ts)
{
    if (ts > slots_activity_ns)
        slots_activity_ns = ts;
}

static uint64_t age(uint64_t now, uint64_t since)
{
    return now > since ? now - since : 0;
}

static int base_is(uint16_t api, const char *base)
{
    return api < CG_API_COUNT && strcmp(cg_api_info[api].base, base) == 0;
}

/* Catch up with the trace once per tick, and only when needed. */
static void read_trace_once(void)
{
    if (trace_read_this_tick)
        return;
    trace_read_this_tick = 1;
    trace_unreadable = cg_pending_update(cg_writer_path()) != 0;
}

static void thread_name(uint32_t tid, char *name, size_t len);

/* ---- observing one slot ---- */

static void observe_spin(struct episode *ep, const struct cg_watch_slot *slot, unsigned j,
                         uint64_t now)
{
    const struct cg_record *rec = __atomic_load_n(&slot->spin[j], __ATOMIC_ACQUIRE);
    uint32_t ends = __atomic_load_n(&slot->spin_ends[j], __ATOMIC_ACQUIRE);
    if (rec == NULL) {
        ep->rec = NULL;
        ep->active = 0;
        ep->ends = ends;
        return;
    }
    if (rec != ep->rec) {
        int continued =
            ep->rec != NULL && ends == ep->ends && rec->handle == ep->handle &&
            rec->api == ep->api &&
            rec->ts_ns <= __atomic_load_n(&ep->rec->arg2, __ATOMIC_RELAXED) + cg_stall_recent_ns();
        if (continued) {
            ep->polls_before += __atomic_load_n(&ep->rec->arg, __ATOMIC_RELAXED);
        } else {
            *ep = (struct episode){
                .handle = rec->handle,
                .api = rec->api,
                .flags = rec->flags,
                .start_ns = rec->ts_ns,
            };
        }
        ep->rec = rec;
        ep->ends = ends;
    }
    uint64_t last = __atomic_load_n(&rec->arg2, __ATOMIC_RELAXED);
    ep->active = age(now, last) <= cg_stall_recent_ns();
}

/* When the episode's wait began: its first poll, or the latest record of
 * the polled event when that came later (a re-record restarts the wait). */
static uint64_t episode_start(struct episode *ep, struct cg_event_state *target, int *known)
{
    *known = 0;
    if (!base_is(ep->api, "cuEventQuery"))
        return ep->start_ns;
    read_trace_once();
    *known = cg_pending_lookup(ep->handle, target);
    if (*known && target->record_ns > ep->start_ns)
        return target->record_ns;
    return ep->start_ns;
}

static void write_stall(uint16_t api, uint8_t flags, uint64_t handle, uint32_t tid, uint64_t stuck,
                        uint64_t now)
{
    struct cg_record *r = cg_writer_reserve(1);
    __atomic_fetch_add(&stalls_written, 1, __ATOMIC_RELAXED);
    if (r == NULL)
        return;
    r->handle = handle;
    r->arg = tid;
    r->arg2 = stuck;
    r->ts_ns = now;
    r->tid = cg_gettid();
    r->api = api;
    r->flags = flags;
    cg_writer_publish(r, CG_REC_STALL);
}

/* Observe slot i; returns the number of its newly stuck episodes and sets
 * *stuck when the thread is over the limit at all. */
static unsigned tick_slot(unsigned i, uint64_t now, int *stuck)
{
    const struct cg_watch_slot *slot = &cg_watch_slots[i];
    struct track *tr = &tracks[i];
    uint32_t tid = __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE);
    unsigned fresh = 0;
    if (tr->tid != tid) {
        memset(tr, 0, sizeof *tr);
        tr->tid = tid;
    }
    if (tid == 0)
        return 0;
    const struct cg_record *blocked = __atomic_load_n(&slot->blocked, __ATOMIC_ACQUIRE);
    const struct cg_record *last = __atomic_load_n(&slot->last, __ATOMIC_ACQUIRE);
    note_activity(blocked != NULL ? now : last != NULL ? last->ts_ns : 0);
    if (blocked != NULL && limit_ns != 0 && age(now, blocked->ts_ns) >= limit_ns) {
        *stuck = 1;
        if (blocked != tr->blocked_reported) {
            write_stall(blocked->api, blocked->flags & CG_FLAG_PTSZ, blocked->handle, tid,
                        age(now, blocked->ts_ns), now);
            tr->blocked_reported = blocked;
            fresh++;
        }
    }
    for (unsigned j = 0; j < CG_SPIN_SLOTS; j++) {
        struct episode *ep = &tr->spin[j];
        observe_spin(ep, slot, j, now);
        if (ep->rec != NULL)
            note_activity(__atomic_load_n(&ep->rec->arg2, __ATOMIC_RELAXED));
        if (!ep->active || limit_ns == 0 || age(now, ep->start_ns) < limit_ns)
            continue;
        struct cg_event_state target;
        int known;
        uint64_t since = episode_start(ep, &target, &known);
        if (age(now, since) < limit_ns)
            continue;
        *stuck = 1;
        if (!ep->reported) {
            write_stall(ep->api, ep->flags & CG_FLAG_PTSZ, ep->handle, tid, age(now, since), now);
            ep->reported = 1;
            fresh++;
        }
    }
    return fresh;
}

/* ---- Python stacks ---- */

static struct cg_pyt_snapshot python;

static void write_pystack(const struct cg_pyt_thread *t, uint64_t now)
{
    uint32_t name = t->name[0] ? cg_writer_intern(t->name) : 0;
    uint32_t stack = cg_writer_intern(t->stack);
    struct cg_record *r = cg_writer_reserve(1);
    if (r == NULL)
        return;
    r->handle = t->ident ? t->ident : 1;
    r->arg = name;
    r->arg2 = (uint64_t)t->native_tid << 32 | t->frames;
    r->ts_ns = now;
    r->tid = cg_gettid();
    r->site = stack;
    r->flags = CG_FLAG_STACK;
    cg_writer_publish(r, CG_REC_PYSTACK);
}

/* The snapshot of every Python thread at `now` (taken once per `now`),
 * written into the trace: a header record, then one per thread. */
static const struct cg_pyt_snapshot *python_at(uint64_t now)
{
    if (python_taken && python.when_ns == now)
        return &python;
    cg_pyt_take(&python, now, PYTHON_BOUND_NS);
    python_taken = 1;
    /* In a new batch: `cuguard run --timeout` looks for this header past
     * the slots it already scanned (analysis/cli/run_timeout.c). */
    struct cg_record *r = cg_writer_reserve_batch(1);
    if (r != NULL) {
        r->arg = python.count;
        r->arg2 = python.waited_ns;
        r->result = python.status;
        r->ts_ns = now;
        r->tid = cg_gettid();
        cg_writer_publish(r, CG_REC_PYSTACK);
    }
    for (unsigned i = 0; i < python.count; i++)
        write_pystack(&python.threads[i], now);
    return &python;
}

/* ---- orphaned waits ---- */

/* ns since the process's latest CUDA call, or 0 when it made one within
 * the limit (or none at all). Reads the trace only when the slots show
 * nothing recent. */
static uint64_t idle_for(uint64_t now)
{
    if (limit_ns == 0 || (slots_activity_ns != 0 && age(now, slots_activity_ns) < limit_ns))
        return 0;
    read_trace_once();
    if (trace_unreadable)
        return 0;
    uint64_t last = cg_pending_last_call_ns();
    if (slots_activity_ns > last)
        last = slots_activity_ns;
    if (last == 0 || age(now, last) < limit_ns)
        return 0;
    return age(now, last);
}

static void fill_orphan(struct cg_hang_orphan *o, const struct cg_event_state *e, uint64_t idle)
{
    memset(o, 0, sizeof *o);
    o->event = *e;
    o->idle_ns = idle;
    uint32_t poller = e->poller_count > 0 ? e->pollers[e->poller_count - 1] : 0;
    cg_pending_thread_exited(poller, &o->poller_exit_ns);
    if (!cg_watch_exited_name(poller, o->poller_name, sizeof o->poller_name))
        o->poller_name[0] = '\0';
    thread_name(e->tid, o->recorder_name, sizeof o->recorder_name);
    if (o->recorder_name[0] == '\0')
        cg_watch_exited_name(e->tid, o->recorder_name, sizeof o->recorder_name);
}

/* One STALL with CG_FLAG_ORPHANED per newly orphaned event record. */
static unsigned orphan_tick(uint64_t now)
{
    uint64_t idle = idle_for(now);
    if (idle == 0)
        return 0;
    struct cg_event_state found[MAX_ORPHANS];
    unsigned n = cg_pending_orphans(found, MAX_ORPHANS, 0);
    if (n > 0)
        python_at(now); /* before the STALLs: the analysis reads them together */
    for (unsigned i = 0; i < n; i++) {
        const struct cg_event_state *e = &found[i];
        write_stall(e->poll_api, (uint8_t)(CG_FLAG_ORPHANED | (e->per_thread ? CG_FLAG_PTSZ : 0)),
                    e->event, e->tid, idle, now);
        cg_pending_mark_orphan_reported(e->event);
        __atomic_fetch_add(&orphans_written, 1, __ATOMIC_RELAXED);
    }
    return n;
}

/* ---- quiet after a dead poller ---- */

/* The dead pollers the process has been quiet after for the limit. */
static unsigned quiet_after_dead(uint64_t now, uint64_t idle, struct cg_dead_poller *out,
                                 int include_reported)
{
    if (idle == 0)
        return 0;
    struct cg_dead_poller found[MAX_DEAD];
    unsigned n = cg_pending_dead_pollers(found, MAX_DEAD, include_reported), kept = 0;
    for (unsigned i = 0; i < n; i++)
        if (age(now, found[i].exit_ns) >= limit_ns)
            out[kept++] = found[i];
    return kept;
}

/* One STALL (CG_FLAG_ORPHANED, handle 0) per dead poller the process has
 * been quiet after, unless an orphaned wait already tells it. */
static unsigned dead_poller_tick(uint64_t now, uint64_t idle, unsigned orphans)
{
    struct cg_dead_poller dead[MAX_DEAD];
    unsigned n = quiet_after_dead(now, idle, dead, 0), written = 0;
    struct cg_event_state any;
    int told = orphans > 0 || cg_pending_orphans(&any, 1, 1) > 0;
    for (unsigned i = 0; i < n; i++) {
        cg_pending_mark_dead_reported(dead[i].tid);
        if (told)
            continue;
        python_at(now); /* before the STALL: the analysis reads them together */
        struct cg_record *r = cg_writer_reserve(1);
        __atomic_fetch_add(&stalls_written, 1, __ATOMIC_RELAXED);
        written++;
        if (r == NULL)
            continue;
        r->arg = dead[i].tid;
        r->arg2 = idle;
        r->ts_ns = now;
        r->tid = cg_gettid();
        r->api = dead[i].has_error ? dead[i].api : 0;
        r->result = dead[i].has_error ? dead[i].result : 0;
        r->flags = CG_FLAG_ORPHANED;
        cg_writer_publish(r, CG_REC_STALL);
    }
    return written;
}

unsigned cg_stall_tick(uint64_t now)
{
    unsigned fresh = 0, stuck_count = 0;
    trace_read_this_tick = 0;
    for (unsigned i = 0; i < CG_WATCH_THREADS; i++) {
        int stuck = 0;
        fresh += tick_slot(i, now, &stuck);
        stuck_count += (unsigned)stuck;
    }
    stuck_threads = stuck_count;
    unsigned orphans = orphan_tick(now);
    unsigned dead = limit_ns != 0 ? dead_poller_tick(now, idle_for(now), orphans) : 0;
    dead_written += dead;
    fresh += orphans + dead;
    if (fresh > 0)
        python_at(now);
    return fresh;
}

unsigned cg_stall_dead_pollers(void)
{
    return dead_written;
}

/* ---- the report snapshot ---- */

static struct cg_hang_thread snap_threads[CG_WATCH_THREADS];
static struct cg_event_state snap_events[MAX_LISTED_EVENTS];
static struct cg_hang_orphan snap_orphans[MAX_ORPHANS];
static struct cg_hang_dead_poller snap_dead[MAX_DEAD];

static void fill_dead(struct cg_hang_dead_poller *d, const struct cg_dead_poller *p, uint64_t idle)
{
    memset(d, 0, sizeof *d);
    d->tid = p->tid;
    d->exit_ns = p->exit_ns;
    d->idle_ns = idle;
    d->has_error = p->has_error;
    d->error = (struct cg_hang_call){
        .api = p->api, .handle = p->handle, .result = p->result, .ts_ns = p->error_ns};
    d->unseen = p->unseen;
    if (!cg_watch_exited_name(p->tid, d->name, sizeof d->name))
        d->name[0] = '\0';
}

static void call_of(struct cg_hang_call *c, const struct cg_record *r)
{
    *c = (struct cg_hang_call){
        .api = r->api,
        .flags = r->flags,
        .handle = r->handle,
        .arg = r->arg,
        .arg2 = r->arg2,
        .result = r->result,
        .ts_ns = r->ts_ns,
    };
}

static void thread_name(uint32_t tid, char *name, size_t len)
{
    char path[64];
    name[0] = '\0';
    snprintf(path, sizeof path, "/proc/self/task/%u/comm", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, name, len - 1);
    close(fd);
    if (n <= 0)
        n = 0;
    name[n] = '\0';
    name[strcspn(name, "\n")] = '\0';
}

static void snap_polls(struct cg_hang_thread *t, struct track *tr)
{
    for (unsigned j = 0; j < CG_SPIN_SLOTS; j++) {
        struct episode *ep = &tr->spin[j];
        if (ep->rec == NULL || !ep->active)
            continue;
        struct cg_hang_poll *p = &t->polls[t->poll_count++];
        memset(p, 0, sizeof *p);
        p->call = (struct cg_hang_call){
            .api = ep->api,
            .flags = ep->flags,
            .handle = ep->handle,
            .result = CUDA_ERROR_NOT_READY,
        };
        p->since_ns = episode_start(ep, &p->target, &p->target_known);
        p->last_ns = __atomic_load_n(&ep->rec->arg2, __ATOMIC_RELAXED);
        p->call.ts_ns = p->last_ns;
        p->polls = ep->polls_before + __atomic_load_n(&ep->rec->arg, __ATOMIC_RELAXED);
        if (!t->has_last || p->last_ns > t->last.ts_ns) {
            t->last = p->call;
            t->has_last = 1;
            t->last_in_progress = 0;
        }
    }
}

static void snap_thread(struct cg_hang_thread *t, const struct cg_watch_slot *slot,
                        struct track *tr)
{
    memset(t, 0, sizeof *t);
    t->tid = tr->tid;
    thread_name(t->tid, t->name, sizeof t->name);
    const struct cg_record *blocked = __atomic_load_n(&slot->blocked, __ATOMIC_ACQUIRE);
    const struct cg_record *last = __atomic_load_n(&slot->last, __ATOMIC_ACQUIRE);
    if (blocked != NULL) {
        t->blocked = 1;
        call_of(&t->blocked_call, blocked);
        if (base_is(blocked->api, "cuEventSynchronize")) {
            read_trace_once();
            t->target_known = cg_pending_lookup(blocked->handle, &t->target);
        }
    }
    if (last != NULL) {
        call_of(&t->last, last);
        t->has_last = 1;
        t->last_in_progress = last == blocked;
    }
    snap_polls(t, tr);
}

struct report_out {
    int fd;
};

static void write_line(const char *line, void *ctx)
{
    const struct report_out *out = ctx;
    char buf[1100];
    int n = snprintf(buf, sizeof buf - 1, "cuguard: %s", line);
    if (n < 0)
        return;
    if ((size_t)n > sizeof buf - 2)
        n = (int)(sizeof buf - 2);
    buf[n++] = '\n';
    ssize_t w = write(out->fd, buf, (size_t)n);
    (void)w;
}

void cg_stall_report(uint64_t now, const char *why, int fd)
{
    unsigned n = 0;
    trace_read_this_tick = 0;
    for (unsigned i = 0; i < CG_WATCH_THREADS; i++) {
        const struct cg_watch_slot *slot = &cg_watch_slots[i];
        struct track *tr = &tracks[i];
        uint32_t tid = __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE);
        if (tr->tid != tid) {
            memset(tr, 0, sizeof *tr);
            tr->tid = tid;
        }
        if (tid == 0)
            continue;
        for (unsigned j = 0; j < CG_SPIN_SLOTS; j++)
            observe_spin(&tr->spin[j], slot, j, now);
        snap_thread(&snap_threads[n++], slot, tr);
    }
    read_trace_once();
    unsigned total = 0;
    unsigned listed =
        trace_unreadable ? 0 : cg_pending_collect(snap_events, MAX_LISTED_EVENTS, &total);
    unsigned orphans = 0;
    uint64_t idle = idle_for(now);
    if (idle != 0) {
        struct cg_event_state found[MAX_ORPHANS];
        orphans = cg_pending_orphans(found, MAX_ORPHANS, 1);
        for (unsigned i = 0; i < orphans; i++)
            fill_orphan(&snap_orphans[i], &found[i], idle);
    }
    unsigned dead = 0;
    if (orphans == 0) {
        struct cg_dead_poller found[MAX_DEAD];
        dead = quiet_after_dead(now, idle, found, 1);
        for (unsigned i = 0; i < dead; i++)
            fill_dead(&snap_dead[i], &found[i], idle);
    }
    struct cg_hang_snapshot s = {
        .pid = (uint32_t)getpid(),
        .now_ns = now,
        .limit_ns = limit_ns,
        .why = why,
        .threads = snap_threads,
        .thread_count = n,
        .threads_unwatched = cg_watch_unwatched(),
        .events = snap_events,
        .event_count = listed,
        .events_total = total,
        .events_unknown = trace_unreadable,
        .orphans = snap_orphans,
        .orphan_count = orphans,
        .python = python_at(now),
        .dead = snap_dead,
        .dead_count = dead,
    };
    struct report_out out = {fd};
    cg_hang_report(&s, write_line, &out);
}

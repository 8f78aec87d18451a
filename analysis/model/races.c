/*
 * analysis/model/races.c — the race and hang findings of docs/findings.md on top of the
 * happens-before model: destroy-while-waited, record-while-polled,
 * poller-exited, cross-task-use, pending-at-task-end,
 * pinned-reuse-while-inflight, stream-destroy-with-pending, stall and
 * shared-event.
 *
 * What it is for: deciding, at the moment the model reaches it, whether
 * something happened while no thread could yet have known the work it
 * depends on complete, and saying so in one sentence that names both
 * sides (who did the first thing, who the second, and when).
 *
 * What it must never do: raise a finding for work some thread has already
 * seen complete (docs/findings.md: a false positive is a bug), or keep a pointer
 * to a reader string.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/cuda_errors.h"
#include "analysis/model/hb_model.h"

#define LABEL 160
#define RESULT_NOT_READY 600

static const char *api_or(const struct replay_process *p, uint16_t api, const char *fallback)
{
    const char *name = replay_api_name(p, api);
    return name && *name ? name : fallback;
}

static const char *who_label(const struct replay_process *p, const struct hb_who *w, char *buf,
                             size_t len)
{
    return hb_thread_label(p, w->tid, w->thread, buf, len);
}

static void raise_as(struct hb_proc *hp, enum finding_kind kind, const struct hb_who *who,
                     const struct replay_object *o, uint64_t handle, int has_handle,
                     const char *msg)
{
    struct replay_origin origin = {
        .ts_ns = who->ts_ns,
        .tid = who->tid,
        .site = who->site,
        .task = who->task,
        .thread = who->thread,
        .api = who->api,
    };
    replay_raise_origin(hp->p, kind, &origin, o, handle, has_handle, msg);
}

/* ------------------------------------------------------------------ pollers */

/* The first poll entry of another thread still waiting on ev's current record. */
static const struct hb_poll *other_waiter(struct hb_proc *hp, const struct replay_object *ev,
                                          uint32_t not_tid, uint32_t *tid_out, uint32_t *name_out)
{
    const struct hb_obj *x = ev->ext;
    if (!x || !x->npollers)
        return NULL;
    for (struct replay_thread *t = hp->p->threads; t; t = t->hh.next) {
        const struct hb_thread *ht = t->ext;
        if (!ht || t->tid == not_tid)
            continue;
        for (unsigned i = 0; i < ht->npolls; i++) {
            const struct hb_poll *q = &ht->polls[i];
            if (q->unknown || q->stream || q->serial != ev->serial ||
                q->record_serial != x->record_serial || !hb_poll_waiting(q))
                continue;
            *tid_out = t->tid;
            *name_out = t->name;
            return q;
        }
    }
    return NULL;
}

static void describe_record(struct hb_proc *hp, const struct replay_object *ev, char *buf,
                            size_t len)
{
    const struct hb_obj *x = ev->ext;
    char who[LABEL], stream[LABEL];
    hb_describe_timeline(stream, sizeof stream, x ? x->rec_tl : NULL);
    snprintf(buf, len, "recorded by %s on %s at +%.6f s",
             hb_thread_label(hp->p, ev->record.tid, ev->record.thread, who, sizeof who), stream,
             hb_seconds(hp->p, ev->record.ts_ns));
}

/* Findings are rare: their messages are composed out of line (cold), so the
 * checks that mostly find nothing run without the message buffers' frame. */
__attribute__((cold, noinline)) static void
raise_record_while_polled(struct hb_proc *hp, const struct replay_step *s,
                          const struct replay_object *ev, const struct hb_poll *q, uint32_t tid,
                          uint32_t name)
{
    char me[LABEL], them[LABEL], rec[2 * LABEL], msg[1024];
    struct hb_who w = hb_who_of_step(hp->p, s);
    describe_record(hp, ev, rec, sizeof rec);
    snprintf(msg, sizeof msg,
             "%s re-recorded event 0x%" PRIx64 " at +%.6f s while %s was still polling its "
             "earlier record (%s; polled since +%.6f s, seen complete by no thread): the "
             "poller now waits for different work than it was handed.",
             who_label(hp->p, &w, me, sizeof me), ev->handle, hb_seconds(hp->p, w.ts_ns),
             hb_thread_label(hp->p, tid, name, them, sizeof them), rec,
             hb_seconds(hp->p, q->who.ts_ns));
    raise_as(hp, FK_RECORD_WHILE_POLLED, &w, ev, ev->handle, 1, msg);
}

/* Polls of ev's earlier record are over: a query now reflects the new one. */
static void drop_polls_of(struct hb_proc *hp, const struct replay_object *ev)
{
    for (struct replay_thread *t = hp->p->threads; t; t = t->hh.next) {
        struct hb_thread *ht = t->ext;
        for (unsigned i = 0; ht && i < ht->npolls;) {
            if (!ht->polls[i].unknown && !ht->polls[i].stream &&
                ht->polls[i].serial == ev->serial) {
                hb_clock_reset(&ht->polls[i].snap);
                struct hb_poll gone = ht->polls[i];
                ht->polls[i] = ht->polls[--ht->npolls];
                ht->polls[ht->npolls] = gone;
            } else {
                i++;
            }
        }
    }
}

void races_record(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev)
{
    struct hb_obj *x = ev->ext;
    if (!x || !x->npollers)
        return; /* nobody polls it: no earlier record still waited on */
    uint32_t tid = 0, name = 0;
    const struct hb_poll *q =
        x->record_serial ? other_waiter(hp, ev, s->rec->tid, &tid, &name) : NULL;
    if (q)
        raise_record_while_polled(hp, s, ev, q, tid, name);
    drop_polls_of(hp, ev);
    x->npollers = 0;
}

__attribute__((cold, noinline)) static void
raise_destroy_while_waited(struct hb_proc *hp, const struct replay_step *s,
                           const struct replay_object *ev, const struct hb_poll *q, uint32_t tid,
                           uint32_t name)
{
    char me[LABEL], them[LABEL], rec[2 * LABEL], msg[1024];
    struct hb_who w = hb_who_of_step(hp->p, s);
    describe_record(hp, ev, rec, sizeof rec);
    snprintf(msg, sizeof msg,
             "%s destroyed event 0x%" PRIx64 " at +%.6f s while %s was still waiting on its latest "
             "record (%s; waiting since +%.6f s with %s) that no thread had seen complete: the "
             "waiter's next call acts on a destroyed handle.",
             who_label(hp->p, &w, me, sizeof me), ev->handle, hb_seconds(hp->p, w.ts_ns),
             hb_thread_label(hp->p, tid, name, them, sizeof them), rec,
             hb_seconds(hp->p, q->who.ts_ns), api_or(hp->p, q->who.api, "a poll"));
    raise_as(hp, FK_DESTROY_WHILE_WAITED, &w, ev, ev->handle, 1, msg);
}

void races_destroy_event(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev)
{
    const struct hb_obj *x = ev->ext;
    if (!x || !x->npollers)
        return; /* nobody polls it (other_waiter would find no one) */
    uint32_t tid = 0, name = 0;
    const struct hb_poll *q = other_waiter(hp, ev, s->rec->tid, &tid, &name);
    if (q)
        raise_destroy_while_waited(hp, s, ev, q, tid, name);
}

/* ------------------------------------------------------------------ streams and tasks */

void races_destroy_stream(struct hb_proc *hp, const struct replay_step *s, struct hb_timeline *tl)
{
    if (!hb_timeline_busy(tl))
        return;
    char me[LABEL], them[LABEL], msg[1024];
    struct hb_who w = hb_who_of_step(hp->p, s);
    snprintf(msg, sizeof msg,
             "%s destroyed stream 0x%" PRIx64 " at +%.6f s with %" PRIu64
             " operation(s) on it that no thread had seen complete (the latest, %s by %s at "
             "+%.6f s): the work still runs, but nothing can wait for it through this stream.",
             who_label(hp->p, &w, me, sizeof me), tl->handle, hb_seconds(hp->p, w.ts_ns),
             tl->pos - tl->done, api_or(hp->p, tl->last_op.api, "?"),
             who_label(hp->p, &tl->last_op, them, sizeof them),
             hb_seconds(hp->p, tl->last_op.ts_ns));
    raise_as(hp, FK_STREAM_DESTROY_WITH_PENDING, &w, s->obj, tl->handle, 1, msg);
}

void races_task_begins(struct hb_proc *hp, const struct replay_step *s, uint64_t old_epoch,
                       uint32_t old_task)
{
    for (struct hb_timeline *tl = hp->timelines; tl; tl = tl->next) {
        if (tl->epoch != old_epoch || tl->epoch_pos <= tl->done)
            continue;
        char stream[LABEL], them[LABEL], msg[1024];
        hb_describe_timeline(stream, sizeof stream, tl);
        const char *old_name = replay_string(hp->p, old_task);
        const char *new_name = replay_string(hp->p, s->rec->site);
        snprintf(msg, sizeof msg,
                 "%s still had work enqueued in task %s (the latest, %s by %s at +%.6f s) that no "
                 "thread had seen complete when task %s began at +%.6f s: that work can run "
                 "into the next task, or make it wait.",
                 stream, old_name ? old_name : "?", api_or(hp->p, tl->last_op.api, "?"),
                 who_label(hp->p, &tl->last_op, them, sizeof them),
                 hb_seconds(hp->p, tl->last_op.ts_ns), new_name ? new_name : "?",
                 hb_seconds(hp->p, s->rec->ts_ns));
        struct hb_who w = tl->last_op;
        w.task = old_task;
        raise_as(hp, FK_PENDING_AT_TASK_END, &w, NULL, tl->handle, tl->kind == STREAM_CREATED, msg);
    }
}

void races_cross_task(struct hb_proc *hp, const struct replay_step *s, struct replay_object *o)
{
    if (o->type == OBJ_PINNED || hp->p->hdr->task_mode != CG_TASK_ENV)
        return;
    uint32_t made_in = o->created.task, now = s->task;
    if (!made_in || !now || made_in == now)
        return;
    struct hb_obj *x = hb_obj_of(hp, o);
    if (!x || x->xtask_flagged == now)
        return;
    x->xtask_flagged = now;
    char me[LABEL], them[LABEL], msg[1024];
    struct hb_who w = hb_who_of_step(hp->p, s);
    const char *old_name = replay_string(hp->p, made_in);
    const char *new_name = replay_string(hp->p, now);
    snprintf(msg, sizeof msg,
             "%s used %s 0x%" PRIx64 " in task %s at +%.6f s, but %s created it in the earlier "
             "task %s at +%.6f s: state from one test leaks into the next.",
             who_label(hp->p, &w, me, sizeof me), o->type == OBJ_EVENT ? "event" : "stream",
             o->handle, new_name ? new_name : "?", hb_seconds(hp->p, w.ts_ns),
             hb_thread_label(hp->p, o->created.tid, o->created.thread, them, sizeof them),
             old_name ? old_name : "?", hb_seconds(hp->p, o->created.ts_ns));
    raise_as(hp, FK_CROSS_TASK_USE, &w, o, o->handle, 1, msg);
}

/* ------------------------------------------------------------------ consumers, copies */

__attribute__((cold, noinline)) static void raise_shared_event(struct hb_proc *hp,
                                                               const struct replay_step *s,
                                                               const struct replay_object *ev,
                                                               const struct hb_obj *x)
{
    char me[LABEL], them[LABEL], rec[2 * LABEL], msg[1024];
    struct hb_who w = hb_who_of_step(hp->p, s);
    struct replay_thread *first = hb_find_thread(hp->p, x->consumer_tid);
    describe_record(hp, ev, rec, sizeof rec);
    const char *t1 = replay_string(hp->p, x->consumer_task), *t2 = replay_string(hp->p, s->task);
    snprintf(msg, sizeof msg,
             "The record of event 0x%" PRIx64 " (%s) was consumed by %s (task %s) and again by "
             "%s (task %s) at +%.6f s: whoever re-records or destroys it affects both.",
             ev->handle, rec,
             hb_thread_label(hp->p, x->consumer_tid, first ? first->name : 0, them, sizeof them),
             t1 ? t1 : "none", who_label(hp->p, &w, me, sizeof me), t2 ? t2 : "none",
             hb_seconds(hp->p, w.ts_ns));
    raise_as(hp, FK_SHARED_EVENT, &w, ev, ev->handle, 1, msg);
}

void races_consumed(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev)
{
    struct hb_obj *x = hb_obj_of(hp, ev);
    if (!x || races_consumer_note(x, ev, s))
        return;
    x->shared_raised = 1;
    raise_shared_event(hp, s, ev, x);
}

static void copy_drop_at(struct hb_obj *x, unsigned i)
{
    hb_timeline_unref(x->copies[i].tl);
    if (i + 1 < x->ncopies) /* mostly the last one: no libc call for nothing to move */
        memmove(&x->copies[i], &x->copies[i + 1], (x->ncopies - i - 1) * sizeof x->copies[0]);
    x->ncopies--;
}

static void raise_reuse(struct hb_proc *hp, const struct replay_step *s,
                        const struct replay_object *range, const struct hb_copy *earlier,
                        const struct hb_copy *now)
{
    char me[LABEL], them[LABEL], stream[LABEL], msg[1024];
    hb_describe_timeline(stream, sizeof stream, earlier->tl);
    snprintf(
        msg, sizeof msg,
        "%s started %s %s pinned range 0x%" PRIx64 " at +%.6f s while the earlier %s %s it "
        "(by %s on %s at +%.6f s) was not yet proven complete by any host-side synchronize "
        "(nor, for an upload, ordered before it on the streams): the copies, or the host's use "
        "of the buffer between them, can overlap and corrupt the data.",
        who_label(hp->p, &now->who, me, sizeof me), api_or(hp->p, now->who.api, "a copy"),
        now->writes ? "into" : "from", range->handle, hb_seconds(hp->p, now->who.ts_ns),
        api_or(hp->p, earlier->who.api, "copy"), earlier->writes ? "into" : "from",
        who_label(hp->p, &earlier->who, them, sizeof them), stream,
        hb_seconds(hp->p, earlier->who.ts_ns));
    (void)s;
    raise_as(hp, FK_PINNED_REUSE_WHILE_INFLIGHT, &now->who, range, range->handle, 1, msg);
}

/* Is the earlier copy safely behind the one just enqueued? Proven complete
 * by a host, always. An upload (it only read the range) also when it is
 * ahead in stream order or through a join (a stream wait, the legacy
 * stream's implicit synchronization): the device runs them in order. A
 * download needs the host's proof: until a host saw it complete nobody can
 * have read what it wrote, and a later copy overwrites or resends it. */
static int copy_ordered_before(const struct hb_copy *earlier, const struct hb_copy *now)
{
    if (earlier->pos <= earlier->tl->done)
        return 1;
    if (earlier->writes)
        return 0;
    if (earlier->tl == now->tl)
        return 1;
    return hb_clock_get(&now->tl->deps, earlier->tl) >= earlier->pos;
}

void races_copy(struct hb_proc *hp, const struct replay_step *s, struct replay_object *range,
                const struct hb_copy *copy)
{
    struct hb_obj *x = hb_obj_of(hp, range);
    if (!x)
        return;
    if (x->ncopies == 1 && copy_ordered_before(&x->copies[0], copy)) {
        /* mostly: the one earlier copy is behind this one, which takes its place */
        if (x->copies[0].tl != copy->tl) {
            hb_timeline_unref(x->copies[0].tl);
            hb_timeline_ref(copy->tl);
        }
        x->copies[0] = *copy;
        return;
    }
    int raised = 0;
    for (unsigned i = 0; i < x->ncopies;) {
        const struct hb_copy *c = &x->copies[i];
        if (copy_ordered_before(c, copy)) {
            copy_drop_at(x, i); /* whatever comes after the new copy is ordered after it too */
            continue;
        }
        /* Two uploads from the same buffer may send the same data: only a
         * copy that writes the host range makes an overlap a bug. */
        if (!raised && (c->writes || copy->writes)) {
            raise_reuse(hp, s, range, c, copy);
            raised = 1;
        }
        i++;
    }
    if (x->ncopies == HB_MAX_COPIES)
        copy_drop_at(x, 0);
    x->copies[x->ncopies++] = *copy;
    hb_timeline_ref(copy->tl);
}

/* ------------------------------------------------------------------ threads that stop */

static unsigned pending_events(struct hb_proc *hp)
{
    unsigned n = 0;
    for (struct replay_object *o = hp->p->objects[OBJ_EVENT]; o; o = o->hh.next) {
        const struct hb_obj *x = o->ext;
        if (o->live && x && x->record_serial && !hb_clock_complete(&x->snap))
            n++;
    }
    return n;
}

static void raise_poller_exited(struct hb_proc *hp, const struct hb_orphan *o, unsigned waiting,
                                const struct hb_poll *first)
{
    char me[LABEL], cause[512] = "", msg[1200], result[48];
    if (o->had_error)
        snprintf(cause, sizeof cause, "; before exiting it got %s from %s on 0x%" PRIx64 "%s",
                 hb_result_name(o->error_result, result, sizeof result),
                 api_or(hp->p, o->error_who.api, "a call"), o->error_handle,
                 o->error_state == HS_UNKNOWN     ? ", a handle no create returned"
                 : o->error_state == HS_DESTROYED ? ", a destroyed handle"
                                                  : "");
    snprintf(msg, sizeof msg,
             "%s exited at +%.6f s while %u event record(s) it polled or waited on had not "
             "been seen complete by any thread (first: 0x%" PRIx64 " with %s since +%.6f s)%s: "
             "whoever relied on it to finish that work may wait forever.",
             who_label(hp->p, &o->exit_who, me, sizeof me), hb_seconds(hp->p, o->exit_who.ts_ns),
             waiting, first->handle, api_or(hp->p, first->who.api, "a poll"),
             hb_seconds(hp->p, first->who.ts_ns), cause);
    struct hb_who w = o->exit_who;
    w.api = first->who.api;
    w.site = first->who.site;
    raise_as(hp, FK_POLLER_EXITED, &w, NULL, first->handle, 1, msg);
}

/* Waiting event polls of o (known events only, or unknown handles only);
 * its stream polls are judged at the end (never-completed) only. */
static unsigned orphan_waiting(const struct hb_orphan *o, int unknown, const struct hb_poll **first)
{
    unsigned waiting = 0;
    *first = NULL;
    for (unsigned i = 0; i < o->npolls; i++)
        if (o->polls[i].unknown == unknown && !o->polls[i].stream &&
            hb_poll_waiting(&o->polls[i])) {
            waiting++;
            if (!*first)
                *first = &o->polls[i];
        }
    return waiting;
}

void races_thread_exit(struct hb_proc *hp, const struct replay_step *s, struct replay_thread *t)
{
    struct hb_thread *ht = t->ext;
    if (!ht || !ht->npolls)
        return;
    struct hb_orphan *o = calloc(1, sizeof *o);
    if (!o)
        return;
    o->exit_who = hb_who_of_step(hp->p, s);
    for (unsigned i = 0; i < ht->npolls; i++) {
        if (hb_poll_waiting(&ht->polls[i])) {
            hb_poll_unshare(&ht->polls[i]);       /* an orphan outlives the event state */
            o->polls[o->npolls++] = ht->polls[i]; /* takes its snapshot */
        } else {
            hb_clock_clear(&ht->polls[i].snap);
        }
        memset(&ht->polls[i], 0, sizeof ht->polls[i]);
    }
    ht->npolls = 0;
    if (!o->npolls) {
        free(o);
        return;
    }
    o->had_error = ht->has_error;
    o->error_who = ht->error_who;
    o->error_result = ht->error_result;
    o->error_handle = ht->error_handle;
    o->error_state = ht->error_state;
    o->pending_events = pending_events(hp);
    o->next = hp->orphans;
    hp->orphans = o;
    /* Judged now: nobody had seen that work complete when it left. */
    const struct hb_poll *first = NULL;
    unsigned waiting = orphan_waiting(o, 0, &first);
    if (waiting) {
        o->judged = 1;
        raise_poller_exited(hp, o, waiting, first);
        diagnosis_poller_exited(hp, o, waiting);
    }
}

/* Did the process hang: a stall, a thread blocked at the end, a crash? */
static int process_hung(const struct hb_proc *hp)
{
    if (hp->p->crash.crashed)
        return 1;
    for (size_t i = 0; i < hp->nfacts; i++)
        if (hp->facts[i].kind == FACT_STALL || hp->facts[i].kind == FACT_BLOCKED ||
            hp->facts[i].kind == FACT_ORPHANED_STALL || hp->facts[i].kind == FACT_QUIET_STALL ||
            hp->facts[i].kind == FACT_PYSTACK)
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ never-completed */

/* The oldest work on tl no thread saw finish: a host function when one is
 * known, else the position after the proven ones. */
static void oldest_unfinished(struct hb_proc *hp, const struct hb_timeline *tl, char *buf,
                              size_t len)
{
    char stream[LABEL], who[LABEL];
    hb_describe_timeline(stream, sizeof stream, tl);
    const struct hb_who *oldest = NULL;
    uint64_t oldest_pos = 0;
    for (unsigned i = 0; i < tl->nhostfn; i++)
        if (tl->hostfn[i].pos > tl->done && (!oldest || tl->hostfn[i].pos < oldest_pos)) {
            oldest = &tl->hostfn[i].who;
            oldest_pos = tl->hostfn[i].pos;
        }
    if (oldest)
        snprintf(buf, len,
                 "the oldest unfinished work on %s is a host function enqueued by %s "
                 "at +%.6f s (operation %" PRIu64 " of %" PRIu64 ")",
                 stream, who_label(hp->p, oldest, who, sizeof who),
                 hb_seconds(hp->p, oldest->ts_ns), oldest_pos, tl->pos);
    else
        snprintf(buf, len,
                 "the oldest unfinished work on %s is operation %" PRIu64 " of %" PRIu64
                 " (the latest, %s by %s at +%.6f s)",
                 stream, tl->done + 1, tl->pos, api_or(hp->p, tl->last_op.api, "?"),
                 who_label(hp->p, &tl->last_op, who, sizeof who),
                 hb_seconds(hp->p, tl->last_op.ts_ns));
}

#define NC_MAX_WAITS 64

struct nc_wait {
    const struct hb_poll *poll;
    uint32_t tid, name;
};

static unsigned collect_waits(struct hb_proc *hp, struct nc_wait *w)
{
    unsigned n = 0;
    for (struct replay_thread *t = hp->p->threads; t; t = t->hh.next) {
        const struct hb_thread *ht = t->ext;
        for (unsigned i = 0; ht && i < ht->npolls && n < NC_MAX_WAITS; i++)
            if (!ht->polls[i].unknown && hb_poll_waiting(&ht->polls[i]))
                w[n++] = (struct nc_wait){&ht->polls[i], t->tid, t->name};
    }
    for (const struct hb_orphan *o = hp->orphans; o; o = o->next)
        for (unsigned i = 0; i < o->npolls && n < NC_MAX_WAITS; i++)
            if (!o->polls[i].unknown && hb_poll_waiting(&o->polls[i]))
                w[n++] = (struct nc_wait){&o->polls[i], o->exit_who.tid, o->exit_who.thread};
    return n;
}

static const struct hb_timeline *first_unproven(const struct hb_clock *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->e[i].pos > c->e[i].tl->done)
            return c->e[i].tl;
    return NULL;
}

static void raise_never_completed(struct hb_proc *hp, struct nc_wait *w, unsigned n, unsigned k)
{
    const struct hb_poll *q = w[k].poll;
    char waiters[600] = "", one[LABEL + 64], work[512] = "", msg[1600];
    size_t used = 0;
    for (unsigned j = k; j < n; j++) {
        const struct hb_poll *r = w[j].poll;
        if (r->serial != q->serial || r->record_serial != q->record_serial ||
            r->stream != q->stream || r->handle != q->handle)
            continue;
        char who[LABEL];
        snprintf(one, sizeof one, "%s%s (%s since +%.6f s)", used ? ", " : "",
                 hb_thread_label(hp->p, w[j].tid, w[j].name, who, sizeof who),
                 api_or(hp->p, r->who.api, "a poll"), hb_seconds(hp->p, r->who.ts_ns));
        if (used + strlen(one) < sizeof waiters)
            used += (size_t)snprintf(waiters + used, sizeof waiters - used, "%s", one);
    }
    const struct hb_timeline *tl = first_unproven(hb_poll_snap(q));
    if (tl)
        oldest_unfinished(hp, tl, work, sizeof work);
    snprintf(msg, sizeof msg,
             "%s 0x%" PRIx64 " was %s by %s, and no thread saw its %s complete before the "
             "process exited cleanly at +%.6f s%s%s: that work never finished, or nobody waited "
             "for it to.",
             q->stream ? "Stream" : "Event", q->handle, q->stream ? "polled" : "waited on", waiters,
             q->stream ? "work" : "record", hb_seconds(hp->p, hp->p->last_ts), *work ? "; " : "",
             work);
    struct hb_who who = q->who;
    who.tid = w[k].tid;
    who.thread = w[k].name;
    raise_as(hp, FK_NEVER_COMPLETED, &who, NULL, q->handle, 1, msg);
    char fact[1200];
    snprintf(fact, sizeof fact,
             "%s 0x%" PRIx64 ", %s by %s, was never seen complete before the clean exit%s%s",
             q->stream ? "stream" : "event", q->handle, q->stream ? "polled" : "waited on", waiters,
             *work ? "; " : "", work);
    hb_add_fact(hp, FACT_NEVER_COMPLETED, who.tid, hp->p->last_ts, fact);
}

/* A clean exit: every record some thread waited on and nobody saw complete. */
static void never_completed(struct hb_proc *hp)
{
    struct nc_wait w[NC_MAX_WAITS];
    unsigned n = collect_waits(hp, w);
    for (unsigned k = 0; k < n; k++) {
        int told = 0;
        for (unsigned j = 0; j < k && !told; j++)
            told = w[j].poll->serial == w[k].poll->serial &&
                   w[j].poll->stream == w[k].poll->stream &&
                   w[j].poll->handle == w[k].poll->handle &&
                   w[j].poll->record_serial == w[k].poll->record_serial;
        if (!told)
            raise_never_completed(hp, w, n, k);
    }
}

void races_process_end(struct hb_proc *hp)
{
    /* Oldest exit first (the list is newest first). */
    struct hb_orphan *rev = NULL;
    while (hp->orphans) {
        struct hb_orphan *o = hp->orphans;
        hp->orphans = o->next;
        o->next = rev;
        rev = o;
    }
    hp->orphans = rev;
    /* A poller whose only waits were on handles no create returned matters
     * only if the process hung: then it may be why. */
    python_hang_end(hp, process_hung(hp) || hp->orphans != NULL);
    int hung = process_hung(hp);
    for (struct hb_orphan *o = hp->orphans; o && hung; o = o->next) {
        const struct hb_poll *first = NULL;
        unsigned waiting = o->judged ? 0 : orphan_waiting(o, 1, &first);
        if (!waiting)
            continue;
        raise_poller_exited(hp, o, waiting, first);
        diagnosis_poller_exited(hp, o, waiting);
    }
    if (hp->p->complete)
        never_completed(hp);
}

/* ------------------------------------------------------------------ watchdog records */

/* The exited thread that polled `handle` and never saw it complete, if any. */
static const struct hb_orphan *orphan_polling(struct hb_proc *hp, uint64_t handle)
{
    const struct hb_orphan *with_error = NULL;
    for (const struct hb_orphan *o = hp->orphans; o; o = o->next) {
        for (unsigned i = 0; i < o->npolls; i++)
            if (!o->polls[i].unknown && !o->polls[i].stream && o->polls[i].handle == handle &&
                hb_poll_waiting(&o->polls[i]))
                return o;
        if (o->had_error && !with_error)
            with_error = o;
    }
    return with_error;
}

/* Calls the process made so far (the replay counts them per API). */
static uint64_t calls_so_far(const struct replay_process *p)
{
    uint64_t n = 0;
    for (uint32_t api = 0; api < p->api_count; api++)
        n += p->calls[api];
    return n;
}

/* CG_FLAG_ORPHANED: nobody is blocked, but the process has made no CUDA call
 * for arg2 ns while event `handle` (recorded by thread `arg`) has a record
 * no thread saw complete, and every thread that polled it has exited. */
static void orphaned_stall(struct hb_proc *hp, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    uint64_t since = r->ts_ns >= r->arg2 ? r->ts_ns - r->arg2 : 0;
    uint64_t calls = calls_so_far(hp->p);
    if (hp->orphan_stall_told && hp->orphan_stall_handle == r->handle &&
        hp->orphan_stall_calls == calls)
        return; /* the same silence, reported again by the watchdog */
    hp->orphan_stall_told = 1;
    hp->orphan_stall_handle = r->handle;
    hp->orphan_stall_calls = calls;
    struct replay_object *ev = NULL;
    HASH_FIND(hh, hp->p->objects[OBJ_EVENT], &r->handle, sizeof r->handle, ev);
    int known = ev && ev->live && ev->records;
    uint32_t rec_tid = known ? ev->record.tid : (uint32_t)r->arg;
    struct replay_thread *rt = hb_find_thread(hp->p, rec_tid);
    uint32_t rec_name = known ? ev->record.thread : rt ? rt->name : 0;
    uint32_t rec_task = known ? ev->record.task : replay_task_of(hp->p, rt);
    const char *task_name = replay_string(hp->p, rec_task);
    const struct hb_orphan *o = orphan_polling(hp, r->handle);
    char recorder[LABEL], poller[LABEL + 64], task[LABEL + 16] = "", msg[1200];
    hb_thread_label(hp->p, rec_tid, rec_name, recorder, sizeof recorder);
    if (task_name)
        snprintf(task, sizeof task, " (task %s)", task_name);
    if (o) {
        char who[LABEL];
        snprintf(poller, sizeof poller, "%s, which exited at +%.6f s",
                 who_label(hp->p, &o->exit_who, who, sizeof who),
                 hb_seconds(hp->p, o->exit_who.ts_ns));
    } else {
        snprintf(poller, sizeof poller, "threads that have exited");
    }
    snprintf(msg, sizeof msg,
             "The process made no CUDA call for %.3f s (since +%.6f s, when the watchdog checked "
             "at +%.6f s) while event 0x%" PRIx64 ", recorded by %s%s, was polled only by %s "
             "without seeing it complete: whoever waits for that work will wait forever.",
             (double)r->arg2 / 1e9, hb_seconds(hp->p, since), hb_seconds(hp->p, r->ts_ns),
             r->handle, recorder, task, poller);
    struct hb_who w = {
        .ts_ns = since,
        .tid = rec_tid,
        .thread = rec_name,
        .task = hp->task ? hp->task : rec_task,
        .site = 0,
        .api = r->api,
    };
    raise_as(hp, FK_STALL, &w, known ? ev : NULL, r->handle, 1, msg);
    const char *waiting = replay_string(hp->p, hp->task);
    diagnosis_orphaned_stall(hp, r, hp->task && hp->task != rec_task ? waiting : NULL);
}

/* Is the thread inside a blocking call or a poll loop, as the trace shows? */
static int thread_waiting(const struct replay_thread *t)
{
    if (!t)
        return 0;
    if (t->in_call)
        return 1;
    return t->has_last && (t->last.kind == CG_REC_SPIN || t->last.result == RESULT_NOT_READY);
}

void races_stall(struct hb_proc *hp, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    if ((r->flags & CG_FLAG_ORPHANED) && r->handle == 0) {
        python_hang_quiet_stall(hp, s);
        return;
    }
    if (r->flags & CG_FLAG_ORPHANED) {
        orphaned_stall(hp, s);
        return;
    }
    if (r->arg > UINT32_MAX)
        return;
    struct replay_thread *t = hb_find_thread(hp->p, (uint32_t)r->arg);
    if (!thread_waiting(t))
        return; /* the trace shows that thread idle: nothing it waits on */
    struct hb_thread *ht = hb_thread_of(t);
    uint64_t since = r->ts_ns >= r->arg2 ? r->ts_ns - r->arg2 : 0;
    const struct cg_record *cur = t && t->in_call ? &t->enter : t && t->has_last ? &t->last : NULL;
    uint64_t episode = cur ? cur->ts_ns : since;
    if (ht && ht->stall_handle == r->handle && ht->stall_since == episode)
        return; /* the same stall, reported again by the watchdog */
    if (ht) {
        ht->stall_handle = r->handle;
        ht->stall_since = episode;
    }
    char me[LABEL], what[512], cause[512], msg[1200];
    struct hb_who w = {
        .ts_ns = since,
        .tid = (uint32_t)r->arg,
        .thread = t ? t->name : 0,
        .task = replay_task_of(hp->p, t),
        .site = cur ? cur->site : 0,
        .api = r->api,
    };
    diagnosis_waited_on(hp, r->api, r->handle, cur ? cur->flags : 0, w.tid, what, sizeof what,
                        cause, sizeof cause);
    snprintf(msg, sizeof msg,
             "%s had been stuck in %s for %.3f s (since +%.6f s) when the watchdog checked at "
             "+%.6f s, waiting on %s%s.",
             who_label(hp->p, &w, me, sizeof me), api_or(hp->p, r->api, "a blocking call"),
             (double)r->arg2 / 1e9, hb_seconds(hp->p, since), hb_seconds(hp->p, r->ts_ns), what,
             cause);
    raise_as(hp, FK_STALL, &w, NULL, r->handle, 1, msg);
    diagnosis_stall(hp, t, r);
}

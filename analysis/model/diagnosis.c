/*
 * analysis/model/diagnosis.c — the chain of events that explains a hang, for the
 * top of the report.
 *
 * What it is for: when a run has a stall, a blocked-at-exit or a
 * poller-exited, each of them becomes a fact with what caused it (the
 * error a thread got before it exited; the event a blocked thread waited
 * on, who recorded it on which stream, and the oldest work on that stream
 * nobody saw finish, such as a host function that never returned). The
 * facts of a process, in time order, are the chain: "thread 12 "watcher"
 * got CUDA_ERROR_INVALID_HANDLE from cuEventQuery on 0x.., a handle no
 * create returned, then exited ...; then thread 11 "main" waited ...".
 *
 * What it must never do: invent a cause the trace does not show, or grow
 * past HB_MAX_FACTS facts per process.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/cuda_errors.h"
#include "analysis/model/hb_model.h"
#include "analysis/base/signal_names.h"

#define LABEL 160

static enum api_op op_of(const struct replay_process *p, uint16_t api)
{
    return api < p->api_count ? p->ops[api] : OP_OTHER;
}

static const char *api_or(const struct replay_process *p, uint16_t api, const char *fallback)
{
    const char *name = replay_api_name(p, api);
    return name && *name ? name : fallback;
}

/* "; its oldest work no thread saw finish is a host function ..." */
static void timeline_cause(struct hb_proc *hp, const struct hb_timeline *tl, char *buf, size_t len)
{
    buf[0] = '\0';
    if (!tl || !hb_timeline_busy(tl))
        return;
    char who[LABEL];
    const struct hb_who *oldest = NULL;
    uint64_t oldest_pos = UINT64_MAX;
    for (unsigned i = 0; i < tl->nhostfn; i++)
        if (tl->hostfn[i].pos > tl->done && tl->hostfn[i].pos < oldest_pos) {
            oldest_pos = tl->hostfn[i].pos;
            oldest = &tl->hostfn[i].who;
        }
    if (oldest)
        snprintf(buf, len,
                 "; the oldest work on that stream no thread saw finish is a host function "
                 "(%s by %s at +%.6f s), which never returned as far as the trace shows",
                 api_or(hp->p, oldest->api, "cuLaunchHostFunc"),
                 hb_thread_label(hp->p, oldest->tid, oldest->thread, who, sizeof who),
                 hb_seconds(hp->p, oldest->ts_ns));
    else
        snprintf(buf, len,
                 "; %" PRIu64 " operation(s) on that stream were never seen to finish (the latest, "
                 "%s by %s at +%.6f s)",
                 tl->pos - tl->done, api_or(hp->p, tl->last_op.api, "?"),
                 hb_thread_label(hp->p, tl->last_op.tid, tl->last_op.thread, who, sizeof who),
                 hb_seconds(hp->p, tl->last_op.ts_ns));
}

static void event_waited_on(struct hb_proc *hp, uint64_t handle, char *buf, size_t len, char *cause,
                            size_t cause_len)
{
    struct replay_object *ev = NULL;
    HASH_FIND(hh, hp->p->objects[OBJ_EVENT], &handle, sizeof handle, ev);
    char who[LABEL], stream[LABEL];
    if (!ev) {
        snprintf(buf, len, "0x%" PRIx64 ", a handle no create returned", handle);
        return;
    }
    if (!ev->live) {
        snprintf(buf, len, "event 0x%" PRIx64 ", destroyed by %s at +%.6f s", handle,
                 hb_thread_label(hp->p, ev->destroyed.tid, ev->destroyed.thread, who, sizeof who),
                 hb_seconds(hp->p, ev->destroyed.ts_ns));
        return;
    }
    const struct hb_obj *x = ev->ext;
    if (!ev->records || !x) {
        snprintf(buf, len, "event 0x%" PRIx64 " (never recorded)", handle);
        return;
    }
    hb_describe_timeline(stream, sizeof stream, x->rec_tl);
    timeline_cause(hp, x->rec_tl, cause, cause_len);
    snprintf(buf, len, "event 0x%" PRIx64 " (recorded by %s on %s at +%.6f s)", handle,
             hb_thread_label(hp->p, ev->record.tid, ev->record.thread, who, sizeof who), stream,
             hb_seconds(hp->p, ev->record.ts_ns));
}

static const struct hb_timeline *stream_timeline(struct hb_proc *hp, uint64_t handle, uint8_t flags,
                                                 uint32_t tid)
{
    enum stream_kind kind = STREAM_CREATED;
    if ((handle == 0 && (flags & CG_FLAG_PTSZ)) || handle == 2)
        kind = STREAM_PER_THREAD; /* CU_STREAM_PER_THREAD */
    else if (handle == 0 || handle == 1)
        kind = STREAM_LEGACY; /* CU_STREAM_LEGACY */
    if (kind == STREAM_LEGACY)
        return hp->legacy;
    if (kind == STREAM_PER_THREAD) {
        struct replay_thread *t = hb_find_thread(hp->p, tid);
        const struct hb_thread *ht = t ? t->ext : NULL;
        return ht ? ht->ptsz : NULL;
    }
    struct replay_object *st = NULL;
    HASH_FIND(hh, hp->p->objects[OBJ_STREAM], &handle, sizeof handle, st);
    return st && st->ext ? ((const struct hb_obj *)st->ext)->tl : NULL;
}

void diagnosis_waited_on(struct hb_proc *hp, uint16_t api, uint64_t handle, uint8_t flags,
                         uint32_t tid, char *buf, size_t len, char *cause, size_t cause_len)
{
    const struct hb_timeline *tl;
    cause[0] = '\0';
    switch (op_of(hp->p, api)) {
    case OP_EVENT_QUERY:
    case OP_EVENT_SYNC:
    case OP_EVENT_DESTROY:
        event_waited_on(hp, handle, buf, len, cause, cause_len);
        return;
    case OP_STREAM_QUERY:
    case OP_STREAM_SYNC:
    case OP_STREAM_DESTROY:
        tl = stream_timeline(hp, handle, flags, tid);
        if (!tl) {
            snprintf(buf, len, "stream 0x%" PRIx64, handle);
            return;
        }
        hb_describe_timeline(buf, len, tl);
        timeline_cause(hp, tl, cause, cause_len);
        return;
    case OP_CTX_SYNC:
    case OP_PINNED_FREE:
        for (tl = hp->timelines; tl; tl = tl->next)
            if (hb_timeline_busy(tl))
                break;
        snprintf(buf, len, "every stream of the context");
        if (tl) {
            char stream[LABEL];
            hb_describe_timeline(stream, sizeof stream, tl);
            size_t used = strlen(buf);
            snprintf(buf + used, len - used, ", among them %s", stream);
            timeline_cause(hp, tl, cause, cause_len);
        }
        return;
    default:
        snprintf(buf, len, "0x%" PRIx64, handle);
    }
}

void diagnosis_blocked(struct hb_proc *hp, const struct finding_input *in)
{
    struct replay_thread *t = hb_find_thread(hp->p, in->tid);
    if (!t)
        return;
    const struct cg_record *rec = t->in_call ? &t->enter : &t->last;
    char me[LABEL], what[512], cause[512], text[2048];
    uint64_t end = hp->p->last_ts;
    double waited = end > rec->ts_ns ? (double)(end - rec->ts_ns) / 1e9 : 0.0;
    for (size_t i = 0; i < hp->nfacts; i++) {
        struct hb_fact *f = &hp->facts[i];
        if (f->kind == FACT_STALL && f->tid == t->tid && f->ts_ns == rec->ts_ns) {
            size_t used = strlen(f->text);
            snprintf(f->text + used, sizeof f->text - used,
                     ", and was still there when the trace ended at +%.6f s (%.3f s), when the "
                     "process was killed or crashed",
                     hb_seconds(hp->p, end), waited);
            return; /* the watchdog already told this wait */
        }
    }
    diagnosis_waited_on(hp, rec->api, rec->handle, rec->flags, t->tid, what, sizeof what, cause,
                        sizeof cause);
    snprintf(text, sizeof text,
             "%s was %s %s on %s from +%.6f s until the trace ended at +%.6f s (%.3f s), when "
             "the process was killed or crashed%s",
             hb_thread_label(hp->p, t->tid, t->name, me, sizeof me),
             t->in_call ? "blocked in" : "polling with", api_or(hp->p, rec->api, "a call"), what,
             hb_seconds(hp->p, rec->ts_ns), hb_seconds(hp->p, end), waited, cause);
    hb_add_fact(hp, FACT_BLOCKED, t->tid, rec->ts_ns, text);
}

void diagnosis_stall(struct hb_proc *hp, struct replay_thread *t, const struct cg_record *stall)
{
    char me[LABEL], what[512], cause[512], text[2048];
    uint32_t tid = (uint32_t)stall->arg;
    const struct cg_record *cur = t && t->in_call ? &t->enter : t && t->has_last ? &t->last : NULL;
    diagnosis_waited_on(hp, stall->api, stall->handle, cur ? cur->flags : 0, tid, what, sizeof what,
                        cause, sizeof cause);
    uint64_t since = stall->ts_ns >= stall->arg2 ? stall->ts_ns - stall->arg2 : 0;
    uint64_t began = cur ? cur->ts_ns : since; /* the wait's own record, to match blocked-at-exit */
    snprintf(text, sizeof text, "%s was stuck in %s on %s for %.3f s from +%.6f s (watchdog)%s",
             hb_thread_label(hp->p, tid, t ? t->name : 0, me, sizeof me),
             api_or(hp->p, stall->api, "a blocking call"), what, (double)stall->arg2 / 1e9,
             hb_seconds(hp->p, since), cause);
    hb_add_fact(hp, FACT_STALL, tid, began, text);
}

void diagnosis_poller_exited(struct hb_proc *hp, const struct hb_orphan *o, unsigned waiting)
{
    char me[LABEL], cause[700] = "", text[1400], result[48], test[LABEL + 16] = "";
    char where[LABEL + 16] = "";
    const char *task = replay_string(hp->p, o->had_error ? o->error_who.task : o->exit_who.task);
    if (task)
        snprintf(test, sizeof test, "in test %s, ", task);
    if (o->had_error)
        diagnosis_python_site(hp->p, o->error_who.site, where, sizeof where);
    if (o->had_error)
        snprintf(cause, sizeof cause, "got %s from %s on 0x%" PRIx64 "%s%s at +%.6f s, then ",
                 hb_result_name(o->error_result, result, sizeof result),
                 api_or(hp->p, o->error_who.api, "a call"), o->error_handle,
                 o->error_state == HS_UNKNOWN     ? " (a handle no create returned)"
                 : o->error_state == HS_DESTROYED ? " (a destroyed handle)"
                                                  : "",
                 where, hb_seconds(hp->p, o->error_who.ts_ns));
    char others[160] = "";
    if (o->pending_events)
        snprintf(others, sizeof others,
                 "; %u recorded event(s) of the process were then still "
                 "not seen complete",
                 o->pending_events);
    snprintf(text, sizeof text,
             "%s%s %sexited at +%.6f s while %u event record(s) it polled were never seen "
             "complete%s",
             test, hb_thread_label(hp->p, o->exit_who.tid, o->exit_who.thread, me, sizeof me),
             cause, hb_seconds(hp->p, o->exit_who.ts_ns), waiting, others);
    hb_add_fact(hp, FACT_POLLER_EXITED, o->exit_who.tid,
                o->had_error ? o->error_who.ts_ns : o->exit_who.ts_ns, text);
}

/* The fact of an orphaned stall found by the same watchdog check (one tick
 * reports every orphaned event at once), or NULL. */
static struct hb_fact *same_check_stall(struct hb_proc *hp, const struct cg_record *stall)
{
    for (size_t i = hp->nfacts; i-- > 0;)
        if (hp->facts[i].kind == FACT_ORPHANED_STALL && hp->facts[i].ts_ns == stall->ts_ns &&
            hp->facts[i].tid == (uint32_t)stall->arg)
            return &hp->facts[i];
    return NULL;
}

/* Adds one more event to the list that closes an orphaned-stall fact:
 * "... (event 0xA)" becomes "... (events 0xA, 0xB)". */
static void add_stalled_event(struct hb_fact *f, uint64_t handle)
{
    char *open = strrchr(f->text, '(');
    size_t len = strlen(f->text);
    if (!open || len < 2 || f->text[len - 1] != ')')
        return;
    char list[256];
    const char *first = "(event ";
    if (!strncmp(open, first, strlen(first)))
        snprintf(list, sizeof list, "(events %.*s",
                 (int)(len - 1 - (size_t)(open - f->text) - strlen(first)), open + strlen(first));
    else
        snprintf(list, sizeof list, "%.*s", (int)(len - 1 - (size_t)(open - f->text)), open);
    size_t room = sizeof f->text - (size_t)(open - f->text);
    snprintf(open, room, "%s, 0x%" PRIx64 ")", list, handle);
}

void diagnosis_orphaned_stall(struct hb_proc *hp, const struct cg_record *stall,
                              const char *waiting_task)
{
    struct hb_fact *earlier = same_check_stall(hp, stall);
    if (earlier) {
        add_stalled_event(earlier, stall->handle);
        return;
    }
    char text[1024], who[LABEL + 32];
    if (waiting_task)
        snprintf(who, sizeof who, "test %s", waiting_task);
    else
        snprintf(who, sizeof who, "the process");
    snprintf(text, sizeof text,
             "the process then made no CUDA call for %.3f s (watchdog at +%.6f s): %s was "
             "waiting for work nobody would ever see complete (event 0x%" PRIx64 ")",
             (double)stall->arg2 / 1e9, hb_seconds(hp->p, stall->ts_ns), who, stall->handle);
    struct hb_fact *f =
        hb_add_fact(hp, FACT_ORPHANED_STALL, (uint32_t)stall->arg, stall->ts_ns, text);
    if (f)
        f->no_then = 1;
}

void diagnosis_crash(struct hb_proc *hp)
{
    const struct replay_crash *c = &hp->p->crash;
    if (!c->crashed)
        return;
    char sig[24], me[LABEL], test[LABEL + 16] = "", cause[LABEL + 96] = "", text[1024];
    const char *task = replay_string(hp->p, c->who.task);
    if (task)
        snprintf(test, sizeof test, " in test %s", task);
    if (c->state == HS_UNKNOWN)
        snprintf(cause, sizeof cause, ": that handle was never returned by a create call");
    else if (c->state == HS_DESTROYED && c->has_destroyed)
        snprintf(cause, sizeof cause, ": that handle had been destroyed by %s at +%.6f s",
                 hb_thread_label(hp->p, c->destroyed.tid, c->destroyed.thread, me, sizeof me),
                 hb_seconds(hp->p, c->destroyed.ts_ns));
    else if (c->state == HS_DESTROYED)
        snprintf(cause, sizeof cause, ": that handle had been destroyed");
    snprintf(text, sizeof text,
             "the process crashed with %s inside %s(0x%" PRIx64 ") called by %s%s at +%.6f s%s",
             signal_name(c->signal, sig, sizeof sig), api_or(hp->p, c->who.api, "a driver call"),
             c->handle, hb_thread_label(hp->p, c->who.tid, c->who.thread, me, sizeof me), test,
             hb_seconds(hp->p, c->who.ts_ns), cause);
    hb_add_fact(hp, FACT_CRASH, c->who.tid, c->who.ts_ns, text);
}

static int fact_before(const void *a, const void *b)
{
    const struct hb_fact *x = a, *y = b;
    if ((x->kind == FACT_CRASH) != (y->kind == FACT_CRASH))
        return x->kind == FACT_CRASH ? -1 : 1; /* the crash leads */
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return (int)x->kind - (int)y->kind;
}

void diagnosis_collect(struct hb_model *m, struct hb_proc *hp)
{
    if (!hp->nfacts)
        return;
    qsort(hp->facts, hp->nfacts, sizeof hp->facts[0], fact_before);
    char **grown = realloc(m->diagnosis, (m->ndiagnosis + hp->nfacts) * sizeof *grown);
    if (!grown)
        return;
    m->diagnosis = grown;
    for (size_t i = 0; i < hp->nfacts; i++) {
        size_t len = strlen(hp->facts[i].text) + 64;
        char *line = malloc(len);
        if (!line)
            continue;
        const struct hb_fact *f = &hp->facts[i];
        int after_crash = i == 1 && hp->facts[0].kind == FACT_CRASH;
        if (i == 0)
            snprintf(line, len, "pid %" PRIu32 ": %s.", hp->p->hdr->pid, f->text);
        else if (after_crash)
            snprintf(line, len, "how it came to that: %s.", f->text);
        else
            snprintf(line, len, "%s%s.", f->no_then ? "" : "then ", f->text);
        m->diagnosis[m->ndiagnosis++] = line;
    }
}

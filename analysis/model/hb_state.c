/*
 * analysis/model/hb_state.c — the happens-before model's shared state helpers:
 * who did a step, the per-thread and per-object model state, poll state,
 * labels and times for messages, diagnosis facts.
 *
 * What it is for: the one layer hb_model.c (the model), races.c (the
 * findings) and diagnosis.c (the chain) all read, so that data flows one
 * way between them: model -> findings -> diagnosis, each calling only
 * downward and into this file.
 *
 * What it must never do: call the model, the findings or the diagnosis.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/cuda_errors.h"
#include "analysis/model/hb_model.h"
#include "analysis/base/signal_names.h"

struct hb_who hb_who_of_step(const struct replay_process *p, const struct replay_step *s)
{
    (void)p;
    struct hb_who w = {
        .ts_ns = s->enter ? s->enter->ts_ns : s->rec->ts_ns,
        .tid = s->rec->tid,
        .thread = s->thread ? s->thread->name : 0,
        .task = s->task,
        .site = s->rec->site,
        .api = s->rec->api,
    };
    return w;
}

struct hb_thread *hb_thread_of(struct replay_thread *t)
{
    if (!t)
        return NULL;
    if (!t->ext)
        t->ext = calloc(1, sizeof(struct hb_thread));
    return t->ext;
}

struct hb_obj *hb_obj_of(struct hb_proc *hp, struct replay_object *o)
{
    if (!o)
        return NULL;
    if (o->ext)
        return o->ext;
    if (hp->nspare)
        return hb_obj_from_spare(hp, o);
    o->ext = calloc(1, sizeof(struct hb_obj));
    return o->ext;
}

struct replay_thread *hb_find_thread(struct replay_process *p, uint32_t tid)
{
    struct replay_thread *t = NULL;
    HASH_FIND(hh, p->threads, &tid, sizeof tid, t);
    return t;
}

const struct hb_clock *hb_poll_snap(const struct hb_poll *poll)
{
    return poll->shares ? &poll->shares->snap : &poll->snap;
}

int hb_poll_waiting(const struct hb_poll *poll)
{
    return poll->unknown || !hb_clock_complete(hb_poll_snap(poll));
}

void hb_poll_unshare(struct hb_poll *poll)
{
    if (!poll->shares)
        return;
    hb_clock_copy(&poll->snap, &poll->shares->snap);
    poll->shares = NULL;
}

const char *hb_thread_label(const struct replay_process *p, uint32_t tid, uint32_t name, char *buf,
                            size_t len)
{
    const char *n = replay_string(p, name);
    if (n)
        snprintf(buf, len, "thread %" PRIu32 " \"%s\"", tid, n);
    else
        snprintf(buf, len, "thread %" PRIu32, tid);
    return buf;
}

double hb_seconds(const struct replay_process *p, uint64_t ts_ns)
{
    uint64_t start = p->hdr->start_mono_ns;
    return ts_ns >= start ? (double)(ts_ns - start) / 1e9 : 0.0;
}

void hb_describe_timeline(char *buf, size_t len, const struct hb_timeline *tl)
{
    if (!tl)
        snprintf(buf, len, "an unknown stream");
    else if (tl->kind == STREAM_LEGACY)
        snprintf(buf, len, "the legacy default stream");
    else if (tl->kind == STREAM_PER_THREAD)
        snprintf(buf, len, "the per-thread default stream of thread %" PRIu32, tl->owner);
    else
        snprintf(buf, len, "stream 0x%" PRIx64, tl->handle);
}

struct hb_fact *hb_add_fact(struct hb_proc *hp, enum hb_fact_kind kind, uint32_t tid,
                            uint64_t ts_ns, const char *text)
{
    if (hp->nfacts >= HB_MAX_FACTS && kind != FACT_CRASH)
        return NULL;
    struct hb_fact *f = &hp->facts[hp->nfacts < HB_MAX_FACTS ? hp->nfacts++ : HB_MAX_FACTS - 1];
    f->kind = kind;
    f->ts_ns = ts_ns;
    f->tid = tid;
    f->no_then = 0;
    snprintf(f->text, sizeof f->text, "%s", text);
    return f;
}

const char *hb_result_name(int32_t result, char *buf, size_t len)
{
    if (!CG_RESULT_IS_CRASH(result))
        return cuda_error_name(result);
    char sig[24];
    snprintf(buf, len, "a crash (%s)",
             signal_name(CG_RESULT_CRASH_SIGNAL(result), sig, sizeof sig));
    return buf;
}

/*
 * analysis/replay/interventions.c — count and describe the policies' interventions.
 *
 * What it is for: the implementation of analysis/replay/interventions.h. Besides
 * the POLICY records it follows, per process and created stream, the calls
 * enqueued since the last host-side proof of completion (a stream
 * synchronize or successful query, a context synchronize, cuMemFreeHost),
 * so a drain can say what the finished task had left on the stream.
 *
 * What it must never do: change the replay's state, print unsanitised
 * trace strings, or grow without bound (notes are capped; the pending table
 * holds one small entry per live stream that had work, forgotten when the
 * stream is destroyed or its process ends), or allocate per record.
 */
#include "analysis/replay/interventions.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "analysis/base/api_ops.h"
#include "analysis/base/text_safe.h"
#include "tracer/format.h"

#define PENDING_RING 32u /* calls remembered per stream, newest kept */
#define PENDING_APIS 4
#define PENDING_MARKS 8u     /* event records per stream whose completion is followed */
#define HELD_RELEASED 0x200u /* CG_POLICY_RELEASED.arg2: a CG_POLICY_HELD object */

struct pending_key {
    uint64_t process; /* no padding: the key is hashed as bytes */
    uint64_t handle;  /* the stream */
};

struct pending_call {
    uint64_t seq;
    uint16_t api; /* api id in the process's header table */
};

/* Where an event's record is in its stream's sequence. */
struct event_mark {
    uint64_t event;
    uint64_t seq;
};

struct pending_on_stream {
    struct pending_key key;
    uint64_t seq;      /* calls enqueued so far */
    uint64_t done_seq; /* calls up to this one are proven complete */
    struct pending_call ring[PENDING_RING];
    /* the newest records on it not yet proven complete, oldest first */
    struct event_mark marks[PENDING_MARKS];
    unsigned nmarks;
    UT_hash_handle hh;
};

static void add_note(struct interventions *iv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void add_note(struct interventions *iv, const char *fmt, ...)
{
    if (iv->nnotes == INTERVENTION_NOTES_MAX) {
        iv->notes_dropped++;
        return;
    }
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    text_make_printable(line);
    char *copy = strdup(line);
    if (copy != NULL)
        iv->notes[iv->nnotes++] = copy;
}

/* ---- what is pending on each stream ---- */

static struct pending_key key_of(int process, uint64_t handle)
{
    struct pending_key key = {(uint64_t)process, handle};
    return key;
}

static __attribute__((noinline)) struct pending_on_stream *
pending_find_slow(struct interventions *iv, struct pending_key key, int create)
{
    struct pending_on_stream *e = NULL;
    HASH_FIND(hh, iv->pending, &key, sizeof key, e);
    if (e == NULL && create) {
        e = calloc(1, sizeof *e);
        if (e != NULL) {
            e->key = key;
            HASH_ADD(hh, iv->pending, key, sizeof key, e);
        }
    }
    if (e != NULL)
        iv->pending_cache[replay_cache_slot(key.handle)] = e;
    return e;
}

/* The cache hit inline (most calls), the table out of line. */
static inline __attribute__((always_inline)) struct pending_on_stream *
pending_find(struct interventions *iv, int process, uint64_t stream, int create)
{
    struct pending_on_stream *e = iv->pending_cache[replay_cache_slot(stream)];
    if (e != NULL && e->key.handle == stream && e->key.process == (uint64_t)process)
        return e;
    return pending_find_slow(iv, key_of(process, stream), create);
}

/* The stream is gone (destroyed, or its process ended): a new stream at
 * the same handle value starts afresh. */
static void pending_forget(struct interventions *iv, struct pending_on_stream *e)
{
    if (e == NULL)
        return;
    struct pending_on_stream **slot = &iv->pending_cache[replay_cache_slot(e->key.handle)];
    if (*slot == e)
        *slot = NULL;
    HASH_DEL(iv->pending, e);
    free(e);
}

/* Everything enqueued on the stream so far is proven complete. */
static void pending_done(struct pending_on_stream *e)
{
    if (e != NULL)
        e->done_seq = e->seq;
}

static void pending_done_process(struct interventions *iv, int process)
{
    for (struct pending_on_stream *e = iv->pending; e != NULL; e = e->hh.next)
        if (e->key.process == (uint64_t)process)
            pending_done(e);
}

/* An event record enqueued as call `seq` of the stream: keep the marks
 * still unproven, minus an earlier record of this event. Out of line: the
 * common enqueue (a copy, a launch) stays a leaf. */
static __attribute__((noinline)) void pending_mark(struct pending_on_stream *e, uint64_t event)
{
    unsigned kept = 0;
    for (unsigned i = 0; i < e->nmarks; i++)
        if (e->marks[i].seq > e->done_seq && e->marks[i].event != event)
            e->marks[kept++] = e->marks[i];
    if (kept == PENDING_MARKS) { /* forget the oldest */
        memmove(&e->marks[0], &e->marks[1], (PENDING_MARKS - 1) * sizeof e->marks[0]);
        kept--;
    }
    e->marks[kept].event = event;
    e->marks[kept].seq = e->seq;
    e->nmarks = kept + 1;
}

static inline __attribute__((always_inline)) void
pending_add(struct interventions *iv, struct replay_process *p, const struct replay_step *s)
{
    struct pending_on_stream *e = pending_find(iv, p->index, s->stream.handle, 1);
    if (e == NULL)
        return;
    struct pending_call *c = &e->ring[e->seq % PENDING_RING];
    c->seq = ++e->seq;
    c->api = s->rec->api;
    if (s->op != OP_EVENT_RECORD)
        return;
    if (e->nmarks == 0) { /* the common case: the stream's earlier records were seen done */
        e->marks[0].event = s->rec->handle;
        e->marks[0].seq = e->seq;
        e->nmarks = 1;
        return;
    }
    pending_mark(e, s->rec->handle);
}

/* The event's record was seen complete: so was the stream's work up to it. */
static void mark_complete(struct pending_on_stream *e, uint64_t event)
{
    for (unsigned i = 0; i < e->nmarks; i++) {
        if (e->marks[i].event != event)
            continue;
        if (e->done_seq < e->marks[i].seq)
            e->done_seq = e->marks[i].seq;
        e->marks[i] = e->marks[--e->nmarks];
        return;
    }
}

/* event_complete when the stream is not in the cache: out of line, so
 * that the common case stays a leaf. */
static __attribute__((noinline)) void event_complete_slow(struct interventions *iv,
                                                          struct replay_process *p,
                                                          const struct replay_object *ev)
{
    struct pending_on_stream *e =
        pending_find_slow(iv, key_of(p->index, ev->record_stream.handle), 0);
    if (e != NULL)
        mark_complete(e, ev->handle);
}

/* The event's latest record was seen complete: so was its stream's work
 * up to that record. */
static void event_complete(struct interventions *iv, struct replay_process *p,
                           const struct replay_object *ev)
{
    if (ev == NULL || ev->record_stream.kind != STREAM_CREATED)
        return;
    uint64_t stream = ev->record_stream.handle;
    struct pending_on_stream *e = iv->pending_cache[replay_cache_slot(stream)];
    if (e != NULL && e->key.handle == stream && e->key.process == (uint64_t)p->index)
        mark_complete(e, ev->handle);
    else
        event_complete_slow(iv, p, ev);
}

/* A call that returned success: only those prove or enqueue anything. */
static int succeeded(const struct replay_step *s)
{
    return s->rec->result == 0 && s->phase != PHASE_ENTER && s->phase != PHASE_SPIN;
}

static int on_created_stream(const struct replay_step *s)
{
    return s->has_stream && s->stream.kind == STREAM_CREATED;
}

/* Hook: work enqueued on a created stream (a plain CALL: a blocking call's
 * EXIT enqueues nothing more). */
static void step_enqueue(void *user, struct replay_process *p, const struct replay_step *s)
{
    if (s->rec->result == 0 && s->phase == PHASE_CALL && on_created_stream(s))
        pending_add(user, p, s);
}

/* Hook: an event query or synchronize that saw the event complete. */
static void step_observed(void *user, struct replay_process *p, const struct replay_step *s)
{
    if (succeeded(s))
        event_complete(user, p, s->obj);
}

/* Hook: the synchronizes that prove streams complete, and stream destroys. */
static void step_proof(void *user, struct replay_process *p, const struct replay_step *s)
{
    struct interventions *iv = user;
    if (!succeeded(s))
        return;
    int created = on_created_stream(s);
    switch (s->op) {
    case OP_STREAM_SYNC:
    case OP_STREAM_QUERY:
        if (created)
            pending_done(pending_find(iv, p->index, s->stream.handle, 0));
        break;
    case OP_CTX_SYNC:
    case OP_PINNED_FREE:
        pending_done_process(iv, p->index);
        break;
    case OP_STREAM_DESTROY:
        if (created)
            pending_forget(iv, pending_find(iv, p->index, s->stream.handle, 0));
        break;
    default:
        break;
    }
}

/* What is pending on a stream is only ever told by a drain, and only the
 * isolate policy drains: a process whose header says isolate was off has
 * the three hooks below not called at all (the replay asks once per
 * process). A header that says nothing (an older writer) keeps them. */
static void *pending_user(void *user, struct replay_process *p)
{
    uint32_t policies = p->hdr->policies;
    int may_drain = !(policies & CG_HDR_POLICIES_KNOWN) || (policies & CG_HDR_POLICY_ISOLATE);
    return may_drain ? user : NULL;
}

/* hooks[i] calling `fn` for each op in `ops` (one bit per op), while
 * pending_user says so. */
static void pending_hook(struct replay_hooks *h, struct interventions *iv, uint32_t ops,
                         void (*fn)(void *, struct replay_process *, const struct replay_step *))
{
    *h = (struct replay_hooks){.user = iv, .step_mask = ops, .step = fn, .step_user = pending_user};
    for (unsigned op = 0; op < OP_COUNT; op++)
        if (ops & REPLAY_WANTS_OP(op))
            h->step_op[op] = fn;
}

int interventions_call_hooks(struct interventions *iv, struct replay_hooks *hooks)
{
    pending_hook(&hooks[0], iv,
                 REPLAY_WANTS_OP(OP_STREAM_WORK) | REPLAY_WANTS_OP(OP_EVENT_RECORD) |
                     REPLAY_WANTS_OP(OP_STREAM_WAIT_EVENT),
                 step_enqueue);
    pending_hook(&hooks[1], iv, REPLAY_WANTS_OP(OP_EVENT_QUERY) | REPLAY_WANTS_OP(OP_EVENT_SYNC),
                 step_observed);
    pending_hook(&hooks[2], iv,
                 REPLAY_WANTS_OP(OP_STREAM_SYNC) | REPLAY_WANTS_OP(OP_STREAM_QUERY) |
                     REPLAY_WANTS_OP(OP_CTX_SYNC) | REPLAY_WANTS_OP(OP_PINNED_FREE) |
                     REPLAY_WANTS_OP(OP_STREAM_DESTROY),
                 step_proof);
    return INTERVENTIONS_CALL_HOOKS;
}

void interventions_process_end(struct interventions *iv, const struct replay_process *p)
{
    uint64_t process = (uint64_t)p->index;
    struct pending_on_stream *e, *etmp;
    HASH_ITER(hh, iv->pending, e, etmp)
    if (e->key.process == process)
        pending_forget(iv, e);
}

/* "N call(s) not proven complete: api xN, ..." for the drained stream. */
static void describe_pending(const struct replay_process *p, const struct pending_on_stream *e,
                             char *out, size_t len)
{
    uint64_t n = e != NULL ? e->seq - e->done_seq : 0;
    if (n == 0) {
        snprintf(out, len, "nothing the trace shows");
        return;
    }
    char names[PENDING_APIS][40] = {{0}};
    uint64_t counts[PENDING_APIS] = {0};
    for (uint64_t seq = e->done_seq + 1; seq <= e->seq; seq++) {
        const struct pending_call *c = &e->ring[(seq - 1) % PENDING_RING];
        if (c->seq != seq)
            continue; /* older than the ring remembers */
        char api[40];
        api_base_name(replay_api_name(p, c->api), api, sizeof api);
        for (int i = 0; i < PENDING_APIS; i++) {
            if (names[i][0] == '\0')
                snprintf(names[i], sizeof names[i], "%s", api);
            if (strcmp(names[i], api) == 0) {
                counts[i]++;
                break;
            }
        }
    }
    int w = snprintf(out, len, "%" PRIu64 " call(s) not proven complete:", n);
    for (int i = 0; i < PENDING_APIS && names[i][0] != '\0' && w > 0 && (size_t)w < len; i++)
        w += snprintf(out + w, len - (size_t)w, "%s %s x%" PRIu64, i ? "," : "", names[i],
                      counts[i]);
}

/* ---- the policy records ---- */

static const char *task_of(struct replay_process *p, const struct replay_step *s)
{
    const char *task = s->task ? replay_string(p, s->task) : NULL;
    return task != NULL ? task : "(no task)";
}

static const char *reason_name(uint64_t reason)
{
    switch (reason) {
    case CG_REASON_UNKNOWN_HANDLE:
        return "unknown-handle";
    case CG_REASON_USE_AFTER_DESTROY:
        return "use-after-destroy";
    case CG_REASON_DOUBLE_DESTROY:
        return "double-destroy";
    case CG_REASON_RECLAIMED:
        return "reclaimed object";
    default:
        return "refused";
    }
}

static void describe_drain(struct interventions *iv, struct replay_process *p,
                           const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    struct pending_on_stream *e = pending_find(iv, p->index, r->handle, 0);
    char what[256];
    describe_pending(p, e, what, sizeof what);
    add_note(iv,
             "drained stream %#" PRIx64 " (pid %" PRIu32 ") before task %s proceeded: %s; "
             "waited %.1f ms",
             r->handle, p->hdr->pid, task_of(p, s), what, (double)r->arg2 / 1e6);
    pending_done(e);
}

static void count_policy(struct interventions *iv, struct replay_process *p,
                         const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    const char *api = r->api ? replay_api_name(p, r->api) : NULL;
    switch (r->arg) {
    case CG_POLICY_REFUSED:
        iv->refused++;
        if (r->arg2 & CG_REASON_ABORTED) {
            iv->aborted++;
            add_note(iv,
                     "aborted the program at %s(%#" PRIx64 ") in pid %" PRIu32
                     ", task %s: %s (CUGUARD_ON_ERROR=abort)",
                     api ? api : "?", r->handle, p->hdr->pid, task_of(p, s),
                     reason_name(r->arg2 & ~(uint64_t)CG_REASON_ABORTED));
            break;
        }
        add_note(iv, "refused %s(%#" PRIx64 ") in pid %" PRIu32 ", task %s: %s", api ? api : "?",
                 r->handle, p->hdr->pid, task_of(p, s), reason_name(r->arg2));
        break;
    case CG_POLICY_DEFERRED_DESTROY:
        iv->deferred_destroys++;
        break;
    case CG_POLICY_QUARANTINED:
        iv->stale_answered++;
        add_note(iv,
                 "answered a stale %s(%#" PRIx64 ") in pid %" PRIu32
                 ", task %s: the object was destroyed but kept alive in quarantine",
                 api ? api : "?", r->handle, p->hdr->pid, task_of(p, s));
        break;
    case CG_POLICY_RELEASED:
        if (r->arg2 & HELD_RELEASED)
            iv->held_released++;
        else
            iv->released++;
        break;
    case CG_POLICY_HELD:
        iv->held++;
        break;
    case CG_POLICY_DRAINED_STREAM:
        iv->drained_streams++;
        describe_drain(iv, p, s);
        break;
    case CG_POLICY_RECLAIMED:
        iv->reclaimed++;
        iv->reclaimed_at_exit += (r->arg2 & 0x100u) != 0;
        break;
    case CG_POLICY_RECLAIMED_USE:
        iv->reclaimed_uses++;
        add_note(iv,
                 "%s(%#" PRIx64 ") in pid %" PRIu32 ", task %s used an object cuguard had "
                 "reclaimed: answered %d",
                 api ? api : "?", r->handle, p->hdr->pid, task_of(p, s), (int)r->result);
        break;
    case CG_POLICY_SYNC_QUERY:
        iv->sync_queries++;
        break;
    case CG_POLICY_REDIRECTED:
        iv->redirected++;
        break;
    case CG_POLICY_NON_BLOCKING:
        iv->non_blocking++;
        break;
    default:
        break;
    }
}

void interventions_record(struct interventions *iv, struct replay_process *p,
                          const struct replay_step *s)
{
    if (s->rec->kind == CG_REC_POLICY)
        count_policy(iv, p, s);
}

int interventions_any(const struct interventions *iv)
{
    return iv->refused || iv->deferred_destroys || iv->stale_answered || iv->released ||
           iv->drained_streams || iv->reclaimed || iv->reclaimed_uses || iv->sync_queries ||
           iv->redirected || iv->non_blocking || iv->held || iv->held_released;
}

void interventions_write_text(FILE *out, const struct interventions *iv)
{
    if (!interventions_any(iv))
        return;
    fputs("what cuguard changed (CUGUARD_POLICY / CUGUARD_ON_ERROR):\n", out);
    fprintf(out, "  stale or foreign calls refused: %" PRIu64 "\n", iv->refused);
    fprintf(out,
            "  destroys deferred: %" PRIu64 " (kept alive in quarantine; %" PRIu64
            " destroyed later), stale calls answered by them: %" PRIu64 "\n",
            iv->deferred_destroys, iv->released, iv->stale_answered);
    fprintf(out, "  streams drained at a task change: %" PRIu64 "\n", iv->drained_streams);
    fprintf(out,
            "  leaked objects reclaimed: %" PRIu64 " (%" PRIu64 " at exit), later uses answered: "
            "%" PRIu64 "\n",
            iv->reclaimed, iv->reclaimed_at_exit, iv->reclaimed_uses);
    if (iv->held || iv->held_released)
        fprintf(out,
                "  new objects held back because the driver gave them a reclaimed value: %" PRIu64
                " (%" PRIu64 " destroyed later)\n",
                iv->held, iv->held_released);
    if (iv->aborted)
        fprintf(out, "  calls the program was aborted at (CUGUARD_ON_ERROR=abort): %" PRIu64 "\n",
                iv->aborted);
    if (iv->sync_queries)
        fprintf(out, "  queries that waited for completion: %" PRIu64 "\n", iv->sync_queries);
    if (iv->redirected || iv->non_blocking)
        fprintf(out,
                "  legacy-stream calls redirected to the per-thread stream: %" PRIu64
                ", streams made non-blocking: %" PRIu64 "\n",
                iv->redirected, iv->non_blocking);
    for (size_t i = 0; i < iv->nnotes; i++)
        fprintf(out, "    %s\n", iv->notes[i]);
    if (iv->notes_dropped)
        fprintf(out, "    ... and %" PRIu64 " more\n", iv->notes_dropped);
}

void interventions_write_json(struct json_writer *w, const struct interventions *iv)
{
    json_key(w, "interventions");
    json_begin_object(w);
    json_kv_uint(w, "refused", iv->refused);
    json_kv_uint(w, "deferred_destroys", iv->deferred_destroys);
    json_kv_uint(w, "drained_streams", iv->drained_streams);
    json_kv_uint(w, "reclaimed", iv->reclaimed);
    json_kv_uint(w, "stale_answered", iv->stale_answered);
    json_kv_uint(w, "released", iv->released);
    json_kv_uint(w, "reclaimed_at_exit", iv->reclaimed_at_exit);
    json_kv_uint(w, "reclaimed_uses", iv->reclaimed_uses);
    json_kv_uint(w, "sync_queries", iv->sync_queries);
    json_kv_uint(w, "redirected", iv->redirected);
    json_kv_uint(w, "non_blocking_streams", iv->non_blocking);
    json_kv_uint(w, "held", iv->held);
    json_kv_uint(w, "held_released", iv->held_released);
    json_kv_uint(w, "aborted", iv->aborted);
    json_end_object(w);
}

void interventions_free(struct interventions *iv)
{
    for (size_t i = 0; i < iv->nnotes; i++)
        free(iv->notes[i]);
    iv->nnotes = 0;
    struct pending_on_stream *e, *tmp;
    HASH_ITER(hh, iv->pending, e, tmp)
    {
        HASH_DEL(iv->pending, e);
        free(e);
    }
    memset(iv->pending_cache, 0, sizeof iv->pending_cache);
}

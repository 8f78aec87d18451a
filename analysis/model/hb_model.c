/*
 * analysis/model/hb_model.c — the happens-before model's replay hooks: stream
 * timelines and their ordering, event snapshots, what host threads proved
 * complete, polls, pinned ranges and task epochs (see hb_model.h).
 *
 * What it is for: turning each replayed call into clock operations, and
 * calling races.c at the moments a finding can arise. The replay calls
 * each op's step function straight (replay_hooks.step_op), and the step
 * hook jumps to the same; the common steps (a launch or
 * host-range copy on a created stream, an event's first record, a spin, a
 * successful query, the destroy and release of an unpolled event) are done
 * there without a call, so with no frame set up, and every other step by
 * the general code (the *_any functions).
 *
 * What it must never do: claim work complete that no call proved complete,
 * treat a failed call as if it had done anything, or let a step's short
 * path do other than its general code would (each short path says the
 * conditions under which they are the same, and checks them first).
 */
#include "analysis/model/hb_model.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULT_SUCCESS 0
#define RESULT_NOT_READY 600
#define STREAM_FLAG_NON_BLOCKING 1u

/* ------------------------------------------------------------------ timelines in play */

static struct hb_timeline *timeline_add(struct hb_proc *hp, enum stream_kind kind, uint64_t handle,
                                        uint32_t owner, int blocking)
{
    struct hb_timeline *tl = hb_timeline_new(++hp->next_timeline_id);
    if (!tl)
        return NULL;
    tl->kind = kind;
    tl->handle = handle;
    tl->owner = owner;
    tl->blocking = blocking;
    tl->listed = 1; /* the list holds the reference hb_timeline_new gave */
    tl->next = hp->timelines;
    if (hp->timelines)
        hp->timelines->prev = tl;
    hp->timelines = tl;
    return tl;
}

static void timeline_unlist(struct hb_proc *hp, struct hb_timeline *tl)
{
    if (!tl->listed)
        return;
    if (tl->prev)
        tl->prev->next = tl->next;
    else
        hp->timelines = tl->next;
    if (tl->next)
        tl->next->prev = tl->prev;
    tl->prev = tl->next = NULL;
    tl->listed = 0;
    if (!tl->live && hp->ndead)
        hp->ndead--;
    hb_clock_clear(&tl->deps); /* no cycles survive through a finished timeline */
    hb_timeline_unref(tl);
}

/* The stream is gone: keep its timeline only while its work is unproven. */
static void timeline_end(struct hb_proc *hp, struct hb_timeline *tl)
{
    if (!tl->live)
        return;
    tl->live = 0;
    if (!tl->listed)
        return;
    if (!hb_timeline_busy(tl)) {
        timeline_unlist(hp, tl);
        return;
    }
    hp->ndead++;
    while (hp->ndead > HB_MAX_DEAD_TIMELINES) {
        struct hb_timeline *oldest = NULL;
        for (struct hb_timeline *x = hp->timelines; x; x = x->next)
            if (!x->live)
                oldest = x;
        if (!oldest)
            break;
        timeline_unlist(hp, oldest);
    }
}

/* Forget destroyed streams whose work is now proven. */
static void sweep_dead(struct hb_proc *hp)
{
    if (!hp->ndead)
        return;
    struct hb_timeline *tl = hp->timelines;
    while (tl) {
        struct hb_timeline *next = tl->next;
        if (!tl->live && !hb_timeline_busy(tl))
            timeline_unlist(hp, tl);
        tl = next;
    }
}

static struct hb_timeline *legacy_of(struct hb_proc *hp)
{
    if (!hp->legacy) {
        hp->legacy = timeline_add(hp, STREAM_LEGACY, 0, 0, 1);
        if (hp->legacy)
            hb_timeline_ref(hp->legacy);
    }
    return hp->legacy;
}

static struct hb_timeline *per_thread_of(struct hb_proc *hp, uint32_t tid)
{
    struct replay_thread *t = hb_find_thread(hp->p, tid);
    struct hb_thread *ht = hb_thread_of(t);
    if (!ht)
        return NULL;
    if (!ht->ptsz) {
        ht->ptsz = timeline_add(hp, STREAM_PER_THREAD, 0, tid, 1);
        if (ht->ptsz)
            hb_timeline_ref(ht->ptsz);
    }
    return ht->ptsz;
}

/* The timeline of a built-in stream (legacy or per-thread default). */
static struct hb_timeline *builtin_timeline(struct hb_proc *hp, const struct stream_ref *stream)
{
    if (stream->kind == STREAM_LEGACY)
        return legacy_of(hp);
    return per_thread_of(hp, stream->tid);
}

/* The timeline of the stream a step names (its `stream`), NULL if unknown.
 * Inline: mostly a created stream, whose timeline its object holds. */
static inline struct hb_timeline *timeline_of_step(struct hb_proc *hp, const struct replay_step *s,
                                                   struct replay_object *stream_obj)
{
    if (!s->has_stream)
        return NULL;
    if (s->stream.kind == STREAM_LEGACY || s->stream.kind == STREAM_PER_THREAD)
        return builtin_timeline(hp, &s->stream);
    if (!stream_obj || !stream_obj->live || !stream_obj->ext)
        return NULL;
    return ((struct hb_obj *)stream_obj->ext)->tl;
}

/* The legacy default stream's next operation waits for every blocking stream. */
static void legacy_waits_for_blocking(struct hb_proc *hp, struct hb_timeline *legacy)
{
    for (struct hb_timeline *b = hp->timelines; b; b = b->next) {
        if (b == legacy || !b->live || !b->blocking)
            continue;
        if (hb_timeline_busy(b))
            hb_clock_set(&legacy->deps, b, b->pos);
        hb_clock_join(&legacy->deps, &b->deps, legacy);
    }
}

/* A blocking stream's next operation waits for the busy legacy stream. */
static void blocking_waits_for_legacy(struct hb_proc *hp, struct hb_timeline *tl)
{
    hb_clock_set(&tl->deps, hp->legacy, hp->legacy->pos);
    hb_clock_join(&tl->deps, &hp->legacy->deps, tl);
}

/* Before an operation on tl: the legacy default stream waits for every
 * blocking stream, and a blocking stream waits for the legacy stream.
 * Inline: mostly neither applies (a non-blocking stream, an idle legacy
 * stream), and then it costs two tests. */
static inline void order_before_op(struct hb_proc *hp, struct hb_timeline *tl)
{
    if (tl->kind == STREAM_LEGACY)
        legacy_waits_for_blocking(hp, tl);
    else if (tl->blocking && hp->legacy && hb_timeline_busy(hp->legacy))
        blocking_waits_for_legacy(hp, tl);
}

/* An operation enqueued on tl, once it is ordered with the other streams. */
static inline void enqueue_ordered(struct hb_proc *hp, struct hb_timeline *tl,
                                   const struct hb_who *who)
{
    tl->pos++;
    tl->last_op = *who;
    if (hp->task) {
        tl->epoch = hp->epoch;
        tl->epoch_pos = tl->pos;
    }
}

static void enqueue(struct hb_proc *hp, struct hb_timeline *tl, const struct hb_who *who)
{
    order_before_op(hp, tl);
    enqueue_ordered(hp, tl, who);
}

/* What a synchronize of this stream proves, taken when it began. */
static void sync_clock_of(struct hb_proc *hp, struct hb_timeline *tl, struct hb_clock *out)
{
    hb_clock_of_timeline(out, tl);
    if (tl->kind != STREAM_LEGACY)
        return;
    /* Synchronizing the legacy stream waits for every blocking stream. */
    for (struct hb_timeline *b = hp->timelines; b; b = b->next) {
        if (b == tl || !b->live || !b->blocking)
            continue;
        if (hb_timeline_busy(b))
            hb_clock_set(out, b, b->pos);
        hb_clock_join(out, &b->deps, NULL);
    }
}

static void context_clock(struct hb_proc *hp, struct hb_clock *out)
{
    hb_clock_clear(out);
    for (struct hb_timeline *tl = hp->timelines; tl; tl = tl->next)
        if (hb_timeline_busy(tl))
            hb_clock_set(out, tl, tl->pos);
}

/* A saturated clock may depend on any work enqueued so far: seeing it
 * complete proves every timeline in play (fewer findings, never more). */
static void observe(struct hb_proc *hp, const struct hb_clock *c)
{
    if (c->saturated) {
        for (struct hb_timeline *tl = hp->timelines; tl; tl = tl->next)
            tl->done = tl->pos;
        return;
    }
    hb_clock_observe(c);
}

/* ------------------------------------------------------------------ polls */

static void poll_free(struct hb_poll *poll)
{
    hb_clock_clear(&poll->snap);
}

/* Remove entry i, whose own snapshot is empty (a shared one, or reset); its
 * clock memory moves to the free slot for reuse (a free slot's other
 * fields are set again when it is taken). */
static inline void poll_drop_empty_at(struct hb_thread *ht, unsigned i)
{
    unsigned last = --ht->npolls;
    if (i == last)
        return;
    struct hb_clock keep = ht->polls[i].snap;
    ht->polls[i] = ht->polls[last];
    ht->polls[last].snap = keep;
}

/* poll_drop_empty_at for an entry whose own snapshot may hold entries. */
static inline void poll_drop_at(struct hb_thread *ht, unsigned i)
{
    hb_clock_reset(&ht->polls[i].snap);
    poll_drop_empty_at(ht, i);
}

/* One poll entry more (delta > 0) or less on event o's record `serial`. */
static inline void count_poller_of(struct replay_object *o, uint64_t serial, int delta)
{
    if (!o || o->serial != serial || !o->ext)
        return;
    struct hb_obj *x = o->ext;
    if (delta > 0)
        x->npollers++;
    else if (x->npollers)
        x->npollers--;
}

/* count_poller_of the event `handle` names: `known` when it is that one. */
static inline void count_poller(struct hb_proc *hp, uint64_t handle, uint64_t serial, int delta,
                                struct replay_object *known)
{
    struct replay_object *o = known;
    if (!o || o->handle != handle)
        HASH_FIND(hh, hp->p->objects[OBJ_EVENT], &handle, sizeof handle, o);
    count_poller_of(o, serial, delta);
}

/* The thread no longer waits on `handle` (it saw it complete, or moved on). */
static void polls_clear_handle(struct hb_proc *hp, struct hb_thread *ht, uint64_t handle,
                               struct replay_object *ev)
{
    for (unsigned i = 0; i < ht->npolls;) {
        if (ht->polls[i].handle == handle && !ht->polls[i].stream) {
            if (!ht->polls[i].unknown)
                count_poller(hp, handle, ht->polls[i].serial, -1, ev);
            poll_drop_at(ht, i);
        } else {
            i++;
        }
    }
}

/* Drop entries nobody waits on any more, to make room. */
static void polls_prune(struct hb_proc *hp, struct hb_thread *ht)
{
    for (unsigned i = 0; i < ht->npolls;) {
        if (!hb_poll_waiting(&ht->polls[i])) {
            if (!ht->polls[i].unknown && !ht->polls[i].stream)
                count_poller(hp, ht->polls[i].handle, ht->polls[i].serial, -1, NULL);
            poll_drop_at(ht, i);
        } else {
            i++;
        }
    }
}

/* Does the thread need a new poll entry for the event the step names (ev;
 * NULL: a handle no create returned)? Not when the event has nothing
 * pending, nor when the thread already waits on that record. */
static inline int poll_wanted(const struct replay_step *s, const struct hb_thread *ht,
                              const struct replay_object *ev)
{
    uint64_t handle = s->rec->handle;
    const struct hb_obj *x = ev ? ev->ext : NULL;
    int unknown = !ev;
    if (!unknown && (!x || hb_clock_complete(&x->snap)))
        return 0; /* nothing pending to wait for */
    for (unsigned i = 0; i < ht->npolls; i++) {
        const struct hb_poll *q = &ht->polls[i];
        if (q->handle == handle && q->unknown == unknown && !q->stream &&
            (unknown || (q->serial == ev->serial && q->record_serial == x->record_serial)))
            return 0; /* already waiting on it */
    }
    return 1;
}

/* Add the entry poll_wanted asked for, in the free slot the caller made sure of. */
static inline void poll_take(struct hb_proc *hp, const struct replay_step *s, struct hb_thread *ht,
                             struct replay_object *ev)
{
    uint64_t handle = s->rec->handle;
    struct hb_obj *x = ev ? ev->ext : NULL;
    int unknown = !ev;
    struct hb_poll *q = &ht->polls[ht->npolls++];
    /* Field by field (q->snap is empty, with its memory): no memset call. */
    q->handle = handle;
    q->serial = 0;
    q->record_serial = 0;
    q->unknown = unknown;
    q->stream = 0;
    q->shares = NULL;
    q->who = hb_who_of_step(hp->p, s);
    if (!unknown) {
        q->serial = ev->serial;
        q->record_serial = x->record_serial;
        q->shares = x; /* no copy: see hb_poll.shares */
        x->npollers++;
    }
}

/* The step's thread (its state ht, NULL if none) polled or began waiting
 * on the event named by the step. */
static inline void poll_add(struct hb_proc *hp, const struct replay_step *s, struct hb_thread *ht,
                            struct replay_object *ev)
{
    if (!ht || !poll_wanted(s, ht, ev))
        return;
    if (ht->npolls == HB_MAX_POLLS)
        polls_prune(hp, ht);
    if (ht->npolls < HB_MAX_POLLS)
        poll_take(hp, s, ht, ev);
}

/* A cuStreamQuery saw NOT_READY: the thread waits for the stream's work as
 * it stood at its first such poll (judged like an event poll at a clean
 * exit: never-completed when no thread saw that work finish). */
static void stream_poll_add(struct hb_proc *hp, const struct replay_step *s, struct hb_timeline *tl)
{
    struct hb_thread *ht = hb_thread_of(s->thread);
    if (!ht)
        return;
    uint64_t handle = s->rec->handle;
    for (unsigned i = 0; i < ht->npolls; i++)
        if (ht->polls[i].stream && ht->polls[i].handle == handle && hb_poll_waiting(&ht->polls[i]))
            return; /* already waiting on it */
    if (ht->npolls == HB_MAX_POLLS)
        polls_prune(hp, ht);
    if (ht->npolls == HB_MAX_POLLS)
        return;
    struct hb_poll *q = &ht->polls[ht->npolls];
    struct hb_clock keep = q->snap; /* empty, with its memory */
    memset(q, 0, sizeof *q);
    q->snap = keep;
    sync_clock_of(hp, tl, &q->snap);
    if (hb_clock_complete(&q->snap)) {
        hb_clock_reset(&q->snap);
        return; /* nothing unproven to wait for */
    }
    ht->npolls++;
    q->handle = handle;
    q->stream = 1;
    q->serial = s->obj ? s->obj->serial : 0;
    q->record_serial = tl->pos;
    q->who = hb_who_of_step(hp->p, s);
}

/* The thread saw the stream idle: it no longer polls it. */
static void stream_polls_clear(struct hb_thread *ht, uint64_t handle)
{
    for (unsigned i = 0; ht && i < ht->npolls;)
        if (ht->polls[i].stream && ht->polls[i].handle == handle)
            poll_drop_at(ht, i);
        else
            i++;
}

static void remember_error(struct hb_proc *hp, const struct replay_step *s, enum handle_state st)
{
    struct hb_thread *ht = hb_thread_of(s->thread);
    if (!ht)
        return;
    ht->has_error = 1;
    ht->error_who = hb_who_of_step(hp->p, s);
    ht->error_result = s->rec->result;
    ht->error_handle = s->rec->handle;
    ht->error_state = st;
}

/* ------------------------------------------------------------------ pinned ranges */

static size_t range_lower(const struct hb_proc *hp, uint64_t addr)
{
    size_t lo = 0, hi = hp->nranges; /* first index with base > addr */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hp->ranges[mid].base <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* range_lower, trying `hint` first (a stream's copies mostly touch the
 * range its previous copy touched): the sorted order makes an index right
 * when the range before it starts at or below addr and the one at it
 * above. */
static size_t range_lower_from(const struct hb_proc *hp, uint64_t addr, size_t hint)
{
    if (hint <= hp->nranges && (hint == 0 || hp->ranges[hint - 1].base <= addr) &&
        (hint == hp->nranges || hp->ranges[hint].base > addr))
        return hint;
    return range_lower(hp, addr);
}

static void range_insert(struct hb_proc *hp, struct replay_object *o)
{
    if (hp->nranges == hp->cap_ranges) {
        size_t cap = hp->cap_ranges ? hp->cap_ranges * 2 : 16;
        struct hb_range *r = realloc(hp->ranges, cap * sizeof *r);
        if (!r)
            return;
        hp->ranges = r;
        hp->cap_ranges = cap;
    }
    size_t i = range_lower(hp, o->handle);
    memmove(&hp->ranges[i + 1], &hp->ranges[i], (hp->nranges - i) * sizeof *hp->ranges);
    uint64_t end = o->handle + (o->bytes ? o->bytes : 1);
    hp->ranges[i] = (struct hb_range){o->handle, end < o->handle ? UINT64_MAX : end, o};
    hp->nranges++;
}

static void range_remove(struct hb_proc *hp, const struct replay_object *o)
{
    for (size_t i = range_lower(hp, o->handle); i-- > 0;) {
        if (hp->ranges[i].base != o->handle)
            break;
        if (hp->ranges[i].obj == o) {
            memmove(&hp->ranges[i], &hp->ranges[i + 1], (hp->nranges - i - 1) * sizeof *hp->ranges);
            hp->nranges--;
            return;
        }
    }
}

/* Every live pinned range overlapping [addr, addr + bytes); `who` enqueued the copy.
 * Inlined into the step hook: once per async copy, and its call cost more
 * than the search when the stream's range hint holds. */
static inline __attribute__((always_inline)) void
copy_touches(struct hb_proc *hp, const struct replay_step *s, const struct hb_who *who,
             uint64_t addr, uint64_t bytes, struct hb_timeline *tl, int writes)
{
    if (!hp->nranges || !addr)
        return;
    uint64_t end = addr + (bytes ? bytes : 1);
    if (end < addr)
        end = UINT64_MAX;
    size_t i = range_lower_from(hp, addr, tl->range_hint);
    tl->range_hint = i;
    if (i > 0 && hp->ranges[i - 1].end > addr)
        i--;
    struct hb_copy copy = {tl, tl->pos, writes, *who};
    for (; i < hp->nranges && hp->ranges[i].base < end; i++) {
        struct replay_object *range = hp->ranges[i].obj;
        if (hp->ranges[i].end > addr && !(range->ext && races_copy_in_place(range->ext, &copy)))
            races_copy(hp, s, range, &copy);
    }
}

/* What the enqueued operation `dir` (by `who`, on tl) does besides enqueueing. */
static void track_copy(struct hb_proc *hp, const struct replay_step *s, enum hb_copy_dir dir,
                       const struct hb_who *who, struct hb_timeline *tl)
{
    const struct cg_record *r = s->rec;
    switch (dir) {
    case COPY_READS_ARG:
        copy_touches(hp, s, who, r->arg, r->arg2, tl, 0);
        break;
    case COPY_WRITES_ARG:
        copy_touches(hp, s, who, r->arg, r->arg2, tl, 1);
        break;
    case COPY_DST_SRC: {
        uint64_t bytes = s->args ? s->args->handle : 0;
        copy_touches(hp, s, who, r->arg, bytes, tl, 1);
        copy_touches(hp, s, who, r->arg2, bytes, tl, 0);
        break;
    }
    case HOST_FUNC:
        for (unsigned i = 0; i < tl->nhostfn;) /* forget the proven ones */
            if (tl->hostfn[i].pos <= tl->done)
                tl->hostfn[i] = tl->hostfn[--tl->nhostfn];
            else
                i++;
        if (tl->nhostfn < HB_HOSTFN_KEPT) {
            tl->hostfn[tl->nhostfn].pos = tl->pos;
            tl->hostfn[tl->nhostfn].who = *who;
            tl->nhostfn++;
        }
        break;
    default:
        break;
    }
}

static enum hb_copy_dir copy_dir_of_name(const char *name)
{
    char base[128];
    api_base_name(name, base, sizeof base);
    if (!strcmp(base, "cuMemcpyHtoDAsync"))
        return COPY_READS_ARG;
    if (!strcmp(base, "cuMemcpyDtoHAsync"))
        return COPY_WRITES_ARG;
    if (!strcmp(base, "cuMemcpyAsync"))
        return COPY_DST_SRC;
    if (!strcmp(base, "cuLaunchHostFunc"))
        return HOST_FUNC;
    if (!strcmp(base, "cuStreamAddCallback"))
        return STREAM_CALLBACK;
    return COPY_NONE;
}

/* ------------------------------------------------------------------ steps */

/* An event's model state is made at its first record (or first use), not
 * at its create (step_event_create): until then the event stands for this
 * empty snapshot. */
static const struct hb_clock no_snap;

/* The event's latest record's snapshot (empty when it has no state yet). */
static inline const struct hb_clock *snap_of(const struct replay_object *ev)
{
    return ev->ext ? &((const struct hb_obj *)ev->ext)->snap : &no_snap;
}

static void on_create(struct hb_proc *hp, const struct replay_step *s)
{
    struct replay_object *o = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !o || !o->live)
        return;
    struct hb_obj *x = hb_obj_of(hp, o);
    if (!x)
        return;
    if (o->type == OBJ_STREAM && !x->tl) {
        x->tl =
            timeline_add(hp, STREAM_CREATED, o->handle, 0, !(o->flags & STREAM_FLAG_NON_BLOCKING));
        if (x->tl)
            hb_timeline_ref(x->tl);
    } else if (o->type == OBJ_PINNED) {
        range_insert(hp, o);
    }
}

static void on_record(struct hb_proc *hp, const struct replay_step *s)
{
    struct replay_object *ev = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !ev || !ev->live)
        return;
    struct hb_obj *x = hb_obj_of(hp, ev);
    if (!x)
        return;
    races_record(hp, s, ev);
    struct hb_timeline *tl = timeline_of_step(hp, s, s->arg_obj);
    hb_clock_reset(&x->snap);
    hb_timeline_unref(x->rec_tl);
    x->rec_tl = NULL;
    if (tl) {
        order_before_op(hp, tl);
        hb_clock_of_timeline(&x->snap, tl);
        x->rec_tl = tl;
        x->rec_pos = tl->pos;
        hb_timeline_ref(tl);
    }
    x->record_serial = ev->record_serial;
    x->has_consumer = 0;
}

/* A successful query or synchronize of the event itself. */
static void on_event_seen(struct hb_proc *hp, const struct replay_step *s, struct hb_thread *ht,
                          struct replay_object *ev, const struct hb_clock *proven)
{
    if (proven)
        observe(hp, proven);
    else if (ev && ev->ext)
        observe(hp, &((struct hb_obj *)ev->ext)->snap);
    if (ht)
        polls_clear_handle(hp, ht, s->rec->handle, s->obj);
    if (ev && ev->live)
        races_consumed(hp, s, ev);
}

static void on_event_wait(struct hb_proc *hp, const struct replay_step *s)
{
    int32_t result = s->rec->result;
    struct replay_object *ev = s->obj && s->obj->live ? s->obj : NULL;
    struct hb_thread *ht = hb_thread_of(s->thread);
    if (s->phase == PHASE_ENTER) {
        poll_add(hp, s, ht, s->obj_state == HS_UNKNOWN ? NULL : s->obj);
        if (ht && ev) {
            hb_clock_copy(&ht->sync_snap, snap_of(ev));
            ht->has_sync_snap = 1;
        }
        return;
    }
    if (s->phase == PHASE_SPIN || result == RESULT_NOT_READY) {
        poll_add(hp, s, ht, s->obj_state == HS_UNKNOWN ? NULL : s->obj);
        return;
    }
    int from_enter = s->phase == PHASE_EXIT && ht && ht->has_sync_snap;
    if (result == RESULT_SUCCESS) {
        on_event_seen(hp, s, ht, ev, from_enter ? &ht->sync_snap : NULL);
    } else {
        remember_error(hp, s, s->obj_state);
        if (s->obj_state == HS_UNKNOWN || s->obj_state == HS_DESTROYED)
            poll_add(hp, s, ht, s->obj_state == HS_UNKNOWN ? NULL : s->obj);
    }
    if (from_enter) {
        hb_clock_clear(&ht->sync_snap);
        ht->has_sync_snap = 0;
    }
}

static void on_stream_sync(struct hb_proc *hp, const struct replay_step *s, int context)
{
    struct hb_thread *ht = hb_thread_of(s->thread);
    struct hb_timeline *tl = context ? NULL : timeline_of_step(hp, s, s->obj);
    if (!context && !tl)
        return;
    if (s->phase == PHASE_ENTER) {
        if (!ht)
            return;
        if (context)
            context_clock(hp, &ht->sync_snap);
        else
            sync_clock_of(hp, tl, &ht->sync_snap);
        ht->has_sync_snap = 1;
        return;
    }
    int polling = s->op == OP_STREAM_QUERY && !context;
    if (polling && (s->phase == PHASE_SPIN || s->rec->result == RESULT_NOT_READY))
        stream_poll_add(hp, s, tl);
    if (s->phase == PHASE_SPIN)
        return;
    int from_enter = s->phase == PHASE_EXIT && ht && ht->has_sync_snap;
    if (polling && s->rec->result == RESULT_SUCCESS)
        stream_polls_clear(ht, s->rec->handle);
    if (s->rec->result == RESULT_SUCCESS) {
        if (from_enter) {
            observe(hp, &ht->sync_snap);
        } else {
            struct hb_clock now = {0};
            if (context)
                context_clock(hp, &now);
            else
                sync_clock_of(hp, tl, &now);
            observe(hp, &now);
            hb_clock_clear(&now);
        }
        sweep_dead(hp);
    } else if (s->rec->result != RESULT_NOT_READY) {
        remember_error(hp, s, s->obj_state);
    }
    if (from_enter) {
        hb_clock_clear(&ht->sync_snap);
        ht->has_sync_snap = 0;
    }
}

static void on_stream_wait_event(struct hb_proc *hp, const struct replay_step *s)
{
    struct hb_timeline *tl = timeline_of_step(hp, s, s->obj);
    struct replay_object *ev = s->arg_obj;
    if (s->rec->result != RESULT_SUCCESS || !tl)
        return;
    order_before_op(hp, tl);
    if (ev && ev->live)
        hb_clock_join(&tl->deps, snap_of(ev), tl);
}

/* cuStreamAddCallback (copy_dir STREAM_CALLBACK): remember what its callback's start will prove. */
static void callback_enqueued(struct hb_proc *hp, const struct replay_step *s,
                              struct hb_timeline *tl)
{
    if (!s->rec->arg2)
        return;
    struct hb_callback *cb = &hp->callbacks[hp->next_callback];
    hp->next_callback = (hp->next_callback + 1) % HB_MAX_CALLBACKS;
    cb->id = s->rec->arg2;
    /* Through the callback's own position: the callback is host code the
     * program waits for by itself (numba's add_callback / async_done); the
     * stream's device work before it is what its start proves. */
    hb_clock_of_timeline(&cb->before, tl);
}

/* A CALLBACK record: the callback started, so the work before it is done
 * (and the callback's own slot counts as done, see callback_enqueued). */
static void on_callback(struct hb_proc *hp, const struct replay_step *s)
{
    for (unsigned i = 0; i < HB_MAX_CALLBACKS; i++) {
        struct hb_callback *cb = &hp->callbacks[i];
        if (!cb->id || cb->id != s->rec->arg)
            continue;
        observe(hp, &cb->before);
        hb_clock_reset(&cb->before);
        cb->id = 0;
        sweep_dead(hp);
        return;
    }
}

static void on_stream_work(struct hb_proc *hp, const struct replay_step *s)
{
    struct hb_timeline *tl = timeline_of_step(hp, s, s->obj);
    if (s->rec->result != RESULT_SUCCESS || !tl)
        return;
    struct hb_who who = hb_who_of_step(hp->p, s);
    enqueue(hp, tl, &who);
    uint16_t api = s->rec->api;
    enum hb_copy_dir dir = api < hp->p->api_count ? hp->copy_dir[api] : COPY_NONE;
    if (dir == STREAM_CALLBACK)
        callback_enqueued(hp, s, tl);
    else if (dir != COPY_NONE)
        track_copy(hp, s, dir, &who, tl);
}

static void on_destroy(struct hb_proc *hp, const struct replay_step *s)
{
    struct replay_object *o = s->obj;
    if (s->rec->result != RESULT_SUCCESS || !o || o->live || !o->ext)
        return;
    struct hb_obj *x = o->ext;
    if (o->type == OBJ_EVENT) {
        races_destroy_event(hp, s, o);
    } else if (o->type == OBJ_STREAM && x->tl) {
        races_destroy_stream(hp, s, x->tl);
        timeline_end(hp, x->tl);
    } else if (o->type == OBJ_PINNED) {
        range_remove(hp, o);
    }
}

static void on_task(struct hb_proc *hp, const struct replay_step *s)
{
    if (s->rec->flags & CG_FLAG_TASK_THREAD)
        return; /* a thread's own task: tasks run side by side, not one after another */
    uint32_t task = s->rec->site;
    if (task && task != hp->last_task) {
        if (hp->last_task)
            races_task_begins(hp, s, hp->epoch, hp->last_task);
        hp->epoch++;
        hp->last_task = task;
    }
    hp->task = task;
}

/* isolate: at a task change the shim synchronized a stream that still had
 * work. A successful drain proves that stream's work like a synchronize. */
static void on_policy(struct hb_proc *hp, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    if (r->arg != CG_POLICY_DRAINED_STREAM || r->result != RESULT_SUCCESS)
        return;
    struct replay_step probe = *s;
    probe.stream = (struct stream_ref){.handle = r->handle, .kind = STREAM_CREATED};
    if (r->handle == 0 || r->handle == 1)
        probe.stream.kind = STREAM_LEGACY;
    probe.has_stream = 1;
    struct replay_object *st = NULL;
    HASH_FIND(hh, hp->p->objects[OBJ_STREAM], &r->handle, sizeof r->handle, st);
    struct hb_timeline *tl = timeline_of_step(hp, &probe, st);
    if (!tl)
        return;
    struct hb_clock now = {0};
    sync_clock_of(hp, tl, &now);
    observe(hp, &now);
    hb_clock_clear(&now);
}

static void on_other(struct hb_proc *hp, const struct replay_step *s)
{
    switch (s->rec->kind) {
    case CG_REC_POLICY:
        on_policy(hp, s);
        break;
    case CG_REC_TASK:
        on_task(hp, s);
        break;
    case CG_REC_STALL:
        races_stall(hp, s);
        break;
    case CG_REC_CALLBACK:
        on_callback(hp, s);
        break;
    case CG_REC_THREAD_EXIT:
        if (s->thread)
            races_thread_exit(hp, s, s->thread);
        break;
    default:
        break;
    }
}
/* Is o a live object made in a task other than the step's (which has one)?
 * An EXIT was judged when it began. The task comparison comes first: it
 * rules out nearly every step. */
static inline int made_in_other_task(const struct replay_object *o, const struct replay_step *s)
{
    return o && o->created.task != s->task && o->created.task && o->live && s->task &&
           s->phase != PHASE_EXIT;
}

/* A call on an object made before it, in another task. Each step function
 * below checks the objects its op names: `obj` always, `arg_obj` only for
 * the two-object calls (record, stream wait, elapsed time: replay.h). */
static inline void check_cross_task(struct hb_proc *hp, const struct replay_step *s)
{
    if (made_in_other_task(s->obj, s))
        races_cross_task(hp, s, s->obj);
}

/* Both objects of a two-object call (out of line: rare, and the callers'
 * common path stays free of calls). */
__attribute__((noinline)) static void cross_task_both(struct hb_proc *hp,
                                                      const struct replay_step *s)
{
    check_cross_task(hp, s);
    if (made_in_other_task(s->arg_obj, s))
        races_cross_task(hp, s, s->arg_obj);
}

static inline void check_cross_task2(struct hb_proc *hp, const struct replay_step *s)
{
    if (made_in_other_task(s->obj, s) || made_in_other_task(s->arg_obj, s))
        cross_task_both(hp, s);
}

/* ------------------------------------------------------------------ an event's state released */

/* Can obj_ext_free's work on event o (state x) be done without a call: no
 * poll entry sharing its snapshot, room on the spare list, a snapshot of at
 * most one entry, and no reference it drops a timeline's last? (An event's
 * state has no timeline and no copies: on_create gives a stream's one, and
 * races_copy a pinned range's.) */
static inline int event_ext_plain(const struct hb_proc *hp, const struct replay_object *o,
                                  const struct hb_obj *x)
{
    if (!hp || o->type != OBJ_EVENT || x->npollers || hp->nspare >= HB_SPARE_OBJS ||
        x->snap.saturated || x->snap.n > 1)
        return 0;
    const struct hb_timeline *r = x->rec_tl, *e = x->snap.n ? x->snap.e[0].tl : NULL;
    if (r && r->refs <= 1u + (e == r))
        return 0;
    return !e || e == r || e->refs > 1;
}

/* obj_ext_free's work on event o (state x) where event_ext_plain holds. */
static inline void event_ext_release_plain(struct hb_proc *hp, struct replay_object *o,
                                           struct hb_obj *x)
{
    if (x->rec_tl)
        hb_timeline_unref_kept(x->rec_tl);
    if (x->snap.n)
        hb_timeline_unref_kept(x->snap.e[0].tl);
    x->snap.n = 0;
    o->ext = NULL;
    hp->spare[hp->nspare++] = x;
}

/* Can destroyed event o's state x go back to the spare list now, before
 * its object_end: event_ext_plain, and its snapshot complete and not
 * saturated? Then no later step on the destroyed handle finds in x
 * anything its absence would not say: poll_wanted sees nothing pending,
 * observing the snapshot proves nothing, no poll entry shares it, and
 * every other use of an event's state is for a live event. */
static inline int event_ext_done(const struct hb_proc *hp, const struct replay_object *o,
                                 const struct hb_obj *x)
{
    if (!event_ext_plain(hp, o, x))
        return 0;
    return !x->snap.n || x->snap.e[0].pos <= x->snap.e[0].tl->done;
}

/* ------------------------------------------------------------------ one function per op
 *
 * The replay calls its op's function straight (replay_hooks.step_op; the
 * step hook jumps to the same): each call step
 * notes its time for the Python-hang hook (python_hang_call), does the op's
 * work, then checks the objects the call used that existed before it (not
 * for creates, destroys and frees). */

static void step_create(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_create(hp, s);
}

/* Nothing to model until the event is first used (see no_snap). */
static void step_event_create(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
}

/* Any record step (out of line: see step_record). */
__attribute__((noinline)) static void record_any(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_record(hp, s);
    check_cross_task2(hp, s);
}

/* The timeline of the created stream a successful record of a live event
 * names, when on_record needs no call there: nothing to order with the
 * legacy stream first, the event's state fresh (no earlier record, no
 * poller: races_record has nothing to judge) or a spare one to take, and
 * the snapshot fitting in place (hb_clock_of_timeline_fits_empty: the snapshot
 * of a state with no record is empty, as is a spare one's). NULL
 * otherwise. */
static inline struct hb_timeline *plain_record_timeline(const struct hb_proc *hp,
                                                        const struct replay_step *s)
{
    const struct replay_object *ev = s->obj, *st = s->arg_obj;
    if (s->phase == PHASE_ENTER || s->rec->result != RESULT_SUCCESS || !ev || !ev->live ||
        !s->has_stream || s->stream.kind != STREAM_CREATED || !st || !st->live || !st->ext)
        return NULL;
    struct hb_timeline *tl = ((const struct hb_obj *)st->ext)->tl;
    if (!tl || (tl->blocking && hp->legacy && hb_timeline_busy(hp->legacy)))
        return NULL;
    const struct hb_obj *x = ev->ext;
    if (!x && !hp->nspare)
        return NULL;
    if (x && (x->npollers || x->rec_tl))
        return NULL;
    if (!hb_clock_of_timeline_fits_empty(x ? &x->snap : &hp->spare[hp->nspare - 1]->snap, tl))
        return NULL;
    return tl;
}

/* Mostly the first record of a new event on a created stream: on_record's
 * work done here with no frame set up; everything else goes to record_any. */
static void step_record(struct hb_proc *hp, const struct replay_step *s)
{
    struct hb_timeline *tl = plain_record_timeline(hp, s);
    if (!tl) {
        record_any(hp, s);
        return;
    }
    python_hang_call(hp, s);
    struct replay_object *ev = s->obj;
    struct hb_obj *x = ev->ext ? ev->ext : hb_obj_from_spare(hp, ev);
    hb_clock_of_timeline_inline(&x->snap, tl);
    x->rec_tl = tl;
    x->rec_pos = tl->pos;
    hb_timeline_ref(tl);
    x->record_serial = ev->record_serial;
    x->has_consumer = 0;
    check_cross_task2(hp, s);
}

/* Any event query or synchronize step (out of line: see step_event_wait). */
__attribute__((noinline)) static void event_wait_any(struct hb_proc *hp,
                                                     const struct replay_step *s)
{
    python_hang_call(hp, s);
    on_event_wait(hp, s);
    check_cross_task(hp, s);
}

/* A spin of NOT_READY polls by a thread with room for another poll entry
 * is on_event_wait's poll_add, done here with no frame set up; every other
 * step goes to event_wait_any. */
/* A spin, by a thread (state ht) with room for another poll entry: what
 * on_event_wait does, without a call. */
static inline void spin_plain(struct hb_proc *hp, const struct replay_step *s, struct hb_thread *ht)
{
    python_hang_call(hp, s);
    struct replay_object *ev = s->obj_state == HS_UNKNOWN ? NULL : s->obj;
    if (poll_wanted(s, ht, ev))
        poll_take(hp, s, ht, ev);
}

/* Is the step a successful query (not a blocking wait) of a live event
 * with state, that on_event_wait can handle without a call: a snapshot
 * to observe that is not saturated, only poll entries with empty
 * snapshots of their own to drop (count_poller finds the event as the
 * step's; none has one of its own before hp->polls_unshared), and no
 * second consumer for races_consumed to raise? */
static inline int seen_plain_ok(const struct hb_proc *hp, const struct replay_step *s,
                                const struct hb_thread *ht)
{
    const struct replay_object *ev = s->obj;
    uint64_t handle = s->rec->handle;
    if (s->phase != PHASE_CALL || s->rec->result != RESULT_SUCCESS || !ev || !ev->live ||
        !ev->ext || ev->handle != handle)
        return 0;
    const struct hb_obj *x = ev->ext;
    if (x->snap.saturated)
        return 0;
    for (unsigned i = 0; hp->polls_unshared && i < ht->npolls; i++) {
        const struct hb_poll *q = &ht->polls[i];
        if (q->handle == handle && !q->stream && (q->snap.n || q->snap.saturated))
            return 0;
    }
    return !ev->records || x->shared_raised || !x->has_consumer ||
           (x->consumer_tid == s->rec->tid && x->consumer_task == s->task);
}

/* on_event_seen for a step seen_plain_ok accepts. The consumer is noted
 * first, right after seen_plain_ok's tests of the same fields (nothing
 * else here reads or writes them). */
static inline void seen_plain(struct hb_proc *hp, const struct replay_step *s, struct hb_thread *ht)
{
    struct replay_object *ev = s->obj;
    struct hb_obj *x = ev->ext;
    races_consumer_note(x, ev, s);
    python_hang_call(hp, s);
    uint64_t handle = s->rec->handle;
    hb_clock_observe(&x->snap);
    for (unsigned i = 0; i < ht->npolls;) {
        if (ht->polls[i].handle == handle && !ht->polls[i].stream) {
            if (!ht->polls[i].unknown)
                count_poller_of(ev, ht->polls[i].serial, -1);
            poll_drop_empty_at(ht, i);
        } else {
            i++;
        }
    }
}

/* Spins and successful queries are done here with no frame set up (see
 * spin_plain, seen_plain_ok); every other step goes to event_wait_any. */
static void step_event_wait(struct hb_proc *hp, const struct replay_step *s)
{
    struct hb_thread *ht = s->thread ? s->thread->ext : NULL;
    if (ht && s->phase == PHASE_SPIN && ht->npolls < HB_MAX_POLLS)
        spin_plain(hp, s, ht);
    else if (ht && seen_plain_ok(hp, s, ht))
        seen_plain(hp, s, ht);
    else {
        event_wait_any(hp, s);
        return;
    }
    check_cross_task(hp, s);
}

static void step_elapsed(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER && s->rec->result == RESULT_SUCCESS) {
        if (s->obj && s->obj->ext)
            observe(hp, &((struct hb_obj *)s->obj->ext)->snap);
        if (s->arg_obj && s->arg_obj->ext)
            observe(hp, &((struct hb_obj *)s->arg_obj->ext)->snap);
    }
    check_cross_task2(hp, s);
}

static void step_stream_sync(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    on_stream_sync(hp, s, 0);
    check_cross_task(hp, s);
}

static void step_ctx_sync(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    on_stream_sync(hp, s, 1);
    check_cross_task(hp, s);
}

/* cuMemFreeHost synchronizes the context. */
static void step_pinned_free(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_destroy(hp, s);
    on_stream_sync(hp, s, 1);
}

/* Any destroy step (out of line: see step_destroy). */
__attribute__((noinline)) static void destroy_any(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_destroy(hp, s);
}

/* The state of the object a successful destroy step ended, NULL when
 * it has none (or the step ended nothing). */
static inline struct hb_obj *destroyed_state(const struct replay_step *s)
{
    const struct replay_object *o = s->obj;
    if (s->phase == PHASE_ENTER || s->rec->result != RESULT_SUCCESS || !o || o->live)
        return NULL;
    return o->ext;
}

/* Mostly the destroy of an event nobody polls, which on_destroy has
 * nothing to do for (races_destroy_event judges only polled ones): its
 * time is noted and, where event_ext_done allows, its state goes back to
 * the spare list, with no frame set up; everything else goes to
 * destroy_any. */
static void step_destroy(struct hb_proc *hp, const struct replay_step *s)
{
    struct replay_object *o = s->obj;
    struct hb_obj *x = destroyed_state(s);
    if (x && (o->type != OBJ_EVENT || x->npollers)) {
        destroy_any(hp, s);
        return;
    }
    python_hang_call(hp, s);
    if (x && event_ext_done(hp, o, x))
        event_ext_release_plain(hp, o, x);
}

static void step_stream_wait_event(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_stream_wait_event(hp, s);
    check_cross_task2(hp, s);
}

/* Any stream-work step (out of line: see step_stream_work). */
__attribute__((noinline)) static void stream_work_any(struct hb_proc *hp,
                                                      const struct replay_step *s)
{
    python_hang_call(hp, s);
    if (s->phase != PHASE_ENTER)
        on_stream_work(hp, s);
    check_cross_task(hp, s);
}

/* The timeline of a successful stream-work call on a created stream that
 * needs no ordering with the legacy stream first (order_before_op); NULL
 * otherwise. */
static inline struct hb_timeline *plain_work_timeline(const struct hb_proc *hp,
                                                      const struct replay_step *s)
{
    const struct replay_object *o = s->obj;
    if (s->phase == PHASE_ENTER || s->rec->result != RESULT_SUCCESS || !s->has_stream ||
        s->stream.kind != STREAM_CREATED || !o || !o->live || !o->ext)
        return NULL;
    struct hb_timeline *tl = ((const struct hb_obj *)o->ext)->tl;
    if (!tl || (tl->blocking && hp->legacy && hb_timeline_busy(hp->legacy)))
        return NULL;
    return tl;
}

/* An async copy between the device and a host range (cuMemcpyHtoDAsync,
 * cuMemcpyDtoHAsync) on tl, a plain_work_timeline. */
__attribute__((noinline)) static void copy_plain(struct hb_proc *hp, const struct replay_step *s,
                                                 struct hb_timeline *tl, int writes)
{
    python_hang_call(hp, s);
    struct hb_who who = hb_who_of_step(hp->p, s);
    enqueue_ordered(hp, tl, &who);
    copy_touches(hp, s, &who, s->rec->arg, s->rec->arg2, tl, writes);
    check_cross_task(hp, s);
}

/* The state of the one pinned range a host-range copy on tl touches, when
 * copy_touches would only put the copy in the place of that range's
 * earlier one (races_copy_goes_in_place), found from tl's range hint with
 * no call; NULL otherwise. Mostly the copy lies in the range before the
 * hint, and then the hint is range_lower's answer exactly when the next
 * range starts above addr, which it does when it starts at or above the
 * copy's end, the test that the copy touches one range. */
static inline struct hb_obj *copy_in_place_range(const struct hb_proc *hp,
                                                 const struct replay_step *s,
                                                 const struct hb_timeline *tl)
{
    uint64_t addr = s->rec->arg, bytes = s->rec->arg2;
    size_t n = hp->nranges, i = tl->range_hint;
    const struct hb_range *r = hp->ranges;
    if (!addr || i == 0 || i > n || r[i - 1].base > addr || r[i - 1].end <= addr)
        return NULL; /* the range before the hint does not hold addr */
    uint64_t end = addr + (bytes ? bytes : 1);
    if (end < addr)
        end = UINT64_MAX;
    if (i < n && r[i].base < end)
        return NULL; /* the range at the hint is touched too, or holds addr */
    struct hb_obj *x = r[i - 1].obj->ext;
    return x && races_copy_goes_in_place(x, tl) ? x : NULL;
}

/* A host-range copy on tl, a plain_work_timeline: when copy_in_place_range
 * accepts it, what copy_plain does, done here with no call; otherwise by
 * copy_plain. */
__attribute__((noinline)) static void copy_step(struct hb_proc *hp, const struct replay_step *s,
                                                struct hb_timeline *tl, int writes)
{
    struct hb_obj *x = copy_in_place_range(hp, s, tl);
    if (!x) {
        copy_plain(hp, s, tl, writes);
        return;
    }
    python_hang_call(hp, s);
    struct hb_who who = hb_who_of_step(hp->p, s);
    enqueue_ordered(hp, tl, &who);
    x->copies[0] = (struct hb_copy){tl, tl->pos, writes, who};
    check_cross_task(hp, s);
}

/* Mostly a kernel launch or a host-range copy on a created stream: the
 * launch is done here with no frame set up, the copy by copy_step;
 * everything else goes to stream_work_any. */
static void step_stream_work(struct hb_proc *hp, const struct replay_step *s)
{
    uint16_t api = s->rec->api;
    enum hb_copy_dir dir = api < hp->p->api_count ? hp->copy_dir[api] : COPY_NONE;
    int plain = dir == COPY_NONE || dir == COPY_READS_ARG || dir == COPY_WRITES_ARG;
    struct hb_timeline *tl = plain ? plain_work_timeline(hp, s) : NULL;
    if (!tl) {
        stream_work_any(hp, s);
        return;
    }
    if (dir != COPY_NONE) {
        copy_step(hp, s, tl, dir == COPY_WRITES_ARG);
        return;
    }
    python_hang_call(hp, s);
    struct hb_who who = hb_who_of_step(hp->p, s);
    enqueue_ordered(hp, tl, &who);
    check_cross_task(hp, s);
}

/* Context calls: nothing to model, but they use objects made before them. */
static void step_context(struct hb_proc *hp, const struct replay_step *s)
{
    python_hang_call(hp, s);
    check_cross_task(hp, s);
}

/* Any other record (PYSTACK, TASK, STALL, ...); a call the replay does not
 * model (not in the step mask) only has its time noted. */
static void step_other(struct hb_proc *hp, const struct replay_step *s)
{
    if (s->phase != PHASE_OTHER) {
        python_hang_call(hp, s);
        return;
    }
    python_hang_record(hp, s);
    on_other(hp, s);
}

/* The replay calls each op's function straight (replay_hooks.step_op),
 * with the process's state as its user (hook_step_user); hook_step calls
 * the same ones. */
#define STEP_ENTRY(fn)                                                                             \
    static void fn##_entry(void *user, struct replay_process *p, const struct replay_step *s)      \
    {                                                                                              \
        (void)p;                                                                                   \
        fn(user, s);                                                                               \
    }
STEP_ENTRY(step_other)
STEP_ENTRY(step_event_create)
STEP_ENTRY(step_record)
STEP_ENTRY(step_event_wait)
STEP_ENTRY(step_destroy)
STEP_ENTRY(step_elapsed)
STEP_ENTRY(step_create)
STEP_ENTRY(step_stream_sync)
STEP_ENTRY(step_stream_wait_event)
STEP_ENTRY(step_ctx_sync)
STEP_ENTRY(step_pinned_free)
STEP_ENTRY(step_stream_work)
STEP_ENTRY(step_context)

/* ------------------------------------------------------------------ hooks */

/* Out of line: the step hook stays a frameless jump (see hook_step). */
__attribute__((noinline)) static struct hb_proc *proc_lookup(struct hb_model *m,
                                                             const struct replay_process *p)
{
    struct hb_proc *hp = NULL;
    HASH_FIND_INT(m->procs, &p->index, hp);
    m->cached = hp;
    m->cached_p = hp ? p : NULL;
    return hp;
}

/* Inlined: every hook starts with it, once per record for `step`. */
static inline __attribute__((always_inline)) struct hb_proc *proc_of(struct hb_model *m,
                                                                     const struct replay_process *p)
{
    if (m->cached_p == p)
        return m->cached;
    return proc_lookup(m, p);
}

static void hook_process_begin(void *user, struct replay_process *p)
{
    struct hb_model *m = user;
    struct hb_proc *hp = calloc(1, sizeof *hp);
    if (!hp)
        return;
    hp->index = p->index;
    hp->p = p;
    hp->copy_dir = calloc(p->api_count ? p->api_count : 1, 1);
    if (!hp->copy_dir) {
        free(hp);
        return;
    }
    for (uint32_t i = 1; i < p->api_count; i++)
        hp->copy_dir[i] = (unsigned char)copy_dir_of_name(replay_api_name(p, (uint16_t)i));
    HASH_ADD_INT(m->procs, index, hp);
}

/* hook_step for a process other than the cached one (out of line). */
__attribute__((noinline)) static void step_uncached(struct hb_model *m, struct replay_process *p,
                                                    const struct replay_step *s)
{
    struct hb_proc *hp = proc_lookup(m, p);
    if (hp && (unsigned)s->op < OP_COUNT)
        m->hooks.step_op[s->op](hp, p, s);
}

/* A jump to the op's function (the one the replay calls straight, set for
 * every op): no frame of its own, so each op pays only for what its own
 * function does. The cached process is set only with its state found
 * (proc_lookup); s->op is an enum api_op, below OP_COUNT (replay.h). */
static void hook_step(void *user, struct replay_process *p, const struct replay_step *s)
{
    struct hb_model *m = user;
    if (m->cached_p != p) {
        step_uncached(m, p, s);
        return;
    }
    m->hooks.step_op[s->op](m->cached, p, s);
}

/* The user of the per-op step functions: the process's state. */
static void *hook_step_user(void *user, struct replay_process *p)
{
    return proc_of(user, p);
}

static void hook_finding(void *user, struct replay_process *p, const struct finding_input *in)
{
    struct hb_proc *hp = proc_of(user, p);
    if (hp && in->kind == FK_BLOCKED_AT_EXIT)
        diagnosis_blocked(hp, in);
}

/* x is going: the polls sharing its snapshot take copies (only polls of
 * its record can, and x->npollers counts at least those). Out of line: an
 * event is rarely released while polled. */
__attribute__((noinline)) static void polls_unshare(struct hb_proc *hp, const struct hb_obj *x)
{
    hp->polls_unshared = 1;
    for (struct replay_thread *t = hp->p->threads; t; t = t->hh.next) {
        struct hb_thread *ht = t->ext;
        for (unsigned i = 0; ht && i < ht->npolls; i++)
            if (ht->polls[i].shares == x)
                hb_poll_unshare(&ht->polls[i]);
    }
}

static void obj_ext_free(struct hb_proc *hp, struct replay_object *o)
{
    struct hb_obj *x = o->ext;
    if (!x)
        return;
    if (x->npollers && hp)
        polls_unshare(hp, x);
    if (o->type == OBJ_PINNED && hp)
        range_remove(hp, o);
    if (o->type == OBJ_STREAM && x->tl && hp)
        timeline_end(hp, x->tl);
    hb_timeline_unref(x->rec_tl);
    hb_timeline_unref(x->tl);
    for (unsigned i = 0; i < x->ncopies; i++)
        hb_timeline_unref(x->copies[i].tl);
    o->ext = NULL;
    if (hp && hp->nspare < HB_SPARE_OBJS) {
        hb_clock_reset(&x->snap);
        hp->spare[hp->nspare++] = x;
        return;
    }
    hb_clock_clear(&x->snap);
    free(x);
}

/* Mostly an event's state going back to the spare list: done here with no
 * frame set up (event_ext_plain); everything else by obj_ext_free. An
 * event whose quiet destroy released its state already has none. */
static void hook_object_end(void *user, struct replay_process *p, struct replay_object *o)
{
    struct hb_obj *x = o->ext;
    if (!x)
        return;
    struct hb_proc *hp = proc_of(user, p);
    if (!event_ext_plain(hp, o, x)) {
        obj_ext_free(hp, o);
        return;
    }
    event_ext_release_plain(hp, o, x);
}

static void thread_ext_free(struct hb_proc *hp, struct replay_thread *t)
{
    struct hb_thread *ht = t->ext;
    if (!ht)
        return;
    for (unsigned i = 0; i < HB_MAX_POLLS; i++)
        poll_free(&ht->polls[i]);
    hb_clock_clear(&ht->sync_snap);
    if (ht->ptsz) {
        if (hp)
            timeline_end(hp, ht->ptsz);
        hb_timeline_unref(ht->ptsz);
    }
    free(ht);
    t->ext = NULL;
}

static void hook_thread_end(void *user, struct replay_process *p, struct replay_thread *t)
{
    thread_ext_free(proc_of(user, p), t);
}

static void orphans_free(struct hb_proc *hp)
{
    while (hp->orphans) {
        struct hb_orphan *o = hp->orphans;
        hp->orphans = o->next;
        for (unsigned i = 0; i < o->npolls; i++)
            poll_free(&o->polls[i]);
        free(o);
    }
}

static void proc_free(struct hb_model *m, struct hb_proc *hp)
{
    struct replay_process *p = hp->p;
    /* Objects and threads go after process_end: release their state now,
     * while the timelines can still be unlisted. */
    for (struct replay_thread *t = p->threads; t; t = t->hh.next)
        thread_ext_free(hp, t);
    for (int type = 0; type < OBJ_TYPE_COUNT; type++)
        for (struct replay_object *o = p->objects[type]; o; o = o->hh.next)
            obj_ext_free(hp, o);
    orphans_free(hp);
    for (unsigned i = 0; i < HB_MAX_CALLBACKS; i++)
        hb_clock_clear(&hp->callbacks[i].before);
    while (hp->nspare) {
        struct hb_obj *x = hp->spare[--hp->nspare];
        hb_clock_clear(&x->snap);
        free(x);
    }
    hb_timeline_unref(hp->legacy);
    hp->legacy = NULL;
    while (hp->timelines) {
        struct hb_timeline *tl = hp->timelines;
        tl->live = 0;
        timeline_unlist(hp, tl);
    }
    free(hp->ranges);
    free(hp->copy_dir);
    HASH_DEL(m->procs, hp);
    if (m->cached == hp) {
        m->cached = NULL;
        m->cached_p = NULL;
    }
    free(hp);
}

static void hook_process_end(void *user, struct replay_process *p)
{
    struct hb_model *m = user;
    struct hb_proc *hp = proc_of(m, p);
    if (!hp)
        return;
    races_process_end(hp);
    diagnosis_crash(hp);
    diagnosis_collect(m, hp);
    proc_free(m, hp);
}

struct hb_model *hb_model_new(void)
{
    struct hb_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->hooks = (struct replay_hooks){
        .user = m,
        /* every modelled call and every other record; calls the replay does
         * not model (OP_OTHER) change nothing here */
        .step_mask = ~REPLAY_WANTS_OP(OP_OTHER), /* spins and other records included */
        .process_begin = hook_process_begin,
        .step = hook_step,
        .finding = hook_finding,
        .object_end = hook_object_end,
        .thread_end = hook_thread_end,
        .process_end = hook_process_end,
        .step_op =
            {
                [OP_OTHER] = step_other_entry,
                [OP_EVENT_CREATE] = step_event_create_entry,
                [OP_EVENT_RECORD] = step_record_entry,
                [OP_EVENT_QUERY] = step_event_wait_entry,
                [OP_EVENT_SYNC] = step_event_wait_entry,
                [OP_EVENT_DESTROY] = step_destroy_entry,
                [OP_EVENT_ELAPSED] = step_elapsed_entry,
                [OP_STREAM_CREATE] = step_create_entry,
                [OP_STREAM_DESTROY] = step_destroy_entry,
                [OP_STREAM_SYNC] = step_stream_sync_entry,
                [OP_STREAM_QUERY] = step_stream_sync_entry,
                [OP_STREAM_WAIT_EVENT] = step_stream_wait_event_entry,
                [OP_CTX_SYNC] = step_ctx_sync_entry,
                [OP_PINNED_ALLOC] = step_create_entry,
                [OP_PINNED_FREE] = step_pinned_free_entry,
                [OP_HOST_REGISTER] = step_create_entry,
                [OP_HOST_UNREGISTER] = step_destroy_entry,
                [OP_STREAM_WORK] = step_stream_work_entry,
                [OP_CTX_CREATE] = step_context_entry,
                [OP_CTX_DESTROY] = step_context_entry,
                [OP_CTX_RESET] = step_context_entry,
            },
        .step_user = hook_step_user,
    };
    return m;
}

const struct replay_hooks *hb_model_hooks(struct hb_model *m)
{
    return &m->hooks;
}

char **hb_model_take_diagnosis(struct hb_model *m, size_t *n)
{
    char **d = m->diagnosis;
    *n = m->ndiagnosis;
    m->diagnosis = NULL;
    m->ndiagnosis = 0;
    return d;
}

void hb_model_free(struct hb_model *m)
{
    if (!m)
        return;
    while (m->procs)
        proc_free(m, m->procs);
    for (size_t i = 0; i < m->ndiagnosis; i++)
        free(m->diagnosis[i]);
    free(m->diagnosis);
    free(m);
}

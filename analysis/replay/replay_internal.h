/*
 * analysis/replay/replay_internal.h — what the files of the replay share and hooks
 * do not see.
 *
 * What it is for: replay.c (records in, the two phases of a call) uses the
 * object and thread tables of replay_objects.c, the finding helpers of
 * replay_raise.c and the end-of-trace findings of replay_exit.c.
 *
 * What it must never do: be included outside analysis/replay*.c.
 */
#ifndef CUGUARD_ANALYSIS_REPLAY_INTERNAL_H
#define CUGUARD_ANALYSIS_REPLAY_INTERNAL_H

#include "analysis/replay/replay.h"

#define RESULT_SUCCESS 0
#define RESULT_NOT_READY 600
#define STREAM_HANDLE_LEGACY 1u     /* CU_STREAM_LEGACY */
#define STREAM_HANDLE_PER_THREAD 2u /* CU_STREAM_PER_THREAD */
#define STREAM_FLAG_NON_BLOCKING 1u /* CU_STREAM_NON_BLOCKING */

/* replay.c */
static inline enum api_op rp_op_of(const struct replay_process *p, uint16_t api)
{
    return api < p->api_count ? p->ops[api] : OP_OTHER;
}
void rp_step_init(struct replay_process *p, struct replay_step *s, const struct cg_record *rec,
                  const struct cg_record *args, enum replay_phase phase);

/* replay_objects.c: threads */
void rp_thread_end(struct replay_process *p, struct replay_thread *t);

/* replay_objects.c: objects, one table per type, destroyed ones kept as
 * tombstones (FIFO, at most REPLAY_MAX_TOMBSTONES) */
struct replay_object *rp_object_find_slow(struct replay_process *p, enum obj_type type,
                                          uint64_t handle);
/* The object at `handle` (live or a tombstone), or NULL; the cache first. */
static inline struct replay_object *rp_object_find(struct replay_process *p, enum obj_type type,
                                                   uint64_t handle)
{
    struct replay_object *o = p->object_cache[type][replay_cache_slot(handle)];
    return o && o->handle == handle ? o : rp_object_find_slow(p, type, handle);
}

/* replay_thread_get with its cache check inline. */
static inline struct replay_thread *rp_thread_get(struct replay_process *p, uint32_t tid)
{
    struct replay_thread *t = p->thread_cache[replay_thread_slot(tid)];
    return t && t->tid == tid ? t : replay_thread_get(p, tid);
}
struct replay_object *rp_object_create(struct replay_process *p, enum obj_type type,
                                       uint64_t handle, const struct replay_origin *origin);
/* rp_object_create with rp_object_find(p, type, handle) already done
 * (`found`), for a create at ts_ns; the caller then sets the object's
 * `created`. It is stored in place, not copied from an origin built on the
 * stack: a 32-byte struct copy loads 16 bytes at a time from memory just
 * written in narrower pieces, and a load the store buffer cannot forward
 * waits for the stores to retire (a stall of about 15 cycles, the costliest
 * thing in a create). */
struct replay_object *rp_object_create_at(struct replay_process *p, enum obj_type type,
                                          uint64_t handle, uint64_t ts_ns,
                                          struct replay_object *found);
/* A live object is destroyed; the caller has set its `destroyed` (in place,
 * as for `created` above). */
void rp_object_destroy(struct replay_process *p, struct replay_object *o,
                       const struct replay_step *s);

/* *dst = *src for a step's stream, field by field: the step stored it just
 * now in narrower pieces, which one 16-byte load of a struct copy could not
 * take from the store buffer. */
static inline void stream_ref_copy(struct stream_ref *dst, const struct stream_ref *src)
{
    dst->handle = src->handle;
    dst->kind = src->kind;
    dst->tid = src->tid;
}
void rp_object_release(struct replay_process *p, struct replay_object *o);
/* A live object ends without a destroy (its context went away). */
void rp_object_end_undestroyed(struct replay_process *p, struct replay_object *o,
                               const struct replay_origin *origin, const struct replay_step *s);
void rp_count_object(struct replay_process *p, const struct replay_object *o, int starting,
                     int destroyed);
/* rp_count_object(p, o, 1, 0), inline: once per create. */
static inline void rp_count_one_created(struct replay_counts *c)
{
    c->created++;
    c->live++;
    if (c->live > c->peak_live)
        c->peak_live = c->live;
}

static inline void rp_count_pinned_created(struct replay_pinned_counts *c,
                                           const struct replay_object *o)
{
    if (o->pinned_origin == PINNED_REGISTERED)
        c->registrations++;
    else
        c->allocations++;
    c->live++;
    c->bytes_live += o->bytes;
    if (c->bytes_live > c->peak_bytes)
        c->peak_bytes = c->bytes_live;
}

static inline void rp_count_created(struct replay_process *p, const struct replay_object *o)
{
    struct replay_totals *t = p->totals;
    switch (o->type) {
    case OBJ_EVENT:
        rp_count_one_created(&p->events);
        rp_count_one_created(&t->events);
        break;
    case OBJ_STREAM:
        rp_count_one_created(&p->streams);
        rp_count_one_created(&t->streams);
        break;
    default:
        rp_count_pinned_created(&p->pinned, o);
        rp_count_pinned_created(&t->pinned, o);
    }
}
void rp_evict_tombstones(struct replay_process *p);
void rp_free_objects(struct replay_process *p);
struct replay_origin rp_origin_of(const struct replay_process *p, const struct cg_record *rec,
                                  const struct replay_thread *t);

/* replay_objects.c: streams and the completion of event records */
struct stream_ref rp_stream_ref_of(uint64_t handle, const struct cg_record *rec);
/* The event's latest record is pending until rp_resolve_record. */
void rp_pending_push(struct replay_process *p, struct replay_object *ev);
void rp_resolve_pending(struct replay_process *p, struct replay_object *ev,
                        enum record_resolution how, const struct replay_step *s, uint64_t ts_ns);
/* Resolve the event's latest record if it is pending (the test inline). */
static inline void rp_resolve_record(struct replay_process *p, struct replay_object *ev,
                                     enum record_resolution how, const struct replay_step *s,
                                     uint64_t ts_ns)
{
    if (ev->pending)
        rp_resolve_pending(p, ev, how, s, ts_ns);
}
void rp_resolve_stream_sync(struct replay_process *p, const struct stream_ref *synced,
                            const struct replay_step *s, uint64_t ts);
void rp_resolve_context_sync(struct replay_process *p, const struct replay_step *s, uint64_t ts);

/* replay_raise.c */
const char *rp_type_name(enum obj_type type);
void rp_origin_in(const struct replay_process *p, const struct replay_origin *o,
                  struct finding_origin_in *out);
void rp_raise_input(struct replay_process *p, const struct finding_input *in);
void rp_input_for_process(const struct replay_process *p, enum finding_kind kind,
                          struct finding_input *in);
void rp_describe_handle(char *buf, size_t len, enum obj_type type, uint64_t handle,
                        const struct replay_object *o);
const char *rp_thread_label(const struct replay_process *p, uint32_t name_id, uint32_t tid,
                            char *buf, size_t len);

/* replay_exit.c: blocked-at-exit (incomplete traces) and leaks */
void rp_raise_exit_findings(struct replay_process *p);
/* A CG_POLICY_RECLAIMED record: note that cuguard destroyed the object for
 * the program (its leak is raised at the end unless the program destroys
 * it late, replay_exit.c). */
void rp_policy_reclaimed(struct replay_process *p, const struct cg_record *rec);
/* The leak of a live object that ends without a destroy (its context was
 * torn down, or a create returned its value again); raised once. */
void rp_raise_leak_ended(struct replay_process *p, struct replay_object *o, const char *ended);

/* replay_context.c */
void rp_context_record(struct replay_process *p, const struct cg_record *rec);
void rp_context_created(struct replay_process *p, const struct replay_step *s,
                        struct replay_object *o);
void rp_context_call(struct replay_process *p, const struct replay_step *s);
void rp_context_free(struct replay_process *p);

#endif

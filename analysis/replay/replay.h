/*
 * analysis/replay/replay.h — replay one process's trace, record by record.
 *
 * What it is for: the object lifecycles every finding is built on. For each
 * traced process it keeps the live events, streams and pinned ranges (each a
 * generation of its handle value: a create after a destroy of the same value
 * starts generation 2), the host threads and their open blocking calls, the
 * current task, and which event records are not yet known complete. It raises
 * the lifecycle findings (leaks, unknown handles, use after destroy, double
 * destroy, query before record, API errors, blocked at exit) and calls the
 * hooks of other analyses (the Perfetto export, the happens-before model)
 * after every record with the objects that record touched.
 *
 * Memory: live objects, threads and a bounded FIFO of destroyed handles (to
 * tell a use after destroy from an unknown handle); never anything
 * proportional to the number of records.
 *
 * What it must never do: trust a record (any field can be garbage in a
 * corrupt trace), keep a pointer to a record after the step that carried it,
 * or free an object a hook may still hold between steps without telling the
 * hook (object_end).
 */
#ifndef CUGUARD_ANALYSIS_REPLAY_H
#define CUGUARD_ANALYSIS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include <uthash.h>

#include "analysis/base/api_ops.h"
#include "analysis/base/findings.h"
#include "tracer/format.h"
#include "tracer/reader.h"

/* Slots of the per-process lookup caches, and the slot of a key. */
#define REPLAY_CACHE_SLOTS 16u
static inline unsigned replay_cache_slot(uint64_t key)
{
    return (unsigned)((key * 0x9e3779b97f4a7c15ull) >> 60);
}
/* The slot of a thread id: its low bits (ids are small and mostly
 * consecutive, unlike handles, whose low bits are alignment). */
_Static_assert((REPLAY_CACHE_SLOTS & (REPLAY_CACHE_SLOTS - 1)) == 0, "a power of two");
static inline unsigned replay_thread_slot(uint32_t tid)
{
    return tid & (REPLAY_CACHE_SLOTS - 1);
}

/* Destroyed handles remembered per process (oldest forgotten first). A use of
 * a forgotten one is reported as unknown-handle instead of use-after-destroy. */
#define REPLAY_MAX_TOMBSTONES (1u << 20)

enum obj_type { OBJ_EVENT = 0, OBJ_STREAM = 1, OBJ_PINNED = 2, OBJ_TYPE_COUNT = 3 };

enum pinned_origin { PINNED_ALLOCATED = 0, PINNED_REGISTERED = 1 };

/* Where and when something happened; string ids belong to the process's reader. */
struct replay_origin {
    uint64_t ts_ns;
    uint32_t tid;
    uint32_t site;   /* string id of the call site, 0 = unknown */
    uint32_t task;   /* string id of the task, 0 = none */
    uint32_t thread; /* string id of the thread name, 0 = unnamed */
    uint16_t api;    /* api id of the call */
};

/* A stream as named by a call: created streams by handle; the built-in default
 * streams by kind (and owner thread for the per-thread default stream). */
enum stream_kind { STREAM_CREATED = 0, STREAM_LEGACY = 1, STREAM_PER_THREAD = 2 };

struct stream_ref {
    uint64_t handle; /* STREAM_CREATED */
    enum stream_kind kind;
    uint32_t tid; /* STREAM_PER_THREAD: the thread whose default stream */
};

struct replay_object {
    uint64_t handle; /* hash key within its type's table */
    UT_hash_handle hh;
    enum obj_type type;
    int live;            /* 0 = destroyed (kept as a tombstone) */
    uint32_t generation; /* 1 for the first object at this handle value */
    uint64_t serial;     /* unique per process over all objects and generations */
    struct replay_origin created, destroyed;
    /* streams: creation flags; CG_REC_STREAM_ID when seen */
    uint64_t flags;
    int has_stream_id;
    uint64_t stream_id;
    int stream_busy; /* work enqueued and not yet known complete */
    /* pinned ranges */
    enum pinned_origin pinned_origin;
    uint64_t bytes;
    /* events: the current record */
    uint64_t records;            /* records in this generation */
    struct replay_origin record; /* the latest record */
    struct stream_ref record_stream;
    uint64_t record_stream_serial; /* serial of that stream object, 0 if built in/unknown */
    uint64_t record_serial;        /* unique id of the latest record (flows) */
    int pending;                   /* latest record not yet known complete */
    int unrecorded_wait_seen;      /* query-before-record already raised for this generation */
    int leak_raised;               /* its leak is already raised (it ended without a destroy) */
    uint64_t reclaimed_ns;         /* when the destroy policy reclaimed it (0 = it did not) */
    int has_context;               /* its creating thread's CONTEXT record was seen */
    uint64_t context;              /* that context */
    struct replay_object *pending_prev, *pending_next;
    struct replay_object *dead_prev, *dead_next;
    /* Per-object state of ONE analysis (the happens-before model): set it in
     * a step hook, release it in object_end (called before a new generation
     * reuses this struct and before it is freed). Other hooks key their own
     * tables by (process index, serial). */
    void *ext;
};

struct replay_thread {
    uint32_t tid; /* hash key */
    UT_hash_handle hh;
    uint32_t name;     /* string id from THREAD_START, 0 = unnamed */
    int has_task;      /* a thread-scoped TASK record applies */
    uint32_t task;     /* its string id */
    uint32_t task_now; /* the task that applies: `task` if has_task, else the process's */
    int in_call;       /* between ENTER and EXIT */
    struct cg_record enter;
    int enter_explained;   /* the ENTER raised a finding that explains an error */
    struct cg_record last; /* last call-like record (CALL, ENTER, EXIT, SPIN) */
    int has_last;
    uint64_t serial;
    int has_context;              /* a CONTEXT record of this thread was seen */
    uint64_t context;             /* its latest CONTEXT */
    uint64_t last_created_serial; /* the object its latest create made */
    enum obj_type last_created_type;
    uint64_t last_created_handle;
    void *ext; /* like replay_object.ext; released in thread_end */
};

enum replay_phase {
    PHASE_CALL,  /* a CALL record, or an EXIT without its ENTER */
    PHASE_ENTER, /* a blocking call began */
    PHASE_EXIT,  /* it returned; `enter` is its ENTER */
    PHASE_SPIN,  /* a compressed run of NOT_READY polls */
    PHASE_OTHER, /* any other record kind */
};

/* Handle states as seen when the call began. */
enum handle_state { HS_NONE = 0, HS_LIVE, HS_DESTROYED, HS_UNKNOWN, HS_BUILTIN };

/* What one record meant, handed to the hooks after the replay applied it. */
struct replay_step {
    const struct cg_record *rec;  /* the record itself */
    const struct cg_record *args; /* the CG_REC_ARGS that followed, or NULL */
    const char *api;              /* API name from the header, "" for non-calls */
    struct replay_thread *thread;
    enum replay_phase phase;
    enum api_op op;
    /* From `enter` to `has_stream`: the members a new step starts with at
     * zero, one block with no padding (a few wide stores). */
    const struct cg_record *enter; /* PHASE_EXIT: the matching ENTER */
    /* The object named by `handle` and, for two-object calls (record: its
     * stream; stream wait: the event; elapsed time: the end event), by `arg`.
     * NULL when unknown or built in; an object destroyed by this very step is
     * still passed (live == 0). */
    struct replay_object *obj, *arg_obj;
    enum handle_state obj_state, arg_state;
    struct stream_ref stream; /* the stream this call concerns, when it has one */
    int has_stream;
    uint32_t task;
};

enum record_resolution {
    RESOLVED_OBSERVED,     /* a successful query/synchronize of the event itself */
    RESOLVED_BY_SYNC,      /* a stream/context synchronize (or implicit one) proved it */
    UNRESOLVED_RERECORDED, /* overwritten by a new record before anyone saw it done */
    UNRESOLVED_DESTROYED,  /* the event was destroyed first */
    UNRESOLVED_END,        /* the trace ended first */
};

struct replay_process;

/* Bits of replay_hooks.step_mask: which steps a step hook wants. A call step
 * matches REPLAY_WANTS_OP(its op), and a PHASE_SPIN step only when
 * REPLAY_WANTS_SPINS is set too; a step of any other record kind
 * (PHASE_OTHER) matches REPLAY_WANTS_RECORDS. */
#define REPLAY_WANTS_OP(op) (1u << (op))
#define REPLAY_WANTS_SPINS (1u << 30)
#define REPLAY_WANTS_RECORDS (1u << 31)
#define REPLAY_WANTS_ALL 0u

/* Extension points for other analyses. Every member may be NULL. */
struct replay_hooks {
    void *user;
    /* Steps `step` is called for (REPLAY_WANTS_* bits); 0 = every step. The
     * replay skips the others: a hook that names what it reads costs
     * nothing on the records it ignores. */
    uint32_t step_mask;
    void (*process_begin)(void *user, struct replay_process *p);
    /* After the replay applied a record (findings for it already raised). */
    void (*step)(void *user, struct replay_process *p, const struct replay_step *s);
    /* An event's latest record stopped being pending; `s` is the step that
     * resolved it (NULL for UNRESOLVED_END), `ts_ns` when. */
    void (*record_resolved)(void *user, struct replay_process *p, struct replay_object *ev,
                            enum record_resolution how, const struct replay_step *s,
                            uint64_t ts_ns);
    /* A finding occurrence was raised (before grouping). */
    void (*finding)(void *user, struct replay_process *p, const struct finding_input *in);
    /* The object's memory or generation is about to go: release its ext. */
    void (*object_end)(void *user, struct replay_process *p, struct replay_object *o);
    void (*thread_end)(void *user, struct replay_process *p, struct replay_thread *t);
    /* The trace ended; leaks and blocked-at-exit already raised. */
    void (*process_end)(void *user, struct replay_process *p);
    /* Optional per-op step functions, for a hook with one function per op:
     * a wanted step of op `op` (a PHASE_OTHER step has op OP_OTHER) calls
     * step_op[op] where it is set, instead of `step`, with the user that
     * step_user gave for the process (asked once, after process_begin; a
     * NULL answer: no step_op calls for that process). The replay calls
     * them straight, with no jump through `step`. */
    void (*step_op[OP_COUNT])(void *user, struct replay_process *p, const struct replay_step *s);
    void *(*step_user)(void *user, struct replay_process *p);
};

#define REPLAY_MAX_HOOKS 8

/* A step hook as the replay calls it: replay_hooks.step and its user. */
struct replay_step_hook {
    void (*step)(void *user, struct replay_process *p, const struct replay_step *s);
    void *user;
};

/* Step classes the hooks are sorted by: one per op (calls), then spins of
 * each op, then every other record. */
#define REPLAY_STEP_CLASSES (2 * OP_COUNT + 1)

struct replay_counts {
    uint64_t created, destroyed, live, peak_live;
};

/* The process died of a signal inside a driver call: the first CALL/EXIT
 * record whose result is CG_RESULT_CRASHED(signo) (tracer/format.h). */
/* A context the trace named (CONTEXT records, cuCtxCreate). */
struct replay_context {
    uint64_t handle;
    uint64_t device1; /* device ordinal + 1, 0 = unknown */
    int created;      /* made by cuCtxCreate: not a device's primary context */
};

struct replay_crash {
    int crashed;
    int signal;
    struct replay_origin who; /* the crashing call: thread, task, site, api, time */
    uint64_t handle;          /* its handle argument */
    enum handle_state state;  /* that handle when the call began */
    int has_destroyed;        /* state HS_DESTROYED: who destroyed it */
    struct replay_origin destroyed;
};

struct replay_pinned_counts {
    uint64_t allocations, registrations, freed, unregistered, live, bytes_live, peak_bytes;
};

/* Counters shared by all processes of a run (merged in time order, so the
 * peaks are of the whole run). */
struct replay_totals {
    struct replay_counts events, streams;
    struct replay_pinned_counts pinned;
    uint64_t leaked_events, leaked_streams, leaked_pinned, leaked_pinned_bytes;
};

struct replay_process {
    int index; /* position of the trace in the run */
    struct cg_reader *reader;
    const struct cg_file_header *hdr;
    const char *path;
    enum api_op *ops;       /* by api id */
    const char **api_names; /* by api id, from the reader; [0] = "" */
    uint64_t *calls;        /* by api id */
    uint32_t api_count;
    uint32_t task; /* process-wide task string id */
    struct replay_object *objects[OBJ_TYPE_COUNT];
    struct replay_object *pending_head; /* events with a pending record */
    struct replay_object *dead_head, *dead_tail;
    size_t dead_count;
    struct replay_thread *threads;
    /* Small direct-mapped caches in front of the thread and object tables
     * (slot = replay_thread_slot(tid), replay_cache_slot(handle)): nearby
     * records mostly name the same few threads and objects. A slot never
     * holds a freed one. */
    struct replay_thread *thread_cache[REPLAY_CACHE_SLOTS];
    struct replay_object *object_cache[OBJ_TYPE_COUNT][REPLAY_CACHE_SLOTS];
    uint64_t next_serial;
    int saw_process_exit;
    int complete;  /* set at the end; never for a process that crashed */
    int cut_short; /* the writer stopped early (header CG_END_CUT_SHORT): the end is unknown */
    int finished;  /* the end of the trace was reached: `complete` is known */
    struct replay_crash crash;
    /* contexts seen in CONTEXT / cuCtxCreate records (replay_context.c) */
    struct replay_context *contexts;
    size_t ncontexts, cap_contexts;
    uint64_t first_ts, last_ts;
    struct replay_counts events, streams;
    struct replay_pinned_counts pinned;
    struct replay_totals *totals;
    struct finding_set *findings;
    const struct replay_hooks *hooks[REPLAY_MAX_HOOKS];
    int nhooks;
    /* The step hooks that want each kind of step, by replay_step_class(),
     * each list ended by one whose step is NULL. */
    struct replay_step_hook step_hooks[REPLAY_STEP_CLASSES][REPLAY_MAX_HOOKS + 1];
    /* The hooks that have record_resolved, and those that have object_end. */
    const struct replay_hooks *resolve_hooks[REPLAY_MAX_HOOKS], *end_hooks[REPLAY_MAX_HOOKS];
    int nresolve_hooks, nend_hooks;
};

/* Start a process. Returns 0, -1 on allocation failure. The reader stays
 * owned by the caller and must outlive replay_process_finish(). */
int replay_process_init(struct replay_process *p, int index, struct cg_reader *reader,
                        struct finding_set *findings, struct replay_totals *totals,
                        const struct replay_hooks *const *hooks, int nhooks);
/* Feed the next record of this process in slot order, with the CG_REC_ARGS
 * record that follows a CALL/ENTER of the same thread (else NULL). */
void replay_feed(struct replay_process *p, const struct cg_record *rec,
                 const struct cg_record *args);
/* The trace ended: raise leaks and blocked-at-exit, call process_end
 * hooks, free every object. */
void replay_process_finish(struct replay_process *p);

/* Helpers for hooks. */
const char *replay_string(const struct replay_process *p, uint32_t id); /* NULL if unknown */
const char *replay_api_name(const struct replay_process *p, uint16_t api);
uint32_t replay_task_of(const struct replay_process *p, const struct replay_thread *t);
struct replay_thread *replay_thread_get(struct replay_process *p, uint32_t tid);
/* Raise a finding occurrence at a step (kind, message; handle optional). */
void replay_raise(struct replay_process *p, const struct replay_step *s, enum finding_kind kind,
                  const struct replay_object *o, uint64_t handle, int has_handle,
                  const char *message);
/* Raise a finding occurrence attributed to `who` (thread, task, site, API
 * and time) instead of a step: for findings judged later than the record
 * that caused them. `o` (optional) gives the created/destroyed origins. */
void replay_raise_origin(struct replay_process *p, enum finding_kind kind,
                         const struct replay_origin *who, const struct replay_object *o,
                         uint64_t handle, int has_handle, const char *message);

#endif

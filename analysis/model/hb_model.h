/*
 * analysis/model/hb_model.h — the happens-before model over host threads, streams
 * and events (docs/findings.md "proven complete"), and the race and hang findings
 * and diagnosis built on it.
 *
 * What it is for: a replay hook set (analyze_paths installs it for every
 * run) that follows, per process:
 *   - one timeline per stream (created, legacy default, per-thread default),
 *     whose `deps` clock is what its next operation waits for: joined with
 *     an event's snapshot by cuStreamWaitEvent, and between the legacy
 *     default stream and every blocking stream before each operation;
 *   - an event record's snapshot of its stream's clock at the record (not
 *     the stream's later state);
 *   - what host threads know complete. A successful query, an event, stream
 *     or context synchronize, cuEventElapsedTime and cuMemFreeHost (a
 *     context synchronize) join into the host side. Host threads also
 *     synchronize in ways no trace shows (locks, queues, joins, the GIL), so
 *     a completion any thread observed counts for every thread from then on:
 *     the host threads share one clock, kept as each timeline's `done`;
 *   - which thread polls or waits on which record, the pinned ranges each
 *     async copy touched, and the work each task left behind.
 * On top of it races.c raises destroy-while-waited, record-while-polled,
 * poller-exited, cross-task-use, pending-at-task-end,
 * pinned-reuse-while-inflight, stream-destroy-with-pending, stall and
 * shared-event, and diagnosis.c writes the chain that explains a hang.
 *
 * Memory: live objects, live threads, timelines with unproven work and a
 * bounded list of facts per process; never anything proportional to the
 * number of records.
 *
 * What it must never do: raise a finding when some thread could already
 * have known the work complete (a false positive is a bug), or hold a
 * pointer to a replay object past its object_end.
 */
#ifndef CUGUARD_ANALYSIS_HB_MODEL_H
#define CUGUARD_ANALYSIS_HB_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <uthash.h>

#include "analysis/model/hb_clock.h"
#include "analysis/replay/replay.h"

struct hb_model;

/* ------------------------------------------------------------------ public */

struct hb_model *hb_model_new(void);
const struct replay_hooks *hb_model_hooks(struct hb_model *m);
/* The diagnosis chain of the whole run (sentences, oldest first); the caller
 * owns the array and its strings. */
char **hb_model_take_diagnosis(struct hb_model *m, size_t *n);
void hb_model_free(struct hb_model *m);

/* ------------------------------------------------------------------ shared by hb_model.c,
 * races.c and diagnosis.c. Calls go one way: hb_model.c (the model) calls
 * races.c (the findings), both call diagnosis.c (the chain), and all three
 * use hb_state.c and hb_clock.c, which call none of them. */

#define HB_MAX_POLLS 16            /* records one thread waits on at once (more are not tracked) */
#define HB_MAX_COPIES 4            /* unproven copies remembered per pinned range */
#define HB_MAX_FACTS 16            /* diagnosis facts per process */
#define HB_MAX_DEAD_TIMELINES 4096 /* destroyed streams with unproven work kept */
#define HB_MAX_CALLBACKS 64        /* host callbacks enqueued and not yet seen running */
#define HB_SPARE_OBJS 64

struct hb_obj;

/* What a thread waits on: a record it polled or is blocked on, not yet seen complete. */
struct hb_poll {
    uint64_t handle;
    uint64_t serial;        /* event object serial, 0 = no such event (unknown handle) */
    uint64_t record_serial; /* which record */
    struct hb_clock snap; /* that record's snapshot, unless `shares` (read it with hb_poll_snap) */
    /* The event's model state, whose `snap` is that record's snapshot, instead
     * of a copy: the state lives and its snapshot stays as it is while the
     * poll does (a new record drops the polls of the old one first, and
     * releasing the state copies it into each sharing poll: hb_poll_unshare). */
    const struct hb_obj *shares;
    int unknown;       /* the handle never named an event: it can never complete */
    int stream;        /* a cuStreamQuery poll: handle is the stream, snap its work */
    struct hb_who who; /* first poll */
};

struct hb_thread {
    struct hb_timeline *ptsz;  /* its per-thread default stream, once used */
    struct hb_clock sync_snap; /* what the blocking call it is in will prove */
    int has_sync_snap;
    struct hb_poll polls[HB_MAX_POLLS];
    unsigned npolls;
    /* its latest failed call on an event or stream (diagnosis) */
    int has_error;
    struct hb_who error_who;
    int32_t error_result;
    uint64_t error_handle;
    enum handle_state error_state;
    /* the stall already reported for its current wait */
    uint64_t stall_handle;
    uint64_t stall_since;
};

struct hb_copy {
    struct hb_timeline *tl;
    uint64_t pos;
    int writes; /* the copy wrote the host range (device to host) */
    struct hb_who who;
};

/* Model state of one replay object (events, streams and pinned ranges): a
 * stream's and a range's from its create, an event's from its first use. */
struct hb_obj {
    uint32_t xtask_flagged; /* task (string id) already told cross-task-use */
    /* events */
    struct hb_timeline *rec_tl;
    uint64_t rec_pos;
    uint64_t record_serial;
    unsigned npollers; /* poll entries naming it (an upper bound) */
    int has_consumer, shared_raised;
    uint32_t consumer_tid, consumer_task;
    /* streams */
    struct hb_timeline *tl;
    /* pinned ranges */
    unsigned ncopies;
    /* Kept last: a reused hb_obj is zeroed up to `snap` (hb_obj_of), keeps
     * the snapshot's memory, and copies[] counts only up to ncopies. */
    struct hb_clock snap; /* events: the latest record's snapshot */
    struct hb_copy copies[HB_MAX_COPIES];
};

/* In the order facts of the same time are told; FACT_CRASH always leads. */
enum hb_fact_kind {
    FACT_POLLER_EXITED,
    FACT_NEVER_COMPLETED,
    FACT_STALL,
    FACT_BLOCKED,
    FACT_ORPHANED_STALL,
    FACT_QUIET_STALL, /* quiet after a dead poller (analysis/model/python_hang.c) */
    FACT_PYSTACK,     /* where the Python threads were at the last hang report */
    FACT_CRASH
};

struct hb_fact {
    enum hb_fact_kind kind;
    uint64_t ts_ns; /* when it began (the exit, the blocking call) */
    uint32_t tid;   /* the thread it is about */
    int no_then;    /* the text says "then" itself */
    char text[2048];
};

/* A thread that exited while still waiting on records. Judged at its exit:
 * if nobody had seen a known event's record complete by then,
 * poller-exited. Waits on handles no create returned are told at the end,
 * and only if the process hung. */
struct hb_orphan {
    int judged; /* poller-exited already raised at the exit */
    struct hb_who exit_who;
    struct hb_poll polls[HB_MAX_POLLS];
    unsigned npolls;
    int had_error;
    struct hb_who error_who;
    int32_t error_result;
    uint64_t error_handle;
    enum handle_state error_state;
    unsigned pending_events; /* live events with unproven records at its exit */
    struct hb_orphan *next;
};

/* A cuStreamAddCallback not yet seen running: its CALLBACK record proves
 * what was enqueued on the stream before it. */
struct hb_callback {
    uint64_t id; /* the enqueue's arg2, the CALLBACK's arg; 0 = free slot */
    struct hb_clock before;
};

struct hb_range {
    uint64_t base, end;
    struct replay_object *obj;
};

/* What a stream-work call does besides enqueueing, by api id (computed once per process). */
enum hb_copy_dir {
    COPY_NONE = 0,
    COPY_READS_ARG,
    COPY_WRITES_ARG,
    COPY_DST_SRC,
    HOST_FUNC,
    STREAM_CALLBACK /* cuStreamAddCallback */
};

/* The latest CG_REC_PYSTACK snapshot of a process (tracer/format.h). */
#define HB_PYSNAP_THREADS 16
struct hb_pysnap {
    uint64_t ts_ns; /* 0 = none yet */
    int32_t status; /* the header's result: 0 read, 1 GIL held, ... */
    uint64_t waited_ns;
    uint64_t after_call_ns; /* the process's latest CUDA call before it */
    unsigned n;
    struct {
        uint32_t tid, name, stack; /* native tid; string ids */
    } threads[HB_PYSNAP_THREADS];
};

struct hb_proc {
    int index; /* hash key */
    UT_hash_handle hh;
    struct replay_process *p;
    struct hb_timeline *timelines; /* in play: live, or destroyed with unproven work */
    size_t ndead;
    struct hb_timeline *legacy;
    uint64_t next_timeline_id;
    unsigned char *copy_dir; /* enum hb_copy_dir by api id */
    struct hb_range *ranges; /* live pinned ranges sorted by base */
    size_t nranges, cap_ranges;
    uint32_t task;      /* the current task (string id), 0 = between tasks */
    uint32_t last_task; /* the latest non-zero task */
    uint64_t epoch;     /* counts task starts */
    struct hb_who task_began;
    struct hb_orphan *orphans;
    struct hb_fact facts[HB_MAX_FACTS];
    size_t nfacts;
    /* the orphaned stall already reported (the watchdog repeats it while no
     * call comes): its event, and the number of calls replayed by then */
    uint64_t orphan_stall_handle, orphan_stall_calls;
    int orphan_stall_told;
    /* analysis/model/python_hang.c */
    struct hb_pysnap pysnap;
    uint64_t last_call_ns; /* the latest CUDA call record */
    int quiet_told;        /* a quiet after a dead poller was told ... */
    uint32_t quiet_tid;    /* ... after this thread's exit */
    struct hb_callback callbacks[HB_MAX_CALLBACKS];
    unsigned next_callback; /* the slot the next enqueue takes (oldest first) */
    /* released object states kept for reuse (events come and go by the million) */
    struct hb_obj *spare[HB_SPARE_OBJS];
    size_t nspare;
    /* A thread's event poll entry holds a snapshot of its own only once an
     * event was released while polled (hb_model.c polls_unshare); until
     * then this is 0. */
    int polls_unshared;
};

struct hb_model {
    struct replay_hooks hooks;
    struct hb_proc *procs;
    struct hb_proc *cached;                /* the latest process looked up ... */
    const struct replay_process *cached_p; /* ... and its replay process (NULL: none) */
    char **diagnosis;
    size_t ndiagnosis;
};

/* hb_state.c: shared by the model, the findings and the diagnosis (calls nothing above it) */
struct hb_who hb_who_of_step(const struct replay_process *p, const struct replay_step *s);
struct hb_thread *hb_thread_of(struct replay_thread *t);
struct hb_obj *hb_obj_of(struct hb_proc *hp, struct replay_object *o);
/* hb_obj_of for o without state while a released one is kept (hp->nspare). */
static inline struct hb_obj *hb_obj_from_spare(struct hb_proc *hp, struct replay_object *o)
{
    struct hb_obj *x = hp->spare[--hp->nspare];
    memset(x, 0, offsetof(struct hb_obj, snap)); /* snap: empty, with its memory */
    o->ext = x;
    return x;
}
/* Is this poll entry still waiting (nobody has seen its record complete)? */
int hb_poll_waiting(const struct hb_poll *poll);
/* The snapshot of the record the poll waits on. */
const struct hb_clock *hb_poll_snap(const struct hb_poll *poll);
/* Give a poll sharing its event's snapshot a copy of its own. */
void hb_poll_unshare(struct hb_poll *poll);
struct replay_thread *hb_find_thread(struct replay_process *p, uint32_t tid);
/* "thread 12 \"main\"" */
const char *hb_thread_label(const struct replay_process *p, uint32_t tid, uint32_t name, char *buf,
                            size_t len);
double hb_seconds(const struct replay_process *p, uint64_t ts_ns);
void hb_describe_timeline(char *buf, size_t len, const struct hb_timeline *tl);
/* Adds a fact (a FACT_CRASH replaces the last one when the list is full);
 * returns it, or NULL when there was no room. */
struct hb_fact *hb_add_fact(struct hb_proc *hp, enum hb_fact_kind kind, uint32_t tid,
                            uint64_t ts_ns, const char *text);
/* "CUDA_ERROR_INVALID_HANDLE", or "a crash (SIGSEGV)" for a crash record. */
const char *hb_result_name(int32_t result, char *buf, size_t len);

/* races.c: called by the model at the right moments */
void races_cross_task(struct hb_proc *hp, const struct replay_step *s, struct replay_object *o);
void races_record(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev);
void races_destroy_event(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev);
void races_destroy_stream(struct hb_proc *hp, const struct replay_step *s, struct hb_timeline *tl);
void races_consumed(struct hb_proc *hp, const struct replay_step *s, struct replay_object *ev);
/* races_consumed's bookkeeping of who consumed ev's record (x its state):
 * 0 when this is a second consumer, which races_consumed raises. */
static inline int races_consumer_note(struct hb_obj *x, const struct replay_object *ev,
                                      const struct replay_step *s)
{
    if (!ev->records || x->shared_raised)
        return 1;
    if (!x->has_consumer) {
        x->has_consumer = 1;
        x->consumer_tid = s->rec->tid;
        x->consumer_task = s->task;
        return 1;
    }
    return x->consumer_tid == s->rec->tid && x->consumer_task == s->task;
}
void races_copy(struct hb_proc *hp, const struct replay_step *s, struct replay_object *range,
                const struct hb_copy *copy);
/* races_copy's common case, inline: the range (state x) has one earlier copy,
 * on the same stream (tl) and behind a new one (proven complete, or an
 * upload, which stream order puts before it), and the new copy takes its
 * place. races_copy_in_place returns 0, changing nothing, when races_copy
 * must judge. */
static inline int races_copy_goes_in_place(const struct hb_obj *x, const struct hb_timeline *tl)
{
    const struct hb_copy *c = &x->copies[0];
    return x->ncopies == 1 && c->tl == tl && (!c->writes || c->pos <= c->tl->done);
}

static inline int races_copy_in_place(struct hb_obj *x, const struct hb_copy *copy)
{
    if (!races_copy_goes_in_place(x, copy->tl))
        return 0;
    x->copies[0] = *copy;
    return 1;
}
void races_task_begins(struct hb_proc *hp, const struct replay_step *s, uint64_t old_epoch,
                       uint32_t old_task);
void races_thread_exit(struct hb_proc *hp, const struct replay_step *s, struct replay_thread *t);
void races_stall(struct hb_proc *hp, const struct replay_step *s);
void races_process_end(struct hb_proc *hp);

/* diagnosis.c */
void diagnosis_blocked(struct hb_proc *hp, const struct finding_input *in);
void diagnosis_stall(struct hb_proc *hp, struct replay_thread *t, const struct cg_record *stall);
void diagnosis_poller_exited(struct hb_proc *hp, const struct hb_orphan *o, unsigned waiting);
/* A CG_FLAG_ORPHANED stall: `text` says what nobody will see complete. */
void diagnosis_orphaned_stall(struct hb_proc *hp, const struct cg_record *stall,
                              const char *waiting_task);
/* The process died of a signal inside a driver call (replay_process.crash). */
void diagnosis_crash(struct hb_proc *hp);
/* What a blocked thread waits on ("event 0x.. (recorded by ... on stream
 * ...)") and, in `cause`, why it may never finish ("the oldest work on that
 * stream no thread saw finish is a host function ..."; may be empty). */
void diagnosis_waited_on(struct hb_proc *hp, uint16_t api, uint64_t handle, uint8_t flags,
                         uint32_t tid, char *what, size_t what_len, char *cause, size_t cause_len);
/* analysis/model/python_hang.c: a record other than a call (PYSTACK records). */
void python_hang_record(struct hb_proc *hp, const struct replay_step *s);
/* A call step: the time of the latest call. Inline: once per call record. */
static inline void python_hang_call(struct hb_proc *hp, const struct replay_step *s)
{
    uint64_t ts = s->rec->ts_ns;
    if (ts > hp->last_call_ns)
        hp->last_call_ns = ts;
}
/* A CG_FLAG_ORPHANED stall with handle 0: the quiet after a dead poller. */
void python_hang_quiet_stall(struct hb_proc *hp, const struct replay_step *s);
/* At the end of a process: where its Python threads were at the last hang
 * report, when it `hung` or ended uncleanly with no CUDA call after it. */
void python_hang_end(struct hb_proc *hp, int hung);
/* " in watch at w.py:50": the innermost user Python frame of stack string
 * `site`, or "". */
void diagnosis_python_site(const struct replay_process *p, uint32_t site, char *buf, size_t len);
/* Append the process's chain to the model's list. */
void diagnosis_collect(struct hb_model *m, struct hb_proc *hp);

#endif

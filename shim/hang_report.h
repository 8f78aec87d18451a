/*
 * shim/hang_report.h — the hang report's text, from a snapshot.
 *
 * What it is for: turning what the watchdog saw (threads blocked in or
 * polling a CUDA call, events with pending records, every thread's last
 * call) into the stable, line-oriented report printed on stderr:
 *
 *   cuguard: HANG REPORT (pid 1234, watchdog limit 2 s): 1 thread stuck
 *   cuguard:   thread 1241 "watcher" polling cuEventQuery(event 0x5) for 2.1 s (3400 polls); event
 * 0x5 recorded on stream 0x7 by thread 1240 2.1 s ago, not complete cuguard:   thread 1240 "main"
 * blocked in cuStreamSynchronize(stream 0x7) for 2.0 s cuguard:   pending events (1): cuguard:
 * event 0x5 recorded on stream 0x7 by thread 1240 2.1 s ago; polled by thread 1241 for 2.1 s
 *   cuguard:   last calls (2 threads):
 *   cuguard:     thread 1240 "main": cuEventRecord(event 0x5, stream 0x7) = CUDA_SUCCESS 2.1 s ago;
 * not in a CUDA call cuguard: end of hang report
 *
 * Only CUDA calls are visible: a thread waiting on a lock, a queue or a
 * counter shows as "not in a CUDA call" with its last call.
 *
 * What it must never do: allocate, lock, call CUDA or read anything but the
 * snapshot it is given (the unit suite formats snapshots it builds itself).
 */
#ifndef CUGUARD_SHIM_HANG_REPORT_H
#define CUGUARD_SHIM_HANG_REPORT_H

#include <stdint.h>

#include "shim/pending_events.h"
#include "shim/python_threads.h"
#include "shim/thread.h"

/* A call as the report names it. */
struct cg_hang_call {
    uint16_t api;  /* api id (shim/api.h), 0 = none */
    uint8_t flags; /* enum cg_record_flags */
    uint64_t handle, arg, arg2;
    int32_t result;
    uint64_t ts_ns; /* when it returned (or began, for a call still running) */
};

/* One handle a thread keeps polling with CUDA_ERROR_NOT_READY results. */
struct cg_hang_poll {
    struct cg_hang_call call; /* api and handle of the poll */
    uint64_t since_ns;        /* first NOT_READY poll of this episode */
    uint64_t last_ns;         /* latest poll */
    uint64_t polls;           /* NOT_READY results seen in this episode */
    int target_known;         /* the polled event's latest record is in `target` */
    struct cg_event_state target;
};

struct cg_hang_thread {
    uint32_t tid;
    char name[32]; /* "" when unknown */
    int blocked;   /* inside `blocked_call` since its ts_ns */
    struct cg_hang_call blocked_call;
    int target_known; /* cuEventSynchronize: the event's latest record is in `target` */
    struct cg_event_state target;
    unsigned poll_count;
    struct cg_hang_poll polls[CG_SPIN_SLOTS];
    int has_last;
    struct cg_hang_call last; /* latest call (a poll counts, at its latest time) */
    int last_in_progress;     /* `last` is the blocking call it is still in */
};

/* An orphaned wait: a pending event whose every poller has exited while
 * the process makes no CUDA call (shim/stall_detect.h). */
struct cg_hang_orphan {
    struct cg_event_state event; /* with its pollers, poll_api/result/handle */
    uint64_t idle_ns;            /* since the process's latest CUDA call */
    char recorder_name[32];      /* "" when unknown */
    char poller_name[32];        /* of event.pollers[event.poller_count - 1] */
    uint64_t poller_exit_ns;     /* when that poller exited */
};

/* A thread that polled events and exited with an error or with work it
 * never saw complete, while the process has made no CUDA call since. */
struct cg_hang_dead_poller {
    uint32_t tid;
    char name[32];             /* "" when unknown */
    uint64_t exit_ns;          /* when it exited */
    uint64_t idle_ns;          /* since the process's latest CUDA call */
    int has_error;             /* its last call failed: */
    struct cg_hang_call error; /* that call */
    unsigned unseen;           /* event records it polled still unseen at its exit */
};

struct cg_hang_snapshot {
    uint32_t pid;
    uint64_t now_ns;
    uint64_t limit_ns; /* 0 = watchdog off (report asked for by signal) */
    const char *why;   /* e.g. "1 thread stuck" or "on SIGUSR2" */
    const struct cg_hang_thread *threads;
    unsigned thread_count;
    unsigned threads_unwatched;          /* threads beyond the watch table */
    const struct cg_event_state *events; /* pending, oldest record first */
    unsigned event_count;
    unsigned events_total; /* pending events in all (more than listed = "and N more") */
    int events_unknown;    /* the trace could not be read back: no event list */
    const struct cg_hang_orphan *orphans;
    unsigned orphan_count;
    /* Every Python thread's stack (NULL or CG_PYT_NO_PYTHON: no section). */
    const struct cg_pyt_snapshot *python;
    /* A quiet after a dead poller (shim/stall_detect.h), or NULL. */
    const struct cg_hang_dead_poller *dead;
    unsigned dead_count;
};

/* Receives one line (without "cuguard: " nor newline). */
typedef void (*cg_hang_emit)(const char *line, void *ctx);

/* Emit the whole report, line by line. */
void cg_hang_report(const struct cg_hang_snapshot *s, cg_hang_emit emit, void *ctx);

/* "cuEventQuery(event 0x5)" into buf: the api name and its record fields
 * named per tracer/format.h "Fields per API". */
void cg_hang_format_call(const struct cg_hang_call *c, char *buf, unsigned len);

/* "CUDA_SUCCESS", "CUDA_ERROR_NOT_READY", ... or "CUresult 123". */
const char *cg_hang_result_name(int32_t result, char *buf, unsigned len);

#endif

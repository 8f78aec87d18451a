/*
 * shim/pending_events.h — the watchdog's view of recorded, not yet complete
 * events, read back from this process's own trace.
 *
 * What it is for: the hang report lists every live event whose latest
 * record nobody has seen complete, with its stream, who recorded it and
 * when. Rather than add work to the record and query wrappers, the watchdog
 * catches up with the trace file (pread, from where it stopped last time)
 * only when it has something to report, and keeps a private table:
 * cuEventRecord* sets an event's latest record; a successful cuEventQuery or
 * cuEventSynchronize of it, a successful cuStreamSynchronize of its stream
 * that began after the record, or a successful cuCtxSynchronize /
 * cuMemFreeHost that began after it marks it complete; cuEventDestroy and a
 * new cuEventCreate of the same handle forget it.
 *
 * What it must never do: run outside the watchdog thread (nothing here is
 * thread-safe), use malloc (its memory comes from mmap, so an application
 * thread stuck inside malloc cannot stop the watchdog), call CUDA, or write
 * to the trace.
 */
#ifndef CUGUARD_SHIM_PENDING_EVENTS_H
#define CUGUARD_SHIM_PENDING_EVENTS_H

#include <stdint.h>

#define CG_PENDING_POLLERS 3u

/* What is known of one event's latest record. */
struct cg_event_state {
    uint64_t event;
    uint64_t stream;    /* stream it was recorded on */
    uint64_t record_ns; /* time of that record (CLOCK_MONOTONIC) */
    uint32_t tid;       /* thread that recorded it */
    uint8_t per_thread; /* recorded with a _ptsz variant (stream 0 = that thread's) */
    uint8_t pending;    /* 1 = nobody has seen that record complete */
    /* Threads that waited for this record after it was made: polled or
     * synchronized the event, or failed a poll of any handle (a wrong
     * handle, the seed scenario) while the record was pending. */
    uint8_t poller_count;    /* 0..CG_PENDING_POLLERS; more = poller_overflow */
    uint8_t poller_overflow; /* more pollers than could be kept: never orphaned */
    uint8_t orphan_reported; /* the watchdog wrote its orphaned-wait STALL */
    uint32_t pollers[CG_PENDING_POLLERS];
    uint16_t poll_api;    /* api of the latest of those polls */
    int32_t poll_result;  /* its result (a failed poll of another handle: that error) */
    uint64_t poll_handle; /* its handle (the event, or the wrong one) */
};

/* Read whatever the trace file at `path` gained since the last call (the
 * whole file the first time, or after the path changed, e.g. in a fork
 * child). Returns 0, or -1 when the file cannot be read (the table then
 * keeps what it had). */
int cg_pending_update(const char *path);

/* The latest record of `event`, if the trace showed one. Returns 1 and
 * fills `out`, else 0. */
int cg_pending_lookup(uint64_t event, struct cg_event_state *out);

/* Up to `max` events whose latest record is pending, oldest record first.
 * Returns how many were stored; `*total` gets how many there are. */
unsigned cg_pending_collect(struct cg_event_state *out, unsigned max, unsigned *total);

/* Time of the latest CUDA call in the trace (CALL, ENTER, EXIT, or a SPIN's
 * first poll), 0 when none. */
uint64_t cg_pending_last_call_ns(void);

/* Whether thread `tid` has exited (CG_REC_THREAD_EXIT seen, no later
 * THREAD_START of that tid); its exit time in *exit_ns. */
int cg_pending_thread_exited(uint32_t tid, uint64_t *exit_ns);

/* Pending events whose every poller (at least one) has exited: up to `max`
 * into `out`; returns how many. Those already reported are left out unless
 * `include_reported`. */
unsigned cg_pending_orphans(struct cg_event_state *out, unsigned max, int include_reported);

/* Remember that the orphaned wait of `event`'s current record was reported. */
void cg_pending_mark_orphan_reported(uint64_t event);

/* A dead poller: a thread that polled or waited on an event and exited
 * while its latest call had failed (`has_error`: that call's api, result,
 * handle and time) or while event records it polled were still pending
 * (`unseen` of them). */
struct cg_dead_poller {
    uint32_t tid;
    uint64_t exit_ns;
    int has_error;
    uint16_t api;
    int32_t result;
    uint64_t handle;
    uint64_t error_ns;
    unsigned unseen;
};

/* Dead pollers still gone: up to `max` into `out`; returns how many. Those
 * already reported are left out unless `include_reported`. */
unsigned cg_pending_dead_pollers(struct cg_dead_poller *out, unsigned max, int include_reported);

/* Remember that the quiet after `tid`'s death was reported. */
void cg_pending_mark_dead_reported(uint32_t tid);

/* Forget everything (fork child; the memory of a table a parent thread may
 * have been changing is abandoned, never touched again). */
void cg_pending_forget(void);

/* Records replayed by every update so far: each update reads only what was
 * written since the previous one, so a hang report on a long trace costs
 * the new records, not the whole file. */
uint64_t cg_pending_records_replayed(void);

/* Free the table (unit suites, for leak checkers). */
void cg_pending_reset(void);

#endif

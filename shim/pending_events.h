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

/* What is known of one event's latest record. */
struct cg_event_state {
    uint64_t event;
    uint64_t stream;    /* stream it was recorded on */
    uint64_t record_ns; /* time of that record (CLOCK_MONOTONIC) */
    uint32_t tid;       /* thread that recorded it */
    uint8_t per_thread; /* recorded with a _ptsz variant (stream 0 = that thread's) */
    uint8_t pending;    /* 1 = nobody has seen that record complete */
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

/* Forget everything (fork child; the memory of a table a parent thread may
 * have been changing is abandoned, never touched again). */
void cg_pending_forget(void);

/* Free the table (unit suites, for leak checkers). */
void cg_pending_reset(void);

#endif

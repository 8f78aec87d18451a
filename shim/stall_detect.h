/*
 * shim/stall_detect.h — what the watchdog does at each tick: read the
 * published watch slots, find stuck episodes, write STALL records, and
 * build the hang report's snapshot.
 *
 * What it is for: the watchdog's logic, apart from its thread and signal
 * plumbing (shim/watchdog.c), so that a unit suite can drive ticks with
 * chosen times.
 *
 * A thread is stuck when it has been inside a blocking call for the limit,
 * or when one of its open spins (same api and handle, NOT_READY every time,
 * its latest poll recent) began the limit ago; a spin reopened only because
 * some event was recorded elsewhere (shim/spin.h epochs) continues the same
 * episode, but a re-record of the polled event itself starts it afresh.
 *
 * An orphaned wait (CG_FLAG_ORPHANED, tracer/format.h) is a stall no
 * thread is in: the process has made no CUDA call for the limit, and an
 * event has a record nobody saw complete whose every poller has exited
 * (shim/pending_events.h says who polled it). One STALL per such record;
 * the check reads the trace only once the slots show no recent call.
 *
 * A quiet after a dead poller (CG_FLAG_ORPHANED with handle 0) is the
 * same silence when no event is left pending: a thread that polled or
 * waited on events exited with an error or with work it never saw
 * complete (cg_pending_dead_pollers), and the process has made no CUDA
 * call for the limit since. Each stall written also writes every Python
 * thread's stack (shim/python_threads.h) as CG_REC_PYSTACK records, as
 * each hang report does.
 *
 * What it must never do: run on more than one thread at a time (the
 * watchdog thread, or a unit suite with the watchdog stopped), lock,
 * allocate with malloc, or call CUDA.
 */
#ifndef CUGUARD_SHIM_STALL_DETECT_H
#define CUGUARD_SHIM_STALL_DETECT_H

#include <stdint.h>

/* Limit in ns (0 = no stall detection; reports on demand still work). */
void cg_stall_configure(uint64_t limit_ns);
uint64_t cg_stall_limit_ns(void);

/* How long a poll counts as recent (its thread is still polling). */
uint64_t cg_stall_recent_ns(void);

/* One tick at `now`: observe every slot, write one STALL record per newly
 * stuck episode. Returns the number of new stuck episodes. */
unsigned cg_stall_tick(uint64_t now);

/* Number of threads over the limit at the last tick. */
unsigned cg_stall_stuck_threads(void);

/* Print the hang report on `fd`, each line prefixed "cuguard: ". `why`
 * goes in the title line. */
void cg_stall_report(uint64_t now, const char *why, int fd);

/* Total STALL records written (orphaned waits included). */
unsigned cg_stall_records(void);

/* Orphaned-wait STALL records written. */
unsigned cg_stall_orphans(void);

/* Quiet-after-a-dead-poller STALL records written. */
unsigned cg_stall_dead_pollers(void);

/* Forget every episode (fork child, unit suites). */
void cg_stall_forget(void);

#endif

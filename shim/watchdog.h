/*
 * shim/watchdog.h — the watchdog thread (docs/design.md).
 *
 * What it is for: noticing a thread that has been blocked in a synchronize
 * (cuEventSynchronize, cuStreamSynchronize, cuCtxSynchronize, cuMemFreeHost)
 * or has kept polling one incomplete event or stream for longer than
 * CUGUARD_WATCHDOG seconds; writing one CG_REC_STALL record per stuck
 * episode (handle = the object, arg = the stuck thread, arg2 = ns stuck so
 * far, api = the blocking or polling call, tid = the watchdog's own) and
 * printing the hang report (shim/hang_report.h) on stderr. The dump signal
 * (CUGUARD_DUMP_SIGNAL, default SIGUSR2) prints the same report on demand:
 * its handler only posts a semaphore; the watchdog thread does the work.
 *
 * The thread starts with the first record of a traced process (never in
 * idle mode), again in a fork child that traces, sleeps between ticks
 * (at most four per limit, at most one a second for long limits) and reads
 * only what threads publish in shim/watch_slots.h, plus the trace file when
 * it has something to report. It never delays exit (nothing joins it).
 *
 * What it must never do: call CUDA, take a lock an application thread could
 * hold (no malloc, no stdio stream), steal a signal the application already
 * handles, or write a STALL record more than once per stuck episode.
 */
#ifndef CUGUARD_SHIM_WATCHDOG_H
#define CUGUARD_SHIM_WATCHDOG_H

#include <stdint.h>

/* Start the watchdog (and install the dump signal) unless this process
 * already did. Called by the first slot claim (shim/watch_slots.c). */
void cg_watchdog_ensure_started(void);

/* For unit suites. */
/* The limit in milliseconds, instead of CUGUARD_WATCHDOG, for the next start
 * (0 = back to the configuration). */
void cg_watchdog_set_limit_ms(unsigned ms);
/* Where reports go (default: file descriptor 2). */
void cg_watchdog_set_output(int fd);
/* Ask for a report now, as the dump signal does. */
void cg_watchdog_request_report(void);
/* Stop and join the thread for good (only a fork child starts another):
 * a unit suite then drives shim/stall_detect.h itself. */
void cg_watchdog_stop(void);
/* Reports printed so far, STALL records written so far. */
unsigned cg_watchdog_reports(void);
unsigned cg_watchdog_stalls(void);
/* CPU time the watchdog thread has used, in ns (0 when not running). */
uint64_t cg_watchdog_cpu_ns(void);

#endif

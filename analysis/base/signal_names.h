/*
 * analysis/base/signal_names.h — "SIGSEGV" for a signal number.
 *
 * What it is for: crash records (tracer/format.h CG_RESULT_CRASHED) carry
 * the signal the process died of; reports name it the way users know it.
 *
 * What it must never do: depend on the host's signal numbering beyond the
 * Linux one the traces are written on, or return NULL.
 */
#ifndef CUGUARD_ANALYSIS_SIGNAL_NAMES_H
#define CUGUARD_ANALYSIS_SIGNAL_NAMES_H

#include <stddef.h>

/* "SIGSEGV", or "signal N" (written into buf) when the number has no name. */
const char *signal_name(int signo, char *buf, size_t len);

#endif

/*
 * shim/live_errors.h — a per-process count of calls a live error finding
 * may explain, for the pytest plugin (python/cuguard.py).
 *
 * What it is for: the plugin's --cuguard-fail-tests reads the count with
 * ctypes from the already-loaded libcuguard.so before and after each test;
 * only when it grew does it replay the process's own trace (named by
 * cuguard_trace_path) to learn which unknown-handle, use-after-destroy or
 * double-destroy the test made. So a clean test costs two loads.
 * Counted: every traced call that failed (other than CUDA_ERROR_NOT_READY;
 * the driver refuses a foreign, destroyed or twice-destroyed handle), and,
 * with a policy or CUGUARD_ON_ERROR on, every call the registry found
 * naming such a handle (even one the driver then accepted).
 *
 * What it must never do: lock, allocate, or cost anything on a call that
 * succeeded; change a call.
 */
#ifndef CUGUARD_SHIM_LIVE_ERRORS_H
#define CUGUARD_SHIM_LIVE_ERRORS_H

/* One more call that a live error finding may explain. */
void cg_live_error_note(void);

/* Exported (the plugin's ABI; C linkage, stable names):
 *   unsigned long cuguard_live_error_count(void);  the count so far
 *   const char *cuguard_trace_path(void);          this process's trace file,
 *                                                  or NULL when not tracing */
unsigned long cuguard_live_error_count(void);
const char *cuguard_trace_path(void);

#endif

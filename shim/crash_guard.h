/*
 * shim/crash_guard.h — leave a record when the process dies inside the driver.
 *
 * What it is for: on a real driver, cuEventQuery given a foreign address or
 * a destroyed event can fault inside the driver; the call never returns, so
 * its CALL record would never be written. While tracing, each traced call
 * publishes "inside the driver for this call" (shim/record.h,
 * cg_call_inside; a fast call its record, shim/record_fast.h). The handler installed here for
 * SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT writes, when the faulting thread is inside a driver
 * call, that call's record with result CG_RESULT_CRASHED(signo)
 * (tracer/format.h), then hands the signal on exactly as it would have gone
 * without cuguard: to the handler the program had when tracing began, or the
 * default action (core dump, exit status 128+signo).
 *
 * What it must never do: anything not async-signal-safe in the handler
 * (no lock, no allocation, no stdio: one compare-and-swap into an already
 * mapped trace segment, else nothing); record a fault outside a driver
 * call; swallow a signal; replace a handler the program installs after
 * tracing began (it is installed once, at trace start, and never again).
 */
#ifndef CUGUARD_SHIM_CRASH_GUARD_H
#define CUGUARD_SHIM_CRASH_GUARD_H

/* Install the fault handlers, chaining to whatever was there, once per
 * process (a fork child inherits them). Called when the trace opens. */
void cg_crash_guard_install(void);

#endif

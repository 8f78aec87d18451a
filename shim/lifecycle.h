/*
 * shim/lifecycle.h — the shim's load, fork and exit: what sets up the rest.
 *
 * What it is for: the constructor reads the configuration, loads the
 * policies and sets the tracing state (shim/trace_state.h); fork handlers
 * hand each child its own trace; the destructor closes the trace. It is
 * the top of the shim: it calls policies, the trace state and the driver,
 * and nothing below calls it.
 *
 * What it must never do: open a file, load a driver or allocate at load.
 */
#ifndef CUGUARD_SHIM_LIFECYCLE_H
#define CUGUARD_SHIM_LIFECYCLE_H

#include "shim/trace_state.h"

/* 1 when a wrapper may tail-call the real function (when resolved) and do
 * nothing else: no policy is on and tracing is not wanted. A shortcut only:
 * 0 always sends the call through the full wrapper, which is right in every
 * state, and a wrapper whose real function is not resolved yet takes the
 * full path too. Refreshed by cg_forward_refresh() at load, fork and exit. */
extern int cg_forward_only __attribute__((visibility("hidden")));
void cg_forward_refresh(void);

/* Read the configuration from the environment and set the state. Called by
 * the constructor; unit suites call it again after setenv(). */
void cg_shim_load_config(void);

/* Close the trace (what the destructor does); unit suites call it before
 * reading their trace. */
void cg_shim_finish(void);

#endif

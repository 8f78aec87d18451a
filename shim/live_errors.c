/*
 * shim/live_errors.c — the live-error count and trace path the pytest
 * plugin reads (see shim/live_errors.h).
 *
 * What it must never do: lock or allocate; be called on a call that
 * succeeded.
 */
#include "shim/live_errors.h"

#include "tracer/writer.h"

static unsigned long live_errors;

void cg_live_error_note(void)
{
    __atomic_add_fetch(&live_errors, 1, __ATOMIC_RELAXED);
}

__attribute__((visibility("default"))) unsigned long cuguard_live_error_count(void)
{
    return __atomic_load_n(&live_errors, __ATOMIC_RELAXED);
}

__attribute__((visibility("default"))) const char *cuguard_trace_path(void)
{
    return cg_writer_path();
}

/*
 * context.h — the simulated runtime's lazy initialization: driver loaded,
 * cuInit done once, the current device's primary context retained once per
 * process and made current on each calling thread that has none.
 *
 * Must never: destroy or release a context, or replace a context the
 * application made current itself.
 */
#ifndef FAKECUDART_CONTEXT_H
#define FAKECUDART_CONTEXT_H

#include <driver_types.h>
#include <stdbool.h>

#include "tests/fakecuda/cudart/driver_table.h"

/*
 * Everything a runtime call needs before it reaches the driver. On success
 * *table is the plain (per_thread false) or per-thread table and the calling
 * thread has a current context. Returns the runtime error otherwise (already
 * noted as the thread's last error).
 */
cudaError_t runtime_enter(bool per_thread, const struct driver_table **table);

/* The driver only (no cuInit, no context), for version queries. */
cudaError_t runtime_driver(const struct driver_table **table);

/* Selects the calling thread's device (cudaSetDevice). */
cudaError_t runtime_set_device(int device);

/* The calling thread's device (cudaGetDevice). */
int runtime_current_device(void);

#endif

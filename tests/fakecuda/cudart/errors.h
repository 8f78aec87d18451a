/*
 * errors.h — the simulated runtime's error handling: CUresult → cudaError_t
 * mapping, error names and strings, and the per-thread last error that
 * cudaGetLastError / cudaPeekAtLastError report.
 *
 * Must never: call the driver, allocate, or fail.
 */
#ifndef FAKECUDART_ERRORS_H
#define FAKECUDART_ERRORS_H

#include <cuda.h>
#include <driver_types.h>

/* The runtime code for a driver result (cudaErrorUnknown when unmapped). */
cudaError_t error_from_driver(CUresult result);

/* Remembers err as this thread's last error unless it is cudaSuccess;
 * returns err so an entry point can end with `return error_note(...)`. */
cudaError_t error_note(cudaError_t err);

/* Shorthand: error_note(error_from_driver(result)). */
cudaError_t error_note_driver(CUresult result);

/* Like error_note_driver, except that "not ready" (a status of a query, not
 * an error) does not become the last error. */
cudaError_t error_note_status(CUresult result);

/* This thread's last error; reset to cudaSuccess when clear is nonzero. */
cudaError_t error_last(int clear);

#endif

/*
 * api_event.c — cudaEvent* of the simulated runtime: each is the matching
 * cuEvent* call through the driver table, with the result mapped.
 *
 * Must never: keep state about events (the driver is the only source of
 * truth) or call the driver before runtime_enter succeeded.
 */
#include <cuda_runtime_api.h>

#include "tests/fakecuda/cudart/context.h"
#include "tests/fakecuda/cudart/errors.h"
#include "tests/fakecuda/cudart/ptsz.h"

cudaError_t CUDARTAPI cudaEventCreateWithFlags(cudaEvent_t *event, unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (event == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    /* cudaEvent{BlockingSync,DisableTiming,Interprocess} equal CU_EVENT_*. */
    return error_note_driver(d->cuEventCreate((CUevent *)event, flags));
}

cudaError_t CUDARTAPI cudaEventCreate(cudaEvent_t *event)
{
    return cudaEventCreateWithFlags(event, cudaEventDefault);
}

/* Records on stream through the plain or per-thread table. */
static cudaError_t record(bool per_thread, cudaEvent_t event, cudaStream_t stream,
                          unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (flags == 0) {
        return error_note_driver(d->cuEventRecord(event, stream));
    }
    return error_note_driver(d->cuEventRecordWithFlags(event, stream, flags));
}

cudaError_t CUDARTAPI cudaEventRecord(cudaEvent_t event, cudaStream_t stream)
{
    return record(false, event, stream, 0);
}

cudaError_t CUDARTAPI cudaEventRecord_ptsz(cudaEvent_t event, cudaStream_t stream)
{
    return record(true, event, stream, 0);
}

cudaError_t CUDARTAPI cudaEventRecordWithFlags(cudaEvent_t event, cudaStream_t stream,
                                               unsigned int flags)
{
    return record(false, event, stream, flags);
}

cudaError_t CUDARTAPI cudaEventRecordWithFlags_ptsz(cudaEvent_t event, cudaStream_t stream,
                                                    unsigned int flags)
{
    return record(true, event, stream, flags);
}

cudaError_t CUDARTAPI cudaEventQuery(cudaEvent_t event)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_status(d->cuEventQuery(event));
}

cudaError_t CUDARTAPI cudaEventSynchronize(cudaEvent_t event)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuEventSynchronize(event));
}

cudaError_t CUDARTAPI cudaEventDestroy(cudaEvent_t event)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuEventDestroy(event));
}

cudaError_t CUDARTAPI cudaEventElapsedTime(float *ms, cudaEvent_t start, cudaEvent_t end)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuEventElapsedTime(ms, start, end));
}

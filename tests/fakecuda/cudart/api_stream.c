/*
 * api_stream.c — cudaStream* of the simulated runtime: each is the matching
 * cuStream* call through the plain or per-thread driver table.
 *
 * Must never: translate stream handles (0, cudaStreamLegacy and
 * cudaStreamPerThread mean to the driver what they mean to the runtime) or
 * keep state about streams.
 */
#include <cuda_runtime_api.h>

#include "tests/fakecuda/cudart/context.h"
#include "tests/fakecuda/cudart/errors.h"
#include "tests/fakecuda/cudart/ptsz.h"

cudaError_t CUDARTAPI cudaStreamCreateWithPriority(cudaStream_t *stream, unsigned int flags,
                                                   int priority)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (stream == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    /* cudaStreamNonBlocking equals CU_STREAM_NON_BLOCKING. */
    return error_note_driver(d->cuStreamCreateWithPriority((CUstream *)stream, flags, priority));
}

cudaError_t CUDARTAPI cudaStreamCreateWithFlags(cudaStream_t *stream, unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (stream == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    return error_note_driver(d->cuStreamCreate((CUstream *)stream, flags));
}

cudaError_t CUDARTAPI cudaStreamCreate(cudaStream_t *stream)
{
    return cudaStreamCreateWithFlags(stream, cudaStreamDefault);
}

cudaError_t CUDARTAPI cudaStreamDestroy(cudaStream_t stream)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuStreamDestroy(stream));
}

static cudaError_t stream_synchronize(bool per_thread, cudaStream_t stream)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuStreamSynchronize(stream));
}

cudaError_t CUDARTAPI cudaStreamSynchronize(cudaStream_t stream)
{
    return stream_synchronize(false, stream);
}

cudaError_t CUDARTAPI cudaStreamSynchronize_ptsz(cudaStream_t stream)
{
    return stream_synchronize(true, stream);
}

static cudaError_t stream_query(bool per_thread, cudaStream_t stream)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_status(d->cuStreamQuery(stream));
}

cudaError_t CUDARTAPI cudaStreamQuery(cudaStream_t stream)
{
    return stream_query(false, stream);
}

cudaError_t CUDARTAPI cudaStreamQuery_ptsz(cudaStream_t stream)
{
    return stream_query(true, stream);
}

static cudaError_t stream_wait_event(bool per_thread, cudaStream_t stream, cudaEvent_t event,
                                     unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuStreamWaitEvent(stream, event, flags));
}

cudaError_t CUDARTAPI cudaStreamWaitEvent(cudaStream_t stream, cudaEvent_t event,
                                          unsigned int flags)
{
    return stream_wait_event(false, stream, event, flags);
}

cudaError_t CUDARTAPI cudaStreamWaitEvent_ptsz(cudaStream_t stream, cudaEvent_t event,
                                               unsigned int flags)
{
    return stream_wait_event(true, stream, event, flags);
}

static cudaError_t launch_host_func(bool per_thread, cudaStream_t stream, cudaHostFn_t fn,
                                    void *user_data)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuLaunchHostFunc(stream, fn, user_data));
}

cudaError_t CUDARTAPI cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void *userData)
{
    return launch_host_func(false, stream, fn, userData);
}

cudaError_t CUDARTAPI cudaLaunchHostFunc_ptsz(cudaStream_t stream, cudaHostFn_t fn, void *userData)
{
    return launch_host_func(true, stream, fn, userData);
}

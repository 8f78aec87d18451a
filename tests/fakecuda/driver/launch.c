/*
 * launch.c — work that is not a copy: kernel launches (there is no GPU, so
 * any CUfunction is accepted and the launch is a no-op op in stream order)
 * and host functions, which run on the stream's worker thread after the
 * work before them and before the work after them. Workloads use host
 * functions to simulate GPU work that takes time. cuStreamAddCallback is a
 * host function with the driver's callback signature: it runs on the
 * stream's worker after the work before it, blocks the work after it, and
 * gets the stream as passed plus a status (docs/driver-behaviour.md, cuda.h).
 *
 * Must never: run a host function with fc_lock held or out of order.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <cudaProfiler.h>

/* Queues one op; the caller has done fc_enter. A stream callback, when
 * given, replaces fn. */
static CUresult submit_op(CUstream handle, bool per_thread, fc_op_action action, CUhostFn fn,
                          CUstreamCallback callback, void *user_data)
{
    struct fc_stream *stream = NULL;
    fc_lock();
    CUresult rc = fc_stream_resolve(handle, per_thread, &stream);
    struct fc_op *op = rc == CUDA_SUCCESS ? fc_op_new(action) : NULL;
    if (rc == CUDA_SUCCESS && op == NULL)
        rc = CUDA_ERROR_OUT_OF_MEMORY;
    if (rc == CUDA_SUCCESS) {
        op->host_fn = fn;
        op->stream_callback = callback;
        op->callback_stream = handle;
        op->user_data = user_data;
        rc = fc_stream_submit(stream, op);
    }
    fc_unlock();
    return rc;
}

static CUresult submit_to_stream(CUstream handle, bool per_thread, fc_op_action action, CUhostFn fn,
                                 void *user_data)
{
    return submit_op(handle, per_thread, action, fn, NULL, user_data);
}

static CUresult launch_kernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                              unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
                              unsigned int blockDimZ, CUstream hStream, bool per_thread)
{
    CUresult rc = fc_enter("cuLaunchKernel");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (f == NULL)
        return CUDA_ERROR_INVALID_HANDLE;
    if (gridDimX == 0 || gridDimY == 0 || gridDimZ == 0 || blockDimX == 0 || blockDimY == 0 ||
        blockDimZ == 0 || (unsigned long)blockDimX * blockDimY * blockDimZ > 1024)
        return CUDA_ERROR_INVALID_VALUE;
    return submit_to_stream(hStream, per_thread, NULL, NULL, NULL);
}

CUresult cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                        unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
                        unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream,
                        void **kernelParams, void **extra)
{
    (void)sharedMemBytes;
    (void)kernelParams;
    (void)extra;
    return launch_kernel(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, hStream,
                         false);
}

CUresult cuLaunchKernel_ptsz(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                             unsigned int gridDimZ, unsigned int blockDimX, unsigned int blockDimY,
                             unsigned int blockDimZ, unsigned int sharedMemBytes, CUstream hStream,
                             void **kernelParams, void **extra)
{
    (void)sharedMemBytes;
    (void)kernelParams;
    (void)extra;
    return launch_kernel(f, gridDimX, gridDimY, gridDimZ, blockDimX, blockDimY, blockDimZ, hStream,
                         true);
}

static CUresult launch_host_func(CUstream hStream, CUhostFn fn, void *userData, bool per_thread)
{
    CUresult rc = fc_enter("cuLaunchHostFunc");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (fn == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    return submit_to_stream(hStream, per_thread, fc_op_action_host_fn, fn, userData);
}

CUresult cuLaunchHostFunc(CUstream hStream, CUhostFn fn, void *userData)
{
    return launch_host_func(hStream, fn, userData, false);
}

CUresult cuLaunchHostFunc_ptsz(CUstream hStream, CUhostFn fn, void *userData)
{
    return launch_host_func(hStream, fn, userData, true);
}

static CUresult add_callback(CUstream hStream, CUstreamCallback callback, void *userData,
                             unsigned int flags, bool per_thread)
{
    CUresult rc = fc_enter("cuStreamAddCallback");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (callback == NULL || flags != 0)
        return CUDA_ERROR_INVALID_VALUE;
    return submit_op(hStream, per_thread, fc_op_action_stream_callback, NULL, callback, userData);
}

CUresult cuStreamAddCallback(CUstream hStream, CUstreamCallback callback, void *userData,
                             unsigned int flags)
{
    return add_callback(hStream, callback, userData, flags, false);
}

CUresult cuStreamAddCallback_ptsz(CUstream hStream, CUstreamCallback callback, void *userData,
                                  unsigned int flags)
{
    return add_callback(hStream, callback, userData, flags, true);
}

/* Profiling has no effect here; like the driver, it needs a current context. */
static CUresult profiler_switch(const char *api)
{
    CUresult rc = fc_enter(api);
    if (rc != CUDA_SUCCESS)
        return rc;
    struct fc_context *ctx = NULL;
    fc_lock();
    rc = fc_current_context(&ctx);
    fc_unlock();
    return rc;
}

CUresult cuProfilerStart(void)
{
    return profiler_switch("cuProfilerStart");
}

CUresult cuProfilerStop(void)
{
    return profiler_switch("cuProfilerStop");
}

/*
 * writeback_calls.c — the writeback workload's driver calls, each printing
 * its "call" line (tests/workloads/common.h) after it returns.
 *
 * Must never: decide anything (retries, error handling) — callers do.
 */
#include <stdint.h>

#include "tests/workloads/common.h"
#include "tests/workloads/writeback.h"

CUresult logged_event_create(CUevent *event)
{
    CUresult r = cuEventCreate(event, CU_EVENT_DISABLE_TIMING);
    wl_call("cuEventCreate", r == CUDA_SUCCESS ? *event : NULL, CU_EVENT_DISABLE_TIMING, 0, r);
    return r;
}

CUresult logged_event_record(CUevent event, CUstream stream)
{
    CUresult r = cuEventRecord(event, stream);
    wl_call("cuEventRecord", event, (uintptr_t)stream, 0, r);
    return r;
}

CUresult logged_event_destroy(CUevent event)
{
    CUresult r = cuEventDestroy(event);
    wl_call("cuEventDestroy", event, 0, 0, r);
    return r;
}

CUresult logged_copy_to_host(void *host, CUdeviceptr device, size_t bytes, CUstream stream)
{
    CUresult r = cuMemcpyDtoHAsync(host, device, bytes, stream);
    wl_call("cuMemcpyDtoHAsync", stream, (uintptr_t)host, bytes, r);
    return r;
}

CUresult logged_copy_to_device(CUdeviceptr device, const void *host, size_t bytes, CUstream stream)
{
    CUresult r = cuMemcpyHtoDAsync(device, host, bytes, stream);
    wl_call("cuMemcpyHtoDAsync", stream, (uintptr_t)host, bytes, r);
    return r;
}

CUresult logged_host_func(CUstream stream, CUhostFn fn, void *data)
{
    CUresult r = cuLaunchHostFunc(stream, fn, data);
    wl_call("cuLaunchHostFunc", stream, (uintptr_t)fn, (uintptr_t)data, r);
    return r;
}

CUresult logged_stream_create(CUstream *stream)
{
    CUresult r = cuStreamCreate(stream, CU_STREAM_NON_BLOCKING);
    wl_call("cuStreamCreate", r == CUDA_SUCCESS ? *stream : NULL, CU_STREAM_NON_BLOCKING, 0, r);
    return r;
}

CUresult logged_stream_synchronize(CUstream stream)
{
    CUresult r = cuStreamSynchronize(stream);
    wl_call("cuStreamSynchronize", stream, 0, 0, r);
    return r;
}

CUresult logged_stream_destroy(CUstream stream)
{
    CUresult r = cuStreamDestroy(stream);
    wl_call("cuStreamDestroy", stream, 0, 0, r);
    return r;
}

CUresult logged_host_alloc(void **pointer, size_t bytes)
{
    CUresult r = cuMemHostAlloc(pointer, bytes, 0);
    wl_call("cuMemHostAlloc", r == CUDA_SUCCESS ? *pointer : NULL, bytes, 0, r);
    return r;
}

CUresult logged_free_host(void *pointer)
{
    CUresult r = cuMemFreeHost(pointer);
    wl_call("cuMemFreeHost", pointer, 0, 0, r);
    return r;
}

/*
 * bench/nulldriver.c — a CUDA driver that does nothing, for `make bench`.
 *
 * What it is for: isolating the shim's own cost. Built as
 * build/bench/null/libcuda.so.1 and selected with LD_LIBRARY_PATH (or
 * CUGUARD_LIBCUDA), it answers the calls the per-call benchmark makes with
 * CUDA_SUCCESS and cheap handles: a per-thread counter, so two threads never
 * share a handle and never touch a shared cache line. The simulator cannot
 * serve here: its streams, locks and worker threads cost far more than the
 * shim does.
 *
 * NULLCUDA_QUERY=not-ready (read once at load) makes cuEventQuery and
 * cuStreamQuery answer CUDA_ERROR_NOT_READY, for the spin-compression
 * measurement.
 *
 * What it must never do: run anything, allocate, lock, or hand out a pointer
 * that may be dereferenced (host "allocations" are addresses nobody maps; the
 * benchmark never writes through them). It is not a simulator: use
 * tests/fakecuda for behaviour.
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* define both the legacy and _v2 names */
#include <cuda.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
/* Handles of thread k start at k << 40: distinct per thread, never mapped. */
#define THREAD_SHIFT 40

static CUresult query_result = CUDA_SUCCESS;
static unsigned next_thread_index;
static __thread uint64_t thread_base;
static __thread uint64_t thread_count;

__attribute__((constructor)) static void read_query_mode(void)
{
    const char *mode = getenv("NULLCUDA_QUERY");
    if (mode != NULL && strcmp(mode, "not-ready") == 0)
        query_result = CUDA_ERROR_NOT_READY;
}

/* A fresh handle value of the calling thread. */
static uint64_t next_handle(void)
{
    if (thread_base == 0) {
        unsigned k = __atomic_add_fetch(&next_thread_index, 1, __ATOMIC_RELAXED);
        thread_base = (uint64_t)k << THREAD_SHIFT;
    }
    thread_count += 64;
    return thread_base + thread_count;
}

EXPORT CUresult cuInit(unsigned int flags)
{
    (void)flags;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDriverGetVersion(int *version)
{
    if (version == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *version = CUDA_VERSION;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(CUdevice *device, int ordinal)
{
    if (device == NULL || ordinal != 0)
        return CUDA_ERROR_INVALID_VALUE;
    *device = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device)
{
    (void)device;
    if (context == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *context = (CUcontext)(uintptr_t)0xc0000000u;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSetCurrent(CUcontext context)
{
    (void)context;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventCreate(CUevent *event, unsigned int flags)
{
    (void)flags;
    if (event == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *event = (CUevent)(uintptr_t)next_handle();
    return CUDA_SUCCESS;
}

/* Every variant answers through a static function: a call between two
 * exported names would go through the PLT, land in the preloaded shim and
 * be wrapped twice. */
static CUresult check_handle(const void *handle)
{
    return handle != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuEventRecord(CUevent event, CUstream stream)
{
    (void)stream;
    return check_handle(event);
}

EXPORT CUresult cuEventRecord_ptsz(CUevent event, CUstream stream)
{
    (void)stream;
    return check_handle(event);
}

EXPORT CUresult cuEventQuery(CUevent event)
{
    return event != NULL ? query_result : CUDA_ERROR_INVALID_HANDLE;
}

EXPORT CUresult cuEventSynchronize(CUevent event)
{
    return check_handle(event);
}

EXPORT CUresult cuEventDestroy(CUevent event)
{
    return check_handle(event);
}

EXPORT CUresult cuEventDestroy_v2(CUevent event)
{
    return check_handle(event);
}

EXPORT CUresult cuStreamCreate(CUstream *stream, unsigned int flags)
{
    (void)flags;
    if (stream == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *stream = (CUstream)(uintptr_t)next_handle();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamGetId(CUstream stream, unsigned long long *id)
{
    if (id == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *id = (unsigned long long)(uintptr_t)stream;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamQuery(CUstream stream)
{
    (void)stream;
    return query_result;
}

EXPORT CUresult cuStreamQuery_ptsz(CUstream stream)
{
    (void)stream;
    return query_result;
}

EXPORT CUresult cuStreamSynchronize(CUstream stream)
{
    (void)stream;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamSynchronize_ptsz(CUstream stream)
{
    (void)stream;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamDestroy(CUstream stream)
{
    return check_handle(stream);
}

EXPORT CUresult cuStreamDestroy_v2(CUstream stream)
{
    return check_handle(stream);
}

EXPORT CUresult cuCtxSynchronize(void)
{
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemHostAlloc(void **pointer, size_t bytes, unsigned int flags)
{
    (void)bytes;
    (void)flags;
    if (pointer == NULL)
        return CUDA_ERROR_INVALID_VALUE;
    *pointer = (void *)(uintptr_t)next_handle();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFreeHost(void *pointer)
{
    return pointer != NULL ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

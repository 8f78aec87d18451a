/*
 * api_memory.c — pinned host memory, device memory and copies of the
 * simulated runtime, each mapped onto the driver call the real runtime uses.
 *
 * Must never: copy memory itself (the driver does, in stream order) or keep
 * state about allocations.
 */
#include <cuda_runtime_api.h>
#include <stdint.h>

#include "tests/fakecuda/cudart/context.h"
#include "tests/fakecuda/cudart/errors.h"
#include "tests/fakecuda/cudart/ptsz.h"

cudaError_t CUDARTAPI cudaMallocHost(void **ptr, size_t size)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuMemAllocHost(ptr, size));
}

cudaError_t CUDARTAPI cudaHostAlloc(void **pHost, size_t size, unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    /* cudaHostAlloc{Portable,Mapped,WriteCombined} equal CU_MEMHOSTALLOC_*. */
    return error_note_driver(d->cuMemHostAlloc(pHost, size, flags));
}

cudaError_t CUDARTAPI cudaFreeHost(void *ptr)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuMemFreeHost(ptr));
}

cudaError_t CUDARTAPI cudaHostRegister(void *ptr, size_t size, unsigned int flags)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    /* cudaHostRegister{Portable,Mapped,IoMemory,ReadOnly} equal CU_MEMHOSTREGISTER_*. */
    return error_note_driver(d->cuMemHostRegister(ptr, size, flags));
}

cudaError_t CUDARTAPI cudaHostUnregister(void *ptr)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuMemHostUnregister(ptr));
}

cudaError_t CUDARTAPI cudaMalloc(void **devPtr, size_t size)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (devPtr == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    CUdeviceptr address = 0;
    CUresult result = d->cuMemAlloc(&address, size);
    *devPtr = result == CUDA_SUCCESS ? (void *)(uintptr_t)address : NULL;
    return error_note_driver(result);
}

cudaError_t CUDARTAPI cudaFree(void *devPtr)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess || devPtr == NULL) {
        /* cudaFree(NULL) is the customary way to initialize the runtime. */
        return err;
    }
    return error_note_driver(d->cuMemFree((CUdeviceptr)(uintptr_t)devPtr));
}

/* Enqueues one copy of kind on stream through table d. */
static CUresult enqueue_copy(const struct driver_table *d, void *dst, const void *src, size_t count,
                             enum cudaMemcpyKind kind, CUstream stream)
{
    CUdeviceptr dst_address = (CUdeviceptr)(uintptr_t)dst;
    CUdeviceptr src_address = (CUdeviceptr)(uintptr_t)src;
    switch (kind) {
    case cudaMemcpyHostToDevice:
        return d->cuMemcpyHtoDAsync(dst_address, src, count, stream);
    case cudaMemcpyDeviceToHost:
        return d->cuMemcpyDtoHAsync(dst, src_address, count, stream);
    case cudaMemcpyDeviceToDevice:
        return d->cuMemcpyDtoDAsync(dst_address, src_address, count, stream);
    case cudaMemcpyHostToHost:
    case cudaMemcpyDefault:
        return d->cuMemcpyAsync(dst_address, src_address, count, stream);
    }
    return CUDA_ERROR_INVALID_VALUE;
}

static int valid_kind(enum cudaMemcpyKind kind)
{
    return kind >= cudaMemcpyHostToHost && kind <= cudaMemcpyDefault;
}

static cudaError_t memcpy_async(bool per_thread, void *dst, const void *src, size_t count,
                                enum cudaMemcpyKind kind, cudaStream_t stream)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (!valid_kind(kind)) {
        return error_note(cudaErrorInvalidMemcpyDirection);
    }
    return error_note_driver(enqueue_copy(d, dst, src, count, kind, stream));
}

cudaError_t CUDARTAPI cudaMemcpyAsync(void *dst, const void *src, size_t count,
                                      enum cudaMemcpyKind kind, cudaStream_t stream)
{
    return memcpy_async(false, dst, src, count, kind, stream);
}

cudaError_t CUDARTAPI cudaMemcpyAsync_ptsz(void *dst, const void *src, size_t count,
                                           enum cudaMemcpyKind kind, cudaStream_t stream)
{
    return memcpy_async(true, dst, src, count, kind, stream);
}

/* A synchronous copy: the copy on the default stream, then a wait for it. */
static cudaError_t memcpy_sync(bool per_thread, void *dst, const void *src, size_t count,
                               enum cudaMemcpyKind kind)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(per_thread, &d);
    if (err != cudaSuccess) {
        return err;
    }
    if (!valid_kind(kind)) {
        return error_note(cudaErrorInvalidMemcpyDirection);
    }
    CUresult result = enqueue_copy(d, dst, src, count, kind, NULL);
    if (result == CUDA_SUCCESS) {
        result = d->cuStreamSynchronize(NULL);
    }
    return error_note_driver(result);
}

cudaError_t CUDARTAPI cudaMemcpy(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind)
{
    return memcpy_sync(false, dst, src, count, kind);
}

cudaError_t CUDARTAPI cudaMemcpy_ptds(void *dst, const void *src, size_t count,
                                      enum cudaMemcpyKind kind)
{
    return memcpy_sync(true, dst, src, count, kind);
}

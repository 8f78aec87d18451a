/*
 * errors.c — error mapping, names, strings and the per-thread last error of
 * the simulated runtime (see errors.h), plus cudaGetErrorName/String and
 * cudaGetLastError/cudaPeekAtLastError.
 *
 * Must never: call the driver, allocate, or return NULL from a name/string
 * lookup.
 */
#include "tests/fakecuda/cudart/errors.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

struct error_row {
    CUresult driver;
    cudaError_t runtime;
    const char *name;
    const char *text;
};

/* The codes the simulated runtime can produce, with the real runtime's text. */
static const struct error_row error_rows[] = {
    {CUDA_SUCCESS, cudaSuccess, "cudaSuccess", "no error"},
    {CUDA_ERROR_INVALID_VALUE, cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {CUDA_ERROR_OUT_OF_MEMORY, cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation",
     "out of memory"},
    {CUDA_ERROR_NOT_INITIALIZED, cudaErrorInitializationError, "cudaErrorInitializationError",
     "initialization error"},
    {CUDA_ERROR_DEINITIALIZED, cudaErrorCudartUnloading, "cudaErrorCudartUnloading",
     "driver shutting down"},
    {CUDA_ERROR_STUB_LIBRARY, cudaErrorStubLibrary, "cudaErrorStubLibrary",
     "CUDA driver is a stub library"},
    {CUDA_ERROR_NO_DEVICE, cudaErrorNoDevice, "cudaErrorNoDevice",
     "no CUDA-capable device is detected"},
    {CUDA_ERROR_INVALID_DEVICE, cudaErrorInvalidDevice, "cudaErrorInvalidDevice",
     "invalid device ordinal"},
    {CUDA_ERROR_INVALID_CONTEXT, cudaErrorDeviceUninitialized, "cudaErrorDeviceUninitialized",
     "invalid device context"},
    {CUDA_ERROR_CONTEXT_IS_DESTROYED, cudaErrorContextIsDestroyed, "cudaErrorContextIsDestroyed",
     "context is destroyed"},
    {CUDA_ERROR_INVALID_HANDLE, cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
     "invalid resource handle"},
    {CUDA_ERROR_ILLEGAL_STATE, cudaErrorIllegalState, "cudaErrorIllegalState",
     "the operation cannot be performed in the present state"},
    {CUDA_ERROR_NOT_FOUND, cudaErrorSymbolNotFound, "cudaErrorSymbolNotFound",
     "named symbol not found"},
    {CUDA_ERROR_NOT_READY, cudaErrorNotReady, "cudaErrorNotReady", "device not ready"},
    {CUDA_ERROR_ILLEGAL_ADDRESS, cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {CUDA_ERROR_LAUNCH_TIMEOUT, cudaErrorLaunchTimeout, "cudaErrorLaunchTimeout",
     "the launch timed out and was terminated"},
    {CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, cudaErrorHostMemoryAlreadyRegistered,
     "cudaErrorHostMemoryAlreadyRegistered",
     "part or all of the requested memory range is already mapped"},
    {CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED, cudaErrorHostMemoryNotRegistered,
     "cudaErrorHostMemoryNotRegistered",
     "pointer does not correspond to a registered memory region"},
    {CUDA_ERROR_LAUNCH_FAILED, cudaErrorLaunchFailure, "cudaErrorLaunchFailure",
     "unspecified launch failure"},
    {CUDA_ERROR_NOT_PERMITTED, cudaErrorNotPermitted, "cudaErrorNotPermitted",
     "operation not permitted"},
    {CUDA_ERROR_NOT_SUPPORTED, cudaErrorNotSupported, "cudaErrorNotSupported",
     "operation not supported"},
    {CUDA_ERROR_TIMEOUT, cudaErrorTimeout, "cudaErrorTimeout", "wait operation timed out"},
    {CUDA_ERROR_UNKNOWN, cudaErrorUnknown, "cudaErrorUnknown", "unknown error"},
};

/* Runtime-only codes (no driver counterpart). */
static const struct error_row runtime_rows[] = {
    {CUDA_ERROR_UNKNOWN, cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {CUDA_ERROR_UNKNOWN, cudaErrorInsufficientDriver, "cudaErrorInsufficientDriver",
     "CUDA driver version is insufficient for CUDA runtime version"},
};

static _Thread_local cudaError_t last_error = cudaSuccess;

cudaError_t error_from_driver(CUresult result)
{
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++) {
        if (error_rows[i].driver == result) {
            return error_rows[i].runtime;
        }
    }
    return cudaErrorUnknown;
}

cudaError_t error_note(cudaError_t err)
{
    if (err != cudaSuccess) {
        last_error = err;
    }
    return err;
}

cudaError_t error_note_driver(CUresult result)
{
    return error_note(error_from_driver(result));
}

cudaError_t error_note_status(CUresult result)
{
    cudaError_t err = error_from_driver(result);
    return err == cudaErrorNotReady ? err : error_note(err);
}

cudaError_t error_last(int clear)
{
    cudaError_t err = last_error;
    if (clear) {
        last_error = cudaSuccess;
    }
    return err;
}

/* The row describing a runtime code, or NULL. */
static const struct error_row *find_runtime_row(cudaError_t err)
{
    for (size_t i = 0; i < sizeof error_rows / sizeof error_rows[0]; i++) {
        if (error_rows[i].runtime == err) {
            return &error_rows[i];
        }
    }
    for (size_t i = 0; i < sizeof runtime_rows / sizeof runtime_rows[0]; i++) {
        if (runtime_rows[i].runtime == err) {
            return &runtime_rows[i];
        }
    }
    return NULL;
}

const char *CUDARTAPI cudaGetErrorName(cudaError_t error)
{
    const struct error_row *row = find_runtime_row(error);
    return row != NULL ? row->name : "unrecognized error code";
}

const char *CUDARTAPI cudaGetErrorString(cudaError_t error)
{
    const struct error_row *row = find_runtime_row(error);
    return row != NULL ? row->text : "unrecognized error code";
}

cudaError_t CUDARTAPI cudaGetLastError(void)
{
    return error_last(1);
}

cudaError_t CUDARTAPI cudaPeekAtLastError(void)
{
    return error_last(0);
}

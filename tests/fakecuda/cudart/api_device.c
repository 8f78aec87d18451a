/*
 * api_device.c — device selection, device synchronization and version
 * queries of the simulated runtime.
 *
 * Must never: report a driver version it did not get from the driver.
 */
#include <cuda_runtime_api.h>

#include "tests/fakecuda/cudart/context.h"
#include "tests/fakecuda/cudart/errors.h"

cudaError_t CUDARTAPI cudaSetDevice(int device)
{
    return runtime_set_device(device);
}

cudaError_t CUDARTAPI cudaGetDevice(int *device)
{
    if (device == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    *device = runtime_current_device();
    return cudaSuccess;
}

cudaError_t CUDARTAPI cudaGetDeviceCount(int *count)
{
    const struct driver_table *d = NULL;
    if (count == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    *count = 0;
    cudaError_t err = runtime_driver(&d);
    if (err != cudaSuccess) {
        return err;
    }
    CUresult result = d->cuInit(0);
    if (result == CUDA_SUCCESS) {
        result = d->cuDeviceGetCount(count);
    }
    return error_note_driver(result);
}

cudaError_t CUDARTAPI cudaDeviceSynchronize(void)
{
    const struct driver_table *d = NULL;
    cudaError_t err = runtime_enter(false, &d);
    if (err != cudaSuccess) {
        return err;
    }
    return error_note_driver(d->cuCtxSynchronize(NULL));
}

cudaError_t CUDARTAPI cudaDriverGetVersion(int *driverVersion)
{
    const struct driver_table *d = NULL;
    if (driverVersion == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    d = driver_table_get(false);
    if (d == NULL) {
        /* Like the real runtime: no driver is version 0, not an error. */
        *driverVersion = 0;
        return cudaSuccess;
    }
    return error_note_driver(d->cuDriverGetVersion(driverVersion));
}

cudaError_t CUDARTAPI cudaRuntimeGetVersion(int *runtimeVersion)
{
    if (runtimeVersion == NULL) {
        return error_note(cudaErrorInvalidValue);
    }
    *runtimeVersion = CUDART_VERSION;
    return cudaSuccess;
}

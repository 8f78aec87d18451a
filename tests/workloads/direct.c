/*
 * direct.c — the "direct" route workload: the lifecycle scenario through
 * driver functions called by name, the program linked with -lcuda (the
 * toolkit's stub at build time, libcuda.so.1 at run time).
 *
 * Must never: look a driver function up at run time.
 */
#include <cuda.h>

#include "tests/workloads/lifecycle.h"

int main(void)
{
    /* cuda.h maps each name to its current ABI (cuEventDestroy_v2, ...). */
    const struct driver_api api = {
        .cuInit = cuInit,
        .cuDeviceGet = cuDeviceGet,
        .cuDevicePrimaryCtxRetain = cuDevicePrimaryCtxRetain,
        .cuDevicePrimaryCtxRelease = cuDevicePrimaryCtxRelease,
        .cuCtxSetCurrent = cuCtxSetCurrent,
        .cuCtxSynchronize = cuCtxSynchronize,
        .cuStreamCreate = cuStreamCreate,
        .cuStreamCreateWithPriority = cuStreamCreateWithPriority,
        .cuStreamDestroy = cuStreamDestroy,
        .cuStreamSynchronize = cuStreamSynchronize,
        .cuStreamQuery = cuStreamQuery,
        .cuStreamWaitEvent = cuStreamWaitEvent,
        .cuEventCreate = cuEventCreate,
        .cuEventRecord = cuEventRecord,
        .cuEventRecordWithFlags = cuEventRecordWithFlags,
        .cuEventQuery = cuEventQuery,
        .cuEventSynchronize = cuEventSynchronize,
        .cuEventDestroy = cuEventDestroy,
        .cuEventElapsedTime = cuEventElapsedTime,
        .cuMemAllocHost = cuMemAllocHost,
        .cuMemHostAlloc = cuMemHostAlloc,
        .cuMemFreeHost = cuMemFreeHost,
        .cuMemHostRegister = cuMemHostRegister,
        .cuMemHostUnregister = cuMemHostUnregister,
        .cuMemAlloc = cuMemAlloc,
        .cuMemFree = cuMemFree,
        .cuMemcpyAsync = cuMemcpyAsync,
        .cuMemcpyHtoDAsync = cuMemcpyHtoDAsync,
        .cuMemcpyDtoHAsync = cuMemcpyDtoHAsync,
        .cuLaunchHostFunc = cuLaunchHostFunc,
    };
    return lifecycle_run(&api, "direct");
}

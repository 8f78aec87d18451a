/*
 * driver_table.h — the simulated runtime's view of the driver: one table of
 * entry points obtained exactly as the real cudart obtains them
 * (dlopen("libcuda.so.1"), dlsym of "cuGetProcAddress_v2", then
 * cuGetProcAddress_v2 for every function, cudaVersion 13000).
 *
 * Two tables are kept: `legacy` (flags 0: handle 0 is the legacy default
 * stream) backs the plain cuda* entry points, `per_thread`
 * (CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) backs the _ptsz/_ptds ones.
 *
 * Must never: link against libcuda, call a cu* symbol by name, or resolve
 * anything more than once per process.
 */
#ifndef FAKECUDART_DRIVER_TABLE_H
#define FAKECUDART_DRIVER_TABLE_H

#include <cuda.h>
#include <cudaTypedefs.h>
#include <stdbool.h>

/* The driver API version the runtime asks cuGetProcAddress_v2 for. */
#define CUDART_DRIVER_API_VERSION 13000

struct driver_table {
    PFN_cuInit_v2000 cuInit;
    PFN_cuDriverGetVersion_v2020 cuDriverGetVersion;
    PFN_cuDeviceGetCount_v2000 cuDeviceGetCount;
    PFN_cuDeviceGet_v2000 cuDeviceGet;
    PFN_cuDevicePrimaryCtxRetain_v7000 cuDevicePrimaryCtxRetain;
    PFN_cuCtxGetCurrent_v4000 cuCtxGetCurrent;
    PFN_cuCtxSetCurrent_v4000 cuCtxSetCurrent;
    PFN_cuCtxSynchronize_v13000 cuCtxSynchronize;
    PFN_cuEventCreate_v2000 cuEventCreate;
    PFN_cuEventRecord_v2000 cuEventRecord;
    PFN_cuEventRecordWithFlags_v11010 cuEventRecordWithFlags;
    PFN_cuEventQuery_v2000 cuEventQuery;
    PFN_cuEventSynchronize_v2000 cuEventSynchronize;
    PFN_cuEventDestroy_v4000 cuEventDestroy;
    PFN_cuEventElapsedTime_v12080 cuEventElapsedTime;
    PFN_cuStreamCreate_v2000 cuStreamCreate;
    PFN_cuStreamCreateWithPriority_v5050 cuStreamCreateWithPriority;
    PFN_cuStreamDestroy_v4000 cuStreamDestroy;
    PFN_cuStreamSynchronize_v2000 cuStreamSynchronize;
    PFN_cuStreamQuery_v2000 cuStreamQuery;
    PFN_cuStreamWaitEvent_v3020 cuStreamWaitEvent;
    PFN_cuMemAllocHost_v3020 cuMemAllocHost;
    PFN_cuMemHostAlloc_v2020 cuMemHostAlloc;
    PFN_cuMemFreeHost_v2000 cuMemFreeHost;
    PFN_cuMemHostRegister_v6050 cuMemHostRegister;
    PFN_cuMemHostUnregister_v4000 cuMemHostUnregister;
    PFN_cuMemAlloc_v3020 cuMemAlloc;
    PFN_cuMemFree_v3020 cuMemFree;
    PFN_cuMemcpyAsync_v4000 cuMemcpyAsync;
    PFN_cuMemcpyHtoDAsync_v3020 cuMemcpyHtoDAsync;
    PFN_cuMemcpyDtoHAsync_v3020 cuMemcpyDtoHAsync;
    PFN_cuMemcpyDtoDAsync_v3020 cuMemcpyDtoDAsync;
    PFN_cuLaunchHostFunc_v10000 cuLaunchHostFunc;
};

/*
 * The table for plain (per_thread false) or _ptsz/_ptds (true) entry points,
 * loading the driver on first use; NULL when the driver cannot be loaded or
 * lacks an entry point (a message saying which goes to stderr once).
 */
const struct driver_table *driver_table_get(bool per_thread);

#endif

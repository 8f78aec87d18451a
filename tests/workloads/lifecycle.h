/*
 * lifecycle.h — the driver-API scenario shared by the route workloads
 * (direct, dlsym, procaddr): every wrapped lifecycle call once or more, on
 * created streams and on the default stream, ending with a data check.
 * Each route only differs in how it fills `struct driver_api`.
 *
 * Must never: reach the driver except through the table it is given.
 */
#ifndef WORKLOADS_LIFECYCLE_H
#define WORKLOADS_LIFECYCLE_H

#include <cuda.h>
#include <cudaTypedefs.h>
#include <stddef.h>

struct driver_api {
    PFN_cuInit_v2000 cuInit;
    PFN_cuDeviceGet_v2000 cuDeviceGet;
    PFN_cuDevicePrimaryCtxRetain_v7000 cuDevicePrimaryCtxRetain;
    PFN_cuDevicePrimaryCtxRelease_v11000 cuDevicePrimaryCtxRelease;
    PFN_cuCtxSetCurrent_v4000 cuCtxSetCurrent;
    PFN_cuCtxSynchronize_v2000 cuCtxSynchronize;
    PFN_cuStreamCreate_v2000 cuStreamCreate;
    PFN_cuStreamCreateWithPriority_v5050 cuStreamCreateWithPriority;
    PFN_cuStreamDestroy_v4000 cuStreamDestroy;
    PFN_cuStreamSynchronize_v2000 cuStreamSynchronize;
    PFN_cuStreamQuery_v2000 cuStreamQuery;
    PFN_cuStreamWaitEvent_v3020 cuStreamWaitEvent;
    PFN_cuEventCreate_v2000 cuEventCreate;
    PFN_cuEventRecord_v2000 cuEventRecord;
    PFN_cuEventRecordWithFlags_v11010 cuEventRecordWithFlags;
    PFN_cuEventQuery_v2000 cuEventQuery;
    PFN_cuEventSynchronize_v2000 cuEventSynchronize;
    PFN_cuEventDestroy_v4000 cuEventDestroy;
    PFN_cuEventElapsedTime_v12080 cuEventElapsedTime;
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
    PFN_cuLaunchHostFunc_v10000 cuLaunchHostFunc;
};

/* How a loader finds one entry of struct driver_api. */
struct driver_api_entry {
    const char *name;   /* base name, as given to cuGetProcAddress */
    const char *symbol; /* exported symbol with the signature above, for dlsym */
    int version;        /* cudaVersion to ask cuGetProcAddress for */
    size_t offset;      /* of the field in struct driver_api */
};
extern const struct driver_api_entry driver_api_entries[];
extern const size_t driver_api_entry_count;

/* Stores pfn in the field entry describes. */
void driver_api_set(struct driver_api *api, const struct driver_api_entry *entry, void *pfn);

/* Runs the scenario under route name `route`; returns the exit status
 * (0 = every call succeeded and the data came back intact). */
int lifecycle_run(const struct driver_api *api, const char *route);

#endif

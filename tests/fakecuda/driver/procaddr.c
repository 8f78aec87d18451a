/*
 * procaddr.c — cuGetProcAddress and cuGetProcAddress_v2: the table that
 * maps a base name, a CUDA version and the per-thread flag to the exact
 * variant a real driver returns. The versions are those of the
 * PFN_<name>_v<version>[_ptsz|_ptds] typedefs in cudaTypedefs.h: the
 * newest variant introduced at or below cudaVersion wins; with
 * CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM the per-thread variant is
 * preferred where one exists (docs/driver-behaviour.md, "cuGetProcAddress_v2").
 *
 * Must never: return a variant newer than cudaVersion, or fail for an
 * unknown name other than by a NULL pointer and SYMBOL_NOT_FOUND.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <cudaProfiler.h>

#include <string.h>

typedef void (*fc_entry_point)(void);

struct proc_entry {
    const char *name;      /* base name, as callers pass it */
    int version;           /* CUDA version that introduced this variant */
    bool per_thread;       /* a _ptsz / _ptds variant */
    fc_entry_point target; /* the variant itself */
};

#define ENTRY(name, version, per_thread, fn)                                                       \
    {                                                                                              \
        name, version, per_thread, (fc_entry_point)fn                                              \
    }

static const struct proc_entry proc_table[] = {
    {"cuInit", 2000, false, (fc_entry_point)cuInit},
    {"cuDriverGetVersion", 2020, false, (fc_entry_point)cuDriverGetVersion},
    {"cuGetErrorName", 6000, false, (fc_entry_point)cuGetErrorName},
    {"cuGetErrorString", 6000, false, (fc_entry_point)cuGetErrorString},
    {"cuGetProcAddress", 11030, false, (fc_entry_point)cuGetProcAddress},
    {"cuGetProcAddress", 12000, false, (fc_entry_point)cuGetProcAddress_v2},
    /* device */
    {"cuDeviceGet", 2000, false, (fc_entry_point)cuDeviceGet},
    {"cuDeviceGetCount", 2000, false, (fc_entry_point)cuDeviceGetCount},
    {"cuDeviceGetName", 2000, false, (fc_entry_point)cuDeviceGetName},
    {"cuDeviceGetAttribute", 2000, false, (fc_entry_point)cuDeviceGetAttribute},
    {"cuDeviceComputeCapability", 2000, false, (fc_entry_point)cuDeviceComputeCapability},
    {"cuDeviceTotalMem", 2000, false, (fc_entry_point)cuDeviceTotalMem},
    {"cuDeviceTotalMem", 3020, false, (fc_entry_point)cuDeviceTotalMem_v2},
    {"cuDeviceGetUuid", 9020, false, (fc_entry_point)cuDeviceGetUuid},
    {"cuDeviceGetUuid", 11040, false, (fc_entry_point)cuDeviceGetUuid_v2},
    {"cuDeviceGetPCIBusId", 4010, false, (fc_entry_point)cuDeviceGetPCIBusId},
    {"cuDevicePrimaryCtxRetain", 7000, false, (fc_entry_point)cuDevicePrimaryCtxRetain},
    {"cuDevicePrimaryCtxRelease", 7000, false, (fc_entry_point)cuDevicePrimaryCtxRelease},
    {"cuDevicePrimaryCtxRelease", 11000, false, (fc_entry_point)cuDevicePrimaryCtxRelease_v2},
    {"cuDevicePrimaryCtxReset", 7000, false, (fc_entry_point)cuDevicePrimaryCtxReset},
    {"cuDevicePrimaryCtxReset", 11000, false, (fc_entry_point)cuDevicePrimaryCtxReset_v2},
    {"cuDevicePrimaryCtxSetFlags", 7000, false, (fc_entry_point)cuDevicePrimaryCtxSetFlags},
    {"cuDevicePrimaryCtxSetFlags", 11000, false, (fc_entry_point)cuDevicePrimaryCtxSetFlags_v2},
    {"cuDevicePrimaryCtxGetState", 7000, false, (fc_entry_point)cuDevicePrimaryCtxGetState},
    /* context */
    {"cuCtxCreate", 2000, false, (fc_entry_point)cuCtxCreate},
    {"cuCtxCreate", 3020, false, (fc_entry_point)cuCtxCreate_v2},
    {"cuCtxCreate", 11040, false, (fc_entry_point)cuCtxCreate_v3},
    {"cuCtxCreate", 12050, false, (fc_entry_point)cuCtxCreate_v4},
    {"cuCtxDestroy", 2000, false, (fc_entry_point)cuCtxDestroy},
    {"cuCtxDestroy", 4000, false, (fc_entry_point)cuCtxDestroy_v2},
    {"cuCtxPushCurrent", 2000, false, (fc_entry_point)cuCtxPushCurrent},
    {"cuCtxPushCurrent", 4000, false, (fc_entry_point)cuCtxPushCurrent_v2},
    {"cuCtxPopCurrent", 2000, false, (fc_entry_point)cuCtxPopCurrent},
    {"cuCtxPopCurrent", 4000, false, (fc_entry_point)cuCtxPopCurrent_v2},
    {"cuCtxSetCurrent", 4000, false, (fc_entry_point)cuCtxSetCurrent},
    {"cuCtxGetCurrent", 4000, false, (fc_entry_point)cuCtxGetCurrent},
    {"cuCtxGetDevice", 2000, false, (fc_entry_point)cuCtxGetDevice},
    {"cuCtxGetDevice", 13000, false, (fc_entry_point)cuCtxGetDevice_v2},
    {"cuCtxSynchronize", 2000, false, (fc_entry_point)cuCtxSynchronize},
    {"cuCtxSynchronize", 13000, false, (fc_entry_point)cuCtxSynchronize_v2},
    {"cuCtxGetApiVersion", 3020, false, (fc_entry_point)cuCtxGetApiVersion},
    {"cuCtxGetFlags", 7000, false, (fc_entry_point)cuCtxGetFlags},
    {"cuCtxGetStreamPriorityRange", 5050, false, (fc_entry_point)cuCtxGetStreamPriorityRange},
    /* memory */
    {"cuMemGetInfo", 2000, false, (fc_entry_point)cuMemGetInfo},
    {"cuMemGetInfo", 3020, false, (fc_entry_point)cuMemGetInfo_v2},
    {"cuMemAlloc", 2000, false, (fc_entry_point)cuMemAlloc},
    {"cuMemAlloc", 3020, false, (fc_entry_point)cuMemAlloc_v2},
    {"cuMemFree", 2000, false, (fc_entry_point)cuMemFree},
    {"cuMemFree", 3020, false, (fc_entry_point)cuMemFree_v2},
    {"cuMemAllocHost", 2000, false, (fc_entry_point)cuMemAllocHost},
    {"cuMemAllocHost", 3020, false, (fc_entry_point)cuMemAllocHost_v2},
    {"cuMemHostAlloc", 2020, false, (fc_entry_point)cuMemHostAlloc},
    {"cuMemFreeHost", 2000, false, (fc_entry_point)cuMemFreeHost},
    {"cuMemHostRegister", 4000, false, (fc_entry_point)cuMemHostRegister},
    {"cuMemHostRegister", 6050, false, (fc_entry_point)cuMemHostRegister_v2},
    {"cuMemHostUnregister", 4000, false, (fc_entry_point)cuMemHostUnregister},
    {"cuMemHostGetDevicePointer", 2020, false, (fc_entry_point)cuMemHostGetDevicePointer},
    {"cuMemHostGetDevicePointer", 3020, false, (fc_entry_point)cuMemHostGetDevicePointer_v2},
    {"cuMemHostGetFlags", 2030, false, (fc_entry_point)cuMemHostGetFlags},
    {"cuMemAllocManaged", 6000, false, (fc_entry_point)cuMemAllocManaged},
    {"cuMemGetAddressRange", 2000, false, (fc_entry_point)cuMemGetAddressRange},
    {"cuMemGetAddressRange", 3020, false, (fc_entry_point)cuMemGetAddressRange_v2},
    {"cuMemcpy", 4000, false, (fc_entry_point)cuMemcpy},
    {"cuMemcpy", 7000, true, (fc_entry_point)cuMemcpy_ptds},
    {"cuMemcpyAsync", 4000, false, (fc_entry_point)cuMemcpyAsync},
    {"cuMemcpyAsync", 7000, true, (fc_entry_point)cuMemcpyAsync_ptsz},
    {"cuMemcpyHtoD", 2000, false, (fc_entry_point)cuMemcpyHtoD},
    {"cuMemcpyHtoD", 3020, false, (fc_entry_point)cuMemcpyHtoD_v2},
    {"cuMemcpyHtoD", 7000, true, (fc_entry_point)cuMemcpyHtoD_v2_ptds},
    {"cuMemcpyDtoH", 2000, false, (fc_entry_point)cuMemcpyDtoH},
    {"cuMemcpyDtoH", 3020, false, (fc_entry_point)cuMemcpyDtoH_v2},
    {"cuMemcpyDtoH", 7000, true, (fc_entry_point)cuMemcpyDtoH_v2_ptds},
    {"cuMemcpyDtoD", 2000, false, (fc_entry_point)cuMemcpyDtoD},
    {"cuMemcpyDtoD", 3020, false, (fc_entry_point)cuMemcpyDtoD_v2},
    {"cuMemcpyDtoD", 7000, true, (fc_entry_point)cuMemcpyDtoD_v2_ptds},
    {"cuMemcpyHtoDAsync", 2000, false, (fc_entry_point)cuMemcpyHtoDAsync},
    {"cuMemcpyHtoDAsync", 3020, false, (fc_entry_point)cuMemcpyHtoDAsync_v2},
    {"cuMemcpyHtoDAsync", 7000, true, (fc_entry_point)cuMemcpyHtoDAsync_v2_ptsz},
    {"cuMemcpyDtoHAsync", 2000, false, (fc_entry_point)cuMemcpyDtoHAsync},
    {"cuMemcpyDtoHAsync", 3020, false, (fc_entry_point)cuMemcpyDtoHAsync_v2},
    {"cuMemcpyDtoHAsync", 7000, true, (fc_entry_point)cuMemcpyDtoHAsync_v2_ptsz},
    {"cuMemcpyDtoDAsync", 3000, false, (fc_entry_point)cuMemcpyDtoDAsync},
    {"cuMemcpyDtoDAsync", 3020, false, (fc_entry_point)cuMemcpyDtoDAsync_v2},
    {"cuMemcpyDtoDAsync", 7000, true, (fc_entry_point)cuMemcpyDtoDAsync_v2_ptsz},
    {"cuMemsetD8", 3020, false, (fc_entry_point)cuMemsetD8_v2},
    {"cuMemsetD8", 7000, true, (fc_entry_point)cuMemsetD8_v2_ptds},
    {"cuMemsetD8Async", 3020, false, (fc_entry_point)cuMemsetD8Async},
    {"cuMemsetD8Async", 7000, true, (fc_entry_point)cuMemsetD8Async_ptsz},
    /* streams */
    {"cuStreamCreate", 2000, false, (fc_entry_point)cuStreamCreate},
    {"cuStreamCreateWithPriority", 5050, false, (fc_entry_point)cuStreamCreateWithPriority},
    {"cuStreamDestroy", 2000, false, (fc_entry_point)cuStreamDestroy},
    {"cuStreamDestroy", 4000, false, (fc_entry_point)cuStreamDestroy_v2},
    {"cuStreamSynchronize", 2000, false, (fc_entry_point)cuStreamSynchronize},
    {"cuStreamSynchronize", 7000, true, (fc_entry_point)cuStreamSynchronize_ptsz},
    {"cuStreamQuery", 2000, false, (fc_entry_point)cuStreamQuery},
    {"cuStreamQuery", 7000, true, (fc_entry_point)cuStreamQuery_ptsz},
    {"cuStreamWaitEvent", 3020, false, (fc_entry_point)cuStreamWaitEvent},
    {"cuStreamWaitEvent", 7000, true, (fc_entry_point)cuStreamWaitEvent_ptsz},
    {"cuStreamGetId", 12000, false, (fc_entry_point)cuStreamGetId},
    {"cuStreamGetId", 12000, true, (fc_entry_point)cuStreamGetId_ptsz},
    {"cuStreamGetFlags", 5050, false, (fc_entry_point)cuStreamGetFlags},
    {"cuStreamGetFlags", 7000, true, (fc_entry_point)cuStreamGetFlags_ptsz},
    {"cuStreamGetPriority", 5050, false, (fc_entry_point)cuStreamGetPriority},
    {"cuStreamGetPriority", 7000, true, (fc_entry_point)cuStreamGetPriority_ptsz},
    {"cuStreamGetCtx", 9020, false, (fc_entry_point)cuStreamGetCtx},
    {"cuStreamGetCtx", 9020, true, (fc_entry_point)cuStreamGetCtx_ptsz},
    /* events */
    {"cuEventCreate", 2000, false, (fc_entry_point)cuEventCreate},
    {"cuEventRecord", 2000, false, (fc_entry_point)cuEventRecord},
    {"cuEventRecord", 7000, true, (fc_entry_point)cuEventRecord_ptsz},
    {"cuEventRecordWithFlags", 11010, false, (fc_entry_point)cuEventRecordWithFlags},
    {"cuEventRecordWithFlags", 11010, true, (fc_entry_point)cuEventRecordWithFlags_ptsz},
    {"cuEventQuery", 2000, false, (fc_entry_point)cuEventQuery},
    {"cuEventSynchronize", 2000, false, (fc_entry_point)cuEventSynchronize},
    {"cuEventDestroy", 2000, false, (fc_entry_point)cuEventDestroy},
    {"cuEventDestroy", 4000, false, (fc_entry_point)cuEventDestroy_v2},
    {"cuEventElapsedTime", 2000, false, (fc_entry_point)cuEventElapsedTime},
    {"cuEventElapsedTime", 12080, false, (fc_entry_point)cuEventElapsedTime_v2},
    /* launches */
    {"cuLaunchKernel", 4000, false, (fc_entry_point)cuLaunchKernel},
    {"cuLaunchKernel", 7000, true, (fc_entry_point)cuLaunchKernel_ptsz},
    {"cuLaunchHostFunc", 10000, false, (fc_entry_point)cuLaunchHostFunc},
    {"cuLaunchHostFunc", 10000, true, (fc_entry_point)cuLaunchHostFunc_ptsz},
    {"cuStreamAddCallback", 5000, false, (fc_entry_point)cuStreamAddCallback},
    {"cuStreamAddCallback", 7000, true, (fc_entry_point)cuStreamAddCallback_ptsz},
    {"cuProfilerStart", 4000, false, (fc_entry_point)cuProfilerStart},
    {"cuProfilerStop", 4000, false, (fc_entry_point)cuProfilerStop},
};

#define VALID_FLAGS                                                                                \
    (CU_GET_PROC_ADDRESS_LEGACY_STREAM | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)

/* The newest entry for name at or below version with the given kind. */
static const struct proc_entry *newest_variant(const char *name, int version, bool per_thread)
{
    const struct proc_entry *best = NULL;
    for (size_t i = 0; i < sizeof proc_table / sizeof proc_table[0]; i++) {
        const struct proc_entry *entry = &proc_table[i];
        if (entry->per_thread != per_thread || entry->version > version ||
            strcmp(entry->name, name) != 0)
            continue;
        if (best == NULL || entry->version >= best->version)
            best = entry;
    }
    return best;
}

static bool name_known(const char *name)
{
    for (size_t i = 0; i < sizeof proc_table / sizeof proc_table[0]; i++) {
        if (strcmp(proc_table[i].name, name) == 0)
            return true;
    }
    return false;
}

static CUresult lookup(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                       CUdriverProcAddressQueryResult *status)
{
    CUresult rc = fc_enter_uninitialized("cuGetProcAddress");
    if (rc != CUDA_SUCCESS)
        return rc;
    if (symbol == NULL || pfn == NULL || cudaVersion > FC_DRIVER_VERSION ||
        (flags & ~(cuuint64_t)VALID_FLAGS))
        return CUDA_ERROR_INVALID_VALUE;
    const struct proc_entry *found = NULL;
    if (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)
        found = newest_variant(symbol, cudaVersion, true);
    if (found == NULL)
        found = newest_variant(symbol, cudaVersion, false);
    *pfn = found ? (void *)found->target : NULL;
    if (found != NULL)
        *status = CU_GET_PROC_ADDRESS_SUCCESS;
    else if (name_known(symbol))
        *status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
    else
        *status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    return CUDA_SUCCESS;
}

CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
                             CUdriverProcAddressQueryResult *symbolStatus)
{
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
    CUresult rc = lookup(symbol, pfn, cudaVersion, flags, &status);
    if (rc == CUDA_SUCCESS && symbolStatus != NULL)
        *symbolStatus = status;
    return rc;
}

/* The CUDA 11.3 form has no status: a miss is CUDA_ERROR_NOT_FOUND. */
CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
    CUresult rc = lookup(symbol, pfn, cudaVersion, flags, &status);
    if (rc == CUDA_SUCCESS && status != CU_GET_PROC_ADDRESS_SUCCESS)
        return CUDA_ERROR_NOT_FOUND;
    return rc;
}

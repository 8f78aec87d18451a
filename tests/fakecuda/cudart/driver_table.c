/*
 * driver_table.c — loads the driver the way the real runtime does and fills
 * the two entry-point tables (see driver_table.h).
 *
 * Must never: call dlsym for anything but "cuGetProcAddress_v2", retry a
 * failed load, or write the tables after pthread_once has completed.
 */
#include "tests/fakecuda/cudart/driver_table.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>

/* One row per entry point: the base name and where its pointer goes. */
struct entry {
    const char *name;
    size_t offset;
};

static const struct entry entries[] = {
    {"cuInit", offsetof(struct driver_table, cuInit)},
    {"cuDriverGetVersion", offsetof(struct driver_table, cuDriverGetVersion)},
    {"cuDeviceGetCount", offsetof(struct driver_table, cuDeviceGetCount)},
    {"cuDeviceGet", offsetof(struct driver_table, cuDeviceGet)},
    {"cuDevicePrimaryCtxRetain", offsetof(struct driver_table, cuDevicePrimaryCtxRetain)},
    {"cuCtxGetCurrent", offsetof(struct driver_table, cuCtxGetCurrent)},
    {"cuCtxSetCurrent", offsetof(struct driver_table, cuCtxSetCurrent)},
    {"cuCtxSynchronize", offsetof(struct driver_table, cuCtxSynchronize)},
    {"cuEventCreate", offsetof(struct driver_table, cuEventCreate)},
    {"cuEventRecord", offsetof(struct driver_table, cuEventRecord)},
    {"cuEventRecordWithFlags", offsetof(struct driver_table, cuEventRecordWithFlags)},
    {"cuEventQuery", offsetof(struct driver_table, cuEventQuery)},
    {"cuEventSynchronize", offsetof(struct driver_table, cuEventSynchronize)},
    {"cuEventDestroy", offsetof(struct driver_table, cuEventDestroy)},
    {"cuEventElapsedTime", offsetof(struct driver_table, cuEventElapsedTime)},
    {"cuStreamCreate", offsetof(struct driver_table, cuStreamCreate)},
    {"cuStreamCreateWithPriority", offsetof(struct driver_table, cuStreamCreateWithPriority)},
    {"cuStreamDestroy", offsetof(struct driver_table, cuStreamDestroy)},
    {"cuStreamSynchronize", offsetof(struct driver_table, cuStreamSynchronize)},
    {"cuStreamQuery", offsetof(struct driver_table, cuStreamQuery)},
    {"cuStreamWaitEvent", offsetof(struct driver_table, cuStreamWaitEvent)},
    {"cuMemAllocHost", offsetof(struct driver_table, cuMemAllocHost)},
    {"cuMemHostAlloc", offsetof(struct driver_table, cuMemHostAlloc)},
    {"cuMemFreeHost", offsetof(struct driver_table, cuMemFreeHost)},
    {"cuMemHostRegister", offsetof(struct driver_table, cuMemHostRegister)},
    {"cuMemHostUnregister", offsetof(struct driver_table, cuMemHostUnregister)},
    {"cuMemAlloc", offsetof(struct driver_table, cuMemAlloc)},
    {"cuMemFree", offsetof(struct driver_table, cuMemFree)},
    {"cuMemcpyAsync", offsetof(struct driver_table, cuMemcpyAsync)},
    {"cuMemcpyHtoDAsync", offsetof(struct driver_table, cuMemcpyHtoDAsync)},
    {"cuMemcpyDtoHAsync", offsetof(struct driver_table, cuMemcpyDtoHAsync)},
    {"cuMemcpyDtoDAsync", offsetof(struct driver_table, cuMemcpyDtoDAsync)},
    {"cuLaunchHostFunc", offsetof(struct driver_table, cuLaunchHostFunc)},
};

static struct driver_table legacy_table;
static struct driver_table per_thread_table;
static bool tables_ready;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Fills table through getproc; false (after one message) on a missing entry. */
static bool fill_table(PFN_cuGetProcAddress_v12000 getproc, struct driver_table *table,
                       cuuint64_t flags)
{
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        void *pfn = NULL;
        CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
        /* The real runtime passes NULL for symbolStatus; ask for it only on
         * the per-thread pass so both forms are exercised. */
        CUdriverProcAddressQueryResult *want_status =
            flags == CU_GET_PROC_ADDRESS_DEFAULT ? NULL : &status;
        CUresult rc = getproc(entries[i].name, &pfn, CUDART_DRIVER_API_VERSION, flags, want_status);
        if (rc != CUDA_SUCCESS || pfn == NULL) {
            fprintf(stderr,
                    "libcudart (simulated): the driver has no usable %s (result %d, status %d)\n",
                    entries[i].name, (int)rc, (int)status);
            return false;
        }
        *(void **)((char *)table + entries[i].offset) = pfn;
    }
    return true;
}

static void load_driver(void)
{
    void *handle = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (handle == NULL) {
        /* No driver is an ordinary condition (cudaErrorInsufficientDriver). */
        return;
    }
    PFN_cuGetProcAddress_v12000 getproc;
    *(void **)&getproc = dlsym(handle, "cuGetProcAddress_v2");
    if (getproc == NULL) {
        fprintf(stderr, "libcudart (simulated): libcuda.so.1 has no cuGetProcAddress_v2\n");
        return;
    }
    tables_ready =
        fill_table(getproc, &legacy_table, CU_GET_PROC_ADDRESS_DEFAULT) &&
        fill_table(getproc, &per_thread_table, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM);
}

const struct driver_table *driver_table_get(bool per_thread)
{
    pthread_once(&load_once, load_driver);
    if (!tables_ready) {
        return NULL;
    }
    return per_thread ? &per_thread_table : &legacy_table;
}

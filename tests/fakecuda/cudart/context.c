/*
 * context.c — lazy driver/context initialization of the simulated runtime
 * and the per-thread device selection (see context.h).
 *
 * Must never: hold primary_lock while calling anything but the retain, or
 * retain a device's primary context more than once.
 */
#include "tests/fakecuda/cudart/context.h"

#include <pthread.h>

#include "tests/fakecuda/cudart/errors.h"

#define MAX_DEVICES 64

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CUresult init_result = CUDA_ERROR_NOT_INITIALIZED;
static pthread_mutex_t primary_lock = PTHREAD_MUTEX_INITIALIZER;
static CUcontext primary[MAX_DEVICES];

static _Thread_local int thread_device;
static _Thread_local bool thread_bound; /* this thread has a current context */

static void initialize_driver(void)
{
    const struct driver_table *table = driver_table_get(false);
    if (table != NULL) {
        init_result = table->cuInit(0);
    }
}

cudaError_t runtime_driver(const struct driver_table **table)
{
    *table = driver_table_get(false);
    return *table != NULL ? cudaSuccess : error_note(cudaErrorInsufficientDriver);
}

/* The primary context of device, retained on first use. */
static CUresult primary_context(const struct driver_table *table, int device, CUcontext *out)
{
    if (device < 0 || device >= MAX_DEVICES) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    CUresult result = CUDA_SUCCESS;
    pthread_mutex_lock(&primary_lock);
    if (primary[device] == NULL) {
        CUdevice handle = 0;
        result = table->cuDeviceGet(&handle, device);
        if (result == CUDA_SUCCESS) {
            result = table->cuDevicePrimaryCtxRetain(&primary[device], handle);
        }
    }
    *out = primary[device];
    pthread_mutex_unlock(&primary_lock);
    return result;
}

/* Binds the thread's device's primary context unless one is current. */
static CUresult bind_thread(const struct driver_table *table)
{
    CUcontext current = NULL;
    CUresult result = table->cuCtxGetCurrent(&current);
    if (result == CUDA_SUCCESS && current == NULL) {
        result = primary_context(table, thread_device, &current);
        if (result == CUDA_SUCCESS) {
            result = table->cuCtxSetCurrent(current);
        }
    }
    thread_bound = result == CUDA_SUCCESS;
    return result;
}

cudaError_t runtime_enter(bool per_thread, const struct driver_table **table)
{
    pthread_once(&init_once, initialize_driver);
    *table = driver_table_get(per_thread);
    if (*table == NULL) {
        return error_note(cudaErrorInsufficientDriver);
    }
    if (init_result != CUDA_SUCCESS) {
        return error_note_driver(init_result);
    }
    if (!thread_bound) {
        CUresult result = bind_thread(*table);
        if (result != CUDA_SUCCESS) {
            return error_note_driver(result);
        }
    }
    return cudaSuccess;
}

cudaError_t runtime_set_device(int device)
{
    const struct driver_table *table = NULL;
    pthread_once(&init_once, initialize_driver);
    cudaError_t err = runtime_driver(&table);
    if (err != cudaSuccess) {
        return err;
    }
    if (init_result != CUDA_SUCCESS) {
        return error_note_driver(init_result);
    }
    int count = 0;
    CUresult result = table->cuDeviceGetCount(&count);
    if (result != CUDA_SUCCESS) {
        return error_note_driver(result);
    }
    if (device < 0 || device >= count) {
        return error_note(cudaErrorInvalidDevice);
    }
    CUcontext context = NULL;
    result = primary_context(table, device, &context);
    if (result == CUDA_SUCCESS) {
        result = table->cuCtxSetCurrent(context);
    }
    if (result != CUDA_SUCCESS) {
        return error_note_driver(result);
    }
    thread_device = device;
    thread_bound = true;
    return cudaSuccess;
}

int runtime_current_device(void)
{
    return thread_device;
}

/*
 * leaky.c — a workload that leaks on purpose, for the report's leak counts:
 * creates 37 events and destroys 30, allocates five 1 MiB pinned buffers and
 * frees 3. Everything runs on a thread named "leaky-creator" so the report
 * can be checked for the creating thread; the task comes from the
 * environment (PYTEST_CURRENT_TEST) like under pytest.
 *
 * Exit status: 0 when every call succeeded, 1 otherwise.
 *
 * Must never: free what it reports as leaked, or leak anything else.
 */
#include <cuda.h>
#include <pthread.h>
#include <stdio.h>

#include "tests/workloads/common.h"

#define EVENTS_CREATED 37
#define EVENTS_DESTROYED 30
#define PINNED_ALLOCATED 5
#define PINNED_FREED 3
#define PINNED_BYTES (1u << 20)

static int setup_context(void)
{
    CUdevice device = 0;
    CUcontext context = NULL;
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS)
        r = cuDeviceGet(&device, 0);
    if (r == CUDA_SUCCESS)
        r = cuDevicePrimaryCtxRetain(&context, device);
    if (r == CUDA_SUCCESS)
        r = cuCtxSetCurrent(context);
    wl_print("setup context result=%d\n", (int)r);
    return r == CUDA_SUCCESS;
}

static void *leak_things(void *unused)
{
    (void)unused;
    static CUevent events[EVENTS_CREATED];
    static void *buffers[PINNED_ALLOCATED];
    pthread_setname_np(pthread_self(), "leaky-creator"); /* before the first CUDA call */
    int ok = setup_context();
    for (int i = 0; ok && i < EVENTS_CREATED; i++) {
        CUresult r = cuEventCreate(&events[i], CU_EVENT_DEFAULT);
        wl_call("cuEventCreate", events[i], 0, 0, r);
        ok = r == CUDA_SUCCESS;
    }
    for (int i = 0; ok && i < EVENTS_DESTROYED; i++) {
        CUresult r = cuEventDestroy(events[i]);
        wl_call("cuEventDestroy", events[i], 0, 0, r);
        ok = r == CUDA_SUCCESS;
    }
    for (int i = 0; ok && i < PINNED_ALLOCATED; i++) {
        CUresult r = cuMemAllocHost(&buffers[i], PINNED_BYTES);
        wl_call("cuMemAllocHost", buffers[i], PINNED_BYTES, 0, r);
        ok = r == CUDA_SUCCESS;
    }
    for (int i = 0; ok && i < PINNED_FREED; i++) {
        CUresult r = cuMemFreeHost(buffers[i]);
        wl_call("cuMemFreeHost", buffers[i], 0, 0, r);
        ok = r == CUDA_SUCCESS;
    }
    return ok ? (void *)1 : NULL;
}

int main(void)
{
    pthread_t thread;
    void *ok = NULL;
    if (pthread_create(&thread, NULL, leak_things, NULL) != 0)
        wl_fail("leaky: pthread_create failed");
    pthread_join(thread, &ok);
    return ok ? 0 : 1;
}

/*
 * poller.c — a thread that polls cuEventQuery in a tight loop: the
 * workload of the sync-query policy (docs/design.md, policies). --events times, a host
 * function that sleeps --work-us is enqueued, an event is recorded after
 * it, and the thread calls cuEventQuery until it stops returning
 * CUDA_ERROR_NOT_READY, counting every call.
 *
 * Output: "poller events=N polls=P result=R" (P = cuEventQuery calls in
 * all). Exit status 0 when every call succeeded, 1 otherwise.
 *
 * Must never: sleep between polls (the tight loop is the point) or hang
 * (the simulator runs the host function, so each event completes).
 */
#include <cuda.h>
#include <stdint.h>

#include "tests/workloads/common.h"

static void slow_work(void *work_us)
{
    wl_sleep_us((unsigned long)(uintptr_t)work_us);
}

static CUresult open_context(void)
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
    return r;
}

/* Polls `event` until it is not NOT_READY; adds the calls made to *polls. */
static CUresult poll_event(CUevent event, unsigned long *polls)
{
    CUresult r;
    do {
        r = cuEventQuery(event);
        (*polls)++;
    } while (r == CUDA_ERROR_NOT_READY);
    return r;
}

int main(int argc, char **argv)
{
    unsigned events = 5, work_us = 20000;
    for (int i = 1; i < argc; i++) {
        if (!wl_option_uint(argv[i], "--events", 1, 100000, &events) &&
            !wl_option_uint(argv[i], "--work-us", 0, 10000000, &work_us))
            wl_fail("usage: poller [--events=N] [--work-us=N]");
    }
    CUstream stream = NULL;
    CUevent event = NULL;
    unsigned long polls = 0;
    CUresult r = open_context();
    if (r == CUDA_SUCCESS)
        r = cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    if (r == CUDA_SUCCESS)
        r = cuEventCreate(&event, CU_EVENT_DISABLE_TIMING);
    for (unsigned i = 0; r == CUDA_SUCCESS && i < events; i++) {
        r = cuLaunchHostFunc(stream, slow_work, (void *)(uintptr_t)work_us);
        if (r == CUDA_SUCCESS)
            r = cuEventRecord(event, stream);
        if (r == CUDA_SUCCESS)
            r = poll_event(event, &polls);
    }
    if (event != NULL)
        cuEventDestroy(event);
    if (stream != NULL)
        cuStreamDestroy(stream);
    wl_print("poller events=%u polls=%lu result=%d\n", events, polls, (int)r);
    return r == CUDA_SUCCESS ? 0 : 1;
}

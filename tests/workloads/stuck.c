/*
 * stuck.c — a workload that blocks forever inside cuEventSynchronize, for
 * the report's blocked-at-exit finding: the event is recorded after a host
 * function that never returns (so it hangs on a real GPU too). It prints
 * "waiting" just before the synchronize; the test then kills it.
 *
 * Exit status: 1 if a setup call failed; it never returns otherwise.
 *
 * Must never: return from the synchronize on its own.
 */
#include <cuda.h>
#include <pthread.h>
#include <unistd.h>

#include "tests/workloads/common.h"

static void CUDA_CB never_returns(void *unused)
{
    (void)unused;
    for (;;)
        pause();
}

int main(void)
{
    CUdevice device = 0;
    CUcontext context = NULL;
    CUstream stream = NULL;
    CUevent event = NULL;
    pthread_setname_np(pthread_self(), "stuck-main");
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS)
        r = cuDeviceGet(&device, 0);
    if (r == CUDA_SUCCESS)
        r = cuDevicePrimaryCtxRetain(&context, device);
    if (r == CUDA_SUCCESS)
        r = cuCtxSetCurrent(context);
    if (r == CUDA_SUCCESS)
        r = cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    if (r == CUDA_SUCCESS)
        r = cuEventCreate(&event, CU_EVENT_DEFAULT);
    if (r == CUDA_SUCCESS)
        r = cuLaunchHostFunc(stream, never_returns, NULL);
    if (r == CUDA_SUCCESS)
        r = cuEventRecord(event, stream);
    if (r != CUDA_SUCCESS)
        wl_fail("stuck: setup failed with CUresult %d", (int)r);
    wl_print("waiting event=%p\n", (void *)event);
    r = cuEventSynchronize(event);
    wl_call("cuEventSynchronize", event, 0, 0, r);
    return 1;
}

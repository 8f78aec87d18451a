/*
 * mt_events.c — a correct multi-threaded program: each of --threads=N host
 * threads (default 8) runs --iterations=M rounds (default 3000) of
 * cuEventCreate / cuEventRecord / cuEventQuery / cuEventDestroy on its own
 * event, so event handle values are freed and handed to other threads all
 * the time. The last line says how many calls of each API succeeded:
 *   totals cuEventCreate=C cuEventRecord=R cuEventQuery=Q cuEventDestroy=D
 * (every query is counted, NOT_READY included). A trace of it must count
 * exactly these calls and have no finding (issue 12: a destroy is never
 * ordered after another thread's create of the same value).
 *
 * Must never: share an event between threads, or leave one undestroyed.
 */
#include <cuda.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "tests/workloads/common.h"

#define MAX_THREADS 16

static unsigned iterations = 3000;
static atomic_ulong creates, records, queries, destroys;

static void check(CUresult rc, const char *what)
{
    if (rc != CUDA_SUCCESS && rc != CUDA_ERROR_NOT_READY)
        wl_fail("mt_events: %s returned %d", what, (int)rc);
}

static void *worker(void *arg)
{
    CUcontext ctx = arg;
    check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    for (unsigned i = 0; i < iterations; i++) {
        CUevent event = NULL;
        check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        atomic_fetch_add(&creates, 1);
        check(cuEventRecord(event, NULL), "cuEventRecord");
        atomic_fetch_add(&records, 1);
        check(cuEventQuery(event), "cuEventQuery");
        atomic_fetch_add(&queries, 1);
        check(cuEventDestroy(event), "cuEventDestroy");
        atomic_fetch_add(&destroys, 1);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned threads = 8;
    for (int i = 1; i < argc; i++) {
        if (!wl_option_uint(argv[i], "--threads", 1, MAX_THREADS, &threads) &&
            !wl_option_uint(argv[i], "--iterations", 1, 10000000, &iterations))
            wl_fail("usage: mt_events [--threads=N] [--iterations=M]");
    }
    CUdevice device = 0;
    CUcontext ctx = NULL;
    check(cuInit(0), "cuInit");
    check(cuDeviceGet(&device, 0), "cuDeviceGet");
    check(cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
    check(cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    pthread_t tids[MAX_THREADS];
    for (unsigned t = 0; t < threads; t++) {
        if (pthread_create(&tids[t], NULL, worker, ctx) != 0)
            wl_fail("mt_events: pthread_create failed");
    }
    for (unsigned t = 0; t < threads; t++)
        pthread_join(tids[t], NULL);
    check(cuCtxSynchronize(), "cuCtxSynchronize");
    check(cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    wl_print("totals cuEventCreate=%lu cuEventRecord=%lu cuEventQuery=%lu cuEventDestroy=%lu\n",
             atomic_load(&creates), atomic_load(&records), atomic_load(&queries),
             atomic_load(&destroys));
    return 0;
}

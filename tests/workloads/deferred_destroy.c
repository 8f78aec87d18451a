/*
 * deferred_destroy.c — a correct program that defers its destroys the way
 * numba does (its "pending deallocations" list): the workload of
 * tests/e2e/76_policy_deferred_destroy.sh.
 *
 * --tasks "tests" (PYTEST_CURRENT_TEST markers) each create a stream and an
 * event, record the event on the stream, synchronize and query, then queue
 * both for destruction instead of destroying them. The queue is flushed
 * (every object destroyed, oldest first) when it holds --queue objects and
 * once at the end. An object can thus wait several tests for its destroy:
 * the destroy policy may reclaim it meanwhile, and the driver may hand its
 * value to a later create; the program's own destroy must still succeed
 * and must not destroy the newer object.
 *
 * Output: "deferred tasks=N destroys=M failures=F" (common.h style). Exit
 * status 0 when every call succeeded, 1 otherwise; each failed call is
 * printed as "failed API result=N in test T".
 *
 * Must never: leak (every object is destroyed exactly once), or hang.
 */
#include <cuda.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/workloads/common.h"

#define TASK_VARIABLE "PYTEST_CURRENT_TEST"
#define QUEUE_MAX 64

struct pending {
    int is_stream;
    void *handle;
};

static struct pending queue[QUEUE_MAX];
static unsigned queued, queue_limit = 10, failures, destroys, current_task;

static void check(const char *api, CUresult r)
{
    if (r == CUDA_SUCCESS)
        return;
    failures++;
    wl_print("failed %s result=%d in test %u\n", api, (int)r, current_task);
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

/* Destroy everything queued, oldest first. */
static void flush(void)
{
    for (unsigned i = 0; i < queued; i++) {
        if (queue[i].is_stream)
            check("cuStreamDestroy", cuStreamDestroy((CUstream)queue[i].handle));
        else
            check("cuEventDestroy", cuEventDestroy((CUevent)queue[i].handle));
        destroys++;
    }
    queued = 0;
}

static void defer_destroy(int is_stream, void *handle)
{
    queue[queued++] = (struct pending){is_stream, handle};
    if (queued >= queue_limit)
        flush();
}

/* One test: a stream and an event used, then queued for destruction. */
static void run_test(unsigned number)
{
    char marker[96];
    snprintf(marker, sizeof marker, "tests/test_deferred.py::test_%u (call)", number);
    setenv(TASK_VARIABLE, marker, 1);
    current_task = number;
    CUstream stream = NULL;
    CUevent event = NULL;
    CUresult r = cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    check("cuStreamCreate", r);
    if (r == CUDA_SUCCESS) {
        r = cuEventCreate(&event, CU_EVENT_DISABLE_TIMING);
        check("cuEventCreate", r);
    }
    if (r != CUDA_SUCCESS)
        return;
    check("cuEventRecord", cuEventRecord(event, stream));
    check("cuStreamSynchronize", cuStreamSynchronize(stream));
    check("cuEventQuery", cuEventQuery(event));
    defer_destroy(1, stream);
    defer_destroy(0, event);
}

int main(int argc, char **argv)
{
    unsigned tasks = 30;
    for (int i = 1; i < argc; i++) {
        if (!wl_option_uint(argv[i], "--tasks", 1, 100000, &tasks) &&
            !wl_option_uint(argv[i], "--queue", 2, QUEUE_MAX, &queue_limit))
            wl_fail("usage: deferred_destroy [--tasks=N] [--queue=N]");
    }
    check("open context", open_context());
    for (unsigned t = 1; failures == 0 && t <= tasks; t++)
        run_test(t);
    unsetenv(TASK_VARIABLE);
    flush();
    wl_print("deferred tasks=%u destroys=%u failures=%u\n", tasks, destroys, failures);
    return failures == 0 ? 0 : 1;
}

/*
 * leaky_tasks.c — a suite of --tasks "tests" that each create --events
 * events, record them on the one stream of the run and never destroy them:
 * the workload of the destroy policy (docs/design.md, policies). Each test runs under its
 * own PYTEST_CURRENT_TEST marker and ends with a stream synchronize, so its
 * events are complete when the next one begins. After the last test, a new
 * "late" test queries the very first event again: a use of an object the
 * destroy policy may have reclaimed meanwhile; without the policy it is an
 * ordinary query of a complete event.
 *
 * Output: "setup result=N", then "late query result=N", then
 * "leaky tasks=N events=M" (all common.h style lines). Exit status 0 when
 * every call succeeded, 1 otherwise. With --abort the program calls
 * abort() right after the late query instead (a process that did not exit
 * cleanly, for the report's wording).
 *
 * Must never: destroy an event (the leak is the point), or hang.
 */
#include <cuda.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/workloads/common.h"

#define TASK_VARIABLE "PYTEST_CURRENT_TEST"

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

static void enter_task(const char *name, unsigned number)
{
    char marker[96];
    snprintf(marker, sizeof marker, "tests/test_leaky.py::%s_%u (call)", name, number);
    setenv(TASK_VARIABLE, marker, 1);
}

/* One test: `events` events created and recorded on `stream`, never destroyed. */
static CUresult leaky_task(CUstream stream, unsigned events, CUevent *first)
{
    CUresult r = CUDA_SUCCESS;
    for (unsigned i = 0; r == CUDA_SUCCESS && i < events; i++) {
        CUevent event = NULL;
        r = cuEventCreate(&event, CU_EVENT_DISABLE_TIMING);
        if (r == CUDA_SUCCESS)
            r = cuEventRecord(event, stream);
        if (r == CUDA_SUCCESS && *first == NULL)
            *first = event;
    }
    return r == CUDA_SUCCESS ? cuStreamSynchronize(stream) : r;
}

int main(int argc, char **argv)
{
    unsigned tasks = 100, events = 100;
    bool crash = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--abort") == 0)
            crash = true;
        else if (!wl_option_uint(argv[i], "--tasks", 1, 100000, &tasks) &&
                 !wl_option_uint(argv[i], "--events", 1, 100000, &events))
            wl_fail("usage: leaky_tasks [--tasks=N] [--events=N] [--abort]");
    }
    CUstream stream = NULL;
    CUresult r = open_context();
    if (r == CUDA_SUCCESS)
        r = cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING);
    wl_print("setup result=%d\n", (int)r);
    CUevent first = NULL;
    for (unsigned t = 1; r == CUDA_SUCCESS && t <= tasks; t++) {
        enter_task("test", t);
        r = leaky_task(stream, events, &first);
    }
    if (r == CUDA_SUCCESS) {
        enter_task("late", 1);
        CUresult late = cuEventQuery(first);
        wl_print("late query result=%d\n", (int)late);
        r = late;
        if (crash)
            abort();
    }
    unsetenv(TASK_VARIABLE);
    if (stream != NULL && cuStreamDestroy(stream) != CUDA_SUCCESS)
        r = CUDA_ERROR_UNKNOWN;
    wl_print("leaky tasks=%u events=%u result=%d\n", tasks, events, (int)r);
    return r == CUDA_SUCCESS ? 0 : 1;
}

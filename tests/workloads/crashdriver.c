/*
 * tests/workloads/crashdriver.c — a minimal fake libcuda.so.1 that crashes
 * the way a real driver does when handed a foreign address.
 *
 * What it is for: proving that the shim leaves a record of a call that
 * never returns (shim/crash_guard.h). An event handle is a pointer to a
 * struct whose second word points at the event's state, as in a real
 * driver: cuEventQuery follows that pointer without checking, so a foreign
 * object (or a destroyed event, whose memory is poisoned) faults inside the
 * driver. Only what tests/workloads/crashcall.c calls is here.
 *
 * What it must never do: be used for anything but the crash tests; check
 * handles (the point is that it does not).
 */
#include <cuda.h>
#include <stdint.h>
#include <stdlib.h>

struct event_state {
    int recorded;
};

struct event {
    uint64_t magic;
    struct event_state *state;
};

#define EXPORT __attribute__((visibility("default")))

EXPORT CUresult cuInit(unsigned flags)
{
    (void)flags;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventCreate(CUevent *out, unsigned flags)
{
    (void)flags;
    struct event *e = calloc(1, sizeof *e);
    if (e == NULL || out == NULL) {
        free(e);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    e->magic = 0xe7e47;
    e->state = calloc(1, sizeof *e->state);
    *out = (CUevent)(void *)e;
    return e->state != NULL ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}

EXPORT CUresult cuEventRecord(CUevent h, CUstream stream)
{
    (void)stream;
    ((struct event *)(void *)h)->state->recorded = 1;
    return CUDA_SUCCESS;
}

/* No validation at all: a foreign handle's second word is followed. */
EXPORT CUresult cuEventQuery(CUevent h)
{
    const struct event *e = (const struct event *)(void *)h;
    return e->state->recorded ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

EXPORT CUresult cuEventDestroy_v2(CUevent h)
{
    struct event *e = (struct event *)(void *)h;
    free(e->state);
    e->state = (struct event_state *)(uintptr_t)0x10; /* poisoned, as freed memory may be */
    return CUDA_SUCCESS;
}

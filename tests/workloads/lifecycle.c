/*
 * lifecycle.c — the driver-API scenario of the route workloads (see
 * lifecycle.h): streams, events, pinned and registered host memory, copies
 * in both directions, a host function standing in for GPU work, polling,
 * cross-stream waits and the default stream, then a data check.
 *
 * Must never: reach the driver except through the table it is given, or
 * leave a created object behind on the success path.
 */
#include "tests/workloads/lifecycle.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/workloads/common.h"

#define WORDS 4096u
#define BYTES (WORDS * sizeof(uint32_t))
#define WORK_US 2000u
#define POLL_LIMIT_S 10.0

const struct driver_api_entry driver_api_entries[] = {
    {"cuInit", "cuInit", 13000, offsetof(struct driver_api, cuInit)},
    {"cuDeviceGet", "cuDeviceGet", 13000, offsetof(struct driver_api, cuDeviceGet)},
    {"cuDevicePrimaryCtxRetain", "cuDevicePrimaryCtxRetain", 13000,
     offsetof(struct driver_api, cuDevicePrimaryCtxRetain)},
    {"cuDevicePrimaryCtxRelease", "cuDevicePrimaryCtxRelease_v2", 13000,
     offsetof(struct driver_api, cuDevicePrimaryCtxRelease)},
    {"cuCtxSetCurrent", "cuCtxSetCurrent", 13000, offsetof(struct driver_api, cuCtxSetCurrent)},
    /* At 13000 the name gives cuCtxSynchronize_v2(CUcontext); this table
     * holds the context-less form, introduced in 2000. */
    {"cuCtxSynchronize", "cuCtxSynchronize", 12000, offsetof(struct driver_api, cuCtxSynchronize)},
    {"cuStreamCreate", "cuStreamCreate", 13000, offsetof(struct driver_api, cuStreamCreate)},
    {"cuStreamCreateWithPriority", "cuStreamCreateWithPriority", 13000,
     offsetof(struct driver_api, cuStreamCreateWithPriority)},
    {"cuStreamDestroy", "cuStreamDestroy_v2", 13000, offsetof(struct driver_api, cuStreamDestroy)},
    {"cuStreamSynchronize", "cuStreamSynchronize", 13000,
     offsetof(struct driver_api, cuStreamSynchronize)},
    {"cuStreamQuery", "cuStreamQuery", 13000, offsetof(struct driver_api, cuStreamQuery)},
    {"cuStreamWaitEvent", "cuStreamWaitEvent", 13000,
     offsetof(struct driver_api, cuStreamWaitEvent)},
    {"cuEventCreate", "cuEventCreate", 13000, offsetof(struct driver_api, cuEventCreate)},
    {"cuEventRecord", "cuEventRecord", 13000, offsetof(struct driver_api, cuEventRecord)},
    {"cuEventRecordWithFlags", "cuEventRecordWithFlags", 13000,
     offsetof(struct driver_api, cuEventRecordWithFlags)},
    {"cuEventQuery", "cuEventQuery", 13000, offsetof(struct driver_api, cuEventQuery)},
    {"cuEventSynchronize", "cuEventSynchronize", 13000,
     offsetof(struct driver_api, cuEventSynchronize)},
    {"cuEventDestroy", "cuEventDestroy_v2", 13000, offsetof(struct driver_api, cuEventDestroy)},
    {"cuEventElapsedTime", "cuEventElapsedTime_v2", 13000,
     offsetof(struct driver_api, cuEventElapsedTime)},
    {"cuMemAllocHost", "cuMemAllocHost_v2", 13000, offsetof(struct driver_api, cuMemAllocHost)},
    {"cuMemHostAlloc", "cuMemHostAlloc", 13000, offsetof(struct driver_api, cuMemHostAlloc)},
    {"cuMemFreeHost", "cuMemFreeHost", 13000, offsetof(struct driver_api, cuMemFreeHost)},
    {"cuMemHostRegister", "cuMemHostRegister_v2", 13000,
     offsetof(struct driver_api, cuMemHostRegister)},
    {"cuMemHostUnregister", "cuMemHostUnregister", 13000,
     offsetof(struct driver_api, cuMemHostUnregister)},
    {"cuMemAlloc", "cuMemAlloc_v2", 13000, offsetof(struct driver_api, cuMemAlloc)},
    {"cuMemFree", "cuMemFree_v2", 13000, offsetof(struct driver_api, cuMemFree)},
    {"cuMemcpyAsync", "cuMemcpyAsync", 13000, offsetof(struct driver_api, cuMemcpyAsync)},
    {"cuMemcpyHtoDAsync", "cuMemcpyHtoDAsync_v2", 13000,
     offsetof(struct driver_api, cuMemcpyHtoDAsync)},
    {"cuMemcpyDtoHAsync", "cuMemcpyDtoHAsync_v2", 13000,
     offsetof(struct driver_api, cuMemcpyDtoHAsync)},
    {"cuLaunchHostFunc", "cuLaunchHostFunc", 13000, offsetof(struct driver_api, cuLaunchHostFunc)},
};
const size_t driver_api_entry_count = sizeof driver_api_entries / sizeof driver_api_entries[0];

void driver_api_set(struct driver_api *api, const struct driver_api_entry *entry, void *pfn)
{
    memcpy((char *)api + entry->offset, &pfn, sizeof pfn);
}

/* Everything the scenario creates, so cleanup can release what exists. */
struct objects {
    CUdevice device;
    bool context_retained;
    CUstream copy_stream, wait_stream;
    CUevent start, done, end;
    uint32_t *pinned_in, *pinned_out, *registered;
    bool is_registered;
    CUdeviceptr device_buffer;
};

/* Reports a failed call on stderr; true when result is success. */
static bool succeeded(const char *api, CUresult result)
{
    if (result != CUDA_SUCCESS) {
        wl_print("error %s result=%d\n", api, (int)result);
    }
    return result == CUDA_SUCCESS;
}

static void simulated_kernel(void *user_data)
{
    (void)user_data;
    wl_sleep_us(WORK_US);
}

static bool open_context(const struct driver_api *api, struct objects *o)
{
    CUcontext context = NULL;
    CUresult r = api->cuInit(0);
    wl_print("setup cuInit result=%d\n", (int)r);
    if (!succeeded("cuInit", r) || !succeeded("cuDeviceGet", api->cuDeviceGet(&o->device, 0))) {
        return false;
    }
    r = api->cuDevicePrimaryCtxRetain(&context, o->device);
    o->context_retained = r == CUDA_SUCCESS;
    return succeeded("cuDevicePrimaryCtxRetain", r) &&
           succeeded("cuCtxSetCurrent", api->cuCtxSetCurrent(context));
}

static bool create_streams_and_events(const struct driver_api *api, struct objects *o)
{
    CUresult r = api->cuStreamCreate(&o->copy_stream, CU_STREAM_NON_BLOCKING);
    wl_call("cuStreamCreate", o->copy_stream, CU_STREAM_NON_BLOCKING, 0, r);
    if (!succeeded("cuStreamCreate", r)) {
        return false;
    }
    r = api->cuStreamCreateWithPriority(&o->wait_stream, CU_STREAM_DEFAULT, 0);
    wl_call("cuStreamCreateWithPriority", o->wait_stream, CU_STREAM_DEFAULT, 0, r);
    if (!succeeded("cuStreamCreateWithPriority", r)) {
        return false;
    }
    const struct {
        CUevent *event;
        unsigned flags;
    } events[] = {{&o->start, CU_EVENT_DEFAULT},
                  {&o->done, CU_EVENT_DISABLE_TIMING},
                  {&o->end, CU_EVENT_DEFAULT}};
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        r = api->cuEventCreate(events[i].event, events[i].flags);
        wl_call("cuEventCreate", *events[i].event, events[i].flags, 0, r);
        if (!succeeded("cuEventCreate", r)) {
            return false;
        }
    }
    return true;
}

static bool allocate_memory(const struct driver_api *api, struct objects *o)
{
    CUresult r = api->cuMemHostAlloc((void **)&o->pinned_in, BYTES, 0);
    wl_call("cuMemHostAlloc", o->pinned_in, BYTES, 0, r);
    if (!succeeded("cuMemHostAlloc", r)) {
        return false;
    }
    r = api->cuMemAllocHost((void **)&o->pinned_out, BYTES);
    wl_call("cuMemAllocHost", o->pinned_out, BYTES, 0, r);
    if (!succeeded("cuMemAllocHost", r)) {
        return false;
    }
    o->registered = calloc(WORDS, sizeof(uint32_t));
    if (o->registered == NULL) {
        wl_print("error calloc\n");
        return false;
    }
    r = api->cuMemHostRegister(o->registered, BYTES, 0);
    wl_call("cuMemHostRegister", o->registered, BYTES, 0, r);
    o->is_registered = r == CUDA_SUCCESS;
    return succeeded("cuMemHostRegister", r) &&
           succeeded("cuMemAlloc", api->cuMemAlloc(&o->device_buffer, BYTES));
}

/* Polls event every millisecond until it completes; false on error/limit. */
static bool poll_event(const struct driver_api *api, CUevent event)
{
    unsigned long not_ready = 0;
    double deadline = wl_now() + POLL_LIMIT_S;
    for (;;) {
        CUresult r = api->cuEventQuery(event);
        if (r != CUDA_ERROR_NOT_READY || wl_now() > deadline) {
            wl_spin("cuEventQuery", event, not_ready);
            wl_call("cuEventQuery", event, 0, 0, r);
            return succeeded("cuEventQuery", r);
        }
        not_ready++;
        wl_sleep_us(1000);
    }
}

/* Upload, simulated work, download on copy_stream; returns after polling. */
static bool run_copy_stream(const struct driver_api *api, struct objects *o)
{
    CUstream s = o->copy_stream;
    CUresult r = api->cuEventRecord(o->start, s);
    wl_call("cuEventRecord", o->start, (uintptr_t)s, 0, r);
    if (!succeeded("cuEventRecord", r)) {
        return false;
    }
    r = api->cuMemcpyHtoDAsync(o->device_buffer, o->pinned_in, BYTES, s);
    wl_call("cuMemcpyHtoDAsync", s, (uintptr_t)o->pinned_in, BYTES, r);
    if (!succeeded("cuMemcpyHtoDAsync", r)) {
        return false;
    }
    r = api->cuLaunchHostFunc(s, simulated_kernel, NULL);
    wl_call("cuLaunchHostFunc", s, (uintptr_t)simulated_kernel, 0, r);
    if (!succeeded("cuLaunchHostFunc", r)) {
        return false;
    }
    r = api->cuMemcpyDtoHAsync(o->registered, o->device_buffer, BYTES, s);
    wl_call("cuMemcpyDtoHAsync", s, (uintptr_t)o->registered, BYTES, r);
    if (!succeeded("cuMemcpyDtoHAsync", r)) {
        return false;
    }
    r = api->cuEventRecordWithFlags(o->done, s, CU_EVENT_RECORD_DEFAULT);
    wl_call("cuEventRecordWithFlags", o->done, (uintptr_t)s, CU_EVENT_RECORD_DEFAULT, r);
    return succeeded("cuEventRecordWithFlags", r) && poll_event(api, o->done);
}

/* A second stream ordered after `done` by a wait, then synchronized. */
static bool run_wait_stream(const struct driver_api *api, struct objects *o)
{
    CUstream s = o->wait_stream;
    CUresult r = api->cuStreamWaitEvent(s, o->done, 0);
    wl_call("cuStreamWaitEvent", s, (uintptr_t)o->done, 0, r);
    if (!succeeded("cuStreamWaitEvent", r)) {
        return false;
    }
    CUdeviceptr destination = (CUdeviceptr)(uintptr_t)o->pinned_out;
    r = api->cuMemcpyAsync(destination, o->device_buffer, BYTES, s);
    wl_call("cuMemcpyAsync", s, (uintptr_t)destination, (uintptr_t)o->device_buffer, r);
    if (!succeeded("cuMemcpyAsync", r)) {
        return false;
    }
    r = api->cuEventRecord(o->end, s);
    wl_call("cuEventRecord", o->end, (uintptr_t)s, 0, r);
    if (!succeeded("cuEventRecord", r)) {
        return false;
    }
    r = api->cuStreamSynchronize(s);
    wl_call("cuStreamSynchronize", s, 0, 0, r);
    if (!succeeded("cuStreamSynchronize", r)) {
        return false;
    }
    r = api->cuStreamQuery(s);
    wl_call("cuStreamQuery", s, 0, 0, r);
    if (!succeeded("cuStreamQuery", r)) {
        return false;
    }
    r = api->cuEventSynchronize(o->done);
    wl_call("cuEventSynchronize", o->done, 0, 0, r);
    float ms = -1;
    CUresult elapsed = api->cuEventElapsedTime(&ms, o->start, o->end);
    wl_call("cuEventElapsedTime", o->start, (uintptr_t)o->end, 0, elapsed);
    return succeeded("cuEventSynchronize", r) && succeeded("cuEventElapsedTime", elapsed);
}

/* The same download again on the default stream (handle 0). */
static bool run_default_stream(const struct driver_api *api, struct objects *o, uint32_t *into)
{
    CUresult r = api->cuMemcpyDtoHAsync(into, o->device_buffer, BYTES, NULL);
    wl_call("cuMemcpyDtoHAsync", NULL, (uintptr_t)into, BYTES, r);
    if (!succeeded("cuMemcpyDtoHAsync", r)) {
        return false;
    }
    r = api->cuStreamSynchronize(NULL);
    wl_call("cuStreamSynchronize", NULL, 0, 0, r);
    if (!succeeded("cuStreamSynchronize", r)) {
        return false;
    }
    r = api->cuCtxSynchronize();
    wl_call("cuCtxSynchronize", NULL, 0, 0, r);
    return succeeded("cuCtxSynchronize", r);
}

static void release_all(const struct driver_api *api, struct objects *o)
{
    if (o->is_registered) {
        wl_call("cuMemHostUnregister", o->registered, 0, 0,
                api->cuMemHostUnregister(o->registered));
    }
    free(o->registered);
    uint32_t *pinned[] = {o->pinned_in, o->pinned_out};
    for (size_t i = 0; i < 2; i++) {
        if (pinned[i] != NULL) {
            wl_call("cuMemFreeHost", pinned[i], 0, 0, api->cuMemFreeHost(pinned[i]));
        }
    }
    if (o->device_buffer != 0) {
        succeeded("cuMemFree", api->cuMemFree(o->device_buffer));
    }
    CUevent events[] = {o->start, o->done, o->end};
    for (size_t i = 0; i < 3; i++) {
        if (events[i] != NULL) {
            wl_call("cuEventDestroy", events[i], 0, 0, api->cuEventDestroy(events[i]));
        }
    }
    CUstream streams[] = {o->copy_stream, o->wait_stream};
    for (size_t i = 0; i < 2; i++) {
        if (streams[i] != NULL) {
            wl_call("cuStreamDestroy", streams[i], 0, 0, api->cuStreamDestroy(streams[i]));
        }
    }
    if (o->context_retained) {
        CUresult r = api->cuDevicePrimaryCtxRelease(o->device);
        wl_call("cuDevicePrimaryCtxRelease", (void *)(uintptr_t)o->device, 0, 0, r);
        succeeded("cuDevicePrimaryCtxRelease", r);
    }
}

/* The hash of one copy of the data, computed on the host alone. */
static uint64_t expected_hash(uint64_t hash)
{
    for (unsigned w = 0; w < WORDS; w++) {
        uint32_t word = wl_pattern(0, 0, w);
        hash = wl_fnv1a(hash, &word, sizeof word);
    }
    return hash;
}

int lifecycle_run(const struct driver_api *api, const char *route)
{
    struct objects o = {0};
    wl_print("workload %s\n", route);
    bool ok =
        open_context(api, &o) && create_streams_and_events(api, &o) && allocate_memory(api, &o);
    uint32_t *again = calloc(WORDS, sizeof(uint32_t));
    uint64_t checksum = WL_FNV_SEED, expected = WL_FNV_SEED;
    if (ok && again != NULL) {
        for (unsigned w = 0; w < WORDS; w++) {
            o.pinned_in[w] = wl_pattern(0, 0, w);
        }
        ok = run_copy_stream(api, &o) && run_wait_stream(api, &o) &&
             run_default_stream(api, &o, again);
        uint32_t *copies[] = {o.registered, o.pinned_out, again};
        for (size_t i = 0; i < 3; i++) {
            checksum = wl_fnv1a(checksum, copies[i], BYTES);
            expected = expected_hash(expected);
        }
        wl_print("checksum=%#018jx expected=%#018jx\n", (uintmax_t)checksum, (uintmax_t)expected);
    }
    free(again);
    release_all(api, &o);
    if (!ok) {
        return 1;
    }
    return checksum == expected ? 0 : 2;
}

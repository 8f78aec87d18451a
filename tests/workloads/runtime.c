/*
 * runtime.c — the "runtime" route workload: the lifecycle scenario through
 * the CUDA runtime API, linked -lcudart the ordinary way (the toolkit's
 * libcudart.so at build time; whichever libcudart.so.13 the loader finds at
 * run time). Call lines carry the cuda* names.
 *
 * Must never: call the driver API.
 */
#include <cuda_runtime_api.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/workloads/common.h"

#define WORDS 4096u
#define BYTES (WORDS * sizeof(uint32_t))
#define WORK_US 2000u
#define POLL_LIMIT_S 10.0

struct objects {
    cudaStream_t copy_stream, wait_stream, plain_stream;
    cudaEvent_t start, done, end;
    uint32_t *pinned_in, *pinned_out, *registered;
    bool is_registered;
    void *device_buffer;
};

/* Prints the call line; true when err is cudaSuccess (else an error line). */
static bool reported(const char *api, cudaError_t err, const void *handle, uintptr_t arg,
                     uintptr_t arg2)
{
    wl_call(api, handle, arg, arg2, (int)err);
    if (err != cudaSuccess) {
        wl_print("error %s result=%d (%s: %s)\n", api, (int)err, cudaGetErrorName(err),
                 cudaGetErrorString(err));
    }
    return err == cudaSuccess;
}

/* For create calls: the handle is read through `out` only after the call
 * has run (a handle passed by value could be evaluated before it). */
static bool created(const char *api, cudaError_t err, void *const *out, uintptr_t arg)
{
    return reported(api, err, *out, arg, 0);
}

static void simulated_kernel(void *user_data)
{
    (void)user_data;
    wl_sleep_us(WORK_US);
}

static bool set_up_device(void)
{
    int count = 0, device = -1, driver = 0, runtime = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    wl_print("setup cudaGetDeviceCount count=%d result=%d\n", count, (int)err);
    if (err != cudaSuccess || count < 1) {
        return false;
    }
    err = cudaSetDevice(0);
    wl_print("setup cudaSetDevice result=%d\n", (int)err);
    cudaGetDevice(&device);
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    wl_print("setup device=%d driver=%d runtime=%d\n", device, driver, runtime);
    return err == cudaSuccess && device == 0;
}

static bool create_objects(struct objects *o)
{
    bool ok = created("cudaStreamCreateWithFlags",
                      cudaStreamCreateWithFlags(&o->copy_stream, cudaStreamNonBlocking),
                      (void *const *)&o->copy_stream, cudaStreamNonBlocking) &&
              created("cudaStreamCreateWithPriority",
                      cudaStreamCreateWithPriority(&o->wait_stream, cudaStreamDefault, 0),
                      (void *const *)&o->wait_stream, cudaStreamDefault) &&
              created("cudaStreamCreate", cudaStreamCreate(&o->plain_stream),
                      (void *const *)&o->plain_stream, 0);
    ok = ok &&
         created("cudaEventCreate", cudaEventCreate(&o->start), (void *const *)&o->start, 0) &&
         created("cudaEventCreateWithFlags",
                 cudaEventCreateWithFlags(&o->done, cudaEventDisableTiming),
                 (void *const *)&o->done, cudaEventDisableTiming) &&
         created("cudaEventCreate", cudaEventCreate(&o->end), (void *const *)&o->end, 0);
    ok = ok &&
         created("cudaHostAlloc", cudaHostAlloc((void **)&o->pinned_in, BYTES, 0),
                 (void *const *)&o->pinned_in, BYTES) &&
         created("cudaMallocHost", cudaMallocHost((void **)&o->pinned_out, BYTES),
                 (void *const *)&o->pinned_out, BYTES);
    if (!ok || (o->registered = calloc(WORDS, sizeof(uint32_t))) == NULL) {
        return false;
    }
    o->is_registered = reported("cudaHostRegister", cudaHostRegister(o->registered, BYTES, 0),
                                o->registered, BYTES, 0);
    return o->is_registered && cudaMalloc(&o->device_buffer, BYTES) == cudaSuccess;
}

static bool poll_event(cudaEvent_t event)
{
    unsigned long not_ready = 0;
    double deadline = wl_now() + POLL_LIMIT_S;
    for (;;) {
        cudaError_t err = cudaEventQuery(event);
        if (err != cudaErrorNotReady || wl_now() > deadline) {
            wl_spin("cudaEventQuery", event, not_ready);
            return reported("cudaEventQuery", err, event, 0, 0);
        }
        not_ready++;
        wl_sleep_us(1000);
    }
}

static bool run_copy_stream(struct objects *o)
{
    cudaStream_t s = o->copy_stream;
    return reported("cudaEventRecord", cudaEventRecord(o->start, s), o->start, (uintptr_t)s, 0) &&
           reported(
               "cudaMemcpyAsync",
               cudaMemcpyAsync(o->device_buffer, o->pinned_in, BYTES, cudaMemcpyHostToDevice, s), s,
               (uintptr_t)o->pinned_in, BYTES) &&
           reported("cudaLaunchHostFunc", cudaLaunchHostFunc(s, simulated_kernel, NULL), s,
                    (uintptr_t)simulated_kernel, 0) &&
           reported(
               "cudaMemcpyAsync",
               cudaMemcpyAsync(o->registered, o->device_buffer, BYTES, cudaMemcpyDeviceToHost, s),
               s, (uintptr_t)o->registered, BYTES) &&
           reported("cudaEventRecordWithFlags", cudaEventRecordWithFlags(o->done, s, 0), o->done,
                    (uintptr_t)s, 0) &&
           poll_event(o->done);
}

static bool run_wait_stream(struct objects *o)
{
    cudaStream_t s = o->wait_stream;
    float ms = -1;
    return reported("cudaStreamWaitEvent", cudaStreamWaitEvent(s, o->done, 0), s,
                    (uintptr_t)o->done, 0) &&
           reported("cudaMemcpyAsync",
                    cudaMemcpyAsync(o->pinned_out, o->device_buffer, BYTES, cudaMemcpyDefault, s),
                    s, (uintptr_t)o->pinned_out, BYTES) &&
           reported("cudaEventRecord", cudaEventRecord(o->end, s), o->end, (uintptr_t)s, 0) &&
           reported("cudaStreamSynchronize", cudaStreamSynchronize(s), s, 0, 0) &&
           reported("cudaStreamQuery", cudaStreamQuery(s), s, 0, 0) &&
           reported("cudaEventSynchronize", cudaEventSynchronize(o->done), o->done, 0, 0) &&
           reported("cudaEventElapsedTime", cudaEventElapsedTime(&ms, o->start, o->end), o->start,
                    (uintptr_t)o->end, 0);
}

static bool run_default_stream(struct objects *o, uint32_t *into)
{
    return reported("cudaMemcpy", cudaMemcpy(into, o->device_buffer, BYTES, cudaMemcpyDeviceToHost),
                    NULL, (uintptr_t)into, BYTES) &&
           reported("cudaDeviceSynchronize", cudaDeviceSynchronize(), NULL, 0, 0) &&
           reported("cudaGetLastError", cudaGetLastError(), NULL, 0, 0);
}

static void release_all(struct objects *o)
{
    if (o->is_registered) {
        reported("cudaHostUnregister", cudaHostUnregister(o->registered), o->registered, 0, 0);
    }
    free(o->registered);
    uint32_t *pinned[] = {o->pinned_in, o->pinned_out};
    for (size_t i = 0; i < 2; i++) {
        if (pinned[i] != NULL) {
            reported("cudaFreeHost", cudaFreeHost(pinned[i]), pinned[i], 0, 0);
        }
    }
    if (o->device_buffer != NULL) {
        cudaFree(o->device_buffer);
    }
    cudaEvent_t events[] = {o->start, o->done, o->end};
    for (size_t i = 0; i < 3; i++) {
        if (events[i] != NULL) {
            reported("cudaEventDestroy", cudaEventDestroy(events[i]), events[i], 0, 0);
        }
    }
    cudaStream_t streams[] = {o->copy_stream, o->wait_stream, o->plain_stream};
    for (size_t i = 0; i < 3; i++) {
        if (streams[i] != NULL) {
            reported("cudaStreamDestroy", cudaStreamDestroy(streams[i]), streams[i], 0, 0);
        }
    }
}

/* The hash of `copies` copies of the data, computed on the host alone. */
static uint64_t expected_hash(unsigned copies)
{
    uint64_t hash = WL_FNV_SEED;
    for (unsigned c = 0; c < copies; c++) {
        for (unsigned w = 0; w < WORDS; w++) {
            uint32_t word = wl_pattern(0, 0, w);
            hash = wl_fnv1a(hash, &word, sizeof word);
        }
    }
    return hash;
}

int main(void)
{
    struct objects o = {0};
    wl_print("workload runtime\n");
    wl_print("setup cudaGetErrorName(%d)=%s\n", (int)cudaErrorNotReady,
             cudaGetErrorName(cudaErrorNotReady));
    bool ok = set_up_device() && create_objects(&o);
    uint32_t *again = calloc(WORDS, sizeof(uint32_t));
    uint64_t checksum = WL_FNV_SEED, expected = expected_hash(3);
    if (ok && again != NULL) {
        for (unsigned w = 0; w < WORDS; w++) {
            o.pinned_in[w] = wl_pattern(0, 0, w);
        }
        ok = run_copy_stream(&o) && run_wait_stream(&o) && run_default_stream(&o, again);
        uint32_t *copies[] = {o.registered, o.pinned_out, again};
        for (size_t i = 0; i < 3; i++) {
            checksum = wl_fnv1a(checksum, copies[i], BYTES);
        }
        wl_print("checksum=%#018jx expected=%#018jx\n", (uintmax_t)checksum, (uintmax_t)expected);
    }
    free(again);
    release_all(&o);
    if (!ok) {
        return 1;
    }
    return checksum == expected ? 0 : 2;
}

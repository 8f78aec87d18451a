/*
 * bench/percall.c — per-call cost of the wrapped lifecycle calls.
 *
 * Usage: percall OP THREADS CALLS REPS
 *   OP       query | record | create-destroy | hostalloc-free | poll
 *   THREADS  1..8 threads, each on its own handles
 *   CALLS    calls (pairs for create-destroy and hostalloc-free) per thread
 *            per repetition
 *   REPS     timed repetitions after one untimed warm-up of CALLS
 * Prints one line: "OP THREADS MEDIAN_NS MIN_NS" — nanoseconds per call (per
 * pair), the median and the minimum over REPS of the mean over threads.
 *
 * Run it against the null driver (bench/nulldriver.c) with or without the
 * shim preloaded; bench/percall.sh does that for every mode. Under callgrind
 * the timed loop is the function `measured_loop` (use
 * --collect-atstart=no --toggle-collect=measured_loop); the warm-up is
 * not in it, so instructions per call = Ir / (THREADS * CALLS * REPS).
 * `poll` is `query` meant for NULLCUDA_QUERY=not-ready (spin compression).
 *
 * What it must never do: share a handle between threads, or time anything
 * but the calls (threads start together at a barrier; each times itself).
 */
#include <cuda.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 8
#define MAX_REPS 64

enum op { OP_QUERY, OP_RECORD, OP_CREATE_DESTROY, OP_HOSTALLOC_FREE, OP_POLL };

static const char *const op_names[] = {
    [OP_QUERY] = "query",
    [OP_RECORD] = "record",
    [OP_CREATE_DESTROY] = "create-destroy",
    [OP_HOSTALLOC_FREE] = "hostalloc-free",
    [OP_POLL] = "poll",
};

struct worker {
    pthread_t thread;
    enum op op;
    unsigned long calls;
    unsigned reps;
    CUevent event;
    CUstream stream;
    int failed;
    double ns_per_call[MAX_REPS];
};

static pthread_barrier_t start_line;
static CUcontext context; /* the primary context, made current in every worker */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One iteration of `op`; returns nonzero when a call failed unexpectedly. */
static inline int one_call(struct worker *w)
{
    CUevent e;
    void *p;
    switch (w->op) {
    case OP_QUERY:
        return cuEventQuery(w->event) != CUDA_SUCCESS;
    case OP_POLL:
        return cuEventQuery(w->event) != CUDA_ERROR_NOT_READY;
    case OP_RECORD:
        return cuEventRecord(w->event, w->stream) != CUDA_SUCCESS;
    case OP_CREATE_DESTROY:
        if (cuEventCreate(&e, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS)
            return 1;
        return cuEventDestroy(e) != CUDA_SUCCESS;
    case OP_HOSTALLOC_FREE:
        if (cuMemHostAlloc(&p, 4096, 0) != CUDA_SUCCESS)
            return 1;
        return cuMemFreeHost(p) != CUDA_SUCCESS;
    }
    return 1;
}

__attribute__((noinline)) static int measured_loop(struct worker *w)
{
    int bad = 0;
    for (unsigned long i = 0; i < w->calls; i++)
        bad |= one_call(w);
    return bad;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    if (cuCtxSetCurrent(context) != CUDA_SUCCESS ||
        cuEventCreate(&w->event, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS ||
        cuStreamCreate(&w->stream, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS)
        w->failed = 1;
    for (unsigned long i = 0; i < w->calls; i++) /* warm-up, inlined: not measured_loop */
        w->failed |= one_call(w);
    for (unsigned r = 0; r < w->reps; r++) {
        pthread_barrier_wait(&start_line);
        uint64_t t0 = now_ns();
        w->failed |= measured_loop(w);
        w->ns_per_call[r] = (double)(now_ns() - t0) / (double)w->calls;
    }
    cuStreamDestroy(w->stream);
    cuEventDestroy(w->event);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int parse_op(const char *name, enum op *op)
{
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++) {
        if (strcmp(name, op_names[i]) == 0) {
            *op = (enum op)i;
            return 0;
        }
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: percall query|record|create-destroy|hostalloc-free|poll "
                    "THREADS(1-8) CALLS REPS(1-64)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    enum op op;
    if (argc != 5 || parse_op(argv[1], &op) != 0)
        usage();
    unsigned threads = (unsigned)strtoul(argv[2], NULL, 10);
    unsigned long calls = strtoul(argv[3], NULL, 10);
    unsigned reps = (unsigned)strtoul(argv[4], NULL, 10);
    if (threads < 1 || threads > MAX_THREADS || calls < 1 || reps < 1 || reps > MAX_REPS)
        usage();
    CUdevice device;
    if (cuInit(0) != CUDA_SUCCESS || cuDeviceGet(&device, 0) != CUDA_SUCCESS ||
        cuDevicePrimaryCtxRetain(&context, device) != CUDA_SUCCESS) {
        fprintf(stderr, "percall: no CUDA device 0 (cuInit/cuDeviceGet/context failed)\n");
        return 1;
    }
    static struct worker workers[MAX_THREADS];
    pthread_barrier_init(&start_line, NULL, threads);
    for (unsigned t = 0; t < threads; t++) {
        workers[t] = (struct worker){.op = op, .calls = calls, .reps = reps};
        if (pthread_create(&workers[t].thread, NULL, run_worker, &workers[t]) != 0) {
            fprintf(stderr, "percall: cannot start thread %u\n", t);
            return 1;
        }
    }
    double mean[MAX_REPS] = {0};
    int failed = 0;
    for (unsigned t = 0; t < threads; t++) {
        pthread_join(workers[t].thread, NULL);
        failed |= workers[t].failed;
        for (unsigned r = 0; r < reps; r++)
            mean[r] += workers[t].ns_per_call[r] / threads;
    }
    if (failed) {
        fprintf(stderr, "percall: a %s call failed (is the null driver first on the path?)\n",
                op_names[op]);
        return 1;
    }
    qsort(mean, reps, sizeof mean[0], by_value);
    printf("%s %u %.1f %.1f\n", op_names[op], threads, mean[reps / 2], mean[0]);
    return 0;
}

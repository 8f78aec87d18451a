/*
 * test_fakecuda_helpers.h — shared helpers for the simulated driver's
 * Check suites: driver start-up with the primary context current, a
 * "gate" host function that holds a stream until the test opens it, an
 * ordered log of host-function runs, and bounded waits.
 *
 * Must never: wait without a bound (every wait here gives up after a
 * deadline so a broken driver fails a test instead of hanging it).
 */
#ifndef TEST_FAKECUDA_HELPERS_H
#define TEST_FAKECUDA_HELPERS_H

#include <check.h>
#include <cuda.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define ck_cu(call) ck_assert_int_eq((int)(call), (int)CUDA_SUCCESS)

static inline void start_driver(void)
{
    CUdevice dev = 0;
    CUcontext ctx = NULL;
    ck_cu(cuInit(0));
    ck_cu(cuDeviceGet(&dev, 0));
    ck_cu(cuDevicePrimaryCtxRetain(&ctx, dev));
    ck_cu(cuCtxSetCurrent(ctx));
}

static inline void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static inline double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

/* A host function argument that blocks its stream until gate_open. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    bool open;
    int passed;
};

static inline void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->opened, NULL);
    g->open = false;
    g->passed = 0;
}

static inline void gate_wait_fn(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->open)
        pthread_cond_wait(&g->opened, &g->lock);
    g->passed++;
    pthread_mutex_unlock(&g->lock);
}

static inline void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->open = true;
    pthread_cond_broadcast(&g->opened);
    pthread_mutex_unlock(&g->lock);
}

/* An ordered record of host-function runs. */
#define RUN_LOG_MAX 64
struct run_log {
    pthread_mutex_t lock;
    int entries[RUN_LOG_MAX];
    pthread_t threads[RUN_LOG_MAX];
    int count;
};

struct run_mark {
    struct run_log *log;
    int id;
};

static inline void run_log_init(struct run_log *log)
{
    pthread_mutex_init(&log->lock, NULL);
    log->count = 0;
}

static inline void run_mark_fn(void *arg)
{
    struct run_mark *mark = arg;
    pthread_mutex_lock(&mark->log->lock);
    if (mark->log->count < RUN_LOG_MAX) {
        mark->log->threads[mark->log->count] = pthread_self();
        mark->log->entries[mark->log->count++] = mark->id;
    }
    pthread_mutex_unlock(&mark->log->lock);
}

static inline int run_log_count(struct run_log *log)
{
    pthread_mutex_lock(&log->lock);
    int count = log->count;
    pthread_mutex_unlock(&log->lock);
    return count;
}

/* Polls until the log holds n entries or timeout_ms passes. */
static inline bool run_log_wait(struct run_log *log, int n, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    while (run_log_count(log) < n) {
        if (now_ms() > deadline)
            return false;
        sleep_ms(1);
    }
    return true;
}

/* Polls cuStreamQuery until it stops answering NOT_READY (or timeout). */
static inline CUresult stream_query_until_done(CUstream s, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    CUresult rc;
    while ((rc = cuStreamQuery(s)) == CUDA_ERROR_NOT_READY && now_ms() < deadline)
        sleep_ms(1);
    return rc;
}

#endif

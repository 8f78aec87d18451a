/*
 * tests/unit/test_watchdog_mt.c — the watchdog reading while many threads
 * publish (also run under ThreadSanitizer).
 *
 * What it is for: worker threads create, record, poll to completion,
 * synchronize and destroy on their own streams; short-lived threads make
 * one call each and exit (claiming and releasing watch slots); one thread
 * polls an event that never completes; the main thread asks for a hang
 * report every 50 ms. Meanwhile the real watchdog thread ticks with a
 * 300 ms limit. Every STALL record must name the stuck poller and its event
 * (the busy workers are never stuck), at least one must be written, and
 * ThreadSanitizer must stay silent.
 *
 * What it must never do: count loosely: every STALL record is checked.
 */
#include <check.h>
#include <cuda.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/watchdog.h"
#include "tests/unit/shim_testlib.h"
#include "tracer/writer.h"

#define WORKERS 6
#define MS 1000000ull
#define RUN_NS (1500 * MS)

static uint64_t deadline;

struct worker {
    pthread_t thread;
    uint32_t tid;
    unsigned long cycles;
    int failed;
};

static int cycle(CUstream stream)
{
    CUevent e = NULL;
    if (cuEventCreate(&e, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS ||
        cuEventRecord(e, stream) != CUDA_SUCCESS)
        return -1;
    CUresult q;
    while ((q = cuEventQuery(e)) == CUDA_ERROR_NOT_READY)
        ;
    if (q != CUDA_SUCCESS || cuStreamSynchronize(stream) != CUDA_SUCCESS)
        return -1;
    return cuEventDestroy(e) == CUDA_SUCCESS ? 0 : -1;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    CUstream stream = NULL;
    w->tid = cg_gettid();
    if (shimtest_cuda_thread_init() != 0 ||
        cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS) {
        w->failed = 1;
        return NULL;
    }
    while (cg_now_ns() < deadline && !w->failed) {
        w->failed = cycle(stream) != 0;
        w->cycles++;
    }
    if (cuStreamDestroy(stream) != CUDA_SUCCESS)
        w->failed = 1;
    return NULL;
}

struct poller {
    pthread_t thread;
    CUevent event;
    uint32_t tid;
    unsigned long not_ready;
};

static void *run_poller(void *arg)
{
    struct poller *p = arg;
    p->tid = cg_gettid();
    if (shimtest_cuda_thread_init() != 0)
        return NULL;
    while (cg_now_ns() < deadline) {
        p->not_ready += cuEventQuery(p->event) == CUDA_ERROR_NOT_READY;
        usleep(1000);
    }
    return NULL;
}

static void *one_call(void *unused)
{
    (void)unused;
    CUevent e = NULL;
    if (shimtest_cuda_thread_init() == 0 && cuEventCreate(&e, 0) == CUDA_SUCCESS)
        cuEventDestroy(e);
    return NULL;
}

START_TEST(watchdog_reads_while_threads_publish)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/report.txt", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    cg_watchdog_set_output(fd);
    cg_watchdog_set_limit_ms(300);

    CUstream stalled = NULL;
    struct poller p = {0};
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&p.event, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventRecord(p.event, stalled), CUDA_SUCCESS);
    deadline = cg_now_ns() + RUN_NS;

    struct worker workers[WORKERS];
    memset(workers, 0, sizeof workers);
    ck_assert_int_eq(pthread_create(&p.thread, NULL, run_poller, &p), 0);
    for (int i = 0; i < WORKERS; i++)
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]), 0);
    unsigned requests = 0;
    while (cg_now_ns() < deadline) {
        pthread_t t;
        ck_assert_int_eq(pthread_create(&t, NULL, one_call, NULL), 0);
        pthread_join(t, NULL);
        cg_watchdog_request_report();
        requests++;
        usleep(50000);
    }
    pthread_join(p.thread, NULL);
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(workers[i].thread, NULL);
        ck_assert_int_eq(workers[i].failed, 0);
        ck_assert_uint_gt(workers[i].cycles, 0);
    }
    usleep(200000); /* let the last requested report finish */
    cg_watchdog_stop();
    ck_assert_uint_gt(p.not_ready, 0);
    ck_assert_uint_ge(cg_watchdog_stalls(), 1);
    ck_assert_uint_ge(cg_watchdog_reports(), 1);
    close(fd);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    size_t stalls = 0;
    for (size_t i = 0; i < t.count; i++) {
        const struct cg_record *r = &t.records[i].rec;
        if (r->kind != CG_REC_STALL)
            continue;
        stalls++;
        ck_assert_uint_eq(r->arg, p.tid);
        ck_assert_uint_eq(r->handle, (uint64_t)(uintptr_t)p.event);
        ck_assert_uint_ge(r->arg2, 300 * MS);
    }
    ck_assert_uint_eq(stalls, cg_watchdog_stalls());
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

static Suite *mt_suite(void)
{
    Suite *s = suite_create("watchdog_mt");
    TCase *tc = tcase_create("publish");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, watchdog_reads_while_threads_publish);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(mt_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}

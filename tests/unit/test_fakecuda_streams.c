/*
 * test_fakecuda_streams.c — Check suite for the simulated driver's
 * asynchronous semantics (docs/driver-behaviour.md "Events", "Streams", "Host
 * functions", "Pinned memory"): worker threads, event completion, waits,
 * legacy / per-thread default stream ordering, host functions, async
 * copies, handle reuse and validation, the DELAY and STALL knobs, process
 * exit and fork with busy workers, and a multi-threaded stress run for
 * ThreadSanitizer. Streams are held back with a "gate" host function so
 * every ordering check is deterministic; waits are bounded.
 *
 * Must never: rely on sleeps for correctness of a pass (sleeps only give a
 * broken driver the chance to show itself), or hang (every wait is bounded).
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* to name the _ptsz variants */
#include "tests/unit/test_fakecuda_helpers.h"

#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SETTLE_MS 30
#define DONE_MS 5000

static bool flag_get(int *flag)
{
    return __atomic_load_n(flag, __ATOMIC_SEQ_CST) != 0;
}

static void flag_set_fn(void *arg)
{
    __atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static bool flag_wait(int *flag, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    while (!flag_get(flag)) {
        if (now_ms() > deadline)
            return false;
        sleep_ms(1);
    }
    return true;
}

static void thread_id_fn(void *arg)
{
    *(pthread_t *)arg = pthread_self();
}

/* ---- workers and events ---- */

START_TEST(test_each_stream_has_its_own_worker)
{
    CUstream a = NULL, b = NULL;
    struct gate gate;
    pthread_t ran_a, ran_b;
    int b_done = 0;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&a, 0));
    ck_cu(cuStreamCreate(&b, 0));
    ck_cu(cuLaunchHostFunc(a, gate_wait_fn, &gate));
    ck_cu(cuLaunchHostFunc(a, thread_id_fn, &ran_a));
    ck_cu(cuLaunchHostFunc(b, thread_id_fn, &ran_b));
    ck_cu(cuLaunchHostFunc(b, flag_set_fn, &b_done));
    /* b runs while a is blocked: separate workers, truly asynchronous. */
    ck_assert(flag_wait(&b_done, DONE_MS));
    ck_assert_int_eq(cuStreamQuery(a), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(a));
    ck_cu(cuStreamSynchronize(b));
    ck_assert(!pthread_equal(ran_a, pthread_self()));
    ck_assert(!pthread_equal(ran_b, pthread_self()));
    ck_assert(!pthread_equal(ran_a, ran_b));
}
END_TEST

START_TEST(test_event_completes_after_prior_work)
{
    CUstream s = NULL;
    CUevent e = NULL;
    struct gate gate;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    ck_cu(cuEventRecord(e, s));
    sleep_ms(SETTLE_MS);
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    ck_assert_int_eq(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuEventSynchronize(e));
    ck_assert_int_eq(gate.passed, 1);
    ck_cu(cuEventQuery(e));
    ck_cu(cuStreamQuery(s));
}
END_TEST

START_TEST(test_unrecorded_event_is_complete)
{
    CUevent e = NULL;
    CUstream s = NULL;
    int done = 0;
    start_driver();
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuEventQuery(e));
    ck_cu(cuEventSynchronize(e));
    /* A wait on it is a no-op: later work on the stream is not held. */
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuStreamWaitEvent(s, e, 0));
    ck_cu(cuLaunchHostFunc(s, flag_set_fn, &done));
    ck_assert(flag_wait(&done, DONE_MS));
}
END_TEST

START_TEST(test_rerecord_overwrites)
{
    CUstream busy = NULL, idle = NULL;
    CUevent e = NULL;
    struct gate gate;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&busy, CU_STREAM_NON_BLOCKING));
    ck_cu(cuStreamCreate(&idle, CU_STREAM_NON_BLOCKING));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuLaunchHostFunc(busy, gate_wait_fn, &gate));
    ck_cu(cuEventRecord(e, busy));
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    ck_cu(cuEventRecord(e, idle));
    ck_cu(cuEventSynchronize(e)); /* the new record only: returns while busy is held */
    ck_cu(cuEventQuery(e));
    ck_assert_int_eq(cuStreamQuery(busy), CUDA_ERROR_NOT_READY);
    ck_cu(cuEventRecord(e, busy));
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuEventSynchronize(e));
}
END_TEST

START_TEST(test_wait_event_orders_later_work)
{
    CUstream producer = NULL, consumer = NULL, other = NULL;
    CUevent e = NULL;
    struct gate gate;
    int consumed = 0;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&producer, CU_STREAM_NON_BLOCKING));
    ck_cu(cuStreamCreate(&consumer, CU_STREAM_NON_BLOCKING));
    ck_cu(cuStreamCreate(&other, CU_STREAM_NON_BLOCKING));
    ck_cu(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
    ck_cu(cuLaunchHostFunc(producer, gate_wait_fn, &gate));
    ck_cu(cuEventRecord(e, producer));
    ck_cu(cuStreamWaitEvent(consumer, e, 0));
    /* Re-recording after the wait does not release it: it captured the record. */
    ck_cu(cuEventRecord(e, other));
    ck_cu(cuEventSynchronize(e));
    ck_cu(cuLaunchHostFunc(consumer, flag_set_fn, &consumed));
    sleep_ms(SETTLE_MS);
    ck_assert(!flag_get(&consumed));
    ck_assert_int_eq(cuStreamQuery(consumer), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(consumer));
    ck_assert(flag_get(&consumed));
}
END_TEST

START_TEST(test_wait_survives_event_destroy)
{
    CUstream producer = NULL, consumer = NULL;
    CUevent e = NULL;
    struct gate gate;
    int consumed = 0;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&producer, CU_STREAM_NON_BLOCKING));
    ck_cu(cuStreamCreate(&consumer, CU_STREAM_NON_BLOCKING));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuLaunchHostFunc(producer, gate_wait_fn, &gate));
    ck_cu(cuEventRecord(e, producer));
    ck_cu(cuStreamWaitEvent(consumer, e, 0));
    ck_cu(cuEventDestroy_v2(e)); /* returns at once with the record pending */
    ck_cu(cuLaunchHostFunc(consumer, flag_set_fn, &consumed));
    sleep_ms(SETTLE_MS);
    ck_assert(!flag_get(&consumed));
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(consumer));
    ck_assert(flag_get(&consumed));
}
END_TEST

START_TEST(test_elapsed_time_errors)
{
    CUstream s = NULL;
    CUevent start = NULL, end = NULL, untimed = NULL, never = NULL;
    struct gate gate;
    float ms = -1.0f;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&start, 0));
    ck_cu(cuEventCreate(&end, 0));
    ck_cu(cuEventCreate(&untimed, CU_EVENT_DISABLE_TIMING));
    ck_cu(cuEventCreate(&never, 0));
    ck_cu(cuEventRecord(start, s));
    ck_cu(cuEventRecord(untimed, s));
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    ck_cu(cuEventRecord(end, s));
    ck_assert_int_eq(cuEventElapsedTime_v2(&ms, start, end), CUDA_ERROR_NOT_READY);
    ck_assert_int_eq(cuEventElapsedTime_v2(&ms, start, never), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventElapsedTime_v2(&ms, untimed, start), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventElapsedTime_v2(&ms, start, (CUevent)&ms), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventElapsedTime_v2(NULL, start, end), CUDA_ERROR_INVALID_VALUE);
    /* The gate opens at least 50 ms after `start` completed, however late a
     * loaded machine ran the stream's worker. */
    ck_cu(cuEventSynchronize(start));
    sleep_ms(50);
    gate_open(&gate);
    ck_cu(cuEventSynchronize(end));
    ck_cu(cuEventElapsedTime_v2(&ms, start, end));
    ck_assert_float_ge(ms, 45.0f);
    ck_cu(cuEventElapsedTime(&ms, start, end));
    ck_assert_float_ge(ms, 45.0f);
}
END_TEST

/* ---- default streams ---- */

START_TEST(test_legacy_stream_orders_with_blocking_streams)
{
    CUstream blocking = NULL;
    struct gate first, second;
    int legacy_done = 0, blocking_done = 0;
    start_driver();
    gate_init(&first);
    gate_init(&second);
    ck_cu(cuStreamCreate(&blocking, 0));
    /* Legacy work waits for earlier blocking-stream work ... */
    ck_cu(cuLaunchHostFunc(blocking, gate_wait_fn, &first));
    ck_cu(cuLaunchHostFunc(NULL, flag_set_fn, &legacy_done));
    sleep_ms(SETTLE_MS);
    ck_assert(!flag_get(&legacy_done));
    ck_assert_int_eq(cuStreamQuery(NULL), CUDA_ERROR_NOT_READY);
    gate_open(&first);
    ck_assert(flag_wait(&legacy_done, DONE_MS));
    /* ... and blocking-stream work waits for earlier legacy work. */
    ck_cu(cuLaunchHostFunc(CU_STREAM_LEGACY, gate_wait_fn, &second));
    ck_cu(cuLaunchHostFunc(blocking, flag_set_fn, &blocking_done));
    sleep_ms(SETTLE_MS);
    ck_assert(!flag_get(&blocking_done));
    gate_open(&second);
    ck_cu(cuStreamSynchronize(blocking));
    ck_assert(flag_get(&blocking_done));
}
END_TEST

START_TEST(test_legacy_stream_ignores_non_blocking_streams)
{
    CUstream non_blocking = NULL;
    struct gate first, second;
    int legacy_done = 0, stream_done = 0;
    start_driver();
    gate_init(&first);
    gate_init(&second);
    ck_cu(cuStreamCreate(&non_blocking, CU_STREAM_NON_BLOCKING));
    ck_cu(cuLaunchHostFunc(non_blocking, gate_wait_fn, &first));
    ck_cu(cuLaunchHostFunc(NULL, flag_set_fn, &legacy_done));
    ck_assert(flag_wait(&legacy_done, DONE_MS));
    ck_cu(cuStreamSynchronize(NULL)); /* does not wait for the non-blocking stream */
    ck_cu(cuLaunchHostFunc(NULL, gate_wait_fn, &second));
    ck_cu(cuLaunchHostFunc(non_blocking, flag_set_fn, &stream_done));
    gate_open(&first);
    ck_assert(flag_wait(&stream_done, DONE_MS));
    ck_assert_int_eq(cuStreamQuery(NULL), CUDA_ERROR_NOT_READY);
    gate_open(&second);
    ck_cu(cuCtxSynchronize());
}
END_TEST

struct per_thread_probe {
    unsigned long long plain_id;
    unsigned long long ptsz_id;
    unsigned long long explicit_id;
    int done;
};

static void *probe_per_thread_stream(void *arg)
{
    struct per_thread_probe *probe = arg;
    start_driver();
    ck_cu(cuStreamGetId_ptsz(NULL, &probe->ptsz_id));
    ck_cu(cuStreamGetId(CU_STREAM_PER_THREAD, &probe->explicit_id));
    ck_cu(cuStreamGetId(NULL, &probe->plain_id));
    ck_cu(cuLaunchHostFunc_ptsz(NULL, flag_set_fn, &probe->done));
    ck_cu(cuStreamSynchronize_ptsz(NULL));
    return NULL;
}

START_TEST(test_per_thread_default_stream_is_per_thread)
{
    struct per_thread_probe mine, theirs;
    struct gate gate;
    pthread_t thread;
    memset(&mine, 0, sizeof mine);
    memset(&theirs, 0, sizeof theirs);
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamGetId_ptsz(NULL, &mine.ptsz_id));
    ck_cu(cuStreamGetId(CU_STREAM_PER_THREAD, &mine.explicit_id));
    ck_cu(cuStreamGetId(NULL, &mine.plain_id));
    ck_assert_uint_eq(mine.ptsz_id, mine.explicit_id);
    ck_assert_uint_ne(mine.ptsz_id, mine.plain_id);
    /* Hold this thread's per-thread stream; another thread's still runs. */
    ck_cu(cuLaunchHostFunc(CU_STREAM_PER_THREAD, gate_wait_fn, &gate));
    pthread_create(&thread, NULL, probe_per_thread_stream, &theirs);
    pthread_join(thread, NULL);
    ck_assert(flag_get(&theirs.done));
    ck_assert_uint_ne(theirs.ptsz_id, mine.ptsz_id);
    ck_assert_uint_eq(theirs.ptsz_id, theirs.explicit_id);
    ck_assert_uint_eq(theirs.plain_id, mine.plain_id); /* one legacy stream */
    ck_assert_int_eq(cuStreamQuery_ptsz(NULL), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(CU_STREAM_PER_THREAD));
}
END_TEST

START_TEST(test_per_thread_stream_syncs_with_legacy_only)
{
    CUstream blocking = NULL;
    struct gate held_created, held_per_thread;
    int per_thread_done = 0, legacy_done = 0;
    start_driver();
    gate_init(&held_created);
    gate_init(&held_per_thread);
    ck_cu(cuStreamCreate(&blocking, 0));
    /* Not ordered with created blocking streams ... */
    ck_cu(cuLaunchHostFunc(blocking, gate_wait_fn, &held_created));
    ck_cu(cuLaunchHostFunc_ptsz(NULL, flag_set_fn, &per_thread_done));
    ck_assert(flag_wait(&per_thread_done, DONE_MS));
    gate_open(&held_created);
    ck_cu(cuCtxSynchronize());
    /* ... but it is a blocking stream, so the legacy stream waits for it. */
    ck_cu(cuLaunchHostFunc_ptsz(NULL, gate_wait_fn, &held_per_thread));
    ck_cu(cuLaunchHostFunc(NULL, flag_set_fn, &legacy_done));
    sleep_ms(SETTLE_MS);
    ck_assert(!flag_get(&legacy_done));
    gate_open(&held_per_thread);
    ck_cu(cuStreamSynchronize(NULL));
    ck_assert(flag_get(&legacy_done));
}
END_TEST

/* ---- host functions and copies ---- */

START_TEST(test_host_functions_run_in_stream_order)
{
    CUstream s = NULL;
    struct run_log log;
    struct run_mark marks[8];
    start_driver();
    run_log_init(&log);
    ck_cu(cuStreamCreate(&s, 0));
    for (int i = 0; i < 8; i++) {
        marks[i].log = &log;
        marks[i].id = i;
        ck_cu(cuLaunchHostFunc(s, run_mark_fn, &marks[i]));
        if (i == 3) /* a kernel launch is ordered work too */
            ck_cu(cuLaunchKernel((CUfunction)&marks, 1, 1, 1, 32, 1, 1, 0, s, NULL, NULL));
    }
    ck_cu(cuStreamSynchronize(s));
    ck_assert_int_eq(log.count, 8);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(log.entries[i], i);
        ck_assert(pthread_equal(log.threads[i], log.threads[0]));
    }
    ck_assert(!pthread_equal(log.threads[0], pthread_self()));
    ck_assert_int_eq(cuLaunchHostFunc(s, NULL, NULL), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuLaunchKernel(NULL, 1, 1, 1, 1, 1, 1, 0, s, NULL, NULL),
                     CUDA_ERROR_INVALID_HANDLE);
}
END_TEST

START_TEST(test_async_copies_copy_in_stream_order)
{
    enum { N = 4096 };
    CUstream s = NULL;
    CUdeviceptr a = 0, b = 0;
    unsigned char *pinned_in = NULL, *pinned_out = NULL;
    unsigned char pageable[N];
    struct gate gate;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    ck_cu(cuMemAlloc_v2(&a, N));
    ck_cu(cuMemAlloc_v2(&b, N));
    ck_cu(cuMemAllocHost_v2((void **)&pinned_in, N));
    ck_cu(cuMemAllocHost_v2((void **)&pinned_out, N));
    for (int i = 0; i < N; i++) {
        pinned_in[i] = (unsigned char)(i * 7);
        pageable[i] = (unsigned char)(i * 3);
    }
    memset(pinned_out, 0, N);
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    ck_cu(cuMemcpyHtoDAsync_v2(a, pinned_in, N, s));
    ck_cu(cuMemcpyDtoDAsync_v2(b, a, N, s));
    ck_cu(cuMemcpyDtoHAsync_v2(pinned_out, b, N, s));
    /* Pinned source changed after the DtoH was queued but before it ran. */
    sleep_ms(SETTLE_MS);
    ck_assert_int_eq(pinned_out[1], 0);
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(s));
    ck_assert_mem_eq(pinned_out, pinned_in, N);
    /* Pageable source is staged at call time: later changes do not leak in. */
    struct gate again;
    gate_init(&again);
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &again));
    ck_cu(cuMemcpyHtoDAsync_v2(a, pageable, N, s));
    memset(pageable, 0xee, 16);
    gate_open(&again);
    ck_cu(cuMemcpyDtoHAsync_v2(pinned_out, a, N, s));
    ck_cu(cuStreamSynchronize(s));
    ck_assert_int_eq(pinned_out[1], 3);
    /* The unified form and the per-thread variants copy too. */
    memset(pinned_out, 0, N);
    ck_cu(cuMemcpyAsync((CUdeviceptr)(uintptr_t)pinned_out, a, N, s));
    ck_cu(cuStreamSynchronize(s));
    ck_assert_int_eq(pinned_out[2], 6);
    ck_cu(cuMemcpyHtoDAsync_v2_ptsz(b, pinned_in, N, NULL));
    ck_cu(cuMemcpyDtoHAsync_v2_ptsz(pinned_out, b, N, NULL));
    ck_cu(cuStreamSynchronize_ptsz(NULL));
    ck_assert_mem_eq(pinned_out, pinned_in, N);
    ck_assert_int_eq(cuMemcpyHtoDAsync_v2((CUdeviceptr)(uintptr_t)pageable, pinned_in, 8, s),
                     CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuMemFreeHost(pinned_in));
    ck_cu(cuMemFreeHost(pinned_out));
}
END_TEST

struct free_host_call {
    void *ptr;
    int returned;
    CUresult rc;
};

static void *free_host_thread(void *arg)
{
    struct free_host_call *call = arg;
    CUcontext ctx = NULL;
    ck_cu(cuDevicePrimaryCtxRetain(&ctx, 0));
    ck_cu(cuCtxSetCurrent(ctx));
    call->rc = cuMemFreeHost(call->ptr);
    __atomic_store_n(&call->returned, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

START_TEST(test_free_host_synchronizes_context)
{
    CUstream s = NULL;
    struct gate gate;
    struct free_host_call call = {NULL, 0, CUDA_ERROR_UNKNOWN};
    pthread_t thread;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    ck_cu(cuMemAllocHost_v2(&call.ptr, 64));
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    pthread_create(&thread, NULL, free_host_thread, &call);
    sleep_ms(SETTLE_MS * 2);
    ck_assert(!flag_get(&call.returned));
    gate_open(&gate);
    pthread_join(thread, NULL);
    ck_assert_int_eq(call.rc, CUDA_SUCCESS);
}
END_TEST

static void slow_fn(void *arg)
{
    (void)arg;
    sleep_ms(2);
}

START_TEST(test_ctx_synchronize_waits_for_every_stream)
{
    CUstream streams[3];
    struct run_log log;
    struct run_mark marks[4];
    start_driver();
    run_log_init(&log);
    for (int i = 0; i < 4; i++) {
        marks[i].log = &log;
        marks[i].id = i;
    }
    for (int i = 0; i < 3; i++) {
        ck_cu(cuStreamCreate(&streams[i], i == 0 ? CU_STREAM_NON_BLOCKING : 0));
        for (int j = 0; j < 10; j++)
            ck_cu(cuLaunchHostFunc(streams[i], slow_fn, NULL));
        ck_cu(cuLaunchHostFunc(streams[i], run_mark_fn, &marks[i]));
    }
    ck_cu(cuLaunchHostFunc_ptsz(NULL, slow_fn, NULL));
    ck_cu(cuLaunchHostFunc_ptsz(NULL, run_mark_fn, &marks[3]));
    ck_cu(cuCtxSynchronize());
    ck_assert_int_eq(run_log_count(&log), 4);
}
END_TEST

/* ---- destroy, reuse, validation ---- */

START_TEST(test_destroy_with_pending_work_returns_and_work_runs)
{
    CUstream s = NULL;
    CUevent e = NULL;
    struct gate gate;
    int ran = 0;
    start_driver();
    gate_init(&gate);
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    ck_cu(cuLaunchHostFunc(s, flag_set_fn, &ran));
    ck_cu(cuEventRecord(e, s));
    ck_cu(cuStreamDestroy_v2(s)); /* returns while the gate is still closed */
    ck_assert_int_eq(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_NOT_READY);
    ck_assert(!flag_get(&ran));
    gate_open(&gate);
    ck_cu(cuEventSynchronize(e));
    ck_assert(flag_get(&ran));
}
END_TEST

START_TEST(test_destroyed_handles_are_reused_lifo)
{
    CUstream s1 = NULL, s2 = NULL, r1 = NULL, r2 = NULL;
    CUevent e1 = NULL, e2 = NULL, f1 = NULL;
    unsigned long long id_before = 0, id_after = 0;
    start_driver();
    ck_cu(cuStreamCreate(&s1, 0));
    ck_cu(cuStreamCreate(&s2, 0));
    ck_cu(cuStreamGetId(s2, &id_before));
    ck_cu(cuStreamDestroy_v2(s1));
    ck_cu(cuStreamDestroy_v2(s2));
    ck_cu(cuStreamCreate(&r1, 0));
    ck_cu(cuStreamCreate(&r2, 0));
    ck_assert_ptr_eq(r1, s2);
    ck_assert_ptr_eq(r2, s1);
    /* Same handle value, different stream: the id tells them apart. */
    ck_cu(cuStreamGetId(r1, &id_after));
    ck_assert_uint_ne(id_before, id_after);
    ck_cu(cuEventCreate(&e1, 0));
    ck_cu(cuEventCreate(&e2, 0));
    ck_cu(cuEventDestroy_v2(e1));
    ck_cu(cuEventCreate(&f1, 0));
    ck_assert_ptr_eq(f1, e1);
    ck_assert_ptr_ne(f1, e2);
    /* Handle kinds are separate: an event value is not a stream. */
    ck_assert_int_eq(cuStreamQuery((CUstream)e2), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventQuery((CUevent)r1), CUDA_ERROR_INVALID_HANDLE);
}
END_TEST

START_TEST(test_unknown_handles_are_invalid)
{
    CUstream s = NULL;
    CUevent e = NULL, dead = NULL;
    float ms = 0;
    int not_a_handle = 0;
    CUevent foreign = (CUevent)&not_a_handle;
    CUstream foreign_stream = (CUstream)&not_a_handle;
    start_driver();
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuEventCreate(&dead, 0));
    ck_cu(cuEventDestroy_v2(dead));
    CUevent bad_events[] = {foreign, dead, NULL};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(cuEventQuery(bad_events[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventSynchronize(bad_events[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventRecord(bad_events[i], s), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventRecordWithFlags(bad_events[i], s, 0), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventDestroy_v2(bad_events[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventElapsedTime_v2(&ms, bad_events[i], e), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuStreamWaitEvent(s, bad_events[i], 0), CUDA_ERROR_INVALID_HANDLE);
    }
    ck_cu(cuStreamDestroy_v2(s));
    CUstream bad_streams[] = {foreign_stream, s};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(cuStreamQuery(bad_streams[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuStreamSynchronize(bad_streams[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuStreamDestroy_v2(bad_streams[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuEventRecord(e, bad_streams[i]), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuStreamWaitEvent(bad_streams[i], e, 0), CUDA_ERROR_INVALID_HANDLE);
        ck_assert_int_eq(cuLaunchHostFunc(bad_streams[i], flag_set_fn, &not_a_handle),
                         CUDA_ERROR_INVALID_HANDLE);
    }
    ck_assert_int_eq(cuStreamDestroy_v2(NULL), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(not_a_handle, 0);
}
END_TEST

START_TEST(test_stream_getters)
{
    CUstream s = NULL;
    unsigned flags = 99;
    int priority = 99;
    unsigned long long a = 0, b = 0;
    CUcontext ctx = NULL, current = NULL;
    start_driver();
    ck_cu(cuCtxGetCurrent(&current));
    ck_cu(cuStreamCreateWithPriority(&s, CU_STREAM_NON_BLOCKING, -100));
    ck_cu(cuStreamGetFlags(s, &flags));
    ck_assert_uint_eq(flags, CU_STREAM_NON_BLOCKING);
    ck_cu(cuStreamGetPriority(s, &priority));
    ck_assert_int_eq(priority, -5);
    ck_cu(cuStreamGetCtx(s, &ctx));
    ck_assert_ptr_eq(ctx, current);
    ck_cu(cuStreamGetId(s, &a));
    ck_cu(cuStreamGetId(CU_STREAM_LEGACY, &b));
    ck_assert_uint_ne(a, b);
    ck_assert_int_eq(cuStreamCreate(&s, 0x10), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuStreamGetId(s, NULL), CUDA_ERROR_INVALID_VALUE);
}
END_TEST

/* ---- knobs ---- */

START_TEST(test_delay_knob_slows_every_op)
{
    CUstream s = NULL;
    setenv("FAKECUDA_DELAY_US", "100000", 1);
    start_driver();
    ck_cu(cuStreamCreate(&s, 0));
    double begin = now_ms();
    int done = 0;
    ck_cu(cuLaunchHostFunc(s, flag_set_fn, &done));
    ck_cu(cuLaunchHostFunc(s, flag_set_fn, &done));
    ck_cu(cuLaunchHostFunc(s, flag_set_fn, &done));
    /* Enqueueing is not delayed: three delayed ops would take 300 ms; the
     * bound leaves room for a loaded machine. */
    ck_assert_double_lt(now_ms() - begin, 100.0);
    ck_cu(cuStreamSynchronize(s));
    ck_assert_double_ge(now_ms() - begin, 299.0);
}
END_TEST

struct sync_call {
    CUstream stream;
    int returned;
};

static void *stream_sync_thread(void *arg)
{
    struct sync_call *call = arg;
    CUcontext ctx = NULL;
    cuDevicePrimaryCtxRetain(&ctx, 0);
    cuCtxSetCurrent(ctx);
    cuStreamSynchronize(call->stream);
    __atomic_store_n(&call->returned, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

START_TEST(test_stall_knob_stalls_kth_stream)
{
    CUstream first = NULL, stalled = NULL;
    int first_done = 0, stalled_done = 0;
    struct sync_call call = {NULL, 0};
    pthread_t thread;
    setenv("FAKECUDA_STALL_STREAM", "2", 1);
    start_driver();
    ck_cu(cuStreamCreate(&first, CU_STREAM_NON_BLOCKING));
    ck_cu(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING));
    ck_cu(cuLaunchHostFunc(stalled, flag_set_fn, &stalled_done));
    ck_cu(cuLaunchHostFunc(first, flag_set_fn, &first_done));
    ck_assert(flag_wait(&first_done, DONE_MS));
    ck_assert_int_eq(stream_query_until_done(stalled, 100), CUDA_ERROR_NOT_READY);
    ck_assert(!flag_get(&stalled_done));
    call.stream = stalled;
    pthread_create(&thread, NULL, stream_sync_thread, &call);
    pthread_detach(thread);
    sleep_ms(100);
    ck_assert(!flag_get(&call.returned)); /* blocks forever, by design */
    /* Destroying it is fine; the process still exits (Check's child ends). */
    ck_cu(cuStreamDestroy_v2(stalled));
}
END_TEST

/* ---- process exit and fork ---- */

static void hang_forever_fn(void *arg)
{
    (void)arg;
    for (;;)
        pause();
}

static int wait_child(pid_t pid, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(5);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

START_TEST(test_exit_with_busy_workers)
{
    pid_t pid = fork();
    if (pid == 0) {
        CUstream s = NULL, t = NULL;
        CUdevice dev = 0;
        CUcontext ctx = NULL;
        setenv("FAKECUDA_STALL_STREAM", "2", 1);
        cuInit(0);
        cuDeviceGet(&dev, 0);
        cuDevicePrimaryCtxRetain(&ctx, dev);
        cuCtxSetCurrent(ctx);
        cuStreamCreate(&s, 0);
        cuStreamCreate(&t, 0);
        cuLaunchHostFunc(s, hang_forever_fn, NULL);
        cuLaunchHostFunc(t, hang_forever_fn, NULL);
        for (int i = 0; i < 100; i++)
            cuLaunchHostFunc(NULL, hang_forever_fn, NULL);
        exit(7);
    }
    ck_assert_int_eq(wait_child(pid, 5000), 7);
}
END_TEST

START_TEST(test_fork_with_busy_workers_does_not_deadlock)
{
    CUstream streams[4];
    CUevent e = NULL;
    start_driver();
    ck_cu(cuEventCreate(&e, 0));
    for (int i = 0; i < 4; i++) {
        ck_cu(cuStreamCreate(&streams[i], 0));
        for (int j = 0; j < 50; j++)
            ck_cu(cuLaunchHostFunc(streams[i], slow_fn, NULL));
    }
    for (int round = 0; round < 5; round++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* The child cannot use the parent's driver state, like a real one. */
            _exit(cuEventQuery(e) == CUDA_ERROR_NOT_INITIALIZED ? 3 : 4);
        }
        ck_assert_int_eq(wait_child(pid, 5000), 3);
    }
    ck_cu(cuCtxSynchronize());
}
END_TEST

/* ---- many threads at once (ThreadSanitizer) ---- */

struct stress_shared {
    CUevent shared_event;
    CUstream shared_stream;
    int counter;
};

static void count_fn(void *arg)
{
    __atomic_add_fetch((int *)arg, 1, __ATOMIC_SEQ_CST);
}

static void *stress_thread(void *arg)
{
    struct stress_shared *shared = arg;
    CUcontext ctx = NULL;
    ck_cu(cuDevicePrimaryCtxRetain(&ctx, 0));
    ck_cu(cuCtxSetCurrent(ctx));
    for (int i = 0; i < 40; i++) {
        CUstream s = NULL;
        CUevent e = NULL;
        ck_cu(cuStreamCreate(&s, i % 2 ? CU_STREAM_NON_BLOCKING : 0));
        ck_cu(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING));
        ck_cu(cuLaunchHostFunc(s, count_fn, &shared->counter));
        ck_cu(cuEventRecord(e, s));
        ck_cu(cuStreamWaitEvent(shared->shared_stream, e, 0));
        ck_cu(cuEventRecord(shared->shared_event, s));
        CUresult rc = cuEventQuery(shared->shared_event);
        ck_assert(rc == CUDA_SUCCESS || rc == CUDA_ERROR_NOT_READY);
        ck_cu(cuLaunchHostFunc_ptsz(NULL, count_fn, &shared->counter));
        if (i % 3 == 0)
            ck_cu(cuEventSynchronize(e));
        ck_cu(cuEventDestroy_v2(e));
        ck_cu(cuStreamDestroy_v2(s));
    }
    ck_cu(cuStreamSynchronize_ptsz(NULL));
    return NULL;
}

START_TEST(test_many_threads_at_once)
{
    enum { THREADS = 6 };
    struct stress_shared shared = {NULL, NULL, 0};
    pthread_t threads[THREADS];
    start_driver();
    ck_cu(cuEventCreate(&shared.shared_event, 0));
    ck_cu(cuStreamCreate(&shared.shared_stream, CU_STREAM_NON_BLOCKING));
    for (int i = 0; i < THREADS; i++)
        pthread_create(&threads[i], NULL, stress_thread, &shared);
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    ck_cu(cuCtxSynchronize());
    ck_cu(cuStreamSynchronize(shared.shared_stream));
    ck_assert_int_eq(__atomic_load_n(&shared.counter, __ATOMIC_SEQ_CST), THREADS * 40 * 2);
}
END_TEST

static Suite *streams_suite(void)
{
    Suite *suite = suite_create("fakecuda_streams");
    TCase *tc = tcase_create("semantics");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_each_stream_has_its_own_worker);
    tcase_add_test(tc, test_event_completes_after_prior_work);
    tcase_add_test(tc, test_unrecorded_event_is_complete);
    tcase_add_test(tc, test_rerecord_overwrites);
    tcase_add_test(tc, test_wait_event_orders_later_work);
    tcase_add_test(tc, test_wait_survives_event_destroy);
    tcase_add_test(tc, test_elapsed_time_errors);
    tcase_add_test(tc, test_legacy_stream_orders_with_blocking_streams);
    tcase_add_test(tc, test_legacy_stream_ignores_non_blocking_streams);
    tcase_add_test(tc, test_per_thread_default_stream_is_per_thread);
    tcase_add_test(tc, test_per_thread_stream_syncs_with_legacy_only);
    tcase_add_test(tc, test_host_functions_run_in_stream_order);
    tcase_add_test(tc, test_async_copies_copy_in_stream_order);
    tcase_add_test(tc, test_free_host_synchronizes_context);
    tcase_add_test(tc, test_ctx_synchronize_waits_for_every_stream);
    tcase_add_test(tc, test_destroy_with_pending_work_returns_and_work_runs);
    tcase_add_test(tc, test_destroyed_handles_are_reused_lifo);
    tcase_add_test(tc, test_unknown_handles_are_invalid);
    tcase_add_test(tc, test_stream_getters);
    tcase_add_test(tc, test_delay_knob_slows_every_op);
    tcase_add_test(tc, test_stall_knob_stalls_kth_stream);
    tcase_add_test(tc, test_exit_with_busy_workers);
    tcase_add_test(tc, test_fork_with_busy_workers_does_not_deadlock);
    tcase_add_test(tc, test_many_threads_at_once);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(streams_suite());
    srunner_set_fork_status(runner, CK_FORK); /* each test needs a fresh driver */
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

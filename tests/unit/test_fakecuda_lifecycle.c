/*
 * test_fakecuda_lifecycle.c — Check suite for the simulated driver's
 * functions numba's driver-level tests need beyond streams and events
 * (issue 12): cuStreamAddCallback (runs after earlier work on its worker
 * thread, blocks later work, gets the stream as passed and a status),
 * cuMemAllocManaged, cuMemGetAddressRange, cuProfilerStart/Stop, the
 * FAKECUDA_MEMORY_MB knob, and context destroy / primary context reset
 * ending the objects of that context.
 *
 * Must never: rely on sleeps for a pass, or hang (every wait is bounded).
 */
#define __CUDA_API_VERSION_INTERNAL 1 /* to name the _ptsz variants */
#include "tests/unit/test_fakecuda_helpers.h"

#include <cudaProfiler.h>
#include <stdint.h>
#include <stdlib.h>

/* What one stream callback saw. */
struct callback_seen {
    struct run_mark mark; /* logs the run in order with host functions */
    CUstream stream;
    CUresult status;
    int calls;
};

static void CUDA_CB record_callback(CUstream stream, CUresult status, void *data)
{
    struct callback_seen *seen = data;
    seen->stream = stream;
    seen->status = status;
    seen->calls++;
    run_mark_fn(&seen->mark);
}

START_TEST(test_stream_callback_runs_in_stream_order)
{
    CUstream s = NULL;
    struct gate gate;
    struct run_log log;
    struct run_mark before = {&log, 1}, after = {&log, 3};
    struct callback_seen seen = {{&log, 2}, NULL, CUDA_ERROR_UNKNOWN, 0};
    start_driver();
    gate_init(&gate);
    run_log_init(&log);
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuLaunchHostFunc(s, gate_wait_fn, &gate));
    ck_cu(cuLaunchHostFunc(s, run_mark_fn, &before));
    ck_cu(cuStreamAddCallback(s, record_callback, &seen, 0));
    ck_cu(cuLaunchHostFunc(s, run_mark_fn, &after));
    sleep_ms(20); /* a broken driver would run the callback now */
    ck_assert_int_eq(run_log_count(&log), 0);
    ck_assert_int_eq(cuStreamQuery(s), CUDA_ERROR_NOT_READY);
    gate_open(&gate);
    ck_cu(cuStreamSynchronize(s));
    ck_assert_int_eq(log.count, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(log.entries[i], i + 1);
    ck_assert(!pthread_equal(log.threads[1], pthread_self())); /* a driver thread */
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_ptr_eq(seen.stream, s);
    ck_assert_int_eq(seen.status, CUDA_SUCCESS);
    ck_cu(cuStreamDestroy(s));
}
END_TEST

START_TEST(test_stream_callback_default_stream_and_errors)
{
    struct run_log log;
    struct callback_seen seen = {{&log, 1}, (CUstream)&log, CUDA_ERROR_UNKNOWN, 0};
    start_driver();
    run_log_init(&log);
    ck_cu(cuStreamAddCallback_ptsz(NULL, record_callback, &seen, 0));
    ck_cu(cuStreamSynchronize_ptsz(NULL));
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_ptr_eq(seen.stream, NULL); /* the handle as the caller passed it */
    ck_assert_int_eq(cuStreamAddCallback(NULL, NULL, NULL, 0), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuStreamAddCallback(NULL, record_callback, &seen, 1),
                     CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuStreamAddCallback((CUstream)&seen, record_callback, &seen, 0),
                     CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(seen.calls, 1);
}
END_TEST

START_TEST(test_stream_callback_status_knob)
{
    struct run_log log;
    struct callback_seen first = {{&log, 1}, NULL, CUDA_ERROR_UNKNOWN, 0};
    struct callback_seen second = {{&log, 2}, NULL, CUDA_ERROR_UNKNOWN, 0};
    setenv("FAKECUDA_FAIL", "cuStreamCallbackStatus:700:2", 1);
    start_driver();
    run_log_init(&log);
    ck_cu(cuStreamAddCallback(NULL, record_callback, &first, 0));
    ck_cu(cuStreamAddCallback(NULL, record_callback, &second, 0));
    ck_cu(cuStreamSynchronize(NULL));
    ck_assert_int_eq(first.status, CUDA_SUCCESS);
    ck_assert_int_eq(second.status, CUDA_ERROR_ILLEGAL_ADDRESS);
}
END_TEST

START_TEST(test_managed_memory_and_address_range)
{
    CUdeviceptr managed = 0, base = 0;
    size_t size = 0;
    void *pinned = NULL;
    start_driver();
    ck_assert_int_eq(cuMemAllocManaged(&managed, 4096, 0), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemAllocManaged(&managed, 0, CU_MEM_ATTACH_GLOBAL),
                     CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuMemAllocManaged(&managed, 4096, CU_MEM_ATTACH_HOST));
    ((volatile char *)(uintptr_t)managed)[4095] = 7; /* host-accessible */
    ck_cu(cuMemGetAddressRange_v2(&base, &size, managed + 100));
    ck_assert_uint_eq(base, managed);
    ck_assert_uint_eq(size, 4096);
    ck_cu(cuMemGetAddressRange_v2(NULL, &size, managed)); /* either out may be NULL */
    ck_cu(cuMemGetAddressRange_v2(&base, NULL, managed));
    ck_cu(cuMemHostAlloc(&pinned, 8192, CU_MEMHOSTALLOC_DEVICEMAP));
    ck_cu(cuMemGetAddressRange_v2(&base, &size, (CUdeviceptr)(uintptr_t)pinned + 1));
    ck_assert_uint_eq(base, (CUdeviceptr)(uintptr_t)pinned);
    ck_assert_uint_eq(size, 8192);
    ck_cu(cuMemFree_v2(managed));
    ck_assert_int_eq(cuMemGetAddressRange_v2(&base, &size, managed), CUDA_ERROR_NOT_FOUND);
    ck_cu(cuMemFreeHost(pinned));
}
END_TEST

START_TEST(test_memory_knob_sizes_the_device)
{
    size_t free_bytes = 0, total = 0;
    CUdeviceptr p = 0;
    setenv("FAKECUDA_MEMORY_MB", "64", 1);
    start_driver();
    ck_cu(cuMemGetInfo_v2(&free_bytes, &total));
    ck_assert_uint_eq(total, (size_t)64 << 20);
    ck_assert_int_eq(cuMemAllocManaged(&p, (size_t)65 << 20, CU_MEM_ATTACH_GLOBAL),
                     CUDA_ERROR_OUT_OF_MEMORY);
}
END_TEST

START_TEST(test_profiler_needs_a_context)
{
    CUdevice dev = 0;
    ck_cu(cuInit(0));
    ck_assert_int_eq(cuProfilerStart(), CUDA_ERROR_INVALID_CONTEXT);
    ck_cu(cuDeviceGet(&dev, 0));
    start_driver();
    ck_cu(cuProfilerStart());
    ck_cu(cuProfilerStop());
}
END_TEST

START_TEST(test_context_destroy_ends_its_objects)
{
    CUcontext ctx = NULL;
    CUstream s = NULL;
    CUevent e = NULL;
    start_driver();
    ck_cu(cuCtxCreate(&ctx, 0, 0));
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuEventRecord(e, s));
    ck_cu(cuCtxDestroy(ctx));
    ck_assert_int_eq(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventQuery(e), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuStreamDestroy(s), CUDA_ERROR_INVALID_HANDLE);
}
END_TEST

START_TEST(test_primary_reset_ends_its_objects)
{
    CUstream s = NULL;
    CUevent e = NULL;
    CUcontext ctx = NULL;
    start_driver();
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuEventCreate(&e, 0));
    ck_cu(cuDevicePrimaryCtxReset(0));
    ck_assert_int_eq(cuStreamQuery(s), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuEventDestroy(e), CUDA_ERROR_INVALID_HANDLE);
    ck_cu(cuDevicePrimaryCtxRetain(&ctx, 0)); /* the device is usable again */
    ck_cu(cuCtxSetCurrent(ctx));
    ck_cu(cuStreamCreate(&s, 0));
    ck_cu(cuStreamDestroy(s));
}
END_TEST

static Suite *lifecycle_suite(void)
{
    Suite *suite = suite_create("fakecuda_lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_stream_callback_runs_in_stream_order);
    tcase_add_test(tc, test_stream_callback_default_stream_and_errors);
    tcase_add_test(tc, test_stream_callback_status_knob);
    tcase_add_test(tc, test_managed_memory_and_address_range);
    tcase_add_test(tc, test_memory_knob_sizes_the_device);
    tcase_add_test(tc, test_profiler_needs_a_context);
    tcase_add_test(tc, test_context_destroy_ends_its_objects);
    tcase_add_test(tc, test_primary_reset_ends_its_objects);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(lifecycle_suite());
    srunner_set_fork_status(runner, CK_FORK); /* each test needs a fresh driver (knobs) */
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

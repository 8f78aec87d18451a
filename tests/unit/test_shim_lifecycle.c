/*
 * test_shim_lifecycle.c — Check suite for what the shim records about
 * object lifetimes beyond single calls (issue 12): CONTEXT records after
 * creates when the thread's context changes, cuStreamAddCallback's
 * trampoline (CALLBACK record on the driver thread, the program's function
 * called with its own arguments, the enqueue's CALL first), context
 * create/destroy/reset fields, and a teardown's record taking its time
 * before the real call.
 *
 * What it must never do: depend on timing for a pass (waits are the
 * simulator's own synchronize calls).
 */
#include <check.h>
#include <cuda.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/shim_testlib.h"

#define H(x) ((uint64_t)(uintptr_t)(x))

/* Index of the n-th (0-based) record of kind and api (NULL = any), or count. */
static size_t find(const struct shimtest_trace *t, uint8_t kind, const char *api, size_t n)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->records[i].rec.kind == kind && (api == NULL || !strcmp(t->records[i].api, api)) &&
            n-- == 0)
            return i;
    }
    return t->count;
}

START_TEST(context_record_after_create_when_context_changes)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent a = NULL, b = NULL, c = NULL;
    CUcontext primary = NULL, created = NULL;
    CUresult (*get_current)(CUcontext *) =
        (CUresult(*)(CUcontext *))shimtest_driver_sym("cuCtxGetCurrent");
    ck_assert_int_eq(get_current(&primary), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&a, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&b, 0), CUDA_SUCCESS); /* same context: no record */
    ck_assert_int_eq(cuCtxCreate_v4(&created, NULL, 0, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&c, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(c), CUDA_SUCCESS);
    ck_assert_int_eq(cuCtxDestroy(created), CUDA_SUCCESS);
    ck_assert_int_eq(cuDevicePrimaryCtxReset(0), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_CONTEXT, NULL), 2);
    size_t first = find(&t, CG_REC_CONTEXT, NULL, 0), second = find(&t, CG_REC_CONTEXT, NULL, 1);
    ck_assert_uint_eq(first, find(&t, CG_REC_CALL, "cuEventCreate", 0) + 1);
    ck_assert_uint_eq(t.records[first].rec.handle, H(primary));
    ck_assert_uint_eq(t.records[first].rec.arg, 1); /* device 0 */
    ck_assert_uint_eq(second, find(&t, CG_REC_CALL, "cuEventCreate", 2) + 1);
    ck_assert_uint_eq(t.records[second].rec.handle, H(created));
    ck_assert_uint_eq(t.records[second].rec.tid, (uint32_t)getpid());
    size_t create = find(&t, CG_REC_CALL, NULL, 0);
    while (create < t.count && strncmp(t.records[create].api, "cuCtxCreate", 11) != 0)
        create++;
    ck_assert_uint_lt(create, t.count);
    ck_assert_uint_eq(t.records[create].rec.handle, H(created));
    ck_assert_uint_eq(t.records[create].rec.arg2, 0); /* device ordinal */
    size_t destroy = find(&t, CG_REC_CALL, "cuCtxDestroy_v2", 0);
    ck_assert_uint_lt(destroy, t.count);
    ck_assert_uint_eq(t.records[destroy].rec.handle, H(created));
    size_t reset = find(&t, CG_REC_CALL, "cuDevicePrimaryCtxReset_v2", 0);
    ck_assert_uint_lt(reset, t.count);
    ck_assert_uint_eq(t.records[reset].rec.handle, 0); /* device ordinal */
    ck_assert_int_eq(t.records[reset].rec.result, CUDA_SUCCESS);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

struct seen {
    CUstream stream;
    CUresult status;
    pthread_t thread;
    int calls;
};

static void CUDA_CB on_callback(CUstream stream, CUresult status, void *data)
{
    struct seen *s = data;
    s->stream = stream;
    s->status = status;
    s->thread = pthread_self();
    s->calls++;
}

START_TEST(stream_callback_runs_through_the_trampoline)
{
    setenv("FAKECUDA_FAIL", "cuStreamCallbackStatus:700:1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream = NULL;
    struct seen seen = {NULL, CUDA_ERROR_UNKNOWN, pthread_self(), 0};
    ck_assert_int_eq(cuStreamCreate(&stream, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamAddCallback(stream, on_callback, &seen, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamAddCallback(stream, on_callback, &seen, 7), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuStreamSynchronize(stream), CUDA_SUCCESS);
    ck_assert_int_eq(seen.calls, 1);
    ck_assert_ptr_eq(seen.stream, stream);
    ck_assert_int_eq(seen.status, CUDA_ERROR_ILLEGAL_ADDRESS);
    ck_assert(!pthread_equal(seen.thread, pthread_self()));
    ck_assert_int_eq(cuStreamDestroy(stream), CUDA_SUCCESS);
    unsetenv("FAKECUDA_FAIL");

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    size_t call = find(&t, CG_REC_CALL, "cuStreamAddCallback", 0);
    size_t failed = find(&t, CG_REC_CALL, "cuStreamAddCallback", 1);
    size_t ran = find(&t, CG_REC_CALLBACK, NULL, 0);
    ck_assert_uint_lt(ran, t.count);
    ck_assert_uint_lt(call, ran); /* the enqueue first */
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_CALLBACK, NULL), 1);
    ck_assert_uint_eq(t.records[call].rec.handle, H(stream));
    ck_assert_uint_eq(t.records[call].rec.arg, H(on_callback));
    ck_assert_uint_ne(t.records[call].rec.arg2, 0);
    ck_assert_int_eq(t.records[failed].rec.result, CUDA_ERROR_INVALID_VALUE);
    ck_assert_uint_ne(t.records[failed].rec.arg2, t.records[call].rec.arg2);
    ck_assert_uint_eq(t.records[ran].rec.handle, H(stream));
    ck_assert_uint_eq(t.records[ran].rec.arg, t.records[call].rec.arg2);
    ck_assert_int_eq((int32_t)t.records[ran].rec.arg2, CUDA_ERROR_ILLEGAL_ADDRESS);
    ck_assert_str_eq(t.records[ran].api, "cuStreamAddCallback");
    ck_assert_uint_ne(t.records[ran].rec.tid, (uint32_t)getpid());
    ck_assert_uint_le(t.records[call].rec.ts_ns, t.records[ran].rec.ts_ns);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* cuMemFreeHost synchronizes the device: its EXIT (like every teardown's
 * record) is stamped before the real call, no later than work that was
 * still running when the free began. */
static void slow_host_fn(void *unused)
{
    (void)unused;
    usleep(20000);
}

START_TEST(teardown_records_are_stamped_before_the_call)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    void *pinned = NULL;
    CUevent event = NULL;
    ck_assert_int_eq(cuMemAllocHost(&pinned, 4096), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuLaunchHostFunc(NULL, slow_host_fn, NULL), CUDA_SUCCESS);
    ck_assert_int_eq(cuMemFreeHost(pinned), CUDA_SUCCESS); /* waits for slow_host_fn */
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    size_t enter = find(&t, CG_REC_ENTER, "cuMemFreeHost", 0);
    size_t exit_ = find(&t, CG_REC_EXIT, "cuMemFreeHost", 0);
    ck_assert_uint_eq(exit_, enter + 1); /* reserved together */
    ck_assert_uint_eq(t.records[exit_].rec.ts_ns, t.records[enter].rec.ts_ns);
    ck_assert_int_eq(t.records[exit_].rec.result, CUDA_SUCCESS);
    ck_assert_uint_eq(t.records[exit_].rec.handle, H(pinned));
    size_t destroy = find(&t, CG_REC_CALL, "cuEventDestroy_v2", 0);
    ck_assert_uint_lt(destroy, t.count);
    ck_assert_uint_eq(t.records[destroy].rec.handle, H(event));
    ck_assert_int_eq(t.records[destroy].rec.result, CUDA_SUCCESS);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

static Suite *lifecycle_suite(void)
{
    Suite *suite = suite_create("shim_lifecycle");
    TCase *tc = tcase_create("lifecycle");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, context_record_after_create_when_context_changes);
    tcase_add_test(tc, stream_callback_runs_through_the_trampoline);
    tcase_add_test(tc, teardown_records_are_stamped_before_the_call);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(lifecycle_suite());
    srunner_set_fork_status(runner, CK_FORK); /* each test its own shim and driver */
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

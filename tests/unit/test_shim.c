/*
 * tests/unit/test_shim.c — the shim's routes and records, on the simulator.
 *
 * What it is for: checking, with the shim's sources compiled into this
 * binary and the simulated driver loaded through CUGUARD_LIBCUDA, what users
 * rely on: the api.def maps match names exactly; cuGetProcAddress hands out
 * the wrapper of exactly the variant the driver's rule selects; each call is
 * recorded once with its handles and result; NOT_READY polls fold into spin
 * records; task, thread, stream-id and call-site records; idle mode, an
 * unwritable directory and a missing driver leave the program unharmed.
 *
 * What it must never do: depend on test order (Check forks each test, so
 * every test configures its own shim state) or leave files behind.
 */
#include <check.h>
#include <cuda.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/config.h"
#include "shim/driver.h"
#include "shim/lifecycle.h"
#include "shim/live_errors.h"
#include "shim/record.h"
#include "shim/site.h"
#include "shim/thread.h"
#include "shim/watch_slots.h"
#include "tests/unit/shim_testlib.h"
#include "tracer/writer.h"

#define H(x) ((uint64_t)(uintptr_t)(x))

static const struct shimtest_record *find_record(const struct shimtest_trace *t, uint8_t kind,
                                                 const char *api, uint64_t handle)
{
    for (size_t i = 0; i < t->count; i++) {
        const struct shimtest_record *r = &t->records[i];
        if (r->rec.kind == kind && strcmp(r->api, api) == 0 && r->rec.handle == handle)
            return r;
    }
    return NULL;
}

/* ---- the maps generated from api.def ---- */

START_TEST(names_match_exactly)
{
    ck_assert_uint_ne(cg_api_by_name("cuEventRecord"), 0);
    ck_assert_uint_ne(cg_api_by_name("cuEventRecord_ptsz"), 0);
    ck_assert_uint_ne(cg_api_by_name("cuGetProcAddress_v2"), 0);
    ck_assert_uint_ne(cg_api_by_name("cuEventRecord"), cg_api_by_name("cuEventRecord_ptsz"));
    ck_assert_uint_eq(cg_api_by_name("cudnnCreate"), 0);
    ck_assert_uint_eq(cg_api_by_name("cuEventRecordX"), 0);
    ck_assert_uint_eq(cg_api_by_name("cuEvent"), 0);
    ck_assert_uint_eq(cg_api_by_name("cuInit"), 0);
    ck_assert_uint_eq(cg_api_by_name(""), 0);
    ck_assert_uint_eq(cg_api_by_name(NULL), 0);
}
END_TEST

START_TEST(table_is_consistent)
{
    ck_assert_str_eq(cg_api_names[0], "");
    for (unsigned id = 1; id < CG_API_COUNT; id++) {
        const struct cg_api_info *v = &cg_api_info[id];
        ck_assert_ptr_nonnull(v->wrapper);
        ck_assert_str_eq(cg_api_names[id], v->name);
        ck_assert_uint_eq(cg_api_by_name(v->name), id);
        size_t base_len = strlen(v->base);
        ck_assert_msg(strncmp(v->name, v->base, base_len) == 0, "%s is not a variant of %s",
                      v->name, v->base);
        const char *suffix = v->name + base_len;
        int ptsz = strstr(suffix, "_ptsz") != NULL || strstr(suffix, "_ptds") != NULL;
        ck_assert_msg(ptsz == v->per_thread, "%s: per-thread flag %d", v->name, v->per_thread);
        ck_assert_msg(v->version >= 2000 && v->version <= 13000, "%s: version %d", v->name,
                      v->version);
    }
}
END_TEST

/* Which variant the rule picks (no real pointer matches (void *)1). */
static const char *rule(const char *base, int version, uint64_t flags)
{
    unsigned id = cg_api_for_procaddr(base, (void *)1, version, flags);
    return id ? cg_api_info[id].name : "(none)";
}

START_TEST(procaddr_rule_matches_driver_facts)
{
    const uint64_t pt = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    ck_assert_str_eq(rule("cuEventDestroy", 2000, 0), "cuEventDestroy");
    ck_assert_str_eq(rule("cuEventDestroy", 4000, 0), "cuEventDestroy_v2");
    ck_assert_str_eq(rule("cuStreamDestroy", 2000, 0), "cuStreamDestroy");
    ck_assert_str_eq(rule("cuStreamDestroy", 12000, 0), "cuStreamDestroy_v2");
    ck_assert_str_eq(rule("cuMemHostRegister", 6000, 0), "cuMemHostRegister");
    ck_assert_str_eq(rule("cuMemHostRegister", 6050, 0), "cuMemHostRegister_v2");
    ck_assert_str_eq(rule("cuMemcpyDtoHAsync", 3020, 0), "cuMemcpyDtoHAsync_v2");
    ck_assert_str_eq(rule("cuMemcpyDtoHAsync", 3020, pt), "cuMemcpyDtoHAsync_v2_ptsz");
    ck_assert_str_eq(rule("cuMemcpyDtoHAsync", 2000, 0), "cuMemcpyDtoHAsync");
    ck_assert_str_eq(rule("cuEventRecord", 12000, pt), "cuEventRecord_ptsz");
    ck_assert_str_eq(rule("cuEventRecord", 12000, 0), "cuEventRecord");
    ck_assert_str_eq(rule("cuEventQuery", 12000, pt), "cuEventQuery");
    ck_assert_str_eq(rule("cuLaunchHostFunc", 9020, 0), "(none)");
    ck_assert_str_eq(rule("cuLaunchHostFunc", 10000, 0), "cuLaunchHostFunc");
    ck_assert_str_eq(rule("cuCtxSynchronize", 12090, 0), "cuCtxSynchronize");
    ck_assert_str_eq(rule("cuCtxSynchronize", 13000, 0), "cuCtxSynchronize_v2");
    ck_assert_str_eq(rule("cuEventElapsedTime", 12080, 0), "cuEventElapsedTime_v2");
    ck_assert_str_eq(rule("cuGetProcAddress", 12000, 0), "cuGetProcAddress_v2");
    ck_assert_str_eq(rule("cuGetProcAddress", 11030, 0), "cuGetProcAddress");
    ck_assert_str_eq(rule("cuNoSuchFunction", 13000, 0), "(none)");
    ck_assert_str_eq(rule("cudnnCreate", 13000, 0), "(none)");
}
END_TEST

START_TEST(procaddr_prefers_the_variant_the_driver_returned)
{
    char *dir = shimtest_setup();
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(cg_driver_resolve(1), 1);
    /* The driver's _v2 pointer asked for with an old version: the pointer wins. */
    void *v2 = shimtest_driver_sym("cuEventDestroy_v2");
    ck_assert_ptr_nonnull(v2);
    ck_assert_str_eq(cg_api_info[cg_api_for_procaddr("cuEventDestroy", v2, 2000, 0)].name,
                     "cuEventDestroy_v2");
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(procaddr_route_hands_out_wrappers)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    void *fn = NULL;
    CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    ck_assert_int_eq(cuGetProcAddress_v2("cuEventDestroy", &fn, 4000, 0, &status), CUDA_SUCCESS);
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_SUCCESS);
    ck_assert_ptr_eq(fn, cg_api_info[CG_ID_cuEventDestroy_v2].wrapper);

    ck_assert_int_eq(cuGetProcAddress_v2("cuEventRecord", &fn, 12000,
                                         CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, NULL),
                     CUDA_SUCCESS);
    ck_assert_ptr_eq(fn, cg_api_info[CG_ID_cuEventRecord_ptsz].wrapper);

    ck_assert_int_eq(cuGetProcAddress_v2("cuGetProcAddress", &fn, 12000, 0, &status), CUDA_SUCCESS);
    ck_assert_ptr_eq(fn, cg_api_info[CG_ID_cuGetProcAddress_v2].wrapper);

    /* Not ours: the driver's own pointer, untouched. */
    ck_assert_int_eq(cuGetProcAddress_v2("cuInit", &fn, 12000, 0, &status), CUDA_SUCCESS);
    ck_assert_ptr_eq(fn, shimtest_driver_sym("cuInit"));

    /* Unknown name and too-new version: exactly what the driver says. */
    fn = (void *)1;
    status = CU_GET_PROC_ADDRESS_SUCCESS;
    ck_assert_int_eq(cuGetProcAddress_v2("cuNoSuchFunction", &fn, 12000, 0, &status), CUDA_SUCCESS);
    ck_assert_ptr_null(fn);
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    ck_assert_int_eq(cuGetProcAddress_v2("cuEventQuery", &fn, 99000, 0, &status),
                     CUDA_ERROR_INVALID_VALUE);
    shimtest_cleanup(dir);
}
END_TEST

/* ---- records ---- */

START_TEST(each_call_is_recorded_once_with_handles_and_result)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream = NULL;
    CUevent event = NULL;
    void *pinned = NULL;
    ck_assert_int_eq(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);
    ck_assert_int_eq(cuMemHostAlloc(&pinned, 4096, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventRecord(event, stream), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventSynchronize(event), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(event), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);
    CUresult bad = cuEventQuery(NULL);
    ck_assert_int_ne(bad, CUDA_SUCCESS);
    ck_assert_int_eq(cuMemFreeHost(pinned), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamDestroy(stream), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(t.end_state, CG_END_CLEAN);
    const struct shimtest_record *r = find_record(&t, CG_REC_CALL, "cuStreamCreate", H(stream));
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->rec.arg, CU_STREAM_NON_BLOCKING);
    ck_assert_int_eq(r->rec.result, CUDA_SUCCESS);
    r = find_record(&t, CG_REC_CALL, "cuEventCreate", H(event));
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->rec.arg, CU_EVENT_DISABLE_TIMING);
    r = find_record(&t, CG_REC_CALL, "cuMemHostAlloc", H(pinned));
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->rec.arg, 4096);
    r = find_record(&t, CG_REC_CALL, "cuEventRecord", H(event));
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(r->rec.arg, H(stream));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_ENTER, "cuEventSynchronize", H(event)));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_EXIT, "cuEventSynchronize", H(event)));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_ENTER, "cuMemFreeHost", H(pinned)));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_EXIT, "cuMemFreeHost", H(pinned)));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_CALL, "cuEventDestroy_v2", H(event)));
    ck_assert_ptr_nonnull(find_record(&t, CG_REC_CALL, "cuStreamDestroy_v2", H(stream)));
    r = find_record(&t, CG_REC_CALL, "cuEventQuery", 0);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->rec.result, bad);
    /* Exactly once each. */
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_CALL, "cuEventCreate"), 1);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_CALL, "cuEventQuery"), 2);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_CALL, "cuEventSynchronize"), 0);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_EXIT, NULL), 2);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_THREAD_START, NULL), 1);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_PROCESS_EXIT, NULL), 1);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(stream_create_records_stream_id)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream = NULL;
    ck_assert_int_eq(cuStreamCreateWithPriority(&stream, 0, -1), CUDA_SUCCESS);
    CUresult (*get_id)(CUstream, unsigned long long *) =
        (CUresult(*)(CUstream, unsigned long long *))shimtest_driver_sym("cuStreamGetId");
    unsigned long long id = 0;
    ck_assert_int_eq(get_id(stream, &id), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamDestroy(stream), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    size_t i = 0;
    while (i < t.count && !(t.records[i].rec.kind == CG_REC_CALL &&
                            strcmp(t.records[i].api, "cuStreamCreateWithPriority") == 0))
        i++;
    ck_assert_uint_lt(i + 1, t.count);
    ck_assert_uint_eq(t.records[i].rec.handle, H(stream));
    ck_assert_uint_eq((uint32_t)t.records[i].rec.arg2, (uint32_t)-1); /* priority */
    ck_assert_uint_eq(t.records[i + 1].rec.kind, CG_REC_STREAM_ID);
    ck_assert_uint_eq(t.records[i + 1].rec.handle, H(stream));
    ck_assert_uint_eq(t.records[i + 1].rec.arg, id);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* An event recorded on a stream the simulator never runs. */
static CUevent stalled_event(CUstream *stream)
{
    CUevent event = NULL;
    ck_assert_int_eq(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventRecord(event, *stream), CUDA_SUCCESS);
    return event;
}

START_TEST(a_million_not_ready_polls_make_one_spin)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream;
    CUevent event = stalled_event(&stream);
    const unsigned long polls = 1000000;
    unsigned long not_ready = 0;
    for (unsigned long i = 0; i < polls; i++)
        not_ready += cuEventQuery(event) == CUDA_ERROR_NOT_READY;
    ck_assert_uint_eq(not_ready, polls);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_lt(t.count, 100);
    /* Each poll takes its slot before the real call (the fast path) and
     * gives it back: polling leaves no zero slots behind. */
    ck_assert_uint_lt(t.slots_reserved, 4 * CG_BATCH_RECORDS);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_SPIN, "cuEventQuery"), 1);
    ck_assert_uint_eq(shimtest_spin_total(&t, "cuEventQuery", H(event)), polls);
    const struct shimtest_record *spin = find_record(&t, CG_REC_SPIN, "cuEventQuery", H(event));
    ck_assert_ptr_nonnull(spin);
    ck_assert_int_eq(spin->rec.result, CUDA_ERROR_NOT_READY);
    ck_assert_uint_gt(spin->rec.arg2, spin->rec.ts_ns); /* latest poll after the first */
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(round_robin_polling_is_compressed_per_handle)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream;
    CUevent events[4];
    events[0] = stalled_event(&stream);
    for (int e = 1; e < 4; e++) {
        ck_assert_int_eq(cuEventCreate(&events[e], 0), CUDA_SUCCESS);
        ck_assert_int_eq(cuEventRecord(events[e], stream), CUDA_SUCCESS);
    }
    for (int round = 0; round < 1000; round++) {
        for (int e = 0; e < 4; e++)
            ck_assert_int_eq(cuEventQuery(events[e]), CUDA_ERROR_NOT_READY);
        ck_assert_int_eq(cuStreamQuery(stream), CUDA_ERROR_NOT_READY);
    }
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_SPIN, "cuEventQuery"), 4);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_SPIN, "cuStreamQuery"), 1);
    for (int e = 0; e < 4; e++)
        ck_assert_uint_eq(shimtest_spin_total(&t, "cuEventQuery", H(events[e])), 1000);
    ck_assert_uint_eq(shimtest_spin_total(&t, "cuStreamQuery", H(stream)), 1000);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(a_spin_ends_at_an_event_record)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stream;
    CUevent event = stalled_event(&stream);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cuEventQuery(event), CUDA_ERROR_NOT_READY);
    ck_assert_int_eq(cuEventRecord(event, stream), CUDA_SUCCESS); /* re-record */
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(cuEventQuery(event), CUDA_ERROR_NOT_READY);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_SPIN, "cuEventQuery"), 2);
    ck_assert_uint_eq(shimtest_spin_total(&t, "cuEventQuery", H(event)), 15);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(task_changes_are_recorded_without_phase)
{
    setenv("PYTEST_CURRENT_TEST", "tests/test_a.py::test_one (setup)", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent event;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    setenv("PYTEST_CURRENT_TEST", "tests/test_a.py::test_one (call)", 1); /* same task */
    ck_assert_int_eq(cuEventQuery(event), CUDA_SUCCESS);
    setenv("PYTEST_CURRENT_TEST", "tests/test_a.py::test_two (call)", 1);
    ck_assert_int_eq(cuEventQuery(event), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(event), CUDA_SUCCESS);
    unsetenv("PYTEST_CURRENT_TEST");
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    const char *expected[] = {"tests/test_a.py::test_one", "tests/test_a.py::test_two", ""};
    size_t seen = 0;
    for (size_t i = 0; i < t.count; i++) {
        if (t.records[i].rec.kind != CG_REC_TASK)
            continue;
        ck_assert_uint_lt(seen, 3);
        ck_assert_str_eq(t.records[i].site, expected[seen]);
        ck_assert_uint_eq(t.records[i].rec.site == 0, expected[seen][0] == '\0');
        seen++;
    }
    ck_assert_uint_eq(seen, 3);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

static void *named_thread(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "cg-worker");
    CUevent event;
    if (shimtest_cuda_thread_init() != 0 || cuEventCreate(&event, 0) != CUDA_SUCCESS)
        return (void *)1;
    return cuEventDestroy(event) == CUDA_SUCCESS ? NULL : (void *)1;
}

START_TEST(threads_start_and_exit)
{
    setenv("CUGUARD_TASK", "thread", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent event;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    pthread_t thread;
    void *failed = (void *)1;
    ck_assert_int_eq(pthread_create(&thread, NULL, named_thread, NULL), 0);
    ck_assert_int_eq(pthread_join(thread, &failed), 0);
    ck_assert_ptr_null(failed);
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_THREAD_START, NULL), 2);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_THREAD_EXIT, NULL), 1);
    ck_assert_uint_eq(shimtest_count(&t, CG_REC_TASK, NULL), 2);
    uint32_t worker = 0;
    for (size_t i = 0; i < t.count; i++) {
        const struct shimtest_record *r = &t.records[i];
        if (r->rec.kind == CG_REC_THREAD_START && strcmp(r->site, "cg-worker") == 0)
            worker = r->rec.tid;
        if (r->rec.kind == CG_REC_TASK)
            ck_assert_uint_eq(r->rec.flags & CG_FLAG_TASK_THREAD, CG_FLAG_TASK_THREAD);
    }
    ck_assert_uint_ne(worker, 0);
    ck_assert_uint_ne(worker, (uint32_t)getpid());
    const struct shimtest_record *exit_rec = NULL;
    for (size_t i = 0; i < t.count; i++)
        if (t.records[i].rec.kind == CG_REC_THREAD_EXIT)
            exit_rec = &t.records[i];
    ck_assert_ptr_nonnull(exit_rec);
    ck_assert_uint_eq(exit_rec->rec.tid, worker);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* ---- the wrappers' fast path (shim/record_fast.h) ---- */

/* Defined by shim/wrappers.c; cuda.h declares the _ptsz names only under
 * the per-thread default stream macro. */
CUresult CUDAAPI cuEventRecord_ptsz(CUevent hEvent, CUstream hStream);

enum repeat_op { REPEAT_RECORD, REPEAT_RECORD_PTSZ, REPEAT_QUERY, REPEAT_WAIT, REPEAT_OPS };
static const char *const repeat_api[REPEAT_OPS] = {"cuEventRecord", "cuEventRecord_ptsz",
                                                   "cuEventQuery", "cuStreamWaitEvent"};
#define REPEATS 40

struct repeat_job {
    enum repeat_op op;
    CUevent event;
    CUstream stream;
};

/* One api REPEATS times from one call site, on a fresh thread: its first
 * call takes the full path (the thread has no state yet), the others the
 * fast path. Returns NULL when every call succeeded. */
static void *repeat_calls(void *arg)
{
    const struct repeat_job *job = arg;
    if (shimtest_cuda_thread_init() != 0)
        return (void *)1;
    for (int i = 0; i < REPEATS; i++) {
        CUresult rc = CUDA_ERROR_UNKNOWN;
        switch (job->op) {
        case REPEAT_RECORD:
            rc = cuEventRecord(job->event, job->stream);
            break;
        case REPEAT_RECORD_PTSZ:
            rc = cuEventRecord_ptsz(job->event, job->stream);
            break;
        case REPEAT_QUERY:
            rc = cuEventQuery(job->event);
            break;
        default:
            rc = cuStreamWaitEvent(job->stream, job->event, 0);
            break;
        }
        if (rc != CUDA_SUCCESS)
            return (void *)1;
    }
    return NULL;
}

/* The records of one api on the trace: every field but the time equals
 * the first record's, and the time never goes back. */
static void check_repeats_equal(const struct shimtest_trace *t, const char *api)
{
    const struct cg_record *first = NULL;
    uint64_t last_ts = 0;
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct cg_record *r = &t->records[i].rec;
        if (r->kind != CG_REC_CALL || strcmp(t->records[i].api, api) != 0)
            continue;
        n++;
        if (first == NULL)
            first = r;
        ck_assert_ptr_nonnull(first);
        ck_assert_uint_eq(r->handle, first->handle);
        ck_assert_uint_eq(r->arg, first->arg);
        ck_assert_uint_eq(r->arg2, first->arg2);
        ck_assert_uint_eq(r->tid, first->tid);
        ck_assert_uint_eq(r->site, first->site);
        ck_assert_int_eq(r->result, first->result);
        ck_assert_uint_eq(r->api, first->api);
        ck_assert_uint_eq(r->flags, first->flags);
        ck_assert_uint_ge(r->ts_ns, last_ts);
        last_ts = r->ts_ns;
    }
    ck_assert_uint_eq(n, REPEATS);
    ck_assert_ptr_nonnull(first);
    ck_assert_uint_ne(first->site, 0);
}

START_TEST(repeated_calls_record_like_the_first)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    struct repeat_job job = {REPEAT_RECORD, NULL, NULL};
    ck_assert_int_eq(cuStreamCreate(&job.stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventCreate(&job.event, 0), CUDA_SUCCESS);
    for (int op = 0; op < REPEAT_OPS; op++) {
        pthread_t thread;
        void *failed = (void *)1;
        job.op = (enum repeat_op)op;
        if (job.op == REPEAT_QUERY)
            ck_assert_int_eq(cuEventSynchronize(job.event), CUDA_SUCCESS);
        ck_assert_int_eq(pthread_create(&thread, NULL, repeat_calls, &job), 0);
        ck_assert_int_eq(pthread_join(thread, &failed), 0);
        ck_assert_ptr_null(failed);
    }
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    for (int op = 0; op < REPEAT_OPS; op++)
        check_repeats_equal(&t, repeat_api[op]);
    const struct shimtest_record *ptsz =
        find_record(&t, CG_REC_CALL, "cuEventRecord_ptsz", H(job.event));
    ck_assert_ptr_nonnull(ptsz);
    ck_assert_uint_eq(ptsz->rec.flags, CG_FLAG_PTSZ);
    ck_assert_uint_eq(ptsz->rec.arg, H(job.stream));
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* Two call sites of cuEventQuery (different bodies, so they are not folded
 * into one); noinline and a non-tail call keep their return addresses. */
__attribute__((noinline)) static CUresult query_here(CUevent event)
{
    volatile CUresult rc = cuEventQuery(event);
    return rc;
}

__attribute__((noinline)) static CUresult query_there(CUevent event, int salt)
{
    volatile int keep = salt;
    volatile CUresult rc = cuEventQuery(event);
    return keep == salt ? rc : CUDA_ERROR_UNKNOWN;
}

START_TEST(alternating_call_sites_keep_their_sites)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent event;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(query_here(event), CUDA_SUCCESS);
        ck_assert_int_eq(query_there(event, i), CUDA_SUCCESS);
    }
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    uint32_t sites[2] = {0, 0};
    size_t n = 0;
    for (size_t i = 0; i < t.count; i++) {
        const struct cg_record *r = &t.records[i].rec;
        if (r->kind != CG_REC_CALL || strcmp(t.records[i].api, "cuEventQuery") != 0)
            continue;
        if (n < 2)
            sites[n] = r->site;
        ck_assert_uint_eq(r->site, sites[n % 2]);
        n++;
    }
    ck_assert_uint_eq(n, 40);
    ck_assert_uint_ne(sites[0], 0);
    ck_assert_uint_ne(sites[1], 0);
    ck_assert_uint_ne(sites[0], sites[1]);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* No spin of this thread's table is open, as the watchdog sees it. */
static void assert_no_spin_watched(void)
{
    ck_assert_ptr_nonnull(cg_tls.watch);
    for (unsigned i = 0; i < CG_SPIN_SLOTS; i++)
        ck_assert_ptr_null(__atomic_load_n(&cg_tls.watch->spin[i], __ATOMIC_ACQUIRE));
}

START_TEST(a_success_ends_the_spin_of_its_handle)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUstream stalled, running;
    CUevent event = stalled_event(&stalled);
    ck_assert_int_eq(cuStreamCreate(&running, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cuEventQuery(event), CUDA_ERROR_NOT_READY);
    ck_assert_ptr_nonnull(cg_tls.thread);
    ck_assert_uint_eq(cg_tls.thread->spins_open, 1);
    ck_assert_int_eq(cuEventRecord(event, running), CUDA_SUCCESS); /* now it completes */
    ck_assert_int_eq(cuStreamSynchronize(running), CUDA_SUCCESS);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(cuEventQuery(event), CUDA_SUCCESS);
    ck_assert_uint_eq(cg_tls.thread->spins_open, 0);
    assert_no_spin_watched();
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(shimtest_spin_total(&t, "cuEventQuery", H(event)), 10);
    size_t successes = 0;
    for (size_t i = 0; i < t.count; i++) {
        const struct shimtest_record *r = &t.records[i];
        successes += r->rec.kind == CG_REC_CALL && strcmp(r->api, "cuEventQuery") == 0 &&
                     r->rec.handle == H(event) && r->rec.result == CUDA_SUCCESS;
    }
    ck_assert_uint_eq(successes, 3);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* Two call sites (different bodies, so they are not folded into one); noinline
 * and a non-tail call keep their return addresses. */
__attribute__((noinline)) static CUresult create_here(CUevent *event)
{
    volatile CUresult rc = cuEventCreate(event, 0);
    return rc;
}

__attribute__((noinline)) static CUresult create_there(CUevent *event)
{
    volatile CUresult rc = cuEventCreate(event, CU_EVENT_DISABLE_TIMING);
    return rc;
}

START_TEST(call_sites_are_interned_per_site)
{
    setenv("CUGUARD_STACK_DEPTH", "0", 1); /* the innermost frame only, everywhere */
    char *dir = shimtest_setup();
    unsetenv("CUGUARD_STACK_DEPTH");
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent a, b, c;
    ck_assert_int_eq(create_here(&a), CUDA_SUCCESS);
    ck_assert_int_eq(create_here(&b), CUDA_SUCCESS);
    ck_assert_int_eq(create_there(&c), CUDA_SUCCESS);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    const struct shimtest_record *ra = find_record(&t, CG_REC_CALL, "cuEventCreate", H(a));
    const struct shimtest_record *rb = find_record(&t, CG_REC_CALL, "cuEventCreate", H(b));
    const struct shimtest_record *rc = find_record(&t, CG_REC_CALL, "cuEventCreate", H(c));
    ck_assert(ra != NULL && rb != NULL && rc != NULL);
    ck_assert_uint_ne(ra->rec.site, 0);
    ck_assert_uint_eq(ra->rec.site, rb->rec.site);
    ck_assert_uint_ne(ra->rec.site, rc->rec.site);
    ck_assert_msg(strstr(ra->site, "test_shim") != NULL, "site '%s' names no module", ra->site);
    ck_assert_msg(strstr(ra->site, "+0x") != NULL, "site '%s' has no offset", ra->site);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* The offset of a stack's first frame, and its module number ("#stack;nM OFF..."). */
static uint64_t first_frame(const char *stack, unsigned *module)
{
    unsigned long long off = 0;
    *module = 0;
    ck_assert_int_eq(sscanf(stack, "#stack;n%u %llx", module, &off), 2);
    return off;
}

/* Creates carry a stack starting at their caller (one id per distinct
 * stack), queries only the innermost frame, failed calls a stack; the
 * module a stack names is recorded first with its load address. */
START_TEST(create_and_failed_calls_carry_stacks)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent ev[2], other;
    for (volatile int i = 0; i < 2; i++) /* volatile: one call site, not unrolled */
        ck_assert_int_eq(create_here(&ev[i]), CUDA_SUCCESS);
    ck_assert_int_eq(create_there(&other), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventQuery(ev[0]), CUDA_SUCCESS);
    static int garbage[16];
    ck_assert_int_ne(cuEventQuery((CUevent)garbage), CUDA_SUCCESS);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    const struct shimtest_record *r0 = find_record(&t, CG_REC_CALL, "cuEventCreate", H(ev[0]));
    const struct shimtest_record *r1 = find_record(&t, CG_REC_CALL, "cuEventCreate", H(ev[1]));
    const struct shimtest_record *r2 = find_record(&t, CG_REC_CALL, "cuEventCreate", H(other));
    const struct shimtest_record *q = find_record(&t, CG_REC_CALL, "cuEventQuery", H(ev[0]));
    const struct shimtest_record *bad = find_record(&t, CG_REC_CALL, "cuEventQuery", H(garbage));
    ck_assert(r0 && r1 && r2 && q && bad);
    ck_assert_uint_eq(r0->rec.flags & CG_FLAG_STACK, CG_FLAG_STACK);
    ck_assert_uint_eq(r0->rec.site, r1->rec.site); /* the same stack, interned once */
    ck_assert_uint_ne(r0->rec.site, r2->rec.site);
    ck_assert_uint_eq(q->rec.flags & CG_FLAG_STACK, 0);
    ck_assert_uint_eq(bad->rec.flags & CG_FLAG_STACK, CG_FLAG_STACK);
    unsigned module;
    uint64_t off = first_frame(r0->site, &module);
    const struct shimtest_record *m = NULL;
    for (size_t i = 0; i < t.count && !m; i++)
        if (t.records[i].rec.kind == CG_REC_MODULE && t.records[i].rec.result == (int)module)
            m = &t.records[i];
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(strstr(m->site, "test_shim"));
    uintptr_t pc = (uintptr_t)m->rec.handle + off;
    ck_assert_msg(pc > (uintptr_t)create_here && pc < (uintptr_t)create_here + 1024,
                  "the stack does not start in create_here: %s", r0->site);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* The pytest plugin's --cuguard-fail-tests reads this count before and after
 * a test: a call that succeeded must not move it, a refused handle must. */
START_TEST(failed_calls_move_the_live_error_count)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent ev;
    ck_assert_int_eq(cuEventCreate(&ev, 0), CUDA_SUCCESS);
    unsigned long before = cuguard_live_error_count();
    ck_assert_int_eq(cuEventQuery(ev), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(ev), CUDA_SUCCESS);
    ck_assert_uint_eq(cuguard_live_error_count(), before);
    ck_assert_int_ne(cuEventDestroy(ev), CUDA_SUCCESS); /* destroyed twice */
    ck_assert_uint_eq(cuguard_live_error_count(), before + 1);
    const char *path = cuguard_trace_path();
    ck_assert_ptr_nonnull(path);
    ck_assert_ptr_nonnull(strstr(path, ".cgt"));
    ck_assert_int_eq(strncmp(path, dir, strlen(dir)), 0);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(runtime_mark_flags_driver_records)
{
    setenv("CUGUARD_STACK_DEPTH", "0", 1); /* compares innermost-frame sites */
    char *dir = shimtest_setup();
    unsetenv("CUGUARD_STACK_DEPTH");
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent plain, via;
    ck_assert_int_eq(cuEventCreate(&plain, 0), CUDA_SUCCESS);
    const void *runtime_caller = (const char *)create_there + 8;
    struct cg_runtime_mark previous = cg_runtime_enter(runtime_caller);
    ck_assert_int_eq(cuEventCreate(&via, 0), CUDA_SUCCESS);
    cg_runtime_leave(previous);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    const struct shimtest_record *rp = find_record(&t, CG_REC_CALL, "cuEventCreate", H(plain));
    const struct shimtest_record *rv = find_record(&t, CG_REC_CALL, "cuEventCreate", H(via));
    ck_assert(rp != NULL && rv != NULL);
    ck_assert_uint_eq(rp->rec.flags & CG_FLAG_VIA_RUNTIME, 0);
    ck_assert_uint_eq(rv->rec.flags & CG_FLAG_VIA_RUNTIME, CG_FLAG_VIA_RUNTIME);
    char expected[512];
    cg_site_format(runtime_caller, expected, sizeof expected);
    ck_assert_str_eq(rv->site, expected); /* the runtime caller, not this line */
    ck_assert_str_ne(rp->site, expected);
    shimtest_trace_free(&t);
    shimtest_cleanup(dir);
}
END_TEST

/* ---- when the shim must stay out of the way ---- */

START_TEST(idle_without_cuguard_dir)
{
    char *dir = shimtest_setup();
    unsetenv("CUGUARD_DIR");
    cg_shim_load_config();
    ck_assert_int_eq(cg_trace_state, CG_TRACE_OFF);
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent event;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);
    ck_assert_int_eq(cg_writer_active(), 0);
    struct shimtest_trace t;
    ck_assert_int_ne(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_int_eq(t.files, 0);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(unwritable_dir_runs_untraced)
{
    char *dir = shimtest_setup();
    char file[4200], below[4300];
    snprintf(file, sizeof file, "%s/regular-file", dir);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    snprintf(below, sizeof below, "%s/traces", file);
    setenv("CUGUARD_DIR", below, 1);
    cg_shim_load_config();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    CUevent event;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventDestroy(event), CUDA_SUCCESS);
    ck_assert_int_eq(cg_trace_state, CG_TRACE_FAILED);
    ck_assert_int_eq(cg_writer_active(), 0);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(missing_driver_returns_an_error)
{
    char *dir = shimtest_setup();
    setenv("CUGUARD_LIBCUDA", "/nonexistent/libcuda.so.1", 1);
    cg_shim_load_config();
    CUevent event = NULL;
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_ERROR_NOT_INITIALIZED);
    ck_assert_int_eq(cuEventQuery(event), CUDA_ERROR_NOT_INITIALIZED);
    void *fn = (void *)1;
    ck_assert_int_eq(cuGetProcAddress_v2("cuEventQuery", &fn, 12000, 0, NULL),
                     CUDA_ERROR_NOT_INITIALIZED);
    ck_assert_int_eq(cg_driver_state, 2);
    shimtest_cleanup(dir);
}
END_TEST

static Suite *shim_suite(void)
{
    Suite *s = suite_create("shim");
    TCase *maps = tcase_create("maps");
    tcase_add_test(maps, names_match_exactly);
    tcase_add_test(maps, table_is_consistent);
    tcase_add_test(maps, procaddr_rule_matches_driver_facts);
    tcase_add_test(maps, procaddr_prefers_the_variant_the_driver_returned);
    tcase_add_test(maps, procaddr_route_hands_out_wrappers);
    suite_add_tcase(s, maps);

    TCase *records = tcase_create("records");
    tcase_set_timeout(records, 60);
    tcase_add_test(records, each_call_is_recorded_once_with_handles_and_result);
    tcase_add_test(records, stream_create_records_stream_id);
    tcase_add_test(records, a_million_not_ready_polls_make_one_spin);
    tcase_add_test(records, round_robin_polling_is_compressed_per_handle);
    tcase_add_test(records, a_spin_ends_at_an_event_record);
    tcase_add_test(records, task_changes_are_recorded_without_phase);
    tcase_add_test(records, threads_start_and_exit);
    tcase_add_test(records, call_sites_are_interned_per_site);
    tcase_add_test(records, runtime_mark_flags_driver_records);
    tcase_add_test(records, create_and_failed_calls_carry_stacks);
    tcase_add_test(records, failed_calls_move_the_live_error_count);
    tcase_add_test(records, repeated_calls_record_like_the_first);
    tcase_add_test(records, a_success_ends_the_spin_of_its_handle);
    tcase_add_test(records, alternating_call_sites_keep_their_sites);
    suite_add_tcase(s, records);

    TCase *safety = tcase_create("safety");
    tcase_add_test(safety, idle_without_cuguard_dir);
    tcase_add_test(safety, unwritable_dir_runs_untraced);
    tcase_add_test(safety, missing_driver_returns_an_error);
    suite_add_tcase(s, safety);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(shim_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

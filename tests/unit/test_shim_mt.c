/*
 * tests/unit/test_shim_mt.c — the shim under many threads (also run under TSan).
 *
 * What it is for: 8 threads each run create/record/query/destroy cycles on
 * their own stream through the shim's exported wrappers. The trace must hold
 * exactly one record per call (NOT_READY queries counted through their spin
 * records), each thread's records in its own call order with the handles it
 * used, nothing torn, nothing lost; ThreadSanitizer must stay silent.
 *
 * CG_MT_CYCLES overrides the number of cycles per thread (default 100000).
 *
 * What it must never do: hide a lost record by counting loosely: every
 * count is compared for equality with what the threads themselves counted.
 */
#include <check.h>
#include <cuda.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/shim_testlib.h"
#include "tracer/writer.h"

#define THREADS 8

struct worker {
    pthread_t thread;
    unsigned long cycles;
    uint32_t tid;
    unsigned long query_ok;
    unsigned long query_not_ready;
    int failed;
};

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
    for (unsigned long i = 0; i < w->cycles && !w->failed; i++) {
        CUevent event = NULL;
        if (cuEventCreate(&event, CU_EVENT_DISABLE_TIMING) != CUDA_SUCCESS ||
            cuEventRecord(event, stream) != CUDA_SUCCESS) {
            w->failed = 1;
            break;
        }
        CUresult q = cuEventQuery(event);
        if (q == CUDA_SUCCESS)
            w->query_ok++;
        else if (q == CUDA_ERROR_NOT_READY)
            w->query_not_ready++;
        else
            w->failed = 1;
        if (cuEventDestroy(event) != CUDA_SUCCESS)
            w->failed = 1;
    }
    if (cuStreamDestroy(stream) != CUDA_SUCCESS)
        w->failed = 1;
    return NULL;
}

static struct worker *worker_of(struct worker *workers, uint32_t tid)
{
    for (int i = 0; i < THREADS; i++) {
        if (workers[i].tid == tid)
            return &workers[i];
    }
    return NULL;
}

/* Per-thread replay: each cycle is create(h) record(h) query(h)|spin(h) destroy(h). */
struct replay {
    uint64_t event; /* handle of the current cycle, 0 between cycles */
    unsigned long created, recorded, queried_ok, spins_counted, destroyed;
    int out_of_order;
};

static void replay_record(struct replay *p, const struct shimtest_record *r)
{
    const char *api = r->api;
    uint64_t h = r->rec.handle;
    if (r->rec.kind == CG_REC_CALL && strcmp(api, "cuEventCreate") == 0) {
        p->out_of_order |= p->event != 0 || h == 0;
        p->event = h;
        p->created++;
    } else if (r->rec.kind == CG_REC_CALL && strcmp(api, "cuEventRecord") == 0) {
        p->out_of_order |= h != p->event;
        p->recorded++;
    } else if (r->rec.kind == CG_REC_CALL && strcmp(api, "cuEventQuery") == 0) {
        p->out_of_order |= h != p->event || r->rec.result != CUDA_SUCCESS;
        p->queried_ok++;
    } else if (r->rec.kind == CG_REC_SPIN && strcmp(api, "cuEventQuery") == 0) {
        p->out_of_order |= h != p->event;
        p->spins_counted += r->rec.arg;
    } else if (r->rec.kind == CG_REC_CALL && strcmp(api, "cuEventDestroy_v2") == 0) {
        p->out_of_order |= h != p->event;
        p->event = 0;
        p->destroyed++;
    }
}

/* What the whole trace holds, gathered record by record. */
struct scan {
    struct worker *workers;
    struct replay replays[THREADS];
    size_t worker_records, spin_records, context_records, thread_starts, thread_exits, bad_kinds;
};

static void scan_record(const struct shimtest_record *r, void *ctx)
{
    struct scan *s = ctx;
    if (r->rec.kind < CG_REC_CALL || r->rec.kind > CG_REC_KIND_MAX)
        s->bad_kinds++;
    s->thread_starts += r->rec.kind == CG_REC_THREAD_START;
    s->thread_exits += r->rec.kind == CG_REC_THREAD_EXIT;
    struct worker *w = worker_of(s->workers, r->rec.tid);
    if (w == NULL)
        return; /* the main thread, the process end */
    s->worker_records++;
    s->spin_records += r->rec.kind == CG_REC_SPIN;
    s->context_records += r->rec.kind == CG_REC_CONTEXT;
    replay_record(&s->replays[w - s->workers], r);
}

START_TEST(eight_threads_every_call_recorded_once)
{
    const char *env = getenv("CG_MT_CYCLES");
    unsigned long cycles = env ? strtoul(env, NULL, 10) : 100000;
    setenv("CUGUARD_STACK_DEPTH", "0", 1); /* exact record counts: no stack strings */
    char *dir = shimtest_setup();
    unsetenv("CUGUARD_STACK_DEPTH");
    ck_assert_ptr_nonnull(dir);
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    struct worker workers[THREADS];
    memset(workers, 0, sizeof workers);
    for (int i = 0; i < THREADS; i++) {
        workers[i].cycles = cycles;
        ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
        ck_assert_int_eq(workers[i].failed, 0);
        ck_assert_uint_eq(workers[i].query_ok + workers[i].query_not_ready, cycles);
    }

    static struct scan s;
    memset(&s, 0, sizeof s);
    s.workers = workers;
    struct cg_file_header header;
    ck_assert_int_eq(shimtest_finish_and_scan(dir, scan_record, &s, &header), 0);
    ck_assert_uint_eq(header.end_state, CG_END_CLEAN);
    ck_assert_uint_eq(s.bad_kinds, 0);
    for (int i = 0; i < THREADS; i++) {
        struct replay *p = &s.replays[i];
        ck_assert_msg(!p->out_of_order, "thread %d: records out of order or torn", i);
        ck_assert_uint_eq(p->created, cycles);
        ck_assert_uint_eq(p->recorded, cycles);
        ck_assert_uint_eq(p->destroyed, cycles);
        ck_assert_uint_eq(p->queried_ok, workers[i].query_ok);
        ck_assert_uint_eq(p->spins_counted, workers[i].query_not_ready);
    }
    /* Exact total: per thread start, stream create + id, one CONTEXT (the
     * thread's context never changes), 4 per cycle (a NOT_READY query is one
     * spin record), stream destroy, exit. */
    size_t expected = s.spin_records;
    for (int i = 0; i < THREADS; i++)
        expected += 1 + 2 + 1 + 3 * cycles + workers[i].query_ok + 1 + 1;
    ck_assert_uint_eq(s.context_records, THREADS);
    ck_assert_uint_eq(s.worker_records, expected);
    ck_assert_uint_eq(s.thread_starts, THREADS);
    ck_assert_uint_eq(s.thread_exits, THREADS);
    shimtest_cleanup(dir);
}
END_TEST

static Suite *mt_suite(void)
{
    Suite *s = suite_create("shim_mt");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 480);
    tcase_add_test(tc, eight_threads_every_call_recorded_once);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(mt_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

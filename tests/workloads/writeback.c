/*
 * writeback.c — main program of the writeback workload (see writeback.h):
 * options, the sequence of tests, and the producer that fills each test's
 * batches. Prints a call line per lifecycle call, a checksum per test and
 * overall, each next to the value computed on the host alone.
 *
 * Exit status: 0 correct data, 1 bad usage or a failed CUDA setup call,
 * 2 wrong data, 3 a wait gave up at --timeout.
 *
 * Must never: print a checksum that was not computed from the buffers the
 * watcher copied out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/workloads/common.h"
#include "tests/workloads/writeback.h"

#define POISON 0xdeadbeefu
#define TASK_VARIABLE "PYTEST_CURRENT_TEST"

static const char *const bug_names[] = {
    [BUG_NONE] = "none",
    [BUG_LEAK] = "leak",
    [BUG_SHARED_DESTROY] = "shared-destroy",
    [BUG_FOREIGN_HANDLE] = "foreign-handle",
    [BUG_WATCHER_DIES] = "watcher-dies",
    [BUG_REUSE_INFLIGHT] = "reuse-inflight",
    [BUG_STALE_STREAM] = "stale-stream",
    [BUG_HANG] = "hang",
};

/* Stands in for "some other object" whose address a wrapper passes instead
 * of the event handle (--bug=foreign-handle). */
static struct {
    uint64_t words[32];
} unrelated_object;

/* Everything one run owns. */
struct run {
    struct options options;
    CUcontext context;
    CUstream stream; /* kept across tests only under --bug=stale-stream */
    CUdeviceptr source;
    uint32_t *staging;
    uint32_t *results; /* one test's items, words each */
};

unsigned bug_first_test(const struct options *options)
{
    return options->tests >= 2 ? 2 : 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: writeback [--bug=MODE] [--tests=N] [--batches=N] [--per-batch=N]\n"
                    "                 [--buffers=N] [--words=N] [--work-us=N] [--timeout=SECONDS]\n"
                    "MODE: none leak shared-destroy foreign-handle watcher-dies reuse-inflight\n"
                    "      stale-stream hang\n");
    exit(1);
}

static bool parse_bug(const char *arg, enum bug *bug)
{
    if (strncmp(arg, "--bug=", 6) != 0) {
        return false;
    }
    for (size_t i = 0; i < sizeof bug_names / sizeof bug_names[0]; i++) {
        if (strcmp(arg + 6, bug_names[i]) == 0) {
            *bug = (enum bug)i;
            return true;
        }
    }
    wl_fail("unknown --bug mode '%s'", arg + 6);
}

static struct options parse_options(int argc, char **argv)
{
    struct options o = {.bug = BUG_NONE,
                        .tests = 3,
                        .batches = 4,
                        .per_batch = 4,
                        .buffers = 8,
                        .words = 1024,
                        .work_us = 2000,
                        .timeout_s = 0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!parse_bug(a, &o.bug) && !wl_option_uint(a, "--tests", 1, 1000, &o.tests) &&
            !wl_option_uint(a, "--batches", 1, 1000, &o.batches) &&
            !wl_option_uint(a, "--per-batch", 1, 64, &o.per_batch) &&
            !wl_option_uint(a, "--buffers", 1, 1024, &o.buffers) &&
            !wl_option_uint(a, "--words", 1, 1u << 20, &o.words) &&
            !wl_option_uint(a, "--work-us", 0, 10000000, &o.work_us) &&
            !wl_option_uint(a, "--timeout", 0, 86400, &o.timeout_s)) {
            usage();
        }
    }
    if (o.buffers < o.per_batch) {
        wl_fail("--buffers (%u) must be at least --per-batch (%u)", o.buffers, o.per_batch);
    }
    return o;
}

/* Stream work standing in for a kernel: takes work_us of "GPU" time. */
static void simulated_kernel(void *work_us)
{
    wl_sleep_us((unsigned long)(uintptr_t)work_us);
}

/* --bug=hang: stream work that never returns, on a real GPU as well. */
static void never_returns(void *unused)
{
    (void)unused;
    for (;;) {
        pause();
    }
}

/* Trailing work a test leaves on the stream (--bug=stale-stream). */
static void slow_cleanup(void *unused)
{
    (void)unused;
    wl_sleep_us(20000);
}

static bool open_context(struct run *run)
{
    CUdevice device = 0;
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS) {
        r = cuDeviceGet(&device, 0);
    }
    if (r == CUDA_SUCCESS) {
        r = cuDevicePrimaryCtxRetain(&run->context, device);
    }
    if (r == CUDA_SUCCESS) {
        r = cuCtxSetCurrent(run->context);
    }
    wl_print("setup context result=%d\n", (int)r);
    return r == CUDA_SUCCESS;
}

static size_t items_per_test(const struct options *o)
{
    return (size_t)o->batches * o->per_batch;
}

static bool allocate(struct run *run)
{
    const struct options *o = &run->options;
    size_t bytes = items_per_test(o) * o->words * sizeof(uint32_t);
    run->results = malloc(bytes);
    return run->results != NULL && pool_create(o) &&
           logged_host_alloc((void **)&run->staging, bytes) == CUDA_SUCCESS &&
           cuMemAlloc(&run->source, bytes) == CUDA_SUCCESS;
}

/* Fills the device source buffer with test's data (through pinned staging). */
static bool upload_source(struct run *run, unsigned test)
{
    const struct options *o = &run->options;
    size_t items = items_per_test(o);
    for (size_t item = 0; item < items; item++) {
        for (unsigned w = 0; w < o->words; w++) {
            run->staging[item * o->words + w] = wl_pattern(test, (unsigned)item, w);
        }
    }
    return logged_copy_to_device(run->source, run->staging, items * o->words * sizeof(uint32_t),
                                 run->stream) == CUDA_SUCCESS;
}

/* Enqueues batch `b` of test: simulated work, one copy per buffer, one
 * event shared by the batch, and hands each buffer to the watcher. */
static bool produce_batch(struct run *run, unsigned test, unsigned b)
{
    const struct options *o = &run->options;
    size_t bytes = o->words * sizeof(uint32_t);
    struct slot *slots[64];
    for (unsigned j = 0; j < o->per_batch; j++) {
        slots[j] = pool_take();
        for (unsigned w = 0; w < o->words; w++) {
            slots[j]->host[w] = POISON;
        }
    }
    struct batch *batch = calloc(1, sizeof *batch);
    if (batch == NULL) {
        return false;
    }
    batch->remaining = o->per_batch;
    bool bug_here = test >= bug_first_test(o) && b == 0;
    bool ok = true;
    tasks_lock();
    if (o->bug == BUG_HANG && bug_here) {
        ok = logged_host_func(run->stream, never_returns, NULL) == CUDA_SUCCESS;
    }
    ok = ok && logged_host_func(run->stream, simulated_kernel, (void *)(uintptr_t)o->work_us) ==
                   CUDA_SUCCESS;
    for (unsigned j = 0; ok && j < o->per_batch; j++) {
        size_t item = (size_t)b * o->per_batch + j;
        ok = logged_copy_to_host(slots[j]->host, run->source + item * bytes, bytes, run->stream) ==
             CUDA_SUCCESS;
    }
    ok = ok && logged_event_create(&batch->event) == CUDA_SUCCESS &&
         logged_event_record(batch->event, run->stream) == CUDA_SUCCESS;
    for (unsigned j = 0; ok && j < o->per_batch; j++) {
        struct task *task = calloc(1, sizeof *task);
        if (task == NULL) {
            ok = false;
            break;
        }
        *task = (struct task){
            .slot = slots[j],
            .batch = batch,
            .query_handle = batch->event,
            .result = run->results + ((size_t)b * o->per_batch + j) * o->words,
            .test = test,
        };
        if (o->bug == BUG_FOREIGN_HANDLE && bug_here) {
            task->query_handle = (CUevent)(void *)&unrelated_object;
        }
        tasks_append(task);
    }
    tasks_unlock();
    return ok;
}

/* Hash of what came back for one test, and of what should have. */
static void checksums(const struct run *run, unsigned test, uint64_t *got, uint64_t *want)
{
    const struct options *o = &run->options;
    size_t items = items_per_test(o);
    *got = wl_fnv1a(*got, run->results, items * o->words * sizeof(uint32_t));
    for (size_t item = 0; item < items; item++) {
        for (unsigned w = 0; w < o->words; w++) {
            uint32_t word = wl_pattern(test, (unsigned)item, w);
            *want = wl_fnv1a(*want, &word, sizeof word);
        }
    }
}

/* The stream a test works on: a fresh one, or under --bug=stale-stream the
 * one the first test created. */
static bool begin_stream(struct run *run)
{
    if (run->options.bug == BUG_STALE_STREAM && run->stream != NULL) {
        return true;
    }
    return logged_stream_create(&run->stream) == CUDA_SUCCESS;
}

/* What a test does with its stream once all its tasks are done. */
static bool end_stream(struct run *run)
{
    switch (run->options.bug) {
    case BUG_STALE_STREAM:
        /* Leaves trailing work behind; the next test keeps using the stream. */
        return logged_host_func(run->stream, slow_cleanup, NULL) == CUDA_SUCCESS;
    case BUG_LEAK:
        run->stream = NULL; /* forgotten, never destroyed */
        return true;
    default:
        break;
    }
    bool ok = logged_stream_synchronize(run->stream) == CUDA_SUCCESS &&
              logged_stream_destroy(run->stream) == CUDA_SUCCESS;
    run->stream = NULL;
    return ok;
}

static bool run_test(struct run *run, unsigned test, uint64_t *got_all, uint64_t *want_all)
{
    const struct options *o = &run->options;
    char marker[96];
    snprintf(marker, sizeof marker, "tests/test_writeback.py::test_%u (call)", test);
    setenv(TASK_VARIABLE, marker, 1);
    wl_print("test %u begin\n", test);
    memset(run->results, 0, items_per_test(o) * o->words * sizeof(uint32_t));
    bool ok = begin_stream(run) && upload_source(run, test);
    for (unsigned b = 0; ok && b < o->batches; b++) {
        ok = produce_batch(run, test, b);
    }
    if (ok) {
        wait_all();
        ok = end_stream(run);
    }
    uint64_t got = WL_FNV_SEED, want = WL_FNV_SEED;
    checksums(run, test, &got, &want);
    checksums(run, test, got_all, want_all);
    wl_print("test %u end checksum=%#018jx expected=%#018jx\n", test, (uintmax_t)got,
             (uintmax_t)want);
    unsetenv(TASK_VARIABLE);
    return ok;
}

/* Releases what the run owns (all but the leaks --bug=leak plants). */
static void release(struct run *run)
{
    if (run->stream != NULL) {
        logged_stream_synchronize(run->stream);
        logged_stream_destroy(run->stream);
    }
    if (run->options.bug != BUG_LEAK) {
        pool_destroy();
        if (run->staging != NULL) {
            logged_free_host(run->staging);
        }
    }
    if (run->source != 0) {
        cuMemFree(run->source);
    }
    free(run->results);
}

int main(int argc, char **argv)
{
    struct run run = {.options = parse_options(argc, argv)};
    const struct options *o = &run.options;
    if (o->timeout_s > 0) {
        set_deadline(wl_now() + o->timeout_s);
    }
    wl_print("workload writeback bug=%s tests=%u batches=%u per_batch=%u buffers=%u words=%u\n",
             bug_names[o->bug], o->tests, o->batches, o->per_batch, o->buffers, o->words);
    if (!open_context(&run) || !allocate(&run) || !watcher_start(o, run.context)) {
        fprintf(stderr, "writeback: CUDA setup failed (see the lines above)\n");
        return 1;
    }
    uint64_t got = WL_FNV_SEED, want = WL_FNV_SEED;
    bool ok = true;
    for (unsigned test = 1; ok && test <= o->tests; test++) {
        ok = run_test(&run, test, &got, &want);
    }
    watcher_stop();
    release(&run);
    wl_print("checksum=%#018jx expected=%#018jx\n", (uintmax_t)got, (uintmax_t)want);
    if (!ok) {
        fprintf(stderr, "writeback: a CUDA call failed (see the lines above)\n");
        return 1;
    }
    return got == want ? 0 : 2;
}

/*
 * tests/unit/test_watchdog.c — the watchdog: stall detection, STALL records,
 * the pending-event table read back from the trace, and the hang report.
 *
 * What it is for: checking, with the shim compiled into this binary and the
 * simulated driver (FAKECUDA_STALL_STREAM makes the first stream never run),
 * what users rely on: a thread polling an incomplete event, or blocked in a
 * synchronize, past the limit gets exactly one STALL record naming it, the
 * object and the call; a poll that completed, or one abandoned long ago, gets
 * none; the report names the thread, the event, its stream and the last
 * calls; the real watchdog thread reports within the limit plus one tick,
 * answers a report request, and uses next to no CPU when nothing is stuck.
 *
 * What it must never do: depend on test order (Check forks each test) or
 * leave files behind.
 */
#include <check.h>
#include <cuda.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/api.h"
#include "shim/hang_report.h"
#include "shim/pending_events.h"
#include "shim/stall_detect.h"
#include "shim/watch_slots.h"
#include "shim/watchdog.h"
#include "tests/unit/shim_testlib.h"
#include "tracer/writer.h"

#define H(x) ((uint64_t)(uintptr_t)(x))
#define MS 1000000ull

/* ---- helpers ---- */

/* Trace dir with the first stream stalled; the watchdog thread idle (limit
 * 0) and then stopped, so the test drives ticks itself. */
static char *setup_manual(void)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    setenv("CUGUARD_WATCHDOG", "0", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    return dir;
}

static void stop_thread_after_first_call(void)
{
    CUevent probe = NULL;
    ck_assert_int_eq(cuEventCreate(&probe, 0), CUDA_SUCCESS); /* claims a slot: starts it */
    ck_assert_int_eq(cuEventDestroy(probe), CUDA_SUCCESS);
    cg_watchdog_stop();
}

static CUevent recorded_event(CUstream stream)
{
    CUevent e = NULL;
    ck_assert_int_eq(cuEventCreate(&e, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS);
    ck_assert_int_eq(cuEventRecord(e, stream), CUDA_SUCCESS);
    return e;
}

static void poll_until_complete(CUevent e)
{
    for (int i = 0; i < 100000; i++) {
        CUresult r = cuEventQuery(e);
        if (r == CUDA_SUCCESS)
            return;
        ck_assert_int_eq(r, CUDA_ERROR_NOT_READY);
        usleep(100);
    }
    ck_abort_msg("event never completed");
}

static int output_file(const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/report.txt", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_int_ge(fd, 0);
    return fd;
}

static char *read_all(int fd)
{
    static char text[65536];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    text[n > 0 ? n : 0] = '\0';
    return text;
}

static int contains1(const char *text, const char *fmt, uint64_t a)
{
    char needle[256];
    snprintf(needle, sizeof needle, fmt, (unsigned long long)a);
    return strstr(text, needle) != NULL;
}

static int contains(const char *text, const char *fmt, uint64_t a, uint64_t b)
{
    char needle[256];
    snprintf(needle, sizeof needle, fmt, (unsigned long long)a, (unsigned long long)b);
    return strstr(text, needle) != NULL;
}

static size_t count_stalls(const struct shimtest_trace *t)
{
    return shimtest_count(t, CG_REC_STALL, NULL);
}

static const struct cg_record *stall_record(const struct shimtest_trace *t)
{
    for (size_t i = 0; i < t->count; i++) {
        if (t->records[i].rec.kind == CG_REC_STALL)
            return &t->records[i].rec;
    }
    return NULL;
}

/* ---- the report's text ---- */

static void collect_line(const char *line, void *ctx)
{
    char *out = ctx;
    strncat(out, line, 16000 - strlen(out) - 2);
    strcat(out, "\n");
}

START_TEST(report_names_thread_event_stream_and_last_calls)
{
    const uint64_t now = 100 * 1000 * MS;
    struct cg_event_state ev = {
        .event = 0xe1, .stream = 0x51, .record_ns = now - 2100 * MS, .tid = 40, .pending = 1};
    struct cg_hang_thread th[2];
    memset(th, 0, sizeof th);
    th[0].tid = 40;
    strcpy(th[0].name, "writeback");
    th[0].has_last = 1;
    th[0].last = (struct cg_hang_call){.api = CG_ID_cuEventRecord,
                                       .handle = 0xe1,
                                       .arg = 0x51,
                                       .result = CUDA_SUCCESS,
                                       .ts_ns = now - 2100 * MS};
    th[1].tid = 41;
    strcpy(th[1].name, "watcher");
    th[1].poll_count = 1;
    th[1].polls[0] = (struct cg_hang_poll){
        .call = {.api = CG_ID_cuEventQuery, .handle = 0xe1, .result = CUDA_ERROR_NOT_READY},
        .since_ns = now - 2000 * MS,
        .last_ns = now,
        .polls = 3400,
        .target_known = 1,
        .target = ev};
    struct cg_hang_snapshot s = {.pid = 7,
                                 .now_ns = now,
                                 .limit_ns = 2000 * MS,
                                 .why = "1 thread stuck",
                                 .threads = th,
                                 .thread_count = 2,
                                 .events = &ev,
                                 .event_count = 1,
                                 .events_total = 1};
    static char out[16000];
    out[0] = '\0';
    cg_hang_report(&s, collect_line, out);
    ck_assert_msg(strstr(out, "HANG REPORT (pid 7, watchdog limit 2 s): 1 thread stuck\n") == out,
                  "%s", out);
    ck_assert_msg(strstr(out, "  thread 41 \"watcher\" polling cuEventQuery(event 0xe1) for 2.0 s "
                              "(3400 polls, last 0.0 s ago); event 0xe1 recorded on stream 0x51 "
                              "by thread 40 \"writeback\" 2.1 s ago, not complete\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "  pending events (1):\n    event 0xe1 recorded on stream 0x51 by "
                              "thread 40 \"writeback\" 2.1 s ago; polled by thread 41 \"watcher\" "
                              "for 2.0 s\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "    thread 40 \"writeback\": cuEventRecord(event 0xe1, stream 0x51) "
                              "= CUDA_SUCCESS 2.1 s ago; not in a CUDA call now\n"),
                  "%s", out);
    ck_assert_msg(strstr(out, "\nend of hang report\n"), "%s", out);
}
END_TEST

START_TEST(report_without_waiters_says_so)
{
    struct cg_hang_snapshot s = {.pid = 9, .now_ns = 1, .why = "on SIGUSR2"};
    static char out[16000];
    out[0] = '\0';
    cg_hang_report(&s, collect_line, out);
    ck_assert_msg(strstr(out, "HANG REPORT (pid 9, watchdog off): on SIGUSR2\n"), "%s", out);
    ck_assert_msg(strstr(out, "no thread is blocked in or polling a CUDA call"), "%s", out);
    ck_assert_msg(strstr(out, "pending events (0)\n"), "%s", out);
}
END_TEST

START_TEST(report_lists_python_threads_beside_their_last_call)
{
    const uint64_t now = 100 * 1000 * MS;
    struct cg_hang_thread th;
    memset(&th, 0, sizeof th);
    th.tid = 40;
    th.has_last = 1;
    th.last = (struct cg_hang_call){
        .api = CG_ID_cuStreamSynchronize, .handle = 0x51, .ts_ns = now - 3000 * MS};
    static struct cg_pyt_snapshot py;
    memset(&py, 0, sizeof py);
    py.status = CG_PYT_OK;
    py.count = 2;
    py.threads[0] = (struct cg_pyt_thread){.native_tid = 40, .name = "MainThread", .frames = 2};
    strcpy(py.threads[0].stack, "#stack;p64 wait_all /src/w.py;p94 main /src/w.py");
    py.threads[1] = (struct cg_pyt_thread){.native_tid = 42, .name = "helper"};
    strcpy(py.threads[1].stack, "#stack");
    struct cg_hang_dead_poller dead = {
        .tid = 41,
        .name = "watcher",
        .exit_ns = now - 2900 * MS,
        .idle_ns = 3000 * MS,
        .has_error = 1,
        .error = {.api = CG_ID_cuEventQuery, .handle = 0x99, .result = CUDA_ERROR_INVALID_HANDLE}};
    struct cg_hang_snapshot s = {.pid = 7,
                                 .now_ns = now,
                                 .limit_ns = 2000 * MS,
                                 .threads = &th,
                                 .thread_count = 1,
                                 .python = &py,
                                 .dead = &dead,
                                 .dead_count = 1};
    static char out[16000];
    out[0] = '\0';
    cg_hang_report(&s, collect_line, out);
    ck_assert_msg(strstr(out, "  quiet after a dead poller: no CUDA call for 3.0 s since thread 41 "
                              "\"watcher\" exited 2.9 s ago after cuEventQuery(event 0x99) = "
                              "CUDA_ERROR_INVALID_HANDLE;"),
                  "%s", out);
    ck_assert_msg(strstr(out, "  python threads (2), innermost frame first:\n"
                              "    python thread 40 \"MainThread\": last CUDA call "
                              "cuStreamSynchronize(stream 0x51) = CUDA_SUCCESS 3.0 s ago\n"
                              "      /src/w.py:64 wait_all\n      /src/w.py:94 main\n"
                              "    python thread 42 \"helper\": no CUDA call recorded; no Python "
                              "frame\nend of hang report\n"),
                  "%s", out);
}
END_TEST

START_TEST(report_says_when_python_stacks_could_not_be_read)
{
    static struct cg_pyt_snapshot py;
    memset(&py, 0, sizeof py);
    py.status = CG_PYT_GIL_HELD;
    py.waited_ns = 1000 * MS;
    struct cg_hang_snapshot s = {.pid = 9, .now_ns = 1, .python = &py};
    static char out[16000];
    out[0] = '\0';
    cg_hang_report(&s, collect_line, out);
    ck_assert_msg(strstr(out, "  Python stacks could not be read: the GIL is held (waited 1.0 s;"),
                  "%s", out);
    py.status = CG_PYT_NO_PYTHON; /* a C program: no Python section at all */
    out[0] = '\0';
    cg_hang_report(&s, collect_line, out);
    ck_assert_msg(!strstr(out, "ython"), "%s", out);
}
END_TEST

/* ---- the pending-event table, read back from the trace ---- */

/* A hang report (watchdog tick, SIGUSR2) updates the table first: on a long
 * trace the update must read what was written since the last one, not the
 * whole file again (the report once printed once for 103 signals because
 * each re-read the trace). */
START_TEST(pending_update_reads_only_new_records)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    CUstream stream = NULL;
    ck_assert_int_eq(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent event = recorded_event(stream);
    for (int i = 0; i < 20000; i++) /* records are never folded like a poll loop's queries */
        ck_assert_int_eq(cuEventRecord(event, stream), CUDA_SUCCESS);
    ck_assert_int_eq(cg_pending_update(cg_writer_path()), 0);
    uint64_t first = cg_pending_records_replayed();
    ck_assert_uint_ge(first, 20000);
    for (int round = 0; round < 50; round++) {
        uint64_t before = cg_pending_records_replayed();
        ck_assert_int_eq(cuEventRecord(event, stream), CUDA_SUCCESS);
        ck_assert_int_eq(cg_pending_update(cg_writer_path()), 0);
        uint64_t read = cg_pending_records_replayed() - before;
        ck_assert_msg(read >= 1 && read <= 4, "update %d replayed %llu records for one call", round,
                      (unsigned long long)read);
    }
    cg_pending_reset();
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(pending_events_follow_records_queries_and_syncs)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    CUstream stalled = NULL, running = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamCreate(&running, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent never = recorded_event(stalled);
    CUevent polled = recorded_event(running);
    poll_until_complete(polled);
    CUevent synced = recorded_event(running);
    ck_assert_int_eq(cuStreamSynchronize(running), CUDA_SUCCESS);
    CUevent destroyed = recorded_event(stalled);
    ck_assert_int_eq(cuEventDestroy(destroyed), CUDA_SUCCESS);

    ck_assert_int_eq(cg_pending_update(cg_writer_path()), 0);
    struct cg_event_state st;
    ck_assert_int_eq(cg_pending_lookup(H(never), &st), 1);
    ck_assert_int_eq(st.pending, 1);
    ck_assert_uint_eq(st.stream, H(stalled));
    ck_assert_uint_eq(st.tid, cg_gettid());
    ck_assert_int_eq(cg_pending_lookup(H(polled), &st), 1);
    ck_assert_int_eq(st.pending, 0);
    ck_assert_int_eq(cg_pending_lookup(H(synced), &st), 1);
    ck_assert_int_eq(st.pending, 0);
    if (H(destroyed) != H(never) && H(destroyed) != H(polled) && H(destroyed) != H(synced))
        ck_assert_int_eq(cg_pending_lookup(H(destroyed), &st), 0);
    struct cg_event_state list[4];
    unsigned total = 0;
    ck_assert_uint_eq(cg_pending_collect(list, 4, &total), 1);
    ck_assert_uint_eq(total, 1);
    ck_assert_uint_eq(list[0].event, H(never));

    /* Incremental: a later record of the synced event on the stalled stream. */
    ck_assert_int_eq(cuEventRecord(synced, stalled), CUDA_SUCCESS);
    ck_assert_int_eq(cg_pending_update(cg_writer_path()), 0);
    ck_assert_uint_eq(cg_pending_collect(list, 4, &total), 2);
    ck_assert_uint_eq(list[0].event, H(never)); /* oldest record first */
    ck_assert_uint_eq(list[1].event, H(synced));
    cg_pending_reset();
    shimtest_cleanup(dir);
}
END_TEST

/* ---- stall detection, ticks driven by the test ---- */

static uint32_t dead_tid;

static void *poll_garbage_and_exit(void *unused)
{
    static char garbage[64]; /* a handle no create returned */
    (void)unused;
    dead_tid = cg_gettid();
    return (void *)(intptr_t)cuEventQuery((CUevent)(void *)garbage);
}

static void *poll_to_completion_and_exit(void *event)
{
    dead_tid = cg_gettid();
    poll_until_complete(event);
    return NULL;
}

/* A thread runs `fn`, exits; the main thread synchronizes, so every event
 * is complete; then the process makes no CUDA call. Returns the STALL
 * records written by ticks past the limit (checking the first in *out). */
static size_t quiet_after(void *(*fn)(void *), struct cg_record *out)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    cg_stall_configure(500 * MS);
    CUstream stalled = NULL, running = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamCreate(&running, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent done = recorded_event(running);
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, fn, done), 0);
    pthread_join(thread, NULL);
    ck_assert_int_eq(cuStreamSynchronize(running), CUDA_SUCCESS);
    uint64_t now = cg_now_ns();
    ck_assert_uint_eq(cg_stall_tick(now), 0); /* under the limit */
    unsigned fresh = cg_stall_tick(now + 600 * MS);
    ck_assert_uint_eq(cg_stall_tick(now + 700 * MS), 0); /* never twice */
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    size_t n = count_stalls(&t);
    ck_assert_uint_eq(n, fresh);
    if (n > 0)
        *out = *stall_record(&t);
    shimtest_trace_free(&t);
    cg_pending_reset();
    shimtest_cleanup(dir);
    return n;
}

START_TEST(a_dead_pollers_quiet_is_a_stall_though_every_event_completed)
{
    struct cg_record s;
    ck_assert_uint_eq(quiet_after(poll_garbage_and_exit, &s), 1);
    ck_assert_uint_eq(s.flags & CG_FLAG_ORPHANED, CG_FLAG_ORPHANED);
    ck_assert_uint_eq(s.handle, 0); /* no event: the quiet after a dead poller */
    ck_assert_uint_eq(s.arg, dead_tid);
    ck_assert_uint_ge(s.arg2, 500 * MS);
    ck_assert_uint_eq(s.api, CG_ID_cuEventQuery);
    ck_assert_int_eq(s.result, CUDA_ERROR_INVALID_HANDLE);
}
END_TEST

START_TEST(a_poller_that_saw_its_work_complete_leaves_no_stall)
{
    struct cg_record s;
    ck_assert_uint_eq(quiet_after(poll_to_completion_and_exit, &s), 0);
}
END_TEST

START_TEST(a_stuck_poller_gets_one_stall_record_a_completed_poll_none)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    cg_stall_configure(500 * MS);
    CUstream stalled = NULL, running = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamCreate(&running, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent stuck = recorded_event(stalled);
    CUevent fine = recorded_event(running);
    uint64_t first = cg_now_ns();
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(cuEventQuery(stuck), CUDA_ERROR_NOT_READY);
    poll_until_complete(fine);
    uint64_t now = cg_now_ns();

    ck_assert_uint_eq(cg_stall_tick(now), 0); /* under the limit */
    ck_assert_uint_eq(cg_stall_tick(first + 600 * MS), 1);
    ck_assert_uint_eq(cg_stall_stuck_threads(), 1);
    ck_assert_uint_eq(cg_stall_tick(first + 700 * MS), 0); /* same episode: no second record */

    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(count_stalls(&t), 1);
    const struct cg_record *s = stall_record(&t);
    ck_assert_uint_eq(s->handle, H(stuck));
    ck_assert_uint_eq(s->arg, cg_gettid());
    ck_assert_uint_ge(s->arg2, 500 * MS);
    ck_assert_uint_le(s->arg2, 700 * MS);
    ck_assert_uint_eq(s->api, CG_ID_cuEventQuery);
    shimtest_trace_free(&t);
    cg_pending_reset();
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(a_poll_abandoned_long_ago_is_not_a_stall)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    cg_stall_configure(500 * MS);
    CUstream stalled = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent stuck = recorded_event(stalled);
    ck_assert_int_eq(cuEventQuery(stuck), CUDA_ERROR_NOT_READY);
    uint64_t last_poll = cg_now_ns();
    /* Nobody polled for longer than the recent window: not "polling". */
    ck_assert_uint_eq(cg_stall_tick(last_poll + cg_stall_recent_ns() + 100 * MS), 0);
    ck_assert_uint_eq(cg_stall_stuck_threads(), 0);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(count_stalls(&t), 0);
    shimtest_trace_free(&t);
    cg_pending_reset();
    shimtest_cleanup(dir);
}
END_TEST

/* A host function that holds its stream until the test lets it go. */
static int gate_open;

static void CUDA_CB hold_stream(void *unused)
{
    (void)unused;
    while (!__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE))
        usleep(1000);
}

struct syncer {
    CUstream stream;
    uint32_t tid;
    CUresult result;
};

static void *synchronize_stream(void *arg)
{
    struct syncer *s = arg;
    __atomic_store_n(&s->tid, cg_gettid(), __ATOMIC_RELEASE);
    if (shimtest_cuda_thread_init() != 0)
        return NULL;
    s->result = cuStreamSynchronize(s->stream);
    return NULL;
}

/* The ENTER record a thread published, once it is inside its call. */
static const struct cg_record *wait_until_blocked(uint32_t tid)
{
    for (int tries = 0; tries < 5000; tries++) {
        for (unsigned i = 0; i < CG_WATCH_THREADS; i++) {
            const struct cg_watch_slot *slot = &cg_watch_slots[i];
            const struct cg_record *b = __atomic_load_n(&slot->blocked, __ATOMIC_ACQUIRE);
            if (tid != 0 && __atomic_load_n(&slot->tid, __ATOMIC_ACQUIRE) == tid && b != NULL)
                return b;
        }
        usleep(1000);
    }
    return NULL;
}

START_TEST(a_blocked_thread_gets_a_stall_record_and_the_report_names_it)
{
    char *dir = setup_manual();
    stop_thread_after_first_call();
    cg_stall_configure(500 * MS);
    CUstream stalled = NULL, gated = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuStreamCreate(&gated, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    ck_assert_int_eq(cuLaunchHostFunc(gated, hold_stream, NULL), CUDA_SUCCESS);
    CUevent behind = recorded_event(gated);
    struct syncer s = {.stream = gated};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, synchronize_stream, &s), 0);
    uint32_t tid = 0;
    while ((tid = __atomic_load_n(&s.tid, __ATOMIC_ACQUIRE)) == 0)
        usleep(1000);
    const struct cg_record *enter = wait_until_blocked(tid);
    ck_assert_ptr_nonnull(enter);

    ck_assert_uint_eq(cg_stall_tick(enter->ts_ns + 400 * MS), 0);
    ck_assert_uint_eq(cg_stall_tick(enter->ts_ns + 600 * MS), 1);
    ck_assert_uint_eq(cg_stall_tick(enter->ts_ns + 900 * MS), 0);
    int fd = output_file(dir);
    cg_stall_report(enter->ts_ns + 900 * MS, "test", fd);
    const char *text = read_all(fd);
    close(fd);
    ck_assert_msg(contains1(text, "cuguard:   thread %llu \"", tid), "%s", text);
    ck_assert_msg(
        contains1(text, "blocked in cuStreamSynchronize(stream 0x%llx) for 0.9 s", H(gated)), "%s",
        text);
    ck_assert_msg(contains(text, "event 0x%llx recorded on stream 0x%llx", H(behind), H(gated)),
                  "%s", text);
    ck_assert_msg(strstr(text, "in cuStreamSynchronize for 0.9 s"), "%s", text);

    __atomic_store_n(&gate_open, 1, __ATOMIC_RELEASE);
    pthread_join(thread, NULL);
    ck_assert_int_eq(s.result, CUDA_SUCCESS);
    struct shimtest_trace t;
    ck_assert_int_eq(shimtest_finish_and_read(dir, &t), 0);
    ck_assert_uint_eq(count_stalls(&t), 1);
    const struct cg_record *r = stall_record(&t);
    ck_assert_uint_eq(r->handle, H(gated));
    ck_assert_uint_eq(r->arg, tid);
    ck_assert_uint_eq(r->api, CG_ID_cuStreamSynchronize);
    shimtest_trace_free(&t);
    cg_pending_reset();
    shimtest_cleanup(dir);
}
END_TEST

/* ---- the real watchdog thread ---- */

START_TEST(the_watchdog_thread_reports_a_stuck_poller_within_the_limit)
{
    setenv("FAKECUDA_STALL_STREAM", "1", 1);
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    int fd = output_file(dir);
    cg_watchdog_set_output(fd);
    cg_watchdog_set_limit_ms(300);
    CUstream stalled = NULL;
    ck_assert_int_eq(cuStreamCreate(&stalled, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    CUevent stuck = recorded_event(stalled);
    uint64_t start = cg_now_ns(), reported_at = 0;
    while (cg_now_ns() - start < 1500 * MS && reported_at == 0) {
        ck_assert_int_eq(cuEventQuery(stuck), CUDA_ERROR_NOT_READY);
        if (cg_watchdog_reports() > 0)
            reported_at = cg_now_ns();
        usleep(1000);
    }
    ck_assert_uint_ne(reported_at, 0);
    /* limit 300 ms + one tick (75 ms) + scheduling slack */
    ck_assert_uint_le(reported_at - start, 700 * MS);
    ck_assert_uint_eq(cg_watchdog_stalls(), 1);
    const char *text = read_all(fd);
    ck_assert_msg(strstr(text, "cuguard: HANG REPORT ("), "%s", text);
    ck_assert_msg(contains1(text, "polling cuEventQuery(event 0x%llx) for ", H(stuck)), "%s", text);
    ck_assert_msg(contains1(text, "recorded on stream 0x%llx ", H(stalled)), "%s", text);

    unsigned before = cg_watchdog_reports();
    cg_watchdog_request_report();
    for (int i = 0; i < 2000 && cg_watchdog_reports() == before; i++)
        usleep(1000);
    ck_assert_uint_eq(cg_watchdog_reports(), before + 1);
    ck_assert_msg(strstr(read_all(fd), "): on request\n"), "%s", read_all(fd));
    cg_watchdog_stop();
    close(fd);
    shimtest_cleanup(dir);
}
END_TEST

START_TEST(an_idle_watchdog_reports_nothing_and_uses_next_to_no_cpu)
{
    char *dir = shimtest_setup();
    ck_assert_int_eq(shimtest_cuda_init(), 0);
    int fd = output_file(dir);
    cg_watchdog_set_output(fd);
    cg_watchdog_set_limit_ms(200);
    CUstream stream = NULL;
    ck_assert_int_eq(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS);
    uint64_t start = cg_now_ns();
    unsigned long calls = 0;
    while (cg_now_ns() - start < 1000 * MS) {
        CUevent e = recorded_event(stream);
        poll_until_complete(e);
        ck_assert_int_eq(cuStreamSynchronize(stream), CUDA_SUCCESS);
        ck_assert_int_eq(cuEventDestroy(e), CUDA_SUCCESS);
        calls += 5;
    }
    uint64_t cpu = cg_watchdog_cpu_ns();
    ck_assert_uint_gt(calls, 1000);
    ck_assert_uint_eq(cg_watchdog_stalls(), 0);
    ck_assert_uint_eq(cg_watchdog_reports(), 0);
    ck_assert_str_eq(read_all(fd), "");
    /* ~20 ticks, each catching up with the records written since the last
     * (thousands a second here): 5-10 ms of CPU plain, 22 ms seen under ASan
     * on a busy CI machine. A watchdog that polled instead of sleeping
     * would use most of the second: 100 ms (a tenth of a core) tells them
     * apart with room on both sides. */
    ck_assert_msg(cpu < 100 * MS, "watchdog used %llu ns of CPU in 1 s", (unsigned long long)cpu);
    cg_watchdog_stop();
    close(fd);
    shimtest_cleanup(dir);
}
END_TEST

static Suite *watchdog_suite(void)
{
    Suite *s = suite_create("watchdog");
    TCase *report = tcase_create("report");
    tcase_add_test(report, report_names_thread_event_stream_and_last_calls);
    tcase_add_test(report, report_without_waiters_says_so);
    tcase_add_test(report, report_lists_python_threads_beside_their_last_call);
    tcase_add_test(report, report_says_when_python_stacks_could_not_be_read);
    suite_add_tcase(s, report);
    TCase *detect = tcase_create("detect");
    tcase_set_timeout(detect, 60);
    tcase_add_test(detect, pending_events_follow_records_queries_and_syncs);
    tcase_add_test(detect, pending_update_reads_only_new_records);
    tcase_add_test(detect, a_stuck_poller_gets_one_stall_record_a_completed_poll_none);
    tcase_add_test(detect, a_poll_abandoned_long_ago_is_not_a_stall);
    tcase_add_test(detect, a_dead_pollers_quiet_is_a_stall_though_every_event_completed);
    tcase_add_test(detect, a_poller_that_saw_its_work_complete_leaves_no_stall);
    tcase_add_test(detect, a_blocked_thread_gets_a_stall_record_and_the_report_names_it);
    suite_add_tcase(s, detect);
    TCase *thread = tcase_create("thread");
    tcase_set_timeout(thread, 60);
    tcase_add_test(thread, the_watchdog_thread_reports_a_stuck_poller_within_the_limit);
    tcase_add_test(thread, an_idle_watchdog_reports_nothing_and_uses_next_to_no_cpu);
    suite_add_tcase(s, thread);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(watchdog_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? 0 : 1;
}

/*
 * tests/unit/test_hb.c — the happens-before model and the race and hang
 * findings built on it (analysis/model/hb_model.c, races.c, diagnosis.c).
 *
 * What it is for: for every finding kind, a minimal synthetic trace that
 * has the bug and raises it, and its correct twin that does not; the rules
 * of "proven complete" (record-time snapshots, stream waits, the legacy and
 * per-thread default streams, cuMemFreeHost as a context synchronize, a
 * completion seen by any thread counting for every thread); the diagnosis
 * chain. Each test asserts on the findings a user would read.
 *
 * What it must never do: depend on the shim or a CUDA driver (every trace
 * is written by tests/unit/trace_builder.c), or share files between tests.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "analysis/analyze.h"
#include "analysis/output/report.h"
#include "tests/unit/analysis_testlib.h"
#include "tests/unit/trace_builder.h"
#include "tests/unit/tracer_testlib.h"

#define OK 0
#define NOT_READY 600
#define INVALID_HANDLE 400
#define MAIN 100
#define WATCHER 101
#define OTHER 102
#define STREAM 0x5000u
#define STREAM2 0x5100u
#define EVENT 0xe000u
#define EVENT2 0xe100u
#define PINNED 0x7f0000000000ull
#define PINNED2 0x7f0000100000ull
#define BYTES 4096u
#define NON_BLOCKING 1u
#define FOREIGN 0x1234567ull

static struct scratch_trace scratch;

static void setup(void)
{
    scratch_setup(&scratch);
}

static void teardown(void)
{
    scratch_teardown(&scratch);
}

static struct tb *open_trace(void)
{
    struct tb *b = tb_open(scratch.path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    tb_thread_start(b, WATCHER, "watcher");
    return b;
}

/* Close the trace (clean exit unless killed) and analyze it. */
static const struct analysis *finish(struct tb *b, int clean)
{
    return scratch_finish(&scratch, b, clean ? MAIN : 0);
}

/* No error or warning at all (info and leaks are checked by the caller). */
static void assert_clean(const struct analysis *a)
{
    for (const struct finding *f = a->findings.table; f; f = f->hh.next)
        if (finding_kind_severity(f->kind) >= SEV_WARNING)
            ck_abort_msg("unexpected %s: %s", finding_kind_name(f->kind), f->message);
    ck_assert_uint_eq(a->ndiagnosis, 0);
}

static void assert_message_has(const struct finding *f, const char *text)
{
    ck_assert_ptr_nonnull(f);
    ck_assert_msg(strstr(f->message, text) != NULL, "message \"%s\" lacks \"%s\"", f->message,
                  text);
}

/* ---- building blocks ---- */

static void create_stream(struct tb *b, uint64_t stream, uint64_t flags)
{
    tb_record(b, CG_REC_CALL, MAIN, "cuStreamCreate", stream, flags, 0, OK, 0, 0);
}

static void create_pinned(struct tb *b, uint64_t ptr)
{
    tb_record(b, CG_REC_CALL, MAIN, "cuMemHostAlloc", ptr, BYTES, 0, OK, 0, 0);
}

static void copy_to_host(struct tb *b, uint32_t tid, uint64_t stream, uint64_t ptr, uint8_t flags)
{
    tb_record(b, CG_REC_CALL, tid, flags ? "cuMemcpyDtoHAsync_v2_ptsz" : "cuMemcpyDtoHAsync_v2",
              stream, ptr, BYTES, OK, 0, flags);
}

static void copy_to_device(struct tb *b, uint64_t stream, uint64_t ptr)
{
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyHtoDAsync_v2", stream, ptr, BYTES, OK, 0, 0);
}

static void stream_sync(struct tb *b, uint32_t tid, uint64_t stream, uint8_t flags)
{
    const char *api = flags ? "cuStreamSynchronize_ptsz" : "cuStreamSynchronize";
    tb_record(b, CG_REC_ENTER, tid, api, stream, 0, 0, 0, 0, flags);
    tb_record(b, CG_REC_EXIT, tid, api, stream, 0, 0, OK, 0, flags);
}

/* main: stream, event and a pinned buffer; a copy into it, then a record. */
static struct tb *copy_then_record(void)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_pinned(b, PINNED);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    return b;
}

/* ---- destroy-while-waited ---- */

START_TEST(destroy_while_waited_raised)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_DESTROY_WHILE_WAITED), 1);
    const struct finding *f = first_of_kind(a, FK_DESTROY_WHILE_WAITED);
    ck_assert_uint_eq(f->tid, MAIN);
    ck_assert_uint_eq(f->handle, EVENT);
    assert_message_has(f, "\"watcher\"");
    assert_message_has(f, "\"main\" destroyed event 0xe000");
}
END_TEST

START_TEST(destroy_after_stream_sync_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    stream_sync(b, MAIN, STREAM, 0); /* main proved the record complete */
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, INVALID_HANDLE);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_DESTROY_WHILE_WAITED), 0);
}
END_TEST

START_TEST(destroy_after_poller_saw_it_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", PINNED, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

/* ---- record-while-polled ---- */

START_TEST(record_while_polled_raised)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_RECORD_WHILE_POLLED), 1);
    const struct finding *f = first_of_kind(a, FK_RECORD_WHILE_POLLED);
    ck_assert_int_eq(finding_kind_severity(f->kind), SEV_WARNING);
    assert_message_has(f, "\"main\" re-recorded event 0xe000");
    assert_message_has(f, "\"watcher\" was still polling");
}
END_TEST

START_TEST(rerecord_after_poller_saw_completion_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_RECORD_WHILE_POLLED), 0);
}
END_TEST

START_TEST(rerecord_after_any_thread_saw_completion_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    /* A third thread saw it; the watcher learns it through a lock we cannot see. */
    tb_enter(b, OTHER, "cuEventSynchronize", EVENT, 0);
    tb_exit(b, OTHER, "cuEventSynchronize", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_RECORD_WHILE_POLLED), 0);
}
END_TEST

/* ---- poller-exited ---- */

START_TEST(poller_exited_raised)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_thread_exit(b, WATCHER);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    const struct finding *f = first_of_kind(a, FK_POLLER_EXITED);
    ck_assert_uint_eq(f->tid, WATCHER);
    ck_assert_str_eq(f->thread, "watcher");
    ck_assert_uint_eq(f->handle, EVENT);
    ck_assert_uint_ge(a->ndiagnosis, 1);
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "\"watcher\""));
}
END_TEST

START_TEST(poller_exit_after_completion_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_thread_exit(b, WATCHER);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 0);
    ck_assert_uint_eq(a->ndiagnosis, 0);
}
END_TEST

START_TEST(poller_exit_judged_at_the_exit)
{
    /* The watcher gave up and left; main saw the work complete only later:
     * whoever relied on the watcher was already stranded. */
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_thread_exit(b, WATCHER);
    tb_call(b, MAIN, "cuCtxSynchronize", 0, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 0);
}
END_TEST

START_TEST(poller_exit_after_another_thread_saw_it_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_call(b, MAIN, "cuCtxSynchronize", 0, 0, OK);
    tb_thread_exit(b, WATCHER);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 0);
    ck_assert_uint_eq(a->ndiagnosis, 0);
}
END_TEST

START_TEST(cubie_poller_gave_up_then_main_synchronized)
{
    /* cubie's hang: the poller exits, main synchronizes the stream, then
     * waits in pure Python for a counter the dead thread owned (killed). */
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_thread_exit(b, WATCHER);
    stream_sync(b, MAIN, STREAM, 0);
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    ck_assert_uint_ge(a->ndiagnosis, 1);
}
END_TEST

START_TEST(never_completed_raised)
{
    /* wait_all(timeout=10): main polls, gives up with TimeoutError, exits. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_spin(b, MAIN, "cuEventQuery", EVENT, 1000, 10000000000ull);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 1);
    const struct finding *f = first_of_kind(a, FK_NEVER_COMPLETED);
    ck_assert_uint_eq(f->handle, EVENT);
    assert_message_has(f, "thread 100 \"main\" (cuEventQuery since");
    assert_message_has(f, "host function enqueued by thread 100");
    ck_assert_str_eq(finding_kind_name(FK_NEVER_COMPLETED), "never-completed");
    ck_assert_int_eq(finding_kind_severity(FK_NEVER_COMPLETED), SEV_ERROR);
    ck_assert_uint_ge(a->ndiagnosis, 1);
}
END_TEST

START_TEST(wait_that_saw_completion_is_not_never_completed)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_spin(b, MAIN, "cuEventQuery", EVENT, 1000, 10000000000ull);
    tb_call(b, MAIN, "cuEventQuery", EVENT, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 0);
    ck_assert_uint_eq(a->ndiagnosis, 0);
}
END_TEST

START_TEST(stream_poller_that_gives_up_is_never_completed)
{
    /* A thread polls its stream with cuStreamQuery until the process exits
     * cleanly, and never sees it idle. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuStreamQuery", STREAM, 0, NOT_READY);
    tb_spin(b, MAIN, "cuStreamQuery", STREAM, 1000, 10000000000ull);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 1);
    const struct finding *f = first_of_kind(a, FK_NEVER_COMPLETED);
    ck_assert_uint_eq(f->handle, STREAM);
    assert_message_has(f, "Stream 0x5000 was polled by thread 100 \"main\" (cuStreamQuery since");
    assert_message_has(f, "host function enqueued by thread 100");
}
END_TEST

START_TEST(stream_poller_that_sees_idle_is_not_never_completed)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuStreamQuery", STREAM, 0, NOT_READY);
    tb_spin(b, MAIN, "cuStreamQuery", STREAM, 1000, 10000000000ull);
    tb_call(b, MAIN, "cuStreamQuery", STREAM, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_NEVER_COMPLETED), 0);
    assert_clean(a);
}
END_TEST

/* Peak resident memory of this process so far, in MiB. */
static long peak_rss_mib(void)
{
    struct rusage ru;
    ck_assert_int_eq(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss / 1024;
}

START_TEST(chained_waits_over_thousands_of_streams_stay_bounded)
{
    /* Each of 3000 streams waits on the previous stream's event, then one
     * synchronize of the last proves them all: a correct program whose
     * clocks, kept whole, grow with the square of the streams (3000 needed
     * about 150 MB). */
    enum { STREAMS = 3000 };
    struct tb *b = open_trace();
    for (uint64_t k = 0; k < STREAMS; k++) {
        uint64_t st = 0x100000 + k * 16, ev = 0x90000000 + k * 16;
        tb_call(b, MAIN, "cuStreamCreate", st, NON_BLOCKING, OK);
        tb_call(b, MAIN, "cuEventCreate", ev, 0, OK);
        tb_call(b, MAIN, "cuLaunchKernel", st, 0x4000, OK);
        if (k)
            tb_record(b, CG_REC_CALL, MAIN, "cuStreamWaitEvent", st, ev - 16, 0, OK, 0, 0);
        tb_call(b, MAIN, "cuEventRecord", ev, st, OK);
    }
    uint64_t last = 0x100000 + (STREAMS - 1) * 16;
    tb_enter(b, MAIN, "cuStreamSynchronize", last, 0);
    tb_exit(b, MAIN, "cuStreamSynchronize", last, 0, OK);
    for (uint64_t k = 0; k < STREAMS; k++) {
        tb_call(b, MAIN, "cuEventDestroy_v2", 0x90000000 + k * 16, 0, OK);
        tb_call(b, MAIN, "cuStreamDestroy_v2", 0x100000 + k * 16, 0, OK);
    }
    long before = peak_rss_mib();
    const struct analysis *a = finish(b, 1);
    assert_clean(a);
    long grown = peak_rss_mib() - before;
    ck_assert_msg(grown < 64, "analyzing 3000 chained streams took %ld MiB more", grown);
}
END_TEST

START_TEST(watcher_error_without_hang_is_no_hang)
{
    /* The watcher polls a garbage handle, catches the error and exits; the
     * process ends normally: an error, but nothing hangs. */
    struct tb *b = copy_then_record();
    tb_call(b, WATCHER, "cuEventQuery", FOREIGN, 0, INVALID_HANDLE);
    tb_thread_exit(b, WATCHER);
    stream_sync(b, MAIN, STREAM, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_UNKNOWN_HANDLE), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 0);
    ck_assert_uint_eq(a->ndiagnosis, 0);
}
END_TEST

/* ---- the diagnosis of the seed scenario's root cause ---- */

START_TEST(foreign_handle_diagnosis)
{
    struct tb *b = copy_then_record();
    tb_call(b, WATCHER, "cuEventQuery", FOREIGN, 0, INVALID_HANDLE);
    tb_thread_exit(b, WATCHER);
    tb_enter(b, MAIN, "cuEventSynchronize", EVENT, 0); /* hangs: killed below */
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_UNKNOWN_HANDLE), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_BLOCKED_AT_EXIT), 1);
    ck_assert_uint_eq(a->ndiagnosis, 2);
    const char *first = a->diagnosis[0], *second = a->diagnosis[1];
    ck_assert_ptr_nonnull(strstr(first, "\"watcher\" got CUDA_ERROR_INVALID_HANDLE"));
    ck_assert_ptr_nonnull(strstr(first, "0x1234567 (a handle no create returned)"));
    ck_assert_ptr_nonnull(strstr(first, "then exited"));
    ck_assert_ptr_nonnull(strstr(second, "then thread 100 \"main\" was blocked in"));
    ck_assert_ptr_nonnull(strstr(second, "event 0xe000"));
}
END_TEST

START_TEST(hang_on_host_function_names_it)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 5000, 5000000000ull);
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_BLOCKED_AT_EXIT), 1);
    ck_assert_uint_eq(a->ndiagnosis, 1);
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "\"watcher\" was polling"));
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "event 0xe000"));
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "host function (cuLaunchHostFunc"));
}
END_TEST

/* ---- cross-task-use and pending-at-task-end ---- */

START_TEST(cross_task_use_raised)
{
    struct tb *b = open_trace();
    tb_task(b, MAIN, "test_a", 0);
    create_stream(b, STREAM, NON_BLOCKING);
    stream_sync(b, MAIN, STREAM, 0);
    tb_task(b, MAIN, "test_b", 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchKernel", STREAM, 0x4000, 0, OK, 0, 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchKernel", STREAM, 0x4000, 0, OK, 0, 0);
    stream_sync(b, MAIN, STREAM, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_CROSS_TASK_USE), 1); /* once per object and task */
    const struct finding *f = first_of_kind(a, FK_CROSS_TASK_USE);
    ck_assert_str_eq(f->task, "test_b");
    assert_message_has(f, "earlier task test_a");
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PENDING_AT_TASK_END), 0);
}
END_TEST

START_TEST(objects_from_outside_any_task_are_fine)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING); /* session setup, no task */
    create_pinned(b, PINNED);
    tb_task(b, MAIN, "test_a", 0);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    stream_sync(b, MAIN, STREAM, 0);
    tb_task(b, MAIN, "test_b", 0);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    stream_sync(b, MAIN, STREAM, 0);
    tb_task(b, MAIN, NULL, 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", PINNED, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

START_TEST(pending_at_task_end_raised)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_task(b, MAIN, "test_a", 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_task(b, MAIN, NULL, 0);
    tb_task(b, MAIN, "test_b", 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PENDING_AT_TASK_END), 1);
    const struct finding *f = first_of_kind(a, FK_PENDING_AT_TASK_END);
    ck_assert_str_eq(f->task, "test_a");
    assert_message_has(f, "when task test_b began");
    assert_message_has(f, "cuLaunchHostFunc");
}
END_TEST

START_TEST(task_ending_with_sync_is_fine)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_task(b, MAIN, "test_a", 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    stream_sync(b, MAIN, STREAM, 0);
    tb_task(b, MAIN, "test_b", 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

START_TEST(thread_tasks_are_not_sequential)
{
    /* CUGUARD_TASK=thread: each thread its own task, side by side. */
    struct tb *b = open_trace();
    b->hdr.task_mode = CG_TASK_THREAD;
    tb_task(b, MAIN, "main-task", 1);
    tb_task(b, WATCHER, "watcher-task", 1);
    create_stream(b, STREAM, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

/* ---- pinned-reuse-while-inflight ---- */

START_TEST(pinned_reuse_raised)
{
    struct tb *b = copy_then_record();
    create_stream(b, STREAM2, NON_BLOCKING);
    copy_to_host(b, MAIN, STREAM2, PINNED + 64, 0); /* same range, unordered stream */
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
    const struct finding *f = first_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT);
    ck_assert_uint_eq(f->handle, PINNED);
    assert_message_has(f, "into pinned range 0x7f0000000000");
    assert_message_has(f, "earlier cuMemcpyDtoHAsync_v2 into it");
}
END_TEST

START_TEST(pinned_reuse_after_stream_sync_is_fine)
{
    struct tb *b = copy_then_record();
    stream_sync(b, MAIN, STREAM, 0);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(pinned_reuse_after_other_thread_saw_event_is_fine)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 3, 3000);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK); /* then a pool hands the buffer back */
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(same_stream_upload_then_download_is_fine)
{
    /* numba's test_pinned: work on one stream runs in order. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_pinned(b, PINNED);
    copy_to_device(b, STREAM, PINNED);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(two_stream_upload_then_download_raised)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_stream(b, STREAM2, NON_BLOCKING);
    create_pinned(b, PINNED);
    copy_to_device(b, STREAM, PINNED);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
    assert_message_has(first_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), "earlier");
}
END_TEST

START_TEST(same_stream_download_twice_without_host_proof_raised)
{
    /* A pool hands a buffer back before anyone saw its download complete: the
     * next download on the same stream overwrites data nobody read. */
    struct tb *b = copy_then_record();
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
}
END_TEST

START_TEST(stream_wait_orders_copies_without_host_proof)
{
    /* S1 uploads, records E; S2 waits for E and downloads: ordered on the device. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_stream(b, STREAM2, NON_BLOCKING);
    create_pinned(b, PINNED);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    copy_to_device(b, STREAM, PINNED);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuStreamWaitEvent", STREAM2, EVENT, 0, OK, 0, 0);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(legacy_stream_orders_copies_of_blocking_streams)
{
    /* A blocking stream's upload, then a legacy-stream download: implicit sync. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, 0);
    create_pinned(b, PINNED);
    copy_to_device(b, STREAM, PINNED);
    copy_to_host(b, MAIN, 0, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

/* main: a download into PINNED on STREAM, then a host callback (id 7). */
static struct tb *copy_then_callback(void)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_stream(b, STREAM2, NON_BLOCKING);
    create_pinned(b, PINNED);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuStreamAddCallback", STREAM, 0x4000, 7, OK, 0, 0);
    return b;
}

START_TEST(callback_that_ran_proves_earlier_work)
{
    struct tb *b = copy_then_callback();
    tb_record(b, CG_REC_CALLBACK, OTHER, "cuStreamAddCallback", STREAM, 7, 0, 0, 0, 0);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(callback_not_seen_running_proves_nothing)
{
    struct tb *b = copy_then_callback();
    tb_record(b, CG_REC_CALLBACK, OTHER, "cuStreamAddCallback", STREAM, 8, 0, 0, 0, 0);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
}
END_TEST

/* A download into PINNED on the chain's first stream, then `streams`
 * streams each waiting on the previous one's event (none when k == gap),
 * and the watcher seeing the last event complete. */
static struct tb *chain_of_waits(uint64_t streams, uint64_t gap)
{
    struct tb *b = open_trace();
    create_pinned(b, PINNED);
    for (uint64_t k = 0; k < streams; k++) {
        uint64_t st = 0x100000 + k * 16, ev = 0x90000000 + k * 16;
        create_stream(b, st, NON_BLOCKING);
        tb_call(b, MAIN, "cuEventCreate", ev, 0, OK);
        if (k == 0)
            copy_to_host(b, MAIN, st, PINNED, 0);
        else if (k != gap)
            tb_record(b, CG_REC_CALL, MAIN, "cuStreamWaitEvent", st, ev - 16, 0, OK, 0, 0);
        tb_call(b, MAIN, "cuEventRecord", ev, st, OK);
    }
    tb_call(b, WATCHER, "cuEventQuery", 0x90000000 + (streams - 1) * 16, 0, OK);
    create_stream(b, STREAM2, NON_BLOCKING);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    return b;
}

START_TEST(long_chain_of_waits_proves_its_first_stream)
{
    const struct analysis *a = finish(chain_of_waits(2000, 0), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(long_chain_broken_once_proves_nothing)
{
    const struct analysis *a = finish(chain_of_waits(2000, 1000), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
}
END_TEST

START_TEST(two_uploads_from_one_buffer_are_fine)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    create_pinned(b, PINNED);
    copy_to_device(b, STREAM, PINNED);
    copy_to_device(b, STREAM, PINNED);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(snapshot_is_taken_at_the_record)
{
    /* copy into P1, record, copy into P2: seeing the record proves P1 only. */
    struct tb *b = copy_then_record();
    create_pinned(b, PINNED2);
    copy_to_host(b, MAIN, STREAM, PINNED2, 0);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    create_stream(b, STREAM2, NON_BLOCKING);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);  /* proven: fine */
    copy_to_host(b, MAIN, STREAM2, PINNED2, 0); /* not proven */
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
    ck_assert_uint_eq(first_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT)->handle, PINNED2);
}
END_TEST

START_TEST(stream_wait_event_orders_streams)
{
    /* S1: copy into P, record E. S2 waits for E, records E2. Seeing E2 proves P. */
    struct tb *b = copy_then_record();
    create_stream(b, STREAM2, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT2, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuStreamWaitEvent", STREAM2, EVENT, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT2, STREAM2, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT2, 0, OK);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(streams_without_wait_are_not_ordered)
{
    struct tb *b = copy_then_record();
    create_stream(b, STREAM2, NON_BLOCKING);
    tb_call(b, MAIN, "cuEventCreate", EVENT2, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", EVENT2, STREAM2, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT2, 0, OK);
    copy_to_host(b, MAIN, STREAM2, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
}
END_TEST

START_TEST(legacy_sync_covers_blocking_streams_only)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, 0);             /* blocking */
    create_stream(b, STREAM2, NON_BLOCKING); /* not ordered with the legacy stream */
    create_pinned(b, PINNED);
    create_pinned(b, PINNED2);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    copy_to_host(b, MAIN, STREAM2, PINNED2, 0);
    stream_sync(b, MAIN, 0, 0);                /* the legacy default stream */
    copy_to_host(b, MAIN, STREAM2, PINNED, 0); /* swapped: only the host's proof orders them */
    copy_to_host(b, MAIN, STREAM, PINNED2, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
    ck_assert_uint_eq(first_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT)->handle, PINNED2);
}
END_TEST

START_TEST(legacy_work_orders_after_blocking_streams)
{
    /* A blocking stream's copy, then an event recorded on the legacy stream:
     * seeing that event proves the copy. */
    struct tb *b = open_trace();
    create_stream(b, STREAM, 0);
    create_pinned(b, PINNED);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 0);
}
END_TEST

START_TEST(per_thread_default_streams)
{
    struct tb *b = open_trace();
    create_pinned(b, PINNED);
    create_pinned(b, PINNED2);
    copy_to_host(b, MAIN, 0, PINNED, CG_FLAG_PTSZ);
    copy_to_host(b, WATCHER, 0, PINNED2, CG_FLAG_PTSZ);
    stream_sync(b, MAIN, 0, CG_FLAG_PTSZ);             /* main's own default stream only */
    copy_to_host(b, WATCHER, 0, PINNED, CG_FLAG_PTSZ); /* swapped threads */
    copy_to_host(b, MAIN, 0, PINNED2, CG_FLAG_PTSZ);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT), 1);
    ck_assert_uint_eq(first_of_kind(a, FK_PINNED_REUSE_WHILE_INFLIGHT)->handle, PINNED2);
}
END_TEST

START_TEST(free_host_synchronizes_the_context)
{
    struct tb *b = copy_then_record();
    create_pinned(b, PINNED2);
    tb_call(b, MAIN, "cuMemFreeHost", PINNED2, 0, OK);
    copy_to_host(b, MAIN, STREAM, PINNED, 0);
    tb_call(b, MAIN, "cuCtxSynchronize", 0, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", PINNED, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

/* ---- stream-destroy-with-pending ---- */

START_TEST(stream_destroy_with_pending_raised)
{
    struct tb *b = copy_then_record();
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STREAM_DESTROY_WITH_PENDING), 1);
    const struct finding *f = first_of_kind(a, FK_STREAM_DESTROY_WITH_PENDING);
    ck_assert_uint_eq(f->handle, STREAM);
    assert_message_has(f, "cuMemcpyDtoHAsync_v2");
}
END_TEST

START_TEST(stream_destroy_after_event_seen_is_fine)
{
    struct tb *b = copy_then_record();
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK); /* the record covers all the work */
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STREAM_DESTROY_WITH_PENDING), 0);
}
END_TEST

/* ---- stall ---- */

static void write_stall(struct tb *b, uint64_t stream, uint64_t stuck_ns)
{
    tb_record(b, CG_REC_STALL, 999, "cuStreamSynchronize", stream, MAIN, stuck_ns, 0, 0, 0);
}

START_TEST(stall_record_raised_once_per_wait)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_record(b, CG_REC_CALL, MAIN, "cuLaunchHostFunc", STREAM, 0x4000, 0, OK, 0, 0);
    tb_enter(b, MAIN, "cuStreamSynchronize", STREAM, 0);
    b->now_ns += 2000000000ull;
    write_stall(b, STREAM, 2000000000ull);
    b->now_ns += 2000000000ull;
    write_stall(b, STREAM, 4000000000ull); /* the same wait, reported again */
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STALL), 1);
    const struct finding *f = first_of_kind(a, FK_STALL);
    ck_assert_uint_eq(f->tid, MAIN);
    ck_assert_str_eq(f->thread, "main");
    ck_assert_str_eq(f->api, "cuStreamSynchronize");
    assert_message_has(f, "stream 0x5000");
    ck_assert_uint_ge(a->ndiagnosis, 1);
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "\"main\" was stuck in cuStreamSynchronize"));
    ck_assert_ptr_nonnull(strstr(a->diagnosis[0], "host function"));
}
END_TEST

START_TEST(no_stall_without_record)
{
    struct tb *b = open_trace();
    create_stream(b, STREAM, NON_BLOCKING);
    tb_enter(b, MAIN, "cuStreamSynchronize", STREAM, 0);
    b->now_ns += 5000000000ull;
    tb_exit(b, MAIN, "cuStreamSynchronize", STREAM, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", STREAM, 0, OK);
    assert_clean(finish(b, 1));
}
END_TEST

/* ---- shared-event ---- */

START_TEST(shared_event_raised_as_info)
{
    struct tb *b = copy_then_record();
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventQuery", EVENT, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_SHARED_EVENT), 1);
    ck_assert_int_eq(finding_kind_severity(FK_SHARED_EVENT), SEV_INFO);
    assert_message_has(first_of_kind(a, FK_SHARED_EVENT), "\"watcher\"");
}
END_TEST

START_TEST(one_consumer_is_not_shared)
{
    struct tb *b = copy_then_record();
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_SHARED_EVENT), 0);
}
END_TEST

/* ---- the JSON carries the diagnosis ---- */

START_TEST(json_has_diagnosis_key)
{
    struct tb *b = copy_then_record();
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    tb_thread_exit(b, WATCHER);
    const struct analysis *a = finish(b, 1);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    report_write_json(out, a);
    fclose(out);
    ck_assert_ptr_nonnull(strstr(text, "\"diagnosis\": ["));
    ck_assert_ptr_nonnull(strstr(text, "\"kind\": \"poller-exited\""));
    free(text);
}
END_TEST

static Suite *hb_suite(void)
{
    Suite *s = suite_create("hb");
    TCase *t = tcase_create("findings");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, destroy_while_waited_raised);
    tcase_add_test(t, destroy_after_stream_sync_is_fine);
    tcase_add_test(t, destroy_after_poller_saw_it_is_fine);
    tcase_add_test(t, record_while_polled_raised);
    tcase_add_test(t, rerecord_after_poller_saw_completion_is_fine);
    tcase_add_test(t, rerecord_after_any_thread_saw_completion_is_fine);
    tcase_add_test(t, poller_exited_raised);
    tcase_add_test(t, poller_exit_after_completion_is_fine);
    tcase_add_test(t, poller_exit_judged_at_the_exit);
    tcase_add_test(t, poller_exit_after_another_thread_saw_it_is_fine);
    tcase_add_test(t, cubie_poller_gave_up_then_main_synchronized);
    tcase_add_test(t, never_completed_raised);
    tcase_add_test(t, stream_poller_that_gives_up_is_never_completed);
    tcase_add_test(t, stream_poller_that_sees_idle_is_not_never_completed);
    tcase_add_test(t, chained_waits_over_thousands_of_streams_stay_bounded);
    tcase_add_test(t, wait_that_saw_completion_is_not_never_completed);
    tcase_add_test(t, watcher_error_without_hang_is_no_hang);
    tcase_add_test(t, foreign_handle_diagnosis);
    tcase_add_test(t, hang_on_host_function_names_it);
    tcase_add_test(t, cross_task_use_raised);
    tcase_add_test(t, objects_from_outside_any_task_are_fine);
    tcase_add_test(t, pending_at_task_end_raised);
    tcase_add_test(t, task_ending_with_sync_is_fine);
    tcase_add_test(t, thread_tasks_are_not_sequential);
    tcase_add_test(t, pinned_reuse_raised);
    tcase_add_test(t, pinned_reuse_after_stream_sync_is_fine);
    tcase_add_test(t, pinned_reuse_after_other_thread_saw_event_is_fine);
    tcase_add_test(t, two_uploads_from_one_buffer_are_fine);
    tcase_add_test(t, long_chain_of_waits_proves_its_first_stream);
    tcase_add_test(t, long_chain_broken_once_proves_nothing);
    tcase_add_test(t, callback_that_ran_proves_earlier_work);
    tcase_add_test(t, callback_not_seen_running_proves_nothing);
    tcase_add_test(t, same_stream_upload_then_download_is_fine);
    tcase_add_test(t, two_stream_upload_then_download_raised);
    tcase_add_test(t, stream_wait_orders_copies_without_host_proof);
    tcase_add_test(t, same_stream_download_twice_without_host_proof_raised);
    tcase_add_test(t, legacy_stream_orders_copies_of_blocking_streams);
    tcase_add_test(t, snapshot_is_taken_at_the_record);
    tcase_add_test(t, stream_wait_event_orders_streams);
    tcase_add_test(t, streams_without_wait_are_not_ordered);
    tcase_add_test(t, legacy_sync_covers_blocking_streams_only);
    tcase_add_test(t, legacy_work_orders_after_blocking_streams);
    tcase_add_test(t, per_thread_default_streams);
    tcase_add_test(t, free_host_synchronizes_the_context);
    tcase_add_test(t, stream_destroy_with_pending_raised);
    tcase_add_test(t, stream_destroy_after_event_seen_is_fine);
    tcase_add_test(t, stall_record_raised_once_per_wait);
    tcase_add_test(t, no_stall_without_record);
    tcase_add_test(t, shared_event_raised_as_info);
    tcase_add_test(t, one_consumer_is_not_shared);
    tcase_add_test(t, json_has_diagnosis_key);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(hb_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

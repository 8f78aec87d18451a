/*
 * tests/unit/test_analysis_replay.c — the replay behind `cuguard report`.
 *
 * What it is for: each lifecycle finding raised by a minimal synthetic trace
 * that contains the bug, and not raised by its correct twin; the summary
 * counts (created, destroyed, leaked, peaks, calls) of known scenarios;
 * handle generations; tasks and threads named in findings; blocked-at-exit
 * for traces that end inside a call; several processes merged.
 *
 * What it must never do: depend on the shim or a CUDA driver (every trace is
 * written by tests/unit/trace_builder.c), or share files between tests.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analysis/analyze.h"
#include "tests/unit/analysis_testlib.h"
#include "tests/unit/trace_builder.h"
#include "tests/unit/tracer_testlib.h"

#define OK 0
#define NOT_READY 600
#define INVALID_HANDLE 400
#define OUT_OF_MEMORY 2
#define MAIN 100
#define WATCHER 101
#define MIB (1024ull * 1024ull)

static char *dir;
static char path[4096];

static void setup(void)
{
    dir = testlib_tmpdir();
    ck_assert_ptr_nonnull(dir);
    snprintf(path, sizeof path, "%s/host-1000-1.cgt", dir);
}

static void teardown(void)
{
    testlib_rmtree(dir);
    free(dir);
}

static struct tb *open_trace(void)
{
    struct tb *b = tb_open(path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    return b;
}

/* Replay every trace in the test directory. */
static void analyze(struct analysis *a)
{
    analyze_dir(a, dir);
}

static uint64_t calls_of(const struct analysis *a, const char *name)
{
    const struct call_count *c = NULL;
    HASH_FIND_STR(a->calls, name, c);
    return c ? c->count : 0;
}

/* A correct use of every modelled object: create, record, poll, destroy. */
static void write_clean_cycle(struct tb *b, uint64_t ev, uint64_t st, uint64_t buf)
{
    tb_call(b, MAIN, "cuStreamCreate", st, 1, OK);
    tb_call(b, MAIN, "cuEventCreate", ev, 0, OK);
    tb_call(b, MAIN, "cuMemHostAlloc", buf, MIB, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyDtoHAsync_v2", st, buf, MIB, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", ev, st, OK);
    tb_spin(b, MAIN, "cuEventQuery", ev, 50, 50000);
    tb_call(b, MAIN, "cuEventQuery", ev, 0, OK);
    tb_enter(b, MAIN, "cuStreamSynchronize", st, 0);
    tb_exit(b, MAIN, "cuStreamSynchronize", st, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", ev, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", st, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", buf, 0, OK);
}

/* ---- the correct program reports nothing ---- */

START_TEST(correct_program_has_no_findings)
{
    struct tb *b = open_trace();
    for (int i = 0; i < 3; i++)
        write_clean_cycle(b, 0xe000, 0x5000, 0x7f0000000000ull);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.findings.size, 0);
    ck_assert_uint_eq(a.nprocs, 1);
    ck_assert_int_eq(a.procs[0].complete, 1);
    ck_assert_uint_eq(a.totals.events.created, 3);
    ck_assert_uint_eq(a.totals.events.destroyed, 3);
    ck_assert_uint_eq(a.totals.events.peak_live, 1);
    ck_assert_uint_eq(a.totals.leaked_events, 0);
    ck_assert_uint_eq(a.totals.pinned.peak_bytes, MIB);
    analysis_free(&a);
}
END_TEST

/* ---- leaks ---- */

START_TEST(leaks_are_counted_and_name_creator)
{
    struct tb *b = open_trace();
    tb_task(b, MAIN, "test_leaky", 0);
    for (uint64_t i = 0; i < 37; i++)
        tb_call_at(b, MAIN, "cuEventCreate", 0xe000 + 16 * i, 0, OK, "leaky.c:20");
    for (uint64_t i = 0; i < 30; i++)
        tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000 + 16 * i, 0, OK);
    for (uint64_t i = 0; i < 5; i++)
        tb_call_at(b, MAIN, "cuMemAllocHost_v2", 0x10000000 + i * MIB, MIB, OK, "leaky.c:30");
    for (uint64_t i = 0; i < 3; i++)
        tb_call(b, MAIN, "cuMemFreeHost", 0x10000000 + i * MIB, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.totals.events.created, 37);
    ck_assert_uint_eq(a.totals.events.destroyed, 30);
    ck_assert_uint_eq(a.totals.leaked_events, 7);
    ck_assert_uint_eq(a.totals.events.peak_live, 37);
    ck_assert_uint_eq(a.totals.leaked_pinned, 2);
    ck_assert_uint_eq(a.totals.leaked_pinned_bytes, 2 * MIB);
    ck_assert_uint_eq(a.totals.pinned.peak_bytes, 5 * MIB);
    /* grouped: one finding per kind (same site and task) with the count */
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    const struct finding *f = first_of_kind(&a, FK_LEAK_EVENT);
    ck_assert_uint_eq(f->count, 7);
    ck_assert_str_eq(f->task, "test_leaky");
    ck_assert_str_eq(f->thread, "main");
    ck_assert_str_eq(f->site, "leaky.c:20");
    ck_assert_str_eq(f->api, "cuEventCreate");
    f = first_of_kind(&a, FK_LEAK_PINNED);
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(f->count, 2);
    ck_assert_uint_eq(f->bytes, 2 * MIB);
    ck_assert_uint_eq(a.findings.size, 2);
    ck_assert_uint_eq(calls_of(&a, "cuEventCreate"), 37);
    ck_assert_uint_eq(calls_of(&a, "cuMemAllocHost_v2"), 5);
    analysis_free(&a);
}
END_TEST

/* One finding per cause (analysis/group/group.h): the same site leaking in two
 * tasks is one finding that counts both tasks and keeps each as a part. */
START_TEST(leaks_group_by_site_across_tasks)
{
    struct tb *b = open_trace();
    tb_task(b, MAIN, "test_a", 0);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe010, 0, OK);
    tb_task(b, MAIN, "test_b", 0);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe020, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    const struct finding *ev = first_of_kind(&a, FK_LEAK_EVENT);
    ck_assert_uint_eq(ev->count, 3);
    ck_assert_uint_eq(ev->ntasks, 2);
    ck_assert_uint_eq(ev->nparts, 2);
    ck_assert_str_eq(ev->parts[0].task, "test_a");
    ck_assert_uint_eq(ev->parts[0].count, 2);
    ck_assert_str_eq(ev->parts[1].task, "test_b");
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_STREAM), 1);
    ck_assert_str_eq(first_of_kind(&a, FK_LEAK_STREAM)->task, "test_b");
    ck_assert_uint_eq(a.totals.leaked_streams, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(failed_destroy_still_leaks_and_failed_create_makes_nothing)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0, 0, OUT_OF_MEMORY);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, 999);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.totals.events.created, 1);
    ck_assert_uint_eq(a.totals.leaked_events, 1);
    ck_assert_uint_eq(findings_of_kind(&a, FK_API_ERROR), 2);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    analysis_free(&a);
}
END_TEST

START_TEST(killed_process_still_reports_leaks)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    ck_assert_int_eq(tb_close(b), 0); /* no PROCESS_EXIT: killed */

    struct analysis a;
    analyze(&a);
    ck_assert_int_eq(a.procs[0].complete, 0);
    const struct finding *f = first_of_kind(&a, FK_LEAK_EVENT);
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(strstr(f->message, "did not exit cleanly"));
    ck_assert_uint_eq(findings_of_kind(&a, FK_BLOCKED_AT_EXIT), 0);
    analysis_free(&a);
}
END_TEST

START_TEST(registrations_are_pinned_ranges)
{
    struct tb *b = open_trace();
    tb_record(b, CG_REC_CALL, MAIN, "cuMemHostRegister_v2", 0x20000000, 4096, 0, OK, 0, 0);
    tb_record(b, CG_REC_CALL, MAIN, "cuMemHostRegister_v2", 0x30000000, 8192, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuMemHostUnregister", 0x20000000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.totals.pinned.registrations, 2);
    ck_assert_uint_eq(a.totals.pinned.unregistered, 1);
    ck_assert_uint_eq(a.totals.leaked_pinned, 1);
    ck_assert_uint_eq(a.totals.leaked_pinned_bytes, 8192);
    ck_assert_ptr_nonnull(strstr(first_of_kind(&a, FK_LEAK_PINNED)->message, "unregistered"));
    analysis_free(&a);
}
END_TEST

/* ---- handle misuse ---- */

START_TEST(foreign_handle_is_unknown_not_api_error)
{
    struct tb *b = open_trace();
    tb_thread_start(b, WATCHER, "watcher");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call_at(b, WATCHER, "cuEventQuery", 0x7ffd1234, 0, INVALID_HANDLE, "watch.py:10");
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_UNKNOWN_HANDLE), 1);
    ck_assert_uint_eq(findings_of_kind(&a, FK_API_ERROR), 0);
    const struct finding *f = first_of_kind(&a, FK_UNKNOWN_HANDLE);
    ck_assert_str_eq(f->thread, "watcher");
    ck_assert_uint_eq(f->tid, WATCHER);
    ck_assert_str_eq(f->api, "cuEventQuery");
    ck_assert_uint_eq(f->handle, 0x7ffd1234);
    ck_assert_str_eq(f->site, "watch.py:10");
    ck_assert_uint_eq(a.findings.size, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(use_after_destroy_names_the_destroyer)
{
    struct tb *b = open_trace();
    tb_thread_start(b, WATCHER, "watcher");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", 0xe000, 0, INVALID_HANDLE);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_USE_AFTER_DESTROY), 1);
    ck_assert_uint_eq(findings_of_kind(&a, FK_API_ERROR), 0);
    const struct finding *f = first_of_kind(&a, FK_USE_AFTER_DESTROY);
    ck_assert_int_eq(f->destroyed.present, 1);
    ck_assert_str_eq(f->destroyed.thread, "main");
    ck_assert_str_eq(f->destroyed.api, "cuEventDestroy_v2");
    ck_assert_int_eq(f->created.present, 1);
    ck_assert_str_eq(f->thread, "watcher");
    analysis_free(&a);
}
END_TEST

START_TEST(double_destroy)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, INVALID_HANDLE);
    tb_call(b, MAIN, "cuMemAllocHost_v2", 0x10000000, 64, OK);
    tb_call(b, MAIN, "cuMemFreeHost", 0x10000000, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", 0x10000000, 0, 1);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_DOUBLE_DESTROY), 2);
    ck_assert_uint_eq(findings_of_kind(&a, FK_API_ERROR), 0);
    ck_assert_uint_eq(a.totals.streams.destroyed, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(reused_handle_value_is_a_new_generation)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventSynchronize", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_record(b, CG_REC_STREAM_ID, MAIN, NULL, 0x5000, 7, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_record(b, CG_REC_STREAM_ID, MAIN, NULL, 0x5000, 8, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuStreamSynchronize", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.findings.size, 0);
    ck_assert_uint_eq(a.totals.events.created, 2);
    ck_assert_uint_eq(a.totals.events.destroyed, 2);
    ck_assert_uint_eq(a.totals.streams.created, 2);
    analysis_free(&a);
}
END_TEST

/* ---- context teardown ---- */

#define CTX1 0xc100u
#define CTX2 0xc200u

/* A create by tid, then (as the shim writes it) its thread's CONTEXT. */
static void create_in(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t ctx)
{
    tb_call(b, tid, api, handle, 0, OK);
    if (ctx)
        tb_record(b, CG_REC_CONTEXT, tid, api, ctx, 1, 0, 0, 0, 0);
}

START_TEST(context_destroy_ends_its_objects_as_leaks)
{
    struct tb *b = open_trace();
    create_in(b, MAIN, "cuEventCreate", 0xe000, CTX1);
    create_in(b, MAIN, "cuStreamCreate", 0x5000, 0);
    create_in(b, MAIN, "cuEventCreate", 0xe100, 0);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe100, 0, OK);
    tb_call(b, MAIN, "cuCtxDestroy_v2", CTX1, 0, OK);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK); /* the value again: a new stream */
    tb_record(b, CG_REC_CONTEXT, MAIN, "cuStreamCreate", CTX2, 1, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.totals.leaked_events, 1);
    ck_assert_uint_eq(a.totals.leaked_streams, 1);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_LEAK_EVENT), 1);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_LEAK_STREAM), 1);
    ck_assert_ptr_nonnull(strstr(first_of_kind(&a, FK_LEAK_STREAM)->message, "cuCtxDestroy_v2"));
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_USE_AFTER_DESTROY), 0);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_DOUBLE_DESTROY), 0);
    analysis_free(&a);
}
END_TEST

START_TEST(context_destroy_after_cleanup_is_fine)
{
    struct tb *b = open_trace();
    create_in(b, MAIN, "cuStreamCreate", 0x5000, CTX1);
    create_in(b, WATCHER, "cuEventCreate", 0xe000, CTX2); /* another context */
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuCtxDestroy_v2", CTX1, 0, OK);
    tb_call(b, WATCHER, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.findings.size, 0);
    analysis_free(&a);
}
END_TEST

START_TEST(primary_reset_ends_that_device_only)
{
    struct tb *b = open_trace();
    create_in(b, MAIN, "cuStreamCreate", 0x5000, CTX1); /* device 0's primary context */
    tb_call(b, MAIN, "cuCtxCreate_v2", CTX2, 0, OK);    /* made, not primary */
    tb_call(b, MAIN, "cuStreamCreate", 0x5100, 0, OK);
    tb_record(b, CG_REC_CONTEXT, MAIN, "cuStreamCreate", CTX2, 1, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuDevicePrimaryCtxReset_v2", 0, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5100, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_LEAK_STREAM), 1);
    ck_assert_uint_eq(first_of_kind(&a, FK_LEAK_STREAM)->handle, 0x5000);
    ck_assert_uint_eq(a.findings.size, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(create_of_a_live_value_leaks_the_old_object)
{
    /* numba's external-stream test: the stream is never destroyed, and its
     * value comes back after a reset the trace does not show. */
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_LEAK_STREAM), 1);
    ck_assert_uint_eq(a.totals.leaked_streams, 1);
    ck_assert_ptr_nonnull(strstr(first_of_kind(&a, FK_LEAK_STREAM)->message, "same value"));
    analysis_free(&a);
}
END_TEST

START_TEST(old_trace_teardown_of_only_context_ends_objects)
{
    /* No CONTEXT records: a teardown of the process's only context. */
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuDevicePrimaryCtxReset_v2", 0, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(occurrences_of_kind(&a, FK_LEAK_EVENT), 1);
    ck_assert_ptr_nonnull(
        strstr(first_of_kind(&a, FK_LEAK_EVENT)->message, "cuDevicePrimaryCtxReset"));
    ck_assert_uint_eq(a.findings.size, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(stream_id_change_means_missed_destroy)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_record(b, CG_REC_STREAM_ID, MAIN, NULL, 0x5000, 7, 0, 0, 0, 0);
    tb_record(b, CG_REC_STREAM_ID, MAIN, NULL, 0x5000, 9, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.totals.streams.created, 2);
    ck_assert_uint_eq(a.totals.leaked_streams, 0);
    ck_assert_uint_eq(a.findings.size, 0);
    analysis_free(&a);
}
END_TEST

START_TEST(builtin_streams_are_never_unknown)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuEventRecord_ptsz", 0xe000, 0, 0, OK, 0, CG_FLAG_PTSZ);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 1, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 2, OK);
    tb_call(b, MAIN, "cuStreamSynchronize", 0, 0, OK);
    tb_call(b, MAIN, "cuLaunchKernel", 0, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.findings.size, 0);
    analysis_free(&a);
}
END_TEST

START_TEST(query_before_record)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, OK); /* the same generation: reported once */
    tb_call(b, MAIN, "cuEventCreate", 0xe010, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuStreamWaitEvent", 0x5000, 0xe010, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventCreate", 0xe020, 0, OK); /* only destroyed: fine */
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe020, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe010, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_QUERY_BEFORE_RECORD), 2);
    uint64_t total = 0;
    for (const struct finding *f = a.findings.table; f; f = f->hh.next)
        if (f->kind == FK_QUERY_BEFORE_RECORD)
            total += f->count;
    ck_assert_uint_eq(total, 2);
    ck_assert_uint_eq(a.findings.size, 2);
    analysis_free(&a);
}
END_TEST

START_TEST(recorded_event_query_is_fine)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, NOT_READY);
    tb_enter(b, MAIN, "cuEventSynchronize", 0xe000, 0);
    tb_exit(b, MAIN, "cuEventSynchronize", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.findings.size, 0);
    analysis_free(&a);
}
END_TEST

START_TEST(api_errors_exclude_not_ready)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, NOT_READY);
    tb_call(b, MAIN, "cuEventElapsedTime_v2", 0xe000, 0xe000, 1);
    tb_call(b, MAIN, "cuEventElapsedTime_v2", 0xe000, 0xe000, 1);
    tb_call(b, MAIN, "cuCtxSynchronize", 0, 0, 700);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_API_ERROR), 2); /* grouped per API */
    uint64_t total = 0;
    for (const struct finding *f = a.findings.table; f; f = f->hh.next)
        total += f->count;
    ck_assert_uint_eq(total, 3);
    ck_assert_uint_eq(a.findings.size, 2);
    analysis_free(&a);
}
END_TEST

/* ---- blocked at exit ---- */

START_TEST(killed_inside_synchronize_is_blocked_at_exit)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_enter(b, MAIN, "cuEventSynchronize", 0xe000, 0);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_int_eq(a.procs[0].complete, 0);
    ck_assert_uint_eq(findings_of_kind(&a, FK_BLOCKED_AT_EXIT), 1);
    const struct finding *f = first_of_kind(&a, FK_BLOCKED_AT_EXIT);
    ck_assert_str_eq(f->thread, "main");
    ck_assert_str_eq(f->api, "cuEventSynchronize");
    ck_assert_uint_eq(f->handle, 0xe000);
    ck_assert_uint_eq(calls_of(&a, "cuEventSynchronize"), 1);
    analysis_free(&a);
}
END_TEST

START_TEST(clean_exit_while_another_thread_waits_is_not_blocked)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_enter(b, WATCHER, "cuEventSynchronize", 0xe000, 0);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_BLOCKED_AT_EXIT), 0);
    analysis_free(&a);
}
END_TEST

START_TEST(spinning_at_the_end_is_blocked_at_exit)
{
    struct tb *b = open_trace();
    tb_thread_start(b, WATCHER, "watcher");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_spin(b, WATCHER, "cuEventQuery", 0xe000, 1000, 1000000);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_BLOCKED_AT_EXIT), 1);
    const struct finding *f = first_of_kind(&a, FK_BLOCKED_AT_EXIT);
    ck_assert_str_eq(f->thread, "watcher");
    ck_assert_uint_eq(f->handle, 0xe000);
    ck_assert_uint_eq(calls_of(&a, "cuEventQuery"), 1000);
    analysis_free(&a);
}
END_TEST

START_TEST(finished_spin_is_not_blocked)
{
    struct tb *b = open_trace();
    tb_thread_start(b, WATCHER, "watcher");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_spin(b, WATCHER, "cuEventQuery", 0xe000, 1000, 1000000);
    tb_call(b, MAIN, "cuEventSynchronize", 0xe000, 0, OK); /* someone saw it complete */
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_BLOCKED_AT_EXIT), 0);
    ck_assert_uint_eq(calls_of(&a, "cuEventQuery"), 1000);
    analysis_free(&a);
}
END_TEST

/* ---- tasks, threads, several processes ---- */

START_TEST(thread_scoped_task_applies_to_its_thread_only)
{
    struct tb *b = open_trace();
    tb_thread_start(b, WATCHER, "watcher");
    tb_task(b, MAIN, "proc_task", 0);
    tb_task(b, WATCHER, "watch_task", 1);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, WATCHER, "cuEventCreate", 0xe010, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1); /* one site */
    const struct finding *f = first_of_kind(&a, FK_LEAK_EVENT);
    ck_assert_uint_eq(f->nparts, 2);
    int saw_proc = 0, saw_watch = 0;
    for (size_t i = 0; i < f->nparts; i++) {
        saw_proc += f->parts[i].task && !strcmp(f->parts[i].task, "proc_task");
        saw_watch += f->parts[i].task && !strcmp(f->parts[i].task, "watch_task");
    }
    ck_assert_int_eq(saw_proc, 1);
    ck_assert_int_eq(saw_watch, 1);
    analysis_free(&a);
}
END_TEST

START_TEST(processes_are_merged)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe010, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    char second[4096];
    snprintf(second, sizeof second, "%s/host-2000-1.cgt", dir);
    b = tb_open(second, 2000, "./worker");
    ck_assert_ptr_nonnull(b);
    tb_call(b, 200, "cuEventCreate", 0xe000, 0, OK);
    b->now_ns += 1000000; /* destroyed after the first process created both */
    tb_call(b, 200, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, 200);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.nprocs, 2);
    ck_assert_uint_eq(a.totals.events.created, 3);
    ck_assert_uint_eq(a.totals.leaked_events, 2);
    ck_assert_uint_eq(a.totals.events.peak_live, 3); /* overlapping in time */
    ck_assert_uint_eq(calls_of(&a, "cuEventCreate"), 3);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    ck_assert_uint_eq(first_of_kind(&a, FK_LEAK_EVENT)->pid, 1000);
    analysis_free(&a);
}
END_TEST

/* A STRING record's ts_ns holds string bytes (a name longer than 24 bytes
 * reaches it), not a time: the merge must not take it for one, or each
 * process would be replayed after the other and the peak would be 2. */
START_TEST(processes_are_merged_past_long_strings)
{
    static const char task[] = "tests/test_peaks.py::test_objects_of_two_processes_overlap";
    struct tb *b = open_trace();
    tb_task(b, MAIN, task, 0);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe010, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    char second[4096];
    snprintf(second, sizeof second, "%s/host-2000-1.cgt", dir);
    b = tb_open(second, 2000, "./worker");
    ck_assert_ptr_nonnull(b);
    tb_task(b, 200, task, 0);
    tb_call(b, 200, "cuEventCreate", 0xe000, 0, OK);
    b->now_ns += 1000000;
    tb_call(b, 200, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, 200);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.nprocs, 2);
    ck_assert_uint_eq(a.totals.events.peak_live, 3);
    analysis_free(&a);
    /* Each process on its own thread (report -j): the same peak and leaks. */
    char *paths[1] = {dir};
    FILE *warn = tmpfile();
    ck_assert_ptr_nonnull(warn);
    ck_assert_int_eq(analyze_paths_jobs(&a, paths, 1, "test", warn, 2), 0);
    fclose(warn);
    ck_assert_uint_eq(a.nprocs, 2);
    ck_assert_uint_eq(a.totals.events.peak_live, 3);
    ck_assert_uint_eq(a.totals.events.created, 3);
    ck_assert_uint_eq(a.totals.leaked_events, 2);
    ck_assert_uint_eq(first_of_kind(&a, FK_LEAK_EVENT)->pid, 1000);
    analysis_free(&a);
}
END_TEST

START_TEST(enter_exit_counted_once_and_variants_by_header_name)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    /* The copy is synchronized before the destroy: a correct program. */
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyHtoDAsync_v2", 0x5000, 0x1000, 64, OK | 0, 0,
              CG_FLAG_VIA_RUNTIME);
    for (int i = 0; i < 4; i++) {
        tb_enter(b, MAIN, "cuStreamSynchronize_ptsz", 0x5000, 0);
        tb_exit(b, MAIN, "cuStreamSynchronize_ptsz", 0x5000, 0, OK);
    }
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);

    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(calls_of(&a, "cuStreamSynchronize_ptsz"), 4);
    ck_assert_uint_eq(calls_of(&a, "cuMemcpyHtoDAsync_v2"), 1);
    ck_assert_uint_eq(calls_of(&a, "cuStreamDestroy_v2"), 1);
    ck_assert_uint_eq(a.findings.size, 0);
    analysis_free(&a);
}
END_TEST

/* ---- hooks see both ends of every record ---- */

struct resolution_counts {
    int observed, by_sync, rerecorded, destroyed, ended, args_seen;
};

static void count_resolution(void *user, struct replay_process *p, struct replay_object *ev,
                             enum record_resolution how, const struct replay_step *s, uint64_t ts)
{
    (void)p;
    (void)ev;
    (void)s;
    (void)ts;
    struct resolution_counts *c = user;
    c->observed += how == RESOLVED_OBSERVED;
    c->by_sync += how == RESOLVED_BY_SYNC;
    c->rerecorded += how == UNRESOLVED_RERECORDED;
    c->destroyed += how == UNRESOLVED_DESTROYED;
    c->ended += how == UNRESOLVED_END;
}

static void count_args(void *user, struct replay_process *p, const struct replay_step *s)
{
    (void)p;
    struct resolution_counts *c = user;
    if (s->args && s->args->handle == 4096 && s->op == OP_STREAM_WORK)
        c->args_seen++;
}

START_TEST(record_resolutions_reach_hooks)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, OK); /* observed */
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK);
    tb_call(b, MAIN, "cuStreamSynchronize", 0x5000, 0, OK); /* by sync */
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK); /* rerecorded */
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);  /* destroyed */
    tb_call(b, MAIN, "cuEventCreate", 0xe010, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe010, 0, OK); /* ended */
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyAsync", 0x5000, 0x1000, 0x2000, OK, 0, 0);
    tb_record(b, CG_REC_ARGS, MAIN, NULL, 4096, 0, 0, 0, 0, 0);
    ck_assert_int_eq(tb_close(b), 0);

    struct resolution_counts c = {0};
    const struct replay_hooks hooks = {
        .user = &c, .record_resolved = count_resolution, .step = count_args};
    const struct replay_hooks *list[1] = {&hooks};
    struct analysis a;
    char *paths[1] = {dir};
    FILE *warn = tmpfile();
    ck_assert_int_eq(analyze_paths(&a, paths, 1, "test", warn, list, 1), 0);
    fclose(warn);
    ck_assert_int_eq(c.observed, 1);
    ck_assert_int_eq(c.by_sync, 1);
    ck_assert_int_eq(c.rerecorded, 1);
    ck_assert_int_eq(c.destroyed, 1);
    ck_assert_int_eq(c.ended, 1);
    ck_assert_int_eq(c.args_seen, 1);
    analysis_free(&a);
}
END_TEST

/* ---- bad input ---- */

START_TEST(bad_files_warn_and_good_ones_count)
{
    struct tb *b = open_trace();
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    char bad[4096];
    snprintf(bad, sizeof bad, "%s/junk.cgt", dir);
    ck_assert_int_eq(testlib_write_file(bad, "not a trace at all", 18), 0);
    snprintf(bad, sizeof bad, "%s/empty.cgt", dir);
    ck_assert_int_eq(testlib_write_file(bad, "", 0), 0);

    struct analysis a;
    char *paths[2] = {dir, "/nonexistent/cuguard"};
    FILE *warn = tmpfile();
    ck_assert_int_eq(analyze_paths(&a, paths, 2, "test", warn, NULL, 0), 0);
    ck_assert_uint_eq(a.nprocs, 1);
    ck_assert_uint_eq(a.unusable_files, 2);
    rewind(warn);
    char line[512];
    int lines = 0;
    while (fgets(line, sizeof line, warn))
        lines++;
    ck_assert_int_eq(lines, 3);
    fclose(warn);
    analysis_free(&a);
}
END_TEST

START_TEST(nothing_readable_is_an_error)
{
    struct analysis a;
    char *paths[1] = {dir}; /* empty directory */
    FILE *warn = tmpfile();
    ck_assert_int_eq(analyze_paths(&a, paths, 1, "test", warn, NULL, 0), 2);
    fclose(warn);
    analysis_free(&a);
}
END_TEST

START_TEST(garbage_records_do_not_crash)
{
    struct tb *b = open_trace();
    srand(7);
    const char *apis[] = {"cuEventCreate",        "cuEventDestroy_v2",
                          "cuEventQuery",         "cuEventSynchronize",
                          "cuStreamCreate",       "cuStreamWaitEvent",
                          "cuMemHostRegister_v2", "cuMemFreeHost",
                          "cuCtxSynchronize",     NULL};
    for (int i = 0; i < 20000; i++) {
        uint8_t kind = (uint8_t)(1 + rand() % CG_REC_KIND_MAX);
        if (kind == CG_REC_STRING)
            continue;
        tb_record(b, kind, (uint32_t)(rand() % 4), apis[rand() % 10], (uint64_t)(rand() % 8),
                  (uint64_t)(rand() % 8), (uint64_t)rand(), rand() % 3 ? 0 : 400,
                  (uint32_t)(rand() % 4), (uint8_t)rand());
    }
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.nprocs, 1);
    ck_assert_uint_le(a.totals.events.destroyed, a.totals.events.created);
    analysis_free(&a);
}
END_TEST

/* ---- what a drain had left: followed only where isolate could drain ---- */

/* A stream with a launch not proven complete at a task change, drained
 * there; the header's `policies` is `policies`. Returns the drain's note. */
static char *drain_note(uint32_t policies)
{
    struct tb *b = open_trace();
    b->hdr.policies = policies;
    tb_task(b, MAIN, "tests/test_a.py::test_one", 0);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 1, OK);
    tb_call(b, MAIN, "cuLaunchKernel", 0x5000, 0x4000, OK);
    tb_task(b, MAIN, "tests/test_a.py::test_two", 0);
    tb_record(b, CG_REC_POLICY, MAIN, "cuLaunchKernel", 0x5000, CG_POLICY_DRAINED_STREAM, 2000000,
              OK, 0, 0);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze(&a);
    ck_assert_uint_eq(a.interventions.drained_streams, 1);
    ck_assert_uint_eq(a.interventions.nnotes, 1);
    char *note = strdup(a.interventions.notes[0]);
    ck_assert_ptr_nonnull(note);
    analysis_free(&a);
    testlib_rmtree(dir); /* the next call starts from an empty directory */
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    return note;
}

START_TEST(drains_say_what_was_left_where_isolate_was_on_or_unsaid)
{
    const char *left = "1 call(s) not proven complete: cuLaunchKernel x1";
    char *isolate = drain_note(CG_HDR_POLICIES_KNOWN | CG_HDR_POLICY_ISOLATE);
    char *unsaid = drain_note(0); /* an older writer */
    ck_assert_msg(strstr(isolate, left), "isolate on: %s", isolate);
    ck_assert_msg(strstr(unsaid, left), "policies not said: %s", unsaid);
    /* A header that rules isolate out (no drain can then be real) is taken
     * at its word: what only a drain reports was not followed. */
    char *off = drain_note(CG_HDR_POLICIES_KNOWN | CG_HDR_POLICY_DESTROY);
    ck_assert_msg(strstr(off, "nothing the trace shows"), "isolate off: %s", off);
    free(isolate);
    free(unsaid);
    free(off);
}
END_TEST

static Suite *replay_suite(void)
{
    Suite *s = suite_create("analysis_replay");
    TCase *t = tcase_create("replay");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 30);
    tcase_add_test(t, correct_program_has_no_findings);
    tcase_add_test(t, leaks_are_counted_and_name_creator);
    tcase_add_test(t, leaks_group_by_site_across_tasks);
    tcase_add_test(t, failed_destroy_still_leaks_and_failed_create_makes_nothing);
    tcase_add_test(t, killed_process_still_reports_leaks);
    tcase_add_test(t, registrations_are_pinned_ranges);
    tcase_add_test(t, foreign_handle_is_unknown_not_api_error);
    tcase_add_test(t, use_after_destroy_names_the_destroyer);
    tcase_add_test(t, double_destroy);
    tcase_add_test(t, reused_handle_value_is_a_new_generation);
    tcase_add_test(t, stream_id_change_means_missed_destroy);
    tcase_add_test(t, context_destroy_ends_its_objects_as_leaks);
    tcase_add_test(t, context_destroy_after_cleanup_is_fine);
    tcase_add_test(t, primary_reset_ends_that_device_only);
    tcase_add_test(t, create_of_a_live_value_leaks_the_old_object);
    tcase_add_test(t, old_trace_teardown_of_only_context_ends_objects);
    tcase_add_test(t, builtin_streams_are_never_unknown);
    tcase_add_test(t, query_before_record);
    tcase_add_test(t, recorded_event_query_is_fine);
    tcase_add_test(t, api_errors_exclude_not_ready);
    tcase_add_test(t, killed_inside_synchronize_is_blocked_at_exit);
    tcase_add_test(t, clean_exit_while_another_thread_waits_is_not_blocked);
    tcase_add_test(t, spinning_at_the_end_is_blocked_at_exit);
    tcase_add_test(t, finished_spin_is_not_blocked);
    tcase_add_test(t, thread_scoped_task_applies_to_its_thread_only);
    tcase_add_test(t, processes_are_merged);
    tcase_add_test(t, processes_are_merged_past_long_strings);
    tcase_add_test(t, enter_exit_counted_once_and_variants_by_header_name);
    tcase_add_test(t, record_resolutions_reach_hooks);
    tcase_add_test(t, bad_files_warn_and_good_ones_count);
    tcase_add_test(t, nothing_readable_is_an_error);
    tcase_add_test(t, garbage_records_do_not_crash);
    tcase_add_test(t, drains_say_what_was_left_where_isolate_was_on_or_unsaid);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(replay_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

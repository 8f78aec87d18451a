/*
 * tests/unit/test_analysis_crash.c — crash records and orphaned stalls
 * (tracer/format.h CG_RESULT_CRASHED and CG_FLAG_ORPHANED) in the replay,
 * the happens-before model's diagnosis and the reports.
 *
 * What it is for: a process that died of a signal inside a driver call is
 * reported as crashed (not as an api-error), its bad handle still raises
 * unknown-handle or use-after-destroy, and the diagnosis leads with the
 * crash; a watchdog's orphaned stall becomes a stall finding whose chain
 * reads test, bad query, the watcher's exit, then the silence. Each case
 * has its twin without the crash or without the stall record.
 *
 * What it must never do: depend on the shim or a driver (traces come from
 * tests/unit/trace_builder.c), or share files between tests.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "analysis/output/report.h"
#include "tests/unit/analysis_testlib.h"
#include "tests/unit/trace_builder.h"
#include "tests/unit/tracer_testlib.h"

#define OK 0
#define NOT_READY 600
#define INVALID_HANDLE 400
#define MAIN 100
#define WATCHER 124
#define STREAM 0x5000u
#define PINNED 0x7f0000000000ull
#define BYTES 4096u
#define EVENT 0xe000u
#define FOREIGN 0x1234567ull
#define TEST_A "tests/test_solver.py::test_a"
#define TEST_B "tests/test_solver.py::test_b"
#define SECOND 1000000000ull

static struct scratch_trace scratch;

static void setup(void)
{
    scratch_setup(&scratch);
}

static void teardown(void)
{
    scratch_teardown(&scratch);
}

/* The seed scenario's program up to the watcher's first polls: in test A, main
 * copies into a pinned buffer, records EVENT and hands it to the watcher. */
static struct tb *solver_trace(void)
{
    struct tb *b = tb_open(scratch.path, 1000, "./solver");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    tb_thread_start(b, WATCHER, "watcher");
    tb_task(b, MAIN, TEST_A, 0);
    tb_call(b, MAIN, "cuStreamCreate", STREAM, 1, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuMemHostAlloc", PINNED, BYTES, 0, OK, 0, 0);
    tb_call(b, MAIN, "cuEventCreate", EVENT, 0, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyDtoHAsync_v2", STREAM, PINNED, BYTES, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", EVENT, STREAM, OK);
    tb_spin(b, WATCHER, "cuEventQuery", EVENT, 20, 20000);
    return b;
}

static const struct analysis *finish(struct tb *b, int clean)
{
    return scratch_finish(&scratch, b, clean ? MAIN : 0);
}

static void assert_has(const char *text, const char *part)
{
    ck_assert_msg(text && strstr(text, part), "\"%.300s\" lacks \"%s\"", text ? text : "(null)",
                  part);
}

/* Position of `part` in the diagnosis read as one text; aborts if absent. */
static size_t diagnosis_pos(const struct analysis *a, const char *part)
{
    size_t offset = 0;
    for (size_t i = 0; i < a->ndiagnosis; i++) {
        const char *at = strstr(a->diagnosis[i], part);
        if (at)
            return offset + (size_t)(at - a->diagnosis[i]);
        offset += strlen(a->diagnosis[i]) + 1;
    }
    ck_abort_msg("diagnosis lacks \"%s\"", part);
    return 0;
}

static char *report_of(const struct analysis *a, int json)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    if (json)
        report_write_json(out, a);
    else
        report_write_text(out, a, REPORT_FULL);
    fclose(out);
    return text;
}

/* ---- a crash inside a driver call ---- */

START_TEST(crash_on_foreign_handle)
{
    struct tb *b = solver_trace();
    tb_call(b, WATCHER, "cuEventQuery", FOREIGN, 0, CG_RESULT_CRASHED(SIGSEGV));
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_API_ERROR), 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_UNKNOWN_HANDLE), 1);
    const struct finding *f = first_of_kind(a, FK_UNKNOWN_HANDLE);
    ck_assert_uint_eq(f->tid, WATCHER);
    ck_assert_uint_eq(f->handle, FOREIGN);
    ck_assert_int_eq(a->nprocs, 1);
    ck_assert_int_eq(a->procs[0].complete, 0);
    ck_assert_int_eq(a->procs[0].crashed, 1);
    ck_assert_str_eq(a->procs[0].crash_signal, "SIGSEGV");
    ck_assert_str_eq(a->procs[0].crash_api, "cuEventQuery");
    ck_assert_uint_eq(a->procs[0].crash_tid, WATCHER);
    /* The diagnosis leads with the crash and says why. */
    ck_assert_uint_ge(a->ndiagnosis, 1);
    const char *lead = a->diagnosis[0];
    assert_has(lead, "the process crashed with SIGSEGV inside cuEventQuery(0x1234567)");
    assert_has(lead, "called by thread 124 \"watcher\" in test " TEST_A);
    assert_has(lead, "that handle was never returned by a create call");
    char *text = report_of(a, 0);
    assert_has(text, "crashed (SIGSEGV) inside cuEventQuery");
    free(text);
    char *json = report_of(a, 1);
    assert_has(json, "\"crashed\": {\"signal\":\"SIGSEGV\",\"api\":\"cuEventQuery\",\"tid\":124");
    free(json);
}
END_TEST

START_TEST(crash_on_destroyed_handle)
{
    struct tb *b = solver_trace();
    tb_call(b, MAIN, "cuEventSynchronize", EVENT, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", EVENT, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", EVENT, 0, CG_RESULT_CRASHED(SIGBUS));
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_API_ERROR), 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_USE_AFTER_DESTROY), 1);
    ck_assert_uint_eq(first_of_kind(a, FK_USE_AFTER_DESTROY)->tid, WATCHER);
    ck_assert_int_eq(a->procs[0].crashed, 1);
    ck_assert_str_eq(a->procs[0].crash_signal, "SIGBUS");
    ck_assert_uint_ge(a->ndiagnosis, 1);
    assert_has(a->diagnosis[0], "crashed with SIGBUS inside cuEventQuery(0xe000)");
    assert_has(a->diagnosis[0], "that handle had been destroyed by thread 100 \"main\"");
}
END_TEST

START_TEST(failed_call_without_crash_is_an_api_error)
{
    /* The twin: the same bad query returns an error; nothing crashed. */
    struct tb *b = solver_trace();
    tb_call(b, WATCHER, "cuEventQuery", FOREIGN, 0, INVALID_HANDLE);
    tb_call(b, MAIN, "cuEventSynchronize", EVENT, 0, OK);
    const struct analysis *a = finish(b, 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_UNKNOWN_HANDLE), 1);
    ck_assert_int_eq(a->procs[0].complete, 1);
    ck_assert_int_eq(a->procs[0].crashed, 0);
    for (size_t i = 0; i < a->ndiagnosis; i++)
        ck_assert_ptr_null(strstr(a->diagnosis[i], "crashed"));
    char *text = report_of(a, 0);
    ck_assert_ptr_null(strstr(text, "crashed ("));
    free(text);
    char *json = report_of(a, 1);
    assert_has(json, "\"crashed\": null");
    free(json);
}
END_TEST

/* ---- an orphaned wait: the watcher died, nobody will see the event complete ---- */

/* The seed scenario's root cause: the watcher's query of a foreign object fails,
 * the exception kills it, the next test waits for the stranded buffer. */
static struct tb *watcher_dies_on_foreign_query(void)
{
    struct tb *b = solver_trace();
    tb_call(b, WATCHER, "cuEventQuery", FOREIGN, 0, INVALID_HANDLE);
    tb_thread_exit(b, WATCHER);
    tb_task(b, MAIN, TEST_B, 0);
    b->now_ns += 30 * SECOND;
    return b;
}

START_TEST(orphaned_stall_chain)
{
    struct tb *b = watcher_dies_on_foreign_query();
    tb_record(b, CG_REC_STALL, 999, "cuEventQuery", EVENT, MAIN, 30 * SECOND, 0, 0,
              CG_FLAG_ORPHANED);
    b->now_ns += 30 * SECOND;
    tb_record(b, CG_REC_STALL, 999, "cuEventQuery", EVENT, MAIN, 60 * SECOND, 0, 0,
              CG_FLAG_ORPHANED); /* the same silence, told again */
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STALL), 1);
    const struct finding *f = first_of_kind(a, FK_STALL);
    ck_assert_uint_eq(f->handle, EVENT);
    assert_has(f->message, "no CUDA call for 30.000 s");
    assert_has(f->message, "event 0xe000, recorded by thread 100 \"main\" (task " TEST_A ")");
    assert_has(f->message, "polled only by thread 124 \"watcher\", which exited");
    assert_has(f->message, "without seeing it complete");
    ck_assert_uint_eq(occurrences_of_kind(a, FK_UNKNOWN_HANDLE), 1);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    /* The chain: the test, the bad query by the watcher, its exit, the silence. */
    size_t test = diagnosis_pos(a, "in test " TEST_A);
    size_t query = diagnosis_pos(a, "\"watcher\" got CUDA_ERROR_INVALID_HANDLE from cuEventQuery");
    size_t unknown = diagnosis_pos(a, "0x1234567 (a handle no create returned)");
    size_t exited = diagnosis_pos(a, "then exited");
    size_t silence = diagnosis_pos(a, "the process then made no CUDA call for 30.000 s");
    size_t waiting = diagnosis_pos(a, "test " TEST_B " was waiting for work nobody would ever see "
                                      "complete");
    ck_assert_uint_lt(test, query);
    ck_assert_uint_lt(query, unknown);
    ck_assert_uint_lt(unknown, exited);
    ck_assert_uint_lt(exited, silence);
    ck_assert_uint_lt(silence, waiting);
}
END_TEST

START_TEST(idle_process_without_orphaned_stall_has_no_stall)
{
    /* The twin: the same story, but the watchdog wrote no orphaned stall. */
    struct tb *b = watcher_dies_on_foreign_query();
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STALL), 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_POLLER_EXITED), 1);
    for (size_t i = 0; i < a->ndiagnosis; i++)
        ck_assert_ptr_null(strstr(a->diagnosis[i], "no CUDA call"));
}
END_TEST

START_TEST(stall_record_without_flag_for_idle_thread_is_ignored)
{
    /* A plain stall names a thread the trace shows idle: no stall. */
    struct tb *b = watcher_dies_on_foreign_query();
    tb_record(b, CG_REC_STALL, 999, "cuEventQuery", EVENT, MAIN, 30 * SECOND, 0, 0, 0);
    const struct analysis *a = finish(b, 0);
    ck_assert_uint_eq(occurrences_of_kind(a, FK_STALL), 0);
}
END_TEST

static Suite *crash_suite(void)
{
    Suite *s = suite_create("analysis_crash");
    TCase *t = tcase_create("crash_and_orphans");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, crash_on_foreign_handle);
    tcase_add_test(t, crash_on_destroyed_handle);
    tcase_add_test(t, failed_call_without_crash_is_an_api_error);
    tcase_add_test(t, orphaned_stall_chain);
    tcase_add_test(t, idle_process_without_orphaned_stall_has_no_stall);
    tcase_add_test(t, stall_record_without_flag_for_idle_thread_is_ignored);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *r = srunner_create(crash_suite());
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

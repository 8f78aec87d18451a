/*
 * tests/unit/test_stack.c — attribution: stack strings (tracer/format.h
 * "Stacks and modules") parsed, symbolized with libdw, the user's frame
 * chosen, fingerprints, and the grouping and residue stages on synthetic
 * traces.
 *
 * What it must never do: depend on the shim or a driver, or on line numbers
 * of this file other than those it computes itself (__LINE__).
 */
#include <check.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "analysis/output/report.h"
#include "analysis/stacks/stack.h"
#include "tests/unit/analysis_testlib.h"
#include "tests/unit/trace_builder.h"
#include "tests/unit/tracer_testlib.h"

#define MAIN 100

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

static struct stack build(const char *text, const struct trace_module *m, size_t n)
{
    struct symbolizer *sym = symbolizer_new();
    ck_assert_ptr_nonnull(sym);
    struct stack st;
    ck_assert_int_eq(stack_build(&st, text, m, n, sym), 0);
    symbolizer_free(sym);
    return st;
}

/* Its return address: a place in the test below, as a stack would hold. */
__attribute__((noinline)) static void *a_user_function(void)
{
    return __builtin_return_address(0);
}

START_TEST(garbage_stacks_never_crash)
{
    static const char *const texts[] = {
        "#stack",
        "#stack;",
        "#stack;;;",
        "#stack;nX zz;p;a;pabc",
        "#stack;n99 ffff;q1",
        "#stack;p12",
        "#stack;p-5 f",
        "#stackgarbage",
        "not a stack",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct stack st = build(texts[i], NULL, 0);
        ck_assert_uint_le(st.site, st.n);
        char label[256];
        for (size_t j = 0; j < st.n; j++)
            stack_frame_label(&st.frames[j], label, sizeof label);
        stack_free(&st);
    }
}
END_TEST

START_TEST(python_frames_first_user_frame_is_the_site)
{
    const struct trace_module m[] = {
        {1, 0x7f0000000000, "/usr/lib/x86_64-linux-gnu/libffi.so.8.1.2", ""},
        {2, 0x400000, "/nonexistent/app", ""},
    };
    struct stack st = build("#stack;n1 6f79;n2 1234;p96 event_create "
                            "/site-packages/cuda/bindings/driver.py;p42 leak_one /src/user.py;"
                            "p60 main /src/user.py",
                            m, 2);
    ck_assert_uint_eq(st.n, 5);
    ck_assert_int_eq(st.frames[0].tool, 1); /* libffi */
    ck_assert_int_eq(st.frames[1].tool, 0); /* an unreadable user module is still the user's */
    ck_assert_int_eq(st.frames[2].tool, 1); /* the binding layer */
    ck_assert_uint_eq(st.site, 1);
    char label[256];
    stack_frame_label(&st.frames[1], label, sizeof label);
    ck_assert_str_eq(label, "app+0x1234");
    stack_frame_label(&st.frames[3], label, sizeof label);
    ck_assert_str_eq(label, "user.py:42 in leak_one");
    stack_free(&st);

    st = build("#stack;n1 6f79;p96 event_create /x/cuda/bindings/driver.py;p42 leak_one "
               "/src/my app.py",
               m, 2);
    ck_assert_uint_eq(st.site, 2);
    ck_assert_str_eq(st.frames[2].file, "/src/my app.py"); /* the file is the rest */
    stack_free(&st);
}
END_TEST

START_TEST(fingerprints_ignore_addresses_below_the_site)
{
    const struct trace_module m[] = {{1, 0, "/usr/lib/x86_64-linux-gnu/libffi.so.8", ""}};
    char a[17], b[17], c[17];
    struct stack st = build("#stack;n1 10;p42 leak_one /src/user.py;p60 main /src/user.py", m, 1);
    stack_fingerprint(&st, "leak.event", a);
    stack_free(&st);
    st = build("#stack;n1 99;p42 leak_one /other/checkout/user.py;p60 main /src/user.py", m, 1);
    stack_fingerprint(&st, "leak.event", b);
    stack_free(&st);
    ck_assert_str_eq(a, b);
    st = build("#stack;n1 10;p43 leak_one /src/user.py;p60 main /src/user.py", m, 1);
    stack_fingerprint(&st, "leak.event", c);
    stack_free(&st);
    ck_assert_str_ne(a, c);
    stack_fingerprint(&(struct stack){0}, "leak.stream", c);
    ck_assert_str_ne(a, c);
}
END_TEST

/* The test binary itself, symbolized by its own DWARF, and "binary changed"
 * when the recorded build-id is not the file's. */
START_TEST(native_frames_symbolize_and_notice_a_changed_binary)
{
    int call_line = __LINE__ + 1;
    void *ret = a_user_function();
    Dl_info info;
    ck_assert_int_ne(dladdr(ret, &info), 0);
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    ck_assert_int_gt(n, 0);
    exe[n] = '\0';
    char text[128];
    snprintf(text, sizeof text, "#stack;n1 %llx",
             (unsigned long long)((char *)ret - (char *)info.dli_fbase));
    struct trace_module m = {1, (uintptr_t)info.dli_fbase, exe, ""};
    struct stack st = build(text, &m, 1);
    ck_assert_uint_ge(st.n, 1);
    ck_assert_str_eq(st.frames[st.n - 1].function,
                     "native_frames_symbolize_and_notice_a_changed_binary_fn");
    ck_assert_ptr_nonnull(strstr(st.frames[st.n - 1].file, "test_stack.c"));
    ck_assert_int_eq(st.frames[st.n - 1].line, call_line);
    m.build_id = "00ff00ff";
    stack_free(&st);
    st = build(text, &m, 1);
    char label[256];
    stack_frame_label(&st.frames[0], label, sizeof label);
    ck_assert_ptr_nonnull(strstr(label, "(binary changed since the run)"));
    stack_free(&st);
}
END_TEST

static const char *task_names[20] = {
    "t0",  "t1",  "t2",  "t3",  "t4",  "t5",  "t6",  "t7",  "t8",  "t9",
    "t10", "t11", "t12", "t13", "t14", "t15", "t16", "t17", "t18", "t19",
};

/* 20 tests: "grow.c:1" leaks in every one, "pool.c:2" only in the last two
 * (a pool's residue), "done.c:3" never. */
START_TEST(growth_is_a_leak_and_late_leftovers_are_residue)
{
    struct tb *b = tb_open(path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    for (uint64_t i = 0; i < 20; i++) {
        tb_task(b, MAIN, task_names[i], 0);
        tb_call_at(b, MAIN, "cuEventCreate", 0xe000 + 16 * i, 0, 0, "grow.c:1");
        tb_call_at(b, MAIN, "cuEventCreate", 0xf000 + 16 * i, 0, 0, "pool.c:2");
        if (i < 18)
            tb_call_at(b, MAIN, "cuEventDestroy_v2", 0xf000 + 16 * i, 0, 0, "pool.c:9");
    }
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze_dir(&a, dir);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LIVE_AT_EXIT), 1);
    for (const struct finding *f = a.findings.table; f; f = f->hh.next) {
        if (f->kind == FK_LEAK_EVENT) {
            ck_assert_str_eq(f->site, "grow.c:1");
            ck_assert_uint_eq(f->count, 20);
            ck_assert_uint_eq(f->ntasks, 20);
            ck_assert_str_eq(f->parts[0].task, "t0");
            ck_assert_str_eq(f->task, "t0");
        }
        if (f->kind == FK_LIVE_AT_EXIT) {
            ck_assert_str_eq(f->site, "pool.c:2");
            ck_assert_uint_eq(f->count, 2);
            ck_assert_ptr_nonnull(strstr(f->message, "2 events live at exit"));
        }
    }
    analysis_free(&a);
}
END_TEST

/* 20 tests, each making an event the binding owns (stand-in binding frames
 * event_create <- Event.__init__, a different user line per test) that the
 * binding destroys late, leaving the last two live: residue. The last test
 * also creates one straight through the binding's driver call at a line
 * that never destroys: a leak, although late and single. */
START_TEST(late_leftovers_are_residue_only_when_their_owner_destroys)
{
    struct tb *b = tb_open(path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    static char owned_sites[20][256]; /* the builder keeps the pointers */
    for (uint64_t i = 0; i < 20; i++) {
        char *owned = owned_sites[i];
        snprintf(owned, sizeof owned_sites[i],
                 "#stack;p10 event_create /x/cuda/bindings/driver.py;p20 __init__ "
                 "/x/cuda/bindings/driver.py;p%d test_%d /src/t.py",
                 (int)(100 + i), (int)i);
        tb_task(b, MAIN, task_names[i], 0);
        tb_call_at(b, MAIN, "cuEventCreate", 0xf000 + 16 * i, 0, 0, owned);
        if (i >= 2)
            tb_call_at(b, MAIN, "cuEventDestroy_v2", 0xf000 + 16 * (i - 2), 0, 0, "flush.py:9");
    }
    tb_call_at(b, MAIN, "cuEventCreate", 0xe000, 0, 0,
               "#stack;p10 event_create /x/cuda/bindings/driver.py;p50 external /src/t.py");
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze_dir(&a, dir);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LIVE_AT_EXIT), 2);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    for (const struct finding *f = a.findings.table; f; f = f->hh.next)
        if (f->kind == FK_LEAK_EVENT)
            ck_assert_str_eq(f->site, "t.py:50 in external");
    analysis_free(&a);
}
END_TEST

/* Without tasks (or with few) nothing is residue: a leak stays a leak. */
START_TEST(few_tasks_never_make_residue)
{
    struct tb *b = tb_open(path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    for (uint64_t i = 0; i < 5; i++) {
        tb_task(b, MAIN, task_names[i], 0);
        if (i == 4)
            tb_call_at(b, MAIN, "cuEventCreate", 0xe000, 0, 0, "late.c:1");
    }
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze_dir(&a, dir);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LEAK_EVENT), 1);
    ck_assert_uint_eq(findings_of_kind(&a, FK_LIVE_AT_EXIT), 0);
    analysis_free(&a);
}
END_TEST

/* `cuguard run`'s summary: one line per finding up to the cap, then where
 * the rest is; the SUMMARY line names kind and site. */
START_TEST(brief_summary_is_capped_and_names_sites)
{
    static const char *const sites[] = {"a.c:1", "b.c:2", "c.c:3"};
    struct tb *b = tb_open(path, 1000, "./prog");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "main");
    for (uint64_t i = 0; i < 3; i++)
        tb_call_at(b, MAIN, "cuEventCreate", 0xe000 + 16 * i, 0, 0, sites[i]);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze_dir(&a, dir);
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    ck_assert_ptr_nonnull(f);
    const struct report_text_options o = {.detail = REPORT_BRIEF, .brief_max = 2, .more_dir = "D"};
    report_write_text_with(f, &a, &o);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(out, "cuguard: ... 1 more: cuguard report D\n"));
    ck_assert_ptr_nonnull(strstr(out, "SUMMARY: cuguard: 0 errors, 3 warnings (leak.event a.c:1, "
                                      "leak.event b.c:2, leak.event c.c:3)\n"));
    free(out);
    analysis_free(&a);
}
END_TEST

static Suite *stack_suite(void)
{
    Suite *s = suite_create("stack");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, garbage_stacks_never_crash);
    tcase_add_test(pure, python_frames_first_user_frame_is_the_site);
    tcase_add_test(pure, fingerprints_ignore_addresses_below_the_site);
    tcase_add_test(pure, native_frames_symbolize_and_notice_a_changed_binary);
    suite_add_tcase(s, pure);
    TCase *traces = tcase_create("traces");
    tcase_add_checked_fixture(traces, setup, teardown);
    tcase_add_test(traces, growth_is_a_leak_and_late_leftovers_are_residue);
    tcase_add_test(traces, few_tasks_never_make_residue);
    tcase_add_test(traces, late_leftovers_are_residue_only_when_their_owner_destroys);
    tcase_add_test(traces, brief_summary_is_capped_and_names_sites);
    suite_add_tcase(s, traces);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(stack_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

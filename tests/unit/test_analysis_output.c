/*
 * tests/unit/test_analysis_output.c — what `cuguard report` and `export`
 * print: JSON escaping and structure, API name variants, suppression files,
 * --fail-on lists, the text and JSON reports and the timeline's flows.
 *
 * What it must never do: depend on the shim or a driver (traces come from
 * tests/unit/trace_builder.c), or compare against output it produced itself.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analyze.h"
#include "analysis/base/api_ops.h"
#include "analysis/output/export_perfetto.h"
#include "analysis/base/json_writer.h"
#include "analysis/output/report.h"
#include "analysis/cli/policy_names.h"
#include "analysis/cli/run_pytest.h"
#include "analysis/group/suppress.h"
#include "tests/unit/analysis_testlib.h"
#include "tests/unit/trace_builder.h"
#include "tests/unit/tracer_testlib.h"

#define MIB (1024ull * 1024ull)
#define MAIN 100

/* Everything written to a temporary FILE, as one string (caller frees). */
static char *slurp(FILE *f)
{
    long len = ftell(f);
    ck_assert_int_ge(len, 0);
    char *buf = calloc(1, (size_t)len + 1);
    ck_assert_ptr_nonnull(buf);
    rewind(f);
    ck_assert_uint_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
    return buf;
}

static size_t count_substr(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- JSON writer ---- */

START_TEST(json_escapes_every_hostile_byte)
{
    FILE *f = tmpfile();
    struct json_writer w;
    json_init(&w, f, 0);
    json_string(&w, "q\"b\\n\n t\t c\x01 del\x7f ok\xc3\xa9 bad\xff\xc3( end");
    char *out = slurp(f);
    ck_assert_str_eq(out, "\"q\\\"b\\\\n\\n t\\t c\\u0001 del\\u007f ok\xc3\xa9 bad\\ufffd\\ufffd( "
                          "end\"");
    free(out);
    fclose(f);
}
END_TEST

START_TEST(json_places_commas_and_nulls)
{
    FILE *f = tmpfile();
    struct json_writer w;
    json_init(&w, f, 0);
    json_begin_object(&w);
    json_kv_uint(&w, "a", 1);
    json_key(&w, "b");
    json_begin_array(&w);
    json_string(&w, NULL);
    json_hex(&w, 0x1f);
    json_begin_object(&w);
    json_end_object(&w);
    json_end_array(&w);
    json_kv_bool(&w, "c", 0);
    json_kv_double(&w, "d", 1.5);
    json_end_object(&w);
    char *out = slurp(f);
    ck_assert_str_eq(out, "{\"a\":1,\"b\":[null,\"0x1f\",{}],\"c\":false,\"d\":1.500}\n");
    free(out);
    fclose(f);
}
END_TEST

/* ---- API names ---- */

START_TEST(api_variants_map_to_one_operation)
{
    char base[64];
    api_base_name("cuMemcpyHtoDAsync_v2_ptsz", base, sizeof base);
    ck_assert_str_eq(base, "cuMemcpyHtoDAsync");
    api_base_name("cuStreamWaitEvent_ptsz", base, sizeof base);
    ck_assert_str_eq(base, "cuStreamWaitEvent");
    api_base_name("cuLaunchKernel_ptsz", base, sizeof base);
    ck_assert_str_eq(base, "cuLaunchKernel");
    api_base_name("cuStreamQuery_ptds", base, sizeof base);
    ck_assert_str_eq(base, "cuStreamQuery");
    ck_assert_int_eq(api_op_of_name("cuEventDestroy_v2"), OP_EVENT_DESTROY);
    ck_assert_int_eq(api_op_of_name("cuEventRecordWithFlags_ptsz"), OP_EVENT_RECORD);
    ck_assert_int_eq(api_op_of_name("cuEventElapsedTime_v2"), OP_EVENT_ELAPSED);
    ck_assert_int_eq(api_op_of_name("cuMemHostRegister_v2"), OP_HOST_REGISTER);
    ck_assert_int_eq(api_op_of_name("cuStreamCreateWithPriority"), OP_STREAM_CREATE);
    ck_assert_int_eq(api_op_of_name("cuMemFreeHost"), OP_PINNED_FREE);
    ck_assert_int_eq(api_op_of_name("cuEventCreateX"), OP_OTHER);
    ck_assert_int_eq(api_op_of_name("cuEvent"), OP_OTHER);
    ck_assert_int_eq(api_op_of_name("_v2"), OP_OTHER);
    ck_assert_int_eq(api_op_of_name(NULL), OP_OTHER);
}
END_TEST

/* ---- suppressions and --fail-on ---- */

static struct finding *fake_finding(enum finding_kind kind, const char *task, const char *site)
{
    struct finding *f = calloc(1, sizeof *f);
    ck_assert_ptr_nonnull(f);
    f->kind = kind;
    f->task = task ? strdup(task) : NULL;
    f->site = site ? strdup(site) : NULL;
    return f;
}

static void free_fake(struct finding *f)
{
    free(f->task);
    free(f->site);
    free(f);
}

START_TEST(suppressions_match_task_or_site)
{
    struct suppressions s = {0};
    char err[256];
    ck_assert_int_eq(suppressions_add_line(&s, "# comment only", err, sizeof err), 0);
    ck_assert_int_eq(suppressions_add_line(&s, "   ", err, sizeof err), 0);
    ck_assert_int_eq(
        suppressions_add_line(&s, "leak.event tests/test_io.py::*  # flaky", err, sizeof err), 0);
    ck_assert_int_eq(suppressions_add_line(&s, "api-error *third_party*", err, sizeof err), 0);
    ck_assert_int_eq(suppressions_add_line(&s, "leak.* legacy.c:*", err, sizeof err), 0);
    ck_assert_uint_eq(s.count, 3);

    struct finding *by_task = fake_finding(FK_LEAK_EVENT, "tests/test_io.py::test_a", "x.c:1");
    struct finding *other_task = fake_finding(FK_LEAK_EVENT, "tests/test_net.py::test_a", "x.c:1");
    struct finding *by_site = fake_finding(FK_API_ERROR, NULL, "/opt/third_party/lib.c:9");
    struct finding *wrong_kind = fake_finding(FK_UNKNOWN_HANDLE, "tests/test_io.py::t", "x.c:1");
    struct finding *glob_kind = fake_finding(FK_LEAK_PINNED, NULL, "legacy.c:12");
    ck_assert_int_eq(suppression_matches(&s, by_task), 1);
    ck_assert_int_eq(suppression_matches(&s, other_task), 0);
    ck_assert_int_eq(suppression_matches(&s, by_site), 1);
    ck_assert_int_eq(suppression_matches(&s, wrong_kind), 0);
    ck_assert_int_eq(suppression_matches(&s, glob_kind), 1);
    free_fake(by_task);
    free_fake(other_task);
    free_fake(by_site);
    free_fake(wrong_kind);
    free_fake(glob_kind);
    suppressions_free(&s);
}
END_TEST

START_TEST(malformed_suppressions_are_refused)
{
    struct suppressions s = {0};
    char err[256] = "";
    ck_assert_int_eq(suppressions_add_line(&s, "leak.event", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "KIND PATTERN"));
    ck_assert_int_eq(suppressions_add_line(&s, "leak.evnt foo", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "leak.evnt"));
    ck_assert_uint_eq(s.count, 0);
    ck_assert_int_eq(suppressions_load(&s, "/nonexistent/supp.txt", err, sizeof err), -1);
    char *dir = testlib_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/supp.txt", dir);
    const char text[] = "leak.event *\nnonsense\n";
    ck_assert_int_eq(testlib_write_file(path, text, sizeof text - 1), 0);
    ck_assert_int_eq(suppressions_load(&s, path, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, ":2:"));
    suppressions_free(&s);
    testlib_rmtree(dir);
    free(dir);
}
END_TEST

/* cuguard run adds its plugin to PYTHONPATH and PYTEST_PLUGINS without losing
 * or doubling what the user set. */
START_TEST(pytest_lists_keep_what_was_there)
{
    const struct {
        const char *list, *item;
        char sep;
        int prepend;
        const char *want;
    } cases[] = {
        {NULL, "cuguard", ',', 0, "cuguard"},
        {"", "cuguard", ',', 0, "cuguard"},
        {"xdist.plugin,mine", "cuguard", ',', 0, "xdist.plugin,mine,cuguard"},
        {"mine,cuguard", "cuguard", ',', 0, "mine,cuguard"},
        {"cuguardx", "cuguard", ',', 0, "cuguardx,cuguard"},
        {"/src:/lib", "/opt/cg/python", ':', 1, "/opt/cg/python:/src:/lib"},
        {"/src:/opt/cg/python", "/opt/cg/python", ':', 1, "/src:/opt/cg/python"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got =
            run_pytest_list_add(cases[i].list, cases[i].item, cases[i].sep, cases[i].prepend);
        ck_assert_str_eq(got, cases[i].want);
        free(got);
    }
}
END_TEST

/* A pytest-xdist worker is named by its label, not execnet's command line. */
START_TEST(worker_label_replaces_the_command_line)
{
    char *wdir = testlib_tmpdir(), path[4096];
    snprintf(path, sizeof path, "%s/host-88-1.cgt", wdir);
    struct tb *b = tb_open(path, 88, "python3 -u -c exec(eval(sys.stdin.readline()))");
    ck_assert_ptr_nonnull(b);
    snprintf(b->hdr.label, sizeof b->hdr.label, "gw3");
    tb_task(b, MAIN, "test_w.py::test_leak", 0);
    tb_call_at(b, MAIN, "cuEventCreate", 0xe000, 0, 0, "w.py:3");
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
    struct analysis a;
    analyze_dir(&a, wdir);
    FILE *f = tmpfile();
    report_write_text(f, &a, REPORT_FULL);
    report_write_text(f, &a, REPORT_BRIEF);
    report_write_json(f, &a);
    char *out = slurp(f);
    ck_assert_ptr_nonnull(strstr(out, "process    pid 88 gw3\n"));
    ck_assert_ptr_nonnull(strstr(out, "(pid 88 gw3, thread "));
    ck_assert_ptr_nonnull(strstr(out, "\"label\": \"gw3\""));
    ck_assert_ptr_null(strstr(out, "pid 88 python3"));
    free(out);
    fclose(f);
    analysis_free(&a);
    testlib_rmtree(wdir);
    free(wdir);
}
END_TEST

/* `cuguard run --policy` takes what CUGUARD_POLICY takes; `cuguard dump`
 * prints a header's policies in the same names. */
START_TEST(policy_lists_are_read_and_printed_in_one_spelling)
{
    ck_assert(cli_policy_list_valid("ownership"));
    ck_assert(cli_policy_list_valid("ownership,isolate,destroy,sync-query"));
    ck_assert(!cli_policy_list_valid(""));
    ck_assert(!cli_policy_list_valid("isolate,"));
    ck_assert(!cli_policy_list_valid("isolate,bogus"));
    ck_assert(!cli_policy_list_valid("own"));
    char text[64];
    cli_policy_list_text(0, text, sizeof text); /* an older writer */
    ck_assert_str_eq(text, "?");
    cli_policy_list_text(CG_HDR_POLICY_ISOLATE, text,
                         sizeof text); /* bits without KNOWN: not said */
    ck_assert_str_eq(text, "?");
    cli_policy_list_text(CG_HDR_POLICIES_KNOWN, text, sizeof text);
    ck_assert_str_eq(text, "none");
    cli_policy_list_text(CG_HDR_POLICIES_KNOWN | CG_HDR_POLICY_SYNC_QUERY | CG_HDR_POLICY_OWNERSHIP,
                         text, sizeof text);
    ck_assert_str_eq(text, "ownership,sync-query");
    ck_assert(cli_policy_list_valid(text)); /* what dump prints, run takes back */
    char small[8];
    cli_policy_list_text(CG_HDR_POLICIES_KNOWN | CG_HDR_POLICY_OWNERSHIP | CG_HDR_POLICY_ISOLATE,
                         small, sizeof small);
    ck_assert_uint_lt(strlen(small), sizeof small); /* cut, never past the buffer */
}
END_TEST

START_TEST(fail_on_lists)
{
    unsigned char mask[FK_COUNT];
    char err[256];
    ck_assert_int_eq(findings_parse_fail_on("error", mask, err, sizeof err), 0);
    ck_assert_int_eq(mask[FK_UNKNOWN_HANDLE], 1);
    ck_assert_int_eq(mask[FK_BLOCKED_AT_EXIT], 1);
    ck_assert_int_eq(mask[FK_LEAK_EVENT], 0);
    ck_assert_int_eq(findings_parse_fail_on("warning", mask, err, sizeof err), 0);
    ck_assert_int_eq(mask[FK_LEAK_EVENT], 1);
    ck_assert_int_eq(mask[FK_UNKNOWN_HANDLE], 1);
    ck_assert_int_eq(mask[FK_SHARED_EVENT], 0);
    ck_assert_int_eq(findings_parse_fail_on("leak.pinned,api-error", mask, err, sizeof err), 0);
    ck_assert_int_eq(mask[FK_LEAK_PINNED], 1);
    ck_assert_int_eq(mask[FK_API_ERROR], 1);
    ck_assert_int_eq(mask[FK_LEAK_EVENT], 0);
    ck_assert_int_eq(findings_parse_fail_on("leak.pinned,bogus", mask, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "bogus"));
    ck_assert_int_eq(findings_parse_fail_on(",", mask, err, sizeof err), -1);
}
END_TEST

/* ---- reports of a known trace ---- */

static char *dir;

static void setup(void)
{
    dir = testlib_tmpdir();
    ck_assert_ptr_nonnull(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/host-77-1.cgt", dir);
    struct tb *b = tb_open(path, 77, "./leaky");
    ck_assert_ptr_nonnull(b);
    tb_thread_start(b, MAIN, "leaky-creator");
    tb_task(b, MAIN, "test_leak", 0);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 0, 0);
    for (uint64_t i = 0; i < 37; i++)
        tb_call_at(b, MAIN, "cuEventCreate", 0xe000 + 16 * i, 0, 0, "leaky.c:20");
    for (uint64_t i = 0; i < 30; i++) {
        tb_call(b, MAIN, "cuEventRecord", 0xe000 + 16 * i, 0x5000, 0);
        tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000 + 16 * i, 0, 0);
    }
    tb_call(b, MAIN, "cuEventRecord", 0xe000 + 16 * 30, 0, 0);
    tb_call(b, MAIN, "cuEventSynchronize", 0xe000 + 16 * 30, 0, 0);
    for (uint64_t i = 0; i < 5; i++)
        tb_call(b, MAIN, "cuMemAllocHost_v2", 0x10000000 + i * MIB, MIB, 0);
    for (uint64_t i = 0; i < 3; i++)
        tb_call(b, MAIN, "cuMemFreeHost", 0x10000000 + i * MIB, 0, 0);
    tb_call(b, MAIN, "cuEventQuery", 0xdead, 0, 400);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, 0);
    tb_process_exit(b, MAIN);
    ck_assert_int_eq(tb_close(b), 0);
}

static void teardown(void)
{
    testlib_rmtree(dir);
    free(dir);
}

static void analyze(struct analysis *a)
{
    analyze_dir(a, dir);
}

START_TEST(text_report_blocks_and_summary)
{
    struct analysis a;
    analyze(&a);
    FILE *f = tmpfile();
    report_write_text(f, &a, REPORT_FULL);
    char *out = slurp(f);
    /* the error comes first, then the warnings */
    char *err = strstr(out, "error: unknown-handle");
    char *leak = strstr(out, "warning: leak.event (7 times)");
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(leak);
    ck_assert_int_eq(err < leak, 1);
    ck_assert_ptr_nonnull(strstr(leak, "thread     100 \"leaky-creator\""));
    ck_assert_ptr_nonnull(strstr(leak, "task       test_leak"));
    ck_assert_ptr_nonnull(strstr(leak, "site       leaky.c:20"));
    ck_assert_ptr_nonnull(strstr(out, "warning: leak.pinned (2 times)"));
    ck_assert_ptr_nonnull(strstr(out, "bytes      2097152"));
    ck_assert_ptr_nonnull(strstr(out, "SUMMARY: cuguard: 1 error (unknown-handle"));
    free(out);
    fclose(f);
    analysis_free(&a);
}
END_TEST

START_TEST(suppressed_findings_disappear_from_reports)
{
    struct analysis a;
    analyze(&a);
    struct suppressions s = {0};
    char err[256];
    ck_assert_int_eq(suppressions_add_line(&s, "leak.* test_*", err, sizeof err), 0);
    ck_assert_uint_eq(suppressions_apply(&s, &a.findings), 2);
    FILE *f = tmpfile();
    report_write_text(f, &a, REPORT_FULL);
    report_write_json(f, &a);
    char *out = slurp(f);
    ck_assert_ptr_null(strstr(out, "leak.event"));
    ck_assert_ptr_nonnull(strstr(out, "0 warnings (2 suppressed)"));
    free(out);
    fclose(f);
    suppressions_free(&s);
    analysis_free(&a);
}
END_TEST

START_TEST(json_report_has_the_contract_keys)
{
    struct analysis a;
    analyze(&a);
    FILE *f = tmpfile();
    report_write_json(f, &a);
    char *out = slurp(f);
    const char *keys[] = {"\"format\": \"cuguard-report\"",
                          "\"version\": 1",
                          "\"processes\"",
                          "\"pid\": 77",
                          "\"ppid\"",
                          "\"host\": \"testhost\"",
                          "\"argv\": [\"./leaky\"]",
                          "\"complete\": true",
                          "\"records\"",
                          "\"trace\"",
                          "\"summary\"",
                          "\"peak_live\": 37",
                          "\"leaked\": 7",
                          "\"leaked_bytes\": 2097152",
                          "\"peak_bytes\": 5242880",
                          "\"cuEventCreate\": 37",
                          "\"cuEventDestroy_v2\": 30",
                          "\"findings\"",
                          "\"kind\": \"leak.event\"",
                          "\"severity\": \"warning\"",
                          "\"handle\": \"0xdead\"",
                          "\"count\": 7",
                          "\"bytes\": 2097152",
                          "\"task\": \"test_leak\"",
                          "\"site\": \"leaky.c:20\"",
                          "\"ts_ns\": ",
                          "\"message\": ",
                          "\"tid\": 100",
                          "\"api\": \"cuEventQuery\"",
                          "\"label\": \"\"",
                          "\"summary_line\": \"SUMMARY: cuguard: 1 error"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        ck_assert_msg(strstr(out, keys[i]) != NULL, "missing %s in\n%s", keys[i], out);
    free(out);
    fclose(f);
    analysis_free(&a);
}
END_TEST

START_TEST(timeline_flows_have_both_ends)
{
    char *paths[1] = {dir};
    FILE *f = tmpfile();
    FILE *warn = tmpfile();
    ck_assert_int_eq(export_perfetto(f, paths, 1, "test", warn), 0);
    fclose(warn);
    char *out = slurp(f);
    size_t starts = count_substr(out, "\"ph\":\"s\"");
    size_t ends = count_substr(out, "\"ph\":\"f\"");
    ck_assert_uint_eq(starts, 31); /* one per record */
    ck_assert_uint_eq(ends, starts);
    ck_assert_ptr_nonnull(strstr(out, "\"traceEvents\""));
    ck_assert_ptr_nonnull(strstr(out, "\"name\":\"thread_name\""));
    ck_assert_ptr_nonnull(strstr(out, "leaky-creator (100)"));
    ck_assert_ptr_nonnull(strstr(out, "\"name\":\"stream 0x5000\""));
    ck_assert_ptr_nonnull(strstr(out, "\"ph\":\"C\""));
    ck_assert_ptr_nonnull(strstr(out, "\"name\":\"unknown-handle\""));
    free(out);
    fclose(f);
}
END_TEST

static Suite *output_suite(void)
{
    Suite *s = suite_create("analysis_output");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, json_escapes_every_hostile_byte);
    tcase_add_test(pure, json_places_commas_and_nulls);
    tcase_add_test(pure, api_variants_map_to_one_operation);
    tcase_add_test(pure, suppressions_match_task_or_site);
    tcase_add_test(pure, malformed_suppressions_are_refused);
    tcase_add_test(pure, fail_on_lists);
    tcase_add_test(pure, policy_lists_are_read_and_printed_in_one_spelling);
    tcase_add_test(pure, pytest_lists_keep_what_was_there);
    tcase_add_test(pure, worker_label_replaces_the_command_line);
    suite_add_tcase(s, pure);
    TCase *reports = tcase_create("reports");
    tcase_add_checked_fixture(reports, setup, teardown);
    tcase_add_test(reports, text_report_blocks_and_summary);
    tcase_add_test(reports, suppressed_findings_disappear_from_reports);
    tcase_add_test(reports, json_report_has_the_contract_keys);
    tcase_add_test(reports, timeline_flows_have_both_ends);
    suite_add_tcase(s, reports);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(output_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}

/*
 * tests/unit/test_shim_config.c — CUGUARD_* parsing and the shim's pure helpers.
 *
 * What it is for: every configuration value a user can give, good and bad:
 * good values are honoured, every bad one gives exactly one warning that
 * names the variable and the value used instead. Also the pytest phase
 * stripping of task names and the call-site format.
 *
 * What it must never do: read the real environment (values come from a
 * table through the lookup callback).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shim/config.h"
#include "shim/site.h"
#include "shim/task.h"
#include "tracer/format.h"

struct fake_env {
    const char *pairs[16][2];
};

static const char *lookup(const char *name, void *ctx)
{
    struct fake_env *env = ctx;
    for (int i = 0; i < 16 && env->pairs[i][0] != NULL; i++) {
        if (strcmp(env->pairs[i][0], name) == 0)
            return env->pairs[i][1];
    }
    return NULL;
}

struct warnings {
    int count;
    char last[512];
};

static void collect_warning(const char *line, void *ctx)
{
    struct warnings *w = ctx;
    w->count++;
    snprintf(w->last, sizeof w->last, "%s", line);
}

static struct cg_config cfg;
static struct warnings warned;

static void parse(struct fake_env env)
{
    memset(&warned, 0, sizeof warned);
    cg_config_parse(&cfg, lookup, &env, "/work", collect_warning, &warned);
}

START_TEST(defaults_when_nothing_is_set)
{
    parse((struct fake_env){{{NULL, NULL}}});
    ck_assert_int_eq(warned.count, 0);
    ck_assert_int_eq(cfg.tracing, 0);
    ck_assert_uint_eq(cfg.task_mode, CG_TASK_ENV);
    ck_assert_str_eq(cfg.task_var, "PYTEST_CURRENT_TEST");
    ck_assert_uint_eq(cfg.policy, 0);
    ck_assert_uint_eq(cfg.watchdog_s, 0); /* off when not tracing */
    ck_assert_str_eq(cfg.libcuda, "libcuda.so.1");
    ck_assert_int_eq(cfg.libcuda_from_env, 0);
    ck_assert_int_eq(cfg.log_level, CG_LOG_WARN);
    ck_assert_int_eq(cfg.on_error, CG_ON_ERROR_CONTINUE);
    ck_assert_uint_eq(cfg.quarantine, 1024);
    ck_assert_uint_eq(cfg.reclaim_age, 1);
    ck_assert_uint_eq(cfg.sync_query_ms, 1000);
    ck_assert_int_eq(cfg.dump_signal, SIGUSR2);
}
END_TEST

START_TEST(dir_turns_tracing_on_and_is_made_absolute)
{
    parse((struct fake_env){{{"CUGUARD_DIR", "cuguard-trace"}}});
    ck_assert_int_eq(cfg.tracing, 1);
    ck_assert_str_eq(cfg.dir, "/work/cuguard-trace");
    ck_assert_uint_eq(cfg.watchdog_s, 60); /* default while tracing */
    parse((struct fake_env){{{"CUGUARD_DIR", "/tmp/t"}}});
    ck_assert_str_eq(cfg.dir, "/tmp/t");
    parse((struct fake_env){{{"CUGUARD_DIR", ""}}});
    ck_assert_int_eq(cfg.tracing, 0);
    ck_assert_int_eq(warned.count, 0);
}
END_TEST

START_TEST(task_modes)
{
    parse((struct fake_env){{{"CUGUARD_TASK", "env:MY_TASK_1"}}});
    ck_assert_uint_eq(cfg.task_mode, CG_TASK_ENV);
    ck_assert_str_eq(cfg.task_var, "MY_TASK_1");
    parse((struct fake_env){{{"CUGUARD_TASK", "thread"}}});
    ck_assert_uint_eq(cfg.task_mode, CG_TASK_THREAD);
    parse((struct fake_env){{{"CUGUARD_TASK", "process"}}});
    ck_assert_uint_eq(cfg.task_mode, CG_TASK_PROCESS);
    ck_assert_int_eq(warned.count, 0);
}
END_TEST

static const char *const bad_tasks[] = {"env:", "env:1ABC", "env:A-B", "bogus", "Thread", "env"};

START_TEST(bad_task_warns_once_and_uses_the_default)
{
    parse((struct fake_env){{{"CUGUARD_TASK", bad_tasks[_i]}}});
    ck_assert_int_eq(warned.count, 1);
    ck_assert_ptr_nonnull(strstr(warned.last, "CUGUARD_TASK"));
    ck_assert_ptr_nonnull(strstr(warned.last, bad_tasks[_i]));
    ck_assert_ptr_nonnull(strstr(warned.last, "env:PYTEST_CURRENT_TEST"));
    ck_assert_uint_eq(cfg.task_mode, CG_TASK_ENV);
    ck_assert_str_eq(cfg.task_var, "PYTEST_CURRENT_TEST");
}
END_TEST

START_TEST(policies)
{
    parse((struct fake_env){{{"CUGUARD_POLICY", "ownership,sync-query"}}});
    ck_assert_uint_eq(cfg.policy, CG_POLICY_BIT_OWNERSHIP | CG_POLICY_BIT_SYNC_QUERY);
    parse((struct fake_env){{{"CUGUARD_POLICY", "isolate,destroy,"}}});
    ck_assert_uint_eq(cfg.policy, CG_POLICY_BIT_ISOLATE | CG_POLICY_BIT_DESTROY);
    parse((struct fake_env){{{"CUGUARD_POLICY", ""}}});
    ck_assert_uint_eq(cfg.policy, 0);
    ck_assert_int_eq(warned.count, 0);
    parse((struct fake_env){{{"CUGUARD_POLICY", "ownership,bogus,isolate"}}});
    ck_assert_uint_eq(cfg.policy, CG_POLICY_BIT_OWNERSHIP | CG_POLICY_BIT_ISOLATE);
    ck_assert_int_eq(warned.count, 1);
    ck_assert_ptr_nonnull(strstr(warned.last, "CUGUARD_POLICY"));
    ck_assert_ptr_nonnull(strstr(warned.last, "\"bogus\""));
}
END_TEST

START_TEST(numbers)
{
    parse((struct fake_env){{{"CUGUARD_WATCHDOG", "0"},
                             {"CUGUARD_QUARANTINE", "16"},
                             {"CUGUARD_RECLAIM_AGE", "3"},
                             {"CUGUARD_SYNC_QUERY_MS", "250"},
                             {"CUGUARD_DIR", "/tmp/x"}}});
    ck_assert_int_eq(warned.count, 0);
    ck_assert_uint_eq(cfg.watchdog_s, 0);
    ck_assert_uint_eq(cfg.quarantine, 16);
    ck_assert_uint_eq(cfg.reclaim_age, 3);
    ck_assert_uint_eq(cfg.sync_query_ms, 250);
}
END_TEST

static const char *const bad_numbers[] = {"abc", "-1", "10s", "", " 5", "99999999999999999999"};

START_TEST(bad_numbers_warn_once_each)
{
    const char *v = bad_numbers[_i];
    parse((struct fake_env){{{"CUGUARD_WATCHDOG", v},
                             {"CUGUARD_QUARANTINE", v},
                             {"CUGUARD_RECLAIM_AGE", v},
                             {"CUGUARD_SYNC_QUERY_MS", v},
                             {"CUGUARD_DIR", "/tmp/x"}}});
    ck_assert_int_eq(warned.count, 4);
    ck_assert_ptr_nonnull(strstr(warned.last, "CUGUARD_SYNC_QUERY_MS"));
    ck_assert_ptr_nonnull(strstr(warned.last, "using 1000"));
    ck_assert_uint_eq(cfg.watchdog_s, 60);
    ck_assert_uint_eq(cfg.quarantine, 1024);
    ck_assert_uint_eq(cfg.reclaim_age, 1);
    ck_assert_uint_eq(cfg.sync_query_ms, 1000);
}
END_TEST

START_TEST(choices)
{
    parse((struct fake_env){{{"CUGUARD_LOG", "debug"},
                             {"CUGUARD_ON_ERROR", "abort"},
                             {"CUGUARD_LIBCUDA", "/opt/libcuda.so.1"},
                             {"CUGUARD_DUMP_SIGNAL", "SIGUSR1"}}});
    ck_assert_int_eq(warned.count, 0);
    ck_assert_int_eq(cfg.log_level, CG_LOG_DEBUG);
    ck_assert_int_eq(cfg.on_error, CG_ON_ERROR_ABORT);
    ck_assert_str_eq(cfg.libcuda, "/opt/libcuda.so.1");
    ck_assert_int_eq(cfg.libcuda_from_env, 1);
    ck_assert_int_eq(cfg.dump_signal, SIGUSR1);
    parse((struct fake_env){{{"CUGUARD_LOG", "quiet"}, {"CUGUARD_ON_ERROR", "refuse"}}});
    ck_assert_int_eq(cfg.log_level, CG_LOG_QUIET);
    ck_assert_int_eq(cfg.on_error, CG_ON_ERROR_REFUSE);
}
END_TEST

START_TEST(bad_choices_warn_with_the_value_used)
{
    parse((struct fake_env){{{"CUGUARD_LOG", "verbose"}}});
    ck_assert_int_eq(warned.count, 1);
    ck_assert_ptr_nonnull(strstr(warned.last, "CUGUARD_LOG=\"verbose\""));
    ck_assert_ptr_nonnull(strstr(warned.last, "using warn"));
    ck_assert_int_eq(cfg.log_level, CG_LOG_WARN);
    parse((struct fake_env){{{"CUGUARD_ON_ERROR", "explode"}}});
    ck_assert_int_eq(warned.count, 1);
    ck_assert_ptr_nonnull(strstr(warned.last, "using continue"));
    ck_assert_int_eq(cfg.on_error, CG_ON_ERROR_CONTINUE);
    parse((struct fake_env){{{"CUGUARD_DUMP_SIGNAL", "SIGFOO"}}});
    ck_assert_int_eq(warned.count, 1);
    ck_assert_ptr_nonnull(strstr(warned.last, "using SIGUSR2"));
    ck_assert_int_eq(cfg.dump_signal, SIGUSR2);
}
END_TEST

START_TEST(task_phase_is_stripped)
{
    char out[128];
    cg_task_strip_phase("tests/test_x.py::test_a (call)", out, sizeof out);
    ck_assert_str_eq(out, "tests/test_x.py::test_a");
    cg_task_strip_phase("tests/test_x.py::test_a (setup)", out, sizeof out);
    ck_assert_str_eq(out, "tests/test_x.py::test_a");
    cg_task_strip_phase("tests/test_x.py::test_a (teardown)", out, sizeof out);
    ck_assert_str_eq(out, "tests/test_x.py::test_a");
    cg_task_strip_phase("tests/test_x.py::test_a[p (call)]", out, sizeof out);
    ck_assert_str_eq(out, "tests/test_x.py::test_a[p (call)]");
    cg_task_strip_phase("plain (other)", out, sizeof out);
    ck_assert_str_eq(out, "plain (other)");
    cg_task_strip_phase("", out, sizeof out);
    ck_assert_str_eq(out, "");
    cg_task_strip_phase(" (call)", out, sizeof out);
    ck_assert_str_eq(out, "");
    char tiny[5];
    cg_task_strip_phase("abcdefgh (call)", tiny, sizeof tiny);
    ck_assert_str_eq(tiny, "abcd");
}
END_TEST

START_TEST(site_names_module_symbol_and_offset)
{
    char text[512];
    /* A return address 5 bytes into getpid: the call itself is at +0x4. */
    cg_site_format((const char *)&getpid + 5, text, sizeof text);
    ck_assert_msg(strncmp(text, "libc.so.6!", 10) == 0, "site is '%s'", text);
    ck_assert_ptr_nonnull(strstr(text, "getpid+0x4"));
    cg_site_format(NULL, text, sizeof text);
    ck_assert_str_ne(text, "");
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("shim_config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, defaults_when_nothing_is_set);
    tcase_add_test(tc, dir_turns_tracing_on_and_is_made_absolute);
    tcase_add_test(tc, task_modes);
    tcase_add_loop_test(tc, bad_task_warns_once_and_uses_the_default, 0,
                        (int)(sizeof bad_tasks / sizeof bad_tasks[0]));
    tcase_add_test(tc, policies);
    tcase_add_test(tc, numbers);
    tcase_add_loop_test(tc, bad_numbers_warn_once_each, 0,
                        (int)(sizeof bad_numbers / sizeof bad_numbers[0]));
    tcase_add_test(tc, choices);
    tcase_add_test(tc, bad_choices_warn_with_the_value_used);
    suite_add_tcase(s, tc);
    TCase *helpers = tcase_create("helpers");
    tcase_add_test(helpers, task_phase_is_stripped);
    tcase_add_test(helpers, site_names_module_symbol_and_offset);
    suite_add_tcase(s, helpers);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(config_suite());
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

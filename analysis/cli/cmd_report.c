/*
 * analysis/cli/cmd_report.c — `cuguard report`: options, then analyze and print.
 *
 * What it is for: parse `--format`, `--fail-on`, `--suppress`, `-j`, read
 * every trace under the given paths (on up to -j threads), apply suppressions and write the text or
 * JSON report to stdout; exit 0, 1 (a finding the user asked to fail on remains) or 2 (unusable
 * options or no readable trace). Also the brief summary `cuguard run` prints on stderr.
 *
 * What it must never do: write anything but the report to stdout (warnings
 * and errors go to stderr), or exit 1 for a suppressed finding.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "analysis/group/baseline.h"
#include "analysis/cli/cli_option.h"
#include "analysis/cli/commands.h"
#include "analysis/cli/fail_gate.h"
#include "analysis/output/report.h"
#include "analysis/group/suppress.h"
#include "analysis/input/trace_set.h"

#define PROG "cuguard report"

struct report_options {
    int json;
    int fail_on_set;
    unsigned char fail_on[FK_COUNT];
    struct suppressions suppressions;
    int verbose, print_suppressions, gen_suppressions;
    const char *baseline;
    int jobs; /* threads replaying traces; 0 = one per online CPU */
    char **paths;
    int npaths;
};

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: cuguard report [--format text|json] [--fail-on LIST] [--suppress FILE] "
            "[-j N] [--all] PATH...\n\n"
            "Replay the traces under each PATH (a trace directory such as ./cuguard-trace, or\n"
            ".cgt files; all processes are merged) and report leaks, misuse and hangs.\n"
            "A directory that 'cuguard run' wrote holds one subdirectory per run: the latest\n"
            "run is read, and one line on stderr says which.\n\n"
            "options:\n"
            "  --all               read every run of a trace directory, not only the latest\n"
            "  --format text|json  text (default) for people, json for tools\n"
            "  --fail-on LIST      exit 1 if a finding remains that matches LIST: 'error',\n"
            "                      'warning' (warnings and errors), or kinds such as\n"
            "                      leak.event,unknown-handle\n"
            "  --suppress FILE     ignore findings matching lines 'KIND PATTERN' of FILE\n"
            "                      (PATTERN: a glob on the task, the site, or any frame's\n"
            "                      function or FILE:LINE; # comments); may be repeated\n"
            "  --print-suppressions  list on stderr the suppressions that matched, with counts\n"
            "  --gen-suppressions  print a suppression line for each finding (stdout) instead\n"
            "                      of the report\n"
            "  --baseline OLD.json  show only findings whose fingerprint OLD.json (an earlier\n"
            "                      --format json report) does not have\n"
            "  -j, --jobs N        replay up to N traces at once, one thread each (default:\n"
            "                      one per online CPU, at most one per trace); the report\n"
            "                      is the same for any N\n"
            "  --verbose           every frame of each stack and every task\n"
            "  --help              this text\n\n"
            "exit status: 0 done, 1 a --fail-on finding remains, 2 unusable input or options\n");
}

/* "--opt VALUE" or "--opt=VALUE"; returns the value and advances *i, or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    int missing = 0;
    const char *v = cli_option_value(argc, argv, i, name, &missing);
    if (missing) {
        fprintf(stderr, "%s: %s needs a value\n", PROG, name);
        return "";
    }
    return v;
}

#define JOBS_MAX 1024

/* -j N, -jN, --jobs N, --jobs=N: 1 if argv[*i] was one (0 = not, -1 = bad). */
static int apply_jobs(struct report_options *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *v = NULL;
    int missing = 0;
    if (!strncmp(arg, "-j", 2) && arg[2] != '\0' && arg[2] != '=')
        v = arg + 2;
    else if (!(v = cli_option_value(argc, argv, i, "--jobs", &missing)) && !missing)
        v = cli_option_value(argc, argv, i, "-j", &missing);
    if (missing) {
        fprintf(stderr, "%s: %s needs a number of threads\n", PROG, arg);
        return -1;
    }
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (!*v || *end || errno || n < 1 || n > JOBS_MAX) {
        fprintf(stderr, "%s: -j/--jobs takes a number of threads from 1 to %d, not '%s'\n", PROG,
                JOBS_MAX, v);
        return -1;
    }
    o->jobs = (int)n;
    return 1;
}

static int apply_option(struct report_options *o, int argc, char **argv, int *i)
{
    const char *v;
    char err[512];
    int jobs = apply_jobs(o, argc, argv, i);
    if (jobs != 0)
        return jobs < 0 ? -1 : 0;
    if ((v = option_value(argc, argv, i, "--format"))) {
        if (!strcmp(v, "json") || !strcmp(v, "text")) {
            o->json = !strcmp(v, "json");
            return 0;
        }
        fprintf(stderr, "%s: --format must be text or json, not '%s'\n", PROG, v);
        return -1;
    }
    if ((v = option_value(argc, argv, i, "--fail-on"))) {
        if (findings_parse_fail_on(v, o->fail_on, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s\n", PROG, err);
            return -1;
        }
        o->fail_on_set = 1;
        return 0;
    }
    if ((v = option_value(argc, argv, i, "--baseline"))) {
        o->baseline = v;
        if (!*v) {
            fprintf(stderr, "%s: --baseline needs a JSON report\n", PROG);
            return -1;
        }
        return 0;
    }
    if ((v = option_value(argc, argv, i, "--suppress"))) {
        if (!*v || suppressions_load(&o->suppressions, v, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s\n", PROG, *v ? err : "--suppress needs a file");
            return -1;
        }
        return 0;
    }
    fprintf(stderr, "%s: unknown option '%s' (try --help)\n", PROG, argv[*i]);
    return -1;
}

/* The options without a value; 1 if `arg` was one. */
static int apply_flag(struct report_options *o, const char *arg)
{
    if (!strcmp(arg, "--verbose") || !strcmp(arg, "-v"))
        o->verbose = 1;
    else if (!strcmp(arg, "--print-suppressions"))
        o->print_suppressions = 1;
    else if (!strcmp(arg, "--gen-suppressions"))
        o->gen_suppressions = 1;
    else
        return 0;
    return 1;
}

/* Returns 0 to go on, 1 after --help, 2 on a bad option. */
static int parse_options(struct report_options *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            report_usage(stdout);
            return 1;
        }
        if (apply_flag(o, argv[i]))
            continue;
        if (!strcmp(argv[i], "--all")) {
            trace_set_read_all_runs(1);
            continue;
        }
        if (argv[i][0] != '-' || argv[i][1] == '\0')
            break;
        if (apply_option(o, argc, argv, &i) < 0)
            return 2;
    }
    o->paths = argv + i;
    o->npaths = argc - i;
    for (int j = 0; j < o->npaths; j++)
        if (o->paths[j][0] == '-' && o->paths[j][1] != '\0') {
            fprintf(stderr, "%s: options go before the paths: '%s'\n", PROG, o->paths[j]);
            return 2;
        }
    if (o->npaths == 0) {
        fprintf(stderr, "%s: give at least one trace directory or file (try --help)\n", PROG);
        return 2;
    }
    return 0;
}

static int apply_baseline(const struct report_options *o, struct analysis *a)
{
    if (!o->baseline)
        return 0;
    char err[512];
    long known = baseline_remove_known(&a->findings, o->baseline, err, sizeof err);
    if (known < 0) {
        fprintf(stderr, "%s: %s\n", PROG, err);
        return 2;
    }
    fprintf(stderr, "%s: %ld finding(s) also in the baseline %s, not shown\n", PROG, known,
            o->baseline);
    return 0;
}

static void write_output(const struct report_options *o, const struct analysis *a)
{
    if (o->gen_suppressions)
        suppressions_generate(stdout, &a->findings);
    else if (o->json)
        report_write_json(stdout, a);
    else {
        const struct report_text_options text = {.detail = REPORT_FULL, .verbose = o->verbose};
        report_write_text_with(stdout, a, &text);
    }
    if (o->print_suppressions)
        suppressions_print_used(stderr, &o->suppressions);
}

/* -j's default: the online CPUs (analyze_paths_jobs caps it at the traces). */
static int default_jobs(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > JOBS_MAX ? JOBS_MAX : (int)n;
}

int cmd_report(int argc, char **argv)
{
    struct report_options o;
    int rc = parse_options(&o, argc, argv);
    if (rc != 0) {
        suppressions_free(&o.suppressions);
        return rc == 1 ? 0 : 2;
    }
    struct analysis a;
    rc = analyze_paths_jobs(&a, o.paths, o.npaths, PROG, stderr, o.jobs ? o.jobs : default_jobs());
    if (rc == 0)
        rc = apply_baseline(&o, &a);
    if (rc == 0) {
        suppressions_apply(&o.suppressions, &a.findings);
        write_output(&o, &a);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "%s: could not write the report\n", PROG);
            rc = 2;
        } else if (o.fail_on_set && fail_gate_report(stderr, PROG, &a.findings, o.fail_on) > 0) {
            rc = 1;
        }
    }
    analysis_free(&a);
    suppressions_free(&o.suppressions);
    return rc;
}

int report_fail_on_check(const char *list, char *err, size_t errlen)
{
    unsigned char mask[FK_COUNT];
    return findings_parse_fail_on(list, mask, err, errlen);
}

int report_run_summary(char *const *paths, int npaths, const struct run_summary_options *o,
                       int *matched)
{
    struct analysis a;
    unsigned char mask[FK_COUNT];
    char err[256];
    int gate = o->fail_on && findings_parse_fail_on(o->fail_on, mask, err, sizeof err) == 0;
    int rc = analyze_paths(&a, paths, npaths, "cuguard", stderr, NULL, 0);
    if (rc == 0 && o->print) {
        const struct report_text_options text = {.detail = REPORT_BRIEF, .more_dir = o->dir};
        report_write_text_with(stderr, &a, &text);
    }
    if (matched)
        *matched = rc == 0 && gate && fail_gate_report(stderr, "cuguard", &a.findings, mask) > 0;
    analysis_free(&a);
    return rc;
}

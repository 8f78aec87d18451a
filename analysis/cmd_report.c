/*
 * analysis/cmd_report.c — `cuguard report`: options, then analyze and print.
 *
 * What it is for: parse `--format`, `--fail-on`, `--suppress`, read every
 * trace under the given paths, apply suppressions and write the text or JSON
 * report to stdout; exit 0, 1 (a finding the user asked to fail on
 * remains) or 2 (unusable options or no readable trace). Also the brief
 * summary `cuguard run` prints on stderr.
 *
 * What it must never do: write anything but the report to stdout (warnings
 * and errors go to stderr), or exit 1 for a suppressed finding.
 */
#include <stdio.h>
#include <string.h>

#include "analysis/analyze.h"
#include "analysis/commands.h"
#include "analysis/report.h"
#include "analysis/suppress.h"
#include "analysis/trace_set.h"

#define PROG "cuguard report"

struct report_options {
    int json;
    int fail_on_set;
    unsigned char fail_on[FK_COUNT];
    struct suppressions suppressions;
    char **paths;
    int npaths;
};

static void report_usage(FILE *out)
{
    fprintf(out,
            "usage: cuguard report [--format text|json] [--fail-on LIST] [--suppress FILE] "
            "[--all] PATH...\n\n"
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
            "                      (PATTERN: a glob on the task or the call site; # comments);\n"
            "                      may be given more than once\n"
            "  --help              this text\n\n"
            "exit status: 0 done, 1 a --fail-on finding remains, 2 unusable input or options\n");
}

/* "--opt VALUE" or "--opt=VALUE"; returns the value and advances *i, or NULL. */
static const char *option_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s: %s needs a value\n", PROG, name);
        return "";
    }
    return argv[++*i];
}

static int apply_option(struct report_options *o, int argc, char **argv, int *i)
{
    const char *v;
    char err[512];
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

int cmd_report(int argc, char **argv)
{
    struct report_options o;
    int rc = parse_options(&o, argc, argv);
    if (rc != 0) {
        suppressions_free(&o.suppressions);
        return rc == 1 ? 0 : 2;
    }
    struct analysis a;
    rc = analyze_paths(&a, o.paths, o.npaths, PROG, stderr, NULL, 0);
    if (rc == 0) {
        suppressions_apply(&o.suppressions, &a.findings);
        if (o.json)
            report_write_json(stdout, &a);
        else
            report_write_text(stdout, &a, REPORT_FULL);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "%s: could not write the report\n", PROG);
            rc = 2;
        } else if (o.fail_on_set && findings_match_mask(&a.findings, o.fail_on)) {
            rc = 1;
        }
    }
    analysis_free(&a);
    suppressions_free(&o.suppressions);
    return rc;
}

int report_summary(FILE *out, char *const *paths, int npaths, const unsigned char *fail_on)
{
    struct analysis a;
    int rc = analyze_paths(&a, paths, npaths, "cuguard", stderr, NULL, 0);
    if (rc == 0 && out)
        report_write_text(out, &a, REPORT_BRIEF);
    if (rc == 0 && fail_on && findings_match_mask(&a.findings, fail_on))
        rc = 1;
    analysis_free(&a);
    return rc;
}

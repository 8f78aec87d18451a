/*
 * analysis/cli/commands.h — the subcommands of the `cuguard` program.
 *
 * What it is for: one declaration per subcommand; analysis/cli/main.c dispatches
 * to them. Each returns the process exit status: 0 success, 1 findings that
 * the user asked to fail on, 2 unusable input or options.
 *
 * What it must never do: hold state; every command parses its own options.
 */
#ifndef CUGUARD_ANALYSIS_COMMANDS_H
#define CUGUARD_ANALYSIS_COMMANDS_H

#include <stddef.h>

int cmd_run(int argc, char **argv);    /* analysis/cli/cmd_run.c */
int cmd_dump(int argc, char **argv);   /* analysis/cli/cmd_dump.c */
int cmd_report(int argc, char **argv); /* analysis/cli/cmd_report.c */
int cmd_export(int argc, char **argv); /* analysis/cli/cmd_export.c */

#include <stdio.h>

/* The text summary of the given traces, used by `cuguard run` when the
 * command ends, with the CI gate of `--fail-on` (analysis/cli/fail_gate.h): print the summary when
 * `print`; with `fail_on` (a --fail-on list), say on stderr which findings matched and set
 * *matched. `dir` is named in the
 * "... N more: cuguard report DIR" line. Returns 0, or 2 if nothing was
 * readable. */
struct run_summary_options {
    int print;
    const char *fail_on;
    const char *dir;
};
int report_run_summary(char *const *paths, int npaths, const struct run_summary_options *o,
                       int *matched);

/* 0 if `list` is a valid --fail-on value, else -1 with the reason in err. */
int report_fail_on_check(const char *list, char *err, size_t errlen);

#endif

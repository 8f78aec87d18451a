/*
 * analysis/commands.h — the subcommands of the `cuguard` program.
 *
 * What it is for: one declaration per subcommand; analysis/main.c dispatches
 * to them. Each returns the process exit status: 0 success, 1 findings that
 * the user asked to fail on, 2 unusable input or options.
 *
 * What it must never do: hold state; every command parses its own options.
 */
#ifndef CUGUARD_ANALYSIS_COMMANDS_H
#define CUGUARD_ANALYSIS_COMMANDS_H

int cmd_run(int argc, char **argv);    /* analysis/cmd_run.c */
int cmd_dump(int argc, char **argv);   /* analysis/cmd_dump.c */
int cmd_report(int argc, char **argv); /* analysis/cmd_report.c */
int cmd_export(int argc, char **argv); /* analysis/cmd_export.c */

#include <stdio.h>

/* Print the short text summary of the given traces (files or directories)
 * to `out` (NULL: print nothing); used by `cuguard run` when the command
 * ends, with the traces that run wrote. Returns 0; 1 when `fail_on` (a
 * findings.h mask, or NULL) matches a finding; 2 if nothing was readable. */
int report_summary(FILE *out, char *const *paths, int npaths, const unsigned char *fail_on);

#endif

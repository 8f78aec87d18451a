/*
 * analysis/cli/fail_gate.h — the CI gate: which findings match --fail-on, said
 * on stderr.
 *
 * What it is for: `cuguard report --fail-on` (exit 1) and `cuguard run
 * --fail-on` (exit 66, or --error-exitcode N) both name the findings that
 * made them fail, one line each (capped), so a CI log shows why.
 *
 * What it must never do: count a suppressed finding, or print on stdout.
 */
#ifndef CUGUARD_ANALYSIS_FAIL_GATE_H
#define CUGUARD_ANALYSIS_FAIL_GATE_H

#include <stddef.h>
#include <stdio.h>

#include "analysis/base/findings.h"

#define FAIL_GATE_DEFAULT_EXITCODE 66
#define FAIL_GATE_MAX_LINES 20

/* Number of unsuppressed findings whose kind is in mask; with `out`, one
 * line per match ("PROG: --fail-on matched: warning leak.event x300 at
 * SITE (300 tasks)"), at most FAIL_GATE_MAX_LINES, then "... N more". */
size_t fail_gate_report(FILE *out, const char *prog, const struct finding_set *set,
                        const unsigned char mask[FK_COUNT]);

#endif

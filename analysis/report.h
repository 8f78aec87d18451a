/*
 * analysis/report.h — the outputs of `cuguard report`.
 *
 * What it is for: the text report a person reads (one block per finding,
 * most severe first, then a summary table and the SUMMARY line), its brief
 * form for `cuguard run`, and the JSON document a CI gate reads. The JSON
 * keys are a contract: more may be added, none renamed or removed.
 *
 * What it must never do: print a suppressed finding, or change the analysis.
 */
#ifndef CUGUARD_ANALYSIS_REPORT_H
#define CUGUARD_ANALYSIS_REPORT_H

#include <stdio.h>

#include "analysis/analyze.h"

enum report_detail {
    REPORT_FULL,  /* every finding as a block, the summary table, calls */
    REPORT_BRIEF, /* one line per finding and the SUMMARY line */
};

void report_write_text(FILE *out, const struct analysis *a, enum report_detail detail);
void report_write_json(FILE *out, const struct analysis *a);

/* Seconds since the start of the finding's process ("+1.234 s"). */
double report_seconds_since_start(uint64_t ts_ns, uint64_t start_ns);

#endif

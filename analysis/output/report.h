/*
 * analysis/output/report.h — the outputs of `cuguard report`.
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

/* The text report with its knobs (report_write_text uses the defaults). */
struct report_text_options {
    enum report_detail detail;
    int verbose;          /* FULL: every frame (tool frames marked) and every task */
    size_t brief_max;     /* BRIEF: finding lines before "... N more" (0 = 20) */
    const char *more_dir; /* BRIEF: the directory named in "... N more: cuguard report DIR" */
    unsigned width;       /* wrap at this many columns (0 = 100) */
};
void report_write_text_with(FILE *out, const struct analysis *a,
                            const struct report_text_options *o);

/* "SUMMARY: cuguard: 2 errors (kind site, ...), 1 warning (...)" without
 * the newline: the last line of the text report and of the run summary. */
void report_write_summary_line(FILE *out, const struct analysis *a);
void report_write_json(FILE *out, const struct analysis *a);

/* Seconds since the start of the finding's process ("+1.234 s"). */
double report_seconds_since_start(uint64_t ts_ns, uint64_t start_ns);

#endif

/*
 * tests/unit/analysis_testlib.h — shared helpers of the analyzer's unit
 * suites: analyze a directory of synthetic traces and look up findings.
 *
 * What it must never do: hide a failure; every helper asserts (Check) what
 * it relies on.
 */
#ifndef CUGUARD_TESTS_ANALYSIS_TESTLIB_H
#define CUGUARD_TESTS_ANALYSIS_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/analyze.h"
#include "tests/unit/trace_builder.h"

/* A scratch directory holding one synthetic trace, and its analysis. */
struct scratch_trace {
    char *dir;
    char path[4096]; /* the trace file inside dir */
    struct analysis result;
    int analyzed;
};

/* Creates the directory (a Check fixture's setup). */
void scratch_setup(struct scratch_trace *s);

/* Frees the analysis, if any, and removes the directory. */
void scratch_teardown(struct scratch_trace *s);

/* Ends the trace `b` — with a clean process exit written by thread
 * `exit_tid`, or none when it is 0 (a killed process) — and analyzes the
 * directory into s->result. */
const struct analysis *scratch_finish(struct scratch_trace *s, struct tb *b, uint32_t exit_tid);

/* Replays every trace in `dir` into *a, warnings discarded; asserts success. */
void analyze_dir(struct analysis *a, const char *dir);

/* Number of findings (groups) of one kind. */
size_t findings_of_kind(const struct analysis *a, enum finding_kind kind);

/* Occurrences of one kind: the sum of the groups' counts. */
uint64_t occurrences_of_kind(const struct analysis *a, enum finding_kind kind);

/* The first finding of one kind, or NULL. */
const struct finding *first_of_kind(const struct analysis *a, enum finding_kind kind);

#endif

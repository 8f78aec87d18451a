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

/* Replays every trace in `dir` into *a, warnings discarded; asserts success. */
void analyze_dir(struct analysis *a, const char *dir);

/* Number of findings (groups) of one kind. */
size_t findings_of_kind(const struct analysis *a, enum finding_kind kind);

/* Occurrences of one kind: the sum of the groups' counts. */
uint64_t occurrences_of_kind(const struct analysis *a, enum finding_kind kind);

/* The first finding of one kind, or NULL. */
const struct finding *first_of_kind(const struct analysis *a, enum finding_kind kind);

#endif

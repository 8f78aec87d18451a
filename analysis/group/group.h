/*
 * analysis/group/group.h — one finding per cause.
 *
 * What it is for: the stage after attribution. Findings of one kind from
 * one user stack (same fingerprint; for findings without a stack, the same
 * site and API) are merged across tasks and processes into one: counts and
 * bytes summed, first and last time, the number of tasks (tests) and
 * processes, and the per-task parts kept for the JSON report. A leak of one
 * line in 1,000 tests is one finding with 1,000 tasks.
 *
 * What it must never do: merge findings of different kinds, or lose a
 * part's count.
 */
#ifndef CUGUARD_ANALYSIS_GROUP_H
#define CUGUARD_ANALYSIS_GROUP_H

#include "analysis/base/findings.h"

void group_findings(struct finding_set *set);

#endif

/*
 * analysis/group/residue.h — tell a leak (growth) from residue.
 *
 * What it is for: the stage after grouping. A grouped leak whose objects
 * were all created in the last tenth of its process's tasks (a process that
 * ran at least RESIDUE_MIN_TASKS tasks) did not grow with the tests: it is
 * a library's pool or deferred-destroy queue (numba queues up to 10
 * destroys and never flushes them at exit) when their owner
 * (analysis/attribute/ownership.h: the binding's allocation path, else the creating
 * line) destroyed other objects it made in that process. It becomes one
 * info-level `live-at-exit` finding, "N objects live at exit", instead of a
 * warning. A site whose objects were left behind from early tasks on, or
 * whose owner never destroyed anything, is the leak.
 *
 * What it must never do: turn a leak of a process without tasks (or with
 * few) into residue, or change a finding that is not a leak.
 */
#ifndef CUGUARD_ANALYSIS_RESIDUE_H
#define CUGUARD_ANALYSIS_RESIDUE_H

#include <stddef.h>

#include "analysis/analyze.h"

#define RESIDUE_MIN_TASKS 10u
/* Residue: every leaked object created after this share of the tasks began. */
#define RESIDUE_LATE_SHARE 0.9

void residue_classify(struct finding_set *set, const struct process_info *procs, size_t nprocs);

#endif

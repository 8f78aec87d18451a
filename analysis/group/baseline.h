/*
 * analysis/group/baseline.h — `cuguard report --baseline OLD.json`: show only the
 * findings that are new since an earlier report.
 *
 * What it is for: a CI job keeps the JSON report of the main branch; a
 * change is judged by the findings whose fingerprint that report lacks.
 *
 * What it must never do: treat an unreadable baseline as empty (that would
 * report everything as new and say nothing): it is an error.
 */
#ifndef CUGUARD_ANALYSIS_BASELINE_H
#define CUGUARD_ANALYSIS_BASELINE_H

#include <stddef.h>

#include "analysis/base/findings.h"

/* Remove from `set` every finding whose fingerprint occurs in the JSON
 * report at `path`. Returns how many were removed, or -1 with a reason in
 * err (unreadable file, not a cuguard report). */
long baseline_remove_known(struct finding_set *set, const char *path, char *err, size_t errlen);

#endif

/*
 * analysis/attribute/attribute.h — give each finding the user's line: symbolize its
 * stack and name the site.
 *
 * What it is for: the stage after the findings are raised and before they
 * are grouped. A finding (or its created/destroyed origin) whose site is a
 * stack string (tracer/format.h) gets the structured frames, a fingerprint
 * and, as its site, the label of the innermost user frame
 * (analysis/stacks/stack.h). Sites that are plain strings (calls that carry only
 * their innermost frame, version 1 traces) are left as they are.
 *
 * What it must never do: read a trace (the modules were collected by the
 * replay), or drop a finding.
 */
#ifndef CUGUARD_ANALYSIS_ATTRIBUTE_H
#define CUGUARD_ANALYSIS_ATTRIBUTE_H

#include <stddef.h>

#include "analysis/base/findings.h"
#include "analysis/stacks/stack.h"

/* The modules of process i of the run (findings name processes by index). */
struct process_modules {
    const struct trace_module *modules;
    size_t n;
};

void attribute_findings(struct finding_set *set, const struct process_modules *procs,
                        size_t nprocs);

#endif

/*
 * analysis/group/suppress.h — suppression files for `cuguard report --suppress`.
 *
 * What it is for: lines of the form `KIND PATTERN`, where KIND is a finding
 * kind (or a glob over kinds, e.g. `leak.*`) and PATTERN a shell glob matched
 * against the finding's task, its site, or any frame of its stack: the
 * function name, "FILE:LINE" (full path) or the frame's label, so
 * `leak.event *chunk_buffer_pool.py:*` or `unknown-handle _process_task`
 * work; `#` starts a comment, blank lines are ignored — like a sanitizer
 * suppression file.
 *
 * What it must never do: accept a line it does not understand silently (a
 * typo in a suppression file would hide nothing and say nothing).
 */
#ifndef CUGUARD_ANALYSIS_SUPPRESS_H
#define CUGUARD_ANALYSIS_SUPPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analysis/base/findings.h"

struct suppression {
    char *kind;    /* glob over kind names */
    char *pattern; /* glob over task, site or a frame */
    uint64_t used; /* findings it suppressed (suppressions_apply) */
};

struct suppressions {
    struct suppression *items;
    size_t count;
};

/* Load a file. Returns 0, or -1 with a one-line reason in err (naming the
 * line for a malformed entry). */
int suppressions_load(struct suppressions *s, const char *path, char *err, size_t errlen);
/* Parse one line (without newline); 0 ok or blank, -1 malformed. */
int suppressions_add_line(struct suppressions *s, const char *line, char *err, size_t errlen);
void suppressions_free(struct suppressions *s);

/* 1 if the finding matches a suppression. */
int suppression_matches(const struct suppressions *s, const struct finding *f);
/* Mark every matching finding suppressed; returns how many. */
size_t suppressions_apply(struct suppressions *s, struct finding_set *set);

/* --print-suppressions: each suppression that matched and how often. */
void suppressions_print_used(FILE *out, const struct suppressions *s);
/* --gen-suppressions: one line per unsuppressed finding that suppresses it
 * (the kind and its site frame's FILE:LINE, or its site). */
void suppressions_generate(FILE *out, const struct finding_set *set);

#endif

/*
 * analysis/input/run_dir.h — the per-run subdirectories of a trace directory.
 *
 * What it is for: `cuguard run --dir D` traces into D/run-YYYYmmdd-HHMMSS-PID/
 * and, once that run wrote a trace, points D/latest (a symbolic link) at it,
 * so two runs into one directory never merge. `cuguard report D` reads the
 * latest run (trace_set.c). This file holds that naming in one place.
 *
 * What it must never do: create the run directory itself (the shim creates
 * it at the first CUDA call, so a run that never touches CUDA leaves nothing
 * behind), or delete anything but the `latest` link it replaces.
 */
#ifndef CUGUARD_ANALYSIS_RUN_DIR_H
#define CUGUARD_ANALYSIS_RUN_DIR_H

#include <stddef.h>

#define RUN_DIR_PREFIX "run-"
#define RUN_DIR_LATEST "latest"

/* "run-YYYYmmdd-HHMMSS-PID" for now and this process. */
void run_dir_new_name(char *out, size_t len);

/* 1 when `name` looks like a run subdirectory's name. */
int run_dir_is_run_name(const char *name);

/* Whether traces can be written under `dir` (it, or its nearest existing
 * ancestor, is a writable directory). On 0, `why` says what is wrong. */
int run_dir_writable(const char *dir, char *why, size_t len);

/* Point dir/latest at dir/name (atomically replacing an older link).
 * Returns 0 or -1 (errno set). */
int run_dir_mark_latest(const char *dir, const char *name);

/* The run `dir/latest` names, if it is a link to an existing run
 * subdirectory: copied to out, returns 0; else -1. */
int run_dir_read_latest(const char *dir, char *out, size_t len);

#endif

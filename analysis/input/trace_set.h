/*
 * analysis/input/trace_set.h — turn the PATH arguments of a command into the list
 * of trace files to read.
 *
 * What it is for: a PATH is a trace file or a directory whose *.cgt files
 * are the traces of one run (one file per process). A directory written by
 * `cuguard run` holds one subdirectory per run instead (run_dir.h): then the
 * latest run is read and one line on `warn` says so, or every run when
 * trace_set_read_all_runs(1) was called (the commands' --all). Problems with
 * a path are reported here, one line each, and the other paths still count.
 *
 * What it must never do: open the files (the analysis does, so a file that
 * vanishes in between is just another per-file warning), or recurse deeper
 * than the run subdirectories.
 */
#ifndef CUGUARD_ANALYSIS_TRACE_SET_H
#define CUGUARD_ANALYSIS_TRACE_SET_H

#include <stddef.h>
#include <stdio.h>

struct trace_set {
    char **files; /* sorted within each directory */
    size_t count;
    size_t problems; /* paths that gave a warning */
};

/* Collect files; warnings go to `warn` prefixed with `prog`. Returns 0, or
 * -1 when out of memory. */
int trace_set_collect(struct trace_set *set, char *const *paths, int npaths, const char *prog,
                      FILE *warn);
void trace_set_free(struct trace_set *set);

/* Set once from a command's options, before trace_set_collect: read every
 * run of a trace directory (1) or only the latest (0, the default). */
void trace_set_read_all_runs(int all);

#endif

/*
 * analysis/output/export_perfetto.h — `cuguard export --perfetto`: a timeline.
 *
 * What it is for: Chrome trace-event JSON that ui.perfetto.dev (and
 * chrome://tracing) opens: one process per traced pid; a track per host
 * thread with its API calls as slices (an ENTER/EXIT pair is one slice, a
 * spin of NOT_READY polls is one slice); a track per stream with the work
 * enqueued on it; each event record's path to its completion as a flow
 * (from the record on its stream to the call that first showed it complete,
 * or to the point its completion stopped being knowable — both ends are
 * always present); counters of live events, streams and pinned bytes; and
 * every finding as an instant marker.
 *
 * With EXPORT_PROTO the same timeline is Perfetto's native protobuf trace
 * (analysis/output/export_proto.h), which its UI and trace processor read.
 *
 * What it must never do: hold the timeline in memory (events are written as
 * the replay produces them), or write a flow with one end.
 */
#ifndef CUGUARD_ANALYSIS_EXPORT_PERFETTO_H
#define CUGUARD_ANALYSIS_EXPORT_PERFETTO_H

#include <stdio.h>

#include <stdint.h>

enum export_format { EXPORT_JSON = 0, EXPORT_PROTO = 1 };

/* What to write, and which part of the run. Times are seconds after each
 * process's start, as in the report ("+1.5 s"), in nanoseconds. */
struct export_options {
    enum export_format format;
    int has_pid;
    uint32_t pid;      /* only this process (every trace of that pid) */
    uint64_t since_ns; /* only what happened at or after this */
    uint64_t until_ns; /* ... and at or before this (UINT64_MAX: no limit) */
    FILE *progress;    /* progress lines go here (a terminal), NULL = none */
};

/* Write the timeline of the traces under `paths` to `out`. Warnings go to
 * `warn` prefixed by `prog`. Returns 0, or 2 when no trace was readable. */
int export_perfetto(FILE *out, char *const *paths, int npaths, const char *prog, FILE *warn);
/* The same with options (export_perfetto: JSON, everything, no progress).
 * A flow whose start is written always gets its end, even past until_ns. */
int export_perfetto_with(FILE *out, char *const *paths, int npaths, const char *prog, FILE *warn,
                         const struct export_options *opt);

#endif

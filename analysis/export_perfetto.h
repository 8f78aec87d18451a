/*
 * analysis/export_perfetto.h — `cuguard export --perfetto`: a timeline.
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
 * What it must never do: hold the timeline in memory (events are written as
 * the replay produces them), or write a flow with one end.
 */
#ifndef CUGUARD_ANALYSIS_EXPORT_PERFETTO_H
#define CUGUARD_ANALYSIS_EXPORT_PERFETTO_H

#include <stdio.h>

/* Write the timeline of the traces under `paths` to `out`. Warnings go to
 * `warn` prefixed by `prog`. Returns 0, or 2 when no trace was readable. */
int export_perfetto(FILE *out, char *const *paths, int npaths, const char *prog, FILE *warn);

#endif

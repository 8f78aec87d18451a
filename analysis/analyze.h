/*
 * analysis/analyze.h — read every trace of a run and replay it.
 *
 * What it is for: the one pipeline behind `report`, `export` and the summary
 * `cuguard run` prints. It opens each trace (one line per unusable file),
 * merges the processes' records in time order (so run-wide peaks are real),
 * replays them, and keeps what the outputs need: per-process facts, run
 * totals, calls per API name and the grouped findings.
 *
 * What it must never do: hold more than one chunk of records per trace, or
 * give up on the run because one file is bad.
 */
#ifndef CUGUARD_ANALYSIS_ANALYZE_H
#define CUGUARD_ANALYSIS_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include <uthash.h>

#include "analysis/base/findings.h"
#include "analysis/replay/interventions.h"
#include "analysis/attribute/ownership.h"
#include "analysis/replay/replay.h"
#include "analysis/stacks/stack.h"

/* Traces read together; more are merged batch by batch. */
#define ANALYZE_BATCH_FILES 256

struct process_info {
    uint32_t pid, ppid;
    char *host;
    char tool_version[32]; /* the cuguard that wrote the trace; "" before format 2 */
    char **argv;           /* argc strings */
    uint32_t argc;
    char label[32]; /* the header's label, e.g. the pytest-xdist worker "gw3"; "" when none */
    int complete;
    uint64_t records;
    char *trace;
    uint64_t start_mono_ns, first_ts, last_ts;
    /* The process died of a signal inside a driver call (crash_* unset if not). */
    int crashed;
    char crash_signal[24]; /* "SIGSEGV" */
    char *crash_api;       /* the driver call it died in */
    uint32_t crash_tid;
    char *crash_thread; /* that thread's name, or NULL */
    uint64_t crash_handle;
    /* Tracing stopped early (disk full, descriptor lost, file truncated). */
    int cut_short;
    double cut_short_s;        /* seconds after the start */
    char cut_short_reason[64]; /* printable; "" when none given */
    /* Its CG_REC_MODULE records, for symbolizing stacks (analysis/stacks/stack.h). */
    struct trace_module *modules;
    size_t nmodules;
    /* When each task began (CG_REC_TASK naming a task), in trace order. */
    uint64_t *task_starts;
    size_t ntask_starts;
    /* Creation stacks of the objects it destroyed (analysis/attribute/ownership.h). */
    struct ownership *ownership;
};

struct call_count {
    char *name;
    uint64_t count;
    UT_hash_handle hh;
};

struct analysis {
    struct finding_set findings;
    struct replay_totals totals;
    struct process_info *procs;
    size_t nprocs;
    struct call_count *calls; /* by API name, sorted by name after the run */
    size_t unusable_files;
    /* The chain that explains a hang (stall, blocked-at-exit, poller-exited),
     * one sentence per step, oldest first; empty when there is none. */
    char **diagnosis;
    size_t ndiagnosis;
    struct interventions interventions; /* what the policies changed */
};

/* Read and replay every trace under `paths`. Warnings go to `warn` prefixed
 * with `prog`. The happens-before model (hb_model.h) always runs and fills
 * `diagnosis`; extra hooks (up to REPLAY_MAX_HOOKS - 6) see every process.
 * Returns 0 when at least one trace was read, 2 when none was (or on
 * allocation failure); the analysis must be freed either way. */
int analyze_paths(struct analysis *a, char *const *paths, int npaths, const char *prog, FILE *warn,
                  const struct replay_hooks *const *hooks, int nhooks);
/* The same, for `report -j`: with jobs > 1, each trace is replayed alone on
 * one of `jobs` threads (no more threads than traces) and the results are
 * merged in the order the serial run makes (analysis/group/run_merge.h), so
 * the analysis is the same for any jobs. No extra hooks: they would see the
 * processes in another order. */
int analyze_paths_jobs(struct analysis *a, char *const *paths, int npaths, const char *prog,
                       FILE *warn, int jobs);
void analysis_free(struct analysis *a);

#endif

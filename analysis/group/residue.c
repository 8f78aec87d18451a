/*
 * analysis/group/residue.c — leak or residue (analysis/group/residue.h).
 *
 * What it is for: for each part (process, task) of a grouped leak, the
 * share of that process's tasks that had begun before the part's first
 * leaked object was created; the group is residue when every part is late
 * and, in its process, the objects' owner (analysis/attribute/ownership.h) destroyed
 * others it made.
 *
 * What it must never do: reclassify a group one of whose parts is in a
 * process it cannot find.
 */
#include "analysis/group/residue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_leak(enum finding_kind k)
{
    return k == FK_LEAK_EVENT || k == FK_LEAK_STREAM || k == FK_LEAK_PINNED;
}

static const struct process_info *process_by_pid(const struct process_info *procs, size_t n,
                                                 uint32_t pid)
{
    for (size_t i = 0; i < n; i++)
        if (procs[i].pid == pid)
            return &procs[i];
    return NULL;
}

/* Tasks of `p` that began at or before ts_ns (task starts are in order). */
static size_t tasks_begun_by(const struct process_info *p, uint64_t ts_ns)
{
    size_t lo = 0, hi = p->ntask_starts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->task_starts[mid] <= ts_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int part_is_late(const struct finding_part *part, const struct process_info *p)
{
    if (!p || p->ntask_starts < RESIDUE_MIN_TASKS)
        return 0;
    size_t begun = tasks_begun_by(p, part->ts_ns);
    return (double)begun >= RESIDUE_LATE_SHARE * (double)p->ntask_starts;
}

/* Late, and its owner destroyed others it made in that process. */
static int part_is_residue(const struct finding *f, const struct finding_part *part,
                           const struct process_info *p)
{
    return part_is_late(part, p) && ownership_owner_destroys(p->ownership, f);
}

static int is_residue(const struct finding *f, const struct process_info *procs, size_t n)
{
    if (!is_leak(f->kind) || f->nparts == 0)
        return 0;
    for (size_t i = 0; i < f->nparts; i++)
        if (!part_is_residue(f, &f->parts[i], process_by_pid(procs, n, f->parts[i].pid)))
            return 0;
    return 1;
}

static void make_residue(struct finding *f)
{
    char msg[512];
    const char *what = f->kind == FK_LEAK_EVENT    ? "event"
                       : f->kind == FK_LEAK_STREAM ? "stream"
                                                   : "pinned range";
    snprintf(msg, sizeof msg,
             "%" PRIu64 " %s%s live at exit, all created in the last tasks of the run (not "
             "growing with the tests) by an owner that destroyed others it made: a pool or "
             "deferred-destroy queue, not a leak.",
             f->count, what, f->count == 1 ? "" : "s");
    char *copy = strdup(msg);
    if (copy) {
        free(f->message);
        f->message = copy;
    }
    f->kind = FK_LIVE_AT_EXIT;
}

void residue_classify(struct finding_set *set, const struct process_info *procs, size_t nprocs)
{
    for (struct finding *f = set->table; f; f = f->hh.next)
        if (is_residue(f, procs, nprocs))
            make_residue(f);
}

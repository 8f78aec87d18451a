/*
 * analysis/group/run_merge.h — put the results of traces analyzed one per
 * thread (`cuguard report -j`) together as the serial merge would have made
 * them.
 *
 * What it is for: the serial analysis (analysis/analyze.c) replays the
 * records of all processes in one order: a record goes when its trace's key
 * (the latest time up to it) is the smallest, ties to the lower trace index.
 * A trace analyzed alone notes, for what it produced, the key of the record
 * that produced it: each finding first raised, each intervention note, each
 * change of a live count (events, streams, pinned bytes); the diagnosis at
 * its end. Merging those lists by (key, trace index) gives the serial order
 * back, so the findings' order, the notes, the diagnosis and the run-wide
 * peaks are the same for any number of threads. Totals and call counts are
 * sums.
 *
 * Memory: findings, notes and diagnosis lines keep one key each; the
 * changes of the live counts (one entry per change not folded into the
 * previous one: same key, same direction) are merged and dropped after
 * each round of the replay (analysis/analyze.c), never kept per record.
 *
 * What it must never do: read a trace, change a part another thread still
 * writes (merge after the threads of a batch ended), or reorder what one
 * trace produced.
 */
#ifndef CUGUARD_ANALYSIS_RUN_MERGE_H
#define CUGUARD_ANALYSIS_RUN_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/analyze.h"

enum { RUN_LIVE_EVENTS, RUN_LIVE_STREAMS, RUN_LIVE_PINNED_BYTES, RUN_LIVE_COUNT };

/* A trace's live count changed by `delta` at merge key `key`. */
struct run_change {
    uint64_t key;
    int64_t delta;
};

struct run_changes {
    struct run_change *v;
    size_t n, cap;
};

/* One trace analyzed alone. */
struct run_part {
    int index; /* the trace's position in the run (its process_info) */
    int empty; /* it had no record: the serial run ended it before any record */
    /* Its findings, totals, calls, interventions and diagnosis; `procs` is
     * the run's array (this trace writes only its own entry). */
    struct analysis sub;
    uint64_t *finding_keys; /* key of each finding, in the set's insertion order */
    size_t nfinding_keys, cap_finding_keys;
    uint64_t note_keys[INTERVENTION_NOTES_MAX];
    uint64_t end_key; /* the key of its last record: the diagnosis comes then */
    struct run_changes live[RUN_LIVE_COUNT];
    uint64_t seen_live[RUN_LIVE_COUNT]; /* live counts at the last run_part_note */
    size_t seen_notes;
    int failed; /* out of memory while noting */
};

/* After each record (and after the trace's end): give what the part gained
 * since the last call the key `key`. */
void run_part_note(struct run_part *part, uint64_t key);

/* Merge the live-count changes noted so far (all of a lower key than any
 * noted later: the replay goes in rounds of keys) into a's totals and
 * peaks, and forget them. Returns how many there were, -1 if a part ran
 * out of memory. */
long run_merge_live(struct analysis *a, struct run_part *parts, size_t n);

/* Merge the parts of one batch (traces in index order, after every part of
 * earlier batches) into `a`, emptying them. Returns 0, -1 if a part ran out
 * of memory while noting (its order could not be kept). */
int run_merge(struct analysis *a, struct run_part *parts, size_t n);

/* Free what a part still holds (after run_merge, or instead of it). */
void run_part_free(struct run_part *part);

#endif

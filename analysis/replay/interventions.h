/*
 * analysis/replay/interventions.h — "what cuguard changed": the policies' records.
 *
 * What it is for: counting the CG_REC_POLICY records of a run (format.h
 * enum cg_policy_action) and keeping a few readable lines about them: which
 * stale or foreign calls were refused, which streams were drained and what
 * was still pending on them (the calls enqueued on the stream since the
 * last host-side proof of completion), what was reclaimed. The text report
 * prints them as one section, the JSON report as "interventions".
 *
 * What it must never do: raise findings (the policies change nothing the
 * findings say: a refused call is still the program's bug), or keep more
 * than INTERVENTION_NOTES_MAX lines.
 */
#ifndef CUGUARD_ANALYSIS_INTERVENTIONS_H
#define CUGUARD_ANALYSIS_INTERVENTIONS_H

#include <stdint.h>
#include <stdio.h>

#include "analysis/base/json_writer.h"
#include "analysis/replay/replay.h"

#define INTERVENTION_NOTES_MAX 40

struct pending_on_stream; /* per (process, live stream): calls not yet proven complete */

struct interventions {
    uint64_t refused;           /* calls that never reached the driver */
    uint64_t deferred_destroys; /* destroys held in ownership's quarantine */
    uint64_t stale_answered;    /* stale calls answered by a quarantined object */
    uint64_t released;          /* quarantined objects destroyed later */
    uint64_t drained_streams;
    uint64_t reclaimed;         /* leaked objects destroyed by the shim */
    uint64_t reclaimed_at_exit; /* of which at process exit */
    uint64_t reclaimed_uses;    /* later uses of a reclaimed object answered */
    uint64_t sync_queries;      /* queries that waited for completion */
    uint64_t redirected;        /* legacy-stream calls sent to the per-thread stream */
    uint64_t non_blocking;      /* streams created non-blocking */
    uint64_t held;              /* new objects kept back: their value was a reclaimed one's */
    uint64_t held_released;     /* of which destroyed later */
    uint64_t aborted;           /* calls CUGUARD_ON_ERROR=abort stopped the program at */
    char *notes[INTERVENTION_NOTES_MAX];
    size_t nnotes;
    uint64_t notes_dropped;
    struct pending_on_stream *pending;
    /* direct-mapped cache in front of `pending` (replay_cache_slot of the stream) */
    struct pending_on_stream *pending_cache[REPLAY_CACHE_SLOTS];
};

/* A step of a record that is no call (PHASE_OTHER): counts the POLICY
 * records (analysis/analyze.c calls it from its records hook). */
void interventions_record(struct interventions *iv, struct replay_process *p,
                          const struct replay_step *s);

/* The replay step hooks that follow the calls on streams (user = iv), one
 * per kind of call, each with the ops it reads as its step_mask: fills
 * hooks[0 .. INTERVENTIONS_CALL_HOOKS - 1], returns how many. */
#define INTERVENTIONS_CALL_HOOKS 3
int interventions_call_hooks(struct interventions *iv, struct replay_hooks *hooks);

/* The process's trace ended: forget its streams and events. */
void interventions_process_end(struct interventions *iv, const struct replay_process *p);

/* 1 when any policy record was seen. */
int interventions_any(const struct interventions *iv);

/* The "what cuguard changed" section (nothing when there was none). */
void interventions_write_text(FILE *out, const struct interventions *iv);

/* "interventions": {...} as one key of the current JSON object. */
void interventions_write_json(struct json_writer *w, const struct interventions *iv);

void interventions_free(struct interventions *iv);

#endif

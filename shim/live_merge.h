/*
 * shim/live_merge.h — the watchdog's reading of its own, still growing,
 * trace in the order of tracer/format.h "Batches".
 *
 * What it is for: shim/pending_events.c replays the trace while threads
 * are still filling their batches. Each update reads the batches that
 * appeared since the last one and the batches still open (slots not yet
 * filled), and hands every record not seen before to `replay` in the
 * order of "Batches" (tracer/order.h), so a record of one thread that
 * really came before another thread's is replayed first.
 *
 * What it must never do: use malloc (its memory comes from mmap, see
 * shim/pending_events.h), run outside the watchdog thread, write to the
 * trace, or replay a record twice or half-written.
 */
#ifndef CUGUARD_SHIM_LIVE_MERGE_H
#define CUGUARD_SHIM_LIVE_MERGE_H

#include <stdint.h>

#include "tracer/format.h"

typedef void (*cg_live_replay_fn)(const struct cg_record *r);

/* Replay what the trace open on `fd` (slots_in_file slots long) gained
 * since the last update: returns the number of records replayed. A record
 * is taken only when its kind was non-zero in a first read and then equal
 * in a second one (its fields come from the second). */
uint64_t cg_live_merge_update(int fd, uint64_t slots_in_file, cg_live_replay_fn replay);

/* Start over at slot 0 (a new file, a fork child). */
void cg_live_merge_reset(void);

#endif

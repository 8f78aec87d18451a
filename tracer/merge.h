/*
 * tracer/merge.h — the offline reader's window over a version 4 trace,
 * handing records out in the order of format.h "Batches".
 *
 * What it is for: tracer/reader.c's fast path. Slots are read straight into
 * a ring (no copy per record); each thread's records queue as runs of
 * consecutive slots, keyed by tracer/order.h's cg_order_key, merged by a
 * heap over threads; runs come out by pointer into the ring. A record is
 * handed out once it is the least queued one while at least
 * CG_MERGE_WINDOW records are queued (or the file ended), the rule of the
 * copying merge it replaced: exact while fewer than CG_MERGE_WINDOW / 64
 * threads fill batches at once. A thread lagging behind (descheduled with
 * its batch open) has its queued runs moved out of the ring so reading goes
 * on; only when no block is left is the least record handed out early.
 *
 * What it must never do: read the file but through the caller's read
 * function, allocate after cg_merge_new, trust a record (any tid, kind or
 * time is merged without harm), or hand out a BATCH record.
 */
#ifndef CUGUARD_TRACER_MERGE_H
#define CUGUARD_TRACER_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/format.h"

#define CG_MERGE_WINDOW 65536u

/* Read up to n whole records from `slot` on into dst; returns how many
 * (fewer at the end of what may be read). */
typedef uint32_t (*cg_merge_read_fn)(void *ctx, struct cg_record *dst, uint64_t slot, uint32_t n);

struct cg_merge;

/* NULL when out of memory. Corrupt slots (kind past CG_REC_KIND_MAX) are
 * skipped and counted in *bad. */
struct cg_merge *cg_merge_new(cg_merge_read_fn read, void *ctx, uint64_t *bad);
void cg_merge_free(struct cg_merge *m);

/* Start again at slot 0, as if new. */
void cg_merge_reset(struct cg_merge *m);

/* The next run of at most `max` (>= 1) records in trace order: sets *n and
 * returns its first record, or NULL at the end. A run ends just after a
 * CG_REC_STRING record. The records stay valid until the next call. */
const struct cg_record *cg_merge_next(struct cg_merge *m, size_t max, size_t *n);

#endif

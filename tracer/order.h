/*
 * tracer/order.h — put version 4 records in trace order (format.h "Batches").
 *
 * What it is for: the one implementation of the order key, shared by the
 * offline reader (tracer/reader.c) and the watchdog's live replay
 * (shim/live_merge.c). Records are pushed in slot order; each gets its key
 * (order time, tid, slot) from its thread's batch time and previous key, is
 * queued behind its thread's earlier records, and comes out of pop in key
 * order: a merge of the per-thread queues (a heap over threads).
 * cg_order_key is the key itself, also used by tracer/merge.c (the offline
 * reader's zero-copy window).
 *
 * What it must never do: allocate (the caller hands in the memory, so the
 * watchdog can use mmap'd memory), read a file, or hand out a BATCH record.
 */
#ifndef CUGUARD_TRACER_ORDER_H
#define CUGUARD_TRACER_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/format.h"

struct cg_order_entry {
    struct cg_record rec;
    uint64_t key; /* order time */
    uint64_t slot;
    uint32_t next; /* next entry of the same thread's queue, or free list */
};

struct cg_order_thread {
    uint32_t tid;
    uint32_t used;
    uint64_t batch_ns; /* time of the thread's latest BATCH record */
    uint64_t last_key; /* order time of its latest record */
    uint32_t head, tail, heap_pos, queued;
};

struct cg_order {
    struct cg_order_entry *pool;
    struct cg_order_thread *threads;
    uint32_t *heap; /* thread indexes with a non-empty queue, min first */
    uint32_t cap, thread_cap, count, heap_len, free_head, fresh, last_thread;
};

/* Bytes of memory cg_order_init needs for `cap` queued records and
 * `thread_cap` threads (a power of two; the table's last entry takes every
 * thread past it). */
size_t cg_order_bytes(uint32_t cap, uint32_t thread_cap);
void cg_order_init(struct cg_order *o, void *mem, uint32_t cap, uint32_t thread_cap);

/* Forget every queued record and thread (the memory is kept). */
void cg_order_reset(struct cg_order *o);

/* Push the record at `slot`. A BATCH record sets its thread's batch time
 * and is not queued. Returns 0, or -1 when the queue is full (pop first). */
int cg_order_push(struct cg_order *o, const struct cg_record *r, uint64_t slot);

/* Pop the record of least key into *out: 1, or 0 when none is queued. */
int cg_order_pop(struct cg_order *o, struct cg_record *out);

/* Records that belong to the record before them keep its order time. */
static inline int cg_order_follows_previous(uint8_t kind)
{
    return kind == CG_REC_STRING || kind == CG_REC_ARGS || kind == CG_REC_STREAM_ID;
}

/* The order time of record r of a thread whose latest BATCH record has time
 * batch_ns and whose previous record has order time last_key. */
static inline uint64_t cg_order_key(uint64_t batch_ns, uint64_t last_key, const struct cg_record *r)
{
    uint64_t floor = batch_ns > last_key ? batch_ns : last_key;
    if (cg_order_follows_previous(r->kind))
        return floor;
    return r->ts_ns > floor ? r->ts_ns : floor;
}

static inline uint32_t cg_order_count(const struct cg_order *o)
{
    return o->count;
}

#endif

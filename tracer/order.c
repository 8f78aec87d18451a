/*
 * tracer/order.c — the order key of format.h "Batches" and a merge of
 * per-thread queues.
 *
 * What it is for: the implementation of tracer/order.h. One thread's
 * records arrive in key order, so each thread is a FIFO queue (linked
 * entries of one pool) and a binary heap over the threads with queued
 * records, keyed by each queue's head, yields the least record in
 * O(log threads).
 *
 * What it must never do: allocate, or let a full table lose a record (a
 * thread past the table's capacity shares its last entry).
 */
#include "tracer/order.h"

#include <string.h>

#define NONE UINT32_MAX

size_t cg_order_bytes(uint32_t cap, uint32_t thread_cap)
{
    return (size_t)cap * sizeof(struct cg_order_entry) +
           (size_t)thread_cap * (sizeof(struct cg_order_thread) + sizeof(uint32_t));
}

void cg_order_init(struct cg_order *o, void *mem, uint32_t cap, uint32_t thread_cap)
{
    char *p = mem;
    o->pool = (struct cg_order_entry *)(void *)p;
    p += (size_t)cap * sizeof(struct cg_order_entry);
    o->threads = (struct cg_order_thread *)(void *)p;
    p += (size_t)thread_cap * sizeof(struct cg_order_thread);
    o->heap = (uint32_t *)(void *)p;
    o->cap = cap;
    o->thread_cap = thread_cap;
    cg_order_reset(o);
}

void cg_order_reset(struct cg_order *o)
{
    memset(o->threads, 0, (size_t)o->thread_cap * sizeof *o->threads);
    o->free_head = NONE; /* entries never used come from `fresh`: memory untouched till needed */
    o->fresh = 0;
    o->count = o->heap_len = 0;
    o->last_thread = NONE;
}

/* The table entry of `tid`: open addressing; when every entry but the last
 * is taken, the last one stands for all further threads. */
static uint32_t thread_of(struct cg_order *o, uint32_t tid)
{
    if (o->last_thread != NONE && o->threads[o->last_thread].tid == tid)
        return o->last_thread;
    uint32_t mask = o->thread_cap - 1, i = (tid * 2654435761u) & mask;
    for (uint32_t probes = 0; probes + 1 < o->thread_cap; probes++, i = (i + 1) & mask) {
        struct cg_order_thread *t = &o->threads[i];
        if (i == mask)
            continue; /* the shared overflow entry */
        if (t->used && t->tid != tid)
            continue;
        if (!t->used) {
            t->used = 1;
            t->tid = tid;
            t->head = t->tail = NONE;
        }
        o->last_thread = i;
        return i;
    }
    struct cg_order_thread *t = &o->threads[mask];
    if (!t->used) {
        t->used = 1;
        t->head = t->tail = NONE;
    }
    t->tid = tid;
    o->last_thread = mask;
    return mask;
}

/* Does thread a's queue head come before thread b's? */
static int before(const struct cg_order *o, uint32_t a, uint32_t b)
{
    const struct cg_order_entry *x = &o->pool[o->threads[a].head];
    const struct cg_order_entry *y = &o->pool[o->threads[b].head];
    if (x->key != y->key)
        return x->key < y->key;
    if (x->rec.tid != y->rec.tid)
        return x->rec.tid < y->rec.tid;
    return x->slot < y->slot;
}

static void heap_set(struct cg_order *o, uint32_t pos, uint32_t t)
{
    o->heap[pos] = t;
    o->threads[t].heap_pos = pos;
}

static void sift_up(struct cg_order *o, uint32_t pos)
{
    uint32_t t = o->heap[pos];
    while (pos > 0 && before(o, t, o->heap[(pos - 1) / 2])) {
        heap_set(o, pos, o->heap[(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    heap_set(o, pos, t);
}

static void sift_down(struct cg_order *o, uint32_t pos)
{
    uint32_t t = o->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= o->heap_len)
            break;
        if (child + 1 < o->heap_len && before(o, o->heap[child + 1], o->heap[child]))
            child++;
        if (!before(o, o->heap[child], t))
            break;
        heap_set(o, pos, o->heap[child]);
        pos = child;
    }
    heap_set(o, pos, t);
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

int cg_order_push(struct cg_order *o, const struct cg_record *r, uint64_t slot)
{
    uint32_t ti = thread_of(o, r->tid);
    struct cg_order_thread *t = &o->threads[ti];
    if (r->kind == CG_REC_BATCH) {
        t->batch_ns = max_u64(t->batch_ns, r->ts_ns);
        return 0;
    }
    uint32_t e = o->free_head;
    if (e != NONE)
        o->free_head = o->pool[e].next;
    else if (o->fresh < o->cap)
        e = o->fresh++;
    else
        return -1;
    struct cg_order_entry *en = &o->pool[e];
    en->rec = *r;
    en->slot = slot;
    en->next = NONE;
    en->key = cg_order_key(t->batch_ns, t->last_key, r);
    t->last_key = en->key;
    o->count++;
    if (t->tail != NONE) {
        o->pool[t->tail].next = e;
        t->tail = e;
        t->queued++;
        return 0;
    }
    t->head = t->tail = e;
    t->queued = 1;
    heap_set(o, o->heap_len++, ti);
    sift_up(o, o->heap_len - 1);
    return 0;
}

int cg_order_pop(struct cg_order *o, struct cg_record *out)
{
    if (o->heap_len == 0)
        return 0;
    uint32_t ti = o->heap[0];
    struct cg_order_thread *t = &o->threads[ti];
    uint32_t e = t->head;
    *out = o->pool[e].rec;
    t->head = o->pool[e].next;
    o->pool[e].next = o->free_head;
    o->free_head = e;
    o->count--;
    if (--t->queued == 0) {
        t->head = t->tail = NONE;
        heap_set(o, 0, o->heap[--o->heap_len]);
    }
    if (o->heap_len > 0)
        sift_down(o, 0);
    return 1;
}

/*
 * tracer/merge.c — the offline reader's zero-copy window (tracer/merge.h).
 *
 * What it is for: the implementation of tracer/merge.h. The ring holds
 * RING slots (the window plus room to read ahead in chunks); slot s lies at
 * ring[s % RING] and its order time at keys[s % RING]. A thread's queue is
 * a FIFO of runs (consecutive slots, all its records) from one pool; the
 * heap over threads with queued records is keyed by each queue's first
 * record (order time, tid, slot). A thread stays the least while its next
 * record sorts before the heap's second best, so most records cost one
 * comparison and no heap operation.
 *
 * What it must never do: overwrite a slot still queued, allocate after
 * cg_merge_new, or let a full thread table lose a record (a thread past
 * its capacity shares the last entry, as in tracer/order.c).
 */
#include "tracer/merge.h"

#include <stdlib.h>
#include <string.h>

#include "tracer/order.h"

#define CHUNK 1024u
#define RING (2u * CG_MERGE_WINDOW)
#define THREADS 4096u
#define BLOCK 64u
#define BLOCKS 2048u
#define NONE UINT32_MAX
#define NO_SLOT UINT64_MAX

struct run {
    uint64_t start, end;         /* slots [start, end) of one thread, not yet handed out */
    const struct cg_record *rec; /* the record of slot `start` (ring or block) */
    const uint64_t *key;         /* its order time */
    uint32_t next;               /* the thread's next run, or the free list */
    uint32_t block;              /* NONE: in the ring; else moved out to this block */
};

/* A run a lagging thread (descheduled with its batch open) would pin the
 * ring with, moved out so that reading goes on. */
struct block {
    struct cg_record recs[BLOCK];
    uint64_t keys[BLOCK];
    uint32_t next_free;
};

struct thread {
    uint32_t tid, used;
    uint64_t batch_ns; /* time of the thread's latest BATCH record */
    uint64_t last_key; /* order time of its latest record */
    uint64_t grows_at; /* the slot that extends its tail run, or NO_SLOT */
    uint32_t head, tail, heap_pos;
};

struct cg_merge {
    cg_merge_read_fn read;
    void *ctx;
    uint64_t *bad;
    struct cg_record *ring;
    uint64_t *keys;
    struct run *runs;
    struct thread *threads;
    uint32_t *heap;
    struct block *blocks;
    uint64_t count;     /* records queued */
    uint64_t next_slot; /* the first slot not read */
    int at_end;         /* the last read came short: hand out without waiting */
    uint32_t heap_len, free_run, fresh_run, last_thread, free_block, fresh_block;
};

struct cg_merge *cg_merge_new(cg_merge_read_fn read, void *ctx, uint64_t *bad)
{
    struct cg_merge *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->read = read;
    m->ctx = ctx;
    m->bad = bad;
    m->ring = malloc((size_t)RING * sizeof *m->ring);
    m->keys = malloc((size_t)RING * sizeof *m->keys);
    m->runs = malloc((size_t)(RING + BLOCKS) * sizeof *m->runs);
    m->threads = malloc((size_t)THREADS * sizeof *m->threads);
    m->heap = malloc((size_t)THREADS * sizeof *m->heap);
    m->blocks = malloc((size_t)BLOCKS * sizeof *m->blocks);
    if (!m->ring || !m->keys || !m->runs || !m->threads || !m->heap || !m->blocks) {
        cg_merge_free(m);
        return NULL;
    }
    cg_merge_reset(m);
    return m;
}

void cg_merge_free(struct cg_merge *m)
{
    if (!m)
        return;
    free(m->ring);
    free(m->keys);
    free(m->runs);
    free(m->threads);
    free(m->heap);
    free(m->blocks);
    free(m);
}

void cg_merge_reset(struct cg_merge *m)
{
    memset(m->threads, 0, (size_t)THREADS * sizeof *m->threads);
    m->next_slot = 0;
    m->at_end = 0;
    m->heap_len = 0;
    m->count = 0;
    m->free_block = NONE;
    m->fresh_block = 0;
    m->free_run = NONE;
    m->fresh_run = 0;
    m->last_thread = NONE;
}

static struct thread *claim(struct cg_merge *m, uint32_t i, uint32_t tid)
{
    struct thread *t = &m->threads[i];
    if (!t->used) {
        t->used = 1;
        t->head = t->tail = NONE;
        t->grows_at = NO_SLOT;
    }
    t->tid = tid;
    m->last_thread = i;
    return t;
}

/* The table entry of `tid` (open addressing; the last entry takes every
 * thread once the others are taken). */
static struct thread *thread_of(struct cg_merge *m, uint32_t tid)
{
    if (m->last_thread != NONE && m->threads[m->last_thread].tid == tid)
        return &m->threads[m->last_thread];
    uint32_t mask = THREADS - 1, i = (tid * 2654435761u) & mask;
    for (uint32_t probes = 0; probes + 1 < THREADS; probes++, i = (i + 1) & mask) {
        const struct thread *t = &m->threads[i];
        if (i != mask && (!t->used || t->tid == tid))
            return claim(m, i, tid);
    }
    return claim(m, mask, tid);
}

static uint32_t thread_index(const struct cg_merge *m, const struct thread *t)
{
    return (uint32_t)(t - m->threads);
}

/* Does (order time ka, tid ta, slot sa) come before (kb, tb, sb)? */
static inline int key_before(uint64_t ka, uint32_t ta, uint64_t sa, uint64_t kb, uint32_t tb,
                             uint64_t sb)
{
    if (ka != kb)
        return ka < kb;
    if (ta != tb)
        return ta < tb;
    return sa < sb;
}

static const struct run *head_run(const struct cg_merge *m, uint32_t ti)
{
    return &m->runs[m->threads[ti].head];
}

static int before(const struct cg_merge *m, uint32_t a, uint32_t b)
{
    const struct run *ra = head_run(m, a), *rb = head_run(m, b);
    return key_before(*ra->key, ra->rec->tid, ra->start, *rb->key, rb->rec->tid, rb->start);
}

static void heap_set(struct cg_merge *m, uint32_t pos, uint32_t ti)
{
    m->heap[pos] = ti;
    m->threads[ti].heap_pos = pos;
}

static void sift_up(struct cg_merge *m, uint32_t pos)
{
    uint32_t ti = m->heap[pos];
    while (pos > 0 && before(m, ti, m->heap[(pos - 1) / 2])) {
        heap_set(m, pos, m->heap[(pos - 1) / 2]);
        pos = (pos - 1) / 2;
    }
    heap_set(m, pos, ti);
}

static void sift_down(struct cg_merge *m, uint32_t pos)
{
    uint32_t ti = m->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= m->heap_len)
            break;
        if (child + 1 < m->heap_len && before(m, m->heap[child + 1], m->heap[child]))
            child++;
        if (!before(m, m->heap[child], ti))
            break;
        heap_set(m, pos, m->heap[child]);
        pos = child;
    }
    heap_set(m, pos, ti);
}

/* Queue slot s (just read) behind its thread's earlier records. */
static void enqueue(struct cg_merge *m, struct thread *t, uint64_t s)
{
    /* a run grows while its slots follow on in the ring (never round its
     * end) and it was not moved out */
    uint64_t after = (s + 1) % RING == 0 ? NO_SLOT : s + 1;
    if (t->grows_at == s) {
        m->runs[t->tail].end = s + 1;
        t->grows_at = after;
        return;
    }
    t->grows_at = after;
    uint32_t e = m->free_run;
    if (e != NONE)
        m->free_run = m->runs[e].next;
    else
        e = m->fresh_run++; /* < RING + BLOCKS: each run holds a slot of the ring or a block */
    m->runs[e] = (struct run){.start = s,
                              .end = s + 1,
                              .rec = &m->ring[s % RING],
                              .key = &m->keys[s % RING],
                              .next = NONE,
                              .block = NONE};
    if (t->tail != NONE) {
        m->runs[t->tail].next = e;
        t->tail = e;
        return;
    }
    t->head = t->tail = e;
    uint32_t ti = thread_index(m, t);
    heap_set(m, m->heap_len++, ti);
    sift_up(m, m->heap_len - 1);
}

static void scan(struct cg_merge *m, uint64_t s)
{
    const struct cg_record *r = &m->ring[s % RING];
    if (r->kind == CG_REC_NONE)
        return;
    if (r->kind > CG_REC_KIND_MAX && r->kind != CG_REC_BATCH) {
        (*m->bad)++;
        return;
    }
    struct thread *t = thread_of(m, r->tid);
    if (r->kind == CG_REC_BATCH) {
        if (r->ts_ns > t->batch_ns)
            t->batch_ns = r->ts_ns;
        return;
    }
    uint64_t key = cg_order_key(t->batch_ns, t->last_key, r);
    m->keys[s % RING] = key;
    t->last_key = key;
    m->count++;
    enqueue(m, t, s);
}

/* The first run of thread ti still in the ring (moved-out runs come
 * first in a queue), or NONE. */
static uint32_t first_ring_run(const struct cg_merge *m, uint32_t ti)
{
    uint32_t e = m->threads[ti].head;
    while (e != NONE && m->runs[e].block != NONE)
        e = m->runs[e].next;
    return e;
}

/* The oldest slot still queued in the ring (the ring may not be written
 * from there on round to it). */
static uint64_t oldest_slot(const struct cg_merge *m)
{
    uint64_t oldest = m->next_slot;
    for (uint32_t i = 0; i < m->heap_len; i++) {
        uint32_t e = first_ring_run(m, m->heap[i]);
        if (e != NONE && m->runs[e].start < oldest)
            oldest = m->runs[e].start;
    }
    return oldest;
}

/* Move run e out of the ring into a block; 0 when it does not fit. */
static int move_out(struct cg_merge *m, struct run *r)
{
    if (r->end - r->start > BLOCK)
        return 0;
    uint32_t bi = m->free_block;
    if (bi != NONE)
        m->free_block = m->blocks[bi].next_free;
    else if (m->fresh_block < BLOCKS)
        bi = m->fresh_block++;
    else
        return 0;
    struct block *b = &m->blocks[bi];
    size_t n = (size_t)(r->end - r->start);
    memcpy(b->recs, r->rec, n * sizeof *b->recs);
    memcpy(b->keys, r->key, n * sizeof *b->keys);
    r->rec = b->recs;
    r->key = b->keys;
    r->block = bi;
    return 1;
}

/* Move every queued run starting before slot `bound` out of the ring. */
static void move_out_before(struct cg_merge *m, uint64_t bound)
{
    for (uint32_t i = 0; i < m->heap_len; i++) {
        struct thread *t = &m->threads[m->heap[i]];
        for (uint32_t e = first_ring_run(m, m->heap[i]); e != NONE; e = m->runs[e].next) {
            if (m->runs[e].start >= bound || !move_out(m, &m->runs[e]))
                break;
            if (e == t->tail)
                t->grows_at = NO_SLOT;
        }
    }
}

/* Read up to one chunk; returns 0 when nothing was read (end, or no room
 * for a chunk). */
static int read_chunk(struct cg_merge *m)
{
    uint32_t want = CHUNK - (uint32_t)(m->next_slot % CHUNK);
    uint64_t room = RING - (m->next_slot - oldest_slot(m));
    if (room < want) {
        move_out_before(m, m->next_slot + want - RING);
        room = RING - (m->next_slot - oldest_slot(m));
    }
    if (room < want)
        return 0;
    struct cg_record *dst = &m->ring[m->next_slot % RING];
    uint32_t got = m->read(m->ctx, dst, m->next_slot, want);
    if (got < want)
        m->at_end = 1;
    for (uint32_t i = 0; i < got; i++)
        scan(m, m->next_slot + i);
    m->next_slot += got;
    return got > 0;
}

/* How many of the least records may be handed out now: all once the file
 * ended, else those beyond a full window of queued records (the rule of
 * format.h "Batches": none unread can sort before them). */
static uint64_t settled(const struct cg_merge *m)
{
    if (m->at_end)
        return UINT64_MAX;
    return m->count >= CG_MERGE_WINDOW ? m->count - CG_MERGE_WINDOW + 1 : 0;
}

/* The thread of the least record, reading on as its window needs; NONE
 * when nothing is left. */
static uint32_t least(struct cg_merge *m)
{
    if (m->heap_len == 0)
        m->at_end = 0; /* look again: the file may have grown */
    for (;;) {
        if (m->heap_len > 0 && settled(m) > 0)
            return m->heap[0];
        if (!read_chunk(m))
            return m->heap_len > 0 ? m->heap[0] : NONE;
    }
}

/* The heap's second best thread, or NONE. */
static uint32_t runner_up(const struct cg_merge *m)
{
    if (m->heap_len < 2)
        return NONE;
    if (m->heap_len > 2 && before(m, m->heap[2], m->heap[1]))
        return m->heap[2];
    return m->heap[1];
}

/* How many records of run r from slot s on (before lim) to hand out now:
 * while they stay before the heap's second best. */
static size_t run_length(const struct cg_merge *m, const struct run *r, uint64_t s, uint64_t lim,
                         int *lost)
{
    *lost = 0;
    uint32_t second = runner_up(m);
    size_t n = (size_t)(lim - s), i = 0;
    const struct cg_record *rec = r->rec;
    if (second == NONE) {
        while (i < n && rec[i].kind != CG_REC_STRING)
            i++;
        return i < n ? i + 1 : n;
    }
    const struct run *o = head_run(m, second);
    uint64_t ok = *o->key, os = o->start;
    uint32_t ot = o->rec->tid;
    for (;;) {
        int string = rec[i].kind == CG_REC_STRING;
        i++;
        if (string || i == n)
            return i;
        if (!key_before(r->key[i], rec[i].tid, s + i, ok, ot, os)) {
            *lost = 1;
            return i;
        }
    }
}

/* Drop n handed-out records from the front of thread ti's queue; `lost`:
 * its next record is known to come after the heap's second best. */
static void consume(struct cg_merge *m, uint32_t ti, size_t n, int lost)
{
    struct thread *t = &m->threads[ti];
    struct run *r = &m->runs[t->head];
    r->start += n;
    r->rec += n;
    r->key += n;
    m->count -= n;
    if (lost && m->heap_len == 2) { /* the other thread is the least now */
        heap_set(m, 0, m->heap[1]);
        heap_set(m, 1, ti);
        return;
    }
    if (r->start == r->end) {
        uint32_t e = t->head;
        if (r->block != NONE) {
            m->blocks[r->block].next_free = m->free_block;
            m->free_block = r->block;
        }
        t->head = r->next;
        r->next = m->free_run;
        m->free_run = e;
        if (t->head == NONE) {
            t->tail = NONE;
            t->grows_at = NO_SLOT;
            heap_set(m, 0, m->heap[--m->heap_len]);
        }
    }
    if (m->heap_len > 0)
        sift_down(m, 0);
}

const struct cg_record *cg_merge_next(struct cg_merge *m, size_t max, size_t *n)
{
    uint32_t ti = least(m);
    if (ti == NONE) {
        *n = 0;
        return NULL;
    }
    const struct run *r = &m->runs[m->threads[ti].head];
    uint64_t s = r->start, lim = r->end;
    uint64_t most = settled(m); /* 0: the ring is full, hand out the least anyway */
    most = most == 0 ? 1 : most < max ? most : max;
    lim = lim - s > most ? s + most : lim;
    const struct cg_record *first = r->rec;
    int lost;
    *n = run_length(m, r, s, lim, &lost);
    consume(m, ti, *n, lost);
    return first;
}

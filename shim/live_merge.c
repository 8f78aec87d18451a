/*
 * shim/live_merge.c — read a growing version 4 trace batch by batch and
 * replay its records in the order of tracer/format.h "Batches".
 *
 * What it is for: the implementation of shim/live_merge.h. `frontier` is
 * the first batch not read yet. A batch read with slots still zero stays
 * "open" (up to OPEN_MAX of them, the oldest dropped first) and is read
 * again at each update until every slot is filled, its thread takes a
 * newer batch or exits (its zero tail is then skipped for good). New
 * records go through tracer/order.h and are replayed in key order; all of
 * them are replayed before the update returns.
 *
 * What it must never do: malloc, block (but one 1 ms look again at a batch
 * whose BATCH record is still zero while later batches are filled, once per
 * update), or replay a slot twice.
 */
#include "shim/live_merge.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "tracer/order.h"

#define OPEN_MAX 256u
#define ORDER_CAP 16384u
#define ORDER_THREADS 1024u
#define CHUNK_BATCHES 16u
#define FULL_MASK UINT64_MAX

struct open_batch {
    uint64_t start; /* slot of its BATCH record */
    uint64_t seen;  /* bit i: slot start + i taken (or the BATCH record) */
    uint32_t tid;   /* from its BATCH record; 0 = not known */
    uint8_t used;
};

static struct open_batch open_batches[OPEN_MAX];
static uint64_t frontier; /* first slot of the first batch not read */
static struct cg_order order;
static int order_ready;
static uint64_t replayed;
static cg_live_replay_fn replay_fn;

static struct cg_record first_read[CHUNK_BATCHES * CG_BATCH_RECORDS];
static struct cg_record second_read[CHUNK_BATCHES * CG_BATCH_RECORDS];

static int ensure_order(void)
{
    if (order_ready)
        return 1;
    size_t bytes = cg_order_bytes(ORDER_CAP, ORDER_THREADS);
    void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return 0;
    cg_order_init(&order, mem, ORDER_CAP, ORDER_THREADS);
    order_ready = 1;
    return 1;
}

void cg_live_merge_reset(void)
{
    memset(open_batches, 0, sizeof open_batches);
    frontier = 0;
    if (order_ready)
        cg_order_reset(&order);
}

static void replay_one(void)
{
    struct cg_record r;
    if (cg_order_pop(&order, &r)) {
        replay_fn(&r);
        replayed++;
    }
}

static void push(const struct cg_record *r, uint64_t slot)
{
    if (cg_order_count(&order) >= ORDER_CAP)
        replay_one();
    (void)cg_order_push(&order, r, slot);
}

/* Read `n` slots from `slot` twice; returns the whole slots both reads got. */
static unsigned read_twice(int fd, uint64_t slot, unsigned n)
{
    size_t bytes = (size_t)n * CG_RECORD_SIZE;
    off_t off = (off_t)(CG_HEADER_SIZE + slot * CG_RECORD_SIZE);
    ssize_t a = pread(fd, first_read, bytes, off);
    if (a <= 0)
        return 0;
    ssize_t b = pread(fd, second_read, (size_t)a, off);
    if (b <= 0)
        return 0;
    return (unsigned)((a < b ? a : b) / (ssize_t)CG_RECORD_SIZE);
}

/* Push the slots of the batch at first_read[at...] not seen yet; returns
 * the new `seen` mask. *exited: the batch holds its thread's THREAD_EXIT. */
static uint64_t take_new(unsigned at, unsigned got, uint64_t start, uint64_t seen, int *exited)
{
    for (unsigned i = 0; i < CG_BATCH_RECORDS; i++) {
        uint64_t bit = 1ull << i;
        if (at + i >= got) {
            break;
        }
        const struct cg_record *a = &first_read[at + i], *b = &second_read[at + i];
        if ((seen & bit) || a->kind == CG_REC_NONE || b->kind != a->kind)
            continue;
        seen |= bit;
        *exited |= b->kind == CG_REC_THREAD_EXIT;
        push(b, start + i);
    }
    return seen;
}

static void drop_thread_batches(uint32_t tid)
{
    for (unsigned i = 0; tid != 0 && i < OPEN_MAX; i++) {
        if (open_batches[i].used && open_batches[i].tid == tid)
            open_batches[i].used = 0;
    }
}

/* Keep a batch with zero slots to look at again; the oldest open batch
 * makes room when all are taken. */
static void keep_open(uint64_t start, uint64_t seen, uint32_t tid)
{
    unsigned at = 0;
    for (unsigned i = 0; i < OPEN_MAX; i++) {
        if (!open_batches[i].used) {
            at = i;
            break;
        }
        if (open_batches[i].start < open_batches[at].start)
            at = i;
    }
    open_batches[at] = (struct open_batch){start, seen, tid, 1};
}

/* Read every open batch again for slots filled since. */
static void reread_open(int fd)
{
    for (unsigned i = 0; i < OPEN_MAX; i++) {
        struct open_batch *o = &open_batches[i];
        if (!o->used)
            continue;
        unsigned got = read_twice(fd, o->start, CG_BATCH_RECORDS);
        int exited = 0;
        o->seen = take_new(0, got, o->start, o->seen, &exited);
        if (o->seen == FULL_MASK || exited)
            o->used = 0;
    }
}

/* Is any slot of first_read[from, got) filled? */
static int later_filled(unsigned from, unsigned got)
{
    for (unsigned i = from; i < got; i++) {
        if (first_read[i].kind != CG_REC_NONE)
            return 1;
    }
    return 0;
}

/* One new batch at first_read[at...]: its records, and open if not full. */
static void take_batch(unsigned at, unsigned got, uint64_t start)
{
    const struct cg_record *head = &second_read[at];
    uint32_t tid =
        first_read[at].kind == CG_REC_BATCH && head->kind == CG_REC_BATCH ? head->tid : 0;
    drop_thread_batches(tid); /* the thread moved on: its older batch's tail stays zero */
    int exited = 0;
    uint64_t seen = take_new(at, got, start, 0, &exited) | 1u;
    if (seen != FULL_MASK && !exited && got >= at + CG_BATCH_RECORDS)
        keep_open(start, seen, tid);
}

/* Read new batches from the frontier; stops at a batch nothing was written
 * into yet (after one look again if later ones are filled). */
static void read_new(int fd, uint64_t slots_in_file)
{
    int looked_again = 0;
    while (frontier + CG_BATCH_RECORDS <= slots_in_file) {
        uint64_t left = (slots_in_file - frontier) / CG_BATCH_RECORDS;
        unsigned batches = left < CHUNK_BATCHES ? (unsigned)left : CHUNK_BATCHES;
        unsigned got = read_twice(fd, frontier, batches * CG_BATCH_RECORDS);
        for (unsigned at = 0; at + CG_BATCH_RECORDS <= got; at += CG_BATCH_RECORDS) {
            if (first_read[at].kind == CG_REC_NONE && !later_filled(at, got))
                return; /* the end of what was written so far */
            if (first_read[at].kind == CG_REC_NONE && !looked_again) {
                looked_again = 1;
                struct timespec ms = {0, 1000000};
                nanosleep(&ms, NULL);
                break; /* read again from this batch */
            }
            take_batch(at, got, frontier);
            frontier += CG_BATCH_RECORDS;
        }
        if (got < CG_BATCH_RECORDS)
            return;
    }
}

uint64_t cg_live_merge_update(int fd, uint64_t slots_in_file, cg_live_replay_fn replay)
{
    if (!ensure_order())
        return 0;
    replay_fn = replay;
    replayed = 0;
    reread_open(fd);
    read_new(fd, slots_in_file);
    while (cg_order_count(&order) > 0)
        replay_one();
    return replayed;
}

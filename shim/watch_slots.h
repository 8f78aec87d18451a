/*
 * shim/watch_slots.h — what each traced thread publishes for the watchdog.
 *
 * What it is for: the watchdog (shim/watchdog.c) must see, without taking a
 * lock, which thread is inside a blocking call, which handles it keeps
 * polling, and its latest call. Each thread owns one slot of a fixed array
 * and publishes pointers to its own trace records there (the records carry
 * api, handle, result and time; SPIN records are updated in place with the
 * poll count and the time of the latest poll). The record builders call the
 * hooks below right after publishing a record: one TLS load and one release
 * store per call, no lock, no clock read, no allocation.
 *
 * What it must never do: lock, allocate or call CUDA on the hot path; let a
 * thread write into a slot it does not own; publish a record before its kind
 * is stored (the watchdog reads the record's fields through the pointer).
 */
#ifndef CUGUARD_SHIM_WATCH_SLOTS_H
#define CUGUARD_SHIM_WATCH_SLOTS_H

#include <stddef.h>
#include <stdint.h>

#include "shim/thread.h"
#include "tracer/format.h"

/* Threads watched at once; a thread beyond this is traced but not watched. */
#define CG_WATCH_THREADS 512u

/* One thread's published state. Every field is read and written with
 * __atomic builtins. Records pointed to live in the trace mapping, which is
 * never unmapped while the process runs (tracer/writer.h), except in a fork
 * child, where cg_watch_after_fork_child() clears every pointer first. */
struct cg_watch_slot {
    uint32_t tid;                                /* owner's kernel tid; 0 = free slot */
    const struct cg_record *last;                /* latest CALL/ENTER/EXIT it wrote */
    const struct cg_record *blocked;             /* ENTER of the blocking call it is in, or NULL */
    const struct cg_record *spin[CG_SPIN_SLOTS]; /* open SPIN records, by spin table index */
    uint32_t spin_ends[CG_SPIN_SLOTS];           /* how many spins of that index have ended */
};

extern struct cg_watch_slot cg_watch_slots[CG_WATCH_THREADS] __attribute__((visibility("hidden")));

/* The calling thread's slot is cg_tls.watch (shim/thread.h; NULL before
 * its first record). */

/* Claim a slot for the calling thread (and start the watchdog the first
 * time any thread does). NULL when every slot is taken or the thread is
 * exiting; then the thread is not watched and this stays cheap. */
struct cg_watch_slot *cg_watch_claim(void);

static inline struct cg_watch_slot *cg_watch_slot_self(void)
{
    struct cg_watch_slot *s = cg_tls.watch;
    if (__builtin_expect(s == NULL, 0))
        s = cg_watch_claim();
    return s;
}

/* `r` (a published CALL, ENTER or EXIT) is the thread's latest call. */
static inline void cg_watch_last(const struct cg_record *r)
{
    struct cg_watch_slot *s = cg_watch_slot_self();
    if (s != NULL)
        __atomic_store_n(&s->last, r, __ATOMIC_RELEASE);
}

/* The thread entered a blocking call; `enter` is its published ENTER. */
static inline void cg_watch_block(const struct cg_record *enter)
{
    struct cg_watch_slot *s = cg_watch_slot_self();
    if (s != NULL) {
        __atomic_store_n(&s->last, enter, __ATOMIC_RELEASE);
        __atomic_store_n(&s->blocked, enter, __ATOMIC_RELEASE);
    }
}

/* The blocking call returned (whether or not its EXIT could be written). */
static inline void cg_watch_unblock(void)
{
    struct cg_watch_slot *s = cg_tls.watch;
    if (s != NULL)
        __atomic_store_n(&s->blocked, NULL, __ATOMIC_RELEASE);
}

/* Spin table entry `index` now folds its polls into the published SPIN
 * record `spin` (a new spin, or one replacing the entry's previous spin). */
void cg_watch_spin_open(unsigned index, const struct cg_record *spin);

/* The spin of entry `index` ended (a poll returned something other than
 * CUDA_ERROR_NOT_READY). */
void cg_watch_spin_end(unsigned index);

/* The latest watched threads to exit, with their names (read by the
 * watchdog to name a dead poller; /proc no longer has them). A ring
 * written with one atomic add per exit; an entry is valid once its tid is
 * stored (last). */
#define CG_WATCH_EXITED 64u
struct cg_watch_exit {
    uint32_t tid;
    char name[16];
};
extern struct cg_watch_exit cg_watch_exited[CG_WATCH_EXITED];

/* The name thread `tid` had when it exited, if it is in the ring. */
int cg_watch_exited_name(uint32_t tid, char *name, size_t len);

/* Threads that found every slot taken (they are traced, not watched). */
unsigned cg_watch_unwatched(void);

/* In a fork child (one thread): forget every slot and every record
 * pointer; the forking thread claims a fresh slot at its next record. */
void cg_watch_after_fork_child(void);

#endif

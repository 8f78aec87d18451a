/*
 * analysis/model/hb_clock.h — stream timelines and the sparse vector clocks over
 * them that the happens-before model is built from.
 *
 * What it is for: a timeline numbers the operations enqueued on one stream
 * (pos) and remembers how far some host thread has proven them complete
 * (done). A clock is a set of (timeline, position) pairs: "everything up to
 * position p of timeline s". An event record's snapshot, what a stream's
 * next operation waits for, and what a synchronize proves are all clocks.
 * Entries already proven complete are dropped as clocks are joined, so a
 * clock holds only the timelines that still matter: its size follows the
 * live streams with unproven work, never the length of the trace.
 *
 * A clock holds at most HB_CLOCK_MAX_ENTRIES entries. One that would hold
 * more (thousands of streams waiting on one another, none proven yet) is
 * saturated instead: it keeps no entries and stands for "may depend on any
 * work enqueued so far". A saturated clock is complete, orders after
 * everything, and observing it proves every timeline in play (the model
 * does that): knowledge is lost in the direction of fewer findings, never
 * more, and memory stays bounded by live objects times the cap.
 *
 * Timelines are reference counted: clocks, event snapshots and pinned
 * ranges point at them, so a destroyed stream's timeline lives exactly as
 * long as something still refers to its work.
 *
 * What it must never do: keep a clock entry for a timeline without holding
 * a reference on it, or let a timeline's deps refer to the timeline itself.
 */
#ifndef CUGUARD_ANALYSIS_HB_CLOCK_H
#define CUGUARD_ANALYSIS_HB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "analysis/replay/replay.h"

struct hb_timeline;

struct hb_entry {
    struct hb_timeline *tl;
    uint64_t pos;
};

#define HB_CLOCK_MAX_ENTRIES 256u

/* Entries sorted by timeline id. All zero = empty. */
struct hb_clock {
    struct hb_entry *e;
    uint32_t n, cap;
    uint32_t saturated; /* more than HB_CLOCK_MAX_ENTRIES were needed: see above */
};

/* Who did something, when: enough to name it in a finding. */
struct hb_who {
    uint64_t ts_ns;
    uint32_t tid;
    uint32_t thread; /* string id of the thread name */
    uint32_t task;   /* string id */
    uint32_t site;   /* string id */
    uint16_t api;
};

#define HB_HOSTFN_KEPT 4

struct hb_timeline {
    uint64_t id; /* unique within the process, the sort key of clocks */
    uint32_t refs;
    uint64_t pos;         /* operations enqueued */
    uint64_t done;        /* highest position some thread proved complete */
    struct hb_clock deps; /* what its next operation waits for on other timelines */
    /* which stream this is */
    enum stream_kind kind;
    uint64_t handle;           /* STREAM_CREATED */
    uint32_t owner;            /* STREAM_PER_THREAD: the thread */
    int blocking;              /* orders with the legacy default stream */
    int live;                  /* the stream still exists */
    int listed;                /* on the process's list of timelines in play */
    struct hb_who last_op;     /* the latest operation enqueued */
    uint64_t epoch, epoch_pos; /* latest position enqueued in task epoch `epoch` */
    /* the oldest host functions not yet proven complete (diagnosis) */
    struct {
        uint64_t pos;
        struct hb_who who;
    } hostfn[HB_HOSTFN_KEPT];
    unsigned nhostfn;
    size_t range_hint; /* hb_model.c: where its latest copy's pinned range search ended */
    struct hb_timeline *prev, *next; /* the process's list */
};

struct hb_timeline *hb_timeline_new(uint64_t id);
void hb_timeline_ref(struct hb_timeline *tl);
void hb_timeline_unref(struct hb_timeline *tl);
/* Work enqueued and not proven complete. */
int hb_timeline_busy(const struct hb_timeline *tl);

/* Drop a reference the caller knows is not tl's last: no free, no call. */
static inline void hb_timeline_unref_kept(struct hb_timeline *tl)
{
    tl->refs--;
}

void hb_clock_clear(struct hb_clock *c); /* and free its memory */
void hb_clock_reset(struct hb_clock *c); /* empty it, keeping its memory for reuse */
/* c[tl] = max(c[tl], pos). Returns 0, -1 out of memory. */
int hb_clock_set(struct hb_clock *c, struct hb_timeline *tl, uint64_t pos);
/* c[tl], 0 when c has no entry for tl (binary search); UINT64_MAX when
 * saturated. */
uint64_t hb_clock_get(const struct hb_clock *c, const struct hb_timeline *tl);
/* dst = dst ⊔ src, skipping proven entries and entries of `except`. */
void hb_clock_join(struct hb_clock *dst, const struct hb_clock *src,
                   const struct hb_timeline *except);
void hb_clock_copy(struct hb_clock *dst, const struct hb_clock *src);
/* Drop entries already proven complete. */
void hb_clock_prune(struct hb_clock *c);
/* Every entry proven complete (an empty clock is, and a saturated one). */
int hb_clock_complete(const struct hb_clock *c);
/* Some thread saw everything in c complete: advance each timeline's done
 * (a saturated clock names none: the caller proves every timeline). */
void hb_clock_observe(const struct hb_clock *c);
/* What an operation enqueued now on tl is ordered after: deps plus tl's own
 * position. */
void hb_clock_of_timeline(struct hb_clock *dst, const struct hb_timeline *tl);

/* Can hb_clock_of_timeline(dst, tl) be done by hb_clock_of_timeline_inline,
 * for a dst known to be empty (no entries, not saturated): room for an
 * entry, tl waiting for nothing else? */
static inline int hb_clock_of_timeline_fits_empty(const struct hb_clock *dst,
                                                  const struct hb_timeline *tl)
{
    return dst->cap && !tl->deps.n && !tl->deps.saturated;
}

/* hb_clock_of_timeline where hb_clock_of_timeline_fits_empty: no call, no memory. */
static inline void hb_clock_of_timeline_inline(struct hb_clock *dst, struct hb_timeline *tl)
{
    if (tl->pos > tl->done) {
        dst->e[0].tl = tl;
        dst->e[0].pos = tl->pos;
        dst->n = 1;
        tl->refs++;
    }
}

#endif

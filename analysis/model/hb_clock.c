/*
 * analysis/model/hb_clock.c — stream timelines and sparse vector clocks.
 *
 * What it is for: see hb_clock.h.
 * What it must never do: hold a timeline pointer without a reference, or
 * grow a clock with entries already proven complete.
 */
#include "analysis/model/hb_clock.h"

#include <stdlib.h>
#include <string.h>

struct hb_timeline *hb_timeline_new(uint64_t id)
{
    struct hb_timeline *tl = calloc(1, sizeof *tl);
    if (tl) {
        tl->id = id;
        tl->refs = 1;
        tl->live = 1;
    }
    return tl;
}

void hb_timeline_ref(struct hb_timeline *tl)
{
    tl->refs++;
}

/* Out of line and cold: a timeline is freed once, its references dropped
 * by the million (keeps the callers' loops free of the freeing code). */
__attribute__((cold, noinline)) static void timeline_free(struct hb_timeline *tl)
{
    hb_clock_clear(&tl->deps);
    free(tl);
}

void hb_timeline_unref(struct hb_timeline *tl)
{
    if (tl && --tl->refs == 0)
        timeline_free(tl);
}

int hb_timeline_busy(const struct hb_timeline *tl)
{
    return tl->pos > tl->done;
}

void hb_clock_clear(struct hb_clock *c)
{
    struct hb_entry *e = c->e;
    uint32_t n = c->n;
    c->e = NULL;
    c->n = c->cap = 0;
    c->saturated = 0;
    for (uint32_t i = 0; i < n; i++)
        hb_timeline_unref(e[i].tl);
    free(e);
}

void hb_clock_reset(struct hb_clock *c)
{
    uint32_t n = c->n;
    c->n = 0;
    c->saturated = 0;
    for (uint32_t i = 0; i < n; i++)
        hb_timeline_unref(c->e[i].tl);
}

/* Too many entries: keep none, and say so (hb_clock.h). */
static void saturate(struct hb_clock *c)
{
    hb_clock_clear(c);
    c->saturated = 1;
}

/* Out of line: a clock's memory is kept and reused, so this is rare, and
 * the callers' common paths stay free of the realloc call. */
__attribute__((noinline)) static int grow(struct hb_clock *c)
{
    uint32_t cap = c->cap ? c->cap * 2 : 4;
    struct hb_entry *e = realloc(c->e, cap * sizeof *e);
    if (!e)
        return -1;
    c->e = e;
    c->cap = cap;
    return 0;
}

/* The first index whose timeline id is >= id. */
static uint32_t lower_bound(const struct hb_clock *c, uint64_t id)
{
    uint32_t lo = 0, hi = c->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->e[mid].tl->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t hb_clock_get(const struct hb_clock *c, const struct hb_timeline *tl)
{
    if (c->saturated)
        return UINT64_MAX;
    uint32_t i = lower_bound(c, tl->id);
    return i < c->n && c->e[i].tl == tl ? c->e[i].pos : 0;
}

/* Add an entry after every entry c holds (its timeline sorts last). */
static int append(struct hb_clock *c, struct hb_timeline *tl, uint64_t pos)
{
    if (c->n == c->cap && grow(c) < 0)
        return -1;
    c->e[c->n].tl = tl;
    c->e[c->n].pos = pos;
    c->n++;
    hb_timeline_ref(tl);
    return 0;
}

/* hb_clock_set where tl may sort before c's last entry: a search, and a
 * raise, an insertion or saturation. Out of line (see hb_clock_set). */
__attribute__((noinline)) static int set_sorted(struct hb_clock *c, struct hb_timeline *tl,
                                                uint64_t pos)
{
    uint32_t i = lower_bound(c, tl->id);
    if (i < c->n && c->e[i].tl == tl) {
        if (pos > c->e[i].pos)
            c->e[i].pos = pos;
        return 0;
    }
    if (c->n == HB_CLOCK_MAX_ENTRIES) {
        saturate(c);
        return 0;
    }
    if (c->n == c->cap && grow(c) < 0)
        return -1;
    if (i < c->n) /* mostly appended: no libc call for nothing to move */
        memmove(&c->e[i + 1], &c->e[i], (c->n - i) * sizeof *c->e);
    c->e[i].tl = tl;
    c->e[i].pos = pos;
    c->n++;
    hb_timeline_ref(tl);
    return 0;
}

int hb_clock_set(struct hb_clock *c, struct hb_timeline *tl, uint64_t pos)
{
    if (c->saturated)
        return 0;
    if ((c->n == 0 || c->e[c->n - 1].tl->id < tl->id) && c->n < HB_CLOCK_MAX_ENTRIES)
        return append(c, tl, pos); /* the common case: no search, nothing to move */
    return set_sorted(c, tl, pos);
}

void hb_clock_prune(struct hb_clock *c)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->e[i].pos <= c->e[i].tl->done)
            hb_timeline_unref(c->e[i].tl);
        else
            c->e[kept++] = c->e[i];
    }
    c->n = kept;
}

static int keep_from(const struct hb_entry *e, const struct hb_timeline *except)
{
    return e->tl != except && e->pos > e->tl->done;
}

/* Both sorted by timeline id: one merge pass into a fresh array, so a join
 * costs O(|dst| + |src|) whatever the number of streams. */
void hb_clock_join(struct hb_clock *dst, const struct hb_clock *src,
                   const struct hb_timeline *except)
{
    if (dst->saturated)
        return;
    if (src->saturated) {
        saturate(dst);
        return;
    }
    hb_clock_prune(dst);
    if (src->n == 0)
        return;
    if (src->n == 1 || dst->n == 0) { /* the common small cases */
        for (uint32_t i = 0; i < src->n; i++)
            if (keep_from(&src->e[i], except))
                hb_clock_set(dst, src->e[i].tl, src->e[i].pos);
        return;
    }
    uint32_t cap = dst->n + src->n;
    struct hb_entry *out = malloc(cap * sizeof *out);
    if (!out)
        return;
    uint32_t i = 0, j = 0, n = 0;
    while (i < dst->n || j < src->n) {
        if (j < src->n && !keep_from(&src->e[j], except)) {
            j++;
            continue;
        }
        if (j == src->n || (i < dst->n && dst->e[i].tl->id < src->e[j].tl->id)) {
            out[n++] = dst->e[i++];
        } else if (i == dst->n || src->e[j].tl->id < dst->e[i].tl->id) {
            out[n] = src->e[j++];
            hb_timeline_ref(out[n++].tl);
        } else { /* the same timeline */
            out[n] = dst->e[i++];
            if (src->e[j].pos > out[n].pos)
                out[n].pos = src->e[j].pos;
            n++;
            j++;
        }
    }
    free(dst->e);
    dst->e = out;
    dst->n = n;
    dst->cap = cap;
    if (n > HB_CLOCK_MAX_ENTRIES)
        saturate(dst);
}

/* Append src's unproven entries, already in order, to the empty dst. */
__attribute__((noinline)) static void copy_unproven(struct hb_clock *dst,
                                                    const struct hb_clock *src)
{
    for (uint32_t i = 0; i < src->n; i++)
        if (src->e[i].pos > src->e[i].tl->done)
            append(dst, src->e[i].tl, src->e[i].pos);
}

/* A join into an empty clock. Small enough to inline: mostly src is empty
 * (an idle stream's deps) or holds one entry. */
void hb_clock_copy(struct hb_clock *dst, const struct hb_clock *src)
{
    if (dst->n || dst->saturated)
        hb_clock_reset(dst);
    if (src->saturated)
        saturate(dst);
    else if (src->n)
        copy_unproven(dst, src);
}

int hb_clock_complete(const struct hb_clock *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->e[i].pos > c->e[i].tl->done)
            return 0;
    return 1;
}

void hb_clock_observe(const struct hb_clock *c)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->e[i].pos > c->e[i].tl->done)
            c->e[i].tl->done = c->e[i].pos;
}

/* hb_clock_of_timeline when dst or tl's deps hold something. */
__attribute__((noinline)) static void of_timeline_merged(struct hb_clock *dst,
                                                         const struct hb_timeline *tl)
{
    hb_clock_copy(dst, &tl->deps);
    if (tl->pos > tl->done)
        hb_clock_set(dst, (struct hb_timeline *)tl, tl->pos);
}

/* Mostly an empty dst and a stream that waits for nothing else: then the
 * clock is tl's own position, appended with no frame set up. */
void hb_clock_of_timeline(struct hb_clock *dst, const struct hb_timeline *tl)
{
    if (dst->n || dst->saturated || tl->deps.n || tl->deps.saturated) {
        of_timeline_merged(dst, tl);
        return;
    }
    if (tl->pos > tl->done)
        append(dst, (struct hb_timeline *)tl, tl->pos);
}

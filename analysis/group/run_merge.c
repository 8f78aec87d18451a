/*
 * analysis/group/run_merge.c — results of traces analyzed one per thread, in
 * the serial order (analysis/group/run_merge.h).
 *
 * What it is for: the notes a trace takes while it is replayed alone, and
 * one k-way merge (a heap of parts by their next item's key, then index)
 * per list: findings, intervention notes, diagnosis lines, and each live
 * count, whose running sum gives the run-wide peak.
 *
 * What it must never do: allocate per record (run_part_note only compares
 * counters unless something changed), or leave an item in two places.
 */
#include "analysis/group/run_merge.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ noting */

static void live_now(const struct replay_totals *t, uint64_t v[RUN_LIVE_COUNT])
{
    v[RUN_LIVE_EVENTS] = t->events.live;
    v[RUN_LIVE_STREAMS] = t->streams.live;
    v[RUN_LIVE_PINNED_BYTES] = t->pinned.bytes_live;
}

/* A change of the same key and direction as the previous one is folded into
 * it: the running sum's highest point within the two is at the same place. */
static int change_add(struct run_changes *c, uint64_t key, int64_t delta)
{
    if (c->n > 0) {
        struct run_change *last = &c->v[c->n - 1];
        if (last->key == key && (last->delta > 0) == (delta > 0)) {
            last->delta += delta;
            return 0;
        }
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        struct run_change *grown = realloc(c->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = (struct run_change){key, delta};
    return 0;
}

static int finding_keys_add(struct run_part *part, uint64_t key)
{
    if (part->nfinding_keys == part->cap_finding_keys) {
        size_t cap = part->cap_finding_keys ? 2 * part->cap_finding_keys : 16;
        uint64_t *grown = realloc(part->finding_keys, cap * sizeof *grown);
        if (!grown)
            return -1;
        part->finding_keys = grown;
        part->cap_finding_keys = cap;
    }
    part->finding_keys[part->nfinding_keys++] = key;
    return 0;
}

void run_part_note(struct run_part *part, uint64_t key)
{
    uint64_t now[RUN_LIVE_COUNT];
    live_now(&part->sub.totals, now);
    for (int c = 0; c < RUN_LIVE_COUNT; c++) {
        if (now[c] == part->seen_live[c])
            continue;
        if (change_add(&part->live[c], key, (int64_t)(now[c] - part->seen_live[c])) < 0)
            part->failed = 1;
        part->seen_live[c] = now[c];
    }
    while (part->nfinding_keys < part->sub.findings.size && !part->failed)
        if (finding_keys_add(part, key) < 0)
            part->failed = 1;
    while (part->seen_notes < part->sub.interventions.nnotes)
        part->note_keys[part->seen_notes++] = key;
}

/* ------------------------------------------------------------------ the k-way merge */

enum { LIST_FINDINGS, LIST_NOTES, LIST_DIAGNOSIS, LIST_LIVE }; /* LIST_LIVE + RUN_LIVE_* */

static size_t list_len(const struct run_part *p, int list)
{
    switch (list) {
    case LIST_FINDINGS:
        return p->nfinding_keys;
    case LIST_NOTES:
        return p->seen_notes;
    case LIST_DIAGNOSIS:
        return p->sub.ndiagnosis;
    default:
        return p->live[list - LIST_LIVE].n;
    }
}

static uint64_t item_key(const struct run_part *p, int list, size_t pos)
{
    switch (list) {
    case LIST_FINDINGS:
        return p->finding_keys[pos];
    case LIST_NOTES:
        return p->note_keys[pos];
    case LIST_DIAGNOSIS:
        return p->end_key;
    default:
        return p->live[list - LIST_LIVE].v[pos].key;
    }
}

struct order {
    const struct run_part *parts;
    int list;
    size_t *pos;  /* by part: its next item */
    size_t *heap; /* parts with items left, next item first */
    size_t n;
};

/* Part a's next item comes before part b's: empty traces first (the serial
 * run ended them before any record), then key, then trace index. */
static int comes_before(const struct order *o, size_t a, size_t b)
{
    const struct run_part *x = &o->parts[a], *y = &o->parts[b];
    if (x->empty != y->empty)
        return x->empty;
    uint64_t kx = item_key(x, o->list, o->pos[a]), ky = item_key(y, o->list, o->pos[b]);
    return kx != ky ? kx < ky : x->index < y->index;
}

static void sift_down(struct order *o, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < o->n && comes_before(o, o->heap[l], o->heap[best]))
            best = l;
        if (r < o->n && comes_before(o, o->heap[r], o->heap[best]))
            best = r;
        if (best == i)
            return;
        size_t t = o->heap[i];
        o->heap[i] = o->heap[best];
        o->heap[best] = t;
        i = best;
    }
}

static int order_start(struct order *o, const struct run_part *parts, size_t n, int list)
{
    *o = (struct order){parts, list, calloc(n + 1, sizeof *o->pos), calloc(n + 1, sizeof *o->heap),
                        0};
    if (!o->pos || !o->heap) {
        free(o->pos);
        free(o->heap);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (list_len(&parts[i], list) > 0)
            o->heap[o->n++] = i;
    for (size_t i = o->n / 2; i-- > 0;)
        sift_down(o, i);
    return 0;
}

/* The part whose next item comes first (its item is at pos[part]), or -1. */
static long order_top(const struct order *o)
{
    return o->n ? (long)o->heap[0] : -1;
}

static void order_advance(struct order *o)
{
    size_t i = o->heap[0];
    if (++o->pos[i] >= list_len(&o->parts[i], o->list))
        o->heap[0] = o->heap[--o->n];
    sift_down(o, 0);
}

static void order_end(struct order *o)
{
    free(o->pos);
    free(o->heap);
}

/* ------------------------------------------------------------------ each list */

static int merge_findings(struct analysis *a, struct run_part *parts, size_t n)
{
    struct order o;
    if (order_start(&o, parts, n, LIST_FINDINGS) < 0)
        return -1;
    for (long i; (i = order_top(&o)) >= 0; order_advance(&o)) {
        struct finding_set *from = &parts[i].sub.findings;
        findings_move(&a->findings, from, from->table); /* the table keeps insertion order */
    }
    order_end(&o);
    return 0;
}

static int merge_notes(struct analysis *a, struct run_part *parts, size_t n)
{
    struct order o;
    if (order_start(&o, parts, n, LIST_NOTES) < 0)
        return -1;
    struct interventions *to = &a->interventions;
    for (long i; (i = order_top(&o)) >= 0; order_advance(&o)) {
        struct interventions *from = &parts[i].sub.interventions;
        char **note = &from->notes[o.pos[i]];
        if (to->nnotes < INTERVENTION_NOTES_MAX)
            to->notes[to->nnotes++] = *note;
        else {
            to->notes_dropped++;
            free(*note);
        }
        *note = NULL;
    }
    order_end(&o);
    for (size_t i = 0; i < n; i++) {
        to->notes_dropped += parts[i].sub.interventions.notes_dropped;
        parts[i].sub.interventions.nnotes = 0;
    }
    return 0;
}

static int merge_diagnosis(struct analysis *a, struct run_part *parts, size_t n)
{
    size_t total = a->ndiagnosis;
    for (size_t i = 0; i < n; i++)
        total += parts[i].sub.ndiagnosis;
    char **grown = realloc(a->diagnosis, (total + 1) * sizeof *grown);
    struct order o;
    if (!grown)
        return -1;
    a->diagnosis = grown;
    if (order_start(&o, parts, n, LIST_DIAGNOSIS) < 0)
        return -1;
    for (long i; (i = order_top(&o)) >= 0; order_advance(&o)) {
        char **line = &parts[i].sub.diagnosis[o.pos[i]];
        a->diagnosis[a->ndiagnosis++] = *line;
        *line = NULL;
    }
    order_end(&o);
    for (size_t i = 0; i < n; i++)
        parts[i].sub.ndiagnosis = 0;
    return 0;
}

/* The running sum of one live count over the batch, from the run's value:
 * returns the highest point, `*live` left at the end. */
static int merge_live(const struct run_part *parts, size_t n, int c, uint64_t *live, uint64_t *peak)
{
    struct order o;
    if (order_start(&o, parts, n, LIST_LIVE + c) < 0)
        return -1;
    for (long i; (i = order_top(&o)) >= 0; order_advance(&o)) {
        *live += (uint64_t)parts[i].live[c].v[o.pos[i]].delta;
        if (*live > *peak)
            *peak = *live;
    }
    order_end(&o);
    return 0;
}

/* ------------------------------------------------------------------ sums */

static void add_counts(struct replay_counts *to, const struct replay_counts *from)
{
    to->created += from->created;
    to->destroyed += from->destroyed;
}

static void add_totals(struct replay_totals *to, const struct replay_totals *from)
{
    add_counts(&to->events, &from->events);
    add_counts(&to->streams, &from->streams);
    to->pinned.allocations += from->pinned.allocations;
    to->pinned.registrations += from->pinned.registrations;
    to->pinned.freed += from->pinned.freed;
    to->pinned.unregistered += from->pinned.unregistered;
    to->pinned.live += from->pinned.live;
    to->leaked_events += from->leaked_events;
    to->leaked_streams += from->leaked_streams;
    to->leaked_pinned += from->leaked_pinned;
    to->leaked_pinned_bytes += from->leaked_pinned_bytes;
}

/* Every counter of struct interventions (analysis/replay/interventions.h). */
static void add_interventions(struct interventions *to, const struct interventions *from)
{
    to->refused += from->refused;
    to->deferred_destroys += from->deferred_destroys;
    to->stale_answered += from->stale_answered;
    to->released += from->released;
    to->drained_streams += from->drained_streams;
    to->reclaimed += from->reclaimed;
    to->reclaimed_at_exit += from->reclaimed_at_exit;
    to->reclaimed_uses += from->reclaimed_uses;
    to->sync_queries += from->sync_queries;
    to->redirected += from->redirected;
    to->non_blocking += from->non_blocking;
    to->held += from->held;
    to->held_released += from->held_released;
    to->aborted += from->aborted;
}

static void move_calls(struct analysis *a, struct analysis *sub)
{
    struct call_count *c, *tmp, *have;
    HASH_ITER(hh, sub->calls, c, tmp)
    {
        HASH_DEL(sub->calls, c);
        HASH_FIND_STR(a->calls, c->name, have);
        if (have) {
            have->count += c->count;
            free(c->name);
            free(c);
        } else {
            HASH_ADD_KEYPTR(hh, a->calls, c->name, strlen(c->name), c);
        }
    }
}

long run_merge_live(struct analysis *a, struct run_part *parts, size_t n)
{
    struct replay_totals *t = &a->totals;
    long changes = 0;
    for (size_t i = 0; i < n; i++) {
        if (parts[i].failed)
            return -1;
        for (int c = 0; c < RUN_LIVE_COUNT; c++)
            changes += (long)parts[i].live[c].n;
    }
    if (merge_live(parts, n, RUN_LIVE_EVENTS, &t->events.live, &t->events.peak_live) < 0 ||
        merge_live(parts, n, RUN_LIVE_STREAMS, &t->streams.live, &t->streams.peak_live) < 0 ||
        merge_live(parts, n, RUN_LIVE_PINNED_BYTES, &t->pinned.bytes_live, &t->pinned.peak_bytes) <
            0)
        return -1;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < RUN_LIVE_COUNT; c++)
            parts[i].live[c].n = 0;
    return changes;
}

int run_merge(struct analysis *a, struct run_part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (parts[i].failed || parts[i].nfinding_keys != parts[i].sub.findings.size)
            return -1;
    if (merge_findings(a, parts, n) < 0 || merge_notes(a, parts, n) < 0 ||
        merge_diagnosis(a, parts, n) < 0 || run_merge_live(a, parts, n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        add_totals(&a->totals, &parts[i].sub.totals);
        add_interventions(&a->interventions, &parts[i].sub.interventions);
        move_calls(a, &parts[i].sub);
    }
    return 0;
}

void run_part_free(struct run_part *part)
{
    struct analysis *sub = &part->sub;
    findings_free(&sub->findings);
    interventions_free(&sub->interventions);
    for (size_t i = 0; i < sub->ndiagnosis; i++)
        free(sub->diagnosis[i]);
    free(sub->diagnosis);
    struct call_count *c, *tmp;
    HASH_ITER(hh, sub->calls, c, tmp)
    {
        HASH_DEL(sub->calls, c);
        free(c->name);
        free(c);
    }
    free(part->finding_keys);
    for (int c = 0; c < RUN_LIVE_COUNT; c++)
        free(part->live[c].v);
    memset(part, 0, sizeof *part);
}

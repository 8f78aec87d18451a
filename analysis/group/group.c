/*
 * analysis/group/group.c — merge findings of one cause (analysis/group/group.h).
 *
 * What it is for: a pass in insertion order (so the first occurrence leads
 * its group) with a hash of group keys; a merged finding is freed.
 *
 * What it must never do: leave parts unordered (they are sorted by the
 * time of their first occurrence, so "first tasks" are the earliest).
 */
#include "analysis/group/group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

struct group {
    char *key; /* hash key */
    UT_hash_handle hh;
    struct finding *leader;
};

static char *group_key(const struct finding *f)
{
    const char *site = f->site ? f->site : "";
    const char *api = f->api ? f->api : "";
    size_t len = strlen(site) + strlen(api) + 64;
    char *key = malloc(len);
    if (!key)
        return NULL;
    if (f->nframes > 0) /* a symbolized stack: its fingerprint */
        snprintf(key, len, "%d\x1f%s", (int)f->kind, f->fingerprint);
    else
        snprintf(key, len, "%d\x1f\x1f%s\x1f%s", (int)f->kind, site, api);
    return key;
}

static int add_part(struct finding *into, const struct finding *f)
{
    struct finding_part *grown = realloc(into->parts, (into->nparts + 1) * sizeof *grown);
    if (!grown)
        return -1;
    into->parts = grown;
    struct finding_part *p = &grown[into->nparts++];
    p->task = f->task ? strdup(f->task) : NULL;
    p->pid = f->pid;
    p->count = f->count;
    p->bytes = f->bytes;
    p->ts_ns = f->ts_ns;
    p->last_ts_ns = f->last_ts_ns;
    return 0;
}

static void merge(struct finding *into, const struct finding *f)
{
    into->count += f->count;
    into->bytes += f->bytes;
    if (f->ts_ns < into->ts_ns)
        into->ts_ns = f->ts_ns;
    if (f->last_ts_ns > into->last_ts_ns)
        into->last_ts_ns = f->last_ts_ns;
}

static int same_task(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* Distinct tasks and processes among the parts (parts are few per group
 * compared with records; a quadratic count is fine up to thousands). */
static void count_distinct(struct finding *f)
{
    f->ntasks = f->nprocesses = 0;
    for (size_t i = 0; i < f->nparts; i++) {
        int task_seen = 0, pid_seen = 0;
        for (size_t j = 0; j < i && !(task_seen && pid_seen); j++) {
            task_seen |= same_task(f->parts[j].task, f->parts[i].task);
            pid_seen |= f->parts[j].pid == f->parts[i].pid;
        }
        f->ntasks += !task_seen && f->parts[i].task != NULL;
        f->nprocesses += !pid_seen;
    }
}

/* The finding's task is its earliest part's (the parts are sorted). */
static void name_first_task(struct finding *f)
{
    if (f->nparts < 2 || !f->parts[0].task)
        return;
    char *copy = strdup(f->parts[0].task);
    if (copy) {
        free(f->task);
        f->task = copy;
    }
}

static int earlier_part(const void *a, const void *b)
{
    const struct finding_part *x = a, *y = b;
    return (x->ts_ns > y->ts_ns) - (x->ts_ns < y->ts_ns);
}

void group_findings(struct finding_set *set)
{
    struct group *groups = NULL, *g, *tmp;
    struct finding *next;
    for (struct finding *f = set->table; f; f = next) {
        next = f->hh.next; /* f may be removed */
        char *key = group_key(f);
        if (!key)
            continue;
        HASH_FIND_STR(groups, key, g);
        if (add_part(g ? g->leader : f, f) == 0 && g) {
            merge(g->leader, f);
            findings_remove(set, f);
            free(key);
            continue;
        }
        g = g ? NULL : calloc(1, sizeof *g);
        if (!g) {
            free(key);
            continue;
        }
        g->key = key;
        g->leader = f;
        HASH_ADD_KEYPTR(hh, groups, g->key, strlen(g->key), g);
    }
    for (g = groups; g; g = tmp) {
        tmp = g->hh.next;
        qsort(g->leader->parts, g->leader->nparts, sizeof *g->leader->parts, earlier_part);
        name_first_task(g->leader);
        count_distinct(g->leader);
        HASH_DEL(groups, g);
        free(g->key);
        free(g);
    }
}

/*
 * analysis/attribute/ownership.c — owner keys of destroyed objects
 * (analysis/attribute/ownership.h).
 *
 * What it is for: a set per process of the creation stacks (string ids of
 * the trace, each noted once per object type) of the objects the program
 * destroyed, and after attribution the set of their owner keys.
 *
 * What it must never do: keep a pointer into a trace reader (the stack text
 * is copied when noted), or grow with the number of objects rather than the
 * number of distinct creation stacks.
 */
#include "analysis/attribute/ownership.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "analysis/stacks/symbolize.h"

struct noted_stack {
    uint64_t id; /* type << 32 | string id of the creation site */
    enum obj_type type;
    char *text;
    UT_hash_handle hh;
};

struct owner_key {
    char *key; /* "TYPE|OWNER" */
    UT_hash_handle hh;
};

/* The last ids noted, one per type: a destroy mostly ends an object made at
 * the same site as the previous one of its type (a loop), which then costs
 * no hash lookup. */
#define NOTED_RECENT OBJ_TYPE_COUNT

struct ownership {
    struct noted_stack *noted;
    struct owner_key *keys;
    uint64_t recent[NOTED_RECENT]; /* id + 1 of a noted stack, 0 = none */
};

uint32_t ownership_step_mask(void)
{
    return REPLAY_WANTS_OP(OP_EVENT_DESTROY) | REPLAY_WANTS_OP(OP_STREAM_DESTROY) |
           REPLAY_WANTS_OP(OP_PINNED_FREE) | REPLAY_WANTS_OP(OP_HOST_UNREGISTER);
}

static int is_destroy(enum api_op op)
{
    return op == OP_EVENT_DESTROY || op == OP_STREAM_DESTROY || op == OP_PINNED_FREE ||
           op == OP_HOST_UNREGISTER;
}

/* A creation stack not among the recent ones: the set. */
static void note_stack(struct ownership *own, const struct replay_process *p,
                       const struct replay_object *o, uint64_t id)
{
    uint64_t *recent = &own->recent[o->type];
    struct noted_stack *n = NULL;
    HASH_FIND(hh, own->noted, &id, sizeof id, n);
    if (n) {
        *recent = id + 1;
        return;
    }
    const char *text = replay_string(p, o->created.site);
    if (!(n = calloc(1, sizeof *n)) || !(n->text = strdup(text ? text : ""))) {
        free(n);
        return;
    }
    n->id = id;
    n->type = o->type;
    HASH_ADD(hh, own->noted, id, sizeof n->id, n);
    *recent = id + 1;
}

/* Not the recent stack of its type (or the process's first destroy). */
static __attribute__((noinline)) void note_new(struct ownership **own,
                                               const struct replay_process *p,
                                               const struct replay_object *o, uint64_t id)
{
    if (!*own && !(*own = calloc(1, sizeof **own)))
        return;
    if ((*own)->recent[o->type] != id + 1)
        note_stack(*own, p, o, id);
}

void ownership_note(struct ownership **own, const struct replay_process *p,
                    const struct replay_step *s)
{
    const struct replay_object *o = s->obj;
    if (!is_destroy(s->op) || s->phase == PHASE_ENTER || !o || o->live || s->obj_state != HS_LIVE ||
        s->rec->result != 0 || (unsigned)o->type >= NOTED_RECENT)
        return;
    uint64_t id = (uint64_t)o->type << 32 | o->created.site;
    if (!*own || (*own)->recent[o->type] != id + 1)
        note_new(own, p, o, id);
}

/* The owner key of a stack (frames, n, site as analysis/stacks/stack.h sets them)
 * or, without frames, of the plain site text. */
static void owner_key(enum obj_type type, const struct finding_frame *frames, size_t n, size_t site,
                      const char *plain, char *out, size_t cap)
{
    int used = snprintf(out, cap, "%d|", (int)type);
    if (n == 0) {
        snprintf(out + used, cap - (size_t)used, "S|%s", plain ? plain : "");
        return;
    }
    size_t binding[2], nbinding = 0;
    for (size_t i = 0; i < n && i < site && nbinding < 2; i++)
        if (frames[i].kind == FRAME_PYTHON)
            binding[nbinding++] = i;
    char a[1024], b[1024];
    if (nbinding == 2) { /* the binding's driver call and the binding function that made it */
        stack_frame_label(&frames[binding[0]], a, sizeof a);
        stack_frame_label(&frames[binding[1]], b, sizeof b);
        snprintf(out + used, cap - (size_t)used, "O|%s|%s", a, b);
        return;
    }
    a[0] = '\0';
    if (nbinding == 1)
        stack_frame_label(&frames[binding[0]], a, sizeof a);
    stack_frame_label(&frames[site < n ? site : 0], b, sizeof b);
    snprintf(out + used, cap - (size_t)used, "S|%s|%s", a, b);
}

static void add_key(struct ownership *own, const char *key)
{
    struct owner_key *k = NULL;
    HASH_FIND_STR(own->keys, key, k);
    if (k)
        return;
    if (!(k = calloc(1, sizeof *k)) || !(k->key = strdup(key))) {
        free(k);
        return;
    }
    HASH_ADD_KEYPTR(hh, own->keys, k->key, strlen(k->key), k);
}

void ownership_index(struct ownership *own, const struct trace_module *modules, size_t nmodules)
{
    if (!own)
        return;
    struct symbolizer *sym = symbolizer_new();
    if (!sym)
        return;
    for (const struct noted_stack *n = own->noted; n; n = n->hh.next) {
        struct stack st;
        char key[2600];
        if (stack_build(&st, n->text, modules, nmodules, sym) < 0)
            continue;
        owner_key(n->type, st.frames, st.n, st.site, n->text, key, sizeof key);
        add_key(own, key);
        stack_free(&st);
    }
    symbolizer_free(sym);
}

static int type_of_leak(enum finding_kind k, enum obj_type *type)
{
    if (k == FK_LEAK_EVENT)
        *type = OBJ_EVENT;
    else if (k == FK_LEAK_STREAM)
        *type = OBJ_STREAM;
    else if (k == FK_LEAK_PINNED)
        *type = OBJ_PINNED;
    else
        return 0;
    return 1;
}

int ownership_owner_destroys(const struct ownership *own, const struct finding *f)
{
    enum obj_type type;
    if (!own || !type_of_leak(f->kind, &type))
        return 0;
    char key[2600];
    owner_key(type, f->frames, f->nframes, f->site_frame, f->site, key, sizeof key);
    struct owner_key *k = NULL;
    HASH_FIND_STR(own->keys, key, k);
    return k != NULL;
}

void ownership_free(struct ownership *own)
{
    if (!own)
        return;
    struct noted_stack *n, *ntmp;
    HASH_ITER(hh, own->noted, n, ntmp)
    {
        HASH_DEL(own->noted, n);
        free(n->text);
        free(n);
    }
    struct owner_key *k, *ktmp;
    HASH_ITER(hh, own->keys, k, ktmp)
    {
        HASH_DEL(own->keys, k);
        free(k->key);
        free(k);
    }
    free(own);
}

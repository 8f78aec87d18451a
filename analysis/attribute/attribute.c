/*
 * analysis/attribute/attribute.c — symbolize finding stacks and choose their sites
 * (analysis/attribute/attribute.h).
 *
 * What it is for: one symbolizer for the whole run (each module file is
 * opened once), one pass over the findings.
 *
 * What it must never do: leave a raw stack string as a site (a stack that
 * cannot be read becomes "(stack unreadable)").
 */
#include "analysis/attribute/attribute.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/stacks/symbolize.h"

static const struct process_modules none = {NULL, 0};

/* The site label of `st` into buf: the user frame, else the innermost one. */
static void site_label(const struct stack *st, char *buf, size_t cap)
{
    if (st->n == 0)
        snprintf(buf, cap, "(stack unreadable)");
    else
        stack_frame_label(&st->frames[st->site < st->n ? st->site : 0], buf, cap);
}

static void replace(char **site, const char *label)
{
    char *copy = strdup(label);
    if (copy) {
        free(*site);
        *site = copy;
    }
}

static void attribute_origin(struct finding_origin *o, const struct process_modules *pm,
                             struct symbolizer *sym)
{
    if (!o->present || !stack_is_stack(o->site))
        return;
    struct stack st;
    char label[1024];
    stack_build(&st, o->site, pm->modules, pm->n, sym);
    site_label(&st, label, sizeof label);
    replace(&o->site, label);
    stack_free(&st);
}

static void attribute_one(struct finding *f, const struct process_modules *pm,
                          struct symbolizer *sym)
{
    attribute_origin(&f->created, pm, sym);
    attribute_origin(&f->destroyed, pm, sym);
    if (!stack_is_stack(f->site)) {
        stack_fingerprint_site(finding_kind_name(f->kind), f->site, f->api, f->fingerprint);
        return;
    }
    struct stack st;
    char label[1024];
    stack_build(&st, f->site, pm->modules, pm->n, sym);
    site_label(&st, label, sizeof label);
    replace(&f->site, label);
    stack_fingerprint(&st, finding_kind_name(f->kind), f->fingerprint);
    f->frames = st.frames;
    f->nframes = st.n;
    f->site_frame = st.site;
}

void attribute_findings(struct finding_set *set, const struct process_modules *procs, size_t nprocs)
{
    struct symbolizer *sym = symbolizer_new();
    if (!sym)
        return;
    for (struct finding *f = set->table; f; f = f->hh.next) {
        const struct process_modules *pm =
            f->process >= 0 && (size_t)f->process < nprocs ? &procs[f->process] : &none;
        attribute_one(f, pm, sym);
    }
    symbolizer_free(sym);
}

/*
 * analysis/group/suppress.c — parse suppression files and match findings.
 *
 * What it is for: see suppress.h.
 * What it must never do: read an unbounded line into memory or accept a
 * kind that matches no known finding kind.
 */
#include "analysis/group/suppress.h"

#include "analysis/stacks/stack.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUPPRESS_LINE_MAX 4096

static int kind_glob_matches_some_kind(const char *glob)
{
    for (int k = 0; k < FK_COUNT; k++)
        if (fnmatch(glob, finding_kind_name((enum finding_kind)k), 0) == 0)
            return 1;
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int suppressions_add_line(struct suppressions *s, const char *line, char *err, size_t errlen)
{
    char buf[SUPPRESS_LINE_MAX];
    snprintf(buf, sizeof buf, "%s", line);
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = '\0';
    char *text = trim(buf);
    if (!*text)
        return 0;
    char *sep = text;
    while (*sep && !isspace((unsigned char)*sep))
        sep++;
    if (!*sep) {
        snprintf(err, errlen, "expected 'KIND PATTERN', got '%s'", text);
        return -1;
    }
    *sep = '\0';
    char *pattern = trim(sep + 1);
    if (!kind_glob_matches_some_kind(text)) {
        snprintf(err, errlen, "'%s' is not a finding kind (e.g. leak.event, api-error)", text);
        return -1;
    }
    struct suppression *grown = realloc(s->items, (s->count + 1) * sizeof *grown);
    if (!grown) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->items = grown;
    s->items[s->count].kind = strdup(text);
    s->items[s->count].pattern = strdup(pattern);
    if (!s->items[s->count].kind || !s->items[s->count].pattern) {
        free(s->items[s->count].kind);
        free(s->items[s->count].pattern);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->count++;
    return 0;
}

/* Read one line; a line longer than the buffer is an error. Returns 1 with a
 * line, 0 at end of file, -1 too long. */
static int read_line(FILE *f, char *buf, size_t len)
{
    if (!fgets(buf, (int)len, f))
        return 0;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n') {
        buf[n - 1] = '\0';
        return 1;
    }
    if (feof(f))
        return 1;
    return -1;
}

int suppressions_load(struct suppressions *s, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[SUPPRESS_LINE_MAX];
    char why[256];
    int rc = 0, lineno = 0, got;
    while ((got = read_line(f, line, sizeof line)) != 0) {
        lineno++;
        if (got < 0) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        if (suppressions_add_line(s, line, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}

void suppressions_free(struct suppressions *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->items[i].kind);
        free(s->items[i].pattern);
    }
    free(s->items);
    s->items = NULL;
    s->count = 0;
}

static int glob(const char *pattern, const char *text)
{
    return text && fnmatch(pattern, text, 0) == 0;
}

/* The pattern matches a frame's function, "FILE:LINE" or label. */
static int matches_frame(const char *pattern, const struct finding_frame *fr)
{
    char text[1024];
    if (glob(pattern, fr->function))
        return 1;
    if (fr->file) {
        snprintf(text, sizeof text, "%s:%d", fr->file, fr->line);
        if (glob(pattern, text))
            return 1;
    }
    stack_frame_label(fr, text, sizeof text);
    return glob(pattern, text);
}

static int matches(const struct suppression *x, const struct finding *f)
{
    if (fnmatch(x->kind, finding_kind_name(f->kind), 0) != 0)
        return 0;
    if (glob(x->pattern, f->task ? f->task : "") || glob(x->pattern, f->site ? f->site : ""))
        return 1;
    for (size_t i = 0; i < f->nframes; i++)
        if (matches_frame(x->pattern, &f->frames[i]))
            return 1;
    return 0;
}

int suppression_matches(const struct suppressions *s, const struct finding *f)
{
    for (size_t i = 0; i < s->count; i++)
        if (matches(&s->items[i], f))
            return 1;
    return 0;
}

size_t suppressions_apply(struct suppressions *s, struct finding_set *set)
{
    size_t n = 0;
    for (struct finding *f = set->table; f; f = f->hh.next) {
        if (f->suppressed)
            continue;
        for (size_t i = 0; i < s->count; i++)
            if (matches(&s->items[i], f)) {
                s->items[i].used++;
                f->suppressed = 1;
                n++;
                break;
            }
    }
    return n;
}

void suppressions_print_used(FILE *out, const struct suppressions *s)
{
    fputs("used suppressions:\n", out);
    for (size_t i = 0; i < s->count; i++)
        if (s->items[i].used)
            fprintf(out, "  %" PRIu64 " %s %s\n", s->items[i].used, s->items[i].kind,
                    s->items[i].pattern);
}

void suppressions_generate(FILE *out, const struct finding_set *set)
{
    struct finding **list = findings_sorted(set);
    for (size_t i = 0; list && list[i]; i++) {
        const struct finding *f = list[i];
        if (f->suppressed)
            continue;
        const struct finding_frame *fr =
            f->site_frame < f->nframes ? &f->frames[f->site_frame] : NULL;
        fprintf(out, "# %s at %s\n", finding_kind_name(f->kind), f->site ? f->site : "?");
        if (fr && fr->file && fr->line)
            fprintf(out, "%s *%s:%d\n", finding_kind_name(f->kind), fr->file, fr->line);
        else if (f->site && !strpbrk(f->site, " \t"))
            fprintf(out, "%s %s\n", finding_kind_name(f->kind), f->site);
        else
            fprintf(out, "%s %s\n", finding_kind_name(f->kind), f->task ? f->task : "*");
    }
    free(list);
}

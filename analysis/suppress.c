/*
 * analysis/suppress.c — parse suppression files and match findings.
 *
 * What it is for: see suppress.h.
 * What it must never do: read an unbounded line into memory or accept a
 * kind that matches no known finding kind.
 */
#include "analysis/suppress.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
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

int suppression_matches(const struct suppressions *s, const struct finding *f)
{
    const char *kind = finding_kind_name(f->kind);
    for (size_t i = 0; i < s->count; i++) {
        const struct suppression *x = &s->items[i];
        if (fnmatch(x->kind, kind, 0) != 0)
            continue;
        if (fnmatch(x->pattern, f->task ? f->task : "", 0) == 0 ||
            fnmatch(x->pattern, f->site ? f->site : "", 0) == 0)
            return 1;
    }
    return 0;
}

size_t suppressions_apply(const struct suppressions *s, struct finding_set *set)
{
    size_t n = 0;
    for (struct finding *f = set->table; f; f = f->hh.next)
        if (!f->suppressed && suppression_matches(s, f)) {
            f->suppressed = 1;
            n++;
        }
    return n;
}

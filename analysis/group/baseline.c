/*
 * analysis/group/baseline.c — fingerprints of an earlier JSON report
 * (analysis/group/baseline.h).
 *
 * What it is for: the JSON report writes every finding's fingerprint as
 * `"fingerprint": "<16 hex digits>"`; this reads those values with a plain
 * scan (no JSON library: the report's own writer guarantees the spelling)
 * after checking the document is a cuguard report.
 *
 * What it must never do: read past the end of the file, or accept a file
 * that is not a cuguard report.
 */
#include "analysis/group/baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#define BASELINE_MAX_BYTES (256u << 20)

struct known {
    char fingerprint[17];
    UT_hash_handle hh;
};

static char *slurp(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read baseline %s", path);
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            char *grown = cap < BASELINE_MAX_BYTES ? realloc(buf, 2 * cap + 1) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "baseline %s is too large or memory is short", path);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int is_hex16(const char *s)
{
    for (int i = 0; i < 16; i++)
        if (!strchr("0123456789abcdef", s[i]) || s[i] == '\0')
            return 0;
    return s[16] == '"';
}

static struct known *collect(const char *text)
{
    static const char key[] = "\"fingerprint\":";
    struct known *table = NULL;
    for (const char *p = strstr(text, key); p; p = strstr(p + 1, key)) {
        const char *v = p + sizeof key - 1;
        while (*v == ' ')
            v++;
        if (*v++ != '"' || !is_hex16(v))
            continue;
        struct known *k = calloc(1, sizeof *k);
        if (!k)
            break;
        memcpy(k->fingerprint, v, 16);
        struct known *old = NULL;
        HASH_FIND_STR(table, k->fingerprint, old);
        if (old)
            free(k);
        else
            HASH_ADD_STR(table, fingerprint, k);
    }
    return table;
}

long baseline_remove_known(struct finding_set *set, const char *path, char *err, size_t errlen)
{
    char *text = slurp(path, err, errlen);
    if (!text)
        return -1;
    if (!strstr(text, "\"cuguard-report\"")) {
        snprintf(err, errlen, "baseline %s is not a cuguard JSON report (--format json)", path);
        free(text);
        return -1;
    }
    struct known *table = collect(text), *k, *tmp;
    free(text);
    long removed = 0;
    struct finding *next;
    for (struct finding *f = set->table; f; f = next) {
        next = f->hh.next; /* f may be removed */
        HASH_FIND_STR(table, f->fingerprint, k);
        if (k) {
            findings_remove(set, f);
            removed++;
        }
    }
    for (k = table; k; k = tmp) {
        tmp = k->hh.next;
        HASH_DEL(table, k);
        free(k);
    }
    return removed;
}

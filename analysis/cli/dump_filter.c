/*
 * analysis/cli/dump_filter.c — the record filter of `cuguard dump`.
 *
 * What it is for: see dump_filter.h.
 * What it must never do: accept a value it cannot parse whole (a typo must
 * not silently show nothing), or look at anything but the record itself.
 */
#include "analysis/cli/dump_filter.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/api_ops.h"
#include "analysis/cli/cli_option.h"

const char dump_filter_help[] =
    "  --pid P         only the trace of process P\n"
    "  --tid T         only records of thread T\n"
    "  --handle H      only records whose handle or argument fields equal H (0x hex or\n"
    "                  decimal): an event, stream or pointer\n"
    "  --kind LIST     only these record kinds, comma-separated: call, enter, exit, spin,\n"
    "                  thread-start, thread-exit, task-change, fork, stream-id, args,\n"
    "                  process-exit, policy, stall, log, string\n"
    "  --api LIST      only these APIs, comma-separated; a base name (cuEventDestroy)\n"
    "                  also matches its variants (cuEventDestroy_v2)\n"
    "  --since S       only records at or after S seconds from the trace's start\n"
    "  --until S       only records at or before S seconds from the trace's start\n"
    "  --strings       also print the string table records (off by default)\n";

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s == '-')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
    uint64_t v;
    if (parse_u64(s, &v) < 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Seconds (fractions allowed) to nanoseconds. */
static int parse_seconds(const char *s, uint64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !(v >= 0) || v > 1e9)
        return -1;
    *ns = (uint64_t)llround(v * 1e9);
    return 0;
}

static int parse_kinds(const char *list, const char *const *kind_names, unsigned char *kinds)
{
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        int known = 0;
        for (int k = 1; k <= CG_REC_KIND_MAX; k++)
            if (kind_names[k] && strlen(kind_names[k]) == len && !strncmp(p, kind_names[k], len))
                kinds[k] = known = 1;
        if (!known)
            return -1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static int parse_value(struct dump_filter *f, const char *name, const char *v)
{
    if (!strcmp(name, "--pid"))
        return f->has_pid = 1, parse_u32(v, &f->pid);
    if (!strcmp(name, "--tid"))
        return f->has_tid = 1, parse_u32(v, &f->tid);
    if (!strcmp(name, "--handle"))
        return f->has_handle = 1, parse_u64(v, &f->handle);
    if (!strcmp(name, "--since"))
        return f->has_since = 1, parse_seconds(v, &f->since_ns);
    if (!strcmp(name, "--until"))
        return f->has_until = 1, parse_seconds(v, &f->until_ns);
    if (!strcmp(name, "--kind"))
        return parse_kinds(v, f->kind_names, f->kinds);
    f->apis = v; /* --api */
    return *v ? 0 : -1;
}

int dump_filter_option(struct dump_filter *f, int argc, char **argv, int *i, FILE *err)
{
    static const char *const names[] = {"--pid", "--tid",   "--handle", "--kind",
                                        "--api", "--since", "--until"};
    if (!strcmp(argv[*i], "--strings")) {
        f->strings = 1;
        return 1;
    }
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        int missing = 0;
        const char *v = cli_option_value(argc, argv, i, names[n], &missing);
        if (missing) {
            fprintf(err, "cuguard dump: %s needs a value (try 'cuguard dump --help')\n", names[n]);
            return -1;
        }
        if (!v)
            continue;
        if (parse_value(f, names[n], v) < 0) {
            fprintf(err, "cuguard dump: bad %s value '%s' (try 'cuguard dump --help')\n", names[n],
                    v);
            return -1;
        }
        return 1;
    }
    return 0;
}

int dump_filter_keeps_pid(const struct dump_filter *f, uint32_t pid)
{
    return !f->has_pid || f->pid == pid;
}

static int api_in_list(const char *list, const char *name)
{
    char base[128];
    api_base_name(name, base, sizeof base);
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        if ((strlen(name) == len && !strncmp(p, name, len)) ||
            (strlen(base) == len && !strncmp(p, base, len)))
            return 1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static int any_kind(const unsigned char *kinds)
{
    for (int k = 0; k <= CG_REC_KIND_MAX; k++)
        if (kinds[k])
            return 1;
    return 0;
}

static int in_window(const struct dump_filter *f, uint64_t ts, uint64_t start_ns)
{
    uint64_t since_start = ts > start_ns ? ts - start_ns : 0;
    return (!f->has_since || since_start >= f->since_ns) &&
           (!f->has_until || since_start <= f->until_ns);
}

int dump_filter_keeps(const struct dump_filter *f, const struct cg_record *r, const char *api_name,
                      uint64_t start_ns)
{
    if (r->kind > CG_REC_KIND_MAX)
        return 0;
    if (r->kind == CG_REC_STRING) /* not a timed record: only --strings shows it */
        return f->strings && (!any_kind(f->kinds) || f->kinds[r->kind]);
    if (any_kind(f->kinds) && !f->kinds[r->kind])
        return 0;
    if (f->has_tid && r->tid != f->tid)
        return 0;
    if (f->has_handle && r->handle != f->handle && r->arg != f->handle && r->arg2 != f->handle)
        return 0;
    if (f->apis && !api_in_list(f->apis, api_name))
        return 0;
    return in_window(f, r->ts_ns, start_ns);
}

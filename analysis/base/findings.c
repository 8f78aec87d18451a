/*
 * analysis/base/findings.c — the kind table and the grouped finding set.
 *
 * What it is for: see findings.h.
 * What it must never do: grow per occurrence (repeats only bump a count) or
 * hold a borrowed string.
 */
#include "analysis/base/findings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/base/text_safe.h"

struct kind_info {
    const char *name;
    enum severity severity;
    const char *explanation;
};

static const struct kind_info kinds[FK_COUNT] = {
    [FK_LEAK_EVENT] = {"leak.event", SEV_WARNING,
                       "An event was created and never destroyed; each leaked event holds driver "
                       "resources until the process ends."},
    [FK_LEAK_STREAM] = {"leak.stream", SEV_WARNING,
                        "A stream was created and never destroyed; it keeps driver resources, and "
                        "any work still queued on it, alive."},
    [FK_LEAK_PINNED] = {"leak.pinned", SEV_WARNING,
                        "Page-locked (pinned) host memory was allocated or registered and never "
                        "freed or unregistered, so it stays locked for the rest of the process."},
    [FK_UNKNOWN_HANDLE] = {"unknown-handle", SEV_ERROR,
                           "A value that no create call returned was passed as a handle: usually a "
                           "foreign object or garbage where an event, stream or pinned pointer was "
                           "expected."},
    [FK_USE_AFTER_DESTROY] = {"use-after-destroy", SEV_ERROR,
                              "A handle was used after it was destroyed; the driver may already "
                              "have given the same value to a new object, so the call can act on "
                              "the wrong one."},
    [FK_DOUBLE_DESTROY] = {"double-destroy", SEV_ERROR,
                           "An object was destroyed twice; the second destroy can free whatever "
                           "the driver has since put behind that handle."},
    [FK_DESTROY_WHILE_WAITED] = {"destroy-while-waited", SEV_ERROR,
                                 "An event was destroyed while another thread or task still "
                                 "waited on its latest record."},
    [FK_QUERY_BEFORE_RECORD] = {"query-before-record", SEV_WARNING,
                                "An event was queried, synchronized or waited on before anything "
                                "was recorded on it; CUDA reports it complete at once, so the "
                                "wait guarded nothing."},
    [FK_RECORD_WHILE_POLLED] = {"record-while-polled", SEV_WARNING,
                                "An event was re-recorded while another thread still polled its "
                                "earlier record, so that thread now waits for different work."},
    [FK_POLLER_EXITED] = {"poller-exited", SEV_ERROR,
                          "A thread that polled or waited on an event exited before it saw the "
                          "event complete; whoever relied on it may wait forever."},
    [FK_CROSS_TASK_USE] = {"cross-task-use", SEV_WARNING,
                           "An object created in one task (test) was used by a later task."},
    [FK_PENDING_AT_TASK_END] = {"pending-at-task-end", SEV_WARNING,
                                "Work recorded in one task was still incomplete when the next "
                                "task began."},
    [FK_PINNED_REUSE_WHILE_INFLIGHT] = {"pinned-reuse-while-inflight", SEV_ERROR,
                                        "An async copy touched pinned memory that an earlier "
                                        "copy may still have been using: no host-side "
                                        "synchronization proved that copy complete."},
    [FK_STREAM_DESTROY_WITH_PENDING] = {"stream-destroy-with-pending", SEV_WARNING,
                                        "A stream was destroyed while work on it was not yet "
                                        "proven complete."},
    [FK_STALL] = {"stall", SEV_ERROR,
                  "A thread was blocked in a synchronize, or polled one incomplete event, longer "
                  "than the watchdog limit."},
    [FK_BLOCKED_AT_EXIT] = {"blocked-at-exit", SEV_ERROR,
                            "The trace ended (crash or kill) while a thread was inside a blocking "
                            "CUDA call or a polling loop: the likely place the program hung."},
    [FK_API_ERROR] = {"api-error", SEV_WARNING,
                      "A CUDA call returned an error (other than CUDA_ERROR_NOT_READY) that the "
                      "program may not have handled."},
    [FK_SHARED_EVENT] = {"shared-event", SEV_INFO,
                         "One event record was consumed by several threads or tasks."},
    [FK_NEVER_COMPLETED] = {"never-completed", SEV_ERROR,
                            "Work some thread polled or waited on was never seen complete by "
                            "any thread before the process exited cleanly: a wait that gave "
                            "up, or work that never ran."},
    [FK_LIVE_AT_EXIT] = {"live-at-exit", SEV_INFO,
                         "Objects of one site were still alive when the process ended, but their "
                         "number did not grow with the tests: a library's pool or deferred-destroy "
                         "queue rather than a leak (analysis/group/residue.h)."},
};

const char *finding_kind_name(enum finding_kind k)
{
    return (unsigned)k < FK_COUNT ? kinds[k].name : "?";
}

enum severity finding_kind_severity(enum finding_kind k)
{
    return (unsigned)k < FK_COUNT ? kinds[k].severity : SEV_INFO;
}

const char *finding_kind_explanation(enum finding_kind k)
{
    return (unsigned)k < FK_COUNT ? kinds[k].explanation : "";
}

const char *severity_name(enum severity s)
{
    switch (s) {
    case SEV_ERROR:
        return "error";
    case SEV_WARNING:
        return "warning";
    default:
        return "info";
    }
}

int finding_kind_by_name(const char *name)
{
    for (int k = 0; k < FK_COUNT; k++)
        if (!strcmp(name, kinds[k].name))
            return k;
    return -1;
}

void findings_init(struct finding_set *set)
{
    set->table = NULL;
    set->size = 0;
}

static void origin_free(struct finding_origin *o)
{
    free(o->thread);
    free(o->task);
    free(o->site);
    free(o->api);
}

void finding_frames_free(struct finding_frame *frames, size_t n)
{
    for (size_t i = 0; frames && i < n; i++) {
        free(frames[i].module);
        free(frames[i].function);
        free(frames[i].file);
    }
    free(frames);
}

static void finding_free(struct finding *f)
{
    finding_frames_free(f->frames, f->nframes);
    for (size_t i = 0; i < f->nparts; i++)
        free(f->parts[i].task);
    free(f->parts);
    free(f->thread);
    free(f->task);
    free(f->api);
    free(f->site);
    free(f->message);
    free(f->key);
    origin_free(&f->created);
    origin_free(&f->destroyed);
    free(f);
}

void findings_free(struct finding_set *set)
{
    struct finding *f, *tmp;
    HASH_ITER(hh, set->table, f, tmp)
    {
        HASH_DEL(set->table, f);
        finding_free(f);
    }
    set->size = 0;
}

void findings_remove(struct finding_set *set, struct finding *f)
{
    HASH_DEL(set->table, f);
    set->size--;
    finding_free(f);
}

void findings_move(struct finding_set *to, struct finding_set *from, struct finding *f)
{
    HASH_DEL(from->table, f);
    from->size--;
    HASH_ADD_KEYPTR(hh, to->table, f->key, strlen(f->key), f);
    to->size++;
}

/* A printable copy: trace strings may hold control bytes or broken UTF-8. */
static char *dup_or_null(const char *s)
{
    char *copy = s ? strdup(s) : NULL;
    if (copy)
        text_make_printable(copy);
    return copy;
}

/* Grouping key: kind, process, task, site, API (NUL bytes cannot occur in
 * the parts, so '\x1f' separates them unambiguously enough for grouping). */
static char *group_key(const struct finding_input *in)
{
    const char *task = in->task ? in->task : "";
    const char *site = in->site ? in->site : "";
    const char *api = in->api ? in->api : "";
    size_t len = strlen(task) + strlen(site) + strlen(api) + 48;
    char *key = malloc(len);
    if (key)
        snprintf(key, len, "%d\x1f%d\x1f%s\x1f%s\x1f%s", (int)in->kind, in->process, task, site,
                 api);
    return key;
}

static void origin_copy(struct finding_origin *dst, const struct finding_origin_in *src)
{
    dst->present = src->present;
    dst->ts_ns = src->ts_ns;
    dst->tid = src->tid;
    dst->thread = src->present ? dup_or_null(src->thread) : NULL;
    dst->task = src->present ? dup_or_null(src->task) : NULL;
    dst->site = src->present ? dup_or_null(src->site) : NULL;
    dst->api = src->present ? dup_or_null(src->api) : NULL;
}

static struct finding *finding_new(const struct finding_input *in, char *key)
{
    struct finding *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->kind = in->kind;
    f->process = in->process;
    f->pid = in->pid;
    f->process_start_ns = in->process_start_ns;
    f->tid = in->tid;
    f->thread = dup_or_null(in->thread);
    f->task = dup_or_null(in->task);
    f->api = dup_or_null(in->api);
    f->site = dup_or_null(in->site);
    f->has_handle = in->has_handle;
    f->handle = in->handle;
    f->ts_ns = f->last_ts_ns = in->ts_ns;
    f->message = dup_or_null(in->message);
    origin_copy(&f->created, &in->created);
    origin_copy(&f->destroyed, &in->destroyed);
    f->key = key;
    return f;
}

struct finding *findings_add(struct finding_set *set, const struct finding_input *in)
{
    char *key = group_key(in);
    if (!key)
        return NULL;
    struct finding *f = NULL;
    HASH_FIND_STR(set->table, key, f);
    if (f) {
        free(key);
    } else {
        f = finding_new(in, key);
        if (!f) {
            free(key);
            return NULL;
        }
        HASH_ADD_KEYPTR(hh, set->table, f->key, strlen(f->key), f);
        set->size++;
    }
    f->count++;
    f->bytes += in->bytes;
    if (in->ts_ns > f->last_ts_ns)
        f->last_ts_ns = in->ts_ns;
    return f;
}

static int compare_findings(const void *a, const void *b)
{
    const struct finding *x = *(const struct finding *const *)a;
    const struct finding *y = *(const struct finding *const *)b;
    int sx = finding_kind_severity(x->kind), sy = finding_kind_severity(y->kind);
    if (sx != sy)
        return sy - sx;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    if (x->process != y->process)
        return x->process - y->process;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    return strcmp(x->key, y->key);
}

struct finding **findings_sorted(const struct finding_set *set)
{
    struct finding **list = calloc(set->size + 1, sizeof *list);
    if (!list)
        return NULL;
    size_t n = 0;
    for (struct finding *f = set->table; f && n < set->size; f = f->hh.next)
        list[n++] = f;
    qsort(list, n, sizeof *list, compare_findings);
    return list;
}

size_t findings_count_severity(const struct finding_set *set, enum severity s)
{
    size_t n = 0;
    for (const struct finding *f = set->table; f; f = f->hh.next)
        if (!f->suppressed && finding_kind_severity(f->kind) == s)
            n++;
    return n;
}

size_t findings_count_suppressed(const struct finding_set *set)
{
    size_t n = 0;
    for (const struct finding *f = set->table; f; f = f->hh.next)
        n += f->suppressed != 0;
    return n;
}

static void mask_severity_at_least(unsigned char mask[FK_COUNT], enum severity s)
{
    for (int k = 0; k < FK_COUNT; k++)
        if (finding_kind_severity((enum finding_kind)k) >= s)
            mask[k] = 1;
}

static int apply_fail_on_word(const char *word, unsigned char mask[FK_COUNT], char *err,
                              size_t errlen)
{
    if (!strcmp(word, "error"))
        mask_severity_at_least(mask, SEV_ERROR);
    else if (!strcmp(word, "warning"))
        mask_severity_at_least(mask, SEV_WARNING);
    else if (!strcmp(word, "info"))
        mask_severity_at_least(mask, SEV_INFO);
    else {
        int k = finding_kind_by_name(word);
        if (k < 0) {
            snprintf(err, errlen,
                     "--fail-on: '%s' is not error, warning, info or a finding kind "
                     "(e.g. leak.event,unknown-handle)",
                     word);
            return -1;
        }
        mask[k] = 1;
    }
    return 0;
}

int findings_parse_fail_on(const char *list, unsigned char mask[FK_COUNT], char *err, size_t errlen)
{
    memset(mask, 0, FK_COUNT);
    char *copy = strdup(list);
    if (!copy) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0, words = 0;
    char *save = NULL;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        words++;
        if (apply_fail_on_word(w, mask, err, errlen) < 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && words == 0) {
        snprintf(err, errlen, "--fail-on needs error, warning or a list of kinds");
        rc = -1;
    }
    free(copy);
    return rc;
}

int findings_match_mask(const struct finding_set *set, const unsigned char mask[FK_COUNT])
{
    for (const struct finding *f = set->table; f; f = f->hh.next)
        if (!f->suppressed && mask[f->kind])
            return 1;
    return 0;
}

/*
 * analysis/analyze.c — open, merge and replay the traces of a run.
 *
 * What it is for: see analyze.h. Records of several processes are merged by
 * timestamp with a small heap over the head record of each trace; within a
 * trace, slot order is kept. A trace's key is the latest time up to its head
 * (taking the head's own time, as a plain merge would, gives the same order:
 * a trace's record is replayed when its key is the smallest); a STRING
 * record, whose ts_ns holds string bytes, keeps the key it found.
 * With -j, each trace of a batch is replayed alone on a worker thread with
 * its own findings, totals, model and interventions (nothing in the replay
 * is shared between processes); run_merge.h puts them back in that order.
 *
 * What it must never do: stop at a bad file, keep a reader open after its
 * trace ended, or let two threads touch one trace's state (a worker writes
 * only its job and its own process_info; procs does not move meanwhile).
 */
#include "analysis/analyze.h"

#include "analysis/attribute/attribute.h"
#include "analysis/group/group.h"
#include "analysis/group/residue.h"
#include "analysis/group/run_merge.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/model/hb_model.h"
#include "analysis/base/signal_names.h"
#include "analysis/base/text_safe.h"
#include "analysis/input/trace_set.h"

/* Where a source is in its trace: the reader's current run of records
 * (next..end, not yet used), the head to replay next with the CG_REC_ARGS
 * record that belongs to it (or NULL; head NULL at the end), and the merge
 * key: the latest time among the records up to head. STRING records carry
 * payload in ts_ns, not a time, and leave the key as it was. */
struct cursor {
    const struct cg_record *next, *end;
    const struct cg_record *head;
    const struct cg_record *args;
    uint64_t key;
};

struct source {
    struct cg_reader *reader;
    struct replay_process proc;
    struct cursor at;
    struct cg_record head_copy; /* head, when reading past it refilled the reader */
};

struct merge {
    struct source *src;
    size_t *heap; /* indices into src, ordered by head timestamp */
    size_t heap_len;
};

static int head_before(const struct merge *m, size_t a, size_t b)
{
    uint64_t ta = m->src[a].at.key, tb = m->src[b].at.key;
    return ta != tb ? ta < tb : a < b;
}

static void heap_swap(struct merge *m, size_t i, size_t j)
{
    size_t t = m->heap[i];
    m->heap[i] = m->heap[j];
    m->heap[j] = t;
}

static void heap_push(struct merge *m, size_t idx)
{
    size_t i = m->heap_len++;
    m->heap[i] = idx;
    while (i > 0 && head_before(m, m->heap[i], m->heap[(i - 1) / 2])) {
        heap_swap(m, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static size_t heap_pop(struct merge *m)
{
    size_t top = m->heap[0];
    m->heap[0] = m->heap[--m->heap_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->heap_len && head_before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->heap_len && head_before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            break;
        heap_swap(m, i, best);
        i = best;
    }
    return top;
}

/* ------------------------------------------------------------------ per-process facts */

static char **split_argv(const struct cg_file_header *h, uint32_t *argc_out)
{
    uint32_t argc = 0;
    char **argv = calloc(CG_ARGV_MAX / 2 + 1, sizeof *argv);
    if (!argv) {
        *argc_out = 0;
        return NULL;
    }
    size_t i = 0;
    while (i < CG_ARGV_MAX && argc < h->argc && h->argv[i]) {
        size_t len = strnlen(h->argv + i, CG_ARGV_MAX - i);
        argv[argc] = strndup(h->argv + i, len);
        if (!argv[argc])
            break;
        text_make_printable(argv[argc]);
        argc++;
        i += len + 1;
    }
    *argc_out = argc;
    return argv;
}

static void add_calls(struct analysis *a, const struct replay_process *p)
{
    for (uint32_t api = 1; api < p->api_count; api++) {
        if (!p->calls[api])
            continue;
        const char *name = cg_reader_api_name(p->reader, (uint16_t)api);
        struct call_count *c = NULL;
        HASH_FIND_STR(a->calls, name, c);
        if (!c) {
            c = calloc(1, sizeof *c);
            if (!c || !(c->name = strdup(name))) {
                free(c);
                continue;
            }
            HASH_ADD_KEYPTR(hh, a->calls, c->name, strlen(c->name), c);
        }
        c->count += p->calls[api];
    }
}

/* Hook: when a trace ends, keep its facts and its call counts. */
/* A CG_REC_MODULE record: keep the module for symbolizing stacks later. */
static void collect_module(struct process_info *info, const struct replay_process *p,
                           const struct cg_record *rec)
{
    struct trace_module *grown =
        realloc(info->modules, (info->nmodules + 1) * sizeof *info->modules);
    if (!grown)
        return;
    info->modules = grown;
    const char *path = replay_string(p, rec->site);
    const char *build_id = rec->arg ? replay_string(p, (uint32_t)rec->arg) : NULL;
    struct trace_module *m = &grown[info->nmodules];
    m->number = (uint32_t)rec->result;
    m->base = rec->handle;
    m->path = strdup(path ? path : "?");
    m->build_id = strdup(build_id ? build_id : "");
    if (m->path && m->build_id)
        info->nmodules++;
    else {
        free(m->path);
        free(m->build_id);
    }
}

/* A task began: residue analysis compares leaks with task start times. */
static void collect_task_start(struct process_info *info, uint64_t ts_ns)
{
    if ((info->ntask_starts & (info->ntask_starts - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        size_t cap = info->ntask_starts ? 2 * info->ntask_starts : 1;
        uint64_t *grown = realloc(info->task_starts, cap * sizeof *grown);
        if (!grown)
            return;
        info->task_starts = grown;
    }
    info->task_starts[info->ntask_starts++] = ts_ns;
}

static void collect_process(void *user, struct replay_process *p);

/* Hook: every record that is no call (modules, task starts, the policies'
 * records). */
static void collect_records(void *user, struct replay_process *p, const struct replay_step *s)
{
    struct analysis *a = user;
    if (s->rec->kind == CG_REC_MODULE) {
        collect_module(&a->procs[p->index], p, s->rec);
        return;
    }
    if (s->rec->kind == CG_REC_TASK && s->rec->site != 0)
        collect_task_start(&a->procs[p->index], s->rec->ts_ns);
    interventions_record(&a->interventions, p, s);
}

/* Hook: the destroys (ownership_step_mask). */
static void collect_ownership(void *user, struct replay_process *p, const struct replay_step *s)
{
    struct analysis *a = user;
    ownership_note(&a->procs[p->index].ownership, p, s);
}

/* The hooks of the analysis itself, each asking only for the steps it
 * reads: records, ownership's destroys, the interventions' calls. The
 * first also keeps each process's facts when it ends. */
#define OWN_HOOKS (2 + INTERVENTIONS_CALL_HOOKS)
_Static_assert(OWN_HOOKS + 2 <= REPLAY_MAX_HOOKS, "room for the model and an export hook");
static void own_hooks(struct replay_hooks own[OWN_HOOKS], struct analysis *a)
{
    own[0] = (struct replay_hooks){.user = a,
                                   .step_mask = REPLAY_WANTS_RECORDS,
                                   .step = collect_records,
                                   .process_end = collect_process};
    own[1] = (struct replay_hooks){
        .user = a, .step_mask = ownership_step_mask(), .step = collect_ownership};
    interventions_call_hooks(&a->interventions, &own[2]);
}

/* Attribution then grouping (analysis/attribute/attribute.h, analysis/group/group.h). */
static void attribute_and_group(struct analysis *a)
{
    struct process_modules *pm = calloc(a->nprocs + 1, sizeof *pm);
    if (!pm)
        return;
    for (size_t i = 0; i < a->nprocs; i++)
        pm[i] = (struct process_modules){a->procs[i].modules, a->procs[i].nmodules};
    attribute_findings(&a->findings, pm, a->nprocs);
    free(pm);
    for (size_t i = 0; i < a->nprocs; i++)
        ownership_index(a->procs[i].ownership, a->procs[i].modules, a->procs[i].nmodules);
    group_findings(&a->findings);
    residue_classify(&a->findings, a->procs, a->nprocs);
}

static void collect_process(void *user, struct replay_process *p)
{
    struct analysis *a = user;
    struct process_info *info = &a->procs[p->index];
    const struct cg_file_header *h = p->hdr;
    info->pid = h->pid;
    info->ppid = h->ppid;
    info->host = strndup(h->host, CG_HOST_MAX);
    if (info->host)
        text_make_printable(info->host);
    snprintf(info->tool_version, sizeof info->tool_version, "%s", h->tool_version);
    info->argv = split_argv(h, &info->argc);
    snprintf(info->label, sizeof info->label, "%.*s", (int)strnlen(h->label, CG_LABEL_MAX),
             h->label);
    text_make_printable(info->label);
    info->complete = p->complete;
    info->records = cg_reader_records(p->reader);
    info->trace = strdup(p->path ? p->path : "");
    info->start_mono_ns = h->start_mono_ns;
    info->first_ts = p->first_ts;
    info->last_ts = p->last_ts;
    info->cut_short = p->cut_short;
    if (p->cut_short) {
        info->cut_short_s = h->cut_short_mono_ns > h->start_mono_ns
                                ? (double)(h->cut_short_mono_ns - h->start_mono_ns) / 1e9
                                : 0.0;
        snprintf(info->cut_short_reason, sizeof info->cut_short_reason, "%s",
                 h->cut_short_reason[0] ? h->cut_short_reason : "reason not recorded");
        text_make_printable(info->cut_short_reason);
    }
    if (p->crash.crashed) {
        const struct replay_crash *c = &p->crash;
        const char *api = replay_api_name(p, c->who.api);
        const char *thread = replay_string(p, c->who.thread);
        char other[24];
        info->crashed = 1;
        snprintf(info->crash_signal, sizeof info->crash_signal, "%s",
                 signal_name(c->signal, other, sizeof other));
        info->crash_api = strdup(api ? api : "?");
        info->crash_tid = c->who.tid;
        info->crash_thread = thread ? strdup(thread) : NULL;
        info->crash_handle = c->handle;
    }
    add_calls(a, p);
    interventions_process_end(&a->interventions, p);
}

/* ------------------------------------------------------------------ the run */

/* A run of records from the reader; next == end at the end of the trace. */
struct run {
    const struct cg_record *next, *end;
};

/* The reader's next run. Out of line: once per batch of records. */
static __attribute__((noinline)) struct run refill(struct cg_reader *reader)
{
    const struct cg_record *first = NULL;
    size_t n = cg_reader_next_batch(reader, &first);
    struct run r = {first, n ? first + n : first};
    return r;
}

/* Records from the reader into next..end; returns 0 at the end of the trace. */
static inline __attribute__((always_inline)) int have_next(struct cg_reader *reader,
                                                           struct cursor *c)
{
    if (c->next != c->end)
        return 1;
    struct run r = refill(reader);
    c->next = r.next;
    c->end = r.end;
    return r.next != r.end;
}

/* Next record into head, with its ARGS record when one follows it. Inline
 * in the merge loops: it runs once per record. */
static inline __attribute__((always_inline)) void
advance_at(struct cg_reader *reader, struct cursor *c, struct cg_record *head_copy, int keyed)
{
    c->args = NULL;
    if (!have_next(reader, c)) {
        c->head = NULL;
        return;
    }
    const struct cg_record *head = c->next++;
    c->head = head;
    if (keyed && head->kind != CG_REC_STRING && head->ts_ns > c->key)
        c->key = head->ts_ns;
    if (head->kind != CG_REC_CALL && head->kind != CG_REC_ENTER)
        return;
    if (c->next == c->end) { /* reading on reuses the buffer head points into */
        *head_copy = *head;
        c->head = head_copy;
        if (!have_next(reader, c))
            return;
    }
    if (c->next->kind == CG_REC_ARGS && c->next->tid == c->head->tid)
        c->args = c->next++;
}

static inline __attribute__((always_inline)) void advance(struct source *s)
{
    advance_at(s->reader, &s->at, &s->head_copy, 1);
}

/* Replay source i until another trace's head comes first (the heap's top)
 * or its trace ends. The cursor stays in registers meanwhile: this is the
 * loop every record of a serial run goes through. */
static void feed_run(struct merge *m, size_t i)
{
    struct source *s = &m->src[i];
    /* Go on while key < limit, or key == limit when the top comes later
     * in trace order (head_before). */
    uint64_t limit = m->src[m->heap[0]].at.key;
    int equal_goes_on = m->heap[0] > i;
    struct cg_reader *reader = s->reader;
    struct cursor c = s->at;
    do {
        replay_feed(&s->proc, c.head, c.args);
        advance_at(reader, &c, &s->head_copy, 1);
    } while (c.head && (c.key < limit || (c.key == limit && equal_goes_on)));
    s->at = c;
}

/* The only trace left: to its end. Nothing compares its key any more, so
 * the loop does not keep it. */
static void feed_rest(struct source *s)
{
    struct cg_reader *reader = s->reader;
    struct cursor c = s->at;
    do {
        replay_feed(&s->proc, c.head, c.args);
        advance_at(reader, &c, &s->head_copy, 0);
    } while (c.head);
    s->at = c;
}

static void finish_source(struct source *s)
{
    replay_process_finish(&s->proc);
    cg_reader_close(s->reader);
    s->reader = NULL;
}

static int grow_procs(struct analysis *a)
{
    struct process_info *grown = realloc(a->procs, (a->nprocs + 1) * sizeof *grown);
    if (!grown)
        return -1;
    a->procs = grown;
    memset(&a->procs[a->nprocs], 0, sizeof *a->procs);
    return 0;
}

/* Open the files of one batch; returns how many opened. */
static size_t open_batch(struct analysis *a, struct source *src, char *const *files, size_t n,
                         const char *prog, FILE *warn, const struct replay_hooks *const *hooks,
                         int nhooks)
{
    size_t opened = 0;
    for (size_t i = 0; i < n; i++) {
        char err[512];
        struct source *s = &src[opened];
        s->reader = cg_reader_open(files[i], err, sizeof err);
        if (!s->reader) {
            fprintf(warn, "%s: %s: %s\n", prog, files[i], err);
            a->unusable_files++;
            continue;
        }
        if (grow_procs(a) < 0 || replay_process_init(&s->proc, (int)a->nprocs, s->reader,
                                                     &a->findings, &a->totals, hooks, nhooks) < 0) {
            fprintf(warn, "%s: %s: out of memory\n", prog, files[i]);
            cg_reader_close(s->reader);
            a->unusable_files++;
            continue;
        }
        a->nprocs++;
        opened++;
    }
    return opened;
}

static int run_batch(struct analysis *a, char *const *files, size_t n, const char *prog, FILE *warn,
                     const struct replay_hooks *const *hooks, int nhooks)
{
    struct merge m = {calloc(n, sizeof *m.src), calloc(n, sizeof *m.heap), 0};
    if (!m.src || !m.heap) {
        free(m.src);
        free(m.heap);
        return -1;
    }
    size_t opened = open_batch(a, m.src, files, n, prog, warn, hooks, nhooks);
    for (size_t i = 0; i < opened; i++) {
        advance(&m.src[i]);
        if (m.src[i].at.head)
            heap_push(&m, i);
        else
            finish_source(&m.src[i]);
    }
    while (m.heap_len > 0) {
        size_t i = heap_pop(&m);
        struct source *s = &m.src[i];
        /* Feed this trace until another one's head comes first: one heap
         * operation per run of records, not per record. */
        if (m.heap_len > 0)
            feed_run(&m, i);
        else
            feed_rest(s);
        if (s->at.head)
            heap_push(&m, i);
        else
            finish_source(s);
    }
    free(m.src);
    free(m.heap);
    return 0;
}

/* ------------------------------------------------------------------ one thread per trace */

/* A trace analyzed alone: its source, its own model and hooks (filling
 * part->sub), and what run_merge needs to put it in the serial order. */
struct job {
    struct source src;
    struct run_part *part;
    struct hb_model *model;
    struct replay_hooks own[OWN_HOOKS];
    const struct replay_hooks *hooks[OWN_HOOKS + 1];
    int done; /* its trace ended */
};

/* One round: every job not done replays its records of key <= until. */
struct job_queue {
    struct job *jobs;
    size_t n, next;
    uint64_t until;
    pthread_mutex_t lock;
};

/* Live-count changes merged per round (analysis/group/run_merge.h): rounds
 * span trace time adapted to about this many, so memory stays flat. */
#define ROUND_CHANGES 65536u

static void job_end(struct job *j)
{
    struct source *s = &j->src;
    finish_source(s);
    run_part_note(j->part, s->at.key);
    j->part->end_key = s->at.key;
    j->part->sub.diagnosis = hb_model_take_diagnosis(j->model, &j->part->sub.ndiagnosis);
    j->done = 1;
}

/* The first record; a trace without any ends here, as in the serial run. */
static void job_begin(struct job *j)
{
    advance(&j->src);
    j->part->empty = j->src.at.head == NULL;
    if (!j->src.at.head)
        job_end(j);
}

static void job_step(struct job *j, uint64_t until)
{
    struct source *s = &j->src;
    while (s->at.head && s->at.key <= until) {
        uint64_t key = s->at.key;
        replay_feed(&s->proc, s->at.head, s->at.args);
        run_part_note(j->part, key);
        advance(s);
    }
    if (!s->at.head)
        job_end(j);
}

static void *job_worker(void *arg)
{
    struct job_queue *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->lock);
        size_t i = q->next++;
        pthread_mutex_unlock(&q->lock);
        if (i >= q->n)
            return NULL;
        if (!q->jobs[i].done)
            job_step(&q->jobs[i], q->until);
    }
}

/* Open a trace for its job (as open_batch does); 0, or -1 when unusable. */
static int job_open(struct analysis *a, struct job *j, struct run_part *part, const char *file,
                    const char *prog, FILE *warn)
{
    char err[512];
    j->src.reader = cg_reader_open(file, err, sizeof err);
    if (!j->src.reader) {
        fprintf(warn, "%s: %s: %s\n", prog, file, err);
        a->unusable_files++;
        return -1;
    }
    j->part = part;
    findings_init(&part->sub.findings);
    j->model = hb_model_new();
    own_hooks(j->own, &part->sub);
    for (int i = 0; i < OWN_HOOKS; i++)
        j->hooks[i] = &j->own[i];
    j->hooks[OWN_HOOKS] = j->model ? hb_model_hooks(j->model) : NULL;
    if (!j->model || grow_procs(a) < 0 ||
        replay_process_init(&j->src.proc, (int)a->nprocs, j->src.reader, &part->sub.findings,
                            &part->sub.totals, j->hooks, OWN_HOOKS + 1) < 0) {
        fprintf(warn, "%s: %s: out of memory\n", prog, file);
        cg_reader_close(j->src.reader);
        hb_model_free(j->model);
        memset(j, 0, sizeof *j);
        memset(part, 0, sizeof *part);
        a->unusable_files++;
        return -1;
    }
    part->index = (int)a->nprocs++;
    return 0;
}

/* One round on `threads` threads (this one among them). */
static void run_round(struct job *jobs, size_t n, int threads, uint64_t until)
{
    struct job_queue q = {jobs, n, 0, until, PTHREAD_MUTEX_INITIALIZER};
    pthread_t *ids = calloc((size_t)threads + 1, sizeof *ids);
    int started = 0;
    while (ids && started < threads - 1 && pthread_create(&ids[started], NULL, job_worker, &q) == 0)
        started++;
    job_worker(&q);
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    free(ids);
    pthread_mutex_destroy(&q.lock);
}

/* Rounds until every trace ended: each replays the records up to `until`
 * (the lowest key left plus a span of trace time), then their live-count
 * changes are merged, so they never pile up. */
static int run_rounds(struct analysis *a, struct job *jobs, struct run_part *parts, size_t n,
                      int threads)
{
    uint64_t span = 1000000; /* 1 ms of trace time, then adapted */
    for (;;) {
        uint64_t low = UINT64_MAX;
        int left = 0;
        for (size_t i = 0; i < n; i++)
            if (!jobs[i].done) {
                left++;
                low = jobs[i].src.at.key < low ? jobs[i].src.at.key : low;
            }
        if (left == 0)
            return 0;
        uint64_t until = low > UINT64_MAX - span ? UINT64_MAX : low + span;
        run_round(jobs, n, threads < left ? threads : left, until);
        long changes = run_merge_live(a, parts, n);
        if (changes < 0)
            return -1;
        if ((size_t)changes > 2 * ROUND_CHANGES && span > 1)
            span /= 2;
        else if ((size_t)changes < ROUND_CHANGES / 2 && span < (1ull << 62))
            span *= 2;
    }
}

static int run_batch_jobs(struct analysis *a, char *const *files, size_t n, const char *prog,
                          FILE *warn, int threads)
{
    struct job *jobs = calloc(n, sizeof *jobs);
    struct run_part *parts = calloc(n, sizeof *parts);
    if (!jobs || !parts) {
        free(jobs);
        free(parts);
        return -1;
    }
    size_t opened = 0;
    for (size_t i = 0; i < n; i++)
        opened += job_open(a, &jobs[opened], &parts[opened], files[i], prog, warn) == 0;
    for (size_t i = 0; i < opened; i++) {
        parts[i].sub.procs = a->procs; /* no longer moves: every trace is open */
        job_begin(&jobs[i]);
    }
    int rc = run_rounds(a, jobs, parts, opened, threads);
    for (size_t i = 0; i < opened; i++)
        hb_model_free(jobs[i].model);
    if (rc == 0)
        rc = run_merge(a, parts, opened);
    for (size_t i = 0; i < opened; i++)
        run_part_free(&parts[i]);
    free(jobs);
    free(parts);
    return rc;
}

static int compare_call_names(const struct call_count *x, const struct call_count *y)
{
    return strcmp(x->name, y->name);
}

/* The checks and stages after the replay, shared by both ways to run it. */
static int analyze_finish(struct analysis *a, int rc, const char *prog, FILE *warn)
{
    HASH_SORT(a->calls, compare_call_names);
    if (rc < 0) {
        fprintf(warn, "%s: out of memory\n", prog);
        return 2;
    }
    if (a->nprocs == 0) {
        fprintf(warn, "%s: no readable trace among the given paths\n", prog);
        return 2;
    }
    attribute_and_group(a);
    return 0;
}

/* Replay the traces of `set` in one merged order, on this thread. */
static int analyze_serial(struct analysis *a, const struct trace_set *set, const char *prog,
                          FILE *warn, const struct replay_hooks *const *hooks, int nhooks)
{
    struct replay_hooks own[OWN_HOOKS];
    own_hooks(own, a);
    struct hb_model *model = hb_model_new();
    if (!model)
        return -1;
    const struct replay_hooks *all[REPLAY_MAX_HOOKS];
    int nall = 0;
    for (int i = 0; i < OWN_HOOKS; i++)
        all[nall++] = &own[i];
    all[nall++] = hb_model_hooks(model);
    for (int i = 0; i < nhooks && nall < REPLAY_MAX_HOOKS; i++)
        all[nall++] = hooks[i];
    int rc = 0;
    for (size_t first = 0; first < set->count && rc == 0; first += ANALYZE_BATCH_FILES) {
        size_t n = set->count - first;
        if (n > ANALYZE_BATCH_FILES)
            n = ANALYZE_BATCH_FILES;
        rc = run_batch(a, set->files + first, n, prog, warn, all, nall);
    }
    a->diagnosis = hb_model_take_diagnosis(model, &a->ndiagnosis);
    hb_model_free(model);
    return rc;
}

/* The same result, each trace replayed alone on one of `jobs` threads. */
static int analyze_parallel(struct analysis *a, const struct trace_set *set, const char *prog,
                            FILE *warn, int jobs)
{
    int rc = 0;
    for (size_t first = 0; first < set->count && rc == 0; first += ANALYZE_BATCH_FILES) {
        size_t n = set->count - first;
        if (n > ANALYZE_BATCH_FILES)
            n = ANALYZE_BATCH_FILES;
        rc = run_batch_jobs(a, set->files + first, n, prog, warn, jobs);
    }
    return rc;
}

/* jobs 0: serial with the hooks; else parallel (no hooks) when several traces. */
static int analyze_any(struct analysis *a, char *const *paths, int npaths, const char *prog,
                       FILE *warn, const struct replay_hooks *const *hooks, int nhooks, int jobs)
{
    memset(a, 0, sizeof *a);
    findings_init(&a->findings);
    struct trace_set set;
    if (trace_set_collect(&set, paths, npaths, prog, warn) < 0) {
        trace_set_free(&set);
        fprintf(warn, "%s: out of memory\n", prog);
        return 2;
    }
    int rc = jobs > 1 && set.count > 1 ? analyze_parallel(a, &set, prog, warn, jobs)
                                       : analyze_serial(a, &set, prog, warn, hooks, nhooks);
    trace_set_free(&set);
    return analyze_finish(a, rc, prog, warn);
}

int analyze_paths_jobs(struct analysis *a, char *const *paths, int npaths, const char *prog,
                       FILE *warn, int jobs)
{
    return analyze_any(a, paths, npaths, prog, warn, NULL, 0, jobs);
}

int analyze_paths(struct analysis *a, char *const *paths, int npaths, const char *prog, FILE *warn,
                  const struct replay_hooks *const *hooks, int nhooks)
{
    return analyze_any(a, paths, npaths, prog, warn, hooks, nhooks, 1);
}

void analysis_free(struct analysis *a)
{
    interventions_free(&a->interventions);
    findings_free(&a->findings);
    for (size_t i = 0; i < a->nprocs; i++) {
        struct process_info *info = &a->procs[i];
        free(info->host);
        for (uint32_t j = 0; j < info->argc; j++)
            free(info->argv[j]);
        free(info->argv);
        free(info->trace);
        free(info->crash_api);
        free(info->crash_thread);
        for (size_t j = 0; j < info->nmodules; j++) {
            free(info->modules[j].path);
            free(info->modules[j].build_id);
        }
        free(info->modules);
        free(info->task_starts);
        ownership_free(info->ownership);
    }
    free(a->procs);
    for (size_t i = 0; i < a->ndiagnosis; i++)
        free(a->diagnosis[i]);
    free(a->diagnosis);
    struct call_count *c, *tmp;
    HASH_ITER(hh, a->calls, c, tmp)
    {
        HASH_DEL(a->calls, c);
        free(c->name);
        free(c);
    }
    memset(a, 0, sizeof *a);
}

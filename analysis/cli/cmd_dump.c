/*
 * analysis/cli/cmd_dump.c — `cuguard dump PATH...`: every record, one line each.
 *
 * What it is for: a stable, greppable view of raw traces, for people and for
 * tests. Per file one header line ("== trace PATH pid=... complete=yes ...")
 * then one line per record:
 *
 *   TIME pid=P tid=T task=NAME KIND [API] [FIELD=VALUE ...] [result=NAME]
 *        [via=runtime] [ptsz] [site="..."]
 *
 * TIME is seconds since the trace started, microsecond precision; handles
 * are 0x hex; byte counts and ids are decimal. Field labels follow the
 * "Fields per API" table of tracer/format.h.
 *
 * What it must never do: interpret records beyond labelling them (that is
 * `cuguard report`), stop at one bad file, or trust the file (the reader
 * checks it; the per-thread task table here is bounded).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uthash.h>

#include "analysis/base/api_ops.h"
#include "analysis/cli/commands.h"
#include "analysis/base/cuda_errors.h"
#include "analysis/cli/dump_filter.h"
#include "analysis/cli/policy_names.h"
#include "analysis/input/trace_set.h"
#include "tracer/reader.h"

#define THREAD_TASKS_MAX 65536u

enum field_format { F_NONE = 0, F_HEX, F_DEC, F_SIGNED };

struct field {
    const char *label;
    enum field_format format;
};

/* Labels of (handle, arg, arg2) per base API name; format.h "Fields per API". */
struct api_fields {
    const char *base;
    struct field f[3];
};

static const struct api_fields api_fields[] = {
    {"cuEventCreate", {{"event", F_HEX}, {"flags", F_HEX}, {NULL, F_NONE}}},
    {"cuEventRecord", {{"event", F_HEX}, {"stream", F_HEX}, {NULL, F_NONE}}},
    {"cuEventRecordWithFlags", {{"event", F_HEX}, {"stream", F_HEX}, {"flags", F_HEX}}},
    {"cuEventQuery", {{"event", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuEventSynchronize", {{"event", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuEventDestroy", {{"event", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuEventElapsedTime", {{"start", F_HEX}, {"end", F_HEX}, {NULL, F_NONE}}},
    {"cuStreamCreate", {{"stream", F_HEX}, {"flags", F_HEX}, {"priority", F_SIGNED}}},
    {"cuStreamCreateWithPriority", {{"stream", F_HEX}, {"flags", F_HEX}, {"priority", F_SIGNED}}},
    {"cuStreamDestroy", {{"stream", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuStreamSynchronize", {{"stream", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuStreamQuery", {{"stream", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuStreamWaitEvent", {{"stream", F_HEX}, {"event", F_HEX}, {"flags", F_HEX}}},
    {"cuCtxSynchronize", {{NULL, F_NONE}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuMemAllocHost", {{"ptr", F_HEX}, {"bytes", F_DEC}, {NULL, F_NONE}}},
    {"cuMemHostAlloc", {{"ptr", F_HEX}, {"bytes", F_DEC}, {"flags", F_HEX}}},
    {"cuMemFreeHost", {{"ptr", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuMemHostRegister", {{"ptr", F_HEX}, {"bytes", F_DEC}, {"flags", F_HEX}}},
    {"cuMemHostUnregister", {{"ptr", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuMemcpyHtoDAsync", {{"stream", F_HEX}, {"src", F_HEX}, {"bytes", F_DEC}}},
    {"cuMemcpyDtoHAsync", {{"stream", F_HEX}, {"dst", F_HEX}, {"bytes", F_DEC}}},
    {"cuMemcpyDtoDAsync", {{"stream", F_HEX}, {NULL, F_NONE}, {"bytes", F_DEC}}},
    {"cuMemcpyAsync", {{"stream", F_HEX}, {"dst", F_HEX}, {"src", F_HEX}}},
    {"cuLaunchKernel", {{"stream", F_HEX}, {"func", F_HEX}, {NULL, F_NONE}}},
    {"cuLaunchHostFunc", {{"stream", F_HEX}, {"func", F_HEX}, {"data", F_HEX}}},
    {"cuStreamAddCallback", {{"stream", F_HEX}, {"func", F_HEX}, {"callback", F_DEC}}},
    {"cuStreamBeginCapture", {{"stream", F_HEX}, {"mode", F_DEC}, {NULL, F_NONE}}},
    {"cuStreamEndCapture", {{"stream", F_HEX}, {"graph", F_HEX}, {NULL, F_NONE}}},
    {"cuCtxCreate", {{"context", F_HEX}, {"flags", F_HEX}, {"device", F_DEC}}},
    {"cuCtxDestroy", {{"context", F_HEX}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuDevicePrimaryCtxReset", {{"device", F_DEC}, {NULL, F_NONE}, {NULL, F_NONE}}},
    {"cuDevicePrimaryCtxRelease", {{"device", F_DEC}, {NULL, F_NONE}, {NULL, F_NONE}}},
};

static const struct api_fields unknown_api_fields = {
    NULL, {{"handle", F_HEX}, {"arg", F_HEX}, {"arg2", F_HEX}}};

static const char *const kind_names[CG_REC_KIND_MAX + 1] = {
    [CG_REC_NONE] = "none",
    [CG_REC_CALL] = "call",
    [CG_REC_ENTER] = "enter",
    [CG_REC_EXIT] = "exit",
    [CG_REC_SPIN] = "spin",
    [CG_REC_STRING] = "string",
    [CG_REC_THREAD_START] = "thread-start",
    [CG_REC_THREAD_EXIT] = "thread-exit",
    [CG_REC_TASK] = "task-change",
    [CG_REC_FORK] = "fork",
    [CG_REC_STREAM_ID] = "stream-id",
    [CG_REC_ARGS] = "args",
    [CG_REC_PROCESS_EXIT] = "process-exit",
    [CG_REC_POLICY] = "policy",
    [CG_REC_STALL] = "stall",
    [CG_REC_LOG] = "log",
    [CG_REC_CONTEXT] = "context",
    [CG_REC_CALLBACK] = "callback",
    [CG_REC_MODULE] = "module",
    [CG_REC_PYSTACK] = "pystack",
};

static const char *const policy_actions[] = {
    [CG_POLICY_REFUSED] = "refused",
    [CG_POLICY_DEFERRED_DESTROY] = "deferred-destroy",
    [CG_POLICY_QUARANTINED] = "quarantined",
    [CG_POLICY_DRAINED_STREAM] = "drained-stream",
    [CG_POLICY_RECLAIMED] = "reclaimed",
    [CG_POLICY_SYNC_QUERY] = "sync-query",
    [CG_POLICY_REDIRECTED] = "redirected",
    [CG_POLICY_RELEASED] = "released",
    [CG_POLICY_RECLAIMED_USE] = "reclaimed-use",
    [CG_POLICY_NON_BLOCKING] = "non-blocking",
    [CG_POLICY_HELD] = "held",
};

struct thread_task {
    uint32_t tid;
    uint32_t task; /* string id */
    UT_hash_handle hh;
};

/* What one file's dump remembers between records. */
struct dump_state {
    struct cg_reader *reader;
    FILE *out;
    uint64_t start_ns;
    uint32_t process_task;
    struct thread_task *thread_tasks;
    uint32_t thread_task_count;
    struct cg_record prev; /* the record before, for CG_REC_ARGS */
    const struct dump_filter *filter;
    int prev_shown; /* an args record is shown with the record it extends */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cuguard dump [OPTIONS] PATH...\n\n"
            "Print every record of cuguard trace files, one line each.\n"
            "PATH is a trace file (*.cgt) or a directory of them (not recursive). A trace\n"
            "directory written by 'cuguard run' holds one subdirectory per run: the latest\n"
            "run is read (one line on stderr says which), --all reads every run.\n\n"
            "Per file: a line '== trace PATH pid=.. ppid=.. host=.. start=.. complete=yes|no\n"
            "task-mode=.. policies=none|LIST|? tool=VERSION argv=\"..\"', then one line per\n"
            "record (policies: CUGUARD_POLICY as the process had it, ? from a writer that did\n"
            "not say):\n"
            "  TIME pid=P tid=T task=NAME KIND [API] [FIELD=VALUE..] [result=CUDA_..]\n"
            "       [via=runtime] [ptsz] [site=\"..\"]\n"
            "TIME is seconds since the trace started; handles are hexadecimal.\n"
            "A spin line carries count=N first=TIME last=TIME for repeated NOT_READY polls.\n\n"
            "options (filters combine: a record is printed when it passes all of them):\n"
            "%s"
            "  --all           read every run of a trace directory, not only the latest\n"
            "  --help, -h      show this help and exit\n\n"
            "Exit status: 0 when at least one file was readable, 2 otherwise.\n"
            "An unreadable file gets one line 'cuguard: PATH: reason' on stderr.\n",
            dump_filter_help);
}

/* ---- formatting pieces ---- */

static void format_time(char *buf, size_t len, uint64_t ts, uint64_t start)
{
    int negative = ts < start;
    uint64_t d = negative ? start - ts : ts - start;
    snprintf(buf, len, "%s%" PRIu64 ".%06" PRIu64, negative ? "-" : "", d / 1000000000u,
             (d % 1000000000u) / 1000u);
}

static void print_string_field(struct dump_state *st, const char *label, uint32_t id)
{
    const char *s = cg_reader_string(st->reader, id);
    if (s)
        fprintf(st->out, " %s=\"%s\"", label, s);
    else if (id)
        fprintf(st->out, " %s=#%" PRIu32, label, id);
    else
        fprintf(st->out, " %s=-", label);
}

static const struct api_fields *fields_of(const char *api_name)
{
    char base[128];
    api_base_name(api_name, base, sizeof base);
    for (size_t i = 0; i < sizeof api_fields / sizeof api_fields[0]; i++)
        if (!strcmp(base, api_fields[i].base))
            return &api_fields[i];
    return &unknown_api_fields;
}

static void print_value(FILE *out, const struct field *f, uint64_t v)
{
    switch (f->format) {
    case F_HEX:
        fprintf(out, " %s=0x%" PRIx64, f->label, v);
        break;
    case F_DEC:
        fprintf(out, " %s=%" PRIu64, f->label, v);
        break;
    case F_SIGNED:
        fprintf(out, " %s=%" PRId64, f->label, (int64_t)v);
        break;
    case F_NONE:
        break;
    }
}

static void print_api(struct dump_state *st, uint16_t api)
{
    const char *name = cg_reader_api_name(st->reader, api);
    if (!strcmp(name, "?"))
        fprintf(st->out, " api#%u", (unsigned)api);
    else
        fprintf(st->out, " %s", name[0] ? name : "-");
}

static void print_result(FILE *out, int32_t result)
{
    const char *name = cuda_error_name_or_null(result);
    if (name)
        fprintf(out, " result=%s", name);
    else
        fprintf(out, " result=%" PRId32, result);
}

static void print_flags_and_site(struct dump_state *st, const struct cg_record *r)
{
    if (r->flags & CG_FLAG_VIA_RUNTIME)
        fprintf(st->out, " via=runtime");
    if (r->flags & CG_FLAG_PTSZ)
        fprintf(st->out, " ptsz");
    if (r->site && (r->flags & CG_FLAG_STACK))
        fprintf(st->out, " stack=%" PRIu32, r->site); /* a stack string, see format.h */
    else if (r->site)
        print_string_field(st, "site", r->site);
}

/* ---- tasks ---- */

static uint32_t task_of(const struct dump_state *st, uint32_t tid)
{
    struct thread_task *t = NULL;
    HASH_FIND(hh, st->thread_tasks, &tid, sizeof tid, t);
    return t ? t->task : st->process_task;
}

static void set_thread_task(struct dump_state *st, uint32_t tid, uint32_t task)
{
    struct thread_task *t = NULL;
    HASH_FIND(hh, st->thread_tasks, &tid, sizeof tid, t);
    if (!t) {
        if (st->thread_task_count >= THREAD_TASKS_MAX)
            return;
        t = calloc(1, sizeof *t);
        if (!t)
            return;
        t->tid = tid;
        HASH_ADD(hh, st->thread_tasks, tid, sizeof t->tid, t);
        st->thread_task_count++;
    }
    t->task = task;
}

static void forget_thread_task(struct dump_state *st, uint32_t tid)
{
    struct thread_task *t = NULL;
    HASH_FIND(hh, st->thread_tasks, &tid, sizeof tid, t);
    if (t) {
        HASH_DEL(st->thread_tasks, t);
        free(t);
        st->thread_task_count--;
    }
}

static void free_thread_tasks(struct dump_state *st)
{
    struct thread_task *t, *tmp;
    HASH_ITER(hh, st->thread_tasks, t, tmp)
    {
        HASH_DEL(st->thread_tasks, t);
        free(t);
    }
}

/* ---- one record ---- */

static void print_call(struct dump_state *st, const struct cg_record *r)
{
    print_api(st, r->api);
    const struct api_fields *af = fields_of(cg_reader_api_name(st->reader, r->api));
    print_value(st->out, &af->f[0], r->handle);
    print_value(st->out, &af->f[1], r->arg);
    print_value(st->out, &af->f[2], r->arg2);
    if (r->kind != CG_REC_ENTER)
        print_result(st->out, r->result);
}

static void print_spin(struct dump_state *st, const struct cg_record *r)
{
    print_api(st, r->api);
    const struct api_fields *af = fields_of(cg_reader_api_name(st->reader, r->api));
    struct field handle = af->f[0].label ? af->f[0] : unknown_api_fields.f[0];
    print_value(st->out, &handle, r->handle);
    char first[32], last[32];
    format_time(first, sizeof first, r->ts_ns, st->start_ns);
    format_time(last, sizeof last, r->arg2, st->start_ns);
    fprintf(st->out, " count=%" PRIu64 " first=%s last=%s", r->arg, first, last);
    print_result(st->out, r->result);
}

static void print_args(struct dump_state *st, const struct cg_record *r)
{
    const struct cg_record *p = &st->prev;
    int follows_call = (p->kind == CG_REC_CALL || p->kind == CG_REC_ENTER) && p->tid == r->tid;
    char base[128] = "";
    if (follows_call)
        api_base_name(cg_reader_api_name(st->reader, p->api), base, sizeof base);
    if (!strcmp(base, "cuMemcpyAsync"))
        fprintf(st->out, " bytes=%" PRIu64, r->handle);
    else
        fprintf(st->out, " handle=0x%" PRIx64 " arg=0x%" PRIx64 " arg2=0x%" PRIx64, r->handle,
                r->arg, r->arg2);
}

static void print_string_chunk(struct dump_state *st, const struct cg_record *r)
{
    fprintf(st->out, " id=%" PRIu32 " offset=%" PRId32 " len=%u", r->site, r->result,
            (unsigned)r->api);
    if (r->flags & CG_FLAG_LAST_CHUNK)
        print_string_field(st, "value", r->site);
}

static void print_policy(struct dump_state *st, const struct cg_record *r)
{
    print_api(st, r->api);
    size_t n = sizeof policy_actions / sizeof policy_actions[0];
    if (r->arg < n && policy_actions[r->arg])
        fprintf(st->out, " action=%s", policy_actions[r->arg]);
    else
        fprintf(st->out, " action=%" PRIu64, r->arg);
    fprintf(st->out, " handle=0x%" PRIx64, r->handle);
    print_flags_and_site(st, r);
}

static void print_stall(struct dump_state *st, const struct cg_record *r)
{
    print_api(st, r->api);
    fprintf(st->out, " handle=0x%" PRIx64 " thread=%" PRIu64 " for=%" PRIu64 ".%06" PRIu64 "s",
            r->handle, r->arg, r->arg2 / 1000000000u, (r->arg2 % 1000000000u) / 1000u);
    print_flags_and_site(st, r);
}

/* The part of the line after the kind name. */
static void print_details(struct dump_state *st, const struct cg_record *r)
{
    switch ((enum cg_record_kind)r->kind) {
    case CG_REC_CALL:
    case CG_REC_ENTER:
    case CG_REC_EXIT:
        print_call(st, r);
        print_flags_and_site(st, r);
        break;
    case CG_REC_SPIN:
        print_spin(st, r);
        print_flags_and_site(st, r);
        break;
    case CG_REC_STRING:
        print_string_chunk(st, r);
        break;
    case CG_REC_THREAD_START:
        print_string_field(st, "name", r->site);
        break;
    case CG_REC_TASK:
        fprintf(st->out, " scope=%s", r->flags & CG_FLAG_TASK_THREAD ? "thread" : "process");
        print_string_field(st, "name", r->site);
        break;
    case CG_REC_FORK:
        fprintf(st->out, " child=%" PRIu64, r->arg);
        break;
    case CG_REC_STREAM_ID:
        fprintf(st->out, " stream=0x%" PRIx64 " id=%" PRIu64, r->handle, r->arg);
        break;
    case CG_REC_ARGS:
        print_args(st, r);
        break;
    case CG_REC_POLICY:
        print_policy(st, r);
        break;
    case CG_REC_STALL:
        print_stall(st, r);
        break;
    case CG_REC_LOG:
        print_string_field(st, "text", r->site);
        break;
    case CG_REC_CONTEXT: /* arg = device ordinal + 1, 0 = unknown */
        fprintf(st->out, " context=0x%" PRIx64, r->handle);
        if (r->arg)
            fprintf(st->out, " device=%" PRIu64, r->arg - 1);
        else
            fprintf(st->out, " device=?");
        break;
    case CG_REC_CALLBACK:
        print_api(st, r->api);
        fprintf(st->out, " stream=0x%" PRIx64 " callback=%" PRIu64 " status=%s", r->handle, r->arg,
                cuda_error_name((int32_t)r->arg2));
        break;
    case CG_REC_MODULE:
        fprintf(st->out, " number=%" PRId32 " base=0x%" PRIx64, r->result, r->handle);
        print_string_field(st, "path", r->site);
        print_string_field(st, "build_id", (uint32_t)r->arg);
        break;
    case CG_REC_PYSTACK: /* tracer/format.h: header (handle 0) or one Python thread */
        if (r->handle == 0)
            fprintf(st->out, " status=%" PRId32 " threads=%" PRIu64 " waited=%" PRIu64 "ns",
                    r->result, r->arg, r->arg2);
        else {
            fprintf(st->out, " thread=%" PRIu64 " ident=0x%" PRIx64 " frames=%" PRIu64,
                    r->arg2 >> 32, r->handle, r->arg2 & 0xffffffffu);
            print_string_field(st, "name", (uint32_t)r->arg);
            print_string_field(st, "stack", r->site);
        }
        break;
    case CG_REC_NONE:
    case CG_REC_THREAD_EXIT:
    case CG_REC_PROCESS_EXIT:
    case CG_REC_BATCH: /* the reader never hands one out */
        break;
    }
}

static void track_task(struct dump_state *st, const struct cg_record *r)
{
    if (r->kind == CG_REC_TASK) {
        if (r->flags & CG_FLAG_TASK_THREAD)
            set_thread_task(st, r->tid, r->site);
        else
            st->process_task = r->site;
    }
}

/* Whether the filter lets `r` through; an args record goes with its call. */
static int shown(const struct dump_state *st, const struct cg_record *r)
{
    if (r->kind == CG_REC_ARGS && st->prev.tid == r->tid)
        return st->prev_shown;
    return dump_filter_keeps(st->filter, r, cg_reader_api_name(st->reader, r->api), st->start_ns);
}

static void print_record(struct dump_state *st, const struct cg_record *r)
{
    track_task(st, r);
    st->prev_shown = shown(st, r);
    if (!st->prev_shown) {
        if (r->kind == CG_REC_THREAD_EXIT)
            forget_thread_task(st, r->tid);
        st->prev = *r;
        return;
    }
    char when[32];
    format_time(when, sizeof when, r->ts_ns, st->start_ns);
    if (r->kind == CG_REC_STRING) /* ts_ns holds string bytes */
        snprintf(when, sizeof when, "-");
    fprintf(st->out, "%11s pid=%" PRIu32 " tid=%" PRIu32, when, cg_reader_header(st->reader)->pid,
            r->tid);
    print_string_field(st, "task", task_of(st, r->tid));
    fprintf(st->out, " %s", kind_names[r->kind]);
    print_details(st, r);
    fputc('\n', st->out);
    if (r->kind == CG_REC_THREAD_EXIT)
        forget_thread_task(st, r->tid);
    st->prev = *r;
}

/* ---- one file ---- */

static const char *task_mode_name(uint32_t mode)
{
    switch (mode) {
    case CG_TASK_THREAD:
        return "thread";
    case CG_TASK_PROCESS:
        return "process";
    default:
        return "env";
    }
}

static void print_file_header(struct cg_reader *r, FILE *out)
{
    const struct cg_file_header *h = cg_reader_header(r);
    time_t secs = (time_t)(h->start_real_ns / 1000000000u);
    struct tm tm;
    char start[64] = "?";
    if (gmtime_r(&secs, &tm))
        strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%S", &tm);
    char argv[CG_ARGV_MAX];
    cg_reader_argv(r, argv, sizeof argv);
    fprintf(out, "== trace %s pid=%" PRIu32 " ppid=%" PRIu32 " host=%s start=%s.%06" PRIu64 "Z",
            cg_reader_path(r), h->pid, h->ppid, h->host[0] ? h->host : "-", start,
            (h->start_real_ns % 1000000000u) / 1000u);
    fprintf(out, " complete=%s task-mode=%s", h->end_state == CG_END_CLEAN ? "yes" : "no",
            task_mode_name(h->task_mode));
    if (h->task_mode == CG_TASK_ENV)
        fprintf(out, ":%s", h->task_var[0] ? h->task_var : "-");
    char policies[64];
    cli_policy_list_text(h->policies, policies, sizeof policies);
    fprintf(out, " policies=%s tool=%s argv=\"%s\"\n", policies,
            h->tool_version[0] ? h->tool_version : "-", argv);
}

/* Dump one file; returns 0, or -1 after one line on stderr. */
static int dump_file(const char *path, const struct dump_filter *filter, FILE *out)
{
    char err[256];
    struct cg_reader *reader = cg_reader_open(path, err, sizeof err);
    if (!reader) {
        fprintf(stderr, "cuguard: %s: %s\n", path, err);
        return -1;
    }
    if (!dump_filter_keeps_pid(filter, cg_reader_header(reader)->pid)) {
        cg_reader_close(reader);
        return 0;
    }
    print_file_header(reader, out);
    struct dump_state st;
    memset(&st, 0, sizeof st);
    st.filter = filter;
    st.reader = reader;
    st.out = out;
    st.start_ns = cg_reader_header(reader)->start_mono_ns;
    struct cg_record rec;
    while (cg_reader_next(reader, &rec))
        print_record(&st, &rec);
    uint64_t bad = cg_reader_bad_records(reader);
    uint64_t bad_chunks = cg_reader_bad_string_chunks(reader);
    if (bad || bad_chunks)
        fprintf(stderr,
                "cuguard: %s: skipped %" PRIu64 " corrupt records and %" PRIu64
                " bad string chunks\n",
                path, bad, bad_chunks);
    free_thread_tasks(&st);
    cg_reader_close(reader);
    return 0;
}

int cmd_dump(int argc, char **argv)
{
    struct dump_filter filter;
    memset(&filter, 0, sizeof filter);
    filter.kind_names = kind_names;
    int all_runs = 0;
    int first_path = 1;
    for (; first_path < argc; first_path++) {
        const char *a = argv[first_path];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--all")) {
            all_runs = 1;
            continue;
        }
        int taken = dump_filter_option(&filter, argc, argv, &first_path, stderr);
        if (taken < 0)
            return 2;
        if (taken > 0)
            continue;
        if (!strcmp(a, "--")) {
            first_path++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        fprintf(stderr, "cuguard dump: unknown option '%s' (try 'cuguard dump --help')\n", a);
        return 2;
    }
    if (first_path >= argc) {
        fprintf(stderr, "cuguard dump: no trace file or directory given (try 'cuguard dump "
                        "--help')\n");
        return 2;
    }
    struct trace_set set;
    trace_set_read_all_runs(all_runs);
    if (trace_set_collect(&set, argv + first_path, argc - first_path, "cuguard", stderr) != 0) {
        fprintf(stderr, "cuguard dump: out of memory\n");
        return 2;
    }
    int readable = 0;
    for (size_t i = 0; i < set.count; i++)
        readable += dump_file(set.files[i], &filter, stdout) == 0;
    trace_set_free(&set);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "cuguard dump: could not write the dump: %s\n", strerror(errno));
        return 2;
    }
    return readable > 0 ? 0 : 2;
}

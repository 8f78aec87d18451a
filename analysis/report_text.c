/*
 * analysis/report_text.c — the human-readable report.
 *
 * What it is for: one block per finding, most severe first, saying in plain
 * words what happened, where (process, thread, task, API, handle, site) and
 * when (relative to the start of its process), then the lifecycle summary
 * and `SUMMARY: N errors, N warnings`.
 *
 * What it must never do: print raw control characters from a trace (the
 * reader sanitizes strings; names are printed as given), or print a
 * suppressed finding.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "analysis/report.h"

double report_seconds_since_start(uint64_t ts_ns, uint64_t start_ns)
{
    return ts_ns >= start_ns ? (double)(ts_ns - start_ns) / 1e9 : 0.0;
}

static const struct process_info *process_of(const struct analysis *a, const struct finding *f)
{
    return f->process >= 0 && (size_t)f->process < a->nprocs ? &a->procs[f->process] : NULL;
}

static void print_thread(FILE *out, uint32_t tid, const char *name)
{
    if (name)
        fprintf(out, "%" PRIu32 " \"%s\"", tid, name);
    else
        fprintf(out, "%" PRIu32, tid);
}

static void print_process(FILE *out, const struct process_info *p)
{
    if (!p) {
        fputs("?", out);
        return;
    }
    fprintf(out, "pid %" PRIu32, p->pid);
    for (uint32_t i = 0; i < p->argc && i < 6; i++)
        fprintf(out, " %s", p->argv[i]);
    if (p->argc > 6)
        fputs(" ...", out);
    if (p->crashed)
        fprintf(out, "  [crashed (%s) inside %s]", p->crash_signal,
                p->crash_api ? p->crash_api : "?");
    else if (p->cut_short)
        fprintf(out, "  [trace cut short at +%.6f s: %s]", p->cut_short_s, p->cut_short_reason);
    else if (!p->complete)
        fputs("  [did not exit cleanly]", out);
}

/* "  pid 7 ./prog: trace cut short at +1.5 s: REASON" */
static void print_cut_short_processes(FILE *out, const struct analysis *a)
{
    for (size_t i = 0; i < a->nprocs; i++) {
        const struct process_info *p = &a->procs[i];
        if (p->cut_short)
            fprintf(out,
                    "  pid %" PRIu32 "%s%s: trace cut short at +%.6f s: %s (no leaks are "
                    "reported for it: its destroys may simply be missing)\n",
                    p->pid, p->argc ? " " : "", p->argc ? p->argv[0] : "", p->cut_short_s,
                    p->cut_short_reason);
    }
}

/* "  pid 7 ./prog: crashed (SIGSEGV) inside cuEventQuery(0x..) in thread 12 "watcher"" */
static void print_crashed_processes(FILE *out, const struct analysis *a)
{
    for (size_t i = 0; i < a->nprocs; i++) {
        const struct process_info *p = &a->procs[i];
        if (!p->crashed)
            continue;
        fprintf(out, "  pid %" PRIu32 "%s%s: crashed (%s) inside %s(0x%" PRIx64 ") in thread ",
                p->pid, p->argc ? " " : "", p->argc ? p->argv[0] : "", p->crash_signal,
                p->crash_api ? p->crash_api : "?", p->crash_handle);
        print_thread(out, p->crash_tid, p->crash_thread);
        fputc('\n', out);
    }
}

static void print_origin(FILE *out, const char *label, const struct finding_origin *o,
                         uint64_t start_ns)
{
    if (!o->present)
        return;
    fprintf(out, "  %-10s +%.6f s by %s in thread ", label,
            report_seconds_since_start(o->ts_ns, start_ns), o->api ? o->api : "?");
    print_thread(out, o->tid, o->thread);
    if (o->task)
        fprintf(out, ", task %s", o->task);
    if (o->site)
        fprintf(out, ", at %s", o->site);
    fputc('\n', out);
}

static void print_finding_block(FILE *out, const struct analysis *a, const struct finding *f)
{
    enum severity sev = finding_kind_severity(f->kind);
    fprintf(out, "%s: %s", severity_name(sev), finding_kind_name(f->kind));
    if (f->count > 1)
        fprintf(out, " (%" PRIu64 " times)", f->count);
    fprintf(out, "\n  %s\n", f->message ? f->message : "");
    fprintf(out, "  %s\n", finding_kind_explanation(f->kind));
    fputs("  process    ", out);
    print_process(out, process_of(a, f));
    fputs("\n  thread     ", out);
    print_thread(out, f->tid, f->thread);
    fprintf(out, "\n  task       %s\n", f->task ? f->task : "(none)");
    fprintf(out, "  api        %s\n", f->api ? f->api : "(none)");
    if (f->has_handle)
        fprintf(out, "  handle     0x%" PRIx64 "\n", f->handle);
    if (f->bytes)
        fprintf(out, "  bytes      %" PRIu64 "\n", f->bytes);
    fprintf(out, "  site       %s\n", f->site ? f->site : "(unknown)");
    print_origin(out, "created", &f->created, f->process_start_ns);
    print_origin(out, "destroyed", &f->destroyed, f->process_start_ns);
    fprintf(out, "  time       +%.6f s", report_seconds_since_start(f->ts_ns, f->process_start_ns));
    if (f->count > 1)
        fprintf(out, " (first) .. +%.6f s (last)",
                report_seconds_since_start(f->last_ts_ns, f->process_start_ns));
    fputs("\n\n", out);
}

static void print_finding_line(FILE *out, const struct finding *f)
{
    fprintf(out, "cuguard: %s: %s", severity_name(finding_kind_severity(f->kind)),
            finding_kind_name(f->kind));
    if (f->count > 1)
        fprintf(out, " x%" PRIu64, f->count);
    fprintf(out, " (pid %" PRIu32 ", thread ", f->pid);
    print_thread(out, f->tid, f->thread);
    if (f->task)
        fprintf(out, ", task %s", f->task);
    fprintf(out, "): %s\n", f->message ? f->message : "");
}

static void print_summary_table(FILE *out, const struct analysis *a)
{
    const struct replay_totals *t = &a->totals;
    uint64_t records = 0;
    size_t incomplete = 0;
    for (size_t i = 0; i < a->nprocs; i++) {
        records += a->procs[i].records;
        incomplete += !a->procs[i].complete && !a->procs[i].cut_short;
    }
    size_t cut_short = 0;
    for (size_t i = 0; i < a->nprocs; i++)
        cut_short += a->procs[i].cut_short != 0;
    size_t crashed = 0;
    for (size_t i = 0; i < a->nprocs; i++)
        crashed += a->procs[i].crashed != 0;
    fprintf(out, "summary: %zu process%s (%zu did not exit cleanly", a->nprocs,
            a->nprocs == 1 ? "" : "es", incomplete);
    if (crashed)
        fprintf(out, ", %zu crashed", crashed);
    if (cut_short)
        fprintf(out, ", %zu trace%s cut short", cut_short, cut_short == 1 ? "" : "s");
    fprintf(out, "), %" PRIu64 " records\n", records);
    print_crashed_processes(out, a);
    print_cut_short_processes(out, a);
    fprintf(out, "  %-8s %10s %10s %10s %10s\n", "", "created", "destroyed", "leaked", "peak live");
    fprintf(out, "  %-8s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n", "events",
            t->events.created, t->events.destroyed, t->leaked_events, t->events.peak_live);
    fprintf(out, "  %-8s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "\n", "streams",
            t->streams.created, t->streams.destroyed, t->leaked_streams, t->streams.peak_live);
    fprintf(out,
            "  %-8s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 "   leaked %" PRIu64
            " bytes, peak %" PRIu64 " bytes\n",
            "pinned", t->pinned.allocations + t->pinned.registrations,
            t->pinned.freed + t->pinned.unregistered, t->leaked_pinned, t->leaked_pinned_bytes,
            t->pinned.peak_bytes);
    if (a->calls) {
        fputs("calls:", out);
        int n = 0;
        for (const struct call_count *c = a->calls; c; c = c->hh.next)
            fprintf(out, "%s %s %" PRIu64, n++ ? "," : "", c->name, c->count);
        fputc('\n', out);
    }
}

static void print_summary_line(FILE *out, const struct analysis *a)
{
    const struct finding_set *s = &a->findings;
    fprintf(out, "SUMMARY: %zu errors, %zu warnings", findings_count_severity(s, SEV_ERROR),
            findings_count_severity(s, SEV_WARNING));
    size_t info = findings_count_severity(s, SEV_INFO);
    size_t suppressed = findings_count_suppressed(s);
    if (info)
        fprintf(out, ", %zu notes", info);
    if (suppressed)
        fprintf(out, " (%zu suppressed)", suppressed);
    fputc('\n', out);
}

/* The chain that explains a hang, before everything else. */
static void print_diagnosis(FILE *out, const struct analysis *a, enum report_detail detail)
{
    if (!a->ndiagnosis)
        return;
    if (detail == REPORT_BRIEF) {
        for (size_t i = 0; i < a->ndiagnosis; i++)
            fprintf(out, "cuguard: diagnosis: %s\n", a->diagnosis[i]);
        return;
    }
    fputs("diagnosis: what explains the hang\n", out);
    for (size_t i = 0; i < a->ndiagnosis; i++)
        fprintf(out, "  %zu. %s\n", i + 1, a->diagnosis[i]);
    fputc('\n', out);
}

void report_write_text(FILE *out, const struct analysis *a, enum report_detail detail)
{
    print_diagnosis(out, a, detail);
    struct finding **list = findings_sorted(&a->findings);
    for (size_t i = 0; list && list[i]; i++) {
        if (list[i]->suppressed)
            continue;
        if (detail == REPORT_FULL)
            print_finding_block(out, a, list[i]);
        else
            print_finding_line(out, list[i]);
    }
    free(list);
    if (detail == REPORT_FULL)
        interventions_write_text(out, &a->interventions);
    if (detail == REPORT_FULL)
        print_summary_table(out, a);
    if (detail == REPORT_BRIEF)
        fputs("cuguard: ", out);
    print_summary_line(out, a);
}

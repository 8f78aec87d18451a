/*
 * analysis/output/report_text.c — the human-readable report.
 *
 * What it is for: one block per finding, most severe first, saying in plain
 * words what happened, where (process, thread, task, API, handle, the
 * user's line and the frames that called it) and when (relative to the
 * start of its process), then the lifecycle summary and the ASan-style
 * `SUMMARY: cuguard: N errors (kind site, ...), N warnings` line. Each
 * process is described in full once, each kind's explanation is given
 * once, long sentences are wrapped.
 *
 * What it must never do: print raw control characters from a trace (the
 * reader sanitizes strings; names are printed as given), or print a
 * suppressed finding.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/output/report.h"
#include "analysis/stacks/stack.h"

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
    if (p->label[0]) /* a pytest-xdist worker: "gw3", not execnet's command line */
        fprintf(out, " %s", p->label);
    for (uint32_t i = 0; !p->label[0] && i < p->argc && i < 6; i++)
        fprintf(out, " %s", p->argv[i]);
    if (!p->label[0] && p->argc > 6)
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

/* What the block printer remembers between blocks. */
struct text_state {
    const struct report_text_options *o;
    unsigned char kind_explained[FK_COUNT];
    unsigned char *process_shown; /* by process index */
};

/* `text` wrapped at the width, each line indented by `indent` spaces. */
static void print_wrapped(FILE *out, const char *text, unsigned indent, unsigned width)
{
    size_t room = width > indent + 20 ? width - indent : 60;
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = room;
        }
        fprintf(out, "%*s%.*s\n", (int)indent, "", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

/* The frames that called the site: two user frames, or all with --verbose. */
static void print_frames(FILE *out, const struct finding *f, int verbose)
{
    size_t shown = 0;
    for (size_t i = 0; i < f->nframes; i++) {
        const struct finding_frame *fr = &f->frames[i];
        if (!verbose && (i <= f->site_frame || fr->tool))
            continue;
        if (!verbose && shown == 2) {
            fputs("  from       ...\n", out);
            break;
        }
        char label[1024];
        stack_frame_label(fr, label, sizeof label);
        fprintf(out, "  %-10s %s%s%s\n", verbose ? (i ? "" : "stack") : "from", verbose ? "#" : "",
                label, verbose && fr->tool ? "  [folded: not user code]" : "");
        shown++;
    }
}

static void print_tasks(FILE *out, const struct finding *f, int verbose)
{
    if (f->ntasks <= 1 && f->nprocesses <= 1)
        return;
    fprintf(out, "  tasks      %zu", f->ntasks);
    if (f->nprocesses > 1)
        fprintf(out, " in %zu processes", f->nprocesses);
    size_t listed = 0;
    for (size_t i = 0; i < f->nparts && (verbose || listed < 3); i++) {
        if (!f->parts[i].task)
            continue;
        fprintf(out, "%s%s", listed ? ", " : " (first: ", f->parts[i].task);
        listed++;
    }
    fputs(listed ? (listed < f->ntasks ? ", ...)\n" : ")\n") : "\n", out);
}

static void print_process_line(FILE *out, struct text_state *st, const struct analysis *a,
                               const struct finding *f)
{
    const struct process_info *p = process_of(a, f);
    fputs("  process    ", out);
    if (p && st->process_shown && st->process_shown[f->process]) {
        fprintf(out, "pid %" PRIu32 "%s%s (as above)\n", p->pid, p->label[0] ? " " : "", p->label);
        return;
    }
    print_process(out, p);
    fputc('\n', out);
    if (p && st->process_shown)
        st->process_shown[f->process] = 1;
}

static void print_finding_block(FILE *out, struct text_state *st, const struct analysis *a,
                                const struct finding *f)
{
    enum severity sev = finding_kind_severity(f->kind);
    unsigned width = st->o->width ? st->o->width : 100;
    fprintf(out, "%s: %s", severity_name(sev), finding_kind_name(f->kind));
    if (f->count > 1)
        fprintf(out, " (%" PRIu64 " times)", f->count);
    fputc('\n', out);
    print_wrapped(out, f->message ? f->message : "", 2, width);
    if (!st->kind_explained[f->kind] || st->o->verbose)
        print_wrapped(out, finding_kind_explanation(f->kind), 2, width);
    st->kind_explained[f->kind] = 1;
    print_process_line(out, st, a, f);
    fputs("  thread     ", out);
    print_thread(out, f->tid, f->thread);
    fprintf(out, "\n  task       %s\n", f->task ? f->task : "(none)");
    print_tasks(out, f, st->o->verbose);
    fprintf(out, "  api        %s\n", f->api ? f->api : "(none)");
    if (f->has_handle)
        fprintf(out, "  handle     0x%" PRIx64 "\n", f->handle);
    if (f->bytes)
        fprintf(out, "  bytes      %" PRIu64 "\n", f->bytes);
    fprintf(out, "  site       %s\n", f->site ? f->site : "(unknown)");
    print_frames(out, f, st->o->verbose);
    print_origin(out, "created", &f->created, f->process_start_ns);
    print_origin(out, "destroyed", &f->destroyed, f->process_start_ns);
    fprintf(out, "  time       +%.6f s", report_seconds_since_start(f->ts_ns, f->process_start_ns));
    if (f->count > 1)
        fprintf(out, " (first) .. +%.6f s (last)",
                report_seconds_since_start(f->last_ts_ns, f->process_start_ns));
    if (f->fingerprint[0] && st->o->verbose)
        fprintf(out, "\n  fingerprint %s", f->fingerprint);
    fputs("\n\n", out);
}

static void print_finding_line(FILE *out, const struct analysis *a, const struct finding *f)
{
    const struct process_info *p = process_of(a, f);
    const char *label = p && p->label[0] ? p->label : NULL;
    fprintf(out, "cuguard: %s: %s", severity_name(finding_kind_severity(f->kind)),
            finding_kind_name(f->kind));
    if (f->count > 1)
        fprintf(out, " x%" PRIu64, f->count);
    fprintf(out, " (pid %" PRIu32 "%s%s, thread ", f->pid, label ? " " : "", label ? label : "");
    print_thread(out, f->tid, f->thread);
    if (f->task)
        fprintf(out, ", task %s", f->task);
    if (f->ntasks > 1)
        fprintf(out, " and %zu more", f->ntasks - 1);
    fputs(")", out);
    if (f->site)
        fprintf(out, " at %s", f->site);
    fprintf(out, ": %s\n", f->message ? f->message : "");
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

/* " (kind site, kind site, ...)" for the first findings of one severity. */
static void print_severity_examples(FILE *out, struct finding **list, enum severity sev)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; list && list[i]; i++) {
        const struct finding *f = list[i];
        if (f->suppressed || finding_kind_severity(f->kind) != sev)
            continue;
        if (total++ < 3)
            fprintf(out, "%s%s%s%s", shown++ ? ", " : " (", finding_kind_name(f->kind),
                    f->site ? " " : "", f->site ? f->site : "");
    }
    if (shown)
        fputs(total > shown ? ", ...)" : ")", out);
}

static void print_severity_count(FILE *out, struct finding **list, size_t n, const char *one,
                                 enum severity sev)
{
    fprintf(out, "%zu %s%s", n, one, n == 1 ? "" : "s");
    print_severity_examples(out, list, sev);
}

void report_write_summary_line(FILE *out, const struct analysis *a)
{
    const struct finding_set *s = &a->findings;
    struct finding **list = findings_sorted(s);
    fputs("SUMMARY: cuguard: ", out);
    print_severity_count(out, list, findings_count_severity(s, SEV_ERROR), "error", SEV_ERROR);
    fputs(", ", out);
    print_severity_count(out, list, findings_count_severity(s, SEV_WARNING), "warning",
                         SEV_WARNING);
    size_t info = findings_count_severity(s, SEV_INFO);
    size_t suppressed = findings_count_suppressed(s);
    if (info)
        fprintf(out, ", %zu note%s", info, info == 1 ? "" : "s");
    if (suppressed)
        fprintf(out, " (%zu suppressed)", suppressed);
    free(list);
}

static void print_summary_line(FILE *out, const struct analysis *a)
{
    report_write_summary_line(out, a);
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

static void write_findings(FILE *out, const struct analysis *a, const struct report_text_options *o)
{
    struct text_state st = {.o = o, .process_shown = calloc(a->nprocs + 1, 1)};
    struct finding **list = findings_sorted(&a->findings);
    size_t max = o->brief_max ? o->brief_max : 20, lines = 0, left_out = 0;
    for (size_t i = 0; list && list[i]; i++) {
        if (list[i]->suppressed)
            continue;
        if (o->detail == REPORT_FULL)
            print_finding_block(out, &st, a, list[i]);
        else if (lines++ < max)
            print_finding_line(out, a, list[i]);
        else
            left_out++;
    }
    if (left_out)
        fprintf(out, "cuguard: ... %zu more: cuguard report %s\n", left_out,
                o->more_dir ? o->more_dir : "DIR");
    free(list);
    free(st.process_shown);
}

void report_write_text_with(FILE *out, const struct analysis *a,
                            const struct report_text_options *o)
{
    print_diagnosis(out, a, o->detail);
    write_findings(out, a, o);
    if (o->detail == REPORT_FULL)
        interventions_write_text(out, &a->interventions);
    if (o->detail == REPORT_FULL)
        print_summary_table(out, a);
    if (o->detail == REPORT_BRIEF)
        fputs("cuguard: ", out);
    print_summary_line(out, a);
}

void report_write_text(FILE *out, const struct analysis *a, enum report_detail detail)
{
    const struct report_text_options o = {.detail = detail};
    report_write_text_with(out, a, &o);
}

/*
 * analysis/output/report_json.c — the JSON report (format "cuguard-report",
 * version 1).
 *
 * What it is for: the stable document a CI gate reads. Keys of issue 4:
 * format, version, tool_version (the cuguard that wrote the report),
 * processes[pid, ppid, host, argv, label ("gw3": the pytest-xdist worker, "" when
 * none), complete, records,
 * trace, cut_short (null, or {at_s, reason} when tracing stopped early),
 * crashed (null, or {signal, api, tid, thread, handle} for a process
 * that died of a signal inside a driver call)], summary{events, streams, pinned, calls},
 * diagnosis[sentences of the chain that explains a hang, oldest first], findings[kind, severity,
 * pid, tid, task, api, handle, count, bytes, ts_ns, message, site, and the
 * attribution keys of analysis/output/report_json_stack.c], summary_line (the text
 * report's last line, "SUMMARY: cuguard: ..."). Extra
 * keys may be added; none may be renamed.
 *
 * What it must never do: write invalid JSON (json_writer escapes every
 * string), or list a suppressed finding.
 */
#include <stdlib.h>

#include "analysis/base/json_writer.h"
#include "analysis/output/report.h"
#include "analysis/output/report_json_stack.h"
#include "tracer/version.h"

static void write_processes(struct json_writer *w, const struct analysis *a)
{
    json_key(w, "processes");
    json_begin_array(w);
    for (size_t i = 0; i < a->nprocs; i++) {
        const struct process_info *p = &a->procs[i];
        json_begin_object(w);
        json_kv_uint(w, "pid", p->pid);
        json_kv_uint(w, "ppid", p->ppid);
        json_kv_string(w, "host", p->host);
        json_kv_string(w, "tool_version", p->tool_version);
        json_key(w, "argv");
        json_begin_array(w);
        for (uint32_t j = 0; j < p->argc; j++)
            json_string(w, p->argv[j]);
        json_end_array(w);
        json_kv_string(w, "label", p->label);
        json_kv_bool(w, "complete", p->complete);
        json_key(w, "cut_short");
        if (p->cut_short) {
            json_begin_object(w);
            json_kv_double(w, "at_s", p->cut_short_s);
            json_kv_string(w, "reason", p->cut_short_reason);
            json_end_object(w);
        } else {
            json_null(w);
        }
        json_kv_uint(w, "records", p->records);
        json_kv_string(w, "trace", p->trace);
        json_kv_uint(w, "start_ns", p->start_mono_ns);
        json_kv_uint(w, "last_ts_ns", p->last_ts);
        json_key(w, "crashed");
        if (p->crashed) {
            json_begin_object(w);
            json_kv_string(w, "signal", p->crash_signal);
            json_kv_string(w, "api", p->crash_api);
            json_kv_uint(w, "tid", p->crash_tid);
            json_kv_string(w, "thread", p->crash_thread);
            json_key(w, "handle");
            json_hex(w, p->crash_handle);
            json_end_object(w);
        } else {
            json_null(w);
        }
        json_end_object(w);
    }
    json_end_array(w);
}

static void write_counts(struct json_writer *w, const char *key, const struct replay_counts *c,
                         uint64_t leaked)
{
    json_key(w, key);
    json_begin_object(w);
    json_kv_uint(w, "created", c->created);
    json_kv_uint(w, "destroyed", c->destroyed);
    json_kv_uint(w, "leaked", leaked);
    json_kv_uint(w, "peak_live", c->peak_live);
    json_end_object(w);
}

static void write_summary(struct json_writer *w, const struct analysis *a)
{
    const struct replay_totals *t = &a->totals;
    json_key(w, "summary");
    json_begin_object(w);
    write_counts(w, "events", &t->events, t->leaked_events);
    write_counts(w, "streams", &t->streams, t->leaked_streams);
    json_key(w, "pinned");
    json_begin_object(w);
    json_kv_uint(w, "allocations", t->pinned.allocations + t->pinned.registrations);
    json_kv_uint(w, "freed", t->pinned.freed + t->pinned.unregistered);
    json_kv_uint(w, "leaked", t->leaked_pinned);
    json_kv_uint(w, "leaked_bytes", t->leaked_pinned_bytes);
    json_kv_uint(w, "peak_bytes", t->pinned.peak_bytes);
    json_kv_uint(w, "registrations", t->pinned.registrations);
    json_kv_uint(w, "unregistered", t->pinned.unregistered);
    json_end_object(w);
    json_key(w, "calls");
    json_begin_object(w);
    for (const struct call_count *c = a->calls; c; c = c->hh.next)
        json_kv_uint(w, c->name, c->count);
    json_end_object(w);
    json_kv_uint(w, "errors", findings_count_severity(&a->findings, SEV_ERROR));
    json_kv_uint(w, "warnings", findings_count_severity(&a->findings, SEV_WARNING));
    json_kv_uint(w, "notes", findings_count_severity(&a->findings, SEV_INFO));
    json_kv_uint(w, "suppressed", findings_count_suppressed(&a->findings));
    json_end_object(w);
}

static void write_origin(struct json_writer *w, const char *key, const struct finding_origin *o)
{
    json_key(w, key);
    if (!o->present) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    json_kv_uint(w, "ts_ns", o->ts_ns);
    json_kv_uint(w, "tid", o->tid);
    json_kv_string(w, "thread", o->thread);
    json_kv_string(w, "task", o->task);
    json_kv_string(w, "api", o->api);
    json_kv_string(w, "site", o->site);
    json_end_object(w);
}

static void write_finding(struct json_writer *w, const struct analysis *a, const struct finding *f)
{
    json_begin_object(w);
    json_kv_string(w, "kind", finding_kind_name(f->kind));
    json_kv_string(w, "severity", severity_name(finding_kind_severity(f->kind)));
    json_kv_uint(w, "pid", f->pid);
    json_kv_uint(w, "tid", f->tid);
    json_kv_string(w, "task", f->task);
    json_kv_string(w, "api", f->api);
    json_key(w, "handle");
    if (f->has_handle)
        json_hex(w, f->handle);
    else
        json_null(w);
    json_kv_uint(w, "count", f->count);
    json_kv_uint(w, "bytes", f->bytes);
    json_kv_uint(w, "ts_ns", f->ts_ns);
    json_kv_string(w, "message", f->message);
    json_kv_string(w, "site", f->site);
    json_kv_string(w, "thread", f->thread);
    json_kv_double(w, "time_s", report_seconds_since_start(f->ts_ns, f->process_start_ns));
    json_kv_uint(w, "last_ts_ns", f->last_ts_ns);
    json_kv_string(w, "explanation", finding_kind_explanation(f->kind));
    json_kv_bool(w, "process_complete",
                 f->process >= 0 && (size_t)f->process < a->nprocs &&
                     a->procs[f->process].complete);
    write_origin(w, "created", &f->created);
    write_origin(w, "destroyed", &f->destroyed);
    report_json_attribution(w, f);
    json_end_object(w);
}

/* "summary_line": the SUMMARY line of the text report (for the pytest plugin). */
static void write_summary_line(struct json_writer *w, const struct analysis *a)
{
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (mem) {
        report_write_summary_line(mem, a);
        fclose(mem);
    }
    json_kv_string(w, "summary_line", line ? line : "");
    free(line);
}

void report_write_json(FILE *out, const struct analysis *a)
{
    struct json_writer w;
    json_init(&w, out, 3);
    json_begin_object(&w);
    json_kv_string(&w, "format", "cuguard-report");
    json_kv_uint(&w, "version", 1);
    json_kv_string(&w, "tool_version", CUGUARD_VERSION);
    write_processes(&w, a);
    write_summary(&w, a);
    interventions_write_json(&w, &a->interventions);
    json_key(&w, "diagnosis");
    json_begin_array(&w);
    for (size_t i = 0; i < a->ndiagnosis; i++)
        json_string(&w, a->diagnosis[i]);
    json_end_array(&w);
    json_key(&w, "findings");
    json_begin_array(&w);
    struct finding **list = findings_sorted(&a->findings);
    for (size_t i = 0; list && list[i]; i++)
        if (!list[i]->suppressed)
            write_finding(&w, a, list[i]);
    free(list);
    json_end_array(&w);
    write_summary_line(&w, a);
    json_end_object(&w);
}

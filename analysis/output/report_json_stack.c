/*
 * analysis/output/report_json_stack.c — the JSON keys of a finding's attribution
 * and grouping (docs/stacks.md, "JSON").
 *
 * What it is for: per finding, `fingerprint` (16 hex digits, stable across
 * runs: kind + symbolized user frames, or kind + site + API without a stack), `stack` (structured
 * frames, innermost first: kind "native"/"python", module, offset, function, file, line, inlined,
 * user, status), `site_frame` (index of the frame `site` names, null when
 * none is the user's), `tasks` (distinct tasks), `processes` (distinct
 * pids) and `occurrences` (the per-process, per-task findings grouping
 * merged: task, pid, count, bytes, ts_ns, last_ts_ns).
 *
 * What it must never do: write an address into the fingerprint, or leave
 * out an occurrence.
 */
#include "analysis/output/report_json_stack.h"

static const char *const status_names[] = {"ok", "no-debug-info", "no-module", "binary-changed"};

static void write_frame(struct json_writer *w, const struct finding_frame *fr)
{
    json_begin_object(w);
    json_kv_string(w, "kind", fr->kind == FRAME_PYTHON ? "python" : "native");
    if (fr->kind == FRAME_NATIVE) {
        json_kv_string(w, "module", fr->module);
        json_key(w, "offset");
        json_hex(w, fr->offset);
        json_kv_string(w, "status",
                       fr->status >= 0 && fr->status < 4 ? status_names[fr->status] : "?");
        json_kv_bool(w, "inlined", fr->inlined);
    }
    json_kv_string(w, "function", fr->function);
    json_kv_string(w, "file", fr->file);
    json_kv_int(w, "line", fr->line);
    json_kv_bool(w, "user", !fr->tool);
    json_end_object(w);
}

static void write_stack(struct json_writer *w, const struct finding *f)
{
    json_key(w, "fingerprint");
    json_string(w, f->fingerprint[0] ? f->fingerprint : NULL);
    json_key(w, "stack");
    json_begin_array(w);
    for (size_t i = 0; i < f->nframes; i++)
        write_frame(w, &f->frames[i]);
    json_end_array(w);
    json_key(w, "site_frame");
    if (f->frames && f->site_frame < f->nframes)
        json_uint(w, f->site_frame);
    else
        json_null(w);
}

static void write_occurrences(struct json_writer *w, const struct finding *f)
{
    json_kv_uint(w, "tasks", f->ntasks);
    json_kv_uint(w, "processes", f->nprocesses ? f->nprocesses : 1);
    json_key(w, "occurrences");
    json_begin_array(w);
    for (size_t i = 0; i < f->nparts; i++) {
        const struct finding_part *p = &f->parts[i];
        json_begin_object(w);
        json_kv_string(w, "task", p->task);
        json_kv_uint(w, "pid", p->pid);
        json_kv_uint(w, "count", p->count);
        json_kv_uint(w, "bytes", p->bytes);
        json_kv_uint(w, "ts_ns", p->ts_ns);
        json_kv_uint(w, "last_ts_ns", p->last_ts_ns);
        json_end_object(w);
    }
    json_end_array(w);
}

void report_json_attribution(struct json_writer *w, const struct finding *f)
{
    write_stack(w, f);
    write_occurrences(w, f);
}

/*
 * analysis/model/python_hang.c — the hang a CUDA trace cannot see: Python stacks
 * from CG_REC_PYSTACK records, and the quiet after a dead poller.
 *
 * What it is for: keeping each process's latest Python stack snapshot
 * (the watchdog writes one with each hang report and stall), telling the
 * quiet-after-a-dead-poller STALL (CG_FLAG_ORPHANED, handle 0) as a
 * `stall` finding that names the dead thread's last error and where the
 * live threads wait, and closing the diagnosis chain with where each
 * Python thread was at the last hang report ("thread 11 "MainThread" was
 * still in wait_all at w.py:64 ..., with no CUDA call since").
 *
 * What it must never do: invent a frame the trace does not hold, or read
 * anything but the records and strings the replay hands it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analysis/model/hb_model.h"
#include "analysis/stacks/stack.h"

#define LABEL 160
#define CALLERS_SHOWN 3

/* ---- Python frames of a stack string ---- */

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    return slash ? slash + 1 : path ? path : "?";
}

/* "wait_all at w.py:64" */
static void frame_text(const struct finding_frame *f, char *buf, size_t len)
{
    snprintf(buf, len, "%s at %s:%d", f->function ? f->function : "?", base_name(f->file), f->line);
}

/* "wait_all at w.py:64 (called from main at w.py:94, ...)" for the
 * innermost user Python frame of stack string `site` (the callers when
 * `callers`); "" when there is none. */
static void python_where(const struct replay_process *p, uint32_t site, int callers, char *buf,
                         size_t len)
{
    buf[0] = '\0';
    struct stack st;
    const char *text = replay_string(p, site);
    if (!text || stack_build(&st, text, NULL, 0, NULL) != 0)
        return;
    size_t at = st.n;
    for (size_t i = 0; i < st.n && at == st.n; i++)
        if (st.frames[i].kind == FRAME_PYTHON && !st.frames[i].tool)
            at = i;
    char one[LABEL];
    for (size_t i = at, shown = 0; i < st.n; i++) {
        if (st.frames[i].kind != FRAME_PYTHON)
            continue;
        size_t used = strlen(buf);
        if (shown > CALLERS_SHOWN) {
            snprintf(buf + used, len - used, ", ...");
            break;
        }
        frame_text(&st.frames[i], one, sizeof one);
        snprintf(buf + used, len - used, "%s%s",
                 shown == 0   ? ""
                 : shown == 1 ? " (called from "
                              : ", ",
                 one);
        if (++shown == 1 && !callers)
            break;
    }
    if (strstr(buf, " (called from "))
        snprintf(buf + strlen(buf), len - strlen(buf), ")");
    stack_free(&st);
}

void diagnosis_python_site(const struct replay_process *p, uint32_t site, char *buf, size_t len)
{
    char where[LABEL + 16];
    python_where(p, site, 0, where, sizeof where);
    snprintf(buf, len, "%s%s", where[0] ? " in " : "", where);
}

/* ---- the snapshots ---- */

static void on_pystack(struct hb_proc *hp, const struct cg_record *r)
{
    struct hb_pysnap *s = &hp->pysnap;
    if (r->handle == 0) { /* the header of a new snapshot */
        memset(s, 0, sizeof *s);
        s->ts_ns = r->ts_ns ? r->ts_ns : 1;
        s->status = r->result;
        s->waited_ns = r->arg2;
        s->after_call_ns = hp->last_call_ns;
        return;
    }
    if (r->ts_ns != s->ts_ns || s->n == HB_PYSNAP_THREADS)
        return;
    s->threads[s->n].tid = (uint32_t)(r->arg2 >> 32);
    s->threads[s->n].name = (uint32_t)r->arg;
    s->threads[s->n].stack = r->site;
    s->n++;
}

void python_hang_record(struct hb_proc *hp, const struct replay_step *s)
{
    if (s->rec->kind == CG_REC_PYSTACK)
        on_pystack(hp, s->rec);
}

/* "thread 11 "MainThread" in wait_all at w.py:64 (called from ...)". */
static void thread_where(struct hb_proc *hp, unsigned i, int callers, char *buf, size_t len)
{
    const struct hb_pysnap *s = &hp->pysnap;
    char where[600];
    python_where(hp->p, s->threads[i].stack, callers, where, sizeof where);
    const char *name = replay_string(hp->p, s->threads[i].name);
    snprintf(buf, len, "thread %" PRIu32 " \"%s\" %s%s", s->threads[i].tid, name ? name : "?",
             where[0] ? "still in " : "with no Python frame", where);
}

static int made_cuda_calls(struct hb_proc *hp, unsigned i)
{
    uint32_t tid = hp->pysnap.threads[i].tid;
    return tid != 0 && hb_find_thread(hp->p, tid) != NULL;
}

/* The threads of the snapshot that made CUDA calls (all of them when none
 * did), "; "-separated. */
static void threads_where(struct hb_proc *hp, char *buf, size_t len)
{
    int any = 0;
    for (unsigned i = 0; i < hp->pysnap.n && !any; i++)
        any = made_cuda_calls(hp, i);
    buf[0] = '\0';
    for (unsigned i = 0; i < hp->pysnap.n; i++) {
        if (any && !made_cuda_calls(hp, i))
            continue;
        char one[800];
        thread_where(hp, i, 1, one, sizeof one);
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? "; " : "", one);
    }
}

/* The snapshot's thread the finding is placed at: the first one that made
 * CUDA calls (the one whose work it waits for), else the first. */
static unsigned waiting_thread(struct hb_proc *hp)
{
    for (unsigned i = 0; i < hp->pysnap.n; i++)
        if (made_cuda_calls(hp, i))
            return i;
    return 0;
}

/* ---- the quiet after a dead poller ---- */

void python_hang_quiet_stall(struct hb_proc *hp, const struct replay_step *s)
{
    const struct cg_record *r = s->rec;
    uint32_t dead = (uint32_t)r->arg;
    if (hp->quiet_told && hp->quiet_tid == dead)
        return; /* the same silence, reported again */
    hp->quiet_told = 1;
    hp->quiet_tid = dead;
    struct replay_thread *t = hb_find_thread(hp->p, dead);
    uint32_t name = t ? t->name : 0;
    for (const struct hb_orphan *o = hp->orphans; o && !name; o = o->next)
        if (o->exit_who.tid == dead)
            name = o->exit_who.thread;
    char who[LABEL], error[LABEL + 64] = "", waiting[1600] = "", msg[2400], text[LABEL + 256];
    hb_thread_label(hp->p, dead, name, who, sizeof who);
    if (r->api) {
        char result[48];
        snprintf(error, sizeof error, " after its last call, %s, got %s",
                 replay_api_name(hp->p, r->api), hb_result_name(r->result, result, sizeof result));
    }
    uint64_t since = r->ts_ns >= r->arg2 ? r->ts_ns - r->arg2 : 0;
    int stacks = hp->pysnap.ts_ns == r->ts_ns && hp->pysnap.status == 0 && hp->pysnap.n > 0;
    if (stacks) {
        threads_where(hp, waiting, sizeof waiting);
    } else {
        snprintf(waiting, sizeof waiting, "%s",
                 hp->pysnap.ts_ns == r->ts_ns && hp->pysnap.status == 1
                     ? "their Python stacks could not be read (the GIL was held)"
                     : "no Python stack was recorded");
    }
    snprintf(msg, sizeof msg,
             "The process made no CUDA call for %.3f s (since +%.6f s, when the watchdog checked "
             "at +%.6f s) after %s, which polled events, exited%s: no event is left pending, yet "
             "the threads left wait outside CUDA: %s.",
             (double)r->arg2 / 1e9, hb_seconds(hp->p, since), hb_seconds(hp->p, r->ts_ns), who,
             error, waiting);
    unsigned w = waiting_thread(hp);
    struct replay_thread *wt = stacks ? hb_find_thread(hp->p, hp->pysnap.threads[w].tid) : NULL;
    struct hb_who at = {
        .ts_ns = since,
        .tid = stacks ? hp->pysnap.threads[w].tid : dead,
        .thread = wt ? wt->name : name,
        .task = hp->task,
        .site = stacks ? hp->pysnap.threads[w].stack : 0,
        .api = r->api,
    };
    struct replay_origin origin = {
        .ts_ns = at.ts_ns,
        .tid = at.tid,
        .site = at.site,
        .task = at.task,
        .thread = at.thread,
        .api = at.api,
    };
    replay_raise_origin(hp->p, FK_STALL, &origin, NULL, 0, 0, msg);
    snprintf(text, sizeof text,
             "the process then made no CUDA call for %.3f s after %s exited, though every event "
             "was seen complete (watchdog at +%.6f s)",
             (double)r->arg2 / 1e9, who, hb_seconds(hp->p, r->ts_ns));
    struct hb_fact *f = hb_add_fact(hp, FACT_QUIET_STALL, dead, r->ts_ns, text);
    if (f)
        f->no_then = 1;
}

/* ---- the end of the chain ---- */

void python_hang_end(struct hb_proc *hp, int hung)
{
    const struct hb_pysnap *s = &hp->pysnap;
    if (!s->ts_ns || (!hung && hp->p->complete) || s->ts_ns < hp->last_call_ns)
        return; /* no report, or the program went on with CUDA after it */
    char text[2048], where[1700];
    double quiet = s->ts_ns > hp->last_call_ns ? (double)(s->ts_ns - hp->last_call_ns) / 1e9 : 0;
    if (s->status == 1) {
        snprintf(text, sizeof text,
                 "at +%.6f s, %.3f s after the process's last CUDA call, the hang report could "
                 "not read the Python stacks: a thread held the GIL (in C code) for %.3f s",
                 hb_seconds(hp->p, s->ts_ns), quiet, (double)s->waited_ns / 1e9);
    } else if (s->status == 0 && s->n > 0) {
        threads_where(hp, where, sizeof where);
        snprintf(text, sizeof text,
                 "%.3f s after the process's last CUDA call (+%.6f s), the hang report at "
                 "+%.6f s found %s, with no CUDA progress",
                 quiet, hb_seconds(hp->p, hp->last_call_ns), hb_seconds(hp->p, s->ts_ns), where);
    } else {
        return;
    }
    hb_add_fact(hp, FACT_PYSTACK, 0, s->ts_ns, text);
}

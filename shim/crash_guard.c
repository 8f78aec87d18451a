/*
 * shim/crash_guard.c — the fault handler behind shim/crash_guard.h.
 *
 * What it is for: writing the CALL (or EXIT) record of the driver call a
 * thread died in, then passing the signal on. A kernel-raised fault
 * (si_code > 0) is passed on by restoring the previous disposition and
 * returning: the faulting instruction runs again and faults under it, with
 * the kernel's own siginfo. Any other (raise, kill, abort) is raised again;
 * it stays blocked until this handler returns. A previous handler function
 * is called directly and stays in charge of what happens next.
 *
 * What it must never do: call anything that is not async-signal-safe, or
 * write a second record for the same call.
 */
#include "shim/crash_guard.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "shim/api.h"
#include "shim/record.h"
#include "tracer/writer.h"

static const int guarded[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
#define GUARDED_COUNT (sizeof guarded / sizeof guarded[0])

static struct sigaction previous[GUARDED_COUNT];
static int installed;

static int guard_index(int signo)
{
    for (unsigned i = 0; i < GUARDED_COUNT; i++) {
        if (guarded[i] == signo)
            return (int)i;
    }
    return -1;
}

static void write_crash_record(const struct cg_call *c, int signo)
{
    int exit_kind = c->style == CG_STYLE_BLOCKING || c->style == CG_STYLE_BLOCKING_DESTROY;
    struct cg_record *r = c->reserved; /* a teardown's slot, taken before the call */
    if (r != NULL) {
        r->result = CG_RESULT_CRASHED(signo);
        cg_writer_publish(r, exit_kind ? CG_REC_EXIT : CG_REC_CALL);
        return;
    }
    r = cg_writer_reserve_mapped();
    if (r == NULL)
        return;
    r->handle = c->handle;
    r->arg = c->arg;
    r->arg2 = c->arg2;
    r->ts_ns = cg_now_ns();
    r->tid = c->thread != NULL ? c->thread->tid : cg_gettid();
    r->site = c->site;
    r->result = CG_RESULT_CRASHED(signo);
    r->api = c->api;
    r->flags = c->flags;
    cg_writer_publish(r, exit_kind ? CG_REC_EXIT : CG_REC_CALL);
}

/* Hand the signal to what was there before us. */
static void pass_on(int signo, siginfo_t *info, void *context, const struct sigaction *prev)
{
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction != NULL) {
            prev->sa_sigaction(signo, info, context);
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(signo);
        return;
    }
    sigaction(signo, prev, NULL);
    if (info == NULL || info->si_code <= 0 || signo == SIGABRT)
        raise(signo);
}

static void on_fault(int signo, siginfo_t *info, void *context)
{
    int saved = errno;
    int i = guard_index(signo);
    const struct cg_call *c = cg_inside_call;
    if (c != NULL) {
        cg_inside_call = NULL; /* one record per call, even if the fault repeats */
        write_crash_record(c, signo);
    }
    if (i >= 0)
        pass_on(signo, info, context, &previous[i]);
    errno = saved;
}

void cg_crash_guard_install(void)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&installed, &expected, 1, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    for (unsigned i = 0; i < GUARDED_COUNT; i++) {
        struct sigaction old;
        if (sigaction(guarded[i], NULL, &old) != 0)
            continue;
        if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_fault)
            continue; /* already ours */
        previous[i] = old;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fault;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigaction(guarded[i], &sa, NULL);
    }
}

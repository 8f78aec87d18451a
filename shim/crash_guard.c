/*
 * shim/crash_guard.c — the fault handler behind shim/crash_guard.h.
 *
 * What it is for: writing the CALL (or EXIT) record of the driver call a
 * thread died in (for a fast call, publishing the record its wrapper
 * filled before the real call), then passing the signal on. A kernel-raised fault
 * (si_code > 0) is passed on by restoring the previous disposition and
 * returning: the faulting instruction runs again and faults under it, with
 * the kernel's own siginfo. Any other (raise, kill, abort) is raised again;
 * it stays blocked until this handler returns. A previous handler function
 * is called directly, the way the kernel would have called it: with its
 * sa_mask (and the signal itself unless SA_NODEFER) blocked, with siginfo
 * only under SA_SIGINFO, after resetting the disposition to SIG_DFL under
 * SA_RESETHAND; it stays in charge of what happens next. A fault that the
 * previous disposition ignores is fatal, as the kernel makes it.
 *
 * A SIGBUS inside the trace's own mappings (the trace file was truncated by
 * someone else) is not the program's: the writer stops tracing, puts
 * anonymous memory there, and the store is retried (cg_writer_fault_at).
 *
 * What it must never do: call anything that is not async-signal-safe, or
 * write a second record for the same call.
 */
#include "shim/crash_guard.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

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

/* A fast call's record (shim/record_fast.h): filled before the real call
 * but for ts_ns and kind. */
static void publish_fast_crash(struct cg_record *r, int signo)
{
    r->ts_ns = cg_now_ns();
    r->result = CG_RESULT_CRASHED(signo);
    cg_writer_publish(r, CG_REC_CALL);
}

static int is_kernel_fault(int signo, const siginfo_t *info)
{
    return info != NULL && info->si_code > 0 && signo != SIGABRT;
}

static void set_default(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
}

/* Call the previous handler function as the kernel would have. */
static void call_previous(int signo, siginfo_t *info, void *context, const struct sigaction *prev)
{
    sigset_t during, before;
    if (context != NULL)
        during = ((const ucontext_t *)context)->uc_sigmask;
    else
        pthread_sigmask(SIG_SETMASK, NULL, &during);
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&prev->sa_mask, s) == 1)
            sigaddset(&during, s);
    if (prev->sa_flags & SA_NODEFER)
        sigdelset(&during, signo);
    else
        sigaddset(&during, signo);
    if (prev->sa_flags & SA_RESETHAND)
        set_default(signo);
    pthread_sigmask(SIG_SETMASK, &during, &before);
    if (prev->sa_flags & SA_SIGINFO)
        prev->sa_sigaction(signo, info, context);
    else
        prev->sa_handler(signo);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
}

/* Hand the signal to what was there before us. */
static void pass_on(int signo, siginfo_t *info, void *context, const struct sigaction *prev)
{
    /* sa_handler and sa_sigaction share storage: SIG_DFL/SIG_IGN either way. */
    int has_function = prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN;
    if (has_function) {
        call_previous(signo, info, context, prev);
        return;
    }
    int ignored = prev->sa_handler == SIG_IGN;
    if (ignored && !is_kernel_fault(signo, info))
        return; /* a sent signal the program ignores */
    /* SIG_DFL, or an ignored fault (fatal: the kernel forces the default).
     * A fault returns and runs again under the default; any other signal is
     * raised again and arrives once this handler returns. */
    set_default(signo);
    if (!is_kernel_fault(signo, info))
        raise(signo);
}

static void on_fault(int signo, siginfo_t *info, void *context)
{
    int saved = errno;
    if (signo == SIGBUS && info != NULL && info->si_code > 0 && cg_writer_fault_at(info->si_addr)) {
        errno = saved;
        return; /* our truncated trace, not the program's fault: retried on zero pages */
    }
    int i = guard_index(signo);
    const struct cg_call *c = cg_tls.inside;
    struct cg_record *fast = cg_tls.inside_slot;
    if (c != NULL) {          /* innermost: a fast call never runs inside another traced call */
        cg_tls.inside = NULL; /* one record per call, even if the fault repeats */
        write_crash_record(c, signo);
    } else if (fast != NULL) {
        cg_tls.inside_slot = NULL;
        publish_fast_crash(fast, signo);
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

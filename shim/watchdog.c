/*
 * shim/watchdog.c — the watchdog thread: start, ticks, dump signal, fork.
 *
 * What it is for: the plumbing around shim/stall_detect.c. The thread is
 * started by the first watch slot claim of a traced process, with every
 * signal blocked, and then waits on a semaphore with a CLOCK_MONOTONIC
 * deadline: it wakes for a tick, for the dump signal (whose handler only
 * sets a flag and posts the semaphore, both async-signal-safe) or to stop.
 * A hang report is printed when a new stuck episode appears, at most once
 * per limit, and whenever the dump signal asks for one.
 *
 * What it must never do: install its handler over one the application set
 * (it warns once and goes without), print automatic reports when
 * CUGUARD_LOG=quiet, block exit, or survive into a fork child (the child's
 * first record starts a fresh one).
 */
#include "shim/watchdog.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "shim/config.h"
#include "shim/log.h"
#include "shim/pending_events.h"
#include "shim/python_threads.h"
#include "shim/stall_detect.h"
#include "shim/watch_slots.h"
#include "tracer/writer.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

static int started; /* 1 once a start was attempted in this process */
static int running; /* 1 while `thread` is a live, joinable watchdog */
static int stop_requested;
static int dump_requested; /* signal number that asked, or -1 for a direct request */
static unsigned limit_ms_override;
static int output_fd = 2;
static unsigned reports_printed;
static int atfork_registered;
static int dump_signo; /* the signal whose handler is ours, 0 = none */
static pthread_t thread;
static sem_t wake;
static uint64_t tick_ns;
static int writer_requested; /* the trace writer asked for its background work */

/* ---- the dump signal ---- */

static const char *signal_name(int signo)
{
    const char *name = sigabbrev_np(signo);
    return name != NULL ? name : "?";
}

static void on_dump_signal(int signo)
{
    int saved = errno;
    __atomic_store_n(&dump_requested, signo, __ATOMIC_RELEASE);
    sem_post(&wake);
    errno = saved;
}

/* Signals whose default action the report may replace: asynchronous ones a
 * user sends on purpose. Never a fault, a stop or one the program relies on. */
static int signal_usable(int signo)
{
    static const int usable[] = {SIGUSR1, SIGUSR2, SIGQUIT, SIGHUP, SIGWINCH, SIGPWR};
    for (size_t i = 0; i < sizeof usable / sizeof usable[0]; i++) {
        if (usable[i] == signo)
            return 1;
    }
    return signo >= SIGRTMIN && signo <= SIGRTMAX;
}

static void install_dump_signal(int signo)
{
    if (!signal_usable(signo)) {
        cg_warn("CUGUARD_DUMP_SIGNAL: signal %d cannot carry the hang report (use SIGUSR1, "
                "SIGUSR2 or SIGQUIT); no report on demand",
                signo);
        return;
    }
    struct sigaction old;
    if (sigaction(signo, NULL, &old) != 0)
        return;
    int ours = !(old.sa_flags & SA_SIGINFO) && old.sa_handler == on_dump_signal;
    if (ours) { /* a fork child inherits the handler */
        dump_signo = signo;
        return;
    }
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) {
        cg_warn("signal %d (SIG%s) already has a handler in this program; the hang report is "
                "not available on demand (set CUGUARD_DUMP_SIGNAL to a free signal)",
                signo, signal_name(signo));
        return;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_dump_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(signo, &sa, NULL) == 0)
        dump_signo = signo;
}

/* ---- the thread ---- */

/* An application thread filled half a trace segment (tracer/writer.h):
 * wake the thread to prepare the next one. */
static void wake_for_writer(void)
{
    __atomic_store_n(&writer_requested, 1, __ATOMIC_RELEASE);
    sem_post(&wake);
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* Sleep until the next tick (CLOCK_MONOTONIC ns `deadline`; 0 = no ticks:
 * only the dump signal or a stop wakes it), doing the writer's background
 * work whenever the writer asks for it meanwhile. */
static void wait_for_tick(uint64_t deadline_ns)
{
    for (;;) {
        if (deadline_ns == 0) {
            while (sem_wait(&wake) != 0 && errno == EINTR)
                ;
        } else {
            struct timespec deadline = {(time_t)(deadline_ns / NS_PER_S),
                                        (long)(deadline_ns % NS_PER_S)};
            while (sem_clockwait(&wake, CLOCK_MONOTONIC, &deadline) != 0 && errno == EINTR)
                ;
        }
        if (!__atomic_exchange_n(&writer_requested, 0, __ATOMIC_ACQ_REL))
            return; /* a tick, a dump request or a stop */
        cg_writer_background();
        if (__atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE) ||
            __atomic_load_n(&dump_requested, __ATOMIC_ACQUIRE) ||
            (deadline_ns != 0 && monotonic_ns() >= deadline_ns))
            return;
    }
}

static void print_report(uint64_t now, const char *why)
{
    cg_stall_report(now, why, __atomic_load_n(&output_fd, __ATOMIC_RELAXED));
    __atomic_fetch_add(&reports_printed, 1, __ATOMIC_RELAXED);
}

static void dump_on_request(uint64_t now, int signo)
{
    char why[64];
    if (signo > 0)
        snprintf(why, sizeof why, "on SIG%s", signal_name(signo));
    else
        snprintf(why, sizeof why, "on request");
    print_report(now, why);
}

static void *watchdog_main(void *unused)
{
    (void)unused;
    pthread_setname_np(pthread_self(), "cuguard-watch");
    uint64_t limit = cg_stall_limit_ns();
    uint64_t last_auto = 0;
    int printed_auto = 0;
    uint64_t next_tick = limit != 0 ? monotonic_ns() + tick_ns : 0;
    for (;;) {
        wait_for_tick(next_tick);
        if (__atomic_load_n(&stop_requested, __ATOMIC_ACQUIRE))
            break;
        if (next_tick != 0 && monotonic_ns() >= next_tick)
            next_tick = monotonic_ns() + tick_ns;
        cg_writer_background();
        uint64_t now = cg_now_ns();
        unsigned orphans_before = cg_stall_orphans();
        unsigned dead_before = cg_stall_dead_pollers();
        unsigned fresh = limit != 0 ? cg_stall_tick(now) : 0;
        int signo = __atomic_exchange_n(&dump_requested, 0, __ATOMIC_ACQ_REL);
        if (signo != 0) {
            dump_on_request(now, signo);
        } else if (fresh > 0 && (!printed_auto || now - last_auto >= limit) &&
                   __atomic_load_n(&cg_log_level, __ATOMIC_RELAXED) > CG_LOG_QUIET) {
            char why[64];
            unsigned stuck = cg_stall_stuck_threads();
            unsigned orphans = cg_stall_orphans() - orphans_before;
            unsigned dead = cg_stall_dead_pollers() - dead_before;
            if (stuck == 0 && orphans == 0 && dead > 0)
                snprintf(why, sizeof why, "quiet after a dead poller");
            else if (stuck == 0 && orphans > 0)
                snprintf(why, sizeof why, "%u orphaned wait%s", orphans, orphans == 1 ? "" : "s");
            else
                snprintf(why, sizeof why, "%u thread%s stuck", stuck, stuck == 1 ? "" : "s");
            print_report(now, why);
            last_auto = now;
            printed_auto = 1;
        }
    }
    return NULL;
}

static uint64_t configured_limit_ns(void)
{
    unsigned ms = __atomic_load_n(&limit_ms_override, __ATOMIC_RELAXED);
    if (ms != 0)
        return (uint64_t)ms * NS_PER_MS;
    return (uint64_t)cg_config.watchdog_s * NS_PER_S;
}

/* Four ticks per limit, between 50 ms and 1 s apart. */
static uint64_t tick_for(uint64_t limit)
{
    uint64_t t = limit / 4;
    if (t < 50 * NS_PER_MS)
        t = 50 * NS_PER_MS;
    if (t > NS_PER_S)
        t = NS_PER_S;
    return t;
}

static void after_fork_child(void)
{
    /* The watchdog thread does not exist here; whatever it was doing at the
     * fork is abandoned, never resumed. */
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&started, 0, __ATOMIC_RELEASE);
    cg_writer_set_prepare_wake(NULL);
    __atomic_store_n(&writer_requested, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&dump_requested, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&stop_requested, 0, __ATOMIC_RELAXED);
    cg_watch_after_fork_child();
    cg_pending_forget();
    cg_stall_forget();
    cg_pyt_after_fork_child();
}

static void start_thread(void)
{
    uint64_t limit = configured_limit_ns();
    cg_stall_configure(limit);
    tick_ns = tick_for(limit);
    sem_init(&wake, 0, 0);
    if (!__atomic_load_n(&atfork_registered, __ATOMIC_ACQUIRE))
        __atomic_store_n(&atfork_registered, pthread_atfork(NULL, NULL, after_fork_child) == 0,
                         __ATOMIC_RELEASE);
    install_dump_signal(cg_config.dump_signal);
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int rc = pthread_create(&thread, NULL, watchdog_main, NULL);
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    if (rc != 0) {
        cg_warn("cannot start the watchdog thread (%s); no stall detection", strerror(rc));
        return;
    }
    __atomic_store_n(&running, 1, __ATOMIC_RELEASE);
    cg_writer_set_prepare_wake(wake_for_writer);
    if (limit != 0)
        cg_debug("watchdog: limit %.3g s, tick %.3g s", (double)limit / 1e9, (double)tick_ns / 1e9);
}

void cg_watchdog_ensure_started(void)
{
    if (__atomic_load_n(&started, __ATOMIC_ACQUIRE))
        return;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&started, &expected, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return;
    start_thread();
}

/* ---- unit suite controls ---- */

void cg_watchdog_set_limit_ms(unsigned ms)
{
    __atomic_store_n(&limit_ms_override, ms, __ATOMIC_RELAXED);
}

void cg_watchdog_set_output(int fd)
{
    __atomic_store_n(&output_fd, fd, __ATOMIC_RELAXED);
}

void cg_watchdog_request_report(void)
{
    __atomic_store_n(&dump_requested, -1, __ATOMIC_RELEASE);
    sem_post(&wake);
}

void cg_watchdog_stop(void)
{
    if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE))
        return;
    cg_writer_set_prepare_wake(NULL);
    __atomic_store_n(&stop_requested, 1, __ATOMIC_RELEASE);
    sem_post(&wake);
    pthread_join(thread, NULL);
    sem_destroy(&wake);
    __atomic_store_n(&running, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&stop_requested, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&dump_requested, 0, __ATOMIC_RELAXED);
    cg_stall_forget();
    cg_pending_reset();
}

unsigned cg_watchdog_reports(void)
{
    return __atomic_load_n(&reports_printed, __ATOMIC_RELAXED);
}

unsigned cg_watchdog_stalls(void)
{
    return cg_stall_records();
}

uint64_t cg_watchdog_cpu_ns(void)
{
    if (!__atomic_load_n(&running, __ATOMIC_ACQUIRE))
        return 0;
    clockid_t clock;
    struct timespec ts;
    if (pthread_getcpuclockid(thread, &clock) != 0 || clock_gettime(clock, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

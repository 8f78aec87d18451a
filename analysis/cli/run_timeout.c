/*
 * analysis/cli/run_timeout.c — `cuguard run --timeout` (see
 * analysis/cli/run_timeout.h): the deadline, the hang reports, the ending.
 *
 * What it is for: the descendants of CMD come from /proc (every pid whose
 * parent chain leads to CMD), the traced ones from the headers of the run
 * directory's traces (pid, still running). A report is known written when
 * the trace gains a CG_REC_PYSTACK header record (handle 0) stamped after
 * the signal was sent (both CLOCK_MONOTONIC).
 *
 * What it must never do: signal a pid outside CMD's tree, block past the
 * report wait and the grace period, or read a trace past what it needs.
 */
#include "analysis/cli/run_timeout.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracer/format.h"

#define MAX_PIDS 4096
#define MAX_TRACED 256
#define POLL_MS 50
#define REPORT_WAIT_MS 5000 /* the shim waits at most 1 s for the GIL */
#define GRACE_MS 5000
#define SCAN_RECORDS 4096u

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a forwarded signal may cut it short: the callers loop */
}

int run_timeout_valid(const char *s)
{
    if (!s || !*s || strlen(s) > 8)
        return 0;
    for (const char *c = s; *c; c++)
        if (*c < '0' || *c > '9')
            return 0;
    unsigned long v = strtoul(s, NULL, 10);
    return v >= 1 && v <= 31536000u;
}

/* ---- CMD's process tree ---- */

static pid_t parent_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    int ppid = 0;
    char state;
    if (!close_paren || sscanf(close_paren + 1, " %c %d", &state, &ppid) != 2)
        return 0;
    return (pid_t)ppid;
}

/* `root` and every live descendant into out[]; returns how many. */
static size_t tree_of(pid_t root, pid_t *out, size_t max)
{
    static pid_t pid[MAX_PIDS], ppid[MAX_PIDS];
    size_t all = 0, n = 0;
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d)) && all < MAX_PIDS;) {
        char *end;
        long v = strtol(e->d_name, &end, 10);
        if (*end || v <= 0)
            continue;
        pid[all] = (pid_t)v;
        ppid[all++] = parent_of((pid_t)v);
    }
    if (d)
        closedir(d);
    out[n++] = root;
    for (size_t i = 0; i < n && n < max; i++) /* breadth first: out[] grows as it goes */
        for (size_t j = 0; j < all && n < max; j++)
            if (ppid[j] == out[i] && pid[j] != root)
                out[n++] = pid[j];
    return n;
}

static int in_list(pid_t p, const pid_t *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == p)
            return 1;
    return 0;
}

/* ---- the traced processes and their reports ---- */

struct traced {
    char path[4096];
    pid_t pid;
    uint64_t resume; /* slot the next scan starts at */
    int done;
};

static int header_of(const char *path, struct cg_file_header *h)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    ssize_t n = pread(fd, h, sizeof *h, 0);
    close(fd);
    return n == (ssize_t)sizeof *h && !memcmp(h->magic, CG_MAGIC, sizeof h->magic) ? 0 : -1;
}

/* Traces of running processes of the tree. */
static size_t traced_in(const char *run_dir, const pid_t *tree, size_t ntree, struct traced *out,
                        size_t max)
{
    size_t n = 0;
    DIR *d = opendir(run_dir);
    for (struct dirent *e; d && (e = readdir(d)) && n < max;) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".cgt"))
            continue;
        struct traced *t = &out[n];
        snprintf(t->path, sizeof t->path, "%s/%s", run_dir, e->d_name);
        struct cg_file_header h;
        if (header_of(t->path, &h) != 0 || h.end_state != CG_END_RUNNING ||
            !in_list((pid_t)h.pid, tree, ntree))
            continue;
        t->pid = (pid_t)h.pid;
        t->resume = 0;
        t->done = 0;
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* Whether the trace shows a report written at or after `since`. */
static int report_written(struct traced *t, uint64_t since)
{
    static struct cg_record buf[SCAN_RECORDS];
    int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return 1; /* nothing more to wait for */
    int found = 0;
    uint64_t last_filled = t->resume;
    for (uint64_t slot = t->resume; !found;) {
        ssize_t got = pread(fd, buf, sizeof buf, (off_t)(CG_HEADER_SIZE + slot * CG_RECORD_SIZE));
        if (got < (ssize_t)CG_RECORD_SIZE)
            break;
        size_t n = (size_t)got / CG_RECORD_SIZE;
        for (size_t i = 0; i < n; i++) {
            const struct cg_record *r = &buf[i];
            if (r->kind != CG_REC_NONE)
                last_filled = slot + i;
            if (r->kind == CG_REC_PYSTACK && r->handle == 0 && r->ts_ns >= since)
                found = 1;
        }
        slot += n;
    }
    close(fd);
    /* records are published out of slot order: look back a little next time */
    t->resume = last_filled > SCAN_RECORDS ? last_filled - SCAN_RECORDS : 0;
    return found;
}

static int dump_signal(void)
{
    const char *v = getenv("CUGUARD_DUMP_SIGNAL");
    if (!v || !*v)
        return SIGUSR2;
    if (!strcmp(v, "SIGUSR1") || !strcmp(v, "USR1"))
        return SIGUSR1;
    if (!strcmp(v, "SIGQUIT") || !strcmp(v, "QUIT"))
        return SIGQUIT;
    int n = atoi(v);
    return n > 0 && n < 65 ? n : SIGUSR2;
}

/* Ask every traced process of the tree for its hang report; wait until
 * each has written it, exited, or REPORT_WAIT_MS passed. */
static void ask_for_reports(const char *run_dir, const pid_t *tree, size_t ntree)
{
    static struct traced traced[MAX_TRACED];
    size_t n = run_dir ? traced_in(run_dir, tree, ntree, traced, MAX_TRACED) : 0;
    if (n == 0)
        return;
    uint64_t since = mono_ns();
    int signo = dump_signal();
    for (size_t i = 0; i < n; i++)
        if (kill(traced[i].pid, signo) != 0)
            traced[i].done = 1;
    for (unsigned waited = 0; waited < REPORT_WAIT_MS; waited += POLL_MS) {
        size_t left = 0;
        for (size_t i = 0; i < n; i++) {
            struct traced *t = &traced[i];
            if (!t->done && (kill(t->pid, 0) != 0 || report_written(t, since)))
                t->done = 1;
            left += !t->done;
        }
        if (left == 0)
            return;
        sleep_ms(POLL_MS);
    }
    fprintf(stderr, "cuguard run: not every traced process wrote its hang report in %d s\n",
            REPORT_WAIT_MS / 1000);
}

/* ---- ending the tree ---- */

static int reaped(pid_t child, int *status)
{
    pid_t r = waitpid(child, status, WNOHANG);
    return r == child || (r < 0 && errno == ECHILD);
}

/* SIGTERM to the tree; SIGKILL to what is left after GRACE_MS. */
static void end_tree(pid_t child, const pid_t *tree, size_t n, int *status)
{
    for (size_t i = 0; i < n; i++)
        kill(tree[i], SIGTERM);
    int child_done = 0;
    for (unsigned waited = 0; waited < GRACE_MS; waited += POLL_MS) {
        child_done = child_done || reaped(child, status);
        size_t alive = 0;
        for (size_t i = 1; i < n; i++)
            alive += kill(tree[i], 0) == 0;
        if (child_done && alive == 0)
            return;
        sleep_ms(POLL_MS);
    }
    for (size_t i = child_done ? 1 : 0; i < n; i++)
        if (kill(tree[i], 0) == 0) {
            fprintf(stderr, "cuguard run: pid %d still running %d s after SIGTERM; SIGKILL\n",
                    (int)tree[i], GRACE_MS / 1000);
            kill(tree[i], SIGKILL);
        }
    if (!child_done)
        while (waitpid(child, status, 0) < 0 && errno == EINTR)
            ;
}

int run_timeout_wait(pid_t child, unsigned seconds, const char *run_dir, int *status)
{
    if (seconds == 0) {
        while (waitpid(child, status, 0) < 0)
            if (errno != EINTR)
                return -1;
        return 0;
    }
    uint64_t deadline = mono_ns() + (uint64_t)seconds * 1000000000u;
    while (mono_ns() < deadline) {
        pid_t r = waitpid(child, status, WNOHANG);
        if (r == child)
            return 0;
        if (r < 0 && errno != EINTR)
            return -1;
        sleep_ms(POLL_MS);
    }
    static pid_t tree[MAX_PIDS];
    size_t n = tree_of(child, tree, MAX_PIDS);
    fprintf(stderr,
            "cuguard run: CMD still running after --timeout %u s; asking %zu process(es) for "
            "their hang report, then SIGTERM\n",
            seconds, n);
    ask_for_reports(run_dir, tree, n);
    end_tree(child, tree, tree_of(child, tree, MAX_PIDS), status);
    return 1;
}

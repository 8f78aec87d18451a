/*
 * analysis/cli/cmd_run.c — `cuguard run [OPTIONS] -- CMD ARGS...`.
 *
 * What it is for: run a command with libcuguard.so preloaded and the
 * CUGUARD_* environment set, keep its exit status, forward the signals a
 * user sends to cuguard, and print the report summary when it ends.
 *
 * What it must never do: change the command's arguments or any environment
 * variable other than LD_PRELOAD (the library is prepended, existing entries
 * kept), the CUGUARD_* ones its options name, and what loads the pytest
 * plugin (analysis/cli/run_pytest.h); trace anything itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/cli/commands.h"
#include "analysis/cli/cli_option.h"
#include "analysis/cli/policy_names.h"
#include "analysis/base/findings.h"
#include "analysis/input/run_dir.h"
#include "analysis/cli/run_pytest.h"
#include "analysis/cli/run_timeout.h"

#define DEFAULT_DIR "cuguard-trace"

struct run_options {
    const char *dir;
    const char *policy;
    const char *task;
    const char *watchdog;
    int strict;
    int report;
    int simulate;
    int require_trace;
    char **command;
    const char *fail_on;        /* --fail-on LIST: the CI gate (docs/stacks.md) */
    const char *error_exitcode; /* --error-exitcode N (default 66) */
    const char *timeout;        /* --timeout S (analysis/cli/run_timeout.h) */
};

/* Exit status of --require-trace (and --fail-on) when no trace was written. */
#define NO_TRACE_STATUS 3

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: cuguard run [OPTIONS] -- CMD [ARGS...]\n\n"
        "Run CMD with libcuguard.so preloaded (prepended to LD_PRELOAD; children and\n"
        "pytest-xdist workers inherit it), tracing every CUDA event, stream and pinned-\n"
        "memory call into one file per process. cuguard exits with CMD's exit status\n"
        "(128+N if CMD was killed by signal N) and forwards SIGINT, SIGTERM and SIGHUP\n"
        "sent to it. When CMD ends, a summary of the traces is printed on stderr.\n"
        "pytest runs load cuguard's plugin (PYTEST_PLUGINS=cuguard, its directory on\n"
        "PYTHONPATH): findings per test id in pytest's summary; see 'pytest --help'.\n"
        "Each run traces into its own subdirectory, D/run-YYYYmmdd-HHMMSS-PID/, and\n"
        "D/latest points at it: 'cuguard report D' reads the latest run.\n\n"
        "options:\n"
        "  --dir D         trace directory (sets CUGUARD_DIR as an absolute path; default\n"
        "                  $CUGUARD_DIR, else ./" DEFAULT_DIR "; created mode 0700 at the\n"
        "                  first CUDA call)\n"
        "  --policy P      comma-separated policies: ownership, isolate, destroy,\n"
        "                  sync-query (sets CUGUARD_POLICY; default: none, observe only)\n"
        "  --task T        what a task is: env:NAME, thread or process (sets CUGUARD_TASK;\n"
        "                  default env:PYTEST_CURRENT_TEST)\n"
        "  --watchdog S    report a thread blocked or polling longer than S seconds;\n"
        "                  0 turns it off (sets CUGUARD_WATCHDOG; default 60)\n"
        "  --strict        refuse calls that would be error findings\n"
        "                  (sets CUGUARD_ON_ERROR=refuse)\n"
        "  --no-report     do not print the summary when CMD ends\n"
        "  --simulate      run on the simulated CUDA driver shipped with cuguard (no GPU\n"
        "                  needed): prepends its directory to LD_LIBRARY_PATH and sets\n"
        "                  NUMBA_CUDA_DRIVER\n"
        "  --require-trace exit 3 when CMD exited 0 but no trace was written (CMD made\n"
        "                  no CUDA call, or the trace directory is unusable)\n"
        "  --fail-on LIST  when CMD ends, exit 66 if a finding matches LIST ('error',\n"
        "                  'warning', or kinds such as leak.event,unknown-handle) and say\n"
        "                  which on stderr; else exit with CMD's status; implies\n"
        "                  --require-trace; sets CUGUARD_FAIL_ON (the pytest plugin's\n"
        "                  --cuguard-fail-on)\n"
        "  --error-exitcode N  the status --fail-on exits with (1-255, default 66)\n"
        "  --timeout S     when CMD (or any of its children) still runs after S seconds:\n"
        "                  every traced process prints its hang report (with every\n"
        "                  Python thread's stack) and writes it into its trace, then\n"
        "                  CMD and its children get SIGTERM, SIGKILL 5 s later; exit 124\n"
        "  --help, -h      show this help and exit\n\n"
        "environment read by libcuguard.so (an option above overrides its variable):\n"
        "  CUGUARD_DIR            trace directory; unset = no trace (policies still apply)\n"
        "  CUGUARD_TASK           env:NAME | thread | process (default env:PYTEST_CURRENT_TEST;\n"
        "                         a phase suffix such as ' (call)' is stripped)\n"
        "  CUGUARD_POLICY         ownership,isolate,destroy,sync-query (default none)\n"
        "  CUGUARD_WATCHDOG       stall limit in seconds (default 60 while tracing, 0 = off)\n"
        "  CUGUARD_ON_ERROR       continue | refuse | abort on a live error finding\n"
        "                         (default continue)\n"
        "  CUGUARD_LIBCUDA        path of the real driver library (default libcuda.so.1)\n"
        "  CUGUARD_LOG            quiet | warn | debug: messages of libcuguard.so on stderr\n"
        "                         (default warn)\n"
        "  CUGUARD_QUARANTINE     objects kept alive so their values are not reused: handles\n"
        "                         'ownership' deferred, new objects 'destroy' held back\n"
        "                         (default 1024)\n"
        "  CUGUARD_RECLAIM_AGE    tasks an object must sit idle before 'destroy' reclaims it\n"
        "                         (default 1)\n"
        "  CUGUARD_SYNC_QUERY_MS  how long 'sync-query' lets cuEventQuery wait (default 1000)\n"
        "  CUGUARD_DUMP_SIGNAL    SIGUSR1 | SIGUSR2 | SIGQUIT: signal that prints the hang\n"
        "                         report on demand (default SIGUSR2)\n"
        "  CUGUARD_STACK_DEPTH    frames per call stack on create/destroy/failed calls\n"
        "                         (default 8, 0 = innermost frame only; docs/stacks.md)\n\n"
        "Exit status: CMD's; 124 when --timeout ended CMD; 66 (or --error-exitcode) when\n"
        "--fail-on matched; 3 with --require-trace or --fail-on when CMD exited 0 but no\n"
        "trace was written; 127 if CMD cannot be run; 2 for a usage error. An unwritable\n"
        "trace directory gets one warning and CMD runs untraced.\n"
        "Example: cuguard run -- pytest -n 4 tests/ && cuguard report " DEFAULT_DIR "/\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "cuguard run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (try 'cuguard run --help')\n");
    return 2;
}

/* ---- option checks ---- */

/* Whole seconds, at most a year (the shim's limit). */
static int valid_watchdog(const char *s)
{
    if (!*s || strlen(s) > 9)
        return 0;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return 0;
    return strtoul(s, NULL, 10) <= 86400ul * 365;
}

/* 1..255, or 0 when `s` is not one. */
static int exit_status_value(const char *s)
{
    if (!*s || strlen(s) > 3 || strspn(s, "0123456789") != strlen(s))
        return 0;
    int v = atoi(s);
    return v >= 1 && v <= 255 ? v : 0;
}

static int valid_task(const char *s)
{
    if (!strcmp(s, "thread") || !strcmp(s, "process"))
        return 1;
    return !strncmp(s, "env:", 4) && s[4] != '\0' && !strchr(s + 4, '=');
}

/* --fail-on and --error-exitcode. */
static int check_gate(const struct run_options *o)
{
    char err[256];
    if (o->fail_on && report_fail_on_check(o->fail_on, err, sizeof err) != 0)
        return usage_error("%s", err);
    if (o->error_exitcode && !exit_status_value(o->error_exitcode))
        return usage_error("bad --error-exitcode '%s': give a status from 1 to 255",
                           o->error_exitcode);
    if (o->error_exitcode && !o->fail_on)
        return usage_error("--error-exitcode needs --fail-on%s", "");
    return 0;
}

static int check_values(const struct run_options *o)
{
    if (o->dir && !o->dir[0])
        return usage_error("--dir needs a directory%s", "");
    if (o->policy && !cli_policy_list_valid(o->policy))
        return usage_error("bad --policy '%s': use names from ownership, isolate, destroy, "
                           "sync-query, separated by commas",
                           o->policy);
    if (o->task && !valid_task(o->task))
        return usage_error("bad --task '%s': use env:NAME, thread or process", o->task);
    if (o->timeout && !run_timeout_valid(o->timeout))
        return usage_error("bad --timeout '%s': give whole seconds, 1 to 31536000", o->timeout);
    if (o->watchdog && !valid_watchdog(o->watchdog))
        return usage_error("bad --watchdog '%s': give whole seconds, 0 (off) to 31536000",
                           o->watchdog);
    return check_gate(o);
}

/* Fills `o`; returns -1 to go on, else an exit status (help or error). */
static int parse_options(int argc, char **argv, struct run_options *o)
{
    memset(o, 0, sizeof *o);
    o->report = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int missing = 0;
        const char *v;
        if (!strcmp(a, "--")) {
            if (i + 1 >= argc)
                return usage_error("no command after '--'%s", "");
            o->command = argv + i + 1;
            int rc = check_values(o);
            return rc ? rc : -1;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--strict")) {
            o->strict = 1;
        } else if (!strcmp(a, "--no-report")) {
            o->report = 0;
        } else if (!strcmp(a, "--simulate")) {
            o->simulate = 1;
        } else if (!strcmp(a, "--require-trace")) {
            o->require_trace = 1;
        } else if ((v = cli_option_value(argc, argv, &i, "--fail-on", &missing))) {
            o->fail_on = v;
            o->require_trace = 1;
        } else if ((v = cli_option_value(argc, argv, &i, "--dir", &missing))) {
            o->dir = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--policy", &missing))) {
            o->policy = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--task", &missing))) {
            o->task = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--watchdog", &missing))) {
            o->watchdog = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--timeout", &missing))) {
            o->timeout = v;
        } else if ((v = cli_option_value(argc, argv, &i, "--error-exitcode", &missing))) {
            o->error_exitcode = v;
        } else if (missing) {
            return usage_error("option '%s' needs a value", a);
        } else if (a[0] == '-') {
            return usage_error("unknown option '%s'", a);
        } else {
            return usage_error("put '--' before the command: cuguard run [OPTIONS] -- %s ...", a);
        }
    }
    return usage_error("no command given; usage: cuguard run [OPTIONS] -- CMD [ARGS...]%s", "");
}

/* ---- environment ---- */

/* The directory of this binary, or -1 after a message. */
static int binary_dir(char *exe, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", exe, len - 1);
    if (n <= 0) {
        fprintf(stderr, "cuguard run: cannot locate the cuguard binary: %s\n", strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    return 0;
}

/* `build` beside this binary (a build tree), or `installed` relative to it
 * (PREFIX/bin/cuguard): the first that exists, as an absolute path. */
static int find_beside(const char *build, const char *installed, char *out, size_t len)
{
    char exe[PATH_MAX];
    if (binary_dir(exe, sizeof exe) != 0)
        return -1;
    const char *candidates[] = {build, installed};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/%s", exe, candidates[i]);
        if (access(path, R_OK) == 0 && realpath(path, out) && strlen(out) < len)
            return 0;
    }
    fprintf(stderr,
            "cuguard run: cannot find %s (looked in %s/%s and %s/%s); "
            "build it with 'make' or reinstall cuguard\n",
            build, exe, build, exe, installed);
    return -1;
}

/* libcuguard.so beside this binary, or in ../lib when installed. */
static int find_library(char *out, size_t len)
{
    return find_beside("libcuguard.so", "../lib/libcuguard.so", out, len);
}

/* --simulate: the simulated driver, build/fakecuda or PREFIX/lib/cuguard/fakecuda. */
static int use_simulated_driver(void)
{
    char dir[PATH_MAX];
    if (find_beside("fakecuda/libcuda.so.1", "../lib/cuguard/fakecuda/libcuda.so.1", dir,
                    sizeof dir) != 0)
        return -1;
    int rc = setenv("NUMBA_CUDA_DRIVER", dir, 1);
    *strrchr(dir, '/') = '\0';
    const char *old = getenv("LD_LIBRARY_PATH");
    size_t len = strlen(dir) + (old ? strlen(old) : 0) + 2;
    char *value = malloc(len);
    if (!value)
        return -1;
    snprintf(value, len, "%s%s%s", dir, old && *old ? ":" : "", old && *old ? old : "");
    rc |= setenv("LD_LIBRARY_PATH", value, 1);
    free(value);
    return rc ? -1 : 0;
}

static int absolute_dir(const char *dir, char *out, size_t len)
{
    if (dir[0] == '/') {
        snprintf(out, len, "%s", dir);
        return 0;
    }
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) {
        fprintf(stderr, "cuguard run: cannot get the current directory: %s\n", strerror(errno));
        return -1;
    }
    if ((size_t)snprintf(out, len, "%s/%s", cwd, dir) >= len) {
        fprintf(stderr, "cuguard run: trace directory path too long\n");
        return -1;
    }
    return 0;
}

/* LD_PRELOAD = library, then whatever was there (without a duplicate). */
static int prepend_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    if (!old || !*old)
        return setenv("LD_PRELOAD", lib, 1);
    if (!strcmp(old, lib) || (!strncmp(old, lib, strlen(lib)) && strchr(": ", old[strlen(lib)])))
        return 0;
    size_t len = strlen(lib) + strlen(old) + 2;
    char *value = malloc(len);
    if (!value)
        return -1;
    snprintf(value, len, "%s:%s", lib, old);
    int rc = setenv("LD_PRELOAD", value, 1);
    free(value);
    return rc;
}

/* `dir` NULL: run untraced (the trace directory is unusable). */
static int set_environment(const struct run_options *o, const char *lib, const char *dir)
{
    int rc = dir ? setenv("CUGUARD_DIR", dir, 1) : unsetenv("CUGUARD_DIR");
    if (o->policy)
        rc |= setenv("CUGUARD_POLICY", o->policy, 1);
    if (o->task)
        rc |= setenv("CUGUARD_TASK", o->task, 1);
    if (o->watchdog)
        rc |= setenv("CUGUARD_WATCHDOG", o->watchdog, 1);
    if (o->strict)
        rc |= setenv("CUGUARD_ON_ERROR", "refuse", 1);
    rc |= prepend_preload(lib);
    rc |= run_pytest_environment(o->fail_on);
    if (o->simulate && use_simulated_driver() != 0)
        return -1;
    if (rc != 0)
        fprintf(stderr, "cuguard run: cannot set the environment: %s\n", strerror(errno));
    return rc ? -1 : 0;
}

/* ---- the child ---- */

static volatile sig_atomic_t child_pid;

/* Forward signals sent to cuguard. A terminal's Ctrl-C (si_code SI_KERNEL)
 * already reached the child, which shares our process group. */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    if (child_pid > 0 && (!info || info->si_code != SI_KERNEL))
        kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
}

/* The names of the trace files (*.cgt) in `dir`, sorted; NULL-terminated,
 * NULL when the directory cannot be read. Free with free_names(). */
static int is_trace_name(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".cgt");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

static char **trace_names(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    size_t n = 0, cap = 16;
    char **names = calloc(cap, sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (!is_trace_name(e->d_name))
            continue;
        if (n + 1 >= cap) {
            char **bigger = realloc(names, 2 * cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
            cap *= 2;
        }
        names[n] = strdup(e->d_name);
        if (names[n])
            names[++n] = NULL;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, compare_names);
    return names;
}

static size_t count_names(char *const *names)
{
    size_t n = 0;
    while (names && names[n])
        n++;
    return n;
}

/* After CMD: point BASE/latest at this run, print the summary unless
 * --no-report, and apply --fail-on. Returns the number of traces written
 * and sets *matched when a --fail-on finding remains. */
static size_t conclude_run(const struct run_options *o, const char *base, const char *run,
                           const char *run_dir, int *matched)
{
    char **names = trace_names(run_dir);
    size_t count = count_names(names);
    char **paths = calloc(count + 1, sizeof *paths);
    for (size_t i = 0; paths && i < count; i++) {
        size_t len = strlen(run_dir) + strlen(names[i]) + 2;
        paths[i] = malloc(len);
        if (paths[i])
            snprintf(paths[i], len, "%s/%s", run_dir, names[i]);
    }
    if (count > 0 && run_dir_mark_latest(base, run) != 0)
        fprintf(stderr, "cuguard run: cannot update %s/" RUN_DIR_LATEST ": %s\n", base,
                strerror(errno));
    const struct run_summary_options so = {.print = o->report, .fail_on = o->fail_on, .dir = base};
    if (count == 0 && (o->report || o->require_trace))
        fprintf(stderr, "cuguard: no CUDA call was traced in this run (no trace in %s)\n", run_dir);
    else if (count > 0 && (o->report || o->fail_on) &&
             report_run_summary(paths, (int)count, &so, matched) == 0 && o->report)
        fprintf(stderr, "cuguard: %zu trace(s) in %s; details: cuguard report %s\n", count, run_dir,
                base);
    for (size_t i = 0; paths && i < count; i++)
        free(paths[i]);
    free(paths);
    free_names(names);
    return count;
}

/* fork + execvp. Returns the child's status as an exit code, or -1 after a
 * message; *not_run is set when the command could not be executed. */
static int run_command(char **command, unsigned timeout, const char *run_dir, int *not_run,
                       int *timed_out)
{
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        fprintf(stderr, "cuguard run: pipe: %s\n", strerror(errno));
        return -1;
    }
    install_forwarding();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "cuguard run: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close(report[0]);
        execvp(command[0], command);
        int err = errno;
        ssize_t w = write(report[1], &err, sizeof err);
        (void)w;
        _exit(127);
    }
    child_pid = pid;
    close(report[1]);
    int exec_errno = 0;
    ssize_t got;
    do
        got = read(report[0], &exec_errno, sizeof exec_errno);
    while (got < 0 && errno == EINTR);
    close(report[0]);
    int status;
    *timed_out = run_timeout_wait(pid, timeout, run_dir, &status);
    if (*timed_out < 0)
        return -1;
    child_pid = 0;
    if (got == (ssize_t)sizeof exec_errno) {
        fprintf(stderr, "cuguard run: cannot run '%s': %s\n", command[0], strerror(exec_errno));
        *not_run = 1;
        return 127;
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* CMD's status, unless --fail-on matched (66 or --error-exitcode) or
 * --require-trace found no trace after a successful CMD. */
static int final_status(const struct run_options *o, int status, size_t traces, int matched)
{
    if (matched)
        return o->error_exitcode ? exit_status_value(o->error_exitcode) : 66;
    if (status != 0)
        return status;
    if (o->require_trace && traces == 0) {
        fprintf(stderr, "cuguard run: no trace was written; exit %d (%s)\n", NO_TRACE_STATUS,
                o->fail_on ? "--fail-on" : "--require-trace");
        return NO_TRACE_STATUS;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    struct run_options o;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        return rc;
    char lib[PATH_MAX], base[PATH_MAX], run_dir[PATH_MAX + 64], run[64], why[PATH_MAX + 64];
    if (find_library(lib, sizeof lib) != 0)
        return 2;
    const char *env_dir = getenv("CUGUARD_DIR");
    if (!o.dir)
        o.dir = env_dir && *env_dir ? env_dir : DEFAULT_DIR;
    if (absolute_dir(o.dir, base, sizeof base) != 0)
        return 2;
    run_dir_new_name(run, sizeof run);
    snprintf(run_dir, sizeof run_dir, "%s/%s", base, run);
    int traced = run_dir_writable(base, why, sizeof why);
    if (!traced)
        fprintf(stderr, "cuguard run: cannot write traces under %s (%s); running untraced\n", base,
                why);
    if (set_environment(&o, lib, traced ? run_dir : NULL) != 0)
        return 2;
    fflush(NULL);
    int not_run = 0, matched = 0, timed_out = 0;
    int status = run_command(o.command, o.timeout ? (unsigned)atoi(o.timeout) : 0,
                             traced ? run_dir : NULL, &not_run, &timed_out);
    if (status < 0)
        return 2;
    if (not_run)
        return status;
    size_t traces = traced ? conclude_run(&o, base, run, run_dir, &matched) : 0;
    if (timed_out)
        return RUN_TIMEOUT_STATUS;
    return final_status(&o, status, traces, matched);
}

/*
 * analysis/cli/cmd_export.c — `cuguard export --perfetto OUT.json PATH...`.
 *
 * What it is for: option parsing and the output file of the export. The
 * timeline is written to a temporary file next to OUT (mkstemp: exclusive
 * creation, never a planted link) and renamed into place, so a failed
 * export never leaves half a JSON document under OUT. OUT may be "-" for
 * stdout; an OUT that is a device or FIFO is written in place; any other
 * OUT that is not a regular file (a symlink, a directory) is refused.
 *
 * --format proto writes Perfetto's protobuf trace instead of JSON; --pid,
 * --since and --until narrow what is written; a terminal on stderr gets
 * progress lines.
 *
 * What it must never do: overwrite OUT with a partial document, or treat a
 * path argument as an option.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/cli/cli_option.h"
#include "analysis/cli/commands.h"
#include "analysis/output/export_perfetto.h"
#include "analysis/input/trace_set.h"

#define PROG "cuguard export"

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: cuguard export --perfetto OUT [--format json|proto] [--pid PID]\n"
            "                      [--since S] [--until S] [--all] PATH...\n\n"
            "Write the traces under each PATH (trace directories or .cgt files) as a Chrome\n"
            "trace-event timeline that ui.perfetto.dev and chrome://tracing open: a process per\n"
            "traced pid, a track per host thread and per stream, API calls as slices, each\n"
            "event's record -> completion as a flow, live events/streams/pinned bytes as\n"
            "counters and findings as markers. OUT '-' writes to stdout.\n"
            "A directory that 'cuguard run' wrote: its latest run, or every run with --all.\n\n"
            "  --format json    Chrome trace-event JSON (the default)\n"
            "  --format proto   Perfetto's native protobuf trace (TracePacket, track\n"
            "                   descriptors and track events): smaller, and what Perfetto's\n"
            "                   trace processor (SQL over the trace) reads fastest\n"
            "  --pid PID        only the process(es) with this pid\n"
            "  --since S        only what happened S seconds or more after its process started\n"
            "  --until S        ... and S seconds or less (the +S s times of the report)\n"
            "A terminal on stderr shows progress on long exports.\n\n"
            "exit status: 0 written, 2 unusable input or options\n");
}

static const struct export_options *options;

static int write_to_stdout(char *const *paths, int npaths)
{
    int rc = export_perfetto_with(stdout, paths, npaths, PROG, stderr, options);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: could not write the timeline\n", PROG);
        return 2;
    }
    return rc;
}

/* Write in place, no rename: OUT exists and is a device or a FIFO. */
static int write_in_place(const char *out, char *const *paths, int npaths)
{
    int fd = open(out, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", PROG, out, strerror(errno));
        if (fd >= 0)
            close(fd);
        return 2;
    }
    int rc = export_perfetto_with(f, paths, npaths, PROG, stderr, options);
    int write_failed = ferror(f) != 0;
    if (fclose(f) != 0 || write_failed) {
        fprintf(stderr, "%s: %s: could not write the timeline\n", PROG, out);
        rc = 2;
    }
    return rc;
}

/* "DIR/.BASE.XXXXXX" next to OUT, for mkstemp. */
static char *temp_template(const char *out)
{
    size_t len = strlen(out) + 16;
    char *tmp = malloc(len);
    if (!tmp)
        return NULL;
    const char *slash = strrchr(out, '/');
    int dir_len = slash ? (int)(slash - out + 1) : 0;
    snprintf(tmp, len, "%.*s.%s.XXXXXX", dir_len, out, slash ? slash + 1 : out);
    return tmp;
}

static int write_to_file(const char *out, char *const *paths, int npaths)
{
    struct stat st;
    if (lstat(out, &st) == 0 && !S_ISREG(st.st_mode)) {
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
            return write_in_place(out, paths, npaths);
        fprintf(stderr, "%s: %s: exists and is not a regular file; not replacing it\n", PROG, out);
        return 2;
    }
    char *tmp = temp_template(out);
    if (!tmp)
        return 2;
    /* mkstemp: a fresh name, O_EXCL, mode 0600: never a planted file or link. */
    int fd = mkstemp(tmp);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "%s: %s: %s\n", PROG, out, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        free(tmp);
        return 2;
    }
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    int rc = export_perfetto_with(f, paths, npaths, PROG, stderr, options);
    int write_failed = ferror(f) != 0;
    if (fclose(f) != 0)
        write_failed = 1;
    if (rc == 0 && write_failed) {
        fprintf(stderr, "%s: %s: could not write the timeline\n", PROG, out);
        rc = 2;
    }
    if (rc == 0 && rename(tmp, out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", PROG, out, strerror(errno));
        rc = 2;
    }
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* "1.5" seconds, not negative: into nanoseconds. Returns 0, -1 if bad. */
static int parse_seconds(const char *text, uint64_t *ns)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end != '\0' || !isfinite(v) || v < 0 || v > 1e9)
        return -1;
    *ns = (uint64_t)llround(v * 1e9);
    return 0;
}

static int parse_pid(const char *text, uint32_t *pid)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || end == text || *end != '\0' || text[0] == '-' || v > UINT32_MAX)
        return -1;
    *pid = (uint32_t)v;
    return 0;
}

/* --format, --pid, --since, --until at argv[*i]: 1 taken, 0 not one of
 * them, -1 bad (message printed). */
static int filter_option(int argc, char **argv, int *i, struct export_options *opt)
{
    static const char *const names[] = {"--format", "--pid", "--since", "--until"};
    for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++) {
        int missing = 0;
        const char *v = cli_option_value(argc, argv, i, names[k], &missing);
        if (missing) {
            fprintf(stderr, "%s: %s needs a value\n", PROG, names[k]);
            return -1;
        }
        if (!v)
            continue;
        int bad = 0;
        if (k == 0) {
            bad = strcmp(v, "json") && strcmp(v, "proto");
            opt->format = !strcmp(v, "proto") ? EXPORT_PROTO : EXPORT_JSON;
        } else if (k == 1) {
            bad = parse_pid(v, &opt->pid) < 0;
            opt->has_pid = 1;
        } else {
            bad = parse_seconds(v, k == 2 ? &opt->since_ns : &opt->until_ns) < 0;
        }
        if (bad) {
            fprintf(stderr, "%s: %s: bad value '%s'%s\n", PROG, names[k], v,
                    k == 0   ? " (json or proto)"
                    : k == 1 ? " (a pid)"
                             : " (seconds, not negative)");
            return -1;
        }
        return 1;
    }
    return 0;
}

int cmd_export(int argc, char **argv)
{
    const char *out = NULL;
    struct export_options opt = {.format = EXPORT_JSON, .until_ns = UINT64_MAX};
    options = &opt;
    int i = 1;
    for (; i < argc; i++) {
        int taken = filter_option(argc, argv, &i, &opt);
        if (taken < 0)
            return 2;
        if (taken)
            continue;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            export_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "--all")) {
            trace_set_read_all_runs(1);
        } else if (!strncmp(argv[i], "--perfetto=", 11)) {
            out = argv[i] + 11;
        } else if (!strcmp(argv[i], "--perfetto")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "%s: --perfetto needs an output file\n", PROG);
                return 2;
            }
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "%s: unknown option '%s' (try --help)\n", PROG, argv[i]);
            return 2;
        } else {
            break;
        }
    }
    if (!out || !*out) {
        fprintf(stderr, "%s: --perfetto OUT is required (try --help)\n", PROG);
        return 2;
    }
    if (opt.since_ns > opt.until_ns) {
        fprintf(stderr, "%s: --since is after --until\n", PROG);
        return 2;
    }
    if (isatty(STDERR_FILENO))
        opt.progress = stderr;
    if (i >= argc) {
        fprintf(stderr, "%s: give at least one trace directory or file\n", PROG);
        return 2;
    }
    if (!strcmp(out, "-"))
        return write_to_stdout(argv + i, argc - i);
    return write_to_file(out, argv + i, argc - i);
}

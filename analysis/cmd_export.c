/*
 * analysis/cmd_export.c — `cuguard export --perfetto OUT.json PATH...`.
 *
 * What it is for: option parsing and the output file of the export. The
 * timeline is written to a temporary file next to OUT (mkstemp: exclusive
 * creation, never a planted link) and renamed into place, so a failed
 * export never leaves half a JSON document under OUT. OUT may be "-" for
 * stdout; an OUT that is a device or FIFO is written in place; any other
 * OUT that is not a regular file (a symlink, a directory) is refused.
 *
 * What it must never do: overwrite OUT with a partial document, or treat a
 * path argument as an option.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/commands.h"
#include "analysis/export_perfetto.h"
#include "analysis/trace_set.h"

#define PROG "cuguard export"

static void export_usage(FILE *out)
{
    fprintf(out,
            "usage: cuguard export --perfetto OUT.json [--all] PATH...\n\n"
            "Write the traces under each PATH (trace directories or .cgt files) as a Chrome\n"
            "trace-event timeline that ui.perfetto.dev and chrome://tracing open: a process per\n"
            "traced pid, a track per host thread and per stream, API calls as slices, each\n"
            "event's record -> completion as a flow, live events/streams/pinned bytes as\n"
            "counters and findings as markers. OUT.json '-' writes to stdout.\n"
            "A directory that 'cuguard run' wrote: its latest run, or every run with --all.\n\n"
            "exit status: 0 written, 2 unusable input or options\n");
}

static int write_to_stdout(char *const *paths, int npaths)
{
    int rc = export_perfetto(stdout, paths, npaths, PROG, stderr);
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
    int rc = export_perfetto(f, paths, npaths, PROG, stderr);
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
    int rc = export_perfetto(f, paths, npaths, PROG, stderr);
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

int cmd_export(int argc, char **argv)
{
    const char *out = NULL;
    int i = 1;
    for (; i < argc; i++) {
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
        fprintf(stderr, "%s: --perfetto OUT.json is required (try --help)\n", PROG);
        return 2;
    }
    if (i >= argc) {
        fprintf(stderr, "%s: give at least one trace directory or file\n", PROG);
        return 2;
    }
    if (!strcmp(out, "-"))
        return write_to_stdout(argv + i, argc - i);
    return write_to_file(out, argv + i, argc - i);
}

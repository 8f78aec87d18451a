/*
 * analysis/input/trace_set.c — expand trace directories into trace files.
 *
 * What it is for: see trace_set.h.
 * What it must never do: follow a directory into subdirectories other than
 * its runs, or stop at the first bad path.
 */
#include "analysis/input/trace_set.h"

#include "analysis/input/run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int all_runs;

void trace_set_read_all_runs(int all)
{
    all_runs = all;
}

static int add_file(struct trace_set *set, const char *path)
{
    char **grown = realloc(set->files, (set->count + 1) * sizeof *grown);
    if (!grown)
        return -1;
    set->files = grown;
    set->files[set->count] = strdup(path);
    if (!set->files[set->count])
        return -1;
    set->count++;
    return 0;
}

/* Only regular files: opening a FIFO or a device could block forever. */
static int add_if_regular(struct trace_set *set, const char *path, const struct stat *st,
                          const char *prog, FILE *warn)
{
    if (S_ISREG(st->st_mode))
        return add_file(set, path);
    fprintf(warn, "%s: %s: not a regular file or directory, skipped\n", prog, path);
    set->problems++;
    return 0;
}

static int has_trace_suffix(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".cgt");
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.cgt files directly in `dir`, sorted. */
static int add_trace_files(struct trace_set *set, const char *dir, const char *prog, FILE *warn)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(warn, "%s: %s: %s\n", prog, dir, strerror(errno));
        set->problems++;
        return 0;
    }
    size_t first = set->count;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!has_trace_suffix(e->d_name))
            continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            rc = -1;
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) == 0)
            rc = add_if_regular(set, path, &st, prog, warn);
        else
            rc = add_file(set, path); /* let the open report why */
        free(path);
    }
    closedir(d);
    if (rc == 0 && set->count == first) {
        fprintf(warn, "%s: %s: no trace files (*.cgt) in this directory\n", prog, dir);
        set->problems++;
    }
    if (set->count > first)
        qsort(set->files + first, set->count - first, sizeof *set->files, compare_names);
    return rc;
}

/* The run subdirectories of `dir`, sorted (oldest first: names hold the
 * start time). NULL-terminated; NULL when there are none. */
static char **run_names(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!run_dir_is_run_name(e->d_name))
            continue;
        char **grown = realloc(names, (n + 2) * sizeof *grown);
        if (!grown)
            break;
        names = grown;
        names[n] = strdup(e->d_name);
        if (names[n])
            names[++n] = NULL;
    }
    closedir(d);
    if (names)
        qsort(names, n, sizeof *names, compare_names);
    return names;
}

static void free_run_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

static int add_run(struct trace_set *set, const char *dir, const char *run, const char *prog,
                   FILE *warn)
{
    size_t len = strlen(dir) + strlen(run) + 2;
    char *path = malloc(len);
    if (!path)
        return -1;
    snprintf(path, len, "%s/%s", dir, run);
    int rc = add_trace_files(set, path, prog, warn);
    free(path);
    return rc;
}

/* A directory of runs: the latest one (dir/latest, else the newest name),
 * or every run with --all. */
static int add_runs(struct trace_set *set, const char *dir, char **runs, const char *prog,
                    FILE *warn)
{
    size_t n = 0;
    while (runs[n])
        n++;
    if (all_runs) {
        fprintf(warn, "%s: %s: reading all %zu runs\n", prog, dir, n);
        for (size_t i = 0; i < n; i++)
            if (add_run(set, dir, runs[i], prog, warn) < 0)
                return -1;
        return 0;
    }
    char latest[256];
    if (run_dir_read_latest(dir, latest, sizeof latest) != 0)
        snprintf(latest, sizeof latest, "%s", runs[n - 1]);
    fprintf(warn, "%s: %s: reading the latest run, %s (%zu run%s; --all reads every run)\n", prog,
            dir, latest, n, n == 1 ? "" : "s");
    return add_run(set, dir, latest, prog, warn);
}

static int add_directory(struct trace_set *set, const char *dir, const char *prog, FILE *warn)
{
    char **runs = run_names(dir);
    if (!runs)
        return add_trace_files(set, dir, prog, warn);
    int rc = add_runs(set, dir, runs, prog, warn);
    free_run_names(runs);
    return rc;
}

int trace_set_collect(struct trace_set *set, char *const *paths, int npaths, const char *prog,
                      FILE *warn)
{
    set->files = NULL;
    set->count = 0;
    set->problems = 0;
    for (int i = 0; i < npaths; i++) {
        struct stat st;
        if (stat(paths[i], &st) != 0) {
            fprintf(warn, "%s: %s: %s\n", prog, paths[i], strerror(errno));
            set->problems++;
            continue;
        }
        int rc = S_ISDIR(st.st_mode) ? add_directory(set, paths[i], prog, warn)
                                     : add_if_regular(set, paths[i], &st, prog, warn);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void trace_set_free(struct trace_set *set)
{
    for (size_t i = 0; i < set->count; i++)
        free(set->files[i]);
    free(set->files);
    set->files = NULL;
    set->count = 0;
}

/*
 * analysis/trace_set.c — expand trace directories into trace files.
 *
 * What it is for: see trace_set.h.
 * What it must never do: follow a directory into subdirectories, or stop at
 * the first bad path.
 */
#include "analysis/trace_set.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static int add_directory(struct trace_set *set, const char *dir, const char *prog, FILE *warn)
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

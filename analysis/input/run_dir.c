/*
 * analysis/input/run_dir.c — naming, checking and marking per-run trace directories.
 *
 * What it is for: see run_dir.h.
 * What it must never do: follow `latest` anywhere outside its directory
 * (only a bare run name is accepted), or create directories.
 */
#include "analysis/input/run_dir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void run_dir_new_name(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32] = "00000000-000000";
    if (localtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, len, RUN_DIR_PREFIX "%s-%ld", stamp, (long)getpid());
}

int run_dir_is_run_name(const char *name)
{
    return !strncmp(name, RUN_DIR_PREFIX, strlen(RUN_DIR_PREFIX)) && !strchr(name, '/') &&
           name[strlen(RUN_DIR_PREFIX)] != '\0';
}

int run_dir_writable(const char *dir, char *why, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", dir);
    for (;;) {
        struct stat st;
        if (stat(path, &st) == 0) {
            if (!S_ISDIR(st.st_mode)) {
                snprintf(why, len, "%s is not a directory", path);
                return 0;
            }
            if (access(path, W_OK | X_OK) != 0) {
                snprintf(why, len, "%s: %s", path, strerror(errno));
                return 0;
            }
            return 1;
        }
        if (errno != ENOENT) {
            snprintf(why, len, "%s: %s", path, strerror(errno));
            return 0;
        }
        char *slash = strrchr(path, '/');
        if (!slash || slash == path)
            return 1; /* up to the root: let the shim's mkdir say why if it fails */
        *slash = '\0';
    }
}

int run_dir_mark_latest(const char *dir, const char *name)
{
    char tmp[PATH_MAX], link[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/." RUN_DIR_LATEST ".%ld", dir, (long)getpid()) >=
            sizeof tmp ||
        (size_t)snprintf(link, sizeof link, "%s/" RUN_DIR_LATEST, dir) >= sizeof link) {
        errno = ENAMETOOLONG;
        return -1;
    }
    unlink(tmp);
    if (symlink(name, tmp) != 0)
        return -1;
    if (rename(tmp, link) != 0) {
        int err = errno;
        unlink(tmp);
        errno = err;
        return -1;
    }
    return 0;
}

int run_dir_read_latest(const char *dir, char *out, size_t len)
{
    char link[PATH_MAX], target[PATH_MAX], run[2 * PATH_MAX];
    snprintf(link, sizeof link, "%s/" RUN_DIR_LATEST, dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return -1;
    target[n] = '\0';
    if (!run_dir_is_run_name(target) || strlen(target) >= len)
        return -1;
    struct stat st;
    snprintf(run, sizeof run, "%s/%s", dir, target);
    if (stat(run, &st) != 0 || !S_ISDIR(st.st_mode))
        return -1;
    snprintf(out, len, "%s", target);
    return 0;
}

/*
 * tests/unit/tracer_testlib.c — helpers shared by the tracer unit suites.
 *
 * What it is for: see tracer_testlib.h.
 * What it must never do: assert (tests do), or touch anything outside the
 * temporary directories it creates.
 */
#include "tests/unit/tracer_testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const testlib_api_names[] = {
    "", "cuEventCreate", "cuEventQuery", "cuEventSynchronize", "cuMemcpyAsync", "cuStreamCreate",
};
const uint32_t testlib_api_count = sizeof testlib_api_names / sizeof testlib_api_names[0];

char *testlib_tmpdir(void)
{
    char tmpl[] = "/tmp/cuguard-unit-XXXXXX";
    if (!mkdtemp(tmpl))
        return NULL;
    return strdup(tmpl);
}

void testlib_rmtree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        unlink(dir);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            testlib_rmtree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

int testlib_find_traces(const char *dir, char *path, size_t len)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (n < 4 || strcmp(de->d_name + n - 4, ".cgt") != 0)
            continue;
        if (count++ == 0 && path)
            snprintf(path, len, "%s/%s", dir, de->d_name);
    }
    closedir(d);
    return count;
}

struct cg_writer_config testlib_config(const char *dir)
{
    struct cg_writer_config cfg = {
        .dir = dir,
        .task_mode = CG_TASK_ENV,
        .task_var = "PYTEST_CURRENT_TEST",
        .api_names = testlib_api_names,
        .api_count = testlib_api_count,
    };
    return cfg;
}

uint64_t testlib_record_hash(const struct cg_record *r)
{
    uint64_t h = 1469598103934665603ull;
    const uint64_t parts[] = {r->handle,           r->arg, r->ts_ns, r->tid, r->site,
                              (uint32_t)r->result, r->api, r->flags};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        h ^= parts[i];
        h *= 1099511628211ull;
        h ^= h >> 29;
    }
    return h;
}

void testlib_fill_and_publish(struct cg_record *r, uint8_t kind, uint64_t handle, uint64_t arg,
                              uint16_t api)
{
    r->handle = handle;
    r->arg = arg;
    r->ts_ns = cg_now_ns();
    r->tid = cg_gettid();
    r->result = 0;
    r->api = api;
    r->flags = 0;
    r->arg2 = testlib_record_hash(r);
    cg_writer_publish(r, kind);
}

int testlib_write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
    if (fd < 0)
        return -1;
    ssize_t n = len ? write(fd, data, len) : 0;
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

void testlib_valid_header(struct cg_file_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CG_MAGIC, sizeof h->magic);
    h->version = CG_FORMAT_VERSION;
    h->header_size = CG_HEADER_SIZE;
    h->record_size = CG_RECORD_SIZE;
    h->segment_records = CG_SEGMENT_RECORDS;
    h->pid = 42;
    h->ppid = 1;
    snprintf(h->host, sizeof h->host, "testhost");
    memcpy(h->argv, "prog\0--flag\0", 12);
    h->argc = 2;
    memcpy(h->api_names, "\0cuEventQuery\0", 14);
    h->api_count = 2;
}

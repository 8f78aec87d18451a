/*
 * tests/unit/shim_testlib.c — see shim_testlib.h.
 *
 * What it must never do: leave trace files behind (shimtest_cleanup removes
 * the directory) or read a trace through anything but tracer/reader.h.
 */
#include "tests/unit/shim_testlib.h"

#include <cuda.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim/lifecycle.h"
#include "tests/unit/tracer_testlib.h"
#include "tracer/reader.h"

const char *shimtest_driver_path(void)
{
    static char path[4096];
    const char *build = getenv("BUILD");
#if defined(__SANITIZE_THREAD__)
    const char *variant = "fakecuda/tsan";
#else
    const char *variant = "fakecuda";
#endif
    snprintf(path, sizeof path, "%s/%s/libcuda.so.1", build && build[0] ? build : "build", variant);
    return path;
}

char *shimtest_setup(void)
{
    char *dir = testlib_tmpdir();
    if (dir == NULL) {
        fprintf(stderr, "shimtest: cannot create a temporary directory\n");
        return NULL;
    }
    setenv("CUGUARD_DIR", dir, 1);
    setenv("CUGUARD_LIBCUDA", shimtest_driver_path(), 1);
    cg_shim_load_config();
    return dir;
}

void *shimtest_driver_sym(const char *name)
{
    void *driver = dlopen(shimtest_driver_path(), RTLD_NOW | RTLD_LOCAL);
    if (driver == NULL) {
        fprintf(stderr, "shimtest: cannot load %s: %s\n", shimtest_driver_path(), dlerror());
        return NULL;
    }
    return dlsym(driver, name);
}

/* Set once by shimtest_cuda_init() before any thread starts. */
static CUcontext primary;
static CUresult (*set_current)(CUcontext);

int shimtest_cuda_init(void)
{
    CUresult (*init)(unsigned) = (CUresult(*)(unsigned))shimtest_driver_sym("cuInit");
    CUresult (*retain)(CUcontext *, CUdevice) =
        (CUresult(*)(CUcontext *, CUdevice))shimtest_driver_sym("cuDevicePrimaryCtxRetain");
    set_current = (CUresult(*)(CUcontext))shimtest_driver_sym("cuCtxSetCurrent");
    if (init == NULL || retain == NULL || set_current == NULL || init(0) != CUDA_SUCCESS ||
        retain(&primary, 0) != CUDA_SUCCESS) {
        fprintf(stderr, "shimtest: cannot initialise the simulated driver\n");
        return -1;
    }
    return shimtest_cuda_thread_init();
}

int shimtest_cuda_thread_init(void)
{
    return set_current != NULL && set_current(primary) == CUDA_SUCCESS ? 0 : -1;
}

static void fill_names(struct cg_reader *r, const struct cg_record *rec,
                       struct shimtest_record *out)
{
    out->rec = *rec;
    snprintf(out->api, sizeof out->api, "%s", cg_reader_api_name(r, rec->api));
    const char *site = cg_reader_string(r, rec->site);
    snprintf(out->site, sizeof out->site, "%s", site ? site : "");
}

int shimtest_finish_and_scan(const char *dir, shimtest_visit visit, void *ctx,
                             struct cg_file_header *header)
{
    cg_shim_finish();
    char path[4096];
    int files = testlib_find_traces(dir, path, sizeof path);
    if (files != 1) {
        fprintf(stderr, "shimtest: %d trace files in %s, expected 1\n", files, dir);
        return -1;
    }
    char err[256];
    struct cg_reader *r = cg_reader_open(path, err, sizeof err);
    if (r == NULL) {
        fprintf(stderr, "shimtest: %s: %s\n", path, err);
        return -1;
    }
    if (header != NULL)
        *header = *cg_reader_header(r);
    struct cg_record rec;
    struct shimtest_record named;
    while (cg_reader_next(r, &rec)) {
        if (rec.kind == CG_REC_STRING)
            continue;
        fill_names(r, &rec, &named);
        visit(&named, ctx);
    }
    cg_reader_close(r);
    return 0;
}

struct collector {
    struct shimtest_trace *trace;
    size_t cap;
    int failed;
};

static void collect(const struct shimtest_record *r, void *ctx)
{
    struct collector *c = ctx;
    struct shimtest_trace *t = c->trace;
    if (c->failed)
        return;
    if (t->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct shimtest_record *grown = realloc(t->records, cap * sizeof *t->records);
        if (grown == NULL) {
            c->failed = 1;
            return;
        }
        t->records = grown;
        c->cap = cap;
    }
    t->records[t->count++] = *r;
}

int shimtest_finish_and_read(const char *dir, struct shimtest_trace *t)
{
    memset(t, 0, sizeof *t);
    t->files = testlib_find_traces(dir, NULL, 0);
    struct collector c = {t, 0, 0};
    struct cg_file_header header;
    if (shimtest_finish_and_scan(dir, collect, &c, &header) != 0)
        return -1;
    t->files = 1;
    t->end_state = header.end_state;
    t->slots_reserved = header.slots_reserved;
    t->pid = header.pid;
    return c.failed ? -1 : 0;
}

void shimtest_trace_free(struct shimtest_trace *t)
{
    free(t->records);
    t->records = NULL;
    t->count = 0;
}

size_t shimtest_count(const struct shimtest_trace *t, uint8_t kind, const char *api)
{
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct shimtest_record *r = &t->records[i];
        if ((kind == 0 || r->rec.kind == kind) && (api == NULL || strcmp(r->api, api) == 0))
            n++;
    }
    return n;
}

uint64_t shimtest_spin_total(const struct shimtest_trace *t, const char *api, uint64_t handle)
{
    uint64_t total = 0;
    for (size_t i = 0; i < t->count; i++) {
        const struct shimtest_record *r = &t->records[i];
        if (r->rec.kind == CG_REC_SPIN && r->rec.handle == handle && strcmp(r->api, api) == 0)
            total += r->rec.arg;
    }
    return total;
}

void shimtest_cleanup(char *dir)
{
    if (dir == NULL)
        return;
    testlib_rmtree(dir);
    free(dir);
}

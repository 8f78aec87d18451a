/*
 * attrib_sites.c — planted bugs at known lines, for the attribution tests
 * (tests/e2e/4A_*.sh .. 4Z_*.sh): each finding must name the line marked
 * "SITE:<name>" below, whichever route reached the driver.
 *
 * Usage: attrib_sites direct|dlsym|procaddr TESTS
 *   runs TESTS "tests" (PYTEST_CURRENT_TEST=attrib_sites.c::test_N), each
 *   creating one event at SITE:leak that it never destroys, and creating and
 *   destroying one event properly; then one cuEventQuery of a handle no
 *   create returned at SITE:foreign. Exit 0 when the driver answered as
 *   expected. Built twice: with -g (attrib_sites) and without debug info
 *   (attrib_sites_nodebug).
 *
 * Must never: destroy the events of SITE:leak, or inline the functions
 * holding the sites into main (each is noinline so the line belongs to a
 * named function).
 */
#include <cuda.h>
#include <cudaTypedefs.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef CUresult (*event_create_fn)(CUevent *, unsigned int);
typedef CUresult (*event_fn)(CUevent);

struct routes {
    CUresult (*init)(unsigned int);
    CUresult (*device_get)(CUdevice *, int);
    CUresult (*retain)(CUcontext *, CUdevice);
    CUresult (*set_current)(CUcontext);
    event_create_fn event_create;
    event_fn event_query, event_destroy;
};

static int load_direct(struct routes *r)
{
    r->init = cuInit;
    r->device_get = cuDeviceGet;
    r->retain = cuDevicePrimaryCtxRetain;
    r->set_current = cuCtxSetCurrent;
    r->event_create = cuEventCreate;
    r->event_query = cuEventQuery;
    r->event_destroy = cuEventDestroy;
    return 0;
}

static void *must(void *p, const char *name)
{
    if (!p)
        fprintf(stderr, "attrib_sites: no %s\n", name);
    return p;
}

static int load_dlsym(struct routes *r)
{
    void *d = dlopen("libcuda.so.1", RTLD_NOW);
    if (!d)
        return -1;
    *(void **)&r->init = must(dlsym(d, "cuInit"), "cuInit");
    *(void **)&r->device_get = must(dlsym(d, "cuDeviceGet"), "cuDeviceGet");
    *(void **)&r->retain = must(dlsym(d, "cuDevicePrimaryCtxRetain"), "retain");
    *(void **)&r->set_current = must(dlsym(d, "cuCtxSetCurrent"), "cuCtxSetCurrent");
    *(void **)&r->event_create = must(dlsym(d, "cuEventCreate"), "cuEventCreate");
    *(void **)&r->event_query = must(dlsym(d, "cuEventQuery"), "cuEventQuery");
    *(void **)&r->event_destroy = must(dlsym(d, "cuEventDestroy_v2"), "cuEventDestroy_v2");
    return r->event_destroy ? 0 : -1;
}

static int load_procaddr(struct routes *r)
{
    void *d = dlopen("libcuda.so.1", RTLD_NOW);
    PFN_cuGetProcAddress_v12000 get;
    *(void **)&get = d ? dlsym(d, "cuGetProcAddress_v2") : NULL;
    if (!get)
        return -1;
    const struct {
        const char *name;
        void **slot;
    } wanted[] = {
        {"cuInit", (void **)&r->init},
        {"cuDeviceGet", (void **)&r->device_get},
        {"cuDevicePrimaryCtxRetain", (void **)&r->retain},
        {"cuCtxSetCurrent", (void **)&r->set_current},
        {"cuEventCreate", (void **)&r->event_create},
        {"cuEventQuery", (void **)&r->event_query},
        {"cuEventDestroy", (void **)&r->event_destroy},
    };
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++)
        if (get(wanted[i].name, wanted[i].slot, 13000, 0, NULL) != CUDA_SUCCESS || !*wanted[i].slot)
            return -1;
    return 0;
}

__attribute__((noinline)) static CUresult leak_one_event(const struct routes *r)
{
    CUevent leaked;
    return r->event_create(&leaked, 0); /* SITE:leak */
}

__attribute__((noinline)) static int create_and_destroy(const struct routes *r)
{
    CUevent ok;
    if (r->event_create(&ok, 0) != CUDA_SUCCESS)
        return -1;
    return r->event_destroy(ok) == CUDA_SUCCESS ? 0 : -1;
}

__attribute__((noinline)) static CUresult query_foreign(const struct routes *r)
{
    static int not_an_event[16];
    volatile CUresult rc = r->event_query((CUevent)not_an_event); /* SITE:foreign */
    return rc; /* (volatile: no tail call, so this function stays on the stack) */
}

static int run_tests(const struct routes *r, int tests)
{
    for (int i = 0; i < tests; i++) {
        char task[64];
        snprintf(task, sizeof task, "attrib_sites.c::test_%d", i);
        setenv("PYTEST_CURRENT_TEST", task, 1);
        if (leak_one_event(r) != CUDA_SUCCESS || create_and_destroy(r) != 0)
            return -1;
    }
    unsetenv("PYTEST_CURRENT_TEST");
    return 0;
}

int main(int argc, char **argv)
{
    struct routes r;
    memset(&r, 0, sizeof r);
    const char *route = argc > 1 ? argv[1] : "direct";
    int tests = argc > 2 ? atoi(argv[2]) : 3;
    int rc = !strcmp(route, "dlsym")      ? load_dlsym(&r)
             : !strcmp(route, "procaddr") ? load_procaddr(&r)
                                          : load_direct(&r);
    CUdevice dev;
    CUcontext ctx;
    if (rc != 0 || r.init(0) != CUDA_SUCCESS || r.device_get(&dev, 0) != CUDA_SUCCESS ||
        r.retain(&ctx, dev) != CUDA_SUCCESS || r.set_current(ctx) != CUDA_SUCCESS) {
        fprintf(stderr, "attrib_sites: CUDA setup failed (%s)\n", route);
        return 1;
    }
    if (run_tests(&r, tests) != 0) {
        fprintf(stderr, "attrib_sites: a call failed\n");
        return 1;
    }
    if (query_foreign(&r) == CUDA_SUCCESS)
        fprintf(stderr, "attrib_sites: the foreign handle was accepted\n");
    printf("attrib_sites %s %d done\n", route, tests);
    return 0;
}

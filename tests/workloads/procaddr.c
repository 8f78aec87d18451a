/*
 * procaddr.c — the "procaddr" route workload, the way cuda-bindings loads
 * the driver: dlopen("libcuda.so.1"), dlsym of "cuGetProcAddress_v2" only,
 * then every function through it by base name. With --per-thread the flag
 * CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM selects the _ptsz/_ptds
 * variants, so stream handle 0 is the per-thread default stream.
 *
 * Must never: dlsym anything but cuGetProcAddress_v2.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "tests/workloads/lifecycle.h"

int main(int argc, char **argv)
{
    cuuint64_t flags = CU_GET_PROC_ADDRESS_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--per-thread") == 0) {
            flags = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
        } else {
            fprintf(stderr, "usage: procaddr [--per-thread]\n");
            return 1;
        }
    }
    void *driver = dlopen("libcuda.so.1", RTLD_NOW);
    if (driver == NULL) {
        fprintf(stderr, "procaddr: cannot load libcuda.so.1: %s\n", dlerror());
        return 1;
    }
    PFN_cuGetProcAddress_v12000 get_proc_address;
    *(void **)&get_proc_address = dlsym(driver, "cuGetProcAddress_v2");
    if (get_proc_address == NULL) {
        fprintf(stderr, "procaddr: libcuda.so.1 has no cuGetProcAddress_v2\n");
        return 1;
    }
    struct driver_api api = {0};
    for (size_t i = 0; i < driver_api_entry_count; i++) {
        const struct driver_api_entry *entry = &driver_api_entries[i];
        void *pfn = NULL;
        CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
        CUresult r = get_proc_address(entry->name, &pfn, entry->version, flags, &status);
        if (r != CUDA_SUCCESS || pfn == NULL || status != CU_GET_PROC_ADDRESS_SUCCESS) {
            fprintf(stderr, "procaddr: cuGetProcAddress_v2(%s) gave result %d, status %d\n",
                    entry->name, (int)r, (int)status);
            return 1;
        }
        driver_api_set(&api, entry, pfn);
    }
    return lifecycle_run(&api, flags == CU_GET_PROC_ADDRESS_DEFAULT ? "procaddr"
                                                                    : "procaddr --per-thread");
}

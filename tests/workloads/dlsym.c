/*
 * dlsym.c — the "dlsym" route workload: dlopen("libcuda.so.1"), then one
 * dlsym per driver function by its exported symbol name (what ctypes and
 * older runtimes do), then the lifecycle scenario. Not linked to libcuda.
 *
 * Must never: call a driver function by name or through cuGetProcAddress.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "tests/workloads/lifecycle.h"

int main(void)
{
    void *driver = dlopen("libcuda.so.1", RTLD_NOW);
    if (driver == NULL) {
        fprintf(stderr, "dlsym: cannot load libcuda.so.1: %s\n", dlerror());
        return 1;
    }
    struct driver_api api = {0};
    for (size_t i = 0; i < driver_api_entry_count; i++) {
        const struct driver_api_entry *entry = &driver_api_entries[i];
        void *pfn = dlsym(driver, entry->symbol);
        if (pfn == NULL) {
            fprintf(stderr, "dlsym: libcuda.so.1 has no %s\n", entry->symbol);
            return 1;
        }
        driver_api_set(&api, entry, pfn);
    }
    return lifecycle_run(&api, "dlsym");
}

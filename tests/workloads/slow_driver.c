/*
 * slow_driver.c — a stand-in "driver" library that takes long to load: the
 * driver of tests/e2e/78_fork_driver_load.sh (built as slow_driver.so).
 *
 * What it is for: keeping a thread inside the shim's driver load (dlopen of
 * CUGUARD_LIBCUDA, under the shim's driver lock) for a while. Its
 * constructor writes one byte to the descriptor named by SLOW_DRIVER_FD (so
 * the program knows the load has begun), then sleeps SLOW_DRIVER_MS
 * milliseconds (default 2000). It exports cuEventQuery only (success).
 *
 * What it must never do: do anything else a real driver does; it is loaded
 * only by that test.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__attribute__((constructor)) static void slow_load(void)
{
    const char *fd = getenv("SLOW_DRIVER_FD");
    const char *ms = getenv("SLOW_DRIVER_MS");
    long wait_ms = ms != NULL ? atol(ms) : 2000;
    if (fd != NULL) {
        char byte = 'L';
        if (write(atoi(fd), &byte, 1) != 1)
            return;
    }
    struct timespec ts = {wait_ms / 1000, (wait_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

int cuEventQuery(void *event);

int cuEventQuery(void *event)
{
    (void)event;
    return 0;
}

/*
 * common.c — output, data pattern, checksum, time and option helpers of the
 * workloads (see common.h).
 *
 * Must never: call CUDA or print anything but whole lines.
 */
#include "tests/workloads/common.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t output_lock = PTHREAD_MUTEX_INITIALIZER;

void wl_print(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    pthread_mutex_lock(&output_lock);
    vprintf(format, args);
    fflush(stdout);
    pthread_mutex_unlock(&output_lock);
    va_end(args);
}

/* The calling thread's name (as set by pthread_setname_np). */
static void thread_name(char *name, size_t size)
{
    if (pthread_getname_np(pthread_self(), name, size) != 0 || name[0] == '\0') {
        snprintf(name, size, "?");
    }
}

void wl_call(const char *api, const void *handle, uintptr_t arg, uintptr_t arg2, int result)
{
    char name[32];
    thread_name(name, sizeof name);
    wl_print("call %s handle=%#jx arg=%#jx arg2=%#jx result=%d thread=%s\n", api,
             (uintmax_t)(uintptr_t)handle, (uintmax_t)arg, (uintmax_t)arg2, result, name);
}

void wl_spin(const char *api, const void *handle, unsigned long count)
{
    if (count == 0) {
        return;
    }
    char name[32];
    thread_name(name, sizeof name);
    wl_print("spin %s handle=%#jx count=%lu thread=%s\n", api, (uintmax_t)(uintptr_t)handle, count,
             name);
}

uint32_t wl_pattern(unsigned round, unsigned item, unsigned word)
{
    /* A cheap integer mix (splitmix-like) so neighbouring words differ. */
    uint64_t x = ((uint64_t)round << 42) ^ ((uint64_t)item << 21) ^ word;
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)(x ^ (x >> 31));
}

uint64_t wl_fnv1a(uint64_t hash, const void *data, size_t n)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < n; i++) {
        hash ^= bytes[i];
        hash *= 0x100000001b3ull;
    }
    return hash;
}

void wl_sleep_us(unsigned long us)
{
    struct timespec left = {.tv_sec = (time_t)(us / 1000000),
                            .tv_nsec = (long)(us % 1000000) * 1000};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

double wl_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

bool wl_option_uint(const char *arg, const char *name, unsigned min, unsigned max, unsigned *value)
{
    size_t length = strlen(name);
    if (strncmp(arg, name, length) != 0 || arg[length] != '=') {
        return false;
    }
    const char *text = arg + length + 1;
    char *end = NULL;
    errno = 0;
    unsigned long parsed = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || parsed < min ||
        parsed > max) {
        wl_fail("%s wants a whole number from %u to %u, got '%s'", name, min, max, text);
    }
    *value = (unsigned)parsed;
    return true;
}

void wl_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fflush(stdout);
    fprintf(stderr, "%s: ", program_invocation_short_name);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(1);
}

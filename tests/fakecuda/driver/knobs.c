/*
 * knobs.c — the simulator's test knobs, read once from the environment:
 *   FAKECUDA_DELAY_US=N         every enqueued operation takes N µs longer
 *   FAKECUDA_STALL_STREAM=K     the K-th created stream (1-based) never runs
 *   FAKECUDA_MEMORY_MB=N        the device has N MiB of memory (default 16 GiB);
 *                               clients' own suites size allocations from it
 *   FAKECUDA_FAIL=cuName:code:nth[,...]  the nth call of cuName returns code
 *                               (cuStreamCallbackStatus: the status the nth
 *                               stream callback receives)
 * A bad value gets one warning line on stderr and is ignored.
 *
 * Must never: abort or exit on a bad value, or read the environment again
 * after the first use.
 */
#include "tests/fakecuda/driver/fakecuda.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAIL_SPECS 16
#define MAX_API_NAME 64

struct fail_spec {
    char api[MAX_API_NAME];
    CUresult code;
    unsigned long nth;
    atomic_ulong calls;
};

static pthread_once_t knobs_once = PTHREAD_ONCE_INIT;
static unsigned delay_us;
static unsigned stall_stream;
static unsigned memory_mb;
static struct fail_spec fail_specs[MAX_FAIL_SPECS];
static size_t fail_spec_count;

static void warn_ignored(const char *knob, const char *value, const char *expected)
{
    fprintf(stderr, "fakecuda: ignoring %s='%s': expected %s\n", knob, value, expected);
}

static bool parse_unsigned(const char *text, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    if (text[0] < '0' || text[0] > '9')
        return false;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value > max)
        return false;
    *out = value;
    return true;
}

static void read_unsigned_knob(const char *knob, unsigned *out)
{
    const char *value = getenv(knob);
    unsigned long parsed = 0;
    if (value == NULL || value[0] == '\0')
        return;
    if (!parse_unsigned(value, 100000000UL, &parsed)) {
        warn_ignored(knob, value, "a non-negative integer");
        return;
    }
    *out = (unsigned)parsed;
}

/* Strips variant suffixes so "cuEventDestroy_v2" names cuEventDestroy. */
static void base_api_name(const char *name, char *out, size_t out_size)
{
    static const char *const suffixes[] = {"_ptsz", "_ptds", "_v2", "_v3", "_v4"};
    snprintf(out, out_size, "%s", name);
    bool stripped = true;
    while (stripped) {
        stripped = false;
        size_t len = strlen(out);
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            size_t slen = strlen(suffixes[i]);
            if (len > slen && strcmp(out + len - slen, suffixes[i]) == 0) {
                out[len - slen] = '\0';
                stripped = true;
                break;
            }
        }
    }
}

/* One "cuName:code:nth" item; false when malformed. */
static bool parse_fail_spec(char *item, struct fail_spec *spec)
{
    char *first = strchr(item, ':');
    char *second = first ? strchr(first + 1, ':') : NULL;
    unsigned long nth = 0;
    if (first == NULL || second == NULL || first == item)
        return false;
    *first = '\0';
    *second = '\0';
    if (strncmp(item, "cu", 2) != 0 || strlen(item) >= MAX_API_NAME)
        return false;
    if (!fc_error_parse(first + 1, &spec->code))
        return false;
    if (!parse_unsigned(second + 1, 1000000000UL, &nth) || nth == 0)
        return false;
    base_api_name(item, spec->api, sizeof spec->api);
    spec->nth = nth;
    atomic_init(&spec->calls, 0);
    return true;
}

static void read_fail_knob(void)
{
    const char *value = getenv("FAKECUDA_FAIL");
    if (value == NULL || value[0] == '\0')
        return;
    char *copy = strdup(value);
    if (copy == NULL)
        return;
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        char original[160];
        snprintf(original, sizeof original, "%s", item);
        if (fail_spec_count == MAX_FAIL_SPECS) {
            warn_ignored("FAKECUDA_FAIL", original, "at most 16 specifications");
            break;
        }
        if (parse_fail_spec(item, &fail_specs[fail_spec_count]))
            fail_spec_count++;
        else
            warn_ignored("FAKECUDA_FAIL", original, "cuName:code:nth (nth counts from 1)");
    }
    free(copy);
}

static void read_knobs(void)
{
    read_unsigned_knob("FAKECUDA_DELAY_US", &delay_us);
    read_unsigned_knob("FAKECUDA_STALL_STREAM", &stall_stream);
    read_unsigned_knob("FAKECUDA_MEMORY_MB", &memory_mb);
    read_fail_knob();
}

unsigned fc_knob_delay_us(void)
{
    pthread_once(&knobs_once, read_knobs);
    return delay_us;
}

unsigned fc_knob_stall_stream(void)
{
    pthread_once(&knobs_once, read_knobs);
    return stall_stream;
}

CUresult fc_injected_failure(const char *api)
{
    pthread_once(&knobs_once, read_knobs);
    for (size_t i = 0; i < fail_spec_count; i++) {
        struct fail_spec *spec = &fail_specs[i];
        if (strcmp(spec->api, api) != 0)
            continue;
        unsigned long call = atomic_fetch_add(&spec->calls, 1) + 1;
        if (call == spec->nth)
            return spec->code;
    }
    return CUDA_SUCCESS;
}

size_t fc_knob_total_memory(void)
{
    pthread_once(&knobs_once, read_knobs);
    return memory_mb > 0 ? (size_t)memory_mb << 20 : FC_DEFAULT_TOTAL_MEMORY;
}

/*
 * analysis/base/api_ops.c — map traced API symbol names to replay operations.
 *
 * What it is for: strips the variant suffixes a driver symbol can carry and
 * looks the base name up in one table.
 *
 * What it must never do: read past the given name or match by prefix (a
 * cuEventRecordWithFlags is not a cuEventRecord by accident of spelling:
 * both are listed).
 */
#include "analysis/base/api_ops.h"

#include <stdio.h>
#include <string.h>

struct op_name {
    const char *name;
    enum api_op op;
};

static const struct op_name op_names[] = {
    {"cuEventCreate", OP_EVENT_CREATE},
    {"cuEventRecord", OP_EVENT_RECORD},
    {"cuEventRecordWithFlags", OP_EVENT_RECORD},
    {"cuEventQuery", OP_EVENT_QUERY},
    {"cuEventSynchronize", OP_EVENT_SYNC},
    {"cuEventDestroy", OP_EVENT_DESTROY},
    {"cuEventElapsedTime", OP_EVENT_ELAPSED},
    {"cuStreamCreate", OP_STREAM_CREATE},
    {"cuStreamCreateWithPriority", OP_STREAM_CREATE},
    {"cuStreamDestroy", OP_STREAM_DESTROY},
    {"cuStreamSynchronize", OP_STREAM_SYNC},
    {"cuStreamQuery", OP_STREAM_QUERY},
    {"cuStreamWaitEvent", OP_STREAM_WAIT_EVENT},
    {"cuCtxSynchronize", OP_CTX_SYNC},
    {"cuMemAllocHost", OP_PINNED_ALLOC},
    {"cuMemHostAlloc", OP_PINNED_ALLOC},
    {"cuMemFreeHost", OP_PINNED_FREE},
    {"cuMemHostRegister", OP_HOST_REGISTER},
    {"cuMemHostUnregister", OP_HOST_UNREGISTER},
    {"cuMemcpyAsync", OP_STREAM_WORK},
    {"cuMemcpyHtoDAsync", OP_STREAM_WORK},
    {"cuMemcpyDtoHAsync", OP_STREAM_WORK},
    {"cuMemcpyDtoDAsync", OP_STREAM_WORK},
    {"cuLaunchKernel", OP_STREAM_WORK},
    {"cuLaunchHostFunc", OP_STREAM_WORK},
    {"cuStreamAddCallback", OP_STREAM_WORK},
    {"cuCtxCreate", OP_CTX_CREATE},
    {"cuCtxDestroy", OP_CTX_DESTROY},
    {"cuDevicePrimaryCtxReset", OP_CTX_RESET},
};

static const char *const op_labels[OP_COUNT] = {
    [OP_OTHER] = "other call",
    [OP_EVENT_CREATE] = "event create",
    [OP_EVENT_RECORD] = "event record",
    [OP_EVENT_QUERY] = "event query",
    [OP_EVENT_SYNC] = "event synchronize",
    [OP_EVENT_DESTROY] = "event destroy",
    [OP_EVENT_ELAPSED] = "event elapsed time",
    [OP_STREAM_CREATE] = "stream create",
    [OP_STREAM_DESTROY] = "stream destroy",
    [OP_STREAM_SYNC] = "stream synchronize",
    [OP_STREAM_QUERY] = "stream query",
    [OP_STREAM_WAIT_EVENT] = "stream wait event",
    [OP_CTX_SYNC] = "context synchronize",
    [OP_PINNED_ALLOC] = "pinned allocation",
    [OP_PINNED_FREE] = "pinned free",
    [OP_HOST_REGISTER] = "host register",
    [OP_HOST_UNREGISTER] = "host unregister",
    [OP_STREAM_WORK] = "stream work",
    [OP_CTX_CREATE] = "context create",
    [OP_CTX_DESTROY] = "context destroy",
    [OP_CTX_RESET] = "primary context reset",
};

/* Remove `suffix` from the end of buf[0..*n) when present. */
static int strip_suffix(char *buf, size_t *n, const char *suffix)
{
    size_t k = strlen(suffix);
    if (*n <= k || memcmp(buf + *n - k, suffix, k) != 0)
        return 0;
    *n -= k;
    buf[*n] = '\0';
    return 1;
}

/* Remove a trailing "_v<digits>". */
static void strip_version(char *buf, size_t *n)
{
    size_t i = *n;
    while (i > 0 && buf[i - 1] >= '0' && buf[i - 1] <= '9')
        i--;
    if (i == *n || i < 3 || buf[i - 1] != 'v' || buf[i - 2] != '_')
        return;
    *n = i - 2;
    buf[*n] = '\0';
}

void api_base_name(const char *name, char *buf, size_t len)
{
    if (len == 0)
        return;
    snprintf(buf, len, "%s", name ? name : "");
    size_t n = strlen(buf);
    if (!strip_suffix(buf, &n, "_ptsz"))
        strip_suffix(buf, &n, "_ptds");
    strip_version(buf, &n);
}

enum api_op api_op_of_name(const char *name)
{
    char base[128];
    if (!name)
        return OP_OTHER;
    api_base_name(name, base, sizeof base);
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        if (!strcmp(base, op_names[i].name))
            return op_names[i].op;
    return OP_OTHER;
}

const char *api_op_label(enum api_op op)
{
    if ((unsigned)op >= OP_COUNT)
        return "call";
    return op_labels[op];
}

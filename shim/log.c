/*
 * shim/log.c — format one message line and write it to stderr.
 *
 * What it is for: the implementation of shim/log.h: a stack buffer and one
 * write(2), safe from any thread and from fork/atexit handlers.
 *
 * What it must never do: use stdio (its locks may be held by the host
 * program), allocate, or fail loudly: a message that cannot be written is
 * dropped.
 */
#include "shim/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int cg_log_level = CG_LOG_WARN;

void cg_log(int level, const char *fmt, ...)
{
    if (level > __atomic_load_n(&cg_log_level, __ATOMIC_RELAXED))
        return;
    char line[1024];
    int n = snprintf(line, sizeof line, "cuguard: ");
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        return;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(2, line, len);
    (void)w;
}

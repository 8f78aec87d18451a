/*
 * analysis/base/signal_names.c — signal numbers to their names (see signal_names.h).
 *
 * What it is for: one table of the Linux x86-64/aarch64 signal numbers a
 * process can die of inside a driver call, and the common others.
 *
 * What it must never do: read past the table for any number.
 */
#include "analysis/base/signal_names.h"

#include <stdio.h>

struct signal_entry {
    int signo;
    const char *name;
};

static const struct signal_entry signals[] = {
    {1, "SIGHUP"},   {2, "SIGINT"},   {3, "SIGQUIT"},  {4, "SIGILL"},
    {5, "SIGTRAP"},  {6, "SIGABRT"},  {7, "SIGBUS"},   {8, "SIGFPE"},
    {9, "SIGKILL"},  {10, "SIGUSR1"}, {11, "SIGSEGV"}, {12, "SIGUSR2"},
    {13, "SIGPIPE"}, {14, "SIGALRM"}, {15, "SIGTERM"}, {31, "SIGSYS"},
};

const char *signal_name(int signo, char *buf, size_t len)
{
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (signals[i].signo == signo)
            return signals[i].name;
    snprintf(buf, len, "signal %d", signo);
    return buf;
}

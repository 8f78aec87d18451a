/*
 * analysis/cli/main.c — `cuguard`: dispatch to a subcommand.
 *
 * What it is for: the command table and the top-level --help.
 * What it must never do: implement a command; each lives in its own file.
 */
#include <stdio.h>
#include <string.h>

#include "analysis/cli/commands.h"
#include "tracer/version.h"

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run a command with libcuguard.so preloaded, tracing into a directory"},
    {"report", cmd_report, "read traces and report leaks, misuse, races and hangs"},
    {"export", cmd_export, "convert traces to a Perfetto / Chrome trace-event timeline"},
    {"dump", cmd_dump, "print every record of trace files, one line each"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: cuguard COMMAND [OPTIONS] ...\n"
                 "       cuguard --version\n\n"
                 "Find CUDA event, stream and pinned-memory lifecycle bugs.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'cuguard COMMAND --help' describes each command's options.\n"
                 "Environment variables (CUGUARD_*) are listed by 'cuguard run --help'.\n"
                 "\nWhat cuguard promises the program it watches (docs/guarantees.md): its trace\n"
                 "descriptor sits high, close-on-exec, and is checked before each use, so the\n"
                 "program's own descriptors are never read, written or closed; a fault is handed\n"
                 "to the program's handler as the kernel would; fork children cost O(1) and write\n"
                 "their own trace; traces are 0600; if tracing must stop (disk full, descriptor\n"
                 "lost, file truncated) the program runs on and the report says 'trace cut\n"
                 "short'. It cannot make a driver call or host function that never returns\n"
                 "return.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("cuguard " CUGUARD_VERSION "\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "cuguard: unknown command '%s' (try 'cuguard --help')\n", argv[1]);
    return 2;
}

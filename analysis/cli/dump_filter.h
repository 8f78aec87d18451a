/*
 * analysis/cli/dump_filter.h — which records `cuguard dump` prints.
 *
 * What it is for: the options --pid, --tid, --handle, --kind, --api,
 * --since, --until and --strings, parsed into one struct, and the one
 * predicate that says whether a record is shown.
 *
 * What it must never do: print records (analysis/cli/cmd_dump.c does), or keep
 * state between records (the caller decides what an args record follows).
 */
#ifndef CUGUARD_ANALYSIS_DUMP_FILTER_H
#define CUGUARD_ANALYSIS_DUMP_FILTER_H

#include <stdint.h>
#include <stdio.h>

#include "tracer/format.h"

struct dump_filter {
    const char *const *kind_names; /* set by the caller: names of kinds 0..CG_REC_KIND_MAX */
    int has_pid, has_tid, has_handle, has_since, has_until;
    uint32_t pid, tid;
    uint64_t handle;
    uint64_t since_ns, until_ns;              /* since the trace started */
    unsigned char kinds[CG_REC_KIND_MAX + 1]; /* all 0 = every kind */
    const char *apis;                         /* comma list, NULL = every API */
    int strings;                              /* show CG_REC_STRING records */
};

/* argv[*i] is an option: if it is one of the filter's, consume it (and its
 * value), set *f and return 1; return 0 if it is not a filter option; -1
 * after one message on `err` for a bad value. */
int dump_filter_option(struct dump_filter *f, int argc, char **argv, int *i, FILE *err);

/* A whole file is skipped when --pid names another process. */
int dump_filter_keeps_pid(const struct dump_filter *f, uint32_t pid);

/* Whether record `r` of a trace starting at `start_ns` is printed;
 * `api_name` is its API's name from the header table. */
int dump_filter_keeps(const struct dump_filter *f, const struct cg_record *r, const char *api_name,
                      uint64_t start_ns);

/* The options' lines of `cuguard dump --help`. */
extern const char dump_filter_help[];

#endif

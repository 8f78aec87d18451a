/*
 * analysis/cli/policy_names.h — the names CUGUARD_POLICY spells the
 * policies with, beside the trace header's bit for each.
 *
 * What it is for: one table for the commands that read or print a policy
 * list (`cuguard run --policy` checks one; `cuguard dump` prints the
 * header's). The library parses the variable itself (shim/config.c) with
 * the same names, tracer/format.h's bits.
 *
 * What it must never do: print, or read anything but its arguments.
 */
#ifndef CUGUARD_ANALYSIS_CLI_POLICY_NAMES_H
#define CUGUARD_ANALYSIS_CLI_POLICY_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define CLI_POLICY_COUNT 4

struct cli_policy {
    const char *name;
    uint32_t header_bit; /* enum cg_header_policies */
};

extern const struct cli_policy cli_policies[CLI_POLICY_COUNT];

/* Is every comma-separated name of `list` a policy (and the list not empty)? */
int cli_policy_list_valid(const char *list);

/* A header's `policies` as "none", "isolate,destroy" (the table's order), or
 * "?" when the header does not say. */
void cli_policy_list_text(uint32_t policies, char *out, size_t len);

#endif

/*
 * analysis/cli/policy_names.c — the policy names and the header's bits.
 *
 * What it is for: the implementation of analysis/cli/policy_names.h.
 *
 * What it must never do: print, or write past `out`.
 */
#include "analysis/cli/policy_names.h"

#include <stdio.h>
#include <string.h>

#include "tracer/format.h"

const struct cli_policy cli_policies[CLI_POLICY_COUNT] = {
    {"ownership", CG_HDR_POLICY_OWNERSHIP},
    {"isolate", CG_HDR_POLICY_ISOLATE},
    {"destroy", CG_HDR_POLICY_DESTROY},
    {"sync-query", CG_HDR_POLICY_SYNC_QUERY},
};

static int known_name(const char *s, size_t len)
{
    for (size_t i = 0; i < CLI_POLICY_COUNT; i++)
        if (strlen(cli_policies[i].name) == len && !strncmp(s, cli_policies[i].name, len))
            return 1;
    return 0;
}

int cli_policy_list_valid(const char *list)
{
    if (!*list)
        return 0;
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        if (!known_name(p, len))
            return 0;
        if (p[len] == '\0')
            return 1;
        p += len + 1;
    }
}

void cli_policy_list_text(uint32_t policies, char *out, size_t len)
{
    snprintf(out, len, "%s", policies & CG_HDR_POLICIES_KNOWN ? "none" : "?");
    if (!(policies & CG_HDR_POLICIES_KNOWN))
        return;
    size_t used = 0;
    for (size_t i = 0; i < CLI_POLICY_COUNT; i++) {
        if (!(policies & cli_policies[i].header_bit))
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", cli_policies[i].name);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

/*
 * analysis/cli/fail_gate.c — name the findings --fail-on matched
 * (analysis/cli/fail_gate.h).
 *
 * What it is for: most severe first (the order of findings_sorted), so the
 * capped list keeps the ones that matter.
 *
 * What it must never do: change a finding.
 */
#include "analysis/cli/fail_gate.h"

#include <inttypes.h>
#include <stdlib.h>

static void print_match(FILE *out, const char *prog, const struct finding *f)
{
    fprintf(out, "%s: --fail-on matched: %s %s", prog,
            severity_name(finding_kind_severity(f->kind)), finding_kind_name(f->kind));
    if (f->count > 1)
        fprintf(out, " x%" PRIu64, f->count);
    if (f->site)
        fprintf(out, " at %s", f->site);
    if (f->ntasks > 1)
        fprintf(out, " (%zu tasks)", f->ntasks);
    fputc('\n', out);
}

size_t fail_gate_report(FILE *out, const char *prog, const struct finding_set *set,
                        const unsigned char mask[FK_COUNT])
{
    struct finding **list = findings_sorted(set);
    size_t matched = 0;
    for (size_t i = 0; list && list[i]; i++) {
        const struct finding *f = list[i];
        if (f->suppressed || !mask[f->kind])
            continue;
        if (out && matched < FAIL_GATE_MAX_LINES)
            print_match(out, prog, f);
        matched++;
    }
    if (out && matched > FAIL_GATE_MAX_LINES)
        fprintf(out, "%s: --fail-on matched ... %zu more\n", prog, matched - FAIL_GATE_MAX_LINES);
    free(list);
    return matched;
}

/*
 * analysis/output/report_json_stack.h — a finding's stack, fingerprint and
 * grouped occurrences as JSON keys (inside the finding's object).
 *
 * What it is for: keeping the attribution keys of the JSON report in one
 * place (analysis/output/report_json.c calls it once per finding).
 *
 * What it must never do: open or close the finding's object.
 */
#ifndef CUGUARD_ANALYSIS_REPORT_JSON_STACK_H
#define CUGUARD_ANALYSIS_REPORT_JSON_STACK_H

#include "analysis/base/findings.h"
#include "analysis/base/json_writer.h"

void report_json_attribution(struct json_writer *w, const struct finding *f);

#endif

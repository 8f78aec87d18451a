/*
 * analysis/base/text_safe.h — make trace strings safe to print.
 *
 * What it is for: strings in a trace (thread names, tasks, sites, argv) are
 * whatever the traced program had; a report must not send control bytes or
 * broken UTF-8 to a terminal or into a JSON document.
 *
 * What it must never do: lengthen a string (the fix is in place).
 */
#ifndef CUGUARD_ANALYSIS_TEXT_SAFE_H
#define CUGUARD_ANALYSIS_TEXT_SAFE_H

/* Length (1..4) of the valid UTF-8 sequence at s, 0 if s starts an invalid
 * one. s must be NUL-terminated (a NUL ends any sequence early). */
int utf8_sequence_length(const unsigned char *s);

/* In place: control characters and bytes that are not valid UTF-8 become '?'. */
void text_make_printable(char *s);

#endif

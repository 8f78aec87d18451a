/*
 * analysis/base/text_safe.c — UTF-8 validation and printable text.
 *
 * What it is for: see text_safe.h.
 * What it must never do: read past the terminating NUL.
 */
#include "analysis/base/text_safe.h"

int utf8_sequence_length(const unsigned char *s)
{
    unsigned c = s[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        min = 0x10000;
    } else {
        return 0;
    }
    unsigned cp = c & (0x3Fu >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

void text_make_printable(char *text)
{
    unsigned char *s = (unsigned char *)text;
    while (*s) {
        if (*s < 0x20 || *s == 0x7F) {
            *s++ = '?';
            continue;
        }
        int n = utf8_sequence_length(s);
        if (n == 0)
            *s++ = '?';
        else
            s += n;
    }
}

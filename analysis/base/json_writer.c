/*
 * analysis/base/json_writer.c — streaming JSON output with correct escaping.
 *
 * What it is for: see json_writer.h.
 * What it must never do: write a byte sequence that is not valid UTF-8 JSON,
 * whatever bytes a trace string holds.
 */
#include "analysis/base/json_writer.h"

#include <inttypes.h>
#include <math.h>

#include "analysis/base/text_safe.h"

void json_init(struct json_writer *w, FILE *out, int pretty_depth)
{
    w->out = out;
    w->depth = 0;
    w->pretty_depth = pretty_depth;
    w->after_key = 0;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        w->has_items[i] = 0;
}

static void newline_indent(struct json_writer *w, int depth)
{
    fputc('\n', w->out);
    for (int i = 0; i < depth; i++)
        fputs("  ", w->out);
}

/* Separator and indentation before a value or key at the current level. */
static void before_item(struct json_writer *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->has_items[w->depth])
        fputc(',', w->out);
    if (w->depth > 0 && w->depth <= w->pretty_depth)
        newline_indent(w, w->depth);
    if (w->depth < JSON_MAX_DEPTH)
        w->has_items[w->depth] = 1;
}

static void begin(struct json_writer *w, char c)
{
    before_item(w);
    fputc(c, w->out);
    if (w->depth + 1 < JSON_MAX_DEPTH) {
        w->depth++;
        w->has_items[w->depth] = 0;
    }
}

static void end(struct json_writer *w, char c)
{
    int had = w->depth < JSON_MAX_DEPTH && w->has_items[w->depth];
    if (w->depth > 0)
        w->depth--;
    if (had && w->depth + 1 <= w->pretty_depth)
        newline_indent(w, w->depth);
    fputc(c, w->out);
    if (w->depth == 0)
        fputc('\n', w->out);
}

void json_begin_object(struct json_writer *w)
{
    begin(w, '{');
}

void json_end_object(struct json_writer *w)
{
    end(w, '}');
}

void json_begin_array(struct json_writer *w)
{
    begin(w, '[');
}

void json_end_array(struct json_writer *w)
{
    end(w, ']');
}

static void write_control(FILE *out, unsigned char c)
{
    switch (c) {
    case '\n':
        fputs("\\n", out);
        break;
    case '\r':
        fputs("\\r", out);
        break;
    case '\t':
        fputs("\\t", out);
        break;
    case '\b':
        fputs("\\b", out);
        break;
    case '\f':
        fputs("\\f", out);
        break;
    default:
        fprintf(out, "\\u%04x", c);
    }
}

void json_write_escaped(FILE *out, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        if (*s == '"' || *s == '\\') {
            fputc('\\', out);
            fputc(*s++, out);
        } else if (*s < 0x20 || *s == 0x7F) {
            write_control(out, *s++);
        } else {
            int n = utf8_sequence_length(s);
            if (n == 0) {
                fputs("\\ufffd", out);
                s++;
            } else {
                fwrite(s, 1, (size_t)n, out);
                s += n;
            }
        }
    }
}

void json_key(struct json_writer *w, const char *key)
{
    before_item(w);
    fputc('"', w->out);
    json_write_escaped(w->out, key);
    fputs(w->depth <= w->pretty_depth ? "\": " : "\":", w->out);
    w->after_key = 1;
}

void json_string(struct json_writer *w, const char *s)
{
    if (!s) {
        json_null(w);
        return;
    }
    before_item(w);
    fputc('"', w->out);
    json_write_escaped(w->out, s);
    fputc('"', w->out);
}

void json_uint(struct json_writer *w, uint64_t v)
{
    before_item(w);
    fprintf(w->out, "%" PRIu64, v);
}

void json_int(struct json_writer *w, int64_t v)
{
    before_item(w);
    fprintf(w->out, "%" PRId64, v);
}

void json_double(struct json_writer *w, double v)
{
    if (!isfinite(v)) {
        json_null(w);
        return;
    }
    before_item(w);
    fprintf(w->out, "%.3f", v);
}

void json_bool(struct json_writer *w, int v)
{
    before_item(w);
    fputs(v ? "true" : "false", w->out);
}

void json_null(struct json_writer *w)
{
    before_item(w);
    fputs("null", w->out);
}

void json_hex(struct json_writer *w, uint64_t v)
{
    before_item(w);
    fprintf(w->out, "\"0x%" PRIx64 "\"", v);
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
    json_key(w, key);
    json_string(w, s);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
    json_key(w, key);
    json_uint(w, v);
}

void json_kv_int(struct json_writer *w, const char *key, int64_t v)
{
    json_key(w, key);
    json_int(w, v);
}

void json_kv_double(struct json_writer *w, const char *key, double v)
{
    json_key(w, key);
    json_double(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, int v)
{
    json_key(w, key);
    json_bool(w, v);
}

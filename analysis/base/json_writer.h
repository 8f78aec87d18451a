/*
 * analysis/base/json_writer.h — a small streaming JSON writer.
 *
 * What it is for: the report's JSON and the Perfetto export. It places the
 * commas, escapes strings (control characters, quotes, backslashes; bytes
 * that are not valid UTF-8 become U+FFFD), and indents the first
 * `pretty_depth` levels so big documents stay one element per line.
 *
 * What it must never do: emit invalid JSON for any input string, or buffer
 * the document (it writes through to the FILE as it goes).
 */
#ifndef CUGUARD_ANALYSIS_JSON_WRITER_H
#define CUGUARD_ANALYSIS_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
    FILE *out;
    int depth;
    int pretty_depth;                        /* levels indented one element per line */
    unsigned char has_items[JSON_MAX_DEPTH]; /* a value was written at this level */
    int after_key;                           /* the next value completes a key */
};

void json_init(struct json_writer *w, FILE *out, int pretty_depth);

void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s); /* NULL writes null */
void json_uint(struct json_writer *w, uint64_t v);
void json_int(struct json_writer *w, int64_t v);
void json_double(struct json_writer *w, double v); /* non-finite writes null */
void json_bool(struct json_writer *w, int v);
void json_null(struct json_writer *w);
void json_hex(struct json_writer *w, uint64_t v); /* "0x..." string */

/* key + value shorthands. */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_int(struct json_writer *w, const char *key, int64_t v);
void json_kv_double(struct json_writer *w, const char *key, double v);
void json_kv_bool(struct json_writer *w, const char *key, int v);

/* Write the escaped form of s (without the quotes) to out. */
void json_write_escaped(FILE *out, const char *s);

#endif

/*
 * analysis/output/proto_writer.c — protocol-buffer wire encoding (see proto_writer.h).
 *
 * What it is for: the varint, fixed64 and length-delimited encodings of
 * https://protobuf.dev/programming-guides/encoding/, into growable buffers.
 *
 * What it must never do: write past a buffer, or leave a buffer that claims
 * to be complete after an allocation failed.
 */
#include "analysis/output/proto_writer.h"

#include <stdlib.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2 };

static int reserve(struct pb_buf *b, size_t more)
{
    if (b->failed)
        return -1;
    if (b->len + more <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more)
        cap *= 2;
    unsigned char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = 1;
        return -1;
    }
    b->data = grown;
    b->cap = cap;
    return 0;
}

static void put_varint(struct pb_buf *b, uint64_t v)
{
    if (reserve(b, 10) < 0)
        return;
    while (v >= 0x80) {
        b->data[b->len++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (unsigned char)v;
}

static void put_tag(struct pb_buf *b, uint32_t field, unsigned wire)
{
    put_varint(b, ((uint64_t)field << 3) | wire);
}

static void put_bytes(struct pb_buf *b, const void *data, size_t len)
{
    if (len == 0 || reserve(b, len) < 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void pb_reset(struct pb_buf *b)
{
    b->len = 0;
    b->failed = 0;
}

void pb_free(struct pb_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

void pb_uint(struct pb_buf *b, uint32_t field, uint64_t value)
{
    put_tag(b, field, WIRE_VARINT);
    put_varint(b, value);
}

void pb_int(struct pb_buf *b, uint32_t field, int64_t value)
{
    pb_uint(b, field, (uint64_t)value);
}

void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t value)
{
    unsigned char le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (unsigned char)(value >> (8 * i));
    put_tag(b, field, WIRE_FIXED64);
    put_bytes(b, le, sizeof le);
}

void pb_string(struct pb_buf *b, uint32_t field, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    put_tag(b, field, WIRE_LEN);
    put_varint(b, len);
    put_bytes(b, s, len);
}

void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *inner)
{
    if (inner->failed) {
        b->failed = 1;
        return;
    }
    put_tag(b, field, WIRE_LEN);
    put_varint(b, inner->len);
    put_bytes(b, inner->data, inner->len);
}

int pb_write(FILE *out, const struct pb_buf *b)
{
    if (b->failed)
        return -1;
    return b->len == 0 || fwrite(b->data, 1, b->len, out) == b->len ? 0 : -1;
}

/*
 * analysis/output/proto_writer.h — protocol-buffer wire encoding, by hand.
 *
 * What it is for: `cuguard export --format proto` writes Perfetto's native
 * trace format (a Trace message: repeated TracePacket, field 1) without a
 * protobuf library. A message is built into a pb_buf field by field (varint,
 * fixed64, length-delimited); a nested message is built in its own pb_buf
 * and appended to its parent with pb_message. Field numbers live with the
 * code that writes each message (analysis/output/export_proto.c), next to the
 * .proto names they come from.
 *
 * What it must never do: write a length that does not match the bytes that
 * follow, or abort on allocation failure (a failed buffer stays failed and
 * its message is dropped whole).
 */
#ifndef CUGUARD_ANALYSIS_PROTO_WRITER_H
#define CUGUARD_ANALYSIS_PROTO_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct pb_buf {
    unsigned char *data;
    size_t len, cap;
    int failed; /* an allocation failed: the content is incomplete */
};

/* Empty the buffer, keeping its memory. */
void pb_reset(struct pb_buf *b);
void pb_free(struct pb_buf *b);

/* Wire type 0: an unsigned varint (uint32/64, enums, bools, positive int). */
void pb_uint(struct pb_buf *b, uint32_t field, uint64_t value);
/* Wire type 0, a signed int64/int32 (two's complement, ten bytes when negative). */
void pb_int(struct pb_buf *b, uint32_t field, int64_t value);
/* Wire type 1: fixed64. */
void pb_fixed64(struct pb_buf *b, uint32_t field, uint64_t value);
/* Wire type 2: a string (without its NUL). */
void pb_string(struct pb_buf *b, uint32_t field, const char *s);
/* Wire type 2: the bytes of a nested message built in `inner`. */
void pb_message(struct pb_buf *b, uint32_t field, const struct pb_buf *inner);

/* Write `b` to `out`; returns 0, -1 when it failed or the write did. */
int pb_write(FILE *out, const struct pb_buf *b);

#endif

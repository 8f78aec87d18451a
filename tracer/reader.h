/*
 * tracer/reader.h — read a trace file written by tracer/writer.c.
 *
 * What it is for: the analyzer's and `cuguard dump`'s only view of a trace.
 * Streams records in trace order (slot order up to format version 3, the
 * order of format.h "Batches" from version 4) with memory bounded by the
 * string table and a fixed window, never by trace length.
 *
 * What it must never do: trust the file. Every size, count, offset and
 * string in it is checked; a corrupt, truncated or hostile file yields an
 * error message, never a crash, a hang or an unbounded allocation.
 */
#ifndef CUGUARD_TRACER_READER_H
#define CUGUARD_TRACER_READER_H

#include <stddef.h>
#include <stdint.h>

#include "tracer/format.h"

struct cg_reader;

/* Open a trace file. On failure returns NULL and writes a one-line reason
 * (no trailing newline) into err. */
struct cg_reader *cg_reader_open(const char *path, char *err, size_t errlen);
void cg_reader_close(struct cg_reader *r);

/* Validated header (host, argv strings are NUL-terminated after open). */
const struct cg_file_header *cg_reader_header(const struct cg_reader *r);
const char *cg_reader_path(const struct cg_reader *r);

/* Next valid record in trace order (skips unfinished slots and BATCH
 * records, collects
 * CG_REC_STRING chunks into the string table and returns them too).
 * Returns 1 and fills *out, 0 at end of file. */
int cg_reader_next(struct cg_reader *r, struct cg_record *out);

/* The next run of valid records, handed out by pointer into the reader's
 * buffer instead of copied: sets *first and returns how many records follow
 * it (0 and NULL at end of file). A run ends at an unfinished or corrupt
 * slot, at the end of the buffer (from version 4 also where the next record
 * in trace order is another thread's), and just after a CG_REC_STRING record, so a string
 * becomes known (cg_reader_string) only once its last chunk has been handed
 * out, exactly as with cg_reader_next. The records stay valid until the next
 * call of cg_reader_next_batch, cg_reader_next, cg_reader_rewind or
 * cg_reader_close. Mixing it with cg_reader_next is fine. */
size_t cg_reader_next_batch(struct cg_reader *r, const struct cg_record **first);

/* Rewind to the first record (string table is kept). */
void cg_reader_rewind(struct cg_reader *r);

/* Interned string by id, or NULL if unknown / incomplete. */
const char *cg_reader_string(const struct cg_reader *r, uint32_t id);

/* API name of an api id from the header table, or "?" when out of range. */
const char *cg_reader_api_name(const struct cg_reader *r, uint16_t api);
uint32_t cg_reader_api_count(const struct cg_reader *r);

/* Number of valid records returned so far. */
uint64_t cg_reader_records(const struct cg_reader *r);

/* Records skipped as corrupt (kind > CG_REC_KIND_MAX) so far. */
uint64_t cg_reader_bad_records(const struct cg_reader *r);

/* CG_REC_STRING chunks ignored (duplicate, out of order, too long, or over
 * the reader's 64 MiB string budget). */
uint64_t cg_reader_bad_string_chunks(const struct cg_reader *r);

/* argv of the traced process, joined with spaces (truncated to fit). */
void cg_reader_argv(const struct cg_reader *r, char *buf, size_t len);

#endif

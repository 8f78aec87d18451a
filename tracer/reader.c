/*
 * tracer/reader.c — read a trace file written by tracer/writer.c.
 *
 * What it is for: the implementation of tracer/reader.h. Records are read
 * with pread in fixed chunks (the file may still be growing, or be
 * truncated), so memory is the chunk buffer plus the string table, which is
 * bounded by READER_STRINGS_MAX bytes whatever the file says.
 *
 * From version 4 records come out in the order of format.h "Batches": a
 * window of CG_MERGE_WINDOW slots merged per thread (tracer/merge.h, which
 * reads slots through merge_read and hands runs out by pointer), so memory
 * stays flat however long the trace.
 *
 * What it must never do: trust a size, count, offset or string in the file;
 * mmap it; allocate in proportion to its length; crash, hang or abort on
 * any input. A bad header is one error message; a bad record is skipped and
 * counted.
 */
#include "tracer/reader.h"
#include "tracer/merge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uthash.h>

#define READER_CHUNK_RECORDS 1024u
#define READER_STRING_MAX 65536u       /* longest string kept */
#define READER_STRINGS_MAX (64u << 20) /* all strings of one file, bytes */

struct string_entry {
    uint32_t id;
    uint32_t len;
    int complete;
    char *text;
    UT_hash_handle hh;
};

struct cg_reader {
    int fd;
    char *path;
    struct cg_file_header header;
    const char *api_names[CG_API_NAMES_MAX / 2 + 1];
    uint32_t api_count;
    struct cg_record buf[READER_CHUNK_RECORDS];
    uint32_t buf_len;   /* records in buf */
    uint32_t buf_pos;   /* next record in buf */
    uint64_t next_slot; /* slot number of buf[buf_len] */
    uint64_t slot_end;  /* no record lies at or past this slot (slot_bound) */
    uint64_t records;   /* valid records returned since open/rewind */
    uint64_t bad_records;
    uint64_t bad_chunks;
    struct string_entry *strings;
    size_t string_bytes;             /* memory charged to the string table */
    struct cg_merge *merge;          /* version 4: hands records out in the order of "Batches" */
    const struct cg_record *pending; /* version 4: the rest of a run cg_reader_next hands out */
    size_t pending_n;
};

static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Control characters would garble a terminal or a one-line format. */
static void sanitize(char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i]; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
}

/* The API-name table holds many NUL-separated names: every byte of every
 * name must be a printable ASCII character (an API name is C identifier
 * text), so no escape sequence from a hostile trace reaches a terminal. */
static void sanitize_names(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != 0 && (c < 0x20 || c >= 0x7f))
            s[i] = '?';
    }
}

/* pread all of [off, off+len) unless the file ends; returns bytes read or -1. */
static ssize_t read_at(int fd, void *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Split the header's NUL-separated API names; api_count becomes the number
 * actually present (never more than the file claims). */
static void index_api_names(struct cg_reader *r)
{
    struct cg_file_header *h = &r->header;
    size_t max_names = sizeof r->api_names / sizeof r->api_names[0];
    uint32_t n = 0;
    size_t pos = 0;
    while (n < h->api_count && n < max_names && pos < sizeof h->api_names) {
        const char *name = h->api_names + pos;
        size_t len = strnlen(name, sizeof h->api_names - pos);
        if (pos + len >= sizeof h->api_names)
            break; /* the last name is cut by the end of the table */
        r->api_names[n++] = name;
        pos += len + 1;
    }
    r->api_count = n;
    sanitize_names(h->api_names, sizeof h->api_names - 1);
}

static int check_header(struct cg_reader *r, ssize_t got, char *err, size_t errlen)
{
    struct cg_file_header *h = &r->header;
    if (got == 0) {
        set_error(err, errlen, "empty file");
        return -1;
    }
    if (got < (ssize_t)sizeof h->magic || memcmp(h->magic, CG_MAGIC, sizeof h->magic) != 0) {
        set_error(err, errlen, "not a cuguard trace (bad magic)");
        return -1;
    }
    if (got < (ssize_t)sizeof *h) {
        set_error(err, errlen, "truncated header (%zd of %zu bytes)", got, sizeof *h);
        return -1;
    }
    if (h->version < CG_FORMAT_VERSION_MIN || h->version > CG_FORMAT_VERSION) {
        set_error(err, errlen, "unsupported trace format version %u (this cuguard reads %u to %u)",
                  h->version, CG_FORMAT_VERSION_MIN, CG_FORMAT_VERSION);
        return -1;
    }
    if (h->header_size != CG_HEADER_SIZE || h->record_size != CG_RECORD_SIZE ||
        h->segment_records != CG_SEGMENT_RECORDS) {
        set_error(err, errlen,
                  "corrupt header: header_size %u, record_size %u, segment_records %u "
                  "(expected %u, %u, %u)",
                  h->header_size, h->record_size, h->segment_records, CG_HEADER_SIZE,
                  CG_RECORD_SIZE, CG_SEGMENT_RECORDS);
        return -1;
    }
    if (h->version < 2) { /* fields a version 1 writer never had */
        h->cut_short_mono_ns = 0;
        memset(h->cut_short_reason, 0, sizeof h->cut_short_reason);
    }
    if (h->end_state > (h->version < 2 ? CG_END_CLEAN : CG_END_CUT_SHORT) ||
        h->task_mode > CG_TASK_PROCESS) {
        set_error(err, errlen, "corrupt header: end_state %u, task_mode %u", h->end_state,
                  h->task_mode);
        return -1;
    }
    h->host[sizeof h->host - 1] = '\0';
    h->task_var[sizeof h->task_var - 1] = '\0';
    h->argv[sizeof h->argv - 1] = '\0';
    h->api_names[sizeof h->api_names - 1] = '\0';
    if (h->version < 2)
        memset(h->tool_version, 0, sizeof h->tool_version);
    if (h->version < 4)
        h->batch_records = h->policies = 0;
    if (h->version < 3) { /* the clock and segment fields came with version 3 */
        h->clock_source = CG_CLOCK_MONOTONIC;
        h->first_segment_records = CG_SEGMENT_RECORDS;
        h->tsc_open = h->tsc_open_ns = h->tsc_anchor = h->tsc_anchor_ns = h->tsc_mult = 0;
    }
    if (h->clock_source > CG_CLOCK_TSC) {
        set_error(err, errlen, "corrupt header: clock_source %u", h->clock_source);
        return -1;
    }
    h->tool_version[sizeof h->tool_version - 1] = '\0';
    sanitize(h->tool_version, sizeof h->tool_version);
    sanitize(h->host, sizeof h->host);
    sanitize(h->task_var, sizeof h->task_var);
    h->cut_short_reason[sizeof h->cut_short_reason - 1] = '\0';
    sanitize_names(h->cut_short_reason, sizeof h->cut_short_reason - 1);
    index_api_names(r);
    return 0;
}

static uint64_t add_saturating(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The first slot no record can be in, from what the header can honestly
 * claim: the writer refreshes slots_reserved at each new segment and at the
 * end, so a finished trace (clean or cut short) has nothing past the segment
 * that count falls in, and a running or killed one nothing past the two
 * segments after it. Segments may grow (each at most doubling what came
 * before), hence four times the count for a trace that did not finish. A
 * file longer than this (sparse, preallocated, padded) is not read past it.
 * A writer that refreshes slots_reserved less often must widen this. */
static uint64_t slot_bound(const struct cg_file_header *h)
{
    uint64_t reserved = h->slots_reserved;
    if (h->end_state == CG_END_CLEAN || h->end_state == CG_END_CUT_SHORT)
        return add_saturating(reserved, CG_SEGMENT_RECORDS);
    uint64_t grown = reserved > UINT64_MAX / 4 ? UINT64_MAX : 4 * reserved;
    return add_saturating(grown, 2ull * CG_SEGMENT_RECORDS);
}

/* Version 4's window reads whole records from `slot` on, never past
 * slot_end (see refill). */
static uint32_t merge_read(void *ctx, struct cg_record *dst, uint64_t slot, uint32_t n)
{
    struct cg_reader *r = ctx;
    if (slot >= r->slot_end)
        return 0;
    if (r->slot_end - slot < n)
        n = (uint32_t)(r->slot_end - slot);
    ssize_t got =
        read_at(r->fd, dst, (size_t)n * CG_RECORD_SIZE, CG_HEADER_SIZE + slot * CG_RECORD_SIZE);
    return got > 0 ? (uint32_t)((size_t)got / CG_RECORD_SIZE) : 0;
}

/* Version 4: the window that puts records in the order of "Batches". */
static int start_merge(struct cg_reader *r)
{
    r->merge = cg_merge_new(merge_read, r, &r->bad_records);
    return r->merge ? 0 : -1;
}

struct cg_reader *cg_reader_open(const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        set_error(err, errlen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_error(err, errlen, "not a regular file");
        close(fd);
        return NULL;
    }
    fcntl(fd, F_SETFL, 0);
    struct cg_reader *r = calloc(1, sizeof *r);
    char *copy = strdup(path);
    if (!r || !copy) {
        set_error(err, errlen, "out of memory");
        free(r);
        free(copy);
        close(fd);
        return NULL;
    }
    r->fd = fd;
    r->path = copy;
    ssize_t got = read_at(fd, &r->header, sizeof r->header, 0);
    if (got < 0) {
        set_error(err, errlen, "%s", strerror(errno));
        cg_reader_close(r);
        return NULL;
    }
    if (check_header(r, got, err, errlen) != 0) {
        cg_reader_close(r);
        return NULL;
    }
    r->slot_end = slot_bound(&r->header);
    if (r->header.batch_records != 0 && start_merge(r) != 0) {
        set_error(err, errlen, "out of memory");
        cg_reader_close(r);
        return NULL;
    }
    return r;
}

void cg_reader_close(struct cg_reader *r)
{
    if (!r)
        return;
    struct string_entry *e, *tmp;
    HASH_ITER(hh, r->strings, e, tmp)
    {
        HASH_DEL(r->strings, e);
        free(e->text);
        free(e);
    }
    if (r->fd >= 0)
        close(r->fd);
    cg_merge_free(r->merge);
    free(r->path);
    free(r);
}

const struct cg_file_header *cg_reader_header(const struct cg_reader *r)
{
    return &r->header;
}

const char *cg_reader_path(const struct cg_reader *r)
{
    return r->path;
}

/* ---- strings ---- */

static struct string_entry *string_entry_for(struct cg_reader *r, uint32_t id)
{
    struct string_entry *e = NULL;
    HASH_FIND(hh, r->strings, &id, sizeof id, e);
    if (e)
        return e;
    size_t cost = sizeof *e + CG_STRING_CHUNK;
    if (r->string_bytes + cost > READER_STRINGS_MAX)
        return NULL;
    e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->id = id;
    r->string_bytes += sizeof *e;
    HASH_ADD(hh, r->strings, id, sizeof e->id, e);
    return e;
}

/* Append one chunk. A chunk that does not continue its string exactly
 * (duplicate, out of order, too long, over the memory bound) is ignored. */
static void add_string_chunk(struct cg_reader *r, const struct cg_record *rec)
{
    uint32_t offset = (uint32_t)rec->result;
    uint32_t len = rec->api;
    if (rec->site == 0 || len > CG_STRING_CHUNK || rec->result < 0) {
        r->bad_chunks++;
        return;
    }
    struct string_entry *e = string_entry_for(r, rec->site);
    if (!e || e->complete || offset != e->len || offset + len > READER_STRING_MAX) {
        r->bad_chunks++;
        return;
    }
    if (r->string_bytes + len + 1 > READER_STRINGS_MAX) {
        r->bad_chunks++;
        return;
    }
    char *grown = realloc(e->text, (size_t)e->len + len + 1);
    if (!grown) {
        r->bad_chunks++;
        return;
    }
    e->text = grown;
    memcpy(e->text + e->len, (const char *)rec, len);
    e->len += len;
    e->text[e->len] = '\0';
    r->string_bytes += len + (offset == 0 ? 1 : 0);
    if (rec->flags & CG_FLAG_LAST_CHUNK) {
        e->complete = 1;
        /* An embedded NUL ends the string early; that is fine. */
        sanitize(e->text, e->len);
    }
}

const char *cg_reader_string(const struct cg_reader *r, uint32_t id)
{
    struct string_entry *e = NULL;
    HASH_FIND(hh, r->strings, &id, sizeof id, e);
    if (!e || !e->complete)
        return NULL;
    return e->text ? e->text : "";
}

/* ---- records ---- */

/* Refill the buffer from the file; returns 0 at end of file or of the
 * slots the header allows. Only whole records are used: a partial last
 * record is left for a later call. */
static int refill(struct cg_reader *r)
{
    uint64_t off = CG_HEADER_SIZE + r->next_slot * CG_RECORD_SIZE;
    size_t want = sizeof r->buf;
    if (r->next_slot >= r->slot_end)
        want = 0;
    else if (r->slot_end - r->next_slot < READER_CHUNK_RECORDS)
        want = (size_t)(r->slot_end - r->next_slot) * CG_RECORD_SIZE;
    ssize_t got = want ? read_at(r->fd, r->buf, want, off) : 0;
    r->buf_pos = 0;
    r->buf_len = got > 0 ? (uint32_t)((size_t)got / CG_RECORD_SIZE) : 0;
    r->next_slot += r->buf_len;
    return r->buf_len > 0;
}

/* Version 4: one record at a time from a run (the same order as runs). */
static int merged_next(struct cg_reader *r, struct cg_record *out)
{
    if (r->pending_n == 0) {
        r->pending = cg_merge_next(r->merge, READER_CHUNK_RECORDS, &r->pending_n);
        if (!r->pending)
            return 0;
    }
    *out = *r->pending++;
    r->pending_n--;
    if (out->kind == CG_REC_STRING)
        add_string_chunk(r, out);
    r->records++;
    return 1;
}

int cg_reader_next(struct cg_reader *r, struct cg_record *out)
{
    if (r->merge)
        return merged_next(r, out);
    for (;;) {
        if (r->buf_pos == r->buf_len && !refill(r))
            return 0;
        const struct cg_record *rec = &r->buf[r->buf_pos++];
        if (rec->kind == CG_REC_NONE)
            continue;
        if (rec->kind > CG_REC_KIND_MAX) {
            r->bad_records++;
            continue;
        }
        if (rec->kind == CG_REC_STRING)
            add_string_chunk(r, rec);
        *out = *rec;
        r->records++;
        return 1;
    }
}

/* Step over unfinished and corrupt slots; returns 0 at end of file. */
static int skip_invalid(struct cg_reader *r)
{
    for (;;) {
        if (r->buf_pos == r->buf_len && !refill(r))
            return 0;
        uint8_t kind = r->buf[r->buf_pos].kind;
        if (kind != CG_REC_NONE && kind <= CG_REC_KIND_MAX)
            return 1;
        r->bad_records += kind != CG_REC_NONE;
        r->buf_pos++;
    }
}

/* The kinds a batch goes on over: every valid one but STRING. A batch
 * stops before an unfinished (NONE) or corrupt slot, and after a STRING
 * (its chunk added to the table first). One load per record. */
static const unsigned char in_batch[256] = {
    [CG_REC_CALL] = 1,     [CG_REC_ENTER] = 1,        [CG_REC_EXIT] = 1,
    [CG_REC_SPIN] = 1,     [CG_REC_THREAD_START] = 1, [CG_REC_THREAD_EXIT] = 1,
    [CG_REC_TASK] = 1,     [CG_REC_FORK] = 1,         [CG_REC_STREAM_ID] = 1,
    [CG_REC_ARGS] = 1,     [CG_REC_PROCESS_EXIT] = 1, [CG_REC_POLICY] = 1,
    [CG_REC_STALL] = 1,    [CG_REC_LOG] = 1,          [CG_REC_CONTEXT] = 1,
    [CG_REC_CALLBACK] = 1, [CG_REC_MODULE] = 1,       [CG_REC_PYSTACK] = 1,
};
_Static_assert(CG_REC_KIND_MAX == CG_REC_PYSTACK, "a new record kind goes into in_batch");

/* Version 4: a run of merged records, ending just after a STRING record. */
static size_t merged_batch(struct cg_reader *r, const struct cg_record **first)
{
    size_t n = r->pending_n; /* first what cg_reader_next left of a run */
    if (n > 0) {
        *first = r->pending;
        r->pending_n = 0;
    } else {
        *first = cg_merge_next(r->merge, READER_CHUNK_RECORDS, &n);
    }
    if (n > 0 && (*first)[n - 1].kind == CG_REC_STRING)
        add_string_chunk(r, &(*first)[n - 1]);
    r->records += n;
    return n;
}

size_t cg_reader_next_batch(struct cg_reader *r, const struct cg_record **first)
{
    if (r->merge)
        return merged_batch(r, first);
    if (!skip_invalid(r)) {
        *first = NULL;
        return 0;
    }
    uint32_t start = r->buf_pos;
    const struct cg_record *rec = &r->buf[start], *end = &r->buf[r->buf_len];
    while (rec < end && in_batch[rec->kind])
        rec++;
    if (rec < end && rec->kind == CG_REC_STRING)
        add_string_chunk(r, rec++);
    uint32_t pos = (uint32_t)(rec - r->buf);
    r->buf_pos = pos;
    r->records += pos - start;
    *first = &r->buf[start];
    return pos - start;
}

void cg_reader_rewind(struct cg_reader *r)
{
    r->buf_len = r->buf_pos = 0;
    r->next_slot = 0;
    r->records = 0;
    r->bad_records = 0;
    r->pending_n = 0;
    if (r->merge)
        cg_merge_reset(r->merge);
}

uint64_t cg_reader_records(const struct cg_reader *r)
{
    return r->records;
}

uint64_t cg_reader_bad_records(const struct cg_reader *r)
{
    return r->bad_records;
}

uint64_t cg_reader_bad_string_chunks(const struct cg_reader *r)
{
    return r->bad_chunks;
}

const char *cg_reader_api_name(const struct cg_reader *r, uint16_t api)
{
    return api < r->api_count ? r->api_names[api] : "?";
}

uint32_t cg_reader_api_count(const struct cg_reader *r)
{
    return r->api_count;
}

void cg_reader_argv(const struct cg_reader *r, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    const struct cg_file_header *h = &r->header;
    size_t out = 0;
    size_t end = strnlen(h->argv, sizeof h->argv);
    /* argv is NUL-separated; its true end is the last non-NUL byte. */
    size_t last = sizeof h->argv - 1;
    while (last > 0 && h->argv[last - 1] == '\0')
        last--;
    end = last > end ? last : end;
    for (size_t i = 0; i < end && out + 1 < len; i++) {
        unsigned char c = (unsigned char)h->argv[i];
        buf[out++] = c == '\0' ? ' ' : (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    buf[out] = '\0';
}

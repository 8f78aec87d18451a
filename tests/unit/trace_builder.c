/*
 * tests/unit/trace_builder.c — synthetic trace files for the analyzer tests.
 *
 * What it is for: see trace_builder.h. Records are appended with stdio; the
 * header, whose API table grows as the scenario names APIs, is written last.
 *
 * What it must never do: write a record that does not fit the format, or
 * leave a file open on failure.
 */
#include "tests/unit/trace_builder.h"

#include <stdlib.h>
#include <string.h>

#define TB_START_NS 1000000000ull

struct tb *tb_open(const char *path, uint32_t pid, const char *argv0)
{
    struct tb *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->f = fopen(path, "wb");
    if (!b->f) {
        free(b);
        return NULL;
    }
    struct cg_file_header *h = &b->hdr;
    memcpy(h->magic, CG_MAGIC, sizeof h->magic);
    h->version = CG_FORMAT_VERSION;
    h->header_size = CG_HEADER_SIZE;
    h->record_size = CG_RECORD_SIZE;
    h->segment_records = CG_SEGMENT_RECORDS;
    h->pid = pid;
    h->ppid = 1;
    h->start_mono_ns = TB_START_NS;
    h->start_real_ns = 1700000000000000000ull;
    h->end_state = CG_END_RUNNING;
    h->task_mode = CG_TASK_ENV;
    snprintf(h->host, sizeof h->host, "testhost");
    snprintf(h->task_var, sizeof h->task_var, "PYTEST_CURRENT_TEST");
    h->argc = 1;
    snprintf(h->argv, sizeof h->argv, "%s", argv0 ? argv0 : "synthetic");
    b->apis[0] = "";
    b->napis = 1;
    b->now_ns = TB_START_NS + 1000;
    b->step_ns = 1000;
    /* The file written from offset 0 in 1 MiB writes (the header's page
     * now, rewritten at close): the page cache then holds it in large
     * folios, as it holds a file read back from disk; 4 KiB writes leave
     * 4 KiB pages, which `cat` and the analyzer read up to a third slower. */
    static const char zero_header[CG_HEADER_SIZE];
    b->io_buf = malloc(TB_WRITE_BYTES); /* glibc ignores the size without a buffer */
    if (!b->io_buf || setvbuf(b->f, b->io_buf, _IOFBF, TB_WRITE_BYTES) != 0)
        b->failed = 1;
    if (fwrite(zero_header, sizeof zero_header, 1, b->f) != 1)
        b->failed = 1;
    return b;
}

uint16_t tb_api(struct tb *b, const char *name)
{
    if (!name)
        return 0;
    for (uint32_t i = 1; i < b->napis; i++)
        if (!strcmp(b->apis[i], name))
            return (uint16_t)i;
    if (b->napis >= TB_MAX_APIS) {
        b->failed = 1;
        return 0;
    }
    b->apis[b->napis] = name;
    return (uint16_t)b->napis++;
}

static void put(struct tb *b, const struct cg_record *r)
{
    if (fwrite(r, sizeof *r, 1, b->f) != 1)
        b->failed = 1;
    b->records++;
}

void tb_append(struct tb *b, const struct cg_record *r)
{
    put(b, r);
}

uint32_t tb_string(struct tb *b, uint32_t tid, const char *s)
{
    for (uint32_t i = 0; i < b->nstrings; i++)
        if (!strcmp(b->strings[i], s))
            return i + 1;
    if (b->nstrings >= TB_MAX_STRINGS) {
        b->failed = 1;
        return 0;
    }
    b->strings[b->nstrings++] = s;
    uint32_t id = b->nstrings;
    size_t len = strlen(s), off = 0;
    do {
        struct cg_record r;
        memset(&r, 0, sizeof r);
        size_t n = len - off > CG_STRING_CHUNK ? CG_STRING_CHUNK : len - off;
        memcpy(cg_string_payload(&r), s + off, n);
        r.tid = tid;
        r.site = id;
        r.result = (int32_t)off;
        r.api = (uint16_t)n;
        r.kind = CG_REC_STRING;
        off += n;
        if (off == len)
            r.flags = CG_FLAG_LAST_CHUNK;
        put(b, &r);
    } while (off < len);
    return id;
}

void tb_record(struct tb *b, uint8_t kind, uint32_t tid, const char *api, uint64_t handle,
               uint64_t arg, uint64_t arg2, int32_t result, uint32_t site, uint8_t flags)
{
    struct cg_record r = {
        .handle = handle,
        .arg = arg,
        .arg2 = arg2,
        .ts_ns = b->now_ns,
        .tid = tid,
        .site = site,
        .result = result,
        .api = tb_api(b, api),
        .flags = flags,
        .kind = kind,
    };
    put(b, &r);
    b->now_ns += b->step_ns;
}

void tb_call(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
             int32_t result)
{
    tb_record(b, CG_REC_CALL, tid, api, handle, arg, 0, result, 0, 0);
}

void tb_call_at(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
                int32_t result, const char *site)
{
    uint32_t id = tb_string(b, tid, site);
    tb_record(b, CG_REC_CALL, tid, api, handle, arg, 0, result, id, 0);
}

void tb_enter(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg)
{
    tb_record(b, CG_REC_ENTER, tid, api, handle, arg, 0, 0, 0, 0);
}

void tb_exit(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t arg,
             int32_t result)
{
    tb_record(b, CG_REC_EXIT, tid, api, handle, arg, 0, result, 0, 0);
}

void tb_spin(struct tb *b, uint32_t tid, const char *api, uint64_t handle, uint64_t count,
             uint64_t span_ns)
{
    tb_record(b, CG_REC_SPIN, tid, api, handle, count, b->now_ns + span_ns, 600, 0, 0);
    b->now_ns += span_ns;
}

void tb_thread_start(struct tb *b, uint32_t tid, const char *name)
{
    uint32_t id = name ? tb_string(b, tid, name) : 0;
    tb_record(b, CG_REC_THREAD_START, tid, NULL, 0, 0, 0, 0, id, 0);
}

void tb_thread_exit(struct tb *b, uint32_t tid)
{
    tb_record(b, CG_REC_THREAD_EXIT, tid, NULL, 0, 0, 0, 0, 0, 0);
}

void tb_task(struct tb *b, uint32_t tid, const char *name, int thread_only)
{
    uint32_t id = name ? tb_string(b, tid, name) : 0;
    tb_record(b, CG_REC_TASK, tid, NULL, 0, 0, 0, 0, id,
              thread_only ? (uint8_t)CG_FLAG_TASK_THREAD : 0);
}

void tb_process_exit(struct tb *b, uint32_t tid)
{
    tb_record(b, CG_REC_PROCESS_EXIT, tid, NULL, 0, 0, 0, 0, 0, 0);
    b->hdr.end_state = CG_END_CLEAN;
    b->hdr.end_mono_ns = b->now_ns;
}

static void fill_api_table(struct tb *b)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < b->napis; i++) {
        size_t len = strlen(b->apis[i]);
        if (pos + len + 1 > sizeof b->hdr.api_names) {
            b->failed = 1;
            break;
        }
        memcpy(b->hdr.api_names + pos, b->apis[i], len + 1);
        pos += len + 1;
        b->hdr.api_count = i + 1;
    }
}

int tb_close(struct tb *b)
{
    fill_api_table(b);
    b->hdr.slots_reserved = b->records;
    char page[CG_HEADER_SIZE];
    memset(page, 0, sizeof page);
    memcpy(page, &b->hdr, sizeof b->hdr);
    if (fseek(b->f, 0, SEEK_SET) != 0 || fwrite(page, sizeof page, 1, b->f) != 1)
        b->failed = 1;
    if (fclose(b->f) != 0)
        b->failed = 1;
    int rc = b->failed ? -1 : 0;
    free(b->io_buf);
    free(b);
    return rc;
}

/*
 * bench/read_trace.c — cost of reading a trace through tracer/reader.h, and
 * a checksum of the order records come out in.
 *
 * Usage: read_trace FILE [next|batch]
 *        read_trace --slot-order FILE COPY   (writes COPY: FILE with
 *        batch_records 0, so a reader hands it out in slot order, the
 *        baseline the merge of format.h "Batches" is measured beside)
 * Prints "RECORDS NS_PER_RECORD CHECKSUM": the records are read with
 * cg_reader_next (default) or cg_reader_next_batch; CHECKSUM folds every
 * record's tid, ts_ns, handle, kind and arg in the order handed out, so two
 * readers that agree on it agree on the order. Under callgrind the timed
 * part is the function `measured_read`.
 *
 * What it must never do: time the file's opening.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "tracer/reader.h"

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t fold(uint64_t h, const struct cg_record *r)
{
    uint64_t v[4] = {((uint64_t)r->tid << 8) | r->kind, r->ts_ns, r->handle, r->arg};
    for (int i = 0; i < 4; i++)
        h = (h ^ v[i]) * 0x100000001b3ull;
    return h;
}

__attribute__((noinline)) uint64_t measured_read(struct cg_reader *r, int batched, uint64_t *sum)
{
    uint64_t n = 0, h = 0xcbf29ce484222325ull;
    struct cg_record rec;
    const struct cg_record *first;
    size_t k;
    if (!batched) {
        while (cg_reader_next(r, &rec)) {
            h = fold(h, &rec);
            n++;
        }
    } else {
        while ((k = cg_reader_next_batch(r, &first)) > 0) {
            for (size_t i = 0; i < k; i++)
                h = fold(h, &first[i]);
            n += k;
        }
    }
    *sum = h;
    return n;
}

static int slot_order_copy(const char *from, const char *to)
{
    struct cg_file_header h;
    struct stat st;
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int ok = in >= 0 && out >= 0 && fstat(in, &st) == 0 &&
             pread(in, &h, sizeof h, 0) == (ssize_t)sizeof h && st.st_size >= CG_HEADER_SIZE;
    h.batch_records = 0;
    ok = ok && write(out, &h, sizeof h) == (ssize_t)sizeof h &&
         lseek(out, CG_HEADER_SIZE, SEEK_SET) == CG_HEADER_SIZE;
    off_t off = CG_HEADER_SIZE;
    while (ok && off < st.st_size)
        ok = sendfile(out, in, &off, (size_t)(st.st_size - off)) > 0;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--slot-order") == 0)
        return slot_order_copy(argv[2], argv[3]);
    if (argc < 2) {
        fprintf(stderr, "usage: read_trace FILE [next|batch]\n");
        return 2;
    }
    char err[256];
    struct cg_reader *r = cg_reader_open(argv[1], err, sizeof err);
    if (!r) {
        fprintf(stderr, "read_trace: %s: %s\n", argv[1], err);
        return 1;
    }
    int batched = argc > 2 && strcmp(argv[2], "batch") == 0;
    uint64_t sum, t0 = wall_ns();
    uint64_t n = measured_read(r, batched, &sum);
    uint64_t t1 = wall_ns();
    printf("%llu %.1f %016llx\n", (unsigned long long)n, n ? (double)(t1 - t0) / (double)n : 0.0,
           (unsigned long long)sum);
    cg_reader_close(r);
    return 0;
}

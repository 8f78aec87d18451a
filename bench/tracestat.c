/*
 * bench/tracestat.c — how much trace a run wrote per call it made.
 *
 * Usage: tracestat FILE.cgt...
 * Prints one line: "records R calls C polls P bytes B" summed over the files:
 *   R  valid records of every kind (strings, threads and tasks included)
 *   C  wrapped calls the program made: CALL and EXIT records (a blocking
 *      call's ENTER/EXIT pair is one call) plus every poll a SPIN folded
 *   P  of those, NOT_READY polls folded into SPIN records
 *   B  bytes of the files holding them: the header plus every reserved slot
 *      (the writer's slot counter from the header of a cleanly closed trace,
 *      else the valid records), not the space preallocated past the end
 *
 * What it must never do: modify a trace, or trust one (it reads through
 * tracer/reader.h, which checks everything).
 */
#include <stdio.h>

#include "tracer/reader.h"

struct totals {
    unsigned long long records, calls, polls, bytes;
};

static int add_file(const char *path, struct totals *sum)
{
    char err[256];
    struct cg_reader *r = cg_reader_open(path, err, sizeof err);
    if (r == NULL) {
        fprintf(stderr, "tracestat: %s\n", err);
        return -1;
    }
    struct cg_record rec;
    unsigned long long records = 0;
    while (cg_reader_next(r, &rec)) {
        records++;
        if (rec.kind == CG_REC_CALL || rec.kind == CG_REC_EXIT) {
            sum->calls++;
        } else if (rec.kind == CG_REC_SPIN) {
            sum->calls += rec.arg;
            sum->polls += rec.arg;
        }
    }
    const struct cg_file_header *h = cg_reader_header(r);
    unsigned long long slots = h->end_state == CG_END_CLEAN ? h->slots_reserved : records;
    sum->records += records;
    sum->bytes += CG_HEADER_SIZE + slots * CG_RECORD_SIZE;
    cg_reader_close(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: tracestat FILE.cgt...\n");
        return 2;
    }
    struct totals sum = {0};
    for (int i = 1; i < argc; i++) {
        if (add_file(argv[i], &sum) != 0)
            return 1;
    }
    printf("records %llu calls %llu polls %llu bytes %llu\n", sum.records, sum.calls, sum.polls,
           sum.bytes);
    return 0;
}

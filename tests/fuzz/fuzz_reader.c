/*
 * tests/fuzz/fuzz_reader.c — libFuzzer target: any bytes as a trace file.
 *
 * What it is for: the input is written to a file and read the way
 * `cuguard report` reads it — tracer/reader.c opens and streams it, the
 * replay and the JSON report and timeline consume it — so a crash, hang,
 * leak or undefined behaviour anywhere from the reader to the outputs shows.
 *
 * What it must never do: keep state between inputs (one scratch file is
 * rewritten each time) or write anywhere but /tmp and /dev/null.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "analysis/analyze.h"
#include "analysis/output/export_perfetto.h"
#include "analysis/output/report.h"
#include "tracer/reader.h"

static char scratch[64];
static FILE *sink;

static int write_input(const uint8_t *data, size_t size)
{
    if (!scratch[0]) {
        snprintf(scratch, sizeof scratch, "/tmp/cuguard-fuzz-%ld.cgt", (long)getpid());
        sink = fopen("/dev/null", "w");
    }
    int fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    return done == size ? 0 : -1;
}

/* The reader alone, touching every accessor. */
static void read_all(void)
{
    char err[256];
    struct cg_reader *r = cg_reader_open(scratch, err, sizeof err);
    if (!r)
        return;
    struct cg_record rec;
    while (cg_reader_next(r, &rec) == 1) {
        (void)cg_reader_string(r, rec.site);
        (void)cg_reader_api_name(r, rec.api);
    }
    char argv[256];
    cg_reader_argv(r, argv, sizeof argv);
    cg_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (write_input(data, size) != 0 || !sink)
        return 0;
    read_all();
    char *paths[1] = {scratch};
    struct analysis a;
    if (analyze_paths(&a, paths, 1, "fuzz", sink, NULL, 0) == 0) {
        report_write_json(sink, &a);
        report_write_text(sink, &a, REPORT_FULL);
    }
    analysis_free(&a);
    export_perfetto(sink, paths, 1, "fuzz", sink);
    return 0;
}

/*
 * tests/fuzz/make_seed.c — write one small real trace with the tracer's own
 * writer, as a seed for the reader's fuzz corpus.
 *
 * Usage: make_seed SCENARIO OUT.cgt   (SCENARIO: lifecycle, blocked)
 * The writer's file is a whole 3 MiB segment; the seed is cut after the
 * last record written, so libFuzzer can mutate all of it.
 *
 * What it must never do: write anywhere but a temporary directory and OUT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracer/writer.h"

static const char *const api_names[] = {
    "",
    "cuEventCreate",
    "cuEventRecord",
    "cuEventQuery",
    "cuEventSynchronize",
    "cuEventDestroy_v2",
    "cuStreamCreate",
    "cuStreamDestroy_v2",
    "cuMemHostAlloc",
    "cuMemFreeHost",
    "cuMemcpyAsync",
};

static void put(uint8_t kind, uint16_t api, uint64_t handle, uint64_t arg, uint64_t arg2,
                int32_t result, uint32_t site)
{
    struct cg_record *r = cg_writer_reserve(1);
    if (!r)
        return;
    r->handle = handle;
    r->arg = arg;
    r->arg2 = arg2;
    r->ts_ns = cg_now_ns();
    r->tid = cg_gettid();
    r->site = site;
    r->result = result;
    r->api = api;
    r->flags = 0;
    cg_writer_publish(r, kind);
}

static void lifecycle(void)
{
    uint32_t name = cg_writer_intern("seed-main");
    uint32_t task = cg_writer_intern("tests/test_seed.py::test_one");
    uint32_t site = cg_writer_intern("seed.c:42 in a call site name longer than one chunk");
    put(CG_REC_THREAD_START, 0, 0, 0, 0, 0, name);
    put(CG_REC_TASK, 0, 0, 0, 0, 0, task);
    put(CG_REC_CALL, 6, 0x5000, 1, 0, 0, site);
    put(CG_REC_STREAM_ID, 0, 0x5000, 3, 0, 0, 0);
    put(CG_REC_CALL, 1, 0xe000, 0, 0, 0, site);
    put(CG_REC_CALL, 8, 0x10000, 4096, 0, 0, site);
    put(CG_REC_CALL, 10, 0x5000, 0x10000, 0x20000, 0, site);
    put(CG_REC_ARGS, 0, 4096, 0, 0, 0, 0);
    put(CG_REC_CALL, 2, 0xe000, 0x5000, 0, 0, site);
    put(CG_REC_SPIN, 3, 0xe000, 17, cg_now_ns(), 600, site);
    put(CG_REC_CALL, 3, 0xe000, 0, 0, 0, site);
    put(CG_REC_ENTER, 4, 0xe000, 0, 0, 0, site);
    put(CG_REC_EXIT, 4, 0xe000, 0, 0, 0, site);
    put(CG_REC_CALL, 3, 0x1234, 0, 0, 400, site);
    put(CG_REC_CALL, 5, 0xe000, 0, 0, 0, site);
    put(CG_REC_CALL, 5, 0xe000, 0, 0, 400, site);
    put(CG_REC_CALL, 9, 0x10000, 0, 0, 0, site);
    put(CG_REC_CALL, 1, 0xe010, 0, 0, 0, site);
    put(CG_REC_CALL, 7, 0x5000, 0, 0, 0, site);
    put(CG_REC_THREAD_EXIT, 0, 0, 0, 0, 0, 0);
}

static void blocked(void)
{
    put(CG_REC_THREAD_START, 0, 0, 0, 0, 0, cg_writer_intern("seed-blocked"));
    put(CG_REC_CALL, 1, 0xe000, 0, 0, 0, 0);
    put(CG_REC_CALL, 2, 0xe000, 0, 0, 0, 0);
    put(CG_REC_ENTER, 4, 0xe000, 0, 0, 0, 0);
}

/* Copy the header and the records up to the last one written. */
static int copy_used(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    int rc = -1;
    char *header = calloc(1, CG_HEADER_SIZE);
    if (in && out && header && fread(header, 1, CG_HEADER_SIZE, in) == CG_HEADER_SIZE &&
        fwrite(header, 1, CG_HEADER_SIZE, out) == CG_HEADER_SIZE) {
        struct cg_record r;
        long used = 0, n = 0;
        while (n < 4096 && fread(&r, sizeof r, 1, in) == 1) {
            n++;
            if (r.kind != 0)
                used = n;
        }
        rc = fseek(in, CG_HEADER_SIZE, SEEK_SET);
        for (long i = 0; rc == 0 && i < used; i++)
            if (fread(&r, sizeof r, 1, in) != 1 || fwrite(&r, sizeof r, 1, out) != 1)
                rc = -1;
    }
    free(header);
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_seed lifecycle|blocked OUT.cgt\n");
        return 2;
    }
    char dir[] = "/tmp/cuguard-seed-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct cg_writer_config cfg = {
        .dir = dir,
        .task_mode = CG_TASK_ENV,
        .task_var = "PYTEST_CURRENT_TEST",
        .api_names = api_names,
        .api_count = sizeof api_names / sizeof api_names[0],
    };
    if (cg_writer_open(&cfg) != 0)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s", cg_writer_path() ? cg_writer_path() : "");
    if (!strcmp(argv[1], "blocked")) {
        blocked();
    } else {
        lifecycle();
        cg_writer_close();
    }
    int rc = copy_used(path, argv[2]);
    unlink(path);
    rmdir(dir);
    return rc == 0 ? 0 : 1;
}

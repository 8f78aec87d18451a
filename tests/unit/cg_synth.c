/*
 * tests/unit/cg_synth.c — write one synthetic or deliberately broken trace
 * file, for the end-to-end tests of `cuguard report` and `export`.
 *
 * Usage: cg_synth SCENARIO OUT.cgt
 *   clean           a correct program: no finding
 *   leaky           37 events created, 30 destroyed; five 1 MiB pinned, 3 freed
 *   foreign         a watcher thread queries a handle no create returned
 *   blocked         killed inside cuEventSynchronize (no clean exit)
 *   quoted          names with quotes, backslashes, control and non-UTF-8 bytes
 *   empty           a zero-byte file
 *   random          64 KiB of pseudo-random bytes
 *   bad-magic       a valid trace with its magic changed
 *   bad-version     a valid trace with format version 99
 *   truncated-header  the first 100 bytes of a valid trace
 *   truncated-record  a valid trace cut in the middle of a record
 *   absurd          header counts and record fields at their maximum
 *
 * What it must never do: write anything but OUT.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/trace_builder.h"

#define OK 0
#define MIB (1024ull * 1024ull)
#define MAIN 100
#define WATCHER 101

static void clean(struct tb *b)
{
    tb_thread_start(b, MAIN, "main");
    tb_task(b, MAIN, "tests/test_clean.py::test_ok", 0);
    tb_call(b, MAIN, "cuStreamCreate", 0x5000, 1, OK);
    tb_record(b, CG_REC_STREAM_ID, MAIN, NULL, 0x5000, 1, 0, 0, 0, 0);
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuMemHostAlloc", 0x10000000, MIB, OK);
    tb_record(b, CG_REC_CALL, MAIN, "cuMemcpyDtoHAsync_v2", 0x5000, 0x10000000, MIB, OK, 0, 0);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK);
    tb_spin(b, MAIN, "cuEventQuery", 0xe000, 120, 100000);
    tb_call(b, MAIN, "cuEventQuery", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0x5000, OK);
    tb_enter(b, MAIN, "cuStreamSynchronize", 0x5000, 0);
    tb_exit(b, MAIN, "cuStreamSynchronize", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuStreamDestroy_v2", 0x5000, 0, OK);
    tb_call(b, MAIN, "cuMemFreeHost", 0x10000000, 0, OK);
    tb_process_exit(b, MAIN);
}

static void leaky(struct tb *b)
{
    tb_thread_start(b, MAIN, "leaky-creator");
    tb_task(b, MAIN, "tests/test_leaky.py::test_leak", 0);
    for (uint64_t i = 0; i < 37; i++)
        tb_call_at(b, MAIN, "cuEventCreate", 0xe000 + 16 * i, 0, OK, "leaky.c:47");
    for (uint64_t i = 0; i < 30; i++)
        tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000 + 16 * i, 0, OK);
    for (uint64_t i = 0; i < 5; i++)
        tb_call_at(b, MAIN, "cuMemAllocHost_v2", 0x10000000 + i * MIB, MIB, OK, "leaky.c:57");
    for (uint64_t i = 0; i < 3; i++)
        tb_call(b, MAIN, "cuMemFreeHost", 0x10000000 + i * MIB, 0, OK);
    tb_process_exit(b, MAIN);
}

static void foreign(struct tb *b)
{
    tb_thread_start(b, MAIN, "main");
    tb_thread_start(b, WATCHER, "watcher");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_call(b, WATCHER, "cuEventQuery", 0x55550000, 0, 400);
    tb_thread_exit(b, WATCHER);
    tb_call(b, MAIN, "cuEventSynchronize", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventDestroy_v2", 0xe000, 0, OK);
    tb_process_exit(b, MAIN);
}

static void blocked(struct tb *b)
{
    tb_thread_start(b, MAIN, "main");
    tb_call(b, MAIN, "cuEventCreate", 0xe000, 0, OK);
    tb_call(b, MAIN, "cuEventRecord", 0xe000, 0, OK);
    tb_enter(b, MAIN, "cuEventSynchronize", 0xe000, 0);
}

static void quoted(struct tb *b)
{
    tb_thread_start(b, MAIN, "we\"ird\\name\x01\xff\xfe");
    tb_task(b, MAIN, "test[\"quote\"]\t\xc3\x28 bad utf-8", 0);
    tb_call_at(b, MAIN, "cuEventCreate", 0xe000, 0, OK, "site \"with\" \\ slash\n");
    tb_process_exit(b, MAIN);
}

static int write_random(const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    uint32_t x = 2463534242u;
    for (int i = 0; i < 65536; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        fputc((int)(x & 0xff), f);
    }
    return fclose(f);
}

/* Rewrite part of the header of a valid trace. */
static int patch_header(const char *path, const char *what)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    struct cg_file_header h;
    if (fread(&h, sizeof h, 1, f) != 1) {
        fclose(f);
        return -1;
    }
    if (!strcmp(what, "bad-magic")) {
        memcpy(h.magic, "NOTCUGRD", 8);
    } else if (!strcmp(what, "bad-version")) {
        h.version = 99;
    } else { /* absurd */
        h.api_count = UINT32_MAX;
        h.argc = UINT32_MAX;
        h.slots_reserved = UINT64_MAX;
        h.start_mono_ns = UINT64_MAX;
        memset(h.api_names, 'A', sizeof h.api_names);
        memset(h.argv, 'B', sizeof h.argv);
        memset(h.host, 'C', sizeof h.host);
    }
    int rc = fseek(f, 0, SEEK_SET) == 0 && fwrite(&h, sizeof h, 1, f) == 1 ? 0 : -1;
    return fclose(f) != 0 ? -1 : rc;
}

static void absurd_records(struct tb *b)
{
    clean(b);
    tb_record(b, CG_REC_CALL, UINT32_MAX, "cuEventQuery", UINT64_MAX, UINT64_MAX, UINT64_MAX,
              INT32_MIN, UINT32_MAX, 0xff);
    tb_record(b, CG_REC_SPIN, 7, "cuEventQuery", 0, UINT64_MAX, 0, 600, 0, 0);
    tb_record(b, CG_REC_EXIT, 7, "cuEventSynchronize", 1, 2, 3, 4, 5, 6);
    tb_record(b, CG_REC_STRING, 7, NULL, 0, 0, 0, -5, UINT32_MAX, 0);
    tb_record(b, 200, 7, NULL, 0, 0, 0, 0, 0, 0);
}

static int build(const char *scenario, const char *path)
{
    struct tb *b = tb_open(path, (uint32_t)getpid(), "./synthetic");
    if (!b)
        return -1;
    if (!strcmp(scenario, "leaky"))
        leaky(b);
    else if (!strcmp(scenario, "foreign"))
        foreign(b);
    else if (!strcmp(scenario, "blocked"))
        blocked(b);
    else if (!strcmp(scenario, "quoted"))
        quoted(b);
    else if (!strcmp(scenario, "absurd"))
        absurd_records(b);
    else
        clean(b);
    return tb_close(b);
}

static int truncate_to(const char *path, long bytes)
{
    return truncate(path, bytes);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: cg_synth SCENARIO OUT.cgt\n");
        return 2;
    }
    const char *s = argv[1], *path = argv[2];
    int rc;
    if (!strcmp(s, "empty")) {
        FILE *f = fopen(path, "wb");
        rc = f && fclose(f) == 0 ? 0 : -1;
    } else if (!strcmp(s, "random")) {
        rc = write_random(path);
    } else if (!strcmp(s, "bad-magic") || !strcmp(s, "bad-version") || !strcmp(s, "absurd")) {
        rc = build(s, path) == 0 ? patch_header(path, s) : -1;
    } else if (!strcmp(s, "truncated-header")) {
        rc = build("clean", path) == 0 ? truncate_to(path, 100) : -1;
    } else if (!strcmp(s, "truncated-record")) {
        rc = build("clean", path) == 0 ? truncate_to(path, CG_HEADER_SIZE + 5 * 48 + 17) : -1;
    } else if (!strcmp(s, "clean") || !strcmp(s, "leaky") || !strcmp(s, "foreign") ||
               !strcmp(s, "blocked") || !strcmp(s, "quoted")) {
        rc = build(s, path);
    } else {
        fprintf(stderr, "cg_synth: unknown scenario '%s'\n", s);
        return 2;
    }
    if (rc != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

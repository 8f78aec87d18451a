/*
 * tracer/pages.h — make a fresh range of a trace file exist, zeroed, and
 * mapped writable (tracer/pages.c says how, and what each way costs).
 *
 * What it must never do: store anything but zeros, or outside the range.
 */
#ifndef CUGUARD_TRACER_PAGES_H
#define CUGUARD_TRACER_PAGES_H

#include <stdint.h>

/* Write zeros over [off, off+len) of fd: the range then exists on the file
 * system (a full one says so here, not with a SIGBUS at a store later).
 * Returns 0 or an errno: EFBIG, without writing, where the range would
 * pass RLIMIT_FSIZE (the write would raise SIGXFSZ). */
int cg_pages_zero_fill(int fd, uint64_t off, uint64_t len);

/* 1 when a read fault on fd's mapping maps its resident pages writable
 * (tmpfs: no write notification), so cg_pages_touch's load pass pays. */
int cg_pages_fault_around_writable(int fd);

/* Fault in every page of [first, first+len) of a MAP_SHARED mapping for
 * writing, a load per page first when load_first. Contents unchanged. */
void cg_pages_touch(char *first, uint64_t len, int load_first);

#endif

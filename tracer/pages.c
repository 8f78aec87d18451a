/*
 * tracer/pages.c — make a fresh range of a trace file exist, zeroed, and
 * mapped writable before any record is stored into it.
 *
 * What it is for: the writer's segment preparation (tracer/writer.c), and
 * bench/floor.c's measure of what a trace page costs. A page of the trace
 * costs the kernel far more than the records stored into it (1.3-4 us per
 * 4 KiB page in the KVM and PVM guests measured, ~85 records' worth), so
 * the way it is made matters. Measured (2-core guest, Linux 6.18, 4 MiB
 * segments; ns per page, allocate + zero + map):
 *   posix_fallocate + MADV_POPULATE_WRITE  tmpfs 2,400-3,700  ext4 4,000-4,700
 *   pwrite of zeros, then a store per page tmpfs 3,100-4,200  ext4 1,400-1,800
 *   pwrite, a load and a store per page    tmpfs 2,000-2,500  ext4 4,300-4,500
 * So: the range is written with zeros (pwrite: the file system allocates
 * it then, in large folios where it can, and says ENOSPC then, never with a
 * SIGBUS at a store later), and each page is then stored into once. On
 * tmpfs a load first: a read fault maps up to 16 resident pages at once
 * (fault-around), writable because tmpfs asks no write notification; on a
 * file system that does (ext4, xfs, btrfs) the pages it maps are read-only
 * and each store faults again, so the load only adds a fault there.
 *
 * What it must never do: store anything but the zeros already there, touch
 * a byte outside the range it is given (the page before a segment holds
 * the previous segment's live records), allocate, or lock.
 */
#include "tracer/pages.h"

#include <errno.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

/* pwritev's chunk: ZERO_IOVECS times one static zero block. The block is
 * only read, so its pages stay the kernel's shared zero page. */
#define ZERO_BLOCK_BYTES 65536u
#define ZERO_IOVECS 16u
static const char zero_block[ZERO_BLOCK_BYTES];

/* EFBIG when [0, end) would pass RLIMIT_FSIZE: the write would raise
 * SIGXFSZ, whose default action ends the program. */
static int past_file_size_limit(uint64_t end)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_FSIZE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
        return 0;
    return end > (uint64_t)lim.rlim_cur;
}

int cg_pages_zero_fill(int fd, uint64_t off, uint64_t len)
{
    if (past_file_size_limit(off + len))
        return EFBIG;
    while (len > 0) {
        struct iovec iov[ZERO_IOVECS];
        unsigned n = 0;
        for (uint64_t left = len; left > 0 && n < ZERO_IOVECS; n++) {
            iov[n].iov_base = (void *)zero_block;
            iov[n].iov_len = left < ZERO_BLOCK_BYTES ? (size_t)left : ZERO_BLOCK_BYTES;
            left -= iov[n].iov_len;
        }
        ssize_t done = pwritev(fd, iov, (int)n, (off_t)off);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return errno;
        if (done == 0)
            return ENOSPC;
        off += (uint64_t)done;
        len -= (uint64_t)done;
    }
    return 0;
}

int cg_pages_fault_around_writable(int fd)
{
    struct statfs fs;
    return fstatfs(fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

void cg_pages_touch(char *first, uint64_t len, int load_first)
{
    long page = sysconf(_SC_PAGESIZE);
    uint64_t step = page > 0 ? (uint64_t)page : 4096u;
    if (load_first)
        for (uint64_t off = 0; off < len; off += step)
            (void)__atomic_load_n(first + off, __ATOMIC_RELAXED);
    /* The add of 0 leaves the zero as it is: a store the compiler keeps. */
    for (uint64_t off = 0; off < len; off += step)
        __atomic_fetch_add(first + off, (char)0, __ATOMIC_RELAXED);
}

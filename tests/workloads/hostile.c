/*
 * hostile.c — a program that does what daemons and harnesses do to their
 * descriptors, files and signals, to prove cuguard stays out of its way.
 *
 *   hostile closefds   closes every descriptor from 3 up, opens its own file
 *                      (it gets fd 3), makes enough calls to grow the trace,
 *                      and checks its file holds only what it wrote
 *   hostile dup2       opens its own file and dup2s it over every descriptor
 *                      above it, then the same
 *   hostile truncate N truncates its own trace file to N bytes mid-run and
 *                      keeps calling: must exit 0
 *   hostile resethand  installs a SIGSEGV handler with SA_RESETHAND, makes a
 *                      call, then faults: the handler runs once ("handler 1"),
 *                      then the process dies of SIGSEGV
 *
 * Must never: depend on cuguard (it runs the same untraced).
 */
#include <cuda.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void calls(int n)
{
    for (int i = 0; i < n; i++) {
        CUevent ev;
        if (cuEventCreate(&ev, 0) == CUDA_SUCCESS)
            cuEventDestroy(ev);
    }
}

/* cuInit and a current context (the primary one). */
static void setup(void)
{
    CUdevice dev;
    CUcontext ctx;
    cuInit(0);
    if (cuDeviceGet(&dev, 0) == CUDA_SUCCESS && cuDevicePrimaryCtxRetain(&ctx, dev) == CUDA_SUCCESS)
        cuCtxSetCurrent(ctx);
}

static int max_fd(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur > 65536)
        return 4096;
    return (int)rl.rlim_cur;
}

static int own_file_intact(int fd, const char *text)
{
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    size_t want = strlen(text);
    off_t end = lseek(fd, 0, SEEK_END);
    if (n != (ssize_t)want || end != (off_t)want || memcmp(buf, text, want) != 0) {
        printf("own file damaged: %zd bytes read, size %lld\n", n, (long long)end);
        return 1;
    }
    printf("own file intact\n");
    return 0;
}

static int descriptors(int dup_over)
{
    setup();
    calls(10);
    int top = max_fd();
    int fd;
    if (dup_over) {
        fd = open("own.txt", O_CREAT | O_TRUNC | O_RDWR, 0600);
        for (int i = fd + 1; i < top; i++)
            dup2(fd, i);
    } else {
        for (int i = 3; i < top; i++)
            close(i);
        fd = open("own.txt", O_CREAT | O_TRUNC | O_RDWR, 0600);
    }
    const char *text = "the application's own data\n";
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return 2;
    printf("own file on fd %d\n", fd);
    calls(100000); /* 200000 records: several new segments */
    return own_file_intact(fd, text);
}

static int truncate_trace(long size)
{
    setup();
    calls(10);
    const char *dir = getenv("CUGUARD_DIR");
    char pid[32], path[4096] = "";
    snprintf(pid, sizeof pid, "-%d-", (int)getpid());
    DIR *d = dir ? opendir(dir) : NULL;
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, pid))
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (d)
        closedir(d);
    if (path[0] && truncate(path, size) != 0)
        perror("truncate");
    CUevent leak;
    cuEventCreate(&leak, 0); /* never destroyed: the report must not call it a leak */
    calls(100000);
    printf("survived\n");
    return 0;
}

static volatile sig_atomic_t handled;

static void on_segv(int signo)
{
    (void)signo;
    handled++;
    char line[32];
    int n = snprintf(line, sizeof line, "handler %d\n", (int)handled);
    ssize_t w = write(STDOUT_FILENO, line, (size_t)n);
    (void)w;
    if (handled > 3)
        _exit(3); /* looping: the disposition was not reset */
}

static int resethand(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    setup();
    calls(3);
    volatile int *nowhere = NULL;
    return *nowhere; // cppcheck-suppress nullPointer ; the fault is the point
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    const char *mode = argc > 1 ? argv[1] : "";
    if (!strcmp(mode, "closefds"))
        return descriptors(0);
    if (!strcmp(mode, "dup2"))
        return descriptors(1);
    if (!strcmp(mode, "truncate") && argc > 2)
        return truncate_trace(atol(argv[2]));
    if (!strcmp(mode, "resethand"))
        return resethand();
    fprintf(stderr, "usage: hostile closefds|dup2|truncate SIZE|resethand\n");
    return 1;
}

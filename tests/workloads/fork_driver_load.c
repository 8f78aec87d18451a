/*
 * fork_driver_load.c — fork while another thread is loading the driver:
 * the workload of tests/e2e/78_fork_driver_load.sh.
 *
 * A thread makes the first CUDA call (cuEventQuery, a weak reference bound to the
 * preloaded shim: the program links no libcuda, so the shim must load the
 * driver itself), which makes the shim load the driver
 * (CUGUARD_LIBCUDA = slow_driver.so, whose constructor says when it began
 * and then takes its time). While that load is under way the main thread
 * forks; the child makes its own first CUDA call and exits. The parent
 * waits for the child up to --wait seconds (a hang detector, not a time
 * measure), kills it if it is still there, and joins the thread.
 *
 * Output: "child result=N" from the child, then "fork child exited" or
 * "fork child hung". Exit status 0 when the child exited 0, 1 otherwise.
 *
 * Must never: hang (the child is killed after --wait seconds).
 */
#include <cuda.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/workloads/common.h"

/* Bound at run time to the preloaded shim's cuEventQuery (NULL without it). */
extern CUresult CUDAAPI cuEventQuery(CUevent event) __attribute__((weak));

static void *first_call(void *unused)
{
    (void)unused;
    cuEventQuery(NULL);
    return NULL;
}

/* Returns the child's status, or -1 when it was still running after `seconds`. */
static int wait_or_kill(pid_t child, unsigned seconds)
{
    int status = 0;
    for (unsigned i = 0; i < seconds * 100; i++) {
        if (waitpid(child, &status, WNOHANG) == child)
            return status;
        wl_sleep_us(10000);
    }
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    return -1;
}

int main(int argc, char **argv)
{
    unsigned wait_s = 20;
    for (int i = 1; i < argc; i++)
        if (!wl_option_uint(argv[i], "--wait", 1, 600, &wait_s))
            wl_fail("usage: fork_driver_load [--wait=SECONDS]");
    if (cuEventQuery == NULL)
        wl_fail("fork_driver_load: no cuEventQuery (run it with libcuguard.so preloaded)");
    /* A first fork, before any CUDA call: a preloaded fork() wrapper that
     * looks up the real fork with dlsym (which waits for the loader lock a
     * dlopen holds) has done so before the fork that matters. */
    pid_t warm = fork();
    if (warm == 0)
        _exit(0);
    if (warm > 0)
        waitpid(warm, NULL, 0);
    int loading[2];
    char fd[16];
    if (pipe(loading) != 0)
        wl_fail("fork_driver_load: pipe failed");
    snprintf(fd, sizeof fd, "%d", loading[1]);
    setenv("SLOW_DRIVER_FD", fd, 1);
    pthread_t loader;
    if (pthread_create(&loader, NULL, first_call, NULL) != 0)
        wl_fail("fork_driver_load: pthread_create failed");
    char byte;
    if (read(loading[0], &byte, 1) != 1) /* the driver load has begun */
        wl_fail("fork_driver_load: the driver load never began");
    pid_t child = fork();
    if (child == 0) {
        int r = (int)cuEventQuery(NULL);
        wl_print("child result=%d\n", r);
        _exit(0);
    }
    int status = child > 0 ? wait_or_kill(child, wait_s) : -1;
    pthread_join(loader, NULL);
    wl_print("fork child %s\n", status == -1 ? "hung" : "exited");
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

/*
 * tests/workloads/crashcall.c — hands cuEventQuery a handle that makes the
 * driver fault (with tests/workloads/crashdriver.c as libcuda.so.1).
 *
 * Usage: crashcall foreign|destroyed|outside [--handler]
 *   foreign    query the address of an unrelated object whose second word
 *              is a bad pointer (the seed scenario's root cause, on a real driver)
 *   destroyed  query an event after destroying it
 *   outside    fault in the program itself, after one good query: the shim
 *              must record nothing for it
 *   --handler  install a SIGSEGV handler first that prints "handler ran"
 *              and exits with status 42 (the shim must chain to it)
 * Prints "foreign handle 0x..." / "event 0x..." before the fatal call.
 *
 * What it must never do: return normally from a mode (it exits 1 if the
 * fault did not happen).
 */
#include <cuda.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct unrelated {
    uint64_t refcount;
    void *type; /* what the driver takes for its state pointer */
};

static void on_segv(int signo)
{
    static const char msg[] = "handler ran\n";
    (void)signo;
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
    _exit(42);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: crashcall foreign|destroyed|outside [--handler]\n");
        return 2;
    }
    if (argc > 2 && strcmp(argv[2], "--handler") == 0)
        signal(SIGSEGV, on_segv);
    CUevent event;
    if (cuInit(0) != CUDA_SUCCESS || cuEventCreate(&event, 0) != CUDA_SUCCESS ||
        cuEventRecord(event, NULL) != CUDA_SUCCESS || cuEventQuery(event) != CUDA_SUCCESS) {
        fprintf(stderr, "crashcall: setup failed\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(argv[1], "foreign") == 0) {
        static struct unrelated object = {1, (void *)(uintptr_t)0x18};
        printf("foreign handle %p\n", (void *)&object);
        cuEventQuery((CUevent)(void *)&object);
    } else if (strcmp(argv[1], "destroyed") == 0) {
        printf("event %p\n", (void *)event);
        cuEventDestroy(event);
        cuEventQuery(event);
    } else if (strcmp(argv[1], "outside") == 0) {
        static int *volatile nowhere; /* NULL, unknown to the compiler */
        printf("faulting outside the driver\n");
        *nowhere = 1;
    }
    fprintf(stderr, "crashcall: no fault happened\n");
    return 1;
}

/*
 * test_fakecuda.c — Check suite for the simulated driver's single-threaded
 * surface: initialization, device queries, contexts, errors,
 * cuGetProcAddress(_v2) variant selection, device and pinned memory, the
 * FAKECUDA_FAIL knob, and the symbols the built libcuda.so.1 exports.
 * The driver sources are compiled into this binary (so the sanitized
 * builds cover them); the export test loads build/fakecuda/libcuda.so.1.
 *
 * Must never: depend on state left by another test (Check forks each test).
 */
#define __CUDA_API_VERSION_INTERNAL 1
#include "tests/unit/test_fakecuda_helpers.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- initialization and devices ---- */

START_TEST(test_calls_before_init_fail)
{
    CUdevice dev = 0;
    CUevent event = NULL;
    int version = 0;
    ck_assert_int_eq(cuDeviceGet(&dev, 0), CUDA_ERROR_NOT_INITIALIZED);
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_ERROR_NOT_INITIALIZED);
    ck_assert_int_eq(cuStreamQuery(NULL), CUDA_ERROR_NOT_INITIALIZED);
    ck_cu(cuDriverGetVersion(&version));
    ck_assert_int_eq(version, 13000);
    ck_assert_int_eq(cuInit(1), CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuInit(0));
    ck_cu(cuDeviceGet(&dev, 0));
}
END_TEST

START_TEST(test_device_queries)
{
    int count = 0, value = -1, major = 0, minor = 0;
    char name[128] = "";
    size_t total = 0;
    CUdevice dev = -1;
    CUuuid uuid;
    ck_cu(cuInit(0));
    ck_cu(cuDeviceGetCount(&count));
    ck_assert_int_eq(count, 1);
    ck_cu(cuDeviceGet(&dev, 0));
    ck_assert_int_eq(cuDeviceGet(&dev, 1), CUDA_ERROR_INVALID_DEVICE);
    ck_cu(cuDeviceGetName(name, sizeof name, 0));
    ck_assert(strlen(name) > 0);
    ck_cu(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0));
    ck_cu(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, 0));
    ck_assert_int_eq(major * 10 + minor, 90);
    ck_cu(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0));
    ck_assert_int_eq(value, 32);
    ck_cu(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, 0));
    ck_assert_int_gt(value, 0);
    ck_cu(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING, 0));
    ck_assert_int_eq(value, 1);
    ck_cu(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, 0));
    ck_assert_int_eq(value, 1024);
    ck_assert_int_eq(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_MAX, 0),
                     CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuDeviceGetAttribute(&value, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 3),
                     CUDA_ERROR_INVALID_DEVICE);
    ck_cu(cuDeviceTotalMem_v2(&total, 0));
    ck_assert(total >= ((size_t)1 << 30));
    ck_cu(cuDeviceGetUuid_v2(&uuid, 0));
    ck_cu(cuDeviceComputeCapability(&major, &minor, 0));
    ck_assert_int_eq(major, 9);
}
END_TEST

/* ---- contexts ---- */

START_TEST(test_no_current_context)
{
    CUstream stream = NULL;
    CUevent event = NULL;
    CUdeviceptr dptr = 0;
    CUcontext current = (CUcontext)0x1;
    ck_cu(cuInit(0));
    ck_cu(cuCtxGetCurrent(&current));
    ck_assert_ptr_null(current);
    ck_assert_int_eq(cuStreamCreate(&stream, 0), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuCtxSynchronize(), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuMemAlloc_v2(&dptr, 64), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuStreamQuery(NULL), CUDA_ERROR_INVALID_CONTEXT);
}
END_TEST

START_TEST(test_primary_context)
{
    CUcontext a = NULL, b = NULL, current = NULL;
    unsigned flags = 1;
    int active = -1;
    ck_cu(cuInit(0));
    ck_cu(cuDevicePrimaryCtxGetState(0, &flags, &active));
    ck_assert_int_eq(active, 0);
    ck_cu(cuDevicePrimaryCtxRetain(&a, 0));
    ck_cu(cuDevicePrimaryCtxRetain(&b, 0));
    ck_assert_ptr_eq(a, b);
    ck_cu(cuDevicePrimaryCtxGetState(0, &flags, &active));
    ck_assert_int_eq(active, 1);
    ck_cu(cuCtxSetCurrent(a));
    ck_cu(cuCtxGetCurrent(&current));
    ck_assert_ptr_eq(current, a);
    ck_cu(cuDevicePrimaryCtxRelease_v2(0));
    ck_cu(cuDevicePrimaryCtxRelease_v2(0));
    ck_assert_int_eq(cuDevicePrimaryCtxRelease_v2(0), CUDA_ERROR_INVALID_CONTEXT);
}
END_TEST

START_TEST(test_context_stack)
{
    CUcontext primary = NULL, created = NULL, v4 = NULL, popped = NULL, current = NULL;
    CUdevice dev = -1;
    CUstream stream = NULL;
    ck_cu(cuInit(0));
    ck_cu(cuDevicePrimaryCtxRetain(&primary, 0));
    ck_cu(cuCtxPushCurrent_v2(primary));
    ck_cu(cuCtxCreate_v2(&created, 0, 0));
    ck_cu(cuCtxGetCurrent(&current));
    ck_assert_ptr_eq(current, created);
    ck_assert_ptr_ne(created, primary);
    ck_cu(cuCtxGetDevice(&dev));
    ck_assert_int_eq(dev, 0);
    ck_cu(cuStreamCreate(&stream, 0));
    ck_cu(cuCtxPopCurrent_v2(&popped));
    ck_assert_ptr_eq(popped, created);
    ck_cu(cuCtxGetCurrent(&current));
    ck_assert_ptr_eq(current, primary);
    /* Destroying a context invalidates it and the streams it owned. */
    ck_cu(cuCtxDestroy_v2(created));
    ck_assert_int_eq(cuCtxSetCurrent(created), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuCtxPushCurrent_v2(created), CUDA_ERROR_INVALID_CONTEXT);
    ck_assert_int_eq(cuStreamQuery(stream), CUDA_ERROR_INVALID_HANDLE);
    ck_assert_int_eq(cuCtxDestroy_v2(primary), CUDA_ERROR_INVALID_CONTEXT);
    ck_cu(cuCtxCreate_v4(&v4, NULL, 0, 0));
    ck_cu(cuCtxCreate_v3(&created, NULL, 0, 0, 0));
    ck_cu(cuCtxCreate(&created, 0, 0));
    ck_cu(cuCtxSynchronize_v2(v4));
    ck_cu(cuCtxGetDevice_v2(&dev, v4));
    ck_cu(cuCtxPopCurrent_v2(NULL));
    ck_cu(cuCtxPopCurrent_v2(NULL));
    ck_cu(cuCtxPopCurrent_v2(NULL));
    ck_cu(cuCtxPopCurrent_v2(NULL));
    ck_assert_int_eq(cuCtxPopCurrent_v2(NULL), CUDA_ERROR_INVALID_CONTEXT);
}
END_TEST

/* ---- errors ---- */

START_TEST(test_error_names)
{
    const char *text = NULL;
    ck_cu(cuGetErrorName(CUDA_ERROR_INVALID_HANDLE, &text));
    ck_assert_str_eq(text, "CUDA_ERROR_INVALID_HANDLE");
    ck_cu(cuGetErrorName(CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED, &text));
    ck_assert_str_eq(text, "CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED");
    ck_cu(cuGetErrorString(CUDA_ERROR_NOT_READY, &text));
    ck_assert_str_eq(text, "device not ready");
    ck_assert_int_eq(cuGetErrorName((CUresult)12345, &text), CUDA_ERROR_INVALID_VALUE);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(cuGetErrorString(CUDA_SUCCESS, NULL), CUDA_ERROR_INVALID_VALUE);
}
END_TEST

/* ---- cuGetProcAddress ---- */

static void *lookup(const char *name, int version, cuuint64_t flags,
                    CUdriverProcAddressQueryResult *status)
{
    void *fn = (void *)0x1;
    ck_cu(cuGetProcAddress_v2(name, &fn, version, flags, status));
    return fn;
}

START_TEST(test_procaddr_versions)
{
    CUdriverProcAddressQueryResult status = 99;
    ck_assert_ptr_eq(lookup("cuEventDestroy", 2000, 0, &status), (void *)cuEventDestroy);
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_SUCCESS);
    ck_assert_ptr_eq(lookup("cuEventDestroy", 4000, 0, NULL), (void *)cuEventDestroy_v2);
    ck_assert_ptr_eq(lookup("cuStreamDestroy", 2000, 0, NULL), (void *)cuStreamDestroy);
    ck_assert_ptr_eq(lookup("cuStreamDestroy", 13000, 0, NULL), (void *)cuStreamDestroy_v2);
    ck_assert_ptr_eq(lookup("cuMemHostRegister", 6040, 0, NULL), (void *)cuMemHostRegister);
    ck_assert_ptr_eq(lookup("cuMemHostRegister", 6050, 0, NULL), (void *)cuMemHostRegister_v2);
    ck_assert_ptr_eq(lookup("cuMemcpyDtoHAsync", 3020, 0, NULL), (void *)cuMemcpyDtoHAsync_v2);
    ck_assert_ptr_eq(lookup("cuEventElapsedTime", 12000, 0, NULL), (void *)cuEventElapsedTime);
    ck_assert_ptr_eq(lookup("cuEventElapsedTime", 12080, 0, NULL), (void *)cuEventElapsedTime_v2);
    ck_assert_ptr_eq(lookup("cuCtxCreate", 12050, 0, NULL), (void *)cuCtxCreate_v4);
    ck_assert_ptr_eq(lookup("cuCtxCreate", 11040, 0, NULL), (void *)cuCtxCreate_v3);
    ck_assert_ptr_eq(lookup("cuGetProcAddress", 12000, 0, NULL), (void *)cuGetProcAddress_v2);
    ck_assert_ptr_eq(lookup("cuGetProcAddress", 11030, 0, NULL), (void *)cuGetProcAddress);
    ck_assert_ptr_eq(lookup("cuLaunchHostFunc", 10000, 0, NULL), (void *)cuLaunchHostFunc);
    ck_assert_ptr_null(lookup("cuLaunchHostFunc", 9020, 0, &status));
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
}
END_TEST

START_TEST(test_procaddr_per_thread_flag)
{
    const cuuint64_t ptds = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
    const cuuint64_t legacy = CU_GET_PROC_ADDRESS_LEGACY_STREAM;
    ck_assert_ptr_eq(lookup("cuMemcpyDtoHAsync", 13000, ptds, NULL),
                     (void *)cuMemcpyDtoHAsync_v2_ptsz);
    ck_assert_ptr_eq(lookup("cuMemcpyDtoHAsync", 13000, legacy, NULL),
                     (void *)cuMemcpyDtoHAsync_v2);
    ck_assert_ptr_eq(lookup("cuEventRecord", 13000, ptds, NULL), (void *)cuEventRecord_ptsz);
    ck_assert_ptr_eq(lookup("cuEventRecord", 13000, 0, NULL), (void *)cuEventRecord);
    ck_assert_ptr_eq(lookup("cuStreamSynchronize", 13000, ptds, NULL),
                     (void *)cuStreamSynchronize_ptsz);
    ck_assert_ptr_eq(lookup("cuMemcpyHtoD", 13000, ptds, NULL), (void *)cuMemcpyHtoD_v2_ptds);
    /* No per-thread variant: the plain one. */
    ck_assert_ptr_eq(lookup("cuEventQuery", 13000, ptds, NULL), (void *)cuEventQuery);
    ck_assert_ptr_eq(lookup("cuEventDestroy", 13000, ptds, NULL), (void *)cuEventDestroy_v2);
    /* Per-thread variant newer than the version asked for: the plain one. */
    ck_assert_ptr_eq(lookup("cuEventRecord", 6050, ptds, NULL), (void *)cuEventRecord);
}
END_TEST

START_TEST(test_procaddr_misses)
{
    CUdriverProcAddressQueryResult status = 99;
    void *fn = (void *)0x1;
    ck_assert_ptr_null(lookup("cuNoSuchFunction", 13000, 0, &status));
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    ck_assert_ptr_null(lookup("cuEventDestroy_v2", 13000, 0, &status));
    ck_assert_int_eq(status, CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
    ck_assert_ptr_null(lookup("cudnnCreate", 13000, 0, NULL));
    ck_assert_int_eq(cuGetProcAddress_v2("cuEventQuery", &fn, 13010, 0, &status),
                     CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuGetProcAddress_v2(NULL, &fn, 13000, 0, &status), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuGetProcAddress_v2("cuEventQuery", NULL, 13000, 0, NULL),
                     CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuGetProcAddress("cuNoSuchFunction", &fn, 13000, 0), CUDA_ERROR_NOT_FOUND);
    ck_assert_ptr_null(fn);
}
END_TEST

/* Every entry point a lookup can return behaves as its variant: the
 * pointer found for the base name must be callable with that signature. */
START_TEST(test_procaddr_pointer_is_callable)
{
    CUresult (*create)(CUevent *, unsigned int) = NULL;
    CUresult (*destroy)(CUevent) = NULL;
    CUevent event = NULL;
    start_driver();
    create = (CUresult(*)(CUevent *, unsigned int))lookup("cuEventCreate", 13000, 0, NULL);
    destroy = (CUresult(*)(CUevent))lookup("cuEventDestroy", 13000, 0, NULL);
    ck_cu(create(&event, 0));
    ck_cu(destroy(event));
    ck_assert_int_eq(destroy(event), CUDA_ERROR_INVALID_HANDLE);
}
END_TEST

/* ---- memory ---- */

START_TEST(test_device_memory)
{
    CUdeviceptr a = 0, b = 0;
    size_t free_before = 0, free_after = 0, total = 0;
    char in[256], out[256];
    start_driver();
    for (int i = 0; i < 256; i++)
        in[i] = (char)i;
    ck_cu(cuMemGetInfo_v2(&free_before, &total));
    ck_cu(cuMemAlloc_v2(&a, 256));
    ck_cu(cuMemAlloc_v2(&b, 256));
    ck_cu(cuMemGetInfo_v2(&free_after, &total));
    ck_assert_uint_eq(free_before - free_after, 512);
    ck_cu(cuMemcpyHtoD_v2(a, in, sizeof in));
    ck_cu(cuMemcpyDtoD_v2(b, a, sizeof in));
    memset(out, 0, sizeof out);
    ck_cu(cuMemcpyDtoH_v2(out, b, sizeof out));
    ck_assert_mem_eq(in, out, sizeof in);
    ck_cu(cuMemsetD8_v2(b, 0x5a, 16));
    ck_cu(cuMemcpyDtoH_v2(out, b, 16));
    ck_assert_int_eq(out[15], 0x5a);
    /* Device-side addresses must be memory the driver handed out. */
    ck_assert_int_eq(cuMemcpyHtoD_v2(a + 200, in, 100), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemcpyDtoH_v2(out, (CUdeviceptr)(uintptr_t)out, 8),
                     CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemAlloc_v2(&a, (size_t)1 << 40), CUDA_ERROR_OUT_OF_MEMORY);
    ck_cu(cuMemFree_v2(b));
    ck_assert_int_eq(cuMemFree_v2(b), CUDA_ERROR_INVALID_VALUE);
}
END_TEST

START_TEST(test_pinned_alloc)
{
    void *p = NULL, *q = NULL;
    unsigned flags = 0;
    CUdeviceptr dptr = 0;
    start_driver();
    ck_cu(cuMemAllocHost_v2(&p, 4096));
    ck_cu(cuMemHostAlloc(&q, 100, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE));
    ck_cu(cuMemHostGetFlags(&flags, q));
    ck_assert_uint_eq(flags, CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_PORTABLE);
    ck_cu(cuMemHostGetDevicePointer_v2(&dptr, q, 0));
    ck_assert_ptr_eq((void *)(uintptr_t)dptr, q);
    ck_assert_int_eq(cuMemHostAlloc(&q, 100, 0x80), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemHostUnregister(p), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemFreeHost((char *)p + 8), CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuMemFreeHost(p));
    ck_assert_int_eq(cuMemFreeHost(p), CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuMemFreeHost(q));
}
END_TEST

START_TEST(test_host_register)
{
    char *buffer = malloc(3 * 4096);
    char local = 0;
    void *pinned = NULL;
    start_driver();
    ck_cu(cuMemHostRegister_v2(buffer + 4096, 4096, 0));
    /* Overlap by a single byte on either side, or entirely. */
    ck_assert_int_eq(cuMemHostRegister_v2(buffer + 8191, 10, 0),
                     CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    ck_assert_int_eq(cuMemHostRegister_v2(buffer, 4097, 0),
                     CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    ck_assert_int_eq(cuMemHostRegister_v2(buffer + 4096, 4096, 0),
                     CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    ck_cu(cuMemHostRegister_v2(buffer, 4096, 0)); /* adjacent is fine */
    ck_assert_int_eq(cuMemHostUnregister(buffer + 4100), CUDA_ERROR_INVALID_VALUE);
    ck_assert_int_eq(cuMemHostUnregister(&local), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    ck_assert_int_eq(cuMemFreeHost(buffer), CUDA_ERROR_INVALID_VALUE);
    ck_cu(cuMemHostUnregister(buffer + 4096));
    ck_assert_int_eq(cuMemHostUnregister(buffer + 4096), CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED);
    ck_cu(cuMemHostUnregister(buffer));
    ck_cu(cuMemAllocHost_v2(&pinned, 64));
    ck_assert_int_eq(cuMemHostRegister_v2(pinned, 8, 0), CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED);
    ck_cu(cuMemFreeHost(pinned));
    free(buffer);
}
END_TEST

/* ---- FAKECUDA_FAIL ---- */

START_TEST(test_fail_knob)
{
    CUevent event = NULL;
    setenv("FAKECUDA_FAIL", "cuEventQuery:700:2,cuEventCreate:CUDA_ERROR_OUT_OF_MEMORY:1", 1);
    start_driver();
    ck_assert_int_eq(cuEventCreate(&event, 0), CUDA_ERROR_OUT_OF_MEMORY);
    ck_cu(cuEventCreate(&event, 0));
    ck_cu(cuEventQuery(event));
    ck_assert_int_eq(cuEventQuery(event), CUDA_ERROR_ILLEGAL_ADDRESS);
    ck_cu(cuEventQuery(event));
}
END_TEST

START_TEST(test_fail_knob_matches_every_variant)
{
    CUstream stream = NULL;
    setenv("FAKECUDA_FAIL", "cuStreamDestroy_v2:400:1", 1);
    start_driver();
    ck_cu(cuStreamCreate(&stream, 0));
    ck_assert_int_eq(cuStreamDestroy(stream), CUDA_ERROR_INVALID_HANDLE);
    ck_cu(cuStreamDestroy_v2(stream));
}
END_TEST

/* Runs cuInit with stderr captured; returns what it printed. */
static void capture_stderr_of_init(char *out, size_t size)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    int saved = dup(2);
    dup2(fds[1], 2);
    close(fds[1]);
    ck_cu(cuInit(0));
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    ssize_t got = read(fds[0], out, size - 1);
    out[got > 0 ? got : 0] = '\0';
    close(fds[0]);
}

START_TEST(test_bad_knobs_warn_once)
{
    char text[1024];
    setenv("FAKECUDA_DELAY_US", "soon", 1);
    setenv("FAKECUDA_FAIL", "cuEventQuery:700,nonsense:1:1", 1);
    setenv("FAKECUDA_STALL_STREAM", "-3", 1);
    capture_stderr_of_init(text, sizeof text);
    ck_assert_ptr_nonnull(strstr(text, "FAKECUDA_DELAY_US='soon'"));
    ck_assert_ptr_nonnull(strstr(text, "FAKECUDA_STALL_STREAM='-3'"));
    ck_assert_ptr_nonnull(strstr(text, "'cuEventQuery:700'"));
    ck_assert_ptr_nonnull(strstr(text, "'nonsense:1:1'"));
    int lines = 0;
    for (const char *c = text; *c; c++)
        lines += *c == '\n';
    ck_assert_int_eq(lines, 4);
    /* Ignored: the driver still works normally. */
    CUevent event = NULL;
    start_driver();
    ck_cu(cuEventCreate(&event, 0));
    ck_cu(cuEventQuery(event));
}
END_TEST

/* ---- the built shared library ---- */

static const char *const required_exports[] = {
    "cuInit",
    "cuDriverGetVersion",
    "cuDeviceGet",
    "cuDeviceGetCount",
    "cuDeviceGetName",
    "cuDeviceGetAttribute",
    "cuDeviceTotalMem_v2",
    "cuDevicePrimaryCtxRetain",
    "cuDevicePrimaryCtxRelease",
    "cuDevicePrimaryCtxRelease_v2",
    "cuCtxCreate",
    "cuCtxCreate_v2",
    "cuCtxCreate_v3",
    "cuCtxCreate_v4",
    "cuCtxDestroy",
    "cuCtxDestroy_v2",
    "cuCtxSetCurrent",
    "cuCtxGetCurrent",
    "cuCtxPushCurrent",
    "cuCtxPushCurrent_v2",
    "cuCtxPopCurrent",
    "cuCtxPopCurrent_v2",
    "cuCtxSynchronize",
    "cuMemGetInfo_v2",
    "cuMemAlloc_v2",
    "cuMemFree_v2",
    "cuGetErrorName",
    "cuGetErrorString",
    "cuGetProcAddress",
    "cuGetProcAddress_v2",
    "cuEventCreate",
    "cuEventRecord",
    "cuEventRecord_ptsz",
    "cuEventRecordWithFlags",
    "cuEventRecordWithFlags_ptsz",
    "cuEventQuery",
    "cuEventSynchronize",
    "cuEventDestroy",
    "cuEventDestroy_v2",
    "cuEventElapsedTime",
    "cuEventElapsedTime_v2",
    "cuStreamCreate",
    "cuStreamCreateWithPriority",
    "cuStreamDestroy",
    "cuStreamDestroy_v2",
    "cuStreamSynchronize",
    "cuStreamSynchronize_ptsz",
    "cuStreamQuery",
    "cuStreamQuery_ptsz",
    "cuStreamWaitEvent",
    "cuStreamWaitEvent_ptsz",
    "cuStreamGetId",
    "cuStreamGetId_ptsz",
    "cuStreamGetFlags",
    "cuStreamGetFlags_ptsz",
    "cuMemAllocHost",
    "cuMemAllocHost_v2",
    "cuMemHostAlloc",
    "cuMemFreeHost",
    "cuMemHostRegister",
    "cuMemHostRegister_v2",
    "cuMemHostUnregister",
    "cuMemHostGetDevicePointer_v2",
    "cuMemcpyAsync",
    "cuMemcpyAsync_ptsz",
    "cuMemcpyHtoDAsync_v2",
    "cuMemcpyHtoDAsync_v2_ptsz",
    "cuMemcpyDtoHAsync_v2",
    "cuMemcpyDtoHAsync_v2_ptsz",
    "cuMemcpyDtoDAsync_v2",
    "cuMemcpyDtoDAsync_v2_ptsz",
    "cuMemcpyHtoD_v2",
    "cuMemcpyHtoD_v2_ptds",
    "cuMemcpyDtoH_v2",
    "cuMemcpyDtoH_v2_ptds",
    "cuLaunchKernel",
    "cuLaunchKernel_ptsz",
    "cuLaunchHostFunc",
    "cuLaunchHostFunc_ptsz",
};

START_TEST(test_shared_library_exports)
{
    void *lib = dlopen("build/fakecuda/libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "dlopen: %s", dlerror());
    for (size_t i = 0; i < sizeof required_exports / sizeof required_exports[0]; i++)
        ck_assert_msg(dlsym(lib, required_exports[i]) != NULL, "%s not exported",
                      required_exports[i]);
    ck_assert_ptr_null(dlsym(lib, "fc_enter"));
    ck_assert_ptr_null(dlsym(lib, "fc_handle_open"));
    /* CUDA 13's _v2 of these takes an extra CUcontext: kept out of the
     * exports so "<name>_v2"-first ctypes probes (numba 0.56) stay correct. */
    ck_assert_ptr_null(dlsym(lib, "cuCtxSynchronize_v2"));
    ck_assert_ptr_null(dlsym(lib, "cuCtxGetDevice_v2"));
    /* The library's own table hands out its own exported variants. */
    CUresult (*get_proc)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *) =
        NULL;
    *(void **)&get_proc = dlsym(lib, "cuGetProcAddress_v2");
    void *fn = NULL;
    ck_cu(get_proc("cuMemcpyHtoDAsync", &fn, 13000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM,
                   NULL));
    ck_assert_ptr_eq(fn, dlsym(lib, "cuMemcpyHtoDAsync_v2_ptsz"));
    ck_cu(get_proc("cuEventDestroy", &fn, 13000, 0, NULL));
    ck_assert_ptr_eq(fn, dlsym(lib, "cuEventDestroy_v2"));
}
END_TEST

static Suite *fakecuda_suite(void)
{
    Suite *suite = suite_create("fakecuda");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_calls_before_init_fail);
    tcase_add_test(tc, test_device_queries);
    tcase_add_test(tc, test_no_current_context);
    tcase_add_test(tc, test_primary_context);
    tcase_add_test(tc, test_context_stack);
    tcase_add_test(tc, test_error_names);
    tcase_add_test(tc, test_procaddr_versions);
    tcase_add_test(tc, test_procaddr_per_thread_flag);
    tcase_add_test(tc, test_procaddr_misses);
    tcase_add_test(tc, test_procaddr_pointer_is_callable);
    tcase_add_test(tc, test_device_memory);
    tcase_add_test(tc, test_pinned_alloc);
    tcase_add_test(tc, test_host_register);
    tcase_add_test(tc, test_fail_knob);
    tcase_add_test(tc, test_fail_knob_matches_every_variant);
    tcase_add_test(tc, test_bad_knobs_warn_once);
    tcase_add_test(tc, test_shared_library_exports);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    SRunner *runner = srunner_create(fakecuda_suite());
    srunner_set_fork_status(runner, CK_FORK); /* each test needs a fresh driver */
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

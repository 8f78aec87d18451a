#!/usr/bin/python3
"""writeback.py -- the seed scenario (docs/design.md) in Python over ctypes.

The same program as build/workloads/writeback (see tests/workloads/writeback.h):
a producer copies results device->host into pooled pinned buffers, records one
event per batch shared by the batch's buffers, and hands each buffer to a
"watcher" thread that polls the event every millisecond, copies finished
buffers out and returns them to the pool; wait_all() spins until nothing is
pending. Several "tests" run in a row under a PYTEST_CURRENT_TEST marker. An
error from cuEventQuery raises in the watcher and ends it, as in the original.

The driver is loaded the way cuda-bindings loads it: ctypes.CDLL("libcuda.so.1"),
then cuGetProcAddress_v2 for every function. Output lines and exit status are
those of the C workload (tests/workloads/common.h): 0 correct data, 1 usage or
CUDA setup failure, 2 wrong data, 3 a wait gave up at --timeout.

Must never: import anything outside the standard library, or hang when
--timeout is given.
"""
import argparse
import ctypes
import os
import sys
import threading
import time

CUDA_VERSION = 13000
CUDA_SUCCESS = 0
CUDA_ERROR_NOT_READY = 600
CU_STREAM_NON_BLOCKING = 1
CU_EVENT_DISABLE_TIMING = 2
POISON = 0xDEADBEEF
FNV_SEED = 0xCBF29CE484222325
MASK64 = (1 << 64) - 1
BUGS = ("none", "leak", "shared-destroy", "foreign-handle", "watcher-dies",
        "reuse-inflight", "stale-stream", "hang")

VP = ctypes.c_void_p
U64 = ctypes.c_uint64
UINT = ctypes.c_uint
SIZE = ctypes.c_size_t
HOST_FN = ctypes.CFUNCTYPE(None, VP)

# Base name -> argument types; every one returns CUresult.
SIGNATURES = {
    "cuInit": [UINT],
    "cuDeviceGet": [ctypes.POINTER(ctypes.c_int), ctypes.c_int],
    "cuDevicePrimaryCtxRetain": [ctypes.POINTER(VP), ctypes.c_int],
    "cuDevicePrimaryCtxRelease": [ctypes.c_int],
    "cuCtxSetCurrent": [VP],
    "cuStreamCreate": [ctypes.POINTER(VP), UINT],
    "cuStreamDestroy": [VP],
    "cuStreamSynchronize": [VP],
    "cuEventCreate": [ctypes.POINTER(VP), UINT],
    "cuEventRecord": [VP, VP],
    "cuEventQuery": [VP],
    "cuEventDestroy": [VP],
    "cuMemHostAlloc": [ctypes.POINTER(VP), SIZE, UINT],
    "cuMemFreeHost": [VP],
    "cuMemAlloc": [ctypes.POINTER(U64), SIZE],
    "cuMemFree": [U64],
    "cuMemcpyHtoDAsync": [U64, VP, SIZE, VP],
    "cuMemcpyDtoHAsync": [VP, U64, SIZE, VP],
    "cuLaunchHostFunc": [VP, HOST_FN, VP],
}

output_lock = threading.Lock()


def emit(line):
    with output_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def thread_name():
    try:
        with open("/proc/thread-self/comm") as comm:
            return comm.read().strip()
    except OSError:
        return "?"


def hexa(value):
    """Like C's %#jx: "0" for zero, else 0x-prefixed hex."""
    return "%#x" % value if value else "0"


def log_call(api, handle, arg=0, arg2=0, result=0):
    emit("call %s handle=%s arg=%s arg2=%s result=%d thread=%s"
         % (api, hexa(handle), hexa(arg), hexa(arg2), result, thread_name()))


def log_spin(api, handle, count):
    if count:
        emit("spin %s handle=%s count=%d thread=%s" % (api, hexa(handle), count, thread_name()))


class CudaError(Exception):
    def __init__(self, api, result):
        super().__init__("%s failed with CUresult %d" % (api, result))
        self.result = result


def load_driver():
    """ctypes.CDLL + cuGetProcAddress_v2 for everything, like cuda-bindings."""
    lib = ctypes.CDLL("libcuda.so.1")
    getproc = lib.cuGetProcAddress_v2
    getproc.restype = ctypes.c_int
    getproc.argtypes = [ctypes.c_char_p, ctypes.POINTER(VP), ctypes.c_int, U64,
                        ctypes.POINTER(ctypes.c_int)]
    driver = {}
    for name, argtypes in SIGNATURES.items():
        pfn, status = VP(), ctypes.c_int(-1)
        result = getproc(name.encode(), ctypes.byref(pfn), CUDA_VERSION, 0, ctypes.byref(status))
        if result != CUDA_SUCCESS or not pfn.value or status.value != 0:
            raise SystemExit("writeback.py: cuGetProcAddress_v2(%s) gave result %d, status %d"
                             % (name, result, status.value))
        driver[name] = ctypes.CFUNCTYPE(ctypes.c_int, *argtypes)(pfn.value)
    return driver


def pattern(round_, item, word):
    """Same data as wl_pattern() in tests/workloads/common.c."""
    x = ((round_ << 42) ^ (item << 21) ^ word) & MASK64
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return (x ^ (x >> 31)) & 0xFFFFFFFF


def fnv1a(hash_, data):
    for byte in data:
        hash_ = ((hash_ ^ byte) * 0x100000001B3) & MASK64
    return hash_


def give_up(where, pending):
    emit("timeout %s pending=%d" % (where, pending))
    sys.stderr.write("writeback.py: %s still waiting for %d task(s) at the --timeout; giving up\n"
                     % (where, pending))
    sys.stderr.flush()
    os._exit(3)  # a stuck stream or dead watcher must not hold up interpreter exit


class Task:
    def __init__(self, slot, batch, result_offset, test):
        self.slot, self.batch, self.result_offset, self.test = slot, batch, result_offset, test
        self.query_handle = batch.event


class Batch:
    def __init__(self, size):
        self.event = None
        self.remaining = size
        self.not_ready = 0


class Writeback:
    def __init__(self, options, driver):
        self.o = options
        self.cu = driver
        self.bytes = options.words * 4
        self.deadline = time.monotonic() + options.timeout if options.timeout else None
        self.lock = threading.Lock()       # the task queue
        self.queue = []
        self.pending = 0
        self.pool_lock = threading.Lock()
        self.free_slots = []
        self.all_slots = []
        self.stop = False
        self.stream = None
        self.context = VP()
        self.results = bytearray()
        self.unrelated_object = ctypes.create_string_buffer(256)
        self.kernel = HOST_FN(self.simulated_kernel)
        self.hang_fn = HOST_FN(self.never_returns)
        self.cleanup_fn = HOST_FN(self.slow_cleanup)

    # ---- calls -----------------------------------------------------------
    def call(self, api, *args):
        result = self.cu[api](*args)
        if result != CUDA_SUCCESS:
            raise CudaError(api, result)
        return result

    def logged(self, api, handle_of, *args, arg=0, arg2=0):
        result = self.cu[api](*args)
        log_call(api, handle_of(), arg, arg2, result)
        if result != CUDA_SUCCESS:
            raise CudaError(api, result)

    # ---- stream work -----------------------------------------------------
    def simulated_kernel(self, _):
        time.sleep(self.o.work_us / 1e6)

    @staticmethod
    def never_returns(_):
        threading.Event().wait()

    @staticmethod
    def slow_cleanup(_):
        time.sleep(0.02)

    def first_bug_test(self):
        return 2 if self.o.tests >= 2 else 1

    def planted(self, bug, test):
        return self.o.bug == bug and test >= self.first_bug_test()

    def check_deadline(self, where):
        if self.deadline is not None and time.monotonic() > self.deadline:
            give_up(where, self.pending)

    # ---- setup -----------------------------------------------------------
    def open_context(self):
        device = ctypes.c_int()
        self.call("cuInit", 0)
        self.call("cuDeviceGet", ctypes.byref(device), 0)
        self.call("cuDevicePrimaryCtxRetain", ctypes.byref(self.context), device)
        self.call("cuCtxSetCurrent", self.context)
        self.device = device
        emit("setup context result=0")

    def host_alloc(self, size):
        pointer = VP()
        self.logged("cuMemHostAlloc", lambda: pointer.value, ctypes.byref(pointer), size, 0,
                    arg=size)
        return pointer.value

    def allocate(self):
        items = self.o.batches * self.o.per_batch
        for _ in range(self.o.buffers):
            self.all_slots.append(self.host_alloc(self.bytes))
        self.free_slots = list(reversed(self.all_slots))
        self.staging = self.host_alloc(items * self.bytes)
        self.source = U64()
        self.call("cuMemAlloc", ctypes.byref(self.source), items * self.bytes)

    # ---- pool ------------------------------------------------------------
    def pool_take(self):
        while True:
            with self.pool_lock:
                if self.free_slots:
                    return self.free_slots.pop()
            self.check_deadline("pool_take")
            time.sleep(0.001)

    def pool_put(self, slot):
        with self.pool_lock:
            self.free_slots.append(slot)

    # ---- watcher ---------------------------------------------------------
    def finish(self, task):
        ctypes.memmove((ctypes.c_char * self.bytes).from_buffer(self.results, task.result_offset),
                       task.slot, self.bytes)
        self.pool_put(task.slot)
        batch = task.batch
        batch.remaining -= 1
        if self.planted("shared-destroy", task.test):
            destroy = batch.event is not None
        else:
            destroy = batch.remaining == 0
        if destroy and self.o.bug != "leak":
            event = batch.event
            self.logged("cuEventDestroy", lambda: event, VP(event))
            batch.event = None
        self.pending -= 1

    def sweep(self):
        """One pass over the queue (lock held). Raises to end the watcher."""
        kept = []
        try:
            while self.queue:
                task = self.queue[0]
                result = self.cu["cuEventQuery"](VP(task.query_handle))
                if result == CUDA_ERROR_NOT_READY:
                    task.batch.not_ready += 1
                    if self.planted("watcher-dies", task.test):
                        log_spin("cuEventQuery", task.query_handle, task.batch.not_ready)
                        emit("watcher: dies (simulated exception) with %d task(s) in hand"
                             % (len(self.queue) + len(kept)))
                        raise RuntimeError("watcher died (planted by --bug=watcher-dies)")
                    if not self.planted("reuse-inflight", task.test):
                        kept.append(self.queue.pop(0))
                        continue
                    log_spin("cuEventQuery", task.query_handle, task.batch.not_ready)
                    task.batch.not_ready = 0
                    emit("watcher: task of test %d times out; buffer %#x returned unfinished"
                         % (task.test, task.slot))
                else:
                    log_spin("cuEventQuery", task.query_handle, task.batch.not_ready)
                    task.batch.not_ready = 0
                    log_call("cuEventQuery", task.query_handle, result=result)
                    if result != CUDA_SUCCESS:
                        emit("watcher: cuEventQuery failed with %d; exiting with %d task(s) in hand"
                             % (result, len(self.queue) + len(kept)))
                        raise CudaError("cuEventQuery", result)
                self.queue.pop(0)
                self.finish(task)
        finally:
            self.queue[:0] = kept

    def watcher(self):
        libc = ctypes.CDLL(None)
        libc.prctl(15, b"watcher", 0, 0, 0)  # PR_SET_NAME, as pthread_setname_np does
        self.call("cuCtxSetCurrent", self.context)
        while not self.stop:
            with self.lock:
                self.sweep()
            time.sleep(0.001)

    def wait_all(self):
        while self.pending:
            self.check_deadline("wait_all")
            time.sleep(0.0001)

    # ---- producer --------------------------------------------------------
    def upload_source(self, test):
        items = self.o.batches * self.o.per_batch
        words = (ctypes.c_uint32 * (items * self.o.words)).from_address(self.staging)
        for item in range(items):
            base = item * self.o.words
            for w in range(self.o.words):
                words[base + w] = pattern(test, item, w)
        size = items * self.bytes
        stream = self.stream
        self.logged("cuMemcpyHtoDAsync", lambda: stream, self.source, VP(self.staging), size,
                    VP(stream), arg=self.staging, arg2=size)

    def host_func(self, fn, data=None):
        stream = self.stream
        address = ctypes.cast(fn, VP).value
        self.logged("cuLaunchHostFunc", lambda: stream, VP(stream), fn, VP(data), arg=address)

    def produce_batch(self, test, b):
        slots = [self.pool_take() for _ in range(self.o.per_batch)]
        for slot in slots:
            ctypes.memmove(slot, (ctypes.c_uint32 * self.o.words)(*([POISON] * self.o.words)),
                           self.bytes)
        batch = Batch(self.o.per_batch)
        bug_here = test >= self.first_bug_test() and b == 0
        stream = self.stream
        with self.lock:
            if self.o.bug == "hang" and bug_here:
                self.host_func(self.hang_fn)
            self.host_func(self.kernel)
            for j, slot in enumerate(slots):
                item = b * self.o.per_batch + j
                self.logged("cuMemcpyDtoHAsync", lambda: stream, VP(slot),
                            self.source.value + item * self.bytes, self.bytes, VP(stream),
                            arg=slot, arg2=self.bytes)
            event = VP()
            self.logged("cuEventCreate", lambda: event.value, ctypes.byref(event),
                        CU_EVENT_DISABLE_TIMING, arg=CU_EVENT_DISABLE_TIMING)
            batch.event = event.value
            self.logged("cuEventRecord", lambda: batch.event, event, VP(stream), arg=stream)
            for j, slot in enumerate(slots):
                task = Task(slot, batch, (b * self.o.per_batch + j) * self.bytes, test)
                if self.o.bug == "foreign-handle" and bug_here:
                    # The address of another (zero-filled) object, not the event.
                    task.query_handle = ctypes.addressof(self.unrelated_object)
                self.queue.append(task)
                self.pending += 1

    def stream_create(self):
        stream = VP()
        self.logged("cuStreamCreate", lambda: stream.value, ctypes.byref(stream),
                    CU_STREAM_NON_BLOCKING, arg=CU_STREAM_NON_BLOCKING)
        self.stream = stream.value

    def stream_finish(self, stream):
        self.logged("cuStreamSynchronize", lambda: stream, VP(stream))
        self.logged("cuStreamDestroy", lambda: stream, VP(stream))

    def end_stream(self):
        if self.o.bug == "stale-stream":
            self.host_func(self.cleanup_fn)
        elif self.o.bug == "leak":
            self.stream = None
        else:
            self.stream_finish(self.stream)
            self.stream = None

    def checksums(self, test):
        items = self.o.batches * self.o.per_batch
        got = fnv1a(FNV_SEED, self.results)
        want_words = (ctypes.c_uint32 * (items * self.o.words))(
            *[pattern(test, item, w) for item in range(items) for w in range(self.o.words)])
        return got, fnv1a(FNV_SEED, bytes(want_words)), bytes(self.results), bytes(want_words)

    def run_test(self, test):
        os.environ["PYTEST_CURRENT_TEST"] = "tests/test_writeback.py::test_%d (call)" % test
        emit("test %d begin" % test)
        self.results = bytearray(self.o.batches * self.o.per_batch * self.bytes)
        if not (self.o.bug == "stale-stream" and self.stream is not None):
            self.stream_create()
        self.upload_source(test)
        for b in range(self.o.batches):
            self.produce_batch(test, b)
        self.wait_all()
        self.end_stream()
        got, want, got_bytes, want_bytes = self.checksums(test)
        emit("test %d end checksum=%#018x expected=%#018x" % (test, got, want))
        del os.environ["PYTEST_CURRENT_TEST"]
        return got_bytes, want_bytes

    def release(self):
        if self.stream is not None:
            self.stream_finish(self.stream)
        if self.o.bug != "leak":
            for pointer in self.all_slots + [self.staging]:
                self.logged("cuMemFreeHost", lambda p=pointer: p, VP(pointer))
        self.call("cuMemFree", self.source)

    def main(self):
        o = self.o
        emit("workload writeback bug=%s tests=%d batches=%d per_batch=%d buffers=%d words=%d"
             % (o.bug, o.tests, o.batches, o.per_batch, o.buffers, o.words))
        self.open_context()
        self.allocate()
        thread = threading.Thread(target=self.watcher, name="watcher", daemon=True)
        thread.start()
        got, want = FNV_SEED, FNV_SEED
        for test in range(1, o.tests + 1):
            got_bytes, want_bytes = self.run_test(test)
            got, want = fnv1a(got, got_bytes), fnv1a(want, want_bytes)
        self.stop = True
        thread.join()
        self.release()
        emit("checksum=%#018x expected=%#018x" % (got, want))
        return 0 if got == want else 2


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bug", choices=BUGS, default="none")
    for name, default in (("tests", 3), ("batches", 4), ("per-batch", 4), ("buffers", 8),
                          ("words", 1024), ("work-us", 2000), ("timeout", 0)):
        parser.add_argument("--" + name, type=int, default=default)
    options = parser.parse_args(argv)
    for name in ("tests", "batches", "per_batch", "buffers", "words"):
        if getattr(options, name) < 1:
            parser.error("--%s must be at least 1" % name.replace("_", "-"))
    if options.work_us < 0 or options.timeout < 0:
        parser.error("--work-us and --timeout cannot be negative")
    if options.buffers < options.per_batch:
        parser.error("--buffers must be at least --per-batch")
    return options


def main():
    options = parse(sys.argv[1:])
    try:
        driver = load_driver()
    except OSError as error:
        sys.stderr.write("writeback.py: cannot load libcuda.so.1: %s\n" % error)
        return 1
    try:
        return Writeback(options, driver).main()
    except CudaError as error:
        sys.stderr.write("writeback.py: %s\n" % error)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""wbscenario.py -- the seed scenario (docs/design.md) written with numba.cuda.

What it is for: the code under test of the pytest_writeback project. A
producer copies device results into pooled pinned buffers
(cuda.pinned_array) with copy_to_host(stream=), records one event per batch
shared by the batch's buffers, and hands every buffer to a watcher thread.
The watcher polls event.query() every millisecond, copies finished buffers
out and returns them to the pool; wait_all() spins on a pending counter until
it reaches zero or its timeout passes.

The planted bugs of the test project live here too, each behind an explicit
argument, so that a test that does not ask for one runs the correct code:
ForeignHandleEvent is the event wrapper of issue 7 (numba-cuda 0.17-0.27)
that hands cuEventQuery the address of a Python object instead of the handle.

Must never: touch CUDA at import time (the pytest-xdist controller imports the
test modules' conftest and never uses CUDA), wait without a bound unless the
caller asked for it (Pool.take(timeout=None) is the original code's unbounded
wait, used only by the reproduced case), or pass a foreign address to a real
driver unless the caller asked for the planted bug.
"""
import ctypes
import gc
import threading
import time

import numpy as np

POLL_S = 0.001  # the watcher polls every millisecond, as in the original suite
WORD = np.uint32


def cuda():
    """numba.cuda, imported at first use (never by the controller)."""
    from numba import cuda as numba_cuda
    return numba_cuda


def driver_module():
    from numba.cuda.cudadrv import driver
    return driver


def handle_value(handle):
    """The integer value of a numba handle (ctypes c_void_p or a cuda-bindings object)."""
    if handle is None:
        return 0
    if isinstance(handle, ctypes.c_void_p):
        return handle.value or 0
    return int(handle)


def release_cuda_objects():
    """Runs the finalizers of dropped numba objects and flushes numba's deferred
    deallocations, so every destroy happens now, in the calling test."""
    gc.collect()
    context = cuda().current_context()
    context.deallocations.clear()  # streams, events
    manager = getattr(context, "memory_manager", None)  # memory has its own queue
    queue = getattr(manager, "deallocations", None)
    if queue is not None:
        queue.clear()


def expected_words(test_seed, count, words):
    """The data a test uploads: distinct per test, per item and per word."""
    base = np.arange(count * words, dtype=np.uint64)
    return ((base * 2654435761 + test_seed * 97 + 12345) & 0xFFFFFFFF).astype(WORD)


def name_this_thread(name):
    """Sets the kernel's name of the calling thread (what cuguard reports),
    as pthread_setname_np does; Python's threading does not."""
    try:
        ctypes.CDLL(None).prctl(15, ctypes.c_char_p(name[:15]), 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


# ---- a slow "kernel" --------------------------------------------------------

_HOST_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_keep_alive = []  # host functions must outlive their launch
_libcuda = None


def _driver_library():
    global _libcuda
    if _libcuda is None:
        lib = getattr(driver_module().driver, "lib", None)
        _libcuda = lib if lib is not None else ctypes.CDLL("libcuda.so.1")
        _libcuda.cuLaunchHostFunc.restype = ctypes.c_int
        _libcuda.cuLaunchHostFunc.argtypes = [ctypes.c_void_p, _HOST_FN, ctypes.c_void_p]
    return _libcuda


def launch_sleep(stream, seconds):
    """Enqueues host work that takes SECONDS on STREAM (kernels are out of
    scope on the simulator; cuLaunchHostFunc plays one, as in writeback.py)."""
    callback = _HOST_FN(lambda _data: time.sleep(seconds))
    _keep_alive.append(callback)
    result = _driver_library().cuLaunchHostFunc(handle_value(stream.handle), callback, None)
    if result != 0:
        raise RuntimeError("cuLaunchHostFunc failed with CUresult %d" % result)


# ---- the planted wrapper bug ------------------------------------------------

def foreign_handle(handle):
    """The address of the Python object HANDLE (a numba event handle), typed
    like HANDLE: a ctypes c_void_p (numba's ctypes layer) or a cuda-bindings
    CUevent (numba-cuda with NVIDIA's binding)."""
    if isinstance(handle, ctypes.c_void_p):
        return ctypes.c_void_p(id(handle))
    return type(handle)(id(handle))


class ForeignHandleEvent:
    """PLANTED BUG (issue 7 item 4): an event wrapper whose query() passes
    cuEventQuery the address of a Python object -- the numba handle object --
    instead of the handle it holds. The driver refuses it and query() raises."""

    def __init__(self):
        self.event = cuda().event(timing=False)

    def record(self, stream):
        self.event.record(stream)

    def query(self):
        driver_module().driver.cuEventQuery(foreign_handle(self.event.handle))
        return True


# ---- pool, tasks, watcher ---------------------------------------------------

class Pool:
    """Pinned host buffers of WORDS words, handed out and returned."""

    def __init__(self, count, words):
        self.words = words
        self.buffers = [cuda().pinned_array(words, dtype=WORD) for _ in range(count)]
        self._free = list(self.buffers)
        self._cond = threading.Condition()

    def take(self, timeout):
        """A free buffer; waits for one to come back (forever if TIMEOUT is None)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._free:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError("no pinned buffer came back within %.1f s" % timeout)
                self._cond.wait(left)
            return self._free.pop()

    def put(self, buffer):
        with self._cond:
            self._free.append(buffer)
            self._cond.notify()

    def free_count(self):
        with self._cond:
            return len(self._free)

    def close(self):
        self.buffers = []
        self._free = []


class Batch:
    def __init__(self, event, size):
        self.event = event  # one event shared by every buffer of the batch
        self.remaining = size


class Task:
    def __init__(self, buffer, batch, item):
        self.buffer, self.batch, self.item = buffer, batch, item


class Writeback:
    """Producer side, watcher thread and wait_all() of the scenario."""

    def __init__(self, stream, pool, items, event_factory=None):
        self.stream = stream
        self.pool = pool
        self.words = pool.words
        self.results = np.zeros(items * self.words, dtype=WORD)
        self.event_factory = event_factory
        self._lock = threading.Lock()
        self._queue = []
        self.pending = 0
        self.finished = 0
        self.watcher_error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="watcher", daemon=True)

    # -- watcher --
    def start(self):
        self._thread.start()
        return self

    def _finish(self, task):
        start = task.item * self.words
        self.results[start:start + self.words] = task.buffer
        self.pool.put(task.buffer)
        task.batch.remaining -= 1
        if task.batch.remaining == 0:
            task.batch.event = None  # last buffer of the batch: the event goes
        self.finished += 1
        self.pending -= 1

    def _sweep(self):
        with self._lock:
            kept = []
            try:
                while self._queue:
                    task = self._queue.pop(0)
                    if task.batch.event.query():
                        self._finish(task)
                    else:
                        kept.append(task)
            finally:
                self._queue[:0] = kept

    def _watch(self):
        name_this_thread(b"watcher")
        try:
            while not self._stop.is_set():
                self._sweep()
                time.sleep(POLL_S)
        except Exception as error:  # the watcher dies, as in the original suite
            self.watcher_error = error
            raise

    def watcher_alive(self):
        return self._thread.is_alive()

    # -- producer --
    def submit_batch(self, device_array, first_item, count, take_timeout=10.0):
        """Copies items [first_item, first_item+count) of DEVICE_ARRAY into pool
        buffers, records one event for the batch and queues the buffers."""
        buffers = [self.pool.take(take_timeout) for _ in range(count)]
        event = self.event_factory() if self.event_factory else cuda().event(timing=False)
        batch = Batch(event, count)
        with self._lock:
            for j, buffer in enumerate(buffers):
                start = (first_item + j) * self.words
                device_array[start:start + self.words].copy_to_host(buffer, stream=self.stream)
            event.record(self.stream)
            for j, buffer in enumerate(buffers):
                self._queue.append(Task(buffer, batch, first_item + j))
                self.pending += 1

    def wait_all(self, timeout):
        """Spins until nothing is pending; TimeoutError after TIMEOUT seconds."""
        deadline = time.monotonic() + timeout
        while self.pending:
            if time.monotonic() > deadline:
                raise TimeoutError("wait_all: %d task(s) still pending after %.1f s"
                                   % (self.pending, timeout))
            time.sleep(0.0001)

    def close(self, join_timeout=5.0):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(join_timeout)
        return not self._thread.is_alive()


def run_writeback(stream, pool, items, per_batch, seed, timeout=10.0, event_factory=None):
    """One whole round: upload, batches, wait_all, close; returns (results, expected)."""
    expected = expected_words(seed, items, pool.words)
    device = cuda().to_device(expected, stream=stream)
    writeback = Writeback(stream, pool, items, event_factory).start()
    try:
        for first in range(0, items, per_batch):
            writeback.submit_batch(device, first, min(per_batch, items - first))
        writeback.wait_all(timeout)
    finally:
        writeback.close()
    return writeback.results, expected

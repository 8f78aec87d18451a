#!/usr/bin/python3
"""hang_watcher.py -- the seed's real hang on numba.cuda, for
tests/e2e/3C_python_hang.sh.

Usage: hang_watcher.py SHAPE [GIVE_UP_S]
A "watcher" thread polls each task's event with Event.query() and counts
finished tasks down; the main thread runs tests that copy to the device on
a stream, record an event and queue a task, then wait_all() sleeps in pure
Python until the counter is zero. In test 1 (the culprit) the task's
event is a handle no create returned (the address of an unrelated
buffer): cuEventQuery fails, numba raises CudaAPIError and the watcher
dies with the task in hand. SHAPE:
  nosync   the main thread never synchronizes: the real event is never
           seen complete (an orphaned wait);
  sync     the main thread calls stream.synchronize() first (every event
           is complete) and then waits on the counter (a quiet after a
           dead poller);
  none     the correct twin: every task's event is real; exits 0.
After GIVE_UP_S seconds (default 30) in wait_all the program prints
"hang_watcher gave up" and ends with os._exit(3).

The driver: NUMBA_CUDA_DRIVER as set by the caller (the simulator here).

Must never: wait without the give-up bound, or synchronize in shape nosync.
"""
import ctypes
import os
import sys
import threading
import time

import numpy as np
from numba import cuda
from numba.cuda.cudadrv import driver


class Tasks:
    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []
        self.pending = 0


def watch(tasks):
    ctypes.CDLL(None).prctl(15, b"watcher", 0, 0, 0)  # PR_SET_NAME: the thread's comm
    while True:
        with tasks.lock:
            queue = list(tasks.queue)
        for event in queue:
            if event.query():  # SITE:query
                with tasks.lock:
                    tasks.queue.remove(event)
                    tasks.pending -= 1
        time.sleep(0.001)


def wait_all(tasks, give_up):
    deadline = time.monotonic() + give_up
    # one line, so that every stack taken while it waits names it
    while tasks.pending and time.monotonic() < deadline: time.sleep(0.01)  # SITE:wait
    if tasks.pending:
        print("hang_watcher gave up")
        sys.stdout.flush()
        os._exit(3)


def run_test(n, shape, tasks, unrelated):
    os.environ["PYTEST_CURRENT_TEST"] = "tests/test_hang.py::test_%d (call)" % n
    stream = cuda.stream()
    cuda.to_device(np.arange(256, dtype=np.float32), stream=stream)
    event = cuda.event(timing=False)
    event.record(stream)
    if shape != "none" and n == 1:
        event = driver.Event(cuda.current_context(), ctypes.c_void_p(ctypes.addressof(unrelated)))
    with tasks.lock:
        tasks.queue.append(event)
        tasks.pending += 1
    return stream


def run(shape, give_up):
    """Both tests, as a pytest test may call it (tests/e2e/3C_python_hang.sh)."""
    if shape not in ("nosync", "sync", "none"):
        sys.exit("hang_watcher.py: SHAPE is nosync, sync or none")
    cuda.current_context()
    tasks = Tasks()
    unrelated = ctypes.create_string_buffer(256)
    threading.Thread(target=watch, args=(tasks,), name="watcher", daemon=True).start()
    for n in range(2):
        stream = run_test(n, shape, tasks, unrelated)
        if shape != "nosync":
            stream.synchronize()
        wait_all(tasks, give_up)


def main():
    run(sys.argv[1] if len(sys.argv) > 1 else "none", float(sys.argv[2]) if len(sys.argv) > 2 else 30.0)
    print("hang_watcher done")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""numba_snippet.py -- the numba.cuda snippet of issue 7 item 1, printing what
it did.

Runs unmodified numba.cuda code: cuda.stream(), cuda.event(),
event.record(stream), event.synchronize(), event.query(), event.wait(stream),
cuda.pinned_array(...), cuda.to_device(..., stream=),
copy_to_host(..., stream=), cuda.synchronize(), then drops every object and
flushes numba's deferred deallocations so the destroys happen before exit.

Output, one line per driver call the snippet causes (what cuguard must count):
    did API
where API is the base driver name (cuEventRecord, cuMemcpyHtoDAsync, ...),
then "checksum ok" when the data came back intact, and "snippet done".
Exit status: 0 when the data came back intact, 1 otherwise.

The driver: NUMBA_CUDA_DRIVER as set by the caller (the simulator's
build/fakecuda/libcuda.so.1 here; unset on a machine with a GPU).

Must never: wait without a bound on anything but CUDA itself, or query an
event before it was recorded (a trivially complete query is a finding).
"""
import gc
import sys

import numpy as np
from numba import cuda

WORDS = 4096


def did(api, count=1):
    for _ in range(count):
        print("did %s" % api)


def flush_deallocations():
    """Runs the finalizers of dropped numba objects now (numba defers them)."""
    gc.collect()
    context = cuda.current_context()
    context.deallocations.clear()
    manager = getattr(context, "memory_manager", None)
    queue = getattr(manager, "deallocations", None)
    if queue is not None:
        queue.clear()


def run():
    stream = cuda.stream()
    did("cuStreamCreate")
    other = cuda.stream()
    did("cuStreamCreate")
    event = cuda.event(timing=False)
    did("cuEventCreate")

    source = cuda.pinned_array(WORDS, dtype=np.uint32)
    did("cuMemHostAlloc")
    source[:] = np.arange(WORDS, dtype=np.uint32) * 7 + 3
    device = cuda.to_device(source, stream=stream)
    did("cuMemcpyHtoDAsync")
    back = cuda.pinned_array(WORDS, dtype=np.uint32)
    did("cuMemHostAlloc")
    device.copy_to_host(back, stream=stream)
    did("cuMemcpyDtoHAsync")

    event.record(stream)
    did("cuEventRecord")
    event.synchronize()
    did("cuEventSynchronize")
    complete = event.query()
    did("cuEventQuery")
    print("query after synchronize: %s" % complete)
    event.wait(other)
    did("cuStreamWaitEvent")
    cuda.synchronize()
    did("cuCtxSynchronize")

    intact = complete and np.array_equal(back, source)
    print("checksum %s" % ("ok" if intact else "WRONG"))
    return intact, [stream, other, event, source, back, device]


def main():
    intact, objects = run()
    objects.clear()
    flush_deallocations()
    did("cuStreamDestroy", 2)
    did("cuEventDestroy")
    did("cuMemFreeHost", 2)
    print("snippet done")
    sys.stdout.flush()
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())

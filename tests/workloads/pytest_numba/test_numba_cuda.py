"""test_numba_cuda.py -- a plain numba.cuda test file for cuguard's pytest
plugin (tests/e2e/57_pytest_plugin.sh): correct tests and tests with one
planted lifecycle bug each, run with `cuguard run --simulate -- pytest`.
The file knows nothing of cuguard: no import, no fixture, no marker of it.

  * test_*_correct: create, use and destroy; cuguard must name none of them;
  * test_leaks_event: an event kept in a module list (leak.event, known only
    after the process ended);
  * test_double_destroy, test_use_after_destroy, test_unknown_handle: a raw
    driver call through numba's driver layer with a destroyed or foreign
    event (the driver refuses them: live errors).

Must never: run the planted driver calls on a real GPU (a destroyed or
foreign handle can crash the real driver): they skip unless the driver is
cuguard's simulator (NUMBA_CUDA_DRIVER names tests/fakecuda's library).
"""
import ctypes
import gc
import os

import numpy as np
import pytest
from numba import cuda
from numba.cuda.cudadrv import drvapi
from numba.cuda.cudadrv.driver import CudaAPIError, driver

KEPT = []  # never emptied: its events outlive every test
SIMULATED = "fakecuda" in os.environ.get("NUMBA_CUDA_DRIVER", "")
simulator_only = pytest.mark.skipif(not SIMULATED, reason="planted driver misuse: simulator only")


def release():
    """Run the finalizers of dropped numba objects and flush numba's deferred
    deallocations (streams and events; memory has its own queue), so each
    object is destroyed in the test that made it."""
    gc.collect()
    context = cuda.current_context()
    context.deallocations.clear()
    queue = getattr(getattr(context, "memory_manager", None), "deallocations", None)
    if queue is not None:
        queue.clear()


def raw_event():
    cuda.current_context()
    handle = drvapi.cu_event()
    driver.cuEventCreate(ctypes.byref(handle), 0)
    return handle


def test_event_round_trip_correct():
    stream = cuda.stream()
    event = cuda.event(timing=False)
    event.record(stream)
    event.synchronize()
    assert event.query()
    del event, stream
    release()


def test_pinned_copy_correct():
    stream = cuda.stream()
    host = cuda.pinned_array(1024, dtype=np.uint32)
    host[:] = np.arange(1024, dtype=np.uint32)
    device = cuda.to_device(host, stream=stream)
    back = cuda.pinned_array(1024, dtype=np.uint32)
    device.copy_to_host(back, stream=stream)
    stream.synchronize()
    np.testing.assert_array_equal(back, host)
    del host, back, device, stream
    release()


def test_leaks_event():
    KEPT.append(cuda.event(timing=False))


@simulator_only
def test_double_destroy():
    handle = raw_event()
    driver.cuEventDestroy(handle)
    with pytest.raises(CudaAPIError):
        driver.cuEventDestroy(handle)


@simulator_only
def test_use_after_destroy():
    handle = raw_event()
    driver.cuEventDestroy(handle)
    with pytest.raises(CudaAPIError):
        driver.cuEventSynchronize(handle)


@simulator_only
def test_unknown_handle():
    cuda.current_context()
    foreign = drvapi.cu_event(id(KEPT))  # the address of a Python object
    with pytest.raises(CudaAPIError):
        driver.cuEventQuery(foreign)


def test_raw_event_correct():
    handle = raw_event()
    driver.cuEventRecord(handle, 0)
    driver.cuEventSynchronize(handle)
    driver.cuEventDestroy(handle)

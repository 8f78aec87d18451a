#!/usr/bin/python3
"""watchdog_probe.py -- driver-API programs for the watchdog's end-to-end tests.

  watchdog_probe.py app-handler   install a Python SIGUSR2 handler, make a
                                  driver call, send itself SIGUSR2; prints
                                  "app-handler-ran=N" (N = times it ran)
  watchdog_probe.py fork-stall S  make a failing call (the parent's watchdog
                                  starts), fork; the child initialises the
                                  driver, records an event on the first
                                  stream (stalled by FAKECUDA_STALL_STREAM=1)
                                  and polls it for S seconds; prints
                                  "child=PID event=0x.. stream=0x.." and the
                                  child's exit status as "child-status=N"
  watchdog_probe.py idle S        a correct program that then idles: a
                                  "watcher" thread polls an event until it
                                  completes and exits; a second event is
                                  recorded and never polled; then S seconds
                                  without a CUDA call; prints "idle-done"

Must never: import anything outside the standard library and shim_probe.py.
"""
import ctypes
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shim_probe  # noqa: E402


def app_handler():
    ran = []
    signal.signal(signal.SIGUSR2, lambda signo, frame: ran.append(signo))
    cuda = ctypes.CDLL("libcuda.so.1")
    cuda.cuEventQuery.argtypes = [ctypes.c_void_p]
    cuda.cuEventQuery(None)  # a traced call: the shim starts its watchdog now
    os.kill(os.getpid(), signal.SIGUSR2)
    time.sleep(0.2)
    print("app-handler-ran=%d" % len(ran), flush=True)
    return 0


def fork_stall(seconds):
    early = ctypes.CDLL("libcuda.so.1")
    early.cuEventQuery.argtypes = [ctypes.c_void_p]
    early.cuEventQuery(None)
    pid = os.fork()
    if pid == 0:
        cuda = shim_probe.load()
        stream = ctypes.c_void_p()
        if cuda.cuStreamCreate(ctypes.byref(stream), 1) != shim_probe.CUDA_SUCCESS:
            os._exit(1)
        event = shim_probe.new_event(cuda)
        if cuda.cuEventRecord(event, stream) != shim_probe.CUDA_SUCCESS:
            os._exit(1)
        print("child=%d event=%#x stream=%#x" % (os.getpid(), event.value, stream.value),
              flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            cuda.cuEventQuery(event)
            time.sleep(0.001)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("child-status=%d" % os.waitstatus_to_exitcode(status), flush=True)
    return 0


def idle(seconds):
    cuda = shim_probe.load()
    stream = ctypes.c_void_p()
    if cuda.cuStreamCreate(ctypes.byref(stream), 1) != shim_probe.CUDA_SUCCESS:
        return 1
    polled = shim_probe.new_event(cuda)
    never_polled = shim_probe.new_event(cuda)
    if cuda.cuEventRecord(polled, stream) != shim_probe.CUDA_SUCCESS:
        return 1

    def watch():
        while cuda.cuEventQuery(polled) == shim_probe.CUDA_ERROR_NOT_READY:
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, name="watcher")
    watcher.start()
    watcher.join()
    if cuda.cuEventRecord(never_polled, stream) != shim_probe.CUDA_SUCCESS:
        return 1
    time.sleep(seconds)
    print("idle-done", flush=True)
    return 0


def main(argv):
    if len(argv) == 2 and argv[1] == "app-handler":
        return app_handler()
    if len(argv) == 3 and argv[1] == "idle":
        return idle(float(argv[2]))
    if len(argv) == 3 and argv[1] == "fork-stall":
        return fork_stall(float(argv[2]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

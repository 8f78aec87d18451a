#!/usr/bin/python3
"""shim_probe.py -- small driver-API programs for the shim's end-to-end tests.

  shim_probe.py spin N          create a stream and an event, record the event
                                on the stream, query it N times; prints
                                "event=0x.. polls=N not_ready=M"
  shim_probe.py fork-exec PROG  make a call, fork a child that makes a call,
                                then run PROG as a separate (exec'd) process;
                                prints "parent=P child=C", and PROG's exit status
                                as "exec-status=S"
  shim_probe.py exit N          make one call, then exit with status N

The driver is libcuda.so.1 through ctypes (dlopen + dlsym, the dlsym route).
Exit status 0 when every call it checks succeeded (or N for "exit N"), 1 on
a failed setup call.

Must never: import anything outside the standard library, or run a
command given to it through a shell.
"""
import ctypes
import os
import subprocess
import sys

CUDA_SUCCESS = 0
CUDA_ERROR_NOT_READY = 600


def load():
    cuda = ctypes.CDLL("libcuda.so.1")
    for name in ("cuInit", "cuDeviceGet", "cuDevicePrimaryCtxRetain", "cuCtxSetCurrent",
                 "cuStreamCreate", "cuEventCreate", "cuEventRecord", "cuEventQuery",
                 "cuEventDestroy_v2"):
        getattr(cuda, name).restype = ctypes.c_int
    cuda.cuCtxSetCurrent.argtypes = [ctypes.c_void_p]
    cuda.cuEventRecord.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    cuda.cuEventQuery.argtypes = [ctypes.c_void_p]
    cuda.cuEventDestroy_v2.argtypes = [ctypes.c_void_p]
    device, context = ctypes.c_int(), ctypes.c_void_p()
    if (cuda.cuInit(0) != CUDA_SUCCESS or cuda.cuDeviceGet(ctypes.byref(device), 0) != CUDA_SUCCESS
            or cuda.cuDevicePrimaryCtxRetain(ctypes.byref(context), device) != CUDA_SUCCESS
            or cuda.cuCtxSetCurrent(context) != CUDA_SUCCESS):
        print("error: driver setup failed")
        sys.exit(1)
    return cuda


def new_event(cuda):
    event = ctypes.c_void_p()
    if cuda.cuEventCreate(ctypes.byref(event), 0) != CUDA_SUCCESS:
        print("error: cuEventCreate failed")
        sys.exit(1)
    return event


def spin(polls):
    cuda = load()
    stream = ctypes.c_void_p()
    if cuda.cuStreamCreate(ctypes.byref(stream), 1) != CUDA_SUCCESS:
        print("error: cuStreamCreate failed")
        return 1
    event = new_event(cuda)
    if cuda.cuEventRecord(event, stream) != CUDA_SUCCESS:
        print("error: cuEventRecord failed")
        return 1
    query = cuda.cuEventQuery
    not_ready = 0
    for _ in range(polls):
        if query(event) == CUDA_ERROR_NOT_READY:
            not_ready += 1
    print("event=%#x polls=%d not_ready=%d" % (event.value, polls, not_ready), flush=True)
    return 0


def fork_exec(program):
    cuda = load()
    new_event(cuda)
    child = os.fork()
    if child == 0:
        event = ctypes.c_void_p()
        result = cuda.cuEventCreate(ctypes.byref(event), 0)
        print("child-call result=%d" % result, flush=True)
        os._exit(0)
    _, status = os.waitpid(child, 0)
    print("parent=%d child=%d child-status=%d" % (os.getpid(), child, status), flush=True)
    done = subprocess.run([program], stdout=subprocess.DEVNULL, check=False)
    print("exec-status=%d" % done.returncode, flush=True)
    return 0 if status == 0 else 1


def exit_with(status):
    cuda = load()
    new_event(cuda)
    return status


def main(argv):
    if len(argv) == 3 and argv[1] == "spin":
        return spin(int(argv[2]))
    if len(argv) == 3 and argv[1] == "fork-exec":
        return fork_exec(argv[2])
    if len(argv) == 3 and argv[1] == "exit":
        return exit_with(int(argv[2]))
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

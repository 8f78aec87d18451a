"""A stand-in binding layer for the attribution tests (tests/e2e/4C_*).

It lives at .../cuda/bindings/driver.py, where cuda-bindings' driver module
lives, so `cuguard report` must fold its frames and name the caller's line.
The functions are looked up with ctypes (the dlsym route).

Stream is an owning allocation path as numba's is: the binding makes the
stream and, on close(), queues its destroy, flushing only when more than
DEFER_MAX are queued, never at exit (numba's deferred deallocations).

Must never: be imported by anything but tests/workloads/attrib_ctypes.py and
tests/workloads/residue_owner.py.
"""
import ctypes

_lib = ctypes.CDLL("libcuda.so.1")
VP = ctypes.c_void_p


def _fn(name, *argtypes):
    f = getattr(_lib, name)
    f.restype = ctypes.c_int
    f.argtypes = list(argtypes)
    return f


_init = _fn("cuInit", ctypes.c_uint)
_device_get = _fn("cuDeviceGet", ctypes.POINTER(ctypes.c_int), ctypes.c_int)
_retain = _fn("cuDevicePrimaryCtxRetain", ctypes.POINTER(VP), ctypes.c_int)
_set_current = _fn("cuCtxSetCurrent", VP)
_event_create = _fn("cuEventCreate", ctypes.POINTER(VP), ctypes.c_uint)
_event_destroy = _fn("cuEventDestroy_v2", VP)
_event_query = _fn("cuEventQuery", VP)
_stream_create = _fn("cuStreamCreate", ctypes.POINTER(VP), ctypes.c_uint)
_stream_destroy = _fn("cuStreamDestroy_v2", VP)
DEFER_MAX = 10
_deferred = []


def setup():
    dev, ctx = ctypes.c_int(), VP()
    if _init(0) or _device_get(ctypes.byref(dev), 0) or _retain(ctypes.byref(ctx), dev.value):
        raise SystemExit("attrib binding: CUDA setup failed")
    if _set_current(ctx):
        raise SystemExit("attrib binding: cuCtxSetCurrent failed")


def event_create():
    ev = VP()
    result = _event_create(ctypes.byref(ev), 0)
    if result:
        raise RuntimeError("cuEventCreate: %d" % result)
    return ev.value


def event_destroy(ev):
    return _event_destroy(ev)


def event_query(ev):
    return _event_query(ev)


def stream_create():
    st = VP()
    result = _stream_create(ctypes.byref(st), 0)
    if result:
        raise RuntimeError("cuStreamCreate: %d" % result)
    return st.value


def stream_destroy(st):
    return _stream_destroy(st)


class Stream:
    """A stream the binding owns: close() defers its destroy."""

    def __init__(self):
        self.handle = stream_create()

    def close(self):
        _deferred.append(self.handle)
        if len(_deferred) > DEFER_MAX:
            stream_destroy(_deferred.pop(0))

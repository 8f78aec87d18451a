"""A stand-in binding layer for the attribution tests (tests/e2e/4C_*).

It lives at .../cuda/bindings/driver.py, where cuda-bindings' driver module
lives, so `cuguard report` must fold its frames and name the caller's line.
The functions are looked up with ctypes (the dlsym route).

Must never: be imported by anything but tests/workloads/attrib_ctypes.py.
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

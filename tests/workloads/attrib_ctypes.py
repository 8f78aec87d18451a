#!/usr/bin/python3
"""attrib_ctypes.py -- a Python "test suite" over ctypes with planted bugs at
marked lines, for the attribution tests (tests/e2e/4C_*).

Usage: attrib_ctypes.py TESTS
Each of TESTS tests (PYTEST_CURRENT_TEST=attrib_ctypes.py::test_N) leaks one
event at SITE:py-leak and hands one event to a deferred-destroy pool that
keeps the newest POOL_SIZE events alive (destroying the oldest): at exit the
pool still holds POOL_SIZE events, which is residue, not a leak. Then one
query of a handle no create returned at SITE:py-foreign, from a thread
(the thread has a Python thread state and ctypes releases the GIL around
the call). Prints "attrib_ctypes done" at the end.

Must never: destroy the SITE:py-leak events, or import anything outside the
standard library and tests/workloads/attrib_py.
"""
import ctypes
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "attrib_py"))
from cuda.bindings import driver  # noqa: E402  (the stand-in binding layer)

POOL_SIZE = 10
leaked = []


class DeferredDestroyPool:
    """Destroys an event only once POOL_SIZE newer ones are queued."""

    def __init__(self):
        self.queue = []

    def release(self, ev):
        self.queue.append(ev)
        if len(self.queue) > POOL_SIZE:
            driver.event_destroy(self.queue.pop(0))


def leak_one():
    leaked.append(driver.event_create())  # SITE:py-leak


def pooled_event():
    return driver.event_create()  # SITE:py-pool


def query_foreign():
    junk = ctypes.create_string_buffer(64)
    driver.event_query(ctypes.addressof(junk))  # SITE:py-foreign


def main():
    tests = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    driver.setup()
    pool = DeferredDestroyPool()
    for i in range(tests):
        os.environ["PYTEST_CURRENT_TEST"] = "attrib_ctypes.py::test_%d (call)" % i
        leak_one()
        pool.release(pooled_event())
    del os.environ["PYTEST_CURRENT_TEST"]
    worker = threading.Thread(target=query_foreign, name="prober")
    worker.start()
    worker.join()
    print("attrib_ctypes done")


if __name__ == "__main__":
    main()

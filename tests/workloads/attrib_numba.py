#!/usr/bin/python3
"""attrib_numba.py -- numba.cuda code with a planted leak, for the
attribution test tests/e2e/4D_attrib_numba.sh.

Usage: attrib_numba.py TESTS
Each of TESTS tests (PYTEST_CURRENT_TEST=attrib_numba.py::test_N) creates one
event with cuda.event() at SITE:nb-leak and keeps it in a list for ever (the
leak), and one at SITE:nb-dropped that it drops: numba queues its destroy in
the context's deferred deallocations and carries it out only when the queue
is full, so the last ones are alive at the end (residue, not a leak). Prints
"attrib_numba done", then ends with os._exit(0), as a pytest-xdist worker
that is torn down does: numba's exit handlers, which would destroy what is
left, never run.

The driver: NUMBA_CUDA_DRIVER as set by the caller (the simulator here).

Must never: flush numba's deallocation queue (the residue is the point).
"""
import os
import sys

from numba import cuda

kept = []


def keep_event():
    kept.append(cuda.event(timing=False))  # SITE:nb-leak


def drop_event():
    event = cuda.event(timing=False)  # SITE:nb-dropped
    del event


def main():
    tests = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    cuda.current_context()
    for i in range(tests):
        os.environ["PYTEST_CURRENT_TEST"] = "attrib_numba.py::test_%d (call)" % i
        keep_event()
        drop_event()
    del os.environ["PYTEST_CURRENT_TEST"]
    print("attrib_numba done")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""residue_owner.py -- residue or leak: a deferral queue not flushed at exit,
and a line that never destroys, for tests/e2e/4G_residue_owner.sh.

Usage: residue_owner.py TESTS [leak]
Each of TESTS tests (PYTEST_CURRENT_TEST=residue_owner.py::test_N) makes a
stream the stand-in binding owns (driver.Stream at SITE:owned-stream) and
closes it: the binding defers the destroy and never flushes its queue at
exit, so the last DEFER_MAX streams stay live (residue). With "leak", the
last test also creates a stream straight through the driver call at
SITE:raw-leak and never destroys it: a true leak, although late (in the
last test) and single. Prints "residue_owner done" at the end.

Must never: destroy the SITE:raw-leak stream, flush the binding's queue, or
import anything outside the standard library and tests/workloads/attrib_py.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "attrib_py"))
from cuda.bindings import driver  # noqa: E402  (the stand-in binding layer)

kept = []


def use_stream(i):
    stream = driver.Stream()  # SITE:owned-stream
    stream.close()


def external_stream():
    kept.append(driver.stream_create())  # SITE:raw-leak


def main():
    tests = int(sys.argv[1])
    leak = len(sys.argv) > 2 and sys.argv[2] == "leak"
    driver.setup()
    for i in range(tests):
        os.environ["PYTEST_CURRENT_TEST"] = "residue_owner.py::test_%d (call)" % i
        use_stream(i)
        if leak and i == tests - 1:
            external_stream()
    del os.environ["PYTEST_CURRENT_TEST"]
    print("residue_owner done")


if __name__ == "__main__":
    main()

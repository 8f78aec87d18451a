"""hang_chain_check.py -- the diagnosis chain of tests/e2e/3C_python_hang.sh.

Usage: hang_chain_check.py REPORT.json QUERY_LINE WAIT_LINE
Asserts that the `diagnosis` of a `cuguard report --format json` document
reads, in this order: the culprit test (tests/test_hang.py::test_1) ->
CUDA_ERROR_INVALID_HANDLE from cuEventQuery on a handle no create returned
in thread "watcher" at hang_watcher.py:QUERY_LINE -> the watcher's exit ->
a later sentence with thread "MainThread" still in wait_all at
hang_watcher.py:WAIT_LINE with no CUDA progress. Prints the diagnosis and
one line per problem; exit 0 when all hold.

Must never: pass on an empty diagnosis.
"""
import json
import sys


def main():
    doc = json.load(open(sys.argv[1]))
    query, wait = sys.argv[2], sys.argv[3]
    chain = doc.get("diagnosis") or []
    text = "\n".join(chain)
    steps = [
        "test tests/test_hang.py::test_1",
        '"watcher"',
        "CUDA_ERROR_INVALID_HANDLE from cuEventQuery",
        "(a handle no create returned)",
        "in watch at hang_watcher.py:%s" % query,
        "then exited",
        '"MainThread" still in wait_all at hang_watcher.py:%s' % wait,
        "with no CUDA progress",
    ]
    at, problems = 0, []
    for step in steps:
        found = text.find(step, at)
        if found < 0:
            problems.append("the diagnosis lacks %r after offset %d" % (step, at))
            break
        at = found + len(step)
    if chain and problems == []:
        exit_line = next(i for i, s in enumerate(chain) if "then exited" in s)
        wait_line = next(i for i, s in enumerate(chain) if "still in wait_all" in s)
        if wait_line <= exit_line:
            problems.append("the wait_all sentence does not follow the watcher's exit")
    if not chain:
        problems.append("no diagnosis")
    for p in problems:
        print("  " + p)
    if problems:
        for i, s in enumerate(chain):
            print("  diagnosis %d: %s" % (i + 1, s))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

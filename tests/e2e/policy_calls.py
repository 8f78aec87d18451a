#!/usr/bin/python3
"""policy_calls.py -- compare two workload outputs for the policy tests.

usage: policy_calls.py [--any-order THREAD]... BASELINE OTHER

Both files are a workload's output (tests/workloads/common.h). They must
show the same checksum lines and the same "call" lines per thread, in
order: the same API, result and value arguments (flags, byte counts).
A thread named with --any-order must make the same calls, as many times
each, in any order: the writeback watchers query every task each sweep
and finish a task as soon as its event answers, so when the GPU completes
an event between two queries of one sweep a later batch finishes first,
with no policy on. A policy changes what a call returns or whether it is
made, which the count of each call still shows.
Handles and host addresses are left out: heap addresses, pool slots and
handle reuse differ from run to run of a threaded program. "spin" lines are
ignored (a policy may change how often a poller spins, not what it calls). Prints one line saying why they differ,
exits 1 then; 0 when they agree.
"""
import re
import sys
from collections import Counter

CALL = re.compile(r"^call (\S+) handle=(\S+) arg=(\S+) arg2=(\S+) result=(-?\d+) thread=(.*)$")
# An argument this large is an address, not a count: x86-64 executables that
# are not position-independent (Debian's python3) load at 0x400000, so their
# brk heap, where a driver's objects may come from, lies above 4 MiB; the
# workloads' counts (flags, byte counts) stay far below.
ADDRESS_MIN = 1 << 22


def value(text, handles):
    """Keep counts and flags; an address differs from run to run. A value the
    output names as a handle elsewhere is one whatever its size."""
    try:
        number = int(text, 0)
    except ValueError:
        return text
    return "addr" if number >= ADDRESS_MIN or number in handles else text


def normalise(path):
    per_thread = {}
    with open(path, errors="replace") as f:
        lines = [line.rstrip("\n") for line in f]
    calls = [m.groups() for m in map(CALL.match, lines) if m]
    handles = set()
    for _api, handle, _arg, _arg2, _result, _thread in calls:
        try:
            handles.add(int(handle, 0))
        except ValueError:
            pass
    handles.discard(0)
    checksums = [line for line in lines if "checksum=" in line]
    for api, _handle, arg, arg2, result, thread in calls:
        per_thread.setdefault(thread, []).append(
            (api, value(arg, handles), value(arg2, handles), result))
    return checksums, per_thread


def first_difference(calls, other):
    """Why two threads' call lists differ in order, or None."""
    for i, (a, b) in enumerate(zip(calls, other)):
        if a != b:
            return "call %d differs: %s vs %s" % (i + 1, a, b)
    if len(calls) != len(other):
        return "made %d calls, then %d" % (len(calls), len(other))
    return None


def count_difference(calls, other):
    """Why two threads' calls differ as counts of each call, or None."""
    base, then = Counter(calls), Counter(other)
    for call in sorted(set(base) | set(then)):
        if base[call] != then[call]:
            return "made %s %d time(s), then %d" % (call, base[call], then[call])
    return None


def main(argv):
    any_order = set()
    while len(argv) > 2 and argv[1] == "--any-order":
        any_order.add(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    base_sums, base_calls = normalise(argv[1])
    other_sums, other_calls = normalise(argv[2])
    if not base_sums:
        print("no checksum line in %s" % argv[1])
        return 1
    if base_sums != other_sums:
        print("checksums differ: %s vs %s" % (base_sums[-1:], other_sums[-1:]))
        return 1
    if sorted(base_calls) != sorted(other_calls):
        print("threads differ: %s vs %s" % (sorted(base_calls), sorted(other_calls)))
        return 1
    reordered = []
    for thread, calls in sorted(base_calls.items()):
        other = other_calls[thread]
        why = first_difference(calls, other)
        if why is not None and thread in any_order:
            why = count_difference(calls, other)
            if why is None:
                reordered.append(thread)
        if why is not None:
            print("thread %s %s" % (thread, why))
            return 1
    print("same checksums, same %d calls%s" % (
        sum(len(c) for c in base_calls.values()),
        "".join("; thread %s's in another order" % t for t in reordered)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

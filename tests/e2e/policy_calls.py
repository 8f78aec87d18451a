#!/usr/bin/python3
"""policy_calls.py -- compare two workload outputs for the policy tests.

usage: policy_calls.py BASELINE OTHER

Both files are a workload's output (tests/workloads/common.h). They must
show the same checksum lines and the same "call" lines per thread, in
order: the same API, result and value arguments (flags, byte counts).
Handles and host addresses are left out: heap addresses, pool slots and
handle reuse differ from run to run of a threaded program. "spin" lines are
ignored (a policy may change how often a poller spins, not what it calls). Prints one line saying why they differ,
exits 1 then; 0 when they agree.
"""
import re
import sys

CALL = re.compile(r"^call (\S+) handle=(\S+) arg=(\S+) arg2=(\S+) result=(-?\d+) thread=(.*)$")
ADDRESS_MIN = 1 << 24  # an argument this large is a handle or address, not a count


def value(text):
    """Keep counts and flags; an address differs from run to run."""
    try:
        return "addr" if int(text, 0) >= ADDRESS_MIN else text
    except ValueError:
        return text


def normalise(path):
    per_thread, checksums = {}, []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if "checksum=" in line:
                checksums.append(line)
            m = CALL.match(line)
            if not m:
                continue
            api, _handle, arg, arg2, result, thread = m.groups()
            per_thread.setdefault(thread, []).append((api, value(arg), value(arg2), result))
    return checksums, per_thread


def main(argv):
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
    for thread, calls in base_calls.items():
        other = other_calls[thread]
        for i, (a, b) in enumerate(zip(calls, other)):
            if a != b:
                print("thread %s call %d differs: %s vs %s" % (thread, i + 1, a, b))
                return 1
        if len(calls) != len(other):
            print("thread %s made %d calls, then %d" % (thread, len(calls), len(other)))
            return 1
    print("same checksums, same %d calls" % sum(len(c) for c in base_calls.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""dump_filter_check.py -- the filters of `cuguard dump`, checked against its
unfiltered output.

  dump_filter_check.py CUGUARD DIR

DIR holds one run of two processes (direct, then leaky with its
"leaky-creator" thread). Each filter (--pid, --tid, --handle, --kind,
--api, --since/--until, and combinations) must print exactly the record
lines of the unfiltered dump that satisfy it, in the same order, and at
least one but not all of them; --strings alone adds the string table.
A bad filter value is one message on stderr and exit 2.

Prints one line per check; exit 0 when all pass, 1 otherwise.
Must never: decide what a filter should keep from anything but the
unfiltered dump and the filter's documented meaning.
"""
import re
import subprocess
import sys

CUGUARD, DIR = sys.argv[1], sys.argv[2]
failures = []


def dump(*args):
    out = subprocess.run([CUGUARD, "dump", *args, DIR], capture_output=True,
                         text=True, timeout=60)
    if out.returncode != 0:
        failures.append("dump %s: exit %d: %s" % (" ".join(args), out.returncode,
                                                 out.stderr.strip()[:200]))
    return out.stdout.splitlines()


def parse(line):
    """A record line as (time or None, pid, tid, kind, api, {field: value})."""
    tok = line.split()
    time = None if tok[0] == "-" else float(tok[0])
    pid = int(tok[1].split("=")[1])
    tid = int(tok[2].split("=")[1])
    rest = line.split(" task=", 1)[1].split(" ", 1)[1]
    words = rest.split()
    kind = words[0]
    api = words[1] if len(words) > 1 and "=" not in words[1] else None
    fields = dict(m.groups() for m in re.finditer(r'(\w+)=(0x[0-9a-f]+|[0-9]+)\b', rest))
    return time, pid, tid, kind, api, fields


full = dump()
records = [l for l in full if not l.startswith("== ")]
parsed = [parse(l) for l in records]


def check(label, args, keep, header_pids=None):
    want = [l for l, p in zip(records, parsed) if keep(p)]
    got_all = dump(*args)
    got = [l for l in got_all if not l.startswith("== ")]
    if not want or len(want) == len(records):
        failures.append("%s: a bad test: it keeps %d of %d records" % (label, len(want), len(records)))
    elif got != want:
        failures.append("%s: %d lines, expected %d (first difference: %r)" % (
            label, len(got), len(want),
            next((g for g, w in zip(got, want) if g != w), (got + want)[min(len(got), len(want))])))
    else:
        print("ok: dump %s: %d of %d records" % (" ".join(args), len(got), len(records)))
    if header_pids is not None:
        pids = [int(re.search(r" pid=(\d+)", h).group(1)) for h in got_all if h.startswith("== ")]
        if pids != header_pids:
            failures.append("%s: trace headers of pids %s, expected %s" % (label, pids, header_pids))


if len(records) < 50 or any(p[3] == "string" for p in parsed):
    failures.append("unfiltered dump: %d records, string table shown=%s" % (
        len(records), any(p[3] == "string" for p in parsed)))

pids = sorted({p[1] for p in parsed})
if len(pids) != 2:
    print("FAIL: expected 2 processes in the dump, got %s" % pids)
    sys.exit(1)
leaky_pid = next(int(re.search(r" pid=(\d+)", h).group(1)) for h in full
                 if h.startswith("== ") and 'leaky"' in h)
check("--pid", ["--pid", str(leaky_pid)], lambda p: p[1] == leaky_pid, [leaky_pid])

creator = next(p[2] for p in parsed if p[1] == leaky_pid and p[2] != leaky_pid)
check("--tid", ["--tid", str(creator)], lambda p: p[2] == creator)

event = next(p[5]["event"] for p in parsed if p[4] == "cuEventCreate" and p[1] == pids[0])
check("--handle", ["--handle", event], lambda p: event in p[5].values())
# A stream is the argument of cuEventRecord and cuStreamWaitEvent too.
stream = next(p[5]["stream"] for p in parsed if p[4] == "cuStreamCreate" and p[1] == pids[0])
check("--handle stream", ["--handle", stream], lambda p: stream in p[5].values())
check("--handle decimal", ["--handle", str(int(event, 16))], lambda p: event in p[5].values())

check("--kind", ["--kind", "spin,enter"], lambda p: p[3] in ("spin", "enter"))
check("--api", ["--api", "cuEventDestroy"],
      lambda p: p[4] is not None and re.fullmatch(r"cuEventDestroy(_v\d+)?", p[4]) is not None)

# dump prints times cut to the microsecond: a record printed T happened in
# [T, T + 1 us). --since T_LO keeps exactly the records printed T_LO or
# later; --until (T_NEXT - 1 ns) exactly those printed before T_NEXT.
times = sorted({p[0] for p in parsed if p[0] is not None})
lo, next_hi = times[len(times) // 4], times[3 * len(times) // 4]
check("--since --until", ["--since", "%.6f" % lo, "--until", "%.9f" % (next_hi - 1e-9)],
      lambda p: p[0] is not None and lo <= p[0] < next_hi)
check("--pid --kind --api", ["--pid", str(leaky_pid), "--kind", "exit", "--api", "cuMemFreeHost"],
      lambda p: p[1] == leaky_pid and p[3] == "exit" and p[4] is not None
      and p[4].startswith("cuMemFreeHost"))

with_strings = [l for l in dump("--strings") if not l.startswith("== ")]
strings = [l for l in with_strings if parse(l)[3] == "string"]
if not strings:
    failures.append("--strings: no string table records")
elif [l for l in with_strings if parse(l)[3] != "string"] != records:
    failures.append("--strings changed the other records")
else:
    print("ok: dump --strings: the string table (%d records) only on demand" % len(strings))

for bad in (["--pid", "12x"], ["--tid", "-1"], ["--handle", "0xzz"], ["--kind", "calls"],
            ["--since", "soon"], ["--until", "-3"]):
    out = subprocess.run([CUGUARD, "dump", *bad, DIR], capture_output=True, text=True, timeout=60)
    lines = out.stderr.strip().splitlines()
    if out.returncode != 2 or len(lines) != 1 or out.stdout:
        failures.append("dump %s: exit %d, %d stderr lines, %d bytes on stdout; expected "
                        "exit 2 and one message" % (" ".join(bad), out.returncode, len(lines),
                                                    len(out.stdout)))

for f in failures:
    print("FAIL: " + f)
sys.exit(1 if failures else 0)

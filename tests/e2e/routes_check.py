#!/usr/bin/python3
"""routes_check.py -- compare what a workload says it called with `cuguard dump`.

Usage: routes_check.py [--runtime] [--per-thread] [--subset] WORKLOAD_OUTPUT DUMP_OUTPUT

The workload prints one line per lifecycle call it made
("call API handle=H arg=A arg2=B result=R thread=T") and one per run of
NOT_READY polls ("spin API handle=H count=N thread=T"), see
tests/workloads/common.h. The dump must show each of those calls exactly
once (a CALL or EXIT record, matched by API, handle, result and the call's
other non-zero arguments), the NOT_READY polls as spin records whose counts
add up per (API, handle), and no lifecycle record the workload did not
report. Driver routes must carry no via=runtime mark; with --runtime every
lifecycle record must carry it (the runtime workload names cuda* functions,
mapped to the driver functions cudart calls). With --per-thread every call of
an API that has a per-thread variant must be that variant (ptsz). With
--subset (a workload killed mid-run) only the first direction is checked:
every call and poll the workload reported is in the dump.

The wrapped APIs and their per-thread variants are read from shim/api.def,
the CUresult values from cuda.h: nothing here is a hard-coded expectation.
Prints one line per problem and exits 1 if there is any, else 0.

Must never: accept a dump it could not parse as matching.
"""
import collections
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CUDA_H = os.environ.get("CUDA_H", "/usr/local/cuda/include/cuda.h")

# cuda* function -> the driver functions it may call (the runtime workload).
RUNTIME_MAP = {
    "cudaStreamCreate": ("cuStreamCreate", "cuStreamCreateWithPriority"),
    "cudaStreamCreateWithFlags": ("cuStreamCreate", "cuStreamCreateWithPriority"),
    "cudaStreamCreateWithPriority": ("cuStreamCreateWithPriority",),
    "cudaStreamDestroy": ("cuStreamDestroy",),
    "cudaStreamSynchronize": ("cuStreamSynchronize",),
    "cudaStreamQuery": ("cuStreamQuery",),
    "cudaStreamWaitEvent": ("cuStreamWaitEvent",),
    "cudaEventCreate": ("cuEventCreate",),
    "cudaEventCreateWithFlags": ("cuEventCreate",),
    "cudaEventRecord": ("cuEventRecord", "cuEventRecordWithFlags"),
    "cudaEventRecordWithFlags": ("cuEventRecordWithFlags", "cuEventRecord"),
    "cudaEventQuery": ("cuEventQuery",),
    "cudaEventSynchronize": ("cuEventSynchronize",),
    "cudaEventElapsedTime": ("cuEventElapsedTime",),
    "cudaEventDestroy": ("cuEventDestroy",),
    "cudaMallocHost": ("cuMemAllocHost", "cuMemHostAlloc"),
    "cudaHostAlloc": ("cuMemHostAlloc",),
    "cudaFreeHost": ("cuMemFreeHost",),
    "cudaHostRegister": ("cuMemHostRegister",),
    "cudaHostUnregister": ("cuMemHostUnregister",),
    "cudaMemcpyAsync": ("cuMemcpyAsync", "cuMemcpyHtoDAsync", "cuMemcpyDtoHAsync",
                        "cuMemcpyDtoDAsync"),
    "cudaLaunchHostFunc": ("cuLaunchHostFunc",),
    "cudaDeviceSynchronize": ("cuCtxSynchronize",),
}
# Runtime calls whose driver calls the workload does not list one by one:
# each may account for up to this many via=runtime records of these APIs.
RUNTIME_EXPANSIONS = {
    "cudaMemcpy": (2, ("cuMemcpyAsync", "cuMemcpyHtoDAsync", "cuMemcpyDtoHAsync",
                       "cuMemcpyDtoDAsync", "cuStreamSynchronize", "cuCtxSynchronize")),
}
CREATES = {"cuEventCreate", "cuStreamCreate", "cuStreamCreateWithPriority", "cuMemAllocHost",
           "cuMemHostAlloc"}
SUFFIXES = ("_ptsz", "_ptds", "_v2", "_v3")


def base_name(name):
    changed = True
    while changed:
        changed = False
        for suffix in SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                changed = True
    return name


def read_api_def():
    bases, per_thread = set(), set()
    row = re.compile(r"^CG_API\((\w+),\s*(\w+),\s*(\d+),\s*([01]),")
    with open(os.path.join(ROOT, "shim", "api.def")) as f:
        for line in f:
            m = row.match(line)
            if m:
                bases.add(m.group(2))
                if m.group(4) == "1":
                    per_thread.add(m.group(2))
    return bases, per_thread


def read_results():
    values = {}
    with open(CUDA_H) as f:
        for m in re.finditer(r"\b(CUDA_(?:SUCCESS|ERROR_\w+))\s*=\s*(\d+)", f.read()):
            values.setdefault(m.group(1), int(m.group(2)))
    return values


def number(text):
    try:
        return int(text, 0)
    except ValueError:
        return None


WORKLOAD_CALL = re.compile(r"^call (\w+) handle=(\S+) arg=(\S+) arg2=(\S+) result=(-?\d+)")
WORKLOAD_SPIN = re.compile(r"^spin (\w+) handle=(\S+) count=(\d+)")


def read_workload(path):
    calls, spins = [], collections.Counter()
    with open(path, errors="replace") as f:
        for line in f:
            m = WORKLOAD_CALL.match(line)
            if m:
                calls.append({"api": m.group(1), "handle": number(m.group(2)),
                              "args": [number(m.group(3)), number(m.group(4))],
                              "result": int(m.group(5)), "line": line.strip()})
                continue
            m = WORKLOAD_SPIN.match(line)
            if m:
                spins[(base_name(m.group(1)), number(m.group(2)))] += int(m.group(3))
    return calls, spins


DUMP_LINE = re.compile(r'^\s*\S+ pid=\d+ tid=(\d+) task=("(?:[^"\\]|\\.)*"|\S+) (\S+)(.*)$')
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')
NOT_VALUES = {"result", "site", "via", "count", "first", "last", "task", "stack"}


def read_dump(path, results):
    records, problems = [], []
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("=="):
                continue
            m = DUMP_LINE.match(line)
            if not m:
                if line.strip():
                    problems.append("unparsable dump line: " + line.strip())
                continue
            kind, rest = m.group(3), m.group(4)
            if kind not in ("call", "enter", "exit", "spin"):
                continue
            words = rest.split()
            if not words:
                problems.append("dump line without API: " + line.strip())
                continue
            rec = {"kind": kind, "api": words[0], "base": base_name(words[0]),
                   "tid": int(m.group(1)), "values": [], "via": " via=runtime" in rest,
                   "ptsz": " ptsz" in rest.split(" site=")[0], "line": line.strip(),
                   "result": None, "count": 0}
            for label, value in FIELD.findall(rest):
                if label == "result":
                    rec["result"] = results.get(value, number(value))
                elif label == "count":
                    rec["count"] = int(value)
                elif label not in NOT_VALUES:
                    rec["values"].append(number(value))
            records.append(rec)
    return records, problems


def expected_bases(call, runtime):
    if runtime:
        return RUNTIME_MAP.get(call["api"], ())
    return (base_name(call["api"]),)


def matches(call, rec, bases, runtime, results):
    if rec["base"] not in bases or rec["result"] != call["result"]:
        return False
    first = rec["values"][0] if rec["values"] else 0
    wildcard = runtime and call["handle"] == 0 and rec["base"] in CREATES
    if not wildcard and first != call["handle"]:
        return False
    if runtime:
        return True
    present = set(rec["values"])
    return all(a == 0 or a in present for a in call["args"])


def check(args):
    runtime = "--runtime" in args
    per_thread = "--per-thread" in args
    subset = "--subset" in args
    files = [a for a in args if not a.startswith("--")]
    if len(files) != 2:
        print(__doc__.split("\n\n")[1])
        return 2
    bases, ptsz_bases = read_api_def()
    results = read_results()
    calls, spins = read_workload(files[0])
    records, problems = read_dump(files[1], results)
    lifecycle = [c for c in calls if any(b in bases for b in expected_bases(c, runtime))]
    if not lifecycle:
        problems.append("the workload reported no lifecycle call")
    finished = [r for r in records if r["kind"] in ("call", "exit") and r["base"] in bases]
    used = [False] * len(finished)
    for call in lifecycle:
        want = expected_bases(call, runtime)
        for i, rec in enumerate(finished):
            if not used[i] and matches(call, rec, want, runtime, results):
                used[i] = True
                break
        else:
            problems.append("not in the dump (or not once): " + call["line"])
    budget = collections.Counter()
    if runtime:
        for call in calls:
            if call["api"] in RUNTIME_EXPANSIONS:
                most, apis = RUNTIME_EXPANSIONS[call["api"]]
                for api in apis:
                    budget[api] += most
    for i, rec in enumerate(finished):
        if used[i] or subset:
            continue
        if runtime and rec["via"] and budget[rec["base"]] > 0:
            budget[rec["base"]] -= 1
            continue
        problems.append("in the dump but not reported by the workload: " + rec["line"])
    entered = collections.Counter((r["tid"], r["api"]) for r in records if r["kind"] == "enter")
    exited = collections.Counter((r["tid"], r["api"]) for r in records if r["kind"] == "exit")
    if entered != exited and not subset:
        problems.append("enter and exit records do not pair: %s vs %s" % (entered, exited))
    spun = collections.Counter()
    for r in records:
        if r["kind"] == "spin":
            spun[(r["base"], r["values"][0] if r["values"] else 0)] += r["count"]
    if runtime:
        spins = collections.Counter({(RUNTIME_MAP.get(api, (api,))[0], h): n
                                     for (api, h), n in spins.items()})
    short = {k: n for k, n in spins.items() if spun[k] < n}
    if (spun != spins and not subset) or short:
        problems.append("NOT_READY polls differ: workload %s, dump %s" % (dict(spins), dict(spun)))
    for r in records:
        if r["base"] not in bases:
            continue
        if r["via"] != runtime:
            problems.append("via=runtime mark %s: %s" % ("missing" if runtime else "wrong",
                                                       r["line"]))
        if per_thread and r["base"] in ptsz_bases and not r["ptsz"]:
            problems.append("not the per-thread variant: " + r["line"])
        if not per_thread and r["ptsz"]:
            problems.append("per-thread variant without --per-thread: " + r["line"])
    for p in problems:
        print(p)
    print("%d lifecycle calls reported, %d records in the dump, %d spin polls: %s"
          % (len(lifecycle), len(finished), sum(spins.values()),
             "match" if not problems else "%d problems" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1:]))

#!/usr/bin/python3
"""docs/gen_wrapped_api.py -- writes docs/wrapped-api.md from shim/api.def.

Usage: gen_wrapped_api.py            rewrite docs/wrapped-api.md
       gen_wrapped_api.py --check    exit 1 if docs/wrapped-api.md is stale

Every row of the X-macro table becomes one line of the list (exported name,
cuGetProcAddress base name and version, per-thread variant, how it is
recorded); WHY says, per base name, why cuguard wraps it. A base name with no
WHY entry is an error, so a new row cannot go undocumented.

Must never: guess a reason, or write anything but docs/wrapped-api.md.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API_DEF = os.path.join(ROOT, "shim", "api.def")
OUT = os.path.join(ROOT, "docs", "wrapped-api.md")

WHY = {
    "cuEventCreate": "creates an event: the start of its lifetime (leaks, reuse of the value)",
    "cuEventRecord": "starts a new record epoch of the event: what a query or wait then means",
    "cuEventRecordWithFlags": "the same as cuEventRecord (flags recorded)",
    "cuEventQuery": "polling: completion seen by a thread, spins, pollers that give up",
    "cuEventSynchronize": "blocking wait: completion seen, hangs (ENTER without EXIT)",
    "cuEventDestroy": "ends the event: use-after-destroy, double destroy, destroy while waited",
    "cuEventElapsedTime": "uses two events: use of a destroyed or unrecorded event",
    "cuStreamCreate": "creates a stream (its cuStreamGetId is recorded too)",
    "cuStreamCreateWithPriority": "creates a stream",
    "cuStreamDestroy": "ends a stream: pending work, use after destroy",
    "cuStreamSynchronize": "blocking wait: everything before it on the stream completed",
    "cuStreamQuery": "polling a stream: completion seen",
    "cuStreamWaitEvent": "cross-stream ordering (happens-before)",
    "cuStreamAddCallback": "a callback that ran proves the work before it completed; wrapped "
                           "by hand: a trampoline writes a CALLBACK record when it runs",
    "cuStreamBeginCapture": "work and event records between begin and end are captured "
                            "into a graph, not run: a record there is not a record",
    "cuStreamEndCapture": "ends a capture (see cuStreamBeginCapture)",
    "cuCtxCreate": "creates a context: objects created in it end with it",
    "cuCtxDestroy": "ends a context and every object in it",
    "cuDevicePrimaryCtxReset": "ends the primary context and every object in it",
    "cuDevicePrimaryCtxRelease": "dropping the last retain destroys the primary context",
    "cuCtxSynchronize": "blocking wait for all work of the context",
    "cuMemAllocHost": "pinned allocation: lifetime, reuse while copies are in flight",
    "cuMemHostAlloc": "pinned allocation",
    "cuMemFreeHost": "ends a pinned allocation; synchronizes the device (blocking)",
    "cuMemHostRegister": "pins program memory: lifetime of the registration",
    "cuMemHostUnregister": "ends a registration",
    "cuMemcpyAsync": "asynchronous copy: pinned memory in flight, stream work",
    "cuMemcpyHtoDAsync": "asynchronous copy from host memory",
    "cuMemcpyDtoHAsync": "asynchronous copy into host memory",
    "cuMemcpyDtoDAsync": "asynchronous device copy: stream work",
    "cuLaunchKernel": "stream work an event record or synchronize waits for",
    "cuLaunchHostFunc": "stream work run on a driver thread",
    "cuGetProcAddress": "the lookup route: hands out the shim's wrapper for every wrapped "
                        "function (records nothing)",
}

STYLES = {
    "CALL": "one CALL record after the call",
    "CREATE": "CALL, then CONTEXT when the thread's context changed",
    "RECORD": "CALL; starts a record epoch",
    "POLL": "CALL on success; NOT_READY folds into a SPIN",
    "BLOCKING": "ENTER before, EXIT after",
    "BLOCKING_DESTROY": "ENTER before; EXIT reserved and stamped before the call",
    "DESTROY": "CALL reserved and stamped before the call",
    "NEW_STREAM": "CALL, STREAM_ID, then CONTEXT when changed",
    "WITH_ARGS": "CALL + ARGS",
    "ENTRY": "wrapped by hand",
}

HEADER = """# Wrapped driver and runtime functions

Generated from `shim/api.def` by `docs/gen_wrapped_api.py` (run it after
editing the table; `tests/e2e/56_wrapped_api_doc.sh` fails when this file is
stale). cuguard wraps the CUDA calls that begin, use, wait for or end the
life of an event, a stream, a pinned host buffer or a context, and the work
whose completion those waits prove. Each wrapper forwards to the real
driver's own variant and records per its style (record kinds and fields:
`tracer/format.h`). Every wrapped function is reachable on every route:
direct binding, `dlsym`, and `cuGetProcAddress`.

A teardown (`DESTROY`, `BLOCKING_DESTROY`) takes its record's slot and
timestamp before the real call: the driver may hand the freed value to
another thread's create before the teardown returns, and the trace must
never put that create first.
"""

NOT_WRAPPED = """
## Deliberately not wrapped

| function | why not |
|---|---|
| `cuCtxResetPersistingL2Cache` | resets the L2 persisting lines; no object begins or ends |
| `cuCtxPushCurrent`, `cuCtxPopCurrent`, `cuCtxSetCurrent` | change which context is current, not any object's life; the shim reads the current context with the real `cuCtxGetCurrent` after each create (CONTEXT records) instead |
| `cuDevicePrimaryCtxRetain` | the context lives on; what ends it (reset, last release) is wrapped |
| `cuMemAlloc`, `cuMemFree`, `cuMemAllocManaged`, `cuMemGetAddressRange` | device memory is not tracked (no host-side lifetime hazard cuguard reports) |
| `cuMemcpy*` (synchronous), `cuMemset*` | synchronous: nothing is in flight after they return |
| `cuStreamGetId`, `cuStreamGetFlags`, `cuStreamGetPriority`, `cuStreamGetCtx` | getters; the shim calls the real `cuStreamGetId` itself after a stream create |
| `cuProfilerStart`, `cuProfilerStop` | no lifecycle effect |
| `cuGraph*`, `cuStreamBeginCaptureToGraph` | graphs are not modelled; capture begin/end are recorded so captured records can be told apart |
| `cuLaunchHostFunc` trampoline | recorded as a CALL (handle=stream, arg=function, arg2=user data); unlike `cuStreamAddCallback` its run is not recorded yet |
"""


def rows():
    text = open(API_DEF).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"#ifndef.*?#endif", "", text, flags=re.S)
    for match in re.finditer(r"\bCG_(API|ENTRY|RUNTIME)\(\s*(\w+)\s*,([^)]*)", text):
        macro, symbol, rest = match.group(1), match.group(2), match.group(3)
        fields = [f.strip() for f in rest.split(",")]
        if macro == "RUNTIME":
            yield macro, symbol, None, None, None, None
        elif macro == "ENTRY":
            yield macro, symbol, fields[0], fields[1], fields[2], "ENTRY"
        else:
            yield macro, symbol, fields[0], fields[1], fields[2], fields[3]


def render():
    driver, runtime, missing = [], [], []
    for macro, symbol, base, version, per_thread, style in rows():
        if macro == "RUNTIME":
            runtime.append(symbol)
            continue
        why = WHY.get(base)
        if why is None:
            missing.append(base)
            why = "?"
        driver.append("| `%s` | `%s` %s | %s | %s | %s |"
                      % (symbol, base, version, "yes" if per_thread == "1" else "",
                         STYLES.get(style, style), why))
    if missing:
        raise SystemExit("gen_wrapped_api.py: no WHY entry for %s" % ", ".join(sorted(set(missing))))
    out = [HEADER, "## Driver API (%d entry points)\n" % len(driver),
           "| exported name | cuGetProcAddress name, version | per-thread | recorded as | why |",
           "|---|---|---|---|---|"] + driver
    out += ["", "## Runtime API (%d functions)\n" % len(runtime),
            "Wrapped only so that the driver calls they make carry `CG_FLAG_VIA_RUNTIME` and "
            "the program's call site (the runtime's own driver calls are what is recorded):\n",
            ", ".join("`%s`" % name for name in runtime), NOT_WRAPPED]
    return "\n".join(out)


def main():
    text = render()
    if sys.argv[1:] == ["--check"]:
        current = open(OUT).read() if os.path.exists(OUT) else ""
        if current != text:
            print("docs/wrapped-api.md is stale: run docs/gen_wrapped_api.py")
            return 1
        print("ok: docs/wrapped-api.md matches shim/api.def")
        return 0
    with open(OUT, "w") as handle:
        handle.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

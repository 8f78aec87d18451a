#!/usr/bin/python3
"""pytest_writeback_check.py -- the checks of tests/e2e/50..53 (issue 7), on
the output of `cuguard report --format json` and `cuguard dump`.

Usage: pytest_writeback_check.py CHECK ARGS...   (exit 0 = pass, 1 = fail)
  snippet  SNIPPET_OUT REPORT_JSON
  workers  REPORT_JSON CONTROLLER_PID WORKERS_THAT_RAN
  findings REPORT_JSON MANIFEST_JSON correct|bugs
  repro    REPORT_JSON MANIFEST_JSON DUMP TIMEOUT_S
  sigkill  REPORT_JSON MANIFEST_JSON KILLED_TEST_ID

Finding kinds of issue 5 (poller-exited, stall, cross-task-use,
pending-at-task-end, ...) and the report's diagnosis are required:
ISSUE5_READY = True makes their absence a failure (False would turn each
such check into a printed "TODO(issue 5): ..." line).

Must never: hard-code handles, counts or pids that the run itself printed or
recorded; crash on a malformed document (one FAIL line instead).
"""
import json
import re
import sys

ISSUE5_READY = True  # issue 5's finding kinds and diagnosis exist
ISSUE5_KINDS = {"poller-exited", "stall", "cross-task-use", "pending-at-task-end",
                "destroy-while-waited", "record-while-polled", "pinned-reuse-while-inflight",
                "stream-destroy-with-pending", "shared-event"}
SERIOUS = ("error", "warning")
XDIST_WORKER_ARGV = "exec(eval(sys.stdin.readline()))"

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def ok(message):
    print("ok: " + message)


def todo(message):
    if ISSUE5_READY:
        fail(message)
    else:
        print("TODO(issue 5): " + message)


def load(path):
    with open(path) as handle:
        return json.load(handle)


def base_name(api):
    return re.sub(r"(_v\d+|_ptsz|_ptds)+$", "", api or "")


def serious(report):
    return [f for f in report["findings"] if f["severity"] in SERIOUS]


def describe(finding):
    return "%s on %s (task %s, thread %s)" % (finding["kind"], finding.get("api"),
                                             finding.get("task"), finding.get("thread"))


# ---- snippet ------------------------------------------------------------------

def check_snippet(snippet_out, report_path):
    report = load(report_path)
    said = {}
    with open(snippet_out) as out:
        for line in out:
            if line.startswith("did "):
                api = line.split()[1]
                said[api] = said.get(api, 0) + 1
    recorded = {}
    for api, count in report["summary"]["calls"].items():
        recorded[base_name(api)] = recorded.get(base_name(api), 0) + count
    if not said:
        fail("the snippet printed no 'did' lines")
    if said != recorded:
        fail("calls differ: snippet did %r, report counted %r" % (said, recorded))
    else:
        ok("report calls match the snippet: %r" % said)
    if len(report["processes"]) != 1:
        fail("%d processes, want 1" % len(report["processes"]))
    for finding in serious(report):
        fail("finding on the correct snippet: " + describe(finding))


# ---- one trace per worker -----------------------------------------------------

def check_workers(report_path, controller_pid, workers_ran):
    report = load(report_path)
    processes = report["processes"]
    pids = [p["pid"] for p in processes]
    if controller_pid in pids:
        fail("the controller (pid %d) left a trace" % controller_pid)
    if len(set(pids)) != len(pids):
        fail("two traces for one pid: %r" % pids)
    if len(processes) != workers_ran:
        fail("%d traces, want one per worker that ran tests (%d)" % (len(processes), workers_ran))
    for p in processes:
        if p["ppid"] != controller_pid:
            fail("trace of pid %d has ppid %d, not the controller %d"
                 % (p["pid"], p["ppid"], controller_pid))
        if XDIST_WORKER_ARGV not in " ".join(p["argv"]):
            fail("trace of pid %d is not an xdist worker: argv %r" % (p["pid"], p["argv"]))
        if not p["complete"]:
            fail("worker pid %d did not end cleanly" % p["pid"])
    if not failures:
        ok("%d traces, one per worker, none for controller %d" % (len(processes), controller_pid))


# ---- planted findings on the right tests --------------------------------------

def planted_tests(manifest):
    return {test: entry for test, entry in manifest.items() if entry["planted"] is not None}


def check_attribution(report, manifest, ran=None):
    """Every serious finding sits on a planted test and is one of its kinds;
    returns {test: set(kinds found)}."""
    planted = planted_tests(manifest)
    found = {}
    for finding in serious(report):
        task = finding.get("task")
        entry = planted.get(task)
        if entry is None:
            kind = "a correct test" if task in manifest else "no known test"
            fail("%s: %s" % (kind, describe(finding)))
            continue
        if finding["kind"] not in set(entry["planted"]) | set(entry["allowed"]):
            fail("unexpected kind on planted test: " + describe(finding))
            continue
        found.setdefault(task, set()).add(finding["kind"])
    return found


def check_planted(found, manifest, selected):
    for test, entry in sorted(planted_tests(manifest).items()):
        if test not in selected:
            continue
        for kind in entry["planted"]:
            if kind in found.get(test, set()):
                ok("%s: %s" % (test, kind))
            elif kind in ISSUE5_KINDS:
                todo("%s should carry %s" % (test, kind))
            else:
                fail("%s: planted %s not reported" % (test, kind))


def check_findings(report_path, manifest_path, selection):
    """SELECTION: 'correct' (the default run: no planted test ran) or 'bugs'
    (--bugs without the repro and sigkill tests)."""
    report, manifest = load(report_path), load(manifest_path)
    if selection not in ("correct", "bugs"):
        raise ValueError("selection %r is neither 'correct' nor 'bugs'" % selection)
    selected = [t for t, e in manifest.items()
                if "repro" not in e["markers"] and "sigkill" not in e["markers"] and
                (selection == "bugs" or e["planted"] is None)]
    found = check_attribution(report, {t: manifest[t] for t in selected})
    check_planted(found, manifest, selected)
    correct = [t for t in selected if manifest[t]["planted"] is None]
    if correct and not failures:
        ok("no error or warning finding on the %d correct tests" % len(correct))


# ---- the reproduced case --------------------------------------------------------

DUMP_LINE = re.compile(r'^\s*(?P<time>[\d.]+) pid=(?P<pid>\d+) tid=(?P<tid>\d+) '
                       r'task=(?P<task>"(?:[^"\\]|\\.)*"|-) (?P<kind>[a-z-]+)(?P<rest>.*)$')


def parse_dump(path):
    """{pid: [record dict, ...]} in trace order; complete flag per pid."""
    records, complete, pid = {}, {}, None
    with open(path, errors="replace") as dump:
        for line in dump:
            if line.startswith("== trace "):
                pid = int(re.search(r" pid=(\d+)", line).group(1))
                complete[pid] = " complete=yes" in line
                records.setdefault(pid, [])
                continue
            match = DUMP_LINE.match(line)
            if not match or match["kind"] == "string":
                continue
            rest = match["rest"].split()
            records.setdefault(int(match["pid"]), []).append({
                "time": float(match["time"]), "tid": int(match["tid"]),
                "task": match["task"].strip('"'), "kind": match["kind"],
                "api": rest[0] if rest and "=" not in rest[0] else None, "line": line.strip()})
    return records, complete


def field(record, name):
    match = re.search(r" %s=(\S+)" % name, record["line"])
    return match.group(1).strip('"') if match else None


def check_repro(report_path, manifest_path, dump_path, timeout_s):
    report, manifest = load(report_path), load(manifest_path)
    repro = [t for t, e in manifest.items() if "repro" in e["markers"]]
    culprit = [t for t in repro if "unknown-handle" in manifest[t]["planted"]]
    victim = [t for t in repro if "stall" in manifest[t]["planted"]]
    if len(culprit) != 1 or len(victim) != 1:
        fail("manifest: want one repro test planting unknown-handle and one stall: %r" % repro)
        return
    culprit, victim = culprit[0], victim[0]
    found = check_attribution(report, manifest)
    check_planted(found, manifest, repro)

    # The report: the culprit test, the unknown-handle on cuEventQuery by the watcher.
    unknown = [f for f in report["findings"] if f["kind"] == "unknown-handle"]
    first = min(unknown, key=lambda f: f["ts_ns"]) if unknown else None
    if first is None or first.get("task") != culprit or base_name(first.get("api")) != \
            "cuEventQuery" or first.get("thread") != "watcher":
        fail("want unknown-handle on cuEventQuery by thread 'watcher' in %s, got %r"
             % (culprit, [describe(f) for f in unknown]))
    else:
        ok("report: unknown-handle on cuEventQuery by the watcher in %s" % culprit)

    # The dump: the failing query, the watcher's exit, the victim's blocked wait.
    records, complete = parse_dump(dump_path)
    chains = [pid for pid, recs in records.items()
              if any(r["task"] == culprit for r in recs)]
    if len(chains) != 1:
        fail("want exactly one trace holding %s, got pids %r" % (culprit, chains))
        return
    recs = records[chains[0]]
    created = {field(r, "event") for r in recs if r["kind"] == "call" and
               base_name(r["api"]) == "cuEventCreate"}
    watcher = {r["tid"] for r in recs if r["kind"] == "thread-start" and
               field(r, "name") == "watcher"}
    bad = [i for i, r in enumerate(recs) if r["kind"] == "call" and r["tid"] in watcher and
           base_name(r["api"]) == "cuEventQuery" and
           field(r, "result") == "CUDA_ERROR_INVALID_HANDLE" and r["task"] == culprit]
    if not bad:
        fail("dump: no cuEventQuery -> CUDA_ERROR_INVALID_HANDLE on the watcher in " + culprit)
        return
    query = recs[bad[0]]
    if field(query, "event") in created:
        fail("dump: the failing query names an event a create returned: " + query["line"])
    ok("dump: %s" % query["line"])
    exits = [i for i, r in enumerate(recs) if i > bad[0] and r["kind"] == "thread-exit" and
             r["tid"] == query["tid"]]
    if not exits:
        fail("dump: no thread-exit of the watcher after its failed query")
        return
    ok("dump: the watcher (tid %d) exits at +%.6f s" % (query["tid"], recs[exits[0]]["time"]))
    later_watcher = [r for r in recs[exits[0] + 1:] if r["tid"] == query["tid"]]
    if later_watcher:
        fail("dump: the watcher made calls after its exit: " + later_watcher[0]["line"])
    starts = [i for i, r in enumerate(recs) if i > exits[0] and r["task"] == victim]
    if not starts:
        fail("dump: no record of %s after the watcher exited" % victim)
        return
    # The thread running the victim (the worker's main thread, or the one
    # execnet ran its tests on), up to the process's last record: its exit,
    # or, when the hang stop's second stage ended the worker without one, the
    # watchdog's last report (a lower bound of the wait).
    victim_tid = recs[starts[0]]["tid"]
    victim_thread = [r for r in recs[starts[0]:] if r["tid"] == victim_tid]
    times = [r["time"] for r in victim_thread] + [recs[-1]["time"]]
    longest = max((b - a for a, b in zip(times, times[1:])), default=0.0)
    if not complete[chains[0]]:
        ok("dump: %s blocked at least %.2f s with no CUDA progress; the worker ended "
           "without an exit record (the hang stop's second stage)" % (victim, longest))
    elif longest < 0.9 * timeout_s:
        fail("dump: %s never waited %.1f s (longest quiet stretch %.2f s)"
             % (victim, timeout_s, longest))
    else:
        ok("dump: %s blocked %.2f s with no CUDA progress, until the test timeout stopped it"
           % (victim, longest))

    # Issue 5: the watcher's exit as poller-exited, the victim's wait as stall, in order.
    by_kind = {k: [f for f in report["findings"] if f["kind"] == k]
               for k in ("poller-exited", "stall")}
    exited = [f for f in by_kind["poller-exited"] if f.get("thread") == "watcher"]
    if not by_kind["poller-exited"]:
        todo("poller-exited for the watcher in %s (dump shows its thread-exit)" % culprit)
    elif not exited or exited[0].get("task") != culprit or \
            (first and exited[0]["ts_ns"] < first["ts_ns"]):
        fail("poller-exited should name the watcher in %s after the unknown-handle: %r"
             % (culprit, [describe(f) for f in by_kind["poller-exited"]]))
    if not by_kind["stall"]:
        todo("stall on %s (dump shows its %.1f s wait)" % (victim, longest))
    elif not any(f.get("task") == victim for f in by_kind["stall"]):
        fail("stall not on %s: %r" % (victim, [describe(f) for f in by_kind["stall"]]))
    elif exited and min(f["ts_ns"] for f in by_kind["stall"]) < exited[0]["ts_ns"]:
        fail("stall reported before the watcher's exit")
    check_diagnosis_chain(report, culprit, victim)


def check_diagnosis_chain(report, culprit, victim):
    """The diagnosis names, in this order: the culprit test, the
    unknown-handle on cuEventQuery, the watcher's exit, then the stall of
    the victim test."""
    chain = " ".join(report.get("diagnosis") or [])
    steps = [("the culprit test", culprit),
             ("the invalid handle", "CUDA_ERROR_INVALID_HANDLE from cuEventQuery"),
             ("a handle no create returned", "a handle no create returned"),
             ("the watcher's exit", "exited"),
             ("the stall", "made no CUDA call"),
             ("the victim test", victim)]
    at = 0
    for what, text in steps:
        found = chain.find(text, at)
        if found < 0:
            todo("diagnosis: %s (%r) missing or out of order in %r" % (what, text, chain))
            return
        at = found + len(text)
    ok("diagnosis, in order: %s" % ", ".join(what for what, _ in steps))


# ---- SIGKILL of a worker ----------------------------------------------------------

def check_sigkill(report_path, manifest_path, killed_test):
    report, manifest = load(report_path), load(manifest_path)
    found = check_attribution(report, manifest)
    check_planted(found, manifest, [killed_test])
    holders = {f["pid"] for f in report["findings"] if f.get("task") == killed_test}
    if len(holders) != 1:
        fail("want findings of %s from one process, got pids %r" % (killed_test, holders))
        return
    pid = holders.pop()
    process = [p for p in report["processes"] if p["pid"] == pid][0]
    if process["complete"]:
        fail("the killed worker (pid %d) is marked complete" % pid)
    leaks = [f for f in report["findings"] if f["kind"] == "leak.event" and f["pid"] == pid]
    if not leaks or "did not exit cleanly" not in leaks[0]["message"]:
        fail("leak.event of the killed worker should say it did not exit cleanly: %r" % leaks)
    else:
        ok("killed worker pid %d: %d leaked event(s), %d records, complete=false"
           % (pid, sum(f["count"] for f in leaks), process["records"]))
    others = [p for p in report["processes"] if p["pid"] != pid]
    if not others or not all(p["complete"] for p in others):
        fail("the other workers should have ended cleanly: %r"
             % [(p["pid"], p["complete"]) for p in others])


def main(argv):
    checks = {"snippet": (check_snippet, [str, str]),
              "workers": (check_workers, [str, int, int]),
              "findings": (check_findings, [str, str, str]),
              "repro": (check_repro, [str, str, str, float]),
              "sigkill": (check_sigkill, [str, str, str])}
    if len(argv) < 2 or argv[1] not in checks or len(argv) - 2 != len(checks[argv[1]][1]):
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    check, types = checks[argv[1]]
    try:
        check(*[convert(value) for convert, value in zip(types, argv[2:])])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
        fail("%s: unreadable input: %s: %s" % (argv[1], type(error).__name__, error))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""numba_suite_check.py -- the checks of tests/e2e/55_numba_cudadrv_suite.sh
(issue 12): numba 0.56's own driver-level tests on the simulator, bare, under
`cuguard run`, under each policy and under all four.

Usage: numba_suite_check.py WORK CONFIG...   (exit 0 = pass, 1 = fail)
  WORK/CONFIG.xml   pytest --junitxml of that configuration ("bare" first)
  WORK/CONFIG.err   what that run wrote on stderr (optional)
  WORK/CONFIG.json  `cuguard report --format json` of it (not for "bare")

Asserts: every test that needs no kernel passes (or is skipped) bare; every
configuration gives each test the same outcome as the bare run and writes
no stderr line the bare run did not; no error-level finding; each warning
is a true positive named in NAMED_WARNINGS, and the required ones are found.

KNOWN_BROKEN and KNOWN_FINDINGS name what another branch fixes: their
problems are printed as "KNOWN FAILURE" lines, and an entry that no longer
happens is a failure ("stale"), so that the entry is removed when the fix
lands. Must never: pass when a run produced no outcomes, or crash on a
malformed file (one FAIL line instead).
"""
import json
import sys
import xml.etree.ElementTree as ET

# Tests that compile a kernel (NVVM, cuModuleLoadDataEx): the simulator has
# no GPU, so they fail the same way in every configuration.
NEEDS_KERNEL = {
    "test_context_stack.py::Test3rdPartyContext::test_cudajit_in_attached_primary_context",
    "test_managed_alloc.py::TestManagedAlloc::test_managed_array_attach_global",
    "test_managed_alloc.py::TestManagedAlloc::test_managed_array_attach_host",
    "test_cuda_driver.py::TestCudaDriver::test_cuda_driver_basic",
    "test_cuda_driver.py::TestCudaDriver::test_cuda_driver_occupancy",
    "test_cuda_driver.py::TestCudaDriver::test_cuda_driver_stream_operations",
}

# (kind, task) -> why the warning is a true positive; required ones must be found.
NAMED_WARNINGS = {
    ("leak.stream", "test_cuda_driver.py::TestCudaDriver::test_cuda_driver_external_stream"):
        ("required", "the test creates a stream with cuStreamCreate (an 'external' stream "
         "numba does not own) and never destroys it"),
    ("leak.stream", "test_cuda_driver.py::TestCudaDriver::test_cuda_driver_stream"):
        ("allowed", "numba queues destroys (up to 10) and never flushes the queue at exit: "
         "the last stream it made is still live when the process ends"),
}

# Configurations with a known, open defect: config -> message.
KNOWN_BROKEN = {}

# (kind, task) -> message: error findings with a known, open cause.
KNOWN_FINDINGS = {}

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message)


def known(config, message):
    print("KNOWN FAILURE (%s): %s" % (config, message))


def outcomes(path):
    """test id -> passed | failed | skipped."""
    result = {}
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as error:
        fail("%s: %s" % (path, error))
        return result
    for case in root.iter("testcase"):
        module, _, cls = (case.get("classname") or "").partition(".")
        test = "%s.py::%s::%s" % (module, cls, case.get("name"))
        tags = {child.tag for child in case}
        if "failure" in tags or "error" in tags:
            result[test] = "failed"
        elif "skipped" in tags:
            result[test] = "skipped"
        else:
            result[test] = "passed"
    return result


def check_bare(bare):
    if not bare:
        fail("the bare run reported no test outcomes")
    for test, outcome in sorted(bare.items()):
        if outcome == "failed" and test not in NEEDS_KERNEL:
            fail("bare: %s failed, and it needs no kernel" % test)
    print("ok: bare: %d tests, %d passed, %d need a kernel"
          % (len(bare), sum(o == "passed" for o in bare.values()),
             sum(t in NEEDS_KERNEL for t in bare)))


def diff_outcomes(config, bare, got):
    problems = []
    for test in sorted(set(bare) | set(got)):
        if bare.get(test) != got.get(test):
            problems.append("%s: %s bare, %s here" % (test, bare.get(test), got.get(test)))
    return problems


def stderr_lines(path):
    try:
        with open(path, errors="replace") as handle:
            return [line.rstrip("\n") for line in handle]
    except OSError:
        return []


def new_stderr(bare_err, config_err):
    """Lines on the configuration's stderr that the bare run never wrote."""
    seen = set(stderr_lines(bare_err))
    return ["new message on stderr: %r" % line
            for line in stderr_lines(config_err) if line not in seen]


def report_problems(config, report_path):
    problems, known_seen, found = [], set(), set()
    try:
        with open(report_path) as handle:
            report = json.load(handle)
    except (OSError, ValueError) as error:
        return ["%s: %s" % (report_path, error)], known_seen
    for f in report.get("findings", []):
        # A finding groups every test that hit one line: judge it by each.
        tasks = [o.get("task") for o in f.get("occurrences") or []] or [f.get("task")]
        keys = [(f.get("kind"), t) for t in tasks]
        for key in keys:
            named = None
            if key in NAMED_WARNINGS and f.get("severity") == "warning":
                named = key
            if named is None:
                continue
            found.add(named)
            # numba's own tests live under numba/cuda/ but are the user's code:
            # the finding must name the test's line, not numba's driver layer.
            test_file = key[1].split("::")[0] if key[1] else ""
            if test_file and test_file not in (f.get("site") or ""):
                problems.append("%s in %s names site %r, not a line of %s"
                                % (key[0], key[1], f.get("site"), test_file))
        key = next((k for k in keys if k in KNOWN_FINDINGS or k in NAMED_WARNINGS), keys[0])
        if f.get("severity") == "error":
            if key in KNOWN_FINDINGS:
                known_seen.add(key)
            else:
                problems.append("error %s in %s: %s" % (key[0], key[1], f.get("message")))
        elif f.get("severity") == "warning":
            if key in NAMED_WARNINGS:
                found.add(key)
            else:
                problems.append("unexplained warning %s in %s: %s"
                                % (key[0], key[1], f.get("message")))
    for key, (need, why) in NAMED_WARNINGS.items():
        if need == "required" and key not in found:
            problems.append("missed true positive %s in %s (%s)" % (key[0], key[1], why))
    return problems, known_seen


def main(work, configs):
    bare = outcomes("%s/bare.xml" % work)
    check_bare(bare)
    known_findings_seen = set()
    for config in configs:
        if config == "bare":
            continue
        problems = diff_outcomes(config, bare, outcomes("%s/%s.xml" % (work, config)))
        problems += new_stderr("%s/bare.err" % work, "%s/%s.err" % (work, config))
        found_problems, seen = report_problems(config, "%s/%s.json" % (work, config))
        problems += found_problems
        if config in KNOWN_BROKEN:
            if problems:
                known(config, "%s (%d problems, first: %s)"
                      % (KNOWN_BROKEN[config], len(problems), problems[0]))
            else:
                fail("%s now passes: remove it from KNOWN_BROKEN" % config)
            continue
        known_findings_seen |= seen
        for key in seen:
            known(config, "%s in %s: %s" % (key[0], key[1], KNOWN_FINDINGS[key]))
        for problem in problems:
            fail("%s: %s" % (config, problem))
        if not problems:
            print("ok: %s: same outcomes as bare, no unexplained finding" % config)
    for key in KNOWN_FINDINGS:
        if key not in known_findings_seen:
            fail("KNOWN_FINDINGS entry %s in %s no longer happens: remove it" % key)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print("usage: numba_suite_check.py WORK CONFIG...")
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2:]))

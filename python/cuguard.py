"""cuguard.py -- cuguard's pytest plugin (docs/pytest.md).

What it is for: `cuguard run -- pytest ...` loads it into unmodified runs
(PYTEST_PLUGINS=cuguard, this file's directory on PYTHONPATH; pytest-xdist
workers inherit both); `pytest -p cuguard` loads it by hand.
  * At the end of the session (in the controller under pytest-xdist) it runs
    `cuguard report --format json` on this run's traces and prints a section
    in pytest's terminal summary: one line per finding under the node id of
    the test it belongs to, as pytest prints that id, with the finding's kind
    and its user-code location, then cuguard's SUMMARY line.
  * --cuguard-fail-on LIST (default $CUGUARD_FAIL_ON, which `cuguard run
    --fail-on` sets): a session that would pass exits 1 when a finding
    matches LIST ('error', 'warning', 'info' or finding kinds).
  * --cuguard-fail-tests: a test during which libcuguard.so saw a call that
    may be a live error (unknown-handle, use-after-destroy, double-destroy)
    has its own trace replayed at teardown; such a finding on that test makes
    it error at teardown with the finding as its message.
  * --junitxml: each finding becomes a <property name="cuguard"> of its
    test case.

What it must never do: touch CUDA, change what a test does, or fail a
session or a test because of its own trouble (no cuguard program, an
unreadable trace): that is one warning line. A session that made no CUDA
call prints nothing and keeps its exit status.
"""
import contextlib
import ctypes
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

LIVE_KINDS = ("unknown-handle", "use-after-destroy", "double-destroy")
SHOWN_SEVERITIES = ("error", "warning")
REPORT_TIMEOUT_S = 600
PROPERTY = "cuguard"
# Before any conftest is imported (PYTEST_PLUGINS and -p load plugins first):
# a trace file that started earlier belongs to another run.
IMPORTED_NS = time.time_ns()
# Set while a session with the plugin runs; its xdist workers inherit it, and
# so does a pytest started by one of its tests, which then stays quiet.
OUTER_SESSION = "CUGUARD_PYTEST_SESSION"


def pytest_addoption(parser):
    group = parser.getgroup("cuguard", "cuguard (CUDA lifecycle checker)")
    group.addoption("--cuguard-fail-on", metavar="LIST",
                    default=os.environ.get("CUGUARD_FAIL_ON") or None,
                    help="exit 1 (unless the session already failed) when a cuguard finding "
                         "matches LIST: 'error', 'warning' (warnings and errors), 'info', or "
                         "kinds such as leak.event,unknown-handle (default: $CUGUARD_FAIL_ON, "
                         "set by 'cuguard run --fail-on')")
    group.addoption("--cuguard-fail-tests", action="store_true", default=False,
                    help="make a test error at teardown when cuguard saw it pass an unknown, "
                         "destroyed or twice-destroyed handle")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller, or a run without xdist
        if os.environ.get(OUTER_SESSION):
            return  # a pytest run inside a test of a traced run (pytester): the outer one reports
        os.environ[OUTER_SESSION] = str(os.getpid())
        config.add_cleanup(lambda: os.environ.pop(OUTER_SESSION, None))
    words = parse_fail_on(config.getoption("--cuguard-fail-on"))
    if words and ",".join(words) != os.environ.get("CUGUARD_FAIL_ON") and \
            not hasattr(config, "workerinput"):
        check_fail_on(words)  # `cuguard run --fail-on` checked its own
    config.pluginmanager.register(CuguardSession(config, words), "cuguard-session")


def parse_fail_on(value):
    """The words of a --cuguard-fail-on LIST (None: no gate)."""
    if value is None:
        return None
    words = [w.strip() for w in value.split(",")]
    if not all(words) or not all(w.replace(".", "").replace("-", "").isalnum() for w in words):
        raise pytest.UsageError("--cuguard-fail-on %r: give error, warning, info or finding kinds "
                                "separated by commas (e.g. leak.event,unknown-handle)" % value)
    return words


def check_fail_on(words):
    """A usage error when the cuguard program rejects the list (it knows the
    finding kinds); nothing when there is no program to ask."""
    try:
        command = [cuguard_program(), "report", "--fail-on", ",".join(words)]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env=untraced_environment(), timeout=60, check=False)
    except (PluginTrouble, OSError, subprocess.SubprocessError):
        return
    first = done.stderr.decode(errors="replace").strip().splitlines()[:1]
    if first and "--fail-on:" in first[0]:
        raise pytest.UsageError("--cuguard-fail-on: " + first[0].split("--fail-on:", 1)[1].strip())


def matches(finding, words):
    severity = finding.get("severity")
    for word in words:
        if word == finding.get("kind") or (word == "error" and severity == "error") or \
                (word == "warning" and severity in ("error", "warning")) or word == "info":
            return True
    return False


# ---- running the cuguard program ----------------------------------------------

class PluginTrouble(Exception):
    """Something kept the plugin from reading the traces: one warning line."""


def cuguard_program():
    program = os.environ.get("CUGUARD_PROGRAM")
    if program and os.access(program, os.X_OK):
        return program
    program = shutil.which("cuguard")
    if program is None:
        raise PluginTrouble("cannot find the cuguard program (CUGUARD_PROGRAM is unset and "
                            "there is no cuguard on PATH)")
    return program


def untraced_environment():
    """The environment for the cuguard program: without libcuguard.so."""
    env = dict(os.environ)
    preload = [p for p in env.get("LD_PRELOAD", "").replace(" ", ":").split(":")
               if p and os.path.basename(p) != "libcuguard.so"]
    env["LD_PRELOAD"] = ":".join(preload)
    env.pop("CUGUARD_DIR", None)
    return env


def run_report(traces, fail_on=None):
    """`cuguard report --format json` of the trace files: (document, matched)."""
    command = [cuguard_program(), "report", "--format", "json"]
    if fail_on:
        command += ["--fail-on", ",".join(fail_on)]
    try:
        done = subprocess.run(command + list(traces), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=untraced_environment(),
                              timeout=REPORT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise PluginTrouble("cannot run %s: %s" % (command[0], error)) from error
    why = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode not in (0, 1):
        raise PluginTrouble("'cuguard report' exited %d: %s"
                            % (done.returncode, why[-1] if why else "no message"))
    try:
        document = json.loads(done.stdout.decode(errors="replace"))
    except ValueError as error:
        raise PluginTrouble("unreadable output of 'cuguard report': %s" % error) from error
    return document, done.returncode == 1


def session_traces(directory, since_ns):
    """The trace files under `directory` that this session wrote (their names
    end in the start time, HOST-PID-START.cgt; an older file is another run's)."""
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []  # the shim creates it at the first CUDA call: no CUDA call was made
    except OSError as error:
        raise PluginTrouble("cannot read the trace directory %s: %s" % (directory, error))
    traces = []
    for name in names:
        if not name.endswith(".cgt"):
            continue
        start = name[:-4].rsplit("-", 1)[-1]
        if start.isdigit() and int(start) < since_ns:
            continue
        traces.append(os.path.join(directory, name))
    return traces


# ---- what a finding line says -----------------------------------------------

def shown_path(path, invocation_dir):
    if path and os.path.isabs(path):
        relative = os.path.relpath(path, invocation_dir)
        if not relative.startswith(".."):
            return relative
    return path


def location(finding, invocation_dir):
    """The finding's innermost user-code frame, else its site."""
    for frame in finding.get("stack") or []:
        if frame.get("user") and frame.get("file"):
            where = "%s:%s" % (shown_path(frame["file"], invocation_dir), frame.get("line"))
            return where + (" in %s" % frame["function"] if frame.get("function") else "")
    where = finding.get("site") or "?"
    created = (finding.get("created") or {}).get("site")
    if created and not finding.get("stack"):
        where += " (created at %s)" % created
    return where


def describe(finding, invocation_dir):
    """'error double-destroy at FILE:LINE in FUNCTION': the same text for the
    live check and the end of the session (a JUnit property is added once)."""
    return "%s %s at %s" % (finding.get("severity"), finding.get("kind"),
                            location(finding, invocation_dir))


def tasks_of(finding):
    tasks = [o.get("task") for o in finding.get("occurrences") or []]
    return list(dict.fromkeys(tasks)) or [finding.get("task")]


def workers_by_pid(document):
    return {p.get("pid"): p.get("label") or "" for p in document.get("processes", [])}


# ---- the plugin ----------------------------------------------------------------

class CuguardSession:
    def __init__(self, config, fail_on):
        self.config = config
        self.fail_on = fail_on
        self.fail_tests = config.getoption("--cuguard-fail-tests")
        self.is_worker = hasattr(config, "workerinput")
        self.started_ns = IMPORTED_NS
        self.analysis = None  # (document, matched) once the traces were read, or False
        self.warned = False
        self.live_count = None
        self.live_reported = set()
        self.live_at_start = {}  # node id -> the live-error count when its setup began
        self.invocation_dir = str(config.invocation_params.dir)
        self.node_ids = set()

    # -- messages --

    def warn(self, message):
        if self.warned:
            return
        self.warned = True
        line = "cuguard: warning: %s" % message
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            if reporter is not None and not self.is_worker:
                reporter.write_line(line, yellow=True)
            else:
                sys.stderr.write(line + "\n")
                sys.stderr.flush()

    # -- live errors, per test (--cuguard-fail-tests) --

    def live_counter(self):
        if self.live_count is None:
            try:
                shim = ctypes.CDLL(None)
                self.live_count = shim.cuguard_live_error_count
                self.live_count.restype = ctypes.c_ulong
                self.trace_path = shim.cuguard_trace_path
                self.trace_path.restype = ctypes.c_char_p
            except (OSError, AttributeError):
                self.live_count = False
                self.warn("--cuguard-fail-tests: libcuguard.so is not loaded in this process "
                          "(run pytest under 'cuguard run'); tests are not checked live")
        return self.live_count

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        counter = self.live_counter() if self.fail_tests else False
        self.live_at_start[item.nodeid] = counter() if counter else None

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item):
        before = self.live_at_start.pop(item.nodeid, None)
        counter = self.live_counter() if self.fail_tests else False
        if before is None or not counter or counter() == before:
            return
        path = self.trace_path()
        if not path:
            return
        try:
            document, _ = run_report([path.decode(errors="replace")])
            found = [f for f in document.get("findings", [])
                     if f.get("kind") in LIVE_KINDS and item.nodeid in tasks_of(f) and
                     (f.get("fingerprint"), item.nodeid) not in self.live_reported]
        except Exception as trouble:  # PluginTrouble, or a document of another shape
            self.warn(str(trouble))
            return
        for finding in found:
            self.live_reported.add((finding.get("fingerprint"), item.nodeid))
            item.user_properties.append((PROPERTY, describe(finding, self.invocation_dir)))
        if found:
            pytest.fail("\n".join("cuguard: %s: %s" % (describe(f, self.invocation_dir),
                                                      f.get("message")) for f in found),
                        pytrace=False)

    # -- the end of the session (controller) --

    def pytest_runtest_logreport(self, report):
        self.node_ids.add(report.nodeid)  # this session's tests (from the workers under xdist)

    def shown_test(self, task):
        """The id as pytest prints it, for a test of this session; another
        task (a pytest run by one of the tests, a thread task) as it is."""
        if not task:
            return "(outside any test)"
        return self.config.cwd_relative_nodeid(task) if task in self.node_ids else task

    def analyze(self):
        """Read this session's traces once: (document, matched) or None."""
        if self.analysis is None:
            self.analysis = False
            directory = os.environ.get("CUGUARD_DIR")
            try:
                traces = session_traces(directory, self.started_ns) if directory else []
                if traces:
                    self.analysis = run_report(traces, self.fail_on)
            except PluginTrouble as trouble:
                self.warn(str(trouble))
        return self.analysis or None

    def pytest_terminal_summary(self, terminalreporter):
        if self.is_worker:
            return
        analysis = self.analyze()
        try:
            if analysis is not None:
                write_section(terminalreporter, self, *analysis)
        except Exception as error:  # the plugin's own trouble never fails the session
            self.warn("cannot show the findings: %s: %s" % (type(error).__name__, error))

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session):
        yield
        if self.is_worker:
            return
        analysis = self.analyze()  # after every other sessionfinish: the workers have exited
        if analysis is None:
            return
        document, matched = analysis
        if matched and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        xml = junit_writer(self.config)
        if xml is not None:
            try:
                add_junit_properties(xml, document, self.invocation_dir)
            except Exception as error:  # never a failed session for the plugin's trouble
                self.warn("cannot add findings to %s: %s" % (xml.logfile, error))



# ---- the terminal section ---------------------------------------------------------

def plural(n, word):
    return "%d %s%s" % (n, word, "" if n == 1 else "s")


def write_section(reporter, plugin, document, matched):
    summary = document.get("summary", {})
    errors, warnings = summary.get("errors", 0), summary.get("warnings", 0)
    colour = {"red": True} if errors else {"yellow": True} if warnings else {"green": True}
    reporter.write_sep("=", "cuguard: %s, %s" % (plural(errors, "error"),
                                                 plural(warnings, "warning")), **colour)
    workers = workers_by_pid(document)
    by_test = {}
    for finding in document.get("findings", []):
        if finding.get("severity") not in SHOWN_SEVERITIES:
            continue
        for occurrence in finding.get("occurrences") or [{"task": finding.get("task")}]:
            by_test.setdefault(occurrence.get("task"), []).append((finding, occurrence))
    for task in sorted(by_test, key=lambda t: (t is None, t or "")):
        reporter.write_line(plugin.shown_test(task))
        for finding, occurrence in by_test[task]:
            count = occurrence.get("count", finding.get("count", 1))
            worker = workers.get(occurrence.get("pid", finding.get("pid")))
            reporter.write_line("    %s %s%s at %s%s" % (
                finding.get("severity"), finding.get("kind"),
                " x%d" % count if count and count > 1 else "",
                location(finding, plugin.invocation_dir), " [%s]" % worker if worker else ""))
    if document.get("summary_line"):
        reporter.write_line(document["summary_line"])
    if matched:
        count = sum(1 for f in document.get("findings", []) if matches(f, plugin.fail_on))
        reporter.write_line("cuguard: --cuguard-fail-on %s matched %s: the session fails"
                            % (",".join(plugin.fail_on), plural(count, "finding")), red=True)


# ---- JUnit XML -----------------------------------------------------------------------

def junit_writer(config):
    """pytest's LogXML object when --junitxml is on (it has written its file
    by the time the plugin's sessionfinish wrapper resumes)."""
    for plugin in config.pluginmanager.get_plugins():
        if hasattr(plugin, "logfile") and hasattr(plugin, "node_reporters_ordered"):
            return plugin
    return None


def add_junit_properties(xml, document, invocation_dir):
    """A <property name="cuguard" value="SEVERITY KIND at LOCATION"> per finding on
    its test case of the file LogXML wrote (a live one is there already)."""
    from _pytest.junitxml import mangle_test_address
    wanted = {}
    for finding in document.get("findings", []):
        if finding.get("severity") not in SHOWN_SEVERITIES:
            continue
        for task in tasks_of(finding):
            if task:
                names = mangle_test_address(task)
                classname = ".".join(([xml.prefix] if xml.prefix else []) + names[:-1])
                wanted.setdefault((classname, names[-1]), []).append(
                    describe(finding, invocation_dir))
    if not wanted:
        return
    tree = ET.parse(xml.logfile)
    for case in tree.iter("testcase"):
        values = wanted.get((case.get("classname"), case.get("name")))
        if not values:
            continue
        properties = case.find("properties")
        if properties is None:
            properties = ET.Element("properties")
            case.insert(0, properties)
        have = {(p.get("name"), p.get("value")) for p in properties.iter("property")}
        for value in dict.fromkeys(values):
            if (PROPERTY, value) not in have:
                ET.SubElement(properties, "property", name=PROPERTY, value=value)
    tree.write(xml.logfile, encoding="utf-8", xml_declaration=True)

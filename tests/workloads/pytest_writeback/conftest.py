"""conftest.py -- driver selection, planted-bug selection and the hang stop
of the pytest_writeback project (issue 7).

What it is for:
  * NUMBA_CUDA_DRIVER: the simulated driver unless told otherwise. Set before
    numba is imported. CUGUARD_TEST_LIBCUDA=PATH picks a driver library;
    CUGUARD_TEST_LIBCUDA=real (or an empty value) leaves numba to find the
    real one; unset, the repository's build/fakecuda/libcuda.so.1 is used
    when it exists. A NUMBA_CUDA_DRIVER already set is kept.
  * Planted bugs: tests marked `bug(KIND, ...)` (KIND = the finding cuguard
    must attribute to that test) run only with --bugs; the default run is
    all-correct. Markers `repro` (the reproduced hang of issue 7) and
    `sigkill` (kills its own xdist worker) narrow a --bugs run with -m.
  * Hang stop: pytest-timeout may be missing, so every test's whole protocol
    (setup, call, teardown) is bounded by CUGUARD_TEST_TIMEOUT seconds
    (default 60): first SIGALRM makes the test fail with HangTimeout, as
    pytest-timeout's signal method does; if that cannot stop it (stuck in a C
    call) a watchdog thread prints every thread's stack on the real stderr
    GRACE_S later and ends the process with os._exit(1), as its thread method
    does (under pytest-xdist the controller reports a crashed worker).
  * Tests of one module share fixtures (the reproduced case needs its two tests
    on one worker, in order), so `-n N` without --dist distributes by file
    (loadfile). pytest-xdist 3.1 stops scheduling after a worker crash under
    loadfile, so test_sigkill.py runs only with an explicit --dist load.
  * CUGUARD_TEST_MANIFEST=FILE: the collected test ids and their planted kinds
    are written to FILE as JSON (for tests/e2e/5N_*.sh).

Must never: import numba.cuda or touch CUDA in the controller process, or let
a hung test hold up the run longer than its timeout.
"""
import faulthandler
import json
import os
import signal
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
GRACE_S = 5.0


def _select_driver():
    if "NUMBA_CUDA_DRIVER" in os.environ:
        return
    choice = os.environ.get("CUGUARD_TEST_LIBCUDA")
    if choice is None:
        simulated = os.path.join(REPO, "build", "fakecuda", "libcuda.so.1")
        if os.path.exists(simulated):
            os.environ["NUMBA_CUDA_DRIVER"] = simulated
    elif choice not in ("", "real"):
        os.environ["NUMBA_CUDA_DRIVER"] = os.path.abspath(choice)


_select_driver()


def hang_timeout():
    value = os.environ.get("CUGUARD_TEST_TIMEOUT", "60")
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds <= 0:
        raise pytest.UsageError("CUGUARD_TEST_TIMEOUT=%r: expected a positive number of seconds"
                                % value)
    return seconds


def pytest_addoption(parser):
    parser.addoption("--bugs", action="store_true", default=False,
                     help="also run the tests with planted bugs (marker 'bug')")


def pytest_configure(config):
    config.addinivalue_line("markers", "bug(*kinds): a planted bug; cuguard must report KINDS "
                            "on this test (runs only with --bugs)")
    config.addinivalue_line("markers", "repro: the reproduced hang of issue 7 (stops its worker)")
    config.addinivalue_line("markers", "sigkill: kills its own pytest-xdist worker")
    config.hang_timeout = hang_timeout()
    if getattr(config.option, "dist", "no") == "load" and not _dist_given(config) \
            and "PYTEST_XDIST_WORKER" not in os.environ:
        config.option.dist = "loadfile"
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_TellWorkers(), "pytest_writeback_xdist")


class _TellWorkers:
    """Hands each pytest-xdist worker the controller's distribution mode (in
    a worker, config.option.dist is "no"). A plugin object, registered only
    when pytest-xdist is there, since its hook exists only then."""

    @staticmethod
    def pytest_configure_node(node):
        node.workerinput["pytest_writeback_dist"] = node.config.option.dist


def controller_dist(config):
    """The distribution mode of the run, seen from a worker or the controller."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return workerinput.get("pytest_writeback_dist", "no")
    return getattr(config.option, "dist", "no")


def _dist_given(config):
    """Whether the command line chose a distribution mode itself."""
    return any(arg in ("-d", "--distload") or arg.startswith("--dist")
               for arg in config.invocation_params.args)


def _planted_kinds(item):
    marker = item.get_closest_marker("bug")
    return list(marker.args) if marker is not None else None


def _allowed_kinds(item):
    marker = item.get_closest_marker("bug")
    return list(marker.kwargs.get("allowed", ())) if marker is not None else []


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--bugs"):
        planted = [item for item in items if _planted_kinds(item) is not None]
        if planted:
            config.hook.pytest_deselected(items=planted)
            items[:] = [item for item in items if _planted_kinds(item) is None]
    manifest = os.environ.get("CUGUARD_TEST_MANIFEST")
    if manifest and "PYTEST_XDIST_WORKER" not in os.environ:
        entries = {item.nodeid: {"planted": _planted_kinds(item),
                                 "allowed": _allowed_kinds(item),
                                 "markers": sorted({m.name for m in item.iter_markers()})}
                   for item in items}
        with open(manifest, "w") as out:
            json.dump(entries, out, indent=1, sort_keys=True)


# ---- hang stop --------------------------------------------------------------

class HangTimeout(Exception):
    """Raised in the main thread when a test ran past CUGUARD_TEST_TIMEOUT."""


def _fail_hung_test(signum, frame):
    raise HangTimeout("CUGUARD_TEST_TIMEOUT: still running after %g s; stopped"
                      % _armed_timeout[0])


_armed_timeout = [0.0]


def _stop_hung_process(config, nodeid, seconds):
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    stderr = sys.__stderr__
    stderr.write("\n+++ CUGUARD_TEST_TIMEOUT: %s still running %g s after its timeout could "
                 "not stop it; ending this pytest process (pid %d) +++\n"
                 % (nodeid, seconds, os.getpid()))
    stderr.flush()
    faulthandler.dump_traceback(file=stderr, all_threads=True)
    stderr.flush()
    os._exit(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Stage 1, at the timeout: SIGALRM raises HangTimeout in the main thread
    (it interrupts a wait on a lock or a sleep; the test fails, the run goes
    on). Stage 2, GRACE_S later: the test is stuck where no signal handler can
    run (inside a C call), so the process ends, as with pytest-timeout's
    thread method."""
    seconds = item.config.hang_timeout
    done = threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()

    def last_resort():
        if not done.wait(seconds + GRACE_S):
            _stop_hung_process(item.config, item.nodeid, seconds + GRACE_S)

    watchdog = threading.Thread(target=last_resort, name="test-timeout", daemon=True)
    watchdog.start()
    if in_main_thread:
        _armed_timeout[0] = seconds
        previous = signal.signal(signal.SIGALRM, _fail_hung_test)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        if in_main_thread:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        done.set()
        watchdog.join()


# ---- fixtures ---------------------------------------------------------------

class CudaScope:
    """The numba objects of one test. Tests get streams and pools from here,
    never as fixture values (pytest keeps fixture values alive until after
    teardown): close() synchronizes and drops them and flushes numba's deferred
    deallocations, so each object is destroyed in the test that created it."""

    def __init__(self):
        import wbscenario
        self.scenario = wbscenario
        self.cuda = wbscenario.cuda()
        self._streams = []
        self._pools = []

    def stream(self):
        self._streams.append(self.cuda.stream())
        return self._streams[-1]

    def pool(self, count, words=256):
        self._pools.append(self.scenario.Pool(count, words))
        return self._pools[-1]

    def _drop(self):
        for stream in self._streams:
            stream.synchronize()
        for pool in self._pools:
            pool.close()
        self._streams.clear()
        self._pools.clear()

    def close(self):
        self._drop()  # in its own frame: no local may keep an object alive
        self.scenario.release_cuda_objects()


@pytest.fixture
def xdist_dist(request):
    """The run's pytest-xdist distribution mode ("no" without xdist)."""
    return controller_dist(request.config)


@pytest.fixture
def cu():
    """A CudaScope; everything it made is destroyed at teardown."""
    scope = CudaScope()
    yield scope
    scope.close()

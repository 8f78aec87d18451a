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
    (setup, call, teardown) runs under a watchdog thread; after
    CUGUARD_TEST_TIMEOUT seconds (default 60) it prints the test id and every
    thread's stack on the real stderr and ends the process with os._exit(1),
    as pytest-timeout's thread method does. Under pytest-xdist the controller
    then reports the worker as crashed and the run goes on.
  * Tests of one module share fixtures (the reproduced case needs its two tests
    on one worker in order), so plain `-n N` distributes by file.
  * CUGUARD_TEST_MANIFEST=FILE: the collected test ids and their planted kinds
    are written to FILE as JSON (for tests/e2e/5N_*.sh).

Must never: import numba.cuda or touch CUDA in the controller process, or let
a hung test hold up the run longer than its timeout.
"""
import faulthandler
import json
import os
import sys
import threading

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


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
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadfile"


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

def _stop_hung_test(config, nodeid, seconds):
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    stderr = sys.__stderr__
    stderr.write("\n+++ CUGUARD_TEST_TIMEOUT: %s still running after %g s; "
                 "stopping this pytest process (pid %d) +++\n" % (nodeid, seconds, os.getpid()))
    stderr.flush()
    faulthandler.dump_traceback(file=stderr, all_threads=True)
    stderr.flush()
    os._exit(1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    seconds = item.config.hang_timeout
    done = threading.Event()

    def watch():
        if not done.wait(seconds):
            _stop_hung_test(item.config, item.nodeid, seconds)

    watchdog = threading.Thread(target=watch, name="test-timeout", daemon=True)
    watchdog.start()
    try:
        yield
    finally:
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
def cu():
    """A CudaScope; everything it made is destroyed at teardown."""
    scope = CudaScope()
    yield scope
    scope.close()

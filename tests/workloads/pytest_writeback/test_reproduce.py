"""test_reproduce.py -- the case of issue 7 item 4, reproduced (runs only with
--bugs; marker `repro`). The two tests share one writeback engine, as the
original suite shared its pool across tests:

  1. test_query_through_event_wrapper: one batch with a real event behind slow
     work, then one whose event wrapper hands cuEventQuery the address of a
     Python object instead of the handle (numba-cuda 0.17-0.27). The driver
     refuses it, the exception kills the watcher thread with tasks in hand,
     and wait_all() gives up at its timeout: the test fails.
  2. test_next_batch_after_wrapper: needs more pinned buffers than came back;
     like the original code it waits for one without a timeout and blocks on a
     stranded buffer until the conftest hang stop (CUGUARD_TEST_TIMEOUT) stops
     it; the test fails with HangTimeout.

Must never: run in the default run; pass a foreign address anywhere but to
cuEventQuery through ForeignHandleEvent.
"""
import os

import pytest

import wbscenario

WAIT_S = 1.0
POOL = 6
WRAPPER_RAN = False


@pytest.fixture(scope="module")
def shared():
    """Stream, pool and a running writeback engine shared by the module."""
    cuda = wbscenario.cuda()
    state = {"stream": cuda.stream(), "pool": wbscenario.Pool(POOL, 256)}
    items = 2 * POOL
    state["data"] = wbscenario.expected_words(61, items, 256)
    state["device"] = cuda.to_device(state["data"], stream=state["stream"])
    state["engine"] = wbscenario.Writeback(state["stream"], state["pool"], items).start()
    yield state
    state["engine"].close(join_timeout=1.0)  # the original suite's 1-second join
    state.clear()
    wbscenario.release_cuda_objects()


@pytest.mark.repro
@pytest.mark.bug("unknown-handle", "poller-exited",
                 allowed=("api-error", "pending-at-task-end", "leak.event", "leak.stream",
                          "leak.pinned", "never-completed"))  # wait_all's TimeoutError
def test_query_through_event_wrapper(shared, tmp_path_factory):
    global WRAPPER_RAN
    # A real driver may crash on the foreign address (an H100 with driver 580
    # does: SIGSEGV inside cuEventQuery); pytest-xdist then reruns this test
    # on each replacement worker. Once per run is enough (the workers' base
    # temp dirs share one parent per run; without xdist nothing reruns).
    if "PYTEST_XDIST_WORKER" in os.environ:
        token = tmp_path_factory.getbasetemp().parent / "test_query_through_event_wrapper.ran"
        try:
            os.close(os.open(token, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            pytest.skip("already ran in this run (its worker crashed)")
    WRAPPER_RAN = True
    engine, stream = shared["engine"], shared["stream"]
    wbscenario.launch_sleep(stream, 0.2)  # the watcher polls the real event a while
    engine.submit_batch(shared["device"], 0, 2)
    engine.event_factory = wbscenario.ForeignHandleEvent
    engine.submit_batch(shared["device"], 2, 2)
    engine.wait_all(WAIT_S)  # TimeoutError: the watcher died with the tasks


@pytest.mark.repro
@pytest.mark.bug("stall", allowed=("cross-task-use",))  # the shared stream
def test_next_batch_after_wrapper(request):
    if not WRAPPER_RAN:
        # pytest-xdist reruns a crashed worker's test on its replacement, with
        # a fresh engine: nothing to reproduce there.
        pytest.skip("needs test_query_through_event_wrapper earlier in this process")
    shared = request.getfixturevalue("shared")
    engine, stream = shared["engine"], shared["stream"]
    engine.event_factory = None  # back to plain events
    data = wbscenario.expected_words(62, POOL, 256)
    device = wbscenario.cuda().to_device(data, stream=stream)  # this test's input
    # Two buffers are free; four are stranded with the dead watcher. Like the
    # original code, take() waits for one without a timeout.
    engine.submit_batch(device, 0, POOL - 2, take_timeout=None)
    engine.wait_all(WAIT_S)

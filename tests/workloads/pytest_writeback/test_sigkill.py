"""test_sigkill.py -- a pytest-xdist worker killed (SIGKILL) in the middle of a
test (runs only with --bugs; marker `sigkill`). Before the kill the test
creates events, records them behind slow work and polls one once, so the
worker's trace holds lifecycle records the report must still read.

Must never: kill a process that is not a pytest-xdist worker (it skips there:
killing the only pytest process would end the whole run), or kill more than
one worker per run.
"""
import os
import signal

import pytest

import wbscenario

EVENTS = 3


@pytest.mark.sigkill
@pytest.mark.bug("leak.event", allowed=("leak.stream", "blocked-at-exit"))
def test_worker_killed_mid_test(cu, tmp_path_factory, xdist_dist):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("kills its own worker: only under pytest-xdist (-n)")
    if xdist_dist != "load":
        pytest.skip("needs --dist load: pytest-xdist 3.1 stops scheduling after a worker "
                    "crash under loadfile/loadscope")
    # pytest-xdist reruns a crashed worker's test on the replacement worker;
    # one kill per run (the workers' base temp dirs share this parent).
    token = tmp_path_factory.getbasetemp().parent / "test_sigkill.killed"
    try:
        os.close(os.open(token, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        pytest.skip("a worker was already killed in this run")
    stream = cu.stream()
    wbscenario.launch_sleep(stream, 5.0)
    events = [cu.cuda.event(timing=False) for _ in range(EVENTS)]
    for event in events:
        event.record(stream)
    assert events[-1].query() is False
    os.kill(os.getpid(), signal.SIGKILL)

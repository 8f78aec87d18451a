"""test_sigkill.py -- a pytest-xdist worker killed (SIGKILL) in the middle of a
test (runs only with --bugs; marker `sigkill`). Before the kill the test
creates events, records them behind slow work and polls one once, so the
worker's trace holds lifecycle records the report must still read.

Must never: kill a process that is not a pytest-xdist worker (it skips there:
killing the only pytest process would end the whole run).
"""
import os
import signal

import pytest

import wbscenario

EVENTS = 3


@pytest.mark.sigkill
@pytest.mark.bug("leak.event", allowed=("leak.stream", "blocked-at-exit"))
def test_worker_killed_mid_test(cu):
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("kills its own worker: only under pytest-xdist (-n)")
    stream = cu.stream()
    wbscenario.launch_sleep(stream, 5.0)
    events = [cu.cuda.event(timing=False) for _ in range(EVENTS)]
    for event in events:
        event.record(stream)
    assert events[-1].query() is False
    os.kill(os.getpid(), signal.SIGKILL)

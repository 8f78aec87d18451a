"""test_planted.py -- planted lifecycle bugs (run only with --bugs). Each test
carries marker bug(KIND, ..., allowed=(...)): cuguard must attribute KIND to
this test id; `allowed` lists findings that may come along.

  * leaked events: the batch events are kept in a module list, never destroyed;
  * leaked pinned buffers: the pool's buffers are kept the same way;
  * a stream reused across tests with work in flight: the first test leaves
    slow work queued on a module-scoped stream, the next test uses that stream.

Must never: be collected into the default (correct) run; block (every wait
has a timeout).
"""
import numpy as np
import pytest

import wbscenario

LEAKED = []  # lives until the worker exits: nothing in it is ever destroyed


@pytest.mark.bug("leak.event")
def test_leaks_batch_events(cu):
    def leaky_event():
        event = cu.cuda.event(timing=False)
        LEAKED.append(event)
        return event

    got, want = wbscenario.run_writeback(cu.stream(), cu.pool(4), items=8, per_batch=2, seed=51,
                                         event_factory=leaky_event)
    np.testing.assert_array_equal(got, want)


@pytest.mark.bug("leak.pinned")
def test_leaks_pinned_buffers(cu):
    pool = cu.pool(4)
    LEAKED.extend(pool.buffers)
    got, want = wbscenario.run_writeback(cu.stream(), pool, items=4, per_batch=4, seed=52)
    np.testing.assert_array_equal(got, want)


@pytest.fixture(scope="module")
def module_stream():
    """One stream for the whole module, created in the first test that uses
    it and destroyed after the last one (a holder, so pytest keeps no
    reference to the stream past teardown)."""
    holder = {"stream": wbscenario.cuda().stream()}
    yield holder
    holder["stream"].synchronize()
    holder.clear()
    wbscenario.release_cuda_objects()


@pytest.mark.bug("pending-at-task-end")
def test_leaves_stream_busy(cu, module_stream):
    stream = module_stream["stream"]
    data = wbscenario.expected_words(53, 1, 4096)
    device = cu.cuda.to_device(data, stream=stream)
    wbscenario.launch_sleep(stream, 0.3)
    # The destination lives as long as the stream: freeing pinned memory
    # synchronizes, which would finish the work before the test ends.
    module_stream["host"] = cu.cuda.pinned_array(4096, dtype=np.uint32)
    device.copy_to_host(module_stream["host"], stream=stream)
    done = cu.cuda.event(timing=False)
    done.record(stream)
    # returns without waiting: the sleep, the copy and the record are still
    # queued on the shared stream when the next test begins


@pytest.mark.bug("cross-task-use")
def test_reuses_busy_stream(cu, module_stream):
    got, want = wbscenario.run_writeback(module_stream["stream"], cu.pool(4), items=4,
                                         per_batch=4, seed=54)
    np.testing.assert_array_equal(got, want)

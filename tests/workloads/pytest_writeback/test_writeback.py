"""test_writeback.py -- the seed scenario, written correctly: pooled pinned
buffers, one event per batch shared by its buffers, a watcher thread polling
every millisecond, wait_all() with a timeout. cuguard must report nothing here.

Must never: leave a stream, event or pinned buffer alive past its test (the
`cu` fixture destroys them), or wait without a timeout.
"""
import numpy as np
import pytest

import wbscenario

WAIT_S = 10.0


def test_single_batch_round_trip(cu):
    got, want = wbscenario.run_writeback(cu.stream(), cu.pool(4), items=4, per_batch=4, seed=1)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("items,per_batch,buffers", [(8, 4, 8), (16, 4, 8), (12, 3, 3)],
                         ids=["pool-fits-all", "pool-recycled", "pool-one-batch"])
def test_batches_share_one_event(cu, items, per_batch, buffers):
    got, want = wbscenario.run_writeback(cu.stream(), cu.pool(buffers), items, per_batch,
                                         seed=items * 31 + buffers)
    np.testing.assert_array_equal(got, want)


def test_every_buffer_returns_to_the_pool(cu):
    pool = cu.pool(6)
    wbscenario.run_writeback(cu.stream(), pool, items=12, per_batch=2, seed=7)
    assert pool.free_count() == 6


def test_watcher_survives_and_joins(cu):
    stream, pool = cu.stream(), cu.pool(4)
    expected = wbscenario.expected_words(11, 8, pool.words)
    device = cu.cuda.to_device(expected, stream=stream)
    writeback = wbscenario.Writeback(stream, pool, 8).start()
    for first in (0, 4):
        writeback.submit_batch(device, first, 4)
    writeback.wait_all(WAIT_S)
    assert writeback.watcher_alive()
    assert writeback.close(join_timeout=WAIT_S)
    assert writeback.watcher_error is None
    np.testing.assert_array_equal(writeback.results, expected)


def test_slow_stream_keeps_tasks_pending(cu):
    """The watcher sees NOT_READY for a while, then completion."""
    stream, pool = cu.stream(), cu.pool(4)
    expected = wbscenario.expected_words(13, 4, pool.words)
    device = cu.cuda.to_device(expected, stream=stream)
    writeback = wbscenario.Writeback(stream, pool, 4).start()
    try:
        wbscenario.launch_sleep(stream, 0.1)
        writeback.submit_batch(device, 0, 4)
        assert writeback.pending == 4
        writeback.wait_all(WAIT_S)
    finally:
        writeback.close()
    np.testing.assert_array_equal(writeback.results, expected)


def test_two_rounds_reuse_pool_and_stream(cu):
    stream, pool = cu.stream(), cu.pool(4)
    for seed in (21, 22):
        got, want = wbscenario.run_writeback(stream, pool, items=8, per_batch=4, seed=seed)
        np.testing.assert_array_equal(got, want)


def test_two_streams_in_parallel(cu):
    rounds = [(cu.stream(), cu.pool(4), seed) for seed in (31, 32)]
    for stream, pool, seed in rounds:
        wbscenario.launch_sleep(stream, 0.02)
        got, want = wbscenario.run_writeback(stream, pool, items=8, per_batch=2, seed=seed)
        np.testing.assert_array_equal(got, want)


def test_wait_all_with_nothing_pending_returns(cu):
    writeback = wbscenario.Writeback(cu.stream(), cu.pool(2), 2).start()
    writeback.wait_all(0)
    assert writeback.close()

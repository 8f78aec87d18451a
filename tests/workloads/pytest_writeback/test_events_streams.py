"""test_events_streams.py -- the numba.cuda calls the scenario is made of
(issue 7 item 1), each used correctly: streams, events, pinned arrays and
asynchronous copies. cuguard must report nothing here.

Must never: query or wait on an event before recording it, or leave work
unsynchronized at the end of a test.
"""
import numpy as np

import wbscenario


def test_event_query_then_synchronize(cu):
    stream, event = cu.stream(), cu.cuda.event(timing=False)
    wbscenario.launch_sleep(stream, 0.1)
    event.record(stream)
    assert event.query() is False
    event.synchronize()
    assert event.query() is True


def test_event_wait_orders_two_streams(cu):
    producer, consumer = cu.stream(), cu.stream()
    data = wbscenario.expected_words(41, 1, 1024)
    device = cu.cuda.to_device(data, stream=producer)
    wbscenario.launch_sleep(producer, 0.05)
    ready = cu.cuda.event(timing=False)
    ready.record(producer)
    ready.wait(consumer)
    host = cu.cuda.pinned_array(data.shape, dtype=data.dtype)
    device.copy_to_host(host, stream=consumer)
    consumer.synchronize()
    np.testing.assert_array_equal(host, data)


def test_pinned_round_trip_on_a_stream(cu):
    stream = cu.stream()
    source = cu.cuda.pinned_array(4096, dtype=np.uint32)
    source[:] = wbscenario.expected_words(43, 1, 4096)
    device = cu.cuda.to_device(source, stream=stream)
    back = cu.cuda.pinned_array(4096, dtype=np.uint32)
    device.copy_to_host(back, stream=stream)
    stream.synchronize()
    np.testing.assert_array_equal(back, source)


def test_context_synchronize_waits_for_every_stream(cu):
    streams = [cu.stream() for _ in range(3)]
    done = []
    for stream in streams:
        wbscenario.launch_sleep(stream, 0.03)
        event = cu.cuda.event(timing=False)
        event.record(stream)
        done.append(event)
    cu.cuda.synchronize()
    assert all(event.query() for event in done)


def test_event_recorded_again_after_completion(cu):
    stream, event = cu.stream(), cu.cuda.event(timing=False)
    for _ in range(3):
        wbscenario.launch_sleep(stream, 0.01)
        event.record(stream)
        event.synchronize()
        assert event.query()


def test_timing_event_elapsed(cu):
    stream = cu.stream()
    start, end = cu.cuda.event(), cu.cuda.event()
    start.record(stream)
    wbscenario.launch_sleep(stream, 0.02)
    end.record(stream)
    end.synchronize()
    assert start.elapsed_time(end) >= 0.0

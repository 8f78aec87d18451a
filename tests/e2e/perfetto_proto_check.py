"""tests/e2e/perfetto_proto_check.py — an independent reader of the protobuf
trace `cuguard export --format proto` writes, using only the standard library.

What it is for: 46_export_proto.sh. It decodes the protobuf wire format by
hand (varints, fixed64, length-delimited fields), checks the structure
Perfetto needs (a Trace is repeated TracePacket = field 1; every packet has
trusted_packet_sequence_id; every TrackEvent names a track a TrackDescriptor
declared; slices begin and end on the same track; every flow id leaves
exactly one event and ends at exactly one, not earlier), and compares the
API slices (name, start in ns) with the JSON export of the same traces.

Usage: perfetto_proto_check.py TRACE.pftrace TIMELINE.json [--window START_NS SINCE_NS UNTIL_NS]
       perfetto_proto_check.py TRACE.pftrace --empty-of-events
What it must never do: import a protobuf library (the point is an
independent decoder), or pass a file it could not decode to the end.
"""
import collections
import json
import struct
import sys


def varint(buf, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("varint runs past the end")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")


def fields(buf):
    """(field number, wire type, value) of every field of one message."""
    pos, out = 0, []
    while pos < len(buf):
        key, pos = varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ValueError("fixed64 past the end")
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            if pos + n > len(buf):
                raise ValueError("length-delimited field past the end")
            value = bytes(buf[pos:pos + n])
            pos += n
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((field, wire, value))
    return out


def one(fs, number, default=None):
    vals = [v for f, _, v in fs if f == number]
    return vals[-1] if vals else default


def many(fs, number):
    return [v for f, _, v in fs if f == number]


def decode(path):
    data = open(path, "rb").read()
    tracks, events = {}, []
    for field, wire, packet in fields(data):
        assert field == 1 and wire == 2, "a Trace holds only packets (field 1)"
        p = fields(packet)
        assert one(p, 10) == 1, "trusted_packet_sequence_id"
        desc, ev = one(p, 60), one(p, 11)
        assert (desc is None) != (ev is None), "a packet is a descriptor or an event"
        if desc is not None:
            d = fields(desc)
            uuid = one(d, 1)
            assert uuid, "a track has a uuid"
            name = one(d, 2, b"").decode()
            proc, thread = one(d, 3), one(d, 4)
            kind = "process" if proc else "thread" if thread else "counter" if one(d, 8) is not None else "named"
            if proc:
                assert one(fields(proc), 1) is not None, "process pid"
            if thread:
                t = fields(thread)
                assert one(t, 1) is not None and one(t, 2) is not None, "thread pid and tid"
            parent = one(d, 5)
            tracks[uuid] = (kind, name, parent)
            continue
        e = fields(ev)
        args = {}
        for a in many(e, 4):
            af = fields(a)
            key = one(af, 10).decode()
            s = one(af, 6)
            args[key] = s.decode() if s is not None else one(af, 3, one(af, 4, one(af, 7, one(af, 2))))
        cats = [c.decode() for c in many(e, 22)]
        events.append({"ts": one(p, 8), "type": one(e, 9), "track": one(e, 11),
                       "name": (one(e, 23) or b"").decode(), "cat": cats[0] if cats else None,
                       "flows": many(e, 47), "ends": many(e, 48), "counter": one(e, 30),
                       "args": args})
    return tracks, events


def check_structure(tracks, events):
    for uuid, (kind, name, parent) in tracks.items():
        if kind != "process":
            assert parent in tracks, "track %x (%s) has a declared parent" % (uuid, name)
    open_slices = collections.defaultdict(list)
    for e in sorted(events, key=lambda e: (e["ts"], e["type"] != 2)):
        assert e["track"] in tracks, "event %r on an undeclared track" % e["name"]
        assert e["type"] in (1, 2, 3, 4), "event type"
        assert e["ts"] is not None, "every event has a timestamp"
        if e["type"] == 1:
            assert e["name"], "a slice has a name"
            open_slices[e["track"]].append(e)
        elif e["type"] == 2:
            assert open_slices[e["track"]], "slice end without a begin"
            open_slices[e["track"]].pop()
        elif e["type"] == 4:
            assert tracks[e["track"]][0] == "counter" and e["counter"] is not None
    assert not any(open_slices.values()), "every slice ends"
    starts, ends = collections.Counter(), collections.Counter()
    start_ts, end_ts = {}, {}
    for e in events:
        for f in e["flows"]:
            starts[f] += 1
            start_ts[f] = e["ts"]
        for f in e["ends"]:
            ends[f] += 1
            end_ts[f] = e["ts"]
    assert starts == ends, "every flow has one start and one end"
    assert all(n == 1 for n in starts.values()), "flow ids are unique"
    assert all(end_ts[f] >= start_ts[f] for f in starts), "a flow ends after it starts"
    return len(starts)


def api_slices(events):
    return collections.Counter((e["name"], e["ts"]) for e in events
                               if e["type"] == 1 and e["cat"] == "api")


def json_api_slices(path):
    doc = json.load(open(path))
    return collections.Counter((e["name"], round(e["ts"] * 1000)) for e in doc["traceEvents"]
                               if e.get("ph") == "X" and e.get("cat") == "api")


def main():
    tracks, events = decode(sys.argv[1])
    flows = check_structure(tracks, events)
    if sys.argv[2] == "--empty-of-events":
        assert not [e for e in events if e["type"] == 1], "no slice passes the filter"
        print("proto ok: %d tracks, no slices" % len(tracks))
        return
    want = json_api_slices(sys.argv[2])
    got = api_slices(events)
    if len(sys.argv) > 3 and sys.argv[3] == "--window":
        start, since, until = (int(v) for v in sys.argv[4:7])
        want = collections.Counter({k: n for k, n in want.items()
                                    if since <= k[1] - start <= until})
        assert all(since <= ts - start <= until for _, ts in got), "slices inside the window"
        assert want, "the window holds some slices"
    assert got == want, "API slices differ from the JSON export: %d vs %d, e.g. %r" % (
        sum(got.values()), sum(want.values()), list((got - want) or (want - got))[:3])
    kinds = collections.Counter(k for k, _, _ in tracks.values())
    assert kinds["process"] >= 1 and kinds["thread"] >= 1, kinds
    assert kinds["named"] >= 1 and kinds["counter"] >= 1, kinds  # streams, counters
    assert any(e["name"].startswith("cuEventQuery") for e in events), "event names"
    print("proto ok: %d tracks, %d events, %d API slices, %d flows" % (
        len(tracks), len(events), sum(got.values()), flows))


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ValueError) as err:
        print("FAIL: %s" % err)
        sys.exit(1)

"""Grouping events into bulk messages (``producers.bulk``): per topic, at most 500 events and
512 KiB a message, keyed by the first event, and what cannot share a message goes alone."""

from __future__ import annotations

import json

import pytest

from producers.bulk import Group, groups
from producers.simulation.publish import in_bulk
from producers.simulation.records import Message
from schemas.bulk import MAX_BYTES, MAX_EVENTS, is_bulk, split

Item = tuple[str, int, bytes]  # topic, number, value


def event(topic: str, number: int, size: int = 0) -> Item:
    return topic, number, json.dumps({"n": number, "pad": "x" * size}).encode()


def grouped(items: list[Item], size: int = MAX_EVENTS) -> list[Group[Item]]:
    return groups(items, lambda i: i[0], lambda i: str(i[1]).encode(), lambda i: i[2], size=size)


def test_up_to_500_events_of_a_topic_share_a_message_in_their_order() -> None:
    items = [event("a", n) for n in range(1200)] + [event("b", n) for n in range(3)]
    out = grouped(items)
    assert [(g.topic, len(g.items)) for g in out] == [("a", 500), ("a", 500), ("a", 200), ("b", 3)]
    assert [i for g in out for i in g.items] == items
    for group in out:
        assert is_bulk(group.headers)
        assert split(group.value) == [i[2] for i in group.items]  # the events' own bytes
        assert group.key == str(group.items[0][1]).encode()  # the first event's


def test_topics_never_share_a_message() -> None:
    items = [event(topic, n) for n in range(10) for topic in ("a", "b", "c")]
    out = grouped(items)
    assert sorted((g.topic, len(g.items)) for g in out) == [("a", 10), ("b", 10), ("c", 10)]


def test_a_message_never_passes_512_kib() -> None:
    items = [event("a", n, size=100_000) for n in range(12)]
    out = grouped(items)
    assert all(len(g.value) <= MAX_BYTES for g in out)
    assert [len(g.items) for g in out] == [5, 5, 2]
    assert [i for g in out for i in g.items] == items


def test_one_event_is_a_plain_single_event_message() -> None:
    (group,) = grouped([event("a", 1)])
    assert group.headers == []
    assert group.value == event("a", 1)[2]
    assert [len(g.items) for g in grouped([event("a", n) for n in range(3)], size=1)] == [1, 1, 1]


def test_an_event_too_large_to_share_goes_alone() -> None:
    items = [event("a", 0), event("a", 1, size=MAX_BYTES), event("a", 2)]
    out = grouped(items)
    assert [len(g.items) for g in out] == [1, 1, 1]
    assert out[1].headers == []  # sent as one event: the broker and the hub decide about it


@pytest.mark.parametrize("size", [0, MAX_EVENTS + 1])
def test_the_size_is_1_to_500(size: int) -> None:
    with pytest.raises(ValueError, match="1 to 500"):
        grouped([event("a", 1)], size=size)


def test_the_simulators_faults_that_are_not_json_travel_alone() -> None:
    good = [Message("t", b"k%d" % n, b'{"n":%d}' % n) for n in range(4)]
    bad = Message("t", b"bad", b"not json {")
    out = in_bulk([good[0], good[1], bad, good[2], good[3]], 100)
    assert [[m.key for m in g.items] for g in out] == [[b"k0", b"k1"], [b"bad"], [b"k2", b"k3"]]
    assert out[1].headers == []
    assert out[1].value == bad.value
    assert [len(g.items) for g in in_bulk(good, 1)] == [1, 1, 1, 1]

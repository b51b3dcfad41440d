"""The bulk message's frame (``schemas.bulk``): what is one array of events, what is refused
whole, and that elements come out as the very bytes that were sent."""

from __future__ import annotations

import json
import time

import pytest

from schemas.bulk import MAX_BYTES, MAX_EVENTS, frames, is_bulk, join, split
from schemas.reasons import BULK_CODES, CODES, InvalidEvent


def refused(raw: bytes) -> tuple[str, str]:
    with pytest.raises(InvalidEvent) as caught:
        split(raw)
    (reason,) = caught.value.reasons
    assert reason.field == ""
    return reason.code, reason.message


def test_elements_are_the_bytes_sent_spaces_around_them_aside() -> None:
    values = [b'{"a":1}', b'{"b": [1, {"c": "\xd0\xba"}]}', b'"not an object"', b"[1,2]", b"7"]
    assert split(join(values)) == values
    assert split(b' \n[ {"a":1} ,\t{"b":2}\r\n] \n') == [b'{"a":1}', b'{"b":2}']


def test_bytes_that_are_not_utf8_stay_in_their_element() -> None:
    # Refused by that element's own validation (invalid_json), not with the whole message.
    assert split(b'[{"a":"\xff\xfe"},{"b":1}]') == [b'{"a":"\xff\xfe"}', b'{"b":1}']


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"[]", "bulk_empty"),
        (b"  [ \n ]  ", "bulk_empty"),
        (b'{"event_id": "x"}', "bulk_not_array"),
        (b'"[]"', "bulk_not_array"),
        (b"null", "bulk_not_array"),
        (b"not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"\xef\xbb\xbf[{}]", "invalid_json"),  # a byte-order mark, as for single events
        (b'[{"a":1},]', "invalid_json"),
        (b'[{"a":1} {"b":2}]', "invalid_json"),
        (b'[{"a":1}', "invalid_json"),
        (b'[{"a":1}] []', "invalid_json"),
        (b"[" * 100_000 + b"]" * 100_000, "invalid_json"),  # nesting no decoder may follow
        (b"[" + b",".join([b"{}"] * (MAX_EVENTS + 1)) + b"]", "bulk_too_many"),
        (b"[" + b" " * MAX_BYTES + b"{}]", "bulk_too_large"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_message_that_is_not_an_array_of_1_to_500_is_refused_whole(raw: bytes, code: str) -> None:
    assert refused(raw)[0] == code


def test_500_events_and_512_kib_are_the_bounds() -> None:
    assert len(split(b"[" + b",".join([b"{}"] * MAX_EVENTS) + b"]")) == MAX_EVENTS
    padded = b"[{}" + b" " * (MAX_BYTES - 4) + b"]"
    assert len(padded) == MAX_BYTES
    assert split(padded) == [b"{}"]
    assert refused(padded + b" ")[0] == "bulk_too_large"


def test_a_512_kib_array_of_tiny_events_is_refused_at_the_501st_quickly() -> None:
    tiny = b"[" + b",".join([b"{}"] * 170_000) + b"]"
    assert len(tiny) <= MAX_BYTES
    began = time.perf_counter()
    code, message = refused(tiny)
    assert code == "bulk_too_many"
    assert "500" in message
    assert time.perf_counter() - began < 0.5  # stops at element 501, not after 170,000


def test_the_header_is_hub_bulk_1_and_nothing_else() -> None:
    assert is_bulk([("hub-bulk", b"1")]) is True
    assert is_bulk({"hub-bulk": b"1"}) is True
    assert is_bulk(None) is False
    assert is_bulk([]) is False
    assert is_bulk([("other", b"1"), ("Hub-Bulk", b"1")]) is False  # header names are exact
    for value in (b"0", b"2", b"", None, b"true"):
        with pytest.raises(InvalidEvent) as caught:
            is_bulk([("hub-bulk", b"1"), ("hub-bulk", value)])
        assert [r.code for r in caught.value.reasons] == ["bulk_bad_header"]


def test_frames_tells_which_values_can_travel_in_a_bulk_message() -> None:
    assert frames(json.dumps({"a": [1, 2]}).encode())
    assert frames(b'{"a":"\xff"}')
    assert not frames(b"not json")
    assert not frames(b' {"a":1}')  # it would come out without its space
    assert not frames(b'{"a":1}{"b":2}')


def test_every_bulk_code_is_a_reason_code() -> None:
    assert set(CODES) >= BULK_CODES

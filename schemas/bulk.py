"""Bulk messages (contract v1, additive): one Kafka message carrying many events.

A message with the header ``hub-bulk: 1`` carries a JSON array of 1 to :data:`MAX_EVENTS`
event objects, at most :data:`MAX_BYTES` bytes in all; a message without the header is one
event, as before. :func:`split` cuts the array into its elements' own bytes, exactly as they
were sent (no re-encoding), so each element is validated, stored and dead-lettered byte for
byte as if it had come alone. Only the array's frame is checked here: a message that is not a
JSON array, is empty, too long or too large is refused as a whole (:class:`InvalidEvent` with
one ``bulk_*`` or ``invalid_json`` reason); what is inside an element is the element's own
business, so one bad element never refuses its siblings. Pure.

The scanner uses the standard library's decoder (``JSONDecoder.raw_decode`` returns where a
value ends) rather than a hand-written tokenizer; it decodes in C and stops at the 501st element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence

from schemas.reasons import InvalidEvent, Reason

#: The header that marks a bulk message, and its one value in contract v1.
BULK_HEADER = "hub-bulk"
BULK_VALUE = b"1"
#: The most events one bulk message may carry.
MAX_EVENTS = 500
#: The most bytes a bulk message's value may take: half of Kafka's default ``message.max.bytes``
#: (1 MiB), so a bulk message always fits the broker, and a dead letter of it the topic.
MAX_BYTES = 512 * 1024

#: A message's headers as clients give them: (name, value) pairs (kafka-python, aiokafka) or a
#: mapping (Faust may hand either).
Headers = Sequence[tuple[str, bytes | None]] | Mapping[str, bytes | None] | None

_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _refused(code: str, message: str) -> InvalidEvent:
    return InvalidEvent([Reason(field="", code=code, message=message)])


def _pairs(headers: Headers) -> Iterable[tuple[str, bytes | None]]:
    if headers is None:
        return ()
    if isinstance(headers, Mapping):
        return headers.items()
    return headers


def is_bulk(headers: Headers) -> bool:
    """True when ``headers`` mark a bulk message; :class:`InvalidEvent` (``bulk_bad_header``)
    when the header names a format other than ``1`` (never guessed: read as one event, a
    future format would be refused element by element, or worse, half understood)."""
    values = [value for name, value in _pairs(headers) if name == BULK_HEADER]
    if not values:
        return False
    if any(value != BULK_VALUE for value in values):
        shown = ", ".join(repr(v) for v in values)[:100]
        raise _refused("bulk_bad_header", f"header {BULK_HEADER} must be 1, not {shown}")
    return True


def split(raw: bytes) -> list[bytes]:
    """The bytes of each element of a bulk message's array, in order.

    Raises :class:`InvalidEvent` with one reason for the message as a whole: ``bulk_too_large``,
    ``invalid_json`` (not JSON, or an element that does not end), ``bulk_not_array``,
    ``bulk_empty`` or ``bulk_too_many``.
    """
    if len(raw) > MAX_BYTES:
        raise _refused(
            "bulk_too_large", f"a bulk message is {len(raw)} bytes, more than {MAX_BYTES}"
        )
    # surrogateescape: bytes that are not UTF-8 survive the round trip, so an element holding
    # them is refused on its own (invalid_json), exactly as a single message would be.
    text = raw.decode("utf-8", "surrogateescape")
    pos = _skip(text, 0)
    if not text.startswith("[", pos):
        raise _not_an_array(raw)
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        _end(text, pos + 1)
        raise _refused("bulk_empty", "a bulk message holds no event")
    elements: list[bytes] = []
    while True:
        if len(elements) == MAX_EVENTS:
            raise _refused("bulk_too_many", f"a bulk message holds more than {MAX_EVENTS} events")
        try:
            _, end = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError) as error:
            raise _refused("invalid_json", f"element {len(elements)}: {error}"[:200]) from None
        elements.append(text[pos:end].encode("utf-8", "surrogateescape"))
        pos = _skip(text, end)
        if text.startswith(",", pos):
            pos = _skip(text, pos + 1)
        elif text.startswith("]", pos):
            _end(text, pos + 1)
            return elements
        else:
            raise _refused("invalid_json", f"element {len(elements) - 1}: ',' or ']' expected")


def _skip(text: str, pos: int) -> int:
    """The position of the first non-space character at or after ``pos``."""
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _end(text: str, pos: int) -> None:
    if _skip(text, pos) != len(text):
        raise _refused("invalid_json", "data after the array's closing bracket")


def _not_an_array(raw: bytes) -> InvalidEvent:
    try:
        json.loads(raw.decode("utf-8"))  # strict: a byte-order mark is not JSON here either
    except (ValueError, RecursionError):
        return _refused("invalid_json", "a bulk message must be a JSON array; this is not JSON")
    return _refused("bulk_not_array", "a bulk message must be a JSON array of events")


def frames(value: bytes) -> bool:
    """True when ``value`` can be an element of a bulk message and come out unchanged: one
    whole JSON value, no surrounding space (a value that is not JSON must travel alone, or it
    would make its whole bulk message unreadable)."""
    try:
        return split(join([value])) == [value]
    except InvalidEvent:
        return False


def join(values: Sequence[bytes]) -> bytes:
    """A bulk message's value: the events' own JSON ``values`` as one array (checks nothing)."""
    return b"[" + b",".join(values) + b"]"


def bulk_size(values: Sequence[bytes]) -> int:
    """The bytes :func:`join` would make of ``values``."""
    return 2 + sum(len(v) for v in values) + max(len(values) - 1, 0)

"""Reading a request body within its limits: size, time, count of events, JSON depth.

Pure functions over bytes, plus :func:`read_limited` over the ASGI body stream. A breach is a
:class:`BadRequest` carrying the HTTP status (413, 408, 400, 415) and a stable ``code``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from producers.gateway.settings import GatewayLimits
from schemas.reasons import Reason

#: Media types of a body of newline-delimited JSON events (one per line).
NDJSON_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/ndjson"})
JSON_TYPES = frozenset({"application/json"})


class BadRequest(Exception):
    """A request refused as a whole; ``status`` is its HTTP status, ``code`` its reason."""

    def __init__(self, status: int, code: str, message: str) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Items:
    """The events of a body in request order; a line that is not JSON is its Reason."""

    items: list[Any | Reason]
    #: True when the body was one JSON object (not an array or NDJSON).
    single: bool


async def read_limited(
    chunks: AsyncIterator[bytes], declared: int | None, limits: GatewayLimits
) -> bytes:
    """The whole body, refusing it early when it is (or says it is) too large or too slow."""
    if declared is not None and declared > limits.max_body_bytes:
        raise BadRequest(413, "body_too_large", _too_large(limits))
    body = bytearray()

    async def read() -> None:
        async for chunk in chunks:
            body.extend(chunk)
            if len(body) > limits.max_body_bytes:
                raise BadRequest(413, "body_too_large", _too_large(limits))

    try:
        await asyncio.wait_for(read(), limits.body_seconds)
    except TimeoutError:
        raise BadRequest(
            408, "body_too_slow", f"the body took over {limits.body_seconds:g} s to arrive"
        ) from None
    return bytes(body)


def _too_large(limits: GatewayLimits) -> str:
    return f"the body is over {limits.max_body_bytes:,} bytes; send fewer events per request"


def media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, lower-cased, without parameters."""
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


def parse_items(body: bytes, content_type: str | None, limits: GatewayLimits) -> Items:
    """The events of a body: one JSON object, a JSON array of them, or NDJSON lines."""
    kind = media_type(content_type)
    if kind in JSON_TYPES:
        value = _loads(body, limits)
        if isinstance(value, list):
            items, single = value, False
        else:
            items, single = [value], True
    elif kind in NDJSON_TYPES:
        lines = [line for line in body.split(b"\n") if line.strip()]
        _check_count(len(lines), limits)
        items, single = [_line(line, number, limits) for number, line in enumerate(lines, 1)], False
    else:
        raise BadRequest(
            415,
            "unsupported_media_type",
            f"Content-Type {kind!r}: send application/json or application/x-ndjson",
        )
    _check_count(len(items), limits)
    if not items:
        raise BadRequest(400, "no_events", "the request holds no event")
    for index, item in enumerate(items):
        if not isinstance(item, Reason) and deeper_than(item, limits.max_depth):
            raise BadRequest(
                400, "too_deep", f"event {index}: JSON nested deeper than {limits.max_depth}"
            )
    return Items(items, single)


def _check_count(count: int, limits: GatewayLimits) -> None:
    if count > limits.max_events:
        raise BadRequest(
            413, "too_many_events", f"{count:,} events; at most {limits.max_events:,} a request"
        )


def _loads(body: bytes, limits: GatewayLimits) -> Any:
    try:
        return json.loads(body)
    except RecursionError:
        raise BadRequest(400, "too_deep", f"JSON nested deeper than {limits.max_depth}") from None
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise BadRequest(400, "invalid_json", f"the body is not UTF-8 JSON: {error}") from None


def _line(line: bytes, number: int, limits: GatewayLimits) -> Any | Reason:
    try:
        return json.loads(line)
    except RecursionError:
        raise BadRequest(
            400, "too_deep", f"line {number}: JSON nested deeper than {limits.max_depth}"
        ) from None
    except ValueError as error:
        return Reason(field="", code="invalid_json", message=f"line {number}: {error}")


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest more than ``limit`` levels in a decoded JSON value.

    Recursive, but never more than ``limit`` calls deep, and it skips scalars: a few
    milliseconds for a thousand events.
    """
    if isinstance(value, dict):
        children: Any = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return False
    if limit < 1:
        return True
    for child in children:
        if isinstance(child, dict | list) and deeper_than(child, limit - 1):
            return True
    return False

"""The dead-letter topic's message for a dead-letter row, always within the broker's limit.

Kafka refuses a record above ``message.max.bytes`` (about 1 MB by default), and a producer one
above ``max.request.size``: a dead letter that big would fail to publish for ever and stall the
worker. So the original bytes go whole into the warehouse's ``deadletters`` table, and the topic
carries them cut to :data:`MAX_VALUE` bytes with their full size and SHA-256 in headers; the
reasons header keeps as many whole reasons as fit in :data:`MAX_REASONS` bytes and says how many
there were. Pure.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from streams.transform import Row

#: The most the hub's producer sends in one request (aiokafka's ``max_request_size``) and the
#: broker's default ``message.max.bytes``: a dead letter stays well below both.
BROKER_LIMIT = 1_000_000
#: Bytes of the original message a dead letter carries on the topic.
MAX_VALUE = 512 * 1024
#: Bytes of the reasons header.
MAX_REASONS = 64 * 1024

Header = tuple[str, bytes]


def _reasons_header(reasons_json: str) -> tuple[bytes, int]:
    """The reasons as a JSON list of at most :data:`MAX_REASONS` bytes, and how many there are."""
    reasons: list[Any] = json.loads(reasons_json)
    whole = reasons_json.encode()
    if len(whole) <= MAX_REASONS:
        return whole, len(reasons)
    kept: list[Any] = []
    size = 2  # the brackets
    for reason in reasons:
        text = json.dumps(reason, separators=(",", ":"))
        if size + len(text) + 1 > MAX_REASONS:
            break
        kept.append(reason)
        size += len(text) + 1
    return json.dumps(kept, separators=(",", ":")).encode(), len(reasons)


def deadletter_message(row: Row) -> tuple[bytes, bytes, list[Header]]:
    """Key, value and headers of the dead-letter topic's record for ``row``."""
    raw: bytes = row["raw"]
    reasons, count = _reasons_header(row["reasons"])
    headers: list[Header] = [
        ("x-hub-reasons", reasons),
        ("x-hub-topic", row["topic"].encode()),
        # "sgbv" when the topic or the bytes name SGBV: a consumer of this topic keeps those
        # apart as it keeps SGBV topics apart (disclosure.rules.deadletter_kind).
        ("x-hub-kind", row["kind"].encode()),
        ("x-hub-partition", str(row["partition"]).encode()),
        ("x-hub-offset", str(row["offset"]).encode()),
        # The event's place in its bulk message; -1: the message as a whole.
        ("x-hub-event-index", str(row["event_index"]).encode()),
    ]
    if count > len(json.loads(reasons)):
        headers.append(("x-hub-reasons-count", str(count).encode()))
    value = raw
    if len(raw) > MAX_VALUE:
        value = raw[:MAX_VALUE]
        headers += [
            ("x-hub-truncated", b"1"),
            ("x-hub-original-size", str(len(raw)).encode()),
            ("x-hub-original-sha256", hashlib.sha256(raw).hexdigest().encode()),
        ]
    return row["partner_id"].encode(), value, headers


def record_size(key: bytes, value: bytes, headers: list[Header]) -> int:
    """An upper bound of the bytes a record takes in a batch (payloads plus varint overhead)."""
    return 64 + len(key) + len(value) + sum(len(k) + len(v) + 10 for k, v in headers)

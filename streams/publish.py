"""Publishing rows to a Faust topic: one message per row, delivered before returning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from streams.after_write import Publisher
from streams.transform import Row

#: key, value, headers
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]


def deadletter_message(row: Row) -> Message:
    """The dead-letter topic's message for a dead-letter row: the original bytes, keyed by
    partner, with where it came from and why it was rejected as headers."""
    return (
        row["partner_id"].encode(),
        row["raw"],
        [
            ("x-hub-reasons", row["reasons"].encode()),
            ("x-hub-topic", row["topic"].encode()),
            ("x-hub-partition", str(row["partition"]).encode()),
            ("x-hub-offset", str(row["offset"]).encode()),
        ],
    )


def topic_publisher(topic: Any, message: Callable[[Row], Message]) -> Publisher:
    """A publisher that sends ``message(row)`` for each row to a Faust ``topic`` and returns
    once the broker acknowledged them all (delivered, not merely buffered)."""

    async def publish(rows: Sequence[Row]) -> None:
        sent = []
        for row in rows:
            key, value, headers = message(row)
            sent.append(await topic.send(key=key, value=value, headers=headers or None))
        await asyncio.gather(*sent)

    return publish

"""Publishing rows to a Faust topic: one message per row, delivered before returning."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from streams.after_write import Publisher
from streams.deadletter import deadletter_message
from streams.transform import Row

#: key, value, headers
Message = tuple[bytes, bytes, list[tuple[str, bytes]]]

#: The dead-letter topic's message for a dead-letter row, within the broker's limit.
__all__ = ["Message", "deadletter_message", "topic_publisher"]


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

"""What the simulator hands around: messages on the wire and drafts of event versions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from producers.simulation.calendar import timestamp


class Message(NamedTuple):
    """One Kafka record as it will be published."""

    topic: str
    key: bytes
    value: bytes


def encode(body: Any) -> bytes:
    """The canonical wire form: compact JSON with sorted keys, UTF-8."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


#: Where a message goes in the stream: (seconds since the epoch, tie-break sequence number).
Position = tuple[float, float]


def position(moment: datetime, seq: int) -> Position:
    """The stream position of a message sent at ``moment``, ``seq``-th among equals."""
    return (moment.timestamp(), float(seq))


@dataclass
class Draft:
    """One version of one valid event: its body, its topic and its place in the stream."""

    body: dict[str, Any]
    topic: str
    reported: datetime
    at: Position
    #: The population group of a base event (faults keep a moved event where it lives).
    group: str = ""

    def move_report(self, moment: datetime, seq: int) -> None:
        """Report (and publish) this version at ``moment`` instead."""
        self.reported = moment
        self.body["reported_at"] = timestamp(moment)
        self.at = position(moment, seq)


@dataclass(frozen=True)
class Outgoing:
    """A message with its stream position and, for an invalid one, the reason code it carries."""

    at: Position
    message: Message
    code: str | None = None

    @staticmethod
    def of(draft: Draft) -> Outgoing:
        # Keyed by event id, as the contract says: every revision of an event in one partition,
        # a partner's load spread over all partitions of its topics.
        key = str(draft.body["event_id"])
        return Outgoing(draft.at, Message(draft.topic, key.encode(), encode(draft.body)))

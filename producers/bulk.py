"""Grouping events into bulk messages (``schemas.bulk``), for the publishers that send many.

Faust's per-message cost is the worker's ceiling at one event per message (docs/benchmarks.md),
so the batch publishers (the SDK's ``publish_many``, sheets through it, the simulator, the
HTTP gateway) send up to :data:`~schemas.bulk.MAX_EVENTS` events of one topic in one Kafka
message, never more than :data:`~schemas.bulk.MAX_BYTES`. A group of one event is sent as a
plain single-event message (no header): the same thing on the wire, read the same way by
every consumer. An event too large to share a message goes alone, as a single-event message.
Each message is keyed by its first event's id (the hub never relies on the key). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from schemas.bulk import BULK_HEADER, BULK_VALUE, MAX_BYTES, MAX_EVENTS, join

T = TypeVar("T")

#: (name, value) headers, as kafka-python takes them.
Headers = list[tuple[str, bytes]]


@dataclass
class Group(Generic[T]):
    """The events of one Kafka message (of one topic), and what the message is made of."""

    topic: str
    items: list[T] = field(default_factory=list)
    values: list[bytes] = field(default_factory=list)
    keys: list[bytes] = field(default_factory=list)
    size: int = 2  # the array's brackets

    @property
    def key(self) -> bytes:
        """The message's key: its first event's."""
        return self.keys[0]

    @property
    def value(self) -> bytes:
        """One event's own bytes, or the events as a bulk message's array."""
        return self.values[0] if len(self.values) == 1 else join(self.values)

    @property
    def headers(self) -> Headers:
        """``hub-bulk: 1`` for a bulk message; none for a single event."""
        return [(BULK_HEADER, BULK_VALUE)] if len(self.values) > 1 else []

    def fits(self, value: bytes, limit: int) -> bool:
        """True when ``value`` can join the group (events and bytes within bounds)."""
        return len(self.values) < limit and self.size + len(value) + 1 <= MAX_BYTES

    def add(self, item: T, key: bytes, value: bytes) -> None:
        self.items.append(item)
        self.keys.append(key)
        self.values.append(value)
        self.size += len(value) + (1 if len(self.values) > 1 else 0)


def groups(
    items: Iterable[T],
    topic: Callable[[T], str],
    key: Callable[[T], bytes],
    value: Callable[[T], bytes],
    *,
    size: int = MAX_EVENTS,
    alone: Callable[[T], bool] = lambda _: False,
) -> list[Group[T]]:
    """``items`` as Kafka messages of up to ``size`` events per topic (1: every event alone),
    each item in its topic's order; a group is closed when full, the rest at the end. Items
    ``alone`` says so of go in a message of their own (after their topic's open group)."""
    if not 1 <= size <= MAX_EVENTS:
        raise ValueError(f"a bulk message holds 1 to {MAX_EVENTS} events, not {size}")
    done: list[Group[T]] = []
    open_: dict[str, Group[T]] = {}
    for item in items:
        name, data = topic(item), value(item)
        group = open_.get(name)
        if group is not None and (not group.fits(data, size) or alone(item)):
            done.append(open_.pop(name))
            group = None
        if group is None:
            group = open_[name] = Group(name)
        group.add(item, key(item), data)
        if len(group.values) >= size or alone(item):
            done.append(open_.pop(name))
    return done + list(open_.values())

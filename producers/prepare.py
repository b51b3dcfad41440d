"""Checking an event before it is sent: contract v1, attribution to the partner, encoding.

Pure: no broker, no I/O. The SDK calls :func:`prepare` for every event it publishes, and
``partnerhub publish --dry-run`` calls it for every row, so both refuse exactly the same events
that the hub would dead-letter.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import to_json

from schemas import refdata
from schemas.contract import Event, parse_event
from schemas.reasons import InvalidEvent, Reason
from schemas.topics import check_attribution, topic_for
from schemas.vocabulary import Kind

#: Returns the current time, timezone-aware; injected so tests can move it.
Clock = Callable[[], datetime]
#: What can be published: a decoded JSON object, a contract model, or a prepared event.
Publishable = Mapping[str, Any] | BaseModel


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(UTC)


class Prepared(NamedTuple):
    """An event that passed every local check, with the topic and bytes it will be sent as."""

    event: Event
    topic: str
    value: bytes


def encode(event: Publishable) -> bytes:
    """The event as compact UTF-8 JSON (dates and enums written as the contract spells them)."""
    if isinstance(event, BaseModel):
        return event.model_dump_json(by_alias=True, exclude_none=True).encode()
    return to_json(event)


def prepare(
    event: Publishable, partner_id: str, registry: Mapping[str, refdata.Partner], *, today: date
) -> Prepared:
    """Validate ``event`` for ``partner_id``; raise :class:`InvalidEvent` if it may not be sent.

    Checks contract v1 (with ``today`` as the not-in-the-future clock), that the event names
    ``partner_id``, and that the partner is registered and mandated for the event's kind.
    """
    try:
        value = encode(event)
    except (TypeError, ValueError) as error:  # e.g. an object JSON cannot hold
        raise InvalidEvent([Reason(field="", code="invalid_json", message=str(error))]) from None
    typed = parse_event(value, today=today)
    return Prepared(typed, attribute(typed, partner_id, registry), value)


def attribute(event: Event, partner_id: str, registry: Mapping[str, refdata.Partner]) -> str:
    """The topic ``partner_id`` sends ``event`` to; :class:`InvalidEvent` when it may not."""
    topic = _topic(partner_id, event.kind)
    partner = registry.get(partner_id)
    if event.partner_id != partner_id or partner is None or event.kind not in partner.kinds:
        raise InvalidEvent(check_attribution(event, topic, registry))
    return topic


@functools.lru_cache(maxsize=4096)
def _topic(partner_id: str, kind: Kind) -> str:
    return topic_for(partner_id, kind)

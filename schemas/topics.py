"""Topic names and attribution: a message's partner comes from its topic, never its body."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple, Protocol

from schemas.reasons import Reason
from schemas.vocabulary import Kind

DEADLETTER_TOPIC = "hub.deadletter.v1"
ALERTS_TOPIC = "hub.alerts.v1"
_TOPIC = re.compile(r"^partners\.(?P<partner>[a-z0-9][a-z0-9_]{1,30})\.(?P<kind>[a-z_]+)\.v1$")


class TopicRef(NamedTuple):
    partner_id: str
    kind: str  # as written in the topic; may be outside the vocabulary


class Mandated(Protocol):
    """What attribution needs of a registry entry."""

    @property
    def kinds(self) -> tuple[Kind, ...]: ...


class Attributable(Protocol):
    """What attribution needs of an event."""

    @property
    def partner_id(self) -> str: ...

    @property
    def kind(self) -> Kind: ...


def topic_for(partner_id: str, kind: Kind | str) -> str:
    """The topic a partner publishes one kind of activity to."""
    return f"partners.{partner_id}.{Kind(kind).value}.v1"


def parse_topic(topic: str) -> TopicRef | None:
    """Partner and kind named by a partner topic, or None when the name is not one."""
    match = _TOPIC.fullmatch(topic)  # not match: "$" would let a trailing newline through
    return TopicRef(match["partner"], match["kind"]) if match else None


def check_attribution(
    event: Attributable, topic: str, registry: Mapping[str, Mandated]
) -> list[Reason]:
    """Reasons why ``event`` may not be counted as arriving on ``topic``; empty when it may."""
    ref = parse_topic(topic)
    if ref is None:
        return [
            Reason(field="", code="bad_topic", message=f"topic {topic!r} is not a partner topic")
        ]
    reasons: list[Reason] = []
    if event.partner_id != ref.partner_id:
        reasons.append(
            Reason(
                field="partner_id",
                code="partner_mismatch",
                message=f"partner_id {event.partner_id!r} arrived on {ref.partner_id!r}'s topic",
            )
        )
    if event.kind.value != ref.kind:
        reasons.append(
            Reason(
                field="kind",
                code="kind_mismatch",
                message=f"kind {event.kind.value!r} arrived on a {ref.kind!r} topic",
            )
        )
    entry = registry.get(ref.partner_id)
    if reasons:
        return reasons  # the event does not belong on this topic; nothing more to say
    if entry is None:
        reasons.append(
            Reason(
                field="partner_id",
                code="unknown_partner",
                message=f"partner {ref.partner_id!r} is not in the registry",
            )
        )
    elif event.kind not in entry.kinds:
        reasons.append(
            Reason(
                field="kind",
                code="kind_not_mandated",
                message=f"partner {ref.partner_id!r} is not mandated for {event.kind.value}",
            )
        )
    return reasons

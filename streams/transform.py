"""Pure transforms: one Kafka message in, warehouse rows out. No I/O here.

``process`` decides an event's fate: accepted (a fact row, plus a row per beneficiary ref for
assistance) or rejected (a dead-letter row with machine-readable reasons). ``process_message``
does it for a whole message: one event, or each element of a bulk message (``schemas.bulk``)
on its own. The rows' keys are exactly the columns of the warehouse tables
(``warehouse.tables``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from disclosure.keys import rekey_ref
from disclosure.rules import deadletter_kind
from schemas import bulk
from schemas.contract import (
    AssistanceEvent,
    DurableSolutionsEvent,
    Event,
    HivTrainingEvent,
    IncomeGenerationEvent,
    ProtectionTrainingEvent,
    RsdCaseworkEvent,
    SgbvEvent,
    latest_day,
    parse_event,
)
from schemas.reasons import InvalidEvent, Reason
from schemas.topics import Mandated, check_attribution, parse_topic

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Meta:
    """Where a message came from."""

    topic: str
    partition: int
    offset: int
    #: The broker's timestamp of the message (publish time), aware UTC.
    published_at: datetime
    #: The event's place in a bulk message's array; -1 for a single-event message (and for a
    #: bulk message refused as a whole).
    event_index: int = -1


@dataclass(slots=True)
class Outcome:
    """Rows one message produces: a fact (and its refs) or a dead letter."""

    fact: Row | None = None
    refs: list[Row] = field(default_factory=list)
    deadletter: Row | None = None
    reasons: tuple[Reason, ...] = ()
    #: The event's bytes, kept for a dead letter should the warehouse refuse the fact.
    raw: bytes = b""
    #: The event's place in its bulk message (-1: the message is the event).
    event_index: int = -1

    @property
    def accepted(self) -> bool:
        return self.fact is not None


#: Broker timestamps outside this range (a producer may set any CreateTime) are stored as the
#: epoch: ``DateTime64(3)`` refuses them, and Python cannot represent some of them.
_LATEST_TIMESTAMP = datetime(2299, 12, 31, tzinfo=UTC).timestamp()


def published_at(timestamp: float | None) -> datetime:
    """A message's broker timestamp (seconds) as an aware datetime the warehouse can hold."""
    if timestamp is None or not 0 <= timestamp <= _LATEST_TIMESTAMP:
        timestamp = 0
    return datetime.fromtimestamp(timestamp, UTC)


def process(
    raw: bytes,
    meta: Meta,
    registry: Mapping[str, Mandated],
    *,
    now: datetime,
    ref_key: bytes,
) -> Outcome:
    """Validate and attribute one message; return the rows to write (beneficiary refs re-keyed
    with the hub's ``ref_key``). Never raises on bad input."""
    try:
        event = parse_event(raw, today=latest_day(now))
    except InvalidEvent as invalid:
        return _rejected(raw, meta, invalid.reasons, now)
    reasons = check_attribution(event, meta.topic, registry)
    if reasons:
        return _rejected(raw, meta, tuple(reasons), now)
    return Outcome(
        fact=fact_row(event, meta, now),
        refs=ref_rows(event, now, ref_key),
        raw=raw,
        event_index=meta.event_index,
    )


def process_message(
    raw: bytes,
    headers: bulk.Headers,
    meta: Meta,
    registry: Mapping[str, Mandated],
    *,
    now: datetime,
    ref_key: bytes,
) -> list[Outcome]:
    """The outcomes of one message: its event's, or each of a bulk message's events' in order
    (each element through :func:`process`, as if it had come alone, with its ``event_index``);
    a bulk message whose array cannot be read is one dead letter. Never raises on bad input."""
    try:
        elements = bulk.split(raw) if bulk.is_bulk(headers) else None
    except InvalidEvent as invalid:
        return [_rejected(raw, meta, invalid.reasons, now)]
    if elements is None:
        return [process(raw, meta, registry, now=now, ref_key=ref_key)]
    return later_wins(
        [
            process(element, replace(meta, event_index=index), registry, now=now, ref_key=ref_key)
            for index, element in enumerate(elements)
        ]
    )


def later_wins(outcomes: list[Outcome]) -> list[Outcome]:
    """``outcomes`` of one bulk message without the accepted ones a later element repeats
    (same partner, event and revision). Its events share one offset, the warehouse's last
    tie-break (``warehouse.facts.WINNER_ORDER``), so the array's order decides here, as the
    offset does between messages: the later copy wins, whatever its content."""
    last = {_revision(o.fact): i for i, o in enumerate(outcomes) if o.fact is not None}
    if len(last) == sum(o.fact is not None for o in outcomes):
        return outcomes  # no revision twice: the usual case
    return [o for i, o in enumerate(outcomes) if o.fact is None or last[_revision(o.fact)] == i]


def _revision(fact: Row) -> tuple[str, str, int]:
    return (fact["partner_id"], fact["event_id"], fact["revision"])


def _rejected(raw: bytes, meta: Meta, reasons: tuple[Reason, ...], now: datetime) -> Outcome:
    return Outcome(deadletter=deadletter_row(raw, meta, reasons, now), reasons=reasons)


def _measures(event: Event) -> Row:
    """Kind-specific numbers, zero where a kind has none."""
    m: Row = {
        "quantity": 0.0,
        "unit": "",
        "value_usd": 0.0,
        "sessions": 0,
        "hours": 0.0,
        "cases": 0,
        "curriculum_sessions": 0,
        "services": [],
    }
    if isinstance(event, AssistanceEvent):
        p = event.payload
        m.update(quantity=p.quantity, unit=p.unit.value, value_usd=p.value_usd or 0.0)
    elif isinstance(event, IncomeGenerationEvent):
        m["value_usd"] = event.payload.amount_usd or 0.0
    elif isinstance(event, SgbvEvent):
        m["services"] = sorted(s.value for s in event.payload.services)
    elif isinstance(event, HivTrainingEvent):
        m.update(sessions=event.payload.sessions, hours=event.payload.hours)
    elif isinstance(event, DurableSolutionsEvent):
        m["cases"] = event.payload.cases
    elif isinstance(event, ProtectionTrainingEvent):
        training = event.payload
        m.update(
            sessions=training.sessions,
            hours=training.hours,
            curriculum_sessions=training.sessions if training.curriculum else 0,
        )
    elif isinstance(event, RsdCaseworkEvent):
        m["cases"] = event.payload.cases
    return m


def fact_row(event: Event, meta: Meta, ingested_at: datetime) -> Row:
    """The ``facts`` row of one accepted event revision."""
    refs = event.beneficiary_refs if isinstance(event, AssistanceEvent) else ()
    return {
        "event_id": event.key,
        "revision": event.revision,
        "status": event.status.value,
        "partner_id": event.partner_id,
        "kind": event.kind.value,
        "occurred_on": event.occurred_on,
        "reported_at": event.reported_at.astimezone(UTC),
        "region": event.region,
        "population_type": event.population_type.value,
        "origin": event.origin or "",
        "indicator": event.indicator,
        **event.beneficiaries.cells(),
        **_measures(event),
        "ref_count": len(refs),
        "payload": event.payload.model_dump_json(),
        "topic": meta.topic,
        "partition": meta.partition,
        "offset": meta.offset,
        "published_at": meta.published_at,
        "ingested_at": ingested_at,
    }


def ref_rows(event: Event, ingested_at: datetime, ref_key: bytes) -> list[Row]:
    """One ``assistance_refs`` row per beneficiary ref of an assistance event revision, the ref
    re-keyed with the hub's secret (:func:`disclosure.keys.rekey_ref`)."""
    if not isinstance(event, AssistanceEvent):
        return []
    month = month_of(event.occurred_on)
    return [
        {
            "partner_id": event.partner_id,
            "event_id": event.key,
            "revision": event.revision,
            "month": month,
            "category": event.payload.category.value,
            "ref": rekey_ref(ref_key, ref),
            "ingested_at": ingested_at,
        }
        for ref in event.beneficiary_refs
    ]


def deadletter_row(raw: bytes, meta: Meta, reasons: tuple[Reason, ...], now: datetime) -> Row:
    """The ``deadletters`` row of a rejected event: its original bytes, where, and why; filed
    under ``kind`` ``sgbv`` when its topic or bytes name SGBV (hidden as SGBV facts are)."""
    ref = parse_topic(meta.topic)
    return {
        "topic": meta.topic,
        "kind": deadletter_kind(meta.topic, raw),
        "partition": meta.partition,
        "offset": meta.offset,
        "event_index": meta.event_index,
        "partner_id": ref.partner_id if ref else "",
        "codes": [r.code for r in reasons],
        "reasons": reasons_json(reasons),
        "raw": raw,
        "published_at": meta.published_at,
        "received_at": now,
    }


def reasons_json(reasons: tuple[Reason, ...]) -> str:
    """The reasons as the compact JSON list the dead-letter topic and table carry."""
    return json.dumps([r.model_dump() for r in reasons], separators=(",", ":"))


def month_of(day: date) -> date:
    """First day of the day's month."""
    return day.replace(day=1)

"""Checking and publishing a request's events: the contract's validation, the hub's producer.

Every event goes through :func:`producers.prepare.prepare` (the one validation the SDK, the
sheet importer and the worker share) with the token's partner, then through one more check of
the mandate: the event's region must be one the registry lists for the partner. Valid events
go to the broker through the Kafka seam (``broker.clients.producer``: acks from every in-sync
replica, idempotent), and a request is answered only once each outcome is known.

``atomic`` requests are all-or-nothing *for validation*: one invalid event and nothing is sent.
Without Kafka transactions the broker cannot take a set of records all-or-nothing: when it
fails half-way through an atomic request, the events it acknowledged stay stored. The answer
(503) then says which ones; re-sending the whole request is safe, because the hub counts an
``(event_id, revision)`` once, so a retry completes the set instead of doubling it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kafka.errors import KafkaError

from broker import clients
from broker.settings import KafkaSettings
from producers import bulk
from producers.gateway.settings import GatewayLimits
from producers.prepare import Prepared, prepare
from schemas import refdata
from schemas.contract import latest_day
from schemas.reasons import InvalidEvent, Reason
from schemas.topics import DEADLETTER_TOPIC

log = logging.getLogger(__name__)

Status = Literal["accepted", "rejected", "not_published", "failed"]

#: How long a readiness answer is reused (readiness checks cost a broker round trip).
READY_CACHE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event of a request."""

    status: Status
    event_id: str | None = None
    revision: int | None = None
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    reasons: tuple[Reason, ...] = ()


class BrokerDown(RuntimeError):
    """The broker cannot be reached: answer 503 (with the outcomes known so far)."""

    def __init__(self, message: str, outcomes: Sequence[Outcome] = ()) -> None:
        self.outcomes = list(outcomes)
        super().__init__(message)


def check(
    item: Any,
    partner: refdata.Partner,
    registry: Mapping[str, refdata.Partner],
    *,
    now: datetime,
) -> Prepared:
    """Validate one decoded event for ``partner``; :class:`InvalidEvent` when it may not go."""
    if isinstance(item, Reason):  # an NDJSON line that was not JSON
        raise InvalidEvent([item])
    prepared = prepare(item, partner.code, registry, today=latest_day(now))
    region = prepared.event.region
    if region not in partner.regions:
        raise InvalidEvent(
            [
                Reason(
                    field="region",
                    code="region_not_mandated",
                    message=f"partner {partner.code!r} is not mandated to work in {region}",
                )
            ]
        )
    return prepared


def rejected(error: InvalidEvent, item: Any) -> Outcome:
    """The outcome of an invalid event, naming it when it has a readable id and revision."""
    event_id = item.get("event_id") if isinstance(item, dict) else None
    revision = item.get("revision", 1) if isinstance(item, dict) else None
    return Outcome(
        "rejected",
        event_id=event_id if isinstance(event_id, str) else None,
        revision=revision if isinstance(revision, int) and not isinstance(revision, bool) else None,
        reasons=error.reasons,
    )


class Sender:
    """The gateway's one producer (shared by every partner), created when first needed."""

    def __init__(self, kafka: KafkaSettings, limits: GatewayLimits) -> None:
        self.kafka = kafka
        self.limits = limits
        self._lock = threading.Lock()
        self._producer: Any = None
        self._admin: Any = None
        self._ready: tuple[float, bool] = (0.0, False)

    def _options(self) -> dict[str, Any]:
        ack_ms = int(self.limits.ack_seconds * 1000)
        # An HTTP client is waiting: a record's fate must be known by the time we answer, so
        # the delivery timeout is the acknowledgement wait, and metadata may block 5 s at most.
        return {
            "delivery_timeout_ms": ack_ms,
            "request_timeout_ms": max(500, min(ack_ms // 2, 30_000)),
            "max_block_ms": 5_000,
            # A request's events are sent in one loop and batch by themselves; waiting for more
            # would only delay the answer (benchmarks/gateway.py measures it).
            "linger_ms": 0,
        }

    def producer(self) -> Any:
        """The producer; :class:`BrokerDown` when it cannot be built (no broker answers)."""
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = clients.producer(self.kafka, **self._options())
                except KafkaError as error:
                    raise BrokerDown(f"the broker at {self.kafka.bootstrap}: {error}") from None
            return self._producer

    def ready(self) -> bool:
        """True when the broker answered a metadata request within the last second or now."""
        at, ok = self._ready
        if time.monotonic() - at < READY_CACHE_SECONDS:
            return ok
        with self._lock:
            try:
                if self._admin is None:
                    self._admin = clients.admin(self.kafka, timeout=2.0)
                self._admin.list_topics()  # a metadata round trip; no cluster right needed
                ok = True
            except (KafkaError, OSError) as error:
                log.warning("broker at %s not ready: %s", self.kafka.bootstrap, error)
                if self._admin is not None:
                    self._admin.close()
                self._admin, ok = None, False
            self._ready = (time.monotonic(), ok)
        return ok

    def send(self, prepared: Sequence[Prepared]) -> list[Outcome]:
        """Send ``prepared`` and wait for every acknowledgement; outcomes in the same order.

        Up to ``limits.bulk_events`` events of a topic go in one bulk message
        (``producers.bulk``), keyed by its first event's ``event_id``; a message of one event
        is keyed by it, as the contract says (docs/contract.md).
        """
        producer = self.producer()
        numbered = list(enumerate(prepared))
        futures: list[Any] = [None] * len(prepared)
        for group in bulk.groups(
            numbered,
            lambda n: n[1].topic,
            lambda n: n[1].event.event_id.encode(),
            lambda n: n[1].value,
            size=self.limits.bulk_events,
        ):
            try:
                future: Any = producer.send(
                    group.topic, value=group.value, key=group.key, headers=group.headers or None
                )
            except KafkaError as error:  # metadata not to be had within max_block_ms
                future = error
            for index, _ in group.items:
                futures[index] = future
        deadline = time.monotonic() + self.limits.ack_seconds
        outcomes = []
        for item, future in zip(prepared, futures, strict=True):
            event = item.event
            if isinstance(future, KafkaError):
                outcomes.append(_failed(item, str(future)))
                continue
            try:
                meta = future.get(max(0.0, deadline - time.monotonic()))
            except KafkaError as error:
                outcomes.append(_failed(item, str(error)))
                continue
            outcomes.append(
                Outcome(
                    "accepted",
                    event.event_id,
                    event.revision,
                    meta.topic,
                    meta.partition,
                    meta.offset,
                )
            )
        return outcomes

    def deadletter(self, raw: bytes, key: bytes, headers: Sequence[tuple[str, bytes]]) -> int:
        """Keep ``raw`` on the dead-letter topic and wait for the broker; its offset.

        :class:`BrokerDown` when the broker does not take it (the sender should retry).
        """
        producer = self.producer()
        try:
            future = producer.send(DEADLETTER_TOPIC, value=raw, key=key, headers=list(headers))
            return int(future.get(self.limits.ack_seconds).offset)
        except KafkaError as error:
            raise BrokerDown(f"the dead letter was not acknowledged: {error}") from None

    def close(self) -> None:
        """Flush and close the producer and the readiness client."""
        with self._lock:
            if self._producer is not None:
                self._producer.close(5)
                self._producer = None
            if self._admin is not None:
                self._admin.close()
                self._admin = None


def _failed(item: Prepared, why: str) -> Outcome:
    reason = Reason(field="", code="broker_unavailable", message=f"not acknowledged: {why}")
    return Outcome(
        "failed", item.event.event_id, item.event.revision, item.topic, reasons=(reason,)
    )


def publish_items(
    items: Sequence[Any],
    partner: refdata.Partner,
    registry: Mapping[str, refdata.Partner],
    sender: Sender,
    *,
    now: datetime,
    atomic: bool,
    ready: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Check every item, publish the valid ones (all or none if ``atomic``), outcome per item.

    Raises :class:`BrokerDown` when the broker cannot take the events: before anything was
    sent (atomic requests check the broker first), or after, with the outcomes known.
    """
    outcomes: list[Outcome | None] = []
    valid: list[tuple[int, Prepared]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, check(item, partner, registry, now=now)))
            outcomes.append(None)
        except InvalidEvent as error:
            outcomes.append(rejected(error, item))
    if atomic and len(valid) < len(items):
        return _final(outcomes, valid, "not_published")
    if atomic and valid and not (ready or sender.ready)():
        raise BrokerDown(
            f"the broker at {sender.kafka.bootstrap} does not answer; nothing was published",
            _final(outcomes, valid, "not_published"),
        )
    try:
        sent = sender.send([p for _, p in valid]) if valid else []
    except BrokerDown as down:
        raise BrokerDown(str(down), _final(outcomes, valid, "failed")) from None
    for (index, _), outcome in zip(valid, sent, strict=True):
        outcomes[index] = outcome
    final = [o for o in outcomes if o is not None]
    if any(o.status == "failed" for o in sent):
        raise BrokerDown("the broker did not acknowledge every event", final)
    return final


def _final(
    outcomes: list[Outcome | None], valid: list[tuple[int, Prepared]], status: Status
) -> list[Outcome]:
    """``outcomes`` with each valid event given ``status`` (it was not, or not surely, sent)."""
    done = list(outcomes)
    for index, prepared in valid:
        event = prepared.event
        reasons: tuple[Reason, ...] = ()
        if status == "failed":
            reasons = (Reason(field="", code="broker_unavailable", message="not sent"),)
        done[index] = Outcome(
            status, event.event_id, event.revision, prepared.topic, reasons=reasons
        )
    return [o for o in done if o is not None]

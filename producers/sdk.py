"""Publish activity events to the hub: a kafka-python producer bound to one partner.

    from broker.settings import KafkaSettings
    from producers.sdk import Publisher

    with Publisher("kzlegal", KafkaSettings(bootstrap="broker:9092")) as publisher:
        delivery = publisher.publish(event)   # InvalidEvent here: nothing was sent
        print(delivery.result(timeout=30))    # DeliveryFailed here: the broker did not take it

Every event is validated against contract v1 before it leaves the machine, and refused when it
names another partner or a kind the partner is not mandated for. Valid events go to
``partners.<partner>.<kind>.v1`` keyed by the event id, as compact UTF-8 JSON: ``publish`` sends
one event per message, ``publish_many`` up to 500 of a topic in one bulk message
(``schemas.bulk``; ``bulk_size=1`` for one message per event). Publishing the
same event (same ``event_id`` and ``revision``) twice is always safe: the hub counts it once.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from kafka.errors import KafkaError, KafkaTimeoutError

from broker import clients
from broker.clients import PRODUCER_OPTIONS
from broker.settings import KafkaSettings
from producers import bulk
from producers.prepare import Clock, Prepared, Publishable, attribute, prepare, utc_now
from schemas import refdata
from schemas.bulk import MAX_EVENTS
from schemas.contract import latest_day
from schemas.reasons import InvalidEvent

__all__ = [
    "PRODUCER_OPTIONS",
    "BrokerUnavailable",
    "Clock",
    "Delivered",
    "Delivery",
    "DeliveryFailed",
    "InvalidEvent",
    "Prepared",
    "Publisher",
    "Report",
    "prepare",
    "utc_now",
]

log = logging.getLogger(__name__)

#: After a topic's metadata could not be had, publishes to it fail at once for this long.
UNAVAILABLE_SECONDS = 30.0

#: An event checked for sending, with its position in the caller's input.
Numbered = tuple[int, Prepared]
#: How :func:`producers.bulk.groups` reads a numbered event: its topic, key and bytes.
_PARTS: tuple[
    Callable[[Numbered], str], Callable[[Numbered], bytes], Callable[[Numbered], bytes]
] = (
    lambda n: n[1].topic,
    lambda n: n[1].event.event_id.encode(),
    lambda n: n[1].value,
)


@dataclass(frozen=True, slots=True)
class Delivered:
    """Where the broker stored one event."""

    event_id: str
    topic: str
    partition: int
    offset: int


class BrokerUnavailable(RuntimeError):
    """The publisher could not reach the broker when it started."""


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge one event. Publishing it again later is safe."""

    def __init__(self, event_id: str, topic: str, cause: BaseException | str) -> None:
        self.event_id = event_id
        self.topic = topic
        self.cause = cause
        super().__init__(f"event {event_id} to {topic} was not acknowledged: {cause}")


class Delivery:
    """The outcome of one publish, like a future: :class:`Delivered` or :class:`DeliveryFailed`."""

    __slots__ = ("_failure", "_future", "event_id", "topic")

    def __init__(
        self, event_id: str, topic: str, future: Any, failure: DeliveryFailed | None = None
    ) -> None:
        self.event_id = event_id
        self.topic = topic
        self._future = future  # kafka-python's FutureRecordMetadata, or None when failed early
        self._failure = failure

    def done(self) -> bool:
        """True once the broker acknowledged the event or it failed for good."""
        return self._failure is not None or bool(self._future.is_done)

    def result(self, timeout: float | None = None) -> Delivered:
        """Wait up to ``timeout`` seconds (None: as long as it takes) for the outcome.

        Returns where the event was stored; raises :class:`DeliveryFailed`, or ``TimeoutError``
        when the outcome is not known yet.
        """
        if self._failure is None:
            future = self._future
            if not future.is_done:
                with contextlib.suppress(Exception):  # the outcome is read below
                    future.get(timeout)
                if not future.is_done:
                    raise TimeoutError(
                        f"event {self.event_id}: no acknowledgement within {timeout} s"
                    )
            if future.exception is None:
                meta = future.value
                return Delivered(self.event_id, meta.topic, meta.partition, meta.offset)
            self._failure = DeliveryFailed(self.event_id, self.topic, future.exception)
        raise self._failure

    def exception(self, timeout: float | None = None) -> DeliveryFailed | None:
        """The failure, or None when the event was stored; ``TimeoutError`` as :meth:`result`."""
        future = self._future
        if self._failure is None and future.is_done and future.exception is None:
            return None  # the common case, kept cheap for publish_many
        try:
            self.result(timeout)
        except DeliveryFailed as failure:
            return failure
        return None

    def add_done_callback(self, callback: Callable[[Delivery], None]) -> None:
        """Call ``callback(self)`` once the outcome is known (at once if it is already).

        The callback usually runs on the producer's I/O thread: keep it short, never block.
        """
        if self._failure is not None:
            callback(self)
        else:
            self._future.add_both(lambda _outcome: callback(self))


@dataclass
class Report:
    """What :meth:`Publisher.publish_many` did; indexes are positions in the input."""

    by_topic: Counter[str] = field(default_factory=Counter)
    invalid: list[tuple[int, InvalidEvent]] = field(default_factory=list)
    failed: list[tuple[int, DeliveryFailed]] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        """Events the broker acknowledged."""
        return sum(self.by_topic.values())

    @property
    def ok(self) -> bool:
        """True when every event was valid and acknowledged."""
        return not self.invalid and not self.failed


class Publisher:
    """Publishes one partner's events; a context manager that flushes and closes on exit.

    ``registry`` is the partner registry (the packaged one by default), ``clock`` the time used
    for the not-in-the-future rule, ``producer_options`` overrides :data:`PRODUCER_OPTIONS`.
    Raises ``ValueError`` for a partner outside the registry and :class:`BrokerUnavailable`
    when the broker cannot be reached.
    """

    def __init__(
        self,
        partner_id: str,
        settings: KafkaSettings,
        *,
        registry: Mapping[str, refdata.Partner] | None = None,
        clock: Clock | None = None,
        producer_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.partner_id = partner_id
        self.registry = refdata.partners() if registry is None else registry
        if partner_id not in self.registry:
            raise ValueError(f"partner {partner_id!r} is not in the partner registry")
        self.clock = clock or utc_now
        self._closed = False
        self._unavailable: dict[str, tuple[float, str]] = {}  # topic -> (since, why)
        why: str | None = None
        try:
            self._producer = clients.producer(settings, **(producer_options or {}))
        except KafkaError as error:
            why = str(error)  # raised below, so that no traceback keeps the failed client alive
        if why is not None:
            raise BrokerUnavailable(f"cannot reach the Kafka broker at {settings.bootstrap}: {why}")
        log.info("publisher for %s connected to %s", partner_id, settings.bootstrap)

    def prepare(self, event: Publishable) -> Prepared:
        """Validate ``event`` for this partner as :func:`prepare` does, without sending it."""
        return prepare(event, self.partner_id, self.registry, today=latest_day(self.clock()))

    def _checked(self, event: Publishable | Prepared) -> Prepared:
        if self._closed:
            raise RuntimeError("the publisher is closed")
        if isinstance(event, Prepared):  # checked for some partner: check it is this one
            return event._replace(topic=attribute(event.event, self.partner_id, self.registry))
        return self.prepare(event)

    def publish(self, event: Publishable | Prepared) -> Delivery:
        """Send one event, as a single-event message; raise :class:`InvalidEvent` (nothing
        sent) if it fails a check.

        Returns at once with a :class:`Delivery`; broker problems surface there, never here.
        """
        return self._send(bulk.groups([(0, self._checked(event))], *_PARTS, size=1)[0])[0]

    def _send(self, group: bulk.Group[Numbered]) -> list[Delivery]:
        """Send one message (one event, or a bulk message's events): a delivery per event,
        all sharing the message's fate."""
        topic = group.topic
        ids = [prepared.event.event_id for _, prepared in group.items]
        unavailable = self._unavailable.get(topic)
        if unavailable is not None and time.monotonic() - unavailable[0] < UNAVAILABLE_SECONDS:
            return [Delivery(i, topic, None, DeliveryFailed(i, topic, unavailable[1])) for i in ids]
        try:
            # Keyed by (the first) event id (docs/contract.md): revisions share a partition,
            # load spreads.
            future = self._producer.send(
                topic, value=group.value, key=group.key, headers=group.headers or None
            )
        except KafkaError as error:
            cause = str(error)
            if isinstance(error, KafkaTimeoutError):
                cause = f"topic unavailable ({error}); is it created? (partnerhub partners sync)"
                self._unavailable[topic] = (time.monotonic(), cause)
            log.warning("%d event(s) to %s not sent: %s", len(ids), topic, cause)
            return [Delivery(i, topic, None, DeliveryFailed(i, topic, cause)) for i in ids]
        self._unavailable.pop(topic, None)
        return [Delivery(i, topic, future) for i in ids]

    def publish_many(
        self,
        events: Iterable[Publishable | Prepared],
        *,
        on_delivery: Callable[[Delivery], None] | None = None,
        timeout: float | None = None,
        bulk_size: int = MAX_EVENTS,
    ) -> Report:
        """Publish every valid event, wait up to ``timeout`` s for the broker, and report.

        Events go up to ``bulk_size`` per topic in one bulk message (``schemas.bulk``; 1: one
        message per event); every event is checked first. Invalid events are skipped and
        listed; ``on_delivery`` is called per event's outcome (from the producer's I/O
        thread), e.g. to advance a progress bar.
        """
        report = Report()
        valid: list[Numbered] = []
        for index, event in enumerate(events):
            try:
                valid.append((index, self._checked(event)))
            except InvalidEvent as invalid:
                report.invalid.append((index, invalid))
        positions: list[int] = []
        deliveries: list[Delivery] = []
        for group in bulk.groups(valid, *_PARTS, size=bulk_size):
            positions += [index for index, _ in group.items]
            deliveries += self._send(group)
        if on_delivery is not None:
            for delivery in deliveries:
                delivery.add_done_callback(on_delivery)
        try:
            self.flush(timeout)
        except TimeoutError:
            log.warning("some events were not acknowledged within %s s", timeout)
        for index, delivery in zip(positions, deliveries, strict=True):
            try:
                failure = delivery.exception(0)
            except TimeoutError:
                late = f"no acknowledgement within {timeout} s"
                failure = DeliveryFailed(delivery.event_id, delivery.topic, late)
            if failure is None:
                report.by_topic[delivery.topic] += 1
            else:
                report.failed.append((index, failure))
        return report

    def flush(self, timeout: float | None = None) -> None:
        """Send everything buffered and wait for each outcome; TimeoutError past ``timeout`` s."""
        try:
            self._producer.flush(timeout)
        except KafkaError as error:  # KafkaTimeoutError
            raise TimeoutError(f"flush did not finish within {timeout} s: {error}") from None

    def close(self, timeout: float | None = None) -> None:
        """Flush, then release the connection. Further publishes raise ``RuntimeError``."""
        if self._closed:
            return
        self._closed = True
        self._producer.close(timeout)

    def __enter__(self) -> Publisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

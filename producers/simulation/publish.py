"""Publishing prepared messages with a plain kafka-python producer, optionally paced."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from broker import clients
from broker.settings import KafkaSettings
from producers import bulk
from producers.simulation.records import Message
from schemas.bulk import frames

log = logging.getLogger(__name__)

#: How often, at most, ``publish`` reports progress.
PROGRESS_EVERY = 0.1


class PublishError(RuntimeError):
    """Some messages were not delivered; the message says how many and the first error."""


class Pacer:
    """Spaces sends ``1/rate`` seconds apart from a fixed start, so waits never accumulate
    drift: a slow send is caught up by not waiting, not by shifting the schedule.
    """

    def __init__(
        self,
        rate: float | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be above zero, not {rate}")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None

    def wait(self, index: int) -> None:
        """Return when message number ``index`` (from 0) is due."""
        if self.rate is None:
            return
        now = self._clock()
        if self._start is None:
            self._start = now
        delay = self._start + index / self.rate - now
        if delay > 0:
            self._sleep(delay)


def in_bulk(messages: Sequence[Message], size: int) -> list[bulk.Group[Message]]:
    """``messages`` as Kafka messages of up to ``size`` events per topic (``producers.bulk``);
    a message that is not one whole JSON value (an injected fault) travels alone, as sent."""
    return bulk.groups(
        messages,
        lambda m: m.topic,
        lambda m: m.key,
        lambda m: m.value,
        size=size,
        alone=lambda m: size > 1 and not frames(m.value),
    )


def publish(
    messages: Sequence[Message],
    settings: KafkaSettings,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    pacer: Pacer | None = None,
    bulk_size: int = 1,
) -> int:
    """Send every message in order (``rate`` events per second, or as fast as possible) and
    flush; with ``bulk_size`` above 1, up to that many events of a topic in one bulk message.

    ``progress`` is called with the number of events handed over since its last call.
    Returns the number of Kafka messages sent; raises :class:`PublishError` when any was not
    delivered.
    """
    pacer = pacer or Pacer(rate)
    failures: list[BaseException] = []
    groups = in_bulk(messages, bulk_size)
    producer = clients.producer(settings)
    sent = reported = 0
    last = time.monotonic()
    try:
        for group in groups:
            pacer.wait(sent)
            future = producer.send(
                group.topic, key=group.key, value=group.value, headers=group.headers or None
            )
            future.add_errback(failures.append)
            sent += len(group.items)
            if progress is not None and time.monotonic() - last >= PROGRESS_EVERY:
                progress(sent - reported)
                reported, last = sent, time.monotonic()
        producer.flush()
    finally:
        producer.close()
    if progress is not None and sent > reported:
        progress(sent - reported)
    if failures:
        raise PublishError(
            f"{len(failures)} of {len(groups)} messages were not delivered; "
            f"first error: {failures[0]!r}"
        )
    log.info("published %d events in %d messages to %s", sent, len(groups), settings.bootstrap)
    return len(groups)


def missing_topics(
    settings: KafkaSettings, topics: Iterable[str], *, connect_timeout: float = 5.0
) -> list[str]:
    """The ``topics`` that do not exist on the broker, sorted; a ``KafkaError`` when the broker
    does not answer within ``connect_timeout`` seconds."""
    admin = clients.admin(settings, timeout=connect_timeout)
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    return sorted(set(topics) - existing)

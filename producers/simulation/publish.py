"""Publishing prepared messages with a plain kafka-python producer, optionally paced."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from broker import clients
from broker.settings import KafkaSettings
from producers.simulation.records import Message

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


def publish(
    messages: Sequence[Message],
    settings: KafkaSettings,
    rate: float | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    pacer: Pacer | None = None,
) -> int:
    """Send every message in order (``rate`` per second, or as fast as possible) and flush.

    ``progress`` is called with the number of messages handed over since its last call.
    Returns the number sent; raises :class:`PublishError` when any was not delivered.
    """
    pacer = pacer or Pacer(rate)
    failures: list[BaseException] = []
    producer = clients.producer(settings)
    reported, last = 0, time.monotonic()
    try:
        for index, message in enumerate(messages):
            pacer.wait(index)
            future = producer.send(message.topic, key=message.key, value=message.value)
            future.add_errback(failures.append)
            if progress is not None and time.monotonic() - last >= PROGRESS_EVERY:
                progress(index + 1 - reported)
                reported, last = index + 1, time.monotonic()
        producer.flush()
    finally:
        producer.close()
    if progress is not None and len(messages) > reported:
        progress(len(messages) - reported)
    if failures:
        raise PublishError(
            f"{len(failures)} of {len(messages)} messages were not delivered; "
            f"first error: {failures[0]!r}"
        )
    log.info("published %d messages to %s", len(messages), settings.bootstrap)
    return len(messages)


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

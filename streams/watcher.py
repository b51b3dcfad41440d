"""No silent topics: every message on a ``partners.*`` topic outside the registry is dead-lettered.

The broker may hold partner topics the registry does not define (Tansu creates any topic it is
written to; a production broker refuses them with auto-creation off and ACLs). The worker's
Faust agent subscribes to the registry's topics by name, and Faust cannot mix a pattern
subscription with named ones, so this watcher runs beside it: its own kafka-python consumer
(through ``broker.clients``), in its own group, subscribed to the *pattern* "``partners.``
and not a registry topic". kafka-python matches the pattern against the broker's topic list
on every metadata refresh, so a topic created later is picked up within
:data:`METADATA_MAX_AGE_MS`. Each tick it polls what arrived, runs it through the worker's own
transform (which says ``unknown_partner``, ``kind_not_mandated`` or why the message is not even
an event) and sink (dead-letter table, then topic), and commits only after both are durable.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from broker import clients
from broker.settings import KafkaSettings
from schemas.topics import Mandated, parse_topic
from streams.batch import Batch
from streams.clock import Clock
from streams.signals import NO_MONTH, alert_id
from streams.sink import Sink
from streams.transform import Meta, Outcome, Row, process, published_at

log = logging.getLogger(__name__)

GROUP = "partnerhub-unregistered"
UNREGISTERED_TOPIC = "unregistered_topic"
#: How often the watcher polls, and how soon a new topic is seen.
WATCH_SECONDS = 1.0
METADATA_MAX_AGE_MS = 2000
MAX_RECORDS = 500


def unregistered_pattern(registered: Sequence[str]) -> str:
    """A regular expression matching every ``partners.`` topic except ``registered``."""
    known = "|".join(re.escape(topic) for topic in sorted(registered))
    return rf"^(?!(?:{known})$)partners\." if known else r"^partners\."


def unregistered_alert(topic: str, now: datetime) -> Row:
    """An alert that someone writes to a partner topic outside the registry (a partner system
    misconfigured, or someone posing as a partner); raised again, it replaces itself."""
    ref = parse_topic(topic)
    return {
        "alert_id": alert_id(UNREGISTERED_TOPIC, topic),
        "alert_type": UNREGISTERED_TOPIC,
        "raised_at": now,
        "month": NO_MONTH,
        "category": "",
        "partners": [ref.partner_id] if ref else [],
        "overlap": 0,
        "details": json.dumps({"topic": topic}, sort_keys=True),
    }


class UnregisteredTopics:
    """Consumes the partner topics outside the registry and dead-letters their messages."""

    def __init__(
        self,
        kafka: KafkaSettings,
        registered: Sequence[str],
        registry: Mapping[str, Mandated],
        sink: Sink,
        clock: Clock,
        raise_alerts: Callable[[Sequence[Row]], Awaitable[None]],
    ) -> None:
        self._kafka = kafka
        self._pattern = unregistered_pattern(registered)
        self._registry = registry
        self._sink = sink
        self._clock = clock
        self._raise_alerts = raise_alerts
        self._consumer: Any = None
        #: Topics seen so far and messages dead-lettered from them (for /status).
        self.topics: set[str] = set()
        self.deadlettered = 0

    def _connected(self) -> Any:
        if self._consumer is None:
            timings = self._kafka.timings
            consumer = clients.consumer(
                self._kafka,
                group_id=GROUP,
                auto_offset_reset="earliest",
                metadata_max_age_ms=METADATA_MAX_AGE_MS,
                session_timeout_ms=int(timings.session_timeout * 1000),
                heartbeat_interval_ms=int(timings.heartbeat_interval * 1000),
                max_poll_records=MAX_RECORDS,
                # a 5 MB message must come through to be dead-lettered
                fetch_max_bytes=64 * 1024 * 1024,
                max_partition_fetch_bytes=16 * 1024 * 1024,
            )
            consumer.subscribe(pattern=self._pattern)
            self._consumer = consumer
        return self._consumer

    def _poll(self) -> list[Outcome]:
        """What arrived since the last poll, as the worker's transform sees it (blocking)."""
        now = self._clock()
        outcomes: list[Outcome] = []
        for records in self._connected().poll(timeout_ms=200).values():
            for r in records:
                meta = Meta(r.topic, r.partition, r.offset, published_at(r.timestamp / 1000))
                outcomes.append(process(r.value or b"", meta, self._registry, now=now))
        return outcomes

    async def run_once(self) -> int:
        """Dead-letter what arrived; commit once it is durable. Returns how many messages."""
        outcomes = await asyncio.to_thread(self._poll)
        if not outcomes:
            return 0
        batch = Batch.of(outcomes)
        if batch.facts:  # cannot happen: a topic outside the registry attributes nothing
            raise AssertionError(f"accepted an event on an unregistered topic: {batch.facts[0]}")
        await self._sink.write(batch)  # returns once stored and published
        new = sorted({row["topic"] for row in batch.deadletters} - self.topics)
        await self._raise_alerts([unregistered_alert(t, self._clock()) for t in new])
        await asyncio.to_thread(self._consumer.commit)
        self.topics.update(new)
        self.deadlettered += len(batch.deadletters)
        log.warning(
            "dead-lettered %d messages from topics outside the registry", len(batch.deadletters)
        )
        return len(batch.deadletters)

    def close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.close()

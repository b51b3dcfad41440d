"""No silent topics: every message on a ``partners.*`` topic outside the registry is dead-lettered.

The broker may hold partner topics the registry does not define (Tansu creates any topic it is
written to; a production broker refuses them with auto-creation off and ACLs). The worker's
Faust agent subscribes to the registry's topics by name, and Faust cannot mix a pattern
subscription with named ones, so this watcher runs beside it: its own kafka-python consumer
(through ``broker.clients``). Every :data:`LIST_SECONDS` it lists the broker's topics and
assigns itself every partition of those matching "``partners.`` and not a registry topic".
(A group *pattern* subscription would be simpler, but a kafka-python consumer that joined its
group while the pattern matched nothing is never assigned the topics that appear later, on
Tansu at least.) Each tick it polls what arrived, runs it through the worker's own transform
(which says ``unknown_partner``, ``kind_not_mandated`` or why the message is not even an event)
and sink (dead-letter table, then topic), and commits the offsets under its group only after
both are durable. It runs on the group's leader only, so with several workers a message is
dead-lettered once; around a change of leader two watchers may both take it, and then the
table still keeps one row per (topic, partition, offset) while the topic may carry it twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from kafka import TopicPartition

from broker import clients
from broker.settings import KafkaSettings
from schemas.topics import Mandated, parse_topic
from streams.batch import Batch
from streams.clock import Clock
from streams.signals import NO_MONTH, alert_id
from streams.sink import Sink
from streams.transform import Meta, Outcome, Row, process_message, published_at

log = logging.getLogger(__name__)

#: The watcher's consumer group (the worker's, ``broker.provision`` grants it).
GROUP = "partnerhub-worker-unregistered"
UNREGISTERED_TOPIC = "unregistered_topic"
#: How often the watcher polls, and how soon a new topic is seen.
WATCH_SECONDS = 1.0
#: How often the broker's topic list is read for new unregistered topics.
LIST_SECONDS = 2.0
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
        ref_key: bytes,
    ) -> None:
        self._kafka = kafka
        self._ref_key = ref_key  # never used in practice: such a topic always fails attribution
        self._pattern = re.compile(unregistered_pattern(registered))
        self._assigned: set[str] = set()
        self._next_listing = 0.0
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
            self._consumer = clients.consumer(
                self._kafka,
                group_id=GROUP,  # for committed offsets only: partitions are assigned here
                auto_offset_reset="earliest",
                max_poll_records=MAX_RECORDS,
                # a 5 MB message must come through to be dead-lettered
                fetch_max_bytes=64 * 1024 * 1024,
                max_partition_fetch_bytes=16 * 1024 * 1024,
            )
        return self._consumer

    def _assign_new_topics(self, consumer: Any) -> None:
        """Assign every partition of the unregistered partner topics the broker has now."""
        found = {t for t in consumer.topics() if self._pattern.match(t)}
        if found <= self._assigned:
            return
        partitions = [
            TopicPartition(topic, p)
            for topic in sorted(found)
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)  # positions: committed offsets, else the earliest
        self._assigned = found
        log.warning("watching partner topics outside the registry: %s", sorted(found))

    def _poll(self) -> list[Outcome]:
        """What arrived since the last poll, as the worker's transform sees it (blocking)."""
        consumer = self._connected()
        if time.monotonic() >= self._next_listing:
            self._assign_new_topics(consumer)
            self._next_listing = time.monotonic() + LIST_SECONDS
        if not self._assigned:
            return []
        now = self._clock()
        outcomes: list[Outcome] = []
        for records in consumer.poll(timeout_ms=200).values():
            for r in records:
                meta = Meta(r.topic, r.partition, r.offset, published_at(r.timestamp / 1000))
                outcomes += process_message(
                    r.value or b"",
                    r.headers,
                    meta,
                    self._registry,
                    now=now,
                    ref_key=self._ref_key,
                )
        return outcomes

    async def run_once(self) -> int:
        """Dead-letter what arrived; commit once it is durable. Returns how many dead letters
        (one per event of a bulk message)."""
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

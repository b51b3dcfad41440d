"""The sink: writes a batch of outcomes durably, then refreshes what the batch touched.

It never gives up and never raises: while the warehouse (or the dead-letter topic) is
unavailable it backs off and tries the whole batch again. Every write is idempotent, so a batch
written twice changes nothing; the caller acks the batch's messages only after :meth:`Sink.write`
returns, which is what makes "offsets advance only after a durable write" hold.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from schemas.topics import Mandated
from streams.clock import Clock, system_clock
from streams.metrics import WorkerMetrics
from streams.signals import check_duplicate_assistance
from streams.transform import Meta, Outcome, Row, process
from warehouse.client import Warehouse, WarehouseUnavailable
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    write_alerts,
    write_deadletters,
    write_facts,
    write_refs,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DeadletterPublisher = Callable[[Sequence[Row]], Awaitable[None]]
AlertPublisher = Callable[[Sequence[Row]], Awaitable[None]]


@dataclass
class Batch:
    """The rows of one batch of messages, by table."""

    facts: list[Row] = field(default_factory=list)
    refs: list[Row] = field(default_factory=list)
    deadletters: list[Row] = field(default_factory=list)

    @classmethod
    def of(cls, outcomes: Sequence[Outcome]) -> Batch:
        batch = cls()
        for outcome in outcomes:
            if outcome.fact is not None:
                batch.facts.append(outcome.fact)
                batch.refs.extend(outcome.refs)
            elif outcome.deadletter is not None:
                batch.deadletters.append(outcome.deadletter)
        return batch

    def __len__(self) -> int:
        return len(self.facts) + len(self.deadletters)


def write_batch(wh: Warehouse, batch: Batch) -> None:
    """Write a batch and refresh the aggregates and partner activity it touched (idempotent)."""
    if batch.facts:
        write_facts(wh, batch.facts)
    if batch.refs:
        write_refs(wh, batch.refs)
    if batch.deadletters:
        write_deadletters(wh, batch.deadletters)
    if batch.facts:
        refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in batch.facts})
        refresh_partner_activity(wh, {r["partner_id"] for r in batch.facts})


@dataclass
class Backoff:
    """Exponential backoff between retries, in seconds."""

    first: float = 0.2
    longest: float = 10.0

    def delays(self) -> Callable[[], float]:
        state = {"next": self.first}

        def step() -> float:
            delay = state["next"]
            state["next"] = min(delay * 2, self.longest)
            return delay

        return step


class Sink:
    """Writes batches durably, reopening the warehouse after an outage."""

    def __init__(
        self,
        open_warehouse: Callable[[], Warehouse],
        publish_deadletters: DeadletterPublisher,
        metrics: WorkerMetrics,
        backoff: Backoff | None = None,
        *,
        publish_alerts: AlertPublisher | None = None,
        clock: Clock = system_clock,
    ) -> None:
        self._open = open_warehouse
        self._publish_deadletters = publish_deadletters
        self._publish_alerts = publish_alerts
        self._clock = clock
        self._metrics = metrics
        self._backoff = backoff or Backoff()
        self._warehouse: Warehouse | None = None
        self._lock = threading.Lock()  # one statement at a time on the warehouse

    def _connected(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = self._open()
        return self._warehouse

    def _write(self, batch: Batch) -> None:
        with self._lock:
            write_batch(self._connected(), batch)

    async def raise_alerts(self, alerts: Sequence[Row]) -> None:
        """Publish alerts to the alerts topic, then store them (a crash between the two
        publishes them again: at least once, never lost)."""
        if not alerts:
            return
        if self._publish_alerts is not None:
            await self._publish_alerts(alerts)
        await asyncio.to_thread(self.read, lambda wh: write_alerts(wh, alerts))
        self._metrics.alerts.update(a["alert_type"] for a in alerts)

    async def _check_duplicates(self, batch: Batch) -> None:
        events = {
            (r["partner_id"], r["event_id"]) for r in batch.facts if r["kind"] == "assistance"
        }
        if events:
            now = self._clock()
            alerts = await asyncio.to_thread(
                self.read, lambda wh: check_duplicate_assistance(wh, events, now)
            )
            await self.raise_alerts(alerts)

    def read(self, query: Callable[[Warehouse], T]) -> T:
        """Run ``query`` on the sink's warehouse between writes (blocking; call in a thread)."""
        with self._lock:
            return query(self._connected())

    def _drop_warehouse(self) -> None:
        with self._lock:
            wh, self._warehouse = self._warehouse, None
            if wh is not None:
                try:
                    wh.close()
                except Exception:  # a broken connection may fail to close; dropped anyway
                    log.debug("closing the warehouse failed", exc_info=True)

    async def write(self, batch: Batch) -> None:
        """Return only once the batch is in the warehouse and its dead letters are published."""
        if not len(batch):
            return
        delay = self._backoff.delays()
        started = time.perf_counter()
        while True:
            try:
                await asyncio.to_thread(self._write, batch)
                if batch.deadletters:
                    await self._publish_deadletters(batch.deadletters)
                await self._check_duplicates(batch)
                break
            except WarehouseUnavailable as error:
                wait = delay()
                log.warning("warehouse unavailable (%s); retrying in %.1f s", error, wait)
                self._drop_warehouse()
            except Exception:
                wait = delay()
                log.exception("sink write failed; retrying the batch in %.1f s", wait)
                self._drop_warehouse()
            self._metrics.retries += 1
            self._metrics.unavailable = True
            await asyncio.sleep(wait)
        m = self._metrics
        m.unavailable = False
        m.batches += 1
        m.last_batch_size = len(batch)
        m.last_batch_seconds = time.perf_counter() - started
        m.accepted += len(batch.facts)
        m.deadlettered.update(row["codes"][0] for row in batch.deadletters)
        written = datetime.now(UTC)  # queryable from now on: broker time to here is the latency
        m.latencies.extend(
            (written - row["published_at"]).total_seconds()
            for rows in (batch.facts, batch.deadletters)
            for row in rows
        )

    def close(self) -> None:
        self._drop_warehouse()


def ingest_messages(
    wh: Warehouse,
    messages: Sequence[tuple[str, bytes]],
    registry: Mapping[str, Mandated],
    *,
    now: datetime,
    batch_size: int = 5000,
) -> Batch:
    """Run ``(topic, value)`` messages through the worker's transform and sink, without Kafka.

    The same rows, the same writes and refreshes as the worker, in batches; offsets are the
    messages' positions. For tests, benchmarks and replays. Returns the last batch written.
    """
    batch = Batch()
    for start in range(0, len(messages), batch_size):
        outcomes = [
            process(value, Meta(topic, 0, start + i, now), registry, now=now)
            for i, (topic, value) in enumerate(messages[start : start + batch_size])
        ]
        batch = Batch.of(outcomes)
        write_batch(wh, batch)
    return batch

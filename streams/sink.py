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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from streams.metrics import WorkerMetrics
from streams.transform import Outcome, Row
from warehouse.client import Warehouse, WarehouseUnavailable
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    write_deadletters,
    write_facts,
    write_refs,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

DeadletterPublisher = Callable[[Sequence[Row]], Awaitable[None]]


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
        after_write: Callable[[Warehouse, Batch], None] | None = None,
    ) -> None:
        self._open = open_warehouse
        self._publish_deadletters = publish_deadletters
        self._metrics = metrics
        self._backoff = backoff or Backoff()
        self._after_write = after_write
        self._warehouse: Warehouse | None = None
        self._lock = threading.Lock()  # one statement at a time on the warehouse

    def _connected(self) -> Warehouse:
        if self._warehouse is None:
            self._warehouse = self._open()
        return self._warehouse

    def _write(self, batch: Batch) -> None:
        with self._lock:
            wh = self._connected()
            write_batch(wh, batch)
            if self._after_write is not None:
                self._after_write(wh, batch)

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

    def close(self) -> None:
        self._drop_warehouse()

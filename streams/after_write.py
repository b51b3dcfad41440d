"""What runs after a batch is durable, in order, before its messages are acked.

Each step is a small object with ``async run(written)``; :func:`run_steps` runs them in the
order given and stops at the first that raises (the sink then retries the batch: writes and
steps are idempotent, so running them again changes nothing but the dead-letter topic, which
is at least once). The worker's order: publish the dead letters, check for duplicate
assistance, raise the alerts the checks found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from streams.access import WarehouseAccess
from streams.batch import Batch
from streams.clock import Clock
from streams.signals import check_duplicate_assistance
from streams.transform import Row

#: Sends rows to a topic and returns once the broker has them (not merely buffered).
Publisher = Callable[[Sequence[Row]], Awaitable[None]]


@dataclass
class Written:
    """A batch now in the warehouse, and the alerts its checks found so far."""

    batch: Batch
    alerts: list[Row] = field(default_factory=list)


class AfterWrite(Protocol):
    """One step after a durable write; raises when it could not finish (retried)."""

    async def run(self, written: Written) -> None: ...


async def run_steps(steps: Sequence[AfterWrite], batch: Batch) -> Written:
    """Run ``steps`` in order on a freshly written ``batch``."""
    written = Written(batch)
    for step in steps:
        await step.run(written)
    return written


class PublishDeadletters:
    """Sends the batch's dead letters to the dead-letter topic."""

    def __init__(self, publish: Publisher) -> None:
        self._publish = publish

    async def run(self, written: Written) -> None:
        if written.batch.deadletters:
            await self._publish(written.batch.deadletters)


class CheckDuplicateAssistance:
    """Finds duplicate-assistance alerts the batch's assistance facts changed (a warehouse
    read, through the reads' path)."""

    def __init__(self, access: WarehouseAccess, clock: Clock) -> None:
        self._access = access
        self._clock = clock

    async def run(self, written: Written) -> None:
        events = written.batch.assistance_events()
        if not events:
            return
        now = self._clock()
        written.alerts += await asyncio.to_thread(
            self._access.read, lambda wh: check_duplicate_assistance(wh, events, now)
        )


class AlertUnstorable:
    """Adds an ``unstorable_message`` alert for each message the warehouse refused (the writer
    made it an ``unstorable`` dead letter), for :class:`streams.alerts.RaiseAlerts` to raise."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    async def run(self, written: Written) -> None:
        from streams.unstorable import unstorable_alert

        refused = [r for r in written.batch.deadletters if r["codes"][:1] == ["unstorable"]]
        if refused:
            now = self._clock()
            written.alerts += [unstorable_alert(row, now) for row in refused]

"""After-write steps: run in order after a durable write, each attempt from the write on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from streams.access import WarehouseAccess
from streams.after_write import CheckDuplicateAssistance, PublishDeadletters, Written, run_steps
from streams.alerts import RaiseAlerts
from streams.batch import Batch
from streams.metrics import ALERTS, WorkerMetrics
from streams.retry import RetryPolicy
from streams.signals import DUPLICATE_ASSISTANCE
from streams.sink import Sink
from streams.transform import Row
from streams.writer import WarehouseWriter
from tests.streams.builders import NOW, assistance, count, mixed_batch, outcome
from warehouse.client import Warehouse


class Journal:
    """What happened, in order."""

    def __init__(self) -> None:
        self.entries: list[str] = []


class Step:
    """A step that writes its name in the journal, failing its first ``failures`` runs."""

    def __init__(self, name: str, journal: Journal, failures: int = 0) -> None:
        self.name, self.journal, self.failures = name, journal, failures

    async def run(self, written: Written) -> None:
        self.journal.entries.append(self.name)
        if self.failures:
            self.failures -= 1
            raise ConnectionError(f"{self.name} failed")


class Writer:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    def write(self, batch: Batch) -> None:
        self.journal.entries.append("write")


async def no_wait(seconds: float) -> None:
    return None


def test_steps_run_in_the_order_given_and_stop_at_the_first_failure() -> None:
    journal = Journal()
    steps = [Step("a", journal), Step("b", journal, failures=1), Step("c", journal)]

    with pytest.raises(ConnectionError):
        asyncio.run(run_steps(steps, mixed_batch()))
    assert journal.entries == ["a", "b"]
    asyncio.run(run_steps(steps, mixed_batch()))
    assert journal.entries == ["a", "b", "a", "b", "c"]


def test_the_sink_runs_the_steps_after_the_write_and_retries_from_the_write() -> None:
    journal = Journal()
    steps = [Step("a", journal), Step("b", journal, failures=1), Step("c", journal)]
    sink = Sink(Writer(journal), steps, WorkerMetrics(), retry=RetryPolicy(sleep=no_wait))

    asyncio.run(sink.write(mixed_batch()))

    assert journal.entries == ["write", "a", "b", "write", "a", "b", "c"]


class Recorder:
    """A publisher that keeps what it was sent and what the warehouse held at that moment."""

    def __init__(self, wh: Warehouse | None = None) -> None:
        self.sent: list[list[Row]] = []
        self.stored_alerts_then: list[int] = []
        self._wh = wh

    async def __call__(self, rows: Sequence[Row]) -> None:
        self.sent.append(list(rows))
        if self._wh is not None:
            self.stored_alerts_then.append(count(self._wh, "alerts"))


@pytest.mark.clickhouse
def test_the_worker_steps_publish_dead_letters_then_raise_duplicate_alerts(
    wh: Warehouse,
) -> None:
    shared = "c" * 64
    batch = Batch.of(
        [
            outcome(assistance(1, refs=(shared,)), 0),
            outcome(b"{}", 1),
            outcome(assistance(2, partner="redcres", refs=(shared,)), 2, partner="redcres"),
        ]
    )
    assert len(batch.facts) == 2
    access = WarehouseAccess(lambda: wh)
    deadletters, alerts = Recorder(), Recorder(wh)
    metrics = WorkerMetrics()
    steps = (
        PublishDeadletters(deadletters),
        CheckDuplicateAssistance(access, lambda: NOW),
        RaiseAlerts(access, alerts, metrics),
    )

    asyncio.run(Sink(WarehouseWriter(access), steps, metrics).write(batch))

    assert [[row["offset"] for row in sent] for sent in deadletters.sent] == [[1]]
    ((alert,),) = alerts.sent
    assert (alert["alert_type"], alert["partners"], alert["overlap"]) == (
        DUPLICATE_ASSISTANCE,
        ["kzlegal", "redcres"],
        1,
    )
    assert alerts.stored_alerts_then == [0]  # published first, then stored
    assert count(wh, "alerts") == 1
    assert metrics.by_label(ALERTS) == {DUPLICATE_ASSISTANCE: 1}


@pytest.mark.clickhouse
def test_a_batch_without_assistance_or_dead_letters_publishes_nothing(wh: Warehouse) -> None:
    access = WarehouseAccess(lambda: wh)
    deadletters, alerts = Recorder(), Recorder()
    steps = (
        PublishDeadletters(deadletters),
        CheckDuplicateAssistance(access, lambda: NOW),
        RaiseAlerts(access, alerts, WorkerMetrics()),
    )

    written = asyncio.run(run_steps(steps, Batch()))

    assert (deadletters.sent, alerts.sent, written.alerts) == ([], [], [])

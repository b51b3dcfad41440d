"""The sink's retry policy: a batch is retried until durable, never given up, never acked
early. The warehouse is real (chdb); only its inserts fail, on demand."""

from __future__ import annotations

import asyncio
import logging

import pytest

from streams.access import WarehouseAccess
from streams.batch import Batch
from streams.metrics import BATCHES, RETRIES, UNAVAILABLE, WorkerMetrics
from streams.retry import RetryPolicy
from streams.sink import Sink
from streams.writer import WarehouseWriter
from tests.streams.builders import FlakyWarehouse, count, mixed_batch
from warehouse.client import StatementFailed, Warehouse, WarehouseUnavailable

pytestmark = pytest.mark.clickhouse


class Waits:
    """A sleep that records how long it was asked to wait and returns at once."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


def sink_over(flaky: FlakyWarehouse, retry: RetryPolicy) -> tuple[Sink, WorkerMetrics]:
    access = WarehouseAccess(lambda: flaky)
    metrics = WorkerMetrics()
    sink = Sink(WarehouseWriter(access), (), metrics, retry=retry, after_failure=access.reconnect)
    return sink, metrics


def test_a_batch_failing_n_times_is_written_after_n_retries_with_doubling_waits(
    wh: Warehouse,
) -> None:
    flaky, waits = FlakyWarehouse(wh, failures=6), Waits()
    sink, metrics = sink_over(flaky, RetryPolicy(first=0.2, longest=1.0, sleep=waits))

    asyncio.run(sink.write(mixed_batch()))

    assert waits.asked == [0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
    assert (count(wh, "facts"), count(wh, "deadletters")) == (2, 2)
    assert metrics.value(RETRIES) == 6
    assert (metrics.value(BATCHES), metrics.value(UNAVAILABLE)) == (1, 0)
    assert flaky.closed == 6  # the connection is dropped after every failure


def test_a_batch_that_failed_half_written_is_written_again_without_doubling(
    wh: Warehouse,
) -> None:
    flaky = FlakyWarehouse(wh, failures=2, table="deadletters")  # facts and refs went in
    sink, _ = sink_over(flaky, RetryPolicy(sleep=Waits()))

    asyncio.run(sink.write(mixed_batch()))

    assert count(wh, "facts") == 6  # three attempts wrote the facts, the same rows each time
    assert count(wh, "facts FINAL") == 2
    assert count(wh, "deadletters") == 2
    totals = wh.query("SELECT sum(events) AS events FROM daily_aggregates FINAL")
    assert totals == [{"events": 2}]


def test_the_write_does_not_return_while_the_warehouse_is_down(wh: Warehouse) -> None:
    flaky = FlakyWarehouse(wh)
    flaky.blocked.set()
    sink, metrics = sink_over(flaky, RetryPolicy(first=0.01, longest=0.05))

    async def scenario() -> None:
        task = asyncio.create_task(sink.write(mixed_batch()))
        await asyncio.to_thread(flaky.wait_for_failures, 3)
        assert not task.done()  # the agent is still awaiting it: nothing is acked
        assert count(wh, "facts") == 0
        assert metrics.value(UNAVAILABLE) == 1
        flaky.blocked.clear()  # the outage ends
        await asyncio.wait_for(task, timeout=60)

    asyncio.run(scenario())

    assert count(wh, "facts") == 2
    assert metrics.value(UNAVAILABLE) == 0
    assert metrics.value(RETRIES) >= 3


def test_cancelling_the_worker_ends_the_retries_without_counting_a_batch(wh: Warehouse) -> None:
    flaky = FlakyWarehouse(wh)
    flaky.blocked.set()
    sink, metrics = sink_over(flaky, RetryPolicy(first=0.01, longest=0.05))

    async def scenario() -> None:
        task = asyncio.create_task(sink.write(mixed_batch()))
        await asyncio.to_thread(flaky.wait_for_failures, 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=60)

    asyncio.run(scenario())

    assert metrics.value(BATCHES) == 0
    assert count(wh, "facts") == 0


def test_a_refused_statement_not_about_the_data_is_retried_and_logged_as_an_error(
    wh: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    # (A refusal about the data is isolated by the writer: tests/streams/test_isolate.py.)
    flaky = FlakyWarehouse(wh, failures=1, error=StatementFailed)
    sink, metrics = sink_over(flaky, RetryPolicy(sleep=Waits()))

    with caplog.at_level(logging.WARNING, logger="streams.sink"):
        asyncio.run(sink.write(mixed_batch()))

    assert count(wh, "facts") == 2
    assert metrics.value(RETRIES) == 1
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert "not for an outage" in record.getMessage()


def test_an_empty_batch_touches_nothing() -> None:
    opened: list[int] = []

    def never() -> Warehouse:
        opened.append(1)
        raise WarehouseUnavailable("should not be opened")

    access = WarehouseAccess(never)
    metrics = WorkerMetrics()
    asyncio.run(Sink(WarehouseWriter(access), (), metrics).write(Batch()))

    assert opened == []
    assert metrics.value(BATCHES) == 0

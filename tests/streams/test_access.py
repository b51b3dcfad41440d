"""Warehouse access: one connection and one lock for the writer and the reads, and reads that
never wait for the writer's retries."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from streams.access import WarehouseAccess
from streams.batch import Batch
from streams.metrics import WorkerMetrics
from streams.retry import RetryPolicy
from streams.sink import Sink
from streams.status import warehouse_status
from streams.writer import WarehouseWriter, write_batch
from tests.streams.builders import FlakyWarehouse, assistance, count, mixed_batch, outcome
from warehouse.client import Parameters, Row, Warehouse, WarehouseUnavailable

pytestmark = pytest.mark.clickhouse


def test_a_read_answers_while_the_writer_waits_to_retry(wh: Warehouse) -> None:
    flaky = FlakyWarehouse(wh)
    flaky.blocked.set()  # every insert fails: the writer retries, waiting 300 s in between
    access = WarehouseAccess(lambda: flaky)
    sink = Sink(
        WarehouseWriter(access),
        (),
        WorkerMetrics(),
        retry=RetryPolicy(first=300.0, longest=300.0),
        after_failure=access.reconnect,
    )

    async def scenario() -> dict[str, Any]:
        writing = asyncio.create_task(sink.write(mixed_batch()))
        try:
            await asyncio.to_thread(flaky.wait_for_failures, 1)
            status = await asyncio.wait_for(asyncio.to_thread(access.read, warehouse_status), 60)
            assert not writing.done()  # still retrying: the read did not wait for it
            return status
        finally:
            writing.cancel()

    status = asyncio.run(scenario())

    assert status["tables"]["facts"] == 0
    assert status["partners"] == {}


def test_a_failed_read_is_not_retried_and_the_next_one_connects_again() -> None:
    opened: list[int] = []

    def unreachable() -> Warehouse:
        opened.append(1)
        raise WarehouseUnavailable("warehouse down")

    access = WarehouseAccess(unreachable)

    for attempt in (1, 2):
        with pytest.raises(WarehouseUnavailable):
            access.read(warehouse_status)
        assert len(opened) == attempt


class Watched:
    """A real warehouse that records how many of its calls were ever in flight at once."""

    def __init__(self, real: Warehouse) -> None:
        self.real = real
        self.in_flight = 0
        self.most = 0
        self._lock = threading.Lock()

    def _call(self, method: str, *args: Any) -> Any:
        with self._lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            return getattr(self.real, method)(*args)
        finally:
            with self._lock:
                self.in_flight -= 1

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        self._call("insert", table, columns)

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        self._call("command", sql, parameters)

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        result: list[Row] = self._call("query", sql, parameters)
        return result

    def close(self) -> None:
        pass


def test_writes_and_reads_from_many_threads_take_turns_on_one_connection(wh: Warehouse) -> None:
    watched = Watched(wh)
    connections: list[Watched] = []

    def connect() -> Warehouse:
        connections.append(watched)
        return watched

    access = WarehouseAccess(connect)
    writer = WarehouseWriter(access)
    batches = [Batch.of([outcome(assistance(n), n)]) for n in range(4)]

    with ThreadPoolExecutor(max_workers=6) as pool:
        reads = [pool.submit(access.read, warehouse_status) for _ in range(8)]
        writes = [pool.submit(writer.write, batch) for batch in batches]
        for future in [*reads, *writes]:
            future.result(timeout=60)

    assert watched.most == 1
    assert len(connections) == 1
    assert count(wh, "facts") == 4


def test_write_batch_writes_every_table_and_refreshes_what_it_touched(wh: Warehouse) -> None:
    write_batch(wh, mixed_batch())

    assert (count(wh, "facts"), count(wh, "assistance_refs"), count(wh, "deadletters")) == (2, 3, 2)
    assert wh.query("SELECT sum(events) AS n FROM daily_aggregates FINAL") == [{"n": 2}]
    activity = wh.query(
        "SELECT partner_id, sum(events) AS n FROM partner_activity FINAL GROUP BY 1"
    )
    assert activity == [{"partner_id": "kzlegal", "n": 2}]

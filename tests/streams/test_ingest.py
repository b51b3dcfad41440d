"""The pipelined agent loop: the next batch fills while one is written; acks only after the
write, batch by batch, in order; a full buffer holds the agent back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import pytest

from streams.batch import Batch
from streams.ingest import Ingest
from streams.window import BatchWindow
from tests.streams.builders import assistance, outcome

T = 5.0  # seconds any condition below may take, on a loaded machine


class GatedWrites:
    """A write that records its batch and returns only when the test opens its gate."""

    def __init__(self) -> None:
        self.started: list[Batch] = []
        self.gates: list[asyncio.Event] = []
        self.acked: list[int] = []

    async def write(self, batch: Batch) -> None:
        gate = asyncio.Event()
        self.started.append(batch)
        self.gates.append(gate)
        await gate.wait()

    async def ack(self, events: Sequence[int]) -> None:
        self.acked.extend(events)


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + T
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


def offsets(batch: Batch) -> list[int]:
    return [row["offset"] for row in batch.facts]


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 2 * T))


def test_an_event_on_a_quiet_stream_is_written_at_once_and_acked_only_after_its_write() -> None:
    async def body() -> None:
        writes = GatedWrites()
        window = BatchWindow(max_size=1000, max_seconds=30.0, quiet_seconds=0.02)
        async with Ingest[int](window, writes.write, writes.ack) as ingest:
            started = time.monotonic()
            await ingest.add(0, [outcome(assistance(0), 0)])
            await until(lambda: len(writes.started) == 1, "the write of the lone event")
            assert time.monotonic() - started < 1.0  # not the 30 s age limit
            await asyncio.sleep(0.05)  # the write is held: nothing may be acked meanwhile
            assert writes.acked == []
            writes.gates[0].set()
            await until(lambda: writes.acked == [0], "the ack after the write")

    run(body)


def test_the_next_batch_is_taken_while_one_is_written_and_acks_follow_batch_order() -> None:
    async def body() -> None:
        writes = GatedWrites()
        window = BatchWindow(max_size=1000, max_seconds=30.0, quiet_seconds=0.02)
        async with Ingest[int](window, writes.write, writes.ack) as ingest:
            await ingest.add(0, [outcome(assistance(0), 0)])
            await until(lambda: len(writes.started) == 1, "the first write")
            for n in range(1, 4):  # accepted at once while the first write is held
                await asyncio.wait_for(ingest.add(n, [outcome(assistance(n), n)]), 0.5)
            await asyncio.sleep(0.1)
            assert len(writes.started) == 1  # one write in flight, never two
            writes.gates[0].set()
            await until(lambda: len(writes.started) == 2, "the second write")
            assert offsets(writes.started[1]) == [1, 2, 3]
            assert writes.acked == [0]  # the second batch is not acked before its write
            writes.gates[1].set()
            await until(lambda: writes.acked == [0, 1, 2, 3], "the second batch's acks")

    run(body)


def test_a_full_buffer_holds_the_agent_until_the_writer_takes_it() -> None:
    async def body() -> None:
        writes = GatedWrites()
        window = BatchWindow(max_size=2, max_seconds=30.0, quiet_seconds=30.0)
        async with Ingest[int](window, writes.write, writes.ack) as ingest:
            await ingest.add(0, [outcome(assistance(0), 0)])
            await ingest.add(1, [outcome(assistance(1), 1)])  # full: written without waiting
            await until(lambda: len(writes.started) == 1, "the full batch's write")
            await ingest.add(2, [outcome(assistance(2), 2)])
            third = asyncio.ensure_future(ingest.add(3, [outcome(assistance(3), 3)]))
            await asyncio.sleep(0.1)
            assert not third.done()  # the next buffer is full too, a write is in flight
            writes.gates[0].set()
            await asyncio.wait_for(third, T)
            await until(lambda: len(writes.started) == 2, "the second full batch")
            assert [offsets(b) for b in writes.started] == [[0, 1], [2, 3]]
            writes.gates[1].set()
            await until(lambda: writes.acked == [0, 1, 2, 3], "every ack")

    run(body)


def test_a_failed_writer_is_raised_to_the_agent_and_nothing_is_acked() -> None:
    async def body() -> None:
        acked: list[int] = []

        async def failing(batch: Batch) -> None:
            raise RuntimeError("writer broke")

        async def ack(events: Sequence[int]) -> None:
            acked.extend(events)

        window = BatchWindow(max_size=1000, max_seconds=30.0, quiet_seconds=0.01)
        async with Ingest[int](window, failing, ack) as ingest:
            await ingest.add(0, [outcome(assistance(0), 0)])

            async def keep_adding() -> None:
                for n in range(1, 100):
                    await ingest.add(n, [outcome(assistance(n), n)])
                    await asyncio.sleep(0.05)  # past the quiet gap: the writer writes

            with pytest.raises(RuntimeError, match="writer broke"):
                await keep_adding()
        assert acked == []

    run(body)

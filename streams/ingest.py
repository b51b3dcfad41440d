"""The agent's loop, pipelined: batch N+1 is taken and validated while batch N is written.

The agent hands each message, with the outcomes of its events (one, or a bulk message's many),
to :meth:`Ingest.add`; a writer task takes the buffer when the
:class:`~streams.window.BatchWindow` says so, awaits the write (durable, with its after-write
steps: ``Sink.write``) and only then acks the batch's messages, in the order they came. The
window counts events, not messages, and a message's events always go into one batch (so a
batch may pass ``max_size`` by one message's events, at most 499): a message is acked only
once all its events are durable. One write is in flight at a time, so batches are written and
acked in order; while it runs the agent goes on adding the next batch, up to ``max_size``
events, then waits (the broker's backlog stays in the broker). A crash at any instant loses
nothing: what was not acked is not committed, and is read and written again (idempotently) by
whoever takes over.

Nothing here knows Faust: the agent passes its stream's events (messages) and ``Stream.ack``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from streams.batch import Batch
from streams.transform import Outcome
from streams.window import BatchWindow

E = TypeVar("E")


class Ingest(Generic[E]):
    """The buffer between the agent and the writer task."""

    def __init__(
        self,
        window: BatchWindow,
        write: Callable[[Batch], Awaitable[None]],
        ack: Callable[[Sequence[E]], Awaitable[None]],
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._window = window
        self._write = write
        self._ack = ack
        self._now = monotonic
        self._events: list[E] = []
        self._outcomes: list[Outcome] = []
        self._first_at = self._last_at = 0.0
        self._wake = asyncio.Event()  # buffer became non-empty or full
        self._room = asyncio.Event()  # the writer took the buffer
        self._task: asyncio.Task[None] | None = None
        self.batches_written = 0

    async def __aenter__(self) -> Ingest[E]:
        self._task = asyncio.create_task(self._write_loop(), name="ingest-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Stop the writer; whatever it has not written stays un-acked (read again later)."""
        task = self._task
        if task is None:
            return
        if task.done():  # it failed; add() raised that to the agent already
            if not task.cancelled():
                task.exception()
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def add(self, event: E, outcomes: Sequence[Outcome]) -> None:
        """Buffer one message (``event``) and its events' ``outcomes``, all in the same batch;
        waits while the buffer is full and a write is in flight."""
        task = self._task
        if task is None:
            raise RuntimeError("Ingest.add outside `async with`")
        if task.done():  # the writer never stops by itself: surface why it did
            task.result()
            raise RuntimeError("the ingest writer stopped")
        self._last_at = now = self._now()
        if not self._events:
            self._first_at = now
            self._wake.set()
        self._events.append(event)
        self._outcomes += outcomes
        if len(self._outcomes) >= self._window.max_size:
            self._wake.set()
            self._room.clear()
            waiter = asyncio.ensure_future(self._room.wait())
            await asyncio.wait((waiter, task), return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                task.result()

    async def _write_loop(self) -> None:
        window = self._window
        while True:
            now = self._now()
            buffered = max(len(self._outcomes), len(self._events))  # events, not messages
            delay = window.wait(buffered, now - self._first_at, now - self._last_at)
            if delay is None:  # nothing buffered: sleep until an event comes
                self._wake.clear()
                await self._wake.wait()
                continue
            if delay > 0:  # not once per event: wake at the window's end, or when full
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            events, outcomes = self._events, self._outcomes
            self._events, self._outcomes = [], []
            self._room.set()
            await self._write(Batch.of(outcomes))
            await self._ack(events)
            self.batches_written += 1

"""The sink: a batch is written durably and its after-write steps done, or tried again.

It never gives up and never raises (except when the worker is cancelled): while the warehouse
(or the broker, for dead letters and alerts) is unavailable it backs off (:mod:`streams.retry`)
and tries the whole batch again: the write, then each step. Every write is idempotent, so a
batch written twice changes nothing; the caller acks the batch's messages only after
:meth:`Sink.write` returns, which is what makes "offsets advance only after a durable write"
hold.

The steps it composes are separate objects: the narrow writer (:mod:`streams.writer`), the
after-write steps (:mod:`streams.after_write`, :mod:`streams.alerts`) and the metrics
(:mod:`streams.metrics`). What kind of error failed an attempt is :func:`streams.errors.classify`'s
call. The writer itself isolates what the warehouse refuses for its content (it splits the
batch and dead-letters the refused messages as ``unstorable``), so what reaches the retry here
is transient, or a bug: retried with the batch un-acked rather than a reason to lose it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from tenacity import RetryCallState

from streams.after_write import AfterWrite, run_steps
from streams.batch import Batch
from streams.errors import ErrorKind, classify, failure_kind
from streams.metrics import WorkerMetrics
from streams.retry import RetryPolicy
from streams.writer import BatchWriter

log = logging.getLogger(__name__)


class Sink:
    """Writes batches durably, then runs the after-write steps; retries both until done."""

    def __init__(
        self,
        writer: BatchWriter,
        steps: Sequence[AfterWrite],
        metrics: WorkerMetrics,
        *,
        retry: RetryPolicy | None = None,
        after_failure: Callable[[], None] = lambda: None,
        classify_error: Callable[[BaseException], ErrorKind] = classify,
    ) -> None:
        self._writer = writer
        self._steps = tuple(steps)
        self._metrics = metrics
        self._retry = retry or RetryPolicy()
        self._after_failure = after_failure
        self._classify = classify_error

    async def write(self, batch: Batch) -> None:
        """Return only once the batch is in the warehouse and every step has run."""
        if not len(batch):
            return
        started = time.perf_counter()
        async for attempt in self._retry.retrying(self._failed):
            with attempt:
                await asyncio.to_thread(self._writer.write, batch)
                await run_steps(self._steps, batch)
        # Queryable from now on: broker time to here is the latency.
        self._metrics.batch_written(batch, time.perf_counter() - started, datetime.now(UTC))

    async def _failed(self, state: RetryCallState) -> None:
        """Between attempts: say what failed, count it, drop the connection."""
        error = state.outcome.exception() if state.outcome else None
        if error is None:  # tenacity retries only on an exception: nothing to say
            return
        wait = state.upcoming_sleep
        if self._classify(error) is ErrorKind.DATA:
            log.error(
                "the warehouse rejected a batch (%s); retrying it in %.1f s, its messages "
                "stay un-acked",
                error,
                wait,
                exc_info=error,
            )
        elif failure_kind(error) == "error":  # not an outage: a bug, with its traceback
            log.error(
                "sink write failed, not for an outage (%s); retrying in %.1f s, its messages "
                "stay un-acked",
                error,
                wait,
                exc_info=error,
            )
        else:
            log.warning("sink write failed (%s); retrying in %.1f s", error, wait)
        self._metrics.attempt_failed(failure_kind(error))
        await asyncio.to_thread(self._after_failure)  # may wait for a read to finish

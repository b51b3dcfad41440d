"""The narrow writer: one batch into the warehouse, once (no retries, no side effects).

A batch the warehouse refuses for its content is split until the refused messages stand
alone (:mod:`streams.isolate`): they become ``unstorable`` dead letters in the batch, for the
after-write steps to publish and alert, and the rest is written. One message never stalls
every partner.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from streams.access import WarehouseAccess
from streams.batch import Batch, place
from streams.clock import Clock, system_clock
from streams.isolate import isolate
from streams.transform import Row
from streams.unstorable import unstorable_deadletter
from warehouse.client import Warehouse
from warehouse.facts import write_deadletters, write_facts, write_refs
from warehouse.refresh import refresh_written

log = logging.getLogger(__name__)


class BatchWriter(Protocol):
    """Makes a batch durable or raises; writing the same batch twice changes nothing."""

    def write(self, batch: Batch) -> None: ...


def store_rows(wh: Warehouse, batch: Batch) -> None:
    """Insert a batch's rows, refs before facts: a refused fact then leaves only refs behind,
    which nothing reads without their fact (the overlap query joins the winning facts)."""
    if batch.refs:
        write_refs(wh, batch.refs)
    if batch.facts:
        write_facts(wh, batch.facts)
    if batch.deadletters:
        write_deadletters(wh, batch.deadletters)


def refresh_after(wh: Warehouse, batch: Batch) -> None:
    """Refresh the aggregates, first reports and partner activity a written batch touched
    (idempotent)."""
    if batch.facts:
        refresh_written(wh, batch.facts)


def write_batch(wh: Warehouse, batch: Batch) -> None:
    """Write a batch and refresh the aggregates and partner activity it touched (idempotent)."""
    store_rows(wh, batch)
    refresh_after(wh, batch)


def write_isolated(wh: Warehouse, batch: Batch, now: datetime) -> int:
    """Write a batch; messages the warehouse refuses for their content are isolated
    (:func:`streams.isolate.isolate`) and replace their facts in ``batch`` by ``unstorable``
    dead letters (stored too); the rest is written and refreshed. Returns how many were
    refused. Transient errors propagate, ``batch`` unchanged: the caller retries it whole."""
    result = isolate(batch.messages(), lambda parts: store_rows(wh, Batch.merged(parts)))
    written = Batch.merged(result.written)
    letters: list[Row] = []
    for unit, refusal in result.refused:
        if not unit.facts:  # a dead letter itself refused: still published, never stored
            log.error("the warehouse refused a dead letter (%s): %s", refusal.code, refusal)
            written.deadletters += unit.deadletters
            continue
        fact, original = unit.facts[0], unit.originals[0]
        log.error(
            "unstorable event at %s, index %d (warehouse error %s)",
            place(fact),
            original.event_index,
            refusal.code,
        )
        letters.append(unstorable_deadletter(fact, original, refusal, now))
    if letters:
        stored = isolate(letters, lambda rows: write_deadletters(wh, rows))
        for row, refusal in stored.refused:  # published all the same
            log.error("the warehouse refused a dead letter at %s: %s", place(row), refusal)
    refresh_after(wh, written)
    batch.facts, batch.refs = written.facts, written.refs
    batch.deadletters = written.deadletters + letters
    batch.originals = written.originals
    return len(result.refused)


class WarehouseWriter:
    """Writes batches through the worker's warehouse access (its connection and lock).

    Blocking: the sink calls it in a thread.
    """

    def __init__(self, access: WarehouseAccess, clock: Clock = system_clock) -> None:
        self._access = access
        self._clock = clock

    def write(self, batch: Batch) -> None:
        """Write ``batch``; refused messages become its ``unstorable`` dead letters."""
        now = self._clock()
        self._access.run(lambda wh: write_isolated(wh, batch, now))

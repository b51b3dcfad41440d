"""The narrow writer: one batch into the warehouse, once (no retries, no side effects)."""

from __future__ import annotations

from typing import Protocol

from streams.access import WarehouseAccess
from streams.batch import Batch
from warehouse.client import Warehouse
from warehouse.facts import (
    refresh_aggregates,
    refresh_partner_activity,
    write_deadletters,
    write_facts,
    write_refs,
)


class BatchWriter(Protocol):
    """Makes a batch durable or raises; writing the same batch twice changes nothing."""

    def write(self, batch: Batch) -> None: ...


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


class WarehouseWriter:
    """Writes batches through the worker's warehouse access (its connection and lock).

    Blocking: the sink calls it in a thread.
    """

    def __init__(self, access: WarehouseAccess) -> None:
        self._access = access

    def write(self, batch: Batch) -> None:
        self._access.run(lambda wh: write_batch(wh, batch))

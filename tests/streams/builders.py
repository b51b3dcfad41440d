"""Messages, batches and a warehouse that fails on demand, for the stream steps' tests."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from schemas.refdata import partners
from streams.batch import Batch
from streams.transform import Meta, Outcome, process
from warehouse.client import Parameters, Row, Warehouse, WarehouseUnavailable

#: The hub secret refs are re-keyed with in these tests.
REF_KEY = b"test-hub-secret"
NOW = datetime(2006, 12, 31, 12, 0, tzinfo=UTC)
PUBLISHED = datetime(2006, 12, 31, 11, 59, 58, tzinfo=UTC)  # two seconds before NOW


def assistance(
    number: int, *, partner: str = "kzlegal", refs: Sequence[str] = ("a" * 64,), **changes: Any
) -> dict[str, Any]:
    """A valid assistance event body, its id made from ``number``."""
    event: dict[str, Any] = {
        "event_id": f"00000000-0000-4000-8000-{number:012d}",
        "revision": 1,
        "partner_id": partner,
        "kind": "assistance",
        "occurred_on": "2006-03-30",
        "reported_at": "2006-04-02T10:00:00+06:00",
        "region": "KZ-75",
        "population_type": "refugee",
        "origin": "RUS",
        "beneficiaries": {"female": {"18-59": 2}},
        "payload": {"category": "cash", "quantity": 100.0, "unit": "USD", "value_usd": 100.0},
        "beneficiary_refs": list(refs),
    }
    event.update(changes)
    return event


def outcome(body: Mapping[str, Any] | bytes, offset: int, partner: str = "kzlegal") -> Outcome:
    """What the worker's transform makes of one message on ``partner``'s assistance topic."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    meta = Meta(f"partners.{partner}.assistance.v1", 0, offset, PUBLISHED)
    return process(raw, meta, partners(), now=NOW, ref_key=REF_KEY)


def mixed_batch() -> Batch:
    """Two accepted assistance events (three refs) and two rejected messages."""
    return Batch.of(
        [
            outcome(assistance(1, refs=("a" * 64, "b" * 64)), 0),
            outcome(b"not json", 1),
            outcome(assistance(2), 2),
            outcome(assistance(3, region="XX-00"), 3),
        ]
    )


class FlakyWarehouse:
    """A real warehouse whose inserts fail (``WarehouseUnavailable`` unless told) on demand:
    the first ``failures`` ones, and every one while ``blocked`` is set. Queries always pass
    through. ``close`` leaves the real warehouse open (the test owns it)."""

    def __init__(
        self,
        real: Warehouse,
        failures: int = 0,
        *,
        table: str | None = None,
        error: type[Exception] = WarehouseUnavailable,
    ) -> None:
        self.real = real
        self.failures = failures
        self.table = table  # fail only inserts into this table (None: any)
        self.error = error
        self.blocked = threading.Event()
        self.failed = 0
        self.closed = 0
        self.changed = threading.Condition()

    def insert(self, table: str, columns: Mapping[str, Sequence[Any]]) -> None:
        with self.changed:
            chosen = self.table is None or table == self.table
            if chosen and (self.blocked.is_set() or self.failed < self.failures):
                self.failed += 1
                self.changed.notify_all()
                raise self.error(f"insert into {table}: injected failure {self.failed}")
        self.real.insert(table, columns)

    def command(self, sql: str, parameters: Parameters | None = None) -> None:
        self.real.command(sql, parameters)

    def query(self, sql: str, parameters: Parameters | None = None) -> list[Row]:
        return self.real.query(sql, parameters)

    def close(self) -> None:
        self.closed += 1

    def wait_for_failures(self, count: int, timeout: float = 60.0) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: self.failed >= count, timeout=timeout):
                raise AssertionError(f"only {self.failed} of {count} failures in {timeout} s")


def count(wh: Warehouse, table: str) -> int:
    return int(wh.query(f"SELECT count() AS n FROM {table}")[0]["n"])

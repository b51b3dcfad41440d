"""Fixtures of the stream steps' unit tests: a real embedded warehouse, nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.migrate import migrate


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    """A migrated embedded warehouse of the test's own (chdb)."""
    warehouse = EmbeddedWarehouse(tmp_path / "chdb", database="hub_test")
    try:
        migrate(warehouse)
        yield warehouse
    finally:
        warehouse.close()

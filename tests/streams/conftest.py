"""The stream steps' tests call the shared migrated warehouse ``wh`` (each adapter in turn)."""

from __future__ import annotations

import pytest

from warehouse.client import Warehouse


@pytest.fixture
def wh(migrated_warehouse: Warehouse) -> Warehouse:
    return migrated_warehouse

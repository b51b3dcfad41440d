"""The roll-up tables' columns (DDL: ``warehouse/migrations/0007_rollups.sql``).

They are defined with every other table's in ``warehouse.tables``; these are the names the
roll-up code uses.
"""

from __future__ import annotations

from warehouse.tables import ROLLUP_ROW_COLUMNS as ROW_COLUMNS
from warehouse.tables import ROLLUP_VERSION_COLUMNS as VERSION_COLUMNS

TABLES: dict[str, tuple[str, ...]] = {
    "rollup_versions": VERSION_COLUMNS,
    "rollup_rows": ROW_COLUMNS,
}

__all__ = ["ROW_COLUMNS", "TABLES", "VERSION_COLUMNS"]

"""The embedded engine runs with the limits it is given: memory per query and in all, caches,
threads; a query past its memory fails as a passing condition (retried), not as a bug."""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.client import EmbeddedWarehouse, WarehouseUnavailable
from warehouse.limits import EngineLimits, MiB
from warehouse.settings import ClickHouseSettings

pytestmark = pytest.mark.clickhouse


def test_the_engine_starts_with_the_limits_and_enforces_them(tmp_path: Path) -> None:
    limits = EngineLimits(server_memory=900 * MiB, query_memory=64 * MiB, mark_cache=32 * MiB)
    with EmbeddedWarehouse(tmp_path / "chdb", limits=limits) as wh:
        session = {
            r["name"]: int(r["value"])
            for r in wh.query(
                "SELECT name, value FROM system.settings WHERE name IN"
                " ('max_memory_usage', 'max_threads', 'max_bytes_before_external_group_by')"
            )
        }
        server = {
            r["name"]: int(r["value"])
            for r in wh.query(
                "SELECT name, value FROM system.server_settings WHERE name IN"
                " ('max_server_memory_usage', 'mark_cache_size', 'uncompressed_cache_size',"
                " 'background_pool_size')"
            )
        }
        assert session == {
            "max_memory_usage": 64 * MiB,
            "max_threads": 2,
            "max_bytes_before_external_group_by": 256 * MiB,
        }
        assert server == {
            "max_server_memory_usage": 900 * MiB,
            "mark_cache_size": 32 * MiB,
            "uncompressed_cache_size": 0,
            "background_pool_size": 2,
        }
        with pytest.raises(WarehouseUnavailable, match=r"MEMORY_LIMIT_EXCEEDED|memory limit"):
            wh.query("SELECT length(groupArray(number)) AS n FROM numbers(40000000)")
    # The sink drops the warehouse after an outage and opens it again (chdb 4.4's session
    # answers the query after a failed one with a broken Arrow stream); reopened, it works.
    with EmbeddedWarehouse(tmp_path / "chdb", limits=limits) as wh:
        assert wh.query("SELECT 1 AS one") == [{"one": 1}]


def test_the_settings_name_the_memory_limits() -> None:
    limits = ClickHouseSettings(memory_mib=1200, query_memory_mib=300).limits()
    assert (limits.server_memory, limits.query_memory) == (1200 * MiB, 300 * MiB)
    assert ClickHouseSettings().limits() == EngineLimits()

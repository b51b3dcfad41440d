"""How much memory and CPU the warehouse engine may use: explicit limits for the hub's machine
(2 cores, 24 GiB shared by the broker, the worker, Grafana and other processes).

The embedded engine (chdb) takes them all at start-up, through its connection string (each
``name=value`` becomes a ``clickhouse-local --name=value`` argument). A server takes the
per-query ones from the client session (:meth:`EngineLimits.query_settings`); its caches
and merge pool are server configuration (``deploy/clickhouse/config.d/partnerhub.xml``).
docs/warehouse.md explains each value.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

MiB = 1024 * 1024


@dataclass(frozen=True)
class EngineLimits:
    """Memory and thread limits of the warehouse engine (bytes unless named otherwise)."""

    #: All queries and merges of the engine together; past it a query fails with
    #: MEMORY_LIMIT_EXCEEDED (retried by the sink after a pause).
    server_memory: int = 1536 * MiB
    #: One query.
    query_memory: int = 1024 * MiB
    #: GROUP BY and ORDER BY spill to disk past these, instead of failing.
    external_group_by: int = 256 * MiB
    external_sort: int = 256 * MiB
    #: Threads of one query, and of the background merge pool.
    threads: int = 2
    merge_threads: int = 2
    #: Caches: marks (where granules start in each column file), primary index, decompressed
    #: blocks (off: the OS page cache already holds the files), skip-index marks, query
    #: condition cache.
    mark_cache: int = 128 * MiB
    primary_index_cache: int = 64 * MiB
    uncompressed_cache: int = 0
    index_mark_cache: int = 16 * MiB
    query_condition_cache: int = 16 * MiB

    def query_settings(self) -> dict[str, int]:
        """Settings of every query (a session's settings on a server)."""
        return {
            "max_memory_usage": self.query_memory,
            "max_bytes_before_external_group_by": self.external_group_by,
            "max_bytes_before_external_sort": self.external_sort,
            "max_threads": self.threads,
        }

    def server_settings(self) -> dict[str, int]:
        """Settings of the engine as a whole (chdb start-up, or a server's config)."""
        return {
            "max_server_memory_usage": self.server_memory,
            "background_pool_size": self.merge_threads,
            "background_merges_mutations_concurrency_ratio": 1,
            "mark_cache_size": self.mark_cache,
            "primary_index_cache_size": self.primary_index_cache,
            "uncompressed_cache_size": self.uncompressed_cache,
            "index_mark_cache_size": self.index_mark_cache,
            "query_condition_cache_size": self.query_condition_cache,
        }

    def connection_string(self, folder: str) -> str:
        """A chdb connection string for ``folder`` with every limit."""
        return f"{folder}?{urlencode({**self.server_settings(), **self.query_settings()})}"


#: The hub's limits: the worker's engine stays well under 2 GiB whatever the warehouse holds.
DEFAULT_LIMITS = EngineLimits()

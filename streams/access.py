"""The worker's one way to its warehouse: one connection, one lock, opened on demand.

chdb runs one statement at a time per process and a ClickHouse connection is not shared
between threads, so every use of the warehouse, the writer's and the reads of the status page
and the timers, takes the same lock. Only the statement holds it: a writer that waits between
retries does not, so reads are never stuck behind a retry loop (they fail or succeed on
their own, once).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from warehouse.client import Warehouse

log = logging.getLogger(__name__)
T = TypeVar("T")


class WarehouseAccess:
    """Runs work on the warehouse one at a time, (re)connecting when it has no connection."""

    def __init__(self, open_warehouse: Callable[[], Warehouse]) -> None:
        self._open = open_warehouse
        self._warehouse: Warehouse | None = None
        self._lock = threading.Lock()

    def run(self, work: Callable[[Warehouse], T]) -> T:
        """Run ``work`` under the lock and return its result (blocking: call it in a thread).

        Raises what the warehouse raises (``WarehouseError``); nothing is retried here.
        """
        with self._lock:
            if self._warehouse is None:
                self._warehouse = self._open()
            return work(self._warehouse)

    def read(self, query: Callable[[Warehouse], T]) -> T:
        """Run a query for the status page or a timer: the same lock, no retries."""
        return self.run(query)

    def reconnect(self) -> None:
        """Drop the connection (after a failure); the next use opens a new one."""
        with self._lock:
            wh, self._warehouse = self._warehouse, None
            if wh is not None:
                try:
                    wh.close()
                except Exception:  # a broken connection may fail to close; dropped anyway
                    log.debug("closing the warehouse failed", exc_info=True)

    def close(self) -> None:
        """Release the connection (idempotent)."""
        self.reconnect()

"""The warehouse part of the hub's settings (``PARTNERHUB_CLICKHOUSE__<FIELD>``)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr

from warehouse.limits import DEFAULT_LIMITS, EngineLimits, MiB


class ClickHouseSettings(BaseModel):
    #: ``None`` means the embedded engine (chdb) in ``<data_dir>/warehouse``; otherwise a server
    #: URL such as ``http://writer:secret@clickhouse:8123/partnerhub``.
    url: str | None = None
    database: str = "partnerhub"
    username: str | None = None
    password: SecretStr | None = None
    #: Memory the embedded engine may hold in all, and one query may use (MiB); a server's
    #: session gets the per-query one. The rest of the limits: ``warehouse/limits.py``.
    memory_mib: int = DEFAULT_LIMITS.server_memory // MiB
    query_memory_mib: int = DEFAULT_LIMITS.query_memory // MiB

    def limits(self) -> EngineLimits:
        """The engine limits these settings ask for."""
        return EngineLimits(
            server_memory=self.memory_mib * MiB, query_memory=self.query_memory_mib * MiB
        )

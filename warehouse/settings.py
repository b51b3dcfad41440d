"""The warehouse part of the hub's settings (``PARTNERHUB_CLICKHOUSE__<FIELD>``)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr


class ClickHouseSettings(BaseModel):
    #: ``None`` means the embedded engine (chdb) in ``<data_dir>/warehouse``; otherwise a server
    #: URL such as ``http://writer:secret@clickhouse:8123/partnerhub``.
    url: str | None = None
    database: str = "partnerhub"
    username: str | None = None
    password: SecretStr | None = None

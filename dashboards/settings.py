"""The Grafana part of the hub's settings (``PARTNERHUB_GRAFANA__<FIELD>``)."""

from __future__ import annotations

from pydantic import BaseModel, SecretStr, model_validator


class GrafanaSettings(BaseModel):
    url: str | None = None
    token: SecretStr | None = None
    folder: str = "Partner Hub"
    #: The warehouse as every dashboard but the SGBV one reads it (ClickHouse user
    #: ``partnerhub_dashboard``, which cannot read SGBV rows).
    datasource_uid: str = "partnerhub-clickhouse"
    #: The SGBV dashboard's own data source (user ``partnerhub_sgbv``: SGBV daily aggregates
    #: only). A dashboard with template variables must never use it.
    sgbv_datasource_uid: str = "partnerhub-clickhouse-sgbv"

    @model_validator(mode="after")
    def _distinct_datasources(self) -> GrafanaSettings:
        if self.sgbv_datasource_uid == self.datasource_uid:
            raise ValueError(
                "grafana.sgbv_datasource_uid must differ from grafana.datasource_uid: "
                "SGBV rows may be read only through their own data source"
            )
        return self

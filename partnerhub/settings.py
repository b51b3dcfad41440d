"""One typed settings model for the whole hub.

Values come from keyword arguments (tests), then ``PARTNERHUB_*`` environment variables with
``__`` between nested parts (``PARTNERHUB_KAFKA__BOOTSTRAP=broker:9092``), then a ``.env`` file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas import refdata
from schemas.refdata import Partner


class KafkaTimings(BaseModel):
    """Consumer-group timings, in seconds."""

    session_timeout: float
    heartbeat_interval: float
    rebalance_timeout: float
    commit_interval: float


#: The local broker (Tansu) lets a group join after about half the session timeout, so short
#: timings make tests and the demo start in seconds. Production keeps Kafka-sane values.
TIMINGS: dict[str, KafkaTimings] = {
    "local": KafkaTimings(
        session_timeout=2.0, heartbeat_interval=0.2, rebalance_timeout=1.0, commit_interval=0.5
    ),
    "production": KafkaTimings(
        session_timeout=30.0, heartbeat_interval=3.0, rebalance_timeout=60.0, commit_interval=2.8
    ),
}


class KafkaSettings(BaseModel):
    bootstrap: str = "localhost:9092"
    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None
    #: Partitions of each partner topic created by ``partners sync``.
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)
    #: ``local`` for Tansu and tests; ``production`` for Apache Kafka.
    profile: Literal["local", "production"] = "local"

    @property
    def timings(self) -> KafkaTimings:
        return TIMINGS[self.profile]

    def client_kwargs(self) -> dict[str, Any]:
        """Connection keyword arguments for kafka-python clients (producer, consumer, admin)."""
        kwargs: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap.split(","),
            "security_protocol": self.security_protocol,
        }
        if self.security_protocol.startswith("SASL"):
            kwargs["sasl_mechanism"] = self.sasl_mechanism
            kwargs["sasl_plain_username"] = self.username
            kwargs["sasl_plain_password"] = (
                self.password.get_secret_value() if self.password else None
            )
        return kwargs


class ClickHouseSettings(BaseModel):
    #: ``None`` means the embedded engine (chdb) in ``<data_dir>/warehouse``; otherwise a server
    #: URL such as ``http://writer:secret@clickhouse:8123/partnerhub``.
    url: str | None = None
    database: str = "partnerhub"
    username: str | None = None
    password: SecretStr | None = None


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


class WorkerSettings(BaseModel):
    #: A sink batch is written when it holds this many events or is this old, whichever first.
    batch_size: int = Field(5000, ge=1)
    batch_seconds: float = Field(0.5, gt=0)
    #: Port of the worker's status API (``/status``, ``/metrics``).
    web_port: int = Field(6066, ge=0, le=65535)
    #: Address the status API binds to (``0.0.0.0`` inside a container).
    web_host: str = "127.0.0.1"
    #: A partner with no report for this many days raises a silent-partner alert.
    silent_days: int = Field(45, ge=1)
    #: How often the leader checks for silent partners, in seconds.
    silent_check_seconds: float = Field(300.0, gt=0)
    #: The month's roll-up is run this many days after the month ends.
    rollup_after_days: int = Field(5, ge=0)
    #: How often the leader looks for roll-ups due (new months, late corrections), in seconds.
    rollup_check_seconds: float = Field(3600.0, gt=0)


class HubSettings(BaseSettings):
    """Everything the hub can be told; secrets are ``SecretStr`` and never printed."""

    model_config = SettingsConfigDict(
        env_prefix="PARTNERHUB_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Path(".partnerhub")
    #: SGBV cells below this are shown as suppressed in every output (GBVIMS practice).
    sgbv_threshold: int = Field(5, ge=1)
    #: A partner registry to use instead of the packaged demo registry.
    registry_path: Path | None = None
    #: Pretend the hub starts at this instant (demos and replays of a past period); the clock
    #: then runs at the real pace. ``None``: the real time.
    start_time: AwareDatetime | None = None
    kafka: KafkaSettings = KafkaSettings()
    clickhouse: ClickHouseSettings = ClickHouseSettings()
    grafana: GrafanaSettings = GrafanaSettings()
    worker: WorkerSettings = WorkerSettings()

    def registry(self) -> dict[str, Partner]:
        """The partner registry in force: ``registry_path`` if set, else the packaged demo one."""
        if self.registry_path is not None:
            return refdata.load_partners(self.registry_path)
        return refdata.partners()

"""One typed settings model for the whole hub, composed of the parts each layer owns.

The Kafka seam owns ``kafka`` (:mod:`broker.settings`), the warehouse ``clickhouse``, the worker
``worker``, the dashboards ``grafana``; this module only composes them and reads the environment.

Values come from keyword arguments (tests), then ``PARTNERHUB_*`` environment variables with
``__`` between nested parts (``PARTNERHUB_KAFKA__BOOTSTRAP=broker:9092``), then a ``.env`` file.
"""

from __future__ import annotations

import os
import secrets
from importlib.resources import files
from pathlib import Path

from pydantic import AwareDatetime, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from broker.settings import TIMINGS, KafkaSettings, KafkaTimings
from dashboards.common import Context
from dashboards.settings import GrafanaSettings
from producers.gateway.settings import GatewaySettings
from rollups.settings import RollupSettings
from schemas import refdata
from schemas.refdata import Partner
from streams.settings import WorkerSettings
from warehouse.settings import ClickHouseSettings

__all__ = [
    "TIMINGS",
    "ClickHouseSettings",
    "GatewaySettings",
    "GrafanaSettings",
    "HubSettings",
    "KafkaSettings",
    "KafkaTimings",
    "WorkerSettings",
]


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
    #: The hub's own secret: re-keys beneficiary refs at intake and keys the roll-ups'
    #: integrity hashes (``disclosure.keys``). Never shared with partners. ``None``: a random
    #: secret kept in ``<data_dir>/hub.secret`` (mode 0600), made on first use.
    hub_secret: SecretStr | None = None
    kafka: KafkaSettings = KafkaSettings()
    clickhouse: ClickHouseSettings = ClickHouseSettings()
    grafana: GrafanaSettings = GrafanaSettings()
    worker: WorkerSettings = WorkerSettings()
    gateway: GatewaySettings = GatewaySettings()
    #: Folder of the KoboToolbox form mappings; default: ``kobo/`` beside the registry file.
    kobo_dir: Path | None = None

    def hub_key(self) -> bytes:
        """The hub secret's bytes (see ``hub_secret``)."""
        if self.hub_secret is not None:
            return self.hub_secret.get_secret_value().encode("utf-8")
        return load_or_create_secret(self.data_dir / "hub.secret")

    def registry(self) -> dict[str, Partner]:
        """The partner registry in force: ``registry_path`` if set, else the packaged demo one."""
        if self.registry_path is not None:
            return refdata.load_partners(self.registry_path)
        return refdata.partners()

    def token_file(self) -> Path:
        """The gateway's token store (salted hashes only): ``<data_dir>/gateway/tokens.sqlite``."""
        return self.data_dir / "gateway" / "tokens.sqlite"

    def kobo_folder(self) -> Path:
        """Where the KoboToolbox form mappings are: ``kobo_dir``, else ``kobo/`` beside the
        registry in force (the packaged demo registry's folder holds the worked example)."""
        if self.kobo_dir is not None:
            return self.kobo_dir
        if self.registry_path is not None:
            return self.registry_path.parent / "kobo"
        return Path(str(files("schemas") / "reference" / "kobo"))

    def rollups(self) -> RollupSettings:
        """What the roll-ups need: registry, SGBV threshold, schedule delay, default folder."""
        return RollupSettings(
            registry=self.registry(),
            sgbv_threshold=self.sgbv_threshold,
            after_days=self.worker.rollup_after_days,
            folder=self.data_dir / "rollups",
            hub_key=self.hub_key(),
            templates=self.data_dir / "templates",
        )

    def dashboard_context(self) -> Context:
        """The dashboards' build context: threshold, silence, the registry and the SGBV data
        source in force."""
        return Context(
            sgbv_threshold=self.sgbv_threshold,
            silent_days=self.worker.silent_days,
            partners=self.registry(),
            regions=refdata.regions(),
            origins=refdata.origins(),
            targets=refdata.targets(),
            sgbv_datasource_uid=self.grafana.sgbv_datasource_uid,
        )


def load_or_create_secret(path: Path) -> bytes:
    """The secret kept in ``path``; a new random one (32 bytes, hex) written there with mode
    0600 when the file does not exist yet."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")

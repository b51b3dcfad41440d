"""What the roll-ups need to know, composed by ``partnerhub.settings.HubSettings.rollups()``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from schemas.refdata import Partner


@dataclass(frozen=True)
class RollupSettings:
    """The partner registry in force, the SGBV threshold, the schedule's delay, the folder and
    the hub secret."""

    registry: Mapping[str, Partner]
    sgbv_threshold: int
    #: A month's first roll-up is due this many days after the month ends.
    after_days: int
    #: Where roll-up files go by default, a folder per month (``<data_dir>/rollups``).
    folder: Path
    #: The hub's secret: keys each version's integrity hash of its exact data (never shown).
    hub_key: bytes = field(repr=False)
    #: An office's own report templates (``<data_dir>/templates``), used when the folder exists.
    templates: Path | None = None

    def template_dirs(self) -> list[Path]:
        """The folders searched for report templates before the packaged ones."""
        return [] if self.templates is None else [self.templates]

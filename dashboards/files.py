"""The dashboards as files in Grafana's file-provisioning layout: one ``<uid>.json`` each in
``dashboards/json/`` (mounted at ``/var/lib/grafana/dashboards`` by docker compose), written
deterministically (sorted keys, two-space indent, a final newline) so that the committed
files can be checked against the code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dashboards.model import Dashboard

log = logging.getLogger(__name__)

#: The repository's provisioned dashboards folder.
JSON_DIR = Path(__file__).resolve().parent / "json"


def dashboard_text(dashboard: Dashboard, datasource_uid: str) -> str:
    """The file text of one dashboard."""
    return json.dumps(dashboard.to_json(datasource_uid), indent=2, sort_keys=True) + "\n"


def render(dashboards: Sequence[Dashboard], datasource_uid: str) -> dict[str, str]:
    """File name -> text for every dashboard."""
    return {d.filename: dashboard_text(d, datasource_uid) for d in dashboards}


@dataclass(frozen=True)
class Stale:
    """What differs between the rendered files and a folder."""

    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.extra)

    def describe(self) -> str:
        parts = [
            f"{what}: {', '.join(names)}"
            for what, names in (
                ("differ from the code", self.changed),
                ("missing", self.missing),
                ("not built by the code", self.extra),
            )
            if names
        ]
        return "; ".join(parts)


def compare(files: dict[str, str], folder: Path) -> Stale:
    """How ``folder``'s ``*.json`` files differ from ``files``."""
    present = {p.name for p in folder.glob("*.json")} if folder.is_dir() else set()
    changed = sorted(
        name
        for name, text in files.items()
        if name in present and (folder / name).read_text(encoding="utf-8") != text
    )
    return Stale(
        changed=tuple(changed),
        missing=tuple(sorted(set(files) - present)),
        extra=tuple(sorted(present - set(files))),
    )


def write(files: dict[str, str], folder: Path) -> list[str]:
    """Write ``files`` into ``folder``, remove other ``*.json`` files there; return the names
    written or removed (unchanged files are left alone)."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = compare(files, folder)
    for name in (*stale.changed, *stale.missing):
        (folder / name).write_text(files[name], encoding="utf-8")
        log.info("wrote %s", folder / name)
    for name in stale.extra:
        (folder / name).unlink()
        log.info("removed %s", folder / name)
    return sorted((*stale.changed, *stale.missing, *stale.extra))

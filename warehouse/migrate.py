"""Numbered SQL migrations, applied in order and recorded with a checksum.

``warehouse/migrations/NNNN_name.sql`` files hold ClickHouse statements separated by ``;`` at
the end of a line; table names are unqualified (the warehouse's database is current), so the
same files run on chdb and on a server. Every statement must be safe to run twice
(``IF NOT EXISTS``): a process killed between a statement and its record re-runs the file.
A migration, once applied, never changes: edit one and :func:`migrate` refuses to run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from warehouse.client import Warehouse, WarehouseError
from warehouse.tables import MIGRATIONS_TABLE

log = logging.getLogger(__name__)

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_STATEMENT_END = re.compile(r";[ \t]*$", re.M)

_CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}
(
    name String,
    checksum String,
    applied_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY name
"""


class MigrationError(WarehouseError):
    """The migrations on disk and those recorded in the warehouse disagree."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        """The file's statements, without comment lines."""
        out = []
        for chunk in _STATEMENT_END.split(self.sql):
            code = "\n".join(
                line for line in chunk.splitlines() if not line.strip().startswith("--")
            )
            if code.strip():
                out.append(code.strip())
        return out


def load_migrations(folder: Traversable | None = None) -> list[Migration]:
    """The migrations in ``folder`` (the packaged ones by default), in order of their number."""
    folder = folder or resources.files("warehouse.migrations")
    found: dict[str, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _NAME.match(entry.name)
        if match is None:
            raise MigrationError(f"{entry.name}: migration files are named NNNN_name.sql")
        number = match.group(1)
        if number in found:
            raise MigrationError(f"{entry.name}: number {number} is also {found[number].name}")
        found[number] = Migration(entry.name.removesuffix(".sql"), entry.read_text("utf-8"))
    return [found[number] for number in sorted(found)]


def applied_migrations(wh: Warehouse) -> dict[str, str]:
    """Name -> checksum of every migration recorded in the warehouse."""
    wh.command(_CREATE_TABLE)
    rows = wh.query(f"SELECT name, checksum FROM {MIGRATIONS_TABLE} FINAL")
    return {row["name"]: row["checksum"] for row in rows}


def migrate(wh: Warehouse, migrations: list[Migration] | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order; return their names.

    Raises :class:`MigrationError` when an applied migration's file has changed since.
    """
    migrations = load_migrations() if migrations is None else migrations
    applied = applied_migrations(wh)
    for m in migrations:
        if m.name in applied and applied[m.name] != m.checksum:
            raise MigrationError(
                f"migration {m.name} was changed after it was applied "
                f"(recorded checksum {applied[m.name][:12]}, file {m.checksum[:12]}); "
                "add a new migration instead"
            )
    unknown = sorted(set(applied) - {m.name for m in migrations})
    if unknown:
        log.warning("the warehouse has migrations this code does not know: %s", unknown)
    done = []
    for m in migrations:
        if m.name in applied:
            continue
        for statement in m.statements():
            wh.command(statement)
        wh.insert(MIGRATIONS_TABLE, {"name": [m.name], "checksum": [m.checksum]})
        log.info("applied migration %s", m.name)
        done.append(m.name)
    return done

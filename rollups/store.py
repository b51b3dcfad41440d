"""Versioned roll-ups in the warehouse (tables ``rollup_versions`` and ``rollup_rows``).

A version is an immutable snapshot of a month's exact rows, identified by the keyed hash
(HMAC with the hub secret) of its exact CSV: a plain hash of exact SGBV data would let anyone
who reads it test candidate tables against it, so the key never leaves the hub and the hash is
never published (the roll-up's files show the SHA-256 of the *published* CSV instead).
Saving a month whose rows equal its latest version's writes nothing and returns that
version; otherwise it writes version N+1 with what changed since version N (keys added,
removed, changed with old and new values) and when (``created_at``; ``facts_through``: the
arrival of the newest fact it holds). Rows are written before their version row, so a run
killed in between leaves no version; the orphan rows carry their own checksum and are never
read as another version's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from rollups.compute import Rollup
from rollups.diff import diff_rows
from rollups.model import KEY, RollupRow
from rollups.months import month_name, parse_month
from rollups.render_csv import checksum
from rollups.tables import ROW_COLUMNS, VERSION_COLUMNS
from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.facts import columnar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    """One stored version of a month's roll-up."""

    month: str
    version: int
    created_at: datetime
    created_by: str
    checksum: str
    row_count: int
    events: int
    persons: int
    facts_through: datetime | None
    #: Added, removed and changed keys against the previous version (``previous`` is its
    #: number, None for version 1), exact values.
    changes: dict[str, Any]
    #: The reconciliation with the aggregates when the version was made.
    reconciliation: dict[str, Any]
    differing_keys: int


def _version(row: dict[str, Any]) -> Version:
    return Version(
        month=month_name(row["month"]),
        version=int(row["version"]),
        created_at=row["created_at"],
        created_by=str(row["created_by"]),
        checksum=str(row["checksum"]),
        row_count=int(row["row_count"]),
        events=int(row["events"]),
        persons=int(row["persons"]),
        facts_through=row["facts_through"],
        changes=json.loads(row["changes"]),
        reconciliation=json.loads(row["reconciliation"]),
        differing_keys=int(row["differing_keys"]),
    )


def versions(wh: Warehouse, month: str | None = None) -> list[Version]:
    """Stored versions, of one month or all, ordered by month and version."""
    where, params = "", {}
    if month is not None:
        where, params = "WHERE month = {month:Date}", {"month": parse_month(month)}
    rows = wh.query(
        f"SELECT {', '.join(VERSION_COLUMNS)} FROM rollup_versions FINAL {where}"
        " ORDER BY month, version",
        params,
    )
    return [_version(row) for row in rows]


def latest_versions(wh: Warehouse) -> dict[str, Version]:
    """The latest version of every month that has one, by month."""
    return {v.month: v for v in versions(wh)}


def latest_version(wh: Warehouse, month: str) -> Version | None:
    """The latest version of ``month``, if any."""
    found = versions(wh, month)
    return found[-1] if found else None


def version_rows(wh: Warehouse, version: Version) -> list[RollupRow]:
    """The exact rows of a stored version, sorted by key."""
    key = ", ".join(KEY)
    rows = wh.query(
        f"SELECT {', '.join(ROW_COLUMNS)} FROM rollup_rows FINAL"
        " WHERE month = {month:Date} AND version = {version:UInt32}"
        f" AND checksum = {{checksum:String}} ORDER BY {key}",
        {
            "month": parse_month(version.month),
            "version": version.version,
            "checksum": version.checksum,
        },
    )
    return [
        RollupRow(
            **{k: str(r[k]) for k in KEY},
            events=int(r["events"]),
            cells=tuple(int(r[c]) for c in CELLS),
            quantity=Decimal(r["quantity"]),
            units=tuple(r["units"]),
            value_usd=Decimal(r["value_usd"]),
            sessions=int(r["sessions"]),
            hours=Decimal(r["hours"]),
            cases=int(r["cases"]),
            curriculum_sessions=int(r["curriculum_sessions"]),
        )
        for r in rows
    ]


def _row_record(month: str, number: int, digest: str, row: RollupRow) -> dict[str, Any]:
    record: dict[str, Any] = {"month": parse_month(month), "version": number, "checksum": digest}
    record.update(zip(KEY, row.key, strict=True))
    record.update(row.numbers())
    del record["persons"]
    record["units"] = list(row.units)
    return record


def save(
    wh: Warehouse, rollup: Rollup, *, created_at: datetime, created_by: str, key: bytes
) -> tuple[Version, bool]:
    """Store ``rollup`` as the month's next version unless its rows equal the latest one;
    return the version in force and whether it was written now. ``key``: the hub secret."""
    digest = checksum(rollup.month, rollup.rows, key)
    latest = latest_version(wh, rollup.month)
    if latest is not None and latest.checksum == digest:
        log.info("roll-up %s unchanged: version %d stands", rollup.month, latest.version)
        return latest, False
    previous: Sequence[RollupRow] = version_rows(wh, latest) if latest else ()
    number = latest.version + 1 if latest else 1
    changes: dict[str, Any] = {
        "previous": latest.version if latest else None,
        "previous_created_at": latest.created_at.isoformat() if latest else None,
        "previous_facts_through": (
            latest.facts_through.isoformat() if latest and latest.facts_through else None
        ),
        # Version 1 changes nothing: it is the month as first rolled up.
        **diff_rows(previous, rollup.rows if latest else ()).to_json(),
    }
    version = Version(
        month=rollup.month,
        version=number,
        created_at=created_at,
        created_by=created_by,
        checksum=digest,
        row_count=len(rollup.rows),
        events=rollup.events,
        persons=rollup.persons,
        facts_through=rollup.facts_through,
        changes=changes,
        reconciliation=rollup.reconciliation.to_json(),
        differing_keys=len(rollup.reconciliation.differences),
    )
    records = [_row_record(rollup.month, number, digest, row) for row in rollup.rows]
    if records:
        wh.insert("rollup_rows", columnar("rollup_rows", ROW_COLUMNS, records))
    record = {
        **{name: getattr(version, name) for name in VERSION_COLUMNS},
        "month": parse_month(rollup.month),
        "changes": json.dumps(changes, sort_keys=True),
        "reconciliation": json.dumps(version.reconciliation, sort_keys=True),
    }
    wh.insert("rollup_versions", columnar("rollup_versions", VERSION_COLUMNS, [record]))
    log.info(
        "stored roll-up %s version %d (%d rows, %d added, %d removed, %d changed keys)",
        rollup.month,
        number,
        len(records),
        len(changes["added"]),
        len(changes["removed"]),
        len(changes["changed"]),
    )
    return version, True

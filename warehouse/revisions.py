"""Every stored revision of a batch's events, read once for the refreshes that need them.

Both the aggregates' refresh (which keys did any revision of a touched event map to, and
what does each event's winner count?) and
the first reports' refresh (which revision-1 copies of an event exist, and which one wins?)
start from the same rows: the touched events' revisions in ``fact_revisions``, found by
its primary key ``(partner_id, event_id)``. At 2,000,000 facts each of the two lookups cost
0.4-0.8 s per batch of 5,000 new events, most of it the engine's per-range cost of visiting
~6,000 ranges, so the batch reads them once (:func:`read_revisions`) and each refresh
derives what it needs with the pure functions below.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.rowsets import rows_of, tsv
from warehouse.tables import AGGREGATE_KEY, MEASURES

Row = dict[str, Any]

#: Structure of the set of touched ``(partner_id, event_id)`` pairs handed to a query.
TOUCHED_STRUCTURE = "partner_id String, event_id String"

#: What each revision row holds: its event, revision and copy (``ingested_at``, ``offset``),
#: its aggregate key (``occurred_on`` named ``day``), when it was reported, and what it counts
#: (status, the sex/age cells, the measures): the touched events' winners are summed from
#: these rows, so the aggregates' lookup reads only the other events at the touched keys.
REVISION_FIELDS: tuple[str, ...] = (
    "partner_id",
    "event_id",
    "revision",
    "ingested_at",
    "offset",
    *AGGREGATE_KEY,
    "reported_at",
    "status",
    *CELLS,
    *MEASURES,
)

#: Delays of this many days or more are counted as this many (the first reports' last slot).
LAST_DELAY = 366


def revisions_sql() -> str:
    """Every row of ``fact_revisions`` of the events in ``{touched}`` (TSV of
    :data:`TOUCHED_STRUCTURE`), with :data:`REVISION_FIELDS`; read by the primary key, so
    the cost follows the touched events, not the history."""
    select = ", ".join(
        "occurred_on AS day" if f == "day" else "`offset`" if f == "offset" else f
        for f in REVISION_FIELDS
    )
    return (
        f"SELECT {select} FROM fact_revisions WHERE (partner_id, event_id) IN"
        f" (SELECT partner_id, event_id FROM {rows_of('touched', TOUCHED_STRUCTURE)})"
    )


def read_revisions(wh: Warehouse, touched: Iterable[tuple[str, str]]) -> list[Row]:
    """The stored revisions of the touched ``(partner_id, event_id)`` events (every copy,
    before de-duplication: a copy written twice appears twice)."""
    pairs = sorted(set(touched))
    if not pairs:
        return []
    return wh.query(revisions_sql(), {"touched": tsv(pairs)})


def winners(revisions: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Per ``(partner_id, event_id)``, its winning revision among ``revisions``: the highest
    ``(revision, ingested_at, offset)``, as ``argMax`` over
    :data:`warehouse.facts.WINNER_ORDER` picks it in the engine."""
    best: dict[tuple[str, str], Mapping[str, Any]] = {}
    for revision in revisions:
        event = (revision["partner_id"], revision["event_id"])
        held = best.get(event)
        if held is None or _order(revision) > _order(held):
            best[event] = revision
    return best


def _order(revision: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return (revision["revision"], revision["ingested_at"], revision["offset"])


def touched_keys(revisions: Iterable[Mapping[str, Any]]) -> list[Row]:
    """Every aggregate key the revisions map to (``AGGREGATE_KEY`` columns), with the latest
    ``reported_at`` and ``ingested_at`` among its revisions (``last_reported_at``,
    ``last_ingested_at``), sorted by key."""
    keys: dict[tuple[Any, ...], Row] = {}
    for revision in revisions:
        key = tuple(revision[k] for k in AGGREGATE_KEY)
        row = keys.get(key)
        if row is None:
            keys[key] = {
                **dict(zip(AGGREGATE_KEY, key, strict=True)),
                "last_reported_at": revision["reported_at"],
                "last_ingested_at": revision["ingested_at"],
            }
        else:
            row["last_reported_at"] = max(row["last_reported_at"], revision["reported_at"])
            row["last_ingested_at"] = max(row["last_ingested_at"], revision["ingested_at"])
    return [keys[key] for key in sorted(keys)]


def delay_days(day: date, reported_at: datetime) -> int:
    """Days from ``day`` to the (UTC) day it was reported, 0 if reported before it, at most
    :data:`LAST_DELAY`: what ``least(greatest(dateDiff('day', occurred_on,
    toDate(reported_at)), 0), 366)`` gives in the engine."""
    return min(max((reported_at.astimezone(UTC).date() - day).days, 0), LAST_DELAY)


def first_copies(
    revisions: Iterable[Mapping[str, Any]], events: Iterable[tuple[str, str]]
) -> list[Row]:
    """Per event of ``events`` with a stored revision 1: the kind, day and delay of the copy
    that wins (the last written: highest ``(ingested_at, offset)``, as ``facts`` keeps it)
    and every ``(kind, day)`` a copy names (``named``, sorted), ordered by event."""
    wanted = set(events)
    copies: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for revision in revisions:
        event = (revision["partner_id"], revision["event_id"])
        if revision["revision"] == 1 and event in wanted:
            copies.setdefault(event, []).append(revision)
    result: list[Row] = []
    for (partner_id, event_id), rows in sorted(copies.items()):
        winner = max(rows, key=lambda r: (r["ingested_at"], r["offset"]))
        result.append(
            {
                "partner_id": partner_id,
                "event_id": event_id,
                "kind": winner["kind"],
                "day": winner["day"],
                "delay_days": delay_days(winner["day"], winner["reported_at"]),
                "named": sorted({(r["kind"], r["day"]) for r in rows}),
            }
        )
    return result

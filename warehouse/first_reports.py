"""When events were first reported: the grain behind the partner scorecard's timeliness.

Timeliness is the share of a partner's events whose first report (revision 1) came within a
chosen number of days of the day they happened. Counting distinct events over a year of
facts took 7-11 s at 10 M facts (``uniqExact`` of every event id), so the refresh keeps:

- ``first_reports``: one row per event, its revision 1 (the copy that wins as in
  :data:`warehouse.facts.WINNER_ORDER`, when a partner sent revision 1 more than once), at
  ``(partner_id, kind, occurred_on, event_id)``, with its delay in days;
- ``first_report_days``: per partner, kind and day, the events and, by delay, how many were
  first reported that many days after the day (``by_delay[d + 1]``; the last slot,
  :data:`LAST_DELAY`, holds every delay of a year or more).

Both are recomputed for exactly what a batch touched, never added to: the revision-1 copies
of the batch's events are read from ``fact_revisions`` (ordered by event), the winner is
written and every other day a copy named is tombstoned (``is_deleted``), then each touched
day is recomputed from ``first_reports`` (ordered by that day). So a retried batch, a
duplicate, a revision 1 sent again with another day, or two writers racing give what a
recomputation from the facts gives (:func:`differing`). SGBV events are left out: their
figures leave only through the disclosure engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from disclosure.rules import SENSITIVE_KIND
from warehouse.client import Warehouse
from warehouse.revisions import LAST_DELAY as LAST_DELAY
from warehouse.revisions import Row, first_copies, read_revisions
from warehouse.rowsets import rows_of, tsv
from warehouse.tables import FIRST_REPORT_COLUMNS

SGBV = SENSITIVE_KIND
_CELLS = "partner_id String, kind String, day Date"
_DELAY = f"least(greatest(dateDiff('day', occurred_on, toDate(reported_at)), 0), {LAST_DELAY})"


def days_sql(source: str = "first_reports FINAL", where: str = "") -> str:
    """``first_report_days`` rows (but ``updated_at``) computed from ``source`` rows holding
    ``partner_id, kind, occurred_on, delay_days``, optionally filtered by ``where``."""
    condition = f" WHERE {where}" if where else ""
    return (
        "SELECT partner_id, kind, day, sum(n) AS events,"
        " groupArrayInsertAt(toUInt64(0))(n, toUInt32(delay_days)) AS by_delay"
        " FROM (SELECT partner_id, kind, occurred_on AS day, delay_days, count() AS n"
        f" FROM {source}{condition} GROUP BY partner_id, kind, occurred_on, delay_days)"
        " GROUP BY partner_id, kind, day"
    )


def refresh_days_sql() -> str:
    """``INSERT`` of the ``first_report_days`` rows of the days in ``{cells}``, recomputed from
    ``first_reports``: a day left with no event gets zeros (its row replaced, not kept)."""
    recomputed = days_sql(
        "first_reports FINAL",
        f"(partner_id, kind, occurred_on) IN (SELECT * FROM {rows_of('cells', _CELLS)})",
    )
    return (
        "INSERT INTO first_report_days SELECT c.partner_id, c.kind, c.day,"
        " coalesce(r.events, 0), coalesce(r.by_delay, []), now64(6)"
        f" FROM {rows_of('cells', _CELLS)} AS c LEFT JOIN ({recomputed}) AS r"
        " ON r.partner_id = c.partner_id AND r.kind = c.kind AND r.day = c.day"
        " SETTINGS join_use_nulls = 1"
    )


def refresh_first_reports(
    wh: Warehouse,
    touched: Iterable[tuple[str, str]],
    revisions: Sequence[Row] | None = None,
) -> int:
    """Rewrite the first reports of the ``(partner_id, event_id)`` events whose revision 1 a
    batch wrote, and recompute every day any copy of it named; return the days rewritten.
    ``revisions`` holds (at least) those events' stored revisions when the caller has read
    them (:func:`warehouse.revisions.read_revisions`, shared with the aggregates)."""
    events = sorted(set(touched))
    if not events:
        return 0
    if revisions is None:
        revisions = read_revisions(wh, events)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    cells: set[tuple[str, str, Any]] = set()
    for copy in first_copies(revisions, events):
        winner = (copy["kind"], copy["day"])
        for kind, day in copy["named"]:
            if kind == SGBV:
                continue
            cells.add((copy["partner_id"], kind, day))
            live = (kind, day) == winner
            rows.append(
                {
                    "partner_id": copy["partner_id"],
                    "kind": kind,
                    "occurred_on": day,
                    "event_id": copy["event_id"],
                    "delay_days": copy["delay_days"] if live else 0,
                    "version": now,
                    "is_deleted": 0 if live else 1,
                }
            )
    if not rows:
        return 0
    wh.insert("first_reports", {c: [r[c] for r in rows] for c in FIRST_REPORT_COLUMNS})
    wh.command(refresh_days_sql(), {"cells": tsv(sorted(cells))})
    return len(cells)


#: A GROUP BY over every event spills to disk past this, not over the engine's 1 GiB a query.
_SPILL = " SETTINGS max_bytes_before_external_group_by = 268435456"


def winners_from_facts_sql() -> str:
    """Per event with a revision 1 in ``facts`` (SGBV left out): its winning copy's
    ``partner_id, kind, occurred_on, event_id, delay_days``."""
    winners = (
        "SELECT partner_id, event_id, tupleElement(w, 1) AS kind,"
        " tupleElement(w, 2) AS occurred_on, tupleElement(w, 3) AS reported_at FROM ("
        " SELECT partner_id, event_id, argMax(tuple(kind, occurred_on, reported_at),"
        " (ingested_at, `offset`)) AS w FROM facts WHERE revision = 1"
        " GROUP BY partner_id, event_id)"
    )
    return (
        f"SELECT partner_id, kind, occurred_on, event_id, {_DELAY} AS delay_days"
        f" FROM ({winners}) WHERE kind != '{SGBV}'"
    )


def from_facts_sql() -> str:
    """``first_report_days`` computed straight from ``facts`` (every revision-1 copy, the
    winner per event), SGBV left out: the independent recomputation :func:`differing` uses."""
    return days_sql(f"({winners_from_facts_sql()})")


def derive(wh: Warehouse) -> None:
    """Fill empty first-report tables from the facts (what the refreshes would leave)."""
    wh.command(
        "INSERT INTO first_reports SELECT partner_id, kind, occurred_on, event_id, delay_days,"
        f" now64(6), 0 FROM ({winners_from_facts_sql()}){_SPILL}"
    )
    wh.command(
        "INSERT INTO first_report_days SELECT *, now64(6)"
        f" FROM ({days_sql('first_reports FINAL')}){_SPILL}"
    )


def differing(wh: Warehouse) -> int:
    """How many ``(partner_id, kind, day)`` rows of ``first_report_days`` (those with events)
    differ from a recomputation from the facts; 0 when the grain is exact."""
    stored = (
        "SELECT partner_id, kind, day, events, by_delay FROM first_report_days FINAL"
        " WHERE events > 0"
    )
    rows = wh.query(
        f"SELECT count() AS n FROM (({stored}) EXCEPT ({from_facts_sql()})"
        f" UNION ALL (({from_facts_sql()}) EXCEPT ({stored}))){_SPILL}"
    )
    return int(rows[0]["n"])

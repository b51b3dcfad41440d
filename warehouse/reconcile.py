"""Reconciliation that scales: the aggregates checked against the facts one month at a time,
and only the months that changed since they were last checked.

For a month, :func:`month_from_aggregates` reads the month's range of ``daily_aggregates``
(ordered by day) and :func:`month_from_facts` recomputes the same totals from the facts: the
events with any revision in the month (``fact_keys``, ordered by day), the winner of each
among all its revisions (``fact_revisions``, by event), kept when it is active and in the
month. Both cost what the month holds, not what the history holds.

:func:`reconcile` checks the months whose ``activity_marks.marked_at`` (written by every
refresh for the months of the keys it rewrote) is newer than the marks it last covered, and
records each check in ``reconciliations``. A month changed while it is being checked is
checked again next time (its mark is newer than the one recorded). :func:`reconcile_changed`
adds the standing of every month checked before: what the demo and ``partnerhub warehouse
totals`` report.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.facts import columnar, monthly_sql, renamed
from warehouse.tables import RECONCILIATION_COLUMNS
from warehouse.winners import IN_RANGE, month_range, winners_sql

#: The winner's fields a monthly total needs.
_FIELDS = ("kind", "region", "population_type", *CELLS)


def month_from_aggregates(wh: Warehouse, month: date) -> list[dict[str, Any]]:
    """The month's rows of :func:`warehouse.facts.totals_by_month`."""
    source = f"daily_aggregates FINAL WHERE {IN_RANGE}"
    return renamed(wh.query(monthly_sql(source, "sum(events)"), month_range(month)))


def month_from_facts(wh: Warehouse, month: date) -> list[dict[str, Any]]:
    """The month's rows of :func:`warehouse.facts.totals_from_facts`, from the month's
    winners (:func:`warehouse.winners.winners_sql`)."""
    source = f"({winners_sql(_FIELDS)})"
    return renamed(wh.query(monthly_sql(source, "count()"), month_range(month)))


@dataclass(frozen=True)
class MonthCheck:
    """One month reconciled: how many totals rows, how many differ, how long it took."""

    month: date
    totals: int
    differing: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.differing == 0


def differing_rows(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> int:
    """Rows in one list and not in the other (both ways)."""
    left = {tuple(sorted(r.items())) for r in a}
    right = {tuple(sorted(r.items())) for r in b}
    return len(left ^ right)


def check_month(wh: Warehouse, month: date) -> MonthCheck:
    """Compare one month's aggregates with its facts."""
    started = time.perf_counter()
    aggregates = month_from_aggregates(wh, month)
    facts = month_from_facts(wh, month)
    return MonthCheck(
        month, len(aggregates), differing_rows(aggregates, facts), time.perf_counter() - started
    )


def pending_months(wh: Warehouse) -> dict[date, datetime]:
    """Months changed since their last check, with the newest mark of each."""
    rows = wh.query(
        "SELECT m.month AS month, m.marked AS marked FROM"
        " (SELECT month, max(marked_at) AS marked FROM activity_marks GROUP BY month) AS m"
        " LEFT JOIN (SELECT month, marks_through FROM reconciliations FINAL) AS r USING (month)"
        " WHERE m.marked > r.marks_through ORDER BY month"
        " SETTINGS join_use_nulls = 0"
    )
    return {row["month"]: row["marked"] for row in rows}


def reconcile(wh: Warehouse, months: Iterable[date] | None = None) -> list[MonthCheck]:
    """Check the months changed since they were last checked (or exactly ``months``), record
    each check in ``reconciliations`` and return them, oldest month first."""
    if months is None:
        pending = pending_months(wh)
    else:
        marks = {
            r["month"]: r["marked"]
            for r in wh.query(
                "SELECT month, max(marked_at) AS marked FROM activity_marks GROUP BY month"
            )
        }
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        pending = {m.replace(day=1): marks.get(m.replace(day=1), epoch) for m in months}
    checks = [check_month(wh, month) for month in sorted(pending)]
    if checks:
        now = datetime.now(UTC)
        rows = [
            {
                "month": c.month,
                "checked_at": now,
                "marks_through": pending[c.month],
                "totals": c.totals,
                "differing": c.differing,
            }
            for c in checks
        ]
        wh.insert("reconciliations", columnar("reconciliations", RECONCILIATION_COLUMNS, rows))
    return checks


@dataclass(frozen=True)
class Standing:
    """Where the reconciliation stands after the changed months were checked: those checks,
    and every checked month whose latest check found differences."""

    checked: tuple[MonthCheck, ...]
    months: int
    differing: tuple[date, ...]

    @property
    def ok(self) -> bool:
        return not self.differing


def reconcile_changed(wh: Warehouse) -> Standing:
    """Check the months changed since their last check (:func:`reconcile`), then read every
    month's latest check: the whole history's answer at the cost of the changed months."""
    checked = tuple(reconcile(wh))
    rows = wh.query("SELECT month, differing FROM reconciliations FINAL ORDER BY month")
    differing = tuple(row["month"] for row in rows if row["differing"])
    return Standing(checked, len(rows), differing)


def months_held(wh: Warehouse) -> list[date]:
    """Every month any fact revision maps to (``fact_keys`` is ordered by day)."""
    rows = wh.query("SELECT DISTINCT toStartOfMonth(occurred_on) AS month FROM fact_keys")
    return sorted(row["month"] for row in rows)

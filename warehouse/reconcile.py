"""Reconciliation that scales: the aggregates checked against the facts one month at a time,
and only the months that changed since they were last checked.

For a month, :func:`month_from_aggregates` reads the month's range of ``daily_aggregates``
(ordered by day) and :func:`month_from_facts` recomputes the same totals from the facts: the
events with any revision in the month (``fact_keys``, ordered by day), the winner of each
among all its revisions (``fact_revisions``, by event), kept when it is active and in the
month. Both cost what the month holds, not what the history holds. The dashboards' month
grains are checked in the same pass: :func:`month_from_monthly` (``monthly_aggregates``,
``monthly_groups``, ``monthly_totals``) must equal :func:`month_summed_daily` (the month's
daily aggregates summed per the grain's key, SGBV left out, as the grains hold them).

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
from warehouse.monthly import SGBV
from warehouse.tables import (
    GROUPS_KEY,
    MEASURES,
    MONTH_KEY,
    RECONCILIATION_COLUMNS,
    TOTALS_KEY,
    from_indicator,
)
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


#: The columns of each month grain's key besides the month, by table.
GRAINS: dict[str, tuple[str, ...]] = {
    "monthly_aggregates": MONTH_KEY[1:],
    "monthly_groups": tuple(k for k in GROUPS_KEY if k != "month"),
    "monthly_totals": tuple(k for k in TOTALS_KEY if k != "month"),
}


def _grain_sql(
    source: str, month: str, key: Sequence[str], where: str = "1", derived: bool = False
) -> str:
    """SQL: per ``month`` and ``key`` of ``source`` rows matching ``where``, every total;
    all-zero groups left out. ``derived``: ``source`` holds daily rows, from which the key
    columns a grain computes are computed (:func:`warehouse.tables.from_indicator`)."""
    values = ("events", *CELLS, *MEASURES)
    columns = ", ".join(from_indicator(k) if derived else k for k in key)
    sums = ", ".join(f"sum({c}) AS total_{c}" for c in values)
    nonzero = " OR ".join(f"total_{c} != 0" for c in values)
    group = ", ".join(("month_start", *key))
    return (
        f"SELECT {month} AS month_start, {columns}, {sums}"
        f" FROM {source} WHERE {where} GROUP BY {group} HAVING {nonzero} ORDER BY {group}"
    )


def _params(month: date | None) -> dict[str, date] | None:
    """The query parameters of ``month``, or none for the whole history."""
    return None if month is None else month_range(month)


def _monthly_sql(month: date | None, table: str) -> str:
    where = "1" if month is None else "month = {start:Date}"
    return _grain_sql(f"{table} FINAL", "month", GRAINS[table], where)


def _summed_daily_sql(month: date | None, table: str) -> str:
    where = f"kind != '{SGBV}'" + ("" if month is None else f" AND {IN_RANGE}")
    return _grain_sql("daily_aggregates FINAL", "toStartOfMonth(day)", GRAINS[table], where, True)


def month_from_monthly(
    wh: Warehouse, month: date | None = None, table: str = "monthly_aggregates"
) -> list[dict[str, Any]]:
    """The month's rows of a month grain (``table``, a key of :data:`GRAINS`; every month's
    without ``month``), every total per key."""
    return wh.query(_monthly_sql(month, table), _params(month))


def month_summed_daily(
    wh: Warehouse, month: date | None = None, table: str = "monthly_aggregates"
) -> list[dict[str, Any]]:
    """What :func:`month_from_monthly` must return for ``table``: the daily aggregates
    summed per its key, SGBV left out."""
    return wh.query(_summed_daily_sql(month, table), _params(month))


#: The totals held as Float64 (the rest are UInt64): the same values summed in another order
#: may differ in their last bits, so they are compared within 1e-9 relative (or absolute).
FLOAT_TOTALS: tuple[str, ...] = ("quantity", "value_usd", "hours")


def _same_sql(column: str) -> str:
    left, right = f"l.total_{column}", f"r.total_{column}"
    if column not in FLOAT_TOTALS:
        return f"{left} = {right}"
    return f"abs({left} - {right}) <= greatest(1e-9 * greatest(abs({left}), abs({right})), 1e-9)"


def differing_grain_sql(left: str, right: str, key: Sequence[str]) -> str:
    """SQL of one row: ``alone``, the groups (``month_start`` and ``key``) only one of two
    :func:`_grain_sql` queries returns, and ``changed``, those both return with other totals.

    The comparison runs in the engine: at 10 M facts a month grain holds ~500,000 rows a
    month, which as Python dicts on both sides took more than a GiB of the process."""
    same = " AND ".join(_same_sql(c) for c in ("events", *CELLS, *MEASURES))
    keys = ", ".join(("month_start", *key))
    return (
        "SELECT countIf(l.present != r.present) AS alone,"
        f" countIf(l.present AND r.present AND NOT ({same})) AS changed"
        f" FROM (SELECT *, 1 AS present FROM ({left})) AS l"
        f" FULL JOIN (SELECT *, 1 AS present FROM ({right})) AS r USING ({keys})"
        " SETTINGS join_use_nulls = 0"
    )


def grain_differing(wh: Warehouse, month: date | None = None) -> int:
    """Rows of every month grain (of ``month``, or all) that differ from the daily
    aggregates summed the same way: each group only one side has counts once, each group
    both have with other totals twice (as :func:`differing_rows` counts a changed row)."""
    found = 0
    for table, key in GRAINS.items():
        sql = differing_grain_sql(_monthly_sql(month, table), _summed_daily_sql(month, table), key)
        row = wh.query(sql, _params(month))[0]
        found += int(row["alone"]) + 2 * int(row["changed"])
    return found


def month_grain_differing(wh: Warehouse) -> int:
    """The whole of every month grain against the whole of the daily aggregates."""
    return grain_differing(wh)


@dataclass(frozen=True)
class MonthCheck:
    """One month reconciled: how many totals rows, how many differ (aggregates against facts,
    plus the month grain against the daily aggregates: ``monthly_differing``), how long it
    took."""

    month: date
    totals: int
    differing: int
    seconds: float
    monthly_differing: int = 0

    @property
    def ok(self) -> bool:
        return self.differing == 0


def differing_rows(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> int:
    """Rows in one list and not in the other (both ways)."""
    left = {tuple(sorted(r.items())) for r in a}
    right = {tuple(sorted(r.items())) for r in b}
    return len(left ^ right)


def check_month(wh: Warehouse, month: date) -> MonthCheck:
    """Compare one month's aggregates with its facts, and its month grain with its daily
    aggregates."""
    started = time.perf_counter()
    aggregates = month_from_aggregates(wh, month)
    facts = month_from_facts(wh, month)
    monthly = grain_differing(wh, month)
    differing = differing_rows(aggregates, facts) + monthly
    return MonthCheck(
        month, len(aggregates), differing, time.perf_counter() - started, monthly_differing=monthly
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

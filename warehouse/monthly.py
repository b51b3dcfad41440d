"""The month grains the dashboards read: ``monthly_aggregates``, the daily aggregates summed
per month key (:data:`warehouse.tables.MONTH_KEY`); ``monthly_groups``, those summed per the
indicator's first part (:data:`warehouse.tables.GROUPS_KEY`); and ``monthly_totals``, summed
without the indicator (:data:`warehouse.tables.TOTALS_KEY`). SGBV is left out of all three.

It is maintained by the same bounded refresh as the daily aggregates, never by deltas: the
daily rows a batch rewrote are copied to ``month_group_days`` (the daily rows ordered by their
monthly-totals group, then indicator and day), and for each totals group a touched month key
belongs to, all three grains are recomputed from one read of the group's daily rows there
(one short range): the month rows summed in the engine, the groups and the totals summed from
those in Python. A retried batch, a duplicate, a correction arriving out of order or two
writers racing give what a recomputation from the daily aggregates gives, as they do for the
daily rows themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from disclosure.rules import SENSITIVE_KIND
from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.rowsets import rows_of, tsv
from warehouse.tables import (
    AGGREGATE_KEY,
    GROUPS_KEY,
    MEASURES,
    MONTH_DAY_COLUMNS,
    MONTH_KEY,
    MONTHLY_COLUMNS,
    MONTHLY_GROUP_COLUMNS,
    MONTHLY_TOTAL_COLUMNS,
    TOTALS_KEY,
    from_indicator,
)

#: SGBV rows never reach the month grain: its figures leave only through the disclosure
#: engine (docs/sgbv.md), so the dashboards' table cannot hold them.
SGBV = SENSITIVE_KIND
#: Every value a month grain sums, in the order of its columns.
_SUMMED: tuple[str, ...] = ("events", *CELLS, *MEASURES)
_SUMS = ", ".join(f"sum({c})" for c in _SUMMED)
TOTALS_KEY_STRUCTURE = ", ".join(f"{k} {'Date' if k == 'month' else 'String'}" for k in TOTALS_KEY)


class _Above(NamedTuple):
    """A grain summed from the one below it per a coarser key (the bulk derivation)."""

    table: str
    columns: tuple[str, ...]
    source: str
    key: tuple[str, ...]

    def sql(self, where: str) -> str:
        """``INSERT ... SELECT`` of the sums of ``source FINAL`` rows matching ``where``."""
        selected = ", ".join(from_indicator(k) for k in self.key)
        return (
            f"INSERT INTO {self.table} ({', '.join(self.columns)})"
            f" SELECT {selected}, {_SUMS}, now64(6) FROM {self.source} FINAL{where}"
            f" GROUP BY {', '.join(self.key)}"
        )


#: The grains above the month rows, each summed from the one before, as the bulk derivation
#: fills them (the refresh sums all three from one read: :func:`refresh_monthly`).
_ABOVE = (
    _Above("monthly_groups", MONTHLY_GROUP_COLUMNS, "monthly_aggregates", GROUPS_KEY),
    _Above("monthly_totals", MONTHLY_TOTAL_COLUMNS, "monthly_groups", TOTALS_KEY),
)


def grain_columns(
    rows: Sequence[Mapping[str, Any]], key: Sequence[str], updated_at: datetime
) -> dict[str, list[Any]]:
    """Rows of ``key`` columns and ``total_<column>`` sums summed per ``key`` (each row is its
    own group when ``key`` is the rows' whole key), as the columns of a month grain: ``key``,
    the :data:`_SUMMED` columns and ``updated_at``."""
    sums: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        group = tuple(row[k] for k in key)
        values = [row[f"total_{c}"] for c in _SUMMED]
        held = sums.get(group)
        sums[group] = values if held is None else [a + b for a, b in zip(held, values, strict=True)]
    groups = sorted(sums)
    columns: dict[str, list[Any]] = {k: [g[i] for g in groups] for i, k in enumerate(key)}
    for i, name in enumerate(_SUMMED):
        columns[name] = [sums[g][i] for g in groups]
    columns["updated_at"] = [updated_at] * len(groups)
    return columns


def totals_groups(month_keys: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The distinct :data:`TOTALS_KEY` groups of month keys (in :data:`MONTH_KEY` order)."""
    positions = [MONTH_KEY.index(k) for k in TOTALS_KEY]
    return sorted({tuple(key[i] for i in positions) for key in month_keys})


def open_rows(columns: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The daily rows (columns of ``AGGREGATE_COLUMNS``) that are not SGBV."""
    keep = [i for i, kind in enumerate(columns["kind"]) if kind != SGBV]
    return {name: [columns[name][i] for i in keep] for name in MONTH_DAY_COLUMNS}


def month_groups(columns: Mapping[str, Sequence[Any]]) -> list[tuple[Any, ...]]:
    """The distinct month keys of daily rows given as columns, sorted."""
    days = columns["day"]
    rest = [columns[k] for k in AGGREGATE_KEY[1:]]
    groups = {(day.replace(day=1), *(c[i] for c in rest)) for i, day in enumerate(days)}
    return sorted(groups)


def group_days_sql() -> str:
    """``SELECT`` of the month rows of every month key in the :data:`TOTALS_KEY` groups in
    ``{totals}`` (TSV of :data:`TOTALS_KEY_STRUCTURE`): their daily rows in
    ``month_group_days FINAL`` (ordered with the group as its prefix: each group is one short
    range) summed per month key, with the indicator's group. Sums are named
    ``total_<column>`` (an alias equal to a column name would shadow the column)."""
    rest = ", ".join(MONTH_KEY[1:])
    group = ", ".join("toStartOfMonth(day)" if k == "month" else k for k in TOTALS_KEY)
    sums = ", ".join(f"sum({c}) AS total_{c}" for c in _SUMMED)
    return (
        f"SELECT toStartOfMonth(day) AS month, {rest}, {from_indicator('indicator_group')},"
        f" {sums} FROM month_group_days FINAL"
        f" WHERE ({group}) IN (SELECT * FROM {rows_of('totals', TOTALS_KEY_STRUCTURE)})"
        f" GROUP BY month, {rest}"
    )


def refresh_monthly(wh: Warehouse, daily: Mapping[str, Sequence[Any]]) -> int:
    """Copy the daily rows a refresh just wrote (``daily``: columns of ``AGGREGATE_COLUMNS``)
    to ``month_group_days``, then recompute every month grain of the totals groups their
    month keys belong to; SGBV rows are left out. Return how many month rows were rewritten.

    A totals group's month rows, groups and total all come from one read of its daily rows,
    so the three grains are written from the same facts. The version is taken before the
    read, so of two writers the one whose read started last wins, as with the engine's
    ``now64()``.
    """
    rows = open_rows(daily)
    if not rows["day"]:
        return 0
    wh.insert("month_group_days", rows)
    totals = totals_groups(month_groups(rows))
    updated_at = datetime.now(UTC)
    months = wh.query(group_days_sql(), {"totals": tsv(totals)})
    wh.insert("monthly_aggregates", grain_columns(months, MONTH_KEY, updated_at))
    wh.insert("monthly_groups", grain_columns(months, GROUPS_KEY, updated_at))
    wh.insert("monthly_totals", grain_columns(months, TOTALS_KEY, updated_at))
    return len(months)


def derive_monthly_sql(month: str = "") -> list[str]:
    """The statements that fill ``month_group_days`` and the month grains from ``daily_aggregates``
    (what the migrations do once; the benchmarks' bulk years use it), for the month ``month``
    (``YYYY-MM-DD`` of its first day) or, without, every month."""
    daily = ", ".join(MONTH_DAY_COLUMNS)
    rest = ", ".join(MONTH_KEY[1:])
    in_month = f" AND toStartOfMonth(day) = '{month}'" if month else ""
    source = f"daily_aggregates FINAL WHERE kind != '{SGBV}'{in_month}"
    month_rows = f" WHERE month = '{month}'" if month else ""
    return [
        f"INSERT INTO month_group_days ({daily}) SELECT {daily} FROM {source}",
        f"INSERT INTO monthly_aggregates ({', '.join(MONTHLY_COLUMNS)})"
        f" SELECT toStartOfMonth(day) AS month, {rest}, {_SUMS}, now64(6) FROM {source}"
        f" GROUP BY month, {rest}",
        *(grain.sql(month_rows) for grain in _ABOVE),
    ]


def derive_monthly(wh: Warehouse) -> None:
    """Fill the month grains from the daily aggregates in bulk, a month at a time (a year of
    10 M facts at once exceeds the engine's 1 GiB per query)."""
    rows = wh.query("SELECT DISTINCT toStartOfMonth(day) AS month FROM daily_aggregates")
    for month in sorted(r["month"] for r in rows):
        for sql in derive_monthly_sql(month.isoformat()):
            wh.command(sql)

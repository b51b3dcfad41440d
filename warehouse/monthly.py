"""The month grains the dashboards read: ``monthly_aggregates``, the daily aggregates summed
per month key (:data:`warehouse.tables.MONTH_KEY`); ``monthly_groups``, those summed per the
indicator's first part (:data:`warehouse.tables.GROUPS_KEY`); and ``monthly_totals``, summed
without the indicator (:data:`warehouse.tables.TOTALS_KEY`). SGBV is left out of all three.

It is maintained by the same bounded refresh as the daily aggregates, never by deltas: the
daily rows a batch rewrote are copied to ``month_days`` (the daily rows ordered by a hash of
their month key), and the month row of each touched month key is recomputed from all of its
daily rows there (at most 31, one short range); then the monthly groups and the monthly total
of each touched group of :data:`warehouse.tables.TOTALS_KEY`, both from one read of its month
rows (one short range there, whose sorting key starts with the group's): the groups summed in
the engine, the totals summed from those groups in Python. A retried batch, a
duplicate, a correction arriving out of order or two writers racing give what a
recomputation from the daily aggregates gives, as they do for the daily rows themselves.
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
MONTH_KEY_STRUCTURE = "month Date, " + ", ".join(f"{k} String" for k in MONTH_KEY[1:])
#: Every value a month grain sums, in the order of its columns.
_SUMMED: tuple[str, ...] = ("events", *CELLS, *MEASURES)
_SUMS = ", ".join(f"sum({c})" for c in _SUMMED)
TOTALS_KEY_STRUCTURE = ", ".join(f"{k} {'Date' if k == 'month' else 'String'}" for k in TOTALS_KEY)


def month_hash_sql(month: str) -> str:
    """SQL: the hash ``month_days.month_hash`` holds for a month key (``month`` the SQL of its
    first day), hashed as text as the column's ``MATERIALIZED`` expression does."""
    return (
        "cityHash64("
        + ", ".join(f"toString({month if k == 'month' else k})" for k in MONTH_KEY)
        + ")"
    )


def refresh_monthly_sql() -> str:
    """``INSERT ... SELECT`` rewriting the month rows of the month keys in ``{groups}`` (TSV of
    :data:`MONTH_KEY_STRUCTURE`) as sums of their daily rows in ``month_days FINAL``."""
    key = ", ".join(MONTH_KEY)
    rest = ", ".join(MONTH_KEY[1:])
    groups = rows_of("groups", MONTH_KEY_STRUCTURE)
    return (
        f"INSERT INTO monthly_aggregates ({', '.join(MONTHLY_COLUMNS)})"
        f" SELECT toStartOfMonth(day) AS month, {rest}, {_SUMS}, now64(6)"
        " FROM month_days FINAL"
        f" WHERE month_hash IN (SELECT {month_hash_sql('month')} FROM {groups})"
        f" GROUP BY {key}"
    )


class _Above(NamedTuple):
    """A grain summed from the one below it per a coarser key."""

    table: str
    columns: tuple[str, ...]
    source: str
    key: tuple[str, ...]

    def select(self, where: str, sums: str) -> str:
        """``SELECT`` of this grain's key and ``sums`` over ``source FINAL`` rows matching
        ``where``, per key."""
        selected = ", ".join(from_indicator(k) for k in self.key)
        return (
            f"SELECT {selected}, {sums} FROM {self.source} FINAL{where}"
            f" GROUP BY {', '.join(self.key)}"
        )

    def sql(self, where: str) -> str:
        """``INSERT ... SELECT`` of the sums of ``source FINAL`` rows matching ``where``."""
        select = self.select(where, f"{_SUMS}, now64(6)")
        return f"INSERT INTO {self.table} ({', '.join(self.columns)}) {select}"


#: The grains above the month rows, each summed from the one before, in the order the refresh
#: recomputes them for the groups of :data:`TOTALS_KEY` a batch touched.
_ABOVE = (
    _Above("monthly_groups", MONTHLY_GROUP_COLUMNS, "monthly_aggregates", GROUPS_KEY),
    _Above("monthly_totals", MONTHLY_TOTAL_COLUMNS, "monthly_groups", TOTALS_KEY),
)


def refresh_groups_sql() -> str:
    """``SELECT`` of the :data:`GROUPS_KEY` groups of the :data:`TOTALS_KEY` groups in
    ``{totals}`` (TSV of :data:`TOTALS_KEY_STRUCTURE`), summed from ``monthly_aggregates
    FINAL``, whose sorting key starts with the totals group's (each is one short range): every
    group of each totals group, so their sums are its monthly total too. Sums are named
    ``total_<column>`` (an alias equal to a column name would shadow the column)."""
    within = (
        f" WHERE ({', '.join(TOTALS_KEY)}) IN"
        f" (SELECT * FROM {rows_of('totals', TOTALS_KEY_STRUCTURE)})"
    )
    return _ABOVE[0].select(within, ", ".join(f"sum({c}) AS total_{c}" for c in _SUMMED))


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


def refresh_monthly(wh: Warehouse, daily: Mapping[str, Sequence[Any]]) -> int:
    """Copy the daily rows a refresh just wrote (``daily``: columns of ``AGGREGATE_COLUMNS``)
    to ``month_days``, recompute the month rows of their month keys, then the monthly totals
    of those; SGBV rows are left out. Return how many month keys were rewritten."""
    rows = open_rows(daily)
    if not rows["day"]:
        return 0
    wh.insert("month_days", rows)
    groups = month_groups(rows)
    wh.command(refresh_monthly_sql(), {"groups": tsv(groups)})
    # One read of the touched totals groups' month rows gives both grains above: their
    # groups, and (summed again) their totals. The version is taken before the read, so of
    # two writers the one whose read started last wins, as with the engine's now64().
    updated_at = datetime.now(UTC)
    sums = wh.query(refresh_groups_sql(), {"totals": tsv(totals_groups(groups))})
    wh.insert("monthly_groups", grain_columns(sums, GROUPS_KEY, updated_at))
    wh.insert("monthly_totals", grain_columns(sums, TOTALS_KEY, updated_at))
    return len(groups)


def derive_monthly_sql(month: str = "") -> list[str]:
    """The statements that fill ``month_days`` and the month grains from ``daily_aggregates``
    (what the migrations do once; the benchmarks' bulk years use it), for the month ``month``
    (``YYYY-MM-DD`` of its first day) or, without, every month."""
    daily = ", ".join(MONTH_DAY_COLUMNS)
    rest = ", ".join(MONTH_KEY[1:])
    in_month = f" AND toStartOfMonth(day) = '{month}'" if month else ""
    source = f"daily_aggregates FINAL WHERE kind != '{SGBV}'{in_month}"
    month_rows = f" WHERE month = '{month}'" if month else ""
    return [
        f"INSERT INTO month_days ({daily}) SELECT {daily} FROM {source}",
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

"""The roll-up's queries as they were before the bounded path (issue #14): every candidate
found by scanning ``facts`` by day, winners from ``facts``. Kept as the independent
recomputation the bounded queries (:mod:`rollups.queries`) are compared with; it has the
interface :func:`rollups.compute.compute_rollup` uses, so a whole roll-up can be made either
way."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from rollups.model import DECIMAL_MEASURES, INT_MEASURES, KEY, RollupRow
from rollups.queries import ROW_FIELDS, SCALE, _row, aggregate_totals, rejected_sql
from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.facts import WINNER_ORDER, latest_revisions_sql

__all__ = ["aggregate_totals", "arrivals", "fact_rows", "message_counts", "timeliness_counts"]

_IN_RANGE = "{column} >= {{start:Date}} AND {column} < {{end:Date}}"
_CANDIDATES = "SELECT DISTINCT partner_id, event_id FROM facts WHERE " + _IN_RANGE.format(
    column="occurred_on"
)


def rows_sql() -> str:
    latest = latest_revisions_sql(f"(partner_id, event_id) IN ({_CANDIDATES})", ROW_FIELDS)
    key = ", ".join(KEY)
    sums = [f"sum({c}) AS total_{c}" for c in (*CELLS, *INT_MEASURES)]
    sums += [f"sum(toDecimal128(toString({m}), {SCALE})) AS total_{m}" for m in DECIMAL_MEASURES]
    return (
        f"SELECT {key}, count() AS total_events, {', '.join(sums)},"
        " arraySort(arrayFilter(u -> u != '', groupUniqArray(unit))) AS total_units"
        f" FROM ({latest})"
        f" WHERE status = 'active' AND {_IN_RANGE.format(column='day')}"
        f" GROUP BY {key} ORDER BY {key}"
    )


def arrivals_sql() -> str:
    return (
        "SELECT count() AS revisions, max(ingested_at) AS last_ingested_at FROM facts"
        f" WHERE (partner_id, event_id) IN ({_CANDIDATES})"
    )


def timeliness_sql() -> str:
    return (
        "SELECT partner_id, count() AS events,"
        " countIf(first_reported < {deadline:DateTime64(3, 'UTC')}) AS timely FROM ("
        " SELECT partner_id, event_id,"
        f" argMax(tuple(status, occurred_on), {WINNER_ORDER}) AS w,"
        " min(reported_at) AS first_reported"
        f" FROM facts WHERE (partner_id, event_id) IN ({_CANDIDATES})"
        " GROUP BY partner_id, event_id)"
        " WHERE tupleElement(w, 1) = 'active'"
        " AND tupleElement(w, 2) >= {start:Date} AND tupleElement(w, 2) < {end:Date}"
        " GROUP BY partner_id ORDER BY partner_id"
    )


def accepted_sql() -> str:
    return (
        "SELECT partner_id, count() AS n FROM ("
        " SELECT DISTINCT partner_id, event_id, revision FROM facts"
        f" WHERE ({_IN_RANGE.format(column='occurred_on')})"
        " OR (ingested_at >= {start_at:DateTime64(3, 'UTC')}"
        " AND ingested_at < {end_at:DateTime64(3, 'UTC')}))"
        " GROUP BY partner_id ORDER BY partner_id"
    )


def _range(start: date, end: date) -> dict[str, Any]:
    return {"start": start, "end": end}


def fact_rows(wh: Warehouse, start: date, end: date) -> list[RollupRow]:
    return [_row(r) for r in wh.query(rows_sql(), _range(start, end))]


def arrivals(wh: Warehouse, start: date, end: date) -> tuple[int, datetime | None]:
    rows = wh.query(arrivals_sql(), _range(start, end))
    count = int(rows[0]["revisions"]) if rows else 0
    return count, (rows[0]["last_ingested_at"] if count else None)


def timeliness_counts(
    wh: Warehouse, start: date, end: date, deadline: datetime
) -> dict[str, tuple[int, int]]:
    rows = wh.query(timeliness_sql(), {**_range(start, end), "deadline": deadline})
    return {str(r["partner_id"]): (int(r["events"]), int(r["timely"])) for r in rows}


def message_counts(
    wh: Warehouse, start: date, end: date, start_at: datetime, end_at: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    params = {**_range(start, end), "start_at": start_at, "end_at": end_at}
    accepted = {str(r["partner_id"]): int(r["n"]) for r in wh.query(accepted_sql(), params)}
    rejected = {str(r["partner_id"]): int(r["n"]) for r in wh.query(rejected_sql(), params)}
    return accepted, rejected

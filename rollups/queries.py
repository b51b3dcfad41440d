"""What a roll-up reads from the warehouse: SQL builders (pure) and the functions that run
them and return typed values.

Every total follows the warehouse's one rule (``warehouse.facts``): per ``(partner_id,
event_id)`` the winning revision counts, where it now is; a retracted winner counts nowhere.
An event is a candidate for a month when *any* of its revisions is in that month, so an event
a correction moved out of the month is seen, and left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from rollups.model import DECIMAL_MEASURES, INT_MEASURES, KEY, RollupRow
from schemas.vocabulary import CELLS
from warehouse.client import Warehouse
from warehouse.winners import of_candidates, winners_sql

#: The winner's fields a roll-up row needs.
ROW_FIELDS: tuple[str, ...] = (
    "status",
    "occurred_on",
    "kind",
    "region",
    "population_type",
    "origin",
    "indicator",
    *CELLS,
    "quantity",
    "unit",
    "value_usd",
    "sessions",
    "hours",
    "cases",
    "curriculum_sessions",
)

#: Decimal places kept for the decimal measures, summed exactly (a float sum depends on the
#: order of its terms, and a roll-up must not).
SCALE = 6

_IN_RANGE = "{column} >= {{start:Date}} AND {column} < {{end:Date}}"


def rows_sql() -> str:
    """Totals per :data:`KEY` of the active winners whose day is in ``[{start}, {end})``
    (:func:`warehouse.winners.winners_sql`: the range's events, not the history's)."""
    key = ", ".join(KEY)
    sums = [f"sum({c}) AS total_{c}" for c in (*CELLS, *INT_MEASURES)]
    # toString gives a float's shortest decimal form (128.7, not 128.69999...), read exactly.
    sums += [f"sum(toDecimal128(toString({m}), {SCALE})) AS total_{m}" for m in DECIMAL_MEASURES]
    return (
        f"SELECT {key}, count() AS total_events, {', '.join(sums)},"
        " arraySort(arrayFilter(u -> u != '', groupUniqArray(unit))) AS total_units"
        f" FROM ({winners_sql(ROW_FIELDS)})"
        f" GROUP BY {key} ORDER BY {key}"
    )


def aggregates_sql() -> str:
    """The same totals from ``daily_aggregates FINAL`` (the streaming path)."""
    key = ", ".join(KEY)
    sums = ", ".join(
        f"sum({c}) AS total_{c}" for c in ("events", *CELLS, *INT_MEASURES, *DECIMAL_MEASURES)
    )
    return (
        f"SELECT {key}, {sums} FROM daily_aggregates FINAL"
        f" WHERE {_IN_RANGE.format(column='day')} GROUP BY {key} ORDER BY {key}"
    )


def arrivals_sql() -> str:
    """How many fact revisions touch the month's candidates (each counted once, however often
    it was written), and when the last arrived."""
    return (
        "SELECT uniqExact(partner_id, event_id, revision) AS revisions,"
        f" max(ingested_at) AS last_ingested_at FROM fact_revisions WHERE {of_candidates()}"
    )


def timeliness_sql() -> str:
    """Per partner: the month's active events, and those first reported before ``{deadline}``
    (an event's report time is its earliest revision's ``reported_at``)."""
    winners = winners_sql((), also=("min(reported_at) AS first_reported_at",))
    return (
        "SELECT partner_id, count() AS events,"
        " countIf(first_reported_at < {deadline:DateTime64(3, 'UTC')}) AS timely"
        f" FROM ({winners}) GROUP BY partner_id ORDER BY partner_id"
    )


def accepted_sql() -> str:
    """Per partner: distinct accepted revisions about the month (their day) or received in it.

    Those about the month are the candidates' revisions in it; those received in it are
    found by their arrival time, which no table is ordered by: that part reads the arrival
    time of every revision (one narrow column), and the rest of the rows it finds.
    """
    about = (
        "SELECT partner_id, event_id, revision FROM fact_revisions"
        f" WHERE {of_candidates()} AND {_IN_RANGE.format(column='occurred_on')}"
    )
    received = (
        "SELECT partner_id, event_id, revision FROM fact_revisions"
        " WHERE ingested_at >= {start_at:DateTime64(3, 'UTC')}"
        " AND ingested_at < {end_at:DateTime64(3, 'UTC')}"
    )
    return (
        "SELECT partner_id, count() AS n FROM ("
        f" SELECT DISTINCT partner_id, event_id, revision FROM ({about} UNION ALL {received}))"
        " GROUP BY partner_id ORDER BY partner_id"
    )


def rejected_sql() -> str:
    """Per partner (of the topic): dead letters received in the month, or whose raw JSON has an
    ``occurred_on`` in the month; those of SGBV topics left out (a count of them is an SGBV
    number the disclosure engine does not publish)."""
    about = "toDateOrNull(JSONExtractString(raw, 'occurred_on'))"
    return (
        "SELECT partner_id, count() AS n FROM deadletters FINAL"
        " WHERE kind != 'sgbv'"
        " AND ((received_at >= {start_at:DateTime64(3, 'UTC')}"
        " AND received_at < {end_at:DateTime64(3, 'UTC')})"
        f" OR ({about} >= {{start:Date}} AND {about} < {{end:Date}}))"
        " GROUP BY partner_id ORDER BY partner_id"
    )


# --- runners ---------------------------------------------------------------------------------


def _range(start: date, end: date) -> dict[str, Any]:
    return {"start": start, "end": end}


def fact_rows(wh: Warehouse, start: date, end: date) -> list[RollupRow]:
    """Roll-up rows of the active events whose day is in ``[start, end)``, sorted by key."""
    return [_row(r) for r in wh.query(rows_sql(), _range(start, end))]


def _row(r: Mapping[str, Any]) -> RollupRow:
    return RollupRow(
        **{k: str(r[k]) for k in KEY},
        events=int(r["total_events"]),
        cells=tuple(int(r[f"total_{c}"]) for c in CELLS),
        quantity=Decimal(r["total_quantity"]),
        units=tuple(str(u) for u in r["total_units"]),
        value_usd=Decimal(r["total_value_usd"]),
        sessions=int(r["total_sessions"]),
        hours=Decimal(r["total_hours"]),
        cases=int(r["total_cases"]),
        curriculum_sessions=int(r["total_curriculum_sessions"]),
    )


def aggregate_totals(
    wh: Warehouse, start: date, end: date
) -> dict[tuple[str, ...], dict[str, Any]]:
    """The daily aggregates of ``[start, end)`` summed per roll-up key: key -> number -> value
    (events, cells and measures; decimals as floats, as the aggregates store them)."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for r in wh.query(aggregates_sql(), _range(start, end)):
        key = tuple(str(r[k]) for k in KEY)
        out[key] = {
            name.removeprefix("total_"): value
            for name, value in r.items()
            if name.startswith("total_")
        }
    return out


def arrivals(wh: Warehouse, start: date, end: date) -> tuple[int, datetime | None]:
    """Fact revisions touching the month's events, and the arrival time of the last one."""
    rows = wh.query(arrivals_sql(), _range(start, end))
    count = int(rows[0]["revisions"]) if rows else 0
    return count, (rows[0]["last_ingested_at"] if count else None)


def timeliness_counts(
    wh: Warehouse, start: date, end: date, deadline: datetime
) -> dict[str, tuple[int, int]]:
    """Per partner: (active events of the month, those first reported before ``deadline``)."""
    rows = wh.query(timeliness_sql(), {**_range(start, end), "deadline": deadline})
    return {str(r["partner_id"]): (int(r["events"]), int(r["timely"])) for r in rows}


def message_counts(
    wh: Warehouse, start: date, end: date, start_at: datetime, end_at: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Per partner: accepted revisions and dead letters received in or about the month."""
    params = {**_range(start, end), "start_at": start_at, "end_at": end_at}
    accepted = {str(r["partner_id"]): int(r["n"]) for r in wh.query(accepted_sql(), params)}
    rejected = {str(r["partner_id"]): int(r["n"]) for r in wh.query(rejected_sql(), params)}
    return accepted, rejected


def first_fact_day(wh: Warehouse) -> date | None:
    """The earliest day any fact revision is about (None when there are no facts)."""
    rows = wh.query("SELECT count() AS n, min(occurred_on) AS first FROM facts")
    return rows[0]["first"] if rows and rows[0]["n"] else None


def touched_months_sql() -> str:
    """Per month: the last arrival among events with a revision that arrived after
    ``{since}``, over every month any of their revisions is in (a correction may move an
    event out of a month)."""
    recent = (
        "SELECT partner_id, event_id, max(ingested_at) AS last FROM facts"
        " WHERE ingested_at > {since:DateTime64(3, 'UTC')} GROUP BY partner_id, event_id"
    )
    return (
        "SELECT formatDateTime(f.occurred_on, '%Y-%m') AS month, max(t.last) AS last_ingested_at"
        f" FROM facts AS f INNER JOIN ({recent}) AS t USING (partner_id, event_id)"
        " WHERE (f.partner_id, f.event_id) IN (SELECT partner_id, event_id FROM facts"
        " WHERE ingested_at > {since:DateTime64(3, 'UTC')})"
        " GROUP BY month ORDER BY month"
    )


def touched_months(wh: Warehouse, since: datetime) -> dict[str, datetime]:
    """Months touched by revisions that arrived after ``since``, with the last arrival."""
    rows = wh.query(touched_months_sql(), {"since": since})
    return {str(r["month"]): r["last_ingested_at"] for r in rows}

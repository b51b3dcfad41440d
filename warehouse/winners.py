"""The winners of a range of days (a month, a year to date): the events that count there,
found without scanning the facts. One implementation, shared by the reconciliation
(:mod:`warehouse.reconcile`) and the roll-ups (:mod:`rollups.queries`).

An event counts in a range when its winning revision (:data:`warehouse.facts.WINNER_ORDER`)
is active and its day is in the range. The candidates are the events with *any* revision in
the range, so an event a correction moved out is seen, and left out: they are found in
``fact_keys`` (ordered by day first, so a range of days is one range of the table) and their
revisions in ``fact_revisions`` (ordered by event, 64-row granules). The cost follows what
the range holds, not the history; ``facts`` (ordered by partner and event) is not read.

Every query built here takes the range as ``{start:Date}`` (its first day) and
``{end:Date}`` (the day after its last).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from warehouse.facts import latest_revisions_sql

#: The range condition on a winner's day (``occurred_on`` is named ``day``).
IN_RANGE = "day >= {start:Date} AND day < {end:Date}"


def month_range(month: date) -> dict[str, date]:
    """The query parameters of the month holding ``month``."""
    start = month.replace(day=1)
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return {"start": start, "end": end}


def candidates_sql() -> str:
    """``(partner_id, event_id)`` of every event with a revision whose day is in the range."""
    return (
        "SELECT DISTINCT partner_id, event_id FROM fact_keys"
        " WHERE occurred_on >= {start:Date} AND occurred_on < {end:Date}"
    )


def of_candidates() -> str:
    """The condition selecting the candidates' rows of ``fact_revisions``."""
    return f"(partner_id, event_id) IN ({candidates_sql()})"


def winners_sql(fields: Sequence[str], also: Sequence[str] = ()) -> str:
    """One row per event counting in the range: ``partner_id``, ``event_id``, ``fields`` of
    its winner (``occurred_on`` named ``day``), ``last_ingested_at`` and the aggregates in
    ``also`` over all its revisions (see :func:`warehouse.facts.latest_revisions_sql`)."""
    needed = ("status", "occurred_on", *(f for f in fields if f not in ("status", "occurred_on")))
    latest = latest_revisions_sql(of_candidates(), needed, table="fact_revisions", also=also)
    return f"SELECT * FROM ({latest}) WHERE status = 'active' AND {IN_RANGE}"

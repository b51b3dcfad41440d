"""Dashboards that open on the data's own time range, not on ``now-1y``.

A hub replaying the 2006 operation (the demo, an archive) has nothing in the last year, so a
dashboard opening on ``now-1y`` shows empty panels. Grafana cannot fit a dashboard's default
range to its data by itself, so the range is written into the dashboard when it is built or
pushed: from the first to the day after the last day in the daily aggregates (what every
dashboard reads). Dashboards with a range of their own (the pipeline's last hours) keep it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, timedelta

from dashboards.model import Dashboard
from warehouse.client import Warehouse

#: The range a dashboard opens on unless it says otherwise (``Dashboard.time_from``).
DEFAULT_FROM = "now-1y"


def data_days(wh: Warehouse) -> tuple[date, date] | None:
    """The first and last day in the daily aggregates; None when they are empty."""
    rows = wh.query(
        "SELECT count() AS n, min(day) AS first, max(day) AS last FROM daily_aggregates"
    )
    if not rows or not rows[0]["n"]:
        return None
    return rows[0]["first"], rows[0]["last"]


def grafana_range(first: date, last: date) -> tuple[str, str]:
    """Grafana's absolute ``time.from`` / ``time.to`` for whole UTC days ``first..last``."""
    end = last + timedelta(days=1)
    return f"{first.isoformat()}T00:00:00.000Z", f"{end.isoformat()}T00:00:00.000Z"


def fitted(dashboards: Sequence[Dashboard], days: tuple[date, date]) -> list[Dashboard]:
    """``dashboards`` opening on ``days``, except those with a range of their own."""
    start, end = grafana_range(*days)
    return [
        dataclasses.replace(d, time_from=start, time_to=end) if d.time_from == DEFAULT_FROM else d
        for d in dashboards
    ]

"""A month's roll-up, computed from the facts: totals, reconciliation with the aggregates,
progress against targets and the partner data-quality scorecard.

Numbers here are exact and unsuppressed: they stay in the warehouse and in memory. Everything
that leaves goes through :mod:`rollups.suppress` first.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rollups import queries
from rollups.model import RollupRow
from rollups.months import midnight, month_bounds
from rollups.quality import Scorecard, scorecard
from rollups.reconcile import Reconciliation, reconcile
from rollups.targets import TargetProgress, progress
from schemas.refdata import Partner, Target
from warehouse.client import Warehouse

log = logging.getLogger(__name__)

#: Default N of the timeliness score: events reported within N days after the month's end.
TIMELY_DAYS = 10


class RollupError(ValueError):
    """A roll-up that cannot be made as asked (a month not yet ended, a bad month name)."""


@dataclass(frozen=True)
class Rollup:
    """Everything one month's roll-up says, exact."""

    month: str
    rows: tuple[RollupRow, ...]
    #: Fact revisions touching the month's events, and when the last of them arrived.
    revisions: int
    facts_through: datetime | None
    reconciliation: Reconciliation
    progress: tuple[TargetProgress, ...]
    scorecard: Scorecard
    computed_at: datetime

    @property
    def events(self) -> int:
        return sum(row.events for row in self.rows)

    @property
    def persons(self) -> int:
        return sum(row.persons for row in self.rows)


def check_closed(month: str, now: datetime) -> tuple[date, date]:
    """The month's bounds; RollupError unless it has ended by ``now``."""
    try:
        start, end = month_bounds(month)
    except ValueError as error:
        raise RollupError(str(error)) from None
    if now < midnight(end):
        raise RollupError(f"month {month} has not ended yet (it ends {end.isoformat()} 00:00 UTC)")
    return start, end


def compute_rollup(
    wh: Warehouse,
    month: str,
    *,
    registry: Mapping[str, Partner],
    targets: Iterable[Target],
    now: datetime,
    timely_days: int = TIMELY_DAYS,
) -> Rollup:
    """The roll-up of ``month`` (``YYYY-MM``, ended by ``now``) from the warehouse as it is."""
    started = time.perf_counter()
    start, end = check_closed(month, now)
    rows = queries.fact_rows(wh, start, end)
    reconciliation = reconcile(rows, queries.aggregate_totals(wh, start, end))
    revisions, facts_through = queries.arrivals(wh, start, end)
    year_rows = rows if start.month == 1 else queries.fact_rows(wh, date(start.year, 1, 1), end)
    deadline = midnight(end) + timedelta(days=timely_days)
    accepted, rejected = queries.message_counts(wh, start, end, midnight(start), midnight(end))
    card = scorecard(
        registry,
        rows,
        queries.timeliness_counts(wh, start, end, deadline),
        accepted,
        rejected,
        timely_days=timely_days,
        deadline=deadline,
    )
    rollup = Rollup(
        month=month,
        rows=tuple(rows),
        revisions=revisions,
        facts_through=facts_through,
        reconciliation=reconciliation,
        progress=progress(targets, start.year, start.month, rows, year_rows),
        scorecard=card,
        computed_at=now,
    )
    log.info(
        "computed roll-up %s: %d rows, %d events, %d keys differ from the aggregates, %.2f s",
        month,
        len(rows),
        rollup.events,
        len(reconciliation.differences),
        time.perf_counter() - started,
    )
    return rollup

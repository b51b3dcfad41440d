"""What the worker schedules: each month's first roll-up once it is due, and a new version of
any month whose facts changed since its latest version (late reports, corrections).

The worker runs :func:`run_due_rollups` on its leader only, periodically (hourly is plenty:
with nothing due, a run reads the versions and the facts that arrived since, and writes
nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from rollups import queries
from rollups.months import due_at, month_name, months_between, parse_month, previous_month
from rollups.produce import RollupRun, run_rollup, write_outputs
from rollups.settings import RollupSettings
from rollups.store import Version, latest_versions
from streams.clock import Clock
from warehouse.client import Warehouse

log = logging.getLogger(__name__)


def latest_due_month(now: datetime, rollup_after_days: int) -> str:
    """The most recent month whose roll-up is due at ``now`` (its end + the delay has passed)."""
    month = month_name(now.date())
    while due_at(month, rollup_after_days) > now:
        month = month_name(previous_month(parse_month(month)))
    return month


def due_months(
    now: datetime,
    rollup_after_days: int,
    existing_versions: Collection[str],
    *,
    since: str | None = None,
) -> list[str]:
    """Months whose first version is due at ``now`` and not made yet, oldest first: from
    ``since`` (default: only the most recent due month) to the most recent due month."""
    latest = latest_due_month(now, rollup_after_days)
    first = since or latest
    return [m for m in months_between(first, latest) if m not in existing_versions]


def changed_months(versions: Mapping[str, Version], touched: Mapping[str, datetime]) -> list[str]:
    """Months with a version whose facts changed after it: a revision touching the month
    arrived after the newest fact the version holds (for an empty month: after the version
    was made)."""
    return sorted(
        month
        for month, last in touched.items()
        if month in versions and last > _reference(versions[month])
    )


def _reference(version: Version) -> datetime:
    """What a later arrival is compared with: the newest fact the version holds, or for a
    month that had none, when the version was made."""
    return version.facts_through or version.created_at


def store_due_rollups(wh: Warehouse, settings: RollupSettings, clock: Clock) -> list[RollupRun]:
    """Compute and store every roll-up due now, writing no file: first versions of months past
    their delay, and new versions of months whose facts changed (nothing before the first month
    with facts). Returns the runs made; render them with :func:`write_new_versions`."""
    now = clock()
    versions = latest_versions(wh)
    first_day = queries.first_fact_day(wh)
    first = month_name(first_day) if first_day else None
    if versions:
        earliest = min(_reference(v) for v in versions.values())
        changed = changed_months(versions, queries.touched_months(wh, earliest))
    else:
        changed = []
    due = due_months(now, settings.after_days, versions, since=first) if first else []
    months = sorted(set(due) | set(changed))
    runs = [run_rollup(wh, settings, month, clock=clock, created_by="schedule") for month in months]
    if months:
        log.info(
            "scheduled roll-ups: %d due, %d changed, %d new versions",
            len(due),
            len(changed),
            sum(r.created for r in runs),
        )
    return runs


def write_new_versions(
    runs: Collection[RollupRun], folder: Path, template_dirs: Sequence[Path] = ()
) -> list[RollupRun]:
    """Render the files of every newly created version into ``folder/<month>`` (the HTML from
    the office's template in ``template_dirs`` if any); needs no warehouse, so the worker calls
    it after releasing the warehouse."""
    out = []
    for run in runs:
        if run.created:
            files = write_outputs(
                run.report, folder / run.version.month, template_dirs=template_dirs
            )
            run = RollupRun(run.rollup, run.version, run.created, run.report, files)
        out.append(run)
    return out


def run_due_rollups(
    wh: Warehouse, settings: RollupSettings, clock: Clock, *, out_dir: Path | None = None
) -> list[RollupRun]:
    """Store every roll-up due now and write each new version's files into ``out_dir``
    (default ``settings.folder``), a folder per month. For callers that own the warehouse."""
    stored = store_due_rollups(wh, settings, clock)
    return write_new_versions(stored, out_dir or settings.folder, settings.template_dirs())

"""The dashboards benchmark in its small form: a generated year, every panel run and timed."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any

import pytest

from dashboards.bench import YEAR, build_year, default_period, time_panels
from dashboards.catalog import dashboards
from dashboards.common import Context
from dashboards.queries import dashboard_variables, panels, run_panel, year_context
from partnerhub.settings import HubSettings
from warehouse import first_reports
from warehouse.bench import settle
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import totals_by_month, totals_from_facts
from warehouse.reconcile import month_from_monthly, month_grain_differing, month_summed_daily

pytestmark = pytest.mark.clickhouse


def test_a_generated_year_runs_every_panel(tmp_path: Path) -> None:
    context = HubSettings(_env_file=None).dashboard_context()  # type: ignore[call-arg]
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        stored = build_year(wh, 4000, context)
        assert stored["facts"] == 4000
        assert 0 < stored["daily_aggregates"] <= 4000
        events = wh.query("SELECT sum(events) AS n FROM daily_aggregates FINAL")[0]["n"]
        assert events == 4000
        assert totals_by_month(wh) == totals_from_facts(wh)
        for month in (date(2006, m, 1) for m in range(1, 13)):  # the daily grain, summed
            assert month_from_monthly(wh, month) == month_summed_daily(wh, month), month
        assert month_grain_differing(wh) == 0  # monthly_groups and monthly_totals too
        assert stored["monthly_aggregates"] > 0
        assert first_reports.differing(wh) == 0
        _scorecard_matches_the_facts(wh, context)
        _pipeline_range_holds_writes(wh, context)
        with pytest.raises(TimeoutError):
            settle(wh, timeout=0.0)  # never three quiet polls within no time
        settle(wh, timeout=120)
        merging = "SELECT count() AS n FROM system.merges WHERE database = currentDatabase()"
        assert wh.query(merging)[0]["n"] == 0
        seen: list[int] = []
        timings = time_panels(wh, context, repeats=2, progress=seen.append)
    expected = sum(1 for d in dashboards(context) for _ in panels(d))
    assert len(timings) == len(seen) == expected
    assert all(len(t.seconds) == 2 and t.median > 0 for t in timings)


def _panel(context: Context, uid: str, title: str) -> tuple[Any, Any]:
    dashboard = next(d for d in dashboards(context) if d.uid == uid)
    return dashboard, next(p for p in panels(dashboard) if p.title.startswith(title))


def _scorecard_matches_the_facts(wh: Warehouse, context: Context) -> None:
    """The scorecard's events and timeliness, read from the first-report grain, equal the
    distinct revision-1 events counted straight from the facts (what it read before)."""
    dashboard, scorecard = _panel(context, "partnerhub-data-quality", "Partner scorecard")
    period = year_context(YEAR, months=12)
    variables = dashboard_variables(wh, dashboard, period)
    due = int(str(variables["due_days"]))
    shown = {r["partner"]: r for r in run_panel(wh, scorecard, period, variables)[0]}
    counted = wh.query(
        "SELECT partner_id, uniqExact(event_id) AS reported, uniqExactIf(event_id,"
        f" dateDiff('day', occurred_on, toDate(reported_at)) <= {due}) AS on_time"
        " FROM facts WHERE kind != 'sgbv' AND revision = 1 GROUP BY partner_id"
    )
    assert any(0 < r["on_time"] < r["reported"] for r in counted)  # some late, some on time
    for row in counted:
        card = shown[context.partners[row["partner_id"]].name]
        assert card["events"] == row["reported"]
        assert card["timeliness"] == round(100 * row["on_time"] / row["reported"], 1)


def _pipeline_range_holds_writes(wh: Warehouse, context: Context) -> None:
    """The pipeline dashboard is timed over its own range, the 6 hours up to the last write,
    and that range holds writes (a range with none would time empty scans)."""
    dashboard, throughput = _panel(context, "partnerhub-pipeline", "Throughput")
    last = wh.query("SELECT max(ingested_at) AS at FROM facts")[0]["at"].replace(tzinfo=UTC)
    window = default_period(dashboard, last)
    assert window.time_to - window.time_from == timedelta(hours=6)
    rows = run_panel(wh, throughput, window, dashboard_variables(wh, dashboard, window))[0]
    assert sum(r["facts"] for r in rows) > 0

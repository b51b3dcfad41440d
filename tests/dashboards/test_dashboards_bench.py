"""The dashboards benchmark in its small form: a generated year, every panel run and timed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dashboards.bench import build_year, time_panels
from dashboards.catalog import dashboards
from dashboards.queries import panels
from partnerhub.settings import HubSettings
from warehouse.client import EmbeddedWarehouse
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
        assert month_grain_differing(wh) == 0  # monthly_totals too
        assert stored["monthly_aggregates"] > 0
        seen: list[int] = []
        timings = time_panels(wh, context, repeats=2, progress=seen.append)
    expected = sum(1 for d in dashboards(context) for _ in panels(d))
    assert len(timings) == len(seen) == expected
    assert all(len(t.seconds) == 2 and t.median > 0 for t in timings)

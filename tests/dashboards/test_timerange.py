"""Dashboards open on the data's own days: a 2006 replay is not hidden behind now-1y."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dashboards.catalog import dashboards
from dashboards.timerange import DEFAULT_FROM, data_days, fitted, grafana_range
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from tests.support import load_simulation

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python, imported by the app
    from partnerhub.cli import app


def test_the_range_covers_whole_days() -> None:
    assert grafana_range(date(2006, 1, 3), date(2006, 3, 31)) == (
        "2006-01-03T00:00:00.000Z",
        "2006-04-01T00:00:00.000Z",
    )


def test_dashboards_with_a_range_of_their_own_keep_it() -> None:
    built = dashboards(HubSettings().dashboard_context())
    moved = fitted(built, (date(2006, 1, 1), date(2006, 12, 31)))
    for before, after in zip(built, moved, strict=True):
        if before.time_from == DEFAULT_FROM:
            assert (after.time_from, after.time_to) == grafana_range(
                date(2006, 1, 1), date(2006, 12, 31)
            )
        else:
            assert (after.time_from, after.time_to) == (before.time_from, before.time_to)
    assert sum(d.time_from == DEFAULT_FROM for d in built) >= 6


@pytest.mark.clickhouse
def test_build_fits_the_dashboards_to_the_warehouse(tmp_path: Path) -> None:
    sim = simulate(SimulationSpec(start="2006-02", end="2006-04", events=200, seed=11))
    wh = load_simulation(tmp_path / "hub" / "warehouse", sim)
    try:
        days = data_days(wh)
    finally:
        wh.close()
    assert days is not None
    assert date(2006, 2, 1) <= days[0] <= days[1] <= date(2006, 4, 30)
    assert (days[0].month, days[1].month) == (2, 4)
    out = tmp_path / "json"
    result = CliRunner().invoke(
        app,
        ["dashboards", "build", "--fit-data", "--out", str(out)],
        env={"PARTNERHUB_DATA_DIR": str(tmp_path / "hub")},
    )
    assert result.exit_code == 0, result.output
    overview = json.loads((out / "partnerhub-overview.json").read_text(encoding="utf-8"))
    assert overview["time"] == dict(zip(("from", "to"), grafana_range(*days), strict=True))
    pipeline = json.loads((out / "partnerhub-pipeline.json").read_text(encoding="utf-8"))
    assert pipeline["time"]["from"] == "now-6h"


def test_build_refuses_to_fit_without_a_warehouse(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["dashboards", "build", "--fit-data", "--out", str(tmp_path / "json")],
        env={"PARTNERHUB_DATA_DIR": str(tmp_path / "none")},
    )
    assert result.exit_code == 1
    assert "no warehouse in" in str(result.exception)
    assert not (tmp_path / "json").exists()

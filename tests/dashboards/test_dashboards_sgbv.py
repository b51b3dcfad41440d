"""SGBV suppression on the real engine, with data built to have small cells, and every panel's
SQL on an empty warehouse. (A module of its own: chdb serves one folder per process at a time,
and test_dashboards_queries.py keeps its warehouse open for its whole module.)"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from dashboards.catalog import dashboards
from dashboards.macros import QueryContext
from dashboards.model import Dashboard, Panel
from dashboards.queries import dashboard_variables, panels, run_panel, small_numbers, year_context
from dashboards.sgbv import sgbv
from dashboards.sql import suppress_cells
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from schemas.vocabulary import CELLS, IncidentType, PopulationType, SgbvActivity
from tests.support import load_simulation
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.migrate import migrate
from warehouse.tables import AGGREGATE_COLUMNS

pytestmark = pytest.mark.clickhouse

CONTEXT = HubSettings(_env_file=None).dashboard_context()  # type: ignore[call-arg]
PERIOD = year_context(2006, months=12)
REGIONS = ("KZ-75", "KZ-19", "KZ-71", "KZ-79")


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[Warehouse]:
    wh = EmbeddedWarehouse(tmp_path / "warehouse")
    try:
        migrate(wh)
        yield wh
    finally:
        wh.close()


def test_every_panel_runs_on_an_empty_warehouse(empty: Warehouse) -> None:
    """A fresh deployment: every query is valid SQL before the first event arrives."""
    for dashboard in dashboards(CONTEXT):
        variables = dashboard_variables(empty, dashboard, PERIOD)
        for panel in panels(dashboard):
            run_panel(empty, panel, PERIOD, variables)


def test_a_small_simulation_shows_no_small_number(tmp_path: Path) -> None:
    spec = SimulationSpec(start="2006-01", end="2006-12", events=150, seed=3, corrections=0.05)
    wh = load_simulation(tmp_path / "warehouse", simulate(spec))
    try:
        dashboard = sgbv(CONTEXT)
        small, hidden = small_numbers(
            wh, dashboard, PERIOD, _all(wh, dashboard), CONTEXT.sgbv_threshold
        )
        # The same panels unsuppressed (threshold 1) do show small numbers: the check bites.
        exact = sgbv(replace(CONTEXT, sgbv_threshold=1))
        shown, _ = small_numbers(wh, exact, PERIOD, _all(wh, exact), CONTEXT.sgbv_threshold)
        assert shown
    finally:
        wh.close()
    assert small == []
    assert hidden > 0, "the small simulation should have had small cells to suppress"


def _aggregate_row(
    region: str, indicator: str, day: date, people: int, **key: str
) -> dict[str, Any]:
    """One SGBV aggregate row: ``people`` women aged 18-59 in one report each."""
    row: dict[str, Any] = {
        "day": day,
        "partner_id": key.get("partner_id", "wcc_almaty"),
        "region": region,
        "kind": "sgbv",
        "population_type": key.get("population_type", "refugee"),
        "origin": "RUS",
        "indicator": indicator,
        "events": people,
        **dict.fromkeys(CELLS, 0),
        "quantity": 0.0,
        "value_usd": 0.0,
        "sessions": 0,
        "hours": 0.0,
        "cases": 0,
        "curriculum_sessions": 0,
        "updated_at": datetime(2007, 1, 1, tzinfo=UTC),
    }
    row["female_18_59"] = people
    return row


def _insert(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    wh.insert("daily_aggregates", {c: [r[c] for r in rows] for c in AGGREGATE_COLUMNS})


def _all(wh: Warehouse, dashboard: Dashboard) -> dict[str, Any]:
    return dashboard_variables(wh, dashboard, PERIOD)


def _panel(dashboard: Dashboard, title: str) -> Panel:
    return next(p for p in panels(dashboard) if p.title == title)


def test_one_small_region_hides_a_second_one_and_the_total_stays(empty: Warehouse) -> None:
    day = date(2006, 3, 1)
    _insert(
        empty,
        [
            _aggregate_row("KZ-75", "referral", day, 30),
            _aggregate_row("KZ-19", "referral", day, 3),
            _aggregate_row("KZ-71", "referral", day, 12),
        ],
    )
    dashboard = sgbv(CONTEXT)
    variables = _all(empty, dashboard)
    by_region = run_panel(empty, _panel(dashboard, "By region"), PERIOD, variables)[0]
    assert {r["region_name"]: r["people"] for r in by_region} == {
        "Almaty": 30,
        "Almaty Region": None,  # 3: below the threshold
        "Astana": None,  # 12: hidden too, or the total minus Almaty would show the 3
    }
    total = _panel(dashboard, "SGBV activity in the period")
    assert run_panel(empty, total, PERIOD, variables)[0] == [{"people": 45, "reports": 45}]
    # The period is the only selection: one narrowed to a month with a small total hides it.
    _insert(empty, [_aggregate_row("KZ-75", "referral", date(2006, 7, 3), 3)])
    july = QueryContext(
        datetime(2006, 7, 1, tzinfo=UTC), datetime(2006, 7, 31, tzinfo=UTC), PERIOD.interval
    )
    assert run_panel(empty, total, july, variables)[0] == [{"people": None, "reports": None}]


@pytest.mark.parametrize("seed", range(8))
def test_every_breakdown_follows_the_rule(empty: Warehouse, seed: int) -> None:
    """Random small SGBV aggregates: each panel equals the rule applied to its own
    unsuppressed numbers (the same dashboard built with threshold 1 hides nothing)."""
    rng = random.Random(seed)
    threshold = rng.choice([3, 5, 10])
    indicators = [a.value for a in SgbvActivity if a is not SgbvActivity.CASE_RESPONSE] + [
        f"case_response.{i.value}" for i in IncidentType
    ]
    rows = [
        _aggregate_row(
            rng.choice(REGIONS),
            rng.choice(indicators),
            date(2006, rng.randint(1, 12), rng.randint(1, 28)),
            rng.choice([1, 1, 2, 3, 4, 6, 8, 15]),
            population_type=rng.choice([p.value for p in PopulationType]),
            partner_id=f"p{i}",  # distinct keys: no two rows replace each other
        )
        for i in range(rng.randint(3, 25))
    ]
    _insert(empty, rows)
    exact = sgbv(replace(CONTEXT, sgbv_threshold=1))
    shown = sgbv(replace(CONTEXT, sgbv_threshold=threshold))
    variables = _all(empty, shown)
    for raw_panel, panel in zip(panels(exact), panels(shown), strict=True):
        raw = run_panel(empty, raw_panel, PERIOD, variables)[0]
        got = run_panel(empty, panel, PERIOD, variables)[0]
        assert len(raw) == len(got) > 0, panel.title
        # Rows are keyed by their first text or date column (the total has none: one row).
        first = raw[0]
        keys = [c for c, v in first.items() if not isinstance(v, int | float)][:1]
        columns = [c for c in first if c not in keys]
        margins = [columns] if panel.title == "By sex and age" else [[c] for c in columns]
        for margin in margins:
            # Keys sort as the SQL ranks ties: by column (sex), then by the row's key.
            cells = {(c, _key(r, keys)): r[c] for r in raw for c in margin}
            expected = suppress_cells(cells, threshold)  # type: ignore[arg-type]
            actual = {(c, _key(r, keys)): r[c] for r in got for c in margin}
            assert actual == expected, (panel.title, margin, threshold)


def _key(row: dict[str, Any], keys: list[str]) -> str:
    return str(row[keys[0]]) if keys else "total"

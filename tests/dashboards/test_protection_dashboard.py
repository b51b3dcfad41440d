"""The protection dashboard on the real engine (chdb): its panels over a simulated year equal
what the facts say, and its target matching is the roll-up's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.macros import VariableValue
from dashboards.model import Dashboard, Panel
from dashboards.protection import UID, protection
from dashboards.queries import dashboard_variables, panels, run_panel, year_context
from partnerhub.settings import HubSettings
from producers.simulator import SimulationSpec, simulate
from rollups.targets import indicator_matches
from tests.support import load_simulation
from warehouse.client import Warehouse

pytestmark = pytest.mark.clickhouse

CONTEXT = HubSettings(_env_file=None).dashboard_context()  # type: ignore[call-arg]
DASHBOARD = protection(CONTEXT)
PERIOD = year_context(2006, months=13)
#: The winners of the facts of a kind (newest revision, active), as the aggregates count them.
_WINNER = (
    "status",
    "indicator",
    "region",
    "origin",
    "cases",
    "sessions",
    "curriculum_sessions",
    "female_0_4 + female_5_11 + female_12_17 + female_18_59 + female_60_plus + male_0_4"
    " + male_5_11 + male_12_17 + male_18_59 + male_60_plus",
)
ACTIVE = (
    "SELECT "
    + ", ".join(f"tupleElement(w, {n}) AS c{n}" for n in range(1, len(_WINNER) + 1))
    + f" FROM (SELECT argMax(tuple({', '.join(_WINNER)}), (revision, ingested_at, `offset`))"
    " AS w FROM facts WHERE kind = {kind:String} GROUP BY partner_id, event_id)"
    " WHERE tupleElement(w, 1) = 'active'"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    spec = SimulationSpec(
        start="2006-01", end="2006-12", events=6000, seed=18, corrections=0.03, retractions=0.02
    )
    wh = load_simulation(tmp_path_factory.mktemp("warehouse"), simulate(spec))
    try:
        yield wh
    finally:
        wh.close()


@pytest.fixture(scope="module")
def variables(warehouse: Warehouse) -> dict[str, VariableValue]:
    return dashboard_variables(warehouse, DASHBOARD, PERIOD)


def panel(dashboard: Dashboard, title: str) -> Panel:
    return next(p for p in panels(dashboard) if p.title == title)


def rows_of(warehouse: Warehouse, variables: dict[str, VariableValue], title: str) -> Any:
    return run_panel(warehouse, panel(DASHBOARD, title), PERIOD, variables)[0]


def active(warehouse: Warehouse, kind: str) -> list[tuple[Any, ...]]:
    rows = warehouse.query(ACTIVE, {"kind": kind})
    return [tuple(r[f"c{n}"] for n in range(1, len(_WINNER) + 1)) for r in rows]


def test_rsd_pipeline_by_stage_equals_the_facts(
    warehouse: Warehouse, variables: dict[str, VariableValue]
) -> None:
    facts = active(warehouse, "rsd_casework")
    shown = rows_of(warehouse, variables, "RSD pipeline by stage")
    expected: dict[str, int] = {}
    for _, indicator, _, _, cases, *_ in facts:
        stage = indicator.split(".")[2]
        expected[stage] = expected.get(stage, 0) + cases
    assert {r["stage"]: r["all_cases"] for r in shown} == expected
    order = [r["stage"] for r in shown]
    assert order.index("counselled") < order.index("submitted") < order.index("rejected")
    state = sum(r["state_first_instance"] + r["state_appeal"] for r in shown)
    assert state == sum(f[4] for f in facts if f[1].startswith("state."))


def test_rsd_pipeline_by_origin_and_recognition_rate(
    warehouse: Warehouse, variables: dict[str, VariableValue]
) -> None:
    facts = active(warehouse, "rsd_casework")
    shown = {r["origin_name"]: r for r in rows_of(warehouse, variables, "RSD pipeline by origin")}
    afghans = shown["Afghanistan"]
    recognized = sum(f[4] for f in facts if f[3] == "AFG" and f[1].endswith(".recognized"))
    rejected = sum(f[4] for f in facts if f[3] == "AFG" and f[1].endswith(".rejected"))
    assert afghans["recognized"] == recognized
    assert afghans["rejected"] == rejected
    assert afghans["recognition_rate"] == round(100 * recognized / (recognized + rejected), 1)


def test_trainings_by_audience_and_region_equal_the_facts(
    warehouse: Warehouse, variables: dict[str, VariableValue]
) -> None:
    facts = active(warehouse, "protection_training")
    shown = rows_of(warehouse, variables, "Trainings by audience and region")
    assert sum(r["trainings"] for r in shown) == len(facts)
    assert sum(r["participants"] for r in shown) == sum(f[7] for f in facts)
    assert sum(r["in_curricula"] for r in shown) == sum(f[6] for f in facts) > 0
    regions = {(f[1].split(".")[0], CONTEXT.regions[f[2]].name_en) for f in facts}
    assert {(r["audience"], r["region_name"]) for r in shown} == regions


def test_targets_count_as_the_rollup_counts(
    warehouse: Warehouse, variables: dict[str, VariableValue]
) -> None:
    shown = rows_of(warehouse, variables, "Targets and achievements")
    assert {r["kind"] for r in shown} == {"protection_training", "rsd_casework"}
    represented = next(r for r in shown if r["target_name"].startswith("state.*.represented"))
    facts = active(warehouse, "rsd_casework")
    assert represented["achieved"] == sum(
        f[4] for f in facts if indicator_matches("state.*.represented", f[1])
    )
    assert represented["achieved"] > 0
    assert panel(DASHBOARD, "Targets and achievements") is not None
    assert DASHBOARD.uid == UID

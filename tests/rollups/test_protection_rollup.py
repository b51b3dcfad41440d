"""The roll-up's protection-training and RSD pipeline tables: from a real warehouse holding a
simulated year's quarter (the worker's transform and sink), against the simulator's messages,
in every output (HTML, XLSX, HXL), with the 2006 targets of both kinds."""

from __future__ import annotations

import csv
import functools
import io
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pytest

from partnerhub.settings import HubSettings
from producers.simulator import Simulation, SimulationSpec, simulate
from rollups import protection
from rollups.produce import RollupRun, run_rollup
from rollups.render_hxl import TAGS
from rollups.suppress import publish
from schemas.contract import ProtectionTrainingEvent, RsdCaseworkEvent, parse_event
from schemas.vocabulary import RsdStage
from tests.support import load_simulation
from warehouse.client import Warehouse

pytestmark = pytest.mark.clickhouse

SPEC = SimulationSpec(start="2006-01", end="2006-03", events=12_000, seed=18)
MONTH = "2006-03"
CLOSED = datetime(2006, 4, 20, tzinfo=UTC)


@functools.cache
def simulation() -> Simulation:
    return simulate(SPEC)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    wh = load_simulation(tmp_path_factory.mktemp("chdb"), simulation())
    try:
        yield wh
    finally:
        wh.close()


@pytest.fixture(scope="module")
def outputs(warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> RollupRun:
    hub = HubSettings(data_dir=tmp_path_factory.mktemp("hub"))
    out = tmp_path_factory.mktemp("out")
    return run_rollup(
        warehouse, hub.rollups(), MONTH, clock=lambda: CLOSED, created_by="test", out_dir=out
    )


def month_events() -> list[ProtectionTrainingEvent | RsdCaseworkEvent]:
    """The month's events of the two kinds, straight from the simulator's messages."""
    sim = simulation()
    out = []
    for index, message in enumerate(sim.messages):
        if index in sim.rejections:
            continue
        event = parse_event(message.value, today=sim.spec.today)
        if isinstance(event, ProtectionTrainingEvent | RsdCaseworkEvent) and (
            event.occurred_on.isoformat().startswith(MONTH)
        ):
            out.append(event)
    return out


def test_training_table_equals_the_months_trainings(outputs: RollupRun) -> None:
    trainings = [e for e in month_events() if isinstance(e, ProtectionTrainingEvent)]
    assert trainings, "the month must have trainings"
    lines = {line.audience: line for line in protection.training_table(outputs.report.publication)}
    total = lines.pop("all")
    by_audience = Counter(e.payload.audience.value for e in trainings)
    assert {a: line.trainings for a, line in lines.items()} == dict(by_audience)
    assert total.trainings == len(trainings)
    assert total.sessions == sum(e.payload.sessions for e in trainings)
    assert total.curriculum_sessions == sum(
        e.payload.sessions for e in trainings if e.payload.curriculum
    )
    assert total.hours == sum(Decimal(str(e.payload.hours)) for e in trainings)
    assert total.participants == sum(e.beneficiaries.total for e in trainings)
    assert total.female == sum(sum(e.beneficiaries.female.counts()) for e in trainings)


def test_rsd_pipeline_equals_the_months_cases(outputs: RollupRun) -> None:
    cases = [e for e in month_events() if isinstance(e, RsdCaseworkEvent)]
    assert cases, "the month must have RSD casework"
    lines = protection.rsd_pipeline(outputs.report.publication)
    assert [line.stage for line in lines] == [*(s.value for s in RsdStage), "all"]
    expected: Counter[tuple[str, str, str]] = Counter()
    for e in cases:
        p = e.payload
        expected[(p.stage.value, p.procedure.value, p.instance.value)] += p.cases
    got = {(line.stage, *column): n for line in lines[:-1] for column, n in line.cases.items() if n}
    assert got == dict(expected)
    assert lines[-1].total_cases == sum(e.payload.cases for e in cases)
    assert lines[-1].persons == sum(e.beneficiaries.total for e in cases)
    origins = {o.origin: o for o in protection.rsd_by_origin(outputs.report.publication)}
    decided = Counter(e.origin for e in cases if e.payload.stage is RsdStage.REJECTED)
    assert {o: origins[o].rejected for o in decided} == {
        o: sum(
            e.payload.cases for e in cases if e.origin == o and e.payload.stage is RsdStage.REJECTED
        )
        for o in decided
    }


def test_html_and_xlsx_carry_both_tables(outputs: RollupRun) -> None:
    page = outputs.files["html"].read_text(encoding="utf-8")
    assert "<h2>Protection training</h2>" in page
    assert "<h2>RSD pipeline</h2>" in page
    book = openpyxl.load_workbook(outputs.files["xlsx"])
    trainings, pipeline = book["protection training"], book["RSD pipeline"]
    total = protection.training_table(outputs.report.publication)[-1]
    last = [
        c.value
        for c in list(trainings.iter_rows())[
            len(protection.training_table(outputs.report.publication))
        ]
    ]
    assert last[:4] == ["all", total.trainings, total.sessions, total.curriculum_sessions]
    stages = [
        row[0] for row in pipeline.iter_rows(min_row=2, max_row=len(RsdStage) + 1, values_only=True)
    ]
    assert stages == [s.value for s in RsdStage]


def test_hxl_carries_the_curriculum_sessions(outputs: RollupRun) -> None:
    lines = list(csv.reader(io.StringIO(outputs.files["hxl"].read_text(encoding="utf-8"))))
    column = lines[1].index(TAGS["curriculum_sessions"][1])
    kind = lines[1].index("#sector+code")
    total = sum(int(row[column] or 0) for row in lines[2:] if row[kind] == "protection_training")
    assert total == protection.training_table(outputs.report.publication)[-1].curriculum_sessions
    assert total > 0


def test_progress_and_scorecard_include_both_kinds(outputs: RollupRun) -> None:
    progress = {
        (p.target.kind.value, p.target.indicator): p for p in outputs.report.publication.progress
    }
    sessions = progress[("protection_training", "*")]
    assert sessions.target.measure == "sessions"
    assert (
        sessions.month.value == protection.training_table(outputs.report.publication)[-1].sessions
    )
    submitted = progress[("rsd_casework", "state.first_instance.submitted")]
    assert submitted.month.value == sum(
        line.cases[("state", "first_instance")]
        for line in protection.rsd_pipeline(outputs.report.publication)
        if line.stage == "submitted"
    )
    kinds = {k.kind: k for k in outputs.report.kinds}
    assert kinds["protection_training"].mandated == ("hr_bureau", "uni_network")
    assert kinds["rsd_casework"].mandated == ("hr_bureau", "migration")
    assert set(kinds["rsd_casework"].reported) <= {"hr_bureau", "migration"}
    assert kinds["rsd_casework"].reported


def test_the_tables_are_empty_but_present_without_data() -> None:
    publication = publish([], 5, month=MONTH)
    assert [line.audience for line in protection.training_table(publication)] == ["all"]
    assert protection.rsd_pipeline(publication)[-1].total_cases == 0
    assert protection.rsd_by_origin(publication) == ()

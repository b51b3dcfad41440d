"""The bounded roll-up and reconciliation give exactly what the whole-history scans gave.

A simulation (duplicates, corrections, retractions, corrections overtaking their originals),
then late changes written sink-style: corrections moving events to other months,
retractions, and corrections written before the revision they follow. Every month's roll-up
is made both ways, with the month-bounded queries (:mod:`rollups.queries`) and with the
facts-scanning queries they replaced (:mod:`tests.rollups.scanned_queries`): the same
rows, reconciliation, scorecard, progress, checksum and files. The demo's incremental
reconciliation answers what the whole-history pair answers.
"""

from __future__ import annotations

import dataclasses
import functools
import random
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from partnerhub.settings import HubSettings
from producers.simulator import Simulation, SimulationSpec, simulate
from rollups import compute
from rollups.compute import Rollup, compute_rollup
from rollups.produce import run_rollup
from schemas.refdata import targets
from tests.rollups import scanned_queries
from tests.support import load_simulation
from warehouse.bench import correction
from warehouse.client import EmbeddedWarehouse, Warehouse
from warehouse.facts import (
    columnar,
    refresh_aggregates,
    totals_by_month,
    totals_from_facts,
    write_facts,
)
from warehouse.reconcile import reconcile_changed
from warehouse.tables import AGGREGATE_COLUMNS, FACT_COLUMNS

pytestmark = pytest.mark.clickhouse

SPEC = SimulationSpec(
    start="2006-03",
    end="2006-04",
    events=1200,
    seed=23,
    duplicates=0.03,
    corrections=0.05,
    retractions=0.03,
    invalid=0.02,
    late=0.05,
)
#: When the late changes arrive, and when the roll-ups are made (every month ended).
LATE = datetime(2006, 5, 3, 9, tzinfo=UTC)
NOW = datetime(2006, 7, 1, tzinfo=UTC)
#: The simulated months and those the late changes move events into.
MONTHS = ("2006-02", "2006-03", "2006-04", "2006-05")


@functools.cache
def simulation() -> Simulation:
    sim = simulate(SPEC)
    assert sim.truth.faults["corrections_reordered"] > 0  # corrections overtaking originals
    return sim


def _sink(wh: Warehouse, rows: list[dict[str, Any]]) -> None:
    write_facts(wh, rows)
    refresh_aggregates(wh, {(r["partner_id"], r["event_id"]) for r in rows})


def _late_changes(wh: Warehouse) -> None:
    """Corrections (a third moved across a month boundary), retractions, and for some events
    a correction written before the correction it follows."""
    rng = random.Random(5)
    names = ", ".join(f"`{c}`" for c in FACT_COLUMNS)
    facts = wh.query(f"SELECT {names} FROM facts FINAL WHERE status = 'active' ORDER BY event_id")
    picked = rng.sample(facts, 120)
    late = [correction(rng, f, LATE) for f in picked[:80]]
    for i, row in enumerate(late):
        if i % 3 == 0:  # to the same day of the month before or after
            row["occurred_on"] += timedelta(days=rng.choice((-31, 31)))
    _sink(wh, late)
    overtaken = [correction(rng, f, LATE) for f in picked[80:]]
    overtaking = [correction(rng, c, LATE + timedelta(minutes=1)) for c in overtaken]
    _sink(wh, overtaking)
    _sink(wh, overtaken)


def _loaded(folder: Path) -> Warehouse:
    wh = load_simulation(folder, simulation())
    try:
        _late_changes(wh)
    except BaseException:
        wh.close()
        raise
    return wh


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's warehouse folder, closed (chdb: one open folder at a time)."""
    folder = tmp_path_factory.mktemp("bounded") / "chdb"
    _loaded(folder).close()
    return folder


@pytest.fixture
def shared(loaded: Path) -> Iterator[Warehouse]:
    """The module's warehouse, for tests that change no facts or aggregates."""
    with EmbeddedWarehouse(loaded) as warehouse:
        yield warehouse


@pytest.fixture
def wh(tmp_path: Path) -> Iterator[Warehouse]:
    """A warehouse of the test's own."""
    warehouse = _loaded(tmp_path / "chdb")
    try:
        yield warehouse
    finally:
        warehouse.close()


@pytest.fixture
def hub(tmp_path: Path) -> HubSettings:
    return HubSettings(data_dir=tmp_path / "hub", hub_secret="test-hub-secret")


def _scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compute, "queries", scanned_queries)


def _both(wh: Warehouse, hub: HubSettings, month: str) -> tuple[Rollup, Rollup]:
    def make() -> Rollup:
        registry = hub.rollups().registry
        return compute_rollup(wh, month, registry=registry, targets=targets(), now=NOW)

    bounded = make()
    with pytest.MonkeyPatch.context() as patch:
        _scanned(patch)
        scanned = make()
    return bounded, scanned


@pytest.mark.parametrize("month", MONTHS)
def test_a_bounded_rollup_equals_the_scanned_one(
    shared: Warehouse, hub: HubSettings, month: str
) -> None:
    bounded, scanned = _both(shared, hub, month)
    assert bounded.rows, "a month with activity"
    assert any(row.units for row in bounded.rows), "units come from the lookup table too"
    # The revision count is of distinct revisions now, of stored rows before (a duplicate
    # not yet merged away counted twice); it is shown nowhere.
    assert 0 < bounded.revisions <= scanned.revisions
    assert dataclasses.replace(bounded, revisions=0) == dataclasses.replace(scanned, revisions=0)


def test_the_same_version_checksum_and_files_either_way(
    shared: Warehouse, hub: HubSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(out: Path) -> Any:
        return run_rollup(
            shared, hub.rollups(), "2006-03", clock=lambda: NOW, created_by="test", out_dir=out
        )

    with monkeypatch.context() as patch:
        _scanned(patch)
        before = run(tmp_path / "scanned")
    after = run(tmp_path / "bounded")
    assert before.created
    assert not after.created  # nothing changed: the version in force
    assert after.version.checksum == before.version.checksum
    assert after.files.keys() == before.files.keys()
    for fmt, path in after.files.items():
        assert _content(path) == _content(before.files[fmt]), fmt


def _content(path: Path) -> dict[str, bytes]:
    """A file's bytes; an XLSX's members' but the one saying when it was saved (the zip
    stamps each member, and ``docProps/core.xml`` holds, the time it was written), so the
    XLSX's line of the ``.sha256`` list is left out too."""
    if path.suffix == ".sha256":
        lines = path.read_text().splitlines()
        return {"": "\n".join(n for n in lines if not n.endswith(".xlsx")).encode()}
    if path.suffix != ".xlsx":
        return {"": path.read_bytes()}
    with zipfile.ZipFile(path) as book:
        return {n: book.read(n) for n in book.namelist() if n != "docProps/core.xml"}


def test_the_incremental_reconciliation_answers_what_the_whole_history_pair_answers(
    wh: Warehouse,
) -> None:
    whole = totals_by_month(wh) == totals_from_facts(wh)
    standing = reconcile_changed(wh)
    assert whole
    assert standing.ok
    assert {c.month for c in standing.checked} >= {date(2006, m, 1) for m in (2, 3, 4, 5)}
    assert reconcile_changed(wh).checked == ()  # nothing changed since

    row = wh.query(
        "SELECT * FROM daily_aggregates FINAL WHERE events > 0 AND day >= '2006-04-01'"
        " ORDER BY day LIMIT 1"
    )[0]
    row.update(events=row["events"] + 1, updated_at=datetime.now(UTC))
    wh.insert("daily_aggregates", columnar("daily_aggregates", AGGREGATE_COLUMNS, [row]))
    # Tampering writes no mark: the whole-history pair sees it at once, the incremental
    # check when the month is checked again (a change to it, or `warehouse reconcile --all`).
    assert totals_by_month(wh) != totals_from_facts(wh)
    (fact,) = wh.query(  # another April event, at another key: retracted
        f"SELECT {', '.join(f'`{c}`' for c in FACT_COLUMNS)} FROM facts FINAL"
        " WHERE toStartOfMonth(occurred_on) = '2006-04-01' AND occurred_on != {day:Date}"
        " ORDER BY event_id LIMIT 1",
        {"day": row["day"]},
    )
    retraction = dict(fact, revision=fact["revision"] + 1, status="retracted", ingested_at=NOW)
    _sink(wh, [retraction])
    standing = reconcile_changed(wh)
    assert not standing.ok
    assert standing.differing == (date(2006, 4, 1),)

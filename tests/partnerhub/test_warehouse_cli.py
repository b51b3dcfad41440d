"""``partnerhub warehouse``: migrate, counts, totals and bench, run through the real CLI app."""

from __future__ import annotations

import json
import random
import warnings
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas.vocabulary import CELLS
from warehouse import bench
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import refresh_aggregates, write_facts

with warnings.catch_warnings():
    # The root app imports every command group, kafka-python among them, which calls a
    # deprecated importlib API on import; until pyproject's filterwarnings ignores
    # DeprecationWarning from kafka.*, keep it from failing collection.
    warnings.simplefilter("ignore", DeprecationWarning)
    from partnerhub.cli import app

pytestmark = pytest.mark.clickhouse


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"PARTNERHUB_DATA_DIR": str(tmp_path / "hub")}


def test_migrate_prints_what_it_applied_then_nothing_to_do(env: dict[str, str]) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["warehouse", "migrate"], env=env)
    assert first.exit_code == 0, first.output
    assert "applied 0001_facts" in first.output
    assert "applied 0006_alerts" in first.output
    second = runner.invoke(app, ["warehouse", "migrate"], env=env)
    assert second.exit_code == 0, second.output
    assert second.output.strip() == "warehouse is up to date"


def test_counts_lists_every_table_with_its_rows(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["warehouse", "counts"], env=env)
    assert empty.exit_code == 0, empty.output
    assert "run `partnerhub warehouse migrate`" in empty.output
    assert runner.invoke(app, ["warehouse", "migrate"], env=env).exit_code == 0
    with EmbeddedWarehouse(tmp_path / "hub" / "warehouse") as wh:
        wh.insert(
            "deadletters",
            {
                "topic": ["partners.x.assistance.v1", "partners.x.hiv_training.v1"]
                + ["partners.x.sgbv.v1"] * 3,
                "offset": [1, 2, 3, 4, 5],
                "codes": [["missing"], [], ["missing"], ["bad_date"], []],
            },
        )
    result = runner.invoke(app, ["warehouse", "counts"], env=env)
    assert result.exit_code == 0, result.output
    lines = {line.strip("│ ").split("│")[0].strip(): line for line in result.output.splitlines()}
    # SGBV topics' dead letters are an SGBV count: left out of every count shown.
    assert lines["deadletters"].split("│")[2].strip() == "2"
    assert "0" in lines["facts"]
    assert lines["missing"].split("│")[2].strip() == "1"
    assert "(none)" in lines
    assert "bad_date" not in lines


def test_totals_suppress_small_sgbv_numbers_unless_asked_for_exact_ones(
    env: dict[str, str], tmp_path: Path
) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["warehouse", "migrate"], env=env).exit_code == 0
    rng = random.Random(4)
    facts = []
    for kind, people in (("sgbv", 2), ("assistance", 8)):
        fact = bench.random_fact(rng, first_day=date(2006, 6, 1), days=1)
        fact.update(dict.fromkeys(CELLS, 0), kind=kind, female_18_59=people)
        facts.append(fact)
    with EmbeddedWarehouse(tmp_path / "hub" / "warehouse") as wh:
        write_facts(wh, facts)
        refresh_aggregates(wh, {(f["partner_id"], f["event_id"]) for f in facts})

    exact = runner.invoke(app, ["warehouse", "totals", "--json", "--unsuppressed"], env=env)
    assert exact.exit_code == 0, exact.output
    data = json.loads(exact.output)
    assert data["totals"] == data["from_facts"]
    assert sorted((t["kind"], t["female_18_59"]) for t in data["totals"]) == [
        ("assistance", 8),
        ("sgbv", 2),
    ]
    assert data["deadletters"] == {}
    shared = json.loads(runner.invoke(app, ["warehouse", "totals", "--json"], env=env).output)
    # SGBV figures come only from the engine's publication with a roll-up: none made yet.
    assert sorted((t["kind"], t["female_18_59"], t["events"]) for t in shared["totals"]) == [
        ("assistance", 8, 1),
    ]
    assert shared["sgbv"] == {}

    shown = runner.invoke(app, ["warehouse", "totals"], env=env)
    assert shown.exit_code == 0, shown.output
    rows = {
        line.split("│")[2].strip(): line for line in shown.output.splitlines() if "2006-06" in line
    }
    assert rows["sgbv"].count("not published yet") == 2  # no roll-up of June yet
    assert "8" in rows["assistance"]
    assert "2 totals rows match the facts" in shown.output


def test_bench_reconciles_on_a_small_run(tmp_path: Path) -> None:
    with EmbeddedWarehouse(tmp_path / "chdb") as wh:
        seen: list[int] = []
        figures = bench.run(wh, facts=1500, batch=500, batches=2, seed=3, progress=seen.append)
    assert sum(seen) == 1500 + 2 * 500
    assert figures.facts == 2500
    assert figures.reconciled
    assert len(figures.refresh) == 2
    assert dict(figures.rows())["aggregates reconcile with facts"] == "yes"
    assert list(figures.peak_rss) == ["prefill", "sink steps", "reconcile"]
    assert all(mib > 0 for mib in figures.peak_rss.values())


def test_each_phase_has_its_own_peak_rss() -> None:
    """After a reset, the peak is the new phase's: a large allocation before it is forgotten."""
    big = bytearray(400 * 1024 * 1024)
    big[::4096] = b"x" * len(big[::4096])  # touch every page, so it is resident
    before = bench.peak_rss_mib()
    del big
    assert bench.reset_peak_rss()
    assert bench.peak_rss_mib() < before - 300

"""``partnerhub warehouse reconcile``: the changed months checked, then nothing, then all."""

from __future__ import annotations

import random
import warnings
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from warehouse import bench
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import refresh_aggregates, write_facts

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from partnerhub.cli import app

pytestmark = pytest.mark.clickhouse


def test_reconcile_checks_changed_months_then_none_then_all(tmp_path: Path) -> None:
    env = {"PARTNERHUB_DATA_DIR": str(tmp_path / "hub")}
    runner = CliRunner()
    assert runner.invoke(app, ["warehouse", "migrate"], env=env).exit_code == 0
    rng = random.Random(8)
    facts = [bench.random_fact(rng, first_day=date(2006, 2, 1), days=40) for _ in range(60)]
    with EmbeddedWarehouse(tmp_path / "hub" / "warehouse") as wh:
        write_facts(wh, facts)
        refresh_aggregates(wh, {(f["partner_id"], f["event_id"]) for f in facts})

    first = runner.invoke(app, ["warehouse", "reconcile"], env=env)
    assert first.exit_code == 0, first.output
    assert "2006-02" in first.output
    assert "2006-03" in first.output
    assert "ok: 2 months match the facts" in first.output
    again = runner.invoke(app, ["warehouse", "reconcile"], env=env)
    assert again.output.strip() == "no month changed since it was last checked"
    every = runner.invoke(app, ["warehouse", "reconcile", "--all"], env=env)
    assert "ok: 2 months match the facts" in every.output

"""``partnerhub rollup``: through the real CLI app, on an embedded warehouse holding a
simulation; and as a real process meeting a warehouse another process holds."""

from __future__ import annotations

import functools
import inspect
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from producers.simulator import Simulation, SimulationSpec, simulate
from tests.support import PARTNERHUB, load_simulation
from warehouse.client import EmbeddedWarehouse
from warehouse.facts import columnar
from warehouse.tables import AGGREGATE_COLUMNS

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python, imported by the app
    from partnerhub.cli import app

pytestmark = pytest.mark.clickhouse


@functools.cache
def simulation() -> Simulation:
    return simulate(
        SimulationSpec(start="2006-03", end="2006-04", events=600, seed=5, invalid=0.02)
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A hub data folder whose warehouse holds the simulation (closed again)."""
    load_simulation(tmp_path / "hub" / "warehouse", simulation()).close()
    return tmp_path / "hub"


def invoke(data_dir: Path, *args: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["rollup", *args], env={"PARTNERHUB_DATA_DIR": str(data_dir)})
    return result.exit_code, result.output, result.exception


def test_rollup_writes_version_1_then_stands(data_dir: Path) -> None:
    code, output, _ = invoke(data_dir, "--month", "2006-03")
    assert code == 0, output
    assert "roll-up 2006-03: version 1 written" in output
    assert "aggregates match the facts" in output
    folder = data_dir / "rollups" / "2006-03"
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "rollup-2006-03-v1-hxl.csv",
        "rollup-2006-03-v1.csv",
        "rollup-2006-03-v1.html",
        "rollup-2006-03-v1.sha256",
        "rollup-2006-03-v1.xlsx",
    ]
    first = (folder / "rollup-2006-03-v1.csv").read_bytes()
    code, output, _ = invoke(data_dir, "--month", "2006-03", "--out", str(data_dir / "again"))
    assert code == 0, output
    assert "version 1 stands" in output
    assert (data_dir / "again" / "rollup-2006-03-v1.csv").read_bytes() == first


def test_rollup_refuses_a_month_not_ended_or_misspelt(data_dir: Path) -> None:
    code, _, error = invoke(data_dir, "--month", "2999-01")
    assert code == 1
    assert "2999-01 has not ended yet" in str(error)
    code, _, error = invoke(data_dir, "--month", "2006-3")
    assert code == 1
    assert "expected YYYY-MM" in str(error)


def test_rollup_exits_1_and_names_the_keys_when_the_aggregates_differ(data_dir: Path) -> None:
    with EmbeddedWarehouse(data_dir / "warehouse") as wh:
        row = wh.query(
            "SELECT * FROM daily_aggregates FINAL WHERE kind = 'hiv_training' AND events > 0"
            " AND day >= '2006-03-01' AND day < '2006-04-01' ORDER BY day, partner_id LIMIT 1"
        )[0]
        row.update(events=row["events"] + 1, updated_at=row["updated_at"].replace(year=2999))
        wh.insert("daily_aggregates", columnar("daily_aggregates", AGGREGATE_COLUMNS, [row]))
    code, output, _ = invoke(data_dir, "--month", "2006-03")
    assert code == 1
    assert "the aggregates differ from the facts for 1 of" in output
    assert f"{row['partner_id']} / {row['region']} / hiv_training" in output
    assert (data_dir / "rollups" / "2006-03" / "rollup-2006-03-v1.html").exists()


HOLDER = """
import sys
from pathlib import Path
from warehouse.client import EmbeddedWarehouse

wh = EmbeddedWarehouse(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.read()  # hold the folder, as a running worker does, until stdin closes
"""


@pytest.fixture
def held(data_dir: Path) -> Iterator[int]:
    """The data folder's warehouse held by another process (its pid)."""
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(data_dir / "warehouse")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            yield child.pid
        finally:
            child.kill()
            child.wait(timeout=30)


def test_rollup_says_in_one_line_when_the_running_hub_holds_the_warehouse(
    data_dir: Path, held: int
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    result = subprocess.run(
        [*PARTNERHUB, "rollup", "--month", "2006-03"],
        env={**env, "PARTNERHUB_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"in use by process {held}" in lines[0]
    assert "stop the worker" in lines[0]
    assert "PARTNERHUB_CLICKHOUSE__URL" in lines[0]


def test_the_timeliness_default_is_the_roll_ups() -> None:
    from partnerhub.cli.rollup import rollup
    from rollups.compute import TIMELY_DAYS

    option = inspect.signature(rollup).parameters["timely_days"].default
    assert option.default == TIMELY_DAYS

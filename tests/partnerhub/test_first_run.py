"""The traps a new user fell into, one test each: the data folder, the broker address, an empty
roll-up, a busy port, the version, the help of run.py, and output cut at 80 columns."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from broker.process import free_port
from partnerhub.settings import HubSettings, KafkaSettings, WorkerSettings
from partnerhub.stack import LocalStack, PortInUse, reset_folder
from producers.simulator import SimulationSpec, simulate
from schemas.vocabulary import Kind
from tests.support import PARTNERHUB, load_simulation

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python, imported by the app
    from partnerhub.cli import app

ROOT = Path(__file__).resolve().parents[2]


def leaf_commands(group: Any, path: str = "partnerhub") -> list[tuple[str, Any]]:
    """Every command a user can run, with its full name (Typer's own click commands)."""
    if hasattr(group, "commands"):
        return [
            pair
            for name, command in sorted(group.commands.items())
            for pair in leaf_commands(command, f"{path} {name}")
        ]
    return [(path, group)]


COMMANDS = leaf_commands(typer.main.get_command(app))


def test_the_command_tree_is_found() -> None:
    names = {name for name, _ in COMMANDS}
    assert {"partnerhub rollup", "partnerhub warehouse totals", "partnerhub status"} <= names
    assert len(names) >= 18


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_takes_the_data_folder(name: str, command: Any) -> None:
    options = {opt: param for param in command.params for opt in getattr(param, "opts", [])}
    assert "--data-dir" in options, f"{name} has no --data-dir"
    if name != "partnerhub demo":  # the demo empties its folder: never the hub's own by default
        assert options["--data-dir"].envvar == "PARTNERHUB_DATA_DIR"


def invoke(*args: str, **env: str) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output, result.exception


@pytest.mark.clickhouse
def test_rollup_on_a_missing_warehouse_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    hub = tmp_path / "fresh"
    code, _, error = invoke("rollup", "--month", "2006-02", "--data-dir", str(hub))
    assert code == 1
    assert f"no warehouse in {hub}" in str(error)
    assert "--data-dir" in str(error)
    assert not hub.exists()
    code, _, error = invoke("warehouse", "totals", PARTNERHUB_DATA_DIR=str(hub))
    assert code == 1
    assert "no warehouse in" in str(error)
    code, output, _ = invoke("warehouse", "counts", "--data-dir", str(hub))
    assert code == 0
    assert "no warehouse in" in output
    assert not hub.exists()


@pytest.mark.clickhouse
def test_rollup_refuses_a_month_without_data_unless_a_zero_report_is_asked(tmp_path: Path) -> None:
    sim = simulate(SimulationSpec(start="2006-03", end="2006-03", events=50, seed=3))
    load_simulation(tmp_path / "hub" / "warehouse", sim).close()
    hub = str(tmp_path / "hub")
    code, _, error = invoke("rollup", "--month", "2006-02", "--data-dir", hub)
    assert code == 1
    assert "no reports about 2006-02" in str(error)
    assert "--zero-report" in str(error)
    assert not (tmp_path / "hub" / "rollups").exists()
    code, output, _ = invoke("rollup", "--month", "2006-03", "--data-dir", hub)
    assert code == 0, output
    code, output, _ = invoke("rollup", "--month", "2006-02", "--zero-report", "--data-dir", hub)
    assert code == 0, output
    assert "roll-up 2006-02: version 1 written" in output
    # Nothing reported; the SGBV grid is published whole, zeros included (docs/sgbv.md).
    assert "0 events, 0 people reached" in output


def test_publish_without_a_broker_fails_fast_naming_the_variable(tmp_path: Path) -> None:
    sheet = tmp_path / "march.csv"
    assert invoke("template", "--kind", Kind.ASSISTANCE.value, "--out", str(sheet))[0] == 0
    lines = sheet.read_text().splitlines()
    example = lines[2].replace("2006-11-20", "2006-03-20").replace("2006-11-21", "2006-03-21")
    example = example.replace(",EXAMPLE,", ",,")  # a real row, not the template's example
    sheet.write_text(f"{lines[0]}\n{example}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    env["PARTNERHUB_KAFKA__BOOTSTRAP"] = f"127.0.0.1:{free_port()}"  # nothing listens there

    def run(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
        began = time.monotonic()
        done = subprocess.run(
            [*PARTNERHUB, *args], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        return done, time.monotonic() - began

    # What the command itself takes: its time less a start of the same program (the imports
    # of every command), measured just before, since a loaded machine slows start-up alone.
    _, start_up = run("--version")
    result, took = run("publish", "--partner", "kzlegal", str(sheet))
    assert result.returncode == 1, result.stdout + result.stderr
    assert took - start_up < 10, f"publish took {took:.1f} s, start-up {start_up:.1f} s"
    assert "PARTNERHUB_KAFKA__BOOTSTRAP" in result.stderr
    assert "nothing was sent" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_busy_status_port_is_named_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = HubSettings(
            data_dir=tmp_path / "hub",
            kafka=KafkaSettings(bootstrap="127.0.0.1:1"),
            worker=WorkerSettings(web_port=port),
        )
        stack = LocalStack(settings)
        with pytest.raises(PortInUse, match=f"port {port} .* in use.*PARTNERHUB_WORKER__WEB_PORT"):
            stack.start()
        assert stack.broker is None
        assert stack.worker is None
        # In a child process: ``up`` installs its own signal handlers.
        result = subprocess.run(
            [*PARTNERHUB, "up", "--port", str(port), "--data-dir", str(tmp_path / "hub")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        assert result.stderr.startswith(f"error: port {port} on 127.0.0.1")
        assert len(result.stderr.strip().splitlines()) == 1


def test_version_and_run_py_help_exit_0() -> None:
    from importlib.metadata import version

    code, output, _ = invoke("--version")
    assert code == 0
    assert output.strip() == f"partnerhub {version('partnerhub')}"
    result = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "python3 run.py demo" in result.stdout
    assert (
        subprocess.run(
            [sys.executable, str(ROOT / "run.py"), "nonsense"], capture_output=True, check=False
        ).returncode
        == 2
    )


def test_output_into_a_pipe_is_wide_and_whole() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    result = subprocess.run(
        [*PARTNERHUB, "partners", "list"], env=env, capture_output=True, text=True, check=True
    )
    assert "…" not in result.stdout
    assert "durable_solutions" in result.stdout
    longest = max(line for line in result.stdout.splitlines() if "│" in line)
    assert len(longest) > 80  # a table wider than a terminal, not wrapped into one


def test_root_help_names_the_environment_variables() -> None:
    code, output, _ = invoke("--help", COLUMNS="200")
    assert code == 0
    for name in (
        "PARTNERHUB_DATA_DIR",
        "PARTNERHUB_KAFKA__BOOTSTRAP",
        "PARTNERHUB_CLICKHOUSE__URL",
    ):
        assert name in output


def test_the_demo_never_empties_a_folder_it_did_not_make(tmp_path: Path) -> None:
    real = tmp_path / "hub"
    (real / "warehouse").mkdir(parents=True)
    with pytest.raises(ValueError, match="not a demo's"):
        reset_folder(real)
    assert (real / "warehouse").is_dir()
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "simulation-truth.json").write_text("{}")
    reset_folder(demo)
    assert list(demo.iterdir()) == []

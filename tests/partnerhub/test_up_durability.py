"""Honest embedded durability: ``partnerhub up`` says Tansu keeps messages in memory, writes
everything the broker holds before it stops the broker, and outlives a killed worker."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from broker.process import free_port
from broker.settings import KafkaSettings
from partnerhub.stack import TANSU_WARNING
from producers.simulator import Simulation, SimulationSpec, publish, simulate
from tests.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
PARTNERHUB = [sys.executable, "-m", "partnerhub"]


def env(data_dir: Path | None = None) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    if data_dir is not None:
        out["PARTNERHUB_DATA_DIR"] = str(data_dir)
    return out | {"COLUMNS": "200"}


def start_up(tmp_path: Path) -> tuple[subprocess.Popen[str], str, Path]:
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*PARTNERHUB, "up", "--data-dir", str(tmp_path / "hub"), "--port", str(free_port())],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env(),
        )
    text = wait_until(
        lambda: "Ctrl-C stops everything" in log.read_text() and log.read_text(),
        timeout=120,
        what="partnerhub up to be ready",
    )
    bootstrap = re.search(r"Kafka bootstrap\s+(\S+)", text)
    assert bootstrap, text
    return process, bootstrap.group(1), log


def burst(events: int, seed: int) -> Simulation:
    return simulate(SimulationSpec(start="2006-01", end="2006-03", events=events, seed=seed))


def stored_totals(data_dir: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [*PARTNERHUB, "warehouse", "totals", "--json", "--unsuppressed"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env(data_dir),
        check=True,
    )
    totals: list[dict[str, object]] = json.loads(result.stdout)["totals"]
    return totals


def test_up_warns_and_stopping_right_after_a_burst_loses_nothing(tmp_path: Path) -> None:
    up, bootstrap, log = start_up(tmp_path)
    try:
        start = log.read_text()
        assert TANSU_WARNING.split(":")[0] in " ".join(start.split())
        assert start.index("memory only") < start.index("Partner Hub is up")
        sim = burst(5000, seed=23)
        publish(sim.messages, KafkaSettings(bootstrap=bootstrap))  # every one acknowledged
        up.send_signal(signal.SIGINT)  # at once: most of the burst is not written yet
        assert up.wait(timeout=180) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(timeout=30)

    out = log.read_text()
    assert "stopped" in out
    assert "not written and are lost" not in out
    assert stored_totals(tmp_path / "hub") == [dict(row) for row in sim.truth.totals]


def test_up_starts_a_killed_worker_again_and_loses_nothing(tmp_path: Path) -> None:
    up, bootstrap, log = start_up(tmp_path)
    kafka = KafkaSettings(bootstrap=bootstrap)
    first, second = burst(1500, seed=29), burst(1500, seed=31)
    try:
        worker = int(re.findall(r"worker pid (\d+)", log.read_text())[0])
        publish(first.messages, kafka)
        os.kill(worker, signal.SIGKILL)
        wait_until(
            lambda: "starting it again" in log.read_text(),
            timeout=60,
            what="up to notice the killed worker",
        )
        publish(second.messages, kafka)
        up.send_signal(signal.SIGTERM)
        assert up.wait(timeout=180) == 0
    finally:
        if up.poll() is None:
            up.kill()
            up.wait(timeout=30)

    assert "not written and are lost" not in log.read_text()
    stored = stored_totals(tmp_path / "hub")
    events = sum(int(row["events"]) for row in stored)  # type: ignore[call-overload]
    assert events == len(first.messages) + len(second.messages)

"""``partnerhub up --broker kafka``: the durable one-machine mode, as a user runs it.

Events acknowledged by the embedded Apache Kafka survive the stack's stop: they are published,
the stack is stopped while the worker has not yet taken them all, started again on the same data
folder, and every one of them is in the totals (the worker resumes from its committed offsets).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from broker.lag import committed_offsets, wait_for_drain
from broker.process import free_port
from broker.settings import KafkaSettings
from producers.simulator import SimulationSpec, publish, simulate
from schemas.refdata import partners
from streams.app import APP_ID, partner_topics
from tests.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
PARTNERHUB = [sys.executable, "-m", "partnerhub"]


def env(data: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}
    return {**environ, "PARTNERHUB_DATA_DIR": str(data)}


def start_up(data: Path, log: Path) -> tuple[subprocess.Popen[str], KafkaSettings]:
    """``partnerhub up --broker kafka`` on ``data``; its admin settings once it is ready."""
    with log.open("a") as out:
        process = subprocess.Popen(
            [
                *PARTNERHUB,
                "up",
                "--broker",
                "kafka",
                "--port",
                str(free_port()),
                "--gateway-port",
                str(free_port()),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env={**env(data), "COLUMNS": "200"},
        )
    start = log.stat().st_size if log.exists() else 0

    def ready() -> str | None:
        if process.poll() is not None:
            raise AssertionError(f"up exited {process.returncode}: {log.read_text()}")
        text = log.read_text()[start:]
        return text if "Ctrl-C stops everything" in text else None

    text = wait_until(ready, timeout=180, what="partnerhub up --broker kafka to be ready")
    bootstrap = re.findall(r"Kafka bootstrap\s+(\S+)", text)[-1]
    passwords = json.loads((data / "kafka" / "credentials.json").read_text())
    admin = KafkaSettings.model_validate(
        {
            "bootstrap": bootstrap,
            "security_protocol": "SASL_PLAINTEXT",
            "username": "hub-admin",
            "password": passwords["hub-admin"],
        }
    )
    return process, admin


def stop_up(process: subprocess.Popen[str]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=120)


def test_a_restart_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data, log = tmp_path / "hub", tmp_path / "up.log"
    sim = simulate(
        SimulationSpec(
            start="2006-01", end="2006-03", events=3000, seed=13, duplicates=0.03, invalid=0.02
        )
    )
    topics = partner_topics(partners())
    up, admin = start_up(data, log)
    try:
        publish(sim.messages, admin)  # returns once the broker acknowledged every message
        taken = sum(committed_offsets(admin, APP_ID).values())
        assert taken < len(sim.messages), "the worker took everything before the stop"
    finally:
        assert stop_up(up) == 0

    up, admin = start_up(data, log)
    try:
        wait_for_drain(admin, APP_ID, topics, timeout=300, expect_messages=len(sim.messages))
    finally:
        assert stop_up(up) == 0

    result = subprocess.run(
        [*PARTNERHUB, "warehouse", "totals", "--json", "--unsuppressed"],
        env=env(data),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    stored: dict[str, Any] = json.loads(result.stdout)
    assert stored["totals"] == [dict(row) for row in sim.truth.totals]
    assert stored["deadletters"] == dict(sim.truth.deadletters)


def test_the_embedded_kafka_passwords_are_made_once_and_private(tmp_path: Path) -> None:
    from partnerhub.stack import kafka_credentials

    first = kafka_credentials(tmp_path / "kafka")
    assert set(first) == {"hub-admin", "hub-worker", "hub-gateway"}
    assert all(len(pw) >= 24 and re.fullmatch(r"[A-Za-z0-9_-]+", pw) for pw in first.values())
    assert kafka_credentials(tmp_path / "kafka") == first  # the SCRAM credential is fixed
    assert (tmp_path / "kafka" / "credentials.json").stat().st_mode & 0o077 == 0


def test_a_credentials_file_from_before_the_gateway_keeps_its_passwords(tmp_path: Path) -> None:
    from partnerhub.stack import kafka_credentials

    folder = tmp_path / "kafka"
    folder.mkdir()
    (folder / "credentials.json").write_text('{"hub-admin": "fixed-admin", "hub-worker": "w"}')
    grown = kafka_credentials(folder)
    assert (grown["hub-admin"], grown["hub-worker"]) == ("fixed-admin", "w")
    assert len(grown["hub-gateway"]) >= 24
    assert kafka_credentials(folder) == grown
    assert (folder / "credentials.json").stat().st_mode & 0o077 == 0

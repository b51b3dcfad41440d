"""``partnerhub up`` and ``partnerhub demo`` as a user runs them: subprocesses, real services."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from broker.lag import wait_for_drain
from broker.process import free_port
from broker.settings import KafkaSettings
from producers.simulator import SimulationSpec, publish, simulate
from schemas.refdata import partners
from streams.app import APP_ID, partner_topics
from tests.support import wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.clickhouse]
PARTNERHUB = [sys.executable, "-m", "partnerhub"]


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def pids(text: str) -> list[int]:
    found = [int(p) for p in re.findall(r"pid (\d+)", text)]
    assert len(found) == 2, text  # the broker's and the worker's
    return found


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")}


def test_demo_checks_the_pipeline_and_leaves_no_process(tmp_path: Path) -> None:
    result = subprocess.run(
        [*PARTNERHUB, "demo", "--data-dir", str(tmp_path / "demo"), "--events", "1500"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env(),
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert out.count("✓ ") >= 3
    assert "✗" not in out
    assert "every total equals the ground truth" in out
    assert (tmp_path / "demo" / "simulation-truth.json").exists()
    assert "each month's roll-up reconciles with the streaming aggregates" in out
    assert "each roll-up's protection-training and RSD pipeline tables match the truth" in out
    assert "protection training:" in out
    assert "RSD pipeline (cases):" in out
    for month in ("2006-01", "2006-02", "2006-03"):
        folder = tmp_path / "demo" / "rollups" / month
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted(
            f"rollup-{month}-v1{suffix}"
            for suffix in (".csv", "-hxl.csv", ".html", ".xlsx", ".sha256")
        )
        page = (folder / f"rollup-{month}-v1.html").read_text(encoding="utf-8")
        assert "<h2>Protection training</h2>" in page
        assert "<h2>RSD pipeline</h2>" in page
    assert not any(alive(pid) for pid in pids(out))
    # The next steps it prints work as pasted: the same data folder, a table with the totals.
    folder = re.search(r"^  export PARTNERHUB_DATA_DIR=(\S+)$", out, re.M)
    assert folder, out
    assert Path(folder.group(1)) == (tmp_path / "demo").resolve()
    assert "  partnerhub warehouse totals" in out
    totals = subprocess.run(
        [*PARTNERHUB, "warehouse", "totals"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env(), "PARTNERHUB_DATA_DIR": folder.group(1)},
        check=False,
    )
    assert totals.returncode == 0, totals.stderr
    assert "2006-03" in totals.stdout
    assert "totals rows match the facts" in totals.stdout


def start_up(tmp_path: Path, port: int) -> tuple[subprocess.Popen[str], str, Path]:
    log = tmp_path / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                *PARTNERHUB,
                "up",
                "--data-dir",
                str(tmp_path / "hub"),
                "--port",
                str(port),
                "--gateway-port",
                str(free_port()),
            ],
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
    # the line to paste into another terminal, so that publish finds this broker
    assert f"  export PARTNERHUB_KAFKA__BOOTSTRAP={bootstrap.group(1)}" in text
    return process, bootstrap.group(1), log


def test_up_serves_status_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    up, bootstrap, log = start_up(tmp_path, port)
    try:
        children = pids(log.read_text())
        sim = simulate(
            SimulationSpec(
                start="2006-01", end="2006-01", events=800, seed=3, invalid=0.05, duplicates=0.05
            )
        )
        kafka = KafkaSettings(bootstrap=bootstrap)
        publish(sim.messages, kafka)
        wait_for_drain(
            kafka,
            APP_ID,
            partner_topics(partners()),
            timeout=120,
            expect_messages=len(sim.messages),
        )
        url = f"http://127.0.0.1:{port}/status"

        def drained_on_the_page() -> bool:
            # The page serves figures measured in the background (streams/status.py).
            with urllib.request.urlopen(url, timeout=5) as response:
                return bool(json.load(response)["lag"].get("total") == 0)

        wait_until(drained_on_the_page, timeout=60, what="/status to show the drained lag")
        result = subprocess.run(
            [*PARTNERHUB, "status", "--json", "--url", url],
            capture_output=True,
            text=True,
            timeout=60,
            env=env(),
            check=True,
        )
        status = json.loads(result.stdout)
        table = subprocess.run(
            [*PARTNERHUB, "status", "--url", url],
            capture_output=True,
            text=True,
            timeout=60,
            env=env(),
            check=True,
        )
    finally:
        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=60)

    assert code == 0
    assert status["lag"]["total"] == 0
    # No SGBV count leaves the status page (docs/sgbv.md): SGBV topics are not counted.
    sgbv = {i for i, m in enumerate(sim.messages) if ".sgbv." in m.topic}
    letters = Counter(code for i, code in sim.rejections.items() if i not in sgbv)
    accepted = len(sim.messages) - len(sgbv | set(sim.rejections))
    assert status["warehouse"]["deadletters_by_reason"] == dict(letters)
    assert status["worker"]["deadlettered_by_reason"] == dict(letters)
    assert status["worker"]["accepted"] == accepted
    assert status["worker"]["sgbv_received"] == "yes"
    assert 0 < status["warehouse"]["tables"]["facts"] <= accepted
    assert set(status["warehouse"]["partners"]) == {t["partner_id"] for t in sim.truth.totals}
    assert "lag 0" in table.stdout
    assert re.search(r"HTTP gateway\s+http://127\.0\.0\.1:\d+", log.read_text())
    wait_until(
        lambda: not any(alive(p) for p in children),
        timeout=30,
        what="the broker and worker to be gone",
    )


def test_up_killed_with_sigkill_leaves_no_orphan(tmp_path: Path) -> None:
    up, _, log = start_up(tmp_path, free_port())
    children = pids(log.read_text())
    assert all(alive(p) for p in children)

    up.kill()
    up.wait(timeout=30)

    wait_until(
        lambda: not any(alive(p) for p in children),
        timeout=30,
        what="the parent-death signal to stop the broker and worker",
    )

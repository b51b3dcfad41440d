"""``benchmarks/gateway.py --quick`` runs end to end and prints its figures (not checked)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.kafka


def test_the_gateway_benchmark_prints_rates_latencies_and_ratios() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "gateway.py"), "--quick"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith("PARTNERHUB_")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for size in (1, 100, 1000):
        for path in ("gateway", "sdk"):
            assert re.search(
                rf"^\s+{size} {path}\s+[\d,]+\s+[\d.]+\s+[\d.]+\s+\d+$", done.stdout, re.M
            ), done.stdout
        assert re.search(rf"^\s+{size} ratio gateway/sdk events/s: \d+\.\d\d$", done.stdout, re.M)
